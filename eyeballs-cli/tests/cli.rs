//! The `eyeballs` command as a user runs it: spawned, output and exit status checked.
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};
use std::time::Duration;

use eyeballs_lab::dns::{DnsServer, Reply, Zone};
use hickory_proto::rr::RecordType;

fn eyeballs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The demo: RFC 8305 (races 1 and 2), then Happy Eyeballs v3 (races 3 to 5). It runs in
/// an empty folder that is its working directory and TMPDIR, which it must leave empty,
/// and is quick: the two races that wait for the Connection Attempt Delay (250 ms) are most
/// of its time.
#[test]
fn demo_shows_ipv4_winning_then_history() {
    let dir = std::env::temp_dir().join(format!("eyeballs-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .arg("demo")
        .current_dir(&dir)
        .env("TMPDIR", &dir)
        .output()
        .unwrap();
    let took = started.elapsed();
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    std::fs::remove_dir_all(&dir).unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(left.is_empty(), "the demo left {left:?}");
    assert!(
        took < std::time::Duration::from_secs(5),
        "{took:?}: {stdout}"
    );
    let races: Vec<&str> = stdout.split("\nRace ").collect();
    assert_eq!(races.len(), 6, "{stdout}");
    // Race 1: IPv6 first, IPv4 second and the winner, IPv6 cancelled.
    assert!(races[1].contains("attempt 0 IPv6 TCP [::1]"), "{stdout}");
    assert!(
        races[1].contains("attempt 1 IPv4 TCP 127.0.0.1"),
        "{stdout}"
    );
    assert!(races[1].contains("cancelled"), "{stdout}");
    assert!(races[1].contains("connected (winner)"), "{stdout}");
    // Race 2: straight to IPv4.
    assert!(
        races[2].contains("attempt 0 IPv4 TCP 127.0.0.1"),
        "{stdout}"
    );
    assert!(!races[2].contains("attempt 1"), "{stdout}");
    // Race 3: the HTTPS record is used; QUIC first (h3) and cancelled, then TCP+TLS (h2) to
    // the same address, started TCP_AFTER_QUIC_DELAY (50 ms) later rather than a whole
    // attempt delay (V29), wins.
    let race3 = races[3];
    assert!(race3.contains("HTTPS _"), "{stdout}");
    assert!(race3.contains("answer: 1 . alpn=h3,h2"), "{stdout}");
    assert!(
        race3.contains("attempt 0 IPv4 QUIC 127.0.0.1") && race3.contains(" h3 started"),
        "{stdout}"
    );
    assert!(race3.contains("QUIC 127.0.0.1"), "{stdout}");
    let tcp_start = race3
        .lines()
        .find(|l| l.contains("attempt 1 IPv4 TCP 127.0.0.1") && l.contains("started"))
        .unwrap_or_else(|| panic!("a TCP attempt: {stdout}"));
    let at: f64 = tcp_start
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((50.0..2000.0).contains(&at), "{stdout}");
    assert!(
        race3
            .lines()
            .any(|l| l.contains("attempt 0 QUIC") && l.ends_with("cancelled")),
        "{stdout}"
    );
    assert!(
        race3
            .lines()
            .any(|l| l.contains("attempt 1 TCP") && l.ends_with("connected (winner)")),
        "{stdout}"
    );
    assert!(race3.contains("the server chose ALPN h2"), "{stdout}");
    // Race 4: one loss is weak evidence (V24): QUIC first again, TCP+TLS wins again.
    let race4 = races[4];
    assert!(race4.contains("attempt 0 IPv4 QUIC 127.0.0.1"), "{stdout}");
    assert!(
        race4
            .lines()
            .any(|l| l.contains("attempt 1 TCP") && l.ends_with("connected (winner)")),
        "{stdout}"
    );
    // Race 5: two losses in a row make the QUIC path failing: TCP+TLS first, nothing else.
    let race5 = races[5];
    assert!(race5.contains("attempt 0 IPv4 TCP 127.0.0.1"), "{stdout}");
    assert!(
        !race5.contains("attempt 1") && !race5.contains("QUIC 127"),
        "{stdout}"
    );
    assert!(race5.contains("the server chose ALPN h2"), "{stdout}");
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
                "delay_schedule",
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
            stdout.contains("attempt 0 IPv4 TCP 127.0.0.1"),
            "{runtime}: {stdout}"
        );
        assert!(
            stdout.contains("failed: all 1 connection attempt failed"),
            "{runtime}: {stdout}"
        );
    }
}

