//! One race as one JSON object, the `--json` output of `eyeballs connect`: the report as
//! eyeballs-core serializes it (feature `serde`: times in milliseconds), with what the
//! command adds around it.

use eyeballs_core::{Alpn, Report};
use serde_json::{json, Value};

use crate::schedule::Schedule;

/// The object: the report's `elapsed_ms`, `winner`, `attempts` (each an endpoint's `addr`,
/// `transport`, `alpn`, `ech`, `priority`, and `started_ms`, `progressed_ms` (TCP up while
/// TLS goes on), `ended_ms`, `result`, `error`), `dns` and `error`; and the command's own
/// `host`, `port`, `ok`, each endpoint's `family`, the winner's `negotiated_alpn` (the id
/// its TLS or QUIC handshake chose: `null` for plain TCP), each query's `records` as a
/// count, the `delay_schedule` the race ran (`kind`: `fixed`, `rtt` or `multiplier`, with
/// its numbers) and each attempt's `delay_ms`, the Connection Attempt Delay after its start
/// (in milliseconds, as the other times; the report's own `delay` is replaced).
pub(crate) fn race(
    host: &str,
    port: u16,
    report: &Report,
    alpn: Option<&Alpn>,
    schedule: &Schedule,
) -> Value {
    // A report always serializes (its keys are strings); `null` would say nothing.
    let mut v = serde_json::to_value(report).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    v["host"] = json!(host);
    v["port"] = json!(port);
    v["ok"] = json!(report.winner().is_some());
    if let Some(w) = report.winner() {
        v["winner"]["family"] = json!(family(w.is_ipv6()));
        v["winner"]["negotiated_alpn"] = json!(alpn.map(ToString::to_string));
    }
    v["delay_schedule"] = schedule.json();
    for (i, a) in report.attempts().iter().enumerate() {
        let attempt = &mut v["attempts"][i];
        attempt["family"] = json!(family(a.endpoint.addr().is_ipv6()));
        if let Some(fields) = attempt.as_object_mut() {
            fields.remove("delay");
        }
        attempt["delay_ms"] = json!(a.delay.as_micros() as f64 / 1000.0);
    }
    for (i, q) in report.queries().iter().enumerate() {
        v["dns"][i]["records"] = json!(q.records.len());
    }
    v
}

fn family(v6: bool) -> &'static str {
    if v6 {
        "ipv6"
    } else {
        "ipv4"
    }
}
