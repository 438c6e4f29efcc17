//! RFC 8305 §7: NAT64 synthesis (R35–R38), with the RFC 6052 §2.4 examples; HEv3 at HEAD
//! §8: de-synthesis and synthesis without an IPv4 route (V50–V52, V57, V62).

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use common::sim::{ip, ms, sa, Outcome, Scenario};
use eyeballs_core::{Action, Config, FamilyPolicy, Nat64Error, Nat64Prefix, Race, Source, Target};

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// RFC 6052 §2.4, Table 1: 192.0.2.33 embedded under every prefix length.
#[test]
fn rfc6052_table_1_every_prefix_length() {
    let v4 = Ipv4Addr::new(192, 0, 2, 33);
    let cases = [
        ("2001:db8::", 32, "2001:db8:c000:221::"),
        ("2001:db8:100::", 40, "2001:db8:1c0:2:21::"),
        ("2001:db8:122::", 48, "2001:db8:122:c000:2:2100::"),
        ("2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::"),
        ("2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100:0"),
        ("2001:db8:122:344::", 96, "2001:db8:122:344::192.0.2.33"),
        ("64:ff9b::", 96, "64:ff9b::192.0.2.33"),
    ];
    for (prefix, len, want) in cases {
        let p = Nat64Prefix::new(v6(prefix), len).unwrap();
        assert_eq!(p.synthesize(v4), v6(want), "{prefix}/{len}");
        assert_eq!(p.prefix_len(), len);
        assert_eq!(p.addr(), v6(prefix));
    }
    assert_eq!(
        Nat64Prefix::WELL_KNOWN,
        Nat64Prefix::new(v6("64:ff9b::"), 96).unwrap()
    );
    assert_eq!(Nat64Prefix::WELL_KNOWN.to_string(), "64:ff9b::/96");
}

/// Prefixes RFC 6052 does not allow are rejected with a clear error.
#[test]
fn bad_prefixes_are_rejected() {
    assert_eq!(
        Nat64Prefix::new(v6("64:ff9b::"), 80),
        Err(Nat64Error::Length(80))
    );
    let err = Nat64Prefix::new(v6("64:ff9b::1"), 96).unwrap_err();
    assert!(err.to_string().contains("bits set beyond /96"), "{err}");
    let err = Nat64Prefix::new(v6("2001:db8:0:0:ff00::"), 96).unwrap_err();
    assert_eq!(err, Nat64Error::ReservedOctet(v6("2001:db8:0:0:ff00::")));
    assert!(Nat64Error::Length(80)
        .to_string()
        .contains("32, 40, 48, 56, 64, 96"));
}

/// R36: with a NAT64 prefix, IPv4 addresses are raced as the synthesized IPv6 addresses,
/// "as if they had been received in DNS responses".
#[test]
fn r36_ipv4_answers_are_raced_as_synthesized_ipv6() {
    let config = Config::default()
        .family_policy(FamilyPolicy::V6Only)
        .nat64(Some(Nat64Prefix::WELL_KNOWN));
    let trace = Scenario::host(config)
        .aaaa(0, &[])
        .a(5, &["192.0.2.33"])
        .net("64:ff9b::c000:221", Outcome::Connect(ms(3)))
        .run();
    assert_eq!(trace.starts(), vec![(ms(5), sa("[64:ff9b::c000:221]:443"))]);
    assert_eq!(trace.winner(), Some((ms(8), sa("[64:ff9b::c000:221]:443"))));
    let literal = Scenario::addrs(config, &["192.0.2.33:80"])
        .default_outcome(Outcome::Connect(ms(1)))
        .run();
    assert_eq!(literal.order(), vec![sa("[64:ff9b::c000:221]:80")]);
}

/// RFC 7050 §3: the prefix is found in the AAAA answer for `ipv4only.arpa`, whatever its
/// length, from either well-known address; answers without it give `None`.
#[test]
fn rfc7050_prefix_discovery() {
    for (prefix, len) in [
        ("64:ff9b::", 96),
        ("2001:db8:122:344::", 64),
        ("2001:db8:122:300::", 56),
        ("2001:db8:122::", 48),
        ("2001:db8:100::", 40),
        ("2001:db8::", 32),
    ] {
        let p = Nat64Prefix::new(v6(prefix), len).unwrap();
        for v4 in Nat64Prefix::IPV4ONLY_ARPA {
            let answer = [v6("2001:db8::dead"), p.synthesize(v4)];
            assert_eq!(Nat64Prefix::discover(&answer), Some(p), "{p} with {v4}");
        }
    }
    assert_eq!(Nat64Prefix::discover(&[]), None);
    assert_eq!(Nat64Prefix::discover(&[v6("64:ff9b::c000:ab01")]), None);
}

