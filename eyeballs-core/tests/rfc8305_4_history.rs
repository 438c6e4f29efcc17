//! RFC 8305 §4 and §5 with history: R13–R16 (ordering), R26–R27 (delays from RTT).

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::sim::{
    base_instant, ip, ms, path, path_over, sa, Extra, Outcome, Scenario, SourcesAt, SOURCE_V4,
    SOURCE_V6,
};
use eyeballs_core::{Action, Config, History, Input, Path, Race, Source, Target, Transport};
use proptest::prelude::*;

/// R13: "prefer ... lower RTT" — within a family, the address with the lower smoothed round
/// trip goes first; R14: a used address (one with a recorded round trip) before unknown ones.
#[test]
fn r13_r14_lower_rtt_and_used_addresses_first() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path("[2001:db8::2]:443"), ms(10), t0);
    h.record_success(path("192.0.2.2:443"), ms(30), t0);
    let trace = Scenario::dual()
        .history(&h)
        .default_outcome(Outcome::Fail(ms(0)))
        .run_at(t0);
    assert_eq!(
        trace.order(),
        vec![
            sa("[2001:db8::2]:443"),
            sa("192.0.2.2:443"),
            sa("[2001:db8::1]:443"),
            sa("192.0.2.1:443")
        ]
    );
}

/// RFC 6724 rule 1 ("known to be otherwise unusable ... because of a previous failure"): a
/// recently failed address goes after the others of its family; and when the preferred
/// family is broken for this host (a recent failure, no success since) while the other is
/// not, the other family goes first.
#[test]
fn rule1_recent_failures_go_last_and_can_flip_the_family() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_failure(path("[2001:db8::1]:443"), t0);
    h.record_failure(path("[2001:db8::2]:443"), t0);
    let trace = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run_at(t0);
    assert_eq!(trace.starts(), vec![(ms(0), sa("192.0.2.1:443"))]);
    assert_eq!(trace.winner(), Some((ms(10), sa("192.0.2.1:443"))));
    let mut one = History::new();
    one.record_failure(path("[2001:db8::1]:443"), t0);
    one.record_failure(path("192.0.2.1:443"), t0);
    one.record_success(path("[2001:db8::2]:443"), ms(40), t0);
    let trace = Scenario::dual()
        .history(&one)
        .default_outcome(Outcome::Fail(ms(0)))
        .run_at(t0);
    assert_eq!(
        trace.order(),
        vec![
            sa("[2001:db8::2]:443"),
            sa("192.0.2.2:443"),
            sa("[2001:db8::1]:443"),
            sa("192.0.2.1:443")
        ],
        "IPv6 works through its sibling, so it still goes first; failures go last"
    );
}

/// The round trip the project promises: IPv6 hangs, IPv4 wins after 250 ms; the history
/// learns it, and the next race to the same host connects over IPv4 without waiting.
#[test]
fn history_makes_the_second_race_go_straight_to_ipv4() {
    let t0 = base_instant();
    let mut h = History::new();
    let first = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run_at(t0);
    assert_eq!(first.winner(), Some((ms(260), sa("192.0.2.1:443"))));
    h.record_race(&first.race);
    assert!(
        h.is_failing(path("[2001:db8::1]:443"), t0 + ms(260)),
        "the hang counts as a loss"
    );
    assert_eq!(h.rtt(path("192.0.2.1:443"), t0 + ms(260)), Some(ms(10)));
    let t1 = t0 + ms(1000);
    let second = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run_at(t1);
    assert_eq!(second.starts(), vec![(ms(0), sa("192.0.2.1:443"))]);
    assert_eq!(second.winner(), Some((ms(10), sa("192.0.2.1:443"))));
}

