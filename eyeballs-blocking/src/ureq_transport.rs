//! ureq 3's pluggable transport (feature `ureq`): an `Agent` whose connections are Happy
//! Eyeballs races, TCP+TLS counted once the TLS handshake is done (HEv3 §6.1).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::{Arc, Weak};
use std::time::Duration;

use ureq::config::Config;
use ureq::http::uri::Scheme;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector as UreqConnect, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};
use ureq::{Agent, Error, Timeout};

use crate::{BlockingTlsStream, Connector, Protocols, Tls, TlsConfigError};

/// A ureq 3 connector that races (feature `ureq`): `http` URIs get a TCP race
/// ([`Connector::connect`]), `https` URIs a TCP+TLS race ([`Connector::connect_tls`]),
/// with the connector's settings, resolver and history. With the hickory resolver the race
/// asks for the host's HTTPS records, so their ports, hints and ECH apply. ureq speaks
/// HTTP/1.1 only, so `http/1.1` is the one ALPN id offered.
///
/// Plug it in with [`UreqConnector::agent`] (which also gives ureq a resolver that looks
/// nothing up: the race resolves). Requests through a proxy are refused: the race connects
/// straight to the host. ureq's connect timeout bounds the race; its read and write
/// timeouts apply to the connection.
///
/// # Examples
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// // Platform roots and a provider: features `platform-verifier` and `ring` (or
/// // `aws-lc-rs`); or `UreqConnector::new(connector, rustls_config)`.
/// let agent = eyeballs_blocking::UreqConnector::platform()?.agent();
/// let body = agent.get("https://example.test/").call()?.body_mut().read_to_string()?;
/// # let _ = body;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct UreqConnector {
    connector: Connector,
    tls: Tls,
}

impl UreqConnector {
    /// Races with `connector`'s settings, resolver and history, and for `https` with
    /// `config` (its crypto provider and roots; its ALPN ids are replaced by `http/1.1`).
    ///
    /// # Errors
    ///
    /// A [`TlsConfigError`] for a config that cannot be used.
    pub fn new(
        connector: Connector,
        config: Arc<crate::rustls::ClientConfig>,
    ) -> Result<Self, TlsConfigError> {
        let tls = Tls::builder(config)
            .protocols(Protocols::new().tcp("http/1.1"))
            .tcp_only()
            .build()?;
        Ok(UreqConnector { connector, tls })
    }

    /// A connector that works out of the box (features `platform-verifier` and `ring` or
    /// `aws-lc-rs`): certificates checked as the platform checks them, the default
    /// [`Connector`], or with feature `hickory` one with the hickory resolver on the
    /// system's name servers, so that HTTPS records are asked for.
    ///
    /// # Errors
    ///
    /// The platform verifier's ([`TlsConfigError::Verifier`]), or with `hickory` a system
    /// resolver configuration hickory cannot read; both as `io::Error`.
    #[cfg(feature = "platform-verifier")]
    pub fn platform() -> io::Result<Self> {
        let config = crate::platform_client_config([])?;
        #[cfg(feature = "hickory")]
        let connector = Connector::builder()
            .resolver(crate::HickoryResolver::from_system_conf()?)
            .build()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        #[cfg(not(feature = "hickory"))]
        let connector = Connector::default();
        Ok(UreqConnector::new(connector, Arc::new(config))?)
    }

    /// Returns a ureq `Agent` that connects through this connector, with ureq's default
    /// configuration but no proxy.
    pub fn agent(self) -> Agent {
        self.agent_with(Agent::config_builder().proxy(None).build())
    }

    /// Returns a ureq `Agent` with `config` that connects through this connector. A
    /// `config` with a proxy fails every request (see [`UreqConnector`]).
    pub fn agent_with(self, config: Config) -> Agent {
        Agent::with_parts(config, self, RaceResolves)
    }

    /// Opens the connection `details` asks for.
    fn open(&self, details: &ConnectionDetails<'_>) -> Result<EyeballsTransport, Error> {
        if details.config.proxy().is_some() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                "eyeballs' ureq connector connects straight to the host: configure the \
                 agent without a proxy",
            )));
        }
        let (host, port) = host_port(details.uri)?;
        let timeout = details.timeout.not_zero().map(|t| *t);
        let target = (host, port);
        let stream = match (details.needs_tls(), timeout) {
            (false, Some(t)) => self.connector.connect_timeout(target, t).map(Stream::Tcp),
            (false, None) => self.connector.connect(target).map(Stream::Tcp),
            (true, Some(t)) => {
                Stream::tls(self.connector.connect_tls_timeout(target, &self.tls, t))
            }
            (true, None) => Stream::tls(self.connector.connect_tls(target, &self.tls)),
        }
        .map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut => Error::Timeout(Timeout::Connect),
            _ => Error::Io(e),
        })?;
        let socket = Arc::new(stream.socket().try_clone()?);
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        let transport = EyeballsTransport {
            stream,
            buffers,
            socket,
            read_timeout: None,
            write_timeout: None,
        };
        (details.register_shutdown)(transport.shutdown_handle())?;
        Ok(transport)
    }
}

