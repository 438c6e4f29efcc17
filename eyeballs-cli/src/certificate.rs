//! Certificate failures in people's words: "the server's certificate is not trusted: issued
//! by an unknown authority", not rustls' `Other(OtherError(CaUsedAsEndEntity))`.
//!
//! Over TCP the attempt's error holds the `rustls::Error` itself, and its
//! `CertificateError` is matched by variant. Over QUIC quinn keeps only rustls' text (the
//! reason of the CONNECTION_CLOSE it sent), so the same problems are recognised by the
//! names in that text. webpki's errors reach rustls as `CertificateError::Other`, whose
//! text is the webpki variant's name: both paths end in [`by_name`].

use std::error::Error;
use std::fmt;

use eyeballs_net::{AttemptError, AttemptErrorKind};
use rustls::{AlertDescription, CertificateError};

/// What rustls writes before a certificate problem.
const RUSTLS_PREFIX: &str = "invalid peer certificate: ";

/// The sentence for an attempt that failed on a certificate, or `None` for other failures.
///
/// A QUIC attempt whose certificate check failed can be of kind `Quic`: its close carries
/// the alert rustls chose, and some certificate problems map to alerts that are not about
/// certificates (`BadSignature` to `decrypt_error`). rustls' text still says what it was.
pub(crate) fn explain(e: &AttemptError) -> Option<String> {
    let source = e.source();
    let text = source.map(ToString::to_string).unwrap_or_default();
    if e.kind() != AttemptErrorKind::Certificate && !text.contains(RUSTLS_PREFIX) {
        return None;
    }
    let problem = match source.and_then(|s| s.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => typed(c),
        Some(rustls::Error::AlertReceived(alert)) => Problem::ServerRefused(*alert),
        _ if text.is_empty() => Problem::Unknown(text),
        _ => by_text(&text),
    };
    Some(problem.to_string())
}

/// What is wrong with the certificate, grouped as a person would act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    UnknownIssuer,
    BadSignature,
    Expired,
    NotValidYet,
    /// The names the certificate is for, when rustls says.
    WrongName(Vec<String>),
    Revoked,
    RevocationUnknown,
    NotForServers,
    CaAsServer,
    ServerAsCa,
    Malformed,
    Unsupported,
    Constraint,
    TooComplex,
    Distrusted,
    Rejected,
    /// The server sent a certificate alert: it refused the handshake.
    ServerRefused(AlertDescription),
    /// Anything else, with rustls' own words.
    Unknown(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cert = "the server's certificate";
        match self {
            Problem::UnknownIssuer => write!(
                f,
                "{cert} is not trusted: issued by an unknown authority (none of the CAs of --ca)"
            ),
            Problem::BadSignature => write!(
                f,
                "{cert} is not trusted: its signature does not verify with the CA it names as \
                 its issuer (issued by another authority of the same name, or altered)"
            ),
            Problem::Expired => write!(f, "{cert} has expired (or this machine's clock is wrong)"),
            Problem::NotValidYet => write!(
                f,
                "{cert} is not valid yet (or this machine's clock is wrong)"
            ),
            Problem::WrongName(names) if names.is_empty() => {
                write!(f, "{cert} is for another name than the host's")
            }
            Problem::WrongName(names) => write!(
                f,
                "{cert} is for another name than the host's: it is for {}",
                names.join(", ")
            ),
            Problem::Revoked => write!(f, "{cert} has been revoked by its authority"),
            Problem::RevocationUnknown => write!(
                f,
                "{cert} is not trusted: whether it was revoked cannot be checked"
            ),
            Problem::NotForServers => write!(
                f,
                "{cert} is not meant for a TLS server (its extended key usage does not allow it)"
            ),
            Problem::CaAsServer => write!(
                f,
                "{cert} is a CA's certificate: a server needs a certificate issued by a CA, not \
                 the CA's own"
            ),
            Problem::ServerAsCa => write!(
                f,
                "{cert} is not trusted: its chain uses a server's certificate as a CA"
            ),
            Problem::Malformed => write!(f, "{cert} is malformed"),
            Problem::Unsupported => write!(
                f,
                "{cert} uses a signature algorithm, version or critical extension this client \
                 does not support"
            ),
            Problem::Constraint => write!(
                f,
                "{cert} is not trusted: it breaks a name or path-length constraint of its CA"
            ),
            Problem::TooComplex => write!(
                f,
                "{cert} is not trusted: its chain is too long or complex to verify"
            ),
            Problem::Distrusted => write!(f, "{cert} has a key that is explicitly distrusted"),
            Problem::Rejected => write!(f, "{cert} was rejected by the certificate verifier"),
            Problem::ServerRefused(AlertDescription::CertificateRequired) => f.write_str(
                "the server wants a client certificate, and eyeballs connect sends none",
            ),
            Problem::ServerRefused(alert) => write!(
                f,
                "the server refused the handshake over a certificate (TLS alert {})",
                alert_name(*alert)
            ),
            Problem::Unknown(text) if text.is_empty() => write!(f, "{cert} was not accepted"),
            Problem::Unknown(text) => write!(f, "{cert} was not accepted: {text}"),
        }
    }
}

