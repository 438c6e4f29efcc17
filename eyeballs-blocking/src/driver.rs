//! The driver loop on one thread: non-blocking sockets, one mio poller (kept per thread,
//! see [`with_poller`]), DNS on the process's resolver pool, which wakes the poller.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use eyeballs_core::{
    Action, AttemptId, Config, Failure, HostPort, Input, QueryId, QueryKind, Race, Report, Winner,
};
use eyeballs_net::{finish, probe_sources_with, start};
use mio::{Events, Interest, Poll, Token, Waker};

use eyeballs_net::pool::{self, Group, Job, Reply};
use eyeballs_net::Settings;

use crate::resolve::Resolve;

/// A query's answer, sent to its race by a pool thread.
type Answer = (QueryId, pool::Answer);

/// The poller token of the DNS threads' waker; attempt `n` has token `n + 1`.
const DNS: Token = Token(0);

/// Runs one race to its end on this thread.
pub(crate) fn run(
    inner: &Settings<dyn Resolve>,
    target: &HostPort,
    config: Config,
    want_report: bool,
) -> (io::Result<TcpStream>, Option<Report>) {
    let answers_both = inner.resolver.answers_both();
    let mut race = match start(
        target,
        config,
        inner,
        answers_both,
        (eyeballs_core::Protocols::new(), false),
        Instant::now(),
    ) {
        Ok(race) => race,
        Err(e) => return (Err(e), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let result = with_poller(|poller| Driver::new(poller).drive(inner, &mut race));
    let result = match result {
        Ok(result) => result,
        // The poller itself failed (out of memory or descriptors): no race to report.
        Err(e) => return (Err(e), None),
    };
    let (result, report) = finish(&race, result, &inner.history, want_report);
    (result.and_then(blocking), report)
}

/// A poller and its DNS waker, made once per thread: creating and closing them per race (an
/// epoll and an eventfd descriptor on Linux) was a large part of the driver's overhead over
/// a plain blocking connect (BENCHMARKS.md).
struct Poller {
    poll: Poll,
    /// Made with the first DNS query: a race over IP literals needs none.
    waker: Option<Arc<Waker>>,
}

thread_local! {
    /// The thread's poller between races: it costs the thread two descriptors until it
    /// exits.
    static POLLER: Cell<Option<Poller>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's poller (made on first use). Every socket of a race is
/// closed, and so deregistered, before the poller goes back; a stale DNS wake-up is only a
/// spurious one for the next race.
fn with_poller<T>(f: impl FnOnce(&mut Poller) -> io::Result<T>) -> io::Result<T> {
    // A nested race (a resolver that connects) or a thread being torn down gets its own.
    let cached = POLLER.try_with(Cell::take).ok().flatten();
    let mut poller = match cached {
        Some(poller) => poller,
        None => Poller {
            poll: Poll::new()?,
            waker: None,
        },
    };
    let result = f(&mut poller);
    let _ = POLLER.try_with(|p| p.set(Some(poller)));
    result
}

struct Driver<'p> {
    poll: &'p mut Poll,
    waker: &'p mut Option<Arc<Waker>>,
    /// Made with the first DNS query, with the race's group in the resolver pool.
    answers: Option<(Group, mpsc::Sender<Answer>, mpsc::Receiver<Answer>)>,
    /// Attempts in flight, registered with the poller.
    attempts: BTreeMap<AttemptId, mio::net::TcpStream>,
    /// Attempts reported connected, kept until the race names the winner.
    connected: BTreeMap<AttemptId, mio::net::TcpStream>,
    /// Attempts connected when `connect` returned, not yet reported.
    connected_now: Vec<AttemptId>,
    /// Answers the resolver knew without the pool ([`Resolve::answer_now`]), not yet fed.
    answered_now: Vec<Answer>,
}

impl Drop for Driver<'_> {
    fn drop(&mut self) {
        if let Some((group, ..)) = self.answers {
            pool::withdraw(group);
        }
    }
}

/// Feeds one DNS answer to the race, with the source addresses of its destinations.
fn feed(
    inner: &Settings<dyn Resolve>,
    race: &mut Race<io::Error>,
    query: QueryId,
    answer: pool::Answer,
    now: Instant,
) {
    if let Ok(Reply::Addrs(addrs)) = &answer {
        // RFC 6724 sorts with each destination's source, and history is kept per source
        // address (R15).
        let sources = probe_sources_with(addrs.iter().copied(), &inner.socket);
        race.handle_input(Input::Sources { sources }, now);
    }
    let input = match answer {
        Ok(Reply::Addrs(addrs)) => Input::Resolved { query, addrs },
        Ok(Reply::Records(records)) => Input::ResolvedServices { query, records },
        // `Reply` may grow; what a driver does not know is no answer.
        Ok(_) => Input::Resolved {
            query,
            addrs: Vec::new(),
        },
        Err(error) => Input::ResolveFailed { query, error },
    };
    race.handle_input(input, now);
}

impl<'p> Driver<'p> {
    fn new(poller: &'p mut Poller) -> Self {
        Driver {
            poll: &mut poller.poll,
            waker: &mut poller.waker,
            answers: None,
            attempts: BTreeMap::new(),
            connected: BTreeMap::new(),
            connected_now: Vec::new(),
            answered_now: Vec::new(),
        }
    }

    /// The loop of the eyeballs-core crate docs: drain actions, wait for the first of I/O
    /// and the deadline, feed it back.
    fn drive(
        &mut self,
        inner: &Settings<dyn Resolve>,
        race: &mut Race<io::Error>,
    ) -> io::Result<Result<(Winner, mio::net::TcpStream), Failure<io::Error>>> {
        let mut events = Events::with_capacity(64);
        loop {
            while let Some(action) = race.poll_action() {
                match action {
                    Action::Resolve {
                        query, name, kind, ..
                    } => {
                        tracing::debug!(target: "eyeballs", %query, %name, %kind, "resolve");
                        self.resolve(inner, name.as_str(), query, kind);
                    }
                    Action::Connect {
                        attempt, endpoint, ..
                    } => {
                        tracing::debug!(target: "eyeballs", %attempt, %endpoint, "connect");
                        if let Err(error) = self.connect(inner, attempt, endpoint.addr()) {
                            race.handle_input(
                                Input::ConnectFailed { attempt, error },
                                Instant::now(),
                            );
                        }
                    }
                    Action::Cancel { attempt } => {
                        tracing::debug!(target: "eyeballs", %attempt, "cancel");
                        self.close(attempt);
                        self.connected.remove(&attempt);
                    }
                    Action::Finish(Ok(winner)) => {
                        let stream = self.connected.remove(&winner.attempt());
                        // The race names a winner only after our `Connected`, which we send
                        // only with the stream stored.
                        let Some(stream) = stream else {
                            unreachable!("the winner's stream was stored before it was reported")
                        };
                        return Ok(Ok((winner, stream)));
                    }
                    Action::Finish(Err(failure)) => return Ok(Err(failure)),
                    _ => {}
                }
            }
            if let Some(attempt) = self.connected_now.pop() {
                // Unless cancelled since.
                if self.connected.contains_key(&attempt) {
                    race.handle_input(Input::Connected { attempt }, Instant::now());
                }
                continue;
            }
            if !self.answered_now.is_empty() {
                let now = Instant::now();
                for (query, answer) in std::mem::take(&mut self.answered_now) {
                    feed(inner, race, query, answer, now);
                }
                continue;
            }
            let timeout = race
                .poll_timeout()
                .map(|t| t.saturating_duration_since(Instant::now()));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for event in &events {
                if event.token() == DNS {
                    continue;
                }
                let attempt = AttemptId::from_index(event.token().0 - 1);
                if let Some(input) = self.check(attempt) {
                    race.handle_input(input, now);
                }
            }
            while let Some(Ok((query, answer))) = self.answers.as_ref().map(|a| a.2.try_recv()) {
                feed(inner, race, query, answer, now);
            }
            // The core compares its deadline with `now`; an early call is a no-op.
            race.handle_timeout(now);
        }
    }

    /// Asks the resolver on the process's resolver pool, which wakes the poller with the
    /// answer. A lookup the pool refuses is a failed query.
    fn resolve(
        &mut self,
        inner: &Settings<dyn Resolve>,
        name: &str,
        query: QueryId,
        kind: QueryKind,
    ) {
        let (group, answers, _) = self.answers.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel();
            (Group::unique(), tx, rx)
        });
        let (group, answers) = (*group, answers.clone());
        if kind != QueryKind::Https {
            if let Some(answer) = inner.resolver.answer_now(name, kind) {
                // Fed to the race by the loop before it polls, like a connect that is done.
                self.answered_now.push((query, answer.map(Reply::Addrs)));
                return;
            }
        }
        let submitted = self.waker().and_then(|waker| {
            let job = Job::new(&inner.resolver, name, kind, |r, name, kind| {
                if kind == QueryKind::Https {
                    r.resolve_https(name).map(Reply::Records)
                } else {
                    r.resolve(name, kind).map(Reply::Addrs)
                }
            });
            let sender = answers.clone();
            pool::submit(job, group, move |answer| {
                // A race that ended since has dropped its receiver: the answer is dropped.
                if sender.send((query, answer)).is_ok() {
                    let _ = waker.wake();
                }
            })
        });
        if let Err(e) = submitted {
            // Woken, the loop reads it with the answers right after its next poll.
            let _ = answers.send((query, Err(e)));
            if let Some(waker) = self.waker.as_ref() {
                let _ = waker.wake();
            }
        }
    }

    /// Returns the waker of the DNS threads, made on first use.
    fn waker(&mut self) -> io::Result<Arc<Waker>> {
        if let Some(waker) = self.waker.as_ref() {
            return Ok(waker.clone());
        }
        let waker = Arc::new(Waker::new(self.poll.registry(), DNS)?);
        *self.waker = Some(waker.clone());
        Ok(waker)
    }

    /// Starts a non-blocking connect and registers it for writability, or, when it is
    /// connected already, keeps it for the loop to report.
    fn connect(
        &mut self,
        inner: &Settings<dyn Resolve>,
        attempt: AttemptId,
        addr: SocketAddr,
    ) -> io::Result<()> {
        let socket = inner.socket.open(addr)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(EINPROGRESS) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let mut stream = mio::net::TcpStream::from_std(TcpStream::from(socket));
        // On loopback the handshake is often over before `connect` returns: one
        // `getpeername` then saves registering, waiting and deregistering (a third of the
        // system calls of a healthy loopback connect).
        if stream.peer_addr().is_ok() {
            self.connected.insert(attempt, stream);
            self.connected_now.push(attempt);
            return Ok(());
        }
        let token = Token(attempt.index() + 1);
        self.poll
            .registry()
            .register(&mut stream, token, Interest::WRITABLE)?;
        self.attempts.insert(attempt, stream);
        Ok(())
    }

    /// Looks at an attempt the poller reported: connected when writable with `SO_ERROR`
    /// zero and a peer; failed with `SO_ERROR`; otherwise still connecting (spurious wake).
    fn check(&mut self, attempt: AttemptId) -> Option<Input<io::Error>> {
        let stream = self.attempts.get(&attempt)?;
        let input = match stream.take_error() {
            Ok(Some(error)) | Err(error) => Input::ConnectFailed { attempt, error },
            Ok(None) => match stream.peer_addr() {
                Ok(_) => Input::Connected { attempt },
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return None,
                Err(error) => Input::ConnectFailed { attempt, error },
            },
        };
        let mut stream = self.attempts.remove(&attempt)?;
        let _ = self.poll.registry().deregister(&mut stream);
        if matches!(input, Input::Connected { .. }) {
            self.connected.insert(attempt, stream);
        }
        Some(input)
    }

    /// Deregisters and closes an attempt.
    fn close(&mut self, attempt: AttemptId) {
        if let Some(mut stream) = self.attempts.remove(&attempt) {
            let _ = self.poll.registry().deregister(&mut stream);
        }
    }
}

/// `EINPROGRESS` on Linux and the BSDs: a non-blocking connect under way.
#[cfg(any(target_os = "linux", target_os = "android"))]
const EINPROGRESS: i32 = 115;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EINPROGRESS: i32 = 36;

/// Puts the winner back in blocking mode, as `std::net::TcpStream::connect` returns it.
fn blocking(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
    let stream = TcpStream::from(stream);
    stream.set_nonblocking(false)?;
    Ok(stream)
}
