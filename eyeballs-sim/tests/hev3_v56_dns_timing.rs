//! V56: the eight DNS-timing examples of draft-ietf-happy-happyeyeballs-v3-04, §4.2.2, as
//! exact timelines through the simulator (the connectors' own race runner).
//!
//! The draft gives each example as a sequence diagram: which answers arrive when, and
//! when the client starts ("Start w/IPv6", "Set 50ms timer", "Update w/IPv6 + IPv4").
//! Each test scripts that sequence and asserts the whole attempt timeline our rules
//! derive from it: the Resolution Delay (50 ms, armed at the first positive address
//! answer, HG7), the Connection Attempt Delay (250 ms, not moved by a DNS update, V46),
//! families interleaved (R17, V25), late endpoints re-sorted into the complete list (V45).
//!
//! The network: `example.test` has AAAA 2001:db8::1, 2001:db8::2 and A 192.0.2.1,
//! 192.0.2.2; its HTTPS record is `1 . alpn=h2` (service information without hints, so
//! every endpoint is TCP). Every endpoint hangs, so each attempt of the list starts in
//! turn, and the race ends at its overall deadline: the timeline is the whole list.

use std::time::Duration;

use eyeballs_sim::{
    Answer, Config, Event, FamilyPolicy, Network, Peer, Protocols, QueryKind, ServiceRecord, Sim,
};

const HOST: &str = "example.test";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The HTTPS record of the examples: service information, no hints.
fn no_hints() -> ServiceRecord {
    ServiceRecord::new(1, ".").alpn(["h2"])
}

fn aaaa(after: u64) -> Answer {
    Answer::addrs(["2001:db8::1", "2001:db8::2"]).after(ms(after))
}

fn a(after: u64) -> Answer {
    Answer::addrs(["192.0.2.1", "192.0.2.2"]).after(ms(after))
}

fn https(after: u64, records: Vec<ServiceRecord>) -> Answer {
    Answer::records(records).after(ms(after))
}

/// Runs a TLS race (HTTPS, AAAA and A asked, V3) against `network`, every endpoint
/// hanging, with an overall deadline of `deadline_ms`; returns the attempts' starts.
fn timeline(network: Network, config: Config, deadline_ms: u64) -> Vec<(Duration, String)> {
    let network = network.otherwise(Peer::hang());
    let config = config.timeout(Some(ms(deadline_ms)));
    let mut sim = Sim::builder(network)
        .config(config)
        .build()
        .expect("a valid script");
    let run = sim.connect_tls((HOST, 443), &Protocols::http());
    assert!(!run.is_stuck(), "the deadline ends the race");
    assert_eq!(run.elapsed(), ms(deadline_ms));
    run.tries()
}

fn tries(list: &[(u64, &str)]) -> Vec<(Duration, String)> {
    list.iter()
        .map(|&(t, what)| (ms(t), what.to_owned()))
        .collect()
}

/// "A simple dual-stack case where AAAA answers return slightly before A answers": HTTPS
/// (no hints) and AAAA at 30 ms start the race with IPv6 at once (V5 (a)); A at 32 ms
/// updates the list, and IPv4 is the next attempt (R17).
#[test]
fn example_1_dual_stack_aaaa_slightly_before_a() {
    let network = Network::new()
        .dns(HOST, QueryKind::Https, https(30, vec![no_hints()]))
        .dns(HOST, QueryKind::Aaaa, aaaa(30))
        .dns(HOST, QueryKind::A, a(32));
    assert_eq!(
        timeline(network, Config::default(), 1000),
        tries(&[
            (30, "TCP [2001:db8::1]:443"),
            (280, "TCP 192.0.2.1:443"),
            (530, "TCP [2001:db8::2]:443"),
            (780, "TCP 192.0.2.2:443"),
        ])
    );
}

