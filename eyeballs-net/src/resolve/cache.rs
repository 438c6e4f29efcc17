//! A connector's cache of DNS answers, for optimistic DNS (HEv3 §4.4, V13; HG18): fresh
//! answers are served without a query, expired ones race at once while the fresh query
//! runs.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eyeballs_core::{Name, QueryKind, ServiceRecord};

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
///   one) drops that answer with its other lookups, as every connect does: the entry then
///   stays stale, and the next connect races on it and asks again, until a race outlasts
///   its query (its answer is then kept) or the entry passes its staleness bound;
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

/// The cache itself: entries by name and record type, with the clock it last saw.
#[derive(Debug)]
pub(crate) struct Cache {
    settings: DnsCache,
    entries: BTreeMap<(Name, QueryKind), Entry>,
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
            latest: None,
            tick: 0,
        }
    }

    /// Returns what the cache holds for `name` and `kind` at `now`; an entry past its
    /// staleness bound is dropped.
    pub(crate) fn lookup(&mut self, name: &Name, kind: QueryKind, now: Instant) -> Option<Hit> {
        let now = self.clamp(now);
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
        let now = self.clamp(now);
        let key = (name.clone(), kind);
        let expires = now.checked_add(ttl.min(DnsCache::MAX_TTL));
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

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
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
