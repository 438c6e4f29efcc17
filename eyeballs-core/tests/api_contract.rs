//! The driver contract stated in the crate docs, and the typed errors.

mod common;

use common::sim::{base_instant, ms, sa};
use eyeballs_core::{
    Action, AttemptId, AttemptStatus, Config, ConfigError, FailureReason, Input, QueryId, Race,
    Target,
};

/// After any `handle_*` call at `now`, `poll_timeout()` is `None` or later than `now`, and an
/// early `handle_timeout` changes nothing.
#[test]
fn deadlines_are_in_the_future_and_early_timeouts_are_no_ops() {
    let t0 = base_instant();
    let addrs = [sa("[2001:db8::1]:80"), sa("192.0.2.1:80")];
    let mut race: Race<()> = Race::new(Target::addrs(addrs), Config::default(), t0).unwrap();
    assert!(matches!(race.poll_action(), Some(Action::Connect { .. })));
    assert_eq!(race.poll_timeout(), Some(t0 + ms(250)));
    race.handle_timeout(t0 + ms(100));
    assert!(race.poll_action().is_none(), "an early call starts nothing");
    assert_eq!(race.poll_timeout(), Some(t0 + ms(250)));
    race.handle_timeout(t0 + ms(250));
    assert!(matches!(race.poll_action(), Some(Action::Connect { .. })));
    assert_eq!(
        race.poll_timeout(),
        None,
        "nothing left to start: only I/O moves it on"
    );
}

/// Time that goes backwards is clamped to the latest time seen.
#[test]
fn time_going_backwards_is_clamped() {
    let t0 = base_instant() + ms(1000);
    let addrs = [sa("[2001:db8::1]:80"), sa("192.0.2.1:80")];
    let mut race: Race<()> = Race::new(Target::addrs(addrs), Config::default(), t0).unwrap();
    let _ = race.poll_action();
    race.handle_timeout(t0 - ms(500));
    assert!(race.poll_action().is_none());
    assert_eq!(race.poll_timeout(), Some(t0 + ms(250)));
    let Some(first) = race.attempts().first().map(|a| a.id()) else {
        panic!("one attempt")
    };
    race.handle_input(
        Input::ConnectFailed {
            attempt: first,
            error: (),
        },
        t0 - ms(900),
    );
    assert!(
        race.poll_action().is_none(),
        "R28: not within 10 ms of the first start"
    );
    assert_eq!(
        race.poll_timeout(),
        Some(t0 + ms(10)),
        "G1: due at once, floored"
    );
    race.handle_timeout(t0 + ms(10));
    assert!(matches!(race.poll_action(), Some(Action::Connect { .. })));
    assert_eq!(
        race.attempts()[1].started(),
        t0 + ms(10),
        "R28 floor from the clamped time"
    );
    assert_eq!(
        race.attempts()[0].ended(),
        Some(t0),
        "the failure is stamped with the clamped time"
    );
}

