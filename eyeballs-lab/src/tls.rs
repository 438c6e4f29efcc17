//! TLS and QUIC test servers (feature `tls`): a throwaway certificate authority, a TLS server
//! that completes handshakes (and echoes) or stalls after TCP, a QUIC server that echoes and
//! records how each connection ended, a UDP socket that swallows datagrams, and a count of
//! the process's open UDP sockets; and [`EchRejectingServer`], a TLS 1.3 server that rejects
//! Encrypted ClientHello with retry configurations.
//!
//! Each server runs on a thread of its own (a current-thread tokio runtime), so tests on any
//! runtime (or none) can use it, and the network lab can start it inside a namespace.
//! Dropping a server stops its thread and closes every socket it had before `drop` returns.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

mod ech;
pub use ech::{EchRejectingServer, EchRetryCase};

/// The most connections a server holds at once; past it, new ones are closed at once.
pub const MAX_CONNECTIONS: usize = 256;

/// A certificate authority made for one test: it issues server certificates, and its root
/// goes into the client's trust store.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

impl TestCa {
    /// Makes a CA with a fresh key.
    ///
    /// # Panics
    ///
    /// Never with ring (key generation and self-signing of fixed parameters cannot fail).
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new())
            .expect("no names is a valid parameter set");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("ring generates keys");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("ring signs");
        TestCa { issuer }
    }

    /// Returns the CA's certificate.
    pub fn root(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// Returns the CA's certificate as PEM (`-----BEGIN CERTIFICATE-----`, base64 in lines of
    /// 64): what a tool that reads a CA file (`eyeballs connect --tls --ca FILE`) takes.
    pub fn root_pem(&self) -> String {
        let base64 = data_encoding::BASE64.encode(self.issuer.der());
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        // BASE64 is ASCII, so every 64-byte chunk is a whole string.
        for line in base64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// Returns a trust store that holds only this CA.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.root())
            .expect("rcgen makes a certificate webpki parses");
        roots
    }

    /// Issues a certificate for `names` (DNS names or IP addresses) and its key.
    ///
    /// # Panics
    ///
    /// For a name that is neither a DNS name nor an IP address.
    pub fn issue(&self, names: &[&str]) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).expect("valid subject alternative names");
        let key = KeyPair::generate().expect("ring generates keys");
        let cert = params.signed_by(&key, &self.issuer).expect("ring signs");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone()], key)
    }

    /// Returns a client config (ring, TLS 1.3 and 1.2 where rustls has it) that trusts only
    /// this CA and offers `alpn`.
    pub fn client_config(&self, alpn: &[&str]) -> ClientConfig {
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
        config
    }

    /// Returns a server config with a certificate for `names` that accepts the ALPN ids
    /// `alpn` (none: no ALPN), TLS 1.3 only, as QUIC needs.
    pub fn server_config(&self, names: &[&str], alpn: &[&str]) -> ServerConfig {
        let (chain, key) = self.issue(names);
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("ring supports TLS 1.3")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("the key matches the certificate");
        config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
        config
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a [`TlsServer`] does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsServe {
    /// Completes the TLS handshake, then echoes what it reads until the client closes.
    Echo,
    /// Accepts TCP and reads the ClientHello, but never answers: a TLS server that stalls.
    Stall,
    /// Completes the TLS handshake, then answers each HTTP/1.1 request (keep-alive, no
    /// request body) with `200 OK` and a body naming it (`GET /a`): an HTTPS server for
    /// HTTP clients' tests.
    Http,
}

/// What a server saw, shared with its thread.
#[derive(Debug, Default)]
struct Stats {
    accepted: AtomicUsize,
    handshakes: AtomicUsize,
    open: AtomicUsize,
    /// The ALPN id of each completed handshake, in order (bounded by [`MAX_LOG`]).
    alpn: Mutex<Vec<Option<Vec<u8>>>>,
    /// The SNI of each ClientHello (in the clear: the outer one, with ECH), in order.
    sni: Mutex<Vec<Option<String>>>,
    /// How each QUIC connection ended, in order (bounded by [`MAX_LOG`]).
    ends: Mutex<Vec<QuicEnd>>,
}

/// The most ALPN ids and QUIC endings a server remembers.
const MAX_LOG: usize = 1024;

fn log<T>(list: &Mutex<Vec<T>>, item: T) {
    let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
    if list.len() < MAX_LOG {
        list.push(item);
    }
}

/// A server thread and the way to stop it.
struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Runs `serve` on a new thread with a current-thread tokio runtime until stopped.
    fn spawn<F, Fut>(name: &str, serve: F) -> io::Result<Running>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = stopped => {}
                        () = serve() => {}
                    }
                });
                // Dropping the runtime drops every task and closes every socket.
                drop(runtime);
            })?;
        Ok(Running {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A TLS server on one TCP listener (tokio-rustls). Dropping it closes everything.
pub struct TlsServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    _running: Running,
}

impl TlsServer {
    /// Serves on a new listener at `addr` (port 0: a free one).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound or the thread cannot start.
    pub fn bind(addr: SocketAddr, config: ServerConfig, serve: TlsServe) -> io::Result<TlsServer> {
        TlsServer::start(TcpListener::bind(addr)?, config, serve)
    }

    /// Serves on `listener`.
    ///
    /// # Errors
    ///
    /// When the thread cannot start.
    pub fn start(
        listener: TcpListener,
        config: ServerConfig,
        serve: TlsServe,
    ) -> io::Result<TlsServer> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let stats = Arc::new(Stats::default());
        let config = Arc::new(config);
        let s = stats.clone();
        let running = Running::spawn("eyeballs-lab-tls", move || async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let mut tasks = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                while tasks.try_join_next().is_some() {}
                s.accepted.fetch_add(1, Ordering::Relaxed);
                if tasks.len() >= MAX_CONNECTIONS {
                    continue;
                }
                tasks.spawn(serve_tls(stream, config.clone(), serve, s.clone()));
            }
        })?;
        Ok(TlsServer {
            addr,
            stats,
            _running: running,
        })
    }

    /// Returns where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns how many TCP connections it accepted.
    pub fn accepted(&self) -> usize {
        self.stats.accepted.load(Ordering::Relaxed)
    }

    /// Returns how many TLS handshakes it completed.
    pub fn handshakes(&self) -> usize {
        self.stats.handshakes.load(Ordering::Relaxed)
    }

    /// Returns how many connections are open (accepted, and not yet closed by the client).
    pub fn open(&self) -> usize {
        self.stats.open.load(Ordering::Relaxed)
    }

    /// Returns the ALPN id of each completed handshake, in order.
    pub fn alpn(&self) -> Vec<Option<Vec<u8>>> {
        self.stats
            .alpn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Returns the server name (SNI) of each ClientHello it read, in order: the outer,
    /// cleartext one when the client used ECH.
    pub fn sni(&self) -> Vec<Option<String>> {
        self.stats
            .sni
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Answers HTTP/1.1 requests on `stream` until the client closes: `200 OK`, the body the
/// request's method and path. A request head is at most 16 KiB.
pub async fn serve_http<S>(stream: &mut S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 && head.len() + n <= 16 * 1024 => head.extend_from_slice(&buf[..n]),
                _ => return,
            }
        };
        let text = String::from_utf8_lossy(&head[..end]).into_owned();
        head.drain(..end);
        let mut words = text.split_whitespace();
        let body = format!(
            "{} {}",
            words.next().unwrap_or(""),
            words.next().unwrap_or("")
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}

async fn serve_tls(
    mut stream: tokio::net::TcpStream,
    config: Arc<ServerConfig>,
    serve: TlsServe,
    stats: Arc<Stats>,
) {
    let _open = Open::new(&stats);
    let mut buf = [0u8; 4096];
    match serve {
        TlsServe::Stall => {
            // Read (and drop) until the client closes; never answer.
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        TlsServe::Echo => {
            let acceptor = rustls::server::Acceptor::default();
            let Ok(start) = tokio_rustls::LazyConfigAcceptor::new(acceptor, stream).await else {
                return;
            };
            log(
                &stats.sni,
                start.client_hello().server_name().map(str::to_owned),
            );
            let Ok(mut tls) = start.into_stream(config).await else {
                return;
            };
            stats.handshakes.fetch_add(1, Ordering::Relaxed);
            log(
                &stats.alpn,
                tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec),
            );
            while let Ok(n) = tls.read(&mut buf).await {
                if n == 0 || tls.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
        TlsServe::Http => {
            let Ok(mut tls) = tokio_rustls::TlsAcceptor::from(config).accept(stream).await else {
                return;
            };
            stats.handshakes.fetch_add(1, Ordering::Relaxed);
            log(
                &stats.alpn,
                tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec),
            );
            serve_http(&mut tls).await;
        }
    }
}

/// Counts a connection as open while it lives.
struct Open(Arc<Stats>);

impl Open {
    fn new(stats: &Arc<Stats>) -> Open {
        stats.open.fetch_add(1, Ordering::Relaxed);
        Open(stats.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How a QUIC connection the server accepted ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuicEnd {
    /// The client closed it (a CONNECTION_CLOSE frame, of the application or the transport).
    Closed,
    /// No packet for the idle timeout.
    TimedOut,
    /// Its handshake failed (the ALPN, say), with quinn's reason.
    Failed(String),
    /// Another end, with quinn's reason.
    Other(String),
}

/// What a [`QuicServer`] does with a connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuicServe {
    /// Completes the handshake, then echoes each bidirectional stream.
    Echo,
    /// Leaves each new connection waiting for this long before it accepts it (the client's
    /// packets meanwhile are buffered by quinn), then echoes: a slow server.
    AcceptAfter(Duration),
}

/// A QUIC server (quinn) on one UDP socket. Dropping it closes the socket.
pub struct QuicServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    _running: Running,
}

impl QuicServer {
    /// Serves on a new UDP socket at `addr` (port 0: a free one).
    ///
    /// # Errors
    ///
    /// As [`QuicServer::start`], and when the address cannot be bound.
    pub fn bind(
        addr: SocketAddr,
        config: ServerConfig,
        serve: QuicServe,
    ) -> io::Result<QuicServer> {
        QuicServer::start(UdpSocket::bind(addr)?, config, serve)
    }

    /// Serves on `socket`, with `config` (TLS 1.3, its ALPN ids: see
    /// [`TestCa::server_config`]) and a 10-second idle timeout.
    ///
    /// # Errors
    ///
    /// When `config` cannot run QUIC, the thread cannot start, or its endpoint cannot be
    /// made (within 10 s).
    pub fn start(
        socket: UdpSocket,
        config: ServerConfig,
        serve: QuicServe,
    ) -> io::Result<QuicServer> {
        let addr = socket.local_addr()?;
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(config)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        let mut transport = quinn::TransportConfig::default();
        transport.max_idle_timeout(Some(
            quinn::IdleTimeout::try_from(Duration::from_secs(10)).expect("10 s is a valid timeout"),
        ));
        server.transport_config(Arc::new(transport));
        let stats = Arc::new(Stats::default());
        let s = stats.clone();
        // The endpoint is made on the server's thread; `start` returns once it is, so that
        // the sockets quinn-udp opens and closes while it is made (its GSO and GRO probes)
        // are gone before a caller counts the process's sockets.
        let (made, endpoint_made) = std::sync::mpsc::sync_channel::<io::Result<()>>(1);
        let running = Running::spawn("eyeballs-lab-quic", move || async move {
            let runtime = Arc::new(quinn::TokioRuntime);
            let endpoint = quinn::Endpoint::new(
                quinn::EndpointConfig::default(),
                Some(server),
                socket,
                runtime,
            );
            let endpoint = match endpoint {
                Ok(endpoint) => {
                    let _ = made.send(Ok(()));
                    endpoint
                }
                Err(e) => {
                    let _ = made.send(Err(e));
                    return;
                }
            };
            let mut tasks = JoinSet::new();
            while let Some(incoming) = endpoint.accept().await {
                while tasks.try_join_next().is_some() {}
                s.accepted.fetch_add(1, Ordering::Relaxed);
                if tasks.len() >= MAX_CONNECTIONS {
                    incoming.refuse();
                    continue;
                }
                tasks.spawn(serve_quic(incoming, serve, s.clone()));
            }
        })?;
        match endpoint_made.recv_timeout(SERVER_SETUP_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the QUIC server's endpoint was not made in 10 s",
                ))
            }
        }
        Ok(QuicServer {
            addr,
            stats,
            _running: running,
        })
    }

    /// Returns where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns how many connection attempts reached it.
    pub fn accepted(&self) -> usize {
        self.stats.accepted.load(Ordering::Relaxed)
    }

    /// Returns how many handshakes it completed.
    pub fn handshakes(&self) -> usize {
        self.stats.handshakes.load(Ordering::Relaxed)
    }

    /// Returns how many connections are open.
    pub fn open(&self) -> usize {
        self.stats.open.load(Ordering::Relaxed)
    }

    /// Returns how each connection ended, in order of ending.
    pub fn ends(&self) -> Vec<QuicEnd> {
        self.stats
            .ends
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

async fn serve_quic(incoming: quinn::Incoming, serve: QuicServe, stats: Arc<Stats>) {
    let _open = Open::new(&stats);
    if let QuicServe::AcceptAfter(delay) = serve {
        tokio::time::sleep(delay).await;
    }
    let connection = match incoming.accept() {
        Ok(connecting) => connecting.await,
        Err(e) => Err(e),
    };
    let connection = match connection {
        Ok(c) => c,
        Err(e) => {
            log(&stats.ends, end_of(e, true));
            return;
        }
    };
    stats.handshakes.fetch_add(1, Ordering::Relaxed);
    let alpn = connection
        .handshake_data()
        .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|d| d.protocol);
    log(&stats.alpn, alpn);
    let mut streams = JoinSet::new();
    let error = loop {
        match connection.accept_bi().await {
            Ok((mut send, mut recv)) => {
                streams.spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(Some(n)) = recv.read(&mut buf).await {
                        if send.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                    let _ = send.finish();
                    // Wait for the peer to read it all (or go away).
                    let _ = send.stopped().await;
                });
            }
            Err(e) => break e,
        }
    };
    log(&stats.ends, end_of(error, false));
}

