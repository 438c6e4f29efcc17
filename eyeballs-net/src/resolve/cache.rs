//! A connector's cache of DNS answers, for optimistic DNS (HEv3 §4.4, V13; HG18): fresh
//! answers are served without a query, expired ones race at once while the fresh query
//! runs.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eyeballs_core::{Name, QueryKind, ServiceRecord};

use crate::resolve::{Answer, Query, WithTtl};

/// A connector's DNS cache: its caps and how long an expired answer may still be used.
/// Turn it on with [`ConnectorBuilder::dns_cache`](crate::ConnectorBuilder::dns_cache); it
/// is off by default.
///
/// # What it does
///
/// Each answer the resolver gives with a time to live ([`WithTtl`](crate::WithTtl);
/// `HickoryResolver`'s answers carry one, feature `hickory`) is kept under the
/// name and record type it answers (AAAA, A, both, HTTPS). A connect that needs it then:
///
/// - **before it expires**, uses it and sends no query, as any stub cache does (the TTL is
///   the zone's own promise that the answer holds);
/// - **after it expired, for less than [`max_stale`](DnsCache::max_stale)**, races on it at
///   once *and* sends the query ("optimistic DNS", HEv3 §4.4, V13, HG18): the first
///   attempt starts at the connect's start instead of after a DNS round trip, and the
///   fresh answer, when it differs, joins the race as a late answer (HEv3 §7: addresses
///   no longer in it leave the list unless their attempt started, V44; new ones are sorted
///   in, V45). If the fresh query fails, the race goes on with the stale answer (RFC 8767's
///   serve-stale). A race that ends before its fresh answer is back (it won on the stale
///   one) leaves that query with the cache (a *parked refresh*, see below): the next
///   connect that needs the entry takes its answer if it came meanwhile (then fresh, with
///   no query at all) or else adopts the query still out as its own (no second query);
/// - **later than that**, or with no entry, sends the query and waits, as without a cache.
///
/// What is never cached: failures (NXDOMAIN, SERVFAIL, timeouts: the next connect asks
/// again, so an outage is not remembered), empty answers (NODATA: serving "no addresses"
/// stale would only delay the race), answers with a TTL of zero (RFC 1035 §3.2.1: "should
/// not be cached"), answers without a TTL (the system resolver's: `getaddrinfo` gives
/// none, and a host that wants caching there runs a caching stub such as
/// systemd-resolved or nscd, which knows the real TTLs; [`StaticResolver`](crate::StaticResolver)'s),
/// and answers larger than [`DnsCache::MAX_ADDRS`] addresses or [`DnsCache::MAX_RECORDS`]
/// records (kept whole or not at all, so a cached answer never races fewer addresses than
/// the resolver gave). TTLs are capped at [`DnsCache::MAX_TTL`].
///
/// # Bounds and eviction
///
/// At most [`entries`](DnsCache::entries) entries ([`DnsCache::ENTRIES`] by default), each
/// at most [`DnsCache::MAX_ADDRS`] addresses or [`DnsCache::MAX_RECORDS`] records. A new
/// entry in a full cache first drops every entry past its staleness bound (useless), then,
/// if none was, the least recently used one (stored or served). A lookup costs
/// O(log n); an insertion into a full cache O(n) for n entries.
///
/// # Refreshes that outlive their race
///
/// A connect runs no task of its own (there is nothing to spawn on with every runtime), so
/// a refresh query still out when its race ends is kept in the cache, not dropped: at most
/// [`DnsCache::MAX_REFRESHES`] of them, one per name and record type, each until its
/// deadline (the race's [`RESOLVE_TIMEOUT`](crate::RESOLVE_TIMEOUT) from when it was
/// sent). The resolver's own machinery (hickory's background tasks, the system resolver's
/// threads) receives the answer meanwhile; the cache reads it, without waiting, when a
/// connect next needs that entry. Its TTL is then counted from the moment the race ended,
/// which is no later than the answer came, so an entry never lives past its TTL. Parked
/// refreshes past their deadline are dropped at the cache's next use; all of them go with
/// [`Connector::clear_dns_cache`](crate::Connector::clear_dns_cache) and with the
/// connector's last clone. Dropping a connect future mid-race drops its queries as before:
/// only a race that finished parks them.
///
/// # Keys
///
/// The name (case folded, final dot dropped) and the record type. The connector has one
/// resolver, so the resolver is implied: clones of a connector share its cache, and two
/// connectors never do. Call [`Connector::clear_dns_cache`](crate::Connector::clear_dns_cache)
/// when the network attachment changes (another network's DNS may answer differently),
/// along with [`Connector::clear_history`](crate::Connector::clear_history).
///
/// # Time
///
/// The cache reads the connector's runtime clock (virtual time under the simulator and
/// tokio's paused clock). A clock that goes backwards is clamped to the latest time the
/// cache saw, so an entry never grows younger.
///
/// # Why off by default
///
/// A cache changes what a connect does: it skips queries the resolver (and its logs) would
/// have seen, and with serve-stale it may race an address the zone has since withdrawn (a
/// plain TCP connect to it wins if it accepts; a TLS or QUIC one still checks the
/// certificate). hickory-resolver also keeps its own cache of fresh answers, so the gain
/// with it is the stale half. That trade is the application's to make: plain TCP to hosts
/// whose addresses move is safer with a short [`max_stale`](DnsCache::max_stale), or
/// zero (a plain TTL cache).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_net::DnsCache;
///
/// let cache = DnsCache::new()
///     .entries(64)
///     .max_stale(Duration::from_secs(600));
/// assert_eq!(cache.entry_cap(), 64);
/// assert_eq!(cache.staleness(), Duration::from_secs(600));
/// assert_eq!(DnsCache::new().entry_cap(), DnsCache::ENTRIES);
/// assert_eq!(DnsCache::new().staleness(), DnsCache::MAX_STALE);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsCache {
    entries: usize,
    max_stale: Duration,
}

