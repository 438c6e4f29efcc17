//! Happy Eyeballs v3 §7: Handling Changes — answers that replace hints, endpoints that
//! leave or arrive mid-race, with service records present (V43–V45, HG8).
//!
//! Every timeline is exact, on the simulator's virtual clock: each attempt's start with its
//! transport, the winner and the cancels.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::sim::{base_instant, ip, ms, path, sa, Answer, Extra, Outcome, Scenario, HOST};
use eyeballs_core::{
    Config, DelaySchedule, FailureReason, History, Name, Protocols, Provenance, ServiceRecord,
    Target,
};

/// The HEv3 web client: `example.test:443`, HTTPS asked, h3 over QUIC, h2 and http/1.1 over
/// TCP.
fn web() -> Scenario {
    Scenario::with_target(
        Config::default(),
        Target::host(HOST, 443)
            .https(true)
            .protocols(Protocols::http()),
    )
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad IPv6 address {s}: {e}"))
}

/// An address answer after `after` ms (relative to the query's send time).
fn addrs(after: u64, list: &[&str]) -> Answer {
    Answer::Addrs(ms(after), list.iter().map(|a| ip(a)).collect())
}

/// An HTTPS answer after `after` ms.
fn records(after: u64, list: Vec<ServiceRecord>) -> Answer {
    Answer::Records(ms(after), list)
}

fn svc(priority: u16, target: &str, alpn: &[&str]) -> ServiceRecord {
    ServiceRecord::new(priority, target).alpn(alpn.iter().copied())
}

fn at(list: &[(u64, &str)]) -> Vec<(Duration, String)> {
    list.iter().map(|(t, s)| (ms(*t), s.to_string())).collect()
}

fn service(priority: u16, target: &str) -> Provenance {
    Provenance::Service {
        priority,
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

fn removed(list: &[&str]) -> Extra {
    Extra::Changed {
        added: vec![],
        removed: list.iter().map(|a| ip(a)).collect(),
    }
}

fn added(list: &[&str]) -> Extra {
    Extra::Changed {
        added: list.iter().map(|a| ip(a)).collect(),
        removed: vec![],
    }
}

// ---- V43, HG8: TargetName answers and hints --------------------------------------------

/// V43: "A/AAAA for a TargetName replace that family's hints: hint endpoints absent from the
/// answer go." svc's AAAA (100 ms) answers 2001:db8::12: the untried hint 2001:db8::13 is
/// never tried, the new address is; the IPv4 hint stays, since no A answer replaced it.
#[test]
fn v43_an_answer_replaces_that_familys_hints() {
    let record = svc(1, "svc.example.test", &["h2"])
        .ipv6_hints([v6("2001:db8::10"), v6("2001:db8::13")])
        .ipv4_hints(["192.0.2.10".parse().expect("IPv4")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![record]))
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .dns_for("svc.example.test", "AAAA", addrs(100, &["2001:db8::12"]))
        .net("2001:db8::12", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::10]:443"),
            (250, "TCP 192.0.2.10:443"),
            (500, "TCP [2001:db8::12]:443"),
        ])
    );
    assert_eq!(provenances(&trace), vec![service(1, "svc.example.test"); 3]);
    assert_eq!(trace.winner(), Some((ms(505), sa("[2001:db8::12]:443"))));
    assert_eq!(
        trace.cancels(),
        vec![
            (ms(505), sa("[2001:db8::10]:443")),
            (ms(505), sa("192.0.2.10:443"))
        ]
    );
}

/// V43 for a "." record, whose TargetName is the host (V9): the host's own AAAA answer
/// (100 ms) replaces the record's IPv6 hints. The hint 2001:db8::99 is tried at 0 ms; the
/// second hint 2001:db8::98, absent from the answer, never is; the answer's 2001:db8::1 is
/// next (250 ms), in the service's group. Every attempt fails after 300 ms.
#[test]
fn v43_the_hosts_answer_replaces_the_hints_of_a_dot_record() {
    let record = svc(1, ".", &["h2"]).ipv6_hints([v6("2001:db8::99"), v6("2001:db8::98")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![record]))
        .dns("AAAA", addrs(100, &["2001:db8::1"]))
        .dns("A", addrs(100, &[]))
        .default_outcome(Outcome::Fail(ms(300)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::99]:443"),
            (250, "TCP [2001:db8::1]:443")
        ])
    );
    assert_eq!(provenances(&trace), vec![service(1, HOST); 2]);
    assert_eq!(
        trace.failure(),
        Some((ms(550), FailureReason::AllAttemptsFailed))
    );
}

