//! Happy Eyeballs v3 §4: Hostname Resolution — the HTTPS query, when the race may start,
//! AliasMode chains, TargetNames, hints, unusable records, ALPN and ports (V1–V3,
//! V5, V7–V12, V38–V40, V42; HG7, HG9, HG11, HG12) and the caps on what one answer can cost.
//!
//! Every timeline is exact, on the simulator's virtual clock: the time each query is sent,
//! each attempt's start with its transport, the winner and the cancels.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use common::sim::{ms, sa, Answer, Outcome, Scenario, HOST};
use eyeballs_core::{
    Action, Config, ConfigError, FailureReason, FamilyPolicy, Name, Protocols, Provenance,
    QueryKind, Race, Report, ServiceRecord, Target, MAX_ALIAS_DEPTH, MAX_ANSWER_ADDRS,
    MAX_ANSWER_RECORDS, MAX_HINTS, MAX_SERVICE_RECORDS, MAX_TARGET_NAMES,
};

// ---- helpers ----------------------------------------------------------------------------

/// The HEv3 web client: `example.test:443`, HTTPS asked, h3 over QUIC, h2 and http/1.1 over
/// TCP.
fn web() -> Scenario {
    web_with(Config::default())
}

fn web_with(config: Config) -> Scenario {
    web_on(config, 443, Protocols::http())
}

fn web_on(config: Config, port: u16, protocols: Protocols) -> Scenario {
    Scenario::with_target(
        config,
        Target::host(HOST, port).https(true).protocols(protocols),
    )
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad IPv6 address {s}: {e}"))
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad IPv4 address {s}: {e}"))
}

/// An address answer after `after` ms (relative to the query's send time).
fn addrs(after: u64, list: &[&str]) -> Answer {
    Answer::Addrs(ms(after), list.iter().map(|a| common::sim::ip(a)).collect())
}

/// An HTTPS answer after `after` ms.
fn records(after: u64, list: Vec<ServiceRecord>) -> Answer {
    Answer::Records(ms(after), list)
}

/// A ServiceMode record with these ALPN ids.
fn svc(priority: u16, target: &str, alpn: &[&str]) -> ServiceRecord {
    ServiceRecord::new(priority, target).alpn(alpn.iter().copied())
}

/// An expected timeline: (ms, text).
fn at(list: &[(u64, &str)]) -> Vec<(Duration, String)> {
    list.iter().map(|(t, s)| (ms(*t), s.to_string())).collect()
}

fn service(priority: u16, target: &str) -> Provenance {
    Provenance::Service {
        priority,
        target: Name::new(target),
    }
}

fn fallback(target: &str) -> Provenance {
    Provenance::AliasFallback {
        target: Name::new(target),
    }
}

fn provenances(trace: &common::sim::Trace) -> Vec<Provenance> {
    trace
        .endpoints()
        .iter()
        .map(|e| e.provenance().clone())
        .collect()
}

/// The queries sorted by time, then text: for chains whose order within one instant another
/// test pins down (`v3_an_alias_hop_asks_https_then_aaaa_then_a`).
fn sorted_queries(trace: &common::sim::Trace) -> Vec<(Duration, String)> {
    let mut q = trace.queries();
    q.sort();
    q
}

fn sorted(mut list: Vec<(Duration, String)>) -> Vec<(Duration, String)> {
    list.sort();
    list
}

/// The first queries of a race, straight from the API: (id, kind, name).
fn first_queries(target: Target, config: Config) -> Vec<(usize, QueryKind, String)> {
    let t0: Instant = common::sim::base_instant();
    let mut race: Race<String> = Race::new(target, config, t0).expect("valid config");
    let mut out = Vec::new();
    while let Some(action) = race.poll_action() {
        match action {
            Action::Resolve {
                query, name, kind, ..
            } => out.push((query.index(), kind, name.to_string())),
            other => panic!("a race over a host name starts with queries, got {other:?}"),
        }
    }
    assert_eq!(
        race.poll_timeout(),
        None,
        "nothing to time before an answer"
    );
    out
}

// ---- §4.1: the queries (V1–V3) ------------------------------------------------------------

/// V1, V3: "Query HTTPS ... for protocols that use HTTPS records" and "send the queries
/// back-to-back: SVCB/HTTPS, AAAA, A". An https client on port 443 asks HTTPS for the host
/// itself (V2), then AAAA, then A, ids 0, 1, 2, all at once.
#[test]
fn v1_v3_https_then_aaaa_then_a_back_to_back() {
    let target = Target::host(HOST, 443)
        .https(true)
        .protocols(Protocols::http());
    assert_eq!(
        first_queries(target, Config::default()),
        vec![
            (0, QueryKind::Https, "example.test".to_string()),
            (1, QueryKind::Aaaa, "example.test".to_string()),
            (2, QueryKind::A, "example.test".to_string()),
        ]
    );
}

/// V3 with PreferV4: "A first with PreferV4" — HTTPS still leads, then A, then AAAA.
#[test]
fn v3_prefer_v4_asks_https_then_a_then_aaaa() {
    let target = Target::host(HOST, 443)
        .https(true)
        .protocols(Protocols::http());
    let config = Config::default().family_policy(FamilyPolicy::PreferV4);
    assert_eq!(
        first_queries(target, config),
        vec![
            (0, QueryKind::Https, "example.test".to_string()),
            (1, QueryKind::A, "example.test".to_string()),
            (2, QueryKind::Aaaa, "example.test".to_string()),
        ]
    );
}

/// V2: "HTTPS query name: the host for https on port 443, else `_PORT._https.HOST`". On
/// port 8443 the HTTPS query asks `_8443._https.example.test` while AAAA and A ask the host;
/// the record found there is used (a record at the bare host name is never asked for), and
/// without a port key its endpoint takes the authority's port, 8443 (V42).
#[test]
fn v2_off_443_the_https_query_is_port_prefixed() {
    let target = Target::host(HOST, 8443)
        .https(true)
        .protocols(Protocols::http());
    assert_eq!(
        first_queries(target, Config::default()),
        vec![
            (0, QueryKind::Https, "_8443._https.example.test".to_string()),
            (1, QueryKind::Aaaa, "example.test".to_string()),
            (2, QueryKind::A, "example.test".to_string()),
        ]
    );
    let trace = web_on(Config::default(), 8443, Protocols::http())
        .dns_for(
            "_8443._https.example.test",
            "HTTPS",
            records(
                10,
                vec![svc(1, "svc.example.test", &["h2"]).ipv6_hints([v6("2001:db8::1")])],
            ),
        )
        .dns_for(
            HOST,
            "HTTPS",
            records(
                0,
                vec![svc(1, ".", &["h2"]).ipv6_hints([v6("2001:db8::99")])],
            ),
        )
        .net("[2001:db8::1]:8443", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.queries(),
        at(&[
            (0, "HTTPS _8443._https.example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (10, "AAAA svc.example.test"),
            (10, "A svc.example.test"),
        ])
    );
    assert_eq!(trace.tries(), at(&[(10, "TCP [2001:db8::1]:8443")]));
    assert_eq!(trace.winner(), Some((ms(15), sa("[2001:db8::1]:8443"))));
}

/// V1: "with no service query, service conditions count as met". Without `.https(true)` the
/// race is exactly RFC 8305's: AAAA and A only (an HTTPS record in the zone is never read),
/// and a first AAAA answer starts at once (R4). Addresses given directly ask nothing at all.
#[test]
fn v1_no_https_query_without_the_flag() {
    let target = Target::host(HOST, 443).protocols(Protocols::http());
    assert_eq!(
        first_queries(target.clone(), Config::default()),
        vec![
            (0, QueryKind::Aaaa, "example.test".to_string()),
            (1, QueryKind::A, "example.test".to_string()),
        ]
    );
    let trace = Scenario::with_target(Config::default(), target)
        .dns(
            "HTTPS",
            records(
                0,
                vec![svc(1, ".", &["h3"]).ipv6_hints([v6("2001:db8::99")])],
            ),
        )
        .dns("AAAA", addrs(10, &["2001:db8::1"]))
        .dns("A", addrs(20, &["192.0.2.1"]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.queries(),
        at(&[(0, "AAAA example.test"), (0, "A example.test")])
    );
    assert_eq!(trace.tries(), at(&[(10, "TCP [2001:db8::1]:443")]));
    assert_eq!(provenances(&trace), vec![Provenance::Address]);
    assert_eq!(trace.winner(), Some((ms(15), sa("[2001:db8::1]:443"))));

    let mut literal = Scenario::addrs(Config::default(), &["[2001:db8::1]:443"])
        .net("2001:db8::1", Outcome::Connect(ms(5)));
    literal.target = literal.target.https(true).protocols(Protocols::http());
    let trace = literal.run();
    assert!(
        trace.queries().is_empty(),
        "no DNS for addresses given directly"
    );
    assert_eq!(trace.tries(), at(&[(0, "TCP [2001:db8::1]:443")]));
}

/// V3 for every name resolved: an AliasMode hop asks about its target the same way as the
/// race's first queries, HTTPS first, then AAAA, then A (CORE_HEV3: "follows: HTTPS for the
/// target + AAAA/A for the target").
#[test]
fn v3_an_alias_hop_asks_https_then_aaaa_then_a() {
    let trace = web()
        .dns(
            "HTTPS",
            records(10, vec![ServiceRecord::alias("cdn.example.test")]),
        )
        .run();
    assert_eq!(
        trace.queries(),
        at(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (10, "HTTPS cdn.example.test"),
            (10, "AAAA cdn.example.test"),
            (10, "A cdn.example.test"),
        ])
    );
}

// ---- §4.2: when the race starts (V5, V7, HG7, HG9) ------------------------------------------

/// V5(a): "Connect when some address answer is positive, the preferred family has answered
/// and service info has arrived ... Unlike R4, a first AAAA waits while HTTPS is pending."
/// AAAA at 10 ms waits; the race starts at 30 ms when the HTTPS answer arrives (inside the
/// 50 ms Resolution Delay armed at 10 ms), from the "." service: its endpoints are the
/// host's addresses over TCP (alpn h2 + the default http/1.1: no h3, so no QUIC). The same
/// DNS without `.https(true)` starts at 10 ms.
#[test]
fn v5a_a_first_aaaa_waits_while_https_is_pending() {
    let trace = web()
        .dns("AAAA", addrs(10, &["2001:db8::1"]))
        .dns("A", addrs(20, &["192.0.2.1"]))
        .dns("HTTPS", records(30, vec![svc(1, ".", &["h2"])]))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[(30, "TCP [2001:db8::1]:443"), (280, "TCP 192.0.2.1:443")])
    );
    assert_eq!(
        provenances(&trace),
        vec![service(1, HOST), service(1, HOST)]
    );
    assert_eq!(trace.winner(), Some((ms(285), sa("192.0.2.1:443"))));
    assert_eq!(trace.cancels(), vec![(ms(285), sa("[2001:db8::1]:443"))]);

    let rfc8305 = Scenario::host(Config::default())
        .dns("AAAA", addrs(10, &["2001:db8::1"]))
        .dns("A", addrs(20, &["192.0.2.1"]))
        .dns("HTTPS", records(30, vec![svc(1, ".", &["h2"])]))
        .run();
    assert_eq!(rfc8305.tries()[0], (ms(10), "TCP [2001:db8::1]:443".into()));
}

