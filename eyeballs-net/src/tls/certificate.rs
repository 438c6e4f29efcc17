//! Why a server's certificate was not accepted, in the words of the person who has to act
//! on it: "the server's certificate is not trusted: issued by an unknown authority", not
//! rustls' `Other(OtherError(CaUsedAsEndEntity))`.
//!
//! Over TCP a failed handshake holds the `rustls::Error` itself: its `CertificateError` is
//! matched by variant, and webpki's own errors (which rustls carries as
//! `CertificateError::Other`) are downcast to `webpki::Error`. Over QUIC quinn keeps only
//! rustls' text (the reason of the CONNECTION_CLOSE it sent; quinn-proto turns the error
//! into that text before any of our code sees it, and rustls gives no way to wrap a
//! config's verifier), so the same problems are recognised there by the names in that
//! text.

use std::fmt;

use rustls::CertificateError;

/// What rustls writes before a certificate problem (`rustls::Error::InvalidCertificate`).
#[cfg_attr(not(feature = "quic"), allow(dead_code))]
const RUSTLS_PREFIX: &str = "invalid peer certificate: ";

/// What is wrong with a server's certificate, as a person would act on it: the
/// [`certificate`](crate::AttemptError::certificate) reason of an attempt whose TLS or
/// QUIC handshake rejected the server's certificate. Its `Display` is a sentence ("the
/// server's certificate has expired (or this machine's clock is wrong)").
///
/// # Examples
///
/// ```
/// use eyeballs_net::CertificateProblem;
///
/// let p = CertificateProblem::OtherName { names: vec!["www.example.test".into()] };
/// assert_eq!(
///     p.to_string(),
///     "the server's certificate is for another name than the host's: it is for www.example.test"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// Issued by an authority the client does not trust (not among its roots).
    UnknownIssuer,
    /// Its signature does not verify with the issuer it names (another authority of the
    /// same name, or an altered certificate).
    BadSignature,
    /// Past its validity (or the client's clock is wrong).
    Expired,
    /// Not valid yet (or the client's clock is wrong).
    NotValidYet,
    /// For another name than the host asked for.
    OtherName {
        /// The names the certificate is for, when the verifier says (DNS names and IP
        /// addresses as text); empty otherwise.
        names: Vec<String>,
    },
    /// Revoked by its authority.
    Revoked,
    /// Not meant for a TLS server (its extended key usage does not allow it).
    NotForServers,
    /// A CA's own certificate, used as a server's.
    CaAsServer,
    /// Anything else, said as a phrase about the certificate ("is malformed", "was
    /// rejected by the certificate verifier: ...").
    Other(String),
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cert = "the server's certificate";
        match self {
            CertificateProblem::UnknownIssuer => {
                write!(f, "{cert} is not trusted: issued by an unknown authority")
            }
            CertificateProblem::BadSignature => write!(
                f,
                "{cert} is not trusted: its signature does not verify with the authority it \
                 names as its issuer (issued by another authority of the same name, or altered)"
            ),
            CertificateProblem::Expired => {
                write!(f, "{cert} has expired (or this machine's clock is wrong)")
            }
            CertificateProblem::NotValidYet => {
                write!(
                    f,
                    "{cert} is not valid yet (or this machine's clock is wrong)"
                )
            }
            CertificateProblem::OtherName { names } if names.is_empty() => {
                write!(f, "{cert} is for another name than the host's")
            }
            CertificateProblem::OtherName { names } => write!(
                f,
                "{cert} is for another name than the host's: it is for {}",
                names.join(", ")
            ),
            CertificateProblem::Revoked => write!(f, "{cert} has been revoked by its authority"),
            CertificateProblem::NotForServers => write!(
                f,
                "{cert} is not meant for a TLS server (its extended key usage does not allow it)"
            ),
            CertificateProblem::CaAsServer => write!(
                f,
                "{cert} is a CA's certificate: a server needs a certificate issued by a CA, not \
                 the CA's own"
            ),
            CertificateProblem::Other(what) => write!(f, "{cert} {what}"),
        }
    }
}