/// A rustls `CertificateError`, by variant.
fn typed(c: &CertificateError) -> Problem {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => Problem::UnknownIssuer,
        C::BadSignature => Problem::BadSignature,
        C::Expired | C::ExpiredContext { .. } => Problem::Expired,
        C::NotValidYet | C::NotValidYetContext { .. } => Problem::NotValidYet,
        C::NotValidForName => Problem::WrongName(Vec::new()),
        C::NotValidForNameContext { presented, .. } => {
            Problem::WrongName(presented.iter().map(|n| unwrap_name(n)).collect())
        }
        C::Revoked => Problem::Revoked,
        C::UnknownRevocationStatus
        | C::ExpiredRevocationList
        | C::ExpiredRevocationListContext { .. }
        | C::InvalidOcspResponse => Problem::RevocationUnknown,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => Problem::NotForServers,
        C::BadEncoding => Problem::Malformed,
        C::UnhandledCriticalExtension
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => Problem::Unsupported,
        C::ApplicationVerificationFailure => Problem::Rejected,
        C::Other(other) => by_name(&other.to_string()),
        // Deprecated variants (`UnsupportedSignatureAlgorithm`) and any added later: by name.
        other => by_name(&other.to_string()),
    }
}

/// A presented name without webpki's debug wrapper: `DnsName("a.test")` is `a.test`.
fn unwrap_name(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_owned()
}

/// A problem from rustls' text (QUIC keeps only the text).
fn by_text(text: &str) -> Problem {
    let Some(at) = text.find(RUSTLS_PREFIX) else {
        return Problem::Unknown(text.to_owned());
    };
    let rest = &text[at + RUSTLS_PREFIX.len()..];
    // The texts of rustls' variants with context (the others print their names).
    for (start, problem) in [
        ("certificate expired", Problem::Expired),
        ("certificate not valid yet", Problem::NotValidYet),
        (
            "certificate not valid for name",
            Problem::WrongName(Vec::new()),
        ),
        (
            "certificate revocation list expired",
            Problem::RevocationUnknown,
        ),
        (
            "certificate does not allow extended key usage",
            Problem::NotForServers,
        ),
    ] {
        if rest.starts_with(start) {
            return problem;
        }
    }
    let name = rest
        .strip_prefix("Other(OtherError(")
        .unwrap_or(rest)
        .trim_end_matches(')');
    by_name(name)
}

