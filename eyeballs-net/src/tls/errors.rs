//! What went wrong in a handshake, in the words of [`AttemptErrorKind`]: rustls errors and
//! alerts, and QUIC's connection errors, classified once for every dialer.

use std::io;

use std::fmt;

use eyeballs_core::{Alpn, Endpoint};
use rustls::{AlertDescription, PeerIncompatible, PeerMisbehaved};

use super::certificate::CertificateProblem;
use crate::error::{AttemptError, AttemptErrorKind};

/// Why a [`Tls`](super::Tls) cannot be built: found before any connect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// No ALPN id to offer: the config's `alpn_protocols` is empty, or holds only QUIC ids
    /// where QUIC is not available. HEv3 races protocols, so it needs at least one.
    NoAlpn,
    /// An ALPN id RFC 7301 does not allow (empty, or over 255 bytes).
    InvalidAlpn(Alpn),
    /// The rustls config cannot run QUIC (quinn needs TLS 1.3 with
    /// `TLS13_AES_128_GCM_SHA256`).
    Quic(String),
    /// The platform's certificate verifier could not start (feature `platform-verifier`):
    /// on Linux and BSD, no CA certificate was found where the system keeps them.
    Verifier(String),
    /// The crypto provider cannot make a TLS 1.2 or 1.3 config (an installed default
    /// provider without their cipher suites).
    Provider(String),
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsConfigError::NoAlpn => f.write_str(
                "no ALPN id to offer: set the rustls ClientConfig's alpn_protocols \
                 (h2, http/1.1 over TCP; h3 over QUIC, feature `quic`)",
            ),
            TlsConfigError::InvalidAlpn(a) => {
                write!(f, "ALPN id {a:?} is not 1 to 255 bytes (RFC 7301)")
            }
            TlsConfigError::Quic(e) => write!(f, "the rustls config cannot run QUIC: {e}"),
            TlsConfigError::Provider(e) => {
                write!(f, "the crypto provider cannot make a TLS config: {e}")
            }
            TlsConfigError::Verifier(e) => write!(
                f,
                "the platform's certificate verifier cannot start: {e} (on Linux, install the \
                 system's CA certificates, say the ca-certificates package, or give roots of \
                 your own)"
            ),
        }
    }
}

impl std::error::Error for TlsConfigError {}

impl From<TlsConfigError> for io::Error {
    fn from(e: TlsConfigError) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// Fails an attempt whose server chose an id that was not offered (rustls checks this too),
/// or, over QUIC (where ALPN is required, RFC 9001 §8.1), none.
pub(crate) fn check_alpn(
    endpoint: &Endpoint,
    alpn: Option<&Alpn>,
    required: bool,
) -> io::Result<()> {
    let ok = match alpn {
        Some(a) => endpoint.alpn().contains(a),
        None => !required,
    };
    if ok {
        return Ok(());
    }
    let got = alpn.map_or_else(|| "none".to_owned(), |a| a.to_string());
    Err(AttemptError::with_source(
        endpoint.clone(),
        AttemptErrorKind::Alpn,
        format!("the server answered ALPN {got}"),
    )
    .into())
}

/// Classifies a failed TLS handshake over TCP: the `io::Error` holds a `rustls::Error`
/// when TLS failed, or is the connection's own error.
pub(crate) fn tls_io_error(endpoint: &Endpoint, e: io::Error) -> AttemptError {
    if !e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
        return AttemptError::with_source(endpoint.clone(), AttemptErrorKind::Io, e);
    }
    match e.into_inner().map(|i| i.downcast::<rustls::Error>()) {
        Some(Ok(tls)) => tls_error(endpoint, *tls),
        _ => unreachable!("checked above: the inner error is a rustls::Error"),
    }
}

/// Classifies a rustls error.
pub(crate) fn tls_error(endpoint: &Endpoint, e: rustls::Error) -> AttemptError {
    AttemptError::with_source(endpoint.clone(), tls_kind(&e), e)
}

/// What is wrong with the server's certificate, read from a handshake's error: a rustls
/// `InvalidCertificate` (TCP), or the text quinn keeps of it (QUIC).
pub(crate) fn certificate_problem(
    source: &(dyn std::error::Error + Send + Sync + 'static),
) -> Option<CertificateProblem> {
    if let Some(rustls::Error::InvalidCertificate(c)) = source.downcast_ref() {
        return Some(CertificateProblem::of(c));
    }
    #[cfg(feature = "quic")]
    if let Some(quinn::ConnectionError::TransportError(t)) = source.downcast_ref() {
        return CertificateProblem::from_text(&t.reason);
    }
    None
}

/// The kind of a rustls error.
fn tls_kind(e: &rustls::Error) -> AttemptErrorKind {
    match e {
        rustls::Error::InvalidCertificate(_) => AttemptErrorKind::Certificate,
        rustls::Error::AlertReceived(alert) => alert_kind(*alert),
        rustls::Error::NoApplicationProtocol
        | rustls::Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            AttemptErrorKind::Alpn
        }
        rustls::Error::InvalidEncryptedClientHello(_)
        | rustls::Error::PeerIncompatible(PeerIncompatible::ServerRejectedEncryptedClientHello(
            _,
        )) => AttemptErrorKind::Ech,
        _ => AttemptErrorKind::Tls,
    }
}

