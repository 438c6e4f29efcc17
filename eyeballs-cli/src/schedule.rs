//! Which Connection Attempt Delay schedule `eyeballs connect` runs (HEv3 §6, V29, V58;
//! HG13, HG16): the line printed before the timeline, and the `delay_schedule`
//! object of each race's JSON. Each attempt's own delay is on its timeline line and in its
//! JSON (`delay_ms`), so what the schedule gave is visible start by start.

use std::fmt::Write as _;
use std::time::Duration;

use eyeballs_core::{
    DelaySchedule, ATTEMPT_START_FLOOR, CONNECTION_ATTEMPT_DELAY, MAX_CONNECTION_ATTEMPT_DELAY,
    MIN_CONNECTION_ATTEMPT_DELAY,
};
use serde_json::{json, Value};

/// The schedule a command runs: the `--delay-schedule` and the fixed delay
/// (`--attempt-delay`, clamped as the core clamps it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    schedule: DelaySchedule,
    fixed: Duration,
}

/// How many delays the line spells out for a base × factor schedule.
const SHOWN: usize = 5;

impl Schedule {
    /// The schedule of `--delay-schedule` (fixed without it) with `--attempt-delay` (250 ms
    /// without it).
    pub(crate) fn new(schedule: Option<DelaySchedule>, attempt_delay: Option<Duration>) -> Self {
        let fixed = attempt_delay
            .unwrap_or(CONNECTION_ATTEMPT_DELAY)
            .clamp(ATTEMPT_START_FLOOR, MAX_CONNECTION_ATTEMPT_DELAY);
        Schedule {
            schedule: schedule.unwrap_or_default(),
            fixed,
        }
    }

    /// The line before the timeline: `delay schedule: ...`, in the user's terms.
    pub(crate) fn line(&self) -> String {
        let (min, max) = (
            ms(MIN_CONNECTION_ATTEMPT_DELAY),
            ms(MAX_CONNECTION_ATTEMPT_DELAY),
        );
        let fixed = ms(self.fixed);
        match self.schedule {
            DelaySchedule::Multiplier { base, factor } => {
                let head = format!("delay schedule: {} × {factor}", ms(base));
                let delays = multiplied(base, factor);
                let mut below = String::new();
                for d in delays.iter().filter(|d| **d < MAX_CONNECTION_ATTEMPT_DELAY) {
                    let _ = write!(
                        below,
                        "{}{}",
                        if below.is_empty() { "" } else { ", " },
                        ms(*d)
                    );
                }
                let at_max = delays
                    .last()
                    .is_some_and(|d| *d >= MAX_CONNECTION_ATTEMPT_DELAY);
                match (factor <= 1, at_max, below.is_empty()) {
                    (true, _, _) | (_, true, true) => {
                        let each = delays.last().copied().unwrap_or(base);
                        format!("{head}, {} after every start", ms(each))
                    }
                    (false, true, false) => {
                        format!("{head}, the delays after each start: {below}, then {max} each")
                    }
                    (false, false, _) => {
                        format!("{head}, the delays after each start: {below}, ... up to {max}")
                    }
                }
            }
            DelaySchedule::Rtt => format!(
                "delay schedule: rtt, each path's retransmission timeout from round-trip \
                 history ({min} to {max}), else the quickest one from this source, else \
                 {fixed}"
            ),
            // Fixed, and whatever a newer core adds, reads as the core's default.
            _ => format!(
                "delay schedule: fixed, {fixed} after each start, or a path's retransmission \
                 timeout when history knows it ({min} to {max})"
            ),
        }
    }

    /// The `delay_schedule` object of a race's JSON.
    pub(crate) fn json(&self) -> Value {
        let fixed = millis(self.fixed);
        match self.schedule {
            DelaySchedule::Multiplier { base, factor } => json!({
                "kind": "multiplier",
                "base_ms": millis(base),
                "factor": factor,
            }),
            DelaySchedule::Rtt => json!({ "kind": "rtt", "fixed_ms": fixed }),
            _ => json!({ "kind": "fixed", "fixed_ms": fixed }),
        }
    }
}

/// The first [`SHOWN`] delays of base × factor, clamped to [10 ms, 2 s] as the core clamps
/// them, stopping at the maximum.
fn multiplied(base: Duration, factor: u32) -> Vec<Duration> {
    let mut delays = Vec::new();
    let mut d = base;
    for _ in 0..SHOWN {
        let clamped = d.clamp(ATTEMPT_START_FLOOR, MAX_CONNECTION_ATTEMPT_DELAY);
        delays.push(clamped);
        if clamped >= MAX_CONNECTION_ATTEMPT_DELAY || factor <= 1 {
            break;
        }
        d = d.saturating_mul(factor);
    }
    delays
}

/// `250 ms`, `2 s`, `1.5 s`.
fn ms(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

/// Milliseconds as the report's JSON writes them.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(schedule: Option<DelaySchedule>, delay: Option<u64>) -> String {
        Schedule::new(schedule, delay.map(Duration::from_millis)).line()
    }

    #[test]
    fn each_schedule_reads_as_what_it_does() {
        assert_eq!(
            line(None, None),
            "delay schedule: fixed, 250 ms after each start, or a path's retransmission \
             timeout when history knows it (100 ms to 2 s)"
        );
        assert!(line(None, Some(5)).contains("fixed, 10 ms after"));
        assert!(line(Some(DelaySchedule::Fixed), Some(5000)).contains("fixed, 2 s after"));
        let firefox = DelaySchedule::Multiplier {
            base: Duration::from_millis(50),
            factor: 2,
        };
        assert_eq!(
            line(Some(firefox), None),
            "delay schedule: 50 ms × 2, the delays after each start: 50 ms, 100 ms, 200 ms, \
             400 ms, 800 ms, ... up to 2 s"
        );
        let steep = DelaySchedule::Multiplier {
            base: Duration::from_millis(300),
            factor: 3,
        };
        assert_eq!(
            line(Some(steep), None),
            "delay schedule: 300 ms × 3, the delays after each start: 300 ms, 900 ms, then \
             2 s each"
        );
        let flat = DelaySchedule::Multiplier {
            base: Duration::from_millis(1500),
            factor: 1,
        };
        assert_eq!(
            line(Some(flat), None),
            "delay schedule: 1.5 s × 1, 1.5 s after every start"
        );
        let top = DelaySchedule::Multiplier {
            base: Duration::from_secs(2),
            factor: 2,
        };
        assert_eq!(
            line(Some(top), None),
            "delay schedule: 2 s × 2, 2 s after every start"
        );
        assert!(line(Some(DelaySchedule::Rtt), Some(300)).contains("else 300 ms"));
    }

    #[test]
    fn json_names_the_kind_and_its_numbers() {
        let firefox = DelaySchedule::Multiplier {
            base: Duration::from_millis(50),
            factor: 2,
        };
        assert_eq!(
            Schedule::new(Some(firefox), None).json(),
            json!({ "kind": "multiplier", "base_ms": 50.0, "factor": 2 })
        );
        assert_eq!(
            Schedule::new(None, None).json(),
            json!({ "kind": "fixed", "fixed_ms": 250.0 })
        );
        assert_eq!(
            Schedule::new(Some(DelaySchedule::Rtt), None).json(),
            json!({ "kind": "rtt", "fixed_ms": 250.0 })
        );
    }
}
