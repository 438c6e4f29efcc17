//! TLS and QUIC: what a TLS-aware race offers and checks, written once for every driver
//! (HEv3 §6.1, gap G2). [`Tls`] holds the caller's rustls configuration split by transport
//! (ALPN ids over TCP and over QUIC), the ECH hook, and QUIC's transport settings; the
//! dialers take their per-attempt configuration, server name and error wording from here.

use std::fmt;
use std::sync::Arc;

use eyeballs_core::{Alpn, EchConfig, Endpoint, Protocols, Transport};
use rustls::ClientConfig;

mod certificate;
mod config;
mod errors;
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
mod platform;
#[cfg(feature = "quic")]
mod quic;

pub use certificate::CertificateProblem;
pub use config::EchHook;
pub(crate) use config::{server_name, Configs};
#[cfg(feature = "blocking")]
pub(crate) use errors::tls_error;
pub use errors::TlsConfigError;
pub(crate) use errors::{
    alert_name, certificate_problem, check_alpn, ech_config_list, tls_io_error,
};
#[cfg(feature = "quic")]
pub(crate) use errors::{quic_error, QuicFailure};
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
pub use platform::crypto_provider;
#[cfg(feature = "platform-verifier")]
pub use platform::platform_client_config;

/// What a won TLS or QUIC attempt gives: the connection, the endpoint it went to, and the
/// ALPN id its handshake negotiated.
pub struct Connection<S> {
    established: Established<S>,
    endpoint: Endpoint,
    alpn: Option<Alpn>,
}

/// The connection of a [`Connection`]: TLS over TCP, or QUIC.
#[non_exhaustive]
pub enum Established<S> {
    /// A TLS stream over TCP.
    Tls(S),
    /// A QUIC connection (on a UDP socket of its own, closed with the connection).
    #[cfg(feature = "quic")]
    Quic(quinn::Connection),
}

impl<S> Connection<S> {
    /// What a dialer made: the connection, its endpoint, the ALPN id negotiated.
    pub(crate) fn new(established: Established<S>, endpoint: Endpoint, alpn: Option<Alpn>) -> Self {
        Connection {
            established,
            endpoint,
            alpn,
        }
    }

    /// Returns the endpoint that won: address, transport, the ALPN ids offered, ECH.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Returns the ALPN id the server chose, or `None` when a TLS server chose none
    /// (HTTP/1.1, for HTTPS). A QUIC connection always has one.
    pub fn alpn(&self) -> Option<&Alpn> {
        self.alpn.as_ref()
    }

    /// Returns the transport of the connection.
    pub fn transport(&self) -> Transport {
        self.endpoint.transport()
    }

    /// Returns the connection.
    pub fn established(&self) -> &Established<S> {
        &self.established
    }

    /// Returns the connection, the endpoint and the ALPN id.
    pub fn into_parts(self) -> (Established<S>, Endpoint, Option<Alpn>) {
        (self.established, self.endpoint, self.alpn)
    }

    /// Returns the TLS stream, or `None` for a QUIC connection.
    pub fn into_tls(self) -> Option<S> {
        match self.established {
            Established::Tls(s) => Some(s),
            #[cfg(feature = "quic")]
            Established::Quic(_) => None,
        }
    }

    /// Returns the QUIC connection, or `None` for TLS over TCP.
    #[cfg(feature = "quic")]
    pub fn into_quic(self) -> Option<quinn::Connection> {
        match self.established {
            Established::Quic(c) => Some(c),
            Established::Tls(_) => None,
        }
    }
}

impl<S> fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.established {
            Established::Tls(_) => "TLS",
            #[cfg(feature = "quic")]
            Established::Quic(_) => "QUIC",
        };
        f.debug_struct("Connection")
            .field("established", &kind)
            .field("endpoint", &self.endpoint)
            .field("alpn", &self.alpn)
            .finish()
    }
}