/// V43 with QUIC and TCP (HG1; CORE_HEV3: "a turn = one family's next address over each
/// transport"): QUIC to the hint 2001:db8::99 opens a turn at 0 ms; the host's answer
/// (30 ms) removes the hint, so the turn's TCP half leaves with it, and with it the shorter
/// delay of TCP after QUIC (V29). The next turn is the answer's 2001:db8::1, QUIC first
/// (250 ms), then TCP (300 ms, 50 ms after its QUIC and at once when QUIC to ::99 fails),
/// not TCP to ::1 ahead of QUIC to ::1.
#[test]
fn v43_a_replaced_hint_ends_its_turn() {
    let record = svc(1, ".", &["h3"]).ipv6_hints([v6("2001:db8::99"), v6("2001:db8::98")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![record]))
        .dns("AAAA", addrs(30, &["2001:db8::1"]))
        .dns("A", addrs(30, &[]))
        .default_outcome(Outcome::Fail(ms(300)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "QUIC [2001:db8::99]:443"),
            (250, "QUIC [2001:db8::1]:443"),
            (300, "TCP [2001:db8::1]:443"),
        ])
    );
    assert_eq!(
        trace.failure(),
        Some((ms(600), FailureReason::AllAttemptsFailed))
    );
}

/// HG8: "NODATA/NXDOMAIN for the TargetName removes untried hints of that family; SERVFAIL
/// or timeout keeps them." With an empty AAAA answer at 100 ms, the second hint (due at
/// 250 ms) is never tried and the race fails when the first attempt does (300 ms). With a
/// failed AAAA the hint stays and is tried at 250 ms.
#[test]
fn hg8_an_empty_answer_removes_hints_a_failed_one_keeps_them() {
    let run = |aaaa: Answer| {
        let record = svc(1, "svc.example.test", &["h2"])
            .ipv6_hints([v6("2001:db8::10"), v6("2001:db8::13")]);
        web()
            .dns("HTTPS", records(0, vec![record]))
            .dns("AAAA", addrs(0, &[]))
            .dns("A", addrs(0, &[]))
            .dns_for("svc.example.test", "AAAA", aaaa)
            .dns_for("svc.example.test", "A", addrs(100, &[]))
            .default_outcome(Outcome::Fail(ms(300)))
            .run()
    };
    let empty = run(addrs(100, &[]));
    assert_eq!(empty.tries(), at(&[(0, "TCP [2001:db8::10]:443")]));
    assert_eq!(
        empty.failure(),
        Some((ms(300), FailureReason::AllAttemptsFailed))
    );
    let failed = run(Answer::Fail(ms(100)));
    assert_eq!(
        failed.tries(),
        at(&[
            (0, "TCP [2001:db8::10]:443"),
            (250, "TCP [2001:db8::13]:443")
        ])
    );
    assert_eq!(
        failed.failure(),
        Some((ms(550), FailureReason::AllAttemptsFailed))
    );
}

// ---- V44: endpoints that leave ----------------------------------------------------------

/// V44: "A removed endpoint keeps its running attempt; an untried one leaves the list."
/// The "." record's hints give QUIC then TCP per address. At 30 ms both IPv6 addresses are
/// withdrawn: the QUIC attempt to 2001:db8::1 (started at 0 ms) keeps running and wins at
/// 600 ms; TCP to it (due at 50 ms) and everything of 2001:db8::2 leave; the IPv4 endpoints
/// stay, QUIC at 250 ms and TCP 50 ms after it.
#[test]
fn v44_a_removed_endpoint_keeps_its_attempt_an_untried_one_leaves() {
    let record = svc(1, ".", &["h3"])
        .ipv6_hints([v6("2001:db8::1"), v6("2001:db8::2")])
        .ipv4_hints(["192.0.2.1".parse().expect("IPv4")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![record]))
        .dns("AAAA", Answer::Never)
        .dns("A", Answer::Never)
        .quic("2001:db8::1", Outcome::Connect(ms(600)))
        .at(30, removed(&["2001:db8::1", "2001:db8::2"]))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "QUIC [2001:db8::1]:443"),
            (250, "QUIC 192.0.2.1:443"),
            (300, "TCP 192.0.2.1:443"),
        ])
    );
    assert_eq!(trace.winner(), Some((ms(600), sa("[2001:db8::1]:443"))));
    assert_eq!(
        trace.cancels(),
        vec![
            (ms(600), sa("192.0.2.1:443")),
            (ms(600), sa("192.0.2.1:443"))
        ],
        "only the losers are cancelled, at the win"
    );
}

