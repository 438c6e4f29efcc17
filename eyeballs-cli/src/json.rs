//! One race as one JSON object, the `--json` output of `eyeballs connect`.

use std::time::Duration;

use eyeballs_core::{AttemptStatus, Report};
use serde_json::{json, Value};

/// Milliseconds with microsecond precision.
fn ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// The object: `host`, `port`, `ok`, `elapsed_ms`, `winner`, `attempts`, `dns`, `error`.
pub(crate) fn race(host: &str, port: u16, report: &Report) -> Value {
    let winner = report.winner().map(|addr| {
        json!({ "addr": addr.to_string(), "family": if addr.is_ipv6() { "ipv6" } else { "ipv4" } })
    });
    let attempts: Vec<Value> = report
        .attempts()
        .iter()
        .map(|a| {
            let result = match a.status {
                AttemptStatus::Connected => "connected",
                AttemptStatus::Failed => "failed",
                AttemptStatus::Cancelled => "cancelled",
                _ => "connecting",
            };
            json!({
                "addr": a.addr.to_string(),
                "started_ms": ms(a.started),
                "ended_ms": a.ended.map(ms),
                "result": result,
                "error": a.error,
            })
        })
        .collect();
    let dns: Vec<Value> = report
        .queries()
        .iter()
        .map(|q| {
            json!({
                "query": q.kind.to_string(),
                "answered_ms": q.answered.map(ms),
                "addrs": q.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "error": q.error,
            })
        })
        .collect();
    json!({
        "host": host,
        "port": port,
        "ok": report.winner().is_some(),
        "elapsed_ms": ms(report.elapsed()),
        "winner": winner,
        "attempts": attempts,
        "dns": dns,
        "error": report.error(),
    })
}
