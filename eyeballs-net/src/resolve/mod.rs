//! Resolvers and the DNS pool: the one resolver trait every driver asks, the system
//! resolver (`getaddrinfo`, one family at a time, on eyeballs' bounded pool of threads), a
//! static map, and the pool itself.
//!
//! Every resolver is asynchronous: a race never blocks on DNS. A blocking lookup (yours, or
//! `getaddrinfo`) runs on the pool ([`on_pool`]), whose threads are capped and shared by
//! every connector of the process, so that a hung lookup holds one pool thread, not a
//! thread per abandoned connect.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::{Nat64Prefix, QueryKind, ServiceRecord};

pub(crate) mod cache;
pub(crate) mod pool;
mod system;

pub use cache::DnsCache;

pub(crate) use system::localhost_answer;

/// The most threads the resolver pool runs at once, for every connector and driver of the
/// process: the most blocking lookups (`getaddrinfo`, [`on_pool`]) in flight.
pub const RESOLVER_THREADS: usize = pool::THREADS;

/// The most blocking lookups that wait for a pool thread; one more fails at once
/// (`WouldBlock`), a failed query for its race.
pub const RESOLVER_QUEUE: usize = pool::QUEUED;

/// How long a race waits for one DNS query's answer before the query fails as timed out
/// (`TimedOut`, "no answer from the resolver within 30 s"), whatever the resolver: 30 s.
///
/// A backstop, so that no connect waits forever for a [`Resolve`] implementation that never
/// answers: the race keeps going while a query is out (HEv3 HG12: it does not fail while
/// one may still bring an address), so without it such a resolver would hold the connect
/// until [`Config::timeout`](eyeballs_core::Config::timeout), which is none by default.
/// The built-in resolvers give up sooner on their own (hickory after its timeout and
/// attempts, `getaddrinfo` after resolv.conf's: at most 5 s × 2 attempts × 3 servers),
/// so the value is the longest of those. The lookup is dropped when its query fails (a
/// blocking one on the pool finishes on its thread, within the pool's bounds).
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(30);

/// A DNS answer on its way.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// An HTTPS answer on its way: the records, decoded.
pub type ResolvingServices = Pin<Box<dyn Future<Output = io::Result<Vec<ServiceRecord>>> + Send>>;

/// A DNS answer with its time to live: what [`Resolve::resolve_with_ttl`] and
/// [`Resolve::resolve_https_with_ttl`] give, for a connector's [`DnsCache`].
///
/// The TTL is what is left of it when the answer was given (a resolver answering from its
/// own cache gives the remaining time), the smallest of the answer's records (CNAMEs
/// included). `None`: the resolver knows no TTL, and the answer is not cached.
///
/// # Examples
///
/// ```
/// use std::net::IpAddr;
/// use std::time::Duration;
/// use eyeballs_net::WithTtl;
///
/// let answer = WithTtl::new(vec!["::1".parse::<IpAddr>()?], Some(Duration::from_secs(300)));
/// assert_eq!(answer.ttl(), Some(Duration::from_secs(300)));
/// assert_eq!(answer.value().len(), 1);
/// assert_eq!(WithTtl::new(7, None).into_value(), 7);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithTtl<T> {
    value: T,
    ttl: Option<Duration>,
}

impl<T> WithTtl<T> {
    /// An answer `value` that holds for `ttl` (`None`: unknown).
    pub fn new(value: T, ttl: Option<Duration>) -> Self {
        WithTtl { value, ttl }
    }

    /// Returns the answer.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Returns the answer, without its TTL.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Returns how long the answer holds, if the resolver knows.
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// Applies `f` to the answer, keeping the TTL.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> WithTtl<U> {
        WithTtl {
            value: f(self.value),
            ttl: self.ttl,
        }
    }
}

/// A DNS answer on its way, with its TTL ([`Resolve::resolve_with_ttl`]).
pub type ResolvingWithTtl = Pin<Box<dyn Future<Output = io::Result<WithTtl<Vec<IpAddr>>>> + Send>>;