/// Ids count from 0; losers get their Cancel before Finish; Finish is the last action; the
/// records tell what happened.
#[test]
fn ids_count_from_zero_and_finish_is_last() {
    let t0 = base_instant();
    let mut race: Race<&str> =
        Race::new(Target::host("example.test", 80), Config::default(), t0).unwrap();
    let kinds: Vec<_> = std::iter::from_fn(|| race.poll_action())
        .map(|a| match a {
            Action::Resolve { query, .. } => query.index(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, vec![0, 1]);
    let q = QueryId::from_index;
    race.handle_input(
        Input::Resolved {
            query: q(0),
            addrs: vec![common::sim::ip("2001:db8::1")],
        },
        t0 + ms(5),
    );
    race.handle_input(
        Input::Resolved {
            query: q(1),
            addrs: vec![common::sim::ip("192.0.2.1")],
        },
        t0 + ms(6),
    );
    race.handle_timeout(t0 + ms(255));
    let actions: Vec<_> = std::iter::from_fn(|| race.poll_action()).collect();
    assert!(
        matches!(actions[0], Action::Connect { attempt, .. } if attempt == AttemptId::from_index(0))
    );
    assert!(
        matches!(actions[1], Action::Connect { attempt, .. } if attempt == AttemptId::from_index(1))
    );
    race.handle_input(
        Input::Connected {
            attempt: AttemptId::from_index(1),
        },
        t0 + ms(260),
    );
    let actions: Vec<_> = std::iter::from_fn(|| race.poll_action()).collect();
    assert_eq!(actions.len(), 2);
    assert!(matches!(actions[0], Action::Cancel { attempt } if attempt.index() == 0));
    assert!(matches!(actions[1], Action::Finish(Ok(ref w)) if w.addr() == sa("192.0.2.1:80")));
    assert!(race.is_finished());
    assert_eq!(race.finished(), Some(t0 + ms(260)));
    assert_eq!(race.started(), t0);
    assert_eq!(race.in_flight(), 0);
    let statuses: Vec<_> = race.attempts().iter().map(|a| a.status()).collect();
    assert_eq!(
        statuses,
        vec![AttemptStatus::Cancelled, AttemptStatus::Connected]
    );
    assert_eq!(race.queries()[1].answered(), Some(t0 + ms(6)));
    assert_eq!(race.queries()[0].sent(), t0);
    assert_eq!(AttemptId::from_index(3).to_string(), "#3");
}

/// A failed attempt's error stays readable in the records while the race runs, and moves
/// into the Failure when the race fails.
#[test]
fn errors_move_into_the_failure() {
    let t0 = base_instant();
    let mut race: Race<String> =
        Race::new(Target::addrs([sa("192.0.2.1:80")]), Config::default(), t0).unwrap();
    let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
        panic!()
    };
    race.handle_input(
        Input::ConnectFailed {
            attempt,
            error: "refused".into(),
        },
        t0 + ms(1),
    );
    let Some(Action::Finish(Err(failure))) = race.poll_action() else {
        panic!()
    };
    assert_eq!(failure.reason(), FailureReason::AllAttemptsFailed);
    assert_eq!(failure.attempts()[0].error.as_deref(), Some("refused"));
    assert!(race.attempts()[0].error().is_none(), "moved, not cloned");
    assert_eq!(
        failure.to_string(),
        "all 1 connection attempt failed: TCP 192.0.2.1:80: refused"
    );
    let mapped = failure.map_err(|e| e.len());
    assert_eq!(mapped.attempts()[0].error, Some(7));
    let (reason, attempts, queries) = mapped.into_parts();
    assert_eq!(
        (reason, attempts.len(), queries.len()),
        (FailureReason::AllAttemptsFailed, 1, 0)
    );
}

/// `std::error::Error::source` gives the most recent underlying error.
#[test]
fn failure_source_is_the_last_error() {
    let t0 = base_instant();
    let addrs = [sa("192.0.2.1:80"), sa("192.0.2.2:80")];
    let mut race: Race<std::io::Error> =
        Race::new(Target::addrs(addrs), Config::default(), t0).unwrap();
    let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let _ = race.poll_action();
    race.handle_input(
        Input::ConnectFailed {
            attempt: AttemptId::from_index(0),
            error: refused(),
        },
        t0,
    );
    race.handle_timeout(t0 + ms(10));
    assert!(matches!(race.poll_action(), Some(Action::Connect { .. })));
    race.handle_input(
        Input::ConnectFailed {
            attempt: AttemptId::from_index(1),
            error: std::io::Error::other("last"),
        },
        t0 + ms(10),
    );
    let Some(Action::Finish(Err(failure))) = race.poll_action() else {
        panic!()
    };
    let source = std::error::Error::source(&failure).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("last"));
}

/// Bad configuration is rejected at construction with a message a person can act on.
#[test]
fn bad_config_is_rejected_with_a_clear_error() {
    let t0 = base_instant();
    let cases: Vec<(Config, ConfigError, &str)> = vec![
        (
            Config::default().first_address_family_count(0),
            ConfigError::ZeroFirstAddressFamilyCount,
            "at least 1",
        ),
        (
            Config::default().max_attempts_in_flight(Some(0)),
            ConfigError::ZeroMaxAttemptsInFlight,
            "at least 1",
        ),
        (
            Config::default().max_endpoints(Some(0)),
            ConfigError::ZeroMaxEndpoints,
            "at least 1",
        ),
        (
            Config::default().min_connection_attempt_delay(ms(5)),
            ConfigError::MinDelayBelowFloor(ms(5)),
            "forbids less than 10ms",
        ),
        (
            Config::default()
                .min_connection_attempt_delay(ms(300))
                .max_connection_attempt_delay(ms(200)),
            ConfigError::MinDelayAboveMax {
                min: ms(300),
                max: ms(200),
            },
            "is above",
        ),
        (
            Config::default().timeout(Some(ms(0))),
            ConfigError::ZeroTimeout,
            "longer than zero",
        ),
    ];
    for (config, want, text) in cases {
        let err = Race::<()>::new(Target::host("example.test", 1), config, t0).unwrap_err();
        assert_eq!(err, want);
        assert!(err.to_string().contains(text), "{err}");
    }
    assert!(Config::default().validate().is_ok());
}

