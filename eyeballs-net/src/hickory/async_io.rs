//! hickory's runtime provider on async-io (features `hickory` and `async-io`): UDP and TCP
//! sockets on async-io's reactor, its timers, and one process-wide thread for hickory's
//! background tasks. The async-io driver's resolver and the blocking driver's run on it.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use async_executor::Executor;
use async_io::{Async, Timer};
use futures_lite::io::{AsyncRead, AsyncWrite};
use hickory_resolver::net::runtime::{DnsTcpStream, DnsUdpSocket, RuntimeProvider, Spawn, Time};
use socket2::{Domain, Protocol, Socket, Type};

/// How long a TCP connection to a name server may take when hickory names no limit (its
/// tokio provider's default).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The executor of hickory's background tasks, run by the `eyeballs-hickory` thread.
static EXECUTOR: Executor<'static> = Executor::new();
/// Whether the `eyeballs-hickory` thread runs.
static STARTED: Mutex<bool> = Mutex::new(false);
/// hickory's background tasks alive now, in every resolver of the process.
static TASKS: AtomicUsize = AtomicUsize::new(0);

/// hickory's [`RuntimeProvider`] on async-io, so hickory-resolver runs under async-std,
/// smol, or no executor at all (a blocking `block_on`).
///
/// Sockets and timers are async-io's (one reactor per process, driven by whichever thread
/// waits in `async_io::block_on`, or by async-io's own `async-io` thread). hickory spawns
/// background tasks — one per name server connection, which ends when the resolver is
/// dropped and its last request is done — and they run on one thread per process,
/// `eyeballs-hickory`, started by the first provider made and idle when nothing is asked.
/// The futures of the lookups themselves run where they are polled. [`background_tasks`]
/// counts the tasks.
///
#[derive(Debug, Clone)]
pub struct AsyncIoRuntimeProvider {
    handle: AsyncIoHandle,
}

impl AsyncIoRuntimeProvider {
    /// Makes the provider, starting the `eyeballs-hickory` thread if it is not running yet.
    ///
    /// # Errors
    ///
    /// When the thread cannot be started (the process is out of threads or memory).
    pub fn new() -> io::Result<Self> {
        start()?;
        Ok(AsyncIoRuntimeProvider {
            handle: AsyncIoHandle { _private: () },
        })
    }
}

/// Returns how many of hickory's background tasks are alive on the `eyeballs-hickory`
/// thread, for every async-io resolver of the process: one per open name server connection
/// of each live resolver (a resolver keeps one per name server and protocol: UDP, and TCP
/// after a truncated answer), plus those of dropped resolvers still finishing a request
/// (for at most hickory's timeout, 5 s per try by default).
pub fn background_tasks() -> usize {
    TASKS.load(Ordering::SeqCst)
}

/// Starts the `eyeballs-hickory` thread once; a failure may be retried. (A task that panics
/// does not stop the thread: async-executor hands the panic to the task's handle, which is
/// detached.)
fn start() -> io::Result<()> {
    let mut started = STARTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !*started {
        std::thread::Builder::new()
            .name("eyeballs-hickory".into())
            .spawn(|| async_io::block_on(EXECUTOR.run(std::future::pending::<()>())))
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start eyeballs-hickory: {e}")))?;
        *started = true;
    }
    Ok(())
}

impl RuntimeProvider for AsyncIoRuntimeProvider {
    type Handle = AsyncIoHandle;
    type Timer = AsyncIoTime;
    type Udp = AsyncIoUdpSocket;
    type Tcp = AsyncIoTcpStream;

    fn create_handle(&self) -> AsyncIoHandle {
        self.handle.clone()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
        bind_addr: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> Pin<Box<dyn Send + Future<Output = io::Result<AsyncIoTcpStream>>>> {
        let limit = timeout.unwrap_or(CONNECT_TIMEOUT);
        Box::pin(AsyncIoTime::within(
            limit,
            connect_tcp(server_addr, bind_addr),
        ))
    }

    fn bind_udp(
        &self,
        local_addr: SocketAddr,
        _server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = io::Result<AsyncIoUdpSocket>>>> {
        // Ready at once, as hickory asks.
        let socket = Async::<UdpSocket>::bind(local_addr).map(AsyncIoUdpSocket);
        Box::pin(std::future::ready(socket))
    }
}

/// A TCP connection to a name server, from `bind` if given, with `TCP_NODELAY` (DNS
/// messages are small and wanted at once).
async fn connect_tcp(server: SocketAddr, bind: Option<SocketAddr>) -> io::Result<AsyncIoTcpStream> {
    let socket = Socket::new(
        Domain::for_address(server),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    if let Some(bind) = bind {
        socket.bind(&bind.into())?;
    }
    crate::sockets::start_connect(&socket, server)?;
    let stream = Async::new(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    crate::sockets::finish_connect(&socket2::SockRef::from(stream.get_ref()))?;
    Ok(AsyncIoTcpStream(stream))
}

/// Spawns hickory's background tasks on the `eyeballs-hickory` thread.
#[derive(Debug, Clone)]
pub struct AsyncIoHandle {
    _private: (),
}

impl Spawn for AsyncIoHandle {
    fn spawn_bg(&mut self, future: impl Future<Output = ()> + Send + 'static) {
        let counted = Counted::new();
        EXECUTOR
            .spawn(async move {
                let _counted = counted;
                future.await;
            })
            .detach();
    }
}

/// One live background task in [`TASKS`], until dropped.
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

/// async-io's timers, for hickory.
#[derive(Debug, Clone, Copy)]
pub struct AsyncIoTime;

impl AsyncIoTime {
    /// `future`'s output, or `TimedOut` after `limit` (a limit too far off to represent never
    /// fires).
    async fn within<T>(
        limit: Duration,
        future: impl Future<Output = io::Result<T>>,
    ) -> io::Result<T> {
        let expired = async {
            Timer::after(limit).await;
            Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
        };
        futures_lite::future::or(future, expired).await
    }
}

#[async_trait::async_trait]
impl Time for AsyncIoTime {
    async fn delay_for(duration: Duration) {
        Timer::after(duration).await;
    }

    async fn timeout<F: 'static + Future + Send>(
        duration: Duration,
        future: F,
    ) -> Result<F::Output, io::Error> {
        AsyncIoTime::within(duration, async { Ok(future.await) }).await
    }
}

/// A UDP socket on async-io, for hickory.
#[derive(Debug)]
pub struct AsyncIoUdpSocket(Async<UdpSocket>);

impl DnsUdpSocket for AsyncIoUdpSocket {
    type Time = AsyncIoTime;

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        loop {
            match self.0.get_ref().recv_from(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.0.poll_readable(cx))?;
                }
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.0.get_ref().send_to(buf, target) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.0.poll_writable(cx))?;
                }
                result => return Poll::Ready(result),
            }
        }
    }
}

/// A TCP connection on async-io, for hickory.
#[derive(Debug)]
pub struct AsyncIoTcpStream(Async<std::net::TcpStream>);

impl DnsTcpStream for AsyncIoTcpStream {
    type Time = AsyncIoTime;
}

impl AsyncRead for AsyncIoTcpStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for AsyncIoTcpStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

#[cfg(feature = "blocking")]
impl crate::runtime::HickoryRuntime for crate::connector::Blocking {
    type Provider = AsyncIoRuntimeProvider;

    fn provider() -> io::Result<AsyncIoRuntimeProvider> {
        AsyncIoRuntimeProvider::new()
    }
}
