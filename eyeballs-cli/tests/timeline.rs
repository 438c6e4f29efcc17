//! `eyeballs connect`'s timeline prints as the race happens: each line the moment its
//! event does, not at the end; `-v` adds detail; `RUST_LOG` logs tracing's lines, with
//! the race's span (its id and target), to stderr. Loopback only: `localhost` is answered
//! at once by the system resolver (RFC 6761), `::1` hangs and `127.0.0.1` accepts.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eyeballs_lab::loopback::{Behaviour, Lab};

/// IPv6 hangs and the attempt delay is 2 s: the first attempt's line (with its delay) is on
/// stdout while the command still runs, long before IPv4 starts and wins.
#[test]
fn lines_come_as_the_race_goes() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let port = lab.port.to_string();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(["connect", "localhost", &port, "--attempt-delay", "2s"])
        .args(["--timeout", "10s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first_attempt = loop {
        let line = lines.next().unwrap().unwrap();
        if line.contains("attempt 0 IPv6 TCP [::1]") {
            break line;
        }
    };
    let seen = started.elapsed();
    assert!(
        first_attempt.ends_with("started, attempt delay 2000 ms"),
        "{first_attempt}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "still racing when the line came"
    );
    assert!(seen < Duration::from_millis(1500), "{seen:?}");
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success());
    assert!(started.elapsed() >= Duration::from_secs(2), "IPv4 waited");
    let ipv4 = rest
        .iter()
        .position(|l| l.contains("attempt 1 IPv4 TCP 127.0.0.1") && l.contains(" started, "))
        .unwrap_or_else(|| panic!("{rest:#?}"));
    assert!(rest[ipv4..]
        .iter()
        .any(|l| l.ends_with("connected (winner)")));
    assert!(
        rest.iter()
            .any(|l| l.contains("attempt 0 TCP [::1]") && l.ends_with("cancelled")),
        "{rest:#?}"
    );
    assert!(
        rest.last().unwrap().contains("connected to TCP 127.0.0.1"),
        "{rest:#?}"
    );
}

/// `-v` adds the queries as they are sent and each race's id and target; `RUST_LOG` adds
/// tracing's own lines on stderr, each inside its race's span.
#[test]
fn verbose_and_rust_log_add_detail() {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let port = lab.port.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(["connect", "localhost", &port, "-v", "--repeat", "2"])
        .env("RUST_LOG", "eyeballs=debug")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for says in [
        format!("race 0: localhost:{port}"),
        format!("race 1: localhost:{port}"),
        "AAAA localhost asked".to_owned(),
        "A localhost asked".to_owned(),
        "AAAA localhost answer: ::1".to_owned(),
    ] {
        assert!(stdout.contains(&says), "{says}: {stdout}");
    }
    for race in 0..2 {
        let span = format!("race{{id={race} target=localhost:{port}}}: eyeballs: race started");
        assert!(stderr.contains(&span), "{span}: {stderr}");
    }
    // Without -v and RUST_LOG: neither.
    let out = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(["connect", "localhost", &port])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("asked") && !stdout.contains("race 0"),
        "{stdout}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
