//! RFC 8305 §4 and §5 with history: R13–R16 (ordering), R26–R27 (delays from RTT).

mod common;

use common::sim::{base_instant, ms, path, sa, Extra, Outcome, Scenario};
use eyeballs_core::{Config, History};

/// R13: "prefer ... lower RTT" — within a family, the address with the lower smoothed round
/// trip goes first; R14: a used address (one with a recorded round trip) before unknown ones.
#[test]
fn r13_r14_lower_rtt_and_used_addresses_first() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path("[2001:db8::2]:443"), ms(10), t0);
    h.record_success(path("192.0.2.2:443"), ms(30), t0);
    let trace = Scenario::dual()
        .history(&h)
        .default_outcome(Outcome::Fail(ms(0)))
        .run_at(t0);
    assert_eq!(
        trace.order(),
        vec![
            sa("[2001:db8::2]:443"),
            sa("192.0.2.2:443"),
            sa("[2001:db8::1]:443"),
            sa("192.0.2.1:443")
        ]
    );
}

/// RFC 6724 rule 1 ("known to be otherwise unusable ... because of a previous failure"): a
/// recently failed address goes after the others of its family; and when the preferred
/// family is broken for this host (a recent failure, no success since) while the other is
/// not, the other family goes first.
#[test]
fn rule1_recent_failures_go_last_and_can_flip_the_family() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_failure(path("[2001:db8::1]:443"), t0);
    h.record_failure(path("[2001:db8::2]:443"), t0);
    let trace = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run_at(t0);
    assert_eq!(trace.starts(), vec![(ms(0), sa("192.0.2.1:443"))]);
    assert_eq!(trace.winner(), Some((ms(10), sa("192.0.2.1:443"))));
    let mut one = History::new();
    one.record_failure(path("[2001:db8::1]:443"), t0);
    one.record_failure(path("192.0.2.1:443"), t0);
    one.record_success(path("[2001:db8::2]:443"), ms(40), t0);
    let trace = Scenario::dual()
        .history(&one)
        .default_outcome(Outcome::Fail(ms(0)))
        .run_at(t0);
    assert_eq!(
        trace.order(),
        vec![
            sa("[2001:db8::2]:443"),
            sa("192.0.2.2:443"),
            sa("[2001:db8::1]:443"),
            sa("192.0.2.1:443")
        ],
        "IPv6 works through its sibling, so it still goes first; failures go last"
    );
}

/// The round trip the project promises: IPv6 hangs, IPv4 wins after 250 ms; the history
/// learns it, and the next race to the same host connects over IPv4 without waiting.
#[test]
fn history_makes_the_second_race_go_straight_to_ipv4() {
    let t0 = base_instant();
    let mut h = History::new();
    let first = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run_at(t0);
    assert_eq!(first.winner(), Some((ms(260), sa("192.0.2.1:443"))));
    h.record_race(&first.race);
    assert!(
        h.is_failing(path("[2001:db8::1]:443"), t0 + ms(260)),
        "the hang counts as a loss"
    );
    assert_eq!(h.rtt(path("192.0.2.1:443"), t0 + ms(260)), Some(ms(10)));
    let t1 = t0 + ms(1000);
    let second = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run_at(t1);
    assert_eq!(second.starts(), vec![(ms(0), sa("192.0.2.1:443"))]);
    assert_eq!(second.winner(), Some((ms(10), sa("192.0.2.1:443"))));
}

/// R26, R27: the delay after an address with a known round trip is its RFC 6298
/// retransmission timeout (SRTT + 4 * RTTVAR = 20 + 4 * 10 = 60 ms), never below the
/// configured minimum (100 ms by default), never above the maximum.
#[test]
fn r26_r27_delay_from_rtt_is_clamped() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path("[2001:db8::1]:443"), ms(20), t0);
    assert_eq!(
        h.retransmission_timeout(path("[2001:db8::1]:443"), t0),
        Some(ms(60))
    );
    let last = Outcome::Connect(ms(1));
    let floor = Scenario::dual()
        .history(&h)
        .net("192.0.2.1", last)
        .run_at(t0);
    assert_eq!(floor.starts()[1], (ms(100), sa("192.0.2.1:443")));
    let config = Config::default().min_connection_attempt_delay(ms(10));
    let low = Scenario::host(config)
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .history(&h)
        .net("192.0.2.1", last)
        .run_at(t0);
    assert_eq!(low.starts()[1], (ms(60), sa("192.0.2.1:443")));
    let mut slow = History::new();
    slow.record_success(path("[2001:db8::1]:443"), ms(900), t0);
    let high = Scenario::dual()
        .history(&slow)
        .net("192.0.2.1", last)
        .run_at(t0);
    assert_eq!(
        high.starts()[1],
        (ms(2000), sa("192.0.2.1:443")),
        "R30: at most 2 s"
    );
}

