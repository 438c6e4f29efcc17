//! QUIC attempts with quinn (feature `quic`): one UDP socket per address family, shared by
//! every race of a [`Tls`](crate::Tls), on the runtime the driver names.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use eyeballs_core::{Alpn, Endpoint};
use quinn::crypto::rustls::{HandshakeData, QuicClientConfig};
use quinn::{ConnectError, ConnectionError};
use rustls::pki_types::ServerName;
use rustls::{AlertDescription, ClientConfig};
use socket2::{Domain, Protocol, Socket, Type};

use crate::attempt_error::{AttemptError, AttemptErrorKind};
use crate::tls::{alert_kind, TlsConfigError};

/// The QUIC side of a [`Tls`](crate::Tls).
pub(crate) struct QuicClient {
    /// The rustls config with the QUIC ids as `alpn_protocols`.
    rustls: Arc<ClientConfig>,
    /// quinn's config made of it.
    config: quinn::ClientConfig,
    transport: Option<Arc<quinn::TransportConfig>>,
    sockets: Arc<Sockets>,
}

/// The quinn endpoints (UDP sockets), one per family, made when first needed.
struct Sockets {
    runtime: Arc<dyn quinn::Runtime>,
    /// `[IPv4, IPv6]`.
    endpoints: Mutex<[Option<quinn::Endpoint>; 2]>,
    opened: AtomicUsize,
}

impl QuicClient {
    pub(crate) fn new(
        runtime: Arc<dyn quinn::Runtime>,
        rustls: Arc<ClientConfig>,
        transport: Option<Arc<quinn::TransportConfig>>,
    ) -> Result<Self, TlsConfigError> {
        let config = quinn_config(rustls.clone(), transport.as_ref())
            .map_err(|e| TlsConfigError::Quic(e.to_string()))?;
        Ok(QuicClient {
            rustls,
            config,
            transport,
            sockets: Arc::new(Sockets {
                runtime,
                endpoints: Mutex::new([None, None]),
                opened: AtomicUsize::new(0),
            }),
        })
    }

    pub(crate) fn rustls(&self) -> &Arc<ClientConfig> {
        &self.rustls
    }

    pub(crate) fn opened(&self) -> usize {
        self.sockets.opened.load(Ordering::Relaxed)
    }

    /// quinn's config for `rustls` (the shared one, or an ECH one).
    pub(crate) fn client_config(
        &self,
        endpoint: &Endpoint,
        rustls: Arc<ClientConfig>,
    ) -> Result<quinn::ClientConfig, AttemptError> {
        if Arc::ptr_eq(&rustls, &self.rustls) {
            return Ok(self.config.clone());
        }
        let kind = match endpoint.ech() {
            Some(_) => AttemptErrorKind::Ech,
            None => AttemptErrorKind::Quic,
        };
        quinn_config(rustls, self.transport.as_ref())
            .map_err(|e| AttemptError::with_source(endpoint.clone(), kind, e))
    }

    /// Connects to `endpoint` over this family's shared socket; returns the connection and
    /// the ALPN id it negotiated. Dropping the future before it ends closes the connection
    /// (quinn sends CONNECTION_CLOSE when the last handle goes).
    pub(crate) fn connect(
        &self,
        endpoint: &Endpoint,
        config: quinn::ClientConfig,
        name: &ServerName<'static>,
    ) -> impl Future<Output = io::Result<(quinn::Connection, Option<Alpn>)>> + Send + 'static {
        let sockets = self.sockets.clone();
        let endpoint = endpoint.clone();
        let name = match name {
            ServerName::DnsName(d) => d.as_ref().to_owned(),
            ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
            _ => endpoint.addr().ip().to_string(),
        };
        async move {
            let connecting = sockets
                .connect(&endpoint, config, &name)
                .map_err(io::Error::from)?;
            let connection = connecting
                .await
                .map_err(|e| io::Error::from(connection_error(&endpoint, e)))?;
            let alpn = connection
                .handshake_data()
                .and_then(|d| d.downcast::<HandshakeData>().ok())
                .and_then(|d| d.protocol)
                .map(|id| Alpn::new(&id));
            Ok((connection, alpn))
        }
    }
}

