//! hickory-resolver against a real DNS server on loopback: AAAA and A are separate queries,
//! so RFC 8305 §3's Resolution Delay and late-answer merging happen with real packets
//! (feature `hickory`).
#![cfg(feature = "hickory")]
#![allow(clippy::unwrap_used)]

use std::io;
use std::time::Duration;

use eyeballs_core::{AttemptStatus, QueryKind};
use eyeballs_lab::dns::{DnsServer, Reply, Zone};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, HickoryResolver};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

const NAME: &str = "h.eyeballs.test";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn race(zone: Zone, lab: &Lab) -> (io::Result<tokio::net::TcpStream>, eyeballs_core::Report) {
    let server = DnsServer::start(zone);
    let connector = Connector::builder()
        .resolver(HickoryResolver::with_name_servers(&[server.addr]).unwrap())
        .history(false)
        .build()
        .unwrap();
    let (stream, report) = connector.connect_with_report((NAME, lab.port)).await;
    drop(server);
    (stream, report.unwrap())
}

fn zone(aaaa: Reply, a: Reply) -> Zone {
    Zone::default()
        .set(NAME, RecordType::AAAA, aaaa)
        .set(NAME, RecordType::A, a)
}

/// Both answer at once: two queries, AAAA first; IPv6 wins.
#[tokio::test]
async fn both_answer_ipv6_wins() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = race(
        zone(Reply::Addrs(ms(0), vec![V6]), Reply::Addrs(ms(0), vec![V4])),
        &lab,
    )
    .await;
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        lab.addr(V6),
        "{report}"
    );
    let kinds: Vec<_> = report.queries().iter().map(|q| q.kind).collect();
    assert_eq!(kinds, vec![QueryKind::Aaaa, QueryKind::A]);
}

/// R5: AAAA is 400 ms late; IPv4 starts after the 50 ms Resolution Delay, before the AAAA
/// answer, and wins.
#[tokio::test]
async fn late_aaaa_ipv4_after_the_resolution_delay() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = race(
        zone(
            Reply::Addrs(ms(400), vec![V6]),
            Reply::Addrs(ms(0), vec![V4]),
        ),
        &lab,
    )
    .await;
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        lab.addr(V4),
        "{report}"
    );
    let a_answered = report.queries()[1].answered.unwrap();
    let start = report.attempts()[0].started;
    assert!(
        start >= a_answered + ms(50),
        "waited the Resolution Delay:\n{report}"
    );
    assert!(start < ms(350), "did not wait for AAAA:\n{report}");
}

/// R7: with AAAA failed (SERVFAIL), the A answer starts IPv4 at once, without the
/// Resolution Delay; the failure is in the report. (hickory retries a SERVFAIL, so the A
/// answer comes 150 ms later, after AAAA has surely failed.)
#[tokio::test]
async fn aaaa_servfail_then_ipv4_without_delay() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = race(
        zone(
            Reply::Code(ms(0), ResponseCode::ServFail),
            Reply::Addrs(ms(150), vec![V4]),
        ),
        &lab,
    )
    .await;
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        lab.addr(V4),
        "{report}"
    );
    let aaaa = &report.queries()[0];
    assert!(aaaa.error.is_some(), "{report}");
    let a_answered = report.queries()[1].answered.unwrap();
    assert!(aaaa.answered.unwrap() <= a_answered, "{report}");
    assert!(
        report.attempts()[0].started < a_answered + ms(40),
        "no Resolution Delay:\n{report}"
    );
}

/// R7: an empty AAAA answer (NOERROR, no data) is negative, not an error.
#[tokio::test]
async fn empty_aaaa_is_negative_not_an_error() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = race(
        zone(Reply::Addrs(ms(0), vec![]), Reply::Addrs(ms(0), vec![V4])),
        &lab,
    )
    .await;
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        lab.addr(V4),
        "{report}"
    );
    assert!(report.queries()[0].error.is_none(), "{report}");
    assert!(report.queries()[0].addrs.is_empty());
}

