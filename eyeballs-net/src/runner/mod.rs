//! The race runner and the two loops that drive it.
//!
//! [`Runner`] is everything a driver does around one race, with no runtime: it builds the
//! race from a target (literals, zones, source facts, history), turns the core's actions
//! into work for a loop (look up, dial, close), feeds back what the loop saw (answers,
//! dial events), keeps each attempt's handshake deadline, holds the established
//! connections until the core names the winner, and finishes (history, report, the
//! caller's `io::Error`). Time enters only as `now`, from the loop's runtime.
//!
//! The loops only wait and move bytes: [`async_loop`] over a [`Runtime`](crate::runtime::Runtime),
//! `blocking_loop` (feature `blocking`) over one mio poller, and `sim_loop` (feature `sim`)
//! over a scripted network in virtual time.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core::{
    Action, AttemptId, Config, Endpoint, Failure, Host, HostPort, Input, Name, Protocols,
    Provenance, QueryId, QueryKind, Race, Report, Target, Transport, Winner,
};

use crate::connector::Settings;
use crate::error::{AttemptError, AttemptErrorKind};
use crate::resolve::cache::{Cached, Hit, Refresh};
pub(crate) use crate::resolve::Answer;
use crate::resolve::{WithTtl, RESOLVE_TIMEOUT};
use crate::sockets::{zone_index, FlagsRead};

pub(crate) mod async_loop;
#[cfg(feature = "blocking")]
pub(crate) mod blocking_loop;
pub(crate) mod ready;
#[cfg(feature = "sim")]
pub(crate) mod sim_loop;

/// What the loop must do next.
#[derive(Debug)]
pub(crate) enum Work {
    /// Send this query to the resolver.
    Resolve {
        /// The query, to feed its answer back with.
        query: QueryId,
        /// The name to look up.
        name: Name,
        /// The record type.
        kind: QueryKind,
    },
    /// Start this attempt: the loop's dialer for the endpoint's transport.
    Dial {
        /// The attempt, to feed its events back with.
        attempt: AttemptId,
        /// What to dial.
        endpoint: Endpoint,
        /// Connect TCP, report it as progress, and wait for [`Work::Release`] before the
        /// handshake (V34, HG6: the ClientHello waits for service information).
        held: bool,
    },
    /// Start the handshake of a held attempt with this endpoint (its ECH configuration and
    /// ALPN ids as service information gives them now), as soon as its TCP is up.
    Release {
        /// The held attempt.
        attempt: AttemptId,
        /// What the ClientHello offers and encrypts.
        endpoint: Endpoint,
    },
    /// Stop this attempt and close everything it opened (it lost, or stalled).
    Close {
        /// The attempt.
        attempt: AttemptId,
    },
    /// Wait for this lookup as the query's: a refresh an earlier race left with the DNS
    /// cache, still out (no query is sent: V13, HG18).
    Adopt {
        /// The query, to feed its answer back with.
        query: QueryId,
        /// The name it looks up (the simulated loop's log).
        #[cfg_attr(not(feature = "sim"), allow(dead_code))]
        name: Name,
        /// The record type.
        #[cfg_attr(not(feature = "sim"), allow(dead_code))]
        kind: QueryKind,
        /// The lookup.
        refresh: Refresh,
    },
    /// Drop this query's lookup: it had no answer by [`RESOLVE_TIMEOUT`] and has failed.
    Forget {
        /// The query.
        query: QueryId,
    },
}

/// What a dialer reports of its attempt: the same events for every transport.
#[derive(Debug)]
pub(crate) enum DialEvent<O> {
    /// The attempt made progress without being established (TCP up, TLS under way).
    Progressed,
    /// The attempt is established (TCP; TLS done; QUIC done).
    Established(O),
    /// The attempt failed.
    Failed(io::Error),
}

