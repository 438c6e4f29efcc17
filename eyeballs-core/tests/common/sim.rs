//! A deterministic network simulator with a virtual clock that jumps from event to event.
//!
//! A test says what DNS answers and when, and how each address behaves ("v6 hangs, v4
//! connects after 10 ms"); [`Scenario::run`] drives a real [`Race`] through it, checking the
//! driver-visible invariants after every step, and returns a [`Trace`] with exact times.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core::{
    Action, AttemptId, Config, FailureReason, History, Input, QueryKind, Race, Target,
};

use super::checker::Checker;

/// Milliseconds, for short test code.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Parses a socket address.
pub fn sa(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad socket address {s}: {e}"))
}

/// Parses an IP address.
pub fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad IP address {s}: {e}"))
}

/// What one DNS query answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// These addresses (maybe none) after the delay.
    Addrs(Duration, Vec<IpAddr>),
    /// An error after the delay.
    Fail(Duration),
    /// Never answers.
    Never,
}

/// How connecting to one address goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Connects after the delay.
    Connect(Duration),
    /// Fails after the delay.
    Fail(Duration),
    /// Never completes.
    Hang,
}

/// A race to run: configuration, target, DNS and network behaviour.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub config: Config,
    pub target: Target,
    pub dns: BTreeMap<&'static str, Answer>,
    pub net: BTreeMap<SocketAddr, Outcome>,
    /// Addresses not in `net` behave like this.
    pub default_outcome: Outcome,
    pub history: Option<History>,
    /// Inputs injected at a time: (time, input).
    pub extra: Vec<(Duration, Extra)>,
    /// The attempt delay the checker holds the race to (`None`: not checked).
    pub expected_delay: Option<Duration>,
}

/// An input a scenario injects at a fixed time.
#[derive(Debug, Clone)]
pub enum Extra {
    Abort,
    Changed {
        added: Vec<IpAddr>,
        removed: Vec<IpAddr>,
    },
}

/// One thing that happened, at its time since the race started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Resolve(QueryKind),
    Answered(QueryKind),
    Start(SocketAddr),
    Connected(SocketAddr),
    Failed(SocketAddr),
    Cancel(SocketAddr),
    Won(SocketAddr),
    Lost(FailureReason),
}

/// What a run produced.
#[derive(Debug)]
pub struct Trace {
    pub events: Vec<(Duration, Ev)>,
    /// The race, finished, for history and report checks.
    pub race: Race<String>,
    /// The failure's text, when it failed.
    pub error: Option<String>,
    pub t0: Instant,
    /// Nothing was left to happen but the race had not finished: attempts or queries hang
    /// forever and there is no deadline. (The checker has verified something *is* in flight.)
    pub stalled: bool,
}

impl Trace {
    /// Every attempt start: (time, address).
    pub fn starts(&self) -> Vec<(Duration, SocketAddr)> {
        self.pick(|e| matches!(e, Ev::Start(_)))
    }

    /// Every cancel: (time, address).
    pub fn cancels(&self) -> Vec<(Duration, SocketAddr)> {
        self.pick(|e| matches!(e, Ev::Cancel(_)))
    }

    /// The addresses started, in order.
    pub fn order(&self) -> Vec<SocketAddr> {
        self.starts().into_iter().map(|(_, a)| a).collect()
    }

    /// The winner and when it won, or `None`.
    pub fn winner(&self) -> Option<(Duration, SocketAddr)> {
        self.pick(|e| matches!(e, Ev::Won(_))).first().copied()
    }

    /// Why it failed and when, or `None`.
    pub fn failure(&self) -> Option<(Duration, FailureReason)> {
        self.events.iter().find_map(|(t, e)| match e {
            Ev::Lost(r) => Some((*t, *r)),
            _ => None,
        })
    }

    fn pick(&self, f: impl Fn(&Ev) -> bool) -> Vec<(Duration, SocketAddr)> {
        self.events
            .iter()
            .filter(|(_, e)| f(e))
            .map(|(t, e)| match e {
                Ev::Start(a) | Ev::Cancel(a) | Ev::Won(a) | Ev::Connected(a) | Ev::Failed(a) => {
                    (*t, *a)
                }
                _ => unreachable!("pick only selects address events"),
            })
            .collect()
    }
}

/// A scheduled I/O completion.
#[derive(Debug, Clone)]
enum Pending {
    Dns(usize, QueryKind, Option<Vec<IpAddr>>),
    Attempt(AttemptId, SocketAddr, bool),
    Extra(Extra),
}

