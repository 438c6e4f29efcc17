//! RFC 8305 §4: Sorting Addresses (R11, R12, R17, R18, G6) and the address cap.

mod common;

use common::sim::{ms, sa, Outcome, Scenario};
use eyeballs_core::{Config, FamilyPolicy, Target};

fn order(s: &[&str]) -> Vec<std::net::SocketAddr> {
    s.iter()
        .map(|a| {
            a.parse()
                .unwrap_or_else(|_| std::net::SocketAddr::new(common::sim::ip(a), 443))
        })
        .collect()
}

/// Everything fails at once, so the whole list is walked (10 ms apart) and the order shows.
fn walk(s: Scenario) -> Vec<std::net::SocketAddr> {
    s.default_outcome(Outcome::Fail(ms(0))).run().order()
}

/// R11, R17: "the whole list is raced" and "the first address of the other family moves to
/// position 2" — families alternate, starting with IPv6, until one runs out.
#[test]
fn r11_r17_families_are_interleaved_and_all_are_tried() {
    let s = Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        .a(0, &["192.0.2.1", "192.0.2.2"]);
    assert_eq!(
        walk(s),
        order(&[
            "2001:db8::1",
            "192.0.2.1",
            "2001:db8::2",
            "192.0.2.2",
            "2001:db8::3"
        ])
    );
}

/// R18: "the 'First Address Family Count' ... a value of 2" lets two IPv6 addresses go first.
#[test]
fn r18_first_address_family_count() {
    let s = Scenario::host(Config::default().first_address_family_count(2))
        .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        .a(0, &["192.0.2.1", "192.0.2.2"]);
    assert_eq!(
        walk(s),
        order(&[
            "2001:db8::1",
            "2001:db8::2",
            "192.0.2.1",
            "2001:db8::3",
            "192.0.2.2"
        ])
    );
}

/// R17 with the preference flipped: IPv4 first, and R5's Resolution Delay mirrored — an
/// AAAA answer that comes first waits 50 ms for A.
#[test]
fn prefer_v4_starts_with_ipv4() {
    let s = Scenario::host(Config::default().family_policy(FamilyPolicy::PreferV4))
        .aaaa(0, &["2001:db8::1", "2001:db8::2"])
        .a(0, &["192.0.2.1"]);
    assert_eq!(walk(s), order(&["192.0.2.1", "2001:db8::1", "2001:db8::2"]));
    let trace = Scenario::host(Config::default().family_policy(FamilyPolicy::PreferV4))
        .aaaa(0, &["2001:db8::1"])
        .a(30, &["192.0.2.1"])
        .net("192.0.2.1", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(30), sa("192.0.2.1:443"))]);
    let trace = Scenario::host(Config::default().family_policy(FamilyPolicy::PreferV4))
        .aaaa(0, &["2001:db8::1"])
        .a(900, &["192.0.2.1"])
        .net("2001:db8::1", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(50), sa("[2001:db8::1]:443"))]);
}

/// Family-only policies drop the other family, even from a combined answer.
#[test]
fn only_policies_filter_addresses() {
    let both = ["192.0.2.1", "2001:db8::1", "192.0.2.2"];
    let s = Scenario::with_target(
        Config::default().family_policy(FamilyPolicy::V4Only),
        Target::host_combined("example.test", 443),
    )
    .both(0, &both);
    assert_eq!(walk(s), order(&["192.0.2.1", "192.0.2.2"]));
    let s = Scenario::with_target(
        Config::default().family_policy(FamilyPolicy::V6Only),
        Target::host_combined("example.test", 443),
    )
    .both(0, &both);
    assert_eq!(walk(s), order(&["2001:db8::1"]));
}

/// R12, RFC 6724 rule 6 (higher precedence first): native IPv6 (40) before 6to4 (30),
/// Teredo (5) and unique-local (3), whatever the answer's order.
#[test]
fn r12_rule6_precedence() {
    let s = Scenario::host(Config::default().family_policy(FamilyPolicy::V6Only)).aaaa(
        0,
        &["fc00::1", "2001::1", "2002:c000:201::1", "2001:db8::1"],
    );
    assert_eq!(
        walk(s),
        order(&["2001:db8::1", "2002:c000:201::1", "2001::1", "fc00::1"])
    );
}

