//! The cache's TTL arithmetic, bounds and eviction, with times made up (no clock).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use eyeballs_core::{Name, QueryKind, ServiceRecord};

use super::{Cache, Cached, DnsCache, Hit};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn addrs(list: &[&str]) -> Cached {
    Cached::Addrs(list.iter().map(|a| a.parse().unwrap()).collect())
}

fn name(n: &str) -> Name {
    Name::new(n)
}

#[test]
fn fresh_within_the_ttl_then_stale_within_the_bound_then_gone() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().max_stale(secs(100)));
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    let fresh = Some(Hit::Fresh(addrs(&["192.0.2.1"])));
    let stale = Some(Hit::Stale(addrs(&["192.0.2.1"])));
    assert_eq!(cache.lookup(&n, QueryKind::A, t0), fresh);
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(29)), fresh);
    // At its expiry the answer is stale: a TTL is how long it may be used, no longer.
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(30)), stale);
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(129)), stale);
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(130)), None);
    // Past the bound the entry is dropped, not kept for later.
    assert_eq!(cache.len(), 0);
}

#[test]
fn keys_are_the_name_case_folded_and_the_record_type() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    cache.store(
        &name("Example.TEST."),
        QueryKind::A,
        addrs(&["192.0.2.1"]),
        secs(30),
        t0,
    );
    assert!(cache
        .lookup(&name("example.test"), QueryKind::A, t0)
        .is_some());
    assert_eq!(
        cache.lookup(&name("example.test"), QueryKind::Aaaa, t0),
        None
    );
    assert_eq!(
        cache.lookup(&name("example.test"), QueryKind::Both, t0),
        None
    );
    assert_eq!(cache.lookup(&name("other.test"), QueryKind::A, t0), None);
}

#[test]
fn a_zero_ttl_is_not_cached_and_drops_the_entry_it_supersedes() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), Duration::ZERO, t0);
    assert_eq!(cache.len(), 0);
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    cache.store(
        &n,
        QueryKind::A,
        addrs(&["192.0.2.2"]),
        Duration::ZERO,
        t0 + secs(1),
    );
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(1)), None);
}

#[test]
fn huge_ttls_are_capped_and_never_overflow() {
    let t0 = Instant::now();
    let n = name("example.test");
    // RFC 2181's largest TTL, and more than any `Instant` can hold.
    for ttl in [secs(u64::from(i32::MAX as u32)), Duration::MAX] {
        let mut cache = Cache::new(DnsCache::new().max_stale(secs(1)));
        cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), ttl, t0);
        let last_fresh = t0 + DnsCache::MAX_TTL - Duration::from_nanos(1);
        assert!(matches!(
            cache.lookup(&n, QueryKind::A, last_fresh),
            Some(Hit::Fresh(_))
        ));
        assert!(matches!(
            cache.lookup(&n, QueryKind::A, t0 + DnsCache::MAX_TTL),
            Some(Hit::Stale(_))
        ));
        assert_eq!(
            cache.lookup(&n, QueryKind::A, t0 + DnsCache::MAX_TTL + secs(1)),
            None
        );
    }
}

#[test]
fn a_huge_staleness_bound_does_not_overflow() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().max_stale(Duration::MAX));
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(1), t0);
    assert!(matches!(
        cache.lookup(&n, QueryKind::A, t0 + secs(10 * 365 * 86_400)),
        Some(Hit::Stale(_))
    ));
}

#[test]
fn a_clock_that_goes_backwards_is_clamped() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().max_stale(secs(100)));
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    assert!(matches!(
        cache.lookup(&n, QueryKind::A, t0 + secs(40)),
        Some(Hit::Stale(_))
    ));
    // An earlier reading counts as the latest one: the entry does not grow young again.
    assert!(matches!(
        cache.lookup(&n, QueryKind::A, t0),
        Some(Hit::Stale(_))
    ));
    // An answer stored "in the past" expires from the latest time seen.
    let m = name("later.test");
    cache.store(&m, QueryKind::A, addrs(&["192.0.2.2"]), secs(30), t0);
    assert!(matches!(
        cache.lookup(&m, QueryKind::A, t0 + secs(69)),
        Some(Hit::Fresh(_))
    ));
    assert!(matches!(
        cache.lookup(&m, QueryKind::A, t0 + secs(70)),
        Some(Hit::Stale(_))
    ));
}