/// An HTTPS answer on its way, with its TTL ([`Resolve::resolve_https_with_ttl`]).
pub type ResolvingServicesWithTtl =
    Pin<Box<dyn Future<Output = io::Result<WithTtl<Vec<ServiceRecord>>>> + Send>>;

/// A resolver a race can ask, on every driver (async or blocking): plug in your own DNS
/// stack, a cache, or a static map.
///
/// The race asks for AAAA and A separately ([`QueryKind::Aaaa`], [`QueryKind::A`]), so that
/// RFC 8305's Resolution Delay and late-answer merging apply; a resolver that can only answer
/// both families at once (like `getaddrinfo`) says so with [`Resolve::answers_both`] and gets
/// one [`QueryKind::Both`] query instead. Futures must not depend on a particular runtime
/// unless the driver is that runtime's; the blocking driver polls them on its own thread
/// and is woken by their wakers. A lookup that blocks belongs on the pool: wrap it in
/// [`on_pool`].
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::{IpAddr, Ipv6Addr};
/// use eyeballs_core::{Nat64Prefix, QueryKind};
/// use eyeballs_net::{Resolve, Resolving};
///
/// /// Every name is the IPv6 loopback.
/// struct Loopback;
///
/// impl Resolve for Loopback {
///     fn resolve(&self, _name: &str, kind: QueryKind) -> Resolving {
///         let addrs = match kind {
///             QueryKind::A => vec![],
///             _ => vec![IpAddr::V6(Ipv6Addr::LOCALHOST)],
///         };
///         Box::pin(async move { Ok::<_, io::Error>(addrs) })
///     }
/// }
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// Looks up `name` for `kind`. The answer may be empty (no data); an error is a failed
    /// query (NXDOMAIN, SERVFAIL, timeout).
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving;

    /// Returns whether this resolver answers both families in one query. Default: `false`.
    fn answers_both(&self) -> bool {
        false
    }

    /// Looks up the HTTPS records (RFC 9460) of `name` (the host, an alias target, or
    /// `_PORT._https.host`). Default: no records, at once, which never holds a race up.
    fn resolve_https(&self, name: &str) -> ResolvingServices {
        let _ = name;
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    /// Returns whether this resolver can answer HTTPS queries ([`Resolve::resolve_https`]),
    /// so that a Happy Eyeballs v3 race asks it. `getaddrinfo` cannot. Default: `false`.
    fn answers_https(&self) -> bool {
        false
    }

    /// Looks up `name` for `kind` like [`Resolve::resolve`], with the answer's TTL, for a
    /// connector's [`DnsCache`]: races ask this. Default: [`Resolve::resolve`]'s answer
    /// with no TTL, which is never cached. A resolver that knows TTLs overrides it (and
    /// keeps [`Resolve::resolve`] for callers that want the addresses alone; if that one
    /// calls this one, as below, this one must be overridden, or each calls the other).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use std::net::IpAddr;
    /// use std::time::Duration;
    /// use eyeballs_core::QueryKind;
    /// use eyeballs_net::{Resolve, Resolving, ResolvingWithTtl, WithTtl};
    ///
    /// /// Every name is the IPv4 loopback, for five minutes.
    /// struct Loopback;
    ///
    /// impl Resolve for Loopback {
    ///     fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
    ///         let answer = self.resolve_with_ttl(name, kind);
    ///         Box::pin(async move { answer.await.map(WithTtl::into_value) })
    ///     }
    ///
    ///     fn resolve_with_ttl(&self, _name: &str, kind: QueryKind) -> ResolvingWithTtl {
    ///         let addrs = match kind {
    ///             QueryKind::Aaaa => vec![],
    ///             _ => vec![IpAddr::from([127, 0, 0, 1])],
    ///         };
    ///         let ttl = Some(Duration::from_secs(300));
    ///         Box::pin(async move { Ok::<_, io::Error>(WithTtl::new(addrs, ttl)) })
    ///     }
    /// }
    /// ```
    fn resolve_with_ttl(&self, name: &str, kind: QueryKind) -> ResolvingWithTtl {
        let answer = self.resolve(name, kind);
        Box::pin(async move { answer.await.map(|addrs| WithTtl::new(addrs, None)) })
    }

    /// Looks up the HTTPS records of `name` like [`Resolve::resolve_https`], with the
    /// answer's TTL (see [`Resolve::resolve_with_ttl`]). Default: [`Resolve::resolve_https`]'s
    /// answer with no TTL, never cached.
    fn resolve_https_with_ttl(&self, name: &str) -> ResolvingServicesWithTtl {
        let answer = self.resolve_https(name);
        Box::pin(async move { answer.await.map(|records| WithTtl::new(records, None)) })
    }
}

