//! One race as one JSON object, the `--json` output of `eyeballs connect`.

use std::time::Duration;

use eyeballs_core::{Alpn, AttemptStatus, Endpoint, Report};
use serde_json::{json, Value};

/// Milliseconds with microsecond precision.
fn ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// An endpoint's fields: `addr`, `family`, `transport`, `alpn`, `ech`, `priority`.
fn endpoint(e: &Endpoint) -> Value {
    let addr = e.addr();
    json!({
        "addr": addr.to_string(),
        "family": if addr.is_ipv6() { "ipv6" } else { "ipv4" },
        "transport": e.transport().to_string().to_ascii_lowercase(),
        "alpn": e.alpn().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "ech": e.ech().is_some(),
        "priority": e.priority(),
    })
}

/// The object: `host`, `port`, `ok`, `elapsed_ms`, `winner` (with `negotiated_alpn`, the id
/// its TLS or QUIC handshake chose: `null` for plain TCP), `attempts` (each with
/// `progressed_ms`: TCP up while TLS goes on), `dns`, `error`.
pub(crate) fn race(host: &str, port: u16, report: &Report, alpn: Option<&Alpn>) -> Value {
    let winner = report.winner_endpoint().map(|e| {
        let mut v = endpoint(e);
        v["negotiated_alpn"] = json!(alpn.map(ToString::to_string));
        v
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
            let mut v = endpoint(&a.endpoint);
            v["started_ms"] = json!(ms(a.started));
            v["progressed_ms"] = json!(a.progressed.map(ms));
            v["ended_ms"] = json!(a.ended.map(ms));
            v["result"] = json!(result);
            v["error"] = json!(a.error);
            v
        })
        .collect();
    let dns: Vec<Value> = report
        .queries()
        .iter()
        .map(|q| {
            json!({
                "query": q.kind.to_string(),
                "name": q.name.to_string(),
                "answered_ms": q.answered.map(ms),
                "addrs": q.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "records": q.records.len(),
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
