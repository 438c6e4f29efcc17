//! HEv3 §5: sorting endpoints (V15–V25, HG1, HG3, HG4, HG11) and the endpoint cap.
//!
//! Ids are defined in eyeballs-core/docs/requirements.md. Most tests make every attempt fail at once, so the
//! whole list is walked 10 ms apart (R28's floor) and the order shows with its exact times.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use common::sim::{
    base_instant, ip, ms, path_over, sa, tried, Answer, Outcome, Scenario, Trace, HOST, SOURCE_V6,
};
use eyeballs_core::{
    AltService, Config, FailureReason, History, Name, Path, Protocols, Provenance, ServiceRecord,
    Target, Transport, LOSSES_TO_FAIL, QUIC_REPROBE_INTERVAL, TRANSPORT_FAILURE_QUORUM,
};
use proptest::prelude::*;

fn v6(s: &str) -> Ipv6Addr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad IPv6 address {s}: {e}"))
}

/// A TCP-only caller speaking `h2`: one endpoint per address, so the order reads like RFC 8305.
fn h2() -> Protocols {
    Protocols::new().tcp("h2")
}

/// A ServiceMode record offering `h2` (and the default `http/1.1`), with IPv6 hints.
fn h2_record(priority: u16, target: &str, hints: &[&str]) -> ServiceRecord {
    ServiceRecord::new(priority, target)
        .alpn(["h2"])
        .ipv6_hints(hints.iter().map(|h| v6(h)))
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Answers the follow-up AAAA and A queries of a TargetName at once.
fn answer(s: Scenario, name: &str, aaaa: &[&str], a: &[&str]) -> Scenario {
    let addrs = |list: &[&str]| list.iter().map(|x| ip(x)).collect();
    s.dns_for(name, "AAAA", common::sim::Answer::Addrs(ms(0), addrs(aaaa)))
        .dns_for(name, "A", common::sim::Answer::Addrs(ms(0), addrs(a)))
}

/// Fails every attempt at once and returns the tries, checking the race walked the whole
/// list and failed at the last start.
fn walk(s: Scenario) -> Vec<(Duration, String)> {
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run();
    let tries = trace.tries();
    let last = tries.last().map(|(t, _)| *t).expect("something was tried");
    assert_eq!(
        trace.failure(),
        Some((last, FailureReason::AllAttemptsFailed)),
        "the race ends when the last endpoint fails: {tries:?}"
    );
    tries
}

/// V15, V19, V21: "group by service ..., ordered by SvcPriority ascending"; "A/AAAA with no
/// service (no '.' record for the origin) form a final group". The priority-1 record is
/// second in the answer but goes first; each service's group holds its TargetName's AAAA
/// and A answers (the hints are replaced, V43); the host's own addresses come last.
/// The addresses arrive at 0 ms, the HTTPS answer at 5 ms: nothing starts before it (V5).
#[test]
fn v15_v19_v21_services_by_priority_then_the_plain_addresses() {
    let s = Scenario::https_host(Config::default(), h2())
        .https(
            5,
            vec![
                h2_record(2, "b.example.test", &["2001:db8:b::1"]),
                h2_record(1, "a.example.test", &["2001:db8:a::1"]),
            ],
        )
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"]);
    let s = answer(s, "a.example.test", &["2001:db8:a::1"], &[]);
    let s = answer(s, "b.example.test", &["2001:db8:b::1"], &["192.0.2.11"]);
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "TCP [2001:db8:a::1]:443"),
            tried(15, "TCP [2001:db8:b::1]:443"),
            tried(25, "TCP 192.0.2.11:443"),
            tried(35, "TCP [2001:db8::1]:443"),
            tried(45, "TCP 192.0.2.1:443"),
        ]
    );
    assert_eq!(
        trace.failure(),
        Some((ms(45), FailureReason::AllAttemptsFailed))
    );
    let provenance: Vec<Provenance> = trace
        .endpoints()
        .iter()
        .map(|e| e.provenance().clone())
        .collect();
    let service = |priority, target: &str| Provenance::Service {
        priority,
        target: Name::new(target),
    };
    assert_eq!(
        provenance,
        vec![
            service(1, "a.example.test"),
            service(2, "b.example.test"),
            service(2, "b.example.test"),
            Provenance::Address,
            Provenance::Address,
        ]
    );
}

/// V19, HG11: "The '.' record's priority covers the origin's own A/AAAA." With a '.' record,
/// the host's addresses are that service's endpoints (priority 1, before the priority-2
/// service), and the plain-address group, holding the same endpoints, adds nothing.
#[test]
fn v19_a_dot_record_covers_the_origin_addresses() {
    let s = Scenario::https_host(Config::default(), h2())
        .https(
            5,
            vec![
                h2_record(2, "b.example.test", &["2001:db8:b::1"]),
                h2_record(1, ".", &[]),
            ],
        )
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"]);
    let s = answer(s, "b.example.test", &["2001:db8:b::1"], &[]);
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "TCP [2001:db8::1]:443"),
            tried(15, "TCP 192.0.2.1:443"),
            tried(25, "TCP [2001:db8:b::1]:443"),
        ]
    );
    let priorities: Vec<Option<u16>> = trace.endpoints().iter().map(|e| e.priority()).collect();
    assert_eq!(priorities, vec![Some(1), Some(1), Some(2)]);
    let origin = Provenance::Service {
        priority: 1,
        target: Name::new(HOST),
    };
    assert_eq!(trace.endpoints()[0].provenance(), &origin);
}