/// What a race needs from its connect, besides the connector's settings.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The race configuration.
    pub(crate) config: Config,
    /// The protocols the attempts offer (ALPN ids per transport).
    pub(crate) protocols: Protocols,
    /// Whether to ask for HTTPS records (when the resolver answers them).
    pub(crate) https: bool,
    /// The target is an `http` origin (V37, RFC 9460 §9.5): when the resolver answers HTTPS
    /// queries, the race asks the one of its `https` form, and a positive answer ends it
    /// with `UpgradeToHttps`.
    pub(crate) http_origin: bool,
    /// Whether the caller wants the report.
    pub(crate) report: bool,
    /// The seed of the shuffle of equal service priorities (HEv3 §5.2, V20): `None` for a
    /// fresh one per race, a fixed one for a reproducible race (the simulator's).
    pub(crate) seed: Option<u64>,
}

/// One race and the bookkeeping around it, for a loop to drive. `O` is what an
/// established attempt gives (a stream, a TLS connection).
pub(crate) struct Runner<'s, O> {
    settings: &'s Settings,
    race: Race<io::Error>,
    /// Attempts whose handshake has a deadline, with it: they fail as stalled when it
    /// passes. At most the attempts in flight.
    stalls: Vec<(AttemptId, Instant)>,
    /// Established attempts, kept until the core names the winner or cancels them: the
    /// first inline (a race that connects at once allocates nothing for it), the rest after.
    connected: Option<(AttemptId, O)>,
    more_connected: Vec<(AttemptId, O)>,
    /// Work the runner decided on its own (closes of stalled attempts, an ECH retry's
    /// close and dial), for the loop, in order.
    queued: VecDeque<Work>,
    /// Held attempts not yet released: their handshake deadline starts at the release.
    held: Vec<AttemptId>,
    /// Queries sent while the connector has a DNS cache, to keep their answers under, and
    /// whether each refreshes a stale entry (left with the cache if still out when the
    /// race ends): at most the race's queries in flight.
    asked: Vec<(QueryId, Name, QueryKind, bool)>,
    /// The race's [`Config::protected_dns`]: an HTTPS query's NXDOMAIN is then fed as an
    /// answer without records, so that only real failures end the race (V36).
    protected_dns: bool,
    /// Queries out, with the moment they fail unanswered ([`RESOLVE_TIMEOUT`]): at most the
    /// race's queries in flight.
    resolving: Vec<(QueryId, Instant)>,
    /// The deadlines of attempts whose ECH was just rejected: back in force if the core
    /// retries them (HG14), dropped otherwise.
    ech_rejected: Vec<(AttemptId, Instant)>,
    result: Option<Result<(Winner, O), Failure<io::Error>>>,
    want_report: bool,
    flags: FlagsRead,
    /// The race's tracing span (`race`, with its id and target): entered by every method
    /// that feeds or drains the race, so each event says which race it is of.
    span: tracing::Span,
}