/// V5(a): "the preferred family has answered (either way)". Service info at 0 ms and a
/// positive A at 0 ms still wait for AAAA; a negative (empty or failed) AAAA at 30 ms, inside
/// the Resolution Delay, starts IPv4 at once.
#[test]
fn v5a_the_preferred_family_must_answer_either_way() {
    for aaaa in [addrs(30, &[]), Answer::Fail(ms(30))] {
        let trace = web()
            .dns("HTTPS", records(0, vec![svc(1, ".", &["h2"])]))
            .dns("A", addrs(0, &["192.0.2.1"]))
            .dns("AAAA", aaaa)
            .net("192.0.2.1", Outcome::Connect(ms(5)))
            .run();
        assert_eq!(trace.tries(), at(&[(30, "TCP 192.0.2.1:443")]));
        assert_eq!(trace.winner(), Some((ms(35), sa("192.0.2.1:443"))));
    }
}

/// V5(a) with PreferV4: the awaited family is IPv4. Service info and a positive AAAA are in at
/// 0 ms, but the race waits for A; A at 30 ms (inside the Resolution Delay) starts IPv4
/// first, then IPv6.
#[test]
fn v5a_with_prefer_v4_the_awaited_family_is_ipv4() {
    let trace = web_with(Config::default().family_policy(FamilyPolicy::PreferV4))
        .dns("HTTPS", records(0, vec![svc(1, ".", &["h2"])]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(30, &["192.0.2.1"]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[(30, "TCP 192.0.2.1:443"), (280, "TCP [2001:db8::1]:443")])
    );
    assert_eq!(trace.winner(), Some((ms(285), sa("[2001:db8::1]:443"))));
}

/// V5(b): "or some address answer is positive and the Resolution Delay has run out". AAAA
/// and A at 0 ms, HTTPS 300 ms late: the race starts at 50 ms with the host's address; at
/// 300 ms the services are merged, and the next attempt (due at 300 ms) is from the service
/// group (V28: a group before the next), first its hint over QUIC, then over TCP (50 ms
/// later: V29's TCP after QUIC); the host's IPv4 address comes after. The TargetName's
/// follow-up queries go out at 300 ms.
#[test]
fn v5b_https_300ms_late_the_race_starts_at_the_resolution_delay() {
    let record = svc(1, "svc.example.test", &["h3"]).ipv6_hints([v6("2001:db8::10")]);
    let trace = web()
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &["192.0.2.1"]))
        .dns("HTTPS", records(300, vec![record]))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (50, "TCP [2001:db8::1]:443"),
            (300, "QUIC [2001:db8::10]:443"),
            (350, "TCP [2001:db8::10]:443"),
            (600, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            Provenance::Address,
            service(1, "svc.example.test"),
            service(1, "svc.example.test"),
            Provenance::Address,
        ]
    );
    assert_eq!(
        trace.queries(),
        at(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (300, "AAAA svc.example.test"),
            (300, "A svc.example.test"),
        ])
    );
    assert_eq!(trace.winner(), Some((ms(605), sa("192.0.2.1:443"))));
    assert_eq!(
        trace.cancels(),
        vec![
            (ms(605), sa("[2001:db8::1]:443")),
            (ms(605), sa("[2001:db8::10]:443")),
            (ms(605), sa("[2001:db8::10]:443")),
        ]
    );
}

/// V5, V36 (unprotected DNS): an empty HTTPS answer, a failed one, an answer of the wrong
/// type (addresses for the HTTPS query: an answer without records) and an answer with only
/// unusable records all settle service information: the AAAA held since 0 ms starts when it
/// arrives at 10 ms. An HTTPS query that never answers holds the race only for the 50 ms
/// Resolution Delay.
#[test]
fn v5_an_empty_or_failed_https_answer_never_blocks_the_race() {
    let unusable = vec![svc(1, ".", &["h2"]).mandatory([65280])];
    let cases = [
        ("empty", records(10, vec![]), 10),
        ("failed", Answer::Fail(ms(10)), 10),
        ("wrong type", addrs(10, &[]), 10),
        ("only unusable records", records(10, unusable), 10),
        ("never answered", Answer::Never, 50),
    ];
    for (what, https, start) in cases {
        let trace = web()
            .dns("HTTPS", https)
            .dns("AAAA", addrs(0, &["2001:db8::1"]))
            .dns("A", addrs(0, &[]))
            .net("2001:db8::1", Outcome::Connect(ms(5)))
            .run();
        assert_eq!(
            trace.tries(),
            vec![(ms(start), "TCP [2001:db8::1]:443".to_string())],
            "{what}"
        );
        assert_eq!(provenances(&trace), vec![Provenance::Address], "{what}");
        assert_eq!(
            trace.winner(),
            Some((ms(start + 5), sa("[2001:db8::1]:443"))),
            "{what}"
        );
    }
}

/// V7: "Negative = an A/AAAA answer without address, error or not. A hintless record is
/// service info only. All negative: wait for outstanding queries, then fail." Each race
/// fails at 30 ms, when its last query (HTTPS) is answered, never before; a failed AAAA makes
/// it a DNS failure, a failed HTTPS query does not.
#[test]
fn v7_all_negative_fails_only_after_every_query_answered() {
    let hintless = vec![svc(1, ".", &["h3"])];
    let cases = [
        (
            "hintless record",
            addrs(10, &[]),
            records(30, hintless),
            FailureReason::NoAddresses,
        ),
        (
            "empty HTTPS",
            addrs(10, &[]),
            records(30, vec![]),
            FailureReason::NoAddresses,
        ),
        (
            "failed HTTPS",
            addrs(10, &[]),
            Answer::Fail(ms(30)),
            FailureReason::NoAddresses,
        ),
        (
            "failed AAAA",
            Answer::Fail(ms(10)),
            records(30, vec![]),
            FailureReason::DnsFailed,
        ),
    ];
    for (what, aaaa, https, reason) in cases {
        let trace = web()
            .dns("AAAA", aaaa)
            .dns("A", addrs(20, &[]))
            .dns("HTTPS", https)
            .run();
        assert!(trace.tries().is_empty(), "{what}");
        assert_eq!(trace.failure(), Some((ms(30), reason)), "{what}");
    }
}

