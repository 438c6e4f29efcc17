//! The race: one Happy Eyeballs connection establishment as a state machine.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::candidates::{is_ipv6_only, Candidates, Context, Details};
use crate::config::{Config, ConfigError, DelaySchedule, ATTEMPT_START_FLOOR};
use crate::endpoint::{EchConfig, Endpoint, Protocols, Transport};
use crate::error::{FailedAttempt, FailedQuery, Failure, FailureReason, Winner};
use crate::event::{Action, Input};
use crate::history::{History, HistoryCopy, Path, Snapshot};
use crate::id::{AttemptId, QueryId, QueryKind};
use crate::record::{AttemptRecord, AttemptStatus, QueryRecord};
use crate::resolution::{Ask, QueryFor, Resolution, MAX_ANSWER_ADDRS, MAX_ANSWER_RECORDS};
use crate::rng::SplitMix64;
use crate::service::ServiceRecord;
use crate::small::{SmallBuf, SmallQueue};
use crate::source::{Routes, Source};
use crate::target::{Target, TargetKind};

/// The most destinations whose source address a race remembers
/// ([`Input::Sources`](crate::Input::Sources)); facts beyond it are ignored.
pub const MAX_SOURCES: usize = 4096;

/// The longest waiting list for which [`State::rebuild`] reserves room for twice its
/// attempts while a query is outstanding (at most this many records more, 45 KB, never
/// touched unless used).
const ROOM_DOUBLED_UP_TO: usize = 256;

/// One Happy Eyeballs race: from a host name or addresses to one established connection.
///
/// See the [crate docs](crate) for the driver contract and complete examples.
#[derive(Debug)]
pub struct Race<E>(Box<State<E>>);

/// The state of a race, boxed: a race moves as one pointer, and its small buffers
/// live inline in the box (one allocation for all of them).
#[derive(Debug)]
struct State<E> {
    config: Config,
    /// [`Config::fixed_attempt_delay`], the delay after each start without history.
    attempt_delay: Duration,
    protocols: Protocols,
    /// A race through a proxy (V60): the origin's HTTPS records give ALPN and ECH only.
    proxied: bool,
    /// What the race copied of its history (`None`: built without one); boxed, so that a
    /// race without history carries a pointer, not the snapshot's vectors.
    history: Option<Box<Snapshot>>,
    /// Destinations whose source address arrived since the last copy from the history
    /// (inline: a literal's one or two).
    uncopied: SmallBuf<IpAddr, 2>,
    started: Instant,
    /// The latest time seen: time that goes backwards is clamped to it.
    now: Instant,
    deadline: Option<Instant>,
    queries: Vec<QueryRecord<E>>,
    /// What each query is for, by query index.
    query_for: Vec<QueryFor>,
    queries_outstanding: usize,
    resolution: Resolution,
    sources: Routes,
    rng: SplitMix64,
    /// Armed when addresses are first held while the race still waits for the preferred
    /// family or for service information (R5, V5, HG7); the inner `None` is a delay too long
    /// to represent, which never ends.
    resolution_deadline: Option<Option<Instant>>,
    /// Attempts may start: the Resolution Delay question is settled.
    ready: bool,
    candidates: Candidates,
    attempts: Vec<AttemptRecord<E>>,
    in_flight: usize,
    last_start: Option<Instant>,
    /// The last start plus R28's 10 ms floor: no start before it (`None`: before the first
    /// start, or not representable).
    floor: Option<Instant>,
    /// When the next attempt is due by the Connection Attempt Delay, or earlier after a
    /// failure (G1); `None` before the first attempt, or when the delay cannot be represented.
    next_due: Option<Instant>,
    /// A failure brought the next attempt forward, and it has not started yet.
    expedited: bool,
    /// Attempts in flight whose ClientHello is held (HG15).
    held: usize,
    /// After a QUIC start: when TCP to the same address may follow (V29's shorter delay,
    /// [`Config::tcp_after_quic_delay`]), that address, and the QUIC attempt. It applies
    /// while that TCP endpoint is the next one, and ends with the next start or the QUIC
    /// attempt's progress (UDP works there).
    follow_up: Option<(Instant, SocketAddr, AttemptId)>,
    /// The target is an `http` origin: a positive HTTPS answer ends the race with
    /// [`FailureReason::UpgradeToHttps`] (V37).
    http_origin: bool,
    /// Actions not yet drained, as the records they refer to (built when drained): a few
    /// inline, so a small race allocates no queue.
    actions: SmallQueue<Queued, 4>,
    /// The actions queued as [`Queued::Built`], in order (a few at most: a failure's
    /// report, or actions whose endpoint changed before they were drained).
    built: Vec<Action<E>>,
    result: Option<Result<Winner, FailureReason>>,
    finished_at: Option<Instant>,
}

impl<E> Race<E> {
    /// Starts a race at `now` and queues its first actions: the DNS queries (HTTPS if asked,
    /// then AAAA and A, AAAA first: R1, V3; A first when IPv4 is preferred), or the first
    /// connection attempt for addresses given directly.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `config` does not pass [`Config::validate`], or the target's
    /// protocols hold an invalid ALPN id.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use eyeballs_core::{Action, Config, QueryKind, Race, Target};
    ///
    /// let target = Target::host("example.test", 443);
    /// let mut race: Race<String> = Race::new(target, Config::default(), Instant::now())?;
    /// assert!(matches!(race.poll_action(), Some(Action::Resolve { kind: QueryKind::Aaaa, .. })));
    /// assert!(matches!(race.poll_action(), Some(Action::Resolve { kind: QueryKind::A, .. })));
    /// assert!(race.poll_action().is_none());
    /// # Ok::<(), eyeballs_core::ConfigError>(())
    /// ```
    pub fn new(target: Target, config: Config, now: Instant) -> Result<Self, ConfigError> {
        State::build(target, config, None, now, None).map(Race)
    }

    /// Starts a race like [`Race::new`], ordering endpoints and timing attempts with what
    /// `history` knows (feed the outcome back with [`History::record_race`]). History
    /// applies only to destinations whose source address the driver reports, so it never
    /// crosses networks (R15).
    ///
    /// The race copies only what it needs, never the whole history: the entries of the
    /// destinations whose source the target gives ([`Target::sources`]: a literal's
    /// addresses), and, per source address, whether each transport fails from it (HG3).
    /// Destinations learned later get theirs with [`Race::handle_history`].
    ///
    /// # Errors
    ///
    /// As [`Race::new`].
    pub fn with_history(
        target: Target,
        config: Config,
        history: &History,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        State::build(target, config, Some(HistoryFrom::Store(history)), now, None).map(Race)
    }

    /// Starts a race like [`Race::with_history`], from what [`History::copy_for`] copied of
    /// the history for this `target` (at this `now`): the same race, built without the
    /// history at hand, so a driver holds the history's lock only for the copy. Later
    /// destinations copy from the history as usual ([`Race::handle_history`]).
    ///
    /// # Errors
    ///
    /// As [`Race::new`].
    pub fn with_history_copy(
        target: Target,
        config: Config,
        history: HistoryCopy,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        State::build(
            target,
            config,
            Some(HistoryFrom::Copy(history.0)),
            now,
            None,
        )
        .map(Race)
    }

