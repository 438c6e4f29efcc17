//! The simulated loop (feature `sim`): a [`Runner`] driven in virtual time against a
//! [`World`] (the simulator's scripted network). Nothing waits: the clock jumps to the
//! next event, answers and dial events before timers due at the same instant (an input
//! first, then expired timers), and events of one instant in the order they were
//! scheduled, so one script always gives one run.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use eyeballs_core::{Alpn, AttemptId, Endpoint, HostPort, Name, QueryId, QueryKind, Report};

use crate::connector::Settings;
use crate::resolve::cache::Refresh;
use crate::resolve::WithTtl;
use crate::runner::{Answer, DialEvent, Plan, Runner, Work};
use crate::sockets::FlagsRead;

/// What the simulated network does with the loop's work.
pub(crate) trait World {
    /// How a query is answered: after how long, and what; `None` for never.
    fn resolve(
        &self,
        name: &Name,
        kind: QueryKind,
    ) -> Option<(Duration, io::Result<WithTtl<Answer>>)>;

    /// How an attempt to `endpoint` goes, as its events with their times since the dial, in
    /// order; none at all for an attempt that hangs. `tls`: the race counts an attempt
    /// when its TLS or QUIC handshake is done (HEv3 §6.1), not at its TCP connect.
    fn dial(&self, endpoint: &Endpoint, tls: bool) -> Vec<(Duration, Dialed)>;

    /// Changes of the host's addresses: (time since the race started, added, removed).
    fn changes(&self) -> Vec<(Duration, Vec<IpAddr>, Vec<IpAddr>)>;
}

/// One event of a simulated attempt.
#[derive(Debug)]
pub(crate) enum Dialed {
    /// TCP is up, the handshake under way.
    Progressed,
    /// Established, with the ALPN id the server chose.
    Established(Option<Alpn>),
    /// Failed.
    Failed(io::Error),
}

/// What a simulated race's winner gives: the endpoint and the ALPN id its handshake
/// negotiated.
#[derive(Debug)]
pub(crate) struct Won {
    pub(crate) endpoint: Endpoint,
    pub(crate) alpn: Option<Alpn>,
}

/// Something the loop did or saw, at a time since the race started: the race as the
/// network saw it, for tests that check order and timing (see `eyeballs_net::sim::Run`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A query was sent.
    Query {
        /// The name asked about.
        name: Name,
        /// The record type.
        kind: QueryKind,
    },
    /// A query was answered (addresses, records, nothing) or failed.
    Answered {
        /// The name asked about.
        name: Name,
        /// The record type.
        kind: QueryKind,
        /// The resolver's error, for a failed query.
        error: Option<String>,
    },
    /// The host's addresses changed (DNS push, a TTL expiry).
    AddressesChanged {
        /// Addresses added.
        added: Vec<IpAddr>,
        /// Addresses withdrawn.
        removed: Vec<IpAddr>,
    },
    /// An attempt started: the first packet (a SYN, a QUIC Initial) left.
    Dial {
        /// Where it went.
        endpoint: Endpoint,
    },
    /// An attempt's TCP connect finished and its TLS handshake started.
    Progressed {
        /// The attempt's endpoint.
        endpoint: Endpoint,
    },
    /// An attempt was established (TCP; TLS or QUIC done).
    Established {
        /// The attempt's endpoint.
        endpoint: Endpoint,
    },
    /// An attempt failed (refused, no route, a handshake error).
    Failed {
        /// The attempt's endpoint.
        endpoint: Endpoint,
        /// Its error.
        error: String,
    },
    /// An attempt was closed: it lost, the race ended, or its handshake stalled.
    Closed {
        /// The attempt's endpoint.
        endpoint: Endpoint,
    },
}

/// How a simulated race ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The winner, or the caller's error.
    pub(crate) result: io::Result<Won>,
    /// The report (`None` only when the race could not start).
    pub(crate) report: Option<Report>,
    /// What happened, in order, with times since the start.
    pub(crate) events: Vec<(Duration, Event)>,
    /// The race would have waited forever (nothing in flight ever ends and no deadline):
    /// the loop aborted it.
    pub(crate) stuck: bool,
    /// The virtual time the race ended at.
    pub(crate) end: Instant,
}

/// A completion the loop has scheduled.
enum Pending {
    Answer(QueryId, io::Result<WithTtl<Answer>>),
    Attempt(AttemptId, Dialed),
    Change(Vec<IpAddr>, Vec<IpAddr>),
}

