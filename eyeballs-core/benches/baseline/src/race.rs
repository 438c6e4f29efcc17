//! The race: one Happy Eyeballs connection establishment as a state machine.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::candidates::Candidates;
use crate::config::{Config, ConfigError, ATTEMPT_START_FLOOR};
use crate::error::{FailedAttempt, FailedQuery, Failure, FailureReason, Winner};
use crate::event::{Action, Input};
use crate::history::History;
use crate::record::{AttemptRecord, AttemptStatus, QueryRecord};
use crate::target::{AttemptId, QueryId, QueryKind, Target, TargetKind};

/// One Happy Eyeballs race: from a host name or addresses to one established connection.
///
/// See the [crate docs](crate) for the driver contract and complete examples.
#[derive(Debug)]
pub struct Race<E> {
    config: Config,
    port: u16,
    history: Option<History>,
    started: Instant,
    /// The latest time seen: time that goes backwards is clamped to it.
    now: Instant,
    deadline: Option<Instant>,
    queries: Vec<QueryRecord<E>>,
    queries_outstanding: usize,
    /// Set when addresses are held while AAAA is outstanding (R5).
    resolution_deadline: Option<Instant>,
    /// Attempts may start: the Resolution Delay question is settled.
    ready: bool,
    candidates: Candidates,
    attempts: Vec<AttemptRecord<E>>,
    in_flight: usize,
    last_start: Option<Instant>,
    /// When the next attempt is due by the Connection Attempt Delay, or earlier after a
    /// failure (G1).
    next_due: Option<Instant>,
    actions: VecDeque<Action<E>>,
    result: Option<Result<Winner, FailureReason>>,
    finished_at: Option<Instant>,
}

impl<E> Race<E> {
    /// Starts a race at `now` and queues its first actions: the DNS queries (AAAA first, R1;
    /// A first when IPv4 is preferred),
    /// or the first connection attempt for addresses given directly.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `config` does not pass [`Config::validate`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use eyeballs_core::{Action, Config, QueryKind, Race, Target};
    ///
    /// let mut race: Race<String> = Race::new(Target::host(443), Config::default(), Instant::now())?;
    /// assert!(matches!(race.poll_action(), Some(Action::Resolve { kind: QueryKind::Aaaa, .. })));
    /// assert!(matches!(race.poll_action(), Some(Action::Resolve { kind: QueryKind::A, .. })));
    /// assert!(race.poll_action().is_none());
    /// # Ok::<(), eyeballs_core::ConfigError>(())
    /// ```
    pub fn new(target: Target, config: Config, now: Instant) -> Result<Self, ConfigError> {
        Self::build(target, config, None, now)
    }

    /// Starts a race like [`Race::new`], ordering addresses and timing attempts with what
    /// `history` knows (a snapshot is taken; feed the outcome back with
    /// [`History::record_race`]).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `config` does not pass [`Config::validate`].
    pub fn with_history(
        target: Target,
        config: Config,
        history: &History,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        Self::build(target, config, Some(history.clone()), now)
    }

    fn build(
        target: Target,
        config: Config,
        history: Option<History>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut race = Race {
            config,
            port: 0,
            history,
            started: now,
            now,
            deadline: config.timeout.map(|t| now + t),
            queries: Vec::new(),
            queries_outstanding: 0,
            resolution_deadline: None,
            ready: false,
            candidates: Candidates::new(),
            attempts: Vec::new(),
            in_flight: 0,
            last_start: None,
            next_due: None,
            actions: VecDeque::new(),
            result: None,
            finished_at: None,
        };
        match target.kind {
            TargetKind::Host { port, combined } => {
                race.port = port;
                let policy = config.family_policy;
                // With NAT64 the A answer is synthesized into IPv6 (R36), so it is needed
                // even when only IPv6 is allowed.
                let want_a = policy.allows(false) || config.nat64.is_some();
                if combined {
                    race.ask(QueryKind::Both, now);
                } else if policy.prefers_v6() {
                    // R1: AAAA first.
                    if policy.allows(true) {
                        race.ask(QueryKind::Aaaa, now);
                    }
                    if want_a {
                        race.ask(QueryKind::A, now);
                    }
                } else {
                    // The caller prefers IPv4: the mirror image of R1.
                    if want_a {
                        race.ask(QueryKind::A, now);
                    }
                    if policy.allows(true) {
                        race.ask(QueryKind::Aaaa, now);
                    }
                }
            }
            TargetKind::Addrs(addrs) => {
                // Addresses added later (`Input::AddressesChanged`) take this port.
                race.port = addrs.first().map_or(0, SocketAddr::port);
                race.candidates
                    .add(addrs, &race.config, race.history.as_ref(), now);
            }
        }
        race.step(now);
        Ok(race)
    }

