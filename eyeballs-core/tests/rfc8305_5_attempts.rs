//! RFC 8305 §5: Connection Attempts (R20–R30, G1, G4).

mod common;

use common::sim::{ms, sa, Extra, Outcome, Scenario};
use eyeballs_core::{Action, Config, FailureReason, Input, Race, Target};

/// R20, R21: "Starting a new connection attempt does not affect previous attempts, as
/// multiple connection attempts may occur in parallel." Attempts start one at a time, every
/// Connection Attempt Delay (250 ms), and none is cancelled while the race runs.
#[test]
fn r20_r21_attempts_are_staggered_and_keep_running() {
    let trace = Scenario::dual()
        .net("192.0.2.2", Outcome::Connect(ms(100)))
        .run();
    let starts = trace.starts();
    assert_eq!(
        starts,
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(250), sa("192.0.2.1:443")),
            (ms(500), sa("[2001:db8::2]:443")),
            (ms(750), sa("192.0.2.2:443")),
        ]
    );
    // Nothing was cancelled before the win at 850 ms.
    assert!(trace.cancels().iter().all(|(t, _)| *t == ms(850)));
    assert_eq!(trace.winner(), Some((ms(850), sa("192.0.2.2:443"))));
}

/// R22, R23: "Once one of the connection attempts succeeds ... all other connections
/// attempts that have not yet succeeded SHOULD be canceled. Any address that was not yet
/// attempted as a connection SHOULD be ignored."
#[test]
fn r22_r23_the_first_success_cancels_the_rest_and_ignores_untried() {
    let trace = Scenario::dual()
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(trace.winner(), Some((ms(260), sa("192.0.2.1:443"))));
    assert_eq!(trace.cancels(), vec![(ms(260), sa("[2001:db8::1]:443"))]);
    assert_eq!(trace.starts().len(), 2, "untried addresses are ignored");
}

/// G1: a failed attempt starts the next one at once instead of waiting for the timer, but
/// R28 still holds: never two starts within 10 ms.
#[test]
fn g1_a_failure_starts_the_next_attempt_at_once() {
    let trace = Scenario::dual()
        .net("2001:db8::1", Outcome::Fail(ms(40)))
        .net("192.0.2.1", Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(40), sa("192.0.2.1:443"))
        ]
    );
    assert_eq!(trace.winner(), Some((ms(45), sa("192.0.2.1:443"))));
}

/// R28: "Connection Attempt Delay MUST NOT be less than 10 milliseconds" — even when every
/// attempt fails instantly (ENETUNREACH), starts are 10 ms apart.
#[test]
fn r28_instant_failures_are_rate_limited_to_10ms() {
    let trace = Scenario::dual().default_outcome(Outcome::Fail(ms(0))).run();
    let times: Vec<_> = trace.starts().iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(0), ms(10), ms(20), ms(30)]);
    assert_eq!(
        trace.failure(),
        Some((ms(30), FailureReason::AllAttemptsFailed))
    );
}

/// R28, R30: the configured delay is clamped to [10 ms, 2 s], as documented.
#[test]
fn r28_r30_the_fixed_delay_is_clamped() {
    let last = Outcome::Connect(ms(1));
    let low = Scenario::dual().delay(ms(1)).net("192.0.2.2", last).run();
    let times: Vec<_> = low.starts().iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(0), ms(10), ms(20), ms(30)]);
    let high = Scenario::dual()
        .delay(ms(5000))
        .net("192.0.2.2", last)
        .run();
    let times: Vec<_> = high.starts().iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(0), ms(2000), ms(4000), ms(6000)]);
}

/// R26: "A simple implementation can have a fixed delay" — a configured 100 ms is used as is.
#[test]
fn r26_a_configured_delay_is_used() {
    let trace = Scenario::dual()
        .delay(ms(100))
        .net("192.0.2.2", Outcome::Connect(ms(1)))
        .run();
    let times: Vec<_> = trace.starts().iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(0), ms(100), ms(200), ms(300)]);
    assert_eq!(trace.winner(), Some((ms(301), sa("192.0.2.2:443"))));
}

/// STYLE §1 "Input first, then expired timers": a connection reported at 260 ms wins, and
/// the 250 ms timer that had not been fired yet starts nothing in the same call.
#[test]
fn input_before_timers_a_late_reported_success_wins() {
    let t0 = common::sim::base_instant();
    let addrs = [sa("[2001:db8::1]:443"), sa("192.0.2.1:443")];
    let mut race: Race<()> = Race::new(Target::addrs(addrs), Config::default(), t0).unwrap();
    let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
        panic!("first action is a connect")
    };
    assert_eq!(race.poll_timeout(), Some(t0 + ms(250)));
    race.handle_input(Input::Connected { attempt }, t0 + ms(260));
    assert!(matches!(race.poll_action(), Some(Action::Finish(Ok(w))) if w.attempt() == attempt));
    assert!(
        race.poll_action().is_none(),
        "no attempt was started by the stale timer"
    );
}

