//! The race runner's own behaviour, exactly timed through the public simulator: handshake
//! deadlines, TLS progress, QUIC and UDP, history from race to race, the host's routes,
//! NAT64, address changes, the seed, DNS failures, and the script's own errors.
//!
//! These are what the driver layer adds around the core (eyeballs-net's runner): the
//! drivers' loopback tests check the same behaviour with real sockets and wide bounds;
//! here every time is exact.

use std::io;
use std::time::Duration;

use eyeballs_sim::{
    Answer, AttemptError, AttemptErrorKind, Config, EchConfig, Event, Failure, FailureReason,
    Family, Handshake, Nat64Prefix, Network, Peer, Protocols, QueryKind, ScriptError,
    ServiceRecord, Sim, Source, Transport,
};

const HOST: (&str, u16) = ("example.test", 443);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn tries(list: &[(u64, &str)]) -> Vec<(Duration, String)> {
    list.iter()
        .map(|&(t, what)| (ms(t), what.to_owned()))
        .collect()
}

/// example.test: AAAA 2001:db8::1, A 192.0.2.1, no HTTPS records.
fn dual() -> Network {
    Network::new()
        .aaaa("example.test", ["2001:db8::1"])
        .a("example.test", ["192.0.2.1"])
}

/// The kinds of the attempts' errors of a failed run, in order.
fn attempt_kinds(failure: &Failure<io::Error>) -> Vec<Option<AttemptErrorKind>> {
    failure
        .attempts()
        .iter()
        .map(|a| {
            a.error
                .as_ref()
                .and_then(AttemptError::of)
                .map(AttemptError::kind)
        })
        .collect()
}

fn closes(run: &eyeballs_sim::Run) -> Vec<(Duration, String)> {
    run.events()
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Closed { endpoint } => Some((*t, endpoint.addr().to_string())),
            _ => None,
        })
        .collect()
}

/// V33, HG10: IPv6's TCP is up at 10 ms and its TLS handshake stalls; progress moves the
/// next attempt to 10 + 250 ms. The handshake deadline (100 ms from the TCP connect) fails
/// IPv6 at 110 ms and closes it, and a failure starts the next attempt at once (G1): IPv4
/// at 110 ms, TCP at 120, TLS done at 140.
#[test]
fn a_stalled_handshake_fails_at_its_deadline_and_the_next_attempt_starts_at_once() {
    let network = dual()
        .tcp(
            "[2001:db8::1]:443",
            Peer::accept(ms(10)).handshake(Handshake::stall()),
        )
        .tcp(
            "192.0.2.1:443",
            Peer::accept(ms(10)).handshake(Handshake::done(ms(20))),
        );
    let mut sim = Sim::builder(network)
        .handshake_timeout(ms(100))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(
        run.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (110, "TCP 192.0.2.1:443")])
    );
    assert_eq!(run.elapsed(), ms(140));
    assert_eq!(run.alpn().map(ToString::to_string), Some("h2".into()));
    assert_eq!(closes(&run), tries(&[(110, "[2001:db8::1]:443")]));
    let report = run.report().unwrap();
    assert_eq!(report.attempts()[0].progressed, Some(ms(10)));
    assert!(report.attempts()[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("no answer within 100 ms")));
}

/// Nothing hangs (issue 14): every handshake stalls, and the race ends when the last
/// deadline passes, with every attempt's error a typed `Stalled`. IPv6: TCP at 10 ms, so
/// its deadline is 310 ms; IPv4 starts at 260 ms (progress, HG10), TCP at 270, deadline
/// 570 ms.
#[test]
fn every_handshake_stalls_and_the_race_ends_at_the_last_deadline() {
    let stall = Peer::accept(ms(10)).handshake(Handshake::stall());
    let network = dual()
        .tcp("[2001:db8::1]:443", stall.clone())
        .tcp("192.0.2.1:443", stall);
    let mut sim = Sim::builder(network)
        .handshake_timeout(ms(300))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(
        run.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (260, "TCP 192.0.2.1:443")])
    );
    assert_eq!(run.elapsed(), ms(570));
    assert_eq!(run.error().unwrap().kind(), io::ErrorKind::TimedOut);
    let failure = run.failure().unwrap();
    assert_eq!(failure.reason(), FailureReason::AllAttemptsFailed);
    assert_eq!(attempt_kinds(failure), [Some(AttemptErrorKind::Stalled); 2]);
}