/// G3, HG12: "no failure while any query (aliases, TargetNames) is outstanding". Everything
/// the host and the first HTTPS answer give is negative by 10 ms, but an alias target's AAAA
/// (100 ms) or a TargetName's AAAA (200 ms) is still out: the race waits for it, then starts
/// on it, or fails at that moment when it is negative too.
#[test]
fn g3_hg12_no_failure_while_alias_hops_or_target_follow_ups_are_outstanding() {
    let alias = |cdn_aaaa: Answer| {
        web()
            .dns(
                "HTTPS",
                records(0, vec![ServiceRecord::alias("cdn.example.test")]),
            )
            .dns("AAAA", addrs(0, &[]))
            .dns("A", addrs(0, &[]))
            .dns_for("cdn.example.test", "HTTPS", records(10, vec![]))
            .dns_for("cdn.example.test", "A", addrs(5, &[]))
            .dns_for("cdn.example.test", "AAAA", cdn_aaaa)
            .net("2001:db8::5", Outcome::Connect(ms(5)))
            .run()
    };
    let trace = alias(addrs(100, &["2001:db8::5"]));
    assert_eq!(trace.tries(), at(&[(100, "TCP [2001:db8::5]:443")]));
    assert_eq!(provenances(&trace), vec![fallback("cdn.example.test")]);
    assert_eq!(trace.winner(), Some((ms(105), sa("[2001:db8::5]:443"))));
    let trace = alias(addrs(100, &[]));
    assert_eq!(trace.failure(), Some((ms(100), FailureReason::NoAddresses)));

    let target = |svc_aaaa: Answer| {
        web()
            .dns(
                "HTTPS",
                records(0, vec![svc(1, "svc.example.test", &["h2"])]),
            )
            .dns("AAAA", addrs(0, &[]))
            .dns("A", addrs(0, &[]))
            .dns_for("svc.example.test", "A", addrs(5, &[]))
            .dns_for("svc.example.test", "AAAA", svc_aaaa)
            .net("2001:db8::7", Outcome::Connect(ms(5)))
            .run()
    };
    let trace = target(addrs(200, &["2001:db8::7"]));
    assert_eq!(trace.tries(), at(&[(200, "TCP [2001:db8::7]:443")]));
    assert_eq!(provenances(&trace), vec![service(1, "svc.example.test")]);
    assert_eq!(trace.winner(), Some((ms(205), sa("[2001:db8::7]:443"))));
    let trace = target(Answer::Fail(ms(200)));
    assert_eq!(trace.failure(), Some((ms(200), FailureReason::DnsFailed)));
}

/// G3, HG12 with the HTTPS query outstanding: the host's only address fails at 60 ms, with
/// nothing left to try; the race waits for HTTPS (400 ms), whose service then wins.
#[test]
fn g3_a_late_https_answer_after_every_attempt_failed() {
    let record = svc(1, "svc.example.test", &["h2"]).ipv6_hints([v6("2001:db8::10")]);
    let trace = web()
        .dns("HTTPS", records(400, vec![record]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .net("2001:db8::1", Outcome::Fail(ms(10)))
        .net("2001:db8::10", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (50, "TCP [2001:db8::1]:443"),
            (400, "TCP [2001:db8::10]:443")
        ])
    );
    assert_eq!(trace.winner(), Some((ms(405), sa("[2001:db8::10]:443"))));
}

