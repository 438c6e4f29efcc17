//! The system resolver on tokio's blocking pool.

use eyeballs_core::QueryKind;
use eyeballs_net::{system_lookup, Resolve, Resolving};

/// The operating system's resolver: `getaddrinfo`, once per family (`AF_INET6`, `AF_INET`),
/// both lookups in parallel on tokio's blocking pool (RFC 8305 §3, R3).
///
/// Each answer reaches the race on its own, so the Resolution Delay and late-answer merging
/// apply with no configuration (R4–R8). Each keeps the system's own order, which the race
/// keeps among equal RFC 6724 keys. A lookup cannot be cancelled: when a connect is dropped,
/// its lookup finishes on the blocking pool and is discarded. An error names the host and
/// keeps `getaddrinfo`'s message (`"nosuch.test: Name or service not known (getaddrinfo)"`).
/// For one combined lookup instead, use [`CombinedSystemResolver`].
/// It cannot return HTTPS records, so Happy Eyeballs v3 (services, ALPN, ECH) needs
/// `HickoryResolver` (feature `hickory`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        lookup(name, kind)
    }
}

/// The operating system's resolver asked once for both families, as `std::net` and tokio's
/// `lookup_host` do.
///
/// Pick it where the system resolver must see one query per name: when it is slow to answer
/// the same name twice, or limits queries. The race then waits for the combined answer and
/// the Resolution Delay cannot apply (an AAAA answer that is late delays IPv4 too).
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
    let name = name.to_string();
    Box::pin(async move {
        tokio::task::spawn_blocking(move || system_lookup(&name, kind))
            .await
            .map_err(std::io::Error::other)?
    })
}
