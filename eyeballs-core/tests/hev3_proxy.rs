//! HEv3 V60 (optional), decision HG20: a race through a proxy (HTTP CONNECT, SOCKS5). The
//! race resolves and races the proxy's endpoints; the proxy resolves the origin by name;
//! the origin's HTTPS record, when asked for, gives ALPN and ECH only.
//!
//! Ids are defined in eyeballs-core/docs/requirements.md.

mod common;

use common::sim::{ip, ms, sa, tried, Answer, Ev, Outcome, Scenario};
use eyeballs_core::{
    Config, ConfigError, EchConfig, Protocols, Race, ServiceRecord, Target, Transport,
};

const PROXY: &str = "proxy.test";
const ORIGIN: &str = "origin.test";

fn ech_config() -> EchConfig {
    EchConfig::new(b"\xfe\x0d\x00\x04test")
}

/// The proxy `proxy.test:3128` with AAAA `2001:db8::1`, `2001:db8::2` and A `192.0.2.1`
/// answered at once; every address hangs unless told otherwise.
fn through_proxy(config: Config, target: Target) -> Scenario {
    Scenario::with_target(config, target)
        .dns_for(
            PROXY,
            "AAAA",
            Answer::Addrs(ms(0), vec![ip("2001:db8::1"), ip("2001:db8::2")]),
        )
        .dns_for(PROXY, "A", Answer::Addrs(ms(0), vec![ip("192.0.2.1")]))
}

fn proxied() -> Target {
    Target::proxied(Target::host(PROXY, 3128), ORIGIN, 443)
}

/// Every query as "KIND name", without times.
fn asked(trace: &common::sim::Trace) -> Vec<String> {
    trace.queries().into_iter().map(|(_, q)| q).collect()
}

/// V60: "the race runs over the proxy's endpoints [...] and the proxy resolves the origin
/// by name". The race asks AAAA and A for the proxy only (never the origin), and races the
/// proxy's addresses at its port as RFC 8305 races any host's: IPv6 first, then IPv4 after
/// the 250 ms Connection Attempt Delay (R12, R19), then the second IPv6 one; the IPv4
/// address connects 10 ms after its start and wins at 260 ms, the others cancelled.
#[test]
fn v60_the_race_runs_over_the_proxys_addresses_and_never_asks_for_the_origins() {
    let trace = through_proxy(Config::default(), proxied())
        .net("192.0.2.1:3128", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(asked(&trace), vec!["AAAA proxy.test", "A proxy.test"]);
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "TCP [2001:db8::1]:3128"),
            tried(250, "TCP 192.0.2.1:3128"),
        ]
    );
    assert_eq!(trace.winning_try(), Some(tried(260, "TCP 192.0.2.1:3128")));
    assert_eq!(
        trace.cancelled_tries(),
        vec![tried(260, "TCP [2001:db8::1]:3128")]
    );
}

/// V60: the third attempt, to the proxy's second IPv6 address, starts 250 ms after the
/// second (families interleaved, R19) when nothing connects; every address is the proxy's.
#[test]
fn v60_the_proxys_addresses_interleave_with_the_usual_delay() {
    let trace = through_proxy(Config::default(), proxied())
        .net("[2001:db8::2]:3128", Outcome::Connect(ms(20)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "TCP [2001:db8::1]:3128"),
            tried(250, "TCP 192.0.2.1:3128"),
            tried(500, "TCP [2001:db8::2]:3128"),
        ]
    );
    assert_eq!(
        trace.winning_try(),
        Some(tried(520, "TCP [2001:db8::2]:3128"))
    );
}

