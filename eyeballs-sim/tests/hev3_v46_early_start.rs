//! HEv3 §7 (V46, HG22) through the connectors' race runner, exactly timed: with the RTT
//! schedule, a late DNS answer starts the next attempt once the last one is past its
//! expected time (its path's smoothed round trip, learnt by an earlier race), not under the
//! minimum delay; the fixed schedule keeps its timer. Ids are defined in
//! eyeballs-core/docs/requirements.md.

use std::time::Duration;

use eyeballs_sim::{Answer, Config, DelaySchedule, Network, Peer, QueryKind, Sim};

const HOST: (&str, u16) = ("example.test", 443);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A simulator whose history knows 2001:db8::1's TCP round trip: a first race connects to
/// it in 120 ms (RFC 6298's first sample: SRTT 120 ms, RTTVAR 60 ms, so a retransmission
/// timeout of 360 ms). Then ::1 hangs, and the A answer 192.0.2.1 (up after 10 ms) comes
/// `a_after` late.
fn second_race(schedule: DelaySchedule, a_after: u64) -> eyeballs_sim::Run {
    let first = Network::new()
        .aaaa("example.test", ["2001:db8::1"])
        .dns("example.test", QueryKind::A, Answer::empty())
        .tcp("[2001:db8::1]:443", Peer::accept(ms(120)));
    let mut sim = Sim::builder(first)
        .config(Config::default().delay_schedule(schedule))
        .build()
        .expect("a valid script");
    assert_eq!(sim.connect(HOST).elapsed(), ms(120));
    let second = Network::new()
        .aaaa("example.test", ["2001:db8::1"])
        .dns(
            "example.test",
            QueryKind::A,
            Answer::addrs(["192.0.2.1"]).after(ms(a_after)),
        )
        .tcp("[2001:db8::1]:443", Peer::hang())
        .tcp("192.0.2.1:443", Peer::accept(ms(10)));
    sim.change_network(second).expect("a valid script");
    sim.connect(HOST)
}

fn tries(list: &[(u64, &str)]) -> Vec<(Duration, String)> {
    list.iter()
        .map(|&(t, what)| (ms(t), what.to_owned()))
        .collect()
}

/// V46: the A answer at 200 ms, ::1 silent since 0 ms and past its expected 120 ms: with the
/// RTT schedule 192.0.2.1 starts at once and wins at 210 ms; with the fixed schedule (which
/// times ::1 by its retransmission timeout too, R26) it waits for 360 ms and wins at 370.
#[test]
fn v46_a_late_answer_starts_the_next_attempt_after_the_expected_time() {
    let rtt = second_race(DelaySchedule::Rtt, 200);
    assert_eq!(
        rtt.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (200, "TCP 192.0.2.1:443")])
    );
    assert_eq!(rtt.elapsed(), ms(210));
    let fixed = second_race(DelaySchedule::Fixed, 200);
    assert_eq!(
        fixed.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (360, "TCP 192.0.2.1:443")])
    );
    assert_eq!(fixed.elapsed(), ms(370));
}

/// V46: an answer within the expected time (at 50 ms) moves the next start to the expected
/// time, 120 ms, and no earlier.
#[test]
fn v46_an_early_answer_waits_for_the_expected_time() {
    let run = second_race(DelaySchedule::Rtt, 50);
    assert_eq!(
        run.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (120, "TCP 192.0.2.1:443")])
    );
}
