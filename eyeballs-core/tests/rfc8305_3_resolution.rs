//! RFC 8305 §3: Hostname Resolution (R1–R8, G3, G5).

mod common;

use common::sim::{ms, sa, Answer, Ev, Outcome, Scenario};
use eyeballs_core::{Action, Config, FailureReason, FamilyPolicy, QueryKind, Race, Target};

fn v6() -> &'static str {
    "[2001:db8::1]:443"
}
fn v4() -> &'static str {
    "192.0.2.1:443"
}

/// R1: "the client SHOULD send an AAAA query before sending an A query" — both are asked for
/// at once, AAAA first.
#[test]
fn r1_aaaa_is_asked_before_a() {
    let t0 = common::sim::base_instant();
    let mut race: Race<()> =
        Race::new(Target::host("example.test", 80), Config::default(), t0).unwrap();
    assert!(
        matches!(race.poll_action(), Some(Action::Resolve { kind: QueryKind::Aaaa, query, .. }) if query.index() == 0)
    );
    assert!(
        matches!(race.poll_action(), Some(Action::Resolve { kind: QueryKind::A, query, .. }) if query.index() == 1)
    );
    assert!(race.poll_action().is_none());
    assert_eq!(
        race.poll_timeout(),
        None,
        "nothing to time before an answer"
    );
}

/// R2, R4: "If a positive AAAA response ... is received first, the first IPv6 connection
/// attempt is immediately started" — without waiting for A.
#[test]
fn r4_a_positive_aaaa_answer_starts_at_once() {
    let trace = Scenario::host(Config::default())
        .aaaa(20, &["2001:db8::1"])
        .a(400, &["192.0.2.1"])
        .net(v6(), Outcome::Connect(ms(30)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(20), sa(v6()))]);
    assert_eq!(trace.winner(), Some((ms(50), sa(v6()))));
}

/// R5: "If a positive A response is received first ... the client SHOULD wait a short time
/// for the AAAA response" — the Resolution Delay, 50 ms; then IPv4 starts with what is held.
#[test]
fn r5_a_positive_a_answer_waits_the_resolution_delay() {
    let trace = Scenario::host(Config::default())
        .aaaa(500, &["2001:db8::1"])
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(60), sa(v4()))]);
    assert_eq!(trace.winner(), Some((ms(65), sa(v4()))));
}

/// R5: the Resolution Delay is a knob; zero starts IPv4 with the A answer.
#[test]
fn r5_resolution_delay_is_configurable() {
    let trace = Scenario::host(Config::default().resolution_delay(ms(0)))
        .aaaa(500, &["2001:db8::1"])
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(10), sa(v4()))]);
    let trace = Scenario::host(Config::default().resolution_delay(ms(120)))
        .aaaa(500, &["2001:db8::1"])
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(130), sa(v4()))]);
}

/// R6: "If a positive AAAA response is received within the Resolution Delay period, the
/// client immediately starts the IPv6 connection attempt" — sorted with the A results held.
#[test]
fn r6_aaaa_within_the_resolution_delay_starts_ipv6_first() {
    let trace = Scenario::host(Config::default())
        .aaaa(40, &["2001:db8::1"])
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![(ms(40), sa(v6())), (ms(290), sa(v4()))]
    );
}

/// R7: "If a negative AAAA response (no error, no data) is received within the Resolution
/// Delay period ... the client SHOULD ... start connection attempts using the IPv4
/// addresses received so far" — at once, with nothing left to wait for.
#[test]
fn r7_a_negative_aaaa_answer_starts_ipv4_at_once() {
    let empty = Scenario::host(Config::default())
        .aaaa(20, &[])
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(empty.starts(), vec![(ms(20), sa(v4()))]);
    let failed = Scenario::host(Config::default())
        .dns("AAAA", Answer::Fail(ms(30)))
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(failed.starts(), vec![(ms(30), sa(v4()))]);
    assert_eq!(failed.winner(), Some((ms(35), sa(v4()))));
}

/// G5: with a negative A answer and AAAA outstanding there is nothing to start, and the
/// Resolution Delay does not apply: the race simply waits for AAAA.
#[test]
fn g5_a_negative_a_answer_waits_for_aaaa_without_a_delay() {
    let trace = Scenario::host(Config::default())
        .aaaa(300, &["2001:db8::1"])
        .a(10, &[])
        .net(v6(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(300), sa(v6()))]);
}

/// R8: "a late AAAA response ... the IPv6 addresses are added to the list of candidates" —
/// IPv4 started after the Resolution Delay; the late IPv6 address is the next one tried.
#[test]
fn r8_a_late_aaaa_answer_is_merged() {
    let trace = Scenario::host(Config::default())
        .aaaa(100, &["2001:db8::1"])
        .a(0, &["192.0.2.1", "192.0.2.2"])
        .net(v6(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![(ms(50), sa(v4())), (ms(300), sa(v6()))]
    );
    assert_eq!(trace.winner(), Some((ms(305), sa(v6()))));
}

/// G3: exhausting the list while a query is outstanding is not the end. The IPv6 attempt
/// fails before the A answer; the race waits for it, and IPv4 wins (robur-coop/happy-eyeballs#9).
#[test]
fn g3_no_failure_while_dns_is_outstanding() {
    let trace = Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1"])
        .a(200, &["192.0.2.1"])
        .net(v6(), Outcome::Fail(ms(5)))
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(0), sa(v6())), (ms(200), sa(v4()))]);
    assert_eq!(trace.winner(), Some((ms(205), sa(v4()))));
}

