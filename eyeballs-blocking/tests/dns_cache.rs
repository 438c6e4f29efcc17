//! The connector's DNS cache on the blocking driver, real loopback sockets: a fresh answer
//! is used without a query, and an expired one connects at once while its query is still
//! out (the query here never answers: a connect that waited for it would end at the race's
//! 10 s deadline, with an error).
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use eyeballs_blocking::{Config, Connector, DnsCache, QueryKind};
use eyeballs_lab::resolver::{GatedRefresh, OnceThenSilent};

fn run(ttl: Duration) -> usize {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let resolver = OnceThenSilent::new(ttl);
    let connector = Connector::builder()
        .resolver(resolver.clone())
        .config(Config::default().timeout(Some(Duration::from_secs(10))))
        .dns_cache(Some(DnsCache::new()))
        .build()
        .unwrap();
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    for _ in 0..2 {
        let stream = connector.connect(("cached.test", port)).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), server);
    }
    assert_eq!(connector.dns_cache_entries(), 1);
    resolver.a_queries()
}

#[test]
fn a_fresh_answer_connects_without_a_query() {
    assert_eq!(run(Duration::from_secs(3600)), 1);
}

/// V13, HG18: the 1 ns TTL is over by the second connect, which races on the stale
/// answer and sends the query that never answers.
#[test]
fn an_expired_answer_connects_while_its_query_is_out() {
    assert_eq!(run(Duration::from_nanos(1)), 2);
}

/// V13, HG18: the second connect wins on the expired answer while its refresh is out; the
/// refresh answers after that connect returned, and the third connect finds the entry
/// fresh: no third A query (which would never answer: the connect would fail at its
/// 10 s deadline), no stale answer.
#[test]
fn a_refresh_that_answers_after_its_race_freshens_the_entry() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let resolver = GatedRefresh::new();
    let connector = Connector::builder()
        .resolver(resolver.clone())
        .config(Config::default().timeout(Some(Duration::from_secs(10))))
        .dns_cache(Some(DnsCache::new()))
        .build()
        .unwrap();
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    for _ in 0..2 {
        let stream = connector.connect(("cached.test", port)).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), server);
    }
    assert_eq!(resolver.a_queries(), 2);
    resolver.open();
    let (stream, report) = connector.connect_with_report(("cached.test", port));
    assert_eq!(stream.unwrap().peer_addr().unwrap(), server);
    assert_eq!(resolver.a_queries(), 2);
    let report = report.unwrap();
    let a = report
        .queries()
        .iter()
        .find(|q| q.kind == QueryKind::A)
        .unwrap();
    assert_eq!(a.stale, None, "{report}");
    assert!(a.answered.is_some(), "{report}");
}