impl CertificateProblem {
    /// The problem of a rustls `CertificateError`, by variant (and webpki's, by type).
    pub(crate) fn of(c: &CertificateError) -> Self {
        use CertificateError as C;
        match c {
            C::UnknownIssuer => CertificateProblem::UnknownIssuer,
            C::BadSignature => CertificateProblem::BadSignature,
            C::Expired | C::ExpiredContext { .. } => CertificateProblem::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => CertificateProblem::NotValidYet,
            C::NotValidForName => CertificateProblem::OtherName { names: Vec::new() },
            C::NotValidForNameContext { presented, .. } => CertificateProblem::OtherName {
                names: presented.iter().map(|n| unwrap_name(n)).collect(),
            },
            C::Revoked => CertificateProblem::Revoked,
            C::UnknownRevocationStatus
            | C::ExpiredRevocationList
            | C::ExpiredRevocationListContext { .. }
            | C::InvalidOcspResponse => other(REVOCATION_UNKNOWN),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                CertificateProblem::NotForServers
            }
            C::BadEncoding => other(MALFORMED),
            C::UnhandledCriticalExtension
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => other(UNSUPPORTED),
            C::ApplicationVerificationFailure => other(REJECTED),
            C::Other(e) => match e.0.downcast_ref::<webpki::Error>() {
                Some(w) => webpki_problem(w),
                None => by_name(&e.to_string()),
            },
            // Deprecated variants (`UnsupportedSignatureAlgorithm`) and any added later.
            other => by_name(&other.to_string()),
        }
    }

    /// The problem named in rustls' text of a certificate error (what quinn keeps of it),
    /// or `None` when the text holds none.
    #[cfg_attr(not(feature = "quic"), allow(dead_code))]
    pub(crate) fn from_text(text: &str) -> Option<Self> {
        let at = text.find(RUSTLS_PREFIX)?;
        let rest = &text[at + RUSTLS_PREFIX.len()..];
        // The texts of rustls' variants with context (the others print their names).
        for (start, problem) in [
            ("certificate expired", CertificateProblem::Expired),
            ("certificate not valid yet", CertificateProblem::NotValidYet),
            (
                "certificate not valid for name",
                CertificateProblem::OtherName { names: Vec::new() },
            ),
            (
                "certificate revocation list expired",
                other(REVOCATION_UNKNOWN),
            ),
            (
                "certificate does not allow extended key usage",
                CertificateProblem::NotForServers,
            ),
            // rustls-platform-verifier's word for a wrong extended key usage.
            (
                "certificate had invalid extensions",
                CertificateProblem::NotForServers,
            ),
        ] {
            if rest.starts_with(start) {
                return Some(problem);
            }
        }
        let name = rest
            .strip_prefix("Other(OtherError(")
            .unwrap_or(rest)
            .trim_end_matches(')');
        Some(by_name(name))
    }
}

const REVOCATION_UNKNOWN: &str = "is not trusted: whether it was revoked cannot be checked";
const MALFORMED: &str = "is malformed";
const UNSUPPORTED: &str = "uses a signature algorithm, version or critical extension this \
                           client does not support";
const REJECTED: &str = "was rejected by the certificate verifier";

fn other(what: &str) -> CertificateProblem {
    CertificateProblem::Other(what.to_owned())
}