/// HG1, HG3, V29, V24: UDP is dropped everywhere. The record offers h3 and h2 on an IPv6
/// hint: QUIC first (it hangs), TCP+TLS to the same address 50 ms later
/// (`TCP_AFTER_QUIC_DELAY`) wins at 70 ms. One loss is weak evidence, so the second race
/// does the same; after two losses in a row the QUIC path counts as failing and the third
/// race goes TCP first and wins at 20 ms.
#[test]
fn quic_blocked_costs_the_tcp_after_quic_delay_then_history_goes_tcp_first() {
    let record = ServiceRecord::new(1, ".")
        .alpn(["h3", "h2"])
        .ipv6_hints(["2001:db8::1".parse().unwrap()]);
    let network = Network::new()
        .https("example.test", [record])
        .aaaa("example.test", ["2001:db8::1"])
        .drop_all_udp()
        .quic("[2001:db8::1]:443", Peer::accept(ms(10)))
        .tcp(
            "[2001:db8::1]:443",
            Peer::accept(ms(10)).handshake(Handshake::done(ms(10))),
        );
    let mut sim = Sim::new(network).unwrap();
    let first = sim.connect_tls(HOST, &Protocols::http());
    assert_eq!(
        first.tries(),
        tries(&[(0, "QUIC [2001:db8::1]:443"), (50, "TCP [2001:db8::1]:443")])
    );
    assert_eq!(first.elapsed(), ms(70));
    assert_eq!(first.winner().unwrap().transport(), Transport::Tcp);
    let second = sim.connect_tls(HOST, &Protocols::http());
    assert_eq!(second.tries(), first.tries());
    assert_eq!(second.elapsed(), ms(70));
    let third = sim.connect_tls(HOST, &Protocols::http());
    assert_eq!(third.tries(), tries(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(third.elapsed(), ms(20));
}

/// UDP dropped for IPv6 only: QUIC to IPv6 hangs, QUIC to IPv4 works. The order is v6
/// QUIC, v6 TCP 50 ms later (V29; it hangs here), v4 QUIC (HG1) one attempt delay after
/// that: v4 QUIC wins at 300 + 15 ms with h3.
#[test]
fn udp_dropped_for_one_family() {
    let record = ServiceRecord::new(1, ".")
        .alpn(["h3", "h2"])
        .ipv6_hints(["2001:db8::1".parse().unwrap()])
        .ipv4_hints(["192.0.2.1".parse().unwrap()]);
    let network = dual()
        .https("example.test", [record])
        .drop_udp(Family::V6)
        .otherwise(Peer::hang())
        .quic("[2001:db8::1]:443", Peer::accept(ms(15)))
        .quic("192.0.2.1:443", Peer::accept(ms(15)));
    let run = Sim::new(network)
        .unwrap()
        .connect_tls(HOST, &Protocols::http());
    assert_eq!(
        run.tries(),
        tries(&[
            (0, "QUIC [2001:db8::1]:443"),
            (50, "TCP [2001:db8::1]:443"),
            (300, "QUIC 192.0.2.1:443"),
        ])
    );
    assert_eq!(run.elapsed(), ms(315));
    assert_eq!(run.alpn().map(ToString::to_string), Some("h3".into()));
}

/// V54, HEv3 §6.1: an endpoint with ECH whose server rejects it fails (never retried
/// without ECH), and the failure starts the next endpoint at once (G1).
#[test]
fn a_rejected_ech_fails_the_attempt() {
    let record = ServiceRecord::new(1, ".")
        .alpn(["h2"])
        .ech(EchConfig::new(b"ech config"))
        .ipv6_hints(["2001:db8::1".parse().unwrap()])
        .ipv4_hints(["192.0.2.1".parse().unwrap()]);
    let network = dual()
        .https("example.test", [record])
        .tcp(
            "[2001:db8::1]:443",
            Peer::accept(ms(10)).handshake(Handshake::reject_ech(ms(10))),
        )
        .tcp("192.0.2.1:443", Peer::accept(ms(10)));
    let mut sim = Sim::builder(network)
        .config(Config::default().ech(true))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(
        run.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (20, "TCP 192.0.2.1:443")])
    );
    assert_eq!(run.elapsed(), ms(30));
    let report = run.report().unwrap();
    assert!(report.attempts()[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("Encrypted ClientHello")));
}

