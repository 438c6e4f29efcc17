//! HEv3 §6.3, RFC 9460 §3.1 (V36) and HEv3 §11, RFC 9460 §9.5 (V37) through the
//! connectors' race runner, exactly timed: a failed HTTPS query on protected DNS
//! (`Config::protected_dns`) gives the connect up, NXDOMAIN is a negative answer, and on DNS
//! that is not protected a failure counts as negative; an `http` origin's connection is
//! held until its HTTPS answer and upgraded to TLS when it is positive. Ids are defined in
//! eyeballs-core/docs/requirements.md.

use std::io;
use std::time::Duration;

use eyeballs_sim::{
    Answer, Config, Event, FailureReason, Network, Peer, Protocols, QueryKind, ServiceRecord, Sim,
};

const HOST: (&str, u16) = ("example.test", 443);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// example.test: `https` as its HTTPS answer, AAAA 2001:db8::1 (TCP up after 100 ms, TLS
/// done at once), A 192.0.2.1 (hangs).
fn network(https: Answer) -> Network {
    Network::new()
        .dns("example.test", QueryKind::Https, https)
        .aaaa("example.test", ["2001:db8::1"])
        .a("example.test", ["192.0.2.1"])
        .tcp("[2001:db8::1]:443", Peer::accept(ms(100)))
        .tcp("192.0.2.1:443", Peer::hang())
}

fn run(config: Config, https: Answer) -> eyeballs_sim::Run {
    let mut sim = Sim::builder(network(https))
        .config(config)
        .build()
        .expect("a valid script");
    sim.connect_tls(HOST, &Protocols::new().tcp("h2"))
}

/// V36: the HTTPS query fails (SERVFAIL) at 80 ms, after TCP to ::1 started at 50 ms (the
/// Resolution Delay, V5(b)) and before it is up (150 ms). On protected DNS the connect fails
/// at 80 ms with `ServiceQueryFailed`, in the resolver's words, and the attempt is closed
/// then; unprotected, the failure counts as negative and TLS to ::1 wins at 150 ms.
#[test]
fn v36_servfail_on_protected_dns_ends_the_connect() {
    let servfail = || Answer::servfail().after(ms(80));
    let protected = run(Config::default().protected_dns(true), servfail());
    assert_eq!(protected.elapsed(), ms(80));
    let failure = protected.failure().unwrap();
    assert_eq!(failure.reason(), FailureReason::ServiceQueryFailed);
    let text = protected.error().unwrap().to_string();
    assert!(
        text.starts_with("the HTTPS query failed on protected DNS") && text.contains("SERVFAIL"),
        "{text}"
    );
    assert_eq!(
        protected.tries(),
        vec![(ms(50), "TCP [2001:db8::1]:443".to_string())]
    );
    assert!(protected.report().unwrap().attempts()[0].ended == Some(ms(80)));

    let open = run(Config::default(), servfail());
    assert_eq!(open.elapsed(), ms(150));
    assert!(open.winner().is_some());
}

/// V36: a timeout is a failure too, and the caller's `io::Error` says `TimedOut`.
#[test]
fn v36_a_timed_out_https_query_is_a_failure() {
    let run = run(
        Config::default().protected_dns(true),
        Answer::timed_out().after(ms(80)),
    );
    assert_eq!(run.elapsed(), ms(80));
    assert_eq!(run.error().unwrap().kind(), io::ErrorKind::TimedOut);
}

/// V36: NXDOMAIN for the HTTPS query is an answer (the name has no records), so on protected
/// DNS the runner feeds it as a negative one: at 20 ms it settles service information and
/// the held-back start goes at once (V5), TLS to ::1 winning at 120 ms.
#[test]
fn v36_nxdomain_on_protected_dns_is_a_negative_answer() {
    let run = run(
        Config::default().protected_dns(true),
        Answer::nxdomain().after(ms(20)),
    );
    assert_eq!(
        run.tries(),
        vec![(ms(20), "TCP [2001:db8::1]:443".to_string())]
    );
    assert_eq!(run.elapsed(), ms(120));
    assert!(run.winner().is_some());
}

/// example.test for `http://example.test`: `https` as the HTTPS answer of its `https` form
/// (the name itself), AAAA 2001:db8::1 with a server on port 80 (TCP up after 10 ms) and on
/// 443 (TCP up after 10 ms, TLS done at once).
fn http_origin(https: Answer) -> Network {
    Network::new()
        .dns("example.test", QueryKind::Https, https)
        .aaaa("example.test", ["2001:db8::1"])
        .dns("example.test", QueryKind::A, Answer::empty())
        .tcp("[2001:db8::1]:80", Peer::accept(ms(10)))
        .tcp("[2001:db8::1]:443", Peer::accept(ms(10)))
}

fn protected_sim(network: Network) -> Sim {
    Sim::builder(network)
        .config(Config::default().protected_dns(true))
        .build()
        .expect("a valid script")
}

/// V37 (§11, MUST): "no cleartext (http) data after the TCP handshake until a valid HTTPS
/// answer; if it is positive, do TLS first". `http://example.test` on protected DNS, its
/// HTTPS record at 100 ms: TCP to port 80 starts at 50 ms (the Resolution Delay), is up at
/// 60 (progress, held), and at 100 ms the connect fails with `UpgradeToHttps`, the
/// connection closed then, never released. The caller then connects with TLS to port 443
/// (as eyeballs-tokio's `HttpsConnector` does), and that wins.
#[test]
fn v37_a_positive_answer_closes_the_held_connection_and_tls_follows() {
    let record = || ServiceRecord::new(1, ".").alpn(["h2"]);
    let mut sim = protected_sim(http_origin(Answer::records([record()]).after(ms(100))));
    let run = sim.connect_http(("example.test", 80));
    assert_eq!(
        run.tries(),
        vec![(ms(50), "TCP [2001:db8::1]:80".to_string())]
    );
    assert_eq!(
        run.failure().unwrap().reason(),
        FailureReason::UpgradeToHttps
    );
    assert_eq!(run.elapsed(), ms(100));
    let report = run.report().unwrap();
    let attempt = &report.attempts()[0];
    assert!(attempt.held, "{report}");
    assert_eq!(attempt.progressed, Some(ms(60)), "{report}");
    assert_eq!(attempt.released, None, "{report}");
    assert!(run
        .events()
        .iter()
        .any(|(t, e)| *t == ms(100) && matches!(e, Event::Closed { .. })));

    let tls = sim.connect_tls(("example.test", 443), &Protocols::new().tcp("h2"));
    assert_eq!(tls.winner().unwrap().addr().port(), 443);
}

/// V37: a negative answer (no HTTPS record) at 100 ms releases the held connection: the
/// stream is returned at 100 ms, not at 60 when TCP was up. On DNS that is not protected,
/// nothing is held: it is returned at 60 ms.
#[test]
fn v37_a_negative_answer_returns_the_cleartext_stream_at_the_answer() {
    let late = || http_origin(Answer::empty().after(ms(100)));
    let run = protected_sim(late()).connect_http(("example.test", 80));
    assert_eq!(run.winner().unwrap().addr().port(), 80);
    assert_eq!(run.elapsed(), ms(100));

    let mut open = Sim::new(late()).expect("a valid script");
    let run = open.connect_http(("example.test", 80));
    assert_eq!(run.elapsed(), ms(60));
    assert_eq!(run.winner().unwrap().addr().port(), 80);
}
