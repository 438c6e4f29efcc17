//! Blocking name resolution, run on the driver's resolver pool.

use std::io;
use std::net::IpAddr;

use eyeballs_core::{Nat64Prefix, QueryKind, ServiceRecord};
use std::sync::Arc;

use eyeballs_net::{ResolverObject, StaticResolver};

/// A blocking resolver. The driver calls it on a thread of its resolver pool (see the crate
/// docs), so a slow answer never holds up the race (RFC 8305 §3, R3: "emulate it with one
/// synchronous query per family, run in parallel"). Identical lookups in flight are one
/// call: an answer should depend only on the name and the kind.
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::{IpAddr, Ipv4Addr};
/// use eyeballs_blocking::Resolve;
/// use eyeballs_core::{Nat64Prefix, QueryKind};
///
/// /// Every name is 127.0.0.1.
/// struct Loopback;
///
/// impl Resolve for Loopback {
///     fn resolve(&self, _name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
///         Ok(match kind {
///             QueryKind::Aaaa => vec![],
///             _ => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
///         })
///     }
/// }
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// Looks up `name` for `kind`, blocking. The answer may be empty (no data).
    ///
    /// # Errors
    ///
    /// A failed query (NXDOMAIN, SERVFAIL, timeout).
    fn resolve(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>>;

    /// Returns whether this resolver answers both families in one query. Default: `false`.
    fn answers_both(&self) -> bool {
        false
    }

    /// Looks up the HTTPS records (RFC 9460) of `name` (the host, an alias target, or
    /// `_PORT._https.host`), blocking. Default: no records, at once.
    ///
    /// # Errors
    ///
    /// A failed query (NXDOMAIN, SERVFAIL, timeout).
    fn resolve_https(&self, name: &str) -> io::Result<Vec<ServiceRecord>> {
        let _ = name;
        Ok(Vec::new())
    }

    /// Returns whether this resolver can answer HTTPS queries ([`Resolve::resolve_https`]),
    /// so that a Happy Eyeballs v3 race asks it. `getaddrinfo` cannot. Default: `false`.
    fn answers_https(&self) -> bool {
        false
    }

    /// Returns the answer when it is known without blocking, so that the race needs no
    /// resolver-pool thread for it; `None` (the default) sends the query to the pool. The
    /// system resolvers answer `localhost` names here (RFC 6761 §6.3).
    fn answer_now(&self, name: &str, kind: QueryKind) -> Option<io::Result<Vec<IpAddr>>> {
        let _ = (name, kind);
        None
    }
}

/// The operating system's resolver: `getaddrinfo`, once per family (`AF_INET6`, `AF_INET`),
/// both lookups in parallel on the driver's resolver pool (RFC 8305 §3, R3).
///
/// Each answer reaches the race on its own, so the Resolution Delay and late-answer merging
/// apply with no configuration (R4–R8). A lookup cannot be cancelled: when a race ends
/// first, its pool thread finishes on its own and the answer is dropped. An error names the
/// host and keeps `getaddrinfo`'s message (`"nosuch.test: Name or service not known
/// (getaddrinfo)"`). For one combined lookup instead, use [`CombinedSystemResolver`].
/// It cannot return HTTPS records, so Happy Eyeballs v3 (services, ALPN, ECH) needs
/// `HickoryResolver` (feature `hickory`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
        eyeballs_net::system_lookup(name, kind)
    }

    fn answer_now(&self, name: &str, kind: QueryKind) -> Option<io::Result<Vec<IpAddr>>> {
        eyeballs_net::localhost_answer(name, kind).map(Ok)
    }
}

/// The operating system's resolver asked once for both families, as `std::net` does.
///
/// Pick it where the system resolver must see one query per name; the Resolution Delay then
/// cannot apply (an AAAA answer that is late delays IPv4 too).
#[derive(Debug, Clone, Copy, Default)]
pub struct CombinedSystemResolver;

impl Resolve for CombinedSystemResolver {
    fn resolve(&self, name: &str, _kind: QueryKind) -> io::Result<Vec<IpAddr>> {
        eyeballs_net::system_lookup(name, QueryKind::Both)
    }

    fn answers_both(&self) -> bool {
        true
    }

    fn answer_now(&self, name: &str, _kind: QueryKind) -> Option<io::Result<Vec<IpAddr>>> {
        eyeballs_net::localhost_answer(name, QueryKind::Both).map(Ok)
    }
}

impl<T: Resolve> ResolverObject<T> for dyn Resolve {
    fn wrap(resolver: T) -> Arc<Self> {
        Arc::new(resolver)
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
        self.lookup(name, kind)
    }

    fn resolve_https(&self, name: &str) -> io::Result<Vec<ServiceRecord>> {
        Ok(self.lookup_https(name))
    }

    fn answers_https(&self) -> bool {
        eyeballs_net::Resolve::answers_https(self)
    }
}

/// Discovers the network's NAT64 prefix (RFC 7050) by asking `resolver` for the AAAA records
/// of `ipv4only.arpa`, blocking; see `eyeballs_net::discover_nat64`. `None` when the network
/// has no DNS64.
///
/// # Errors
///
/// The resolver's error, except "no such name", which means no DNS64.
pub fn discover_nat64(resolver: &dyn Resolve) -> io::Result<Option<Nat64Prefix>> {
    match resolver.resolve("ipv4only.arpa.", QueryKind::Aaaa) {
        Ok(addrs) => Ok(Nat64Prefix::discover(&eyeballs_net::v6_only(&addrs))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
