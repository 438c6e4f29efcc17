//! Why one attempt failed, with the endpoint named: the typed error inside an attempt's
//! `io::Error` for what the driver (not the kernel) rejects or a handshake reports.

use std::error::Error;
use std::fmt;
use std::io;

use eyeballs_core::Endpoint;

#[cfg(feature = "tls")]
use crate::tls::CertificateProblem;

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptErrorKind {
    /// The endpoint's port is 0, which is no destination (the attempt is not made).
    Port,
    /// The server's certificate did not verify ([`AttemptError::certificate`] says why), or
    /// the server refused the handshake with a certificate alert (it wants a client
    /// certificate, say).
    Certificate,
    /// No ALPN protocol in common: the server refused every id offered, or answered one that
    /// was not offered.
    Alpn,
    /// Encrypted ClientHello: the endpoint has an ECH configuration and it could not be used
    /// (no ECH support configured, a configuration rustls rejects, or a server that refused
    /// it). The attempt is not made without ECH: that would be the downgrade HEv3 §6.1 and
    /// `Config::ech` forbid.
    Ech,
    /// The caller's host is not a name TLS can send (SNI) or check a certificate against.
    ServerName,
    /// Another TLS failure (an alert, a protocol error).
    Tls,
    /// A QUIC failure that is not one of the above (timed out, reset, refused).
    Quic,
    /// The connection broke during the handshake (reset, closed).
    Io,
    /// The handshake stalled: the attempt connected (TCP) or started (QUIC) and its
    /// TLS or QUIC handshake did not finish within the connector's handshake timeout.
    Stalled,
    /// The proxy (HEv3 V60; see [`Proxy`](crate::Proxy)) did not open the tunnel: it
    /// refused (an HTTP status other than 2xx, a SOCKS5 reply code), closed the connection,
    /// or answered something else; the source is a [`ProxyError`](crate::ProxyError)
    /// naming the proxy and the caller's host. A proxy that does not answer at all fails
    /// as [`AttemptErrorKind::Stalled`].
    Proxy,
    /// The connector cannot dial this endpoint's transport (QUIC without a QUIC-capable
    /// connect, or a transport this version does not know): the attempt is refused, never
    /// dialled as something else.
    Unsupported,
}

impl AttemptErrorKind {
    fn describe(self) -> &'static str {
        match self {
            AttemptErrorKind::Port => "port 0 is not a destination",
            AttemptErrorKind::Certificate => "certificate not accepted",
            AttemptErrorKind::Alpn => "no ALPN protocol in common",
            AttemptErrorKind::Ech => "Encrypted ClientHello failed",
            AttemptErrorKind::ServerName => "not a TLS server name",
            AttemptErrorKind::Tls => "TLS handshake failed",
            AttemptErrorKind::Quic => "QUIC handshake failed",
            AttemptErrorKind::Io => "connection lost during the handshake",
            AttemptErrorKind::Stalled => "handshake stalled",
            AttemptErrorKind::Unsupported => "transport not supported by this connect",
            AttemptErrorKind::Proxy => "the proxy did not open the tunnel",
        }
    }

    /// The `io::ErrorKind` an attempt's `io::Error` gets for this kind.
    fn io_kind(self) -> io::ErrorKind {
        match self {
            AttemptErrorKind::Port | AttemptErrorKind::ServerName => io::ErrorKind::InvalidInput,
            AttemptErrorKind::Ech | AttemptErrorKind::Unsupported => io::ErrorKind::Unsupported,
            AttemptErrorKind::Stalled => io::ErrorKind::TimedOut,
            AttemptErrorKind::Proxy => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::InvalidData,
        }
    }
}

/// Why one attempt failed: the inner error of that attempt's `io::Error` (in
/// [`Failure::attempts`](eyeballs_core::Failure::attempts)) when the driver or a TLS or
/// QUIC handshake, not the kernel, ended it. It knows its endpoint
/// ([`AttemptError::endpoint`]); its `Display` leaves it out, since every place that shows
/// an attempt's error (the failure's text, the report's timeline) names the endpoint
/// before it.
///
/// A certificate the client rejected is a sentence in the user's words ("the server's
/// certificate is not trusted: issued by an unknown authority"), and
/// [`AttemptError::certificate`] says which problem it was; the rustls error stays
/// reachable as the [`source`](Error::source).
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Endpoint, Transport};
/// use eyeballs_net::{AttemptError, AttemptErrorKind};
///
/// let endpoint = Endpoint::new("127.0.0.1:0".parse().unwrap(), Transport::Tcp);
/// let err = std::io::Error::from(AttemptError::new(endpoint, AttemptErrorKind::Port));
/// let inner = AttemptError::of(&err).expect("an attempt error");
/// assert_eq!(inner.kind(), AttemptErrorKind::Port);
/// assert_eq!(inner.endpoint().to_string(), "TCP 127.0.0.1:0");
/// assert_eq!(err.to_string(), "port 0 is not a destination");
/// ```
#[derive(Debug)]
pub struct AttemptError {
    endpoint: Endpoint,
    kind: AttemptErrorKind,
    source: Option<Box<dyn Error + Send + Sync>>,
    /// The kind of the `io::Error` made of it.
    io_kind: io::ErrorKind,
}

