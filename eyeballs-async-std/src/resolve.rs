//! The system resolver on the resolver pool of eyeballs-net.

use eyeballs_core::QueryKind;
use eyeballs_net::{pool, Resolve, Resolving};

/// The operating system's resolver: `getaddrinfo`, once per family (`AF_INET6`, `AF_INET`),
/// both lookups in parallel on the process's resolver pool (RFC 8305 §3, R3), not on the
/// `blocking` crate's pool that async-std and smol use.
///
/// Each answer reaches the race on its own, so the Resolution Delay and late-answer merging
/// apply with no configuration (R4–R8). An error names the host and keeps `getaddrinfo`'s
/// message (`"nosuch.test: Name or service not known (getaddrinfo)"`). For one combined
/// lookup instead, use [`CombinedSystemResolver`].
///
/// A lookup cannot be cancelled, so the pool bounds what a slow or hung system resolver
/// holds (see the crate docs): at most 8 threads for every driver of the process, identical
/// lookups in flight are one call, at most 64 wait, and one more fails at once
/// (`WouldBlock`). When a connect is dropped or times out, its waiters are withdrawn; a
/// running lookup finishes on its pool thread, and the next connect to that name joins it.
///
/// It cannot return HTTPS records, so Happy Eyeballs v3 (services, ALPN, ECH) needs
/// `HickoryResolver` (feature `hickory`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        lookup(name, kind)
    }
}

/// The operating system's resolver asked once for both families, as `std::net` does, on
/// the same resolver pool as [`SystemResolver`].
///
/// Pick it where the system resolver must see one query per name; the Resolution Delay then
/// cannot apply (an AAAA answer that is late delays IPv4 too).
#[derive(Debug, Clone, Copy, Default)]
pub struct CombinedSystemResolver;

impl Resolve for CombinedSystemResolver {
    fn resolve(&self, name: &str, _kind: QueryKind) -> Resolving {
        lookup(name, QueryKind::Both)
    }

    fn answers_both(&self) -> bool {
        true
    }
}

fn lookup(name: &str, kind: QueryKind) -> Resolving {
    let lookup = pool::lookup(pool::Job::system(name, kind));
    Box::pin(async move { lookup.await.map(pool::Reply::into_addrs) })
}