impl<'s, O> Runner<'s, O> {
    /// Builds the race for `target` at `now`: a name is asked as two queries (AAAA, A), or
    /// one combined query when the resolver answers both at once, plus an HTTPS query when
    /// the plan asks and the resolver can (HEv3 §4.1); a literal's zone gets its interface
    /// index, and its addresses their source facts. With a proxy (V60, HG20) the race is
    /// over the proxy's host or addresses, and `target` is what each attempt asks it for.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unknown zone or a configuration the core rejects.
    // Inlined into the loops: the runner is then built where the loop keeps it, not
    // returned and moved there (hundreds of bytes).
    #[inline]
    pub(crate) fn start(
        settings: &'s Settings,
        target: &HostPort,
        plan: Plan,
        flags: FlagsRead,
        now: Instant,
    ) -> io::Result<Self> {
        let resolver = &settings.resolver;
        let mut race_target = match &settings.proxy {
            // V60, HG20: the race resolves and races the proxy; every attempt asks the
            // proxy for the caller's host, by name. The host's HTTPS record only when the
            // proxy says so (and a TLS connect, with a resolver that answers it).
            Some(proxy) => {
                let at = Self::host_target(settings, proxy.addr(), now, flags)?;
                let origin = match target.host() {
                    Host::Name(name) => name.clone(),
                    _ => target.to_string(),
                };
                let https = proxy.origin_https_on()
                    && plan.https
                    && resolver.answers_https()
                    && matches!(target.host(), Host::Name(_));
                Target::proxied(at, origin.as_str(), target.port()).https(https)
            }
            None => Self::host_target(settings, target, now, flags)?,
        };
        // Changed in place: a literal's target (the common case) is not moved again.
        if let (None, Host::Name(name)) = (&settings.proxy, target.host()) {
            if plan.https {
                // Alternatives need a certificate check against the origin (RFC 7838 §2.1):
                // TLS connects only, which are those that ask for HTTPS records.
                race_target = race_target.https(resolver.answers_https());
                race_target = settings
                    .alt_svc
                    .for_race(name, target.port(), now)
                    .into_iter()
                    .fold(race_target, Target::alt_svc);
            } else if plan.http_origin {
                // V37: an http origin's race asks the HTTPS query of its https form.
                race_target = race_target.http_origin(resolver.answers_https());
            }
        }
        // Every target above starts with plain TCP (`Protocols::new()`): setting it again
        // would only move the target in and out of the builder.
        if plan.protocols != Protocols::new() {
            race_target = race_target.protocols(plan.protocols);
        }
        let config = plan.config.seed(plan.seed.unwrap_or_else(seed));
        // Under the history's lock, only the lookups of the target's own destinations; the
        // race is built after the lock is released (concurrent connects do not wait for
        // each other's builds).
        let copy = settings
            .history
            .read(|history| history.map(|h| h.copy_for(&race_target, now)));
        // Built in the memory of the connector's last race when it kept one.
        let race = match (settings.spare.take(), copy) {
            (Some(spare), copy) => spare.restart(race_target, config, copy, now),
            (None, Some(copy)) => Race::with_history_copy(race_target, config, copy, now),
            (None, None) => Race::new(race_target, config, now),
        }
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let span = race_span(target);
        span.in_scope(|| tracing::debug!(target: "eyeballs", %target, "race started"));
        Ok(Runner {
            settings,
            race,
            stalls: Vec::new(),
            connected: None,
            more_connected: Vec::new(),
            queued: VecDeque::new(),
            held: Vec::new(),
            asked: Vec::new(),
            protected_dns: plan.config.is_protected_dns(),
            resolving: Vec::new(),
            ech_rejected: Vec::new(),
            result: None,
            want_report: plan.report,
            flags,
            span,
        })
    }

    /// The race's target for `target` itself: a name asked as two queries (AAAA, A), or
    /// one combined query when the resolver answers both at once; a literal's zone gets its
    /// interface index, and its addresses their source facts.
    fn host_target(
        settings: &Settings,
        target: &HostPort,
        now: Instant,
        flags: FlagsRead,
    ) -> io::Result<Target> {
        Ok(match target.host() {
            Host::Name(name) if settings.resolver.answers_both() => {
                Target::host_combined(name.as_str(), target.port())
            }
            Host::Name(name) => Target::host(name.as_str(), target.port()),
            host => {
                let scope = match host {
                    Host::ZonedIpv6 { zone, .. } => zone_index(zone)?,
                    _ => 0,
                };
                let literal = target
                    .literal_target(scope)
                    .unwrap_or_else(|| unreachable!("only names have no literal target"));
                let (sources, socket) = (&settings.sources, &settings.socket);
                match host {
                    // One address (the usual literal): its fact as an `Option`, whose exact
                    // length lets the target's list take it without a loop.
                    Host::Ip(ip) => {
                        literal.sources(sources.facts([*ip], socket, now, flags).next())
                    }
                    _ => literal.sources(sources.facts(literal_ips(host), socket, now, flags)),
                }
            }
        })
    }

