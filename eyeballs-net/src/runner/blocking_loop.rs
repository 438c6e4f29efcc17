//! The blocking loop (feature `blocking`): a [`Runner`] driven on the caller's thread with
//! non-blocking sockets and one mio poller, kept per thread. It only waits: for attempts'
//! readiness, resolver futures (woken through the poller's waker) and the runner's
//! deadline; what it sees goes to the runner. TLS over TCP is rustls' own sans-IO state,
//! stepped here on readiness.
//!
//! A plain TCP race whose one attempt is all that can happen (no other attempt, no query,
//! no deadline of any kind: one address and no
//! [`Config::timeout`](eyeballs_core::Config::timeout), say, or each attempt of a race
//! limited to one in flight with no deadline) connects that attempt in place, in blocking
//! mode, with the system calls of std's `TcpStream::connect` and nothing more: a poller
//! would wait for that one socket with no timeout all the same. The kernel's connect timeout
//! bounds it, as it bounds the other.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll as TaskPoll, Wake, Waker};
use std::time::Instant;

use eyeballs_core::{AttemptId, Endpoint, HostPort, QueryId, Report, Transport};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::SockRef;

use crate::connector::Settings;
use crate::error::{AttemptError, AttemptErrorKind};
use crate::proxy::handshake::Handshake as ProxyHandshake;
use crate::resolve::cache::Refresh;
use crate::runner::async_loop::{ask, Query};
use crate::runner::ready::ReadySet;
use crate::runner::{DialEvent, Plan, Runner, Work};
use crate::sockets::{connect_blocking, finish_connect, start_connect, FlagsRead};

/// The poller token of the resolver futures' waker; attempt `n` has token `n + 1`.
const WAKER: Token = Token(0);

/// How a blocking connect turns a connected TCP stream into what the caller gets.
pub(crate) trait SyncDial {
    /// What an established attempt gives.
    type Output;

    /// Returns whether this connect dials `transport`; others are refused.
    fn dials(&self, transport: Transport) -> bool;

    /// What follows the TCP connect of `endpoint`: established at once, or a handshake.
    fn connected(
        &self,
        stream: TcpStream,
        endpoint: &Endpoint,
        host: &HostPort,
    ) -> io::Result<Next<Self::Output>>;

    /// Makes the output of a finished TLS handshake.
    #[cfg(feature = "tls")]
    fn handshaken(&self, done: tls::Done) -> io::Result<Self::Output>;

    /// The output of a stream that connected in blocking mode, for a connect whose TCP
    /// stream is its output as it is (plain TCP): `None` for one with more to do after TCP,
    /// whose sole attempt then connects like any other (see the module's note).
    fn in_place(&self, stream: std::net::TcpStream) -> Option<Self::Output> {
        drop(stream);
        None
    }

    /// Whether [`SyncDial::in_place`] gives an output.
    fn connects_in_place(&self) -> bool {
        false
    }
}

/// What follows a TCP connect.
pub(crate) enum Next<O> {
    /// Established now.
    Done(O),
    /// A TLS handshake to step.
    #[cfg(feature = "tls")]
    Tls(Box<tls::Handshake>),
}

/// Plain TCP: the stream, in blocking mode as std's `connect` returns it.
pub(crate) struct PlainTcp;

impl SyncDial for PlainTcp {
    type Output = std::net::TcpStream;

    fn dials(&self, transport: Transport) -> bool {
        transport == Transport::Tcp
    }

    fn connected(
        &self,
        stream: TcpStream,
        _: &Endpoint,
        _: &HostPort,
    ) -> io::Result<Next<Self::Output>> {
        blocking(stream).map(Next::Done)
    }

    #[cfg(feature = "tls")]
    fn handshaken(&self, done: tls::Done) -> io::Result<Self::Output> {
        drop(done);
        Err(io::Error::other(
            "a plain TCP connect made no TLS handshake",
        ))
    }

    fn in_place(&self, stream: std::net::TcpStream) -> Option<Self::Output> {
        Some(stream)
    }

    fn connects_in_place(&self) -> bool {
        true
    }
}

