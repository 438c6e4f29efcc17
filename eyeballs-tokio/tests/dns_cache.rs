//! The connector's DNS cache on real loopback sockets (tokio): a fresh answer is used
//! without a query, an expired one connects at once while its query is still out (the
//! query here never answers, so a connect that waited for it would not end), and
//! hickory's answers reach the cache with their TTLs (the lab's DNS server counts the
//! queries it receives). Every wait has a deadline.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use eyeballs_lab::resolver::{GatedRefresh, OnceThenSilent};
use eyeballs_tokio::{Connector, DnsCache, QueryKind};

/// How long any connect here may take: far more than a loopback connect needs.
const DEADLINE: Duration = Duration::from_secs(10);

fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn connector(resolver: &OnceThenSilent) -> Connector {
    Connector::builder()
        .resolver(resolver.clone())
        .dns_cache(Some(DnsCache::new()))
        .build()
        .unwrap()
}

async fn connect(connector: &Connector, port: u16) -> SocketAddr {
    let stream = tokio::time::timeout(DEADLINE, connector.connect(("cached.test", port)))
        .await
        .expect("the connect ended within its deadline")
        .unwrap();
    stream.peer_addr().unwrap()
}

/// Within its TTL the answer is used without a query: the resolver sees one A query for
/// two connects (a second would never answer).
#[tokio::test]
async fn a_fresh_answer_connects_without_a_query() {
    let (_listener, port) = listener();
    let resolver = OnceThenSilent::new(Duration::from_secs(3600));
    let connector = connector(&resolver);
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(connect(&connector, port).await, server);
    assert_eq!(connector.dns_cache_entries(), 1);
    assert_eq!(connect(&connector, port).await, server);
    assert_eq!(resolver.a_queries(), 1);
}

/// V13, HG18: the answer's TTL (1 ns) is over by the second connect, which races on it at
/// once and sends the query; the query never answers, yet the connect succeeds.
#[tokio::test]
async fn an_expired_answer_connects_while_its_query_is_out() {
    let (_listener, port) = listener();
    let resolver = OnceThenSilent::new(Duration::from_nanos(1));
    let connector = connector(&resolver);
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(connect(&connector, port).await, server);
    let (stream, report) = tokio::time::timeout(
        DEADLINE,
        connector.connect_with_report(("cached.test", port)),
    )
    .await
    .expect("the connect ended within its deadline");
    assert_eq!(stream.unwrap().peer_addr().unwrap(), server);
    assert_eq!(resolver.a_queries(), 2);
    let report = report.unwrap();
    let a = report
        .queries()
        .iter()
        .find(|q| q.kind == QueryKind::A)
        .unwrap();
    // Raced as stale (at the race's start, give or take the loop's clock readings); the
    // fresh answer never came.
    assert!(a.stale.is_some());
    assert_eq!(a.answered, None);
}

/// V13, HG18: the second connect wins on the expired answer while its refresh is out; the
/// refresh answers after that connect returned (the gate opens), and the third connect
/// finds the entry fresh: no third query (which would never answer), no stale answer.
#[tokio::test]
async fn a_refresh_that_answers_after_its_race_freshens_the_entry() {
    let (_listener, port) = listener();
    let resolver = GatedRefresh::new();
    let connector = Connector::builder()
        .resolver(resolver.clone())
        .dns_cache(Some(DnsCache::new()))
        .build()
        .unwrap();
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(connect(&connector, port).await, server);
    assert_eq!(connect(&connector, port).await, server);
    assert_eq!(resolver.a_queries(), 2);
    resolver.open();
    let (stream, report) = tokio::time::timeout(
        DEADLINE,
        connector.connect_with_report(("cached.test", port)),
    )
    .await
    .expect("the connect ended within its deadline");
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

/// Without a cache (the default) every connect asks: the second A query never answers,
/// so the second connect fails at its deadline (here the race's own 300 ms timeout).
#[tokio::test]
async fn without_a_cache_every_connect_asks() {
    let (_listener, port) = listener();
    let resolver = OnceThenSilent::new(Duration::from_secs(3600));
    let connector = Connector::builder()
        .resolver(resolver.clone())
        .config(eyeballs_tokio::Config::default().timeout(Some(Duration::from_millis(300))))
        .build()
        .unwrap();
    connect(&connector, port).await;
    let second = tokio::time::timeout(DEADLINE, connector.connect(("cached.test", port)))
        .await
        .expect("the race's timeout ended it");
    assert_eq!(second.unwrap_err().kind(), io::ErrorKind::TimedOut);
    assert_eq!(resolver.a_queries(), 2);
    assert_eq!(connector.dns_cache_entries(), 0);
}

/// hickory's answers carry their TTLs (the lab server's 60 s) into the cache: with
/// hickory's own cache off, the DNS server sees two queries (AAAA, A) for the first
/// connect and none for the second.
#[cfg(feature = "hickory")]
#[tokio::test]
async fn hickory_answers_reach_the_cache_with_their_ttls() {
    use eyeballs_lab::dns::{DnsServer, RecordType, Reply, Zone};
    use eyeballs_tokio::HickoryResolver;
    use eyeballs_tokio::Resolve;
    use std::net::IpAddr;

    let (_listener, port) = listener();
    let zone = Zone::default().set(
        "cached.test",
        RecordType::A,
        Reply::Addrs(Duration::ZERO, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]),
    );
    let dns = DnsServer::start(zone);
    let resolver = HickoryResolver::with_options(&[dns.addr], |options| {
        options.cache_size = 0;
    })
    .unwrap();
    let answer = resolver
        .resolve_with_ttl("cached.test", QueryKind::A)
        .await
        .unwrap();
    assert_eq!(answer.ttl(), Some(Duration::from_secs(60)));
    assert_eq!(dns.queries(), 1);

    let connector = Connector::builder()
        .resolver(resolver)
        .dns_cache(Some(DnsCache::new()))
        .build()
        .unwrap();
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(connect(&connector, port).await, server);
    // AAAA (no data: not cached) and A.
    assert_eq!(dns.queries(), 3);
    assert_eq!(connector.dns_cache_entries(), 1);
    assert_eq!(connect(&connector, port).await, server);
    // Only AAAA again: A came from the cache.
    assert_eq!(dns.queries(), 4);
}
