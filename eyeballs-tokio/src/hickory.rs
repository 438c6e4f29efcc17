//! hickory-resolver as a [`Resolve`]: AAAA and A as two concurrent queries (feature
//! `hickory`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use eyeballs_core::QueryKind;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;

use eyeballs_net::{Resolve, Resolving};

/// Resolves with hickory-resolver, asking AAAA and A separately and concurrently, so the
/// race's Resolution Delay (RFC 8305 §3, R5) and late-answer merging (R8) apply for real.
///
/// An empty answer (NOERROR, no data) is an empty list, not an error, as R7 needs. Errors are
/// sentences that name the host: `"nosuch.test: no such name (NXDOMAIN)"` (kind
/// `NotFound`), `"...: the DNS server failed (SERVFAIL)"`, `"...: no answer from the DNS
/// server (timed out)"` (kind `TimedOut`).
///
/// # Examples
///
/// ```no_run
/// use eyeballs_tokio::{Connector, HickoryResolver};
///
/// # fn demo() -> std::io::Result<()> {
/// let connector = Connector::builder()
///     .resolver(HickoryResolver::from_system_conf()?)
///     .build()
///     .expect("valid settings");
/// # let _ = connector;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HickoryResolver {
    resolver: Arc<TokioResolver>,
}

impl std::fmt::Debug for HickoryResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HickoryResolver").finish_non_exhaustive()
    }
}

impl HickoryResolver {
    /// Uses the system's DNS configuration (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read.
    pub fn from_system_conf() -> io::Result<Self> {
        let setup = |e| setup_error("the system's DNS configuration", e);
        let builder = TokioResolver::builder_tokio().map_err(setup)?;
        Ok(HickoryResolver::from_resolver(
            builder.build().map_err(setup)?,
        ))
    }

    /// Asks these name servers (UDP, then TCP, on their ports), with hickory's defaults.
    ///
    /// # Errors
    ///
    /// When hickory cannot build the resolver.
    pub fn with_name_servers(servers: &[SocketAddr]) -> io::Result<Self> {
        let name_servers = servers
            .iter()
            .map(|s| {
                let mut ns = NameServerConfig::udp_and_tcp(s.ip());
                for c in &mut ns.connections {
                    c.port = s.port();
                }
                ns
            })
            .collect();
        let config = ResolverConfig::from_name_servers(name_servers);
        let builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        Ok(HickoryResolver::from_resolver(
            builder
                .build()
                .map_err(|e| setup_error("the name servers", e))?,
        ))
    }

    /// Wraps a resolver you built yourself.
    pub fn from_resolver(resolver: TokioResolver) -> Self {
        HickoryResolver {
            resolver: Arc::new(resolver),
        }
    }
}

impl Resolve for HickoryResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let resolver = self.resolver.clone();
        let name = name.to_string();
        Box::pin(async move {
            let result = match kind {
                QueryKind::Aaaa => resolver.ipv6_lookup(name.as_str()).await,
                QueryKind::A => resolver.ipv4_lookup(name.as_str()).await,
                _ => {
                    let ips = resolver.lookup_ip(name.as_str()).await;
                    return match ips {
                        Ok(ips) => Ok(ips.iter().collect()),
                        Err(e) if e.is_no_records_found() && !e.is_nx_domain() => Ok(Vec::new()),
                        Err(e) => Err(lookup_error(&name, e)),
                    };
                }
            };
            match result {
                Ok(lookup) => Ok(lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        _ => None,
                    })
                    .collect()),
                // NOERROR with no data: a negative answer, which RFC 8305 §3 treats apart.
                Err(e) if e.is_no_records_found() && !e.is_nx_domain() => Ok(Vec::new()),
                Err(e) => Err(lookup_error(&name, e)),
            }
        })
    }
}

/// A failed lookup of `name` as a sentence a person can act on, with the kind a caller can
/// match (`NotFound` for NXDOMAIN, `TimedOut` for no answer). hickory's own `Display` of
/// NXDOMAIN is a debug dump of the query. (No records with NOERROR never gets here: it is an
/// empty answer.)
fn lookup_error(name: &str, e: NetError) -> io::Error {
    use io::ErrorKind::{NotFound, Other, TimedOut};
    let name = name.trim_end_matches('.');
    let (kind, text) = match &e {
        _ if e.is_nx_domain() => (NotFound, format!("{name}: no such name (NXDOMAIN)")),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => {
            (Other, format!("{name}: the DNS server failed (SERVFAIL)"))
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => (
            Other,
            format!("{name}: the DNS server refused the query (REFUSED)"),
        ),
        NetError::Dns(DnsError::ResponseCode(code)) => (
            Other,
            format!(
                "{name}: the DNS server answered {code} (rcode {})",
                u16::from(*code)
            ),
        ),
        NetError::Timeout => (
            TimedOut,
            format!("{name}: no answer from the DNS server (timed out)"),
        ),
        NetError::NoConnections => (Other, format!("{name}: no DNS server could be reached")),
        NetError::Io(io) => (io.kind(), format!("{name}: DNS: {io}")),
        _ => (Other, format!("{name}: DNS: {e}")),
    };
    io::Error::new(kind, text)
}

/// An error building the resolver from `what`.
fn setup_error(what: &str, e: NetError) -> io::Error {
    io::Error::other(format!("hickory cannot use {what}: {e}"))
}
