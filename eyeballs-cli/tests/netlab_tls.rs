//! Happy Eyeballs v3 in the network lab: `eyeballs connect --tls` run inside a namespace
//! whose DNS server answers HTTPS records (priorities, ports, hints, alias mode) and whose
//! addresses run TLS and QUIC servers (eyeballs-lab), with the kernel dropping TCP SYNs or
//! UDP datagrams as a scenario says.
//!
//! Every driver runs each scenario: the async ones race TCP+TLS and QUIC (tokio on tokio's
//! runtime, async-std and smol on quinn's async-io runtime) and must end the same way; the
//! blocking one races TCP+TLS only (QUIC needs an async runtime), so where QUIC would win it
//! wins over TCP+TLS from the same record.
//!
//! Needs root (CI runs as root); without it each test skips with one line, or fails where
//! `EYEBALLS_REQUIRE_ROOT` is set (`eyeballs_lab::netns::root_or_skip`). Addresses are
//! documentation prefixes that exist only inside the test's namespace.
#![allow(clippy::unwrap_used)]

#[path = "common/hev3_lab.rs"]
mod hev3_lab;

use eyeballs_lab::tls::ech_config_list;
use hev3_lab::*;
use serde_json::Value;

const RUNTIMES: [&str; 4] = ["tokio", "async-std", "smol", "blocking"];

/// Flags for a test that expects a healthy QUIC endpoint to win: TCP to the same address
/// waits 2 s instead of 50 ms (`TCP_AFTER_QUIC_DELAY`), and so does the next address. A
/// debug build's QUIC handshake on a loaded 2-core machine took over 50 ms (CI of
/// 2026-12-07: TCP+TLS won at 69 ms), so the default would test the machine's speed, not
/// the outcome; the 50 ms itself is checked by
/// `udp_dropped_tcp_tls_wins_after_the_tcp_after_quic_delay` and proven on the simulated
/// clock.
const ROOM_FOR_QUIC: [&str; 4] = ["--tcp-after-quic", "2s", "--attempt-delay", "2s"];

/// Whether `runtime` races QUIC.
fn quic(runtime: &str) -> bool {
    runtime != "blocking"
}

/// The winner over QUIC (h3) where the runtime races it, over TCP+TLS (h2) otherwise.
fn h3_or_h2(runtime: &str, addr: &str, port: u16) -> (String, String, String) {
    match quic(runtime) {
        true => quic_h3(addr, port),
        false => tcp_h2(addr, port),
    }
}

/// Runs `eyeballs connect NAME 443 --tls --ca FILE --json --runtime RUNTIME` (hickory, the
/// default with --tls, asks the namespace's DNS server) plus `extra`; returns the exit code
/// and one JSON object per race.
fn race(l: &TlsLab, runtime: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    let (code, stdout) = timeline(l, runtime, &[&["--json"], extra].concat());
    let races = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (code, races)
}

/// Runs `eyeballs connect NAME 443 --tls --ca FILE --runtime RUNTIME` plus `extra`;
/// returns the exit code and what it printed.
fn timeline(l: &TlsLab, runtime: &str, extra: &[&str]) -> (Option<i32>, String) {
    let port = PORT.to_string();
    let ca = l.ca().to_str().unwrap();
    let base = [
        "connect",
        NAME,
        &port,
        "--tls",
        "--ca",
        ca,
        "--runtime",
        runtime,
    ];
    let out = l
        .lab
        .command(env!("CARGO_BIN_EXE_eyeballs"))
        .args(base)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// One attempt as the JSON has it.
struct Attempt {
    addr: String,
    transport: String,
    result: String,
    started: f64,
    progressed: Option<f64>,
    priority: Option<u64>,
}

fn attempts(race: &Value) -> Vec<Attempt> {
    race["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| Attempt {
            addr: a["addr"].as_str().unwrap().to_owned(),
            transport: a["transport"].as_str().unwrap().to_owned(),
            result: a["result"].as_str().unwrap().to_owned(),
            started: a["started_ms"].as_f64().unwrap(),
            progressed: a["progressed_ms"].as_f64(),
            priority: a["priority"].as_u64(),
        })
        .collect()
}