// ---- HEv3 at HEAD §8: de-synthesis, NAT64 without an IPv4 route (V50–V52, V57, V62) -------

/// The simulated host on an IPv6-only network with NAT64 (the well-known prefix): every
/// IPv4 destination it is asked about has no route.
fn ipv6_only(aaaa: &[&str], a: &[&str], unrouted: &[&str]) -> Scenario {
    let config = Config::default().nat64(Some(Nat64Prefix::WELL_KNOWN));
    let mut s = Scenario::host(config).aaaa(0, aaaa).a(0, a);
    for v4 in unrouted {
        s = s.route(Source::unreachable(ip(v4)));
    }
    s
}

/// V51, V62: "De-synthesize NAT64 IPv6 addresses (local or DNS64) to IPv4 before grouping,
/// sorting and connecting"; "a de-synthesized address uses its IPv4 form for grouping,
/// sorting and route lookups". DNS64 put 64:ff9b::c000:221 (192.0.2.33) first in the AAAA
/// answer: it is sorted as IPv4, so the native 2001:db8::1 goes first and it takes IPv4's
/// turn (250 ms), before 2001:db8::2. With the A answer's 192.0.2.33 it is one endpoint
/// (HG11), reached through NAT64 (no IPv4 route, V52).
#[test]
fn v51_v62_a_dns64_address_is_grouped_and_sorted_as_ipv4() {
    let trace = ipv6_only(
        &["64:ff9b::c000:221", "2001:db8::1", "2001:db8::2"],
        &["192.0.2.33"],
        &["192.0.2.33"],
    )
    .default_outcome(Outcome::Fail(ms(0)))
    .run();
    assert_eq!(
        trace.order(),
        vec![
            sa("[2001:db8::1]:443"),
            sa("[64:ff9b::c000:221]:443"),
            sa("[2001:db8::2]:443"),
        ]
    );
    let nat64: Vec<Option<Ipv4Addr>> = trace.endpoints().iter().map(|e| e.nat64_ipv4()).collect();
    assert_eq!(nat64, [None, Some(Ipv4Addr::new(192, 0, 2, 33)), None]);
}

/// V51, V52 on an IPv6-mostly network (464XLAT: IPv4 has a route through the CLAT): a
/// DNS64 address is de-synthesized and connected as IPv4, once with the A answer's.
#[test]
fn v51_v52_with_an_ipv4_route_the_ipv4_address_is_connected() {
    let trace = ipv6_only(&["64:ff9b::c000:221", "2001:db8::1"], &["192.0.2.33"], &[])
        .default_outcome(Outcome::Fail(ms(0)))
        .run();
    assert_eq!(
        trace.order(),
        vec![sa("[2001:db8::1]:443"), sa("192.0.2.33:443")]
    );
    assert!(trace.endpoints().iter().all(|e| e.nat64_ipv4().is_none()));
}

/// R35, V52 through the API: "an IPv4 endpoint without an IPv4 route is synthesized". The
/// driver says nothing of 192.0.2.33's route; whether it is reached through NAT64 follows
/// the network the other facts show: IPv6-only (a global IPv6 source, IPv4 unreachable)
/// synthesizes it, no such facts connect it directly.
#[test]
fn r35_v52_an_ipv6_only_network_synthesizes_ipv4_without_a_fact() {
    let t0 = common::sim::base_instant();
    let config = Config::default().nat64(Some(Nat64Prefix::WELL_KNOWN));
    let first = |facts: Vec<Source>| {
        let target = Target::addrs([sa("192.0.2.33:443")]).sources(facts);
        let mut race: Race<String> = Race::new(target, config, t0).unwrap();
        let ipv6_only = race.is_ipv6_only();
        match race.poll_action() {
            Some(Action::Connect { endpoint, .. }) => (ipv6_only, endpoint.addr()),
            other => panic!("{other:?}"),
        }
    };
    let v6_fact = Source::new(ip("2001:db8::1"), ip("2001:db8:ffff::100"));
    let no_v4 = Source::unreachable(ip("198.51.100.7"));
    assert_eq!(
        first(vec![v6_fact, no_v4]),
        (true, sa("[64:ff9b::c000:221]:443"))
    );
    assert_eq!(first(vec![v6_fact]), (false, sa("192.0.2.33:443")));
    assert_eq!(first(vec![]), (false, sa("192.0.2.33:443")));
}