impl AttemptError {
    /// An error of `kind` for `endpoint`, with no underlying error.
    pub fn new(endpoint: Endpoint, kind: AttemptErrorKind) -> Self {
        AttemptError {
            endpoint,
            kind,
            source: None,
            io_kind: kind.io_kind(),
        }
    }

    /// An error of `kind` for `endpoint`, caused by `source` (a rustls or quinn error).
    pub fn with_source(
        endpoint: Endpoint,
        kind: AttemptErrorKind,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        // A broken connection keeps its own kind (reset, unexpected EOF, timed out).
        let io_kind = match source.downcast_ref::<io::Error>() {
            Some(e) if kind == AttemptErrorKind::Io => e.kind(),
            _ => kind.io_kind(),
        };
        AttemptError {
            endpoint,
            kind,
            source: Some(source),
            io_kind,
        }
    }

    /// Makes the `io::Error` of this error `TimedOut` (a QUIC handshake that timed out).
    #[cfg_attr(not(feature = "quic"), allow(dead_code))]
    pub(crate) fn timed_out(mut self) -> Self {
        self.io_kind = io::ErrorKind::TimedOut;
        self
    }

    /// Returns the endpoint the attempt was for.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Returns what went wrong.
    pub fn kind(&self) -> AttemptErrorKind {
        self.kind
    }

    /// Returns what is wrong with the server's certificate, when the client rejected it
    /// (kind [`AttemptErrorKind::Certificate`]; `None` for a server that refused the
    /// handshake with a certificate alert).
    #[cfg(feature = "tls")]
    pub fn certificate(&self) -> Option<CertificateProblem> {
        // Read from the handshake's own error when asked: the error stays small.
        match self.kind {
            AttemptErrorKind::Certificate => {
                crate::tls::certificate_problem(self.source.as_deref()?)
            }
            _ => None,
        }
    }

    /// Returns whether the server rejected this attempt's Encrypted ClientHello (RFC 9849
    /// §6.1.6), as opposed to ECH failing on the client's side.
    pub fn is_ech_rejection(&self) -> bool {
        if self.source_as::<EchRejected>().is_some() {
            return true;
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = self.rustls_error() {
            return matches!(
                tls,
                rustls::Error::PeerIncompatible(
                    rustls::PeerIncompatible::ServerRejectedEncryptedClientHello(_)
                )
            );
        }
        false
    }

    /// Returns the ECH configurations a server that rejected ECH sent for a retry (an
    /// `ECHConfigList`), when it sent any. rustls reports them only after the server
    /// authenticated as the configuration's public name, as RFC 9849 §6.1.6 requires.
    pub fn ech_retry(&self) -> Option<eyeballs_core::EchConfig> {
        if let Some(rejected) = self.source_as::<EchRejected>() {
            return rejected.retry.clone();
        }
        #[cfg(feature = "tls")]
        if let Some(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::ServerRejectedEncryptedClientHello(Some(configs)),
        )) = self.rustls_error()
        {
            return crate::tls::ech_config_list(configs);
        }
        None
    }

    fn source_as<E: Error + 'static>(&self) -> Option<&E> {
        self.source.as_deref()?.downcast_ref::<E>()
    }

    #[cfg(feature = "tls")]
    fn rustls_error(&self) -> Option<&rustls::Error> {
        self.source_as::<rustls::Error>()
    }

    /// Returns the attempt error inside `err`, if it holds one.
    pub fn of(err: &io::Error) -> Option<&AttemptError> {
        err.get_ref().and_then(|e| e.downcast_ref::<AttemptError>())
    }
}

/// A server's rejection of Encrypted ClientHello, as a handshake that is not rustls' (the
/// simulator's) reports it: the source of an [`AttemptErrorKind::Ech`] error.
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct EchRejected {
    /// The configurations the server sent for a retry, if any.
    pub(crate) retry: Option<eyeballs_core::EchConfig>,
}

impl fmt::Display for EchRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.retry {
            Some(_) => f.write_str(
                "the server rejected Encrypted ClientHello and sent retry configurations",
            ),
            None => f.write_str("the server rejected Encrypted ClientHello"),
        }
    }
}

impl Error for EchRejected {}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "tls")]
        if let Some(problem) = self.certificate() {
            // A sentence of its own: rustls' text stays in `source`.
            return problem.fmt(f);
        }
        #[cfg(feature = "tls")]
        if let Some(rustls::Error::AlertReceived(alert)) = self.tls_source() {
            if self.kind == AttemptErrorKind::Certificate {
                return match alert {
                    rustls::AlertDescription::CertificateRequired => f.write_str(
                        "the server wants a client certificate, and none was configured",
                    ),
                    alert => write!(
                        f,
                        "the server refused the handshake over a certificate (TLS alert {})",
                        crate::tls::alert_name(*alert)
                    ),
                };
            }
        }
        f.write_str(self.kind.describe())?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl AttemptError {
    #[cfg(feature = "tls")]
    fn tls_source(&self) -> Option<&rustls::Error> {
        self.source.as_deref().and_then(|s| s.downcast_ref())
    }
}

impl Error for AttemptError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<AttemptError> for io::Error {
    fn from(e: AttemptError) -> Self {
        io::Error::new(e.io_kind, e)
    }
}