/// Runs one race from `start` to its end against `world`.
pub(crate) fn run<W: World + ?Sized>(
    settings: &Settings,
    target: &HostPort,
    plan: Plan,
    world: &W,
    tls: bool,
    start: Instant,
) -> Outcome {
    let mut runner: Runner<'_, Won> =
        match Runner::start(settings, target, plan, FlagsRead::Here, start) {
            Ok(runner) => runner,
            Err(e) => {
                return Outcome {
                    result: Err(e),
                    report: None,
                    events: Vec::new(),
                    stuck: false,
                    end: start,
                }
            }
        };
    let mut sim = Loop {
        start,
        now: start,
        queue: BTreeMap::new(),
        seq: 0,
        queries: BTreeMap::new(),
        attempts: BTreeMap::new(),
        held: BTreeMap::new(),
        events: Vec::new(),
    };
    for (after, added, removed) in world.changes() {
        sim.schedule(after, start, Pending::Change(added, removed));
    }
    loop {
        while let Some(work) = runner.poll_work(sim.now) {
            sim.perform(work, world, tls);
        }
        if runner.is_finished() {
            return sim.finish(runner, false);
        }
        let io = sim.queue.keys().next().copied();
        match (io, runner.poll_timeout()) {
            // An input first, then the timers due at the same instant.
            (Some((at, key)), timer) if timer.is_none_or(|t| at <= t) => {
                let Some(pending) = sim.queue.remove(&(at, key)) else {
                    unreachable!("the key was just read")
                };
                sim.now = at;
                sim.feed(&mut runner, pending);
            }
            (_, Some(t)) => {
                // Time never goes back: a deadline already past fires now.
                sim.now = sim.now.max(t);
                runner.handle_timeout(sim.now);
            }
            (_, None) => return sim.finish(runner, true),
        }
    }
}

/// The loop's state: the clock, what is scheduled, and the log.
struct Loop {
    start: Instant,
    now: Instant,
    /// (when, order scheduled) → completion.
    queue: BTreeMap<(Instant, u64), Pending>,
    seq: u64,
    queries: BTreeMap<QueryId, (Name, QueryKind)>,
    attempts: BTreeMap<AttemptId, Endpoint>,
    /// Held attempts' handshake events, each with its delay after TCP came up, waiting for
    /// the release (V34, HG6), and whether TCP is up yet / the release came.
    held: BTreeMap<AttemptId, Held>,
    events: Vec<(Duration, Event)>,
}

/// A held attempt's state in the simulated network.
#[derive(Debug, Default)]
struct Held {
    /// The handshake's events, each with its delay after TCP came up.
    rest: Vec<(Duration, Dialed)>,
    /// When TCP came up.
    tcp_up: Option<Instant>,
    /// The release came.
    released: bool,
}

impl Loop {
    fn log(&mut self, event: Event) {
        let t = self.now.saturating_duration_since(self.start);
        self.events.push((t, event));
    }

    /// Schedules `pending` `after` past `from`; a time `Instant` cannot hold is never.
    fn schedule(&mut self, after: Duration, from: Instant, pending: Pending) {
        if let Some(at) = from.checked_add(after) {
            self.queue.insert((at, self.seq), pending);
            self.seq += 1;
        }
    }

    fn perform<W: World + ?Sized>(&mut self, work: Work, world: &W, tls: bool) {
        match work {
            Work::Resolve { query, name, kind } => {
                self.log(Event::Query {
                    name: name.clone(),
                    kind,
                });
                if let Some((after, answer)) = world.resolve(&name, kind) {
                    self.schedule(after, self.now, Pending::Answer(query, answer));
                }
                self.queries.insert(query, (name, kind));
            }
            // An earlier race's refresh, still out: no query goes out, its answer comes
            // when it was due (the simulated loop parks only due answers).
            Work::Adopt {
                query,
                name,
                kind,
                refresh,
            } => {
                if let Refresh::Due(at, answer) = refresh {
                    let at = at.max(self.now);
                    self.queue
                        .insert((at, self.seq), Pending::Answer(query, answer));
                    self.seq += 1;
                }
                self.queries.insert(query, (name, kind));
            }
            Work::Dial {
                attempt,
                endpoint,
                held,
            } => {
                self.log(Event::Dial {
                    endpoint: endpoint.clone(),
                });
                let mut steps = world.dial(&endpoint, tls);
                // Held: TCP (and its failure) runs now; the handshake is scripted at the
                // release, for the endpoint the release brings (its ECH configuration).
                if held {
                    if let Some(i) = steps
                        .iter()
                        .position(|(_, d)| matches!(d, Dialed::Progressed))
                    {
                        steps.truncate(i + 1);
                        self.held.insert(attempt, Held::default());
                    } else if let [(up, Dialed::Established(None))] = steps.as_slice() {
                        // Plain TCP held (an http origin on protected DNS, V37): up is
                        // progress, and the release establishes it at once.
                        let up = *up;
                        steps = vec![(up, Dialed::Progressed)];
                        let rest = vec![(Duration::ZERO, Dialed::Established(None))];
                        self.held.insert(
                            attempt,
                            Held {
                                rest,
                                ..Held::default()
                            },
                        );
                    }
                }
                for (after, step) in steps {
                    self.schedule(after, self.now, Pending::Attempt(attempt, step));
                }
                self.attempts.insert(attempt, endpoint);
            }
            Work::Release { attempt, endpoint } => {
                if let Some(held) = self.held.get_mut(&attempt) {
                    let steps = world.dial(&endpoint, tls);
                    // The handshake's steps, each after TCP came up (plain TCP has none: its
                    // rest was set at the dial).
                    if let Some(i) = steps
                        .iter()
                        .position(|(_, d)| matches!(d, Dialed::Progressed))
                    {
                        let tcp = steps[i].0;
                        held.rest = steps
                            .into_iter()
                            .skip(i + 1)
                            .map(|(d, step)| (d.saturating_sub(tcp), step))
                            .collect();
                    }
                    held.released = true;
                }
                self.attempts.insert(attempt, endpoint);
                self.run_released(attempt);
            }
            Work::Close { attempt } => {
                self.held.remove(&attempt);
                self.queue
                    .retain(|_, p| !matches!(p, Pending::Attempt(a, _) if *a == attempt));
                if let Some(endpoint) = self.attempts.get(&attempt).cloned() {
                    self.log(Event::Closed { endpoint });
                }
            }
            // The query timed out in the runner: its scripted answer, if any, never comes.
            Work::Forget { query } => {
                self.queue
                    .retain(|_, p| !matches!(p, Pending::Answer(q, _) if *q == query));
            }
        }
    }

