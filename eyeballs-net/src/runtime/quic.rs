//! QUIC on a runtime (feature `quic`): what a runtime gives so that eyeballs can race quinn
//! connections on it. See [`QuicRuntime`].

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// QUIC on a runtime (feature `quic`): quinn's runtime, and UDP sockets on the runtime's
/// reactor. A [`TlsRuntime`](super::TlsRuntime) that implements it returns itself from
/// [`TlsRuntime::quic`](super::TlsRuntime::quic); one that does not offers no QUIC ids
/// (its races are TCP+TLS only).
///
/// Each QUIC attempt gets a UDP socket of its own, opened by eyeballs, non-blocking and
/// connected to the attempt's destination, so that the kernel reports an ICMP port
/// unreachable to that attempt: it fails at once with `ConnectionRefused`, as a refused
/// TCP connect does (HEv3, RFC 8305 §5). The runtime wraps that socket for its reactor
/// ([`QuicRuntime::udp`]); eyeballs keeps the socket's errors (quinn's own socket types
/// drop them) and gives quinn an endpoint on it, whose tasks run on
/// [`QuicRuntime::quinn`]'s spawner. A losing, failed or dropped attempt ends its tasks at
/// once (after sending its CONNECTION_CLOSE) and closes its socket; the winner's live as
/// long as its connection.
///
/// # Examples
///
/// A runtime on async-io: quinn's tasks on [`AsyncIoQuinn`](crate::AsyncIoQuinn)'s thread
/// (features `quic` and `async-io`), sockets on async-io's reactor (`eyeballs-async-std`
/// does this; `eyeballs-tokio` wraps tokio's `UdpSocket` in a [`UdpIo`] of its own):
///
/// ```
/// # #[cfg(all(feature = "quic", feature = "async-io"))]
/// # fn main() {
/// use std::io;
/// use std::sync::Arc;
///
/// use eyeballs_net::runtime::{QuicRuntime, UdpIo};
///
/// struct MyRuntime;
///
/// impl QuicRuntime for MyRuntime {
///     fn quinn(&self) -> io::Result<Arc<dyn eyeballs_net::quinn::Runtime>> {
///         Ok(Arc::new(eyeballs_net::AsyncIoQuinn::new()?))
///     }
///     fn udp(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn UdpIo>> {
///         Ok(Box::new(async_io::Async::new_nonblocking(socket)?))
///     }
/// }
/// // ... and in its `TlsRuntime` impl:
/// // fn quic(&self) -> Option<&dyn QuicRuntime> { Some(self) }
/// # let _ = MyRuntime.quinn();
/// # }
/// # #[cfg(not(all(feature = "quic", feature = "async-io")))]
/// # fn main() {}
/// ```
pub trait QuicRuntime: Send + Sync {
    /// Returns quinn's runtime: its timers, its clock and where it spawns its tasks (one
    /// endpoint driver and one connection driver per attempt). Its
    /// `wrap_udp_socket` is not used: sockets go through [`QuicRuntime::udp`].
    ///
    /// # Errors
    ///
    /// When the runtime cannot run quinn now (a thread it needs cannot start): the attempt
    /// fails with this error.
    fn quinn(&self) -> io::Result<Arc<dyn quinn::Runtime>>;

    /// Registers `socket` (UDP, non-blocking, connected to the attempt's destination) with
    /// the runtime's reactor.
    ///
    /// # Errors
    ///
    /// When the reactor cannot take the socket.
    fn udp(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn UdpIo>>;
}

/// A non-blocking UDP socket registered with a runtime's reactor (feature `quic`): the
/// readiness eyeballs needs to run quinn on it. eyeballs makes the system calls (through
/// quinn-udp) and keeps their errors; the runtime only says when to try.
///
/// `async_io::Async<std::net::UdpSocket>` implements it (features `quic` and `async-io`);
/// `eyeballs-tokio` implements it for a wrapper of tokio's `UdpSocket`.
pub trait UdpIo: AsFd + Send + Sync + fmt::Debug + 'static {
    /// Polls read readiness: `Ready` when a receive should be tried (data, or a pending
    /// error where the reactor counts errors as readable), `Pending` with `cx` registered
    /// otherwise.
    fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Runs `recv`, a non-blocking receive; when it fails with `WouldBlock`, forgets the
    /// read readiness so that [`UdpIo::poll_recv_ready`] waits again (tokio's `try_io`).
    fn try_recv(&self, recv: &mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize>;

    /// Runs `send`, a non-blocking send; when it fails with `WouldBlock`, forgets the write
    /// readiness.
    fn try_send(&self, send: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()>;

    /// Waits until the socket may be writable. Several tasks may wait at once, each with
    /// its own future.
    fn writable(&self) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send + Sync + '_>>;

    /// Waits for the socket's pending error (an ICMP port unreachable, say) and takes it
    /// (`SO_ERROR`). Only reactors whose read readiness ignores errors need it (tokio's does:
    /// it wakes writers on `EPOLLERR`, not readers; wait on `Interest::ERROR`). The default
    /// never resolves: on reactors that count an error as readable (async-io) the pending
    /// receive takes it.
    fn error(&self) -> Pin<Box<dyn Future<Output = io::Error> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}