/// SplitMix64 as HG4 specifies it, written out here as the test's own oracle.
fn splitmix(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Three priority-1 records (TargetNames s0, s1, s2, one hint each), and, when `with_last`,
/// a priority-2 record listed first in the answer. Returns the index of each record tried,
/// in order (3 for the priority-2 one).
fn shuffled(seed: u64, with_last: bool) -> Vec<usize> {
    let mut records = Vec::new();
    if with_last {
        records.push(h2_record(2, "s3.example.test", &["2001:db8:13::1"]));
    }
    for i in 0..3 {
        let target = format!("s{i}.example.test");
        let hint = format!("2001:db8:1{i}::1");
        records.push(h2_record(1, &target, &[&hint]));
    }
    let mut s = Scenario::https_host(Config::default().seed(seed), h2())
        .https(5, records)
        .aaaa(0, &[])
        .a(0, &[]);
    for i in 0..4 {
        let hint = format!("2001:db8:1{i}::1");
        s = answer(s, &format!("s{i}.example.test"), &[&hint], &[]);
    }
    walk(s)
        .iter()
        .map(|(_, what)| {
            let i = (0..4)
                .find(|i| *what == format!("TCP [2001:db8:1{i}::1]:443"))
                .unwrap_or_else(|| panic!("unexpected try {what}"));
            i as usize
        })
        .collect()
}

/// V20, HG4: "Shuffle services of equal priority at random", with the randomness a seed in
/// the config: a fixed seed gives a fixed order, the one SplitMix64 draws (one draw per
/// record, in answer order; smaller draw first), and the same seed twice gives it twice.
#[test]
fn v20_hg4_equal_priorities_follow_the_seed() {
    for seed in [0, 1, 2, 7, 42, u64::MAX] {
        let mut next = splitmix(seed);
        let draws: Vec<u64> = (0..3).map(|_| next()).collect();
        let mut expected: Vec<usize> = (0..3).collect();
        expected.sort_by_key(|&i| (draws[i], i));
        let got = shuffled(seed, false);
        assert_eq!(got, expected, "seed {seed}");
        assert_eq!(shuffled(seed, false), got, "seed {seed} again");
    }
}

/// V20, HG4: over many seeds every permutation of three equal-priority records appears, and
/// the priority-2 record is always last (the shuffle never crosses priorities, V19).
#[test]
fn v20_hg4_every_permutation_appears_over_seeds() {
    let mut seen = BTreeSet::new();
    for seed in 0..200 {
        let order = shuffled(seed, true);
        assert_eq!(order.len(), 4, "seed {seed}: {order:?}");
        assert_eq!(order[3], 3, "seed {seed}: priority 2 goes last: {order:?}");
        seen.insert(order[..3].to_vec());
    }
    assert_eq!(seen.len(), 6, "permutations seen: {seen:?}");
}

/// V22: "Within each group, sort with RFC 6724 §6" (rule 6, precedence: global 40, 6to4 30,
/// unique-local 3), whatever the answer's order; V15: "each reordering only inside the level
/// above": the priority-2 group's global address still waits for the priority-1 group's
/// unique-local one.
#[test]
fn v22_rfc6724_within_a_group_never_across_groups() {
    let s = Scenario::https_host(Config::default(), h2())
        .https(
            5,
            vec![
                h2_record(1, "a.example.test", &[]),
                h2_record(2, "b.example.test", &[]),
            ],
        )
        .aaaa(0, &[])
        .a(0, &[]);
    let s = answer(
        s,
        "a.example.test",
        &["fc00::1", "2002:c000:201::1", "2001:db8:a::1"],
        &[],
    );
    let s = answer(s, "b.example.test", &["2001:db8:b::1"], &[]);
    assert_eq!(
        walk(s),
        vec![
            tried(5, "TCP [2001:db8:a::1]:443"),
            tried(15, "TCP [2002:c000:201::1]:443"),
            tried(25, "TCP [fc00::1]:443"),
            tried(35, "TCP [2001:db8:b::1]:443"),
        ]
    );
}

/// V23: "With RTT history add a lower-RTT rule between rules 8 and 9": within the group the
/// address with a recorded round trip goes first; the other group's address, with an even
/// lower round trip, does not move up.
#[test]
fn v23_history_rtt_within_a_group() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path_over("[2001:db8:a::2]:443", Transport::Tcp), ms(20), t0);
    h.record_success(path_over("[2001:db8:b::1]:443", Transport::Tcp), ms(5), t0);
    let s = Scenario::https_host(Config::default(), h2())
        .https(
            5,
            vec![
                h2_record(1, "a.example.test", &[]),
                h2_record(2, "b.example.test", &[]),
            ],
        )
        .aaaa(0, &[])
        .a(0, &[])
        .history(&h);
    let s = answer(
        s,
        "a.example.test",
        &["2001:db8:a::1", "2001:db8:a::2"],
        &[],
    );
    let s = answer(s, "b.example.test", &["2001:db8:b::1"], &[]);
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run_at(t0);
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "TCP [2001:db8:a::2]:443"),
            tried(15, "TCP [2001:db8:a::1]:443"),
            tried(25, "TCP [2001:db8:b::1]:443"),
        ]
    );
}

/// The host's three AAAA and two A addresses in one '.' service group, TCP only.
fn five_in_one_group(config: Config) -> Scenario {
    Scenario::https_host(config, h2())
        .https(5, vec![h2_record(1, ".", &[])])
        .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        .a(0, &["192.0.2.1", "192.0.2.2"])
}

/// V25: "Interleave families: the first run of one family is followed by an endpoint of the
/// other. The run length is the Preferred Address Family Count" — 1 by default.
#[test]
fn v25_families_interleave_within_a_group() {
    assert_eq!(
        walk(five_in_one_group(Config::default())),
        vec![
            tried(5, "TCP [2001:db8::1]:443"),
            tried(15, "TCP 192.0.2.1:443"),
            tried(25, "TCP [2001:db8::2]:443"),
            tried(35, "TCP 192.0.2.2:443"),
            tried(45, "TCP [2001:db8::3]:443"),
        ]
    );
}

/// V25 with a count of 2 ("2 to favour a family"): two IPv6 endpoints open the group, then
/// the families alternate one by one.
#[test]
fn v25_first_address_family_count_2() {
    let config = Config::default().first_address_family_count(2);
    assert_eq!(
        walk(five_in_one_group(config)),
        vec![
            tried(5, "TCP [2001:db8::1]:443"),
            tried(15, "TCP [2001:db8::2]:443"),
            tried(25, "TCP 192.0.2.1:443"),
            tried(35, "TCP [2001:db8::3]:443"),
            tried(45, "TCP 192.0.2.2:443"),
        ]
    );
}

/// A '.' record offering h3 and h2, for the host's two AAAA and one A addresses, with a
/// caller speaking both (QUIC h3; TCP h2, http/1.1).
fn quic_and_tcp(config: Config) -> Scenario {
    Scenario::https_host(config, Protocols::http())
        .https(5, vec![ServiceRecord::new(1, ".").alpn(["h3", "h2"])])
        .aaaa(0, &["2001:db8::1", "2001:db8::2"])
        .a(0, &["192.0.2.1"])
}

/// HG1: "one queue per (family, transport) ..., dealt round-robin protocol first, then
/// family: v6·QUIC, v6·TCP, v4·QUIC, v4·TCP, next addresses". V39: each endpoint offers all
/// the caller's ids for its transport (QUIC h3; TCP h2,http/1.1).
#[test]
fn hg1_quic_then_tcp_per_address_families_alternating() {
    let trace = quic_and_tcp(Config::default())
        .default_outcome(Outcome::Fail(ms(0)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "QUIC [2001:db8::1]:443"),
            tried(15, "TCP [2001:db8::1]:443"),
            tried(25, "QUIC 192.0.2.1:443"),
            tried(35, "TCP 192.0.2.1:443"),
            tried(45, "QUIC [2001:db8::2]:443"),
            tried(55, "TCP [2001:db8::2]:443"),
        ]
    );
    let shown: Vec<String> = trace.endpoints()[..2]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        shown,
        vec![
            "QUIC [2001:db8::1]:443 h3",
            "TCP [2001:db8::1]:443 h2,http/1.1"
        ]
    );
}