impl Default for DnsCache {
    fn default() -> Self {
        DnsCache::new()
    }
}

impl DnsCache {
    /// The default cap on entries: one per name and record type (a host asked for AAAA and
    /// A takes two). The history's capacity too (`eyeballs_core::HISTORY_CAPACITY`).
    pub const ENTRIES: usize = 256;

    /// The most addresses an answer may hold to be cached; a larger one is not kept.
    pub const MAX_ADDRS: usize = 64;

    /// The most HTTPS records an answer may hold to be cached (the core's
    /// `MAX_SERVICE_RECORDS`); a larger one is not kept.
    pub const MAX_RECORDS: usize = 64;

    /// The longest an answer stays fresh, whatever its TTL: one day (hickory-resolver's
    /// default `positive_max_ttl`, and the usual cap of recursive resolvers). A larger TTL
    /// (up to RFC 2181's 2³¹ − 1 seconds) counts as this.
    pub const MAX_TTL: Duration = Duration::from_secs(86_400);

    /// The default staleness bound: an answer expired for less than an hour may still race
    /// while its fresh query runs.
    ///
    /// Shorter than a serve-stale resolver's (RFC 8767 §5 suggests a day or more, and
    /// notes that "shorter values, even less than a day, can effectively handle the vast
    /// majority of outages") because the use differs: a resolver serves stale data only
    /// when the refresh fails, while optimistic DNS races it *before* the refresh is back,
    /// on every connect in the window. An hour covers an application that reconnects
    /// after a pause (TTLs are often a minute or five) and bounds how long a withdrawn
    /// address can be tried first. Set [`DnsCache::max_stale`] for another trade.
    pub const MAX_STALE: Duration = Duration::from_secs(3600);

    /// The most refresh queries the cache keeps after their race ended (see "Refreshes that
    /// outlive their race"): one per name and record type, and no more than this in all; a
    /// race that ends with more out drops the rest, as a cache-less connect would.
    pub const MAX_REFRESHES: usize = 16;

    /// A cache of [`DnsCache::ENTRIES`] entries, answers usable up to
    /// [`DnsCache::MAX_STALE`] after they expire.
    pub const fn new() -> Self {
        DnsCache {
            entries: Self::ENTRIES,
            max_stale: Self::MAX_STALE,
        }
    }

