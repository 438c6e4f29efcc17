//! The driver loop on one thread: non-blocking sockets, one mio poller, DNS on short-lived
//! threads that wake the poller.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use eyeballs_core::{
    Action, AttemptId, Config, Failure, HostPort, Input, QueryId, QueryKind, Race, Report,
    ServiceRecord, Winner,
};
use eyeballs_net::{finish, probe_sources, start};
use mio::{Events, Interest, Poll, Token, Waker};

use eyeballs_net::Settings;

use crate::resolve::Resolve;

/// The poller token of the DNS threads' waker; attempt `n` has token `n + 1`.
const DNS: Token = Token(0);

/// A DNS answer: addresses, or HTTPS records.
enum Reply {
    Addrs(Vec<IpAddr>),
    Records(Vec<ServiceRecord>),
}

type Answer = (QueryId, io::Result<Reply>);

/// Runs one race to its end on this thread.
pub(crate) fn run(
    inner: &Settings<dyn Resolve>,
    target: &HostPort,
    config: Config,
    want_report: bool,
) -> (io::Result<TcpStream>, Option<Report>) {
    let answers_both = inner.resolver.answers_both();
    let mut race = match start(target, config, &inner.history, answers_both, Instant::now()) {
        Ok(race) => race,
        Err(e) => return (Err(e), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let result = match Driver::new().and_then(|mut d| d.drive(inner, &mut race)) {
        Ok(result) => result,
        // The poller itself failed (out of memory or descriptors): no race to report.
        Err(e) => return (Err(e), None),
    };
    let (result, report) = finish(&race, result, &inner.history, want_report);
    (result.and_then(blocking), report)
}

struct Driver {
    poll: Poll,
    /// Made with the first DNS query: a race over IP literals needs none.
    waker: Option<Arc<Waker>>,
    answers: (mpsc::Sender<Answer>, mpsc::Receiver<Answer>),
    /// Attempts in flight, registered with the poller.
    attempts: BTreeMap<AttemptId, mio::net::TcpStream>,
    /// Attempts reported connected, kept until the race names the winner.
    connected: BTreeMap<AttemptId, mio::net::TcpStream>,
}

impl Driver {
    fn new() -> io::Result<Self> {
        Ok(Driver {
            poll: Poll::new()?,
            waker: None,
            answers: mpsc::channel(),
            attempts: BTreeMap::new(),
            connected: BTreeMap::new(),
        })
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
            while let Ok((query, answer)) = self.answers.1.try_recv() {
                if let (Ok(Reply::Addrs(addrs)), true) = (&answer, inner.history.is_on()) {
                    // History is kept per source address (R15): say which one each gets.
                    let sources = probe_sources(addrs.iter().copied());
                    race.handle_input(Input::Sources { sources }, now);
                }
                let input = match answer {
                    Ok(Reply::Addrs(addrs)) => Input::Resolved { query, addrs },
                    Ok(Reply::Records(records)) => Input::ResolvedServices { query, records },
                    Err(error) => Input::ResolveFailed { query, error },
                };
                race.handle_input(input, now);
            }
            // The core compares its deadline with `now`; an early call is a no-op.
            race.handle_timeout(now);
        }
    }

    /// Asks the resolver on a short-lived thread, which wakes the poller with the answer.
    fn resolve(
        &mut self,
        inner: &Settings<dyn Resolve>,
        name: &str,
        query: QueryId,
        kind: QueryKind,
    ) {
        let resolver = inner.resolver.clone();
        let name = name.to_string();
        let tx = self.answers.0.clone();
        let waker = match self.waker() {
            Ok(waker) => waker,
            Err(e) => {
                let _ = self.answers.0.send((query, Err(e)));
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("eyeballs-dns".into())
            .spawn(move || {
                let answer = if kind == QueryKind::Https {
                    resolver.resolve_https(&name).map(Reply::Records)
                } else {
                    resolver.resolve(&name, kind).map(Reply::Addrs)
                };
                // The race may be over and the receiver gone: the answer is dropped.
                if tx.send((query, answer)).is_ok() {
                    let _ = waker.wake();
                }
            });
        if let Err(e) = spawned {
            let _ = self.answers.0.send((query, Err(e)));
        }
    }

    /// Returns the waker of the DNS threads, made on first use.
    fn waker(&mut self) -> io::Result<Arc<Waker>> {
        if let Some(waker) = &self.waker {
            return Ok(waker.clone());
        }
        let waker = Arc::new(Waker::new(self.poll.registry(), DNS)?);
        self.waker = Some(waker.clone());
        Ok(waker)
    }

    /// Starts a non-blocking connect and registers it for writability.
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