    /// Starts a new race in the memory of this one, which it ends: the race
    /// [`Race::new`] would start (or [`Race::with_history_copy`], given a `history` copy),
    /// built where this one was and with its buffers, so a driver that keeps its last race
    /// allocates nothing for the next one. Buffers a large race grew (over 64 elements)
    /// are freed, not kept.
    ///
    /// # Errors
    ///
    /// As [`Race::new`]; this race is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use eyeballs_core::{Action, Config, Race, Target};
    ///
    /// let now = Instant::now();
    /// let first: Race<String> = Race::new(Target::addrs(["[::1]:80".parse().unwrap()]), Config::default(), now)?;
    /// let mut next = first.restart(Target::addrs(["127.0.0.1:80".parse().unwrap()]), Config::default(), None, now)?;
    /// let Some(Action::Connect { endpoint, .. }) = next.poll_action() else { panic!() };
    /// assert_eq!(endpoint.addr(), "127.0.0.1:80".parse().unwrap());
    /// # Ok::<(), eyeballs_core::ConfigError>(())
    /// ```
    pub fn restart(
        self,
        target: Target,
        config: Config,
        history: Option<HistoryCopy>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        let history = history.map(|h| HistoryFrom::Copy(h.0));
        State::build(target, config, history, now, Some(self.0)).map(Race)
    }

    /// Copies what `history` knows of the destinations whose source address arrived
    /// ([`Input::Sources`]) since the race last copied from it: their entries (every port
    /// and transport, from that source) and, for a source not seen before, whether each
    /// transport fails from it. Then, like every `handle_*` call, fires any timer due at
    /// `now`.
    ///
    /// Drivers call it right after feeding `Sources` for new destinations, under the lock
    /// that guards their history, and before the answer that holds those destinations: then
    /// the race decides exactly as if it had the whole history. It costs O(k log n) for k
    /// destinations in a history of n entries; with nothing new it copies nothing. A race
    /// built with [`Race::new`] has no history and copies nothing.
    pub fn handle_history(&mut self, history: &History, now: Instant) {
        self.0.handle_history(history, now)
    }

    /// Feeds one input at `now`, then fires any timer that is due.
    ///
    /// Input comes first: a connection reported at 260 ms wins even though the 250 ms timer
    /// would also start another attempt in the same call. Unknown, late and duplicate ids are
    /// ignored, and nothing is ever accepted after the race finished. A `Connected` for an
    /// attempt that was already cancelled needs no answer: its [`Action::Cancel`] already told
    /// the driver to close it.
    pub fn handle_input(&mut self, input: Input<E>, now: Instant) {
        self.0.handle_input(input, now)
    }

    /// Fires whatever timer is due at `now`: the Resolution Delay, the Connection Attempt
    /// Delay, the overall deadline. A call before any deadline changes nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now)
    }

    /// Returns the next action for the driver, or `None` when there is nothing to do until
    /// an input or [`Race::poll_timeout`]'s deadline. [`Action::Finish`] is the last one.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action<E>> {
        self.0.poll_action()
    }

    /// Returns when [`Race::handle_timeout`] must next be called, or `None` when only an
    /// input can move the race on (or it is finished). After a `handle_*` call at `now`, the
    /// deadline is always later than `now`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }

    /// Returns whether the race has decided; [`Action::Finish`] is queued or was drained.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }

    /// Returns the outcome once finished: the winner, or why it failed.
    pub fn result(&self) -> Option<Result<&Winner, FailureReason>> {
        self.0.result()
    }

    /// Returns whether the race failed because its deadline passed.
    pub fn is_timed_out(&self) -> bool {
        self.0.is_timed_out()
    }

    /// Returns when the race started.
    pub fn started(&self) -> Instant {
        self.0.started()
    }

    /// Returns when the race finished.
    pub fn finished(&self) -> Option<Instant> {
        self.0.finished()
    }

    /// Returns every attempt so far, in the order they started (index = [`AttemptId::index`]).
    pub fn attempts(&self) -> &[AttemptRecord<E>] {
        self.0.attempts()
    }

    /// Returns every DNS query, in the order they were asked for (index = [`QueryId::index`]).
    pub fn queries(&self) -> &[QueryRecord<E>] {
        self.0.queries()
    }

    /// Returns how many attempts are in flight.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight()
    }

    /// Returns whether the driver's facts ([`Input::Sources`], [`Target::sources`]) say the
    /// network is IPv6-only (RFC 8305 §7, R35; HEv3 V47): some IPv6 destination is routed
    /// from a global IPv6 source, and every IPv4 destination reported (at least one) has no
    /// route. With a NAT64 prefix ([`Config::nat64`]), an IPv4 address the driver said
    /// nothing about is then reached through NAT64 (V52); a driver can also read it to
    /// decide whether to look for a prefix at all (V50).
    pub fn is_ipv6_only(&self) -> bool {
        is_ipv6_only(&self.0.sources)
    }

    /// Returns the source address the driver reported for `destination`
    /// ([`Input::Sources`]), if it reported one.
    pub fn source_of(&self, destination: IpAddr) -> Option<IpAddr> {
        self.0.source_of(destination)
    }
}

/// Where a race being built takes its history from: the store itself, or what
/// [`History::copy_for`] copied of it for the target.
enum HistoryFrom<'h> {
    Store(&'h History),
    Copy(Box<Snapshot>),
}

/// An action as a race queues it: the record it refers to, built into an [`Action`] only
/// when drained ([`build_action`]). An entry is 16 bytes and `Copy`, so queueing and
/// draining move no endpoint and drop nothing, and each endpoint is cloned once, for the
/// driver. An attempt's endpoint that is about to change first has its queued actions built
/// ([`State::freeze`]).
#[derive(Debug, Clone, Copy)]
enum Queued {
    Resolve(QueryId),
    Connect(AttemptId),
    ConnectHeld(AttemptId),
    Handshake(AttemptId),
    RetryEch(AttemptId),
    Cancel(AttemptId),
    /// `Finish(Ok)`: this attempt won.
    Won(AttemptId),
    /// Built already, next in [`State::built`]: a failure's report, or an action whose
    /// endpoint changed since it was queued.
    Built,
}

/// Builds a queued action from the records it refers to (ids the race gave: they index its
/// records, which only grow); `None` for [`Queued::Built`], which is built already.
fn build_action<E>(
    queued: Queued,
    queries: &[QueryRecord<E>],
    attempts: &[AttemptRecord<E>],
) -> Option<Action<E>> {
    let endpoint = |a: AttemptId| attempts[a.0].endpoint.clone();
    let action = match queued {
        Queued::Resolve(query) => {
            let q = &queries[query.0];
            Action::Resolve {
                query,
                name: q.name.clone(),
                kind: q.kind,
            }
        }
        Queued::Connect(attempt) => Action::Connect {
            attempt,
            endpoint: endpoint(attempt),
        },
        Queued::ConnectHeld(attempt) => Action::ConnectHeld {
            attempt,
            endpoint: endpoint(attempt),
        },
        Queued::Handshake(attempt) => Action::Handshake {
            attempt,
            endpoint: endpoint(attempt),
        },
        Queued::RetryEch(attempt) => Action::RetryEch {
            attempt,
            endpoint: endpoint(attempt),
        },
        Queued::Cancel(attempt) => Action::Cancel { attempt },
        Queued::Won(attempt) => Action::Finish(Ok(Winner {
            attempt,
            endpoint: endpoint(attempt),
        })),
        Queued::Built => return None,
    };
    Some(action)
}

/// The most elements a buffer of a finished race keeps for the next ([`Race::restart`]):
/// a long walk's buffers are freed instead of held.
const RECYCLED_CAPACITY: usize = 64;