/// "A answers return before AAAA answers, but AAAA answers do arrive after a short
/// delay": A (and HTTPS) at 30 ms set the 50 ms timer (R5); AAAA at 40 ms, inside it,
/// starts the race with both families, IPv6 first (R6).
#[test]
fn example_2_a_first_aaaa_within_the_resolution_delay() {
    let network = Network::new()
        .dns(HOST, QueryKind::Https, https(30, vec![no_hints()]))
        .dns(HOST, QueryKind::A, a(30))
        .dns(HOST, QueryKind::Aaaa, aaaa(40));
    assert_eq!(
        timeline(network, Config::default(), 1000),
        tries(&[
            (40, "TCP [2001:db8::1]:443"),
            (290, "TCP 192.0.2.1:443"),
            (540, "TCP [2001:db8::2]:443"),
            (790, "TCP 192.0.2.2:443"),
        ])
    );
}

/// "A answers return significantly before AAAA answers": the 50 ms timer set at 30 ms
/// runs out at 80 ms and the race starts with IPv4 (R7); AAAA at 180 ms updates the list:
/// re-sorted whole (V45), and dealt on from the picks already made, so the families keep
/// alternating (V25): IPv6's best is next, then IPv4, then IPv6, on the timer the first
/// attempt armed (a DNS update does not move it, V46).
#[test]
fn example_3_a_first_aaaa_past_the_resolution_delay() {
    let network = Network::new()
        .dns(HOST, QueryKind::Https, https(30, vec![no_hints()]))
        .dns(HOST, QueryKind::A, a(30))
        .dns(HOST, QueryKind::Aaaa, aaaa(180));
    assert_eq!(
        timeline(network, Config::default(), 1000),
        tries(&[
            (80, "TCP 192.0.2.1:443"),
            (330, "TCP [2001:db8::1]:443"),
            (580, "TCP 192.0.2.2:443"),
            (830, "TCP [2001:db8::2]:443"),
        ])
    );
}

/// "SVCB/HTTPS answers are slightly delayed": AAAA and A at 30 ms set the 50 ms timer
/// (V5 (a) waits for service information, HG7); HTTPS at 40 ms, inside it, starts the
/// race with both families.
#[test]
fn example_4_https_slightly_delayed() {
    let network = Network::new()
        .dns(HOST, QueryKind::Aaaa, aaaa(30))
        .dns(HOST, QueryKind::A, a(30))
        .dns(HOST, QueryKind::Https, https(40, vec![no_hints()]));
    assert_eq!(
        timeline(network, Config::default(), 1000),
        tries(&[
            (40, "TCP [2001:db8::1]:443"),
            (290, "TCP 192.0.2.1:443"),
            (540, "TCP [2001:db8::2]:443"),
            (790, "TCP 192.0.2.2:443"),
        ])
    );
}

/// "SVCB/HTTPS answers are significantly delayed, or never arrive": the 50 ms timer set
/// by AAAA and A at 30 ms starts the race at 80 ms (V5 (b)). An HTTPS answer that comes
/// at 500 ms with the same service changes nothing; one that never comes, neither.
#[test]
fn example_5_https_significantly_delayed_or_never() {
    let expected = tries(&[
        (80, "TCP [2001:db8::1]:443"),
        (330, "TCP 192.0.2.1:443"),
        (580, "TCP [2001:db8::2]:443"),
        (830, "TCP 192.0.2.2:443"),
    ]);
    for late in [https(500, vec![no_hints()]), Answer::never()] {
        let network = Network::new()
            .dns(HOST, QueryKind::Aaaa, aaaa(30))
            .dns(HOST, QueryKind::A, a(30))
            .dns(HOST, QueryKind::Https, late);
        assert_eq!(timeline(network, Config::default(), 1000), expected);
    }
}

