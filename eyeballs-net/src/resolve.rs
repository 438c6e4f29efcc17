//! The resolver trait of the async drivers, and a static map every driver can use.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;

use eyeballs_core::QueryKind;

/// A DNS answer on its way.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// A resolver an async race can ask: plug in your own DNS stack, a cache, or a static map.
///
/// The race asks for AAAA and A separately ([`QueryKind::Aaaa`], [`QueryKind::A`]), so that
/// RFC 8305's Resolution Delay and late-answer merging apply; a resolver that can only answer
/// both families at once (like `getaddrinfo`) says so with [`Resolve::answers_both`] and gets
/// one [`QueryKind::Both`] query instead. Futures must not depend on a particular runtime
/// unless the driver is that runtime's.
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::{IpAddr, Ipv6Addr};
/// use eyeballs_core::QueryKind;
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
}

/// A fixed map from names to addresses: for tests, demos, and names you pin. It answers
/// AAAA and A separately, at once.
///
/// # Examples
///
/// ```
/// use eyeballs_core::QueryKind;
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
}