/// Empties `v` for a new race, keeping its buffer when it holds at most
/// [`RECYCLED_CAPACITY`] elements, else replacing it with one of room for `room`.
fn reset<T>(v: &mut Vec<T>, room: usize) {
    if v.capacity() > RECYCLED_CAPACITY {
        *v = Vec::with_capacity(room);
    } else {
        v.clear();
    }
}

impl<E> State<E> {
    fn handle_history(&mut self, history: &History, now: Instant) {
        let now = self.clamp(now);
        if self.result.is_some() {
            return;
        }
        if self.copy_history(history) {
            self.rebuild(now);
        }
        self.step(now);
    }

    /// Builds a race's state: in `recycled`'s box and with its buffers when given
    /// ([`Race::restart`]), else in a new box.
    fn build(
        mut target: Target,
        config: Config,
        history: Option<HistoryFrom<'_>>,
        now: Instant,
        recycled: Option<Box<Self>>,
    ) -> Result<Box<Self>, ConfigError> {
        config.validate()?;
        if let Some(alpn) = target.protocols.invalid() {
            return Err(ConfigError::InvalidAlpn {
                len: alpn.as_bytes().len(),
            });
        }
        let https_name = target.https_query_name();
        let http_origin = target.http_origin && https_name.is_some();
        let proxied = target.origin.is_some();
        if proxied {
            // V60, HG20: a proxy tunnels TCP; the proxy resolves the origin, so its
            // alternatives (other hosts) have nothing to race.
            if !target.protocols.speaks(Transport::Tcp) {
                return Err(ConfigError::ProxyNeedsTcp);
            }
            target.protocols = target.protocols.tcp_only();
            target.alts.clear();
        }
        let target_sources = core::mem::replace(&mut target.sources, crate::target::no_sources());
        let policy = config.family_policy;
        // With NAT64 the A answer is synthesized into IPv6 (R36), so it is needed even when
        // only IPv6 is allowed.
        let want_a = config.nat64.is_some();
        let snapshot = match &history {
            Some(HistoryFrom::Store(h)) => {
                Some(Box::write(Box::new_uninit(), Snapshot::new(h, now)))
            }
            // None, or a copy, moved in below.
            _ => None,
        };
        // Every field's new value, in one list for both places below: a field missing from
        // it fails to build the literal, so neither place can miss one. `literal` builds
        // the state; `assign` writes each value over the recycled state's field in place
        // (not a state built on the stack and copied over it).
        macro_rules! with_fields {
            ($then:ident [$($arg:tt)*]) => {
                $then!(
                    [$($arg)*]
                    config: config,
                    attempt_delay: config.fixed_attempt_delay(),
                    protocols: target.protocols,
                    proxied: proxied,
                    history: snapshot,
                    uncopied: SmallBuf::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                    started: now,
                    now: now,
                    deadline: config.timeout.and_then(|t| now.checked_add(t)),
                    queries_outstanding: 0,
                    resolution: Resolution::empty(policy),
                    sources: Routes::new(),
                    rng: SplitMix64::new(config.seed),
                    resolution_deadline: None,
                    ready: false,
                    candidates: Candidates::new(),
                    in_flight: 0,
                    last_start: None,
                    floor: None,
                    next_due: None,
                    expedited: false,
                    held: 0,
                    follow_up: None,
                    http_origin: http_origin,
                    actions: SmallQueue::new(),
                    result: None,
                    finished_at: None,
                )
            };
        }
        macro_rules! literal {
            ([$attempts:expr] $($field:ident: $value:expr,)*) => {
                State {
                    $($field: $value,)*
                    attempts: $attempts,
                    queries: Vec::new(),
                    query_for: Vec::new(),
                    built: Vec::new(),
                }
            };
        }
        macro_rules! assign {
            ([$old:ident] $($field:ident: $value:expr,)*) => {
                $($old.$field = $value;)*
            };
        }
        let mut race = match recycled {
            // The old state's other fields (its candidates' and resolution's buffers, its
            // snapshot) are dropped as they are written over.
            Some(mut old) => {
                let old_state = &mut *old;
                reset(&mut old_state.attempts, 4);
                reset(&mut old_state.queries, 0);
                reset(&mut old_state.query_for, 0);
                reset(&mut old_state.built, 0);
                with_fields!(assign[old_state]);
                old
            }
            None => {
                // Allocated before the state is built, as the history's snapshot: a call amid
                // its fields would keep the large ones (resolution, routes, candidates) in
                // temporaries of their own, each copied in after it.
                let attempts = Vec::with_capacity(4);
                // Written into its box, allocated first (`Box::new` would build the state
                // on the stack and copy it in: some 1,700 bytes).
                Box::write(Box::new_uninit(), with_fields!(literal[attempts]))
            }
        };
        // The resolution is filled in the box: nothing large is moved.
        let state = &mut *race;
        let asks = match target.kind {
            TargetKind::Host {
                name,
                port,
                combined,
            } => {
                let mut asks =
                    state
                        .resolution
                        .fill_host(name, port, want_a, combined, https_name.clone());
                // V3, V59: the alternatives' queries follow the origin's (most races have
                // none: nothing to add).
                if !target.alts.is_empty() {
                    let alts = state.resolution.add_alts(
                        &target.alts,
                        &state.protocols,
                        https_name.as_ref(),
                        now,
                    );
                    asks.extend(alts);
                }
                asks
            }
            TargetKind::Addrs(addrs) => {
                state.resolution.fill_literal(&addrs);
                // Only a proxied target asks DNS anything with addresses given: the origin's
                // HTTPS record (V60, HG20).
                match https_name {
                    Some(name) if proxied => vec![state.resolution.ask_https(name)],
                    _ => Vec::new(),
                }
            }
        };
        // Both checked here as well: a race over addresses given directly (and without
        // routes) then makes neither call.
        if !asks.is_empty() {
            race.ask(asks, now);
        }
        if let Some(HistoryFrom::Copy(copy)) = history {
            race.history = Some(copy);
            race.learn_sources(&target_sources);
            // The copy holds exactly these destinations' pairs (`History::copy_for`).
            race.uncopied.clear();
        } else {
            if !target_sources.is_empty() {
                race.learn_sources(&target_sources);
            }
            if let Some(HistoryFrom::Store(h)) = history {
                race.copy_history(h);
            }
        }
        race.rebuild(now);
        race.step(now);
        Ok(race)
    }