/// The report: relative times, each attempt's end and error, and a readable timeline.
#[test]
fn report_tells_the_whole_race() {
    use common::sim::{Outcome, Scenario};
    use eyeballs_core::Report;
    let trace = Scenario::host(Config::default())
        .aaaa(2, &["2001:db8::1"])
        .a(3, &["192.0.2.1", "192.0.2.2"])
        .net("2001:db8::1", Outcome::Hang)
        .net("192.0.2.1", Outcome::Fail(ms(5)))
        .net("192.0.2.2", Outcome::Connect(ms(7)))
        .run();
    let mut race = trace.race;
    let winner = race.result().unwrap().unwrap();
    let report = Report::new(&race, Some(Ok(winner)));
    assert_eq!(report.winner(), Some(sa("192.0.2.2:443")));
    assert_eq!(report.elapsed(), ms(269));
    assert_eq!(
        report.attempts()[1].error.as_deref(),
        Some("connection refused")
    );
    assert_eq!(report.queries()[1].answered, Some(ms(3)));
    assert_eq!(
        report.to_string(),
        "    2.0 ms  AAAA example.test answer: 2001:db8::1\n\
         \x20   2.0 ms  attempt 0 IPv6 TCP [2001:db8::1]:443 started\n\
         \x20   3.0 ms  A example.test answer: 192.0.2.1, 192.0.2.2\n\
         \x20 252.0 ms  attempt 1 IPv4 TCP 192.0.2.1:443 started\n\
         \x20 257.0 ms  attempt 1 TCP 192.0.2.1:443 failed: connection refused\n\
         \x20 262.0 ms  attempt 2 IPv4 TCP 192.0.2.2:443 started\n\
         \x20 269.0 ms  attempt 0 TCP [2001:db8::1]:443 cancelled\n\
         \x20 269.0 ms  attempt 2 TCP 192.0.2.2:443 connected (winner)\n\
         \x20 269.0 ms  connected to TCP 192.0.2.2:443"
    );
    assert!(race.poll_action().is_none());

    // A failed race: the errors moved into the failure still reach the report.
    let t0 = base_instant();
    let mut race: Race<String> =
        Race::new(Target::addrs([sa("192.0.2.1:80")]), Config::default(), t0).unwrap();
    let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
        panic!()
    };
    race.handle_input(
        Input::ConnectFailed {
            attempt,
            error: "unreachable".into(),
        },
        t0 + ms(1),
    );
    let Some(Action::Finish(result)) = race.poll_action() else {
        panic!()
    };
    let report = Report::new(&race, Some(result.as_ref()));
    assert_eq!(report.attempts()[0].error.as_deref(), Some("unreachable"));
    assert_eq!(
        report.error(),
        Some("all 1 connection attempt failed: TCP 192.0.2.1:80: unreachable")
    );
    assert!(report.to_string().ends_with(
        "1.0 ms  failed: all 1 connection attempt failed: TCP 192.0.2.1:80: unreachable"
    ));
}

/// No input panics (crate docs; issue "eyeballs-core 0.2" item 7): `Duration::MAX` as the
/// deadline, the Resolution Delay, the attempt delays, and as a history round trip. Each
/// once panicked with "overflow when adding duration to instant". An unrepresentable
/// deadline means none.
#[test]
fn duration_max_anywhere_does_not_panic() {
    use common::sim::{path, Outcome, Scenario};
    use eyeballs_core::History;
    let max = std::time::Duration::MAX;
    let configs = [
        Config::default().timeout(Some(max)),
        Config::default().resolution_delay(max),
        Config::default().connection_attempt_delay(max),
        Config::default()
            .connection_attempt_delay(max)
            .max_connection_attempt_delay(max),
        Config::default().max_connection_attempt_delay(max),
    ];
    for config in configs {
        // A positive A answer first waits the Resolution Delay; IPv6 then hangs, so the next
        // start is due by the attempt delay; the deadline is armed from the start.
        let trace = Scenario::host(config)
            .a(0, &["192.0.2.1"])
            .aaaa(5, &["2001:db8::1"])
            .net("192.0.2.1", Outcome::Connect(ms(1)))
            .run();
        let _ = trace.winner();
    }
    // The Resolution Delay of Duration::MAX never ends: IPv4 waits for AAAA (here, forever:
    // the race stalls with the AAAA query outstanding rather than panic).
    let trace = Scenario::host(Config::default().resolution_delay(max))
        .a(0, &["192.0.2.1"])
        .net("192.0.2.1", Outcome::Connect(ms(1)))
        .run();
    assert!(
        trace.stalled && trace.starts().is_empty(),
        "{:?}",
        trace.events
    );

    let t0 = base_instant();
    let mut h = History::new();
    let p = path("192.0.2.1");
    h.record_success(p, max, t0);
    h.record_success(p, max, t0);
    h.record_success(p, ms(1), t0);
    assert!(h.retransmission_timeout(p, t0).is_some());
    // A huge RTO is clamped to the maximum delay: the next start is due 2 s after the first.
    let trace = Scenario::host(Config::default())
        .aaaa(0, &[])
        .a(0, &["192.0.2.1", "192.0.2.2"])
        .history(&h)
        .run();
    let starts = trace.starts();
    assert_eq!(starts[0].1, sa("192.0.2.1:443"));
    assert_eq!(starts[1].0, ms(2000));
}