/// A fixed map from names to addresses: for tests, demos, and names you pin. It answers
/// AAAA and A separately, at once.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Nat64Prefix, QueryKind};
/// use eyeballs_net::StaticResolver;
///
/// let resolver = StaticResolver::new()
///     .host("demo.eyeballs.test", ["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()]);
/// let v6 = resolver.lookup("demo.eyeballs.test", QueryKind::Aaaa).unwrap();
/// assert_eq!(v6, vec!["::1".parse::<std::net::IpAddr>().unwrap()]);
/// assert!(resolver.lookup("elsewhere.test", QueryKind::A).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    hosts: BTreeMap<String, Vec<IpAddr>>,
    services: BTreeMap<String, Vec<ServiceRecord>>,
}

impl StaticResolver {
    /// Makes an empty map: every name is unknown.
    pub fn new() -> Self {
        StaticResolver::default()
    }

    /// Maps `name` (case-insensitive, final dot optional) to `addrs`.
    pub fn host<I: IntoIterator<Item = IpAddr>>(mut self, name: &str, addrs: I) -> Self {
        self.hosts.insert(key(name), addrs.into_iter().collect());
        self
    }

    /// Gives `name` these HTTPS records (the name the race asks about: the host for port 443,
    /// `_PORT._https.host` otherwise). A resolver with records answers HTTPS queries; names
    /// without records answer "no records".
    pub fn https<I: IntoIterator<Item = ServiceRecord>>(mut self, name: &str, records: I) -> Self {
        self.services
            .insert(key(name), records.into_iter().collect());
        self
    }

    /// Answers at once: the HTTPS records of `name` (none for an unknown name).
    pub fn lookup_https(&self, name: &str) -> Vec<ServiceRecord> {
        self.services.get(&key(name)).cloned().unwrap_or_default()
    }

    /// Answers at once: the addresses of `name` of the family `kind` asks for.
    ///
    /// # Errors
    ///
    /// `NotFound` for a name that is not in the map.
    pub fn lookup(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
        match self.hosts.get(&key(name)) {
            Some(addrs) => Ok(addrs
                .iter()
                .copied()
                .filter(|a| match kind {
                    QueryKind::Aaaa => a.is_ipv6(),
                    QueryKind::A => a.is_ipv4(),
                    _ => true,
                })
                .collect()),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name}: no such host in the static resolver"),
            )),
        }
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let answer = self.lookup(name, kind);
        Box::pin(std::future::ready(answer))
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        Box::pin(std::future::ready(Ok(self.lookup_https(name))))
    }

    fn answers_https(&self) -> bool {
        !self.services.is_empty()
    }
}