/// G3: when the last query fails too, the race fails, naming the attempt and the query.
#[test]
fn g3_fails_once_the_last_query_is_answered() {
    let trace = Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1"])
        .dns("A", Answer::Fail(ms(200)))
        .net(v6(), Outcome::Fail(ms(5)))
        .run();
    assert_eq!(
        trace.failure(),
        Some((ms(200), FailureReason::AllAttemptsFailed))
    );
    assert_eq!(
        trace.error.as_deref(),
        Some(
            "all 1 connection attempt failed: A example.test: A lookup failed; \
             TCP [2001:db8::1]:443: connection refused"
        )
    );
}

/// Both queries failing is a DNS failure; both empty is "no addresses".
#[test]
fn dns_failures_and_empty_answers_are_told_apart() {
    let failed = Scenario::host(Config::default())
        .dns("AAAA", Answer::Fail(ms(5)))
        .dns("A", Answer::Fail(ms(10)))
        .run();
    assert_eq!(failed.failure(), Some((ms(10), FailureReason::DnsFailed)));
    assert_eq!(
        failed.error.as_deref(),
        Some("DNS failed: AAAA example.test: AAAA lookup failed; A example.test: A lookup failed")
    );
    let empty = Scenario::host(Config::default())
        .aaaa(5, &[])
        .a(10, &[])
        .run();
    assert_eq!(empty.failure(), Some((ms(10), FailureReason::NoAddresses)));
    assert_eq!(empty.error.as_deref(), Some("no addresses to connect to"));
    let mixed = Scenario::host(Config::default())
        .dns("AAAA", Answer::Fail(ms(5)))
        .a(10, &[])
        .run();
    assert_eq!(mixed.failure().map(|f| f.1), Some(FailureReason::DnsFailed));
}

/// R3's fallback: one combined query (getaddrinfo) answers both families; there is no
/// Resolution Delay to apply, and attempts start with the answer.
#[test]
fn r3_a_combined_query_starts_at_once() {
    let trace = Scenario::with_target(
        Config::default(),
        Target::host_combined("example.test", 443),
    )
    .both(15, &["192.0.2.1", "2001:db8::1"])
    .net(v4(), Outcome::Connect(ms(5)))
    .run();
    assert_eq!(trace.events[0], (ms(0), Ev::Resolve(QueryKind::Both)));
    assert_eq!(
        trace.starts(),
        vec![(ms(15), sa(v6())), (ms(265), sa(v4()))]
    );
}

/// A family excluded by the policy is not even asked for.
#[test]
fn family_only_policies_ask_one_query() {
    for (policy, kind) in [
        (FamilyPolicy::V4Only, QueryKind::A),
        (FamilyPolicy::V6Only, QueryKind::Aaaa),
    ] {
        let t0 = common::sim::base_instant();
        let mut race: Race<()> = Race::new(
            Target::host("example.test", 80),
            Config::default().family_policy(policy),
            t0,
        )
        .unwrap();
        assert!(matches!(race.poll_action(), Some(Action::Resolve { kind: k, .. }) if k == kind));
        assert!(race.poll_action().is_none());
    }
    let trace = Scenario::host(Config::default().family_policy(FamilyPolicy::V4Only))
        .a(10, &["192.0.2.1"])
        .net(v4(), Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![(ms(10), sa(v4()))],
        "no Resolution Delay: no AAAA asked"
    );
}

/// Duplicate answers and answers to unknown queries are ignored.
#[test]
fn duplicate_and_unknown_answers_are_ignored() {
    let t0 = common::sim::base_instant();
    let mut race: Race<()> =
        Race::new(Target::host("example.test", 80), Config::default(), t0).unwrap();
    while race.poll_action().is_some() {}
    let q = |i| eyeballs_core::QueryId::from_index(i);
    race.handle_input(
        eyeballs_core::Input::Resolved {
            query: q(7),
            addrs: vec![common::sim::ip("2001:db8::9")],
        },
        t0,
    );
    assert!(race.poll_action().is_none(), "unknown query id ignored");
    race.handle_input(
        eyeballs_core::Input::Resolved {
            query: q(0),
            addrs: vec![],
        },
        t0 + ms(1),
    );
    race.handle_input(
        eyeballs_core::Input::Resolved {
            query: q(0),
            addrs: vec![common::sim::ip("2001:db8::9")],
        },
        t0 + ms(2),
    );
    assert!(
        race.poll_action().is_none(),
        "a second answer to the same query is ignored"
    );
    assert_eq!(race.queries()[0].addrs().len(), 0);
}
