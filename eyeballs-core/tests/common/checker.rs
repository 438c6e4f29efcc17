//! Invariants every driver can observe from outside the race, checked after every step.
//!
//! Shared by the simulator, the property tests and the fuzz target (which includes this
//! file by path), so one list of invariants guards all three.

use std::time::{Duration, Instant};

use eyeballs_core::{
    Action, AttemptId, EchConfig, Endpoint, FailureReason, Input, QueryId, QueryKind, Race,
    Transport, ATTEMPT_START_FLOOR, MAX_ALIAS_DEPTH, MAX_TARGET_NAMES, TCP_AFTER_QUIC_DELAY,
};

/// Watches one race from the driver's side and panics on the first broken invariant.
#[derive(Debug)]
pub struct Checker {
    /// Every attempt the race started: address, start time, ended, connected.
    attempts: Vec<Seen>,
    last_start: Option<Instant>,
    /// A failure arrived since the last start (G1 allows an early start then).
    failure_since_start: bool,
    finished: bool,
    /// An HTTPS query was asked: follow-up queries may come mid-race.
    https: bool,
    /// The fixed Connection Attempt Delay, when the race has no history (so no start may
    /// come earlier than it unless a failure arrived).
    fixed_delay: Option<Duration>,
    /// `Config::max_attempts_in_flight`, when the driver told the checker.
    in_flight_cap: Option<usize>,
    /// `Config::max_endpoints`, when the driver told the checker.
    endpoint_cap: Option<usize>,
    /// The overall deadline (race start + `Config::timeout`; `None` inside: none, or not
    /// representable), when the driver told the checker.
    deadline: Option<Option<Instant>>,
    /// Which families an endpoint may have (`[v6, v4]`), when the driver told the checker.
    families: [bool; 2],
    /// `Config::tcp_after_quic_delay` as the race clamps it: TCP right after QUIC to the
    /// same address may start this soon.
    follow_up: Duration,
    /// A `DelaySchedule::Multiplier` (base, factor, maximum delay): the n-th start's delay
    /// replaces `fixed_delay`.
    multiplier: Option<(Duration, u32, Duration)>,
    /// `Config::ech`: no ClientHello (a `Connect`, a `Handshake`) while an HTTPS query is
    /// outstanding (V34), and every held attempt released or cancelled once none is.
    ech: bool,
    /// The HTTPS queries asked and not answered yet.
    https_outstanding: Vec<QueryId>,
    /// How many alternative services the target has (each may add queries).
    alts: usize,
    /// The race's first actions are being drained: HTTPS queries after the first are the
    /// alternative services' (their answers hold only their own endpoints).
    building: bool,
    /// An ECH rejection with retry configs that the race must answer with `RetryEch` in
    /// the same drain (V54): the attempt and the configs.
    retry_due: Option<(AttemptId, EchConfig)>,
}

#[derive(Debug, Clone)]
struct Seen {
    endpoint: Endpoint,
    ended: bool,
    connected: bool,
    /// Dialed again with ECH retry configs (V54).
    retried: bool,
    /// Started with its ClientHello held, and whether it was released since (HG15).
    held: bool,
    released: bool,
    /// Its endpoints before an ECH retry or a released ClientHello changed it: started too,
    /// so never started again.
    earlier: Vec<Endpoint>,
}

impl Checker {
    /// A checker; `fixed_delay` is the effective attempt delay when it is known exactly.
    pub fn new(fixed_delay: Option<Duration>) -> Self {
        Checker {
            attempts: Vec::new(),
            last_start: None,
            failure_since_start: false,
            finished: false,
            https: false,
            fixed_delay,
            in_flight_cap: None,
            endpoint_cap: None,
            deadline: None,
            families: [true, true],
            retry_due: None,
            ech: false,
            https_outstanding: Vec::new(),
            alts: 0,
            building: true,
            follow_up: TCP_AFTER_QUIC_DELAY,
            multiplier: None,
        }
    }

    /// Also holds the race to `Config::max_attempts_in_flight`: no start while `cap`
    /// attempts are in flight.
    pub fn in_flight_cap(mut self, cap: Option<usize>) -> Self {
        self.in_flight_cap = cap;
        self
    }

    /// Also holds the race to `Config::max_endpoints`: at most `cap` attempts in all.
    pub fn endpoint_cap(mut self, cap: Option<usize>) -> Self {
        self.endpoint_cap = cap;
        self
    }