/// V8, V9, V11: an AliasMode record (at 10 ms) sends the race to the alias target: its
/// HTTPS, AAAA and A are asked at once (its addresses serve its `.` record, and are the
/// last resort, V11). Its ServiceMode `.` record (at 20 ms) brings h2 on port 8443 and a
/// hint, and the service wins over the origin's plain address.
#[test]
fn an_alias_chain_is_followed() {
    let network = Network::new()
        .dns(
            "example.test",
            QueryKind::Https,
            Answer::records([ServiceRecord::alias("cdn.example.test")]).after(ms(10)),
        )
        .a("example.test", ["192.0.2.1"])
        .dns(
            "cdn.example.test",
            QueryKind::Https,
            Answer::records([ServiceRecord::new(1, ".")
                .alpn(["h2"])
                .port(8443)
                .ipv4_hints(["192.0.2.7".parse().unwrap()])])
            .after(ms(10)),
        )
        .a("cdn.example.test", ["192.0.2.7"])
        .otherwise(Peer::accept(ms(5)));
    let run = Sim::new(network)
        .unwrap()
        .connect_tls(HOST, &Protocols::new().tcp("h2"));
    let queries: Vec<(Duration, String)> = run
        .events()
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Query { name, kind } => Some((*t, format!("{kind} {name}"))),
            _ => None,
        })
        .collect();
    assert_eq!(
        queries,
        tries(&[
            (0, "HTTPS example.test"),
            (0, "AAAA example.test"),
            (0, "A example.test"),
            (10, "HTTPS cdn.example.test"),
            (10, "AAAA cdn.example.test"),
            (10, "A cdn.example.test"),
        ])
    );
    assert_eq!(run.tries(), tries(&[(20, "TCP 192.0.2.7:8443")]));
    assert_eq!(run.elapsed(), ms(25));
}

/// A server that answers an ALPN id the attempt did not offer fails it (no ALPN in
/// common); one that answers none is HTTP/1.1 without ALPN, fine over TCP.
#[test]
fn the_server_alpn_choice_is_checked() {
    let network = Network::new()
        .a("example.test", ["192.0.2.1", "192.0.2.2"])
        .tcp(
            "192.0.2.1:443",
            Peer::accept(ms(5)).handshake(Handshake::done(ms(5)).alpn("h2")),
        )
        .tcp(
            "192.0.2.2:443",
            Peer::accept(ms(5)).handshake(Handshake::done(ms(5)).no_alpn()),
        );
    let run = Sim::new(network)
        .unwrap()
        .connect_tls(HOST, &Protocols::new().tcp("http/1.1"));
    assert_eq!(
        run.winner().unwrap().addr(),
        "192.0.2.2:443".parse().unwrap()
    );
    assert_eq!(run.alpn(), None);
    assert!(run.report().unwrap().attempts()[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("ALPN h2")));
}