/// V60, HG20: the origin's HTTPS query is off by default, even for a caller that speaks
/// HTTP (a proxy is often there so that the client makes no lookups), and QUIC ids are
/// dropped: only TCP endpoints race, offering the caller's TCP ids.
#[test]
fn hg20_no_origin_https_query_by_default_and_only_tcp() {
    let trace = through_proxy(Config::default(), proxied().protocols(Protocols::http()))
        .net("[2001:db8::1]:3128", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(asked(&trace), vec!["AAAA proxy.test", "A proxy.test"]);
    assert_eq!(trace.tries(), vec![tried(0, "TCP [2001:db8::1]:3128")]);
    let winner = trace.race.result().unwrap().unwrap();
    assert_eq!(winner.endpoint().transport(), Transport::Tcp);
    assert_eq!(
        winner.endpoint().to_string(),
        "TCP [2001:db8::1]:3128 h2,http/1.1"
    );
}

/// V60, HG20 with `Target::https(true)` and ECH on: "optionally the origin's HTTPS record
/// still sets ALPN and ECH". The HTTPS query asks about the origin (first, V3), AAAA and A
/// about the proxy. The record (at 100 ms) names another TargetName, another port, an IPv6
/// hint and h3: none of them is used (the proxy resolves the origin at the authority's
/// port; QUIC does not go through a proxy); its ALPN and ECH configuration go to the
/// proxy's TCP endpoints. TCP to the proxy connects at its usual time (50 ms, the
/// Resolution Delay, V5) with its ClientHello held (V34, HG6, HG15), released when the
/// record arrives, and it wins 5 ms later.
#[test]
fn hg20_the_origins_https_record_gives_alpn_and_ech_to_the_proxys_endpoints() {
    let record = ServiceRecord::new(1, "svc.origin.test")
        .alpn(["h3", "h2"])
        .port(8443)
        .ipv6_hints(["2001:db8:5::1".parse().unwrap()])
        .ech(ech_config());
    let trace = through_proxy(
        Config::default().ech(true),
        proxied().https(true).protocols(Protocols::http()),
    )
    .dns_for(ORIGIN, "HTTPS", Answer::Records(ms(100), vec![record]))
    .net("[2001:db8::1]:3128", Outcome::Connect(ms(5)))
    .run();
    assert_eq!(
        asked(&trace),
        vec!["HTTPS origin.test", "AAAA proxy.test", "A proxy.test"]
    );
    let v6 = sa("[2001:db8::1]:3128");
    let attempts: Vec<_> = trace
        .events
        .iter()
        .filter(|(_, e)| !matches!(e, Ev::Resolve(_) | Ev::Answered(_)))
        .cloned()
        .collect();
    assert_eq!(
        attempts,
        vec![
            (ms(50), Ev::Start(v6)),
            (ms(100), Ev::Handshake(v6)),
            (ms(105), Ev::Connected(v6)),
            (ms(105), Ev::Won(v6)),
        ]
    );
    let winner = trace.race.result().unwrap().unwrap();
    assert_eq!(
        winner.endpoint().to_string(),
        "TCP [2001:db8::1]:3128 h2,http/1.1 ECH"
    );
    assert_eq!(winner.endpoint().ech(), Some(&ech_config()));
    // The report keeps the record as DNS gave it.
    let https = &trace.race.queries()[0];
    assert_eq!(https.records()[0].target().as_str(), "svc.origin.test");
}

/// HG20: an AliasMode answer for the origin is no service information through a proxy:
/// the alias target is the proxy's to resolve, so it is never asked about, and the race
/// goes on with the proxy's addresses.
#[test]
fn hg20_an_origin_alias_is_not_followed() {
    let trace = through_proxy(
        Config::default(),
        proxied().https(true).protocols(Protocols::http()),
    )
    .dns_for(
        ORIGIN,
        "HTTPS",
        Answer::Records(ms(10), vec![ServiceRecord::alias("cdn.test")]),
    )
    .net("[2001:db8::1]:3128", Outcome::Connect(ms(5)))
    .run();
    assert_eq!(
        asked(&trace),
        vec!["HTTPS origin.test", "AAAA proxy.test", "A proxy.test"]
    );
    assert_eq!(
        trace.winning_try(),
        Some(tried(15, "TCP [2001:db8::1]:3128"))
    );
}

/// V60, HG20 with the proxy given as addresses: no address query at all, and with
/// `https(true)` the origin's HTTPS query is the only one; its ECH configuration holds the
/// ClientHello through the tunnel until the answer (at 30 ms).
#[test]
fn hg20_a_proxy_given_as_addresses_asks_only_the_origins_https_record() {
    let record = ServiceRecord::new(1, ".").alpn(["h2"]).ech(ech_config());
    let proxy = Target::addrs([sa("127.0.0.1:1080")]);
    let target = Target::proxied(proxy, ORIGIN, 8443)
        .https(true)
        .protocols(Protocols::new().tcp("h2"));
    let mut scenario = Scenario::with_target(Config::default().ech(true), target)
        .dns_for(
            "_8443._https.origin.test",
            "HTTPS",
            Answer::Records(ms(30), vec![record]),
        )
        .net("127.0.0.1:1080", Outcome::Connect(ms(5)));
    scenario.literals = vec!["127.0.0.1".parse().unwrap()];
    let trace = scenario.run();
    assert_eq!(asked(&trace), vec!["HTTPS _8443._https.origin.test"]);
    let winner = trace.race.result().unwrap().unwrap();
    assert_eq!(winner.endpoint().to_string(), "TCP 127.0.0.1:1080 h2 ECH");
    assert_eq!(trace.winning_try().map(|(t, _)| t), Some(ms(35)));
}

/// V60, HG20: a caller that speaks only QUIC cannot go through a proxy (CONNECT and SOCKS5
/// tunnel TCP): the race refuses to start, saying why.
#[test]
fn hg20_a_quic_only_caller_is_refused() {
    let target = proxied().protocols(Protocols::new().quic("h3"));
    let err = Race::<String>::new(target, Config::default(), common::sim::base_instant())
        .err()
        .unwrap();
    assert_eq!(err, ConfigError::ProxyNeedsTcp);
    assert!(err.to_string().contains("TCP only"), "{err}");
}

/// V60: a proxied target says what the race resolves (the proxy) and what every attempt
/// asks the proxy for (the origin); a direct target has no origin.
#[test]
fn v60_a_proxied_target_names_proxy_and_origin() {
    let t = proxied();
    assert_eq!(t.name().unwrap().as_str(), PROXY);
    assert_eq!(t.port(), 3128);
    let (origin, port) = t.origin().unwrap();
    assert_eq!((origin.as_str(), port), (ORIGIN, 443));
    assert!(t.https_query_name().is_none());
    assert!(Target::host(ORIGIN, 443).origin().is_none());
}
