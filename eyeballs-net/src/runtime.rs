//! The way into any async runtime: what a runtime gives eyeballs, and nothing else.
//!
//! eyeballs-net owns everything a Happy Eyeballs connect does around the sans-IO race of
//! `eyeballs-core`: the race runner (DNS answers, attempts, deadlines, the winner, the
//! history, the report), the dialers (TCP, TCP+TLS, QUIC) and the resolvers. A runtime
//! supplies four things, through [`Runtime`]:
//!
//! - its **clock** ([`Runtime::now`]), so that a paused or simulated clock moves the race;
//! - a **timer** ([`Runtime::timer`], a [`Timer`] the loop re-arms);
//! - a **TCP connect** on its reactor ([`Runtime::connect`]): a socket opened with the
//!   connector's options ([`SocketOptions::open`]) becomes the runtime's stream once its
//!   handshake is done. [`start_connect`] and [`finish_connect`] do the system-call part (a
//!   simulated runtime opens nothing at all);
//! - nothing to spawn: a race runs inside the future the caller polls, and the system
//!   resolver's blocking lookups run on eyeballs' own bounded pool of threads.
//!
//! Implement it, and `Connector<YourRuntime>` connects with every RFC 8305 and HEv3 rule
//! the other runtimes get. Connects through a proxy (HEv3 V60, [`Proxy`](crate::Proxy))
//! also need the stream's reads and writes ([`Runtime::poll_read_tcp`],
//! [`Runtime::poll_write_tcp`]; without them a proxied attempt fails as unsupported). TLS and QUIC are optional extras ([`TlsRuntime`] with feature
//! `tls`; `QuicRuntime` with feature `quic`, see below), and so is hickory's DNS
//! ([`HickoryRuntime`], feature `hickory`). `eyeballs-tokio` and `eyeballs-async-std` are
//! built this way, from outside this crate, with nothing but this module.
//!
//! # QUIC
//!
//! A runtime races QUIC (feature `quic`) when its [`TlsRuntime::quic`] returns a
//! `QuicRuntime`: quinn's runtime (timers, spawner) and a way to register a connected UDP
//! socket with its reactor (`UdpIo`: read and write readiness, and, where its read
//! readiness ignores socket errors, a wait for them). Without it, the runtime's TLS races
//! offer no QUIC ids. Each QUIC attempt then has a UDP socket and a quinn endpoint of its
//! own: an ICMP port unreachable fails it at once (`ConnectionRefused`, as a refused TCP
//! connect), and a losing, failed or dropped attempt sends its CONNECTION_CLOSE and
//! releases its socket and tasks at once, where quinn would keep them for its draining
//! period. `eyeballs-tokio` runs quinn's tasks on tokio; async-io runtimes use
//! `AsyncIoQuinn` (features `quic` and `async-io`), one process-wide thread,
//! `eyeballs-quic`, that runs quinn's tasks.
//!
//! # Example: a runtime on `async-io`
//!
//! A complete runtime in about thirty lines (`eyeballs-async-std`'s is the same, with TLS
//! and QUIC on top):
//!
//! ```
//! use std::future::Future;
//! use std::io;
//! use std::net::SocketAddr;
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//! use std::time::Instant;
//!
//! use eyeballs_net::runtime::{finish_connect, start_connect, Runtime, Timer};
//! use eyeballs_net::{Connector, SocketOptions};
//!
//! #[derive(Debug, Clone, Copy, Default)]
//! struct MyRuntime;
//!
//! struct MyTimer(async_io::Timer);
//!
//! impl Timer for MyTimer {
//!     fn reset(&mut self, deadline: Instant) {
//!         self.0.set_at(deadline);
//!     }
//!     fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
//!         Pin::new(&mut self.0).poll(cx).map(drop)
//!     }
//! }
//!
//! impl Runtime for MyRuntime {
//!     type Tcp = async_io::Async<std::net::TcpStream>;
//!     type Timer = MyTimer;
//!     type Connect = Pin<Box<dyn Future<Output = io::Result<Self::Tcp>> + Send>>;
//!
//!     fn now(&self) -> Instant {
//!         Instant::now()
//!     }
//!     fn timer(&self) -> MyTimer {
//!         MyTimer(async_io::Timer::never())
//!     }
//!     fn connect(&self, addr: SocketAddr, options: &SocketOptions) -> Self::Connect {
//!         let socket = options.open(addr);
//!         Box::pin(async move {
//!             let socket = socket?;
//!             start_connect(&socket, addr)?;
//!             let stream = async_io::Async::new(std::net::TcpStream::from(socket))?;
//!             stream.writable().await?;
//!             finish_connect(stream.get_ref())?;
//!             Ok(stream)
//!         })
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let connector: Connector<MyRuntime> = Connector::builder().build()?;
//! let stream = async_io::block_on(connector.connect(listener.local_addr()?))?;
//! assert_eq!(stream.get_ref().peer_addr()?, listener.local_addr()?);
//! # Ok(())
//! # }
//! ```
//!
//! # The contract
//!
//! - **Dropping closes.** Dropping a [`Runtime::Connect`] future, or the stream it gave,
//!   closes the socket at once: losers and abandoned connects are dropped.
//! - **No blocking.** Nothing here blocks the calling thread; the runtime's futures only
//!   wait on its reactor.
//! - **The clock is the runtime's.** Every time the race sees comes from
//!   [`Runtime::now`], and timers fire by it: a runtime with a paused clock (tokio's
//!   `test-util`) runs races in virtual time.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Instant;