/// R26, R27: the delay after an address with a known round trip is its RFC 6298
/// retransmission timeout (SRTT + 4 * RTTVAR = 20 + 4 * 10 = 60 ms), never below the
/// configured minimum (100 ms by default), never above the maximum.
#[test]
fn r26_r27_delay_from_rtt_is_clamped() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path("[2001:db8::1]:443"), ms(20), t0);
    assert_eq!(
        h.retransmission_timeout(path("[2001:db8::1]:443"), t0),
        Some(ms(60))
    );
    let last = Outcome::Connect(ms(1));
    let floor = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", last)
        .run_at(t0);
    assert_eq!(floor.starts()[1], (ms(100), sa("192.0.2.1:443")));
    let config = Config::default().min_connection_attempt_delay(ms(10));
    let low = Scenario::host(config)
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .history(&h)
        .net("192.0.2.1", last)
        .run_at(t0);
    assert_eq!(low.starts()[1], (ms(60), sa("192.0.2.1:443")));
    let mut slow = History::new();
    slow.record_success(path("[2001:db8::1]:443"), ms(900), t0);
    let high = Scenario::dual()
        .history(&slow)
        .net("192.0.2.1", last)
        .run_at(t0);
    assert_eq!(
        high.starts()[1],
        (ms(2000), sa("192.0.2.1:443")),
        "R30: at most 2 s"
    );
}

/// RFC 6298 §2 smoothing: SRTT = 7/8 SRTT + 1/8 R, RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|.
#[test]
fn rfc6298_smoothing() {
    let t0 = base_instant();
    let a = path("192.0.2.1:80");
    let mut h = History::new();
    h.record_success(a, ms(100), t0);
    h.record_success(a, ms(200), t0);
    assert_eq!(h.rtt(a, t0), Some(ms(100) * 7 / 8 + ms(200) / 8));
    // RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5 ms; RTO = 112.5 + 4 * 62.5 = 362.5 ms.
    assert_eq!(h.retransmission_timeout(a, t0), Some(ms(362) + ms(1) / 2));
}

/// Entries expire after the time to live; a success after a failure clears the failure.
#[test]
fn entries_expire_and_successes_heal() {
    let t0 = base_instant();
    let a = path("[2001:db8::1]:80");
    let mut h = History::new().ttl(ms(1000));
    h.record_failure(a, t0);
    assert!(h.is_failing(a, t0 + ms(999)));
    assert!(!h.is_failing(a, t0 + ms(1000)), "expired");
    h.record_success(a, ms(5), t0 + ms(10));
    assert!(!h.is_failing(a, t0 + ms(20)));
    h.record_failure(a, t0 + ms(30));
    assert!(h.is_failing(a, t0 + ms(40)));
}

/// The store is bounded: the least recently updated entry is evicted; capacity 0 stores
/// nothing; `clear` forgets everything (R16).
#[test]
fn r16_bounded_and_clearable() {
    let t0 = base_instant();
    let mut h = History::new().capacity(2);
    h.record_failure(path("192.0.2.1:80"), t0);
    h.record_failure(path("192.0.2.2:80"), t0 + ms(1));
    h.record_failure(path("192.0.2.3:80"), t0 + ms(2));
    assert_eq!(h.len(), 2);
    assert!(
        !h.is_failing(path("192.0.2.1:80"), t0 + ms(3)),
        "the oldest went"
    );
    assert!(h.is_failing(path("192.0.2.3:80"), t0 + ms(3)));
    h.clear();
    assert!(h.is_empty());
    let mut none = History::new().capacity(0);
    none.record_failure(path("192.0.2.1:80"), t0);
    assert!(none.is_empty());
}