    /// Sets the cap on entries (default [`DnsCache::ENTRIES`]); 0 keeps nothing.
    pub const fn entries(mut self, entries: usize) -> Self {
        self.entries = entries;
        self
    }

    /// Sets how long after its expiry an answer may still race while its query runs
    /// (default [`DnsCache::MAX_STALE`]); zero turns serve-stale off (a plain TTL cache).
    pub const fn max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// Returns the cap on entries.
    pub const fn entry_cap(&self) -> usize {
        self.entries
    }

    /// Returns how long after its expiry an answer may still race.
    pub const fn staleness(&self) -> Duration {
        self.max_stale
    }
}

/// A cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cached {
    /// The addresses of an AAAA, A or combined query.
    Addrs(Vec<IpAddr>),
    /// The records of an HTTPS query.
    Records(Vec<ServiceRecord>),
}

/// What the cache holds for a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hit {
    /// An answer within its TTL: use it, send no query.
    Fresh(Cached),
    /// An expired answer within the staleness bound: race on it, and send the query.
    Stale(Cached),
}

/// A refresh query still out when its race ended (V13, HG18), for a later race to take up.
pub(crate) enum Refresh {
    /// A resolver's lookup, polled without waiting when its entry is next needed, or
    /// adopted by the race that needs it.
    Lookup(Query),
    /// An answer due at a (virtual) instant: the simulator's scripted DNS.
    #[cfg(feature = "sim")]
    Due(Instant, io::Result<WithTtl<Answer>>),
}

impl std::fmt::Debug for Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refresh::Lookup(_) => f.write_str("Lookup"),
            #[cfg(feature = "sim")]
            Refresh::Due(at, answer) => f.debug_tuple("Due").field(at).field(answer).finish(),
        }
    }
}

impl Refresh {
    /// The lookup, as a loop's query future (a due answer is ready at once: only the
    /// simulated loop, which schedules it at its instant, parks those).
    pub(crate) fn into_query(self) -> Query {
        match self {
            Refresh::Lookup(query) => query,
            #[cfg(feature = "sim")]
            Refresh::Due(_, answer) => Box::pin(std::future::ready(answer)),
        }
    }

    /// Its answer, if it has come by `now` (a lookup is polled once, without waiting).
    fn answer(&mut self, now: Instant) -> Option<io::Result<WithTtl<Answer>>> {
        // Only a due answer reads the clock.
        let _ = now;
        match self {
            Refresh::Lookup(query) => {
                let mut cx = Context::from_waker(Waker::noop());
                match query.as_mut().poll(&mut cx) {
                    Poll::Ready(answer) => Some(answer),
                    Poll::Pending => None,
                }
            }
            #[cfg(feature = "sim")]
            Refresh::Due(at, answer) => {
                (*at <= now).then(|| std::mem::replace(answer, Err(io::Error::other("taken"))))
            }
        }
    }
}

/// A parked refresh: its key, the lookup, when it was parked and its deadline.
#[derive(Debug)]
struct Parked {
    name: Name,
    kind: QueryKind,
    refresh: Refresh,
    parked: Instant,
    deadline: Instant,
}

/// The cache itself: entries by name and record type, with the clock it last saw.
#[derive(Debug)]
pub(crate) struct Cache {
    settings: DnsCache,
    entries: BTreeMap<(Name, QueryKind), Entry>,
    /// Refreshes that outlived their race: at most [`DnsCache::MAX_REFRESHES`].
    parked: Vec<Parked>,
    /// The latest time seen: earlier times are clamped to it.
    latest: Option<Instant>,
    /// Counts uses, for least-recently-used eviction.
    tick: u64,
}

#[derive(Debug)]
struct Entry {
    answer: Cached,
    expires: Instant,
    used: u64,
}

impl Cache {
    pub(crate) fn new(settings: DnsCache) -> Self {
        Cache {
            settings,
            entries: BTreeMap::new(),
            parked: Vec::new(),
            latest: None,
            tick: 0,
        }
    }

