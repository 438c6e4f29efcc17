//! quinn's UDP socket on a runtime's reactor, keeping the kernel's hard errors (ICMP port
//! or protocol unreachable, no route) that quinn's own socket types drop, so the attempt
//! that owns the socket fails at once.
//!
//! Linux reports an ICMP error to a UDP socket only when it is connected (or has
//! `IP_RECVERR`): it sets the socket's pending error, which the next `recvmsg`, `sendmsg`
//! or `getsockopt(SO_ERROR)` returns and clears, and raises `EPOLLERR`. Whichever of the
//! three takes it, [`Refusal`] keeps it:
//! - `sendmsg`: [`GuardedUdp::try_send`] (quinn-udp's own send logs and drops it);
//! - `recvmmsg`: [`GuardedUdp::poll_recv`] (quinn's endpoint driver ends on a receive
//!   error, so the error is not handed to it);
//! - `SO_ERROR`: [`UdpIo::error`], for reactors whose read readiness ignores `EPOLLERR`.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use quinn::udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use quinn::{AsyncUdpSocket, UdpPoller};

use crate::runtime::UdpIo;

/// Receive errors handled in one `poll_recv` before yielding: each takes a pending socket
/// error, so more in a row is unexpected, and yielding keeps it from spinning in one poll.
const RECV_ERRORS_PER_POLL: usize = 16;

/// quinn's [`AsyncUdpSocket`] on a runtime's [`UdpIo`], keeping hard errors in a
/// [`Refusal`].
pub(crate) struct GuardedUdp {
    io: Box<dyn UdpIo>,
    state: Arc<UdpSocketState>,
    /// Whether the socket has GRO on (several datagrams per receive).
    gro: bool,
    refusal: Refusal,
    /// Whether the last send found the socket full: only then does a sender wait for
    /// writability (see [`Writable`]).
    blocked: AtomicBool,
}

impl GuardedUdp {
    /// Sets quinn-udp's options on `socket` (which makes it non-blocking) and registers it
    /// with a reactor through `register`.
    #[cfg_attr(not(feature = "async-io"), allow(dead_code))]
    pub(crate) fn new(
        socket: std::net::UdpSocket,
        register: impl FnOnce(std::net::UdpSocket) -> io::Result<Box<dyn UdpIo>>,
    ) -> io::Result<Self> {
        let state = Arc::new(UdpSocketState::new((&socket).into())?);
        Self::with_state(socket, (state, true), register)
    }

    /// An attempt's socket (non-blocking, connected, of the family of `v6`): on Linux with
    /// the family's shared state and no GRO (see `udp_state`).
    pub(crate) fn attempt(
        socket: std::net::UdpSocket,
        v6: bool,
        register: impl FnOnce(std::net::UdpSocket) -> io::Result<Box<dyn UdpIo>>,
    ) -> io::Result<Self> {
        #[cfg(target_os = "linux")]
        let state = super::udp_state::attempt_state(&socket, v6)?;
        #[cfg(not(target_os = "linux"))]
        let state = (Arc::new(UdpSocketState::new((&socket).into())?), {
            let _ = v6;
            true
        });
        Self::with_state(socket, state, register)
    }

    fn with_state(
        socket: std::net::UdpSocket,
        (state, gro): (Arc<UdpSocketState>, bool),
        register: impl FnOnce(std::net::UdpSocket) -> io::Result<Box<dyn UdpIo>>,
    ) -> io::Result<Self> {
        Ok(GuardedUdp {
            io: register(socket)?,
            state,
            gro,
            refusal: Refusal::default(),
            blocked: AtomicBool::new(false),
        })
    }

    /// Resolves with the first hard error the socket reports, whichever call takes it.
    pub(crate) async fn refused(&self) -> io::Error {
        let taken = async {
            loop {
                // A soft error (none is expected on a connected socket) is dropped.
                self.refusal.record(&self.io.error().await);
            }
        };
        let mut taken = std::pin::pin!(taken);
        poll_fn(|cx| {
            // The SO_ERROR side first, so that an error it takes is seen in the same poll.
            if let Poll::Ready(never) = taken.as_mut().poll(cx) {
                return Poll::Ready(never);
            }
            self.refusal.poll(cx)
        })
        .await
    }

    /// Drops the waiter of [`GuardedUdp::refused`]: the attempt is over (the socket may live
    /// on with the connection that won).
    pub(crate) fn forget_waiter(&self) {
        self.refusal.lock().waker = None;
    }

    fn with_sock<T>(&self, f: impl FnOnce(UdpSockRef<'_>) -> T) -> T {
        let fd = self.io.as_fd();
        f(UdpSockRef::from(&fd))
    }
}

impl fmt::Debug for GuardedUdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedUdp")
            .field("io", &self.io)
            .field("refused", &self.refusal.lock().errno)
            .finish_non_exhaustive()
    }
}