/// Discovers the network's NAT64 prefix (RFC 7050) by asking `resolver` for the AAAA records
/// of `ipv4only.arpa`; RFC 8305 §7.1 (R36) then races IPv4 literals as IPv6 addresses
/// synthesized with it (`Config::nat64`). `None` when the network has no DNS64.
///
/// Ask once per network attachment, not per connect. Only on a network with IPv6 and no
/// IPv4 (R35) should the result be put to use.
///
/// # Errors
///
/// The resolver's error, except "no such name" or "no data", which mean no DNS64.
///
/// # Examples
///
/// ```
/// use eyeballs_core::Nat64Prefix;
/// use eyeballs_net::{discover_nat64, StaticResolver};
///
/// # async fn demo() -> std::io::Result<()> {
/// let dns64 = StaticResolver::new().host("ipv4only.arpa", ["64:ff9b::c000:aa".parse().unwrap()]);
/// assert_eq!(discover_nat64(&dns64).await?, Some(Nat64Prefix::WELL_KNOWN));
/// # Ok(())
/// # }
/// ```
pub async fn discover_nat64(resolver: &dyn Resolve) -> io::Result<Option<Nat64Prefix>> {
    match resolver.resolve("ipv4only.arpa.", QueryKind::Aaaa).await {
        Ok(addrs) => Ok(Nat64Prefix::discover(&v6_only(&addrs))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The IPv6 addresses of an answer (a combined resolver may mix in IPv4).
fn v6_only(addrs: &[IpAddr]) -> Vec<std::net::Ipv6Addr> {
    addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(v6) => Some(*v6),
            IpAddr::V4(_) => None,
        })
        .collect()
}

/// Runs a blocking lookup on the resolver pool: the future of `lookup(resolver, name,
/// kind)`'s answer, for a [`Resolve`] implementation whose own lookups block (a database,
/// a blocking DNS library).
///
/// The pool bounds what blocking lookups hold (see [`RESOLVER_THREADS`] and
/// [`RESOLVER_QUEUE`]): identical lookups in flight (the same `resolver` object, name and
/// kind) are one call, whose answer goes to everyone who asked; a lookup nobody waits for
/// any more (its connect was dropped) leaves the queue, and one already running finishes
/// on its thread with its answer dropped. When every thread is busy and the queue is full,
/// the future fails at once with `WouldBlock`. As for `getaddrinfo` (see [`SystemResolver`]),
/// an A lookup starts once the AAAA lookup of the same resolver and name has run for 20 ms
/// or has returned (RFC 8305 §3, R1: the AAAA query first).
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::IpAddr;
/// use std::sync::Arc;
/// use eyeballs_core::QueryKind;
/// use eyeballs_net::{on_pool, Resolve, Resolving};
///
/// /// A resolver whose lookups block (say, a query to a local database).
/// struct Hosts(Arc<Vec<(String, IpAddr)>>);
///
/// impl Hosts {
///     fn lookup(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
///         let family = |ip: &IpAddr| match kind {
///             QueryKind::Aaaa => ip.is_ipv6(),
///             QueryKind::A => ip.is_ipv4(),
///             _ => true,
///         };
///         Ok(self.0.iter().filter(|(n, ip)| n == name && family(ip)).map(|(_, ip)| *ip).collect())
///     }
/// }
///
/// impl Resolve for Hosts {
///     fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
///         on_pool(&self.0, name, kind, |table, name, kind| Hosts(table.clone()).lookup(name, kind))
///     }
/// }
/// ```
pub fn on_pool<R, F>(resolver: &Arc<R>, name: &str, kind: QueryKind, lookup: F) -> Resolving
where
    R: ?Sized + Send + Sync + 'static,
    F: Fn(&Arc<R>, &str, QueryKind) -> io::Result<Vec<IpAddr>> + Send + 'static,
{
    let handle = resolver.clone();
    let job = pool::Job::new(resolver, name, kind, move |_, name, kind| {
        lookup(&handle, name, kind).map(pool::Reply::Addrs)
    });
    let answer = pool::lookup(job);
    Box::pin(async move { answer.await.map(pool::Reply::into_addrs) })
}

/// The operating system's resolver: `getaddrinfo`, once per family (`AF_INET6`, `AF_INET`),
/// both lookups in parallel on the resolver pool (RFC 8305 §3, R3: "one synchronous query
/// per family, run in parallel"); the default resolver of every driver.
///
/// The AAAA call goes first (R1): the A call of a name starts once the AAAA call of that
/// name has run for 20 ms or has returned, whichever comes first. `getaddrinfo` cannot say
/// when its query has left, and it needs well under a millisecond to send, or a few when
/// its thread waits for a CPU (measured: 13 ms at most in 200 cold calls on a busy
/// machine); a thread starved for longer can still let the A query leave first, and a
/// resolver daemon behind `getaddrinfo` (nscd, systemd-resolved) sends on its own schedule.
///
/// Each answer reaches the race on its own, so the Resolution Delay and late-answer merging
/// apply with no configuration (R4–R8). Each keeps the system's own order, which the race
/// keeps among equal RFC 6724 keys. An error names the host and keeps `getaddrinfo`'s
/// message (`"nosuch.test: Name or service not known (getaddrinfo)"`). `localhost` and
/// names under `.localhost` are answered at once with `::1` and `127.0.0.1`, without a
/// lookup (RFC 6761 §6.3).
///
/// A lookup cannot be cancelled, so the pool bounds what a slow or hung system resolver
/// holds ([`on_pool`] says how): at most [`RESOLVER_THREADS`] threads for every driver of
/// the process, identical lookups in flight are one call, at most [`RESOLVER_QUEUE`] wait,
/// and one more fails at once (`WouldBlock`).
///
/// It cannot return HTTPS records, so Happy Eyeballs v3 (services, ALPN, ECH, QUIC) needs
/// the hickory resolver (feature `hickory`). For one combined lookup of both families, use
/// [`CombinedSystemResolver`].
///
/// tokio does not see the pool's threads: with its clock paused (`test-util`), time
/// auto-advances while a system lookup runs. Paused-time tests should resolve with a
/// [`StaticResolver`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        system(name, kind)
    }
}