/// A TLS-aware race: TCP then TLS, and QUIC (feature `quic`, on a runtime that runs quinn),
/// offering each endpoint's ALPN ids. Give it to a connector's `connect_tls`. One `Tls`
/// serves every driver and every runtime: it holds configuration, no sockets.
///
/// - **ALPN**: the ids come from the rustls config's `alpn_protocols` (or
///   [`TlsBuilder::protocols`]); ids starting with `h3`, `hq-` and `doq` run over QUIC, the
///   others over TCP. Every endpoint offers all the ids of its transport (HEv3 V39), so the
///   per-transport configs are made once, here, and each attempt clones an `Arc`. QUIC ids
///   are offered only where the connect can dial QUIC (feature `quic`, a runtime that runs
///   quinn); elsewhere they are left out of the race.
/// - **Server name**: always the host the caller asked for, never a record's TargetName
///   (RFC 9460 §9.1); an IP literal sends no SNI and checks the certificate's IP addresses.
/// - **Established**: an attempt counts when its TLS (or QUIC) handshake is done (HEv3 §6.1,
///   G2). Its TCP connect is progress, which pushes the next attempt back (V33).
/// - **Deadline**: a handshake that has not finished within the connector's handshake
///   timeout (10 s by default, `ConnectorBuilder::handshake_timeout`) fails its attempt as
///   [`AttemptErrorKind::Stalled`](crate::AttemptErrorKind::Stalled), counted from the TCP
///   connect (TLS) or the attempt's start (QUIC): a server that accepts and never answers
///   cannot hold a race.
/// - **ECH**: an endpoint with an ECH configuration (only with `Config::ech(true)`) uses
///   [`TlsBuilder::ech`]'s config, or fails with
///   [`AttemptErrorKind::Ech`](crate::AttemptErrorKind::Ech): never a cleartext ClientHello
///   in its place.
/// - **QUIC sockets**: each QUIC attempt has a UDP socket and a quinn endpoint of its own,
///   the socket connected to its destination, so that a refusal (an ICMP port unreachable)
///   fails the attempt at once with `ConnectionRefused`, as a refused TCP connect does; a
///   losing, failed or dropped attempt sends its CONNECTION_CLOSE and frees its socket and
///   quinn's tasks at once, and the winner's live as long as its connection. QUIC needs a
///   runtime with a [`QuicRuntime`](crate::runtime::QuicRuntime).
///
/// Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct Tls {
    configs: Arc<Configs>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("protocols", &self.configs.protocols)
            .field("ech", &self.configs.ech.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Tls`]: the rustls config, the protocols, an ECH hook, QUIC transport
/// settings.
pub struct TlsBuilder {
    wanted: config::Wanted,
}

impl fmt::Debug for TlsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsBuilder")
            .field("protocols", &self.wanted.protocols)
            .field("tcp_only", &self.wanted.tcp_only)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// A race over TCP+TLS (and QUIC where the connect can) with `config`, offering its
    /// `alpn_protocols`.
    ///
    /// # Errors
    ///
    /// [`TlsConfigError::NoAlpn`] for an empty ALPN list, [`TlsConfigError::InvalidAlpn`]
    /// for an id of 0 or over 255 bytes, [`TlsConfigError::Quic`] for a config QUIC cannot
    /// use while it has QUIC ids.
    pub fn new(config: Arc<ClientConfig>) -> Result<Self, TlsConfigError> {
        Tls::builder(config).build()
    }

    /// Starts a builder with `config`.
    pub fn builder(config: Arc<ClientConfig>) -> TlsBuilder {
        TlsBuilder {
            wanted: config::Wanted {
                config,
                protocols: None,
                tcp_only: false,
                ech: None,
                #[cfg(feature = "quic")]
                transport: None,
            },
        }
    }

    /// Returns every protocol this `Tls` can offer (a connect that cannot dial QUIC offers
    /// only the TCP ones).
    pub fn protocols(&self) -> &Protocols {
        &self.configs.protocols
    }

    /// The configuration the dialers take each attempt's from.
    pub(crate) fn configs(&self) -> &Arc<Configs> {
        &self.configs
    }
}

impl TlsBuilder {
    /// Offers `protocols` instead of the config's `alpn_protocols` (which are then ignored).
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.wanted.protocols = Some(protocols);
        self
    }

    /// Offers only the TCP ids (TLS over TCP, no QUIC): for an HTTP client that does not
    /// speak HTTP/3, say.
    pub fn tcp_only(mut self) -> Self {
        self.wanted.tcp_only = true;
        self
    }

    /// Sets the hook that makes a config for an endpoint with an ECH configuration
    /// (RFC 9848; endpoints carry one only with `Config::ech(true)`).
    ///
    /// rustls sets ECH on its config builder (`ConfigBuilder::with_ech`) with HPKE suites
    /// from a crypto provider that has them (aws-lc-rs' `hpke::ALL_SUPPORTED_SUITES`; ring
    /// has none), so the hook builds the whole config: provider, ECH, root certificates.
    /// Its ALPN ids and the server name are set here afterwards. A hook error fails that
    /// attempt with [`AttemptErrorKind::Ech`](crate::AttemptErrorKind::Ech). Made configs
    /// are cached (16 per transport).
    pub fn ech<F>(mut self, hook: F) -> Self
    where
        F: Fn(&EchConfig) -> Result<ClientConfig, rustls::Error> + Send + Sync + 'static,
    {
        self.wanted.ech = Some(Arc::new(hook));
        self
    }

    /// Sets quinn's transport settings for QUIC attempts (idle timeout, keep-alive, ...);
    /// default quinn's.
    #[cfg(feature = "quic")]
    pub fn quic_transport(mut self, transport: Arc<quinn::TransportConfig>) -> Self {
        self.wanted.transport = Some(transport);
        self
    }

    /// Checks the ALPN ids and makes the per-transport configs.
    ///
    /// # Errors
    ///
    /// As [`Tls::new`].
    pub fn build(self) -> Result<Tls, TlsConfigError> {
        Ok(Tls {
            configs: Arc::new(Configs::new(self.wanted)?),
        })
    }
}

/// Returns an ECH hook for [`TlsBuilder::ech`] on rustls' aws-lc-rs provider (feature
/// `ech`): each endpoint's `ECHConfigList` with aws-lc-rs' HPKE suites, TLS 1.3, `roots` as
/// the trust store, no client certificate.
///
/// A config list with no suite aws-lc-rs supports fails that attempt
/// ([`AttemptErrorKind::Ech`](crate::AttemptErrorKind::Ech)); so does a server that rejects ECH (rustls then checks its
/// certificate against the config's public name and reports the rejection): the attempt
/// is never retried without ECH.
///
/// Turning on `ech` turns on rustls' `aws_lc_rs` feature: where `ring` is on too (quinn
/// turns it on), `rustls::ClientConfig::builder()` needs a provider installed with
/// `CryptoProvider::install_default`, or use `builder_with_provider`.
#[cfg(feature = "ech")]
pub fn ech_hook(
    roots: Arc<rustls::RootCertStore>,
) -> impl Fn(&EchConfig) -> Result<ClientConfig, rustls::Error> + Send + Sync + 'static {
    move |ech: &EchConfig| {
        use rustls::crypto::aws_lc_rs;
        let list = rustls::pki_types::EchConfigListBytes::from(ech.as_bytes().to_vec());
        let config = rustls::client::EchConfig::new(list, aws_lc_rs::hpke::ALL_SUPPORTED_SUITES)?;
        Ok(
            ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_ech(rustls::client::EchMode::from(config))?
                .with_root_certificates(roots.clone())
                .with_no_client_auth(),
        )
    }
}