/// A port with nothing listening on `ip`: bound, noted, closed.
fn closed_port(ip: &str) -> String {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

/// Runs `f` with a loopback DNS server serving `zone` (eyeballs-lab's, on its own thread),
/// then stops it.
fn with_dns<T>(zone: Zone, f: impl FnOnce(SocketAddr) -> T) -> T {
    let server = DnsServer::start(zone);
    let out = f(server.addr);
    drop(server);
    out
}

/// An attempt delay outside [10 ms, 2 s] is clamped by the core; the command says so, in its
/// flag's terms, and goes on.
#[test]
fn attempt_delay_out_of_range_is_a_warning() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for (delay, warning) in [
        (
            "0",
            "eyeballs: warning: --attempt-delay 0 is below the RFC 8305 floor of 10 ms; using 10 ms",
        ),
        (
            "5000",
            "eyeballs: warning: --attempt-delay 5000 is above the 2 s maximum (RFC 8305 §5); \
             using 2 s",
        ),
    ] {
        let out = eyeballs(&["connect", "127.0.0.1", &port, "--attempt-delay", delay]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stderr).trim_end(), warning);
    }
    let out = eyeballs(&["connect", "127.0.0.1", &port, "--attempt-delay", "300"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "", "300 ms is in range");
}

/// A configuration problem names the flag and the rule, not the library's setting (the
/// timeout's rule is checked by its parser: `flag_messages_show_the_accepted_forms`).
#[test]
fn config_problems_name_the_flag() {
    let out = eyeballs(&["connect", "127.0.0.1", "80", "--family-count", "0"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "eyeballs: --family-count 0: the First Address Family Count (RFC 8305 §4) is at \
             least 1"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("first_address_family_count"), "{stderr}");
}

/// Every message brackets an IPv6 address with a port: `[::1]:PORT`, never `::1:PORT`.
#[test]
fn ipv6_addresses_are_bracketed() {
    let port = closed_port("::1");
    for target in [vec!["::1", port.as_str()], vec!["[::1]", port.as_str()]] {
        let mut args = vec!["connect"];
        args.extend(&target);
        let out = eyeballs(&args);
        assert_eq!(out.status.code(), Some(1));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        let bracketed = format!("[::1]:{port}");
        assert!(all.contains(&bracketed), "{all}");
        assert!(
            !all.replace(&bracketed, "").contains(&format!("::1:{port}")),
            "{all}"
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!("eyeballs: [::1]:{port}: Connection refused")),
            "{stderr}"
        );
    }
}

