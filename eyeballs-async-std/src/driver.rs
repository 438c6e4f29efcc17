//! What async-io gives the shared connector and loop (`eyeballs_net::Connector`,
//! `eyeballs_net::run_async`): the clock, a timer, and sockets on its reactor.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::{Async, Timer};
use async_net::TcpStream;

use crate::resolve::SystemResolver;
use eyeballs_net::{AsyncIo, Connecting, Runtime};
use socket2::Socket;

/// The async-io reactor, as eyeballs drives it (for async-std and smol):
/// [`Connector`](crate::Connector) wraps `eyeballs_net::Connector<AsyncIoRuntime>`.
#[derive(Debug, Clone, Copy)]
pub struct AsyncIoRuntime;

impl Runtime for AsyncIoRuntime {
    type Io = AsyncIoClock;
    type SystemResolver = SystemResolver;

    fn io() -> AsyncIoClock {
        AsyncIoClock {
            timer: Timer::never(),
        }
    }
}

/// async-io's clock, timer and sockets for one race.
#[derive(Debug)]
pub struct AsyncIoClock {
    timer: Timer,
}

impl AsyncIo for AsyncIoClock {
    type Stream = TcpStream;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn connect(&self, socket: Socket, addr: SocketAddr) -> Connecting<TcpStream> {
        Box::pin(connect(socket, addr))
    }

    fn set_timer(&mut self, deadline: Instant) {
        self.timer.set_at(deadline);
    }

    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.timer).poll(cx).map(drop)
    }
}

/// A non-blocking `connect`, then writable with `SO_ERROR` zero. Dropping the future closes
/// the socket.
pub(crate) async fn connect(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(EINPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    let stream = Async::new(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    if let Some(e) = stream.get_ref().take_error()? {
        return Err(e);
    }
    // Writable without an error but with no peer would be a spurious wake-up; the kernel
    // answers ENOTCONN then.
    stream.get_ref().peer_addr()?;
    Ok(TcpStream::from(stream))
}

/// `EINPROGRESS`: a non-blocking connect under way (Linux, Android; the BSDs and macOS).
#[cfg(any(target_os = "linux", target_os = "android"))]
const EINPROGRESS: i32 = 115;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EINPROGRESS: i32 = 36;
