//! RFC 8305 §6: Handling Network Changes — addresses that come and go mid-race (R31–R33).

mod common;

use common::sim::{ip, ms, sa, Extra, Outcome, Scenario};
use eyeballs_core::Config;

/// R31: "If ... an address is removed ... for which a connection attempt has already been
/// started, the connection attempt SHOULD NOT be canceled."
#[test]
fn r31_removing_an_attempted_address_does_not_cancel_it() {
    let trace = Scenario::dual()
        .net("2001:db8::1", Outcome::Connect(ms(400)))
        .at(
            100,
            Extra::Changed {
                added: vec![],
                removed: vec![ip("2001:db8::1")],
            },
        )
        .run();
    assert!(trace
        .cancels()
        .iter()
        .all(|(_, a)| *a != sa("[2001:db8::1]:443")));
    assert_eq!(trace.winner(), Some((ms(400), sa("[2001:db8::1]:443"))));
}

/// R32: "If ... an address is removed ... that has not yet been attempted, it SHOULD be
/// removed from the list of addresses to attempt."
#[test]
fn r32_removing_an_untried_address_drops_it() {
    let trace = Scenario::dual()
        .net("192.0.2.2", Outcome::Connect(ms(1)))
        .at(
            100,
            Extra::Changed {
                added: vec![],
                removed: vec![ip("192.0.2.1")],
            },
        )
        .run();
    // IPv4's turn comes at 250 ms, and 192.0.2.1 is gone.
    assert_eq!(
        trace.order(),
        vec![sa("[2001:db8::1]:443"), sa("192.0.2.2:443")]
    );
}

/// R33: an address added mid-race (DNS push, RFC 8765) "SHOULD be sorted into the list of
/// addresses not yet attempted according to the rules above" — a new IPv4 address with a
/// smaller scope goes before the untried ones of its family.
#[test]
fn r33_an_added_address_is_sorted_into_the_untried_ones() {
    let trace = Scenario::dual()
        .default_outcome(Outcome::Fail(ms(300)))
        .net("169.254.0.1", Outcome::Connect(ms(1)))
        .at(
            100,
            Extra::Changed {
                added: vec![ip("169.254.0.1")],
                removed: vec![],
            },
        )
        .run();
    assert_eq!(
        trace.order(),
        vec![sa("[2001:db8::1]:443"), sa("169.254.0.1:443")],
        "the link-local address sorts before 192.0.2.1 (RFC 6724 rule 8)"
    );
}

/// R32 then R33: an address withdrawn and then re-announced is tried, once, in its new place
/// (it arrived last, so RFC 6724 rule 10 puts it after 192.0.2.2).
#[test]
fn a_withdrawn_address_can_come_back() {
    let trace = Scenario::dual()
        .net("192.0.2.1", Outcome::Connect(ms(1)))
        .at(
            10,
            Extra::Changed {
                added: vec![],
                removed: vec![ip("192.0.2.1")],
            },
        )
        .at(
            20,
            Extra::Changed {
                added: vec![ip("192.0.2.1")],
                removed: vec![],
            },
        )
        .run();
    assert_eq!(
        trace.order(),
        vec![
            sa("[2001:db8::1]:443"),
            sa("192.0.2.2:443"),
            sa("[2001:db8::2]:443"),
            sa("192.0.2.1:443")
        ]
    );
    assert_eq!(trace.winner(), Some((ms(751), sa("192.0.2.1:443"))));
}

/// R32 before any attempt: the only address held during the Resolution Delay is withdrawn,
/// so the delay's end starts nothing (and is no deadline: found by the fuzzer as a deadline
/// in the past). When an address comes back after the delay, it starts at once.
#[test]
fn r32_withdrawing_everything_held_during_the_resolution_delay() {
    let trace = Scenario::host(Config::default().timeout(Some(ms(1000))))
        .dns("AAAA", common::sim::Answer::Never)
        .a(10, &["192.0.2.1"])
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .at(
            20,
            Extra::Changed {
                added: vec![],
                removed: vec![ip("192.0.2.1")],
            },
        )
        .at(
            100,
            Extra::Changed {
                added: vec![ip("192.0.2.1")],
                removed: vec![],
            },
        )
        .run();
    assert_eq!(trace.starts(), vec![(ms(100), sa("192.0.2.1:443"))]);
    assert_eq!(trace.winner(), Some((ms(105), sa("192.0.2.1:443"))));
}

/// R33 for a race built from literals: an added address takes the literals' port.
#[test]
fn r33_added_addresses_take_the_literal_port() {
    let trace = Scenario::addrs(Config::default(), &["192.0.2.1:8443"])
        .net("192.0.2.9:8443", Outcome::Connect(ms(1)))
        .at(
            100,
            Extra::Changed {
                added: vec![ip("192.0.2.9")],
                removed: vec![],
            },
        )
        .run();
    assert_eq!(trace.winner(), Some((ms(251), sa("192.0.2.9:8443"))));
}