/// R12 (RFC 6724 rule 1) and HEv3 V6: a host without IPv6 ranks IPv6 last and awaits
/// IPv4; IPv4 wins at once. A plain race ignores handshakes.
#[test]
fn a_host_without_ipv6_goes_ipv4_first() {
    let network = dual().no_route(Family::V6).tcp(
        "192.0.2.1:443",
        Peer::accept(ms(10)).handshake(Handshake::stall()),
    );
    let run = Sim::new(network).unwrap().connect(HOST);
    assert_eq!(run.tries(), tries(&[(0, "TCP 192.0.2.1:443")]));
    assert_eq!(run.elapsed(), ms(10));
}

/// An IPv6 destination without a route fails at once (network unreachable), which
/// starts the next attempt at once (G1).
#[test]
fn no_route_fails_at_once() {
    let network = Network::new()
        .no_route(Family::V4)
        .tcp("[2001:db8::1]:443", Peer::accept(ms(10)));
    let run = Sim::new(network).unwrap().connect(
        &[
            "192.0.2.1:443".parse().unwrap(),
            "[2001:db8::1]:443".parse().unwrap(),
        ][..],
    );
    assert_eq!(
        run.winner().unwrap().addr(),
        "[2001:db8::1]:443".parse().unwrap()
    );
    let report = run.report().unwrap();
    assert!(report.attempts().iter().all(|a| a.endpoint.addr().is_ipv6()
        || a.error
            .as_deref()
            .is_some_and(|e| e.contains("no IPv4 route"))));
}

/// A route of its own with no source (`Source::unreachable`): that one destination is
/// unreachable, the rest of its family is fine.
#[test]
fn one_destination_without_a_route() {
    let network = Network::new()
        .aaaa("example.test", ["2001:db8::1", "2001:db8::2"])
        .route(Source::unreachable("2001:db8::1".parse().unwrap()))
        .tcp("[2001:db8::2]:443", Peer::accept(ms(3)));
    let run = Sim::new(network).unwrap().connect(HOST);
    assert_eq!(
        run.winner().unwrap().addr(),
        "[2001:db8::2]:443".parse().unwrap()
    );
    // Rule 1 of RFC 6724 sorts the unreachable destination last: never tried.
    assert_eq!(run.tries(), tries(&[(0, "TCP [2001:db8::2]:443")]));
    let scripted = Network::new()
        .route(Source::unreachable("2001:db8::1".parse().unwrap()))
        .tcp("[2001:db8::1]:443", Peer::accept(ms(3)));
    assert!(matches!(
        Sim::new(scripted),
        Err(ScriptError::Unreachable { .. })
    ));
}

/// RFC 8305 §7 (R36): an IPv6-only host behind NAT64 races an IPv4 literal as its
/// synthesized address, which reaches the IPv4 server's script through the gateway.
#[test]
fn nat64_synthesizes_and_reaches_the_ipv4_server() {
    let network = Network::new()
        .no_route(Family::V4)
        .nat64(Nat64Prefix::WELL_KNOWN)
        .tcp("192.0.2.1:443", Peer::accept(ms(7)));
    let run = Sim::new(network).unwrap().connect("192.0.2.1:443");
    assert_eq!(
        run.winner().unwrap().addr(),
        "[64:ff9b::c000:201]:443".parse().unwrap()
    );
    assert_eq!(run.elapsed(), ms(7));
}

/// RFC 8305 §6, HEv3 §7 (R33, V45, V46): IPv6 hangs; at 100 ms the host gains 192.0.2.1
/// (DNS push). It is sorted in as the next attempt, on the timer IPv6 armed (250 ms).
#[test]
fn an_address_added_mid_race_is_the_next_attempt() {
    let network = Network::new()
        .aaaa("example.test", ["2001:db8::1"])
        .dns("example.test", QueryKind::A, Answer::empty())
        .addresses_change(ms(100), ["192.0.2.1"], std::iter::empty::<&str>())
        .tcp("[2001:db8::1]:443", Peer::hang())
        .tcp("192.0.2.1:443", Peer::accept(ms(10)));
    let run = Sim::new(network).unwrap().connect(HOST);
    assert_eq!(
        run.tries(),
        tries(&[(0, "TCP [2001:db8::1]:443"), (250, "TCP 192.0.2.1:443")])
    );
    assert_eq!(run.elapsed(), ms(260));
    assert!(run
        .events()
        .iter()
        .any(|(t, e)| *t == ms(100) && matches!(e, Event::AddressesChanged { .. })));
}