/// R8: IPv6 hangs; A answers 400 ms late; the late IPv4 address is merged and wins.
#[tokio::test]
async fn late_a_is_merged_and_wins() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let (stream, report) = race(
        zone(
            Reply::Addrs(ms(0), vec![V6]),
            Reply::Addrs(ms(400), vec![V4]),
        ),
        &lab,
    )
    .await;
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        lab.addr(V4),
        "{report}"
    );
    let [v6, v4] = report.attempts() else {
        panic!("{report}")
    };
    assert_eq!(v6.status, AttemptStatus::Cancelled);
    assert!(v4.started >= ms(400), "{report}");
}

/// NXDOMAIN: the race fails with DNS errors.
#[tokio::test]
async fn nxdomain_fails() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = race(
        zone(
            Reply::Code(ms(0), ResponseCode::NXDomain),
            Reply::Code(ms(0), ResponseCode::NXDomain),
        ),
        &lab,
    )
    .await;
    let err = stream.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(err.to_string().starts_with("DNS failed"), "{err}");
    assert!(report.attempts().is_empty());
}

/// The texts of the failed queries of `err`'s `Failure`, with their kinds.
fn query_errors(err: &io::Error) -> Vec<(io::ErrorKind, String)> {
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<eyeballs_tokio::Failure<io::Error>>())
        .unwrap_or_else(|| panic!("no Failure inside: {err}"));
    failure
        .queries()
        .iter()
        .map(|q| (q.error.kind(), q.error.to_string()))
        .collect()
}

/// NXDOMAIN is a sentence naming the host, not hickory's debug dump of the query.
#[tokio::test]
async fn nxdomain_is_a_sentence() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = race(Zone::default(), &lab).await;
    let err = stream.unwrap_err();
    let expected = (
        io::ErrorKind::NotFound,
        format!("{NAME}: no such name (NXDOMAIN)"),
    );
    assert_eq!(
        query_errors(&err),
        vec![expected.clone(), expected],
        "{err}"
    );
    assert!(!err.to_string().contains("Query"), "{err}");
    assert!(!report.to_string().contains("Name("), "{report}");
}

/// SERVFAIL says the server failed.
#[tokio::test]
async fn servfail_is_a_sentence() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, _) = race(
        zone(
            Reply::Code(ms(0), ResponseCode::ServFail),
            Reply::Code(ms(0), ResponseCode::ServFail),
        ),
        &lab,
    )
    .await;
    let err = stream.unwrap_err();
    let errors = query_errors(&err);
    assert_eq!(errors.len(), 2, "{err}");
    for (_, text) in errors {
        assert_eq!(text, format!("{NAME}: the DNS server failed (SERVFAIL)"));
    }
}

/// A server that never answers is a `TimedOut` sentence (hickory with a 200 ms timeout and
/// one attempt, so the test is quick).
#[tokio::test]
async fn no_answer_is_a_timeout_sentence() {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::TokioResolver;

    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let server = DnsServer::start(zone(Reply::Silent, Reply::Silent));
    let mut ns = NameServerConfig::udp(server.addr.ip());
    for c in &mut ns.connections {
        c.port = server.addr.port();
    }
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    );
    builder.options_mut().timeout = ms(200);
    builder.options_mut().attempts = 1;
    let connector = Connector::builder()
        .resolver(HickoryResolver::from_resolver(builder.build().unwrap()))
        .history(false)
        .build()
        .unwrap();
    let err = connector.connect((NAME, lab.port)).await.unwrap_err();
    drop(server);
    let errors = query_errors(&err);
    assert_eq!(errors.len(), 2, "{err}");
    for (kind, text) in errors {
        assert_eq!(kind, io::ErrorKind::TimedOut, "{text}");
        assert_eq!(
            text,
            format!("{NAME}: no answer from the DNS server (timed out)")
        );
    }
}