    /// Feeds one input at `now`, then fires any timer that is due.
    ///
    /// Input comes first: a connection reported at 260 ms wins even though the 250 ms timer
    /// would also start another attempt in the same call. Unknown, late and duplicate ids are
    /// ignored, and nothing is ever accepted after the race finished. A `Connected` for an
    /// attempt that was already cancelled needs no answer: its [`Action::Cancel`] already told
    /// the driver to close it.
    pub fn handle_input(&mut self, input: Input<E>, now: Instant) {
        let now = self.clamp(now);
        if self.result.is_some() {
            return;
        }
        match input {
            Input::Resolved { query, addrs } => self.on_answer(query, Ok(addrs), now),
            Input::ResolveFailed { query, error } => self.on_answer(query, Err(error), now),
            Input::Connected { attempt } => {
                if self.end_attempt(attempt, AttemptStatus::Connected, None, now) {
                    self.win(attempt, now);
                }
            }
            Input::ConnectFailed { attempt, error } => {
                if self.end_attempt(attempt, AttemptStatus::Failed, Some(error), now) {
                    // G1: a failure brings the next attempt forward; R28's 10 ms floor
                    // between starts still holds (see `next_start_at`).
                    self.next_due = Some(self.next_due.map_or(now, |due| due.min(now)));
                }
            }
            Input::AddressesChanged { added, removed } => {
                self.candidates.remove(&removed);
                let port = self.port;
                self.candidates.add(
                    added.into_iter().map(|ip| SocketAddr::new(ip, port)),
                    &self.config,
                    self.history.as_ref(),
                    now,
                );
            }
            Input::Aborted => self.fail(FailureReason::Aborted, now),
        }
        self.step(now);
    }