impl UreqConnect<()> for UreqConnector {
    type Out = EyeballsTransport;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        // First in its chain: nothing comes before it.
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, Error> {
        self.open(details).map(Some)
    }
}

/// The host and port of `uri`: the port given, or the scheme's (80, 443).
fn host_port(uri: &Uri) -> Result<(&str, u16), Error> {
    let host = uri.host().ok_or(Error::HostNotFound)?;
    // A URI's IPv6 literal is bracketed; the race takes the address.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = match (uri.port_u16(), uri.scheme()) {
        (Some(port), _) => port,
        (None, Some(s)) if *s == Scheme::HTTPS => 443,
        (None, Some(s)) if *s == Scheme::HTTP => 80,
        _ => return Err(Error::BadUri(format!("{uri}: not an http or https URI"))),
    };
    Ok((host, port))
}

/// ureq's resolver step, done by the race instead: one placeholder address that the
/// connector never uses (ureq wants at least one).
#[derive(Debug)]
struct RaceResolves;

impl Resolver for RaceResolves {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, Error> {
        let (_, port) = host_port(uri)?;
        let mut addrs = self.empty();
        addrs.push(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port));
        Ok(addrs)
    }
}

/// The connection a race won: plain TCP, or TLS over TCP.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<BlockingTlsStream>),
}

impl Stream {
    fn tls(connection: io::Result<crate::Connection>) -> io::Result<Stream> {
        let connection = connection?;
        match connection.into_tls() {
            Some(stream) => Ok(Stream::Tls(Box::new(stream))),
            None => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a QUIC connection for ureq",
            )),
        }
    }

    fn socket(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

/// A ureq transport over the connection an eyeballs race won (see [`UreqConnector`]).
pub struct EyeballsTransport {
    stream: Stream,
    buffers: LazyBuffers,
    /// The socket again (a second descriptor), for ureq's shutdown from another thread.
    socket: Arc<TcpStream>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl EyeballsTransport {
    fn shutdown_handle(&self) -> Weak<dyn ShutdownHandle> {
        let weak: Weak<TcpStream> = Arc::downgrade(&self.socket);
        weak
    }

    /// Sets the socket's read or write timeout to `timeout`'s, only when it changed.
    fn arm(&mut self, timeout: NextTimeout, write: bool) -> Result<(), Error> {
        if timeout.after.is_zero() {
            return Err(Error::Timeout(timeout.reason));
        }
        let wanted = timeout.not_zero().map(|t| *t);
        let (cached, socket) = match write {
            true => (&mut self.write_timeout, self.stream.socket()),
            false => (&mut self.read_timeout, self.stream.socket()),
        };
        if *cached != wanted {
            match write {
                true => socket.set_write_timeout(wanted)?,
                false => socket.set_read_timeout(wanted)?,
            }
            *cached = wanted;
        }
        Ok(())
    }
}

impl fmt::Debug for EyeballsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EyeballsTransport")
            .field("peer", &self.stream.socket().peer_addr().ok())
            .field("tls", &matches!(self.stream, Stream::Tls(_)))
            .finish_non_exhaustive()
    }
}

/// A read or write that ran out of time is ureq's timeout; anything else its I/O error.
fn io_error(e: io::Error, reason: Timeout) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout(reason),
        _ => Error::Io(e),
    }
}

impl Transport for EyeballsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = timeout.for_write();
        self.arm(timeout, true)?;
        let output = &self.buffers.output()[..amount];
        let written = match &mut self.stream {
            Stream::Tcp(s) => s.write_all(output).and_then(|()| s.flush()),
            Stream::Tls(s) => s.write_all(output).and_then(|()| s.flush()),
        };
        written.map_err(|e| io_error(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let timeout = timeout.for_read();
        // A TLS read may have to write (a key update), so both timeouts are set.
        self.arm(timeout, false)?;
        let input = self.buffers.input_append_buf();
        let read = loop {
            let r = match &mut self.stream {
                Stream::Tcp(s) => s.read(input),
                Stream::Tls(s) => s.read(input),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        let n = read.map_err(|e| io_error(e, timeout.reason))?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // A pooled connection is reusable when its socket has nothing to read and no
        // error: bytes the server sent unasked (a TLS session ticket, say) or its close
        // make ureq open a new one.
        let socket = self.stream.socket();
        if socket.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8];
        let open =
            matches!(socket.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        open && socket.set_nonblocking(false).is_ok()
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}