    /// Returns what the cache holds for `name` and `kind` at `now`; an entry past its
    /// staleness bound is dropped.
    ///
    /// A parked refresh of this entry whose answer has come is stored first (so the entry
    /// may be fresh again); parked refreshes past their deadline are dropped.
    pub(crate) fn lookup(&mut self, name: &Name, kind: QueryKind, now: Instant) -> Option<Hit> {
        let now = self.clamp(now);
        self.settle(name, kind, now);
        let key = (name.clone(), kind);
        let entry = self.entries.get_mut(&key)?;
        if now < entry.expires {
            self.tick += 1;
            entry.used = self.tick;
            return Some(Hit::Fresh(entry.answer.clone()));
        }
        if !is_dead(entry.expires, now, self.settings.max_stale) {
            self.tick += 1;
            entry.used = self.tick;
            return Some(Hit::Stale(entry.answer.clone()));
        }
        self.entries.remove(&key);
        None
    }

    /// Keeps `answer` for `name` and `kind`, received at `now` with `ttl`; an answer that
    /// is not cached (see [`DnsCache`]) drops what the entry held, since it supersedes it.
    pub(crate) fn store(
        &mut self,
        name: &Name,
        kind: QueryKind,
        answer: Cached,
        ttl: Duration,
        now: Instant,
    ) {
        self.store_from(name, kind, answer, ttl, None, now);
    }

    /// [`Cache::store`] at `now`, for an answer received no later than `received` if given
    /// (its TTL counts from there; else from `now`, clamped to the latest time seen).
    fn store_from(
        &mut self,
        name: &Name,
        kind: QueryKind,
        answer: Cached,
        ttl: Duration,
        received: Option<Instant>,
        now: Instant,
    ) {
        let now = self.clamp(now);
        let key = (name.clone(), kind);
        let from = received.map_or(now, |r| r.min(now));
        let expires = from.checked_add(ttl.min(DnsCache::MAX_TTL));
        let keep = match &answer {
            Cached::Addrs(a) => !a.is_empty() && a.len() <= DnsCache::MAX_ADDRS,
            Cached::Records(r) => !r.is_empty() && r.len() <= DnsCache::MAX_RECORDS,
        };
        // A time `Instant` cannot hold: not cached (the clock is at its end anyway).
        let (Some(expires), true, false) = (expires, keep, ttl.is_zero()) else {
            self.entries.remove(&key);
            return;
        };
        if self.settings.entries == 0 {
            return;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.settings.entries {
            self.evict(now);
        }
        // A fresh answer supersedes a refresh still out for the same entry.
        self.parked.retain(|p| !(p.kind == kind && p.name == *name));
        self.tick += 1;
        let used = self.tick;
        self.entries.insert(
            key,
            Entry {
                answer,
                expires,
                used,
            },
        );
    }

    /// Returns how many entries the cache holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forgets every entry and every parked refresh.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.parked.clear();
    }

    /// Returns how many refreshes are parked.
    #[cfg(test)]
    pub(crate) fn parked(&self) -> usize {
        self.parked.len()
    }

    /// Keeps `refresh`, a query for `name` and `kind` still out when its race ended at
    /// `now`, until `deadline`; dropped when the entry already has one (the older query
    /// answers first) or [`DnsCache::MAX_REFRESHES`] are parked.
    pub(crate) fn park(
        &mut self,
        name: &Name,
        kind: QueryKind,
        refresh: Refresh,
        deadline: Instant,
        now: Instant,
    ) {
        let now = self.clamp(now);
        self.parked.retain(|p| p.deadline > now);
        let taken = self
            .parked
            .iter()
            .any(|p| p.kind == kind && p.name == *name);
        if deadline <= now || taken || self.parked.len() >= DnsCache::MAX_REFRESHES {
            return;
        }
        self.parked.push(Parked {
            name: name.clone(),
            kind,
            refresh,
            parked: now,
            deadline,
        });
    }

    /// Takes the parked refresh of `name` and `kind` with its deadline, for a race that
    /// needs the entry while the query is still out: the race waits for it as its own.
    pub(crate) fn adopt(&mut self, name: &Name, kind: QueryKind) -> Option<(Refresh, Instant)> {
        let i = self
            .parked
            .iter()
            .position(|p| p.kind == kind && p.name == *name)?;
        let p = self.parked.swap_remove(i);
        Some((p.refresh, p.deadline))
    }

