//! Happy Eyeballs (RFC 8305) for plain `std::net` users, with no async runtime.
//!
//! [`connect`] is a drop-in for [`std::net::TcpStream::connect`] that gets the fastest
//! working connection out of a host name, and [`connect_timeout`] one for
//! `TcpStream::connect_timeout` that takes a host name. Both take what std's
//! `ToSocketAddrs` takes (`"host:port"`, `("host", port)`, `(Ipv4Addr, port)`, a
//! `SocketAddrV6`, `&[SocketAddr]`, ...: see [`ToHostPort`]); a list of addresses
//! races without DNS, ordered the RFC 8305 way (IPv6 first, families interleaved).
//!
//! ```
//! use std::time::Duration;
//!
//! # let listener = std::net::TcpListener::bind("[::1]:0")?;
//! # let port = listener.local_addr()?.port();
//! let stream = eyeballs_blocking::connect(format!("[::1]:{port}"))?; // a std::net::TcpStream
//! let stream = eyeballs_blocking::connect_timeout(("::1", port), Duration::from_secs(5))?;
//! # let _ = stream;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `hickory` | `HickoryResolver` (on async-io): AAAA and A as two queries, and HTTPS records (Happy Eyeballs v3) |
//! | `tls` | `Connector::connect_tls`: TCP+TLS races on the calling thread, `Tls` (no QUIC: it needs an async runtime) |
//! | `ureq` | `UreqConnector`: ureq 3's `Agent` with Happy Eyeballs connections (TCP+TLS for https) |
//! | `ring` | rustls' ring provider: `crypto_provider()`, used by the one-call constructors |
//! | `aws-lc-rs` | rustls' aws-lc-rs provider (preferred over ring when both are on) |
//! | `platform-verifier` | trust what the platform trusts: `Tls::platform`, `platform_client_config`, `UreqConnector::platform` (needs `ring` or `aws-lc-rs`) |
//! | `ech` | Encrypted ClientHello (`ech_hook`, on aws-lc-rs) |
//! | `serde` | `Report`, `Winner`, `Failure` and their records serialize (times in milliseconds) |
//!
//! A [`Connector`] holds the settings ([`Config`]: the delays, the deadline, the family
//! policy), the [`SocketOptions`], the resolver and the history;
//! [`Connector::connect_with_report`] returns the race's [`Report`], which shows which
//! address won and why the others failed. A failed connect is an `io::Error` whose inner
//! error is the [`Failure`]. This crate re-exports every type its API uses, so one
//! dependency is enough.
//!
//! # TLS and Happy Eyeballs v3
//!
//! With the feature `tls`, [`Connector::connect_tls`] races TCP+TLS on the same thread:
//! rustls' own state machine is stepped on the poller, an attempt counts once its handshake
//! is done (HEv3 §6.1), its TCP connect is progress (V33), and a handshake that stalls past
//! the handshake timeout (10 s by default) fails its attempt. With the feature `hickory`,
//! the race asks for HTTPS records, so each service's port, ALPN ids, hints and ECH apply
//! (Happy Eyeballs v3). QUIC is not raced here: it needs an async runtime (eyeballs-tokio,
//! eyeballs-async-std). The result is a [`Connection`] over a [`BlockingTlsStream`]
//! (`rustls::StreamOwned`), read and written with `std::io::{Read, Write}`.
//!
//! ```
//! # #[cfg(not(feature = "tls"))]
//! # fn main() {}
//! # #[cfg(feature = "tls")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::{Read, Write};
//! use std::sync::Arc;
//! use eyeballs_blocking::{Connector, StaticResolver, Tls};
//! # use eyeballs_lab::tls::{TestCa, TlsServe, TlsServer};
//! # let ca = TestCa::new();
//! # let server = TlsServer::bind("[::1]:0".parse()?, ca.server_config(&["www.example.test"], &["h2"]), TlsServe::Echo)?;
//! # let (port, resolver) = (server.addr().port(), StaticResolver::new().host("www.example.test", [server.addr().ip()]));
//! # let mut config = ca.client_config(&[]);
//!
//! // Any rustls ClientConfig (its crypto provider, its roots); ALPN ids say what to race.
//! config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
//! let tls = Tls::new(Arc::new(config))?;
//! let connector = Connector::builder().resolver(resolver).build()?;
//! let connection = connector.connect_tls(("www.example.test", port), &tls)?;
//! println!("{} won, ALPN {:?}", connection.endpoint(), connection.alpn());
//! let mut stream = connection.into_tls().expect("TLS over TCP");
//! stream.write_all(b"ping")?;
//! let mut echo = [0; 4];
//! stream.read_exact(&mut echo)?;
//! assert_eq!(&echo, b"ping");
//! # Ok(())
//! # }
//! ```
//!
//! # ureq
//!
//! With the feature `ureq`, `UreqConnector` is ureq 3's pluggable transport: an `Agent`
//! made with `UreqConnector::agent` opens every connection with a race, TCP+TLS for
//! `https` (an attempt counts once its TLS handshake is done) and TCP for `http`;
//! `UreqConnector::platform()` trusts the platform's roots (features `platform-verifier`
//! and `ring` or `aws-lc-rs`), and with `hickory` asks for HTTPS records.
//!
//! # How it runs
//!
//! One thread — the caller's — drives the whole race: every attempt is a non-blocking socket
//! registered with one readiness poller (mio: epoll, kqueue, ...), not a thread per attempt.
//! An attempt is connected when its socket is writable, `SO_ERROR` is zero and it has a
//! peer — not when it is readable. The winner is returned in blocking mode; the losers are
//! closed before `connect` returns. Each thread that has raced keeps its poller (on Linux
//! an epoll and an eventfd descriptor) for its next race, until it exits.
//!
//! A race whose one plain TCP attempt is all that can happen — one address, no deadline
//! (the connector's [`Config::timeout`] unset, the default), no proxy — connects that attempt in
//! place, in blocking mode: the system calls of std's `TcpStream::connect` and no more, since
//! a poller would wait for that one socket with no timeout all the same. The kernel's connect
//! timeout bounds it, as it bounds std's. With `connect_timeout`, a second address or a DNS
//! query still out, the attempt is non-blocking on the poller.
//!
//! Resolvers are the same as on every eyeballs driver: the one [`Resolve`] trait, whose
//! futures this thread polls and whose wakers wake its poller. The [`SystemResolver`] asks
//! `getaddrinfo` once per family, in parallel, on one process-wide pool of at most
//! [`RESOLVER_THREADS`] threads (RFC 8305 §3, R3, allows exactly this emulation of
//! asynchronous DNS); a blocking resolver of yours goes there with [`on_pool`]. A blocking
//! lookup cannot be cancelled, so the pool bounds what a slow or hung resolver can hold:
//!
//! - Identical lookups in flight (the same resolver, name and query kind) are one call,
//!   whose answer goes to every race that asked.
//! - A lookup runs on one of at most [`RESOLVER_THREADS`] (8) threads; up to
//!   [`RESOLVER_QUEUE`] (64) more wait in a queue. When every thread is busy and the queue
//!   is full, a new lookup fails at once (`WouldBlock`), and the race treats it as a failed
//!   query: a hung resolver makes races fail fast instead of piling up threads.
//! - A race that ends (won, failed, timed out) withdraws from its lookups: a queued lookup
//!   nobody waits for is dropped, a running one finishes on its thread and its answer is
//!   dropped. A hung lookup holds at most one thread.
//! - A thread with nothing to do for a second exits.
//!
//! With feature `hickory`, [`HickoryResolver`] asks AAAA and A apart through hickory-resolver
//! on async-io, and answers HTTPS queries with records decoded into [`ServiceRecord`]s:
//! Happy Eyeballs v3 needs it, since `getaddrinfo` cannot return HTTPS records. Its
//! background tasks run on one process-wide thread, `eyeballs-hickory`
//! ([`hickory_background_tasks`] counts them); async-io's reactor is driven by its own
//! thread while this one waits on its poller.
//!
//! The decisions are all [`eyeballs_core`]'s; the race runner, the dialers and the
//! resolvers are `eyeballs_net`'s, shared with every other driver. This crate is its
//! blocking front door.

