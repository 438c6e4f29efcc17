//! What went wrong in a handshake, in the words of [`AttemptErrorKind`]: rustls errors and
//! alerts, and QUIC's connection errors, classified once for every dialer.

use std::io;

use std::fmt;

use eyeballs_core::{Alpn, Endpoint};
use rustls::{AlertDescription, PeerIncompatible, PeerMisbehaved};

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
    let kind = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => tls_kind(tls),
        None => AttemptErrorKind::Io,
    };
    match kind {
        AttemptErrorKind::Io => AttemptError::with_source(endpoint.clone(), kind, e),
        // The rustls error itself, not the io::Error around it.
        _ => {
            let source = e.into_inner().unwrap_or_else(|| "TLS error".into());
            AttemptError::with_source(endpoint.clone(), kind, source)
        }
    }
}

/// The kind of a rustls error.
pub(crate) fn tls_kind(e: &rustls::Error) -> AttemptErrorKind {
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
            let kind = match alert.map(|a| alert_kind(AlertDescription::from(a))) {
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