/// The winner's address, transport and negotiated ALPN.
fn winner(race: &Value) -> (String, String, String) {
    let w = &race["winner"];
    let field = |k: &str| {
        w[k].as_str()
            .unwrap_or_else(|| panic!("winner {k}: {race}"))
            .to_owned()
    };
    (field("addr"), field("transport"), field("negotiated_alpn"))
}

/// A race won over QUIC with h3 at `addr`: the winner's address, transport and ALPN.
fn quic_h3(addr: &str, port: u16) -> (String, String, String) {
    (sa(addr, port), "quic".to_owned(), "h3".to_owned())
}

/// A race won over TCP+TLS with h2 at `addr`.
fn tcp_h2(addr: &str, port: u16) -> (String, String, String) {
    (sa(addr, port), "tcp".to_owned(), "h2".to_owned())
}

fn elapsed(r: &Value) -> f64 {
    r["elapsed_ms"].as_f64().unwrap()
}

/// QUIC healthy: the record's h3 endpoint on IPv6 wins at once on every runtime (QUIC is
/// dealt before TCP, HG1), one attempt each. The record also carries
/// ECH config bytes, which reach the client (the timeline shows their length); without
/// ECH turned on (the command has no flag for it) they do not change the race.
#[test]
fn quic_healthy_h3_wins() {
    let Some(l) = start(quic_healthy()) else {
        return;
    };
    let (code, text) = timeline(&l, "tokio", &ROOM_FOR_QUIC);
    assert_eq!(code, Some(0), "{text}");
    let ech = ech_config_list(ECH_PUBLIC_NAME);
    let answer = format!(
        "HTTPS www.lab.test answer: 1 . alpn=h3,h2 ech=({} bytes)",
        ech.len()
    );
    assert!(text.contains(&answer), "{text}");
    assert!(text.contains("QUIC: the server chose ALPN h3"), "{text}");
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &ROOM_FOR_QUIC);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        assert_eq!(winner(r), h3_or_h2(rt, V6, PORT), "{rt}: {r}");
        assert_eq!(attempts(r).len(), 1, "{rt}: {r}");
        assert_eq!(
            attempts(r)[0].priority,
            Some(1),
            "{rt}: the record's endpoint: {r}"
        );
    }
}

/// UDP dropped (QUIC blocked by the firewall): the QUIC attempt hangs and TCP+TLS to the
/// same address starts 50 ms later (`TCP_AFTER_QUIC_DELAY`, V29: not a whole Connection
/// Attempt Delay) and wins, on every runtime.
#[test]
fn udp_dropped_tcp_tls_wins_after_the_tcp_after_quic_delay() {
    let Some(l) = start(udp_dropped("UDP dropped")) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &[]);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        assert_eq!(winner(r), tcp_h2(V6, PORT), "{rt}: {r}");
        let a = attempts(r);
        if !quic(rt) {
            assert_eq!(a.len(), 1, "{rt}: TCP+TLS at once: {r}");
            continue;
        }
        assert_eq!(a.len(), 2, "{rt}: {r}");
        assert_eq!(
            (a[0].transport.as_str(), a[0].result.as_str()),
            ("quic", "cancelled"),
            "{rt}: {r}"
        );
        assert!(
            (50.0..1000.0).contains(&a[1].started),
            "{rt}: TCP at {}: {r}",
            a[1].started
        );
    }
}

