//! A deterministic network simulator with a virtual clock that jumps from event to event.
//!
//! A test says what DNS answers and when, and how each address behaves ("v6 hangs, v4
//! connects after 10 ms"); [`Scenario::run`] drives a real [`Race`] through it, checking the
//! driver-visible invariants after every step, and returns a [`Trace`] with exact times.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core::{
    Action, AttemptId, Config, EchConfig, Endpoint, FailureReason, History, Input, Name, Path,
    QueryKind, Race, ServiceRecord, Source, Target, Transport,
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

/// The host name of [`Scenario::host`].
pub const HOST: &str = "example.test";

/// The source address the simulated host uses for every IPv6 destination (unless a scenario
/// says otherwise): history is keyed by it.
pub const SOURCE_V6: &str = "2001:db8:ffff::100";
/// The source address for every IPv4 destination.
pub const SOURCE_V4: &str = "198.51.100.100";

/// The source the simulated host uses for `dest`, as a kernel would pick it (RFC 6724 §5):
/// loopback for loopback, a link-local address for link-local destinations, otherwise the
/// host's global address of the family ([`SOURCE_V6`], [`SOURCE_V4`]).
pub fn source_for(dest: IpAddr) -> IpAddr {
    match dest {
        IpAddr::V6(v6) if v6.is_loopback() => dest,
        IpAddr::V4(v4) if v4.is_loopback() => dest,
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => ip("fe80::100"),
        IpAddr::V4(v4) if v4.is_link_local() => ip("169.254.100.100"),
        _ => ip(if dest.is_ipv6() { SOURCE_V6 } else { SOURCE_V4 }),
    }
}

/// The TCP history path to a socket address (port 443 when only an IP is given), from the
/// default source.
pub fn path(addr: &str) -> Path {
    path_over(addr, Transport::Tcp)
}

/// The history path to a socket address over `transport`, from the default source.
pub fn path_over(addr: &str, transport: Transport) -> Path {
    let addr = addr
        .parse::<SocketAddr>()
        .unwrap_or_else(|_| SocketAddr::new(ip(addr), 443));
    Path::new(source_for(addr.ip()), addr, transport)
}

/// What one DNS query answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// These addresses (maybe none) after the delay.
    Addrs(Duration, Vec<IpAddr>),
    /// These service records (maybe none) after the delay.
    Records(Duration, Vec<ServiceRecord>),
    /// An error after the delay.
    Fail(Duration),
    /// Never answers.
    Never,
    /// An expired answer from a cache first (`Input::ResolvedStale` or
    /// `Input::ResolvedServicesStale`: addresses or records after their delay), then the
    /// fresh one (any answer, its delay also from the query).
    Stale(Box<Answer>, Box<Answer>),
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
    /// The server rejects ECH after the delay (`Input::EchRejected`), sending the retry
    /// configuration [`retry_config`]`(tag)` if there is a tag. How the retry goes is
    /// [`Scenario::after_retry`]'s (default: rejected again, without retry configs).
    RejectEch(Duration, Option<u8>),
}

/// The ECH retry configuration a simulated server sends: `fe0d` and a tag.
pub fn retry_config(tag: u8) -> EchConfig {
    EchConfig::new(&[0xfe, 0x0d, tag])
}

/// How a dial completes: what the simulator feeds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Connected,
    Failed,
    EchRejected(Option<u8>),
}

impl Outcome {
    fn is_fail(self) -> bool {
        matches!(self, Outcome::Fail(_))
    }

    /// When and how a dial with this outcome completes; `None`: never.
    fn done(self) -> Option<(Duration, Done)> {
        match self {
            Outcome::Connect(d) => Some((d, Done::Connected)),
            Outcome::Fail(d) => Some((d, Done::Failed)),
            Outcome::Hang => None,
            Outcome::RejectEch(d, tag) => Some((d, Done::EchRejected(tag))),
        }
    }
}

/// The input that reports a completed dial.
fn done_input(attempt: AttemptId, done: Done) -> Input<String> {
    match done {
        Done::Connected => Input::Connected { attempt },
        Done::Failed => Input::ConnectFailed {
            attempt,
            error: "connection refused".into(),
        },
        Done::EchRejected(tag) => Input::EchRejected {
            attempt,
            retry: tag.map(retry_config),
            error: "ECH rejected".into(),
        },
    }
}