/// Puts a stream back in blocking mode, as std's `TcpStream::connect` returns it.
pub(crate) fn blocking(stream: TcpStream) -> io::Result<std::net::TcpStream> {
    let stream = std::net::TcpStream::from(stream);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// Runs one race to its end on this thread.
pub(crate) fn run<D: SyncDial>(
    settings: &Settings,
    target: &HostPort,
    plan: Plan,
    dial: &D,
) -> (io::Result<D::Output>, Option<Report>) {
    // The runner is made in the closure: moved once less (it is a few hundred bytes).
    with_poller(|poller| {
        let now = Instant::now();
        match Runner::start(settings, target, plan, FlagsRead::Here, now) {
            Ok(runner) => Loop::new(poller, settings, target, dial).run(runner, now),
            Err(e) => (Err(e), None),
        }
    })
}

/// A poller and its waker, made once per thread: creating and closing them per race (an
/// epoll and an eventfd descriptor on Linux) was a large part of a blocking connect's cost
/// over std's.
struct Poller {
    poll: Poll,
    /// The buffer of the poller's events, kept too (an allocation a race otherwise).
    events: Events,
    /// Made with the first resolver future that waits: a race over IP literals needs none.
    waker: Option<Waker>,
}

thread_local! {
    /// The thread's poller between races: it costs the thread two descriptors until it
    /// exits.
    static POLLER: Cell<Option<Poller>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's poller (made on first use). Every socket of a race is
/// closed, and so deregistered, before the poller goes back; a stale wake-up is only a
/// spurious one for the next race.
fn with_poller<T>(
    f: impl FnOnce(&mut Poller) -> (io::Result<T>, Option<Report>),
) -> (io::Result<T>, Option<Report>) {
    // A nested race (a resolver that connects) or a thread being torn down gets its own.
    let cached = POLLER.try_with(Cell::take).ok().flatten();
    let mut poller = match cached {
        Some(poller) => poller,
        None => match Poll::new() {
            Ok(poll) => Poller {
                poll,
                events: Events::with_capacity(64),
                waker: None,
            },
            Err(e) => return (Err(e), None),
        },
    };
    let result = f(&mut poller);
    let _ = POLLER.try_with(|p| p.set(Some(poller)));
    result
}

/// Wakes the poller: the waker the resolver futures get.
struct WakePoller(mio::Waker);

impl Wake for WakePoller {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A failed wake-up (the poller is gone) has nobody left to tell.
        let _ = self.0.wake();
    }
}

/// An attempt in flight.
enum Attempt {
    /// Its TCP connect is under way; with its hold, if its handshake waits.
    Connecting(TcpStream, Endpoint, Hold),
    /// Its TCP is up, its handshake held until the race releases it (V34, HG6).
    Held(TcpStream),
    /// Its TLS handshake is under way (rustls' state is large: boxed).
    #[cfg(feature = "tls")]
    Tls(Box<tls::Handshake>),
    /// Its TCP to the proxy is up and the proxy's handshake under way (V60, HG20); with its
    /// hold. Boxed: the rare path.
    Tunnel(Box<Tunnel>),
}

/// An attempt opening its tunnel through the proxy.
struct Tunnel {
    stream: TcpStream,
    endpoint: Endpoint,
    handshake: ProxyHandshake,
    hold: Hold,
}

/// Whether an attempt's handshake waits for the race's release.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hold {
    /// It does not.
    No,
    /// It waits.
    Held,
    /// It was released (before its TCP was up) with this endpoint.
    Released(Endpoint),
}

struct Loop<'a, D: SyncDial> {
    poller: &'a mut Poller,
    settings: &'a Settings,
    host: &'a HostPort,
    dial: &'a D,
    queries: ReadySet<QueryId, Query>,
    attempts: BTreeMap<AttemptId, Attempt>,
    /// Events found without waiting (a connect done as `connect` returned, a refusal):
    /// fed before the next wait, the last found first.
    found: Found<D::Output>,
}

/// The events a loop found without waiting, last in first out: the first inline (a race
/// whose one connect is done as `connect` returns allocates nothing for it), the rest after.
struct Found<O> {
    first: Option<(AttemptId, DialEvent<O>)>,
    more: Vec<(AttemptId, DialEvent<O>)>,
}

impl<O> Found<O> {
    fn new() -> Self {
        Found {
            first: None,
            more: Vec::new(),
        }
    }

    fn push(&mut self, event: (AttemptId, DialEvent<O>)) {
        // `first` is taken only when `more` is empty: it stays the oldest.
        if self.first.is_none() && self.more.is_empty() {
            self.first = Some(event);
        } else {
            self.more.push(event);
        }
    }