    /// Also holds the race to its overall deadline (`Config::timeout` after the race's
    /// start; `None` when there is none or it cannot be represented): the race never sleeps
    /// past it, starts nothing at or after it, and does not time out before it.
    pub fn deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Also holds the race to its family policy: no endpoint of a family it does not allow
    /// (`V6Only`, `V4Only`), by the address connected to (with NAT64, an IPv4 endpoint's is
    /// IPv6 when it goes through NAT64).
    pub fn families(mut self, v6: bool, v4: bool) -> Self {
        self.families = [v6, v4];
        self
    }

    /// Also holds the race to ECH's gate (`Config::ech`): no ClientHello before service
    /// information, held attempts released or cancelled once it is in (V34, V55, HG15).
    pub fn ech(mut self, on: bool) -> Self {
        self.ech = on;
        self
    }

    /// Allows the queries of `n` alternative services (`Target::alt_svc`).
    pub fn alts(mut self, n: usize) -> Self {
        self.alts = n;
        self
    }

    /// Also holds TCP started right after QUIC to the same address to `delay` (the race's
    /// `tcp_after_quic_delay`, clamped), instead of the default's 50 ms.
    pub fn follow_up(mut self, delay: Duration) -> Self {
        self.follow_up = delay;
        self
    }

    /// Holds the n-th start to a `DelaySchedule::Multiplier` of `base` and `factor` within
    /// [10 ms, `max`], instead of a fixed delay.
    pub fn multiplier(mut self, schedule: Option<(Duration, u32, Duration)>) -> Self {
        self.multiplier = schedule;
        self
    }

    /// Returns whether `Finish` was seen.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Returns the endpoints started so far, in order.
    pub fn started(&self) -> Vec<Endpoint> {
        self.attempts.iter().map(|a| a.endpoint.clone()).collect()
    }

    /// Notes an input the driver is about to feed; mirrors which attempts end by it.
    pub fn on_input<E>(&mut self, input: &Input<E>) {
        if self.finished {
            return;
        }
        // A stale answer settles service information too (V13, HG18).
        if let Input::Resolved { query, .. }
        | Input::ResolvedServices { query, .. }
        | Input::ResolvedStale { query, .. }
        | Input::ResolvedServicesStale { query, .. }
        | Input::ResolveFailed { query, .. } = input
        {
            self.https_outstanding.retain(|q| q != query);
        }
        let (attempt, connected) = match input {
            Input::Connected { attempt } => (*attempt, true),
            Input::ConnectFailed { attempt, .. } => (*attempt, false),
            Input::EchRejected { attempt, retry, .. } => {
                // V54: the first rejection of an attempt that offered ECH, with retry
                // configs, is retried; anything else fails the attempt.
                if let (Some(a), Some(retry)) = (self.attempts.get(attempt.index()), retry) {
                    if !a.ended && !a.retried && a.endpoint.ech().is_some() {
                        self.retry_due = Some((*attempt, retry.clone()));
                        return;
                    }
                }
                (*attempt, false)
            }
            _ => return,
        };
        if let Some(a) = self.attempts.get_mut(attempt.index()) {
            if !a.ended {
                a.ended = true;
                a.connected = connected;
                if !connected {
                    self.failure_since_start = true;
                }
            }
        }
    }

    /// Drains the race's actions after a `handle_*` call (or construction) at `now`, checks
    /// each, and returns them for the driver to perform.
    pub fn drain<E: std::fmt::Debug>(
        &mut self,
        race: &mut Race<E>,
        now: Instant,
    ) -> Vec<Action<E>> {
        let mut out = Vec::new();
        while let Some(action) = race.poll_action() {
            assert!(!self.finished, "an action after Finish: {action:?}");
            self.check(&action, race, now);
            out.push(action);
        }
        assert_eq!(
            race.is_finished(),
            self.finished,
            "is_finished() disagrees with the actions"
        );
        self.building = false;
        if let Some((attempt, _)) = self.retry_due.take() {
            panic!("ECH rejection of attempt {attempt} with retry configs not retried (V54)");
        }
        if self.ech && self.https_outstanding.is_empty() && !self.finished {
            let waiting = self
                .attempts
                .iter()
                .position(|a| a.held && !a.released && !a.ended);
            if let Some(a) = waiting {
                panic!("attempt #{a} still held with service information in (HG15)");
            }
        }
        match race.poll_timeout() {
            Some(t) => {
                assert!(!self.finished, "a deadline after Finish");
                assert!(
                    t > now,
                    "poll_timeout {t:?} is not after now {now:?}: busy loop"
                );
                if let Some(Some(deadline)) = self.deadline {
                    assert!(
                        t <= deadline,
                        "poll_timeout {t:?} sleeps past the overall deadline {deadline:?}"
                    );
                }
            }
            None if !self.finished => {
                assert!(
                    !matches!(self.deadline, Some(Some(_))),
                    "no deadline although the race has an overall timeout"
                );
                let in_flight = self.attempts.iter().filter(|a| !a.ended).count();
                let dns_outstanding = race.queries().iter().any(|q| q.answered().is_none());
                assert!(
                    in_flight > 0 || dns_outstanding,
                    "no deadline, no attempt in flight, no DNS outstanding: the race is stuck"
                );
            }
            None => {}
        }
        out
    }