/// HG9: "If no record is '.' (or names the origin), V5(a) ... needs an address for some
/// ServiceMode target; otherwise wait for the Resolution Delay." Service info and both host
/// families are in at 0 ms, but the only service's TargetName has no address yet: the race
/// waits the 50 ms Resolution Delay and starts on the host's address; the service's address
/// (100 ms) is next at 300 ms (its group goes first), then the host's IPv4. When the
/// TargetName answers inside the delay (20 ms), the race starts on it at once.
#[test]
fn hg9_fallback_addresses_alone_do_not_start_the_race() {
    let run = |svc_after: u64| {
        web()
            .dns(
                "HTTPS",
                records(0, vec![svc(1, "svc.example.test", &["h2"])]),
            )
            .dns("AAAA", addrs(0, &["2001:db8::1"]))
            .dns("A", addrs(0, &["192.0.2.1"]))
            .dns_for(
                "svc.example.test",
                "AAAA",
                addrs(svc_after, &["2001:db8::10"]),
            )
            .dns_for("svc.example.test", "A", addrs(svc_after, &[]))
            .net("192.0.2.1", Outcome::Connect(ms(5)))
            .run()
    };
    let late = run(100);
    assert_eq!(
        late.tries(),
        at(&[
            (50, "TCP [2001:db8::1]:443"),
            (300, "TCP [2001:db8::10]:443"),
            (550, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(
        provenances(&late),
        vec![
            Provenance::Address,
            service(1, "svc.example.test"),
            Provenance::Address
        ]
    );
    assert_eq!(late.winner(), Some((ms(555), sa("192.0.2.1:443"))));
    let early = run(20);
    assert_eq!(
        early.tries(),
        at(&[
            (20, "TCP [2001:db8::10]:443"),
            (270, "TCP [2001:db8::1]:443"),
            (520, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(early.winner(), Some((ms(525), sa("192.0.2.1:443"))));
}

/// HG7: "the Resolution Delay ... arm it at the first positive address answer ... once". The
/// A answer at 10 ms is the first endpoint held (AAAA never answers); the HTTPS answer at
/// 40 ms brings a service without addresses (HG9 would wait) but does not re-arm the delay:
/// the race starts at 60 ms, not 90 ms. The service's address (140 ms) is next at 310 ms.
#[test]
fn hg7_the_resolution_delay_is_armed_once_at_the_first_held_endpoint() {
    let trace = web()
        .dns("AAAA", Answer::Never)
        .dns("A", addrs(10, &["192.0.2.1"]))
        .dns(
            "HTTPS",
            records(40, vec![svc(1, "svc.example.test", &["h2"])]),
        )
        .dns_for("svc.example.test", "AAAA", addrs(100, &["2001:db8::10"]))
        .net("2001:db8::10", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[(60, "TCP 192.0.2.1:443"), (310, "TCP [2001:db8::10]:443")])
    );
    assert_eq!(
        provenances(&trace),
        vec![Provenance::Address, service(1, "svc.example.test")]
    );
    assert_eq!(trace.winner(), Some((ms(315), sa("[2001:db8::10]:443"))));
    assert_eq!(trace.cancels(), vec![(ms(315), sa("192.0.2.1:443"))]);
}

// ---- §4.2.1: aliases and TargetNames (V8–V11) -----------------------------------------------

/// V8: "AliasMode: query the same type for its TargetName". The host's HTTPS answer (10 ms)
/// is an alias to cdn.example.test: HTTPS, AAAA and A for cdn go out at 10 ms. cdn's "."
/// ServiceMode record (20 ms) stands for cdn itself (V9), so the race waits for cdn's
/// addresses (HG9) and starts at 25 ms on them, QUIC then TCP (50 ms later, V29), then the
/// host's own address (V21). cdn's own-address fallback (V11) is the same TCP endpoint, tried once (HG11).
#[test]
fn v8_an_alias_is_followed() {
    let trace = web()
        .dns(
            "HTTPS",
            records(10, vec![ServiceRecord::alias("cdn.example.test")]),
        )
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .dns_for(
            "cdn.example.test",
            "HTTPS",
            records(10, vec![svc(1, ".", &["h3"])]),
        )
        .dns_for("cdn.example.test", "AAAA", addrs(15, &["2001:db8::5"]))
        .dns_for("cdn.example.test", "A", addrs(15, &[]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        sorted_queries(&trace),
        sorted(at(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (10, "HTTPS cdn.example.test"),
            (10, "AAAA cdn.example.test"),
            (10, "A cdn.example.test"),
        ]))
    );
    assert_eq!(
        trace.tries(),
        at(&[
            (25, "QUIC [2001:db8::5]:443"),
            (75, "TCP [2001:db8::5]:443"),
            (325, "TCP [2001:db8::1]:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            service(1, "cdn.example.test"),
            service(1, "cdn.example.test"),
            Provenance::Address
        ]
    );
    assert_eq!(trace.winner(), Some((ms(330), sa("[2001:db8::1]:443"))));
}

/// V8: "Only ServiceMode records are service info ... ServiceMode records beside [an
/// AliasMode record] are ignored" (RFC 9460 §2.4.2). The hints of the two ServiceMode
/// records next to the alias are never tried; the alias is followed and its target's own
/// address is the only endpoint.
#[test]
fn v8_service_mode_records_beside_an_alias_are_ignored() {
    let answer = vec![
        svc(1, ".", &["h3"]).ipv6_hints([v6("2001:db8::99")]),
        ServiceRecord::alias("cdn.example.test"),
        svc(2, "other.example.test", &["h2"]).ipv4_hints([v4("192.0.2.99")]),
    ];
    let trace = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .dns_for("cdn.example.test", "HTTPS", records(0, vec![]))
        .dns_for("cdn.example.test", "AAAA", addrs(10, &["2001:db8::5"]))
        .dns_for("cdn.example.test", "A", addrs(10, &[]))
        .net("2001:db8::5", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.tries(), at(&[(10, "TCP [2001:db8::5]:443")]));
    assert_eq!(provenances(&trace), vec![fallback("cdn.example.test")]);
    assert_eq!(
        trace.queries().len(),
        6,
        "nothing asked about other.example.test"
    );
    assert_eq!(trace.winner(), Some((ms(15), sa("[2001:db8::5]:443"))));
}

/// V8 (RFC 9460 §2.4.2: "If multiple AliasMode records are present, clients ... SHOULD pick
/// one at random"): of two aliases exactly one is followed, the choice made by Config::seed;
/// over 32 seeds both are chosen. The race starts on the chosen target's address at 10 ms,
/// when its HTTPS answer (empty) settles service info.
#[test]
fn v8_one_of_several_aliases_is_followed() {
    let mut chosen = Vec::new();
    for seed in 0..32 {
        let trace = web_with(Config::default().seed(seed))
            .dns(
                "HTTPS",
                records(
                    0,
                    vec![
                        ServiceRecord::alias("one.example.test"),
                        ServiceRecord::alias("two.example.test"),
                    ],
                ),
            )
            .dns("AAAA", addrs(0, &[]))
            .dns("A", addrs(0, &[]))
            .dns_for("one.example.test", "HTTPS", records(10, vec![]))
            .dns_for("one.example.test", "AAAA", addrs(0, &["2001:db8::1"]))
            .dns_for("two.example.test", "HTTPS", records(10, vec![]))
            .dns_for("two.example.test", "AAAA", addrs(0, &["2001:db8::2"]))
            .default_outcome(Outcome::Connect(ms(5)))
            .run();
        let (target, addr) = if trace.queries().iter().any(|(_, q)| q.contains("one.")) {
            ("one.example.test", "2001:db8::1")
        } else {
            ("two.example.test", "2001:db8::2")
        };
        assert_eq!(
            sorted_queries(&trace),
            sorted(vec![
                (ms(0), "HTTPS example.test".to_string()),
                (ms(0), "AAAA example.test".to_string()),
                (ms(0), "A example.test".to_string()),
                (ms(0), format!("HTTPS {target}")),
                (ms(0), format!("AAAA {target}")),
                (ms(0), format!("A {target}")),
            ]),
            "seed {seed}: exactly one alias followed"
        );
        assert_eq!(
            trace.tries(),
            vec![(ms(10), format!("TCP [{addr}]:443"))],
            "seed {seed}"
        );
        assert_eq!(provenances(&trace), vec![fallback(target)], "seed {seed}");
        chosen.push(target);
    }
    assert!(chosen.contains(&"one.example.test") && chosen.contains(&"two.example.test"));
}

/// A chain example.test → a1 → … → a`n` where each HTTPS answer takes 1 ms; a`n`'s own AAAA
/// answers at once with 2001:db8::8 and its HTTPS answer is `last`.
fn alias_chain(n: usize, last: Vec<ServiceRecord>) -> common::sim::Trace {
    alias_chain_with(Config::default(), n, last)
}

/// [`alias_chain`] with a configuration.
fn alias_chain_with(config: Config, n: usize, last: Vec<ServiceRecord>) -> common::sim::Trace {
    let name = |i: usize| {
        if i == 0 {
            HOST.to_string()
        } else {
            format!("a{i}.example.test")
        }
    };
    let mut s = web_with(config)
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]));
    for i in 0..n {
        s = s.dns_for(
            &name(i),
            "HTTPS",
            records(1, vec![ServiceRecord::alias(name(i + 1).as_str())]),
        );
    }
    s.dns_for(&name(n), "HTTPS", records(1, last))
        .dns_for(&name(n), "AAAA", addrs(0, &["2001:db8::8"]))
        .net("2001:db8::8", Outcome::Connect(ms(1)))
        .run()
}

/// V8: "Cap the chain (≥ 1 hop); at the cap, act as if no record existed" —
/// MAX_ALIAS_DEPTH (8) hops are followed: a ServiceMode record at the 8th target is used.
/// A 9th alias is not followed (a9 is never asked about): service info is negative, and the
/// race starts at once (9 ms) on the last followed target's own addresses, RFC 9460 §3's
/// fallback for the final $QNAME (V11).
#[test]
fn v8_the_alias_chain_is_capped_at_max_alias_depth() {
    assert_eq!(MAX_ALIAS_DEPTH, 8);
    let n = MAX_ALIAS_DEPTH;
    let last = format!("a{n}.example.test");
    let mut expected = at(&[
        (0, "HTTPS example.test"),
        (0, "AAAA example.test"),
        (0, "A example.test"),
    ]);
    for i in 1..=n {
        for kind in ["HTTPS", "AAAA", "A"] {
            expected.push((ms(i as u64), format!("{kind} a{i}.example.test")));
        }
    }
    let expected = sorted(expected);

    let used = alias_chain(n, vec![svc(1, ".", &["h2"])]);
    assert_eq!(sorted_queries(&used), expected);
    assert_eq!(used.tries(), at(&[(9, "TCP [2001:db8::8]:443")]));
    assert_eq!(provenances(&used), vec![service(1, &last)]);
    assert_eq!(used.winner(), Some((ms(10), sa("[2001:db8::8]:443"))));

    let capped = alias_chain(n, vec![ServiceRecord::alias("a9.example.test")]);
    assert_eq!(sorted_queries(&capped), expected, "a9 is never asked about");
    assert_eq!(capped.tries(), at(&[(9, "TCP [2001:db8::8]:443")]));
    assert_eq!(provenances(&capped), vec![fallback(&last)]);
    assert_eq!(capped.winner(), Some((ms(10), sa("[2001:db8::8]:443"))));
}

/// V8: the cap is a setting (`Config::max_alias_depth`, at least one hop). With a cap of 2,
/// a chain of two hops is followed (a2's ServiceMode record, its answer at 3 ms, is used),
/// a chain of three stops at a2 (a3 is never asked about) and the race starts at 3 ms on
/// a2's own address (V11); a cap of 0 is refused.
#[test]
fn v8_the_alias_cap_is_a_setting() {
    let config = Config::default().max_alias_depth(2);
    let used = alias_chain_with(config, 2, vec![svc(1, ".", &["h2"])]);
    assert_eq!(used.tries(), at(&[(3, "TCP [2001:db8::8]:443")]));
    assert_eq!(provenances(&used), vec![service(1, "a2.example.test")]);

    let capped = alias_chain_with(config, 2, vec![ServiceRecord::alias("a3.example.test")]);
    assert!(capped
        .queries()
        .iter()
        .all(|(_, q)| !q.contains("a3.example.test")));
    assert_eq!(
        capped.queries().len(),
        9,
        "HTTPS, AAAA, A of the host, a1 and a2"
    );
    assert_eq!(capped.tries(), at(&[(3, "TCP [2001:db8::8]:443")]));
    assert_eq!(provenances(&capped), vec![fallback("a2.example.test")]);

    let zero = Config::default().max_alias_depth(0);
    assert_eq!(zero.validate(), Err(ConfigError::ZeroAliasDepth));
    assert!(
        Race::<String>::new(Target::host(HOST, 443), zero, common::sim::base_instant()).is_err()
    );
}

/// V8 (RFC 9460 §2.4.2: loops are errors): an alias back to a name already in the chain is
/// not followed. example.test → a → example.test and a → a both stop at a (10 ms): negative
/// service info, a's own address first (V11), then the host's. An alias from the host to
/// itself stops at once: no hop, so no fallback, and AAAA starts the race at 0 ms.
#[test]
fn v8_alias_loops_are_negative() {
    for back in [HOST, "a.example.test"] {
        let trace = web()
            .dns(
                "HTTPS",
                records(0, vec![ServiceRecord::alias("a.example.test")]),
            )
            .dns("AAAA", addrs(0, &["2001:db8::1"]))
            .dns("A", addrs(0, &[]))
            .dns_for(
                "a.example.test",
                "HTTPS",
                records(10, vec![ServiceRecord::alias(back)]),
            )
            .dns_for("a.example.test", "AAAA", addrs(0, &["2001:db8::a"]))
            .dns_for("a.example.test", "A", addrs(0, &[]))
            .net("2001:db8::1", Outcome::Connect(ms(5)))
            .run();
        assert_eq!(
            trace.tries(),
            at(&[
                (10, "TCP [2001:db8::a]:443"),
                (260, "TCP [2001:db8::1]:443")
            ]),
            "loop back to {back}"
        );
        assert_eq!(
            provenances(&trace),
            vec![fallback("a.example.test"), Provenance::Address]
        );
        assert_eq!(trace.queries().len(), 6, "loop back to {back}");
        assert_eq!(trace.winner(), Some((ms(265), sa("[2001:db8::1]:443"))));
    }
    let trace = web()
        .dns("HTTPS", records(0, vec![ServiceRecord::alias(HOST)]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.queries().len(), 3);
    assert_eq!(trace.tries(), at(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(provenances(&trace), vec![Provenance::Address]);
}

/// V9: "ServiceMode TargetName '.' stands for the record's owner name: the origin". The
/// record's endpoints are the host's own addresses (no follow-up query), dealt QUIC then TCP
/// per address, families alternating (HG1); the host's plain endpoints are the same TCP ones,
/// tried once (HG11).
#[test]
fn v9_a_dot_target_is_the_origin() {
    let trace = web()
        .dns("HTTPS", records(0, vec![svc(1, ".", &["h3"])]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &["192.0.2.1"]))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.queries().len(), 3);
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "QUIC [2001:db8::1]:443"),
            (50, "TCP [2001:db8::1]:443"),
            (300, "QUIC 192.0.2.1:443"),
            (350, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(provenances(&trace), vec![service(1, HOST); 4]);
    assert_eq!(trace.winner(), Some((ms(355), sa("192.0.2.1:443"))));
    assert_eq!(trace.cancels().len(), 3);
}

/// V9: "AliasMode '.' means 'no service': a negative service answer." At the host (20 ms):
/// the race starts on the host's address, with nothing more asked. After a hop (example.test
/// → cdn, whose HTTPS answer at 20 ms is alias "."): cdn is the final name, so its own
/// address goes first (V11), then the host's.
#[test]
fn v9_an_alias_to_the_root_is_no_service() {
    let trace = web()
        .dns("HTTPS", records(20, vec![ServiceRecord::alias(".")]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.queries().len(), 3);
    assert_eq!(trace.tries(), at(&[(20, "TCP [2001:db8::1]:443")]));
    assert_eq!(provenances(&trace), vec![Provenance::Address]);
    assert_eq!(trace.winner(), Some((ms(25), sa("[2001:db8::1]:443"))));

    let trace = web()
        .dns(
            "HTTPS",
            records(0, vec![ServiceRecord::alias("cdn.example.test")]),
        )
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .dns_for(
            "cdn.example.test",
            "HTTPS",
            records(20, vec![ServiceRecord::alias(".")]),
        )
        .dns_for("cdn.example.test", "AAAA", addrs(0, &["2001:db8::5"]))
        .dns_for("cdn.example.test", "A", addrs(0, &[]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (20, "TCP [2001:db8::5]:443"),
            (270, "TCP [2001:db8::1]:443")
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![fallback("cdn.example.test"), Provenance::Address]
    );
    assert_eq!(trace.winner(), Some((ms(275), sa("[2001:db8::1]:443"))));
}

/// V10: "Hints are positive answers for their TargetName until its A/AAAA arrive (the §4.2.2
/// example starts on hints alone)". The HTTPS answer at 10 ms starts the race on its hints,
/// long before AAAA and A (100 ms); the answers confirm the same addresses, so nothing
/// changes.
#[test]
fn v10_hints_start_the_race_before_aaaa_and_a() {
    let record = svc(1, ".", &["h3"])
        .ipv6_hints([v6("2001:db8::1")])
        .ipv4_hints([v4("192.0.2.1")]);
    let trace = web()
        .dns("HTTPS", records(10, vec![record]))
        .dns("AAAA", addrs(100, &["2001:db8::1"]))
        .dns("A", addrs(100, &["192.0.2.1"]))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (10, "QUIC [2001:db8::1]:443"),
            (60, "TCP [2001:db8::1]:443"),
            (310, "QUIC 192.0.2.1:443"),
            (360, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(provenances(&trace), vec![service(1, HOST); 4]);
    assert_eq!(trace.winner(), Some((ms(365), sa("192.0.2.1:443"))));
}

/// V10: "an ipv6hint settles the preferred family". AAAA never answers and A is in at 5 ms;
/// the HTTPS answer at 10 ms has an ipv6hint, so the race starts at 10 ms on it, IPv6 first.
/// Without the hint it waits for the Resolution Delay (armed by A at 5 ms) and starts at
/// 55 ms on the "." service's IPv4 address (the host's A answer).
#[test]
fn v10_an_ipv6_hint_settles_the_preferred_family() {
    let run = |record: ServiceRecord| {
        web()
            .dns("HTTPS", records(10, vec![record]))
            .dns("AAAA", Answer::Never)
            .dns("A", addrs(5, &["192.0.2.1"]))
            .net("192.0.2.1", Outcome::Connect(ms(5)))
            .run()
    };
    let hinted = run(svc(1, ".", &["h2"]).ipv6_hints([v6("2001:db8::1")]));
    assert_eq!(
        hinted.tries(),
        at(&[(10, "TCP [2001:db8::1]:443"), (260, "TCP 192.0.2.1:443")])
    );
    assert_eq!(hinted.winner(), Some((ms(265), sa("192.0.2.1:443"))));
    let bare = run(svc(1, ".", &["h2"]));
    assert_eq!(bare.tries(), at(&[(55, "TCP 192.0.2.1:443")]));
    assert_eq!(provenances(&bare), vec![service(1, HOST)]);
    assert_eq!(bare.winner(), Some((ms(60), sa("192.0.2.1:443"))));
}

/// V10: "Still query A/AAAA for every non-origin TargetName, even mid-race." The HTTPS
/// answer comes at 100 ms, after the race started (50 ms): AAAA and A for svc.example.test
/// go out then. The hint is tried at 300 ms; svc's AAAA (400 ms) brings a new address, which
/// joins svc's group and so comes before the host's IPv4 (V28, V45).
#[test]
fn v10_follow_up_queries_for_target_names_go_out_mid_race() {
    let record = svc(1, "svc.example.test", &["h2"]).ipv6_hints([v6("2001:db8::10")]);
    let trace = web()
        .dns("HTTPS", records(100, vec![record]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &["192.0.2.1"]))
        .dns_for("svc.example.test", "AAAA", addrs(300, &["2001:db8::11"]))
        .dns_for("svc.example.test", "A", addrs(300, &[]))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.queries(),
        at(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (100, "AAAA svc.example.test"),
            (100, "A svc.example.test"),
        ])
    );
    assert_eq!(
        trace.tries(),
        at(&[
            (50, "TCP [2001:db8::1]:443"),
            (300, "TCP [2001:db8::10]:443"),
            (550, "TCP [2001:db8::11]:443"),
            (800, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            Provenance::Address,
            service(1, "svc.example.test"),
            service(1, "svc.example.test"),
            Provenance::Address,
        ]
    );
    assert_eq!(trace.winner(), Some((ms(805), sa("192.0.2.1:443"))));
}

/// CORE_HEV3: "A TargetName equal to an already-known name reuses its answers/queries." Two
/// records naming svc.example.test cause one AAAA and one A for it; a record naming the host
/// itself uses the host's answers and asks nothing. Both services' endpoints come from the
/// one answer, each with its own port and transports.
#[test]
fn target_names_are_asked_about_once() {
    let answer = vec![
        svc(1, "svc.example.test", &["h3"]).no_default_alpn(true),
        svc(2, "svc.example.test", &["h2"]).port(8443),
        svc(3, HOST, &["h2"]).port(9443),
    ];
    let trace = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(20, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .dns_for("svc.example.test", "AAAA", addrs(10, &["2001:db8::10"]))
        .dns_for("svc.example.test", "A", addrs(10, &[]))
        .net("[2001:db8::1]:443", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.queries(),
        at(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (0, "AAAA svc.example.test"),
            (0, "A svc.example.test"),
        ])
    );
    assert_eq!(
        trace.tries(),
        at(&[
            (10, "QUIC [2001:db8::10]:443"),
            (260, "TCP [2001:db8::10]:8443"),
            (510, "TCP [2001:db8::1]:9443"),
            (760, "TCP [2001:db8::1]:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            service(1, "svc.example.test"),
            service(2, "svc.example.test"),
            service(3, HOST),
            Provenance::Address,
        ]
    );
    assert_eq!(trace.winner(), Some((ms(765), sa("[2001:db8::1]:443"))));
}

/// V11: "After any AliasMode hop, append a last-resort endpoint: the final alias name, the
/// authority port, no SvcParams." After cdn's service (port 8443) comes cdn's own address on
/// the authority's port 443 over the fallback transport (TCP), then the host's own address.
#[test]
fn v11_the_alias_fallback_comes_after_the_services() {
    let trace = web()
        .dns(
            "HTTPS",
            records(0, vec![ServiceRecord::alias("cdn.example.test")]),
        )
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .dns_for(
            "cdn.example.test",
            "HTTPS",
            records(0, vec![svc(1, ".", &["h2"]).port(8443)]),
        )
        .dns_for("cdn.example.test", "AAAA", addrs(0, &["2001:db8::5"]))
        .dns_for("cdn.example.test", "A", addrs(0, &[]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::5]:8443"),
            (250, "TCP [2001:db8::5]:443"),
            (500, "TCP [2001:db8::1]:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            service(1, "cdn.example.test"),
            fallback("cdn.example.test"),
            Provenance::Address
        ]
    );
    let alpn: Vec<String> = trace.endpoints().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        alpn,
        vec![
            "TCP [2001:db8::5]:8443 h2,http/1.1",
            "TCP [2001:db8::5]:443 h2,http/1.1",
            "TCP [2001:db8::1]:443 h2,http/1.1",
        ]
    );
    assert_eq!(trace.winner(), Some((ms(505), sa("[2001:db8::1]:443"))));

    // cdn's HTTPS query fails (V36, unprotected DNS: negative): the fallback still applies.
    let trace = web()
        .dns(
            "HTTPS",
            records(0, vec![ServiceRecord::alias("cdn.example.test")]),
        )
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .dns_for("cdn.example.test", "HTTPS", Answer::Fail(ms(20)))
        .dns_for("cdn.example.test", "AAAA", addrs(0, &["2001:db8::5"]))
        .dns_for("cdn.example.test", "A", addrs(0, &[]))
        .net("2001:db8::1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (20, "TCP [2001:db8::5]:443"),
            (270, "TCP [2001:db8::1]:443")
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![fallback("cdn.example.test"), Provenance::Address]
    );
}

// ---- RFC 9460 §8 and HEv3 §6.2: which records are usable (V12, V38–V40, V42) -------------------

/// V12: "Drop a ServiceMode record with an unknown mandatory key ... or inconsistent params
/// (no-default-alpn without alpn). None left = negative service answer." Also port 0, the
/// ech key while ECH is off, and `mandatory` listing itself (key 0). Each record's hint is
/// never tried: the HTTPS answer (10 ms) settles service info negatively and the host's
/// address starts at once.
#[test]
fn v12_unusable_records_are_dropped() {
    let hint = [v6("2001:db8::99")];
    let cases = [
        ("unknown mandatory key", svc(1, ".", &["h2"]).mandatory([7])),
        (
            "private-use mandatory key",
            svc(1, ".", &["h2"]).mandatory([65280]),
        ),
        (
            "mandatory lists itself",
            svc(1, ".", &["h2"]).mandatory([0]),
        ),
        ("ech while ECH is off", svc(1, ".", &["h2"]).mandatory([5])),
        (
            "no-default-alpn without alpn",
            ServiceRecord::new(1, ".").no_default_alpn(true),
        ),
        ("port 0", svc(1, ".", &["h2"]).port(0)),
    ];
    for (what, record) in cases {
        let trace = web()
            .dns("HTTPS", records(10, vec![record.ipv6_hints(hint)]))
            .dns("AAAA", addrs(0, &["2001:db8::1"]))
            .dns("A", addrs(0, &[]))
            .net("2001:db8::1", Outcome::Connect(ms(5)))
            .run();
        assert_eq!(
            trace.tries(),
            at(&[(10, "TCP [2001:db8::1]:443")]),
            "{what}"
        );
        assert_eq!(provenances(&trace), vec![Provenance::Address], "{what}");
        assert_eq!(
            trace.winner(),
            Some((ms(15), sa("[2001:db8::1]:443"))),
            "{what}"
        );
    }
}

/// V12: known mandatory keys (alpn, port, ipv6hint) keep a record usable, and an unusable
/// record does not hide a usable one next to it. AAAA never answers, so the priority-2 "."
/// record's IPv6 hint (port 8443) starts the race when HTTPS arrives (10 ms), then the
/// host's A answer as that service's IPv4 address (8443), then the plain one (443).
#[test]
fn v12_known_mandatory_keys_and_a_usable_neighbour() {
    let answer = vec![
        svc(1, ".", &["h2"])
            .mandatory([65280])
            .ipv6_hints([v6("2001:db8::98")]),
        svc(2, ".", &["h2"])
            .mandatory([1, 3, 6])
            .port(8443)
            .ipv6_hints([v6("2001:db8::99")]),
    ];
    let trace = web()
        .dns("HTTPS", records(10, answer))
        .dns("AAAA", Answer::Never)
        .dns("A", addrs(0, &["192.0.2.1"]))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (10, "TCP [2001:db8::99]:8443"),
            (260, "TCP 192.0.2.1:8443"),
            (510, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![service(2, HOST), service(2, HOST), Provenance::Address]
    );
    assert_eq!(trace.winner(), Some((ms(515), sa("192.0.2.1:443"))));
}

/// V38: "SVCB ALPN set = the 'alpn' list plus the scheme default ('http/1.1' for HTTPS)
/// unless no-default-alpn. A record without alpn means TLS/TCP only." alpn=h3 gives QUIC and
/// TCP; alpn=h3 with no-default-alpn QUIC only; no alpn TCP only. Every attempt fails after
/// 5 ms, so the next starts 10 ms after the last (R28); the race fails when the TargetName's
/// answer (the hinted address again) comes at 100 ms.
#[test]
fn v38_the_alpn_set_includes_the_default_unless_no_default_alpn() {
    let cases = [
        (
            "alpn=h3",
            svc(1, "svc.example.test", &["h3"]),
            vec!["QUIC", "TCP"],
        ),
        (
            "alpn=h3 no-default-alpn",
            svc(1, "svc.example.test", &["h3"]).no_default_alpn(true),
            vec!["QUIC"],
        ),
        (
            "no alpn",
            ServiceRecord::new(1, "svc.example.test"),
            vec!["TCP"],
        ),
    ];
    for (what, record, transports) in cases {
        let trace = hinted(web(), record);
        let expected: Vec<(Duration, String)> = transports
            .iter()
            .enumerate()
            .map(|(i, t)| (ms(10 * i as u64), format!("{t} [2001:db8::1]:443")))
            .collect();
        assert_eq!(trace.tries(), expected, "{what}");
        assert_eq!(
            trace.failure(),
            Some((ms(100), FailureReason::AllAttemptsFailed)),
            "{what}"
        );
    }
}

/// Runs `record` with ipv6hint 2001:db8::1 added as the only HTTPS answer (0 ms), the host
/// without addresses, the record's TargetName answering 2001:db8::1 at 100 ms, and every
/// attempt failing after 5 ms.
fn hinted(s: Scenario, record: ServiceRecord) -> common::sim::Trace {
    let target = record.target().to_string();
    s.dns(
        "HTTPS",
        records(0, vec![record.ipv6_hints([v6("2001:db8::1")])]),
    )
    .dns("AAAA", addrs(0, &[]))
    .dns("A", addrs(0, &[]))
    .dns_for(&target, "AAAA", addrs(100, &["2001:db8::1"]))
    .dns_for(&target, "A", addrs(100, &[]))
    .default_outcome(Outcome::Fail(ms(5)))
    .run()
}

/// V39: "each implied transport is one endpoint whose ClientHello offers all the client's
/// protocols for it, not just the intersection: set [http/1.1, h3], client h1/h2/h3 → TCP
/// [http/1.1, h2], QUIC [h3]." Here the client speaks h3 and h3-29 over QUIC, h2 and
/// http/1.1 over TCP; Endpoint::alpn() holds every id of its transport, in the client's
/// order.
#[test]
fn v39_every_caller_id_of_the_transport_is_offered() {
    let protocols = Protocols::new()
        .quic("h3")
        .quic("h3-29")
        .tcp("h2")
        .tcp("http/1.1");
    let record = svc(1, "svc.example.test", &["http/1.1", "h3"]);
    let trace = hinted(web_on(Config::default(), 443, protocols), record);
    let shown: Vec<String> = trace.endpoints().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        shown,
        vec![
            "QUIC [2001:db8::1]:443 h3,h3-29",
            "TCP [2001:db8::1]:443 h2,http/1.1"
        ]
    );
    let ids: Vec<Vec<String>> = trace
        .endpoints()
        .iter()
        .map(|e| e.alpn().iter().map(|a| a.to_string()).collect())
        .collect();
    assert_eq!(ids, vec![vec!["h3", "h3-29"], vec!["h2", "http/1.1"]]);
    assert_eq!(
        trace.tries(),
        at(&[(0, "QUIC [2001:db8::1]:443"), (10, "TCP [2001:db8::1]:443")])
    );
    assert_eq!(
        trace.failure(),
        Some((ms(100), FailureReason::AllAttemptsFailed))
    );
}

/// V40: "No attempt to a service whose set has no supported protocol (alpn='h3'
/// no-default-alpn, TCP-only client: skip its hints and TargetName addresses)." The
/// priority-1 record is skipped: its hint is never tried and its TargetName never asked
/// about; the priority-2 record's hint goes first. A QUIC-only client skips an h2 record,
/// and its plain endpoints use QUIC (the fallback transport when TCP is not spoken).
#[test]
fn v40_a_tcp_only_caller_skips_an_h3_only_record() {
    let answer = vec![
        svc(1, "svc1.example.test", &["h3"])
            .no_default_alpn(true)
            .ipv6_hints([v6("2001:db8::10")]),
        svc(2, "svc2.example.test", &["h2"]).ipv6_hints([v6("2001:db8::20")]),
    ];
    let tcp_only = Protocols::new().tcp("h2").tcp("http/1.1");
    let trace = web_on(Config::default(), 443, tcp_only)
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .dns_for("svc1.example.test", "AAAA", addrs(0, &["2001:db8::11"]))
        .dns_for("svc2.example.test", "AAAA", addrs(100, &["2001:db8::20"]))
        .dns_for("svc2.example.test", "A", addrs(100, &[]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(
        trace.queries(),
        at(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (0, "AAAA svc2.example.test"),
            (0, "A svc2.example.test"),
        ]),
        "svc1 is never asked about"
    );
    assert_eq!(trace.tries(), at(&[(0, "TCP [2001:db8::20]:443")]));
    assert_eq!(provenances(&trace), vec![service(2, "svc2.example.test")]);
    assert_eq!(
        trace.failure(),
        Some((ms(100), FailureReason::AllAttemptsFailed))
    );

    let quic_only = Protocols::new().quic("h3");
    let trace = web_on(Config::default(), 443, quic_only)
        .dns(
            "HTTPS",
            records(
                10,
                vec![svc(1, ".", &["h2"]).ipv6_hints([v6("2001:db8::20")])],
            ),
        )
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(trace.tries(), at(&[(10, "QUIC [2001:db8::1]:443")]));
    assert_eq!(provenances(&trace), vec![Provenance::Address]);
    assert_eq!(
        trace.endpoints()[0].to_string(),
        "QUIC [2001:db8::1]:443 h3"
    );
}

/// V42: "Port = the 'port' key, else the authority's." Two records with the same hint, one
/// with port=8443, one without: two endpoints (the port makes them different, HG11), the
/// first on 8443, the second on the authority's 443.
#[test]
fn v42_the_port_key_else_the_authority_port() {
    let hint = [v6("2001:db8::1")];
    let answer = vec![
        svc(1, ".", &["h2"]).port(8443).ipv6_hints(hint),
        svc(2, ".", &["h2"]).ipv6_hints(hint),
    ];
    let trace = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", Answer::Never)
        .dns("A", addrs(0, &[]))
        .net("[2001:db8::1]:443", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::1]:8443"),
            (250, "TCP [2001:db8::1]:443")
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![service(1, HOST), service(2, HOST)]
    );
    assert_eq!(trace.winner(), Some((ms(255), sa("[2001:db8::1]:443"))));
}

// ---- HG11 and the caps -------------------------------------------------------------------

/// HG11: "The same (IP, port, transport, ECH) from two services, a hint and an A answer ...:
/// attempt once, at the best position." 2001:db8::1 is a hint of both services and in the
/// host's AAAA answer: it is tried once, as the priority-1 service's. Identical records and
/// repeated addresses in one answer also give one attempt.
#[test]
fn hg11_duplicates_are_tried_once_at_the_best_place() {
    let answer = vec![
        svc(2, "svc2.example.test", &["h2"]).ipv6_hints([v6("2001:db8::1"), v6("2001:db8::2")]),
        svc(1, "svc1.example.test", &["h2"]).ipv6_hints([v6("2001:db8::1")]),
    ];
    let mut s = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(0, &["2001:db8::1", "2001:db8::3"]))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)));
    for name in ["svc1.example.test", "svc2.example.test"] {
        s = s
            .dns_for(name, "AAAA", addrs(1000, &[]))
            .dns_for(name, "A", addrs(1000, &[]));
    }
    let trace = s.run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::1]:443"),
            (10, "TCP [2001:db8::2]:443"),
            (20, "TCP [2001:db8::3]:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            service(1, "svc1.example.test"),
            service(2, "svc2.example.test"),
            Provenance::Address
        ]
    );
    assert_eq!(
        trace.failure(),
        Some((ms(1000), FailureReason::AllAttemptsFailed)),
        "not before the TargetNames' answers (G3)"
    );

    let twin = svc(1, ".", &["h2"]).ipv6_hints([v6("2001:db8::1")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![twin.clone(), twin]))
        .dns("AAAA", addrs(0, &["2001:db8::1", "2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(trace.tries(), at(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(
        trace.failure(),
        Some((ms(5), FailureReason::AllAttemptsFailed))
    );
}

/// HG11 with HG1's turns ("a turn = one family's next address over each transport",
/// CORE_HEV3): 2001:db8::1 over TCP belongs to the priority-1 service, so in the priority-2
/// service (QUIC and TCP, hints ::1, ::2 and 192.0.2.1) its TCP twin is a duplicate, tried
/// once at the best place. The duplicate leaves a gap in that group's first turn, it does not
/// pull 2001:db8::2 forward: QUIC ::1, then IPv4's turn (its TCP 50 ms after its QUIC, V29's
/// TCP after QUIC), then ::2 (V25: families alternate).
#[test]
fn hg11_a_duplicate_leaves_a_gap_in_its_turn() {
    let answer = vec![
        svc(1, "svc1.example.test", &["h2"]).ipv6_hints([v6("2001:db8::1")]),
        svc(2, "svc2.example.test", &["h3"])
            .ipv6_hints([v6("2001:db8::1"), v6("2001:db8::2")])
            .ipv4_hints([v4("192.0.2.1")]),
    ];
    let trace = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .quic("2001:db8::2", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::1]:443"),
            (250, "QUIC [2001:db8::1]:443"),
            (500, "QUIC 192.0.2.1:443"),
            (550, "TCP 192.0.2.1:443"),
            (800, "QUIC [2001:db8::2]:443"),
        ])
    );
    assert_eq!(trace.winner(), Some((ms(805), sa("[2001:db8::2]:443"))));
}

/// CORE_HEV3: "Input::Resolved{addrs} for address queries (wrong-family addresses dropped)
/// ... mismatched input = empty answer." An AAAA answer carrying an IPv4 address and an A
/// answer carrying an IPv6 one add nothing; an AAAA query answered with service records is
/// an empty answer. Only the well-formed addresses are tried.
#[test]
fn answers_of_the_wrong_family_or_type_add_nothing() {
    let trace = web()
        .dns("HTTPS", records(0, vec![]))
        .dns("AAAA", addrs(0, &["192.0.2.9", "2001:db8::1"]))
        .dns("A", addrs(0, &["2001:db8::9", "192.0.2.1"]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[(0, "TCP [2001:db8::1]:443"), (10, "TCP 192.0.2.1:443")])
    );
    assert_eq!(
        trace.failure(),
        Some((ms(15), FailureReason::AllAttemptsFailed))
    );

    let record = svc(1, ".", &["h2"]).ipv6_hints([v6("2001:db8::99")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![]))
        .dns("AAAA", records(0, vec![record]))
        .dns("A", addrs(0, &["192.0.2.1"]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(trace.tries(), at(&[(0, "TCP 192.0.2.1:443")]));
    assert_eq!(
        trace.failure(),
        Some((ms(5), FailureReason::AllAttemptsFailed))
    );
}

/// MAX_TARGET_NAMES: "at most 16 extra names; past that, hints only". Twenty records, each
/// naming its own TargetName with one hint: AAAA and A go out for the 16 best only; all 20
/// hints are tried, in priority order, every 10 ms as each fails; the race fails when the
/// last follow-up answers (500 ms), not before (G3).
#[test]
fn max_target_names_caps_the_follow_up_queries() {
    assert_eq!(MAX_TARGET_NAMES, 16);
    let n = 20;
    let name = |i: usize| format!("t{i}.example.test");
    let answer: Vec<ServiceRecord> = (0..n)
        .map(|i| {
            let hint = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16 + 1);
            svc(i as u16 + 1, &name(i), &["h2"]).ipv6_hints([hint])
        })
        .collect();
    let mut s = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)));
    for i in 0..n {
        s = s
            .dns_for(&name(i), "AAAA", addrs(500, &[]))
            .dns_for(&name(i), "A", addrs(500, &[]));
    }
    let trace = s.run();
    let mut expected = at(&[
        (0, "HTTPS example.test"),
        (0, "AAAA example.test"),
        (0, "A example.test"),
    ]);
    for i in 0..MAX_TARGET_NAMES {
        expected.push((ms(0), format!("AAAA {}", name(i))));
        expected.push((ms(0), format!("A {}", name(i))));
    }
    assert_eq!(trace.queries(), expected);
    let tries: Vec<(Duration, String)> = (0..n)
        .map(|i| {
            (
                ms(10 * i as u64),
                format!("TCP [2001:db8::{:x}]:443", i + 1),
            )
        })
        .collect();
    assert_eq!(trace.tries(), tries);
    let expected: Vec<Provenance> = (0..n).map(|i| service(i as u16 + 1, &name(i))).collect();
    assert_eq!(provenances(&trace), expected);
    assert_eq!(
        trace.failure(),
        Some((ms(500), FailureReason::AllAttemptsFailed))
    );
}

/// Bounds (STYLE §7): one HTTPS answer of 10,000 ServiceMode records, each with its own
/// TargetName and hint, priorities 10000 down to 1. The race reads the first
/// MAX_ANSWER_RECORDS (1024) of them, keeps the MAX_SERVICE_RECORDS (64) best priorities of
/// those (records 1023 down to 960), asks about the TargetNames of the MAX_TARGET_NAMES (16)
/// best, and tries exactly the 64 hints, in priority order, 10 ms apart as each fails.
#[test]
fn ten_thousand_service_records_are_capped() {
    assert_eq!((MAX_ANSWER_RECORDS, MAX_SERVICE_RECORDS), (1024, 64));
    let n = 10_000usize;
    let name = |i: usize| format!("t{i}.example.test");
    let hint = |i: usize| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16);
    let answer: Vec<ServiceRecord> = (0..n)
        .map(|i| svc((n - i) as u16, &name(i), &["h2"]).ipv6_hints([hint(i)]))
        .collect();
    let kept: Vec<usize> = (0..MAX_ANSWER_RECORDS)
        .rev()
        .take(MAX_SERVICE_RECORDS)
        .collect();
    let mut s = web()
        .dns("HTTPS", records(0, answer))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)));
    for &i in &kept[..MAX_TARGET_NAMES] {
        s = s
            .dns_for(&name(i), "AAAA", addrs(1000, &[]))
            .dns_for(&name(i), "A", addrs(1000, &[]));
    }
    let trace = s.run();
    assert_eq!(trace.race.queries()[0].records().len(), MAX_ANSWER_RECORDS);
    let mut expected = at(&[
        (0, "HTTPS example.test"),
        (0, "AAAA example.test"),
        (0, "A example.test"),
    ]);
    for &i in &kept[..MAX_TARGET_NAMES] {
        expected.push((ms(0), format!("AAAA {}", name(i))));
        expected.push((ms(0), format!("A {}", name(i))));
    }
    assert_eq!(trace.queries(), expected);
    let tries: Vec<(Duration, String)> = kept
        .iter()
        .enumerate()
        .map(|(k, &i)| (ms(10 * k as u64), format!("TCP [{}]:443", hint(i))))
        .collect();
    assert_eq!(trace.tries(), tries);
    assert_eq!(
        trace.failure(),
        Some((ms(1000), FailureReason::AllAttemptsFailed))
    );
}