/// HG1 with V25's count of 2: a turn is one address over both transports, and the opening
/// family gets two turns.
#[test]
fn hg1_with_first_address_family_count_2() {
    let config = Config::default().first_address_family_count(2);
    assert_eq!(
        walk(quic_and_tcp(config)),
        vec![
            tried(5, "QUIC [2001:db8::1]:443"),
            tried(15, "TCP [2001:db8::1]:443"),
            tried(25, "QUIC [2001:db8::2]:443"),
            tried(35, "TCP [2001:db8::2]:443"),
            tried(45, "QUIC 192.0.2.1:443"),
            tried(55, "TCP 192.0.2.1:443"),
        ]
    );
}

/// HG1: "A knob puts TCP first" — `Config::prefer_tcp` deals TCP before QUIC in every turn.
#[test]
fn hg1_prefer_tcp_deals_tcp_first() {
    assert_eq!(
        walk(quic_and_tcp(Config::default().prefer_tcp(true))),
        vec![
            tried(5, "TCP [2001:db8::1]:443"),
            tried(15, "QUIC [2001:db8::1]:443"),
            tried(25, "TCP 192.0.2.1:443"),
            tried(35, "QUIC 192.0.2.1:443"),
            tried(45, "TCP [2001:db8::2]:443"),
            tried(55, "QUIC [2001:db8::2]:443"),
        ]
    );
}

/// HG3: history saying QUIC failed from the simulated host's IPv6 source to two other
/// destinations (V24: "more than one destination's word": it is the network that blocks
/// UDP) deals TCP before QUIC in the group that uses that source; QUIC is still tried, after
/// TCP. (The whole group turns, its IPv4 addresses too: the requirements page (eyeballs-core/docs/requirements.md), "TCP first in groups
/// using that source".) One destination's failure alone is that server's.
#[test]
fn hg3_quic_failing_from_this_source_puts_tcp_first() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_failure(path_over("[2001:db8:99::1]:443", Transport::Quic), t0);
    assert!(!h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, t0));
    h.record_failure(path_over("[2001:db8:99::2]:443", Transport::Quic), t0);
    assert!(h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, t0));
    let trace = quic_and_tcp(Config::default())
        .history(&h)
        .default_outcome(Outcome::Fail(ms(0)))
        .run_at(t0);
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "TCP [2001:db8::1]:443"),
            tried(15, "QUIC [2001:db8::1]:443"),
            tried(25, "TCP 192.0.2.1:443"),
            tried(35, "QUIC 192.0.2.1:443"),
            tried(45, "TCP [2001:db8::2]:443"),
            tried(55, "QUIC [2001:db8::2]:443"),
        ]
    );
}

/// HG3 with R15 ("never use historical data across different network interfaces"): a QUIC
/// failure recorded from another source address (another network) changes nothing, and
/// neither does one from this source when the driver reports no sources at all.
#[test]
fn hg3_r15_quic_failures_of_another_network_do_not_apply() {
    let t0 = base_instant();
    let quic_first = vec![
        tried(5, "QUIC [2001:db8::1]:443"),
        tried(15, "TCP [2001:db8::1]:443"),
        tried(25, "QUIC 192.0.2.1:443"),
        tried(35, "TCP 192.0.2.1:443"),
        tried(45, "QUIC [2001:db8::2]:443"),
        tried(55, "TCP [2001:db8::2]:443"),
    ];
    let mut elsewhere = History::new();
    let other_network = ip("2001:db8:eeee::100");
    elsewhere.record_failure(
        Path::new(other_network, sa("[2001:db8::1]:443"), Transport::Quic),
        t0,
    );
    let trace = quic_and_tcp(Config::default())
        .history(&elsewhere)
        .default_outcome(Outcome::Fail(ms(0)))
        .run_at(t0);
    assert_eq!(trace.tries(), quic_first);

    let mut here = History::new();
    here.record_failure(path_over("[2001:db8::1]:443", Transport::Quic), t0);
    let mut s = quic_and_tcp(Config::default())
        .history(&here)
        .default_outcome(Outcome::Fail(ms(0)));
    s.sources = false;
    assert_eq!(s.run_at(t0).tries(), quic_first, "no source, no history");
}

/// HG11: "The same (IP, port, transport, ECH) from ... a hint and an A answer: attempt
/// once, at the best position." The priority-1 service's hint is also in the host's AAAA
/// answer: it is tried once, as the service's endpoint; the plain-address group keeps only
/// what is new.
#[test]
fn hg11_a_hint_and_an_answer_are_tried_once_in_the_best_group() {
    let s = Scenario::https_host(Config::default(), h2())
        .https(5, vec![h2_record(1, "a.example.test", &["2001:db8::1"])])
        .aaaa(0, &["2001:db8::1", "2001:db8::2"])
        .a(0, &[]);
    let s = answer(s, "a.example.test", &["2001:db8::1"], &[]);
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "TCP [2001:db8::1]:443"),
            tried(15, "TCP [2001:db8::2]:443"),
        ]
    );
    let priorities: Vec<Option<u16>> = trace.endpoints().iter().map(|e| e.priority()).collect();
    assert_eq!(priorities, vec![Some(1), None]);
}

/// HG11 across two services: an address both offer is tried once, in the priority-1
/// group, even though the priority-2 record comes first in the answer. The same address on
/// another port (the `port` key, V42) is another endpoint, and is tried.
#[test]
fn hg11_two_services_share_an_address() {
    let s = Scenario::https_host(Config::default(), h2())
        .https(
            5,
            vec![
                h2_record(2, "b.example.test", &["2001:db8::5", "2001:db8::7"]),
                h2_record(1, "a.example.test", &["2001:db8::6", "2001:db8::5"]),
                h2_record(3, "c.example.test", &["2001:db8::5"]).port(8443),
            ],
        )
        .aaaa(0, &[])
        .a(0, &[]);
    let s = answer(s, "a.example.test", &["2001:db8::6", "2001:db8::5"], &[]);
    let s = answer(s, "b.example.test", &["2001:db8::5", "2001:db8::7"], &[]);
    let s = answer(s, "c.example.test", &["2001:db8::5"], &[]);
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "TCP [2001:db8::6]:443"),
            tried(15, "TCP [2001:db8::5]:443"),
            tried(25, "TCP [2001:db8::7]:443"),
            tried(35, "TCP [2001:db8::5]:8443"),
        ]
    );
    let priorities: Vec<Option<u16>> = trace.endpoints().iter().map(|e| e.priority()).collect();
    assert_eq!(priorities, vec![Some(1), Some(1), Some(2), Some(3)]);
}