/// A problem from the name of a rustls `CertificateError` variant or a webpki error
/// (`UnknownIssuer`, `CaUsedAsEndEntity`, `TrailingData(Certificate)`).
fn by_name(text: &str) -> Problem {
    let name: String = text
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let name = name.strip_suffix("Context").unwrap_or(&name);
    match name {
        "UnknownIssuer" => Problem::UnknownIssuer,
        "BadSignature" | "InvalidSignatureForPublicKey" | "SignatureAlgorithmMismatch" => {
            Problem::BadSignature
        }
        "Expired" | "CertExpired" => Problem::Expired,
        "NotValidYet" | "CertNotValidYet" => Problem::NotValidYet,
        "NotValidForName" | "CertNotValidForName" => Problem::WrongName(Vec::new()),
        "Revoked" | "CertRevoked" => Problem::Revoked,
        "UnknownRevocationStatus" | "ExpiredRevocationList" | "InvalidOcspResponse" => {
            Problem::RevocationUnknown
        }
        "InvalidPurpose" | "RequiredEkuNotFound" | "EmptyEkuExtension" => Problem::NotForServers,
        "CaUsedAsEndEntity" => Problem::CaAsServer,
        "EndEntityUsedAsCa" => Problem::ServerAsCa,
        "BadEncoding"
        | "BadDer"
        | "BadDerTime"
        | "TrailingData"
        | "InvalidCertValidity"
        | "InvalidSerialNumber"
        | "MalformedExtensions"
        | "MalformedDnsIdentifier"
        | "ExtensionValueInvalid" => Problem::Malformed,
        "UnhandledCriticalExtension"
        | "UnsupportedCriticalExtension"
        | "UnsupportedCertVersion"
        | "UnsupportedSignatureAlgorithm"
        | "UnsupportedSignatureAlgorithmForPublicKey"
        | "UnsupportedNameType" => Problem::Unsupported,
        "NameConstraintViolation" | "PathLenConstraintViolated" | "MalformedNameConstraint" => {
            Problem::Constraint
        }
        "MaximumPathDepthExceeded"
        | "MaximumSignatureChecksExceeded"
        | "MaximumPathBuildCallsExceeded"
        | "MaximumNameConstraintComparisonsExceeded" => Problem::TooComplex,
        "CertDistrusted" => Problem::Distrusted,
        "ApplicationVerificationFailure" => Problem::Rejected,
        _ => Problem::Unknown(text.to_owned()),
    }
}

/// An alert's name as the TLS RFCs write it (`bad_certificate`).
fn alert_name(alert: AlertDescription) -> String {
    let debug = format!("{alert:?}");
    let mut name = String::with_capacity(debug.len() + 4);
    let mut after_lower = false;
    for c in debug.chars() {
        if c.is_ascii_uppercase() && after_lower {
            name.push('_');
        }
        after_lower = c.is_ascii_lowercase();
        name.push(c.to_ascii_lowercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::OtherError;

    use super::*;

    /// A webpki error as rustls carries it: its text and its debug form are the variant's
    /// name (`CaUsedAsEndEntity`).
    struct Webpki(&'static str);

    impl fmt::Display for Webpki {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl fmt::Debug for Webpki {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Webpki {}

    fn other(name: &'static str) -> CertificateError {
        CertificateError::Other(OtherError(Arc::new(Webpki(name))))
    }

    #[test]
    fn certificate_errors_are_sentences() {
        for (error, says) in [
            (
                CertificateError::UnknownIssuer,
                "the server's certificate is not trusted: issued by an unknown authority",
            ),
            (CertificateError::BadSignature, "signature does not verify"),
            (CertificateError::Expired, "has expired"),
            (CertificateError::NotValidYet, "is not valid yet"),
            (CertificateError::NotValidForName, "for another name"),
            (CertificateError::Revoked, "has been revoked"),
            (
                CertificateError::InvalidPurpose,
                "not meant for a TLS server",
            ),
            (other("CaUsedAsEndEntity"), "is a CA's certificate"),
            (other("EndEntityUsedAsCa"), "server's certificate as a CA"),
            (other("TrailingData(Certificate)"), "is malformed"),
            (other("PathLenConstraintViolated"), "constraint"),
            (other("SomethingNew"), "was not accepted: SomethingNew"),
        ] {
            let typed_text = typed(&error).to_string();
            assert!(typed_text.contains(says), "{error:?}: {typed_text}");
            assert!(!typed_text.contains("OtherError"), "{typed_text}");
            // QUIC's path: the same problem from rustls' text.
            let quic = format!(
                "the cryptographic handshake failed: error 42: {}",
                rustls::Error::InvalidCertificate(error.clone())
            );
            assert_eq!(by_text(&quic), typed(&error), "{quic}");
        }
    }

    #[test]
    fn names_and_alerts() {
        let names = CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("a.test").unwrap(),
            presented: vec!["DnsName(\"b.test\")".into(), "IpAddress(192.0.2.1)".into()],
        };
        assert!(typed(&names)
            .to_string()
            .ends_with("it is for b.test, 192.0.2.1"));
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
        assert_eq!(
            Problem::ServerRefused(AlertDescription::UnknownCA).to_string(),
            "the server refused the handshake over a certificate (TLS alert unknown_ca)"
        );
    }
}
