//! Property tests: random DNS timings and results, random service records, random
//! per-endpoint latencies and outcomes, random configurations. Every run goes through the
//! simulator, whose checker asserts the driver-visible invariants after every step (done
//! exactly once; every started attempt ends exactly once; no two starts within 10 ms; no
//! start before the attempt delay unless a failure came in between; deadlines never in the
//! past; no failure while DNS is outstanding). The properties here add a reference model
//! that predicts every start and the outcome exactly, and a sweep of durations over their
//! whole range.
//!
//! The case count is 512 unless `PROPTEST_CASES` says otherwise, so
//! `PROPTEST_CASES=200000 cargo test -p eyeballs-core --release --test properties` runs
//! 200,000 of each property.

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use common::sim::{ms, source_for, Answer, Ev, Outcome, Scenario, SourcesAt, Trace, HOST};
use eyeballs_core::{
    Config, FailureReason, FamilyPolicy, History, Path, Protocols, QueryKind, Race, ServiceRecord,
    Target, Transport,
};
use proptest::prelude::*;

/// Addresses whose RFC 6724 keys differ (precedence, scope) and ones that tie.
const V6: [&str; 7] = [
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::3",
    "fe80::1",
    "fc00::1",
    "2002:c000:201::1",
    "::1",
];
const V4: [&str; 5] = [
    "192.0.2.1",
    "192.0.2.2",
    "198.51.100.1",
    "169.254.0.1",
    "127.0.0.1",
];
/// The ports endpoints can have: the authority's (443 or 8443) or a record's `port` key.
const PORTS: [u16; 2] = [443, 8443];
/// The TargetNames records use: the owner (`.`), the host by name, and two other names
/// whose AAAA/A are asked for when the HTTPS answer arrives.
const TARGETS: [&str; 4] = [".", HOST, "svc1.example.test", "svc2.example.test"];
const FOLLOW_UPS: [&str; 2] = ["svc1.example.test", "svc2.example.test"];

/// The number of cases of every property: `PROPTEST_CASES`, or 512.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn ip(s: &str) -> IpAddr {
    common::sim::ip(s)
}

#[path = "properties/model.rs"]
mod model;

use model::*;

// ---------------------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------------------

/// Latencies in microseconds (at least 1), so that two events rarely fall on the same
/// instant: the model leaves ties between independent I/O events aside.
fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        2 => (1u64..600_000).prop_map(|n| Outcome::Connect(Duration::from_micros(n))),
        3 => (1u64..600_000).prop_map(|n| Outcome::Fail(Duration::from_micros(n))),
        2 => Just(Outcome::Hang),
        1 => (1u64..600_000, prop::option::of(any::<u8>()))
            .prop_map(|(n, tag)| Outcome::RejectEch(Duration::from_micros(n), tag)),
    ]
}

fn pool(f: usize) -> &'static [&'static str] {
    if f == 0 {
        &V6
    } else {
        &V4
    }
}

fn addrs(f: usize, most: usize) -> impl Strategy<Value = Vec<IpAddr>> {
    prop::collection::vec(prop::sample::select(pool(f)), 0..=most)
        .prop_map(|a| a.into_iter().map(ip).collect())
}

/// An address answer of family `f` after up to `within_us` microseconds.
fn dns(f: usize, within_us: u64) -> impl Strategy<Value = Dns> {
    prop_oneof![
        8 => (1..within_us, addrs(f, 3))
            .prop_map(|(t, a)| Dns::Addrs(Duration::from_micros(t), a)),
        1 => (1..within_us).prop_map(|t| Dns::Fail(Duration::from_micros(t))),
        1 => Just(Dns::Never),
        // V13, HG18: an expired answer from a cache, then the fresh one.
        2 => (1..within_us, addrs(f, 3), 1..within_us, addrs(f, 3)).prop_map(|(t1, a1, t2, a2)| {
            let t1 = Duration::from_micros(t1);
            Dns::Stale(t1, a1, t1 + Duration::from_micros(t2), a2)
        }),
    ]
}