pub use socket2::{SockRef, Socket};

use crate::sockets::SocketOptions;

#[cfg(feature = "quic")]
mod quic;
#[cfg(feature = "quic")]
pub use quic::{QuicRuntime, UdpIo};

/// What an async runtime gives eyeballs: its clock, a timer, and TCP connects on its
/// reactor. See the [module docs](self) for the contract and a complete example.
///
/// A connector holds one value of it (`Connector::builder()` takes `R::default()`,
/// `Connector::builder_on(runtime)` a given one) and clones nothing else of it: keep it
/// cheap (a unit struct, or a handle).
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The runtime's connected TCP stream (what `connect` returns to the caller).
    type Tcp: Send + 'static;
    /// The runtime's timer.
    type Timer: Timer;
    /// A TCP connect on its way. Dropping it closes the socket. (`Unpin`: a runtime whose
    /// connect is an `async` block boxes it; a named future saves that allocation.)
    type Connect: Future<Output = io::Result<Self::Tcp>> + Send + Unpin + 'static;

    /// Returns the runtime's idea of now: a race never reads another clock.
    fn now(&self) -> Instant;

    /// Makes a timer, not armed: the loop arms it with [`Timer::reset`].
    fn timer(&self) -> Self::Timer;

    /// Connects to `addr` on the runtime's reactor, with a socket made as `options` say
    /// ([`SocketOptions::open`]: non-blocking, options applied, bound if asked). The future
    /// ends with the stream when the TCP handshake is done, or with the error (opening the
    /// socket included): call [`start_connect`], wait until the socket is writable, then
    /// [`finish_connect`].
    fn connect(&self, addr: SocketAddr, options: &SocketOptions) -> Self::Connect;

    /// Reads from a connected stream into `buf`, as `AsyncRead::poll_read` does: for a
    /// proxy's handshake (HEv3 V60, [`Proxy`](crate::Proxy)), the only time eyeballs reads
    /// or writes a stream itself. `Ok(0)` is the end of the stream.
    ///
    /// The default refuses (`Unsupported`): a runtime that does not implement this and
    /// [`Runtime::poll_write_tcp`] cannot connect through a proxy, and everything else
    /// works.
    fn poll_read_tcp(
        tcp: &mut Self::Tcp,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let _ = (tcp, cx, buf);
        Poll::Ready(Err(no_stream_io()))
    }

    /// Writes `buf` to a connected stream, as `AsyncWrite::poll_write` does (see
    /// [`Runtime::poll_read_tcp`]); returns how many bytes were written.
    fn poll_write_tcp(
        tcp: &mut Self::Tcp,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let _ = (tcp, cx, buf);
        Poll::Ready(Err(no_stream_io()))
    }
}

fn no_stream_io() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "this runtime cannot go through a proxy: it implements no Runtime::poll_read_tcp \
         and Runtime::poll_write_tcp",
    )
}