    /// Returns the next piece of work, or `None` when there is none until the next input
    /// or deadline (or the race is over: see [`Runner::is_finished`]). `now` stamps what is
    /// decided without I/O (an endpoint refused before any socket, a QUIC attempt's
    /// handshake deadline): call it right after the input or timeout it follows.
    pub(crate) fn poll_work(&mut self, now: Instant) -> Option<Work> {
        let _race = self.span.clone().entered();
        if let Some(work) = self.queued.pop_front() {
            return Some(work);
        }
        while let Some(action) = self.race.poll_action() {
            match action {
                Action::Resolve {
                    query, name, kind, ..
                } => {
                    let cache = &self.settings.dns_cache;
                    let mut refresh = false;
                    match cache.lookup(&name, kind, now) {
                        Some(Hit::Fresh(answer)) => {
                            // Within its TTL: no query (a stub cache's contract).
                            tracing::debug!(target: "eyeballs", %query, %name, %kind, "resolved from the DNS cache");
                            self.feed(query, answer, false, now);
                            continue;
                        }
                        Some(Hit::Stale(answer)) => {
                            // Optimistic DNS (V13, HG18): race on it now; the query goes
                            // out, and its answer is merged as a late one (§7).
                            tracing::debug!(target: "eyeballs", %query, %name, %kind, "stale answer from the DNS cache, resolve");
                            self.feed(query, answer, true, now);
                            refresh = true;
                            // An earlier race's refresh still out: wait for it, ask nothing.
                            if let Some((lookup, at)) = cache.adopt(&name, kind) {
                                self.asked.push((query, name.clone(), kind, true));
                                self.resolving.push((query, at));
                                return Some(Work::Adopt {
                                    query,
                                    name,
                                    kind,
                                    refresh: lookup,
                                });
                            }
                        }
                        None => {
                            tracing::debug!(target: "eyeballs", %query, %name, %kind, "resolve");
                        }
                    }
                    if cache.is_on() {
                        self.asked.push((query, name.clone(), kind, refresh));
                    }
                    // A deadline past what `Instant` can hold is none.
                    if let Some(at) = now.checked_add(RESOLVE_TIMEOUT) {
                        self.resolving.push((query, at));
                    }
                    return Some(Work::Resolve { query, name, kind });
                }
                Action::Connect {
                    attempt, endpoint, ..
                } => {
                    // The fields are worked out only when the event is on.
                    tracing::debug!(
                        target: "eyeballs",
                        %attempt,
                        %endpoint,
                        priority = endpoint.priority(),
                        delay_ms = self.delay_ms(attempt),
                        alt_svc = alt_svc_host(&endpoint),
                        "connect"
                    );
                    if let Some(refusal) = refusal(&endpoint) {
                        self.race.handle_input(
                            Input::ConnectFailed {
                                attempt,
                                error: refusal.into(),
                            },
                            now,
                        );
                        continue;
                    }
                    if endpoint.transport() == Transport::Quic {
                        // A QUIC attempt is all handshake: its deadline runs from its start.
                        self.arm_stall(attempt, now);
                    }
                    return Some(Work::Dial {
                        attempt,
                        endpoint,
                        held: false,
                    });
                }
                Action::ConnectHeld {
                    attempt, endpoint, ..
                } => {
                    tracing::debug!(
                        target: "eyeballs",
                        %attempt,
                        %endpoint,
                        delay_ms = self.delay_ms(attempt),
                        alt_svc = alt_svc_host(&endpoint),
                        "connect, handshake held"
                    );
                    if let Some(refusal) = refusal(&endpoint) {
                        self.race.handle_input(
                            Input::ConnectFailed {
                                attempt,
                                error: refusal.into(),
                            },
                            now,
                        );
                        continue;
                    }
                    self.held.push(attempt);
                    return Some(Work::Dial {
                        attempt,
                        endpoint,
                        held: true,
                    });
                }
                Action::Handshake {
                    attempt, endpoint, ..
                } => {
                    tracing::debug!(target: "eyeballs", %attempt, %endpoint, "handshake released");
                    self.held.retain(|a| *a != attempt);
                    // The attempt's outcome is timed from here: so is its deadline.
                    self.arm_stall(attempt, now);
                    return Some(Work::Release { attempt, endpoint });
                }
                Action::RetryEch {
                    attempt, endpoint, ..
                } => {
                    tracing::debug!(target: "eyeballs", %attempt, %endpoint, "ECH retry");
                    // The same attempt dials again with the retry configurations; it keeps
                    // its deadline (HG14).
                    if let Some(i) = self.ech_rejected.iter().position(|(a, _)| *a == attempt) {
                        let (_, at) = self.ech_rejected.swap_remove(i);
                        self.stalls.push((attempt, at));
                    }
                    self.queued.push_back(Work::Dial {
                        attempt,
                        endpoint,
                        held: false,
                    });
                    return Some(Work::Close { attempt });
                }
                Action::Cancel { attempt } => {
                    tracing::debug!(target: "eyeballs", %attempt, "cancel");
                    self.disarm_stall(attempt);
                    self.held.retain(|a| *a != attempt);
                    // Dropping a kept connection closes it now.
                    drop(self.take_connected(attempt));
                    return Some(Work::Close { attempt });
                }
                Action::Finish(Ok(winner)) => {
                    self.stalls.clear();
                    // The core names a winner only after our `Connected`, which we send only
                    // with the connection kept.
                    let Some(output) = self.take_connected(winner.attempt()) else {
                        unreachable!("the winner's connection was kept before it was reported")
                    };
                    tracing::debug!(target: "eyeballs", winner = %winner.endpoint(), "race won");
                    self.result = Some(Ok((winner, output)));
                    return None;
                }
                Action::Finish(Err(failure)) => {
                    self.stalls.clear();
                    tracing::debug!(target: "eyeballs", reason = ?failure.reason(), "race failed");
                    self.result = Some(Err(failure));
                    return None;
                }
                // `Action` may grow; what this version does not know asks nothing of a loop.
                _ => {}
            }
        }
        // A rejection the core did not retry has failed its attempt: its deadline is gone.
        self.ech_rejected.clear();
        None
    }

