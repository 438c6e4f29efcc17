//! TLS-aware racing on tokio (feature `tls`; QUIC with `quic`): `eyeballs_net::Tls` over
//! tokio-rustls and quinn's tokio runtime.

use std::sync::Arc;

use eyeballs_net::{Connecting, TlsStack};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;

/// tokio's TLS: tokio-rustls over a [`TcpStream`], and (feature `quic`) quinn on tokio. The
/// [`TlsStack`] of [`Tls`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTls;

/// A TLS stream over TCP, as tokio-rustls makes it.
pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// The handshake of a TLS-aware race on tokio (HEv3 §6.1): TCP then TLS and, with feature
/// `quic`, QUIC, each endpoint offering its ALPN ids. Build one per rustls config, keep it
/// (its QUIC sockets are shared), and pass it to [`Connector::connect_tls`](crate::Connector::connect_tls).
///
/// Everything it does is `eyeballs_net::Tls`'s (ALPN split, server name, ECH hook, QUIC
/// sockets): see there.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use eyeballs_tokio::{Protocols, Tls, TlsConfigError, Transport};
///
/// let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
///     rustls::crypto::ring::default_provider(),
/// ))
/// .with_safe_default_protocol_versions()?
/// .with_root_certificates(rustls::RootCertStore::empty())
/// .with_no_client_auth();
/// config.alpn_protocols = vec![b"h3".to_vec(), b"h2".to_vec(), b"http/1.1".to_vec()];
/// let tls = Tls::new(Arc::new(config.clone()))?;
/// assert_eq!(tls.protocols().alpn(Transport::Tcp).len(), 2); // h2, http/1.1
/// # #[cfg(feature = "quic")]
/// assert_eq!(tls.protocols().alpn(Transport::Quic).len(), 1); // h3 (feature `quic`)
///
/// // HEv3 races protocols: an empty ALPN list is refused before any connect.
/// config.alpn_protocols.clear();
/// assert_eq!(Tls::new(Arc::new(config)).unwrap_err(), TlsConfigError::NoAlpn);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ECH: endpoints with an ECH configuration (only with `Config::ech(true)`) get the hook's
/// config; rustls needs a provider with HPKE for it (aws-lc-rs: the feature `ech` gives
/// `ech_hook`, which does this):
///
/// ```
/// use std::sync::Arc;
/// use eyeballs_tokio::{EchConfig, Tls};
///
/// # fn demo(config: rustls::ClientConfig, roots: Arc<rustls::RootCertStore>) -> Result<(), Box<dyn std::error::Error>> {
/// let tls = Tls::builder(Arc::new(config))
///     .ech(move |ech: &EchConfig| {
///         let provider = Arc::new(rustls::crypto::ring::default_provider());
///         let suites = &[]; // ring has no HPKE: aws-lc-rs' hpke::ALL_SUPPORTED_SUITES has
///         let ech = rustls::client::EchConfig::new(ech.as_bytes().to_vec().into(), suites)?;
///         Ok(rustls::ClientConfig::builder_with_provider(provider)
///             .with_ech(ech.into())?
///             .with_root_certificates(roots.clone())
///             .with_no_client_auth())
///     })
///     .build()?;
/// # let _ = tls;
/// # Ok(())
/// # }
/// ```
pub type Tls = eyeballs_net::Tls<TokioTls>;

/// Builds a [`Tls`]: protocols, ECH hook, QUIC transport settings.
pub type TlsBuilder = eyeballs_net::TlsBuilder<TokioTls>;

/// What a won TLS or QUIC attempt gives: a [`TlsStream`] or a `quinn::Connection`, the
/// endpoint and the ALPN id negotiated.
pub type Connection = eyeballs_net::Connection<TlsStream>;

/// The connection of a [`Connection`]: TLS over TCP, or QUIC.
pub type Established = eyeballs_net::Established<TlsStream>;

impl TlsStack for TokioTls {
    type Tcp = TcpStream;
    type Stream = TlsStream;

    fn connect(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        stream: TcpStream,
    ) -> Connecting<TlsStream> {
        Box::pin(tokio_rustls::TlsConnector::from(config).connect(name, stream))
    }

    fn alpn(stream: &TlsStream) -> Option<&[u8]> {
        stream.get_ref().1.alpn_protocol()
    }

    #[cfg(feature = "quic")]
    fn quic_runtime(&self) -> Option<Arc<dyn quinn::Runtime>> {
        Some(Arc::new(quinn::TokioRuntime))
    }
}
