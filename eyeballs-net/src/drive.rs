//! The driver loop of the async drivers, written once: eyeballs-core's actions performed
//! through a runtime's sockets and timer, its inputs fed back.

use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use eyeballs_core::{
    Action, AttemptId, Config, Failure, HostPort, Input, QueryId, QueryKind, Race, Report,
    ServiceRecord, Transport, Winner,
};
use socket2::Socket;

use crate::attempt_error::{AttemptError, AttemptErrorKind};
use crate::builder::Settings;
use crate::handshake::{AttemptContext, Handshake, Next};
use crate::race::{finish, start};
use crate::ready::ReadySet;
use crate::resolve::Resolve;
use crate::source::probe_sources_with;

/// A connection attempt on its way.
pub type Connecting<S> = Pin<Box<dyn Future<Output = io::Result<S>> + Send>>;

/// What an async runtime gives the loop: its clock, its timer, and how it connects a socket.
pub trait AsyncIo {
    /// The runtime's connected stream.
    type Stream: Send + 'static;

    /// Returns the runtime's idea of now (tokio's clock, say, so paused-time tests work).
    fn now(&self) -> Instant;

    /// Connects `socket` (opened non-blocking by [`SocketOptions`](crate::SocketOptions)) to
    /// `addr`. Dropping the future must close the socket.
    fn connect(&self, socket: Socket, addr: SocketAddr) -> Connecting<Self::Stream>;

    /// Arms the timer for `deadline`.
    fn set_timer(&mut self, deadline: Instant);