    /// Drops parked refreshes past their deadline, and stores the answer of the one of
    /// `name` and `kind` if it has come: its TTL counted from when it was parked (the
    /// answer came no earlier), so the entry never outlives the zone's TTL. A failure, or
    /// an answer without a TTL, only ends the refresh (failures are not cached).
    fn settle(&mut self, name: &Name, kind: QueryKind, now: Instant) {
        self.parked.retain(|p| p.deadline > now);
        let Some(i) = self
            .parked
            .iter()
            .position(|p| p.kind == kind && p.name == *name)
        else {
            return;
        };
        let Some(answer) = self.parked[i].refresh.answer(now) else {
            return;
        };
        let parked = self.parked.swap_remove(i).parked;
        let Ok(answer) = answer else {
            return;
        };
        let Some(ttl) = answer.ttl() else {
            return;
        };
        let cached = match answer.into_value() {
            Answer::Addrs(addrs) => Cached::Addrs(addrs),
            Answer::Records(records) => Cached::Records(records),
        };
        self.store_from(name, kind, cached, ttl, Some(parked), now);
    }

    /// Makes room for one entry: drops every entry past its staleness bound, or else the
    /// least recently used one.
    fn evict(&mut self, now: Instant) {
        let max_stale = self.settings.max_stale;
        let before = self.entries.len();
        self.entries
            .retain(|_, e| !is_dead(e.expires, now, max_stale));
        if self.entries.len() < before {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.used)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            self.entries.remove(&key);
        }
    }

    /// `now`, or the latest time seen when the clock went backwards.
    fn clamp(&mut self, now: Instant) -> Instant {
        let now = self.latest.map_or(now, |latest| latest.max(now));
        self.latest = Some(now);
        now
    }
}

/// Returns whether an entry that expires at `expires` is past its staleness bound at
/// `now`: expired for `max_stale` or more (so a bound of zero serves nothing stale).
fn is_dead(expires: Instant, now: Instant, max_stale: Duration) -> bool {
    now >= expires && now.saturating_duration_since(expires) >= max_stale
}

/// The DNS cache of a connector: shared by its clones, or off.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedDnsCache(Option<Arc<Mutex<Cache>>>);

impl SharedDnsCache {
    /// A cache with these settings, or none.
    pub(crate) fn new(settings: Option<DnsCache>) -> Self {
        SharedDnsCache(settings.map(|s| Arc::new(Mutex::new(Cache::new(s)))))
    }

    /// Returns whether there is a cache.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// [`Cache::lookup`], or `None` when the cache is off.
    pub(crate) fn lookup(&self, name: &Name, kind: QueryKind, now: Instant) -> Option<Hit> {
        self.0
            .as_ref()
            .and_then(|c| lock(c).lookup(name, kind, now))
    }

    /// [`Cache::store`], when the cache is on.
    pub(crate) fn store(
        &self,
        name: &Name,
        kind: QueryKind,
        answer: Cached,
        ttl: Duration,
        now: Instant,
    ) {
        if let Some(c) = &self.0 {
            lock(c).store(name, kind, answer, ttl, now);
        }
    }

    /// Returns how many entries the cache holds (0 when it is off).
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |c| lock(c).len())
    }

    /// [`Cache::park`], when the cache is on.
    pub(crate) fn park(
        &self,
        name: &Name,
        kind: QueryKind,
        refresh: Refresh,
        deadline: Instant,
        now: Instant,
    ) {
        if let Some(c) = &self.0 {
            lock(c).park(name, kind, refresh, deadline, now);
        }
    }

    /// [`Cache::adopt`], or `None` when the cache is off.
    pub(crate) fn adopt(&self, name: &Name, kind: QueryKind) -> Option<(Refresh, Instant)> {
        self.0.as_ref().and_then(|c| lock(c).adopt(name, kind))
    }

    /// Forgets every entry.
    pub(crate) fn clear(&self) {
        if let Some(c) = &self.0 {
            lock(c).clear();
        }
    }
}

/// Locks the cache; a poisoned lock still holds valid data (every update is one call).
fn lock(c: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    c.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