    fn handle_input(&mut self, input: Input<E>, now: Instant) {
        let now = self.clamp(now);
        if self.result.is_some() {
            return;
        }
        // V46: what a DNS update (§7) adds to the waiting list, for `on_dns_update`.
        let update = matches!(
            input,
            Input::Resolved { .. }
                | Input::ResolvedServices { .. }
                | Input::ResolvedStale { .. }
                | Input::ResolvedServicesStale { .. }
                | Input::AddressesChanged { .. }
        )
        .then(|| self.candidates.len());
        match input {
            Input::Resolved { query, addrs } => self.on_addrs(query, addrs, now),
            Input::ResolvedServices { query, records } => self.on_records(query, records, now),
            Input::ResolvedStale { query, addrs } => self.on_stale_addrs(query, addrs, now),
            Input::ResolvedServicesStale { query, records } => {
                self.on_stale_records(query, records, now)
            }
            Input::ResolveFailed { query, error } => self.on_failure(query, error, now),
            Input::Sources { sources } => self.on_sources(sources, now),
            Input::Progressed { attempt } => self.on_progress(attempt, now),
            Input::Connected { attempt } => {
                if self.end_attempt(attempt, AttemptStatus::Connected, None, now) {
                    self.win(attempt, now);
                }
            }
            Input::ConnectFailed { attempt, error } => self.on_attempt_failed(attempt, error, now),
            Input::EchRejected {
                attempt,
                retry,
                error,
            } => self.on_ech_rejected(attempt, retry, error, now),
            Input::AddressesChanged { added, removed } => {
                self.resolution.change(&added, &removed);
                self.rebuild(now);
            }
            Input::Aborted => self.fail(FailureReason::Aborted, now),
        }
        if let Some(waiting) = update {
            if self.candidates.len() > waiting {
                self.on_dns_update(now);
            }
        }
        self.step(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        let now = self.clamp(now);
        self.step(now);
    }

    fn poll_action(&mut self) -> Option<Action<E>> {
        match self.actions.pop_front()? {
            // The action drained most (once an attempt), built here rather than in a call.
            Queued::Connect(attempt) => Some(Action::Connect {
                attempt,
                endpoint: self.attempts[attempt.0].endpoint.clone(),
            }),
            Queued::Built => (!self.built.is_empty()).then(|| self.built.remove(0)),
            queued => build_action(queued, &self.queries, &self.attempts),
        }
    }

    /// Builds now the queued actions that carry `attempt`'s endpoint, which is about to
    /// change: each hands the driver the endpoint as it was when queued.
    fn freeze(&mut self, attempt: AttemptId) {
        let (queries, attempts, built) = (&self.queries, &self.attempts, &mut self.built);
        // How many built actions come before the entry at hand.
        let mut before = 0;
        self.actions.for_each_mut(|q| match *q {
            Queued::Built => before += 1,
            Queued::Connect(a)
            | Queued::ConnectHeld(a)
            | Queued::Handshake(a)
            | Queued::RetryEch(a)
                if a == attempt =>
            {
                if let Some(action) = build_action(*q, queries, attempts) {
                    built.insert(before, action);
                    *q = Queued::Built;
                    before += 1;
                }
            }
            _ => {}
        });
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.result.is_some() {
            return None;
        }
        // With nothing held (every address withdrawn, say) there is nothing to start when
        // the Resolution Delay ends, so it is no deadline. Nor while the ECH gate is shut and
        // nothing may start held: only the HTTPS answer can open it (HG6).
        let startable = self.is_startable();
        let resolution = self
            .resolution_deadline
            .flatten()
            .filter(|_| !self.ready && !self.candidates.is_empty() && startable);
        let next_attempt =
            if self.ready && !self.candidates.is_empty() && !self.at_cap() && startable {
                self.next_start_at()
            } else {
                None
            };
        let earliest = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        earliest(earliest(self.deadline, resolution), next_attempt)
    }

    fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    fn result(&self) -> Option<Result<&Winner, FailureReason>> {
        self.result.as_ref().map(|r| r.as_ref().map_err(|e| *e))
    }

    fn is_timed_out(&self) -> bool {
        matches!(self.result, Some(Err(FailureReason::TimedOut { .. })))
    }

    fn started(&self) -> Instant {
        self.started
    }

    fn finished(&self) -> Option<Instant> {
        self.finished_at
    }

    fn attempts(&self) -> &[AttemptRecord<E>] {
        &self.attempts
    }

    fn queries(&self) -> &[QueryRecord<E>] {
        &self.queries
    }

    fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn source_of(&self, destination: IpAddr) -> Option<IpAddr> {
        self.sources
            .get(&destination)
            .copied()
            .flatten()
            .map(|r| r.source)
    }

    fn clamp(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    fn ask(&mut self, asks: Vec<Ask>, now: Instant) {
        if asks.is_empty() {
            // Addresses given directly: nothing to ask, nothing to drop.
            return;
        }
        for Ask { name, kind, what } in asks {
            let query = QueryId(self.queries.len());
            self.queries.push(QueryRecord {
                id: query,
                name,
                kind,
                sent: now,
                stale: None,
                answered: None,
                addrs: Vec::new(),
                records: Vec::new(),
                failed: false,
                error: None,
            });
            self.query_for.push(what);
            self.queries_outstanding += 1;
            self.actions.push_back(Queued::Resolve(query));
        }
    }

    /// Marks a query answered; returns what it was for, or `None` for unknown and already
    /// answered queries.
    fn answered(&mut self, query: QueryId, now: Instant) -> Option<QueryFor> {
        let record = self.queries.get_mut(query.0)?;
        if record.answered.is_some() {
            return None;
        }
        record.answered = Some(now);
        self.queries_outstanding -= 1;
        self.query_for.get(query.0).copied()
    }

    /// Returns what an unanswered query is for, and marks it stale-answered at `now`; `None`
    /// for unknown, answered and already stale-answered queries (V13, HG18).
    fn answered_stale(&mut self, query: QueryId, now: Instant) -> Option<QueryFor> {
        let record = self.queries.get_mut(query.0)?;
        if record.answered.is_some() || record.stale.is_some() {
            return None;
        }
        record.stale = Some(now);
        self.query_for.get(query.0).copied()
    }

    fn on_addrs(&mut self, query: QueryId, addrs: Vec<IpAddr>, now: Instant) {
        let Some(what) = self.answered(query, now) else {
            return;
        };
        self.take_addrs(query, what, addrs, now);
    }

    /// V13, HG18: an expired answer from the driver's cache, the query still open: the race
    /// uses it at once, as an answer, and the fresh one replaces it when it comes (§7: its
    /// removals spare started attempts, its new endpoints are sorted in; an equal one
    /// changes nothing).
    fn on_stale_addrs(&mut self, query: QueryId, addrs: Vec<IpAddr>, now: Instant) {
        let Some(what) = self.answered_stale(query, now) else {
            return;
        };
        self.take_addrs(query, what, addrs, now);
    }

    fn take_addrs(&mut self, query: QueryId, what: QueryFor, mut addrs: Vec<IpAddr>, now: Instant) {
        addrs.truncate(MAX_ANSWER_ADDRS);
        match what {
            QueryFor::Addrs { name } => {
                let kind = self.queries[query.0].kind;
                self.resolution.answer_addrs(name, kind, &addrs);
            }
            // Addresses for an HTTPS query: an answer without records.
            QueryFor::Https => self.take_records(query, &[], now),
            QueryFor::AltHttps { alt } => self.take_alt_records(alt, Some(&[]), now),
        }
        self.queries[query.0].addrs = addrs;
        self.rebuild(now);
    }

    fn on_records(&mut self, query: QueryId, records: Vec<ServiceRecord>, now: Instant) {
        let Some(what) = self.answered(query, now) else {
            return;
        };
        self.take_service_answer(query, what, records, now);
    }

    /// V13, HG18 for an HTTPS query: see [`State::on_stale_addrs`].
    fn on_stale_records(&mut self, query: QueryId, records: Vec<ServiceRecord>, now: Instant) {
        let Some(what) = self.answered_stale(query, now) else {
            return;
        };
        self.take_service_answer(query, what, records, now);
    }

    fn take_service_answer(
        &mut self,
        query: QueryId,
        what: QueryFor,
        mut records: Vec<ServiceRecord>,
        now: Instant,
    ) {
        records.truncate(MAX_ANSWER_RECORDS);
        match what {
            QueryFor::Https => self.take_records(query, &records, now),
            QueryFor::AltHttps { alt } => self.take_alt_records(alt, Some(&records), now),
            // Records for an address query: an answer without addresses.
            QueryFor::Addrs { name } => {
                let kind = self.queries[query.0].kind;
                self.resolution.answer_addrs(name, kind, &[]);
            }
        }
        self.queries[query.0].records = records;
        self.rebuild(now);
    }

    fn take_records(&mut self, query: QueryId, records: &[ServiceRecord], now: Instant) {
        let proxied: Vec<ServiceRecord>;
        let records = if self.proxied {
            // V60, HG20: the proxy resolves the origin; of its records only ALPN and ECH
            // apply, at the proxy. An alias set is no service information: the chain's
            // names are the proxy's to resolve.
            proxied = match records.iter().any(ServiceRecord::is_alias) {
                true => Vec::new(),
                false => records.iter().map(ServiceRecord::through_proxy).collect(),
            };
            &proxied
        } else {
            records
        };
        let q = &self.queries[query.0];
        let asks = if q.stale.is_some() && q.answered.is_some() {
            // HG18: the fresh answer after a stale one; an equal one changes nothing.
            if q.records.as_slice() == records {
                return;
            }
            self.resolution
                .replace_https(records, &self.protocols, &self.config, &mut self.rng)
        } else {
            self.resolution
                .answer_https(records, &self.protocols, &self.config, &mut self.rng)
        };
        // V37, RFC 9460 §9.5: a ServiceMode record for an http origin (at the end of the
        // alias chain: with an alias in the set, ServiceMode records are ignored) means TLS.
        if self.http_origin && !records.iter().any(ServiceRecord::is_alias) && !records.is_empty() {
            self.fail(FailureReason::UpgradeToHttps, now);
            return;
        }
        self.ask(asks, now);
    }

    /// An alternative service's HTTPS answer (`None`: it failed), RFC 9460 §9.3.
    fn take_alt_records(&mut self, alt: usize, records: Option<&[ServiceRecord]>, now: Instant) {
        let asks = self.resolution.answer_alt_https(
            alt,
            records,
            &self.protocols,
            self.config.ech,
            &mut self.rng,
        );
        self.ask(asks, now);
    }

    fn on_failure(&mut self, query: QueryId, error: E, now: Instant) {
        let Some(what) = self.answered(query, now) else {
            return;
        };
        let record = &mut self.queries[query.0];
        record.failed = true;
        record.error = Some(error);
        if record.stale.is_some() {
            // HG18: a fresh query that fails leaves the stale answer in use (RFC 8767's
            // serve-stale).
            return;
        }
        match what {
            QueryFor::Addrs { name } => {
                let kind = record.kind;
                self.resolution.fail_addrs(name, kind);
            }
            // V36, RFC 9460 §3.1: on protected DNS, no fallback to addresses alone; the
            // attempts in flight (held ones included: the ECH gate stays shut, HG6) are
            // cancelled.
            QueryFor::Https if self.config.protected_dns => {
                self.fail(FailureReason::ServiceQueryFailed, now);
                return;
            }
            QueryFor::Https => self.resolution.fail_https(),
            // HG21: an alternative whose service parameters are denied is dropped.
            QueryFor::AltHttps { alt } if self.config.protected_dns => {
                self.resolution.drop_alt(alt)
            }
            QueryFor::AltHttps { alt } => self.take_alt_records(alt, None, now),
        }
        self.rebuild(now);
    }

    fn on_sources(&mut self, sources: Vec<Source>, now: Instant) {
        self.learn_sources(&sources);
        self.rebuild(now);
    }

    fn learn_sources(&mut self, sources: &[Source]) {
        if sources.is_empty() {
            return;
        }
        for &s in sources {
            let destination = s.destination();
            if self.sources.len() < MAX_SOURCES || self.sources.contains_key(&destination) {
                let route = s.route();
                self.sources.insert(destination, route);
                // A pair copied before is not copied again (`Snapshot::copy`).
                if route.is_some() && self.history.is_some() {
                    self.uncopied.push(destination);
                }
            }
        }
    }

    /// Copies what `history` knows of the destinations whose source arrived since the last
    /// copy; returns whether anything was copied.
    fn copy_history(&mut self, history: &History) -> bool {
        let Some(snapshot) = self.history.as_mut() else {
            return false;
        };
        if self.uncopied.is_empty() {
            return false;
        }
        let sources = &self.sources;
        let unspecified = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let mut pairs: SmallBuf<(IpAddr, IpAddr), 4> = SmallBuf::new((unspecified, unspecified));
        pairs.extend(
            self.uncopied
                .iter()
                .filter_map(|&d| sources.get(&d).copied().flatten().map(|r| (d, r.source))),
        );
        self.uncopied.clear();
        snapshot.copy(history, &mut pairs)
    }

    fn on_attempt_failed(&mut self, attempt: AttemptId, error: E, now: Instant) {
        if self.end_attempt(attempt, AttemptStatus::Failed, Some(error), now) {
            // G1, HG2: a failure brings the next attempt forward; R28's 10 ms floor between
            // starts still holds (see `next_start_at`).
            self.next_due = Some(self.next_due.map_or(now, |due| due.min(now)));
            self.expedited = true;
        }
    }

    /// V54, HG14: a first rejection with retry configs dials the same endpoint again with
    /// them, at once and within the same attempt (its start, delay and timers unchanged,
    /// nothing expedited); anything else fails the attempt.
    fn on_ech_rejected(
        &mut self,
        attempt: AttemptId,
        retry: Option<EchConfig>,
        error: E,
        now: Instant,
    ) {
        let Some(a) = self.attempts.get(attempt.0) else {
            return;
        };
        if a.status != AttemptStatus::Connecting {
            return;
        }
        match retry {
            // RFC 9849 §6.2: a client that offered no ECH config (GREASE) never uses retry
            // configs; §6.1.6: a retry is never retried.
            Some(config) if a.endpoint.ech.is_some() && a.ech_retried().is_none() => {
                self.freeze(attempt);
                let a = &mut self.attempts[attempt.0];
                // Both endpoints are this attempt's: neither is ever started again (the
                // first may not have reached the candidates' list of tried ones yet).
                let first = a.endpoint.key();
                a.handshake_mut().ech_retried = Some(now);
                a.endpoint.ech = Some(config);
                let retried = a.endpoint.key();
                self.candidates.mark_tried(first);
                self.candidates.mark_tried(retried);
                self.rebuild(now);
                self.actions.push_back(Queued::RetryEch(attempt));
            }
            _ => self.on_attempt_failed(attempt, error, now),
        }
    }

    /// V33, HG10: progress pushes the next start back to this attempt's expected full setup,
    /// `now` + its delay, but never past its start + the Maximum Connection Attempt Delay,
    /// and never over a failure's expedited start.
    fn on_progress(&mut self, attempt: AttemptId, now: Instant) {
        let Some(a) = self.attempts.get_mut(attempt.0) else {
            return;
        };
        if a.status != AttemptStatus::Connecting || a.progressed().is_some() {
            return;
        }
        a.handshake_mut().progressed = Some(now);
        if self.follow_up.is_some_and(|(_, _, quic)| quic == attempt) {
            self.follow_up = None;
        }
        if self.expedited {
            return;
        }
        let cap = a
            .started
            .checked_add(self.config.max_connection_attempt_delay);
        let extended = match (now.checked_add(a.delay), cap) {
            (Some(e), Some(c)) => Some(e.min(c)),
            (e, c) => e.or(c),
        };
        // A due time that cannot be represented (`None`) already means "not by the timer".
        if let (Some(due), Some(extended)) = (self.next_due, extended) {
            self.next_due = Some(due.max(extended));
        }
    }

    /// V46 (HEv3 §7, MAY), with [`DelaySchedule::Rtt`] only: a DNS update that added an
    /// endpoint to the waiting list does not move the timer by itself, but when the last
    /// attempt is expected to have made progress by now, the next may start early. Its
    /// expected time is its path's smoothed round trip in history (from its start, or from
    /// its ClientHello once a held one is released, as history times it); the next attempt is
    /// then due at that time after it, never under the Minimum Connection Attempt Delay
    /// (R27, R29; V30's 10 ms floor holds too), and never later than the schedule had it.
    /// Progress before then pushes the next start back as usual (V33, HG10), so an attempt
    /// that shows progress in its expected time keeps its timer. Without the path's round
    /// trip in history, nothing changes.
    fn on_dns_update(&mut self, now: Instant) {
        if self.config.delay_schedule != DelaySchedule::Rtt || self.expedited {
            return;
        }
        let (Some(history), Some(a)) = (self.history.as_deref(), self.attempts.last()) else {
            return;
        };
        if a.status != AttemptStatus::Connecting || a.progressed().is_some() {
            return;
        }
        let from = match (a.is_held(), a.released()) {
            // The ClientHello has not gone out: there is nothing to expect yet (HG15).
            (true, None) => return,
            (_, released) => released.unwrap_or(a.started),
        };
        let endpoint = &a.endpoint;
        let Some(source) = self.source_of(endpoint.addr.ip()) else {
            return;
        };
        let path = Path::new(source, endpoint.addr, endpoint.transport);
        let Some(expected) = history.rtt(path, now) else {
            return;
        };
        let wait = expected.max(self.config.min_connection_attempt_delay);
        // Measured from the attempt's start too, so that a released attempt's next start
        // stays at least the minimum after the previous start.
        let early = from
            .checked_add(wait)
            .zip(
                a.started
                    .checked_add(self.config.min_connection_attempt_delay),
            )
            .map(|(e, min)| e.max(min));
        if let (Some(early), Some(due)) = (early, self.next_due) {
            self.next_due = Some(due.min(early));
        }
    }

    fn rebuild(&mut self, now: Instant) {
        let cx = Context {
            resolution: &self.resolution,
            config: &self.config,
            protocols: &self.protocols,
            history: self.history.as_deref(),
            sources: &self.sources,
            now,
        };
        self.candidates.rebuild(&cx, &self.attempts);
        // Room for every attempt the order may start, at once (the order holds at most
        // `MAX_ENDPOINTS`): growing by doubling would copy every record again at each step
        // and touch twice the memory, which a walk of thousands of addresses pays in page
        // faults. Room never used is never touched. While a query is outstanding, a short
        // list gets room for as many again: the other family's answer usually brings about
        // as many, and one block then serves both (no copy, no second block: a 64-address
        // walk's data then fits a 32 KB L1 cache). Longer lists keep the reservation below:
        // their blocks' sizes move the allocator's thresholds (`reserve_exact` of the whole
        // order ran slower in the paired bench: the exact, smaller blocks kept the trim
        // threshold low, and the pages given back were faulted in again every race; so did
        // room for the whole order, by about 1.6x on the 10,000-address walk).
        // No reservation keeps a walk of 1,000 addresses from giving pages back to the
        // system at its end and faulting them in again in the next race (glibc; the paired
        // bench's 1,000-walk: ~80 faults a race, 0 with trimming and the mmap threshold
        // pinned by GLIBC_TUNABLES, which alone takes its ratio from 2.2-2.8 to 1.1-1.5).
        // Freeing an mmapped block sets the trim threshold to twice that block, and the
        // heap a race spans (its attempts, the candidates' blocks of about 150 bytes an
        // address, glibc's 128 KB top pad) exceeds twice the attempts' block unless that
        // block alone outweighs the rest and the pad: room for 4x the first answer's
        // attempts (2,000 for 1,000) still trimmed every race. Smaller records do not
        // help (the threshold falls twice as fast as the span): a smaller span does.
        let waiting = self.candidates.len();
        if self.queries_outstanding > 0 && waiting <= ROOM_DOUBLED_UP_TO {
            self.attempts.reserve(waiting * 2);
        } else {
            // (This may fall short by the attempts already held, and a long walk then
            // doubles the vector once in its last starts.)
            let room = self.attempts.capacity() - self.attempts.len();
            self.attempts.reserve(waiting.saturating_sub(room));
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
                if a.is_held() && a.released().is_none() {
                    self.held -= 1;
                }
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
        if self.held > 0 && !self.is_gated() {
            self.release_held(now);
        }
        if self.ready
            && !self.candidates.is_empty()
            && !self.at_cap()
            && self.is_startable()
            && (self.last_start.is_none() || self.next_start_at().is_some_and(|at| now >= at))
        {
            let details = Details {
                resolution: &self.resolution,
                protocols: &self.protocols,
                nat64: self.config.nat64,
            };
            if let Some(endpoint) = self.candidates.pop_next(&details) {
                self.start(endpoint, now);
            }
        }
        // G3, HG12: never fail while a query is outstanding: a late answer may still succeed.
        if self.in_flight == 0 && self.candidates.is_empty() && self.queries_outstanding == 0 {
            let dns_failed = self
                .queries
                .iter()
                .any(|q| q.failed && q.kind != QueryKind::Https);
            let reason = if !self.attempts.is_empty() {
                FailureReason::AllAttemptsFailed
            } else if dns_failed {
                FailureReason::DnsFailed
            } else {
                FailureReason::NoAddresses
            };
            self.fail(reason, now);
        }
    }

    /// Settles whether attempts may start (RFC 8305 §3; HEv3 §4.2, V5).
    fn update_ready(&mut self, now: Instant) {
        if self.ready || self.candidates.is_empty() {
            // G5: with nothing held (say A answered empty), there is nothing to wait for.
            return;
        }
        let settled = self.resolution.is_service_settled();
        let shut = self.gates() && !settled && !self.is_startable();
        if self.queries_outstanding == 0 && !shut {
            // With no query outstanding, nothing waited for can still come: start (asked
            // first, it spares a race over addresses given directly every other question;
            // the Resolution Delay's deadline, never read once ready, is not armed).
            self.ready = true;
            return;
        }
        // HG7: the Resolution Delay runs from the first time endpoints are held, whatever
        // else the race waits for.
        let delay = self.config.resolution_delay;
        let deadline = *self
            .resolution_deadline
            .get_or_insert_with(|| now.checked_add(delay));
        if shut {
            // V34, HG6: an ECH client sends no ClientHello before service information; only
            // TCP may connect, its ClientHello held (V55, HG15).
            return;
        }
        // The awaited family is the preferred one (IPv6 by default), unless history says it
        // is broken for this host and the other is not: then the other takes its place.
        let prefer_v6 = self.config.family_policy.prefers_v6();
        let mut awaited_v6 = prefer_v6 != self.candidates.should_flip(prefer_v6);
        // HEv3 V6: IPv6 is the preferred family only with a good route. When every IPv6
        // endpoint's source is link-local or a ULA for a global destination (or it has no
        // route), RFC 6724 will rank IPv4 first: wait for IPv4 instead (R5 mirrored).
        if awaited_v6 && self.candidates.is_v6_poor() && self.config.family_policy.allows(false) {
            awaited_v6 = false;
        }
        // R4/R6: a positive answer of the awaited family (a hint counts, V10) starts at once.
        // R7: so does a negative or failed one. V5(a) also waits for service information,
        // and HG9: once services exist, for an endpoint of one of them.
        let family_settled = self.candidates.has_family(awaited_v6)
            || !self.resolution.is_origin_pending(awaited_v6);
        let positive =
            self.resolution.extra().services.is_empty() || self.candidates.has_service_endpoint();
        // HG19: and, within the same Resolution Delay, for the alternatives' answers, so that
        // an alternative answering just after the origin still goes first (HG17). Asked last:
        // a race without alternatives only checks an empty list.
        if settled && family_settled && positive && !self.resolution.is_alt_awaited() {
            self.ready = true;
            return;
        }
        // R5, V5(b): endpoints held, something awaited: the Resolution Delay decides.
        if deadline.is_some_and(|d| now >= d) {
            self.ready = true;
        }
    }

    /// V34, HG6: whether the ECH gate is shut: ECH is on and service information has
    /// neither arrived nor been denied.
    #[inline]
    fn is_gated(&self) -> bool {
        self.gates() && !self.resolution.is_service_settled()
    }

    /// Whether the race holds first data for service information: the ClientHello with
    /// ECH on (V34, HG6), the cleartext of an `http` origin on protected DNS (V37).
    #[inline]
    fn gates(&self) -> bool {
        self.config.ech || (self.http_origin && self.config.protected_dns)
    }

    /// Whether the next endpoint may start now as far as the ECH gate goes: always when it
    /// is open; while it is shut, only TCP, with its ClientHello held (V34, V55, HG15;
    /// [`Config::early_tcp`]). QUIC's first Initial is a ClientHello: it waits.
    #[inline]
    fn is_startable(&self) -> bool {
        !self.is_gated()
            || (self.config.early_tcp
                && self
                    .candidates
                    .peek()
                    .is_some_and(|(_, t)| t == Transport::Tcp))
    }

    /// HG15: the gate opened; each held attempt sends its ClientHello with what service
    /// information now gives for its address, port and transport (its ECH config, ALPN and
    /// provenance: the best such endpoint of the list, which is then tried), or with its own
    /// data when none is listed; or, when the client is SVCB-reliant (V35) and none with ECH
    /// is listed, it is cancelled: its ClientHello would go out without ECH.
    fn release_held(&mut self, now: Instant) {
        let reliant = self.config.ech
            && self
                .resolution
                .extra()
                .services
                .iter()
                .any(|s| s.ech.is_some());
        let mut taken = false;
        for i in 0..self.attempts.len() {
            let a = &self.attempts[i];
            if !a.is_held() || a.released().is_some() || a.status != AttemptStatus::Connecting {
                continue;
            }
            let (addr, transport) = (a.endpoint.addr, a.endpoint.transport);
            let details = Details {
                resolution: &self.resolution,
                protocols: &self.protocols,
                nat64: self.config.nat64,
            };
            let listed = self.candidates.find(addr, transport, &details);
            if listed.is_some() {
                self.freeze(AttemptId(i));
            }
            let a = &mut self.attempts[i];
            match listed {
                Some(endpoint) => {
                    taken = true;
                    self.candidates.mark_tried(endpoint.key());
                    a.endpoint = endpoint;
                }
                None if reliant && a.endpoint.ech.is_none() => {
                    a.status = AttemptStatus::Cancelled;
                    a.ended = Some(now);
                    self.in_flight -= 1;
                    self.held -= 1;
                    self.actions.push_back(Queued::Cancel(a.id()));
                    // As a failure would (G1): the endpoints with ECH need not wait for it.
                    self.next_due = Some(self.next_due.map_or(now, |due| due.min(now)));
                    self.expedited = true;
                    continue;
                }
                None => {}
            }
            a.handshake_mut().released = Some(now);
            self.held -= 1;
            self.actions.push_back(Queued::Handshake(a.id()));
        }
        if taken {
            self.rebuild(now);
        }
    }

    fn at_cap(&self) -> bool {
        self.config
            .max_attempts_in_flight
            .is_some_and(|cap| self.in_flight >= cap)
    }

    /// When the next attempt may start: `None` before the first one and when no time can be
    /// represented; otherwise the due time, but never within 10 ms of the previous start (R28).
    #[inline(always)]
    fn next_start_at(&self) -> Option<Instant> {
        let floor = self.floor?;
        let due = match self.follow_up {
            Some((at, addr, _)) if self.candidates.peek() == Some((addr, Transport::Tcp)) => {
                Some(self.next_due.map_or(at, |due| due.min(at)))
            }
            _ => self.next_due,
        };
        Some(due?.max(floor))
    }

    #[inline(always)]
    fn start(&mut self, endpoint: Endpoint, now: Instant) {
        let attempt = AttemptId(self.attempts.len());
        let delay = self.scheduled_delay(&endpoint, attempt.0 + 1, now);
        // The QUIC attempt before this TCP one to its address: its delay was the follow-up's.
        if let Some((at, addr, quic)) = self.follow_up.take() {
            if endpoint.transport == Transport::Tcp && endpoint.addr == addr && now >= at {
                if let (Some(q), Some(start)) = (self.attempts.get_mut(quic.0), self.last_start) {
                    q.delay = q.delay.min(now.saturating_duration_since(start));
                }
            }
        }
        // V29 "may differ per attempt": TCP to the address QUIC goes to follows sooner (HG1's
        // turn deals it next; on a network that drops UDP it is the one that works).
        if endpoint.transport == Transport::Quic {
            let follow_up = self
                .config
                .clamp_configured_delay(self.config.tcp_after_quic_delay);
            self.follow_up = now
                .checked_add(follow_up)
                .map(|at| (at, endpoint.addr, attempt));
        }
        // V34, V55, HG15: while the ECH gate is shut, TCP connects with its ClientHello held.
        let held = self.is_gated();
        self.attempts.push(AttemptRecord {
            // At most MAX_ENDPOINTS (65,536) attempts: the index fits.
            id: attempt.0 as u32,
            endpoint,
            started: now,
            delay,
            handshake: None,
            ended: None,
            status: AttemptStatus::Connecting,
            error: None,
        });
        self.in_flight += 1;
        self.last_start = Some(now);
        self.floor = now.checked_add(ATTEMPT_START_FLOOR);
        self.next_due = now.checked_add(delay);
        self.expedited = false;
        if held {
            self.hold(attempt);
            self.actions.push_back(Queued::ConnectHeld(attempt));
        } else {
            self.actions.push_back(Queued::Connect(attempt));
        }
    }

    /// The delay the schedule gives after the `n`-th start (from 1), to `endpoint` (V29,
    /// V58, HG13, HG16).
    #[inline(always)]
    fn scheduled_delay(&self, endpoint: &Endpoint, n: usize, now: Instant) -> Duration {
        let config = &self.config;
        let history = self.history.as_deref();
        match (config.delay_schedule, history) {
            (DelaySchedule::Multiplier { base, factor }, _) => {
                return config.multiplied_delay(base, factor, n)
            }
            // Nothing to look up.
            (_, None) => return self.attempt_delay,
            _ => {}
        }
        let source = self.source_of(endpoint.addr.ip());
        let path = source.map(|s| Path::new(s, endpoint.addr, endpoint.transport));
        // R26: the path's retransmission timeout, when history knows its round trip.
        let rto = || history.zip(path)?.0.retransmission_timeout(path?, now);
        match config.delay_schedule {
            DelaySchedule::Multiplier { base, factor } => config.multiplied_delay(base, factor, n),
            DelaySchedule::Fixed => rto().map_or_else(
                || config.fixed_attempt_delay(),
                |rto| config.clamp_history_delay(rto),
            ),
            DelaySchedule::Rtt => rto()
                .or_else(|| history?.fastest_retransmission_timeout(source?, now))
                .map_or_else(
                    || config.fixed_attempt_delay(),
                    |rto| config.clamp_history_delay(rto),
                ),
        }
    }

    /// Marks a just started attempt as held (HG15).
    #[cold]
    fn hold(&mut self, attempt: AttemptId) {
        self.held += 1;
        if let Some(a) = self.attempts.get_mut(attempt.0) {
            a.handshake_mut().held = true;
        }
    }

    /// R22/R23: cancel every other attempt, ignore untried endpoints, finish once.
    fn win(&mut self, winner: AttemptId, now: Instant) {
        self.cancel_in_flight(now);
        let won = Winner {
            attempt: winner,
            endpoint: self.attempts[winner.0].endpoint.clone(),
        };
        self.result = Some(Ok(won));
        self.finished_at = Some(now);
        self.actions.push_back(Queued::Won(winner));
    }

    fn fail(&mut self, reason: FailureReason, now: Instant) {
        self.cancel_in_flight(now);
        let attempts = self
            .attempts
            .iter_mut()
            .map(|a| FailedAttempt {
                attempt: a.id(),
                endpoint: a.endpoint.clone(),
                error: a.error.take(),
            })
            .collect();
        let queries = self
            .queries
            .iter_mut()
            .filter_map(|q| {
                q.error.take().map(|error| FailedQuery {
                    query: q.id,
                    name: q.name.clone(),
                    kind: q.kind,
                    error,
                })
            })
            .collect();
        let skipped = self.candidates.skipped_without_ech();
        self.result = Some(Err(reason));
        self.finished_at = Some(now);
        let failure = Failure::new(reason, attempts, queries, skipped);
        self.built.push(Action::Finish(Err(failure)));
        self.actions.push_back(Queued::Built);
    }

    fn cancel_in_flight(&mut self, now: Instant) {
        self.held = 0;
        for a in &mut self.attempts {
            if a.status == AttemptStatus::Connecting {
                a.status = AttemptStatus::Cancelled;
                a.ended = Some(now);
                self.actions.push_back(Queued::Cancel(a.id()));
            }
        }
        self.in_flight = 0;
    }
}

/// Learning from a race lives here, beside the race, so that the history module needs
/// nothing of races.
impl History {
    /// Counts towards the next re-probe of QUIC (V24, HG3) what QUIC's history did to this
    /// race: per source address where QUIC counted as failing, and per failing QUIC path,
    /// a race that dealt QUIC late adds one, and a race that re-probed and tried QUIC starts
    /// the count again (one that re-probed without reaching QUIC leaves it, to re-probe next
    /// time).
    fn count_reprobes<E>(&mut self, race: &Race<E>, snapshot: &Snapshot) {
        let at = race.started();
        let quic_tried = |source: IpAddr, path: Option<Path>| {
            race.attempts().iter().any(|a| {
                let e = a.endpoint();
                e.transport() == Transport::Quic
                    && race.source_of(e.addr().ip()) == Some(source)
                    && path.is_none_or(|p| p.destination() == e.addr())
            })
        };
        for &source in snapshot.sources() {
            if snapshot.is_transport_failing(source, Transport::Quic, at) {
                let probed = snapshot.is_reprobing(source);
                if !probed || quic_tried(source, None) {
                    self.count_quic_race(source, probed);
                }
            }
        }
        for path in snapshot.failing_quic_paths(at) {
            let probed = snapshot.is_reprobing(path.source()) || snapshot.is_path_reprobing(path);
            if !probed || quic_tried(path.source(), Some(path)) {
                self.count_quic_path(path, probed);
            }
        }
    }

    /// Learns from a finished (or running) race.
    ///
    /// - A connected attempt records its round trip (from its start, or its ECH retry, to its
    ///   connection).
    /// - A failed attempt records a failure.
    /// - A cancelled attempt that had started no later than the winner records a failure
    ///   over TCP (it had at least as long as the winner and did not connect: a hanging IPv6
    ///   path, say) and a loss over QUIC ([`History::record_loss`]: weaker evidence, as QUIC
    ///   may only have been slower; V24, HG3). One cancelled by the overall deadline
    ///   records a failure. One cancelled because the caller aborted teaches nothing.
    /// - Per source address whose QUIC history changed the race (QUIC failing there, or a
    ///   failing QUIC path), the race counts towards the next re-probe of QUIC, or, when it
    ///   was that re-probe, starts the count again ([`History::reprobe_every`]).
    ///
    /// Outcomes are recorded in the order they happened, each at its own time (clamped, like
    /// every record, to the latest time the history has recorded).
    pub fn record_race<E>(&mut self, race: &Race<E>) {
        let attempts = race.attempts();
        let winner_start = attempts
            .iter()
            .find(|a| a.status() == AttemptStatus::Connected)
            .map(|a| a.started());
        let timed_out = race.is_timed_out();
        if let Some(snapshot) = race.0.history.as_deref().filter(|s| s.has_quic()) {
            self.count_reprobes(race, snapshot);
        }
        let mut record = |a: &AttemptRecord<E>| {
            let Some(ended) = a.ended() else { return };
            // R15: a destination whose source address is unknown teaches nothing.
            let Some(source) = race.source_of(a.addr().ip()) else {
                return;
            };
            let path = Path::new(source, a.addr(), a.endpoint().transport());
            match a.status() {
                // A held attempt that never sent its ClientHello says nothing of the
                // handshake (HG15).
                _ if a.is_held() && a.released().is_none() => {}
                AttemptStatus::Connected => {
                    // The round trip is timed from the ClientHello (HG15: a held one goes out
                    // when released), or from the ECH retry (V54): the first handshake's
                    // time says nothing of the path beyond what the retry does.
                    let from = a
                        .ech_retried()
                        .or(a.released())
                        .unwrap_or_else(|| a.started());
                    self.record_success(path, ended.saturating_duration_since(from), ended);
                }
                AttemptStatus::Failed => self.record_failure(path, ended),
                AttemptStatus::Cancelled => {
                    let lost = winner_start.is_some_and(|w| a.started() <= w);
                    if timed_out || (lost && a.endpoint().transport() != Transport::Quic) {
                        self.record_failure(path, ended);
                    } else if lost {
                        self.record_loss(path, ended);
                    }
                }
                AttemptStatus::Connecting => {}
            }
        };
        // Attempts are kept in the order they started; they usually end in that order too.
        if attempts.is_sorted_by_key(|a| a.ended()) {
            attempts.iter().for_each(&mut record);
        } else {
            let mut order: Vec<&AttemptRecord<E>> = attempts.iter().collect();
            order.sort_by_key(|a| a.ended());
            order.into_iter().for_each(record);
        }
    }
}