fn record(priority: u16) -> impl Strategy<Value = Rec> {
    (
        prop::sample::select(&TARGETS[..]),
        prop::sample::select(vec![
            vec![],
            vec!["h3"],
            vec!["h3"],
            vec!["h2"],
            vec!["h3", "h2"],
            vec!["h3", "h2"],
            vec!["h3", "h2"],
            vec!["http/1.1"],
            vec!["x-unknown"],
        ]),
        prop::bool::weighted(0.15),
        prop::sample::select(vec![None, None, None, None, Some(443), Some(8443), Some(0)]),
        addrs(0, 2),
        addrs(1, 2),
        prop::option::weighted(0.1, prop::sample::select(vec![1, 5, 7])),
    )
        .prop_map(
            move |(target, alpn, no_default_alpn, port, v6, v4, mandatory)| Rec {
                priority,
                target,
                alpn,
                no_default_alpn,
                port,
                hints: [v6, v4],
                mandatory,
            },
        )
}

/// Up to three records of distinct priorities, in a random answer order.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::sample::subsequence(vec![1u16, 2, 3, 4], 0..=3)
        .prop_flat_map(|ps| ps.into_iter().map(record).collect::<Vec<_>>())
        .prop_shuffle()
}

fn https() -> impl Strategy<Value = Https> {
    prop_oneof![
        6 => (1u64..300_000, records())
            .prop_map(|(t, r)| Https::Records(Duration::from_micros(t), r)),
        1 => (1u64..300_000).prop_map(|t| Https::Fail(Duration::from_micros(t))),
        1 => Just(Https::Never),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Literal,
    Plain,
    Https,
}

fn world() -> impl Strategy<Value = World> {
    let config = (
        prop::sample::select(vec![
            FamilyPolicy::PreferV6,
            FamilyPolicy::PreferV4,
            FamilyPolicy::V6Only,
            FamilyPolicy::V4Only,
        ]),
        1usize..4,
        0u64..600,
        0u64..120,
        prop::option::weighted(0.3, 1usize..4),
        prop::bool::weighted(0.2),
        // V29: TCP after QUIC (the default 50 ms, other values, off), and V58 schedules.
        prop::sample::select(vec![50u64, 50, 0, 30, 120, 250, 400]),
        prop::option::weighted(0.25, (1u64..120, 0u32..4)),
        // V59: an `h3` alternative at the origin's authority.
        prop::bool::weighted(0.3),
    );
    let kind =
        prop_oneof![1 => Just(Kind::Literal), 3 => Just(Kind::Plain), 5 => Just(Kind::Https)];
    let caller = prop::sample::select(vec![
        Caller::Plain,
        Caller::Http,
        Caller::Http,
        Caller::H2,
        Caller::H3,
    ]);
    let outcomes = prop::collection::vec(outcome(), 2 * 2 * (V6.len() + V4.len()));
    let names = (
        dns(0, 200_000),
        dns(1, 200_000),
        dns(0, 200_000),
        dns(1, 200_000),
    );
    (
        config,
        kind,
        caller,
        prop::sample::select(vec![443u16, 443, 8443]),
        (addrs(0, 3), addrs(1, 3)),
        https(),
        (dns(0, 400_000), dns(1, 400_000)),
        names,
        outcomes,
    )
        .prop_map(
            |(
                (policy, count, delay, res, cap, prefer_tcp, follow_up, multiplier, alt),
                kind,
                caller,
                port,
                (l6, l4),
                https,
                (aaaa, a),
                (n1a, n1b, n2a, n2b),
                outcomes,
            )| {
                let mut net = BTreeMap::new();
                let all = V6.iter().chain(V4.iter()).map(|s| ip(s));
                let keys = all.flat_map(|a| {
                    PORTS.into_iter().flat_map(move |p| {
                        [Transport::Tcp, Transport::Quic].map(|t| (SocketAddr::new(a, p), t))
                    })
                });
                net.extend(keys.zip(outcomes));
                let (caller, port) = match kind {
                    Kind::Literal | Kind::Plain => (Caller::Plain, 443),
                    Kind::Https => (caller, port),
                };
                World {
                    policy,
                    count,
                    delay: ms(delay),
                    resolution_delay: ms(res),
                    cap,
                    prefer_tcp,
                    follow_up: ms(follow_up),
                    multiplier: multiplier.map(|(base, factor)| (ms(base), factor)),
                    // Only HEv3 callers that speak h3 race an `h3` alternative.
                    alt: alt
                        && matches!(kind, Kind::Https)
                        && matches!(caller, Caller::Http | Caller::H3),
                    caller,
                    port,
                    literals: matches!(kind, Kind::Literal).then(|| [l6, l4].concat()),
                    https: matches!(kind, Kind::Https).then_some(https),
                    host: [aaaa, a],
                    names: BTreeMap::from([
                        (FOLLOW_UPS[0], [n1a, n1b]),
                        (FOLLOW_UPS[1], [n2a, n2b]),
                    ]),
                    net,
                }
            },
        )
}

/// Every start of a trace: (time, address, transport).
fn starts(trace: &Trace) -> Vec<(Duration, Ep)> {
    trace
        .race
        .attempts()
        .iter()
        .map(|a| {
            let t = a.started().saturating_duration_since(trace.t0);
            (t, (a.addr(), a.endpoint().transport()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Histories: what past races recorded about the world's paths and others.
// ---------------------------------------------------------------------------------------

/// One record: a destination of the pools (or one outside them), a port, a transport,
/// the simulated host's source or another network's, success or failure, and when (in
/// seconds after the history's start; the races run 20 minutes in, so with the default
/// 10-minute time to live some entries have expired).
#[derive(Debug, Clone)]
struct Rec2 {
    dest: IpAddr,
    port: u16,
    quic: bool,
    elsewhere: bool,
    rtt: Option<Duration>,
    at_s: u64,
}

fn past() -> impl Strategy<Value = Vec<Rec2>> {
    let dest = prop_oneof![
        4 => prop::sample::select(&V6[..]).prop_map(ip),
        4 => prop::sample::select(&V4[..]).prop_map(ip),
        1 => Just(ip("2001:db8::99")),
    ];
    let rec = (
        dest,
        prop::sample::select(vec![443u16, 443, 8443, 80]),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::option::of((0u64..400).prop_map(ms)),
        0u64..1200,
    )
        .prop_map(|(dest, port, quic, elsewhere, rtt, at_s)| Rec2 {
            dest,
            port,
            quic,
            elsewhere,
            rtt,
            at_s,
        });
    prop::collection::vec(rec, 0..40)
}

fn history_of(past: &[Rec2], t0: std::time::Instant) -> History {
    let mut h = History::new();
    for r in past {
        let source = if r.elsewhere {
            ip("2001:db8:eeee::2")
        } else {
            source_for(r.dest)
        };
        let transport = if r.quic {
            Transport::Quic
        } else {
            Transport::Tcp
        };
        let path = Path::new(source, SocketAddr::new(r.dest, r.port), transport);
        let at = t0 + Duration::from_secs(r.at_s);
        match r.rtt {
            Some(rtt) => h.record_success(path, rtt, at),
            None => h.record_failure(path, at),
        }
    }
    h
}

// ---------------------------------------------------------------------------------------
// Scenarios for the invariant properties.
// ---------------------------------------------------------------------------------------

fn answer(pool: &'static [&'static str]) -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => ((0u64..400), prop::collection::vec(prop::sample::select(pool), 0..5))
            .prop_map(|(d, a)| Answer::Addrs(ms(d), a.into_iter().map(ip).collect())),
        1 => (0u64..400).prop_map(|d| Answer::Fail(ms(d))),
        1 => Just(Answer::Never),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        0u64..120,
        1usize..4,
        0usize..4,
        prop::sample::select(vec![
            FamilyPolicy::PreferV6,
            FamilyPolicy::PreferV4,
            FamilyPolicy::V6Only,
            FamilyPolicy::V4Only,
        ]),
        prop::option::of(1usize..8),
    )
        .prop_map(|(res, count, cap, policy, max)| {
            Config::default()
                .resolution_delay(ms(res))
                .first_address_family_count(count)
                .family_policy(policy)
                .max_attempts_in_flight((cap > 0).then_some(cap))
                .max_endpoints(max)
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        config(),
        answer(&V6),
        answer(&V4),
        prop::collection::vec(outcome(), V6.len() + V4.len()),
        0u64..600,
    )
        .prop_map(|(config, aaaa, a, outcomes, delay)| {
            let mut s = Scenario::host(config).dns("AAAA", aaaa).dns("A", a);
            for (addr, o) in V6.iter().chain(V4.iter()).zip(outcomes) {
                s = s.net(addr, o);
            }
            // Sets the delay, and holds every start to it, clamped as documented.
            s.delay(ms(delay))
        })
}

/// A duration from the whole range: zero, nanoseconds, milliseconds, years, the largest
/// representable ones and `Duration::MAX`.
fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        Just(Duration::new(u64::MAX, 0)),
        (0u64..1_000).prop_map(Duration::from_nanos),
        (0u64..5_000).prop_map(ms),
        (0u64..(1 << 40)).prop_map(Duration::from_secs),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

fn any_outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        any_duration().prop_map(Outcome::Connect),
        any_duration().prop_map(Outcome::Fail),
        Just(Outcome::Hang),
        (any_duration(), prop::option::of(any::<u8>()))
            .prop_map(|(d, tag)| Outcome::RejectEch(d, tag)),
    ]
}

fn any_answer(f: usize) -> impl Strategy<Value = Answer> {
    prop_oneof![
        3 => (any_duration(), addrs(f, 3)).prop_map(|(d, a)| Answer::Addrs(d, a)),
        1 => any_duration().prop_map(Answer::Fail),
        1 => Just(Answer::Never),
    ]
}

fn any_records() -> impl Strategy<Value = Answer> {
    let alias = prop::sample::select(&TARGETS[..]).prop_map(ServiceRecord::alias);
    // Some with an ECH configuration (two configs, so that endpoints differ by it too).
    let service = ((1u16..4).prop_flat_map(record), 0u8..3).prop_map(|(r, ech)| match ech {
        0 => r.record(),
        n => r
            .record()
            .ech(eyeballs_core::EchConfig::new(&[0xfe, 0x0d, n])),
    });
    let records = prop::collection::vec(prop_oneof![1 => alias, 4 => service], 0..4);
    prop_oneof![
        4 => (any_duration(), records).prop_map(|(d, r)| Answer::Records(d, r)),
        1 => any_duration().prop_map(Answer::Fail),
        1 => Just(Answer::Never),
    ]
}

/// A whole-range case: the configuration's durations, the DNS and the network's timings.
#[derive(Debug, Clone)]
struct Extreme {
    config: Config,
    delay: Duration,
    max_delay: Option<Duration>,
    cap: Option<usize>,
    timeout: Option<Duration>,
    https: bool,
    /// An `http` origin (V37): its cleartext held on protected DNS, upgraded on a record.
    http_origin: bool,
    dns: Vec<(&'static str, &'static str, Answer)>,
    net: Vec<Outcome>,
}

fn extreme() -> impl Strategy<Value = Extreme> {
    let durations = (
        any_duration(),
        any_duration(),
        prop::option::of(any_duration()),
        prop::option::of(any_duration()),
        prop::option::of(any_duration()),
    );
    let knobs = (
        prop::sample::select(vec![1, 2, 3, usize::MAX]),
        prop::option::of(prop::sample::select(vec![1, 2, usize::MAX])),
        prop::option::of(prop::sample::select(vec![1, 3, usize::MAX])),
        prop::sample::select(vec![
            FamilyPolicy::PreferV6,
            FamilyPolicy::PreferV4,
            FamilyPolicy::V6Only,
            FamilyPolicy::V4Only,
        ]),
        any::<u64>(),
        any::<bool>(),
        // ECH's gate, early TCP and held ClientHellos (V34, V55, HG15); protected DNS (V36).
        (any::<bool>(), any::<bool>(), any::<bool>()),
    );
    let dns = (
        any_answer(0),
        any_answer(1),
        any_records(),
        any_answer(0),
        any_answer(1),
    );
    (
        durations,
        knobs,
        (any::<bool>(), any::<bool>()),
        dns,
        prop::collection::vec(any_outcome(), 12),
    )
        .prop_map(
            |(
                (delay, res, max, min, timeout),
                (count, cap, endpoints, policy, seed, prefer_tcp, (ech, early_tcp, protected)),
                (https, http_origin),
                (aaaa, a, records, s6, s4),
                net,
            )| {
                let mut config = Config::default()
                    .connection_attempt_delay(delay)
                    .resolution_delay(res)
                    .first_address_family_count(count)
                    .max_attempts_in_flight(cap)
                    .max_endpoints(endpoints)
                    .family_policy(policy)
                    .seed(seed)
                    .prefer_tcp(prefer_tcp)
                    .ech(ech)
                    .early_tcp(early_tcp)
                    .protected_dns(protected)
                    .timeout(timeout);
                if let Some(max) = max {
                    config = config.max_connection_attempt_delay(max);
                }
                if let Some(min) = min {
                    config = config.min_connection_attempt_delay(min);
                }
                Extreme {
                    config,
                    delay,
                    max_delay: max,
                    cap,
                    timeout,
                    https,
                    http_origin,
                    dns: vec![
                        (HOST, "AAAA", aaaa),
                        (HOST, "A", a),
                        (HOST, "HTTPS", records),
                        (FOLLOW_UPS[0], "AAAA", s6),
                        (FOLLOW_UPS[0], "A", s4),
                    ],
                    net,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_global_rejects: cases().saturating_mul(4),
        ..ProptestConfig::default()
    })]

    /// Any DNS scenario: the checker's invariants hold at every step (the attempt delay
    /// included), the race ends (finished, or stalled only with something hanging forever
    /// and no deadline), and within a family attempts follow the answer sorted by RFC 6724.
    #[test]
    fn invariants_hold_in_any_scenario(
        s in scenario(),
        timeout in prop::option::of(100u64..3000),
    ) {
        let mut s = s;
        s.config = s.config.timeout(timeout.map(ms));
        let trace = s.run();
        if trace.stalled {
            prop_assert!(timeout.is_none(), "a race with a deadline always finishes");
        }
        for v6 in [true, false] {
            let started: Vec<IpAddr> =
                trace.order().iter().map(SocketAddr::ip).filter(|a| a.is_ipv6() == v6).collect();
            let kind = if v6 { QueryKind::Aaaa } else { QueryKind::A };
            let answered = trace.race.queries().iter().find(|q| q.kind() == kind);
            if let Some(q) = answered {
                let sorted = reference_sort(q.addrs());
                prop_assert!(
                    sorted.starts_with(&started),
                    "family order {started:?} is not a prefix of the sorted answer {sorted:?}"
                );
            }
        }
    }

    /// Literal addresses, AAAA/A answers at random times (the Resolution Delay, late
    /// answers merged: R4–R8, G6), a cap on attempts in flight, and HTTPS records with
    /// priorities, hints, ports and ALPN (QUIC and TCP dealt per HG1; hints replaced by
    /// their TargetName's answer, V43, HG8; duplicates once, HG11): every start (time,
    /// address, transport), the winner and the failure time equal the reference model's.
    ///
    /// The model covers a restricted space, where the rules of the requirements page (eyeballs-core/docs/requirements.md) fix the
    /// outcome without the core's full machinery:
    /// - no history (so no flipped family, no RTT-derived delays, no TCP-first by history),
    ///   no ECH, no NAT64, no `max_endpoints`, no progress reports, no address changes;
    /// - ServiceMode records only (no AliasMode), with distinct priorities (equal ones are
    ///   shuffled by the seed);
    /// - separate AAAA and A queries (no combined query);
    /// - two I/O completions at one instant are left aside (`prop_assume`): their order is
    ///   the driver's, and latencies in microseconds make such ties rare;
    /// - with `first_address_family_count` > 1, a preferred family that answers after the
    ///   race opened with the other one is left aside once it would matter (`prop_assume`;
    ///   see `Deal::next`): the requirements page (eyeballs-core/docs/requirements.md) gives the opening family the first turns and V45
    ///   makes the late family's endpoint the next one, but the core gives the family that
    ///   happened to go first all `count` turns.
    #[test]
    fn matches_the_reference_model(w in world()) {
        let model = Model::run(&w);
        let mut distinct = model.io_times.clone();
        distinct.sort();
        distinct.dedup();
        prop_assume!(distinct.len() == model.io_times.len(), "I/O at one instant");
        prop_assume!(!model.open_question.get(), "the opening turns of a late preferred family");

        let trace = w.scenario().run();
        let want: Vec<(Duration, Ep)> = model.attempts.iter().map(|a| (a.0, a.1)).collect();
        prop_assert_eq!(starts(&trace), want);
        match model.end.clone() {
            Some(End::Won(t, ep)) => {
                let won = trace.race.result().and_then(|r| r.ok()).map(|w| {
                    (w.endpoint().addr(), w.endpoint().transport())
                });
                prop_assert_eq!(won, Some(ep));
                prop_assert_eq!(trace.winner().map(|w| w.0), Some(t));
            }
            Some(End::Failed(t)) => {
                let (at, reason) = trace.failure().expect("the race failed");
                prop_assert_eq!(at, t);
                if model.attempts.is_empty() {
                    prop_assert!(
                        matches!(reason, FailureReason::NoAddresses | FailureReason::DnsFailed),
                        "{reason:?} without attempts"
                    );
                } else {
                    prop_assert_eq!(reason, FailureReason::AllAttemptsFailed);
                }
            }
            Some(End::Stalled) => prop_assert!(trace.stalled, "the model stalls, the race not"),
            None => unreachable!("Model::run returns with an end"),
        }
    }

    /// Durations from the whole range (`Duration::MAX` included) in every knob, DNS delay
    /// and latency: only the invariants. Nothing panics, `Finish` comes exactly once or the
    /// race stalls with nothing to wake it, the race never spins (the checker), the delay
    /// between starts holds, the cap on attempts in flight holds, and a representable
    /// deadline ends the race.
    #[test]
    fn whole_range_durations_keep_the_invariants(x in extreme()) {
        let t0 = common::sim::base_instant();
        let target = Target::host(HOST, 443)
            .https(x.https)
            .http_origin(x.http_origin)
            .protocols(Protocols::http());
        if x.config.validate().is_err() {
            prop_assert!(Race::<String>::new(target, x.config, t0).is_err());
            return Ok(());
        }
        let mut s = Scenario::with_target(x.config, target);
        for (name, kind, answer) in x.dns.clone() {
            s = s.dns_for(name, kind, answer);
        }
        let all = V6.iter().chain(V4.iter());
        for (addr, o) in all.zip(x.net.iter().copied()) {
            s = s.net(addr, o).quic(addr, o);
        }
        // Documented: clamped to [10 ms, the maximum]; a valid config has max >= 10 ms.
        s.expected_delay = Some(x.delay.clamp(ms(10), x.max_delay.unwrap_or(ms(2000))));
        let trace = s.run_at(t0);

        let deadline = x.timeout.and_then(|d| t0.checked_add(d));
        if trace.stalled {
            prop_assert!(deadline.is_none(), "stalled although the deadline is representable");
        }
        let finish = trace.events.iter().filter(|(_, e)| matches!(e, Ev::Won(_) | Ev::Lost(_)));
        prop_assert_eq!(finish.count(), usize::from(!trace.stalled));
        if let (Some(d), false) = (x.timeout.filter(|_| deadline.is_some()), trace.stalled) {
            let end = trace.events.last().map_or(Duration::ZERO, |e| e.0);
            prop_assert!(end <= d, "the race ended at {end:?}, after its {d:?} deadline");
        }
        let mut in_flight = 0usize;
        for (_, e) in &trace.events {
            match e {
                Ev::Start(a) => {
                    prop_assert!(x.cap.is_none_or(|c| in_flight < c), "{a} over the cap");
                    in_flight += 1;
                }
                // A rejection ends its attempt (V54), unless the race retries it at once.
                Ev::RetryEch(_) => in_flight += 1,
                Ev::Connected(_) | Ev::Failed(_) | Ev::EchRejected(_) | Ev::Cancel(_) => {
                    in_flight = in_flight.checked_sub(1).expect("an end without a start");
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_global_rejects: cases().saturating_mul(4),
        ..ProptestConfig::default()
    })]

    /// A race copies only the history of the destinations whose source it learns
    /// (`Race::with_history` for the target's, `Race::handle_history` after each
    /// `Input::Sources`), and decides exactly as with the whole history at hand: whether
    /// every source comes with the target (all copied when the race is built), right after
    /// the start, or just before each answer that holds its destinations, the timelines are
    /// equal, event for event, over random worlds and random histories (other ports,
    /// transports, networks and destinations; expired entries; records out of order).
    ///
    /// Left aside (`prop_assume`): a timer due at the very instant sources are reported
    /// before an answer (the driver's extra input lets it fire before the answer is in).
    #[test]
    fn history_copied_per_destination_decides_as_the_whole_history(
        w in world(),
        past in past(),
    ) {
        let t0 = common::sim::base_instant();
        let h = history_of(&past, t0);
        let t1 = t0 + Duration::from_secs(1200);
        let run = |at: SourcesAt| {
            let mut s = w.scenario().history(&h);
            s.sources_at = at;
            s.run_at(t1)
        };
        let whole = run(SourcesAt::Target);
        let start = run(SourcesAt::Start);
        let answers = run(SourcesAt::Answers);
        prop_assume!(!answers.coincided, "a timer due as sources are reported");
        prop_assert_eq!(&start.events, &whole.events);
        prop_assert_eq!(&answers.events, &whole.events);
        prop_assert_eq!(starts(&answers), starts(&whole));
    }

    /// `Race::restart` starts the race `Race::new` (or, with history, `Race::with_history`)
    /// would: a race built in the memory of another one that ran to its end (its queries,
    /// attempts, answers, actions and history copy left behind), over random worlds with
    /// and without history, runs the same timeline, event for event, with the same report.
    #[test]
    fn a_restarted_race_runs_as_a_new_one(
        w in world(),
        before in world(),
        past in past(),
        with_history in any::<bool>(),
    ) {
        let t0 = common::sim::base_instant();
        let h = history_of(&past, t0);
        let t1 = t0 + Duration::from_secs(1200);
        let scenario = |w: &World| {
            let s = w.scenario();
            if with_history { s.history(&h) } else { s }
        };
        let previous = scenario(&before).run_at(t0).race;
        let fresh = scenario(&w).run_at(t1);
        let recycled = scenario(&w).run_recycled(t1, previous);
        prop_assert_eq!(&recycled.events, &fresh.events);
        prop_assert_eq!(&recycled.error, &fresh.error);
        prop_assert_eq!(
            eyeballs_core::Report::new(&recycled.race, None).to_string(),
            eyeballs_core::Report::new(&fresh.race, None).to_string()
        );
    }
}