/// RFC 6298 §2 smoothing: SRTT = 7/8 SRTT + 1/8 R, RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|.
#[test]
fn rfc6298_smoothing() {
    let t0 = base_instant();
    let a = path("192.0.2.1:80");
    let mut h = History::new();
    h.record_success(a, ms(100), t0);
    h.record_success(a, ms(200), t0);
    assert_eq!(h.rtt(a, t0), Some(ms(100) * 7 / 8 + ms(200) / 8));
    // RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5 ms; RTO = 112.5 + 4 * 62.5 = 362.5 ms.
    assert_eq!(h.retransmission_timeout(a, t0), Some(ms(362) + ms(1) / 2));
}

/// Entries expire after the time to live; a success after a failure clears the failure.
#[test]
fn entries_expire_and_successes_heal() {
    let t0 = base_instant();
    let a = path("[2001:db8::1]:80");
    let mut h = History::new().ttl(ms(1000));
    h.record_failure(a, t0);
    assert!(h.is_failing(a, t0 + ms(999)));
    assert!(!h.is_failing(a, t0 + ms(1000)), "expired");
    h.record_success(a, ms(5), t0 + ms(10));
    assert!(!h.is_failing(a, t0 + ms(20)));
    h.record_failure(a, t0 + ms(30));
    assert!(h.is_failing(a, t0 + ms(40)));
}

/// The store is bounded: the least recently updated entry is evicted; capacity 0 stores
/// nothing; `clear` forgets everything (R16).
#[test]
fn r16_bounded_and_clearable() {
    let t0 = base_instant();
    let mut h = History::new().capacity(2);
    h.record_failure(path("192.0.2.1:80"), t0);
    h.record_failure(path("192.0.2.2:80"), t0 + ms(1));
    h.record_failure(path("192.0.2.3:80"), t0 + ms(2));
    assert_eq!(h.len(), 2);
    assert!(
        !h.is_failing(path("192.0.2.1:80"), t0 + ms(3)),
        "the oldest went"
    );
    assert!(h.is_failing(path("192.0.2.3:80"), t0 + ms(3)));
    h.clear();
    assert!(h.is_empty());
    let mut none = History::new().capacity(0);
    none.record_failure(path("192.0.2.1:80"), t0);
    assert!(none.is_empty());
}

/// What `record_race` learns from cancelled attempts: one that started after the winner
/// had less time and is not blamed; an aborted race teaches nothing; a deadline blames all
/// attempts in flight.
#[test]
fn record_race_blames_only_real_losers() {
    let t0 = base_instant();
    let mut h = History::new();
    let trace = Scenario::dual()
        .net("2001:db8::1", Outcome::Connect(ms(300)))
        .run_at(t0);
    h.record_race(&trace.race);
    let now = t0 + ms(300);
    assert!(
        !h.is_failing(path("192.0.2.1:443"), now),
        "started at 250, after the winner"
    );
    assert_eq!(h.rtt(path("[2001:db8::1]:443"), now), Some(ms(300)));

    let mut h = History::new();
    let aborted = Scenario::dual().at(600, Extra::Abort).run_at(t0);
    h.record_race(&aborted.race);
    assert!(h.is_empty());

    let timed_out = Scenario::host(Config::default().timeout(Some(ms(400))))
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .run_at(t0);
    h.record_race(&timed_out.race);
    assert!(h.is_failing(path("[2001:db8::1]:443"), t0 + ms(400)));
    assert!(h.is_failing(path("192.0.2.1:443"), t0 + ms(400)));
}
