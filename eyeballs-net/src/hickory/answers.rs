//! hickory's lookups as the race asks them: AAAA and A as two queries, HTTPS records
//! decoded, errors as sentences.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use eyeballs_core::QueryKind;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{ConnectionProvider, Resolver};

use super::decode::{is_no_data, lookup_error, service_records, setup_error};
use crate::resolve::{Resolve, Resolving, ResolvingServices};

/// A hickory [`Resolver`] on any runtime provider `P`, answering the race's queries: AAAA
/// and A separately, and HTTPS (RFC 9460) records decoded into [`ServiceRecord`]s.
///
/// The drivers wrap it in their own `HickoryResolver` (eyeballs-tokio on tokio's provider,
/// eyeballs-async-std and eyeballs-blocking on async-io's); use those.
///
/// An empty answer (NOERROR, no data) is an empty list, not an error, as RFC 8305 §3 (R7)
/// needs. Errors are sentences that name the host: `"nosuch.test: no such name
/// (NXDOMAIN)"` (kind `NotFound`), `"...: the DNS server failed (SERVFAIL)"`, `"...: no
/// answer from the DNS server (timed out)"` (kind `TimedOut`).
pub(crate) struct Hickory<P: ConnectionProvider> {
    resolver: Arc<Resolver<P>>,
}

impl<P: ConnectionProvider> Clone for Hickory<P> {
    fn clone(&self) -> Self {
        Hickory {
            resolver: self.resolver.clone(),
        }
    }
}

impl<P: ConnectionProvider> std::fmt::Debug for Hickory<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hickory").finish_non_exhaustive()
    }
}

impl<P: ConnectionProvider> Hickory<P> {
    /// Uses the system's DNS configuration (`/etc/resolv.conf` on Unix) on `provider`.
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read.
    pub(crate) fn from_system_conf(provider: P) -> io::Result<Self> {
        let setup = |e| setup_error("the system's DNS configuration", e);
        let builder = Resolver::builder(provider).map_err(setup)?;
        Ok(Hickory::new(builder.build().map_err(setup)?))
    }

    /// Asks these name servers (UDP, then TCP, on their ports), with hickory's defaults, on
    /// `provider`.
    ///
    /// # Errors
    ///
    /// When hickory cannot build the resolver.
    pub(crate) fn with_name_servers(servers: &[SocketAddr], provider: P) -> io::Result<Self> {
        Self::with_options(servers, provider, |_| {})
    }

    /// Asks these name servers with hickory's options as `options` sets them.
    pub(crate) fn with_options(
        servers: &[SocketAddr],
        provider: P,
        options: impl FnOnce(&mut ResolverOpts),
    ) -> io::Result<Self> {
        let mut builder = Resolver::builder_with_config(name_servers(servers), provider);
        options(builder.options_mut());
        let resolver = builder
            .build()
            .map_err(|e| setup_error("the name servers", e))?;
        Ok(Hickory::new(resolver))
    }

    pub(crate) fn new(resolver: Resolver<P>) -> Self {
        Hickory {
            resolver: Arc::new(resolver),
        }
    }
}

/// hickory's configuration for `servers`: UDP, then TCP, each on the server's own port.
fn name_servers(servers: &[SocketAddr]) -> ResolverConfig {
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
    ResolverConfig::from_name_servers(name_servers)
}

impl<P: ConnectionProvider> Resolve for Hickory<P> {
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
                        Err(e) if is_no_data(&e) => Ok(Vec::new()),
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
                Err(e) if is_no_data(&e) => Ok(Vec::new()),
                Err(e) => Err(lookup_error(&name, e)),
            }
        })
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        let resolver = self.resolver.clone();
        let name = name.to_string();
        Box::pin(async move {
            match resolver.lookup(name.as_str(), RecordType::HTTPS).await {
                Ok(lookup) => Ok(service_records(lookup.query().name(), lookup.answers())),
                // No HTTPS records: no services, and the race goes on with the addresses.
                Err(e) if is_no_data(&e) => Ok(Vec::new()),
                Err(e) => Err(lookup_error(&name, e)),
            }
        })
    }

    fn answers_https(&self) -> bool {
        true
    }
}
