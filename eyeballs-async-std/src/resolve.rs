//! The system resolver on the `blocking` thread pool.

use std::net::ToSocketAddrs;

use eyeballs_core::QueryKind;
use eyeballs_net::{system_lookup_error, Resolve, Resolving};

/// The operating system's resolver: `getaddrinfo` through `std::net::ToSocketAddrs`, on the
/// `blocking` crate's thread pool (the one async-std and smol use).
///
/// It answers both families in one call (so the Resolution Delay does not apply), in the
/// system's RFC 6724 order, which the race keeps among equal keys. It cannot return HTTPS
/// records, so Happy Eyeballs v3 (services, ALPN, ECH) needs `HickoryResolver` (feature
/// `hickory`). A lookup cannot be
/// cancelled: when a connect is dropped, its lookup finishes on the pool and is discarded.
/// An error names the host and keeps `getaddrinfo`'s message
/// (`"nosuch.test: Name or service not known (getaddrinfo)"`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, _kind: QueryKind) -> Resolving {
        let name = name.to_string();
        Box::pin(blocking::unblock(move || {
            let addrs = (name.as_str(), 0)
                .to_socket_addrs()
                .map_err(|e| system_lookup_error(&name, e))?;
            Ok(addrs.map(|a| a.ip()).collect())
        }))
    }

    fn answers_both(&self) -> bool {
        true
    }
}
