//! HEv3 §6.3, RFC 9460 §3.1 (V36) through the connectors' race runner, exactly timed:
//! a failed HTTPS query on protected DNS (`Config::protected_dns`) gives the connect up,
//! NXDOMAIN is a negative answer, and on DNS that is not protected a failure counts as
//! negative. Ids are defined in eyeballs-core/docs/requirements.md.

use std::io;
use std::time::Duration;

use eyeballs_sim::{Answer, Config, FailureReason, Network, Peer, Protocols, QueryKind, Sim};

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