/// V44 for a TargetName's answer: a withdrawn address leaves the service group too.
/// svc.example.test answers two addresses; the second is withdrawn at 100 ms, before its
/// turn (250 ms): the first attempt is the only one, and wins at 400 ms.
#[test]
fn v44_a_withdrawn_target_address_leaves_its_service() {
    let trace = web()
        .dns(
            "HTTPS",
            records(0, vec![svc(1, "svc.example.test", &["h2"])]),
        )
        .dns("AAAA", addrs(0, &[]))
        .dns("A", addrs(0, &[]))
        .dns_for(
            "svc.example.test",
            "AAAA",
            addrs(0, &["2001:db8::10", "2001:db8::11"]),
        )
        .dns_for("svc.example.test", "A", addrs(0, &[]))
        .net("2001:db8::10", Outcome::Connect(ms(400)))
        .at(100, removed(&["2001:db8::11"]))
        .run();
    assert_eq!(trace.tries(), at(&[(0, "TCP [2001:db8::10]:443")]));
    assert_eq!(trace.winner(), Some((ms(400), sa("[2001:db8::10]:443"))));
    assert!(trace.cancels().is_empty());
}

// ---- V45: endpoints that arrive ---------------------------------------------------------

/// V45: "Late endpoints are placed by re-sorting the complete list, tried ones included ...:
/// a late IPv4 endpoint becomes the next attempt." The "." service races 2001:db8::1 over
/// QUIC (0 ms) and TCP (50 ms); A arrives at 100 ms, and IPv4's turn comes next (300 ms,
/// 350 ms), before 2001:db8::2 (V25: families alternate).
#[test]
fn v45_a_late_ipv4_endpoint_becomes_the_next_attempt() {
    let trace = web()
        .dns("HTTPS", records(0, vec![svc(1, ".", &["h3"])]))
        .dns("AAAA", addrs(0, &["2001:db8::1", "2001:db8::2"]))
        .dns("A", addrs(100, &["192.0.2.1"]))
        .net("2001:db8::2", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "QUIC [2001:db8::1]:443"),
            (50, "TCP [2001:db8::1]:443"),
            (300, "QUIC 192.0.2.1:443"),
            (350, "TCP 192.0.2.1:443"),
            (600, "QUIC [2001:db8::2]:443"),
            (650, "TCP [2001:db8::2]:443"),
        ])
    );
    assert_eq!(provenances(&trace), vec![service(1, HOST); 6]);
    assert_eq!(trace.winner(), Some((ms(655), sa("[2001:db8::2]:443"))));
    assert_eq!(trace.cancels().len(), 5);
}

/// V45 with an endpoint that changes group: the race started (50 ms, the Resolution Delay)
/// on the host's TCP endpoint to 2001:db8::1; the late "." record (300 ms) makes that same
/// endpoint part of its service group (HG11: tried once). Re-sorting the complete list,
/// tried ones included, gives the service group QUIC ::1, [TCP ::1, tried], QUIC and TCP to
/// 192.0.2.1, then ::2: after QUIC ::1 comes IPv4's turn, not a second IPv6 address. TCP
/// follows QUIC sooner only to the same address (V29): QUIC ::1's successor waits 250 ms.
#[test]
fn v45_an_endpoint_tried_before_the_services_keeps_its_place() {
    let trace = web()
        .dns("AAAA", addrs(0, &["2001:db8::1", "2001:db8::2"]))
        .dns("A", addrs(0, &["192.0.2.1"]))
        .dns("HTTPS", records(300, vec![svc(1, ".", &["h3"])]))
        .net("2001:db8::2", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (50, "TCP [2001:db8::1]:443"),
            (300, "QUIC [2001:db8::1]:443"),
            (550, "QUIC 192.0.2.1:443"),
            (600, "TCP 192.0.2.1:443"),
            (850, "QUIC [2001:db8::2]:443"),
            (900, "TCP [2001:db8::2]:443"),
        ])
    );
    assert_eq!(trace.winner(), Some((ms(905), sa("[2001:db8::2]:443"))));
}