/// The operating system's resolver asked once for both families, as `std::net` and tokio's
/// `lookup_host` do, on the same resolver pool as [`SystemResolver`].
///
/// Pick it where the system resolver must see one query per name: when it is slow to answer
/// the same name twice, or limits queries. The race then waits for the combined answer and
/// the Resolution Delay cannot apply (an AAAA answer that is late delays IPv4 too).
#[derive(Debug, Clone, Copy, Default)]
pub struct CombinedSystemResolver;

impl Resolve for CombinedSystemResolver {
    fn resolve(&self, name: &str, _kind: QueryKind) -> Resolving {
        system(name, QueryKind::Both)
    }

    fn answers_both(&self) -> bool {
        true
    }
}

/// `getaddrinfo` on the pool, or the RFC 6761 answer at once.
fn system(name: &str, kind: QueryKind) -> Resolving {
    if let Some(loopback) = localhost_answer(name, kind) {
        return Box::pin(std::future::ready(Ok(loopback)));
    }
    let answer = pool::lookup(pool::Job::system(name, kind));
    Box::pin(async move { answer.await.map(pool::Reply::into_addrs) })
}

/// A DNS answer, as a resolver gives it.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The addresses of an AAAA, A or combined query.
    Addrs(Vec<IpAddr>),
    /// The records of an HTTPS query.
    Records(Vec<ServiceRecord>),
}

/// One query's lookup, as a loop waits for it: the answer with its TTL.
pub(crate) type Query = Pin<Box<dyn Future<Output = io::Result<WithTtl<Answer>>> + Send>>;

/// Sends one query: HTTPS records through [`Resolve::resolve_https_with_ttl`], addresses
/// otherwise, each with its TTL (for the DNS cache).
pub(crate) fn ask(resolver: &dyn Resolve, name: &str, kind: QueryKind) -> Query {
    if kind == QueryKind::Https {
        let records = resolver.resolve_https_with_ttl(name);
        Box::pin(async move { records.await.map(|r| r.map(Answer::Records)) })
    } else {
        let addrs = resolver.resolve_with_ttl(name, kind);
        Box::pin(async move { addrs.await.map(|a| a.map(Answer::Addrs)) })
    }
}