/// What `record_race` learns from cancelled attempts: one that started after the winner
/// had less time and is not blamed; an aborted race teaches nothing; a deadline blames all
/// attempts in flight.
#[test]
fn record_race_blames_only_real_losers() {
    let t0 = base_instant();
    let mut h = History::new();
    let trace = Scenario::dual()
        .net("2001:db8::1", Outcome::Connect(ms(300)))
        .run_at(t0);
    h.record_race(&trace.race);
    let now = t0 + ms(300);
    assert!(
        !h.is_failing(path("192.0.2.1:443"), now),
        "started at 250, after the winner"
    );
    assert_eq!(h.rtt(path("[2001:db8::1]:443"), now), Some(ms(300)));

    let mut h = History::new();
    let aborted = Scenario::dual().at(600, Extra::Abort).run_at(t0);
    h.record_race(&aborted.race);
    assert!(h.is_empty());

    let timed_out = Scenario::host(Config::default().timeout(Some(ms(400))))
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .run_at(t0);
    h.record_race(&timed_out.race);
    assert!(h.is_failing(path("[2001:db8::1]:443"), t0 + ms(400)));
    assert!(h.is_failing(path("192.0.2.1:443"), t0 + ms(400)));
}

/// Style rule: "time that goes backwards is clamped to the last seen time": a record
/// stamped earlier than the latest time the history recorded counts as made at that time.
/// A failure reported an hour late (stamped an hour early) neither moves its entry back in
/// time, where it would expire early, nor revives what an expired entry knew.
#[test]
fn history_clamps_time_that_goes_backwards() {
    let t0 = base_instant();
    let hour = Duration::from_secs(3600);
    let late = t0 + hour;
    let a = path("[2001:db8::1]:443");
    let mut h = History::new().ttl(Duration::from_secs(600));
    h.record_success(a, ms(10), late);
    h.record_failure(a, t0);
    // Counted at `late`: failure and success at one instant, so not failing; the entry is
    // as fresh as its latest update (at `late` + 9 min it still holds the round trip).
    assert!(!h.is_failing(a, late));
    assert_eq!(h.rtt(a, late + Duration::from_secs(540)), Some(ms(10)));

    // An entry expired at `late` (updated at t0) is renewed by the early-stamped record, not
    // revived: its round trip is gone, the failure is what it knows now.
    let b = path("192.0.2.1:443");
    let mut h = History::new().ttl(Duration::from_secs(600));
    h.record_success(b, ms(5), t0);
    h.record_success(a, ms(10), late);
    h.record_failure(b, t0 + ms(60_000));
    assert_eq!(
        h.rtt(b, t0 + ms(120_000)),
        None,
        "the expired round trip is not revived"
    );
    assert!(h.is_failing(b, late));
    assert!(h.is_failing(b, late + Duration::from_secs(599)));
    assert!(
        !h.is_failing(b, late + Duration::from_secs(600)),
        "expires from `late`"
    );

    // HG3's per-source answer follows the clamped times too.
    let q1 = path_over("[2001:db8::1]:443", Transport::Quic);
    let q2 = path_over("[2001:db8::2]:443", Transport::Quic);
    let mut h = History::new();
    h.record_success(q1, ms(10), late);
    h.record_failure(q2, t0);
    assert!(
        !h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, late),
        "an old failure reported late is no newer than the success"
    );
}

/// The store stays O(log n) at its documented bound: 100,000 entries, the least recently
/// updated evicted first, and every answer right after the churn.
#[test]
fn a_large_history_evicts_the_least_recently_updated() {
    let t0 = base_instant();
    let n = 100_000u32;
    let mut h = History::new().capacity(n as usize);
    let dest = |i: u32| SocketAddr::new(IpAddr::from((0xc612_0000u32 + i).to_be_bytes()), 443);
    let p = |i: u32| Path::new(ip(SOURCE_V4), dest(i), Transport::Tcp);
    for i in 0..n + 10 {
        h.record_failure(p(i), t0 + Duration::from_micros(u64::from(i)));
    }
    assert_eq!(h.len(), n as usize);
    let now = t0 + ms(1000);
    assert!(!h.is_failing(p(9), now), "among the 10 oldest: evicted");
    assert!(h.is_failing(p(10), now));
    assert!(h.is_failing(p(n + 9), now));
    assert!(h.is_transport_failing(ip(SOURCE_V4), Transport::Tcp, now));
    // Updating an old entry makes it the newest: the next eviction spares it.
    h.record_success(p(10), ms(3), now);
    h.record_failure(p(n + 10), now);
    assert!(h.rtt(p(10), now).is_some());
    assert!(!h.is_failing(p(11), now), "the oldest after the update");
    assert!(
        !h.is_transport_failing(ip(SOURCE_V4), Transport::Tcp, now),
        "a success and a failure at one instant: not failing"
    );
}