/// A race to run: configuration, target, DNS and network behaviour.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub config: Config,
    pub target: Target,
    /// (name, kind) → answer; `kind` is `"AAAA"`, `"A"`, `"AAAA+A"` or `"HTTPS"`.
    pub dns: BTreeMap<(String, &'static str), Answer>,
    pub net: BTreeMap<(SocketAddr, Transport), Outcome>,
    /// How a dial after an ECH retry goes (`Action::RetryEch`); unlisted: rejected again,
    /// without retry configs.
    pub retried: BTreeMap<(SocketAddr, Transport), Outcome>,
    /// Report the default source of every address to the race (history needs them).
    pub sources: bool,
    /// When the sources are reported (literal targets: always with the target).
    pub sources_at: SourcesAt,
    /// The addresses of a literal target, for their sources.
    pub literals: Vec<IpAddr>,
    /// Routes that differ from [`source_for`]'s: per destination.
    pub routes: BTreeMap<IpAddr, Source>,
    /// Addresses not in `net` behave like this.
    pub default_outcome: Outcome,
    pub history: Option<History>,
    /// Inputs injected at a time: (time, input).
    pub extra: Vec<(Duration, Extra)>,
    /// The attempt delay the checker holds the race to (`None`: not checked).
    pub expected_delay: Option<Duration>,
    /// The delay of TCP right after QUIC to one address the checker holds the race to.
    pub expected_follow_up: Duration,
    /// A multiplier schedule (base, factor, maximum) the checker holds the race to.
    pub expected_multiplier: Option<(Duration, u32, Duration)>,
}

/// When a scenario reports the source addresses of a host name's destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcesAt {
    /// All of them with the target (`Target::sources`): a race with history copies what it
    /// needs of it when it is built.
    Target,
    /// All of them right after the race is built, with `Input::Sources` and, with history,
    /// `Race::handle_history` (literal targets: with the target).
    Start,
    /// Each answer's new ones just before the answer, at its time, as a driver that probes
    /// sources does: `Input::Sources`, then `Race::handle_history` (with history), then the
    /// answer.
    Answers,
}

/// An input a scenario injects at a fixed time.
#[derive(Debug, Clone)]
pub enum Extra {
    Abort,
    Changed {
        added: Vec<IpAddr>,
        removed: Vec<IpAddr>,
    },
    /// Attempt `n` reports progress (TCP up, TLS under way).
    Progress(usize),
}

/// One thing that happened, at its time since the race started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Resolve(QueryKind),
    Answered(QueryKind),
    /// An expired answer from the cache (`Input::ResolvedStale`).
    AnsweredStale(QueryKind),
    Start(SocketAddr),
    /// The server rejected ECH (`Input::EchRejected`).
    EchRejected(SocketAddr),
    /// The race dialed again with the retry configs (`Action::RetryEch`).
    RetryEch(SocketAddr),
    /// A held attempt's ClientHello went out (`Action::Handshake`).
    Handshake(SocketAddr),
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
    /// With [`SourcesAt::Answers`]: a timer was due when sources were reported before an
    /// answer, so it fired before the answer was in (a driver's order, not the race's).
    pub coincided: bool,
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
    /// An answer to query `usize`, stale or not.
    Dns(usize, QueryKind, Reply, bool),
    Attempt(AttemptId, SocketAddr, Done),
    Extra(Extra),
}

impl Pending {
    /// The destinations this completion brings: an answer's addresses, its records' hints,
    /// an address change's additions.
    fn destinations(&self) -> Vec<IpAddr> {
        match self {
            Pending::Dns(_, _, Reply::Addrs(a), _) => a.clone(),
            Pending::Dns(_, _, Reply::Records(records), _) => records
                .iter()
                .flat_map(|r| {
                    let v6 = r.ipv6_hint_addrs().iter().map(|a| IpAddr::V6(*a));
                    v6.chain(r.ipv4_hint_addrs().iter().map(|a| IpAddr::V4(*a)))
                })
                .collect(),
            Pending::Extra(Extra::Changed { added, .. }) => added.clone(),
            _ => Vec::new(),
        }
    }
}

/// What a DNS completion carries.
#[derive(Debug, Clone)]
enum Reply {
    Addrs(Vec<IpAddr>),
    Records(Vec<ServiceRecord>),
    Fail,
}