#[test]
fn empty_and_oversized_answers_are_not_cached() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    let n = name("example.test");
    cache.store(&n, QueryKind::A, Cached::Addrs(Vec::new()), secs(30), t0);
    cache.store(
        &n,
        QueryKind::Https,
        Cached::Records(Vec::new()),
        secs(30),
        t0,
    );
    let many: Vec<IpAddr> = (0..=DnsCache::MAX_ADDRS)
        .map(|i| IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]))
        .collect();
    cache.store(
        &n,
        QueryKind::Aaaa,
        Cached::Addrs(many.clone()),
        secs(30),
        t0,
    );
    let records = vec![ServiceRecord::new(1, "."); DnsCache::MAX_RECORDS + 1];
    cache.store(
        &name("svc.test"),
        QueryKind::Https,
        Cached::Records(records),
        secs(30),
        t0,
    );
    assert_eq!(cache.len(), 0);
    // Exactly the cap is kept, whole.
    let at_cap = Cached::Addrs(many[..DnsCache::MAX_ADDRS].to_vec());
    cache.store(&n, QueryKind::Aaaa, at_cap.clone(), secs(30), t0);
    assert_eq!(
        cache.lookup(&n, QueryKind::Aaaa, t0),
        Some(Hit::Fresh(at_cap))
    );
}

#[test]
fn a_full_cache_evicts_the_least_recently_used_entry() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().entries(3));
    let names: Vec<Name> = (0..4).map(|i| name(&format!("h{i}.test"))).collect();
    for n in &names[..3] {
        cache.store(n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    }
    // h0 is used, so h1 is now the least recently used.
    assert!(cache.lookup(&names[0], QueryKind::A, t0).is_some());
    cache.store(&names[3], QueryKind::A, addrs(&["192.0.2.4"]), secs(30), t0);
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.lookup(&names[1], QueryKind::A, t0), None);
    for i in [0, 2, 3] {
        assert!(cache.lookup(&names[i], QueryKind::A, t0).is_some(), "h{i}");
    }
    // Replacing an entry takes no room.
    cache.store(&names[0], QueryKind::A, addrs(&["192.0.2.9"]), secs(30), t0);
    assert_eq!(cache.len(), 3);
}

#[test]
fn a_full_cache_drops_dead_entries_before_live_ones() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().entries(3).max_stale(secs(10)));
    let (a, b, c, d) = (
        name("a.test"),
        name("b.test"),
        name("c.test"),
        name("d.test"),
    );
    cache.store(&a, QueryKind::A, addrs(&["192.0.2.1"]), secs(100), t0);
    cache.store(&b, QueryKind::A, addrs(&["192.0.2.2"]), secs(1), t0);
    cache.store(&c, QueryKind::A, addrs(&["192.0.2.3"]), secs(1), t0);
    // b and c are past their bound at t0 + 20 s, a (the least recently used) is fresh.
    cache.store(
        &d,
        QueryKind::A,
        addrs(&["192.0.2.4"]),
        secs(100),
        t0 + secs(20),
    );
    assert_eq!(cache.len(), 2);
    assert!(cache.lookup(&a, QueryKind::A, t0 + secs(20)).is_some());
    assert!(cache.lookup(&d, QueryKind::A, t0 + secs(20)).is_some());
}

#[test]
fn a_cap_of_zero_keeps_nothing() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().entries(0));
    cache.store(
        &name("a.test"),
        QueryKind::A,
        addrs(&["192.0.2.1"]),
        secs(30),
        t0,
    );
    assert_eq!(cache.len(), 0);
}

#[test]
fn serve_stale_off_is_a_plain_ttl_cache() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new().max_stale(Duration::ZERO));
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    assert!(matches!(
        cache.lookup(&n, QueryKind::A, t0 + secs(29)),
        Some(Hit::Fresh(_))
    ));
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(30)), None);
}

/// A lookup that has answered `addrs` with `ttl`.
fn answered(list: &[&str], ttl: Option<Duration>) -> super::Refresh {
    let ips: Vec<IpAddr> = list.iter().map(|a| a.parse().unwrap()).collect();
    let answer = crate::WithTtl::new(crate::resolve::Answer::Addrs(ips), ttl);
    super::Refresh::Lookup(Box::pin(std::future::ready(Ok(answer))))
}

/// A lookup still out.
fn out() -> super::Refresh {
    super::Refresh::Lookup(Box::pin(std::future::pending()))
}

