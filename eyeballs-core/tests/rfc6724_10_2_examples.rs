//! RFC 6724 §6 destination address selection, all ten rules (RFC 8305 §4 R12), checked
//! against the examples of RFC 6724 §10.2.
//!
//! Each example gives the host's source addresses and two destinations; the driver tells the
//! race which source the kernel would pick for each destination (`Source`), as RFC 6724 §5
//! does, and the race must try the destinations in the example's order. Every attempt fails
//! at once, so both start (10 ms apart, R28) and the order shows.
//!
//! One substitution: the third example uses 10.1.2.3 and 10.1.2.4; the project's network rule
//! keeps private IPv4 ranges out of the code, so 203.0.113.3 and 203.0.113.4 (also global
//! scope, same precedence and label) stand in for them.

mod common;

use std::net::SocketAddr;

use common::sim::{ip, ms, Outcome, Scenario};
use eyeballs_core::{Config, Source, Target};

/// Races `dests` (in the given order) with each destination's source, and returns the order
/// the race tried them in.
fn order(dests: &[(&str, Source)]) -> Vec<String> {
    let target = Target::addrs(dests.iter().map(|(d, _)| SocketAddr::new(ip(d), 443)));
    let mut s =
        Scenario::with_target(Config::default(), target).default_outcome(Outcome::Fail(ms(0)));
    for (d, _) in dests {
        s.literals.push(ip(d));
    }
    for (_, route) in dests {
        s = s.route(*route);
    }
    s.run().order().iter().map(|a| a.ip().to_string()).collect()
}

/// The source `src` for destination `dst`.
fn via(dst: &str, src: &str) -> Source {
    Source::new(ip(dst), ip(src))
}

/// Rule 2, prefer matching scope: 2001:db8:1::1 (src 2001:db8:1::2) before 198.51.100.121
/// (src 169.254.13.78, a link-local source for a global destination).
#[test]
fn rule2_matching_scope_ipv6_first() {
    let got = order(&[
        ("198.51.100.121", via("198.51.100.121", "169.254.13.78")),
        ("2001:db8:1::1", via("2001:db8:1::1", "2001:db8:1::2")),
    ]);
    assert_eq!(got, ["2001:db8:1::1", "198.51.100.121"]);
}

/// Rule 2, prefer matching scope: 198.51.100.121 (src 198.51.100.117) before 2001:db8:1::1
/// (src fe80::1). This is the case users hit: the host's only IPv6 source is link-local, so
/// IPv4 goes first although IPv6 is preferred.
#[test]
fn rule2_matching_scope_ipv4_first() {
    let got = order(&[
        ("2001:db8:1::1", via("2001:db8:1::1", "fe80::1")),
        ("198.51.100.121", via("198.51.100.121", "198.51.100.117")),
    ]);
    assert_eq!(got, ["198.51.100.121", "2001:db8:1::1"]);
}

/// Rule 6, prefer higher precedence: 2001:db8:1::1 (40) before an IPv4 address (35).
#[test]
fn rule6_higher_precedence() {
    let got = order(&[
        ("203.0.113.3", via("203.0.113.3", "203.0.113.4")),
        ("2001:db8:1::1", via("2001:db8:1::1", "2001:db8:1::2")),
    ]);
    assert_eq!(got, ["2001:db8:1::1", "203.0.113.3"]);
}

/// Rule 8, prefer smaller scope: fe80::1 (src fe80::2) before 2001:db8:1::1.
#[test]
fn rule8_smaller_scope() {
    let got = order(&[
        ("2001:db8:1::1", via("2001:db8:1::1", "2001:db8:1::2")),
        ("fe80::1", via("fe80::1", "fe80::2")),
    ]);
    assert_eq!(got, ["fe80::1", "2001:db8:1::1"]);
}

/// Rule 4, prefer home addresses: 2001:db8:1::1 (src 2001:db8:3::1, the home address) before
/// fe80::1 (src fe80::2, a care-of address), although rule 8 alone would put fe80::1 first.
#[test]
fn rule4_home_address() {
    let got = order(&[
        ("fe80::1", via("fe80::1", "fe80::2")),
        (
            "2001:db8:1::1",
            via("2001:db8:1::1", "2001:db8:3::1").home(true),
        ),
    ]);
    assert_eq!(got, ["2001:db8:1::1", "fe80::1"]);
}

/// Rule 3, avoid deprecated addresses: 2001:db8:1::1 (src 2001:db8:1::2) before fe80::1,
/// whose source fe80::2 is deprecated.
#[test]
fn rule3_avoid_deprecated() {
    let got = order(&[
        ("fe80::1", via("fe80::1", "fe80::2").deprecated(true)),
        ("2001:db8:1::1", via("2001:db8:1::1", "2001:db8:1::2")),
    ]);
    assert_eq!(got, ["2001:db8:1::1", "fe80::1"]);
}