/// Port 0 is a usage error, however it is written.
#[test]
fn port_zero_is_a_usage_error() {
    for args in [
        &["connect", "127.0.0.1", "0"][..],
        &["connect", "127.0.0.1:0"][..],
        &["connect", "[::1]:0"][..],
    ] {
        let out = eyeballs(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("port 0 cannot be connected to"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `HOST:PORT` and `[IPV6]:PORT` work as well as `HOST PORT`; the same port twice is fine, two
/// different ports are a usage error naming both; no port at all says how to write one.
#[test]
fn host_and_port_in_one_argument() {
    let v6 = TcpListener::bind("[::1]:0").unwrap();
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let p6 = v6.local_addr().unwrap().port().to_string();
    let p4 = v4.local_addr().unwrap().port().to_string();
    for (args, host, winner) in [
        (
            vec!["connect".to_string(), format!("[::1]:{p6}")],
            "::1",
            format!("[::1]:{p6}"),
        ),
        (
            vec!["connect".to_string(), format!("127.0.0.1:{p4}")],
            "127.0.0.1",
            format!("127.0.0.1:{p4}"),
        ),
        (
            vec!["connect".to_string(), format!("[::1]:{p6}"), p6.clone()],
            "::1",
            format!("[::1]:{p6}"),
        ),
        (
            vec!["connect".to_string(), "[::1]".to_string(), p6.clone()],
            "::1",
            format!("[::1]:{p6}"),
        ),
    ] {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push("--json");
        let out = eyeballs(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
        assert_eq!(v["host"], host, "{args:?}");
        assert_eq!(v["winner"]["addr"], winner, "{args:?}");
    }
    let out = eyeballs(&["connect", &format!("[::1]:{p6}"), "81"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("[::1]:{p6} names port {p6}")),
        "{stderr}"
    );
    assert!(stderr.contains("PORT says 81"), "{stderr}");
    for (target, hint) in [
        ("::1", "write [::1]:PORT, or ::1 PORT"),
        ("h.test", "write h.test:PORT, or h.test PORT"),
    ] {
        let out = eyeballs(&["connect", target]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains(hint), "{}", text(&out.stderr));
    }
}

/// NXDOMAIN through hickory (from a loopback DNS server) is one sentence on stderr, once,
/// though both the AAAA and the A query failed with it.
#[test]
fn nxdomain_is_one_sentence() {
    let out = with_dns(Zone::default(), |server| {
        let server = server.to_string();
        eyeballs(&[
            "connect",
            "nosuch.test",
            "80",
            "--resolver",
            "hickory",
            "--dns-server",
            &server,
        ])
    });
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "eyeballs: nosuch.test: no such name (NXDOMAIN)\n"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("AAAA nosuch.test query failed: nosuch.test: no such name (NXDOMAIN)"),
        "{stdout}"
    );
    assert!(!stdout.contains("Name("), "{stdout}");
}

/// `--resolver hickory --dns-server` reaches that server on every runtime (here an answer,
/// two queries, and a plain TCP race won over IPv4); without hickory `--dns-server` is a
/// usage error.
#[test]
fn dns_server_is_for_hickory() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let zone = Zone::default().set(
        "h.eyeballs.test",
        RecordType::A,
        Reply::Addrs(
            std::time::Duration::ZERO,
            vec!["127.0.0.1".parse().unwrap()],
        ),
    );
    with_dns(zone, |server| {
        let server = server.to_string();
        for runtime in ["tokio", "async-std", "smol", "blocking"] {
            let out = eyeballs(&[
                "connect",
                &format!("h.eyeballs.test:{port}"),
                "--runtime",
                runtime,
                "--resolver",
                "hickory",
                "--dns-server",
                &server,
                "--json",
            ]);
            assert!(out.status.success(), "{runtime}: {}", text(&out.stderr));
            let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
            assert_eq!(v["winner"]["family"], "ipv4", "{runtime}: {v}");
            assert_eq!(v["winner"]["transport"], "tcp", "{runtime}: {v}");
            let kinds: Vec<&str> = v["dns"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|q| q["query"].as_str())
                .collect();
            assert_eq!(kinds, ["AAAA", "A"], "{runtime}: two queries: {v}");
        }
    });

    let out = eyeballs(&["connect", "127.0.0.1", "80", "--dns-server", "127.0.0.1:53"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--dns-server needs --resolver hickory"));
}

/// A name with no AAAA and no A records (NOERROR, no data) is not a DNS error: one sentence
/// saying DNS had no address.
#[test]
fn no_records_is_one_sentence() {
    let none = || Reply::Addrs(std::time::Duration::ZERO, vec![]);
    let zone = Zone::default()
        .set("empty.eyeballs.test", RecordType::AAAA, none())
        .set("empty.eyeballs.test", RecordType::A, none());
    let out = with_dns(zone, |server| {
        let server = server.to_string();
        eyeballs(&[
            "connect",
            "empty.eyeballs.test:80",
            "--resolver",
            "hickory",
            "--dns-server",
            &server,
        ])
    });
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "eyeballs: empty.eyeballs.test:80: DNS answered with no address to connect to\n"
    );
}

/// A bad HOST or PORT argument: exit status 2, before any lookup, with a message that names
/// the argument, says the rule and shows a form that works (issue 15's list).
#[test]
fn host_and_port_messages_show_what_to_write() {
    let long_name = "a".repeat(256);
    let long_label = format!("{}.test", "a".repeat(64));
    let cases: &[(&[&str], &str)] = &[
        (
            &["localhost:"],
            "eyeballs: HOST \"localhost:\": the port after ':' is empty: write localhost:PORT, \
             like localhost:8080, or localhost PORT",
        ),
        (
            &["::1:8080"],
            "eyeballs: HOST \"::1:8080\": an IPv6 address with a port needs brackets: write \
             [::1]:8080 (or, if ::1:8080 is the whole address, [::1:8080]:PORT)",
        ),
        (
            &["127.0.0.1:80:90"],
            "eyeballs: HOST \"127.0.0.1:80:90\" has more than one ':' and is not an IPv6 \
             address: write HOST:PORT with one port, like 127.0.0.1:80",
        ),
        (
            &["http://localhost:8080"],
            "eyeballs: HOST \"http://localhost:8080\" is a URL; eyeballs connect takes a host \
             and a port, without http:// or a path: write localhost:8080",
        ),
        (
            &["https://h.test/path"],
            "write h.test 443 (and --tls for TLS)",
        ),
        (
            &["localhost:70000"],
            "eyeballs: HOST \"localhost:70000\": 70000 is above 65535: a port is a number from \
             1 to 65535, like 443",
        ),
        (
            &["127.0.0.1", "70000"],
            "error: invalid value '70000' for '[PORT]': 70000 is above 65535: a port is a \
             number from 1 to 65535, like 443",
        ),
        (
            &["127.0.0.1", "-5"],
            "error: invalid value '-5' for '[PORT]': \"-5\" is not a number: a port is a number \
             from 1 to 65535",
        ),
        (
            &[""],
            "eyeballs: HOST is empty: give a host name or an IP address, like example.com 443, \
             127.0.0.1:8080 or [::1]:8080",
        ),
        (
            &["999.1.1.1", "80"],
            "eyeballs: HOST \"999.1.1.1\" is not an IPv4 address (four numbers from 0 to 255, \
             like 192.0.2.1), nor a host name (a name does not end in a number)",
        ),
        (
            &[&long_name, "80"],
            "is 256 bytes long; a DNS name is at most 253 (RFC 1035 §2.3.4)",
        ),
        (
            &[&long_label, "80"],
            "is 64 bytes long; a DNS label is at most 63 (RFC 1035 §2.3.4)",
        ),
    ];
    for (target, says) in cases {
        let mut args = vec!["connect"];
        args.extend_from_slice(target);
        // Were any of these looked up, the system resolver would be asked; a JSON report
        // would be printed. Neither happens: the refusal comes first.
        args.push("--json");
        let out = eyeballs(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target:?}: {stderr}");
        assert!(stderr.contains(says), "{target:?}: {stderr}");
        assert_eq!(text(&out.stdout), "", "{target:?}: nothing raced");
    }
}

/// A bad flag value: exit status 2, the flag named, the rule and the accepted forms.
#[test]
fn flag_messages_show_the_accepted_forms() {
    let forms = "write a whole number with a unit, like 250ms, 5s or 2m (a bare number is \
                 milliseconds)";
    let cases: &[(&[&str], &str)] = &[
        (
            &["--attempt-delay", "5x"],
            "error: invalid value '5x' for '--attempt-delay <DURATION>': \"x\" is not a unit \
             of time here (ms, s or m)",
        ),
        (
            &["--timeout", "-5"],
            "error: invalid value '-5' for '--timeout <DURATION>': a duration is positive, \
             not negative",
        ),
        (
            &["--timeout", "0"],
            "error: invalid value '0' for '--timeout <DURATION>': the deadline is a positive \
             duration (at least 1ms; the default is 30s)",
        ),
        (
            &["--resolution-delay", "fast"],
            "error: invalid value 'fast' for '--resolution-delay <DURATION>': \"fast\" is not \
             a duration",
        ),
        (
            &["--nat64", "64:ff9b::/129"],
            "eyeballs: --nat64 64:ff9b::/129: NAT64 prefix length /129 is not one RFC 6052 \
             allows (32, 40, 48, 56, 64, 96); write auto, or PREFIX/LEN like 64:ff9b::/96",
        ),
        (
            &["--nat64", "64:ff9b::"],
            "eyeballs: --nat64 64:ff9b::: no prefix length; write auto, or PREFIX/LEN",
        ),
        (
            &["--resolver", "hickory", "--dns-server", "dns.test"],
            "error: invalid value 'dns.test' for '--dns-server <IP[:PORT]>': \"dns.test\" is \
             not an IP address: write the name server's IP address, with :PORT if not 53, \
             like 127.0.0.1, 127.0.0.1:5353 or [::1]:5353",
        ),
    ];
    for (flags, says) in cases {
        let mut args = vec!["connect", "127.0.0.1", "80"];
        args.extend_from_slice(flags);
        let out = eyeballs(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
        if says.contains("DURATION") {
            assert!(stderr.contains(forms), "{flags:?}: {stderr}");
        }
    }
}

/// Durations take units (`300ms`, `1s`); a bare number is milliseconds; the default
/// timeout is in --help; a warning quotes the value as written.
#[test]
fn durations_take_units() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for flags in [
        ["--attempt-delay", "300ms"],
        ["--attempt-delay", "300"],
        ["--resolution-delay", "1s"],
        ["--timeout", "2m"],
    ] {
        let mut args = vec!["connect", "127.0.0.1", &port];
        args.extend_from_slice(&flags);
        let out = eyeballs(&args);
        assert!(out.status.success(), "{flags:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "{flags:?}");
    }
    let out = eyeballs(&["connect", "127.0.0.1", &port, "--attempt-delay", "5s"]);
    assert_eq!(
        text(&out.stderr).trim_end(),
        "eyeballs: warning: --attempt-delay 5s is above the 2 s maximum (RFC 8305 §5); using 2 s"
    );
    let help = text(&eyeballs(&["connect", "--help"]).stdout);
    assert!(help.contains("[default: 30s]"), "{help}");
    assert!(help.contains("250ms, 5s, 2m"), "{help}");
}

/// `--dns-server` takes an address without a port (port 53): with an IP literal target no
/// query is sent, so the race shows the flag was accepted.
#[test]
fn dns_server_without_a_port_is_accepted() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for server in ["127.0.0.1", "::1", "[::1]"] {
        let out = eyeballs(&[
            "connect",
            "127.0.0.1",
            &port,
            "--resolver",
            "hickory",
            "--dns-server",
            server,
        ]);
        assert!(out.status.success(), "{server}: {}", text(&out.stderr));
    }
}

/// clap's "did you mean" is on, for subcommands and flags.
#[test]
fn typos_get_suggestions() {
    let out = eyeballs(&["conect", "127.0.0.1", "80"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a similar subcommand exists: 'connect'"),
        "{}",
        text(&out.stderr)
    );
    let out = eyeballs(&["connect", "127.0.0.1", "80", "--timout", "5s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a similar argument exists: '--timeout'"),
        "{}",
        text(&out.stderr)
    );
}

/// A DNS server that never answers: the race ends at --timeout, and the message says that
/// server did not answer, and which queries were waiting.
#[test]
fn a_silent_dns_server_is_named() {
    let zone = Zone::default()
        .set("silent.eyeballs.test", RecordType::AAAA, Reply::Silent)
        .set("silent.eyeballs.test", RecordType::A, Reply::Silent);
    let (out, took, server) = with_dns(zone, |server| {
        let started = std::time::Instant::now();
        let out = eyeballs(&[
            "connect",
            "silent.eyeballs.test:80",
            "--resolver",
            "hickory",
            "--dns-server",
            &server.to_string(),
            "--timeout",
            "1s",
        ]);
        (out, started.elapsed(), server)
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(
        stderr.starts_with("eyeballs: silent.eyeballs.test:80: timed out after "),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "(--timeout 1s): the DNS server {server} did not answer: no reply to AAAA \
             silent.eyeballs.test, A silent.eyeballs.test"
        )),
        "{stderr}"
    );
}

/// The timeline starts with the delay schedule that runs, and each attempt's line shows
/// the delay after its start (HG13); `--delay-schedule 50ms*2` gives the first
/// start 50 ms and the second 100 ms (HG16), in the JSON too. Here `[::1]` refuses and
/// 127.0.0.1 accepts.
#[test]
fn the_delay_schedule_is_shown_and_chosen() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let zone = Zone::default()
        .set(
            "sched.eyeballs.test",
            RecordType::AAAA,
            Reply::Addrs(Duration::ZERO, vec!["::1".parse().unwrap()]),
        )
        .set(
            "sched.eyeballs.test",
            RecordType::A,
            Reply::Addrs(Duration::ZERO, vec!["127.0.0.1".parse().unwrap()]),
        );
    with_dns(zone, |dns| {
        let dns = dns.to_string();
        let run = |extra: &[&str]| {
            let mut args = vec![
                "connect",
                "sched.eyeballs.test",
                &port,
                "--resolver",
                "hickory",
                "--dns-server",
                &dns,
            ];
            args.extend_from_slice(extra);
            let out = eyeballs(&args);
            assert!(out.status.success(), "{extra:?}: {}", text(&out.stderr));
            text(&out.stdout)
        };
        let stdout = run(&[]);
        assert!(
            stdout.starts_with(
                "delay schedule: fixed, 250 ms after each start, or a path's retransmission \
                 timeout when history knows it (100 ms to 2 s)\n"
            ),
            "{stdout}"
        );
        assert!(
            stdout.contains("attempt 0 IPv6 TCP [::1]:") && stdout.contains("attempt delay 250 ms"),
            "{stdout}"
        );

        let stdout = run(&["--delay-schedule", "50ms*2"]);
        assert!(
            stdout.starts_with(
                "delay schedule: 50 ms × 2, the delays after each start: 50 ms, 100 ms, \
                 200 ms, 400 ms, 800 ms, ... up to 2 s\n"
            ),
            "{stdout}"
        );
        let line = |n: usize| {
            stdout
                .lines()
                .find(|l| l.contains(&format!("attempt {n} IPv")) && l.contains("started"))
                .unwrap_or_else(|| panic!("attempt {n}: {stdout}"))
                .to_owned()
        };
        assert!(
            line(0).ends_with("started, attempt delay 50 ms"),
            "{stdout}"
        );
        assert!(
            line(1).ends_with("started, attempt delay 100 ms"),
            "{stdout}"
        );

        let stdout = run(&["--delay-schedule", "50msx2", "--json"]);
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(
            v["delay_schedule"],
            serde_json::json!({ "kind": "multiplier", "base_ms": 50.0, "factor": 2 }),
            "{v}"
        );
        assert_eq!(v["attempts"][0]["delay_ms"], 50.0, "{v}");
        assert_eq!(v["attempts"][1]["delay_ms"], 100.0, "{v}");
        assert!(v["attempts"][0].get("delay").is_none(), "{v}");

        let stdout = run(&["--delay-schedule", "rtt", "--json"]);
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(
            v["delay_schedule"],
            serde_json::json!({ "kind": "rtt", "fixed_ms": 250.0 }),
            "{v}"
        );
    });
}

/// `--delay-schedule` values outside the RFC's floors, or not a schedule, and a schedule
/// that makes `--attempt-delay` pointless, are usage errors that name the flag and show
/// what to write.
#[test]
fn delay_schedule_errors_name_the_flag() {
    let forms = "write fixed (the default: --attempt-delay after every start), rtt (from \
                 round-trip history) or BASE*FACTOR like 50ms*2 (the delays 50ms, 100ms, \
                 200ms, ...)";
    let flag = "for '--delay-schedule <fixed|rtt|BASE*FACTOR>': ";
    let cases: &[(&[&str], String)] = &[
        (
            &["--delay-schedule", "5ms*2"],
            format!(
                "{flag}the base is at least 10ms: RFC 8305 §5 starts no attempt within 10ms \
                 of the previous one; {forms}"
            ),
        ),
        (
            &["--delay-schedule", "3s*2"],
            format!("{flag}the base is at most 2s, the Maximum Connection Attempt Delay"),
        ),
        (
            &["--delay-schedule", "50ms*0"],
            format!("{flag}the factor \"0\" is not a whole number from 1 to 100; {forms}"),
        ),
        (
            &["--delay-schedule", "quick"],
            format!("{flag}\"quick\" is not a schedule: {forms}"),
        ),
        (
            &["--delay-schedule", "50ms*2", "--attempt-delay", "100ms"],
            "eyeballs: --attempt-delay 100ms does nothing with --delay-schedule BASE*FACTOR, \
             whose BASE is the first delay; leave one out"
                .to_owned(),
        ),
    ];
    for (flags, says) in cases {
        let mut args = vec!["connect", "127.0.0.1", "80"];
        args.extend_from_slice(flags);
        let out = eyeballs(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(says.as_str()), "{flags:?}: {stderr}");
        assert_eq!(text(&out.stdout), "", "{flags:?}: nothing raced");
    }
}

/// `--proxy` (HEv3 V60): the race runs over the proxy's address, and the lab proxy resolves
/// the target's name through its own map, so the command asks DNS nothing (the system
/// resolver knows no `origin.eyeballs.test`); HTTP CONNECT and SOCKS5.
#[test]
fn connect_through_a_proxy() {
    use eyeballs_lab::proxy::{ProxyServe, ProxyServer};
    use eyeballs_net::ProxyKind;
    let origin = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = origin.local_addr().unwrap().port().to_string();
    for (kind, scheme) in [
        (ProxyKind::HttpConnect, "http"),
        (ProxyKind::Socks5, "socks5"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let v4 = "127.0.0.1".parse().unwrap();
        let proxy = ProxyServer::start(
            kind,
            listener,
            &[("origin.eyeballs.test", v4)],
            ProxyServe::Tunnel,
        )
        .unwrap();
        let url = format!("{scheme}://{}", proxy.addr());
        let out = eyeballs(&[
            "connect",
            "origin.eyeballs.test",
            &port,
            "--proxy",
            &url,
            "--json",
        ]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["winner"]["addr"], proxy.addr().to_string(), "{v}");
        assert_eq!(v["dns"].as_array().unwrap().len(), 0, "no lookup: {v}");
        assert_eq!(proxy.requests(), [format!("origin.eyeballs.test:{port}")]);
        // The timeline says whose addresses it races.
        let out = eyeballs(&["connect", "origin.eyeballs.test", &port, "--proxy", &url]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
        let through = format!("through {kind} proxy {url}: the race runs over the proxy's addresses, the proxy resolves origin.eyeballs.test");
        assert!(stdout.lines().any(|l| l == through), "{stdout}");
    }
}

/// A `--proxy` value that is not a proxy is a usage error naming the flag and showing the
/// forms that work.
#[test]
fn a_bad_proxy_names_the_flag_and_a_correct_form() {
    for bad in [
        "ftp://proxy.test:21",
        "proxy.test:3128",
        "http://proxy.test",
    ] {
        let out = eyeballs(&["connect", "origin.test", "443", "--proxy", bad]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--proxy"), "{bad}: {stderr}");
        assert!(
            stderr.contains("http://HOST:PORT or socks5://HOST:PORT"),
            "{bad}: {stderr}"
        );
    }
}
