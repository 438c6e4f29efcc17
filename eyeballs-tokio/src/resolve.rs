//! The system resolver on tokio's blocking pool.

use eyeballs_core::QueryKind;
use eyeballs_net::{system_lookup_error, Resolve, Resolving};

/// The operating system's resolver: `getaddrinfo`, on tokio's blocking pool.
///
/// It answers both families in one call (so there is no Resolution Delay to apply), sorted
/// by the system's own RFC 6724 rules, which the race keeps among equal keys. It cannot return
/// HTTPS records, so Happy Eyeballs v3 (services, ALPN, ECH) needs `HickoryResolver`
/// (feature `hickory`). A lookup cannot be cancelled: when a connect is dropped, its lookup finishes on the blocking pool and is
/// discarded. An error names the host and keeps `getaddrinfo`'s message
/// (`"nosuch.test: Name or service not known (getaddrinfo)"`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, _kind: QueryKind) -> Resolving {
        let name = name.to_string();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| system_lookup_error(&name, e))?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }

    fn answers_both(&self) -> bool {
        true
    }
}