/// R13/R14, R15 through the driver contract: a race over a host name learns its
/// destinations' source addresses only as the driver reports them, so it copies nothing of
/// the history when it starts; `Race::handle_history` after `Input::Sources` copies what the
/// history knows of those destinations. Reported with the target, when each answer comes,
/// or all at the start: the same order and the same times.
#[test]
fn handle_history_after_sources_decides_as_with_the_whole_history() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path("[2001:db8::2]:443"), ms(10), t0);
    h.record_success(path("192.0.2.2:443"), ms(30), t0);
    h.record_failure(path("[2001:db8::1]:443"), t0);
    // Other ports, transports, sources and destinations: never copied, never consulted.
    h.record_success(path("[2001:db8::1]:8443"), ms(1), t0);
    h.record_success(path_over("192.0.2.1:443", Transport::Quic), ms(1), t0);
    h.record_success(path("[2001:db8::9]:443"), ms(1), t0);
    let elsewhere = Path::new(ip("2001:db8:eeee::2"), sa("192.0.2.1:443"), Transport::Tcp);
    h.record_success(elsewhere, ms(1), t0);
    // Lower round trips first (R13), the failed address last in its family (rule 1).
    let want = vec![
        (ms(5), sa("[2001:db8::2]:443")),
        (ms(15), sa("192.0.2.2:443")),
        (ms(25), sa("[2001:db8::1]:443")),
        (ms(35), sa("192.0.2.1:443")),
    ];
    for at in [SourcesAt::Target, SourcesAt::Start, SourcesAt::Answers] {
        let mut s = Scenario::host(Config::default())
            .aaaa(5, &["2001:db8::1", "2001:db8::2"])
            .a(7, &["192.0.2.1", "192.0.2.2"])
            .history(&h)
            .default_outcome(Outcome::Fail(ms(0)));
        s.sources_at = at;
        let trace = s.run_at(t0);
        assert_eq!(trace.starts(), want, "sources reported: {at:?}");
    }
}

/// The driver contract's other half: sources reported without `handle_history` teach the
/// race their routes but none of their history, and a race built with `Race::new` has no
/// history to copy into.
#[test]
fn without_handle_history_a_reported_source_brings_no_history() {
    let t0 = base_instant();
    let v6 = sa("[2001:db8::1]:443");
    let v4 = sa("192.0.2.1:443");
    let mut h = History::new();
    h.record_failure(path("[2001:db8::1]:443"), t0);
    let sources = vec![
        Source::new(v6.ip(), ip(SOURCE_V6)),
        Source::new(v4.ip(), ip(SOURCE_V4)),
    ];
    let first = |with: Option<&History>, copy: bool| {
        let target = Target::host("example.test", 443);
        let mut race: Race<()> = match with {
            Some(h) => Race::with_history(target, Config::default(), h, t0),
            None => Race::new(target, Config::default(), t0),
        }
        .expect("valid");
        while race.poll_action().is_some() {}
        race.handle_input(
            Input::Sources {
                sources: sources.clone(),
            },
            t0,
        );
        if copy {
            race.handle_history(&h, t0);
        }
        let (q6, q4) = (
            eyeballs_core::QueryId::from_index(0),
            eyeballs_core::QueryId::from_index(1),
        );
        race.handle_input(
            Input::Resolved {
                query: q6,
                addrs: vec![v6.ip()],
            },
            t0,
        );
        race.handle_input(
            Input::Resolved {
                query: q4,
                addrs: vec![v4.ip()],
            },
            t0,
        );
        match race.poll_action() {
            Some(Action::Connect { endpoint, .. }) => endpoint.addr(),
            other => panic!("expected a connect, got {other:?}"),
        }
    };
    assert_eq!(first(Some(&h), true), v4, "history: IPv6 failed here");
    assert_eq!(first(Some(&h), false), v6, "not copied: no history");
    assert_eq!(first(None, true), v6, "Race::new: no history");
}