/// The HTTPS answer 300 ms late (§4.2): the race does not wait for it. After the
/// Resolution Delay (50 ms) it starts with the addresses it has, over TCP to the authority
/// port, where nothing listens (refused); then, when the record arrives, its service
/// (port 8443, h3 and h2) is merged in and wins.
#[test]
fn https_300ms_late_starts_after_the_resolution_delay_and_merges_the_service() {
    let Some(l) = start(https_late()) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &ROOM_FOR_QUIC);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        let https_at = r["dns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["query"] == "HTTPS")
            .and_then(|q| q["answered_ms"].as_f64())
            .unwrap_or_else(|| panic!("{rt}: the HTTPS answer: {r}"));
        assert!(https_at >= 290.0, "{rt}: {r}");
        let a = attempts(r);
        let first = &a[0];
        assert_eq!(
            first.addr,
            sa(V6, PORT),
            "{rt}: the host's own address first: {r}"
        );
        assert!(
            (45.0..250.0).contains(&first.started),
            "{rt}: after the Resolution Delay: {r}"
        );
        assert_eq!(first.result, "failed", "{rt}: {r}");
        assert_eq!(winner(r), h3_or_h2(rt, V6, SERVICE_PORT), "{rt}: {r}");
        let won = a.iter().find(|x| x.result == "connected").unwrap();
        assert!(
            won.started >= https_at,
            "{rt}: the service after its record: {r}"
        );
        assert_eq!(won.priority, Some(1), "{rt}: {r}");
    }
}

/// Hints only: the record's ipv6hint and ipv4hint are the service's addresses until the
/// real AAAA and A answers come, 1000 ms late, so the race connects to the hinted address
/// long before they arrive.
#[test]
fn hints_only_with_the_real_answers_late() {
    let Some(l) = start(hints_only()) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &ROOM_FOR_QUIC);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        assert_eq!(winner(r), h3_or_h2(rt, V6, PORT), "{rt}: {r}");
        assert!(elapsed(r) < 800.0, "{rt}: before the real answers: {r}");
        let unanswered: Vec<&Value> = r["dns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["query"] != "HTTPS")
            .collect();
        assert!(
            unanswered.iter().all(|q| q["answered_ms"].is_null()),
            "{rt}: AAAA and A still pending: {r}"
        );
    }
}

/// Alias mode: `www.lab.test HTTPS 0 cdn.lab.test`, whose own record `1 . alpn=h3,h2` and
/// addresses serve; the host's own addresses drop everything. The alias target's endpoint
/// wins (the TLS name is still `www.lab.test`, RFC 9460 §9.1).
///
/// The target's A answers 50 ms after its AAAA. With both at once, an A that came back
/// first started IPv4 at once (seen on smol): the core waits for the preferred family of the
/// host's own queries (answered here), not of the alias target's.
#[test]
fn alias_mode_follows_to_the_target() {
    let Some(l) = start(alias()) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &ROOM_FOR_QUIC);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        assert_eq!(winner(r), h3_or_h2(rt, CDN6, PORT), "{rt}: {r}");
        let asked: Vec<String> = r["dns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                format!(
                    "{} {}",
                    q["query"].as_str().unwrap(),
                    q["name"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            asked.iter().any(|q| q.starts_with("HTTPS cdn.lab.test")),
            "{rt}: the alias target's HTTPS: {asked:?}"
        );
        assert_eq!(
            attempts(r).len(),
            1,
            "{rt}: the target's service first: {r}"
        );
    }
}

/// Two priorities: `1 primary.lab.test` and `2 secondary.lab.test`, both h3 and h2. Every
/// address of the first target drops (TCP SYNs and UDP): its endpoints are all tried first,
/// one attempt delay apart, and then the second target's first endpoint wins. TCP to an
/// address follows QUIC to it after the whole attempt delay here (`--tcp-after-quic
/// 250ms`), so that the second target's QUIC has 250 ms before its TCP, not 50 ms (a loaded
/// machine's debug QUIC handshake can take longer than 50 ms; the 50 ms is checked where
/// UDP is dropped).
///
/// The second target's addresses answer 50 ms after the first's. With both at once, the
/// order of the follow-up answers decides: the core starts as soon as some service has an
/// endpoint (V5, HG9), so when the second target's AAAA comes back first (it did, by a
/// millisecond, on smol) its endpoint is tried before the first target's are known.
#[test]
fn two_priorities_where_the_first_target_drops() {
    let Some(l) = start(two_priorities()) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &["--tcp-after-quic", "250ms"]);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        assert_eq!(winner(r), h3_or_h2(rt, SECONDARY6, PORT), "{rt}: {r}");
        let a = attempts(r);
        // QUIC and TCP to each primary address (TCP only on blocking).
        let primary = if quic(rt) { 4 } else { 2 };
        assert_eq!(a.len(), primary + 1, "{rt}: {r}");
        for x in &a[..primary] {
            assert!(
                x.addr == sa(PRIMARY6, PORT) || x.addr == sa(PRIMARY4, PORT),
                "{rt}: {r}"
            );
            assert_eq!(
                (x.priority, x.result.as_str()),
                (Some(1), "cancelled"),
                "{rt}: {r}"
            );
        }
        let last = &a[primary];
        assert_eq!(last.priority, Some(2), "{rt}: {r}");
        // Per primary address: QUIC, TCP 250 ms later, the next address 250 ms after that.
        let due = if quic(rt) { 500.0 * 2.0 } else { 250.0 * 2.0 };
        assert!(
            (due..due + 1000.0).contains(&last.started),
            "{rt}: at {}: {r}",
            last.started
        );
    }
}

