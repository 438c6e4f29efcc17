//! "Any async runtime", proven: a runtime the project does not ship — a small executor on
//! `async-task` with a reactor on `mio` — implements `eyeballs_net::runtime::Runtime`
//! from outside the driver layer, with nothing but its public API, and passes every shared
//! real-socket scenario the shipped drivers pass. One test in this binary, so that the
//! descriptor checks have the process to themselves.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eyeballs_lab::scenarios::{run_all, Connect, Driver, Outcome, Setup};
use eyeballs_net::runtime::{finish_connect, start_connect, Runtime, Timer};
use eyeballs_net::{Connector, SocketOptions};
use mio::{Events, Interest, Token};

/// The reactor: one poller, the wakers of the sockets waiting on it, and the timers.
struct Reactor {
    poll: Mutex<mio::Poll>,
    registry: mio::Registry,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_key: usize,
    /// Socket key → the waker of the task waiting for its writability.
    sockets: BTreeMap<usize, Waker>,
    /// (deadline, timer id) → waker.
    timers: BTreeMap<(Instant, usize), Waker>,
    next_timer: usize,
}

fn reactor() -> &'static Reactor {
    static REACTOR: OnceLock<Reactor> = OnceLock::new();
    REACTOR.get_or_init(|| {
        let poll = mio::Poll::new().unwrap();
        Reactor {
            registry: poll.registry().try_clone().unwrap(),
            poll: Mutex::new(poll),
            state: Mutex::new(State::default()),
        }
    })
}

impl Reactor {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for I/O or the first timer (at most `cap`), then wakes who is ready.
    fn turn(&self, cap: Duration) {
        let first_timer = self.lock().timers.keys().next().map(|(at, _)| *at);
        let now = Instant::now();
        let timeout = first_timer.map_or(cap, |at| at.saturating_duration_since(now).min(cap));
        let mut events = Events::with_capacity(64);
        // An interrupted wait is a turn with no events.
        let _ = self
            .poll
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .poll(&mut events, Some(timeout));
        let mut wake = Vec::new();
        {
            let mut state = self.lock();
            for event in events.iter() {
                if let Some(waker) = state.sockets.remove(&event.token().0) {
                    wake.push(waker);
                }
            }
            let now = Instant::now();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                wake.push(entry.remove());
            }
        }
        wake.into_iter().for_each(Waker::wake);
    }
}

/// The runtime: a unit struct; the reactor is process-wide.
#[derive(Debug, Clone, Copy, Default)]
struct Mini;

/// A connected stream of this runtime: std's (non-blocking), and its reactor key once a
/// proxy's handshake (HEv3 V60) has waited on it.
#[derive(Debug)]
struct MiniTcp(std::net::TcpStream, Option<usize>);

impl MiniTcp {
    /// Runs `io` on the stream; when it would block, waits for readiness on the reactor
    /// (registered on first use, both directions, edge-triggered: tried again after
    /// registering, so no edge is lost).
    fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        mut io: impl FnMut(&mut std::net::TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        match io(&mut self.0) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            result => return Poll::Ready(result),
        }
        let key = match self.1 {
            Some(key) => key,
            None => {
                let key = {
                    let mut state = reactor().lock();
                    state.next_key += 1;
                    state.next_key
                };
                let fd = std::os::fd::AsRawFd::as_raw_fd(&self.0);
                let interest = Interest::READABLE | Interest::WRITABLE;
                if let Err(e) =
                    reactor()
                        .registry
                        .register(&mut mio::unix::SourceFd(&fd), Token(key), interest)
                {
                    return Poll::Ready(Err(e));
                }
                self.1 = Some(key);
                key
            }
        };
        reactor().lock().sockets.insert(key, cx.waker().clone());
        match io(&mut self.0) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
            result => {
                reactor().lock().sockets.remove(&key);
                Poll::Ready(result)
            }
        }
    }
}

impl Drop for MiniTcp {
    fn drop(&mut self) {
        if let Some(key) = self.1 {
            reactor().lock().sockets.remove(&key);
            let fd = std::os::fd::AsRawFd::as_raw_fd(&self.0);
            let _ = reactor().registry.deregister(&mut mio::unix::SourceFd(&fd));
        }
    }
}

/// A timer on the reactor's list.
struct MiniTimer {
    id: usize,
    deadline: Option<Instant>,
}

