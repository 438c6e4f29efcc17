//! hickory's lookups as the race asks them: AAAA and A as two queries, HTTPS records
//! decoded, errors as sentences.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::QueryKind;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use hickory_resolver::{ConnectionProvider, Resolver};

use super::decode::{is_no_data, lookup_error, service_records, setup_error};
use crate::resolve::{
    Resolve, Resolving, ResolvingServices, ResolvingServicesWithTtl, ResolvingWithTtl, WithTtl,
};

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
        let answer = self.resolve_with_ttl(name, kind);
        Box::pin(async move { answer.await.map(WithTtl::into_value) })
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        let answer = self.resolve_https_with_ttl(name);
        Box::pin(async move { answer.await.map(WithTtl::into_value) })
    }

    fn resolve_with_ttl(&self, name: &str, kind: QueryKind) -> ResolvingWithTtl {
        let resolver = self.resolver.clone();
        let name = name.to_string();
        Box::pin(async move {
            let result = match kind {
                QueryKind::Aaaa => resolver.ipv6_lookup(name.as_str()).await,
                QueryKind::A => resolver.ipv4_lookup(name.as_str()).await,
                _ => resolver
                    .lookup_ip(name.as_str())
                    .await
                    .map(|ips| ips.as_lookup().clone()),
            };
            match result {
                Ok(lookup) => {
                    let addrs = lookup
                        .answers()
                        .iter()
                        .filter_map(|r| match &r.data {
                            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                            RData::A(a) => Some(IpAddr::V4(a.0)),
                            _ => None,
                        })
                        .collect();
                    Ok(WithTtl::new(addrs, ttl(lookup.answers())))
                }
                // NOERROR with no data: a negative answer, which RFC 8305 §3 treats apart.
                Err(e) if is_no_data(&e) => Ok(WithTtl::new(Vec::new(), None)),
                Err(e) => Err(lookup_error(&name, e)),
            }
        })
    }

    fn resolve_https_with_ttl(&self, name: &str) -> ResolvingServicesWithTtl {
        let resolver = self.resolver.clone();
        let name = name.to_string();
        Box::pin(async move {
            match resolver.lookup(name.as_str(), RecordType::HTTPS).await {
                Ok(lookup) => {
                    let records = service_records(lookup.query().name(), lookup.answers());
                    Ok(WithTtl::new(records, ttl(lookup.answers())))
                }
                // No HTTPS records: no services, and the race goes on with the addresses.
                Err(e) if is_no_data(&e) => Ok(WithTtl::new(Vec::new(), None)),
                Err(e) => Err(lookup_error(&name, e)),
            }
        })
    }

    fn answers_https(&self) -> bool {
        true
    }
}

/// The TTL of an answer: the smallest of its records' (the alias chain's CNAMEs too, as a
/// stub cache counts it). hickory's own cache gives what is left of each, so an answer it
/// serves from there expires when it would have. `None` for no records.
fn ttl(answers: &[Record]) -> Option<Duration> {
    answers
        .iter()
        .map(|r| Duration::from_secs(u64::from(r.ttl)))
        .min()
}