/// HG4, V20: services of equal priority are shuffled by the seed: the same seed always
/// gives the same order, and some seeds give each order. (The records carry hints, so
/// both services are known when the race starts.)
#[test]
fn the_seed_decides_the_shuffle_and_only_the_seed() {
    let records = [
        ServiceRecord::new(1, "a.example.test")
            .alpn(["h2"])
            .ipv4_hints(["192.0.2.1".parse().unwrap()]),
        ServiceRecord::new(1, "b.example.test")
            .alpn(["h2"])
            .ipv4_hints(["192.0.2.2".parse().unwrap()]),
    ];
    let network = Network::new()
        .https("example.test", records)
        .a("a.example.test", ["192.0.2.1"])
        .a("b.example.test", ["192.0.2.2"])
        .otherwise(Peer::accept(ms(1)));
    let first = |seed| {
        let mut sim = Sim::builder(network.clone()).seed(seed).build().unwrap();
        let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
        let again = Sim::builder(network.clone())
            .seed(seed)
            .build()
            .unwrap()
            .connect_tls(HOST, &Protocols::new().tcp("h2"));
        assert_eq!(run.report(), again.report(), "seed {seed}");
        run.winner().unwrap().addr().to_string()
    };
    let winners: std::collections::BTreeSet<String> = (0..32).map(first).collect();
    assert_eq!(
        winners.into_iter().collect::<Vec<_>>(),
        ["192.0.2.1:443", "192.0.2.2:443"]
    );
}

/// DNS failures in the resolver's words: SERVFAIL and NXDOMAIN end a race with no address
/// (once nothing is outstanding, G3), and a name the script never mentions is NXDOMAIN.
#[test]
fn dns_failures_are_reported_in_the_resolvers_words() {
    let network = Network::new()
        .dns(
            "example.test",
            QueryKind::Aaaa,
            Answer::servfail().after(ms(5)),
        )
        .dns(
            "example.test",
            QueryKind::A,
            Answer::nxdomain().after(ms(8)),
        );
    let mut sim = Sim::new(network).unwrap();
    let run = sim.connect(HOST);
    assert_eq!(run.elapsed(), ms(8));
    assert_eq!(run.failure().unwrap().reason(), FailureReason::DnsFailed);
    let text = run.error().unwrap().to_string();
    assert!(
        text.contains("SERVFAIL") && text.contains("NXDOMAIN"),
        "{text}"
    );
    let unknown = sim.connect("nosuch.test:443");
    assert!(unknown
        .error()
        .unwrap()
        .to_string()
        .contains("nosuch.test: no such name (NXDOMAIN)"));
}

/// A race that would wait forever (no deadline, a query never answered, an attempt that
/// hangs) is aborted by the simulator, and says so, instead of hanging the test; with a
/// deadline it ends at the deadline.
#[test]
fn a_race_that_would_wait_forever_is_stuck_not_hung() {
    let network = Network::new()
        .dns("example.test", QueryKind::Aaaa, Answer::never())
        .a("example.test", ["192.0.2.1"])
        .tcp("192.0.2.1:443", Peer::accept(Duration::MAX));
    let run = Sim::new(network.clone()).unwrap().connect(HOST);
    assert!(run.is_stuck());
    assert_eq!(run.error().unwrap().kind(), io::ErrorKind::Interrupted);
    let mut sim = Sim::builder(network)
        .config(Config::default().timeout(Some(ms(3000))))
        .build()
        .unwrap();
    let run = sim.connect(HOST);
    assert!(!run.is_stuck());
    assert_eq!(run.elapsed(), ms(3000));
    assert_eq!(run.error().unwrap().kind(), io::ErrorKind::TimedOut);
}

