//! Properties over generated networks, through the public strategies: every race ends,
//! says why, obeys the attempt floor and deadline, and is the same every time.
//!
//! `EYEBALLS_SIM_CASES` sets how many cases each property runs (default 10,000: the
//! simulator's performance goal is 10,000 races in seconds on two cores).
#![cfg(feature = "proptest")]

use std::time::Duration;

use eyeballs_sim::strategy::cases;
use eyeballs_sim::{Event, FailureReason};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("EYEBALLS_SIM_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    ProptestConfig {
        cases,
        // Failures shrink; a run this long needs no persisted regressions to be useful.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every generated race ends (the configuration has a deadline), with a winner or an
    /// error, never both; a winner was established by its endpoint, and nothing is
    /// dialled after the race ends. Attempts start in order, at least 10 ms apart (R28,
    /// V30), and within the deadline.
    #[test]
    fn every_race_ends_once_with_a_reason(case in cases()) {
        let run = case.run();
        prop_assert!(!run.is_stuck(), "{case:?}");
        prop_assert_eq!(run.winner().is_some(), run.error().is_none());
        let report = run.report().expect("a race by name always starts");
        if let Some(winner) = run.winner() {
            let established = run.events().iter().any(|(_, e)| {
                matches!(e, Event::Established { endpoint } if endpoint == winner)
            });
            prop_assert!(established, "{case:?}");
        } else if let Some(failure) = run.failure() {
            if failure.reason() == FailureReason::AllAttemptsFailed {
                prop_assert!(!report.attempts().is_empty());
            }
        }
        let starts: Vec<Duration> = report.attempts().iter().map(|a| a.started).collect();
        for pair in starts.windows(2) {
            prop_assert!(pair[1] >= pair[0] + Duration::from_millis(10), "{starts:?}");
        }
        prop_assert!(report.elapsed() <= Duration::from_secs(30));
        let end = report.elapsed();
        prop_assert!(run.events().iter().all(|(t, _)| *t <= end));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: config().cases / 10, ..config() })]

    /// The same case gives the same report, twice over (determinism).
    #[test]
    fn the_same_case_gives_the_same_run(case in cases()) {
        let (a, b) = (case.run(), case.run());
        prop_assert_eq!(a.report(), b.report());
        prop_assert_eq!(a.events(), b.events());
    }
}