/// "AAAA answers are delayed, but hints are available": the HTTPS answer at 30 ms with
/// `ipv6hint` and `ipv4hint` starts the race on the hints alone, both families (V10);
/// AAAA and A arriving later (300 ms) with the same addresses change nothing.
#[test]
fn example_6_aaaa_delayed_hints_available() {
    let hinted = ServiceRecord::new(1, ".")
        .alpn(["h2"])
        .ipv6_hints([
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        ])
        .ipv4_hints(["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()]);
    let network = Network::new()
        .dns(HOST, QueryKind::Https, https(30, vec![hinted]))
        .dns(HOST, QueryKind::Aaaa, aaaa(300))
        .dns(HOST, QueryKind::A, a(300));
    assert_eq!(
        timeline(network, Config::default(), 1000),
        tries(&[
            (30, "TCP [2001:db8::1]:443"),
            (280, "TCP 192.0.2.1:443"),
            (530, "TCP [2001:db8::2]:443"),
            (780, "TCP 192.0.2.2:443"),
        ])
    );
}

/// "SVCB/HTTPS answers return with multiple service names (`.` and `alt`)": everything
/// at 30 ms starts the race with the origin's addresses (the `.` service, priority 1) and
/// sends AAAA and A for `alt` at the same instant (V10); their answers (one address each,
/// at 60 ms) update the list with the second service's group, after the first's (V19,
/// V28).
#[test]
fn example_7_two_services_with_follow_up_aaaa_and_a() {
    let alt = "alt.example.test";
    let records = vec![no_hints(), ServiceRecord::new(2, alt).alpn(["h2"])];
    let network = Network::new()
        .dns(HOST, QueryKind::Https, https(30, records))
        .dns(HOST, QueryKind::Aaaa, aaaa(30))
        .dns(HOST, QueryKind::A, a(30))
        .dns(
            alt,
            QueryKind::Aaaa,
            Answer::addrs(["2001:db8::a"]).after(ms(30)),
        )
        .dns(
            alt,
            QueryKind::A,
            Answer::addrs(["192.0.2.10"]).after(ms(30)),
        );
    let mut sim = Sim::builder(network.clone().otherwise(Peer::hang()))
        .config(Config::default().timeout(Some(ms(2000))))
        .build()
        .expect("a valid script");
    let run = sim.connect_tls((HOST, 443), &Protocols::http());
    let queries: Vec<(Duration, String)> = run
        .events()
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Query { name, kind } => Some((*t, format!("{kind} {name}"))),
            _ => None,
        })
        .collect();
    assert_eq!(
        queries,
        tries(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (30, "AAAA alt.example.test"),
            (30, "A alt.example.test"),
        ])
    );
    assert_eq!(
        timeline(network, Config::default(), 2000),
        tries(&[
            (30, "TCP [2001:db8::1]:443"),
            (280, "TCP 192.0.2.1:443"),
            (530, "TCP [2001:db8::2]:443"),
            (780, "TCP 192.0.2.2:443"),
            (1030, "TCP [2001:db8::a]:443"),
            (1280, "TCP 192.0.2.10:443"),
        ])
    );
}

/// "An IPv4-only network connection where SVCB/HTTPS answers are slightly delayed": the
/// client asks only HTTPS and A (V4: no AAAA without IPv6 connectivity; our drivers do not
/// detect that themselves, so the configuration says `V4Only`, as such a client's would).
/// A at 30 ms sets the 50 ms timer; HTTPS at 40 ms, inside it, starts the race with IPv4.
#[test]
fn example_8_ipv4_only_https_slightly_delayed() {
    let network = Network::new()
        .no_route(eyeballs_sim::Family::V6)
        .dns(HOST, QueryKind::A, a(30))
        .dns(HOST, QueryKind::Https, https(40, vec![no_hints()]));
    let config = Config::default().family_policy(FamilyPolicy::V4Only);
    assert_eq!(
        timeline(network, config, 1000),
        tries(&[(40, "TCP 192.0.2.1:443"), (290, "TCP 192.0.2.2:443")])
    );
}