/// Bounds: 10,000 addresses in one AAAA answer are all candidates (under MAX_ANSWER_ADDRS),
/// and Config::max_endpoints(100) caps the race at exactly 100 attempts, 10 ms apart, in
/// the answer's order; 10,000 copies of one address are one attempt (HG11); 10,000 hints in
/// one record are cut to MAX_HINTS (64); an answer over MAX_ANSWER_ADDRS is cut to it.
#[test]
fn ten_thousand_addresses_in_one_answer_are_capped() {
    let n = 10_000usize;
    let many: Vec<IpAddr> = (0..n)
        .map(|i| {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                0,
                0,
                0,
                (i >> 16) as u16,
                i as u16,
            ))
        })
        .collect();
    let trace = web_with(Config::default().max_endpoints(Some(100)))
        .dns("HTTPS", records(0, vec![]))
        .dns("AAAA", Answer::Addrs(ms(0), many.clone()))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(trace.race.queries()[1].addrs().len(), n);
    let tries: Vec<(Duration, String)> = (0..100)
        .map(|k| (ms(10 * k as u64), format!("TCP [{}]:443", many[k])))
        .collect();
    assert_eq!(trace.tries(), tries);
    assert_eq!(
        trace.failure(),
        Some((ms(995), FailureReason::AllAttemptsFailed))
    );

    let copies = vec![common::sim::ip("2001:db8::1"); n];
    let trace = web()
        .dns("HTTPS", records(0, vec![]))
        .dns("AAAA", Answer::Addrs(ms(0), copies))
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    assert_eq!(trace.tries(), at(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(
        trace.failure(),
        Some((ms(5), FailureReason::AllAttemptsFailed))
    );

    let hints: Vec<Ipv6Addr> = many
        .iter()
        .map(|ip| match ip {
            IpAddr::V6(v6) => *v6,
            IpAddr::V4(_) => unreachable!("all IPv6"),
        })
        .collect();
    let trace = web()
        .dns(
            "HTTPS",
            records(0, vec![svc(1, ".", &["h2"]).ipv6_hints(hints)]),
        )
        .dns("AAAA", Answer::Never)
        .dns("A", addrs(0, &[]))
        .default_outcome(Outcome::Fail(ms(5)))
        .run();
    let tries: Vec<(Duration, String)> = (0..MAX_HINTS)
        .map(|k| (ms(10 * k as u64), format!("TCP [{}]:443", many[k])))
        .collect();
    assert_eq!(trace.tries(), tries);
    assert!(trace.stalled, "AAAA is outstanding, so no failure (G3)");

    // 198.18.0.0/15 (RFC 2544, benchmarking): 131,072 addresses, more than the cap, and
    // none of them anyone's network (the core sends nothing anyway).
    let over: Vec<IpAddr> = (0..MAX_ANSWER_ADDRS + 10)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i as u32)))
        .collect();
    let trace = web()
        .dns("HTTPS", records(0, vec![]))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", Answer::Addrs(ms(0), over))
        .net("198.18.0.0", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.race.queries()[2].addrs().len(), MAX_ANSWER_ADDRS);
    assert_eq!(trace.tries(), at(&[(0, "TCP 198.18.0.0:443")]));
    assert_eq!(trace.winner(), Some((ms(5), sa("198.18.0.0:443"))));
}