/// A webpki error (what rustls' own verifier reports inside `CertificateError::Other`).
fn webpki_problem(e: &webpki::Error) -> CertificateProblem {
    use webpki::Error as W;
    match e {
        W::CaUsedAsEndEntity => CertificateProblem::CaAsServer,
        W::EndEntityUsedAsCa => {
            other("is not trusted: its chain uses a server's certificate as a CA")
        }
        W::UnknownIssuer => CertificateProblem::UnknownIssuer,
        W::CertExpired { .. } => CertificateProblem::Expired,
        W::CertNotValidYet { .. } => CertificateProblem::NotValidYet,
        W::CertRevoked => CertificateProblem::Revoked,
        W::RequiredEkuNotFoundContext(_) => CertificateProblem::NotForServers,
        // The rest have names that say what they are: matched by name, as on QUIC.
        other => by_name(&format!("{other:?}")),
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

/// A problem from the name of a rustls `CertificateError` variant or a webpki error
/// (`UnknownIssuer`, `CaUsedAsEndEntity`, `TrailingData(Certificate)`).
fn by_name(text: &str) -> CertificateProblem {
    let name: String = text
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let name = name.strip_suffix("Context").unwrap_or(&name);
    match name {
        "UnknownIssuer" => CertificateProblem::UnknownIssuer,
        "BadSignature" | "InvalidSignatureForPublicKey" | "SignatureAlgorithmMismatch" => {
            CertificateProblem::BadSignature
        }
        "Expired" | "CertExpired" => CertificateProblem::Expired,
        "NotValidYet" | "CertNotValidYet" => CertificateProblem::NotValidYet,
        "NotValidForName" | "CertNotValidForName" => {
            CertificateProblem::OtherName { names: Vec::new() }
        }
        "Revoked" | "CertRevoked" => CertificateProblem::Revoked,
        "UnknownRevocationStatus" | "ExpiredRevocationList" | "InvalidOcspResponse" => {
            other(REVOCATION_UNKNOWN)
        }
        "InvalidPurpose" | "RequiredEkuNotFound" | "EmptyEkuExtension" => {
            CertificateProblem::NotForServers
        }
        "CaUsedAsEndEntity" => CertificateProblem::CaAsServer,
        "EndEntityUsedAsCa" => {
            other("is not trusted: its chain uses a server's certificate as a CA")
        }
        "BadEncoding"
        | "BadDer"
        | "BadDerTime"
        | "TrailingData"
        | "InvalidCertValidity"
        | "InvalidSerialNumber"
        | "MalformedExtensions"
        | "MalformedDnsIdentifier"
        | "ExtensionValueInvalid" => other(MALFORMED),
        "UnhandledCriticalExtension"
        | "UnsupportedCriticalExtension"
        | "UnsupportedCertVersion"
        | "UnsupportedSignatureAlgorithm"
        | "UnsupportedSignatureAlgorithmForPublicKey"
        | "UnsupportedNameType" => other(UNSUPPORTED),
        "NameConstraintViolation" | "PathLenConstraintViolated" | "MalformedNameConstraint" => {
            other("is not trusted: it breaks a name or path-length constraint of its CA")
        }
        "MaximumPathDepthExceeded"
        | "MaximumSignatureChecksExceeded"
        | "MaximumPathBuildCallsExceeded"
        | "MaximumNameConstraintComparisonsExceeded" => {
            other("is not trusted: its chain is too long or complex to verify")
        }
        "CertDistrusted" => other("has a key that is explicitly distrusted"),
        "ApplicationVerificationFailure" => other(REJECTED),
        "" => other(REJECTED),
        _ => CertificateProblem::Other(format!("{REJECTED}: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::sync::Arc;

    use rustls::OtherError;

    use super::*;

    /// An error named like a webpki variant, but not webpki's type: found by name.
    struct Named(&'static str);

    impl fmt::Display for Named {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl fmt::Debug for Named {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Named {}

    fn named(name: &'static str) -> CertificateError {
        CertificateError::Other(OtherError(Arc::new(Named(name))))
    }

    fn webpki(e: webpki::Error) -> CertificateError {
        CertificateError::Other(OtherError(Arc::new(e)))
    }

    #[test]
    fn certificate_errors_are_sentences_over_tcp_and_quic() {
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
            (
                webpki(webpki::Error::CaUsedAsEndEntity),
                "is a CA's certificate",
            ),
            (
                webpki(webpki::Error::EndEntityUsedAsCa),
                "server's certificate as a CA",
            ),
            (
                webpki(webpki::Error::PathLenConstraintViolated),
                "constraint",
            ),
            (named("CaUsedAsEndEntity"), "is a CA's certificate"),
            (named("TrailingData(Certificate)"), "is malformed"),
            (named("SomethingNew"), "verifier: SomethingNew"),
        ] {
            let typed = CertificateProblem::of(&error);
            let text = typed.to_string();
            assert!(text.contains(says), "{error:?}: {text}");
            assert!(!text.contains("OtherError"), "{text}");
            // QUIC's path: the same problem from rustls' text.
            let quic = format!(
                "the cryptographic handshake failed: error 42: {}",
                rustls::Error::InvalidCertificate(error.clone())
            );
            assert_eq!(CertificateProblem::from_text(&quic), Some(typed), "{quic}");
        }
        assert_eq!(CertificateProblem::from_text("connection reset"), None);
    }

    #[test]
    fn another_name_lists_the_names() {
        let error = CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("a.test")
                .unwrap_or_else(|e| unreachable!("a name: {e}")),
            presented: vec!["DnsName(\"b.test\")".into(), "IpAddress(192.0.2.1)".into()],
        };
        assert_eq!(
            CertificateProblem::of(&error),
            CertificateProblem::OtherName {
                names: vec!["b.test".into(), "192.0.2.1".into()]
            }
        );
        assert!(CertificateProblem::of(&error)
            .to_string()
            .ends_with("it is for b.test, 192.0.2.1"));
    }
}