/// TLS stalls on IPv6 (TCP connects, the server never answers the ClientHello): the TCP
/// connect is progress, so IPv4 starts one attempt delay after it (V33) and wins; the
/// stalled attempt is cancelled. No HTTPS record (NOERROR, no data): TCP+TLS only, on every
/// runtime.
#[test]
fn tls_stalls_on_ipv6_ipv4_wins() {
    let Some(l) = start(tls_stalls_on_ipv6()) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &[]);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let r = &races[0];
        assert_eq!(
            winner(r),
            (sa(V4, PORT), "tcp".into(), "h2".into()),
            "{rt}: {r}"
        );
        let a = attempts(r);
        assert_eq!(a.len(), 2, "{rt}: {r}");
        assert_eq!(
            (a[0].addr.as_str(), a[0].result.as_str()),
            (sa(V6, PORT).as_str(), "cancelled"),
            "{rt}: {r}"
        );
        let tcp_up = a[0]
            .progressed
            .unwrap_or_else(|| panic!("{rt}: TCP up: {r}"));
        assert!(
            a[1].started >= tcp_up + 245.0,
            "{rt}: IPv4 a delay after TCP up: {r}"
        );
        assert!(a[1].started < 1000.0, "{rt}: {r}");
    }
}

/// QUIC blocked, then history: the first race's QUIC attempt hangs and TCP+TLS wins after
/// the TCP-after-QUIC delay (50 ms). One loss is weak evidence (V24: QUIC may only have been
/// slower), so the second race (same process, same history) does the same; after two losses
/// in a row (`LOSSES_TO_FAIL`) the path counts as failing (HG3) and the third race goes TCP
/// first and connects at once. The same on every runtime.
#[test]
fn quic_blocked_then_history_goes_tcp_first() {
    let Some(l) = start(udp_dropped("QUIC blocked")) else {
        return;
    };
    for rt in RUNTIMES {
        let (code, races) = race(&l, rt, &["--repeat", "3"]);
        assert_eq!(code, Some(0), "{rt}: {races:?}");
        let [first, second, third] = &races[..] else {
            panic!("{rt}: three races: {races:?}")
        };
        for r in [first, second] {
            let a = attempts(r);
            if quic(rt) {
                assert_eq!(a.len(), 2, "{rt}: {r}");
                assert_eq!(a[0].transport, "quic", "{rt}: {r}");
                assert!(a[1].started >= 50.0, "{rt}: {r}");
            } else {
                assert_eq!(a.len(), 1, "{rt}: TCP+TLS at once: {r}");
            }
            assert_eq!(winner(r), tcp_h2(V6, PORT), "{rt}: {r}");
        }
        let c = attempts(third);
        assert_eq!(c.len(), 1, "{rt}: TCP first, nothing else: {third}");
        assert_eq!(c[0].transport, "tcp", "{rt}: {third}");
        assert_eq!(winner(third), tcp_h2(V6, PORT), "{rt}: {third}");
        assert!(elapsed(third) < 200.0, "{rt}: {third}");
    }
}