impl Scenario {
    /// A scenario for the host name [`HOST`] (separate AAAA and A queries) on port 443.
    pub fn host(config: Config) -> Self {
        Scenario::with_target(config, Target::host(HOST, 443))
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
        let mut s = Scenario::with_target(config, Target::addrs(addrs.iter().map(|a| sa(a))));
        s.literals = addrs.iter().map(|a| sa(a).ip()).collect();
        s
    }

    /// A scenario for any target.
    pub fn with_target(config: Config, target: Target) -> Self {
        Scenario {
            config,
            target,
            dns: BTreeMap::new(),
            net: BTreeMap::new(),
            retried: BTreeMap::new(),
            sources: true,
            sources_at: SourcesAt::Start,
            literals: Vec::new(),
            routes: BTreeMap::new(),
            default_outcome: Outcome::Hang,
            history: None,
            extra: Vec::new(),
            expected_delay: Some(ms(250)),
            expected_follow_up: eyeballs_core::TCP_AFTER_QUIC_DELAY,
            expected_multiplier: None,
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

    /// Sets how long TCP waits after QUIC to the same address (clamped to [10 ms, 2 s] as
    /// documented), and holds the race to it.
    pub fn tcp_after_quic(mut self, delay: Duration) -> Self {
        self.config = self.config.tcp_after_quic_delay(delay);
        self.expected_follow_up = delay.clamp(ms(10), ms(2000));
        self
    }

    /// Sets a multiplier schedule (`DelaySchedule::Multiplier`), and holds the race to it.
    pub fn multiplier(mut self, base: Duration, factor: u32) -> Self {
        let schedule = eyeballs_core::DelaySchedule::Multiplier { base, factor };
        self.config = self.config.delay_schedule(schedule);
        self.expected_multiplier = Some((base, factor, ms(2000)));
        self
    }

    /// Sets the host's AAAA answer: addresses after `after_ms`.
    pub fn aaaa(self, after_ms: u64, addrs: &[&str]) -> Self {
        self.dns("AAAA", addrs_answer(after_ms, addrs))
    }

    /// Sets the host's A answer: addresses after `after_ms`.
    pub fn a(self, after_ms: u64, addrs: &[&str]) -> Self {
        self.dns("A", addrs_answer(after_ms, addrs))
    }

    /// Sets the host's combined answer: addresses after `after_ms`.
    pub fn both(self, after_ms: u64, addrs: &[&str]) -> Self {
        self.dns("AAAA+A", addrs_answer(after_ms, addrs))
    }

    /// Sets the host's HTTPS answer: records after `after_ms`.
    pub fn https(self, after_ms: u64, records: Vec<ServiceRecord>) -> Self {
        self.dns("HTTPS", Answer::Records(ms(after_ms), records))
    }

    /// Sets one of the host's queries (`"AAAA"`, `"A"`, `"AAAA+A"`, `"HTTPS"`).
    pub fn dns(self, kind: &'static str, answer: Answer) -> Self {
        self.dns_for(HOST, kind, answer)
    }

    /// Sets what a query about `name` answers (an alias target, a TargetName, or
    /// `_8443._https.example.test`).
    pub fn dns_for(mut self, name: &str, kind: &'static str, answer: Answer) -> Self {
        self.dns
            .insert((Name::new(name).as_str().to_string(), kind), answer);
        self
    }

    /// Sets how TCP to one address behaves (port 443 unless given).
    pub fn net(self, addr: &str, outcome: Outcome) -> Self {
        self.net_over(addr, Transport::Tcp, outcome)
    }

    /// Sets how QUIC to one address behaves (port 443 unless given).
    pub fn quic(self, addr: &str, outcome: Outcome) -> Self {
        self.net_over(addr, Transport::Quic, outcome)
    }

    fn net_over(mut self, addr: &str, transport: Transport, outcome: Outcome) -> Self {
        let addr = addr
            .parse::<SocketAddr>()
            .unwrap_or_else(|_| SocketAddr::new(ip(addr), 443));
        self.net.insert((addr, transport), outcome);
        self
    }

    /// Sets the route to one destination: its source address and flags, or none
    /// (`Source::unreachable`).
    pub fn route(mut self, route: Source) -> Self {
        self.routes.insert(route.destination(), route);
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
        self.run_in(t0, None)
    }

    /// Runs the race starting at `t0` in the memory of `previous` ([`Race::restart`]; the
    /// history, if any, as [`History::copy_for`] copies it for the target).
    pub fn run_recycled(self, t0: Instant, previous: Race<String>) -> Trace {
        self.run_in(t0, Some(previous))
    }

    fn run_in(self, t0: Instant, previous: Option<Race<String>>) -> Trace {
        let fixed_delay = self.expected_delay.filter(|_| self.history.is_none());
        let mut checker = Checker::new(fixed_delay)
            // The gate: ECH's ClientHello (V34), an http origin's cleartext on protected
            // DNS (V37).
            .ech(
                self.config == self.config.ech(true)
                    || (self.target.is_http_origin() && self.config.is_protected_dns()),
            )
            .alts(self.target.alt_services().len())
            .follow_up(self.expected_follow_up)
            .multiplier(self.expected_multiplier.filter(|_| self.history.is_none()));
        let sources: Vec<Source> = if self.sources {
            let all = self.addresses().into_iter();
            all.map(|d| self.source_fact(d)).collect()
        } else {
            Vec::new()
        };
        let mut race = self.start(sources, t0, true, previous);
        let mut now = t0;
        let mut coincided = false;
        let mut reported = BTreeSet::new();
        let mut queue: BTreeMap<(Instant, u64), Pending> = BTreeMap::new();
        let mut seq = 0u64;
        let mut events = Vec::new();
        // Held attempts' outcomes, for their ClientHello.
        let mut held: BTreeMap<AttemptId, Outcome> = BTreeMap::new();
        let mut error = None;
        for (at, extra) in &self.extra {
            queue.insert((t0 + *at, seq), Pending::Extra(extra.clone()));
            seq += 1;
        }
        for _step in 0..100_000 {
            for action in checker.drain(&mut race, now) {
                let t = now - t0;
                match action {
                    Action::Resolve {
                        query, name, kind, ..
                    } => {
                        events.push((t, Ev::Resolve(kind)));
                        let key = (name.as_str().to_string(), kind_name(kind));
                        let answer = self.dns.get(&key).cloned().unwrap_or(Answer::Never);
                        let answers = match answer {
                            Answer::Stale(stale, fresh) => vec![(*stale, true), (*fresh, false)],
                            other => vec![(other, false)],
                        };
                        for (answer, stale) in answers {
                            let (after, reply) = match answer {
                                Answer::Addrs(d, a) => (d, Reply::Addrs(a)),
                                Answer::Records(d, r) => (d, Reply::Records(r)),
                                Answer::Fail(d) => (d, Reply::Fail),
                                Answer::Never | Answer::Stale(..) => continue,
                            };
                            let at = now.checked_add(after).unwrap_or_else(|| far(now));
                            let pending = Pending::Dns(query.index(), kind, reply, stale);
                            queue.insert((at, seq), pending);
                            seq += 1;
                        }
                    }
                    Action::Connect {
                        attempt, endpoint, ..
                    } => {
                        let addr = endpoint.addr();
                        events.push((t, Ev::Start(addr)));
                        let outcome = self
                            .net
                            .get(&(addr, endpoint.transport()))
                            .copied()
                            .unwrap_or(self.default_outcome);
                        let Some((after, done)) = outcome.done() else {
                            continue;
                        };
                        let at = now.checked_add(after).unwrap_or_else(|| far(now));
                        queue.insert((at, seq), Pending::Attempt(attempt, addr, done));
                    }
                    Action::ConnectHeld {
                        attempt, endpoint, ..
                    } => {
                        // TCP connects now: a refusal comes at once; anything else waits for
                        // the ClientHello (HG15: outcomes are timed from it).
                        let addr = endpoint.addr();
                        events.push((t, Ev::Start(addr)));
                        let outcome = self.outcome(&endpoint);
                        held.insert(attempt, outcome);
                        if let Outcome::Fail(d) = outcome {
                            let at = now.checked_add(d).unwrap_or_else(|| far(now));
                            queue.insert((at, seq), Pending::Attempt(attempt, addr, Done::Failed));
                        }
                    }
                    Action::Handshake {
                        attempt, endpoint, ..
                    } => {
                        let addr = endpoint.addr();
                        events.push((t, Ev::Handshake(addr)));
                        let outcome = held.remove(&attempt).unwrap_or(Outcome::Hang);
                        if let Some((after, done)) = outcome.done().filter(|_| !outcome.is_fail()) {
                            let at = now.checked_add(after).unwrap_or_else(|| far(now));
                            queue.insert((at, seq), Pending::Attempt(attempt, addr, done));
                        }
                    }
                    Action::RetryEch {
                        attempt, endpoint, ..
                    } => {
                        let addr = endpoint.addr();
                        events.push((t, Ev::RetryEch(addr)));
                        queue.retain(|_, p| !matches!(p, Pending::Attempt(a, ..) if *a == attempt));
                        let Some((after, done)) = self.retry_outcome(&endpoint).done() else {
                            continue;
                        };
                        let at = now.checked_add(after).unwrap_or_else(|| far(now));
                        queue.insert((at, seq), Pending::Attempt(attempt, addr, done));
                    }
                    Action::Cancel { attempt } => {
                        let addr = race.attempts()[attempt.index()].addr();
                        events.push((t, Ev::Cancel(addr)));
                        queue.retain(|_, p| !matches!(p, Pending::Attempt(a, ..) if *a == attempt));
                    }
                    Action::Finish(Ok(w)) => events.push((t, Ev::Won(w.addr()))),
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
                    coincided,
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
                    if self.reports_at_answers() {
                        let new: Vec<Source> = pending
                            .destinations()
                            .into_iter()
                            .filter(|d| reported.insert(*d))
                            .map(|d| self.source_fact(d))
                            .collect();
                        if !new.is_empty() {
                            coincided |= race.poll_timeout().is_some_and(|t| t <= now);
                            race.handle_input(Input::Sources { sources: new }, now);
                            if let Some(h) = &self.history {
                                race.handle_history(h, now);
                            }
                        }
                    }
                    let input = match pending {
                        Pending::Dns(q, kind, Reply::Addrs(addrs), true) => {
                            events.push((t, Ev::AnsweredStale(kind)));
                            Input::ResolvedStale {
                                query: eyeballs_core::QueryId::from_index(q),
                                addrs,
                            }
                        }
                        Pending::Dns(q, kind, Reply::Records(records), true) => {
                            events.push((t, Ev::AnsweredStale(kind)));
                            Input::ResolvedServicesStale {
                                query: eyeballs_core::QueryId::from_index(q),
                                records,
                            }
                        }
                        Pending::Dns(q, kind, Reply::Addrs(addrs), _) => {
                            events.push((t, Ev::Answered(kind)));
                            Input::Resolved {
                                query: eyeballs_core::QueryId::from_index(q),
                                addrs,
                            }
                        }
                        Pending::Dns(q, kind, Reply::Records(records), _) => {
                            events.push((t, Ev::Answered(kind)));
                            Input::ResolvedServices {
                                query: eyeballs_core::QueryId::from_index(q),
                                records,
                            }
                        }
                        Pending::Dns(q, kind, Reply::Fail, _) => {
                            events.push((t, Ev::Answered(kind)));
                            Input::ResolveFailed {
                                query: eyeballs_core::QueryId::from_index(q),
                                error: format!("{kind} lookup failed"),
                            }
                        }
                        Pending::Attempt(attempt, addr, done) => {
                            events.push((
                                t,
                                match done {
                                    Done::Connected => Ev::Connected(addr),
                                    Done::Failed => Ev::Failed(addr),
                                    Done::EchRejected(_) => Ev::EchRejected(addr),
                                },
                            ));
                            done_input(attempt, done)
                        }
                        Pending::Extra(Extra::Abort) => Input::Aborted,
                        Pending::Extra(Extra::Changed { added, removed }) => {
                            Input::AddressesChanged { added, removed }
                        }
                        Pending::Extra(Extra::Progress(attempt)) => Input::Progressed {
                            attempt: AttemptId::from_index(attempt),
                        },
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
                        coincided,
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
        QueryKind::Https => "HTTPS",
        _ => "AAAA+A",
    }
}

fn addrs_answer(after_ms: u64, addrs: &[&str]) -> Answer {
    Answer::Addrs(ms(after_ms), addrs.iter().map(|a| ip(a)).collect())
}

/// A time so late that nothing in a test reaches it: for delays that cannot be represented.
fn far(now: Instant) -> Instant {
    now.checked_add(Duration::from_secs(1 << 40)).unwrap_or(now)
}

impl Scenario {
    /// Builds the race at `t0` and tells it `sources` as [`Scenario::sources_at`] says. A
    /// literal target carries them (its first attempt starts in `Race::new`). With
    /// [`SourcesAt::Start`], a host name with history gets them as a driver gives them:
    /// `Input::Sources`, then `Race::handle_history` to copy what the history knows of those
    /// destinations (before any answer holds them, so the race decides as if it had the
    /// whole history). With [`SourcesAt::Answers`], `run_at` reports them before each answer
    /// (`run_unchecked` treats it as `Start`).
    fn start(
        &self,
        sources: Vec<Source>,
        t0: Instant,
        at_answers: bool,
        previous: Option<Race<String>>,
    ) -> Race<String> {
        let host = self.target.name().is_some();
        let (upfront, later) = match self.sources_at {
            _ if !host => (sources, Vec::new()),
            SourcesAt::Target => (sources, Vec::new()),
            // Reported by `run_at` before each answer.
            SourcesAt::Answers if at_answers => (Vec::new(), Vec::new()),
            _ if self.history.is_some() => (Vec::new(), sources),
            _ => (sources, Vec::new()),
        };
        let target = self.target.clone().sources(upfront);
        let mut race = match (&self.history, previous) {
            (h, Some(previous)) => {
                let copy = h.as_ref().map(|h| h.copy_for(&target, t0));
                previous.restart(target, self.config, copy, t0)
            }
            (Some(h), None) => Race::with_history(target, self.config, h, t0),
            (None, None) => Race::new(target, self.config, t0),
        }
        .unwrap_or_else(|e| panic!("config rejected: {e}"));
        if !later.is_empty() {
            race.handle_input(Input::Sources { sources: later }, t0);
            if let Some(h) = &self.history {
                race.handle_history(h, t0);
            }
        }
        race
    }

    /// Whether sources go to the race just before each answer.
    fn reports_at_answers(&self) -> bool {
        self.sources && self.sources_at == SourcesAt::Answers && self.target.name().is_some()
    }

    /// What the simulated host knows of its route to `d`.
    fn source_fact(&self, d: IpAddr) -> Source {
        self.routes
            .get(&d)
            .copied()
            .unwrap_or_else(|| Source::new(d, source_for(d)))
    }

    /// Every address the scenario's DNS or network could hand the race.
    fn addresses(&self) -> Vec<IpAddr> {
        fn add(all: &mut BTreeSet<IpAddr>, answer: &Answer) {
            match answer {
                Answer::Addrs(_, a) => all.extend(a.iter().copied()),
                Answer::Records(_, records) => {
                    for r in records {
                        all.extend(r.ipv6_hint_addrs().iter().map(|a| IpAddr::V6(*a)));
                        all.extend(r.ipv4_hint_addrs().iter().map(|a| IpAddr::V4(*a)));
                    }
                }
                Answer::Stale(stale, fresh) => {
                    add(all, stale);
                    add(all, fresh);
                }
                _ => {}
            }
        }
        let mut all = BTreeSet::new();
        for answer in self.dns.values() {
            add(&mut all, answer);
        }
        all.extend(self.net.keys().map(|(a, _)| a.ip()));
        all.extend(self.literals.iter().copied());
        for (_, extra) in &self.extra {
            if let Extra::Changed { added, .. } = extra {
                all.extend(added.iter().copied());
            }
        }
        all.into_iter().collect()
    }
}

impl Trace {
    /// Every attempt's endpoint, in the order they started.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.race
            .attempts()
            .iter()
            .map(|a| a.endpoint().clone())
            .collect()
    }

    /// Every attempt as (start time, "TRANSPORT addr"), for HEv3 timelines.
    pub fn tries(&self) -> Vec<(Duration, String)> {
        self.race
            .attempts()
            .iter()
            .map(|a| {
                let t = a.started().saturating_duration_since(self.t0);
                (t, format!("{} {}", a.endpoint().transport(), a.addr()))
            })
            .collect()
    }
}

// ------------------------------------------------------------------------------------------
// Added for the HEv3 §5, §6 and ECH tests (hev3_5_sorting.rs, hev3_6_racing.rs,
// hev3_ech.rs). Additions only: nothing above this line uses them.
// ------------------------------------------------------------------------------------------

/// One try as [`Trace::tries`] lists it: (start time, "TRANSPORT addr").
pub fn tried(at_ms: u64, what: &str) -> (Duration, String) {
    (ms(at_ms), what.to_string())
}

impl Scenario {
    /// A Happy Eyeballs v3 scenario: the host [`HOST`] on port 443 with an HTTPS query
    /// (so HTTPS, AAAA and A are asked), speaking `protocols`.
    pub fn https_host(config: Config, protocols: eyeballs_core::Protocols) -> Self {
        let target = Target::host(HOST, 443).https(true).protocols(protocols);
        Scenario::with_target(config, target)
    }

    /// Runs the race like [`Scenario::run_at`], but without the checker and the event list
    /// (whose duplicate check is quadratic), for races of many thousand attempts, and keeps
    /// the [`Failure`](eyeballs_core::Failure) itself. Extras are not injected.
    pub fn run_unchecked(self, t0: Instant) -> Unchecked {
        let sources: Vec<Source> = if self.sources {
            self.addresses()
                .into_iter()
                .map(|d| Source::new(d, source_for(d)))
                .collect()
        } else {
            Vec::new()
        };
        let mut race = self.start(sources, t0, false, None);
        let mut now = t0;
        let mut held: BTreeMap<AttemptId, Outcome> = BTreeMap::new();
        let mut queue: BTreeMap<(Instant, u64), Input<String>> = BTreeMap::new();
        let mut seq = 0u64;
        for _step in 0..10_000_000u32 {
            while let Some(action) = race.poll_action() {
                let (after, input) = match action {
                    Action::Resolve {
                        query, name, kind, ..
                    } => {
                        let key = (name.as_str().to_string(), kind_name(kind));
                        let mut answer = self.dns.get(&key).cloned().unwrap_or(Answer::Never);
                        if let Answer::Stale(stale, fresh) = answer {
                            let input = match *stale {
                                Answer::Addrs(d, addrs) => {
                                    Some((d, Input::ResolvedStale { query, addrs }))
                                }
                                Answer::Records(d, records) => {
                                    Some((d, Input::ResolvedServicesStale { query, records }))
                                }
                                _ => None,
                            };
                            if let Some((d, input)) = input {
                                let at = now.checked_add(d).unwrap_or_else(|| far(now));
                                queue.insert((at, seq), input);
                                seq += 1;
                            }
                            answer = *fresh;
                        }
                        match answer {
                            Answer::Addrs(d, addrs) => (d, Input::Resolved { query, addrs }),
                            Answer::Records(d, records) => {
                                (d, Input::ResolvedServices { query, records })
                            }
                            Answer::Fail(d) => (
                                d,
                                Input::ResolveFailed {
                                    query,
                                    error: format!("{kind} lookup failed"),
                                },
                            ),
                            Answer::Never | Answer::Stale(..) => continue,
                        }
                    }
                    Action::Connect {
                        attempt, endpoint, ..
                    } => {
                        let outcome = self
                            .net
                            .get(&(endpoint.addr(), endpoint.transport()))
                            .copied()
                            .unwrap_or(self.default_outcome);
                        match outcome.done() {
                            Some((d, done)) => (d, done_input(attempt, done)),
                            None => continue,
                        }
                    }
                    Action::ConnectHeld {
                        attempt, endpoint, ..
                    } => {
                        let outcome = self.outcome(&endpoint);
                        held.insert(attempt, outcome);
                        match outcome {
                            Outcome::Fail(d) => (d, done_input(attempt, Done::Failed)),
                            _ => continue,
                        }
                    }
                    Action::Handshake { attempt, .. } => {
                        let outcome = held.remove(&attempt).unwrap_or(Outcome::Hang);
                        match outcome.done().filter(|_| !outcome.is_fail()) {
                            Some((d, done)) => (d, done_input(attempt, done)),
                            None => continue,
                        }
                    }
                    Action::RetryEch {
                        attempt, endpoint, ..
                    } => {
                        queue.retain(|_, i| !is_of(i, attempt));
                        match self.retry_outcome(&endpoint).done() {
                            Some((d, done)) => (d, done_input(attempt, done)),
                            None => continue,
                        }
                    }
                    Action::Cancel { attempt } => {
                        queue.retain(|_, i| !is_of(i, attempt));
                        continue;
                    }
                    Action::Finish(result) => {
                        return Unchecked {
                            race,
                            result: Some(result),
                            t0,
                        }
                    }
                    other => panic!("unexpected action {other:?}"),
                };
                let at = now.checked_add(after).unwrap_or_else(|| far(now));
                queue.insert((at, seq), input);
                seq += 1;
            }
            let io = queue.keys().next().copied();
            match (io, race.poll_timeout()) {
                (Some((at, key)), timer) if timer.is_none_or(|t| at <= t) => {
                    let Some(input) = queue.remove(&(at, key)) else {
                        unreachable!("the key was just read")
                    };
                    now = at;
                    race.handle_input(input, now);
                }
                (_, Some(t)) => {
                    now = t;
                    race.handle_timeout(now);
                }
                (_, None) => {
                    return Unchecked {
                        race,
                        result: None,
                        t0,
                    }
                }
            }
        }
        panic!("the race did not finish within 10,000,000 steps");
    }
}

/// Whether `input` reports an outcome of `attempt`.
fn is_of(input: &Input<String>, attempt: AttemptId) -> bool {
    matches!(input, Input::Connected { attempt: a }
        | Input::ConnectFailed { attempt: a, .. }
        | Input::EchRejected { attempt: a, .. } if *a == attempt)
}

impl Scenario {
    /// Sets how a dial after an ECH retry goes, to one address over `transport` (port 443
    /// unless given).
    pub fn after_retry(mut self, addr: &str, transport: Transport, outcome: Outcome) -> Self {
        let addr = addr
            .parse::<SocketAddr>()
            .unwrap_or_else(|_| SocketAddr::new(ip(addr), 443));
        self.retried.insert((addr, transport), outcome);
        self
    }

    /// How dialing `endpoint` goes.
    fn outcome(&self, endpoint: &Endpoint) -> Outcome {
        self.net
            .get(&(endpoint.addr(), endpoint.transport()))
            .copied()
            .unwrap_or(self.default_outcome)
    }

    /// How the dial after an ECH retry to `endpoint` goes.
    fn retry_outcome(&self, endpoint: &Endpoint) -> Outcome {
        self.retried
            .get(&(endpoint.addr(), endpoint.transport()))
            .copied()
            .unwrap_or(Outcome::RejectEch(Duration::ZERO, None))
    }
}

/// What [`Scenario::run_unchecked`] produced.
#[derive(Debug)]
pub struct Unchecked {
    /// The race, finished unless it stalled.
    pub race: Race<String>,
    /// What `Finish` carried; `None` if the race stalled.
    pub result: Option<Result<eyeballs_core::Winner, eyeballs_core::Failure<String>>>,
    pub t0: Instant,
}

impl Unchecked {
    /// The failure, or a panic naming what happened instead.
    pub fn failure(&self) -> &eyeballs_core::Failure<String> {
        match &self.result {
            Some(Err(f)) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

impl Trace {
    /// Every attempt the race cancelled: (time of the cancel, "TRANSPORT addr").
    pub fn cancelled_tries(&self) -> Vec<(Duration, String)> {
        self.race
            .attempts()
            .iter()
            .filter(|a| a.status() == eyeballs_core::AttemptStatus::Cancelled)
            .map(|a| {
                let t = a.ended().map(|e| e.saturating_duration_since(self.t0));
                let what = format!("{} {}", a.endpoint().transport(), a.addr());
                (
                    t.unwrap_or_else(|| panic!("{what} cancelled but not ended")),
                    what,
                )
            })
            .collect()
    }

    /// The winner: (time it won, "TRANSPORT addr"), or `None`.
    pub fn winning_try(&self) -> Option<(Duration, String)> {
        let (t, _) = self.winner()?;
        let w = self.race.result()?.ok()?;
        let e = w.endpoint();
        Some((t, format!("{} {}", e.transport(), e.addr())))
    }
}

impl Trace {
    /// Every DNS query as (time sent, "KIND name"), in the order the race asked for them,
    /// for HEv3 timelines (the HTTPS query name, alias hops, TargetName follow-ups).
    pub fn queries(&self) -> Vec<(Duration, String)> {
        self.race
            .queries()
            .iter()
            .map(|q| {
                let t = q.sent().saturating_duration_since(self.t0);
                (t, format!("{} {}", q.kind(), q.name()))
            })
            .collect()
    }
}