    /// Polls the armed timer.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// A DNS answer: addresses, or HTTPS records.
enum Reply {
    Addrs(Vec<IpAddr>),
    Records(Vec<ServiceRecord>),
}

/// Sends one query: HTTPS records through [`Resolve::resolve_https`], addresses otherwise.
fn ask(
    resolver: &dyn Resolve,
    name: &str,
    kind: QueryKind,
) -> Pin<Box<dyn Future<Output = io::Result<Reply>> + Send>> {
    if kind == QueryKind::Https {
        let records = resolver.resolve_https(name);
        Box::pin(async move { records.await.map(Reply::Records) })
    } else {
        let addrs = resolver.resolve(name, kind);
        Box::pin(async move { addrs.await.map(Reply::Addrs) })
    }
}

/// How far an attempt got.
enum Stage<S, O> {
    /// Its TCP connect ended.
    TcpUp(io::Result<S>),
    /// It is established, or failed, for good.
    Done(io::Result<O>),
}

type Attempting<S, O> = Pin<Box<dyn Future<Output = Stage<S, O>> + Send>>;

/// What woke the loop.
enum Event<S, O> {
    Answer(QueryId, io::Result<Reply>),
    Attempt(AttemptId, Stage<S, O>),
    Timer,
}

/// Runs one race to its end with `io`'s runtime and `handshake`'s steps: builds it
/// ([`start`]), drives it, ends it ([`finish`]). Everything it opened lives in this future:
/// dropping it closes every socket and drops every lookup and handshake.
pub async fn run_async<I: AsyncIo, H: Handshake<I::Stream>>(
    settings: &Settings<dyn Resolve>,
    target: &HostPort,
    config: Config,
    want_report: bool,
    mut io: I,
    handshake: &H,
) -> (io::Result<H::Output>, Option<Report>) {
    let answers_both = settings.resolver.answers_both();
    let https = handshake.https() && settings.resolver.answers_https();
    let protocols = handshake.protocols();
    let config = config.seed(seed());
    let started = start(
        target,
        config,
        settings,
        answers_both,
        (protocols, https),
        io.now(),
    );
    let mut race = match started {
        Ok(started) => started,
        Err(e) => return (Err(e), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let result = drive(settings, &mut race, &mut io, handshake, target).await;
    match &result {
        Ok((w, _)) => {
            tracing::debug!(target: "eyeballs", %target, winner = %w.endpoint(), "race won")
        }
        Err(f) => tracing::debug!(target: "eyeballs", %target, reason = ?f.reason(), "race failed"),
    }
    finish(&race, result, &settings.history, want_report)
}

/// A fresh seed for the race's shuffle of equal service priorities (HEv3 §5.2, V20): from
/// std's per-process random hasher keys and a counter.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// The loop of the eyeballs-core crate docs: drain actions, wait for the first of I/O and
/// the deadline, feed it back.
async fn drive<I: AsyncIo, H: Handshake<I::Stream>>(
    settings: &Settings<dyn Resolve>,
    race: &mut Race<io::Error>,
    io: &mut I,
    handshake: &H,
    host: &HostPort,
) -> Result<(Winner, H::Output), Failure<io::Error>> {
    type Query = Pin<Box<dyn Future<Output = io::Result<Reply>> + Send>>;
    // Polled only when woken: a wake-up costs what became ready, a cancel O(log n).
    let mut queries: ReadySet<QueryId, Query> = ReadySet::new();
    let mut attempts: ReadySet<AttemptId, Attempting<I::Stream, H::Output>> = ReadySet::new();
    // A connection reported to the race, kept until the race says who won.
    let mut connected: BTreeMap<AttemptId, H::Output> = BTreeMap::new();
    let mut armed = None;
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Resolve {
                    query, name, kind, ..
                } => {
                    tracing::debug!(target: "eyeballs", %query, %name, %kind, "resolve");
                    queries.insert(query, ask(&*settings.resolver, name.as_str(), kind));
                }
                Action::Connect {
                    attempt, endpoint, ..
                } => {
                    tracing::debug!(target: "eyeballs", %attempt, %endpoint, "connect");
                    let attempting: Attempting<I::Stream, H::Output> = match endpoint.transport() {
                        // No socket for a destination that cannot be one (a target's port 0;
                        // the core makes no endpoint of a record with port 0).
                        _ if endpoint.addr().port() == 0 => {
                            let e = AttemptError::new(endpoint, AttemptErrorKind::Port);
                            Box::pin(async move { Stage::Done(Err(e.into())) })
                        }
                        Transport::Quic => {
                            let cx = AttemptContext {
                                endpoint: &endpoint,
                                host,
                            };
                            let quic = handshake.quic(cx);
                            Box::pin(async move { Stage::Done(quic.await) })
                        }
                        _ => match settings.socket.open(endpoint.addr()) {
                            Ok(socket) => {
                                let tcp = io.connect(socket, endpoint.addr());
                                Box::pin(async move { Stage::TcpUp(tcp.await) })
                            }
                            Err(error) => Box::pin(async { Stage::TcpUp(Err(error)) }),
                        },
                    };
                    attempts.insert(attempt, attempting);
                }
                Action::Cancel { attempt } => {
                    tracing::debug!(target: "eyeballs", %attempt, "cancel");
                    // Dropping the future or the stream closes the socket now.
                    drop(attempts.remove(attempt));
                    connected.remove(&attempt);
                }
                Action::Finish(Ok(winner)) => {
                    // The race names a winner only after our `Connected`, which we send only
                    // with the stream stored.
                    let Some(stream) = connected.remove(&winner.attempt()) else {
                        unreachable!("the winner's stream was stored before it was reported")
                    };
                    return Ok((winner, stream));
                }
                Action::Finish(Err(failure)) => return Err(failure),
                _ => {}
            }
        }
        let deadline = race.poll_timeout();
        if deadline != armed {
            if let Some(d) = deadline {
                io.set_timer(d);
            }
            armed = deadline;
        }
        let event = poll_fn(|cx| {
            if let Poll::Ready((query, r)) = queries.poll_next(cx) {
                return Poll::Ready(Event::Answer(query, r));
            }
            if let Poll::Ready((attempt, r)) = attempts.poll_next(cx) {
                return Poll::Ready(Event::Attempt(attempt, r));
            }
            if armed.is_some() && io.poll_timer(cx).is_ready() {
                return Poll::Ready(Event::Timer);
            }
            Poll::Pending
        })
        .await;
        let now = io.now();
        match event {
            Event::Answer(query, Ok(Reply::Records(records))) => {
                tracing::debug!(target: "eyeballs", %query, ?records, "resolved");
                race.handle_input(Input::ResolvedServices { query, records }, now);
            }
            Event::Answer(query, Ok(Reply::Addrs(addrs))) => {
                tracing::debug!(target: "eyeballs", %query, ?addrs, "resolved");
                // RFC 6724 sorts with each destination's source, and history is kept per
                // source address (R15).
                let sources = probe_sources_with(addrs.iter().copied(), &settings.socket);
                race.handle_input(Input::Sources { sources }, now);
                race.handle_input(Input::Resolved { query, addrs }, now);
            }
            Event::Answer(query, Err(error)) => {
                tracing::debug!(target: "eyeballs", %query, %error, "resolve failed");
                race.handle_input(Input::ResolveFailed { query, error }, now);
            }
            Event::Attempt(attempt, Stage::TcpUp(Ok(stream))) => {
                let Some(record) = race.attempts().get(attempt.index()) else {
                    continue;
                };
                let endpoint = record.endpoint().clone();
                let cx = AttemptContext {
                    endpoint: &endpoint,
                    host,
                };
                match handshake.tcp(stream, cx) {
                    Next::Done(output) => {
                        tracing::debug!(target: "eyeballs", %attempt, "connected");
                        connected.insert(attempt, output);
                        race.handle_input(Input::Connected { attempt }, now);
                    }
                    Next::Then(step) => {
                        // V33: TCP is up, the handshake under way.
                        tracing::debug!(target: "eyeballs", %attempt, "tcp connected, handshake under way");
                        attempts.insert(attempt, Box::pin(async move { Stage::Done(step.await) }));
                        race.handle_input(Input::Progressed { attempt }, now);
                    }
                }
            }
            Event::Attempt(attempt, Stage::Done(Ok(output))) => {
                tracing::debug!(target: "eyeballs", %attempt, "connected");
                connected.insert(attempt, output);
                race.handle_input(Input::Connected { attempt }, now);
            }
            Event::Attempt(attempt, Stage::TcpUp(Err(error)) | Stage::Done(Err(error))) => {
                tracing::debug!(target: "eyeballs", %attempt, %error, "connect failed");
                race.handle_input(Input::ConnectFailed { attempt, error }, now);
            }
            Event::Timer => {
                // The core compares the deadline with `now` itself; an early wake is a no-op.
                armed = None;
                race.handle_timeout(now);
            }
        }
    }
}