// ---- AddressesChanged with services present ---------------------------------------------

/// R33 with services (V28, V21): an address added mid-race belongs to the host, so with a
/// service at another TargetName it joins the host's plain group, after the service's
/// endpoints: the service's hint (0 ms), then the host's IPv6 (250 ms), then the added IPv4
/// address (500 ms) on the authority's port.
#[test]
fn an_added_address_joins_the_hosts_group_after_the_services() {
    let record = svc(1, "svc.example.test", &["h2"]).ipv6_hints([v6("2001:db8::10")]);
    let trace = web()
        .dns("HTTPS", records(0, vec![record]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .net("192.0.2.7", Outcome::Connect(ms(5)))
        .at(100, added(&["192.0.2.7"]))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::10]:443"),
            (250, "TCP [2001:db8::1]:443"),
            (500, "TCP 192.0.2.7:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            service(1, "svc.example.test"),
            Provenance::Address,
            Provenance::Address
        ]
    );
    assert_eq!(trace.winner(), Some((ms(505), sa("192.0.2.7:443"))));
}

/// V19 ("The '.' record's priority covers the origin's own A/AAAA") with R33: an address
/// added to the host is also an address of the "." service, on its port (8443), and the
/// late IPv4 endpoint is that group's next attempt (V45); then the host's plain endpoints on
/// 443.
#[test]
fn an_added_address_joins_the_dot_service_too() {
    let trace = web()
        .dns("HTTPS", records(0, vec![svc(1, ".", &["h2"]).port(8443)]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .net("192.0.2.7:443", Outcome::Connect(ms(5)))
        .at(100, added(&["192.0.2.7"]))
        .run();
    assert_eq!(
        trace.tries(),
        at(&[
            (0, "TCP [2001:db8::1]:8443"),
            (250, "TCP 192.0.2.7:8443"),
            (500, "TCP [2001:db8::1]:443"),
            (750, "TCP 192.0.2.7:443"),
        ])
    );
    assert_eq!(
        provenances(&trace),
        vec![
            service(1, HOST),
            service(1, HOST),
            Provenance::Address,
            Provenance::Address
        ]
    );
    assert_eq!(trace.winner(), Some((ms(755), sa("192.0.2.7:443"))));
}

/// R32 with services: withdrawing every address held while the race waits for service
/// information leaves nothing to start when the Resolution Delay ends; the service's hint
/// arriving later (120 ms) starts at once.
#[test]
fn withdrawing_everything_held_before_the_services_arrive() {
    let record = svc(1, "svc.example.test", &["h2"]).ipv6_hints([v6("2001:db8::10")]);
    let trace = web()
        .dns("HTTPS", records(120, vec![record]))
        .dns("AAAA", addrs(0, &["2001:db8::1"]))
        .dns("A", addrs(0, &[]))
        .net("2001:db8::10", Outcome::Connect(ms(5)))
        .at(20, removed(&["2001:db8::1"]))
        .run();
    assert_eq!(trace.tries(), at(&[(120, "TCP [2001:db8::10]:443")]));
    assert_eq!(trace.winner(), Some((ms(125), sa("[2001:db8::10]:443"))));
}

// ---- V46: a DNS update and an attempt without progress --------------------------------------

/// The host with AAAA 2001:db8::1 (hanging) at 0 ms and `a` as its A answer, raced with the
/// RTT schedule (unless `schedule` says otherwise) and a history in which ::1's TCP round
/// trip was `rtt` once (RFC 6298's first sample: SRTT `rtt`, RTTVAR `rtt / 2`, so a
/// retransmission timeout of 3 × `rtt`, the schedule's delay after ::1).
fn v46(rtt: Option<u64>, schedule: DelaySchedule, a: Answer) -> common::sim::Trace {
    let t0 = base_instant();
    let mut history = History::new();
    if let Some(rtt) = rtt {
        history.record_success(path("[2001:db8::1]:443"), ms(rtt), t0);
    }
    Scenario::host(Config::default().delay_schedule(schedule))
        .dns("AAAA", addrs(0, &["2001:db8::1", "2001:db8::2"]))
        .dns("A", a)
        .net("2001:db8::1", Outcome::Hang)
        .default_outcome(Outcome::Connect(ms(5)))
        .history(&history)
        .run_at(t0 + ms(1000))
}

/// V46 (§7, MAY): "if an earlier attempt shows no progress in its expected time, fire early,
/// not under the minimum delay". ::1's expected time is its smoothed round trip, 120 ms
/// (the schedule's delay: 360 ms). The A answer arrives at 200 ms, ::1 silent since 0 ms:
/// 192.0.2.1 (re-sorted next, V45) starts at once, at 200 ms, not at 360 ms. Arriving at
/// 50 ms, within the expected time, it moves the next start to 120 ms (the expected time),
/// not to 50 ms.
#[test]
fn v46_a_late_answer_fires_early_after_the_expected_time() {
    let late = v46(Some(120), DelaySchedule::Rtt, addrs(200, &["192.0.2.1"]));
    assert_eq!(
        late.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(200), sa("192.0.2.1:443"))
        ]
    );
    let early = v46(Some(120), DelaySchedule::Rtt, addrs(50, &["192.0.2.1"]));
    assert_eq!(
        early.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(120), sa("192.0.2.1:443"))
        ]
    );
}