impl AsyncUdpSocket for GuardedUdp {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        Box::pin(Writable {
            socket: self,
            waiting: None,
        })
    }

    fn try_send(&self, transmit: &Transmit<'_>) -> io::Result<()> {
        let sent = self
            .io
            .try_send(&mut || self.with_sock(|sock| self.state.try_send(sock, transmit)));
        self.blocked.store(
            matches!(&sent, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            Ordering::Relaxed,
        );
        match sent {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => {
                // As quinn-udp's own send: the datagram is lost (EMSGSIZE of an MTU probe,
                // ...) and quinn's loss recovery deals with it; a hard error is kept.
                self.refusal.record(&e);
                Ok(())
            }
            sent => sent,
        }
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let mut errors = 0;
        loop {
            std::task::ready!(self.io.poll_recv_ready(cx))?;
            let received = self
                .io
                .try_recv(&mut || self.with_sock(|sock| self.state.recv(sock, bufs, meta)));
            match received {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // Kept from quinn, whose endpoint driver ends on a receive error.
                Err(e) => {
                    self.refusal.record(&e);
                    errors += 1;
                    if errors == RECV_ERRORS_PER_POLL {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        socket2::SockRef::from(&self.io.as_fd())
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an IP socket"))
    }

    fn max_transmit_segments(&self) -> usize {
        self.state.max_gso_segments()
    }

    fn max_receive_segments(&self) -> usize {
        match self.gro {
            true => self.state.gro_segments(),
            false => 1,
        }
    }

    fn may_fragment(&self) -> bool {
        self.state.may_fragment()
    }
}

/// quinn's writability poller: one per waiting task, a future while it waits.
///
/// quinn asks it before every send. A socket whose last send did not block is taken as
/// writable without waiting: async-io's readiness futures always wait for the reactor's
/// next event on their first poll, which would hold every send for a reactor turn, and keep
/// an aborted attempt's last poll (see `scope`) from sending its close.
struct Writable {
    socket: Arc<GuardedUdp>,
    waiting: Option<Pin<Box<dyn Future<Output = io::Result<()>> + Send + Sync>>>,
}

impl fmt::Debug for Writable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writable").finish_non_exhaustive()
    }
}

impl UdpPoller for Writable {
    fn poll_writable(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.waiting.is_none() && !this.socket.blocked.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        let waiting = this.waiting.get_or_insert_with(|| {
            let socket = this.socket.clone();
            Box::pin(async move { socket.io.writable().await })
        });
        let result = waiting.as_mut().poll(cx);
        if result.is_ready() {
            this.waiting = None;
        }
        result
    }
}

/// The first hard error a socket saw, and the attempt waiting for it.
#[derive(Debug, Default)]
struct Refusal {
    inner: Mutex<RefusalInner>,
}

#[derive(Debug, Default)]
struct RefusalInner {
    errno: Option<i32>,
    waker: Option<Waker>,
}

impl Refusal {
    fn lock(&self) -> std::sync::MutexGuard<'_, RefusalInner> {
        // Nothing here can leave the state half-written: a poisoned lock is still good.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `e` if it is hard and the first one, and wakes the waiter.
    fn record(&self, e: &io::Error) {
        if !is_hard(e) {
            return;
        }
        let waker = {
            let mut inner = self.lock();
            if inner.errno.is_some() {
                return;
            }
            inner.errno = e.raw_os_error();
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Returns the kept error, or registers `cx`.
    fn poll(&self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let mut inner = self.lock();
        match inner.errno {
            Some(errno) => Poll::Ready(io::Error::from_raw_os_error(errno)),
            None => {
                match &mut inner.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

/// Whether `e` ends a connected UDP "connection" as it would end a TCP connect: ICMP port
/// or protocol unreachable, host or network unreachable. Soft errors (`EMSGSIZE` of an MTU
/// probe) do not.
fn is_hard(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNREFUSED | libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ENOPROTOOPT)
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_first_hard_error_is_kept_and_wakes_the_waiter() {
        let refusal = Refusal::default();
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(refusal.poll(&mut cx).is_pending());
        // Soft errors (an MTU probe too big, a full buffer) are not refusals.
        refusal.record(&io::Error::from_raw_os_error(libc::EMSGSIZE));
        refusal.record(&io::ErrorKind::WouldBlock.into());
        assert!(refusal.poll(&mut cx).is_pending());
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        refusal.record(&io::Error::from_raw_os_error(libc::ECONNREFUSED));
        refusal.record(&io::Error::from_raw_os_error(libc::EHOSTUNREACH));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        let Poll::Ready(e) = refusal.poll(&mut cx) else {
            panic!("kept")
        };
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "the first one");
    }
}
