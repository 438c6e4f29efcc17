//! RFC 8305 §7: NAT64 synthesis (R36), with the RFC 6052 §2.4 examples.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use common::sim::{ms, sa, Outcome, Scenario};
use eyeballs_core::{Config, FamilyPolicy, Nat64Error, Nat64Prefix};

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