/// V46, V30: never under the Minimum Connection Attempt Delay. ::1's expected time is 40 ms
/// (the schedule's delay 120 ms); the A answer at 50 ms brings the next start to 100 ms, the
/// minimum, not to 40 or 50 ms.
#[test]
fn v46_never_under_the_minimum_delay() {
    let trace = v46(Some(40), DelaySchedule::Rtt, addrs(50, &["192.0.2.1"]));
    assert_eq!(
        trace.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(100), sa("192.0.2.1:443"))
        ]
    );
}

/// V46: the expected time comes only from history. Without ::1's round trip the RTT schedule
/// is the fixed one and the A answer at 200 ms waits for the 250 ms timer (V45 still puts
/// 192.0.2.1 next). With the default (fixed) schedule, history times ::1's delay (360 ms,
/// R26) but nothing fires early: V46 is the RTT schedule's.
#[test]
fn v46_without_history_or_the_rtt_schedule_the_timer_rules() {
    let without = v46(None, DelaySchedule::Rtt, addrs(200, &["192.0.2.1"]));
    assert_eq!(
        without.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(250), sa("192.0.2.1:443"))
        ]
    );
    let fixed = v46(Some(120), DelaySchedule::Fixed, addrs(200, &["192.0.2.1"]));
    assert_eq!(
        fixed.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(360), sa("192.0.2.1:443"))
        ]
    );
}

/// V46: "a DNS update alone does not move the timer". An A answer at 200 ms that adds no
/// endpoint (empty) leaves ::2 to the 360 ms timer; with no update at all the timer is the
/// same. An attempt that shows progress (TCP up at 80 ms, within its expected time) keeps
/// V33's extended timer (80 + 360 = 440 ms) although the A answer arrives at 100 ms.
#[test]
fn v46_an_update_alone_or_progress_keeps_the_timer() {
    let empty = v46(Some(120), DelaySchedule::Rtt, addrs(200, &[]));
    assert_eq!(
        empty.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(360), sa("[2001:db8::2]:443"))
        ]
    );
    let t0 = base_instant();
    let mut history = History::new();
    history.record_success(path("[2001:db8::1]:443"), ms(120), t0);
    let progress = Scenario::host(Config::default().delay_schedule(DelaySchedule::Rtt))
        .dns("AAAA", addrs(0, &["2001:db8::1", "2001:db8::2"]))
        .dns("A", addrs(100, &["192.0.2.1"]))
        .net("2001:db8::1", Outcome::Hang)
        .default_outcome(Outcome::Connect(ms(5)))
        .history(&history)
        .at(80, Extra::Progress(0))
        .run_at(t0 + ms(1000));
    assert_eq!(
        progress.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(440), sa("192.0.2.1:443"))
        ]
    );
}