// ---- §4.4: optimistic DNS (V13, HG18) ------------------------------------------------------

/// A stale answer first (from the driver's cache, at `stale_ms`), then the fresh one.
fn stale(stale_ms: u64, old: &[&str], fresh: Answer) -> Answer {
    Answer::Stale(Box::new(addrs(stale_ms, old)), Box::new(fresh))
}

/// A TCP-only host (plain RFC 8305 race) whose answers are given.
fn plain(aaaa: Answer, a: Answer) -> Scenario {
    Scenario::host(Config::default())
        .dns("AAAA", aaaa)
        .dns("A", a)
}

/// V13, HG18: "the core races on [an expired answer] at once, and the fresh answer for the
/// same query arrives later as a late answer: ... nothing changes if it is equal." The cache
/// answers AAAA and A at once (expired); the race starts at 0 ms on them; the fresh answers
/// (200 ms) are the same, and the timeline is exactly the one fresh answers at 0 ms give.
#[test]
fn v13_hg18_a_stale_answer_starts_the_race_at_once() {
    let run = |aaaa: Answer, a: Answer| {
        plain(aaaa, a)
            .net("192.0.2.1", Outcome::Connect(ms(300)))
            .run()
    };
    let fresh = run(addrs(0, &["2001:db8::1"]), addrs(0, &["192.0.2.1"]));
    let cached = run(
        stale(0, &["2001:db8::1"], addrs(200, &["2001:db8::1"])),
        stale(0, &["192.0.2.1"], addrs(200, &["192.0.2.1"])),
    );
    assert_eq!(
        cached.tries(),
        at(&[(0, "TCP [2001:db8::1]:443"), (250, "TCP 192.0.2.1:443")])
    );
    assert_eq!(cached.tries(), fresh.tries());
    assert_eq!(cached.winner(), fresh.winner());
    let q = &cached.race.queries()[0];
    assert_eq!(q.stale(), Some(cached.t0));
    assert_eq!(q.answered(), Some(cached.t0 + ms(200)));
    let report = Report::new(&cached.race, None).to_string();
    assert!(
        report.contains("0.0 ms  AAAA example.test answered from an expired cache entry"),
        "{report}"
    );
}