/// A resolver that never answers does not hold a race forever: its query fails as timed
/// out after `RESOLVE_TIMEOUT` (30 s) and the race ends with what it had. Here AAAA never
/// answers and the only address refuses: before the backstop, HG12 (no failure while a
/// query may still bring an address) kept the race waiting for good.
#[test]
fn a_query_never_answered_fails_after_the_resolve_timeout() {
    let network = Network::new()
        .dns("example.test", QueryKind::Aaaa, Answer::never())
        .a("example.test", ["192.0.2.1"])
        .tcp("192.0.2.1:443", Peer::refuse(ms(1)));
    let run = Sim::new(network).unwrap().connect(HOST);
    assert!(!run.is_stuck());
    assert_eq!(run.elapsed(), eyeballs_sim::RESOLVE_TIMEOUT);
    let error = run.error().unwrap().to_string();
    assert!(
        error.contains("no answer from the resolver within 30 s"),
        "{error}"
    );
    assert!(error.contains("refused"), "{error}");
}

/// History is per source address (R15): with another source address, the second race
/// knows nothing of the first. And it expires: ten minutes later it is forgotten.
#[test]
fn history_is_carried_from_race_to_race_and_ages() {
    let network = dual()
        .tcp("[2001:db8::1]:443", Peer::hang())
        .tcp("192.0.2.1:443", Peer::accept(ms(10)));
    let mut sim = Sim::new(network.clone()).unwrap();
    assert_eq!(sim.connect(HOST).elapsed(), ms(260));
    assert_eq!(sim.connect(HOST).elapsed(), ms(10));
    sim.advance(Duration::from_secs(3600));
    assert_eq!(sim.connect(HOST).elapsed(), ms(260));
    sim.clear_history();
    assert_eq!(sim.connect(HOST).elapsed(), ms(260));
    assert_eq!(sim.connect(HOST).elapsed(), ms(10));
    // Other source addresses: another network, for history's sake (R15). A route of
    // its own for one destination is one too.
    let elsewhere = network.source("2001:db8:eeee::100").route(Source::new(
        "192.0.2.1".parse().unwrap(),
        "198.51.100.200".parse().unwrap(),
    ));
    let mut other = Sim::builder(elsewhere)
        .with_history(sim.history().unwrap())
        .build()
        .unwrap();
    assert_eq!(other.connect(HOST).elapsed(), ms(260));
}

/// Durations too long for `Instant` mean never, not a panic.
#[test]
fn duration_max_means_never() {
    let network = Network::new()
        .dns(
            "example.test",
            QueryKind::Aaaa,
            Answer::addrs(["2001:db8::1"]).after(Duration::MAX),
        )
        .a("example.test", ["192.0.2.1"])
        .tcp("192.0.2.1:443", Peer::accept(ms(1)));
    let mut sim = Sim::builder(network)
        .handshake_timeout(Duration::MAX)
        .config(Config::default().timeout(Some(Duration::MAX)))
        .build()
        .unwrap();
    sim.advance(Duration::MAX);
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(run.elapsed(), ms(51));
}