/// The endpoint cap counts tried and waiting endpoints and drops from the tail of the dealt
/// order (RFC 8305, no HTTPS). With a cap of 2, AAAA [::1, ::2] at 0 ms and A at 100 ms:
/// ::1 starts at 0; the late IPv4 address is dealt next (G6), so it, not ::2, holds the
/// second place, and ::2 is never tried.
#[test]
fn max_endpoints_a_late_family_takes_the_place_of_the_tail() {
    let trace = Scenario::host(Config::default().max_endpoints(Some(2)))
        .aaaa(0, &["::1", "::2"])
        .a(100, &["192.0.2.1"])
        .net("::1", Outcome::Fail(ms(300)))
        .net("192.0.2.1", Outcome::Fail(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, "TCP [::1]:443"), tried(250, "TCP 192.0.2.1:443")]
    );
    assert_eq!(
        trace.failure(),
        Some((ms(300), FailureReason::AllAttemptsFailed))
    );
}

/// HG11 on a long list (more than 16 candidates, which the core deduplicates by sorting
/// rather than pairwise): of two services sharing six addresses, the shared ones are tried
/// once, in the priority-1 group, which keeps its own order; the priority-2 group keeps the
/// rest in its order.
#[test]
fn hg11_long_lists_keep_the_best_copy() {
    let one: Vec<String> = (1..=10).map(|i| format!("2001:db8::{i:x}")).collect();
    let two: Vec<String> = (5..=14).rev().map(|i| format!("2001:db8::{i:x}")).collect();
    let s = Scenario::https_host(Config::default(), h2())
        .https(
            5,
            vec![
                h2_record(2, "b.example.test", &refs(&two)),
                h2_record(1, "a.example.test", &refs(&one)),
            ],
        )
        .aaaa(0, &[])
        .a(0, &[]);
    let s = answer(s, "a.example.test", &refs(&one), &[]);
    let s = answer(s, "b.example.test", &refs(&two), &[]);
    let expected: Vec<(Duration, String)> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 13, 12, 11]
        .iter()
        .enumerate()
        .map(|(n, i)| (ms(5 + 10 * n as u64), format!("TCP [2001:db8::{i:x}]:443")))
        .collect();
    let trace = s.default_outcome(Outcome::Fail(ms(0))).run();
    assert_eq!(trace.tries(), expected);
    let priorities: Vec<Option<u16>> = trace.endpoints().iter().map(|e| e.priority()).collect();
    assert_eq!(priorities[9], Some(1), "the shared ::a stays in group 1");
    assert_eq!(priorities[10], Some(2));
}

/// HG1, HG3: "a turn = one family's next address over each transport". History says QUIC
/// fails from the IPv4 source (two destinations failed: HG3 turns TCP first); the A answer comes at 30 ms, after
/// the IPv6 turn began with QUIC at 0 ms. That turn still ends with TCP to the same address
/// (50 ms, V29's TCP after QUIC), and then the IPv4 turn deals TCP first (300 ms, 550 ms) —
/// the order both
/// readings of HG3 (per group, per source) give. What the core does instead: the late
/// answer turns the whole group TCP-first, the half-done IPv6 turn's next slot is taken to
/// be QUIC (already tried), and TCP [2001:db8::1] falls behind the IPv4 turn, to 750 ms.
#[test]
fn hg1_hg3_a_turn_under_way_completes_when_history_turns_tcp_first() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_failure(path_over("192.0.2.98:443", Transport::Quic), t0);
    h.record_failure(path_over("192.0.2.99:443", Transport::Quic), t0);
    let trace = Scenario::https_host(Config::default(), Protocols::http())
        .https(0, vec![ServiceRecord::new(1, ".").alpn(["h3", "h2"])])
        .aaaa(0, &["2001:db8::1"])
        .a(30, &["192.0.2.1"])
        .history(&h)
        .run_at(t0);
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "QUIC [2001:db8::1]:443"),
            tried(50, "TCP [2001:db8::1]:443"),
            tried(300, "TCP 192.0.2.1:443"),
            tried(550, "QUIC 192.0.2.1:443"),
        ]
    );
}

// ---- V24, HG3: history that converges with history-less behaviour ---------------------------

/// One HEv3 race to `server` (a '.' record offering h3 and h2, `server` its only address)
/// with history `h` at `at`; QUIC and TCP to it behave as told. Learns from it.
fn web_race(h: &mut History, server: &str, quic: Outcome, tcp: Outcome, at: Instant) -> Trace {
    let trace = Scenario::https_host(Config::default(), Protocols::http())
        .https(0, vec![ServiceRecord::new(1, ".").alpn(["h3", "h2"])])
        .aaaa(0, &[server])
        .a(0, &[])
        .quic(server, quic)
        .net(server, tcp)
        .history(h)
        .run_at(at);
    h.record_race(&trace.race);
    trace
}

/// The winner's transport and when it won.
fn won(trace: &Trace) -> (Transport, Duration) {
    let w = trace.race.result().and_then(Result::ok).expect("a winner");
    (
        w.endpoint().transport(),
        trace.winner().expect("a winner").0,
    )
}

/// V24, HG3: "a cancelled QUIC attempt is weaker evidence than a failed one". A QUIC attempt
/// that loses to TCP (cancelled unanswered) records a loss: one loss leaves the path usable,
/// two in a row (`LOSSES_TO_FAIL`) make it failing, and a success clears them. A failure
/// counts at once.
#[test]
fn v24_hg3_a_lost_quic_attempt_is_weaker_evidence_than_a_failure() {
    let t0 = base_instant();
    let q = path_over("[2001:db8:1::1]:443", Transport::Quic);
    let mut h = History::new();
    let first = web_race(
        &mut h,
        "2001:db8:1::1",
        Outcome::Hang,
        Outcome::Connect(ms(40)),
        t0,
    );
    assert_eq!(won(&first), (Transport::Tcp, ms(90)));
    assert!(!h.is_failing(q, t0 + ms(100)), "one loss");
    let second = web_race(
        &mut h,
        "2001:db8:1::1",
        Outcome::Hang,
        Outcome::Connect(ms(40)),
        t0 + ms(1000),
    );
    assert_eq!(
        won(&second),
        (Transport::Tcp, ms(90)),
        "QUIC still first after one loss"
    );
    assert!(h.is_failing(q, t0 + ms(1100)), "two losses in a row");
    assert_eq!(LOSSES_TO_FAIL, 2);
    h.record_success(q, ms(20), t0 + ms(1200));
    h.record_loss(q, t0 + ms(1300));
    assert!(
        !h.is_failing(q, t0 + ms(1400)),
        "a success clears the losses"
    );
    h.record_failure(q, t0 + ms(1500));
    assert!(h.is_failing(q, t0 + ms(1600)), "a failure counts at once");
}