/// HG18, §7 (V44, V45): "a fresh answer that differs is merged as a late answer". The
/// stale AAAA held ::1 and ::2; the fresh one (100 ms) holds ::3 and ::2: ::1's attempt
/// (started at 0 ms) keeps running (V44), ::3 is sorted in (V45; first in the fresh answer's
/// order, rule 10) and ::2 after it. ::1 wins at 600 ms.
#[test]
fn hg18_a_fresh_answer_that_differs_is_merged_as_a_late_answer() {
    let trace = plain(
        stale(
            0,
            &["2001:db8::1", "2001:db8::2"],
            addrs(100, &["2001:db8::3", "2001:db8::2"]),
        ),
        stale(0, &[], addrs(100, &[])),
    )
    .net("2001:db8::1", Outcome::Connect(ms(600)))
    .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::1]:443"),
            (250, "TCP [2001:db8::3]:443"),
            (500, "TCP [2001:db8::2]:443"),
        ])
    );
    assert_eq!(trace.winner(), Some((ms(600), sa("[2001:db8::1]:443"))));

    // An address the fresh answer no longer holds leaves the list if untried (V44).
    let gone = plain(
        stale(
            0,
            &["2001:db8::1", "2001:db8::2"],
            addrs(100, &["2001:db8::1"]),
        ),
        stale(0, &[], addrs(100, &[])),
    )
    .run();
    assert_eq!(gone.tries(), at(&[(0, "TCP [2001:db8::1]:443")]));
    assert!(gone.stalled, "::1 hangs; ::2 is gone");
}