    /// Fires whatever timer is due at `now`: the Resolution Delay, the Connection Attempt
    /// Delay, the overall deadline. A call before any deadline changes nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clamp(now);
        self.step(now);
    }

    /// Returns the next action for the driver, or `None` when there is nothing to do until
    /// an input or [`Race::poll_timeout`]'s deadline. [`Action::Finish`] is the last one.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action<E>> {
        self.actions.pop_front()
    }

    /// Returns when [`Race::handle_timeout`] must next be called, or `None` when only an
    /// input can move the race on (or it is finished). After a `handle_*` call at `now`, the
    /// deadline is always later than `now`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.result.is_some() {
            return None;
        }
        // With nothing held (every address withdrawn, say) there is nothing to start when
        // the Resolution Delay ends, so it is no deadline.
        let resolution = self
            .resolution_deadline
            .filter(|_| !self.ready && !self.candidates.is_empty());
        let next_attempt = if self.ready && !self.candidates.is_empty() && !self.at_cap() {
            self.next_start_at()
        } else {
            None
        };
        [self.deadline, resolution, next_attempt]
            .into_iter()
            .flatten()
            .min()
    }

    /// Returns whether the race has decided; [`Action::Finish`] is queued or was drained.
    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// Returns the outcome once finished: the winner, or why it failed.
    pub fn result(&self) -> Option<Result<Winner, FailureReason>> {
        self.result
    }

    /// Returns whether the race failed because its deadline passed.
    pub fn is_timed_out(&self) -> bool {
        matches!(self.result, Some(Err(FailureReason::TimedOut { .. })))
    }

    /// Returns when the race started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Returns when the race finished.
    pub fn finished(&self) -> Option<Instant> {
        self.finished_at
    }

    /// Returns every attempt so far, in the order they started (index = [`AttemptId::index`]).
    pub fn attempts(&self) -> &[AttemptRecord<E>] {
        &self.attempts
    }

    /// Returns every DNS query, in the order they were asked for (index = [`QueryId::index`]).
    pub fn queries(&self) -> &[QueryRecord<E>] {
        &self.queries
    }

    /// Returns how many attempts are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn clamp(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    fn ask(&mut self, kind: QueryKind, now: Instant) {
        let query = QueryId(self.queries.len());
        self.queries.push(QueryRecord {
            id: query,
            kind,
            sent: now,
            answered: None,
            addrs: Vec::new(),
            failed: false,
            error: None,
        });
        self.queries_outstanding += 1;
        self.actions.push_back(Action::Resolve { query, kind });
    }

    fn on_answer(&mut self, query: QueryId, answer: Result<Vec<IpAddr>, E>, now: Instant) {
        let Some(record) = self.queries.get_mut(query.0) else {
            return;
        };
        if record.answered.is_some() {
            return;
        }
        record.answered = Some(now);
        self.queries_outstanding -= 1;
        match answer {
            Ok(addrs) => {
                let port = self.port;
                self.candidates.add(
                    addrs.iter().map(|ip| SocketAddr::new(*ip, port)),
                    &self.config,
                    self.history.as_ref(),
                    now,
                );
                self.queries[query.0].addrs = addrs;
            }
            Err(error) => {
                record.failed = true;
                record.error = Some(error);
            }
        }
    }

    /// Marks a `Connecting` attempt as ended; returns `false` for unknown or ended attempts.
    fn end_attempt(
        &mut self,
        attempt: AttemptId,
        status: AttemptStatus,
        error: Option<E>,
        now: Instant,
    ) -> bool {
        match self.attempts.get_mut(attempt.0) {
            Some(a) if a.status == AttemptStatus::Connecting => {
                a.status = status;
                a.ended = Some(now);
                a.error = error;
                self.in_flight -= 1;
                true
            }
            _ => false,
        }
    }

    /// Moves the race on at `now`: deadline, resolution, attempts, exhaustion, in that order.
    fn step(&mut self, now: Instant) {
        if self.result.is_some() {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            let reason = FailureReason::TimedOut {
                after: now.saturating_duration_since(self.started),
                in_flight: self.in_flight,
            };
            self.fail(reason, now);
            return;
        }
        self.update_ready(now);
        if self.ready
            && !self.candidates.is_empty()
            && !self.at_cap()
            && self.next_start_at().is_none_or(|at| now >= at)
        {
            if let Some(addr) = self.candidates.pop_next(&self.config) {
                self.start(addr, now);
            }
        }
        // G3: never fail while a query is outstanding: a late answer may still succeed.
        if self.in_flight == 0 && self.candidates.is_empty() && self.queries_outstanding == 0 {
            let reason = if !self.attempts.is_empty() {
                FailureReason::AllAttemptsFailed
            } else if self.queries.iter().any(|q| q.failed) {
                FailureReason::DnsFailed
            } else {
                FailureReason::NoAddresses
            };
            self.fail(reason, now);
        }
    }

    /// Settles whether attempts may start (RFC 8305 §3).
    fn update_ready(&mut self, now: Instant) {
        if self.ready || self.candidates.is_empty() {
            // G5: with nothing held (say A answered empty), there is nothing to wait for.
            return;
        }
        // The awaited family is the preferred one (IPv6 by default), unless history says it
        // is broken for this host and the other is not: then the other takes its place.
        let prefer_v6 = self.config.family_policy.prefers_v6();
        let awaited_v6 = prefer_v6 != self.candidates.should_flip(prefer_v6);
        let awaited_outstanding = self.queries.iter().any(|q| {
            q.answered.is_none()
                && match q.kind {
                    QueryKind::Aaaa => awaited_v6,
                    QueryKind::A => !awaited_v6,
                    QueryKind::Both => true,
                }
        });
        // R4/R6: a positive AAAA answer starts at once. R7: with AAAA answered negatively or
        // failed (or never asked), start with what is held.
        if self.candidates.has_family(awaited_v6) || !awaited_outstanding {
            self.ready = true;
            return;
        }
        // R5: addresses held, AAAA outstanding: wait the Resolution Delay from now.
        let deadline = *self
            .resolution_deadline
            .get_or_insert(now + self.config.resolution_delay);
        if now >= deadline {
            self.ready = true;
        }
    }

    fn at_cap(&self) -> bool {
        self.config
            .max_attempts_in_flight
            .is_some_and(|cap| self.in_flight >= cap)
    }

    /// When the next attempt may start: `None` before the first one; otherwise the due time,
    /// but never within 10 ms of the previous start (R28).
    fn next_start_at(&self) -> Option<Instant> {
        let last = self.last_start?;
        let floor = last + ATTEMPT_START_FLOOR;
        Some(self.next_due.map_or(floor, |due| due.max(floor)))
    }

    fn start(&mut self, addr: SocketAddr, now: Instant) {
        let attempt = AttemptId(self.attempts.len());
        self.attempts.push(AttemptRecord {
            id: attempt,
            addr,
            started: now,
            ended: None,
            status: AttemptStatus::Connecting,
            error: None,
        });
        self.in_flight += 1;
        self.last_start = Some(now);
        // R26: with history, wait until this address's second SYN would be sent (its RTO),
        // within [min, max] (R27, R30); otherwise the fixed delay.
        let delay = self
            .history
            .as_ref()
            .and_then(|h| h.retransmission_timeout(addr, now))
            .map_or_else(
                || self.config.fixed_attempt_delay(),
                |rto| self.config.clamp_history_delay(rto),
            );
        self.next_due = Some(now + delay);
        self.actions.push_back(Action::Connect { attempt, addr });
    }

    /// R22/R23: cancel every other attempt, ignore untried addresses, finish once.
    fn win(&mut self, winner: AttemptId, now: Instant) {
        self.cancel_in_flight(now);
        let addr = self.attempts[winner.0].addr;
        let won = Winner {
            attempt: winner,
            addr,
        };
        self.result = Some(Ok(won));
        self.finished_at = Some(now);
        self.actions.push_back(Action::Finish(Ok(won)));
    }

    fn fail(&mut self, reason: FailureReason, now: Instant) {
        self.cancel_in_flight(now);
        let attempts = self
            .attempts
            .iter_mut()
            .map(|a| FailedAttempt {
                attempt: a.id,
                addr: a.addr,
                error: a.error.take(),
            })
            .collect();
        let queries = self
            .queries
            .iter_mut()
            .filter_map(|q| {
                q.error.take().map(|error| FailedQuery {
                    query: q.id,
                    kind: q.kind,
                    error,
                })
            })
            .collect();
        self.result = Some(Err(reason));
        self.finished_at = Some(now);
        self.actions
            .push_back(Action::Finish(Err(Failure::new(reason, attempts, queries))));
    }

    fn cancel_in_flight(&mut self, now: Instant) {
        for a in &mut self.attempts {
            if a.status == AttemptStatus::Connecting {
                a.status = AttemptStatus::Cancelled;
                a.ended = Some(now);
                self.actions.push_back(Action::Cancel { attempt: a.id });
            }
        }
        self.in_flight = 0;
    }
}