/// A cap on attempts in flight: with a cap of 1 the delay starts nothing; the next attempt
/// starts when the one in flight fails.
#[test]
fn max_attempts_in_flight_holds_back_the_timer() {
    let trace = Scenario::host(Config::default().max_attempts_in_flight(Some(1)))
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .net("2001:db8::1", Outcome::Fail(ms(900)))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.starts(),
        vec![
            (ms(0), sa("[2001:db8::1]:443")),
            (ms(900), sa("192.0.2.1:443"))
        ]
    );
    assert_eq!(trace.winner(), Some((ms(910), sa("192.0.2.1:443"))));
}

/// G4: an overall deadline cancels every attempt in flight and fails with a timeout that
/// says how long and how many were in flight.
#[test]
fn g4_the_deadline_cancels_everything_and_fails() {
    let trace = Scenario::host(Config::default().timeout(Some(ms(600))))
        .aaaa(0, &["2001:db8::1", "2001:db8::2"])
        .a(0, &["192.0.2.1", "192.0.2.2"])
        .run();
    assert_eq!(trace.starts().len(), 3, "starts at 0, 250 and 500");
    assert_eq!(trace.cancels().len(), 3);
    assert!(trace.cancels().iter().all(|(t, _)| *t == ms(600)));
    assert_eq!(
        trace.failure(),
        Some((
            ms(600),
            FailureReason::TimedOut {
                after: ms(600),
                in_flight: 3
            }
        ))
    );
    let text = trace.error.unwrap();
    assert!(
        text.starts_with("timed out after 600ms with 3 attempts in flight"),
        "{text}"
    );
    assert!(text.contains("[2001:db8::1]:443: cancelled"), "{text}");
}

/// G4: the deadline also runs while DNS has not answered.
#[test]
fn g4_the_deadline_covers_dns() {
    let trace = Scenario::host(Config::default().timeout(Some(ms(300)))).run();
    assert_eq!(
        trace.failure(),
        Some((
            ms(300),
            FailureReason::TimedOut {
                after: ms(300),
                in_flight: 0
            }
        ))
    );
}

/// When every address fails, the failure names each address with its error.
#[test]
fn all_attempts_failed_lists_every_address() {
    let trace = Scenario::dual().default_outcome(Outcome::Fail(ms(5))).run();
    assert_eq!(
        trace.failure().map(|f| f.1),
        Some(FailureReason::AllAttemptsFailed)
    );
    assert_eq!(
        trace.error.as_deref(),
        Some(
            "all 4 connection attempts failed: TCP [2001:db8::1]:443: connection refused; \
             TCP 192.0.2.1:443: connection refused; TCP [2001:db8::2]:443: connection refused; \
             TCP 192.0.2.2:443: connection refused"
        )
    );
}

/// The caller gives up: attempts are cancelled and the race fails as aborted.
#[test]
fn abort_cancels_and_fails() {
    let trace = Scenario::dual().at(300, Extra::Abort).run();
    assert_eq!(trace.cancels().len(), 2);
    assert_eq!(trace.failure(), Some((ms(300), FailureReason::Aborted)));
}

/// A success reported for an attempt that was already cancelled, or twice, or for an id that
/// never existed, is ignored; the Cancel already told the driver to close it.
#[test]
fn late_and_unknown_successes_are_ignored() {
    let t0 = common::sim::base_instant();
    let addrs = [sa("[2001:db8::1]:443"), sa("192.0.2.1:443")];
    let mut race: Race<()> = Race::new(Target::addrs(addrs), Config::default(), t0).unwrap();
    let Some(Action::Connect { attempt: first, .. }) = race.poll_action() else {
        panic!("connect first")
    };
    race.handle_timeout(t0 + ms(250));
    let Some(Action::Connect {
        attempt: second, ..
    }) = race.poll_action()
    else {
        panic!("connect second")
    };
    race.handle_input(
        Input::Connected {
            attempt: eyeballs_core::AttemptId::from_index(9),
        },
        t0 + ms(255),
    );
    assert!(race.poll_action().is_none(), "unknown id ignored");
    race.handle_input(Input::Connected { attempt: second }, t0 + ms(260));
    assert!(matches!(race.poll_action(), Some(Action::Cancel { attempt }) if attempt == first));
    assert!(matches!(race.poll_action(), Some(Action::Finish(Ok(w))) if w.attempt() == second));
    race.handle_input(Input::Connected { attempt: first }, t0 + ms(270));
    race.handle_input(Input::Connected { attempt: second }, t0 + ms(270));
    assert!(race.poll_action().is_none(), "nothing after Finish");
    assert_eq!(race.poll_timeout(), None);
}