/// V24, HG3: "'UDP is blocked on this network' needs more than one destination's word, and
/// one server's broken UDP stays that server's" (`TRANSPORT_FAILURE_QUORUM`). On a network
/// that drops UDP, the first race (to server 1) and the second (to server 2) each lose QUIC
/// and connect over TCP 50 ms after it; then two destinations agree, and the third race (to
/// server 3, never seen) deals TCP first and connects at 40 ms.
#[test]
fn v24_hg3_udp_blocked_needs_two_destinations() {
    let t0 = base_instant();
    let mut h = History::new();
    let tcp = Outcome::Connect(ms(40));
    let one = web_race(&mut h, "2001:db8:1::1", Outcome::Hang, tcp, t0);
    assert_eq!(won(&one), (Transport::Tcp, ms(90)));
    assert!(!h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, t0 + ms(100)));
    let two = web_race(&mut h, "2001:db8:1::2", Outcome::Hang, tcp, t0 + ms(1000));
    assert_eq!(won(&two), (Transport::Tcp, ms(90)));
    assert!(h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, t0 + ms(1100)));
    assert_eq!(TRANSPORT_FAILURE_QUORUM, 2);
    let three = web_race(&mut h, "2001:db8:1::3", Outcome::Hang, tcp, t0 + ms(2000));
    assert_eq!(
        three.tries(),
        vec![tried(0, "TCP [2001:db8:1::3]:443")],
        "QUIC is dealt after TCP, not dropped"
    );
    assert_eq!(won(&three), (Transport::Tcp, ms(40)));
}

/// A soak over `races` races to six servers in the given order (a server's index each), one
/// second apart, sharing one history: servers 0 to 4 are healthy (QUIC connects in 20 ms,
/// TCP with TLS in 40 ms), server 5 swallows UDP (its TCP works). Returns each race's server
/// and winner.
fn soak(
    order: &[usize],
    udp_ok: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, Transport, Duration)> {
    let t0 = base_instant();
    let mut h = History::new();
    order
        .iter()
        .enumerate()
        .map(|(n, &server)| {
            let addr = format!("2001:db8:1::{}", server + 1);
            let quic = if udp_ok(n, server) {
                Outcome::Connect(ms(20))
            } else {
                Outcome::Hang
            };
            let at = t0 + Duration::from_secs(n as u64);
            let trace = web_race(&mut h, &addr, quic, Outcome::Connect(ms(40)), at);
            let (t, d) = won(&trace);
            (server, t, d)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// V24, HG3, issue 17's soak: one server swallowing UDP among five healthy ones, in any
    /// order of 120 races. Every race to a healthy server connects over QUIC at 20 ms (its
    /// QUIC is never dealt after TCP); the broken server's races connect over TCP, at 90 ms
    /// (QUIC first, TCP 50 ms later) in its first two races and in one race of every
    /// `QUIC_REPROBE_INTERVAL` (8) after that (the re-probe), at 40 ms otherwise.
    #[test]
    fn v24_hg3_healthy_servers_keep_quic_beside_one_that_swallows_udp(
        order in prop::collection::vec(0usize..6, 120),
    ) {
        let results = soak(&order, |_, server| server != 5);
        let mut bad = 0;
        for (n, &(server, transport, at)) in results.iter().enumerate() {
            if server != 5 {
                prop_assert_eq!((transport, at), (Transport::Quic, ms(20)), "race {}", n);
                continue;
            }
            bad += 1;
            prop_assert_eq!(transport, Transport::Tcp, "race {}", n);
            // Races 1 and 2 learn; after that, 7 races use what they learned and the 8th
            // re-probes.
            let probe = bad <= 2 || (bad - 2) % QUIC_REPROBE_INTERVAL as usize == 0;
            let want = if probe { ms(90) } else { ms(40) };
            prop_assert_eq!(at, want, "race {} (the broken server's {})", n, bad);
        }
    }

    /// V24, HG3: "a network that unblocks UDP gets QUIC back within a bounded number of
    /// races". Every server swallows UDP until race `k`, then none does. Once two
    /// destinations lost QUIC, races deal TCP first; after UDP comes back, a race wins over
    /// QUIC within `QUIC_REPROBE_INTERVAL` (8) races (the source's re-probe), and from then
    /// on every race does, except to a server whose own QUIC path lost twice while UDP was
    /// blocked: at most 7 of its races come before its own re-probe, and every one after
    /// that wins over QUIC too.
    #[test]
    fn v24_hg3_quic_comes_back_within_8_races_of_udp_unblocking(
        order in prop::collection::vec(0usize..6, 80),
        k in 3usize..40,
    ) {
        let results = soak(&order, |n, _| n >= k);
        let first_quic = results
            .iter()
            .position(|r| r.1 == Transport::Quic)
            .expect("QUIC comes back");
        prop_assert!(first_quic >= k);
        prop_assert!(
            first_quic < k + QUIC_REPROBE_INTERVAL as usize,
            "QUIC back at race {} after UDP came back at race {}", first_quic, k
        );
        for server in 0..6 {
            let after: Vec<(Transport, Duration)> = results[first_quic..]
                .iter()
                .filter(|r| r.0 == server)
                .map(|r| (r.1, r.2))
                .collect();
            let late = after.iter().take_while(|r| r.0 == Transport::Tcp).count();
            prop_assert!(late < QUIC_REPROBE_INTERVAL as usize, "server {}: {:?}", server, after);
            for r in &after[late..] {
                prop_assert_eq!(*r, (Transport::Quic, ms(20)), "server {}: {:?}", server, after);
            }
        }
    }
}

/// HG3, `History::reprobe_every`: with 1, every race re-probes, so history never puts TCP
/// before QUIC; the count is per source address, kept in the history.
#[test]
fn hg3_reprobe_every_race_ignores_quic_history() {
    let t0 = base_instant();
    let mut h = History::new().reprobe_every(1);
    for n in 0..4u64 {
        let server = format!("2001:db8:1::{}", n % 2 + 1);
        let trace = web_race(
            &mut h,
            &server,
            Outcome::Hang,
            Outcome::Connect(ms(40)),
            t0 + Duration::from_secs(n),
        );
        assert_eq!(won(&trace), (Transport::Tcp, ms(90)), "race {n}");
        assert_eq!(
            trace.tries()[0].1,
            format!("QUIC [{server}]:443"),
            "race {n}"
        );
    }
    assert!(h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, t0 + ms(3100)));
}

// ---- V41, V59, HG5, HG17: alternative services (Alt-Svc) -----------------------------------

/// The HEv3 web client at example.test:443 (HTTPS asked unless `https` is off), speaking h3,
/// h2 and http/1.1, with the given alternative services.
fn with_alts(config: Config, https: bool, alts: &[AltService]) -> Scenario {
    let mut target = Target::host(HOST, 443)
        .https(https)
        .protocols(Protocols::http());
    for alt in alts {
        target = target.alt_svc(alt.clone());
    }
    Scenario::with_target(config, target)
}

fn alt_provenance(host: &str, priority: Option<u16>) -> Provenance {
    Provenance::AltSvc {
        host: Name::new(host),
        priority,
    }
}

/// V59, HG17: "Alt-Svc alternatives from the caller ... race as a service group of their
/// own", after the HTTPS records' groups and before V21's addresses without a service.
/// `Alt-Svc: h3=":443"` and no HTTPS record (the case: h3 without an HTTPS record):
/// the alternative shares the origin's HTTPS query (same name), so no query is added; its
/// group is the host's addresses over QUIC, raced before the plain TCP group.
#[test]
fn v59_hg17_an_alt_svc_h3_races_quic_before_the_plain_addresses() {
    let trace = with_alts(
        Config::default(),
        true,
        &[AltService::new("", 443).alpn(["h3"])],
    )
    .https(0, vec![])
    .aaaa(0, &["2001:db8::1"])
    .a(0, &["192.0.2.1"])
    .run_at(base_instant());
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "QUIC [2001:db8::1]:443"),
            tried(250, "QUIC 192.0.2.1:443"),
            tried(500, "TCP [2001:db8::1]:443"),
            tried(750, "TCP 192.0.2.1:443"),
        ]
    );
    assert_eq!(trace.queries().len(), 3, "{:?}", trace.queries());
    let provenances: Vec<Provenance> = trace
        .endpoints()
        .iter()
        .map(|e| e.provenance().clone())
        .collect();
    let alt = alt_provenance(HOST, None);
    assert_eq!(
        provenances,
        [alt.clone(), alt, Provenance::Address, Provenance::Address]
    );
}