/// V13, HG18: a refresh that outlived its race and has answered makes the entry fresh at
/// the next lookup, its TTL counted from when it was parked (no later than the answer),
/// and with no refresh left.
#[test]
fn a_parked_refresh_that_answered_is_stored_at_the_next_lookup() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    let parked_at = t0 + secs(40);
    let deadline = parked_at + secs(30);
    cache.park(
        &n,
        QueryKind::A,
        answered(&["192.0.2.2"], Some(secs(60))),
        deadline,
        parked_at,
    );
    assert_eq!(cache.parked(), 1);
    let fresh = Some(Hit::Fresh(addrs(&["192.0.2.2"])));
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(50)), fresh);
    assert_eq!(cache.parked(), 0);
    // 60 s from the parking (40 s), not from the lookup (50 s).
    assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(99)), fresh);
    assert_eq!(
        cache.lookup(&n, QueryKind::A, t0 + secs(100)),
        Some(Hit::Stale(addrs(&["192.0.2.2"])))
    );
}

/// A refresh still out is adopted by the race that needs the entry (once: it is that
/// race's now), and the entry stays stale meanwhile.
#[test]
fn a_parked_refresh_still_out_is_adopted_once() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    let n = name("example.test");
    cache.store(&n, QueryKind::Aaaa, addrs(&["2001:db8::1"]), secs(30), t0);
    let deadline = t0 + secs(60);
    cache.park(&n, QueryKind::Aaaa, out(), deadline, t0 + secs(31));
    let stale = Some(Hit::Stale(addrs(&["2001:db8::1"])));
    assert_eq!(cache.lookup(&n, QueryKind::Aaaa, t0 + secs(32)), stale);
    assert_eq!(cache.adopt(&n, QueryKind::A).map(|(_, d)| d), None);
    assert_eq!(
        cache.adopt(&n, QueryKind::Aaaa).map(|(_, d)| d),
        Some(deadline)
    );
    assert!(cache.adopt(&n, QueryKind::Aaaa).is_none());
}

/// Failures and answers without a TTL end the refresh and are not cached: the entry stays
/// as it was (RFC 8767's serve-stale).
#[test]
fn a_parked_refresh_that_failed_or_has_no_ttl_changes_nothing() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    let n = name("example.test");
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), t0);
    let failed = super::Refresh::Lookup(Box::pin(std::future::ready(Err(std::io::Error::other(
        "SERVFAIL",
    )))));
    let stale = Some(Hit::Stale(addrs(&["192.0.2.1"])));
    for refresh in [failed, answered(&["192.0.2.2"], None)] {
        cache.park(&n, QueryKind::A, refresh, t0 + secs(90), t0 + secs(40));
        assert_eq!(cache.lookup(&n, QueryKind::A, t0 + secs(41)), stale);
        assert_eq!(cache.parked(), 0);
    }
}

/// The bounds: one refresh per entry (the older, asked first, stays), at most
/// `MAX_REFRESHES` in all, none past its deadline (dropped at the next use), none on a
/// cleared cache, and a fresh answer stored for the entry supersedes its refresh.
#[test]
fn parked_refreshes_are_bounded() {
    let t0 = Instant::now();
    let mut cache = Cache::new(DnsCache::new());
    let n = name("example.test");
    let deadline = t0 + secs(30);
    cache.park(&n, QueryKind::A, out(), deadline, t0);
    cache.park(
        &n,
        QueryKind::A,
        answered(&["192.0.2.9"], Some(secs(5))),
        deadline,
        t0,
    );
    assert_eq!(cache.parked(), 1);
    // The one kept is the first (still out), not the answered second.
    assert_eq!(cache.lookup(&n, QueryKind::A, t0), None);
    assert_eq!(cache.parked(), 1);
    for i in 0..2 * DnsCache::MAX_REFRESHES {
        let other = name(&format!("host{i}.example.test"));
        cache.park(&other, QueryKind::A, out(), deadline, t0);
    }
    assert_eq!(cache.parked(), DnsCache::MAX_REFRESHES);
    // Already past its deadline: not kept.
    cache.clear();
    cache.park(&n, QueryKind::A, out(), t0, t0 + secs(1));
    assert_eq!(cache.parked(), 0);
    // Dropped at the first use after its deadline.
    cache.park(&n, QueryKind::A, out(), deadline, t0);
    assert_eq!(
        cache.lookup(&name("other.test"), QueryKind::A, deadline),
        None
    );
    assert_eq!(cache.parked(), 0);
    // A stored answer supersedes the entry's refresh.
    cache.park(&n, QueryKind::A, out(), t0 + secs(90), deadline);
    cache.store(&n, QueryKind::A, addrs(&["192.0.2.1"]), secs(30), deadline);
    assert_eq!(cache.parked(), 0);
    cache.park(&n, QueryKind::A, out(), t0 + secs(90), deadline);
    cache.clear();
    assert_eq!(cache.parked(), 0);
}