/// The kind of a TLS alert (received, or, in QUIC, carried in a CONNECTION_CLOSE).
pub(crate) fn alert_kind(alert: AlertDescription) -> AttemptErrorKind {
    match alert {
        AlertDescription::BadCertificate
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateRevoked
        | AlertDescription::CertificateExpired
        | AlertDescription::CertificateUnknown
        | AlertDescription::UnknownCA
        | AlertDescription::CertificateRequired => AttemptErrorKind::Certificate,
        AlertDescription::NoApplicationProtocol => AttemptErrorKind::Alpn,
        AlertDescription::EncryptedClientHelloRequired => AttemptErrorKind::Ech,
        _ => AttemptErrorKind::Tls,
    }
}

/// An alert's name as the TLS RFCs write it (`bad_certificate`).
pub(crate) fn alert_name(alert: AlertDescription) -> String {
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

/// Classifies a QUIC attempt's failure: a connect quinn refused at once, or a failed
/// handshake, where a TLS alert (ours, or the server's) in the close says which kind; a
/// timeout is `TimedOut`.
#[cfg(feature = "quic")]
pub(crate) fn quic_error(endpoint: &Endpoint, e: QuicFailure) -> AttemptError {
    use quinn::{ConnectError, ConnectionError};
    match e {
        QuicFailure::Connect(e) => {
            let kind = match &e {
                ConnectError::InvalidServerName(_) => AttemptErrorKind::ServerName,
                ConnectError::InvalidRemoteAddress(a) if a.port() == 0 => AttemptErrorKind::Port,
                _ => AttemptErrorKind::Quic,
            };
            AttemptError::with_source(endpoint.clone(), kind, e)
        }
        QuicFailure::Handshake(e) => {
            let code = match &e {
                ConnectionError::TransportError(t) => Some(u64::from(t.code)),
                ConnectionError::ConnectionClosed(c) => Some(u64::from(c.error_code)),
                _ => None,
            };
            // TLS alerts travel as CRYPTO_ERROR codes 0x100 + alert (RFC 9001 §4.8).
            let alert = code
                .and_then(|c| c.checked_sub(0x100))
                .and_then(|a| u8::try_from(a).ok());
            // Our own verifier's verdict: quinn keeps only rustls' text of it, and the alert
            // rustls chose is not always a certificate one (`BadSignature` is decrypt_error).
            let certificate = match &e {
                ConnectionError::TransportError(t) => {
                    CertificateProblem::from_text(&t.reason).is_some()
                }
                _ => false,
            };
            let kind = match alert.map(|a| alert_kind(AlertDescription::from(a))) {
                _ if certificate => AttemptErrorKind::Certificate,
                Some(AttemptErrorKind::Tls) | None => AttemptErrorKind::Quic,
                Some(kind) => kind,
            };
            let timed_out = matches!(e, ConnectionError::TimedOut);
            let error = AttemptError::with_source(endpoint.clone(), kind, e);
            match timed_out {
                true => error.timed_out(),
                false => error,
            }
        }
    }
}

/// How a QUIC attempt failed, as quinn says it.
#[cfg(feature = "quic")]
#[derive(Debug)]
pub(crate) enum QuicFailure {
    /// quinn refused to start the connection.
    Connect(quinn::ConnectError),
    /// The handshake failed.
    Handshake(quinn::ConnectionError),
}

/// The ECH retry configurations a server sent, as the `ECHConfigList` bytes an endpoint
/// carries (RFC 9849 §4: a 2-byte length, then the configs); `None` for an empty list or one
/// too long to frame.
pub(crate) fn ech_config_list(
    configs: &[rustls::internal::msgs::handshake::EchConfigPayload],
) -> Option<eyeballs_core::EchConfig> {
    // rustls reports the retry configurations as parsed values and encodes them only through
    // its `internal` codec: the one way to hand them back to a ClientConfig.
    use rustls::internal::msgs::codec::Codec;
    let mut body = Vec::new();
    for config in configs {
        config.encode(&mut body);
    }
    let len = u16::try_from(body.len()).ok().filter(|&n| n > 0)?;
    let mut list = len.to_be_bytes().to_vec();
    list.extend_from_slice(&body);
    Some(eyeballs_core::EchConfig::new(&list))
}