/// V59: "their host gets its own A/AAAA (and HTTPS) queries". An alternative on another host
/// and port, without HTTPS (`Target::https` off): AAAA and A for its host follow the
/// origin's (V3). HG19: the first start waits for the alternative's answers (within the
/// Resolution Delay), so its group, known at 5 ms, goes first, before the plain addresses
/// (HG17): QUIC at 5 ms, then TCP 50 ms later (V29), at its port; the origin's address
/// when the delay ends.
#[test]
fn v59_an_alternative_host_gets_its_own_queries() {
    let alt = "alt.example.test";
    let trace = with_alts(
        Config::default(),
        false,
        &[AltService::new(alt, 8443).alpn(["h3", "h2"])],
    )
    .aaaa(0, &["2001:db8::1"])
    .a(0, &[])
    .dns_for(alt, "AAAA", Answer::Addrs(ms(5), vec![ip("2001:db8:a::1")]))
    .dns_for(alt, "A", Answer::Addrs(ms(5), vec![]))
    .run_at(base_instant());
    let queries: Vec<String> = trace.queries().into_iter().map(|q| q.1).collect();
    assert_eq!(
        queries,
        [
            "AAAA example.test",
            "A example.test",
            "AAAA alt.example.test",
            "A alt.example.test"
        ]
    );
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, "QUIC [2001:db8:a::1]:8443"),
            tried(55, "TCP [2001:db8:a::1]:8443"),
            tried(305, "TCP [2001:db8::1]:443"),
        ]
    );
    let endpoints = trace.endpoints();
    assert_eq!(endpoints[0].provenance(), &alt_provenance(alt, None));
    assert_eq!(endpoints[1].provenance(), &alt_provenance(alt, None));
    assert_eq!(endpoints[2].provenance(), &Provenance::Address);
}

