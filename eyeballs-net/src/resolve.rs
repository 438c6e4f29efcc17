//! The resolver trait of the async drivers, and a static map every driver can use.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;

use eyeballs_core::{Nat64Prefix, QueryKind, ServiceRecord};

/// A DNS answer on its way.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// An HTTPS answer on its way: the records, decoded.
pub type ResolvingServices = Pin<Box<dyn Future<Output = io::Result<Vec<ServiceRecord>>> + Send>>;

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

/// Turns the error of a system lookup (`getaddrinfo` through std or tokio) into a sentence
/// that names what was looked up: `"nosuch.test: Name or service not known (getaddrinfo)"`
/// rather than std's `"failed to lookup address information: ..."`. The kind is kept.
///
/// # Examples
///
/// ```
/// use std::io;
/// use eyeballs_net::system_lookup_error;
///
/// let std_error = io::Error::other("failed to lookup address information: Name or service not known");
/// let e = system_lookup_error("nosuch.test", std_error);
/// assert_eq!(e.to_string(), "nosuch.test: Name or service not known (getaddrinfo)");
/// ```
pub fn system_lookup_error(name: &str, error: io::Error) -> io::Error {
    let text = error.to_string();
    let detail = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    let name = name.trim_end_matches('.');
    io::Error::new(error.kind(), format!("{name}: {detail} (getaddrinfo)"))
}

/// Asks the operating system's resolver (`getaddrinfo`) for one family, as RFC 8305 §3 R3
/// recommends without an asynchronous DNS API ("one synchronous query per family, run in
/// parallel"): `AF_INET6` for [`QueryKind::Aaaa`], `AF_INET` for [`QueryKind::A`], both
/// families in one call for [`QueryKind::Both`]. Blocking: the drivers run it on the
/// resolver pool ([`crate::pool::Job::system`]).
///
/// The answer keeps `getaddrinfo`'s order (it sorted by RFC 6724 with what it knows) without
/// duplicates. A name that exists without addresses of the family ("no data") is an empty
/// answer, as R7 needs.
///
/// `localhost` and names under `.localhost` are answered here, with `::1` and `127.0.0.1`,
/// as RFC 6761 §6.3 asks ("SHOULD always return the IP loopback address"): a per-family
/// lookup would otherwise miss `/etc/hosts` for the family it lacks and ask the DNS server
/// for `localhost`.
///
/// # Errors
///
/// `getaddrinfo`'s failure, as [`system_lookup_error`] words it.
///
/// # Examples
///
/// ```
/// use eyeballs_core::QueryKind;
/// use eyeballs_net::system_lookup;
///
/// let v4 = system_lookup("127.0.0.1", QueryKind::A)?;
/// assert_eq!(v4, vec![std::net::IpAddr::from([127, 0, 0, 1])]);
/// // RFC 6761: no lookup at all.
/// let v6 = system_lookup("Localhost.", QueryKind::Aaaa)?;
/// assert_eq!(v6, vec![std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn system_lookup(name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
    use dns_lookup::{AddrInfoHints, LookupErrorKind};
    if let Some(loopback) = localhost_answer(name, kind) {
        return Ok(loopback);
    }
    let family = match kind {
        QueryKind::Aaaa => i32::from(socket2::Domain::IPV6),
        QueryKind::A => i32::from(socket2::Domain::IPV4),
        _ => 0,
    };
    let hints = AddrInfoHints {
        flags: 0,
        address: family,
        // One entry per address, not one per socket type.
        socktype: i32::from(socket2::Type::STREAM),
        protocol: 0,
    };
    let answer = match dns_lookup::getaddrinfo(Some(name), None, Some(hints)) {
        Ok(answer) => answer,
        Err(e) if matches!(e.kind(), LookupErrorKind::NoData) => return Ok(Vec::new()),
        Err(e) => return Err(system_lookup_error(name, e.into())),
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    for info in answer {
        let ip = info
            .map_err(|e| system_lookup_error(name, e))?
            .sockaddr
            .ip();
        if !addrs.contains(&ip) {
            addrs.push(ip);
        }
    }
    Ok(addrs)
}

/// RFC 6761 §6.3: the loopback answer for `localhost` and names under `.localhost` (any
/// case, with or without the final dot), or `None` for any other name (and for an HTTPS
/// query): `::1` for [`QueryKind::Aaaa`], `127.0.0.1` for [`QueryKind::A`], both for a
/// combined query.
///
/// [`system_lookup`] answers these names so, and the drivers' system resolvers answer them
/// on the calling thread, without a trip through the resolver pool.
///
/// # Examples
///
/// ```
/// use eyeballs_core::QueryKind;
/// use eyeballs_net::localhost_answer;
///
/// assert_eq!(
///     localhost_answer("app.localhost.", QueryKind::A),
///     Some(vec![std::net::IpAddr::from([127, 0, 0, 1])])
/// );
/// assert_eq!(localhost_answer("example.test", QueryKind::A), None);
/// ```
pub fn localhost_answer(name: &str, kind: QueryKind) -> Option<Vec<IpAddr>> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name != "localhost" && !name.ends_with(".localhost") {
        return None;
    }
    let v6 = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    let v4 = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    match kind {
        QueryKind::Aaaa => Some(vec![v6]),
        QueryKind::A => Some(vec![v4]),
        QueryKind::Https => None,
        _ => Some(vec![v6, v4]),
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
pub fn v6_only(addrs: &[IpAddr]) -> Vec<std::net::Ipv6Addr> {
    addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(v6) => Some(*v6),
            IpAddr::V4(_) => None,
        })
        .collect()
}