impl Sockets {
    /// Starts a connection on the family's endpoint, making it if needed, or again if the
    /// runtime that ran the old one has shut down.
    fn connect(
        &self,
        endpoint: &Endpoint,
        config: quinn::ClientConfig,
        name: &str,
    ) -> Result<quinn::Connecting, AttemptError> {
        let addr = endpoint.addr();
        let io_error =
            |e: io::Error| AttemptError::with_source(endpoint.clone(), AttemptErrorKind::Io, e);
        let mut socket = self.endpoint(addr.is_ipv6(), false).map_err(io_error)?;
        match socket.connect_with(config.clone(), addr, name) {
            Err(ConnectError::EndpointStopping) => {
                socket = self.endpoint(addr.is_ipv6(), true).map_err(io_error)?;
                socket.connect_with(config, addr, name)
            }
            other => other,
        }
        .map_err(|e| connect_error(endpoint, e))
    }

    /// Returns the family's endpoint; a new one when there is none or `renew`.
    fn endpoint(&self, v6: bool, renew: bool) -> io::Result<quinn::Endpoint> {
        let mut endpoints = self
            .endpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = &mut endpoints[usize::from(v6)];
        if let (Some(e), false) = (slot.as_ref(), renew) {
            return Ok(e.clone());
        }
        let made = self.open(v6)?;
        *slot = Some(made.clone());
        Ok(made)
    }

    /// Binds a UDP socket on the family's unspecified address (IPv6 only on the IPv6 one)
    /// and makes a client endpoint of it.
    fn open(&self, v6: bool) -> io::Result<quinn::Endpoint> {
        let addr = match v6 {
            true => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
            false => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        };
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        if v6 {
            socket.set_only_v6(true)?;
        }
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        let endpoint = quinn::Endpoint::new(
            quinn::EndpointConfig::default(),
            None,
            socket.into(),
            self.runtime.clone(),
        )?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "eyeballs", local = ?endpoint.local_addr().ok(), "QUIC socket opened");
        Ok(endpoint)
    }
}

fn quinn_config(
    rustls: Arc<ClientConfig>,
    transport: Option<&Arc<quinn::TransportConfig>>,
) -> Result<quinn::ClientConfig, quinn::crypto::rustls::NoInitialCipherSuite> {
    let mut config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(rustls)?));
    if let Some(t) = transport {
        config.transport_config(t.clone());
    }
    Ok(config)
}

fn connect_error(endpoint: &Endpoint, e: ConnectError) -> AttemptError {
    let kind = match &e {
        ConnectError::InvalidServerName(_) => AttemptErrorKind::ServerName,
        ConnectError::InvalidRemoteAddress(a) if a.port() == 0 => AttemptErrorKind::Port,
        _ => AttemptErrorKind::Quic,
    };
    AttemptError::with_source(endpoint.clone(), kind, e)
}

/// Classifies a failed QUIC handshake: a TLS alert (ours, or the server's) in the close
/// says which kind; a timeout is `TimedOut`.
fn connection_error(endpoint: &Endpoint, e: ConnectionError) -> AttemptError {
    let code = match &e {
        ConnectionError::TransportError(t) => Some(u64::from(t.code)),
        ConnectionError::ConnectionClosed(c) => Some(u64::from(c.error_code)),
        _ => None,
    };
    // TLS alerts travel as CRYPTO_ERROR codes 0x100 + alert (RFC 9001 §4.8).
    let kind = match code.map(|c| c.checked_sub(0x100).and_then(|a| u8::try_from(a).ok())) {
        Some(Some(alert)) => match alert_kind(AlertDescription::from(alert)) {
            AttemptErrorKind::Tls => AttemptErrorKind::Quic,
            kind => kind,
        },
        _ => AttemptErrorKind::Quic,
    };
    let timed_out = matches!(e, ConnectionError::TimedOut);
    let error = AttemptError::with_source(endpoint.clone(), kind, e);
    match timed_out {
        true => error.timed_out(),
        false => error,
    }
}