/// Scripts that cannot happen are refused with the reason, in the user's words; an answer
/// for a name nobody asks about is fine.
#[test]
fn impossible_scripts_are_typed_errors_in_plain_words() {
    let cases: Vec<(Network, &str)> = vec![
        (
            Network::new().aaaa("example.test", ["192.0.2.1"]),
            "the AAAA answer of example.test holds 192.0.2.1, but a AAAA record holds only IPv6 addresses",
        ),
        (
            Network::new().a("example.test", ["not-an-ip"]),
            "the A answer of example.test: \"not-an-ip\" is not an IP address",
        ),
        (
            Network::new().dns("example.test", QueryKind::Https, Answer::addrs(["192.0.2.1"])),
            "the HTTPS answer of example.test holds addresses: give it Answer::records",
        ),
        (
            Network::new().dns("example.test", QueryKind::A, Answer::records([ServiceRecord::new(1, ".")])),
            "the A answer of example.test holds service records: give it Answer::addrs",
        ),
        (
            Network::new().https("example.test", [ServiceRecord::new(1, ".").alpn([""])]),
            "an HTTPS record of example.test cannot be sent: an ALPN id is empty or longer than 255 bytes",
        ),
        (
            Network::new().https("example.test", [ServiceRecord::new(1, ".").mandatory([0])]),
            "an HTTPS record of example.test cannot be sent: \"mandatory\" lists itself (key 0)",
        ),
        (
            Network::new()
                .no_route(Family::V6)
                .tcp("[2001:db8::1]:443", Peer::accept(ms(1))),
            "TCP [2001:db8::1]:443 is scripted to accept, but the host has no IPv6 route",
        ),
        (
            Network::new().quic("192.0.2.1", Peer::hang().handshake(Handshake::stall())),
            "QUIC 192.0.2.1:443 has a handshake but never accepts the connect",
        ),
        (
            Network::new().tcp("192.0.2.1:99999", Peer::hang()),
            "an endpoint: \"192.0.2.1:99999\" is not an IP address",
        ),
        (
            Network::new().dns("example.test", QueryKind::Both, Answer::empty()),
            "example.test: the simulated resolver never asks for",
        ),
    ];
    for (network, words) in cases {
        let error = Sim::new(network).unwrap_err();
        assert!(error.to_string().starts_with(words), "{error}");
    }
    let error = Sim::builder(Network::new())
        .handshake_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(error, ScriptError::HandshakeTimeout);
    let error = Sim::builder(Network::new())
        .config(Config::default().first_address_family_count(0))
        .build()
        .unwrap_err();
    assert!(matches!(error, ScriptError::Config(_)));
    // Fine: an answer for a name nobody asks about.
    let unused = dual()
        .a("nobody.example.test", ["192.0.2.9"])
        .tcp("192.0.2.1:443", Peer::accept(ms(1)));
    assert!(Sim::new(unused).unwrap().connect(HOST).winner().is_some());
}

/// example.test with `https` as its HTTPS answer, on 2001:db8::1 (IPv4 hangs), whose TLS
/// server's ECH configuration is `current`: it rejects any other, sending `current` back.
fn rotated_keys(https: Answer, current: &EchConfig) -> Network {
    Network::new()
        .dns("example.test", QueryKind::Https, https)
        .aaaa("example.test", ["2001:db8::1"])
        .a("example.test", ["192.0.2.1"])
        .tcp(
            "[2001:db8::1]:443",
            Peer::accept(ms(10))
                .handshake(Handshake::reject_ech_with_retry(ms(10), current.clone())),
        )
        .tcp("192.0.2.1:443", Peer::hang())
}

/// Every connection the network saw opened, as (time, address): an ECH retry opens a
/// second one within the same attempt.
fn dials(run: &eyeballs_sim::Run) -> Vec<(Duration, String)> {
    run.events()
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Dial { endpoint } => Some((*t, endpoint.addr().to_string())),
            _ => None,
        })
        .collect()
}

fn ech_record(config: &EchConfig) -> ServiceRecord {
    ServiceRecord::new(1, ".").alpn(["h2"]).ech(config.clone())
}