    /// Returns whether the race is over: [`Runner::finish`] gives its result.
    pub(crate) fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// Returns the next deadline: the race's timers, the handshake deadlines and the
    /// queries' ([`RESOLVE_TIMEOUT`]).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let stall = self.stalls.iter().map(|&(_, at)| at).min();
        let lookup = self.resolving.iter().map(|&(_, at)| at).min();
        [self.race.poll_timeout(), stall, lookup]
            .into_iter()
            .flatten()
            .min()
    }

    /// Feeds a DNS answer (or its failure) at `now`. Addresses come with their source facts
    /// (RFC 6724 sorts with them; history is kept per source, R15).
    ///
    /// With the connector's DNS cache on, an answer with a TTL is kept for the next races.
    pub(crate) fn handle_answer(
        &mut self,
        query: QueryId,
        answer: io::Result<WithTtl<Answer>>,
        now: Instant,
    ) {
        let _race = self.span.clone().entered();
        if let Some(i) = self.resolving.iter().position(|&(q, _)| q == query) {
            self.resolving.swap_remove(i);
        }
        let asked = self
            .asked
            .iter()
            .position(|(q, ..)| *q == query)
            .map(|i| self.asked.swap_remove(i));
        let https = self
            .race
            .queries()
            .get(query.index())
            .is_some_and(|q| q.kind() == QueryKind::Https);
        let answer = match answer {
            Ok(answer) => answer,
            // V36: on protected DNS a failed HTTPS query ends the race, but NXDOMAIN is an
            // answer (the name has no records), not a failure: a negative one.
            Err(error)
                if https && self.protected_dns && error.kind() == io::ErrorKind::NotFound =>
            {
                tracing::debug!(target: "eyeballs", %query, %error, "no such name: no HTTPS records");
                WithTtl::new(Answer::Records(Vec::new()), None)
            }
            Err(error) => {
                // Failures are not cached: the next race asks again.
                tracing::debug!(target: "eyeballs", %query, %error, "resolve failed");
                self.race
                    .handle_input(Input::ResolveFailed { query, error }, now);
                return;
            }
        };
        let ttl = answer.ttl();
        let cached = match answer.into_value() {
            Answer::Addrs(addrs) => Cached::Addrs(addrs),
            Answer::Records(records) => Cached::Records(records),
        };
        if let (Some((_, name, kind, _)), Some(ttl)) = (asked, ttl) {
            self.settings
                .dns_cache
                .store(&name, kind, cached.clone(), ttl, now);
        }
        self.feed(query, cached, false, now);
    }

    /// Feeds an answer to `query` at `now`: fresh (from the resolver or the cache within
    /// its TTL) or stale (an expired cache entry while the query runs, V13, HG18), after
    /// the source facts of its addresses.
    fn feed(&mut self, query: QueryId, answer: Cached, stale: bool, now: Instant) {
        let input = match answer {
            Cached::Addrs(addrs) => {
                tracing::debug!(target: "eyeballs", %query, ?addrs, stale, "resolved");
                self.learn_sources(&addrs, now);
                if stale {
                    Input::ResolvedStale { query, addrs }
                } else {
                    Input::Resolved { query, addrs }
                }
            }
            Cached::Records(records) => {
                tracing::debug!(target: "eyeballs", %query, ?records, stale, "resolved");
                // Hints are destinations too (V10): with their source facts, history
                // applies to a race that starts on hints alone (R15, HG3).
                let hints: Vec<IpAddr> = records
                    .iter()
                    .flat_map(|r| {
                        let v6 = r.ipv6_hint_addrs().iter().map(|a| IpAddr::V6(*a));
                        v6.chain(r.ipv4_hint_addrs().iter().map(|a| IpAddr::V4(*a)))
                    })
                    .collect();
                if !hints.is_empty() {
                    self.learn_sources(&hints, now);
                }
                if stale {
                    Input::ResolvedServicesStale { query, records }
                } else {
                    Input::ResolvedServices { query, records }
                }
            }
        };
        self.race.handle_input(input, now);
    }

    /// Feeds a change of the host's addresses at `now` (DNS push, a TTL expiry: RFC 8305
    /// §6, HEv3 §7), the added addresses with their source facts, as an answer's.
    #[cfg(feature = "sim")]
    pub(crate) fn handle_addresses_changed(
        &mut self,
        added: Vec<IpAddr>,
        removed: Vec<IpAddr>,
        now: Instant,
    ) {
        tracing::debug!(target: "eyeballs", ?added, ?removed, "addresses changed");
        self.learn_sources(&added, now);
        self.race
            .handle_input(Input::AddressesChanged { added, removed }, now);
    }

    /// Tells the race the source facts of `addrs`, then lets it copy the history of just
    /// these destinations, before the input that holds them: the race decides as if it had
    /// the whole history (no copy of it).
    fn learn_sources(&mut self, addrs: &[IpAddr], now: Instant) {
        let settings = self.settings;
        let sources = settings
            .sources
            .facts(addrs.iter().copied(), &settings.socket, now, self.flags)
            .collect();
        self.race.handle_input(Input::Sources { sources }, now);
        let race = &mut self.race;
        settings.history.read(|history| {
            if let Some(history) = history {
                race.handle_history(history, now);
            }
        });
    }

    /// Feeds what a dialer reported of `attempt` at `now`.
    pub(crate) fn handle_dial(&mut self, attempt: AttemptId, event: DialEvent<O>, now: Instant) {
        let _race = self.span.clone().entered();
        match event {
            DialEvent::Progressed => {
                tracing::debug!(target: "eyeballs", %attempt, "tcp connected, handshake under way");
                // V33: TCP is up, the handshake under way; it has until the deadline (a
                // held attempt's starts at its release; a retried one keeps its own).
                if !self.held.contains(&attempt) && !self.stalls.iter().any(|(a, _)| *a == attempt)
                {
                    self.arm_stall(attempt, now);
                }
                self.race.handle_input(Input::Progressed { attempt }, now);
            }
            DialEvent::Established(output) => {
                tracing::debug!(target: "eyeballs", %attempt, "connected");
                self.disarm_stall(attempt);
                match self.connected {
                    None => self.connected = Some((attempt, output)),
                    Some(_) => self.more_connected.push((attempt, output)),
                }
                self.race.handle_input(Input::Connected { attempt }, now);
            }
            DialEvent::Failed(error) => {
                tracing::debug!(target: "eyeballs", %attempt, %error, "connect failed");
                let rejected_ech = AttemptError::of(&error)
                    .filter(|e| e.kind() == AttemptErrorKind::Ech && e.is_ech_rejection());
                if let Some(rejected) = rejected_ech {
                    // The core decides: a retry with the server's configurations (once), or
                    // the attempt fails (V54). The deadline stays for the retry.
                    let retry = rejected.ech_retry();
                    if let Some(i) = self.stalls.iter().position(|(a, _)| *a == attempt) {
                        let kept = self.stalls.swap_remove(i);
                        self.ech_rejected.push(kept);
                    }
                    self.race.handle_input(
                        Input::EchRejected {
                            attempt,
                            retry,
                            error,
                        },
                        now,
                    );
                    return;
                }
                self.disarm_stall(attempt);
                self.held.retain(|a| *a != attempt);
                self.race
                    .handle_input(Input::ConnectFailed { attempt, error }, now);
            }
        }
    }

    /// Fires what is due at `now`: handshakes past their deadline fail as stalled (and are
    /// closed), then the race's own timers. An early call does nothing.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let _race = self.span.clone().entered();
        // A lookup without an answer by its deadline fails as timed out (a resolver that
        // never answers must not hold the race: HG12 keeps it going while a query is out).
        while let Some(i) = self.resolving.iter().position(|&(_, at)| at <= now) {
            let (query, _) = self.resolving.swap_remove(i);
            if let Some(i) = self.asked.iter().position(|(q, ..)| *q == query) {
                self.asked.swap_remove(i);
            }
            let error = io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no answer from the resolver within {}",
                    Seconds(RESOLVE_TIMEOUT)
                ),
            );
            tracing::debug!(target: "eyeballs", %query, %error, "resolve timed out");
            self.queued.push_back(Work::Forget { query });
            self.race
                .handle_input(Input::ResolveFailed { query, error }, now);
        }
        let timeout = self.settings.handshake_timeout;
        while let Some(i) = self.stalls.iter().position(|&(_, at)| at <= now) {
            let (attempt, _) = self.stalls.swap_remove(i);
            let Some(endpoint) = self.endpoint_of(attempt) else {
                continue;
            };
            let error = AttemptError::with_source(
                endpoint,
                AttemptErrorKind::Stalled,
                format!("no answer within {}", Seconds(timeout)),
            );
            tracing::debug!(target: "eyeballs", %attempt, %error, "handshake stalled");
            self.queued.push_back(Work::Close { attempt });
            self.race.handle_input(
                Input::ConnectFailed {
                    attempt,
                    error: error.into(),
                },
                now,
            );
        }
        self.race.handle_timeout(now);
    }

    /// Leaves the refreshes of stale cache entries still out with the DNS cache (V13,
    /// HG18: a later race takes up their answers): `take` gives the loop's lookup of a
    /// query, if it has one. Call it once the race is over, before [`Runner::finish`].
    pub(crate) fn park_refreshes(
        &mut self,
        mut take: impl FnMut(QueryId) -> Option<Refresh>,
        now: Instant,
    ) {
        for (query, name, kind, refresh) in self.asked.drain(..) {
            let deadline = self.resolving.iter().find(|(q, _)| *q == query);
            if let (true, Some(&(_, deadline))) = (refresh, deadline) {
                if let Some(lookup) = take(query) {
                    self.settings
                        .dns_cache
                        .park(&name, kind, lookup, deadline, now);
                }
            }
        }
    }

    /// Ends the runner: records what the race learned in the history, builds the report
    /// if asked, and turns a failure into an `io::Error` whose inner error is the
    /// [`Failure`].
    ///
    /// A race that is not over (its loop stopped: the poller failed) is aborted first.
    ///
    /// Called once, as the loop returns: it takes the result out, so the runner is spent.
    /// It borrows the runner rather than taking it, so that the loop does not move the whole
    /// runner (hundreds of bytes) to end it; the runner is dropped with the loop.
    // Inlined into the loops, as `start` is: its result is built where the loop returns it.
    #[inline]
    pub(crate) fn finish(mut self, now: Instant) -> (io::Result<O>, Option<Report>) {
        let _race = self.span.clone().entered();
        if self.result.is_none() {
            self.race.handle_input(Input::Aborted, now);
            while self.result.is_none() && self.poll_work(now).is_some() {}
        }
        let Some(result) = self.result.take() else {
            unreachable!("an aborted race finishes at once")
        };
        self.settings.history.record(&self.race);
        let report = self
            .want_report
            .then(|| Report::new(&self.race, Some(result.as_ref().map(|(w, _)| w))));
        // Its memory is the next race's.
        self.settings.spare.put(self.race);
        (result.map(|(_, o)| o).map_err(io::Error::from), report)
    }

    /// The endpoint of an attempt the race started.
    pub(crate) fn endpoint_of(&self, attempt: AttemptId) -> Option<Endpoint> {
        self.race
            .attempts()
            .get(attempt.index())
            .map(|a| a.endpoint().clone())
    }

    /// The Connection Attempt Delay that follows the start of `attempt`, in whole
    /// milliseconds, for the tracing event of the start (HG13: shown).
    fn delay_ms(&self, attempt: AttemptId) -> Option<u64> {
        let delay = self.race.attempts().get(attempt.index())?.delay();
        Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
    }

    fn arm_stall(&mut self, attempt: AttemptId, now: Instant) {
        self.disarm_stall(attempt);
        // A deadline past what `Instant` can hold is none.
        if let Some(at) = now.checked_add(self.settings.handshake_timeout) {
            self.stalls.push((attempt, at));
        }
    }

    fn disarm_stall(&mut self, attempt: AttemptId) {
        self.stalls.retain(|&(a, _)| a != attempt);
    }

    fn take_connected(&mut self, attempt: AttemptId) -> Option<O> {
        if self.connected.as_ref().is_some_and(|(a, _)| *a == attempt) {
            return self.connected.take().map(|(_, o)| o);
        }
        let i = self
            .more_connected
            .iter()
            .position(|(a, _)| *a == attempt)?;
        Some(self.more_connected.swap_remove(i).1)
    }
}

