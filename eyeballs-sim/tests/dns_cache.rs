//! The connector's DNS cache and optimistic DNS (HEv3 §4.4, V13; HG18), exactly timed
//! through the public simulator: a fresh answer sends no query, an expired one races at
//! once while the query runs and the fresh answer joins as a late answer (§7, V44, V45),
//! a failed refresh leaves the stale answer in use, answers without a TTL are not kept,
//! and the cap on entries holds.

use std::time::Duration;

use eyeballs_sim::{
    Answer, DnsCache, Event, Network, Peer, Protocols, QueryKind, Run, ServiceRecord, Sim,
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

/// The queries a run sent, with their times.
fn queries(run: &Run) -> Vec<(Duration, String, QueryKind)> {
    run.events()
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Query { name, kind } => Some((*t, name.to_string(), *kind)),
            _ => None,
        })
        .collect()
}

/// example.test: AAAA 2001:db8::1 and A 192.0.2.1, each 30 ms after its query, with a
/// TTL of `ttl`; the IPv6 server accepts in 10 ms.
fn dual(ttl: Duration) -> Network {
    Network::new()
        .dns(
            "example.test",
            QueryKind::Aaaa,
            Answer::addrs(["2001:db8::1"]).after(ms(30)).ttl(ttl),
        )
        .dns(
            "example.test",
            QueryKind::A,
            Answer::addrs(["192.0.2.1"]).after(ms(30)).ttl(ttl),
        )
        .tcp("[2001:db8::1]:443", Peer::accept(ms(10)))
        .tcp("192.0.2.1:443", Peer::accept(ms(10)))
}

fn cached(network: Network, cache: DnsCache) -> Sim {
    Sim::builder(network)
        .dns_cache(Some(cache))
        .build()
        .expect("the script is valid")
}