#[cfg(feature = "ureq")]
mod ureq_transport;

pub use eyeballs_net::Blocking;
/// The ureq this crate's `ureq` feature plugs into (feature `ureq`).
#[cfg(feature = "ureq")]
pub use ureq;
#[cfg(feature = "ureq")]
pub use ureq_transport::{EyeballsTransport, UreqConnector};

/// Connects with Happy Eyeballs on the calling thread: `eyeballs_net::Connector` on
/// [`Blocking`], whose connects return a [`std::net::TcpStream`] (and, with `tls`, a
/// [`Connection`]).
///
/// # Examples
///
/// Set the delays and a timeout, then see which address won and why the others failed:
///
/// ```
/// use std::net::{SocketAddr, TcpListener};
/// use std::time::Duration;
/// use eyeballs_blocking::{AttemptStatus, Config, Connector, SocketOptions};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let open = TcpListener::bind("127.0.0.1:0")?;
/// let refused = TcpListener::bind("127.0.0.2:0")?.local_addr()?; // closed again
/// let connector = Connector::builder()
///     .config(
///         Config::default()
///             .connection_attempt_delay(Duration::from_millis(300))
///             .timeout(Some(Duration::from_secs(10))),
///     )
///     .socket(SocketOptions::new().nodelay(true))
///     .build()?;
/// let addrs: [SocketAddr; 2] = [refused, open.local_addr()?];
/// let (stream, report) = connector.connect_with_report(&addrs[..]);
/// let report = report.expect("the race started");
/// assert_eq!(report.winner(), Some(stream?.peer_addr()?));
/// for attempt in report.attempts() {
///     if attempt.status == AttemptStatus::Failed {
///         println!("{} failed: {:?}", attempt.endpoint, attempt.error);
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub type Connector = eyeballs_net::Connector<Blocking>;

