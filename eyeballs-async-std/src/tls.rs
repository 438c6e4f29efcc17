//! TLS-aware racing on async-io (feature `tls`): `eyeballs_net::Tls` over futures-rustls.

use std::sync::Arc;

use async_net::TcpStream;
use eyeballs_net::{Connecting, TlsStack};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;

/// async-io's TLS: futures-rustls over an [`async_net::TcpStream`]. The [`TlsStack`] of
/// [`Tls`]. It runs no QUIC (quinn's async-io runtimes need tokio's sync types and smol's
/// or async-std's executor: see the crate docs), so QUIC ALPN ids are not offered.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncIoTls;

/// A TLS stream over TCP, as futures-rustls makes it.
pub type TlsStream = futures_rustls::client::TlsStream<TcpStream>;

/// The handshake of a TLS-aware race on async-io (HEv3 §6.1): TCP then TLS, each endpoint
/// offering its ALPN ids. Build one per rustls config, keep it, and pass it to
/// [`Connector::connect_tls`](crate::Connector::connect_tls).
///
/// Everything it does is `eyeballs_net::Tls`'s (ALPN split, server name, ECH hook): see
/// there.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use eyeballs_async_std::{Tls, TlsConfigError, Transport};
///
/// let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
///     rustls::crypto::ring::default_provider(),
/// ))
/// .with_safe_default_protocol_versions()?
/// .with_root_certificates(rustls::RootCertStore::empty())
/// .with_no_client_auth();
/// config.alpn_protocols = vec![b"h3".to_vec(), b"h2".to_vec()];
/// let tls = Tls::new(Arc::new(config.clone()))?;
/// assert_eq!(tls.protocols().alpn(Transport::Tcp).len(), 1); // h2
/// assert!(tls.protocols().alpn(Transport::Quic).is_empty()); // no QUIC on async-io
///
/// config.alpn_protocols = vec![b"h3".to_vec()];
/// assert_eq!(Tls::new(Arc::new(config)).unwrap_err(), TlsConfigError::NoAlpn);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Tls = eyeballs_net::Tls<AsyncIoTls>;

/// Builds a [`Tls`]: protocols, ECH hook.
pub type TlsBuilder = eyeballs_net::TlsBuilder<AsyncIoTls>;

/// What a won TLS attempt gives: a [`TlsStream`], the endpoint and the ALPN id negotiated.
pub type Connection = eyeballs_net::Connection<TlsStream>;

/// The connection of a [`Connection`]: TLS over TCP here.
pub type Established = eyeballs_net::Established<TlsStream>;

impl TlsStack for AsyncIoTls {
    type Tcp = TcpStream;
    type Stream = TlsStream;

    fn connect(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        stream: TcpStream,
    ) -> Connecting<TlsStream> {
        Box::pin(futures_rustls::TlsConnector::from(config).connect(name, stream))
    }

    fn alpn(stream: &TlsStream) -> Option<&[u8]> {
        stream.get_ref().1.alpn_protocol()
    }
}