    fn check<E>(&mut self, action: &Action<E>, race: &Race<E>, now: Instant) {
        match action {
            Action::Connect {
                attempt, endpoint, ..
            }
            | Action::ConnectHeld {
                attempt, endpoint, ..
            } => {
                let held = matches!(action, Action::ConnectHeld { .. });
                if held {
                    assert!(self.ech, "{endpoint}: a held ClientHello without ECH (V55)");
                    assert_eq!(endpoint.transport(), Transport::Tcp, "QUIC held (HG15)");
                } else if self.ech {
                    assert!(
                        self.https_outstanding.is_empty(),
                        "{endpoint}: a ClientHello before service information (V34)"
                    );
                }
                assert_eq!(
                    attempt.index(),
                    self.attempts.len(),
                    "attempt ids count from 0"
                );
                let alike = |e: &Endpoint| {
                    e.addr() == endpoint.addr()
                        && e.transport() == endpoint.transport()
                        && e.ech() == endpoint.ech()
                };
                let same = |a: &Seen| alike(&a.endpoint) || a.earlier.iter().any(alike);
                assert!(
                    !self.attempts.iter().any(same),
                    "{endpoint} attempted twice (HG11)"
                );
                assert!(
                    self.families[usize::from(endpoint.addr().is_ipv4())],
                    "{endpoint} is of a family the policy excludes"
                );
                if let Some(Some(deadline)) = self.deadline {
                    assert!(
                        now < deadline,
                        "{endpoint} started at or after the deadline"
                    );
                }
                if let Some(cap) = self.in_flight_cap {
                    let in_flight = self.attempts.iter().filter(|a| !a.ended).count();
                    assert!(
                        in_flight < cap,
                        "{endpoint} started with {in_flight} attempts in flight (cap {cap})"
                    );
                }
                if let Some(cap) = self.endpoint_cap {
                    assert!(
                        self.attempts.len() < cap,
                        "{endpoint} is attempt {} (cap {cap} endpoints)",
                        self.attempts.len() + 1
                    );
                }
                if let Some(last) = self.last_start {
                    let gap = now.saturating_duration_since(last);
                    assert!(gap >= ATTEMPT_START_FLOOR, "two starts {gap:?} apart (R28)");
                    let n = self.attempts.len();
                    let scheduled = match self.multiplier {
                        Some((base, factor, max)) => Some(multiplied(base, factor, max, n)),
                        None => self.fixed_delay,
                    };
                    // V29: TCP right after QUIC to the same address may follow sooner.
                    let previous = self.attempts.last().map(|a| &a.endpoint);
                    let follow_up = previous.is_some_and(|p| {
                        p.transport() == Transport::Quic
                            && endpoint.transport() == Transport::Tcp
                            && p.addr() == endpoint.addr()
                    });
                    let expected = match scheduled {
                        Some(d) if follow_up => Some(d.min(self.follow_up)),
                        other => other,
                    };
                    if let Some(delay) = expected {
                        assert!(
                            gap >= delay || self.failure_since_start,
                            "a start {gap:?} after the previous one, before the {delay:?} \
                             delay and with no failure in between"
                        );
                    }
                }
                self.last_start = Some(now);
                self.failure_since_start = false;
                self.attempts.push(Seen {
                    endpoint: endpoint.clone(),
                    ended: false,
                    connected: false,
                    retried: false,
                    earlier: Vec::new(),
                    held: matches!(action, Action::ConnectHeld { .. }),
                    released: false,
                });
            }
            Action::Handshake {
                attempt, endpoint, ..
            } => {
                assert!(
                    self.https_outstanding.is_empty(),
                    "{endpoint}: a released ClientHello before service information (V34)"
                );
                let a = self
                    .attempts
                    .get_mut(attempt.index())
                    .unwrap_or_else(|| panic!("Handshake of unknown attempt {attempt}"));
                assert!(
                    a.held && !a.released && !a.ended,
                    "Handshake of {attempt}: {a:?}"
                );
                assert_eq!(
                    endpoint.addr(),
                    a.endpoint.addr(),
                    "Handshake moves the address"
                );
                assert_eq!(endpoint.transport(), a.endpoint.transport());
                a.released = true;
                a.earlier
                    .push(std::mem::replace(&mut a.endpoint, endpoint.clone()));
            }
            Action::RetryEch {
                attempt, endpoint, ..
            } => {
                let due = self.retry_due.take();
                let Some((due_attempt, config)) = due else {
                    panic!("RetryEch of {attempt} without an ECH rejection to answer");
                };
                assert_eq!(*attempt, due_attempt, "RetryEch of another attempt");
                let a = &mut self.attempts[attempt.index()];
                assert!(
                    !a.ended && !a.retried,
                    "RetryEch of an ended or retried attempt"
                );
                assert_eq!(
                    endpoint.addr(),
                    a.endpoint.addr(),
                    "RetryEch changes the address"
                );
                assert_eq!(endpoint.transport(), a.endpoint.transport());
                assert_eq!(
                    endpoint.alpn(),
                    a.endpoint.alpn(),
                    "RetryEch changes the ALPN"
                );
                assert_eq!(
                    endpoint.ech(),
                    Some(&config),
                    "RetryEch without the retry configs"
                );
                a.retried = true;
                a.earlier
                    .push(std::mem::replace(&mut a.endpoint, endpoint.clone()));
            }
            Action::Cancel { attempt } => {
                let a = self
                    .attempts
                    .get_mut(attempt.index())
                    .unwrap_or_else(|| panic!("cancel of unknown attempt {attempt}"));
                assert!(!a.ended, "attempt {attempt} ended twice (cancel after end)");
                a.ended = true;
                // A held attempt cancelled at the gate (V35) brings the next start forward,
                // as a failure does.
                if a.held && !a.released {
                    self.failure_since_start = true;
                }
            }
            Action::Finish(result) => {
                self.finished = true;
                if let Some(a) = self.attempts.iter().position(|a| !a.ended) {
                    panic!("Finish while attempt #{a} is neither ended nor cancelled");
                }
                match result {
                    Ok(w) => {
                        let a = &self.attempts[w.attempt().index()];
                        assert!(a.connected, "the winner never connected");
                        assert_eq!(&a.endpoint, w.endpoint(), "winner endpoint");
                        let others = self.attempts.iter().filter(|a| a.connected).count();
                        assert_eq!(others, 1, "more than one attempt counted as connected");
                    }
                    Err(f) => {
                        assert!(
                            self.attempts.iter().all(|a| !a.connected),
                            "failed although an attempt connected"
                        );
                        let dns_outstanding = race.queries().iter().any(|q| q.answered().is_none());
                        if let (FailureReason::TimedOut { .. }, Some(deadline)) =
                            (f.reason(), self.deadline)
                        {
                            assert!(
                                deadline.is_some_and(|d| now >= d),
                                "timed out at {now:?}, before the deadline {deadline:?}"
                            );
                        }
                        let gave_up = matches!(
                            f.reason(),
                            FailureReason::TimedOut { .. }
                                | FailureReason::Aborted
                                | FailureReason::ServiceQueryFailed
                                | FailureReason::UpgradeToHttps
                        );
                        assert!(
                            gave_up || !dns_outstanding,
                            "failed ({:?}) while DNS is outstanding (G3)",
                            f.reason()
                        );
                        assert_eq!(f.attempts().len(), self.attempts.len(), "failure lists all");
                    }
                }
            }
            Action::Resolve { query, kind, .. } => {
                // The origin's HTTPS query (the first) and its alias hops gate ClientHellos;
                // the alternatives' (asked with it) hold only their own endpoints.
                let alternative = self.building && self.https;
                if *kind == QueryKind::Https && !alternative {
                    self.https_outstanding.push(*query);
                }
                self.https |= *kind == QueryKind::Https;
                if self.https {
                    // HTTPS: alias hops, and AAAA/A for every alias target and TargetName;
                    // an HTTPS query for each alternative service.
                    let most = 1 + MAX_ALIAS_DEPTH + 2 * (MAX_TARGET_NAMES + 1) + self.alts;
                    assert!(query.index() < most, "more than {most} queries");
                } else {
                    assert!(
                        self.attempts.is_empty(),
                        "DNS asked for after attempts started"
                    );
                    // AAAA and A, for the host and each alternative service's host.
                    let most = 2 * (1 + self.alts);
                    assert!(query.index() < most, "more than {most} queries");
                }
            }
            _ => {}
        }
    }
}

/// The delay a multiplier schedule gives after the `n`-th start (from 1), within
/// [10 ms, `max`], computed as its docs say: `base × factor^(n−1)`, 0 counting as 1.
pub fn multiplied(base: Duration, factor: u32, max: Duration, n: usize) -> Duration {
    let mut d = base;
    for _ in 1..n {
        d = d.saturating_mul(factor.max(1));
    }
    d.clamp(ATTEMPT_START_FLOOR, max)
}