/// One operation on a history, for the model below.
#[derive(Debug, Clone)]
enum Op {
    Success(usize, Duration, i64),
    Failure(usize, i64),
    Loss(usize, i64),
}

/// Paths of two sources, two transports, three destinations, two ports.
fn model_paths() -> Vec<Path> {
    let mut paths = Vec::new();
    for source in [SOURCE_V6, "2001:db8:eeee::2"] {
        for transport in [Transport::Tcp, Transport::Quic] {
            for dest in ["[2001:db8::1]:443", "[2001:db8::1]:80", "[2001:db8::2]:443"] {
                paths.push(Path::new(ip(source), sa(dest), transport));
            }
        }
    }
    paths
}

/// The history of the commit before this store (a vector scanned for every question), with
/// the clamping of time added, and losses (V24, HG3: a path fails after two in a row, and a
/// transport fails from a source when two paths' latest word is a failure or a loss newer
/// than its latest success): what the store must answer, question by question.
#[derive(Debug)]
struct Model {
    entries: Vec<(Path, ModelEntry)>,
    capacity: usize,
    ttl: Duration,
    latest: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct ModelEntry {
    srtt: Option<Duration>,
    rttvar: Duration,
    success: Option<Instant>,
    failure: Option<Instant>,
    loss: Option<Instant>,
    losses: u32,
    updated: Instant,
}

impl ModelEntry {
    /// Failing: a failure newer than the success, or two losses since it.
    fn failing(&self) -> bool {
        self.failure > self.success || (self.losses >= 2 && self.loss > self.success)
    }
}

impl Model {
    fn fresh(&self, p: Path, now: Instant) -> Option<ModelEntry> {
        let (_, e) = self.entries.iter().find(|(q, _)| *q == p)?;
        (now.saturating_duration_since(e.updated) < self.ttl).then_some(*e)
    }