/// G3 with HG18: the query stays open after its stale answer, so the race does not fail
/// while the fresh one is outstanding: the stale address fails at 10 ms, and the fresh answer
/// (300 ms) brings the address that connects. A fresh query that fails leaves the stale
/// answer in use (RFC 8767 serve-stale): its address is still tried.
#[test]
fn g3_hg18_no_failure_while_the_fresh_query_runs_and_a_failed_one_keeps_the_stale() {
    let trace = plain(
        stale(0, &["2001:db8::1"], addrs(300, &["2001:db8::7"])),
        stale(0, &[], addrs(300, &[])),
    )
    .net("2001:db8::1", Outcome::Fail(ms(10)))
    .net("2001:db8::7", Outcome::Connect(ms(5)))
    .run();
    assert_eq!(
        trace.tries(),
        at(&[(0, "TCP [2001:db8::1]:443"), (300, "TCP [2001:db8::7]:443")])
    );
    assert_eq!(trace.winner(), Some((ms(305), sa("[2001:db8::7]:443"))));

    let kept = plain(
        stale(0, &["2001:db8::1", "2001:db8::2"], Answer::Fail(ms(100))),
        stale(0, &[], Answer::Fail(ms(100))),
    )
    .net("2001:db8::2", Outcome::Connect(ms(5)))
    .run();
    assert_eq!(
        kept.tries(),
        at(&[(0, "TCP [2001:db8::1]:443"), (250, "TCP [2001:db8::2]:443")])
    );
    assert_eq!(kept.winner(), Some((ms(255), sa("[2001:db8::2]:443"))));
}

/// HG18 for HTTPS records: a stale "." record offering h2 only starts the race at once on
/// TCP; the fresh answer (100 ms) adds h3, and the QUIC endpoint is sorted in (V45) and
/// started next. An equal fresh answer changes nothing.
#[test]
fn hg18_a_fresh_https_answer_that_differs_replaces_the_services() {
    let old = vec![svc(1, ".", &["h2"])];
    let new = vec![svc(1, ".", &["h3", "h2"])];
    let run = |fresh: Vec<ServiceRecord>| {
        web()
            .dns(
                "HTTPS",
                Answer::Stale(
                    Box::new(records(0, old.clone())),
                    Box::new(records(100, fresh)),
                ),
            )
            .dns(
                "AAAA",
                stale(0, &["2001:db8::1"], addrs(100, &["2001:db8::1"])),
            )
            .dns("A", stale(0, &[], addrs(100, &[])))
            .run()
    };
    let merged = run(new);
    assert_eq!(
        merged.tries(),
        at(&[
            (0, "TCP [2001:db8::1]:443"),
            (250, "QUIC [2001:db8::1]:443")
        ])
    );
    let same = run(old.clone());
    assert_eq!(same.tries(), at(&[(0, "TCP [2001:db8::1]:443")]));
}