    fn feed(&mut self, runner: &mut Runner<'_, Won>, pending: Pending) {
        let now = self.now;
        match pending {
            Pending::Answer(query, answer) => {
                if let Some((name, kind)) = self.queries.get(&query).cloned() {
                    let error = answer.as_ref().err().map(ToString::to_string);
                    self.log(Event::Answered { name, kind, error });
                }
                runner.handle_answer(query, answer, now);
            }
            Pending::Change(added, removed) => {
                self.log(Event::AddressesChanged {
                    added: added.clone(),
                    removed: removed.clone(),
                });
                runner.handle_addresses_changed(added, removed, now);
            }
            Pending::Attempt(attempt, step) => {
                let Some(endpoint) = self.attempts.get(&attempt).cloned() else {
                    return;
                };
                let event = match step {
                    Dialed::Progressed => {
                        self.log(Event::Progressed { endpoint });
                        if let Some(held) = self.held.get_mut(&attempt) {
                            held.tcp_up = Some(now);
                            self.run_released(attempt);
                        }
                        DialEvent::Progressed
                    }
                    Dialed::Established(alpn) => {
                        self.log(Event::Established {
                            endpoint: endpoint.clone(),
                        });
                        DialEvent::Established(Won { endpoint, alpn })
                    }
                    Dialed::Failed(error) => {
                        self.log(Event::Failed {
                            endpoint,
                            error: error.to_string(),
                        });
                        // A failed attempt has nothing more to come.
                        self.queue
                            .retain(|_, p| !matches!(p, Pending::Attempt(a, _) if *a == attempt));
                        DialEvent::Failed(error)
                    }
                };
                runner.handle_dial(attempt, event, now);
            }
        }
    }

    /// Schedules a held attempt's handshake once TCP is up and the release came.
    fn run_released(&mut self, attempt: AttemptId) {
        let Some(held) = self.held.get(&attempt) else {
            return;
        };
        let (Some(tcp_up), true) = (held.tcp_up, held.released) else {
            return;
        };
        let Some(held) = self.held.remove(&attempt) else {
            return;
        };
        let from = tcp_up.max(self.now);
        for (after, step) in held.rest {
            self.schedule(after, from, Pending::Attempt(attempt, step));
        }
    }

    fn finish(mut self, mut runner: Runner<'_, Won>, stuck: bool) -> Outcome {
        // Whatever the runner closed on its way out (the losers' closes are drained already).
        while let Some(work) = runner.poll_work(self.now) {
            if let Work::Close { attempt } = work {
                if let Some(endpoint) = self.attempts.get(&attempt).cloned() {
                    self.log(Event::Closed { endpoint });
                }
            }
        }
        // Refreshes of stale cache entries still out stay with the cache, due when their
        // scripted answer is (V13).
        let queue = &mut self.queue;
        runner.park_refreshes(
            |q| {
                let key = queue
                    .iter()
                    .find(|(_, p)| matches!(p, Pending::Answer(a, _) if *a == q))
                    .map(|(k, _)| *k)?;
                match queue.remove(&key)? {
                    Pending::Answer(_, answer) => Some(Refresh::Due(key.0, answer)),
                    _ => None,
                }
            },
            self.now,
        );
        let (result, report) = runner.finish(self.now);
        Outcome {
            result,
            report,
            events: self.events,
            stuck,
            end: self.now,
        }
    }
}