fn end_of(e: quinn::ConnectionError, handshaking: bool) -> QuicEnd {
    use quinn::ConnectionError as E;
    match e {
        E::ApplicationClosed(_) | E::ConnectionClosed(_) => QuicEnd::Closed,
        E::TimedOut => QuicEnd::TimedOut,
        e if handshaking => QuicEnd::Failed(e.to_string()),
        e => QuicEnd::Other(e.to_string()),
    }
}

/// A UDP socket that reads and drops every datagram: a QUIC path that is blackholed. It
/// counts what it swallowed. Dropping it closes the socket.
pub struct UdpBlackhole {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpBlackhole {
    /// Binds at `addr` (port 0: a free one).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpBlackhole> {
        UdpBlackhole::start(UdpSocket::bind(addr)?)
    }

    /// Swallows what `socket` receives.
    ///
    /// # Errors
    ///
    /// When the socket cannot get a read timeout or the thread cannot start.
    pub fn start(socket: UdpSocket) -> io::Result<UdpBlackhole> {
        let addr = socket.local_addr()?;
        // The thread looks at `stop` this often.
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let received = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (received.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("eyeballs-lab-blackhole".into())
            .spawn(move || {
                let mut buf = [0u8; 2048];
                while !s.load(Ordering::Relaxed) {
                    if socket.recv_from(&mut buf).is_ok() {
                        r.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })?;
        Ok(UdpBlackhole {
            addr,
            received,
            stop,
            thread: Some(thread),
        })
    }

    /// Returns where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns how many datagrams it swallowed.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::Relaxed)
    }
}

impl Drop for UdpBlackhole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds one port on every address of `tcp` (listeners) and of `udp` (sockets): a TLS
/// server and a QUIC server on the same port, as one HTTPS record's endpoints are.
///
/// # Errors
///
/// When no port is free on all of them in 50 tries.
pub fn same_port(
    tcp: &[IpAddr],
    udp: &[IpAddr],
) -> io::Result<(u16, Vec<TcpListener>, Vec<UdpSocket>)> {
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no addresses");
    for _ in 0..50 {
        match try_same_port(tcp, udp) {
            Ok(bound) => return Ok(bound),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn try_same_port(
    tcp: &[IpAddr],
    udp: &[IpAddr],
) -> io::Result<(u16, Vec<TcpListener>, Vec<UdpSocket>)> {
    // The first socket picks the port; the others take it or fail.
    let first = UdpSocket::bind(SocketAddr::new(
        udp.first()
            .or(tcp.first())
            .copied()
            .unwrap_or(crate::loopback::V4),
        0,
    ))?;
    let port = first.local_addr()?.port();
    let mut sockets = vec![first];
    for ip in udp.iter().skip(1) {
        sockets.push(UdpSocket::bind(SocketAddr::new(*ip, port))?);
    }
    if udp.is_empty() {
        sockets.clear();
    }
    let mut listeners = Vec::new();
    for ip in tcp {
        listeners.push(TcpListener::bind(SocketAddr::new(*ip, port))?);
    }
    Ok((port, listeners, sockets))
}

/// Returns an `ECHConfigList` (RFC 9848 §4, version `0xfe0d`) with one configuration for
/// `public_name`: X25519 with HKDF-SHA256 and AES-128-GCM, and a public key no server holds
/// the private key of (the base point), so that a client that uses it sends an outer
/// ClientHello for `public_name` and no server here can read the inner one.
///
/// # Panics
///
/// For a `public_name` over 255 bytes.
pub fn ech_config_list(public_name: &str) -> Vec<u8> {
    ech_config_list_with_id(public_name, 7)
}

/// Returns an `ECHConfigList` as [`ech_config_list`] does, with `config_id` for the
/// configuration's id: the id a client puts in its outer ClientHello's ECH extension, which
/// tells one configuration from another (what [`EchRejectingServer::config_ids`] records).
///
/// # Panics
///
/// For a `public_name` over 255 bytes.
pub fn ech_config_list_with_id(public_name: &str, config_id: u8) -> Vec<u8> {
    let mut key = [0u8; 32];
    key[0] = 9; // X25519's base point, u = 9.
    let mut contents = vec![config_id];
    contents.extend_from_slice(&0x0020u16.to_be_bytes()); // DHKEM(X25519, HKDF-SHA256)
    contents.extend_from_slice(&32u16.to_be_bytes());
    contents.extend_from_slice(&key);
    contents.extend_from_slice(&4u16.to_be_bytes()); // one cipher suite
    contents.extend_from_slice(&0x0001u16.to_be_bytes()); // HKDF-SHA256
    contents.extend_from_slice(&0x0001u16.to_be_bytes()); // AES-128-GCM
    contents.push(0); // maximum_name_length
    let name = u8::try_from(public_name.len()).expect("a public name of at most 255 bytes");
    contents.push(name);
    contents.extend_from_slice(public_name.as_bytes());
    contents.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    let mut config = 0xfe0du16.to_be_bytes().to_vec();
    let len = u16::try_from(contents.len()).expect("under 300 bytes");
    config.extend_from_slice(&len.to_be_bytes());
    config.extend_from_slice(&contents);
    let mut list = u16::try_from(config.len())
        .expect("under 300 bytes")
        .to_be_bytes()
        .to_vec();
    list.extend_from_slice(&config);
    list
}

/// How long [`QuicServer::start`] waits for its endpoint to be made.
const SERVER_SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How many readings [`open_udp_sockets`] takes at most before two agree.
const UDP_COUNT_READINGS: usize = 20;

/// Returns how many UDP sockets this process has open (Linux: the `/proc/self/fd` sockets
/// listed in `/proc/net/udp` and `/proc/net/udp6`; 0 elsewhere).
///
/// The count is read until two readings in a row agree (at most 20 readings, no waiting in
/// between): one reading is two table reads and a directory listing, not one atomic
/// snapshot, and a socket that opens or closes meanwhile (on another thread) can make a
/// single reading miss or count one.
pub fn open_udp_sockets() -> usize {
    let mut last = udp_sockets_once();
    for _ in 1..UDP_COUNT_READINGS {
        let now = udp_sockets_once();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// One reading of [`open_udp_sockets`].
fn udp_sockets_once() -> usize {
    let mut inodes = BTreeSet::new();
    for table in ["/proc/self/net/udp", "/proc/self/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        // The header, then one socket a line; the inode is the tenth column.
        for line in text.lines().skip(1) {
            if let Some(inode) = line.split_whitespace().nth(9) {
                inodes.insert(inode.to_owned());
            }
        }
    }
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|link| {
            let link = link.to_str()?.to_owned();
            let inode = link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned();
            Some(inode)
        })
        .filter(|inode| inodes.contains(inode))
        .count()
}

#[cfg(test)]
mod tests {
    use super::TestCa;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    #[test]
    fn the_root_as_pem_reads_back_as_the_root() {
        let ca = TestCa::new();
        let pem = ca.root_pem();
        assert!(pem.lines().all(|l| l.len() <= 64), "{pem}");
        let read: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("PEM that parses");
        assert_eq!(read, [ca.root()]);
    }
}