/// V54, HG14: the server rejects the record's ECH configuration and sends its current one.
/// The same attempt retries at once, at the rejection (20 ms), with the retry
/// configuration: TCP again (up at 30), TLS done at 40, with ECH. One attempt in the
/// report, its retry time recorded; no attempt without ECH, and IPv4 never starts.
#[test]
fn an_ech_rejection_with_retry_configurations_is_retried_once_within_the_attempt() {
    let (old, new) = (EchConfig::new(b"old keys"), EchConfig::new(b"new keys"));
    let network = rotated_keys(Answer::records([ech_record(&old)]), &new);
    let mut sim = Sim::builder(network)
        .config(Config::default().ech(true))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(run.tries(), tries(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(
        dials(&run),
        tries(&[(0, "[2001:db8::1]:443"), (20, "[2001:db8::1]:443")])
    );
    assert_eq!(run.elapsed(), ms(40));
    assert_eq!(run.winner().unwrap().ech(), Some(&new));
    let report = run.report().unwrap();
    let [attempt] = report.attempts() else {
        panic!("one attempt: {report}")
    };
    assert_eq!(attempt.ech_retried, Some(ms(20)));
    assert_eq!(attempt.endpoint.ech(), Some(&new));
    // The first connection was closed before the retry's went out.
    assert_eq!(closes(&run), tries(&[(20, "[2001:db8::1]:443")]));
}

/// V34, V55, HG6, HG15: with ECH on, the HTTPS answer comes at 100 ms. The addresses answer
/// at once, so after the Resolution Delay (50 ms) TCP connects with its ClientHello held
/// (up at 60 ms, reported as progress); the record releases it at 100 ms with the record's
/// ECH configuration, and TLS is done at 110. With early TCP off, nothing starts before
/// the record: TCP at 100, TLS done at 120.
#[test]
fn a_held_client_hello_waits_for_the_https_answer_and_takes_its_ech() {
    let config = EchConfig::new(b"current keys");
    let late = || Answer::records([ech_record(&config)]).after(ms(100));
    let mut sim = Sim::builder(rotated_keys(late(), &config))
        .config(Config::default().ech(true))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(run.tries(), tries(&[(50, "TCP [2001:db8::1]:443")]));
    assert_eq!(run.elapsed(), ms(110));
    assert_eq!(run.winner().unwrap().ech(), Some(&config));
    let report = run.report().unwrap();
    let attempt = &report.attempts()[0];
    assert!(attempt.held, "{report}");
    assert_eq!(attempt.progressed, Some(ms(60)), "{report}");
    assert_eq!(attempt.released, Some(ms(100)), "{report}");

    let mut sim = Sim::builder(rotated_keys(late(), &config))
        .config(Config::default().ech(true).early_tcp(false))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(run.tries(), tries(&[(100, "TCP [2001:db8::1]:443")]));
    assert_eq!(run.elapsed(), ms(120));
    assert!(!run.report().unwrap().attempts()[0].held);
}

/// HG15: a held attempt is released with the ECH configuration the record gives, and a
/// rotated key is then retried as any other rejection (V54): held at 50, up at 60,
/// released at 100, rejected at 110, retried at once, up at 120, done at 130.
#[test]
fn a_released_attempt_whose_ech_is_rejected_is_retried() {
    let (old, new) = (EchConfig::new(b"old keys"), EchConfig::new(b"new keys"));
    let late = Answer::records([ech_record(&old)]).after(ms(100));
    let mut sim = Sim::builder(rotated_keys(late, &new))
        .config(Config::default().ech(true))
        .build()
        .unwrap();
    let run = sim.connect_tls(HOST, &Protocols::new().tcp("h2"));
    assert_eq!(run.tries(), tries(&[(50, "TCP [2001:db8::1]:443")]));
    assert_eq!(
        dials(&run),
        tries(&[(50, "[2001:db8::1]:443"), (110, "[2001:db8::1]:443")])
    );
    assert_eq!(run.elapsed(), ms(130));
    assert_eq!(run.winner().unwrap().ech(), Some(&new));
    let attempt = &run.report().unwrap().attempts()[0];
    assert_eq!(
        (attempt.released, attempt.ech_retried),
        (Some(ms(100)), Some(ms(110)))
    );
}
