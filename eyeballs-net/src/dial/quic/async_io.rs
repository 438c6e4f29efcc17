//! quinn on async-io (features `quic` and `async-io`), for async-std, smol and any other
//! async-io runtime: timers and sockets on async-io's reactor, and quinn's tasks on one
//! process-wide thread, `eyeballs-quic`. No executor of smol's or async-std's is used, and
//! no tokio runtime (quinn itself needs tokio's `sync` module only).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::UdpSocket;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use async_executor::Executor;
use async_io::{Async, Timer};
use quinn::{AsyncTimer, AsyncUdpSocket, Runtime};

use super::socket::GuardedUdp;
use crate::runtime::UdpIo;

/// The executor of quinn's tasks, run by the `eyeballs-quic` thread.
static EXECUTOR: Executor<'static> = Executor::new();
/// Whether the `eyeballs-quic` thread runs.
static STARTED: Mutex<bool> = Mutex::new(false);
/// quinn's tasks alive now on the `eyeballs-quic` thread.
static TASKS: AtomicUsize = AtomicUsize::new(0);

/// quinn's [`Runtime`] on async-io (features `quic` and `async-io`): what an async-io
/// runtime's [`QuicRuntime::quinn`](crate::runtime::QuicRuntime::quinn) returns.
///
/// Timers are async-io's. quinn's tasks (per connection: its driver, and its endpoint's
/// driver) run on one thread per process, `eyeballs-quic`, started by the first
/// `AsyncIoQuinn` made and idle when no connection is open; [`quic_background_tasks`]
/// counts them. A connection's own futures (streams, datagrams) run where they are polled,
/// under any `block_on`.
///
/// [`quic_background_tasks`]: crate::quic_background_tasks
#[derive(Clone)]
pub struct AsyncIoQuinn {
    _private: (),
}

impl fmt::Debug for AsyncIoQuinn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncIoQuinn")
    }
}

impl AsyncIoQuinn {
    /// Makes the runtime, starting the `eyeballs-quic` thread if it is not running yet.
    ///
    /// # Errors
    ///
    /// When the thread cannot be started (the process is out of threads or memory).
    pub fn new() -> io::Result<Self> {
        start()?;
        Ok(AsyncIoQuinn { _private: () })
    }
}

/// Returns how many of quinn's tasks are alive on the `eyeballs-quic` thread (features
/// `quic` and `async-io`): two per open QUIC connection (its driver and its endpoint's),
/// and those of closed connections still draining. A losing or dropped attempt's are gone
/// at once.
pub fn background_tasks() -> usize {
    TASKS.load(Ordering::SeqCst)
}

/// Starts the `eyeballs-quic` thread once; a failure may be retried. (A task that panics
/// does not stop the thread: async-executor hands the panic to the task's handle, which is
/// detached.)
fn start() -> io::Result<()> {
    let mut started = STARTED.lock().unwrap_or_else(PoisonError::into_inner);
    if !*started {
        std::thread::Builder::new()
            .name("eyeballs-quic".into())
            // `block_on` also drives async-io's reactor while the executor is idle.
            .spawn(|| async_io::block_on(EXECUTOR.run(std::future::pending::<()>())))
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start eyeballs-quic: {e}")))?;
        *started = true;
    }
    Ok(())
}

impl Runtime for AsyncIoQuinn {
    fn new_timer(&self, i: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(IoTimer(Timer::at(i)))
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        let counted = Counted::new();
        EXECUTOR
            .spawn(async move {
                let _counted = counted;
                future.await;
            })
            .detach();
    }

    fn wrap_udp_socket(&self, t: UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        // Not used by eyeballs (its sockets keep their errors); for quinn's own endpoints.
        let socket = GuardedUdp::new(t, |s| Ok(Box::new(Async::new_nonblocking(s)?)))?;
        Ok(Arc::new(socket))
    }
}

/// Counts a task in [`TASKS`] for as long as it lives.
struct Counted;

impl Counted {
    fn new() -> Self {
        TASKS.fetch_add(1, Ordering::SeqCst);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        TASKS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// async-io's timer as quinn's.
#[derive(Debug)]
struct IoTimer(Timer);

impl AsyncTimer for IoTimer {
    fn reset(mut self: Pin<&mut Self>, i: Instant) {
        self.0.set_at(i);
    }

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

// polling's epoll backend counts EPOLLERR as readable (and writable), so a pending receive
// is woken by an ICMP error and takes it: `error` keeps its default.
impl UdpIo for Async<UdpSocket> {
    fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_readable(cx)
    }

    fn try_recv(&self, recv: &mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize> {
        recv()
    }

    fn try_send(&self, send: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()> {
        send()
    }

    fn writable(&self) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send + Sync + '_>> {
        Box::pin(Async::writable(self))
    }
}