/// Builds a [`Connector`]: [`Config`], [`SocketOptions`], resolver (default
/// [`SystemResolver`]), history (default on), handshake timeout.
pub type ConnectorBuilder = eyeballs_net::ConnectorBuilder<Blocking>;

/// hickory-resolver for the blocking driver (feature `hickory`), on async-io: AAAA and A as
/// two queries, and HTTPS records, so Happy Eyeballs v3 applies.
///
/// # Examples
///
/// ```no_run
/// use eyeballs_blocking::{Connector, HickoryResolver};
///
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let connector = Connector::builder()
///     .resolver(HickoryResolver::from_system_conf()?)
///     .build()?;
/// # let _ = connector;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "hickory")]
pub type HickoryResolver = eyeballs_net::HickoryResolver<Blocking>;
#[cfg(feature = "hickory")]
pub use eyeballs_net::{hickory_background_tasks, AsyncIoRuntimeProvider};

/// A TLS stream over a blocking [`std::net::TcpStream`] (feature `tls`).
#[cfg(feature = "tls")]
pub use eyeballs_net::BlockingTlsStream;

/// What a won TLS attempt gives (feature `tls`): a [`BlockingTlsStream`], the endpoint and
/// the ALPN id negotiated.
#[cfg(feature = "tls")]
pub type Connection = eyeballs_net::Connection<BlockingTlsStream>;

/// The connection of a [`Connection`] (feature `tls`).
#[cfg(feature = "tls")]
pub type Established = eyeballs_net::Established<BlockingTlsStream>;

// What the API uses, so that one dependency is enough.
#[doc(inline)]
pub use eyeballs_net::prelude::*;

use std::io;
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

fn default_connector() -> &'static Connector {
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    DEFAULT.get_or_init(Connector::default)
}

/// Connects to `target` with Happy Eyeballs and RFC 8305's defaults, through one
/// process-wide [`Connector`] (system resolver, history on).
///
/// It takes what [`std::net::TcpStream::connect`] takes (see [`ToHostPort`]).
///
/// `localhost` and names under `.localhost` are answered at once, without DNS, with `::1`
/// and `127.0.0.1` (RFC 6761 §6.3), and raced like any answer: `::1` first, `127.0.0.1`
/// when it is refused or slow. The process-wide connector keeps one history for the whole
/// process (RFC 8305 §4): a later connect to the same destination starts with what worked
/// (after a broken IPv6 path, IPv4 first). For a history of your own, or none
/// (`ConnectorBuilder::history(false)`), keep a [`Connector`] of your own.
///
/// # Errors
///
/// As [`Connector::connect`].
pub fn connect<T: ToHostPort>(target: T) -> io::Result<TcpStream> {
    default_connector().connect(target)
}

/// Connects like [`connect`], giving up after `timeout` (DNS included), like
/// [`std::net::TcpStream::connect_timeout`], but with a host name or several addresses.
///
/// # Errors
///
/// As [`Connector::connect_timeout`].
pub fn connect_timeout<T: ToHostPort>(target: T, timeout: Duration) -> io::Result<TcpStream> {
    default_connector().connect_timeout(target, timeout)
}

/// Discovers the network's NAT64 prefix (RFC 7050) by asking `resolver` for the AAAA
/// records of `ipv4only.arpa`, blocking; see [`discover_nat64`]. `None` when the network
/// has no DNS64.
///
/// # Errors
///
/// The resolver's error, except "no such name", which means no DNS64.
pub fn discover_nat64_blocking(resolver: &dyn Resolve) -> io::Result<Option<Nat64Prefix>> {
    block_on(discover_nat64(resolver))
}

/// Runs a future to its end on this thread (the resolver's futures wake it).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