    fn pop(&mut self) -> Option<(AttemptId, DialEvent<O>)> {
        self.more.pop().or_else(|| self.first.take())
    }

    fn is_empty(&self) -> bool {
        self.first.is_none() && self.more.is_empty()
    }
}

impl<'a, D: SyncDial> Loop<'a, D> {
    fn new(
        poller: &'a mut Poller,
        settings: &'a Settings,
        host: &'a HostPort,
        dial: &'a D,
    ) -> Self {
        Loop {
            poller,
            settings,
            host,
            dial,
            queries: ReadySet::new(),
            attempts: BTreeMap::new(),
            found: Found::new(),
        }
    }

    /// The loop of the runner started at `now`: do its work, feed what is ready, wait for
    /// the rest.
    fn run(
        mut self,
        mut runner: Runner<'_, D::Output>,
        mut now: Instant,
    ) -> (io::Result<D::Output>, Option<Report>) {
        // A dial that may connect in place, kept until the runner has no more work: then
        // whether it is all that can happen is known.
        let mut sole: Option<(AttemptId, Endpoint)> = None;
        loop {
            while let Some(work) = runner.poll_work(now) {
                // Work after it: it dials as usual, first (the runner's order).
                if let Some((attempt, endpoint)) = sole.take() {
                    self.dial(attempt, endpoint, Hold::No);
                }
                match work {
                    Work::Resolve { query, name, kind } => {
                        let resolver = &*self.settings.resolver;
                        self.queries
                            .insert(query, ask(resolver, name.as_str(), kind));
                    }
                    Work::Adopt { query, refresh, .. } => {
                        self.queries.insert(query, refresh.into_query());
                    }
                    Work::Dial {
                        attempt,
                        endpoint: e,
                        held: false,
                    } if self.may_connect_in_place(&e) => sole = Some((attempt, e)),
                    Work::Dial {
                        attempt,
                        endpoint,
                        held,
                    } => {
                        let hold = if held { Hold::Held } else { Hold::No };
                        self.dial(attempt, endpoint, hold);
                    }
                    Work::Release { attempt, endpoint } => {
                        if let Some(event) = self.release(attempt, endpoint) {
                            self.found.push((attempt, event));
                        }
                    }
                    Work::Close { attempt } => self.close(attempt),
                    // Timed out: dropping the lookup lets a pool job's answer go nowhere.
                    Work::Forget { query } => drop(self.queries.remove(query)),
                }
            }
            if let Some((attempt, endpoint)) = sole.take() {
                // Nothing else in flight and no deadline: nothing but this attempt's end
                // can move the race, so waiting in `connect` is waiting in the poller.
                let alone = self.attempts.is_empty()
                    && self.queries.is_empty()
                    && self.found.is_empty()
                    && runner.poll_timeout().is_none();
                if alone {
                    self.connect_in_place(attempt, endpoint);
                } else {
                    self.dial(attempt, endpoint, Hold::No);
                }
            }
            if runner.is_finished() {
                // Refreshes of stale cache entries still out stay with the cache (V13).
                let queries = &mut self.queries;
                runner.park_refreshes(|q| queries.remove(q).map(Refresh::Lookup), now);
                return runner.finish(now);
            }
            if let Some((attempt, event)) = self.found.pop() {
                // Read again: a connect in place may have taken the kernel's whole timeout.
                now = Instant::now();
                runner.handle_dial(attempt, event, now);
                continue;
            }
            if !self.queries.is_empty() {
                let waker = match self.waker() {
                    Ok(waker) => waker,
                    Err(e) => return (Err(e), None),
                };
                let mut cx = Context::from_waker(&waker);
                if let TaskPoll::Ready((query, answer)) = self.queries.poll_next(&mut cx) {
                    now = Instant::now();
                    runner.handle_answer(query, answer, now);
                    continue;
                }
            }
            let timeout = runner
                .poll_timeout()
                .map(|t| t.saturating_duration_since(Instant::now()));
            let Poller { poll, events, .. } = &mut *self.poller;
            match poll.poll(events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let finished = runner.finish(Instant::now());
                    return (Err(e), finished.1);
                }
            }
            now = Instant::now();
            // Taken out for the walk (`step` needs the loop), then put back.
            let events = std::mem::replace(&mut self.poller.events, Events::with_capacity(0));
            for event in &events {
                // The waker's token: the resolver futures are polled on the next turn.
                if event.token() == WAKER {
                    continue;
                }
                let attempt = AttemptId::from_index(event.token().0 - 1);
                if let Some(event) = self.step(attempt) {
                    runner.handle_dial(attempt, event, now);
                }
            }
            self.poller.events = events;
            // The runner compares its deadline with `now`; an early call does nothing.
            runner.handle_timeout(now);
        }
    }

    /// Whether a dial of `endpoint` could connect in place: plain TCP, no proxy.
    fn may_connect_in_place(&self, endpoint: &Endpoint) -> bool {
        self.dial.connects_in_place()
            && self.settings.proxy.is_none()
            && endpoint.transport() == Transport::Tcp
    }

    /// Connects the race's sole attempt in blocking mode (see the module's note); one the
    /// kernel goes on with past the call (a signal) is waited for as a non-blocking one.
    fn connect_in_place(&mut self, attempt: AttemptId, endpoint: Endpoint) {
        let addr = endpoint.addr();
        let socket = match self.settings.socket.open_blocking(addr) {
            Ok(socket) => socket,
            Err(e) => return self.found.push((attempt, DialEvent::Failed(e))),
        };
        let event = match connect_blocking(&socket, addr) {
            Ok(true) => {
                // A hook may have made the socket non-blocking and the connect still be done
                // at once (loopback, TCP Fast Open): the caller gets a blocking stream all the
                // same. Without a hook the socket is blocking already.
                let blocking = match self.settings.socket.has_hook() {
                    true => socket.set_nonblocking(false),
                    false => Ok(()),
                };
                match blocking.map(|()| self.dial.in_place(std::net::TcpStream::from(socket))) {
                    Ok(Some(output)) => DialEvent::Established(output),
                    // Not reached: only a dial that connects in place gets here.
                    Ok(None) => {
                        DialEvent::Failed(io::Error::other("no output for a blocking connect"))
                    }
                    Err(e) => DialEvent::Failed(e),
                }
            }
            Ok(false) => match socket.set_nonblocking(true) {
                Ok(()) => {
                    let stream = TcpStream::from_std(std::net::TcpStream::from(socket));
                    return self.connecting(attempt, stream, endpoint, Hold::No);
                }
                Err(e) => DialEvent::Failed(e),
            },
            Err(e) => DialEvent::Failed(e),
        };
        self.found.push((attempt, event));
    }

    /// Starts a non-blocking connect and registers it, or keeps what it found already.
    fn dial(&mut self, attempt: AttemptId, endpoint: Endpoint, hold: Hold) {
        if !self.dial.dials(endpoint.transport()) {
            let error = AttemptError::with_source(
                endpoint,
                AttemptErrorKind::Unsupported,
                "this connect does not offer that transport",
            );
            self.found.push((attempt, DialEvent::Failed(error.into())));
            return;
        }
        let addr = endpoint.addr();
        let started = self.settings.socket.open(addr).and_then(|socket| {
            start_connect(&socket, addr)?;
            Ok(TcpStream::from_std(std::net::TcpStream::from(socket)))
        });
        match started {
            Ok(stream) => self.connecting(attempt, stream, endpoint, hold),
            Err(e) => self.found.push((attempt, DialEvent::Failed(e))),
        }
    }

    /// A connect under way: done already, or registered with the poller.
    fn connecting(
        &mut self,
        attempt: AttemptId,
        mut stream: TcpStream,
        endpoint: Endpoint,
        hold: Hold,
    ) {
        // On loopback the handshake is often over before `connect` returns: one
        // `getpeername` then saves registering, waiting and deregistering.
        if stream.peer_addr().is_ok() {
            let event = self.tcp_up(attempt, stream, endpoint, hold);
            return self.found.push((attempt, event));
        }
        let token = Token(attempt.index() + 1);
        let registered =
            self.poller
                .poll
                .registry()
                .register(&mut stream, token, Interest::WRITABLE);
        match registered {
            Ok(()) => {
                self.attempts
                    .insert(attempt, Attempt::Connecting(stream, endpoint, hold));
            }
            Err(e) => self.found.push((attempt, DialEvent::Failed(e))),
        }
    }

    /// Looks at an attempt the poller reported.
    fn step(&mut self, attempt: AttemptId) -> Option<DialEvent<D::Output>> {
        match self.attempts.get_mut(&attempt)? {
            // Nothing to do until the release.
            Attempt::Held(_) => None,
            Attempt::Tunnel(tunnel) => match step_tunnel(tunnel) {
                Ok(false) => None,
                Ok(true) => {
                    let Some(Attempt::Tunnel(tunnel)) = self.attempts.remove(&attempt) else {
                        unreachable!("the attempt was found tunnelling")
                    };
                    self.tunnel_up(attempt, tunnel)
                }
                Err(e) => {
                    self.close(attempt);
                    Some(DialEvent::Failed(e))
                }
            },
            Attempt::Connecting(stream, ..) => match finish_connect(&SockRef::from(&*stream)) {
                // Writable without an error or a peer: a spurious wake-up.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
                Err(e) => {
                    self.close(attempt);
                    Some(DialEvent::Failed(e))
                }
                Ok(()) => {
                    let Some(Attempt::Connecting(mut stream, endpoint, hold)) =
                        self.attempts.remove(&attempt)
                    else {
                        unreachable!("the attempt was found connecting")
                    };
                    let _ = self.poller.poll.registry().deregister(&mut stream);
                    Some(self.tcp_up(attempt, stream, endpoint, hold))
                }
            },
            #[cfg(feature = "tls")]
            Attempt::Tls(handshake) => match handshake.step() {
                Ok(false) => None,
                Ok(true) => {
                    let Some(Attempt::Tls(mut handshake)) = self.attempts.remove(&attempt) else {
                        unreachable!("the attempt was found handshaking")
                    };
                    let _ = self
                        .poller
                        .poll
                        .registry()
                        .deregister(handshake.stream_mut());
                    Some(
                        match handshake
                            .finish()
                            .and_then(|done| self.dial.handshaken(done))
                        {
                            Ok(output) => DialEvent::Established(output),
                            Err(e) => DialEvent::Failed(e),
                        },
                    )
                }
                Err(e) => {
                    self.close(attempt);
                    Some(DialEvent::Failed(e))
                }
            },
        }
    }

    /// A TCP connect is done: held until the release, or on to the handshake (with the
    /// released endpoint, if the release came first).
    fn tcp_up(
        &mut self,
        attempt: AttemptId,
        stream: TcpStream,
        endpoint: Endpoint,
        hold: Hold,
    ) -> DialEvent<D::Output> {
        if let Some(proxy) = &self.settings.proxy {
            let handshake = ProxyHandshake::new(proxy, endpoint.addr(), self.host);
            let tunnel = Tunnel {
                stream,
                endpoint,
                handshake,
                hold,
            };
            return self.start_tunnel(attempt, Box::new(tunnel));
        }
        match hold {
            Hold::No => self.connected(attempt, stream, endpoint),
            Hold::Released(endpoint) => match self.connected(attempt, stream, endpoint) {
                // The race has seen no progress of it yet: TCP up comes first.
                DialEvent::Progressed => DialEvent::Progressed,
                other => {
                    self.found.push((attempt, other));
                    DialEvent::Progressed
                }
            },
            Hold::Held => {
                self.attempts.insert(attempt, Attempt::Held(stream));
                DialEvent::Progressed
            }
        }
    }

    /// TCP to the proxy is up: progress (V33), and the proxy's handshake starts; it goes on
    /// with readiness, under the runner's handshake deadline.
    fn start_tunnel(
        &mut self,
        attempt: AttemptId,
        mut tunnel: Box<Tunnel>,
    ) -> DialEvent<D::Output> {
        let token = Token(attempt.index() + 1);
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self
            .poller
            .poll
            .registry()
            .register(&mut tunnel.stream, token, interest)
        {
            return DialEvent::Failed(e);
        }
        match step_tunnel(&mut tunnel) {
            Ok(false) => {
                self.attempts.insert(attempt, Attempt::Tunnel(tunnel));
            }
            Ok(true) => {
                if let Some(event) = self.tunnel_up(attempt, tunnel) {
                    self.found.push((attempt, event));
                }
            }
            Err(e) => {
                let _ = self.poller.poll.registry().deregister(&mut tunnel.stream);
                self.found.push((attempt, DialEvent::Failed(e)));
            }
        }
        DialEvent::Progressed
    }

    /// The tunnel is open: on to what follows TCP (its progress was reported when TCP came
    /// up), or held until the release.
    fn tunnel_up(
        &mut self,
        attempt: AttemptId,
        tunnel: Box<Tunnel>,
    ) -> Option<DialEvent<D::Output>> {
        let Tunnel {
            mut stream,
            endpoint,
            hold,
            ..
        } = *tunnel;
        let _ = self.poller.poll.registry().deregister(&mut stream);
        let event = match hold {
            Hold::No => self.connected(attempt, stream, endpoint),
            Hold::Released(endpoint) => self.connected(attempt, stream, endpoint),
            Hold::Held => {
                self.attempts.insert(attempt, Attempt::Held(stream));
                return None;
            }
        };
        match event {
            DialEvent::Progressed => None,
            other => Some(other),
        }
    }

    /// The race released a held attempt's handshake with `endpoint`: start it now if its
    /// TCP is up, or as soon as it is.
    fn release(&mut self, attempt: AttemptId, endpoint: Endpoint) -> Option<DialEvent<D::Output>> {
        match self.attempts.get_mut(&attempt)? {
            Attempt::Connecting(_, _, hold) => {
                *hold = Hold::Released(endpoint);
                None
            }
            Attempt::Held(_) => {
                let Some(Attempt::Held(stream)) = self.attempts.remove(&attempt) else {
                    unreachable!("the attempt was found held")
                };
                match self.connected(attempt, stream, endpoint) {
                    // Its progress was reported when TCP came up.
                    DialEvent::Progressed => None,
                    other => Some(other),
                }
            }
            Attempt::Tunnel(tunnel) => {
                tunnel.hold = Hold::Released(endpoint);
                None
            }
            #[cfg(feature = "tls")]
            Attempt::Tls(_) => None,
        }
    }

    /// A TCP connect is done: established, or a handshake to start.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    fn connected(
        &mut self,
        attempt: AttemptId,
        stream: TcpStream,
        endpoint: Endpoint,
    ) -> DialEvent<D::Output> {
        match self.dial.connected(stream, &endpoint, self.host) {
            Ok(Next::Done(output)) => DialEvent::Established(output),
            #[cfg(feature = "tls")]
            Ok(Next::Tls(mut handshake)) => {
                let token = Token(attempt.index() + 1);
                let interest = Interest::READABLE | Interest::WRITABLE;
                if let Err(e) =
                    self.poller
                        .poll
                        .registry()
                        .register(handshake.stream_mut(), token, interest)
                {
                    return DialEvent::Failed(e);
                }
                // The ClientHello goes out now; the server's answer comes with readiness.
                match handshake.step() {
                    Ok(_) => {
                        self.attempts.insert(attempt, Attempt::Tls(handshake));
                        DialEvent::Progressed
                    }
                    Err(e) => {
                        let _ = self
                            .poller
                            .poll
                            .registry()
                            .deregister(handshake.stream_mut());
                        DialEvent::Failed(e)
                    }
                }
            }
            Err(e) => DialEvent::Failed(e),
        }
    }

    /// Deregisters and closes an attempt.
    fn close(&mut self, attempt: AttemptId) {
        match self.attempts.remove(&attempt) {
            Some(Attempt::Connecting(mut stream, ..)) => {
                let _ = self.poller.poll.registry().deregister(&mut stream);
            }
            // Not registered while held: dropping it closes it.
            Some(Attempt::Held(stream)) => drop(stream),
            Some(Attempt::Tunnel(mut tunnel)) => {
                let _ = self.poller.poll.registry().deregister(&mut tunnel.stream);
            }
            #[cfg(feature = "tls")]
            Some(Attempt::Tls(mut handshake)) => {
                let _ = self
                    .poller
                    .poll
                    .registry()
                    .deregister(handshake.stream_mut());
            }
            None => {}
        }
    }

    /// Returns the waker of the resolver futures, made on first use.
    fn waker(&mut self) -> io::Result<Waker> {
        if let Some(waker) = &self.poller.waker {
            return Ok(waker.clone());
        }
        let waker = Waker::from(Arc::new(WakePoller(mio::Waker::new(
            self.poller.poll.registry(),
            WAKER,
        )?)));
        self.poller.waker = Some(waker.clone());
        Ok(waker)
    }
}