/// Rule 9, longest matching prefix: 2001:db8:1::1 (src 2001:db8:1::2, 64 bits in common)
/// before 2001:db8:3ffe::1 (src 2001:db8:3f44::2, 40 bits).
#[test]
fn rule9_longest_matching_prefix() {
    let got = order(&[
        (
            "2001:db8:3ffe::1",
            via("2001:db8:3ffe::1", "2001:db8:3f44::2"),
        ),
        ("2001:db8:1::1", via("2001:db8:1::1", "2001:db8:1::2")),
    ]);
    assert_eq!(got, ["2001:db8:1::1", "2001:db8:3ffe::1"]);
}

/// Rule 5, prefer matching label: 2002:c633:6401::1 before 2001:db8:1::1 when both would
/// be sent from the 6to4 source 2002:c633:6401::2 (label 2 matches only the 6to4 destination).
#[test]
fn rule5_matching_label() {
    let got = order(&[
        ("2001:db8:1::1", via("2001:db8:1::1", "2002:c633:6401::2")),
        (
            "2002:c633:6401::1",
            via("2002:c633:6401::1", "2002:c633:6401::2"),
        ),
    ]);
    assert_eq!(got, ["2002:c633:6401::1", "2001:db8:1::1"]);
}

/// Rule 6 again: with a native source for the native destination, 2001:db8:1::1 (precedence
/// 40) goes before the 6to4 destination (30).
#[test]
fn rule6_native_before_6to4() {
    let got = order(&[
        (
            "2002:c633:6401::1",
            via("2002:c633:6401::1", "2002:c633:6401::2"),
        ),
        ("2001:db8:1::1", via("2001:db8:1::1", "2001:db8:1::2")),
    ]);
    assert_eq!(got, ["2001:db8:1::1", "2002:c633:6401::1"]);
}

/// Rule 1, avoid unusable destinations: one without a route goes last, whatever its family.
#[test]
fn rule1_no_route_goes_last() {
    let got = order(&[
        ("2001:db8:1::1", Source::unreachable(ip("2001:db8:1::1"))),
        ("198.51.100.121", via("198.51.100.121", "198.51.100.117")),
    ]);
    assert_eq!(got, ["198.51.100.121", "2001:db8:1::1"]);
}

/// Rule 5 across families, the other symptom users report: the host's only IPv6 source is a
/// ULA (fd00::/8, label 13), the destination is global (label 1), so IPv4, whose labels match,
/// goes first.
#[test]
fn rule5_ula_only_source_puts_ipv4_first() {
    let got = order(&[
        ("2001:db8:1::1", via("2001:db8:1::1", "fd00::2")),
        ("198.51.100.121", via("198.51.100.121", "198.51.100.117")),
    ]);
    assert_eq!(got, ["198.51.100.121", "2001:db8:1::1"]);
}

/// Rule 7, prefer native transport: of two IPv6 destinations otherwise alike, the one reached
/// through a tunnel goes last.
#[test]
fn rule7_native_transport() {
    let got = order(&[
        (
            "2001:db8:1::1",
            via("2001:db8:1::1", "2001:db8:9::2").encapsulated(true),
        ),
        ("2001:db8:2::1", via("2001:db8:2::1", "2001:db8:9::2")),
    ]);
    assert_eq!(got, ["2001:db8:2::1", "2001:db8:1::1"]);
}

/// HEv3 §4.2 V6 with RFC 6724: IPv6 is the preferred family only with a good route. Here
/// the AAAA answer comes first (at 0 ms), but its destination would be reached from a ULA
/// source (label mismatch, rule 5): the race does not start it at once (R4 would), it waits
/// for A (at 20 ms) and starts IPv4 first. With a global IPv6 source it starts IPv6 at 0.
#[test]
fn a_poor_ipv6_route_waits_for_ipv4() {
    use common::sim::Answer;
    let run = |source: &str| {
        Scenario::host(Config::default())
            .dns("AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:1::1")]))
            .dns("A", Answer::Addrs(ms(20), vec![ip("198.51.100.121")]))
            .route(via("2001:db8:1::1", source))
            .run()
            .starts()
            .into_iter()
            .map(|(t, a)| (t, a.ip().to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run("fd00::2"),
        [
            (ms(20), "198.51.100.121".to_string()),
            (ms(270), "2001:db8:1::1".to_string())
        ]
    );
    assert_eq!(
        run("2001:db8:9::2"),
        [
            (ms(0), "2001:db8:1::1".to_string()),
            (ms(250), "198.51.100.121".to_string())
        ]
    );
}