/// Why an endpoint is not dialled at all: a destination that cannot be one (a target's
/// port 0; the core makes no endpoint of a record with port 0).
fn refusal(endpoint: &Endpoint) -> Option<AttemptError> {
    (endpoint.addr().port() == 0)
        .then(|| AttemptError::new(endpoint.clone(), AttemptErrorKind::Port))
}

/// The alternative service's host an endpoint came from (`Alt-Svc`, HEv3 V59), for the
/// tracing event of its start.
fn alt_svc_host(endpoint: &Endpoint) -> Option<tracing::field::DisplayValue<Name>> {
    match endpoint.provenance() {
        Provenance::AltSvc { host, .. } => Some(tracing::field::display(host.clone())),
        _ => None,
    }
}

/// The addresses of a literal host.
fn literal_ips(host: &Host) -> impl Iterator<Item = IpAddr> + '_ {
    let (one, many): (Option<IpAddr>, &[SocketAddr]) = match host {
        Host::Ip(ip) => (Some(*ip), &[]),
        Host::ZonedIpv6 { addr, .. } => (Some(IpAddr::V6(*addr)), &[]),
        Host::Addrs(addrs) => (None, addrs),
        _ => (None, &[]),
    };
    one.into_iter().chain(many.iter().map(|a| a.ip()))
}

/// The span of one race: `race` at DEBUG with target `eyeballs`, its `id` (counted from 0
/// per process, so that the lines of concurrent races can be told apart) and its
/// `target`.
fn race_span(target: &HostPort) -> tracing::Span {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RACES: AtomicU64 = AtomicU64::new(0);
    let id = RACES.fetch_add(1, Ordering::Relaxed);
    tracing::debug_span!(target: "eyeballs", "race", id, target = %target)
}

/// A fresh seed for the race's shuffle of equal service priorities (HEv3 §5.2, V20): a
/// counter from a random start (std's random hasher keys, drawn once per process), mixed
/// with SplitMix64's finalizer, so that consecutive races get unrelated seeds. A race pays
/// a few instructions for it, not a SipHash.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static START: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut z = start.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A duration as people write it: `10 s`, `1.5 s`, `250 ms`.
struct Seconds(Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.as_millis();
        if ms < 1000 {
            write!(f, "{ms} ms")
        } else if ms.is_multiple_of(1000) {
            write!(f, "{} s", ms / 1000)
        } else {
            write!(f, "{:.1} s", self.0.as_secs_f64())
        }
    }
}
