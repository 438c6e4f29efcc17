//! The `eyeballs` command as a user runs it: spawned, output and exit status checked.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::{Command, Output};

fn eyeballs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn demo_shows_ipv4_winning_then_history() {
    let out = eyeballs(&["demo"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let races: Vec<&str> = stdout.split("Race 2").collect();
    assert_eq!(races.len(), 2, "{stdout}");
    // Race 1: IPv6 first, IPv4 second and the winner, IPv6 cancelled.
    assert!(races[0].contains("attempt 0 IPv6 [::1]"), "{stdout}");
    assert!(races[0].contains("attempt 1 IPv4 127.0.0.1"), "{stdout}");
    assert!(races[0].contains("cancelled"), "{stdout}");
    assert!(races[0].contains("connected (winner)"), "{stdout}");
    // Race 2: straight to IPv4.
    assert!(races[1].contains("attempt 0 IPv4 127.0.0.1"), "{stdout}");
    assert!(!races[1].contains("attempt 1"), "{stdout}");
}

#[test]
fn connect_json_is_one_object_per_race() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = eyeballs(&["connect", "127.0.0.1", &port, "--json", "--repeat", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["host"], "127.0.0.1");
        assert_eq!(
            v["port"].as_u64(),
            Some(u64::from(listener.local_addr().unwrap().port()))
        );
        assert_eq!(v["ok"], true);
        assert_eq!(v["winner"]["family"], "ipv4");
        assert_eq!(v["winner"]["addr"], format!("127.0.0.1:{port}"));
        assert_eq!(v["attempts"][0]["result"], "connected");
        assert!(v["attempts"][0]["started_ms"].is_number());
        assert!(v["elapsed_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(
            v["dns"].as_array().unwrap().len(),
            0,
            "a literal needs no DNS"
        );
        assert!(v["error"].is_null());
    }
}

#[test]
fn connect_failure_exits_1_with_a_message() {
    // A port with nothing listening: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let out = eyeballs(&["connect", "127.0.0.1", &port, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["winner"].is_null());
    assert_eq!(v["attempts"][0]["result"], "failed");
    assert!(v["error"].as_str().unwrap().contains("refused"), "{v}");
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
    let out = eyeballs(&["connect", "127.0.0.1", &port]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("failed"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["connect", "127.0.0.1", "80", "--family-count", "0"][..],
        &["connect", "127.0.0.1", "99999"][..],
        &["connect", "127.0.0.1", "80", "--runtime", "nope"][..],
        &[
            "connect",
            "127.0.0.1",
            "80",
            "--prefer",
            "v4",
            "--only",
            "v6",
        ][..],
        &["connect", "bad host", "80"][..],
        &["frobnicate"][..],
    ] {
        let out = eyeballs(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).is_empty(), "{args:?} says why");
    }
    let help = eyeballs(&["--help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("demo"));
    let version = eyeballs(&["--version"]);
    assert!(text(&version.stdout).starts_with("eyeballs "));
}

#[test]
fn every_runtime_prints_the_same_report() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    for runtime in ["tokio", "async-std", "smol", "blocking"] {
        let out = eyeballs(&[
            "connect",
            "127.0.0.1",
            &port,
            "--runtime",
            runtime,
            "--json",
        ]);
        assert!(out.status.success(), "{runtime}: {}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "attempts",
                "dns",
                "elapsed_ms",
                "error",
                "host",
                "ok",
                "port",
                "winner"
            ],
            "{runtime}"
        );
        assert_eq!(
            v["winner"]["addr"],
            format!("127.0.0.1:{port}"),
            "{runtime}"
        );
        let out = eyeballs(&["connect", "127.0.0.1", &closed, "--runtime", runtime]);
        assert_eq!(out.status.code(), Some(1), "{runtime}");
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("attempt 0 IPv4 127.0.0.1"),
            "{runtime}: {stdout}"
        );
        assert!(
            stdout.contains("failed: all 1 connection attempt failed"),
            "{runtime}: {stdout}"
        );
    }
    let out = eyeballs(&[
        "connect",
        "127.0.0.1",
        &port,
        "--runtime",
        "smol",
        "--resolver",
        "hickory",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("tokio only"),
        "{}",
        text(&out.stderr)
    );
}