/// Moves a proxy's handshake as far as the socket allows; `Ok(true)` when the tunnel is
/// open. Reads never go past the proxy's answer (the handshake's read limit).
fn step_tunnel(tunnel: &mut Tunnel) -> io::Result<bool> {
    use std::io::{Read, Write};
    let proxy_error = |e| -> io::Error {
        AttemptError::with_source(tunnel.endpoint.clone(), AttemptErrorKind::Proxy, e).into()
    };
    let mut buf = [0u8; 512];
    loop {
        while !tunnel.handshake.pending().is_empty() {
            match tunnel.stream.write(tunnel.handshake.pending()) {
                Ok(0) => return Err(proxy_error(tunnel.handshake.closed())),
                Ok(n) => tunnel.handshake.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if tunnel.handshake.is_done() {
            return Ok(true);
        }
        let limit = tunnel.handshake.read_limit().clamp(1, buf.len());
        match tunnel.stream.read(&mut buf[..limit]) {
            Ok(0) => return Err(proxy_error(tunnel.handshake.closed())),
            Ok(n) => tunnel
                .handshake
                .received(&buf[..n.min(limit)])
                .map_err(proxy_error)?,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(feature = "tls")]
pub(crate) mod tls {
    //! TLS over TCP on the blocking loop: rustls' client state, stepped on readiness.

    use std::io;
    use std::sync::Arc;

    use eyeballs_core::{Alpn, Endpoint, HostPort, Transport};
    use mio::net::TcpStream;
    use rustls::ClientConnection;

    use crate::error::{AttemptError, AttemptErrorKind};
    use crate::tls::{check_alpn, server_name, tls_error, Configs};

    /// A TLS handshake under way over a connected, non-blocking stream.
    pub(crate) struct Handshake {
        stream: TcpStream,
        conn: ClientConnection,
        endpoint: Endpoint,
    }

    /// A finished handshake: the stream (blocking again), rustls' state, the endpoint and
    /// the ALPN id negotiated.
    pub(crate) struct Done {
        pub(crate) stream: rustls::StreamOwned<ClientConnection, std::net::TcpStream>,
        pub(crate) endpoint: Endpoint,
        pub(crate) alpn: Option<Alpn>,
    }

    impl Handshake {
        /// Starts a handshake to `endpoint` for the caller's `host` over `stream`.
        pub(crate) fn new(
            configs: &Arc<Configs>,
            stream: TcpStream,
            endpoint: &Endpoint,
            host: &HostPort,
        ) -> io::Result<Self> {
            let config = configs.config_for(endpoint, Transport::Tcp)?;
            let name = server_name(host, endpoint)?;
            let conn = ClientConnection::new(config, name).map_err(|e| tls_error(endpoint, e))?;
            Ok(Handshake {
                stream,
                conn,
                endpoint: endpoint.clone(),
            })
        }

        pub(crate) fn stream_mut(&mut self) -> &mut TcpStream {
            &mut self.stream
        }

        /// Moves the handshake as far as the socket allows: writes what rustls has, reads
        /// what the server sent. `Ok(true)` when the handshake is done and flushed.
        pub(crate) fn step(&mut self) -> io::Result<bool> {
            loop {
                while self.conn.wants_write() {
                    match self.conn.write_tls(&mut self.stream) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(self.io_error(e)),
                    }
                }
                if !self.conn.is_handshaking() {
                    return Ok(!self.conn.wants_write());
                }
                if !self.conn.wants_read() {
                    return Ok(false);
                }
                match self.conn.read_tls(&mut self.stream) {
                    Ok(0) => {
                        let eof = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server closed the connection during the handshake",
                        );
                        return Err(self.io_error(eof));
                    }
                    Ok(_) => {
                        if let Err(e) = self.conn.process_new_packets() {
                            // Send the alert rustls queued before giving up.
                            let _ = self.conn.write_tls(&mut self.stream);
                            return Err(tls_error(&self.endpoint, e).into());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.io_error(e)),
                }
            }
        }

        /// Ends a finished handshake: checks the ALPN id and puts the stream back in
        /// blocking mode.
        pub(crate) fn finish(self) -> io::Result<Done> {
            let alpn = self.conn.alpn_protocol().map(Alpn::new);
            check_alpn(&self.endpoint, alpn.as_ref(), false)?;
            let stream = super::blocking(self.stream)?;
            Ok(Done {
                stream: rustls::StreamOwned::new(self.conn, stream),
                endpoint: self.endpoint,
                alpn,
            })
        }

        fn io_error(&self, e: io::Error) -> io::Error {
            AttemptError::with_source(self.endpoint.clone(), AttemptErrorKind::Io, e).into()
        }
    }
}