    fn record(&mut self, p: Path, now: Instant, f: impl FnOnce(&mut ModelEntry, Instant)) {
        let now = self.latest.map_or(now, |l| l.max(now));
        self.latest = Some(now);
        let ttl = self.ttl;
        let fresh = |now: Instant| ModelEntry {
            srtt: None,
            rttvar: Duration::ZERO,
            success: None,
            failure: None,
            loss: None,
            losses: 0,
            updated: now,
        };
        let i = match self.entries.iter().position(|(q, _)| *q == p) {
            Some(i) => {
                if now.saturating_duration_since(self.entries[i].1.updated) >= ttl {
                    self.entries[i].1 = fresh(now);
                }
                i
            }
            None if self.capacity == 0 => return,
            None => {
                while self.entries.len() >= self.capacity {
                    let oldest = (0..self.entries.len())
                        .min_by_key(|&i| (self.entries[i].1.updated, self.entries[i].0))
                        .expect("not empty");
                    self.entries.remove(oldest);
                }
                self.entries.push((p, fresh(now)));
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[i].1;
        f(e, now);
        e.updated = now;
    }

    fn transport_failing(&self, source: IpAddr, t: Transport, now: Instant) -> bool {
        let fresh: Vec<&ModelEntry> = self
            .entries
            .iter()
            .filter(|(p, e)| {
                p.source() == source
                    && p.transport() == t
                    && now.saturating_duration_since(e.updated) < self.ttl
            })
            .map(|(_, e)| e)
            .collect();
        let success = fresh.iter().map(|e| e.success).max().flatten();
        let negative = fresh
            .iter()
            .filter(|e| e.failure.max(e.loss) > success.max(e.success))
            .count();
        negative >= 2
    }
}

fn op() -> impl Strategy<Value = Op> {
    let n = model_paths().len();
    prop_oneof![
        (0..n, 0u64..500, -300i64..900).prop_map(|(p, r, t)| Op::Success(p, ms(r), t)),
        (0..n, -300i64..900).prop_map(|(p, t)| Op::Failure(p, t)),
        (0..n, -300i64..900).prop_map(|(p, t)| Op::Loss(p, t)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The O(log n) store answers every question as a scan of every entry would: round
    /// trips, failures, retransmission timeouts, HG3's per-source answer, the count, and
    /// which entry eviction drops, with time that jumps back and forth (clamped).
    #[test]
    fn the_store_answers_as_a_scan_would(
        ops in prop::collection::vec(op(), 0..60),
        capacity in 0usize..8,
        ttl in 1u64..400,
    ) {
        let t0 = base_instant() + Duration::from_secs(1);
        let at = |ms_: i64| if ms_ >= 0 { t0 + ms(ms_ as u64) } else { t0 - ms(ms_.unsigned_abs()) };
        let paths = model_paths();
        let mut h = History::new().capacity(capacity).ttl(ms(ttl));
        let mut m = Model { entries: Vec::new(), capacity, ttl: ms(ttl), latest: None };
        for op in ops {
            match op {
                Op::Success(i, rtt, t) => {
                    h.record_success(paths[i], rtt, at(t));
                    m.record(paths[i], at(t), |e, now| {
                        match e.srtt {
                            None => { e.srtt = Some(rtt); e.rttvar = rtt / 2; }
                            Some(srtt) => {
                                let diff = srtt.abs_diff(rtt);
                                e.rttvar = (e.rttvar / 4 * 3).saturating_add(diff / 4);
                                e.srtt = Some((srtt / 8 * 7).saturating_add(rtt / 8));
                            }
                        }
                        e.success = Some(now);
                        e.losses = 0;
                    });
                }
                Op::Failure(i, t) => {
                    h.record_failure(paths[i], at(t));
                    m.record(paths[i], at(t), |e, now| e.failure = Some(now));
                }
                Op::Loss(i, t) => {
                    h.record_loss(paths[i], at(t));
                    m.record(paths[i], at(t), |e, now| {
                        e.loss = Some(now);
                        e.losses += 1;
                    });
                }
            }
            prop_assert_eq!(h.len(), m.entries.len());
            for q in [-400i64, 0, 200, 500, 900, 1300] {
                let now = at(q);
                for &p in &paths {
                    let e = m.fresh(p, now);
                    prop_assert_eq!(h.rtt(p, now), e.and_then(|e| e.srtt));
                    prop_assert_eq!(h.is_failing(p, now), e.is_some_and(|e| e.failing()));
                    let rto = e.and_then(|e| e.srtt.map(|s| s.saturating_add(e.rttvar.saturating_mul(4))));
                    prop_assert_eq!(h.retransmission_timeout(p, now), rto);
                    prop_assert_eq!(
                        h.is_transport_failing(p.source(), p.transport(), now),
                        m.transport_failing(p.source(), p.transport(), now)
                    );
                }
            }
        }
    }
}

/// Drives `race` to its end: every attempt fails `fail_after` after it starts, unless it is
/// the `win`th, which connects; returns every action (as text) and when it came.
fn drive(race: &mut Race<String>, t0: Instant, win: usize, fail_after: Duration) -> Vec<String> {
    let mut log = Vec::new();
    let mut now = t0;
    let mut pending: Vec<(Instant, eyeballs_core::AttemptId, bool)> = Vec::new();
    let mut started = 0;
    for _ in 0..200 {
        while let Some(action) = race.poll_action() {
            if let Action::Connect { attempt, .. } = &action {
                pending.push((now + fail_after, *attempt, started == win));
                started += 1;
            }
            log.push(format!("{:?} {action:?}", now - t0));
        }
        if race.is_finished() {
            break;
        }
        pending.sort_by_key(|p| p.0);
        let next = race.poll_timeout();
        match pending.first().copied() {
            Some((at, attempt, ok)) if next.is_none_or(|n| at <= n) => {
                pending.remove(0);
                now = at;
                let input = if ok {
                    Input::Connected { attempt }
                } else {
                    Input::ConnectFailed {
                        attempt,
                        error: "refused".into(),
                    }
                };
                race.handle_input(input, now);
            }
            _ => match next {
                Some(n) => {
                    now = n;
                    race.handle_timeout(now);
                }
                None => break,
            },
        }
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A race built from [`History::copy_for`] (the copy taken under a driver's lock, the
    /// race built outside it) is the race [`Race::with_history`] builds: the same actions at
    /// the same times, and the same record in the history after it, whatever the history
    /// (expired, failing, clamped entries; QUIC's re-probe counts) and the target's source
    /// facts (unreachable destinations, repeated facts, the last one winning).
    #[test]
    fn a_race_from_a_copy_is_the_race_from_the_store(
        ops in prop::collection::vec(op(), 0..40),
        facts in prop::collection::vec((0usize..3, 0usize..3), 0..8),
        addrs in prop::collection::vec(0usize..3, 1..4),
        quic in any::<bool>(),
        win in 0usize..4,
        fail_after in 1u64..400,
        start in 0i64..1500,
    ) {
        let t0 = base_instant() + Duration::from_secs(1);
        let at = |ms_: i64| if ms_ >= 0 { t0 + ms(ms_ as u64) } else { t0 - ms(ms_.unsigned_abs()) };
        let paths = model_paths();
        let mut h = History::new().ttl(ms(700)).reprobe_every(3);
        for op in ops {
            match op {
                Op::Success(i, rtt, t) => h.record_success(paths[i], rtt, at(t)),
                Op::Failure(i, t) => h.record_failure(paths[i], at(t)),
                Op::Loss(i, t) => h.record_loss(paths[i], at(t)),
            }
        }
        let dests = ["2001:db8::1", "2001:db8::2", "2001:db8::3"];
        let sources = [Some(SOURCE_V6), Some("2001:db8:eeee::2"), None];
        let facts: Vec<Source> = facts
            .iter()
            .map(|&(d, s)| match sources[s] {
                Some(s) => Source::new(ip(dests[d]), ip(s)),
                None => Source::unreachable(ip(dests[d])),
            })
            .collect();
        let target = || {
            let t = Target::addrs(addrs.iter().map(|&d| SocketAddr::new(ip(dests[d]), 443)))
                .sources(facts.clone());
            if quic {
                t.protocols(eyeballs_core::Protocols::new().quic("h3").tcp("h2"))
            } else {
                t
            }
        };
        let now = at(start);
        let config = Config::default();
        let mut from_store = Race::with_history(target(), config, &h, now).expect("valid");
        let copy = h.copy_for(&target(), now);
        let mut from_copy = Race::with_history_copy(target(), config, copy, now).expect("valid");
        let fail_after = ms(fail_after);
        let log1 = drive(&mut from_store, now, win, fail_after);
        let log2 = drive(&mut from_copy, now, win, fail_after);
        prop_assert_eq!(&log1, &log2);
        let (mut h1, mut h2) = (h.clone(), h.clone());
        h1.record_race(&from_store);
        h2.record_race(&from_copy);
        prop_assert_eq!(format!("{h1:?}"), format!("{h2:?}"));
    }
}