/// V57 (RFC 6052 §3.1): "the well-known prefix 64:ff9b::/96 never represents a non-global
/// IPv4 address". 198.18.0.1 (benchmarking, RFC 5735 §3: not global; the race sends
/// nothing, and the project's tests name no RFC 1918 address as a destination) without a
/// route is not synthesized with it (the attempt goes to 198.18.0.1 and fails there), and
/// an AAAA answer 64:ff9b::c612:1 is not de-synthesized (it is raced as the IPv6 address it
/// is). A network-specific prefix may represent it.
#[test]
fn v57_the_well_known_prefix_never_stands_for_a_private_address() {
    let wkp = ipv6_only(&["64:ff9b::c612:1"], &["198.18.0.1"], &["198.18.0.1"])
        .default_outcome(Outcome::Fail(ms(0)))
        .run();
    assert_eq!(
        wkp.order(),
        vec![sa("[64:ff9b::c612:1]:443"), sa("198.18.0.1:443")]
    );
    let local = Nat64Prefix::new(v6("2001:db8:64::"), 96).unwrap();
    let mut s = Scenario::host(Config::default().nat64(Some(local)))
        .aaaa(0, &[])
        .a(0, &["198.18.0.1"])
        .route(Source::unreachable(ip("198.18.0.1")))
        .default_outcome(Outcome::Connect(ms(1)));
    s.sources = true;
    let trace = s.run();
    assert_eq!(trace.order(), vec![sa("[2001:db8:64::c612:1]:443")]);
    assert_eq!(
        Nat64Prefix::WELL_KNOWN.try_synthesize(Ipv4Addr::new(172, 16, 0, 1)),
        None
    );
    for private in [
        "10.1.1.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "192.168.1.1",
    ] {
        let v4: Ipv4Addr = private.parse().unwrap();
        assert!(!Nat64Prefix::WELL_KNOWN.represents(v4), "{private}");
        assert!(local.represents(v4), "{private}");
    }
}

/// R37 ("broken AAAA": DNS64 passes through an AAAA that does not work) as HEAD settles it
/// (V50: with a known prefix A is always asked): the A answer comes with the AAAA one, and
/// its address, synthesized locally, is IPv4's turn at 250 ms, not after R37's 2 s Last
/// Resort Local Synthesis Delay, even for an IPv6-only policy.
#[test]
fn r37_v50_a_broken_aaaa_costs_one_delay_not_two_seconds() {
    let config = Config::default()
        .family_policy(FamilyPolicy::V6Only)
        .nat64(Some(Nat64Prefix::WELL_KNOWN));
    let trace = Scenario::host(config)
        .aaaa(0, &["2001:db8::bad"])
        .a(0, &["192.0.2.33"])
        .net("64:ff9b::c000:221", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![
            (ms(0), sa("[2001:db8::bad]:443")),
            (ms(250), sa("[64:ff9b::c000:221]:443"))
        ]
    );
    assert_eq!(
        trace.winner(),
        Some((ms(255), sa("[64:ff9b::c000:221]:443")))
    );
}

/// R38 (a VPN's resolver answers an internal name with A only, the underlay IPv6-only): the
/// A answer without an IPv4 route is synthesized locally with the prefix (V52).
#[test]
fn r38_v52_an_a_only_answer_without_ipv4_route_is_synthesized() {
    let trace = ipv6_only(&[], &["198.51.100.7"], &["198.51.100.7"])
        .net("64:ff9b::c633:6407", Outcome::Connect(ms(2)))
        .run();
    assert_eq!(trace.order(), vec![sa("[64:ff9b::c633:6407]:443")]);
    assert_eq!(
        trace.winner(),
        Some((ms(2), sa("[64:ff9b::c633:6407]:443")))
    );
}