/// R12, RFC 6724 rule 6 across families: `::1` (50) sorts before IPv4 (35), but the family
/// interleaving still decides who goes first (the preferred family).
#[test]
fn r12_rule6_loopback() {
    let s = Scenario::addrs(
        Config::default().family_policy(FamilyPolicy::V6Only),
        &["[2001:db8::1]:443", "[::1]:443"],
    );
    assert_eq!(walk(s), order(&["[::1]:443", "[2001:db8::1]:443"]));
}

/// R12, RFC 6724 rule 8 (smaller scope first), for equal precedence: link-local before
/// global, in both families (IPv4 169.254/16 and 127/8 are link-local, §3.2).
#[test]
fn r12_rule8_scope() {
    let s = Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1", "fe80::1"])
        .a(0, &["192.0.2.1", "169.254.0.1"]);
    assert_eq!(
        walk(s),
        order(&["fe80::1", "169.254.0.1", "2001:db8::1", "192.0.2.1"])
    );
}

/// RFC 6724 rule 10: otherwise the given order is kept (getaddrinfo already applied the
/// source-address rules).
#[test]
fn rule10_the_resolver_order_is_kept() {
    let s = Scenario::with_target(
        Config::default(),
        Target::host_combined("example.test", 443),
    )
    .both(0, &["192.0.2.2", "2001:db8::2", "192.0.2.1", "2001:db8::1"]);
    assert_eq!(
        walk(s),
        order(&["2001:db8::2", "192.0.2.2", "2001:db8::1", "192.0.2.1"])
    );
}

/// Duplicates within and across answers are attempted once.
#[test]
fn duplicates_are_removed() {
    let s = Scenario::with_target(
        Config::default(),
        Target::host_combined("example.test", 443),
    )
    .both(0, &["192.0.2.1", "192.0.2.1", "2001:db8::1", "2001:db8::1"]);
    assert_eq!(walk(s), order(&["2001:db8::1", "192.0.2.1"]));
    let s = Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1", "::ffff:192.0.2.1"])
        .a(0, &["192.0.2.1"]);
    // An IPv4-mapped address in an AAAA answer is a distinct socket address, kept as given.
    assert_eq!(walk(s).len(), 3);
}

/// G6: a late family's best address is the next one attempted (HEv3 §7 re-sorts the whole
/// list), keeping the families interleaved.
#[test]
fn g6_a_late_family_goes_next() {
    let trace = Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        .a(300, &["192.0.2.1", "192.0.2.2"])
        .net("192.0.2.2", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(250), sa("[2001:db8::2]:443")),
            (ms(500), sa("192.0.2.1:443")),
            (ms(750), sa("[2001:db8::3]:443")),
            (ms(1000), sa("192.0.2.2:443")),
        ]
    );
}

/// The address cap keeps the most preferred addresses: the tail of the interleaved list goes.
#[test]
fn max_addresses_drops_the_least_preferred() {
    let s = Scenario::host(Config::default().max_endpoints(Some(3)))
        .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        .a(0, &["192.0.2.1", "192.0.2.2"]);
    assert_eq!(walk(s), order(&["2001:db8::1", "192.0.2.1", "2001:db8::2"]));
}

/// Literal addresses need no DNS: the first attempt starts at once, sorted and interleaved.
#[test]
fn literals_skip_dns() {
    let trace = Scenario::addrs(
        Config::default(),
        &["192.0.2.1:80", "[2001:db8::1]:80", "192.0.2.2:80"],
    )
    .default_outcome(Outcome::Fail(ms(0)))
    .run();
    assert_eq!(
        trace.order(),
        order(&["[2001:db8::1]:80", "192.0.2.1:80", "192.0.2.2:80"])
    );
    assert!(trace
        .events
        .iter()
        .all(|(_, e)| !matches!(e, common::sim::Ev::Resolve(_))));
}

/// An empty literal list fails at once with "no addresses".
#[test]
fn no_literals_is_no_addresses() {
    let trace = Scenario::addrs(Config::default(), &[]).run();
    assert_eq!(
        trace.failure(),
        Some((ms(0), eyeballs_core::FailureReason::NoAddresses))
    );
}