/// A re-armable timer of a [`Runtime`]: one per race, re-armed whenever the race's next
/// deadline changes.
pub trait Timer: Send + Unpin + 'static {
    /// Arms the timer for `deadline` (replacing any earlier deadline); a deadline in the
    /// past fires at the next poll.
    fn reset(&mut self, deadline: Instant);

    /// Polls the timer: `Ready` once the armed deadline has passed, `Pending` (with the
    /// task woken at the deadline) before.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// Starts a non-blocking connect of `socket` to `addr`: `Ok` when the connect is under way
/// (`EINPROGRESS`) or already done, the error otherwise (refused at once, no route, ...).
///
/// # Errors
///
/// The `connect` system call's error, other than "in progress".
///
/// # Examples
///
/// ```
/// use eyeballs_net::runtime::{finish_connect, start_connect};
/// use socket2::{Domain, Socket, Type};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
/// socket.set_nonblocking(true)?;
/// start_connect(&socket, addr)?;
/// // ... wait until the socket is writable (the runtime's reactor), then:
/// # let mut fds = [std::time::Duration::from_secs(5)]; let _ = fds;
/// # loop { if socket.peer_addr().is_ok() || socket.take_error()?.is_some() { break } std::thread::yield_now() }
/// finish_connect(&socket)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn start_connect(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    crate::sockets::start_connect(socket, addr)
}

/// Ends a non-blocking connect once its socket is writable: `Ok` when the handshake is
/// done, the connect's error (`SO_ERROR`) when it failed. A writable socket with neither
/// (a spurious wake-up) answers `NotConnected`: wait for writability again.
///
/// It takes anything socket2 can borrow a socket from (`&Socket`, `&TcpStream`, a
/// runtime's stream through `SockRef::from`).
///
/// # Errors
///
/// The connect's error, or `NotConnected` for a connect still under way.
pub fn finish_connect<'s>(socket: impl Into<SockRef<'s>>) -> io::Result<()> {
    crate::sockets::finish_connect(&socket.into())
}

/// TLS on a runtime (feature `tls`): how it runs a rustls client handshake over its TCP
/// stream. `eyeballs-tokio` uses tokio-rustls, `eyeballs-async-std` futures-rustls.
#[cfg(feature = "tls")]
pub trait TlsRuntime: Runtime {
    /// The TLS stream over [`Runtime::Tcp`].
    type TlsStream: Send + 'static;
    /// A handshake on its way. Dropping it closes the connection.
    type Handshake: Future<Output = io::Result<Self::TlsStream>> + Send + 'static;

    /// Runs a client handshake over `tcp` with `config`, sending `name` as SNI (none for
    /// an IP address) and checking the certificate against it. A failed handshake's
    /// `io::Error` should hold the `rustls::Error` as its inner error (tokio-rustls and
    /// futures-rustls do), so eyeballs can say what went wrong.
    fn handshake(
        &self,
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        tcp: Self::Tcp,
    ) -> Self::Handshake;

    /// Returns the ALPN id the handshake of `stream` negotiated.
    fn alpn(stream: &Self::TlsStream) -> Option<&[u8]>;

    /// Returns this runtime's QUIC (feature `quic`): `Some(self)` for a runtime that
    /// implements [`QuicRuntime`], `None` (the default) where QUIC is not raced, and QUIC
    /// ids are then not offered.
    #[cfg(feature = "quic")]
    fn quic(&self) -> Option<&dyn QuicRuntime> {
        None
    }
}

/// hickory's DNS on a runtime (feature `hickory`): the runtime provider hickory-resolver
/// runs on, for [`HickoryResolver<R>`](crate::HickoryResolver). Any runtime can name one
/// (tokio's is hickory's own; the async-io one is eyeballs', and the blocking driver's).
#[cfg(feature = "hickory")]
pub trait HickoryRuntime: Send + Sync + 'static {
    /// hickory's provider of sockets, timers and spawning on this runtime.
    type Provider: hickory_resolver::ConnectionProvider;

    /// Makes a provider.
    ///
    /// # Errors
    ///
    /// When the provider cannot be made (a thread it needs cannot start, say).
    fn provider() -> io::Result<Self::Provider>;
}