/// V41 (RFC 9460 §9.3): "With Alt-Svc too, only attempts consistent with both": the
/// alternative's HTTPS records are asked (`alt.example.test`, port 443), and "the HTTPS
/// record's TargetName and port are used". `Alt-Svc: h3="alt.example.test:443"`, and its
/// record `1 alt3.example.test. port=9443 alpn=h2,h3`: the only attempt consistent with both
/// is HTTP/3 to alt3.example.test:9443 (no TCP: Alt-Svc offers h3 only; nothing to
/// alt.example.test itself). HG19: the first start waits for the alternative's HTTPS answer
/// (10 ms) and then for its record's TargetName, which has no hints (20 ms): the
/// alternative's endpoint goes first (HG17), the origin's address when the delay ends.
#[test]
fn v41_an_alternative_is_held_to_its_https_records_and_its_protocols() {
    let (alt, alt3) = ("alt.example.test", "alt3.example.test");
    let record = ServiceRecord::new(1, alt3).port(9443).alpn(["h2", "h3"]);
    let trace = with_alts(
        Config::default(),
        true,
        &[AltService::new(alt, 443).alpn(["h3"])],
    )
    .https(0, vec![])
    .aaaa(0, &["2001:db8::1"])
    .a(0, &[])
    .dns_for(alt, "HTTPS", Answer::Records(ms(10), vec![record]))
    .dns_for(alt, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:a::1")]))
    .dns_for(alt, "A", Answer::Addrs(ms(0), vec![]))
    .dns_for(
        alt3,
        "AAAA",
        Answer::Addrs(ms(10), vec![ip("2001:db8:a3::1")]),
    )
    .dns_for(alt3, "A", Answer::Addrs(ms(10), vec![]))
    .run_at(base_instant());
    let queries: Vec<String> = trace.queries().into_iter().map(|q| q.1).collect();
    assert_eq!(
        queries,
        [
            "HTTPS example.test",
            "AAAA example.test",
            "A example.test",
            "HTTPS alt.example.test",
            "AAAA alt.example.test",
            "A alt.example.test",
            "AAAA alt3.example.test",
            "A alt3.example.test",
        ]
    );
    assert_eq!(
        trace.tries(),
        vec![
            tried(20, "QUIC [2001:db8:a3::1]:9443"),
            tried(270, "TCP [2001:db8::1]:443"),
        ]
    );
    assert_eq!(
        trace.endpoints()[0].provenance(),
        &alt_provenance(alt, Some(1))
    );
}

/// V41 with the origin's own records: `Alt-Svc: h3=":443"` shares the origin's HTTPS
/// answer, which offers h2 only: no attempt is consistent with both, and no QUIC endpoint is
/// raced. HG17's place: with a QUIC-capable record, the alternative on another host comes
/// after the record's group and before the plain addresses.
#[test]
fn v41_hg17_alternatives_and_the_origins_records() {
    let h2_only = with_alts(
        Config::default(),
        true,
        &[AltService::new("", 443).alpn(["h3"])],
    )
    .https(0, vec![ServiceRecord::new(1, ".").alpn(["h2"])])
    .aaaa(0, &["2001:db8::1"])
    .a(0, &[])
    .default_outcome(Outcome::Fail(ms(0)))
    .run_at(base_instant());
    assert_eq!(h2_only.tries(), vec![tried(0, "TCP [2001:db8::1]:443")]);

    let alt = "alt.example.test";
    let placed = with_alts(
        Config::default(),
        true,
        &[AltService::new(alt, 443).alpn(["h3"])],
    )
    .https(
        0,
        vec![ServiceRecord::new(1, "svc.example.test")
            .alpn(["h3"])
            .no_default_alpn(true)
            .ipv6_hints([v6("2001:db8:5::1")])],
    )
    .aaaa(0, &["2001:db8::1"])
    .a(0, &[])
    .dns_for(alt, "HTTPS", Answer::Records(ms(0), vec![]))
    .dns_for(alt, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:a::1")]))
    .dns_for(alt, "A", Answer::Addrs(ms(0), vec![]))
    .default_outcome(Outcome::Fail(ms(0)))
    .run_at(base_instant());
    assert_eq!(
        placed.tries(),
        vec![
            tried(0, "QUIC [2001:db8:5::1]:443"),
            tried(10, "QUIC [2001:db8:a::1]:443"),
            tried(20, "TCP [2001:db8::1]:443"),
        ]
    );
}

/// V59: an alternative's lifetime ("expiry"): one expired when the race starts is neither
/// asked about nor raced; one that expires later is, first (its answers are in at 0 ms,
/// HG17, HG19).
#[test]
fn v59_an_expired_alternative_is_left_out() {
    let t0 = base_instant();
    let alt = |expires: Instant| {
        AltService::new("alt.example.test", 443)
            .alpn(["h3"])
            .expires(expires)
    };
    let run = |a: AltService| {
        with_alts(Config::default(), false, &[a])
            .aaaa(0, &["2001:db8::1"])
            .a(0, &[])
            .dns_for(
                "alt.example.test",
                "AAAA",
                Answer::Addrs(ms(0), vec![ip("2001:db8:a::1")]),
            )
            .dns_for("alt.example.test", "A", Answer::Addrs(ms(0), vec![]))
            .default_outcome(Outcome::Fail(ms(0)))
            .run_at(t0 + ms(1000))
    };
    let expired = run(alt(t0 + ms(1000)));
    assert_eq!(expired.queries().len(), 2);
    assert_eq!(expired.tries(), vec![tried(0, "TCP [2001:db8::1]:443")]);
    let live = run(alt(t0 + ms(1001)));
    assert_eq!(live.queries().len(), 4);
    assert_eq!(
        live.tries(),
        vec![
            tried(0, "QUIC [2001:db8:a::1]:443"),
            tried(10, "TCP [2001:db8::1]:443")
        ]
    );
}

/// HG19: "before the first start the race also waits for each alternative's answers,
/// within the same Resolution Delay". The alternative `h3="alt.example.test:8443"` with
/// HTTPS on: its own HTTPS query (`_8443._https.alt.example.test`) and its host's AAAA and
/// A answer 1 ms after the origin's. The race starts at 1 ms on the alternative's endpoint
/// (HG17's place), and the origin's address follows when the Connection Attempt Delay ends.
#[test]
fn hg19_an_alternative_answering_1_ms_after_the_origin_goes_first() {
    let alt = "alt.example.test";
    let trace = with_alts(
        Config::default(),
        true,
        &[AltService::new(alt, 8443).alpn(["h3"])],
    )
    .https(0, vec![])
    .aaaa(0, &["2001:db8::1"])
    .a(0, &["192.0.2.1"])
    .dns_for(
        "_8443._https.alt.example.test",
        "HTTPS",
        Answer::Records(ms(1), vec![]),
    )
    .dns_for(alt, "AAAA", Answer::Addrs(ms(1), vec![ip("2001:db8:a::1")]))
    .dns_for(alt, "A", Answer::Addrs(ms(1), vec![]))
    .quic("[2001:db8:a::1]:8443", Outcome::Hang)
    .net("2001:db8::1", Outcome::Connect(ms(10)))
    .run_at(base_instant());
    let queries: Vec<String> = trace.queries().into_iter().map(|q| q.1).collect();
    assert_eq!(
        queries,
        [
            "HTTPS example.test",
            "AAAA example.test",
            "A example.test",
            "HTTPS _8443._https.alt.example.test",
            "AAAA alt.example.test",
            "A alt.example.test",
        ]
    );
    assert_eq!(
        trace.tries(),
        vec![
            tried(1, "QUIC [2001:db8:a::1]:8443"),
            tried(251, "TCP [2001:db8::1]:443"),
        ]
    );
    assert_eq!(
        trace.endpoints()[0].provenance(),
        &alt_provenance(alt, None)
    );
    assert_eq!(won(&trace), (Transport::Tcp, ms(261)));

    // The bug's case: 0.3 ms later is as good as 1 ms.
    let trace = with_alts(
        Config::default(),
        false,
        &[AltService::new(alt, 8443).alpn(["h3"])],
    )
    .aaaa(0, &["2001:db8::1"])
    .a(0, &["192.0.2.1"])
    .dns_for(
        alt,
        "AAAA",
        Answer::Addrs(Duration::from_micros(300), vec![ip("2001:db8:a::1")]),
    )
    .dns_for(alt, "A", Answer::Addrs(Duration::from_micros(300), vec![]))
    .quic("[2001:db8:a::1]:8443", Outcome::Connect(ms(10)))
    .run_at(base_instant());
    assert_eq!(
        trace.tries(),
        vec![(
            Duration::from_micros(300),
            "QUIC [2001:db8:a::1]:8443".to_string()
        )]
    );
}

/// HG19: the wait is bounded by the Resolution Delay (R5, V5(b), "the same bound the HTTPS
/// answer gets"), which runs from the first positive address answer (HG7). The
/// alternative's queries never answer: the race starts at 50 ms on the origin's address.
/// When they answer late (100 ms), the alternative joins late (V45): its group goes before
/// the plain addresses (HG17), so it is the next start, when the delay ends (300 ms).
#[test]
fn hg19_an_alternative_that_does_not_answer_waits_only_the_resolution_delay() {
    let alt = "alt.example.test";
    let scenario = |answer: Answer| {
        with_alts(
            Config::default(),
            true,
            &[AltService::new(alt, 8443).alpn(["h3"])],
        )
        .https(0, vec![])
        .aaaa(0, &["2001:db8::1"])
        .a(0, &[])
        .dns_for("_8443._https.alt.example.test", "HTTPS", answer.clone())
        .dns_for(alt, "AAAA", answer)
        .dns_for(alt, "A", Answer::Never)
    };
    let never = scenario(Answer::Never)
        .net("2001:db8::1", Outcome::Connect(ms(10)))
        .run_at(base_instant());
    assert_eq!(never.tries(), vec![tried(50, "TCP [2001:db8::1]:443")]);
    assert_eq!(won(&never), (Transport::Tcp, ms(60)));

    let late = scenario(Answer::Addrs(ms(100), vec![ip("2001:db8:a::1")]))
        .dns_for(
            "_8443._https.alt.example.test",
            "HTTPS",
            Answer::Records(ms(100), vec![]),
        )
        .quic("[2001:db8:a::1]:8443", Outcome::Connect(ms(10)))
        .run_at(base_instant());
    assert_eq!(
        late.tries(),
        vec![
            tried(50, "TCP [2001:db8::1]:443"),
            tried(300, "QUIC [2001:db8:a::1]:8443"),
        ]
    );
    assert_eq!(won(&late), (Transport::Quic, ms(310)));
    assert_eq!(late.endpoints()[1].provenance(), &alt_provenance(alt, None));
}

/// HG19: "a negative or failed answer is never waited on" (R7), and an alternative that asks
/// nothing holds nothing back. Answers that are all in, empty or failed, end the wait at
/// once: the race starts at 0 ms on the origin's address; a failed HTTPS query with an
/// address ends it too, and the alternative then races its host's address first. An
/// alternative none of whose protocols the caller speaks (`h9`) asks nothing: its host never
/// answering delays nothing. While an address query is still out and the alternative has no
/// address (its AAAA empty, its A at 20 ms), it is waited for, within the delay.
#[test]
fn hg19_a_negative_or_failed_alternative_adds_no_wait() {
    let alt = "alt.example.test";
    let origin = |alts: &[AltService]| {
        with_alts(Config::default(), true, alts)
            .https(0, vec![])
            .aaaa(0, &["2001:db8::1"])
            .a(0, &[])
            .net("2001:db8::1", Outcome::Connect(ms(10)))
    };
    let h3 = [AltService::new(alt, 443).alpn(["h3"])];

    let negative = origin(&h3)
        .dns_for(alt, "HTTPS", Answer::Fail(ms(0)))
        .dns_for(alt, "AAAA", Answer::Addrs(ms(0), vec![]))
        .dns_for(alt, "A", Answer::Fail(ms(0)))
        .run_at(base_instant());
    assert_eq!(negative.queries().len(), 6);
    assert_eq!(negative.tries(), vec![tried(0, "TCP [2001:db8::1]:443")]);

    let https_failed = origin(&h3)
        .dns_for(alt, "HTTPS", Answer::Fail(ms(1)))
        .dns_for(alt, "AAAA", Answer::Addrs(ms(1), vec![ip("2001:db8:a::1")]))
        .run_at(base_instant());
    assert_eq!(
        https_failed.tries(),
        vec![
            tried(1, "QUIC [2001:db8:a::1]:443"),
            tried(251, "TCP [2001:db8::1]:443"),
        ]
    );

    let unspoken = origin(&[AltService::new(alt, 443).alpn(["h9"])]).run_at(base_instant());
    assert_eq!(unspoken.queries().len(), 3);
    assert_eq!(unspoken.tries(), vec![tried(0, "TCP [2001:db8::1]:443")]);

    let a_later = origin(&h3)
        .dns_for(alt, "HTTPS", Answer::Records(ms(0), vec![]))
        .dns_for(alt, "AAAA", Answer::Addrs(ms(1), vec![]))
        .dns_for(alt, "A", Answer::Addrs(ms(20), vec![ip("192.0.2.10")]))
        .run_at(base_instant());
    assert_eq!(
        a_later.tries(),
        vec![
            tried(20, "QUIC 192.0.2.10:443"),
            tried(270, "TCP [2001:db8::1]:443"),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// HG19 over any timing: the origin answers at `origin` ms, the alternative (its own
    /// HTTPS query, AAAA and A) at `alt` ms, with an address or empty, under any Resolution
    /// Delay. The first start is the later of the two answers, but no later than the delay
    /// after the first address (HG7; an alternative answering first waits for the origin's
    /// HTTPS answer and AAAA within it, as V5 has it); it is the alternative's exactly when
    /// its address came by then.
    #[test]
    fn hg19_the_first_start_waits_for_the_alternative_at_most_the_resolution_delay(
        origin in 0u64..100,
        alt in 0u64..300,
        positive in any::<bool>(),
        delay in 0u64..200,
    ) {
        let host = "alt.example.test";
        let addrs = if positive { vec![ip("2001:db8:a::1")] } else { vec![] };
        let trace = with_alts(
            Config::default().resolution_delay(ms(delay)),
            true,
            &[AltService::new(host, 8443).alpn(["h3"])],
        )
        .https(origin, vec![])
        .aaaa(origin, &["2001:db8::1"])
        .a(origin, &[])
        .dns_for("_8443._https.alt.example.test", "HTTPS", Answer::Records(ms(alt), vec![]))
        .dns_for(host, "AAAA", Answer::Addrs(ms(alt), addrs))
        .dns_for(host, "A", Answer::Addrs(ms(alt), vec![]))
        .default_outcome(Outcome::Connect(ms(5)))
        .run_at(base_instant());
        let first = trace.tries()[0].clone();
        // HG7: the delay runs from the first address, whichever it is.
        let held = if positive { origin.min(alt) } else { origin };
        let at = alt.max(origin).min(held + delay);
        // At exactly the deadline (alt == origin + delay) the alternative's answers and the
        // Resolution Delay fall on one instant: the simulator feeds them one call each, in
        // the order the queries went out (its HTTPS answer first), and every call fires
        // the timers due by then (after a `handle_*` call the next deadline is later than
        // `now`), so the delay fires after its HTTPS answer and before its address.
        let alt_first = positive && (alt <= origin || alt < held + delay);
        let want = if alt_first {
            "QUIC [2001:db8:a::1]:8443"
        } else {
            "TCP [2001:db8::1]:443"
        };
        prop_assert_eq!(first, tried(at, want));
    }
}

/// HG17, V35: "never raced when the client is SVCB-reliant for ECH" (without ECH): the
/// origin's record offers ECH, so the alternative, whose host has no HTTPS record, has no
/// endpoint with ECH: it is left out (and counted), as the plain addresses are.
#[test]
fn hg17_v35_no_alternative_without_ech_once_reliant() {
    let alt = "alt.example.test";
    let ech = eyeballs_core::EchConfig::new(b"\xfe\x0d\x00\x04test");
    let run = with_alts(
        Config::default().ech(true),
        true,
        &[AltService::new(alt, 443).alpn(["h3"])],
    )
    .https(
        0,
        vec![ServiceRecord::new(1, ".").alpn(["h3", "h2"]).ech(ech)],
    )
    .aaaa(0, &["2001:db8::1"])
    .a(0, &[])
    .dns_for(alt, "HTTPS", Answer::Records(ms(0), vec![]))
    .dns_for(alt, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:a::1")]))
    .dns_for(alt, "A", Answer::Addrs(ms(0), vec![]))
    .default_outcome(Outcome::Fail(ms(0)))
    .run_unchecked(base_instant());
    let failure = run.failure();
    let tried: Vec<String> = failure
        .attempts()
        .iter()
        .map(|a| a.endpoint.to_string())
        .collect();
    assert_eq!(
        tried,
        [
            "QUIC [2001:db8::1]:443 h3 ECH",
            "TCP [2001:db8::1]:443 h2,http/1.1 ECH"
        ]
    );
    // The alternative's QUIC endpoint and the plain TCP one (a duplicate of neither).
    assert_eq!(failure.skipped_without_ech(), 2);
}
