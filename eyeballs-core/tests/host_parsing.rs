//! Parsing what callers connect to (shared by every adapter).

use std::net::{IpAddr, SocketAddr};

use eyeballs_core::{Host, HostError, HostPort, ToHostPort};

fn parse(s: &str) -> Result<HostPort, HostError> {
    s.parse()
}

#[test]
fn accepted_forms() {
    let cases: &[(&str, Host, u16)] = &[
        ("example.test:443", Host::Name("example.test".into()), 443),
        ("localhost:0", Host::Name("localhost".into()), 0),
        ("127.0.0.1:80", Host::Ip("127.0.0.1".parse().unwrap()), 80),
        ("[::1]:8080", Host::Ip("::1".parse().unwrap()), 8080),
        (
            "[fe80::1%lo]:22",
            Host::ZonedIpv6 {
                addr: "fe80::1".parse().unwrap(),
                zone: "lo".into(),
            },
            22,
        ),
        (
            "[fe80::1%2]:22",
            Host::ZonedIpv6 {
                addr: "fe80::1".parse().unwrap(),
                zone: "2".into(),
            },
            22,
        ),
        (
            "under_score.test.:1",
            Host::Name("under_score.test.".into()),
            1,
        ),
    ];
    for (s, host, port) in cases {
        let hp = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!((hp.host(), hp.port()), (host, *port), "{s}");
        assert_eq!(
            parse(&hp.to_string()).unwrap(),
            hp,
            "Display round-trips for {s}"
        );
    }
    assert_eq!(
        HostPort::new("::1", 5).unwrap().host(),
        &Host::Ip("::1".parse().unwrap())
    );
    assert_eq!(
        HostPort::new("[::1]", 5).unwrap().host(),
        &Host::Ip("::1".parse().unwrap())
    );
    assert_eq!(
        ("example.test", 1).to_host_port().unwrap().to_string(),
        "example.test:1"
    );
    let sa: SocketAddr = "[fe80::1%3]:9".parse().unwrap();
    assert_eq!(sa.to_host_port().unwrap().to_string(), "[fe80::1%3]:9");
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!((ip, 7).to_host_port().unwrap().to_string(), "192.0.2.1:7");
}

#[test]
fn rejected_forms_say_why() {
    let cases: &[(&str, HostError, &str)] = &[
        (
            "example.test",
            HostError::MissingPort("example.test".into()),
            "has no port",
        ),
        ("::1", HostError::MissingPort("::1".into()), "[ipv6]:port"),
        (":80", HostError::EmptyHost, "empty"),
        (
            "host:http",
            HostError::BadPort("http".into()),
            "not a port number",
        ),
        (
            "host:70000",
            HostError::BadPort("70000".into()),
            "0 to 65535",
        ),
        (
            "[::1:80",
            HostError::BadBrackets("[::1:80".into()),
            "bracketed",
        ),
        (
            "[::1]x:80",
            HostError::BadBrackets("[::1]x:80".into()),
            "bracketed",
        ),
        ("[::1]", HostError::MissingPort("[::1]".into()), "no port"),
        (
            "bad host:80",
            HostError::BadName("bad host".into()),
            "not a valid host name",
        ),
        (
            "a..b:80",
            HostError::BadName("a..b".into()),
            "not a valid host name",
        ),
    ];
    for (s, err, text) in cases {
        let got = parse(s).unwrap_err();
        assert_eq!(&got, err, "{s}");
        assert!(got.to_string().contains(text), "{s}: {got}");
    }
    let long = format!("{}:80", "a.".repeat(130));
    assert!(matches!(parse(&long), Err(HostError::BadName(_))));
}

#[test]
fn literals_become_targets_without_dns() {
    assert!(parse("example.test:1").unwrap().literal_target(0).is_none());
    assert!(parse("[::1]:1").unwrap().literal_target(0).is_some());
    assert!(parse("[fe80::1%lo]:1").unwrap().literal_target(1).is_some());
}