/// A fresh answer is used without a query (a stub cache honours the TTL): the second race
/// starts its first attempt at 0 ms instead of after the 30 ms DNS round trip.
#[test]
fn a_fresh_answer_from_the_cache_sends_no_query() {
    let mut sim = cached(dual(Duration::from_secs(60)), DnsCache::new());
    let first = sim.connect(HOST);
    assert_eq!(first.tries(), tries(&[(30, "TCP [2001:db8::1]:443")]));
    assert_eq!(first.elapsed(), ms(40));
    assert_eq!(sim.dns_cache_entries(), 2);

    sim.advance(Duration::from_secs(59));
    let second = sim.connect(HOST);
    assert_eq!(second.tries(), tries(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(second.elapsed(), ms(10));
    assert_eq!(queries(&second), []);
    let report = second.report().unwrap();
    assert!(report.queries().iter().all(|q| q.answered == Some(ms(0))));
    assert!(report.queries().iter().all(|q| q.stale.is_none()));
}

/// V13, HG18: an expired answer races at once, as stale, while its query goes out; the
/// race wins on it at 10 ms, before the fresh answer (30 ms) is back.
#[test]
fn an_expired_answer_races_at_once_while_its_query_runs() {
    let mut sim = cached(dual(Duration::from_secs(1)), DnsCache::new());
    sim.connect(HOST);
    sim.advance(Duration::from_secs(5));
    let second = sim.connect(HOST);
    assert_eq!(second.tries(), tries(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(second.elapsed(), ms(10));
    assert_eq!(
        queries(&second),
        [
            (ms(0), "example.test".to_owned(), QueryKind::Aaaa),
            (ms(0), "example.test".to_owned(), QueryKind::A),
        ]
    );
    let report = second.report().unwrap();
    assert!(report.queries().iter().all(|q| q.stale == Some(ms(0))));
    // The race ended before the fresh answers: the queries never answered.
    assert!(report.queries().iter().all(|q| q.answered.is_none()));
}

/// HEv3 §7 (V44, V45), HG18: the zone moved example.test from 192.0.2.1 (now hanging) to
/// 192.0.2.2. The stale answer's address is tried at 0 ms; the fresh answer at 30 ms
/// replaces it: 192.0.2.2 joins the list and is the next attempt at the Connection
/// Attempt Delay (250 ms, V46: the answer does not move the timer), and wins at 260 ms.
/// Its answer is cached: the third race goes straight to it, with no query. (History is
/// off: with it, the first race's 10 ms round trip would bring the delay to its 100 ms
/// floor.)
#[test]
fn a_fresh_answer_that_differs_joins_as_a_late_answer() {
    let ttl = Duration::from_secs(1);
    let moved = |to: &str| {
        Network::new()
            .dns(
                "example.test",
                QueryKind::A,
                Answer::addrs([to]).after(ms(30)).ttl(ttl),
            )
            .tcp("192.0.2.1:80", Peer::accept(ms(10)))
            .tcp("192.0.2.2:80", Peer::accept(ms(10)))
    };
    let mut sim = Sim::builder(moved("192.0.2.1"))
        .dns_cache(Some(DnsCache::new()))
        .history(false)
        .build()
        .unwrap();
    let first = sim.connect("example.test:80");
    assert_eq!(first.tries(), tries(&[(30, "TCP 192.0.2.1:80")]));

    let network = moved("192.0.2.2").tcp("192.0.2.1:80", Peer::hang());
    sim.change_network(network).unwrap();
    sim.advance(Duration::from_secs(5));
    let second = sim.connect("example.test:80");
    assert_eq!(
        second.tries(),
        tries(&[(0, "TCP 192.0.2.1:80"), (250, "TCP 192.0.2.2:80")])
    );
    assert_eq!(
        second.winner().map(|e| e.addr()),
        Some("192.0.2.2:80".parse().unwrap())
    );
    assert_eq!(second.elapsed(), ms(260));
    let a = second
        .report()
        .unwrap()
        .queries()
        .iter()
        .find(|q| q.kind == QueryKind::A)
        .cloned()
        .unwrap();
    assert_eq!((a.stale, a.answered), (Some(ms(0)), Some(ms(30))));
    assert_eq!(a.addrs, ["192.0.2.2".parse::<std::net::IpAddr>().unwrap()]);

    let third = sim.connect("example.test:80");
    assert_eq!(third.tries(), tries(&[(0, "TCP 192.0.2.2:80")]));
    assert!(!queries(&third).iter().any(|(_, _, k)| *k == QueryKind::A));
}

/// RFC 8767's serve-stale (HG18): the refresh fails (SERVFAIL at 30 ms), the race goes on
/// with the stale answer, and the entry stays for the next race; a failure is never cached.
#[test]
fn a_failed_refresh_leaves_the_stale_answer_in_use() {
    let network = |answer: Answer| {
        Network::new()
            .dns("example.test", QueryKind::A, answer)
            .tcp("192.0.2.1:80", Peer::accept(ms(40)))
    };
    let good = Answer::addrs(["192.0.2.1"])
        .after(ms(30))
        .ttl(Duration::from_secs(1));
    let mut sim = cached(network(good), DnsCache::new());
    sim.connect("example.test:80");
    sim.change_network(network(Answer::servfail().after(ms(30))))
        .unwrap();
    sim.advance(Duration::from_secs(5));
    let second = sim.connect("example.test:80");
    assert_eq!(second.tries(), tries(&[(0, "TCP 192.0.2.1:80")]));
    assert_eq!(second.elapsed(), ms(40));
    assert!(second.error().is_none());
    let a = second
        .report()
        .unwrap()
        .queries()
        .iter()
        .find(|q| q.kind == QueryKind::A)
        .cloned();
    assert!(a.unwrap().error.is_some());
    assert_eq!(sim.dns_cache_entries(), 1);
    let third = sim.connect("example.test:80");
    assert_eq!(third.tries(), tries(&[(0, "TCP 192.0.2.1:80")]));
}

/// Past the staleness bound an entry is not used: the race waits for the query again.
#[test]
fn an_answer_past_the_staleness_bound_is_not_used() {
    let cache = DnsCache::new().max_stale(Duration::from_secs(10));
    let mut sim = cached(dual(Duration::from_secs(1)), cache);
    sim.connect(HOST);
    sim.advance(Duration::from_secs(11));
    let second = sim.connect(HOST);
    assert_eq!(second.tries(), tries(&[(30, "TCP [2001:db8::1]:443")]));
    let report = second.report().unwrap();
    assert!(report.queries().iter().all(|q| q.stale.is_none()));
}

/// Answers without a TTL (the system resolver's) are not kept, and the cache is off by
/// default: either way every race waits for its queries.
#[test]
fn answers_without_a_ttl_and_a_connector_without_a_cache_keep_nothing() {
    let no_ttl = Network::new()
        .dns(
            "example.test",
            QueryKind::A,
            Answer::addrs(["192.0.2.1"]).after(ms(30)),
        )
        .tcp("192.0.2.1:443", Peer::accept(ms(10)));
    let mut sim = cached(no_ttl, DnsCache::new());
    sim.connect(HOST);
    assert_eq!(sim.dns_cache_entries(), 0);
    let again = sim.connect(HOST);
    assert_eq!(again.tries(), tries(&[(30, "TCP 192.0.2.1:443")]));

    let mut off = Sim::new(dual(Duration::from_secs(60))).unwrap();
    off.connect(HOST);
    assert_eq!(off.dns_cache_entries(), 0);
    let again = off.connect(HOST);
    assert_eq!(again.tries(), tries(&[(30, "TCP [2001:db8::1]:443")]));
}

/// The cap on entries holds: with room for two, a third name evicts the least recently
/// used, whose next race waits for its query again while the others start at once.
#[test]
fn entries_beyond_the_cap_are_evicted() {
    let mut network = Network::new();
    for host in ["a.test", "b.test", "c.test"] {
        network = network.dns(
            host,
            QueryKind::A,
            Answer::addrs(["192.0.2.1"])
                .after(ms(30))
                .ttl(Duration::from_secs(60)),
        );
    }
    let network = network.tcp("192.0.2.1:80", Peer::accept(ms(10)));
    let mut sim = cached(network, DnsCache::new().entries(2));
    for host in ["a.test:80", "b.test:80", "c.test:80"] {
        sim.connect(host);
        assert!(sim.dns_cache_entries() <= 2);
    }
    assert_eq!(sim.dns_cache_entries(), 2);
    // c and b are cached; a, the least recently used, was evicted.
    let c = sim.connect("c.test:80");
    assert_eq!(c.tries(), tries(&[(0, "TCP 192.0.2.1:80")]));
    let b = sim.connect("b.test:80");
    assert_eq!(b.tries(), tries(&[(0, "TCP 192.0.2.1:80")]));
    let a = sim.connect("a.test:80");
    assert_eq!(a.tries(), tries(&[(30, "TCP 192.0.2.1:80")]));
    assert_eq!(sim.dns_cache_entries(), 2);
}

/// HTTPS answers are kept too (V13 for service information, `ResolvedServicesStale`): the
/// second race within the TTL asks no HTTPS query and goes to the record's port at once.
#[test]
fn https_records_are_cached_like_addresses() {
    let ttl = Duration::from_secs(60);
    let record = ServiceRecord::new(1, ".").alpn(["h2"]).port(8443);
    let network = Network::new()
        .dns(
            "example.test",
            QueryKind::Https,
            Answer::records([record]).after(ms(30)).ttl(ttl),
        )
        .dns(
            "example.test",
            QueryKind::A,
            Answer::addrs(["192.0.2.1"]).after(ms(30)).ttl(ttl),
        )
        .tcp("192.0.2.1:8443", Peer::accept(ms(10)));
    let mut sim = cached(network, DnsCache::new());
    let protocols = Protocols::new().tcp("h2");
    let first = sim.connect_tls(HOST, &protocols);
    assert_eq!(first.tries(), tries(&[(30, "TCP 192.0.2.1:8443")]));
    let second = sim.connect_tls(HOST, &protocols);
    assert_eq!(second.tries(), tries(&[(0, "TCP 192.0.2.1:8443")]));
    assert!(!queries(&second)
        .iter()
        .any(|(_, _, k)| matches!(k, QueryKind::Https | QueryKind::A)));
}

/// V13 for service information (`ResolvedServicesStale`, HG18): expired HTTPS records and
/// addresses race at once, the record's port included, while both queries run.
#[test]
fn expired_https_records_race_at_once_too() {
    let ttl = Duration::from_secs(1);
    let record = ServiceRecord::new(1, ".").alpn(["h2"]).port(8443);
    let network = Network::new()
        .dns(
            "example.test",
            QueryKind::Https,
            Answer::records([record]).after(ms(30)).ttl(ttl),
        )
        .dns(
            "example.test",
            QueryKind::A,
            Answer::addrs(["192.0.2.1"]).after(ms(30)).ttl(ttl),
        )
        .tcp("192.0.2.1:8443", Peer::accept(ms(10)));
    let mut sim = cached(network, DnsCache::new());
    let protocols = Protocols::new().tcp("h2");
    sim.connect_tls(HOST, &protocols);
    sim.advance(Duration::from_secs(5));
    let second = sim.connect_tls(HOST, &protocols);
    assert_eq!(second.tries(), tries(&[(0, "TCP 192.0.2.1:8443")]));
    let sent: Vec<QueryKind> = queries(&second).iter().map(|(_, _, k)| *k).collect();
    assert!(
        sent.contains(&QueryKind::Https) && sent.contains(&QueryKind::A),
        "{sent:?}"
    );
    let report = second.report().unwrap();
    let https = report
        .queries()
        .iter()
        .find(|q| q.kind == QueryKind::Https)
        .unwrap();
    assert_eq!(https.stale, Some(ms(0)));
}

/// V13, HG18: a refresh still out when its race won on the stale answer is not lost: it
/// stays with the cache, and the next race that needs the entry uses its answer, fresh,
/// without a query of its own (the stale race at 0 ms ends at 10 ms; the refresh answers
/// at 30 ms; a race a second later finds the entry fresh).
#[test]
fn a_refresh_that_outlives_its_race_freshens_the_entry_for_the_next() {
    let mut sim = cached(dual(Duration::from_secs(1)), DnsCache::new());
    sim.connect(HOST);
    sim.advance(Duration::from_secs(5));
    let second = sim.connect(HOST);
    assert_eq!(second.elapsed(), ms(10));
    assert_eq!(queries(&second).len(), 2);
    sim.advance(ms(500));
    let third = sim.connect(HOST);
    assert_eq!(third.tries(), tries(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(queries(&third), []);
    let report = third.report().unwrap();
    assert!(report.queries().iter().all(|q| q.answered == Some(ms(0))));
    assert!(report.queries().iter().all(|q| q.stale.is_none()));
}

/// V13, HG18: a race that needs the entry while the earlier race's refresh is still out
/// adopts that query instead of sending another: it races on the stale answer at once, and
/// the refresh's answer arrives when it was due, with no query on the wire. (The server
/// accepts in 20 ms; the second race, on the stale answer, ends at 20 ms with its queries,
/// sent at 0, due at 30; the third starts at once and gets their answers at 10 ms.)
#[test]
fn a_refresh_still_out_is_adopted_by_the_next_race_not_asked_again() {
    let answer = |addr: &str| {
        Answer::addrs([addr])
            .after(ms(30))
            .ttl(Duration::from_secs(1))
    };
    let network = Network::new()
        .dns("example.test", QueryKind::Aaaa, answer("2001:db8::1"))
        .dns("example.test", QueryKind::A, answer("192.0.2.1"))
        .tcp("[2001:db8::1]:443", Peer::accept(ms(20)));
    let mut sim = cached(network, DnsCache::new());
    sim.connect(HOST);
    sim.advance(Duration::from_secs(5));
    let second = sim.connect(HOST);
    assert_eq!(second.elapsed(), ms(20));
    assert_eq!(queries(&second).len(), 2);
    let third = sim.connect(HOST);
    assert_eq!(third.tries(), tries(&[(0, "TCP [2001:db8::1]:443")]));
    assert_eq!(queries(&third), []);
    let report = third.report().unwrap();
    assert!(
        report.queries().iter().all(|q| q.stale == Some(ms(0))),
        "{report}"
    );
    assert!(
        report.queries().iter().all(|q| q.answered == Some(ms(10))),
        "{report}"
    );
    // Their answers were kept: the next race a moment later needs no query and no stale.
    sim.advance(ms(1));
    let fourth = sim.connect(HOST);
    assert_eq!(queries(&fourth), []);
    let report = fourth.report().unwrap();
    assert!(
        report.queries().iter().all(|q| q.stale.is_none()),
        "{report}"
    );
}