impl Timer for MiniTimer {
    fn reset(&mut self, deadline: Instant) {
        if let Some(old) = self.deadline.replace(deadline) {
            reactor().lock().timers.remove(&(old, self.id));
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            reactor().lock().timers.remove(&(deadline, self.id));
            return Poll::Ready(());
        }
        reactor()
            .lock()
            .timers
            .insert((deadline, self.id), cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for MiniTimer {
    fn drop(&mut self) {
        if let Some(deadline) = self.deadline {
            reactor().lock().timers.remove(&(deadline, self.id));
        }
    }
}

/// A socket whose connect is under way, registered with the reactor until it ends or is
/// dropped.
struct Connecting {
    stream: Option<mio::net::TcpStream>,
    key: usize,
}

impl Future for Connecting {
    type Output = io::Result<MiniTcp>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(stream) = self.stream.as_ref() else {
            return Poll::Ready(Err(io::Error::other("polled after the end")));
        };
        match finish_connect(stream) {
            // Under way: edge-triggered writability wakes us (registered before the check).
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                reactor()
                    .lock()
                    .sockets
                    .insert(self.key, cx.waker().clone());
                Poll::Pending
            }
            result => {
                let Some(mut stream) = self.stream.take() else {
                    unreachable!("checked above")
                };
                reactor().lock().sockets.remove(&self.key);
                let _ = reactor().registry.deregister(&mut stream);
                Poll::Ready(result.map(|()| MiniTcp(stream.into(), None)))
            }
        }
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        reactor().lock().sockets.remove(&self.key);
        if let Some(mut stream) = self.stream.take() {
            let _ = reactor().registry.deregister(&mut stream);
        }
    }
}

impl Runtime for Mini {
    type Tcp = MiniTcp;
    type Timer = MiniTimer;
    type Connect = Pin<Box<dyn Future<Output = io::Result<MiniTcp>> + Send>>;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn timer(&self) -> MiniTimer {
        let mut state = reactor().lock();
        state.next_timer += 1;
        MiniTimer {
            id: state.next_timer,
            deadline: None,
        }
    }

    fn connect(&self, addr: SocketAddr, options: &SocketOptions) -> Self::Connect {
        let socket = match options.open(addr) {
            Ok(socket) => socket,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        if let Err(e) = start_connect(&socket, addr) {
            return Box::pin(std::future::ready(Err(e)));
        }
        let key = {
            let mut state = reactor().lock();
            state.next_key += 1;
            state.next_key
        };
        let mut stream = mio::net::TcpStream::from_std(socket.into());
        if let Err(e) = reactor()
            .registry
            .register(&mut stream, Token(key), Interest::WRITABLE)
        {
            return Box::pin(std::future::ready(Err(e)));
        }
        Box::pin(Connecting {
            stream: Some(stream),
            key,
        })
    }

    fn poll_read_tcp(
        tcp: &mut MiniTcp,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        tcp.poll_io(cx, |s| io::Read::read(s, buf))
    }

    fn poll_write_tcp(
        tcp: &mut MiniTcp,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tcp.poll_io(cx, |s| io::Write::write(s, buf))
    }
}

/// The executor: one thread's queue of runnable tasks (async-task), and `block_on`.
fn block_on<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    let queue: Arc<Mutex<VecDeque<async_task::Runnable>>> = Arc::default();
    let schedule = {
        let queue = queue.clone();
        move |runnable| {
            queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(runnable)
        }
    };
    let (runnable, mut task) = async_task::spawn(future, schedule);
    runnable.schedule();
    // The main task's own waker schedules it on the queue; this context only polls its
    // handle, whose wake-up the queue already carries.
    struct Nothing;
    impl std::task::Wake for Nothing {
        fn wake(self: Arc<Self>) {}
    }
    let noop = Waker::from(Arc::new(Nothing));
    let mut cx = Context::from_waker(&noop);
    // Bounded: every scenario has its own deadlines; this one only stops a broken runtime.
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        match next {
            Some(runnable) => {
                runnable.run();
            }
            None => {
                if let Poll::Ready(out) = Pin::new(&mut task).poll(&mut cx) {
                    return out;
                }
                assert!(Instant::now() < give_up, "the custom runtime hung");
                reactor().turn(Duration::from_millis(100));
            }
        }
    }
}

/// The first of `future` and a timer of `after`: `None` when the timer fired first.
async fn within<T>(after: Duration, future: impl Future<Output = T>) -> Option<T> {
    let mut timer = Mini.timer();
    timer.reset(Instant::now() + after);
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        timer.poll(cx).map(|()| None)
    })
    .await
}

struct MiniDriver;

struct MiniConnect(Connector<Mini>);

impl Driver for MiniDriver {
    fn name(&self) -> &'static str {
        "a runtime of the test's own (mio + async-task)"
    }

    fn connector(&self, setup: Setup) -> Box<dyn Connect> {
        let builder = Connector::<Mini>::builder()
            .resolver(setup.resolver)
            .config(setup.config)
            .socket(setup.socket)
            .proxy(setup.proxy);
        let builder = match setup.history {
            Some(h) => builder.with_history(h),
            None => builder.history(false),
        };
        Box::new(MiniConnect(builder.build().unwrap()))
    }
}

impl Connect for MiniConnect {
    fn connect(&self, target: &str) -> Outcome {
        let connector = self.0.clone();
        let target = target.to_owned();
        block_on(async move {
            let (stream, report) = connector.connect_with_report(target.as_str()).await;
            (stream.and_then(|s| s.0.peer_addr()), report)
        })
    }

    fn abandon(&self, target: &str, after: Duration) -> Option<bool> {
        let connector = self.0.clone();
        let target = target.to_owned();
        Some(block_on(async move {
            within(after, connector.connect(target.as_str()))
                .await
                .is_none()
        }))
    }

    fn history(&self) -> Option<eyeballs_lab::History> {
        self.0.history()
    }
}

#[test]
fn the_shared_scenarios_pass_on_a_runtime_eyeballs_does_not_ship() {
    run_all(&MiniDriver);
}