impl Scenario {
    /// A scenario for a host name (separate AAAA and A queries) on port 443.
    pub fn host(config: Config) -> Self {
        Scenario::with_target(config, Target::host(443))
    }

    /// The usual dual-stack host: AAAA `2001:db8::1`, `2001:db8::2` and A `192.0.2.1`,
    /// `192.0.2.2`, all answered at once; every address hangs unless told otherwise.
    pub fn dual() -> Self {
        Scenario::host(Config::default())
            .aaaa(0, &["2001:db8::1", "2001:db8::2"])
            .a(0, &["192.0.2.1", "192.0.2.2"])
    }

    /// A scenario for addresses given directly.
    pub fn addrs(config: Config, addrs: &[&str]) -> Self {
        Scenario::with_target(config, Target::addrs(addrs.iter().map(|a| sa(a))))
    }

    /// A scenario for any target.
    pub fn with_target(config: Config, target: Target) -> Self {
        Scenario {
            config,
            target,
            dns: BTreeMap::new(),
            net: BTreeMap::new(),
            default_outcome: Outcome::Hang,
            history: None,
            extra: Vec::new(),
            expected_delay: Some(ms(250)),
        }
    }

    /// Sets the Connection Attempt Delay, and holds the race to it: no start earlier than
    /// the delay after the previous one unless a failure came in between. The expectation
    /// clamps to [10 ms, 2 s] as documented, independently of the core's code.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.config = self.config.connection_attempt_delay(delay);
        self.expected_delay = Some(delay.clamp(ms(10), ms(2000)));
        self
    }

    /// Sets the AAAA answer: addresses after `after_ms`.
    pub fn aaaa(mut self, after_ms: u64, addrs: &[&str]) -> Self {
        self.dns.insert(
            "AAAA",
            Answer::Addrs(ms(after_ms), addrs.iter().map(|a| ip(a)).collect()),
        );
        self
    }

    /// Sets the A answer: addresses after `after_ms`.
    pub fn a(mut self, after_ms: u64, addrs: &[&str]) -> Self {
        self.dns.insert(
            "A",
            Answer::Addrs(ms(after_ms), addrs.iter().map(|a| ip(a)).collect()),
        );
        self
    }

    /// Sets the combined answer: addresses after `after_ms`.
    pub fn both(mut self, after_ms: u64, addrs: &[&str]) -> Self {
        self.dns.insert(
            "AAAA+A",
            Answer::Addrs(ms(after_ms), addrs.iter().map(|a| ip(a)).collect()),
        );
        self
    }

    /// Sets a query (`"AAAA"`, `"A"`, `"AAAA+A"`) to answer something else.
    pub fn dns(mut self, kind: &'static str, answer: Answer) -> Self {
        self.dns.insert(kind, answer);
        self
    }

    /// Sets how one address behaves (port 443 unless given).
    pub fn net(mut self, addr: &str, outcome: Outcome) -> Self {
        let addr = addr
            .parse::<SocketAddr>()
            .unwrap_or_else(|_| SocketAddr::new(ip(addr), 443));
        self.net.insert(addr, outcome);
        self
    }

    /// Sets how unlisted addresses behave.
    pub fn default_outcome(mut self, outcome: Outcome) -> Self {
        self.default_outcome = outcome;
        self
    }

    /// Gives the race a history snapshot.
    pub fn history(mut self, history: &History) -> Self {
        self.history = Some(history.clone());
        self
    }

    /// Injects an input at `at_ms`.
    pub fn at(mut self, at_ms: u64, extra: Extra) -> Self {
        self.extra.push((ms(at_ms), extra));
        self
    }

    /// Runs the race to its end (or panics after 100,000 steps).
    pub fn run(self) -> Trace {
        self.run_at(base_instant())
    }

    /// Runs the race starting at `t0`.
    pub fn run_at(self, t0: Instant) -> Trace {
        let fixed_delay = self.expected_delay.filter(|_| self.history.is_none());
        let mut checker = Checker::new(fixed_delay);
        let mut race = match &self.history {
            Some(h) => Race::with_history(self.target.clone(), self.config, h, t0),
            None => Race::new(self.target.clone(), self.config, t0),
        }
        .unwrap_or_else(|e| panic!("config rejected: {e}"));
        let mut now = t0;
        let mut queue: BTreeMap<(Instant, u64), Pending> = BTreeMap::new();
        let mut seq = 0u64;
        let mut events = Vec::new();
        let mut error = None;
        for (at, extra) in &self.extra {
            queue.insert((t0 + *at, seq), Pending::Extra(extra.clone()));
            seq += 1;
        }
        for _step in 0..100_000 {
            for action in checker.drain(&mut race, now) {
                let t = now - t0;
                match action {
                    Action::Resolve { query, kind } => {
                        events.push((t, Ev::Resolve(kind)));
                        let answer = self
                            .dns
                            .get(kind_name(kind))
                            .cloned()
                            .unwrap_or(Answer::Never);
                        let (after, addrs) = match answer {
                            Answer::Addrs(d, a) => (d, Some(a)),
                            Answer::Fail(d) => (d, None),
                            Answer::Never => continue,
                        };
                        queue.insert((now + after, seq), Pending::Dns(query.index(), kind, addrs));
                    }
                    Action::Connect { attempt, addr } => {
                        events.push((t, Ev::Start(addr)));
                        let outcome = self.net.get(&addr).copied().unwrap_or(self.default_outcome);
                        let (after, ok) = match outcome {
                            Outcome::Connect(d) => (d, true),
                            Outcome::Fail(d) => (d, false),
                            Outcome::Hang => continue,
                        };
                        queue.insert((now + after, seq), Pending::Attempt(attempt, addr, ok));
                    }
                    Action::Cancel { attempt } => {
                        let addr = race.attempts()[attempt.index()].addr();
                        events.push((t, Ev::Cancel(addr)));
                        queue.retain(|_, p| !matches!(p, Pending::Attempt(a, ..) if *a == attempt));
                    }
                    Action::Finish(Ok(w)) => events.push((t, Ev::Won(w.addr))),
                    Action::Finish(Err(f)) => {
                        events.push((t, Ev::Lost(f.reason())));
                        error = Some(f.to_string());
                    }
                    other => panic!("unexpected action {other:?}"),
                }
                seq += 1;
            }
            if checker.is_finished() {
                return Trace {
                    events,
                    race,
                    error,
                    t0,
                    stalled: false,
                };
            }
            let io = queue.keys().next().copied();
            let timer = race.poll_timeout();
            match (io, timer) {
                (Some((at, key)), timer) if timer.is_none_or(|t| at <= t) => {
                    let Some(pending) = queue.remove(&(at, key)) else {
                        unreachable!("the key was just read")
                    };
                    now = at;
                    let t = now - t0;
                    let input = match pending {
                        Pending::Dns(q, kind, Some(addrs)) => {
                            events.push((t, Ev::Answered(kind)));
                            Input::Resolved {
                                query: eyeballs_core::QueryId::from_index(q),
                                addrs,
                            }
                        }
                        Pending::Dns(q, kind, None) => {
                            events.push((t, Ev::Answered(kind)));
                            Input::ResolveFailed {
                                query: eyeballs_core::QueryId::from_index(q),
                                error: format!("{kind} lookup failed"),
                            }
                        }
                        Pending::Attempt(attempt, addr, true) => {
                            events.push((t, Ev::Connected(addr)));
                            Input::Connected { attempt }
                        }
                        Pending::Attempt(attempt, addr, false) => {
                            events.push((t, Ev::Failed(addr)));
                            Input::ConnectFailed {
                                attempt,
                                error: "connection refused".into(),
                            }
                        }
                        Pending::Extra(Extra::Abort) => Input::Aborted,
                        Pending::Extra(Extra::Changed { added, removed }) => {
                            Input::AddressesChanged { added, removed }
                        }
                    };
                    checker.on_input(&input);
                    race.handle_input(input, now);
                }
                (_, Some(t)) => {
                    now = t;
                    race.handle_timeout(now);
                }
                (Some(_), None) => unreachable!("the first arm takes I/O when there is no timer"),
                (None, None) => {
                    return Trace {
                        events,
                        race,
                        error,
                        t0,
                        stalled: true,
                    }
                }
            }
        }
        panic!("the race did not finish within 100,000 steps");
    }
}

/// The one real clock reading of the test suite: every virtual time is an offset from it.
#[allow(clippy::disallowed_methods)]
pub fn base_instant() -> Instant {
    Instant::now()
}

fn kind_name(kind: QueryKind) -> &'static str {
    match kind {
        QueryKind::Aaaa => "AAAA",
        QueryKind::A => "A",
        _ => "AAAA+A",
    }
}
