//! Name resolution: the trait the driver calls, the system resolver, and a static map.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use eyeballs_core::QueryKind;

/// A DNS answer on its way.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// A resolver the race can ask: plug in your own DNS stack, a cache, or a static map.
///
/// The race asks for AAAA and A separately ([`QueryKind::Aaaa`], [`QueryKind::A`]), so that
/// RFC 8305's Resolution Delay and late-answer merging apply; a resolver that can only answer
/// both families at once (like `getaddrinfo`) says so with [`Resolve::answers_both`] and gets
/// one [`QueryKind::Both`] query instead.
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::{IpAddr, Ipv6Addr};
/// use eyeballs_core::QueryKind;
/// use eyeballs_tokio::{Resolve, Resolving};
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
}

/// The operating system's resolver: `getaddrinfo`, on tokio's blocking pool.
///
/// It answers both families in one call (so there is no Resolution Delay to apply), sorted
/// by the system's own RFC 6724 rules, which the race keeps among equal keys. A lookup cannot
/// be cancelled: when a connect is dropped, its lookup finishes on the blocking pool and is
/// discarded.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str, _kind: QueryKind) -> Resolving {
        let name = name.to_string();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }

    fn answers_both(&self) -> bool {
        true
    }
}

/// A fixed map from names to addresses, with optional per-family answer delays: for tests,
/// demos, and names you pin.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::QueryKind;
/// use eyeballs_tokio::StaticResolver;
///
/// let resolver = StaticResolver::new()
///     .host("demo.eyeballs.test", ["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()])
///     .delay(QueryKind::A, Duration::from_millis(20));
/// # let _ = resolver;
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    hosts: BTreeMap<String, Vec<IpAddr>>,
    delays: Vec<(QueryKind, Duration)>,
}

impl StaticResolver {
    /// Makes an empty map: every name is unknown.
    pub fn new() -> Self {
        StaticResolver::default()
    }

    /// Maps `name` (case-insensitive) to `addrs`.
    pub fn host<I: IntoIterator<Item = IpAddr>>(mut self, name: &str, addrs: I) -> Self {
        self.hosts
            .insert(name.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }

    /// Delays answers to `kind` queries by `delay`, to show the Resolution Delay at work.
    pub fn delay(mut self, kind: QueryKind, delay: Duration) -> Self {
        self.delays.retain(|(k, _)| *k != kind);
        self.delays.push((kind, delay));
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let name = name.to_ascii_lowercase();
        let answer = match self.hosts.get(name.trim_end_matches('.')) {
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
        };
        let delay = self
            .delays
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, d)| *d);
        Box::pin(async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            answer
        })
    }
}
