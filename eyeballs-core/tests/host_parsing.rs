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

/// Everything tokio's, async-net's and std's `ToSocketAddrs` take converts, without DNS.
#[test]
fn every_to_socket_addrs_form_converts() {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

    let v4 = Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let v6 = Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let hp = |t: &dyn ToHostPort| {
        let hp = t.to_host_port().unwrap();
        (hp.host().clone(), hp.port())
    };
    assert_eq!(hp(&(Ipv4Addr::LOCALHOST, 80)), (v4.clone(), 80));
    assert_eq!(hp(&(Ipv6Addr::LOCALHOST, 81)), (v6.clone(), 81));
    assert_eq!(hp(&(IpAddr::V6(Ipv6Addr::LOCALHOST), 82)), (v6.clone(), 82));
    assert_eq!(
        hp(&SocketAddrV4::new(Ipv4Addr::LOCALHOST, 83)),
        (v4.clone(), 83)
    );
    assert_eq!(
        hp(&SocketAddrV6::new(Ipv6Addr::LOCALHOST, 84, 0, 0)),
        (v6.clone(), 84)
    );
    assert_eq!(
        hp(&SocketAddrV6::new("fe80::1".parse().unwrap(), 85, 0, 7)),
        (
            Host::ZonedIpv6 {
                addr: "fe80::1".parse().unwrap(),
                zone: "7".into()
            },
            85
        )
    );
    assert_eq!(hp(&("127.0.0.1", 86)), (v4.clone(), 86));
    assert_eq!(hp(&(String::from("::1"), 87)), (v6.clone(), 87));
    assert_eq!(hp(&String::from("[::1]:88")), (v6.clone(), 88));
    assert_eq!(hp(&"127.0.0.1:89"), (v4, 89));
}

/// A list of socket addresses races as given: one address is that address, several are
/// `Host::Addrs` with their own ports and scope ids, none is an error.
#[test]
fn address_lists_race_as_given() {
    let a: SocketAddr = "[fe80::1%3]:443".parse().unwrap();
    let b: SocketAddr = "127.0.0.1:8443".parse().unwrap();
    let both = [a, b];

    let from_slice = both[..].to_host_port().unwrap();
    assert_eq!(from_slice.host(), &Host::Addrs(vec![a, b]));
    assert_eq!(from_slice.port(), 443, "the first address's port");
    assert_eq!(from_slice.to_string(), "[fe80::1%3]:443, 127.0.0.1:8443");
    // The scope id of each address survives; the scope argument is for zone names only.
    assert_eq!(
        from_slice.literal_target(0),
        Some(eyeballs_core::Target::addrs([a, b]))
    );
    assert_eq!(both.to_host_port().unwrap(), from_slice);
    assert_eq!(vec![a, b].to_host_port().unwrap(), from_slice);

    let one = [b];
    assert_eq!(one[..].to_host_port().unwrap(), b.to_host_port().unwrap());

    let none: &[SocketAddr] = &[];
    let err = none.to_host_port().unwrap_err();
    assert_eq!(err, HostError::NoAddresses);
    assert!(err.to_string().contains("empty"), "{err}");
}
