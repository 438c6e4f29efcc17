//! hickory's lookups as the race asks them: AAAA and A as two queries, HTTPS records
//! decoded, errors as sentences.

use std::any::TypeId;
use std::io;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::QueryKind;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::{RuntimeProvider, Time};
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use hickory_resolver::{ConnectionProvider, Resolver};

use super::decode::{is_no_data, lookup_error, service_records, setup_error};
use super::order::{Order, AAAA_WAIT};
use super::sequenced::Sequenced;
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
///
/// The AAAA query of a name leaves before its A query (RFC 8305 §3, R1) when this type
/// built the resolver on a runtime provider (the drivers' providers are): its UDP sockets
/// report the AAAA queries they send ([`Sequenced`]), and an A lookup waits for the AAAA
/// query of its name (see `order`). A resolver built elsewhere ([`Hickory::new`]), or on a
/// connection provider of its own, is asked as it is: its two lookups are polled in the
/// order AAAA, A, which is all the order they get.
pub(crate) struct Hickory<P: ConnectionProvider> {
    lookups: Arc<dyn Lookups>,
    /// The AAAA lookups in flight, shared with the clones; `None` when the resolver's
    /// sockets are not watched.
    order: Option<Order>,
    provider: PhantomData<fn() -> P>,
}

impl<P: ConnectionProvider> Clone for Hickory<P> {
    fn clone(&self) -> Self {
        Hickory {
            lookups: self.lookups.clone(),
            order: self.order.clone(),
            provider: PhantomData,
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
        Self::build(provider, Recipe::<fn(&mut ResolverOpts)>::System)
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
        Self::build(provider, Recipe::Servers(name_servers(servers), options))
    }

    /// Wraps a resolver built elsewhere: its sockets are not watched (see the type's docs).
    pub(crate) fn new(resolver: Resolver<P>) -> Self {
        Hickory {
            lookups: Arc::new(resolver),
            order: None,
            provider: PhantomData,
        }
    }

    /// Builds the resolver `recipe` says on `provider`, with its UDP sockets watched
    /// ([`Sequenced`]) when `provider` is a plain runtime provider (hickory's connections
    /// on its sockets). A connection provider of its own keeps its connections, unwatched.
    fn build<F: FnOnce(&mut ResolverOpts)>(provider: P, recipe: Recipe<F>) -> io::Result<Self> {
        if TypeId::of::<P>() != TypeId::of::<P::RuntimeProvider>() {
            return Ok(Hickory::new(recipe.build(provider)?));
        }
        let order = Order::default();
        let sockets = Sequenced::new(provider.runtime_provider().clone(), order.clone());
        Ok(Hickory {
            lookups: Arc::new(recipe.build(sockets)?),
            order: Some(order),
            provider: PhantomData,
        })
    }
}

/// What a resolver is built from: the system's configuration, or name servers and options.
enum Recipe<F> {
    System,
    Servers(ResolverConfig, F),
}

impl<F: FnOnce(&mut ResolverOpts)> Recipe<F> {
    /// Builds the resolver on `provider`.
    fn build<X: ConnectionProvider>(self, provider: X) -> io::Result<Resolver<X>> {
        match self {
            Recipe::System => {
                let setup = |e| setup_error("the system's DNS configuration", e);
                let builder = Resolver::builder(provider).map_err(setup)?;
                builder.build().map_err(setup)
            }
            Recipe::Servers(config, options) => {
                let mut builder = Resolver::builder_with_config(config, provider);
                options(builder.options_mut());
                builder
                    .build()
                    .map_err(|e| setup_error("the name servers", e))
            }
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

/// hickory's lookups on a resolver of any provider: what a [`Hickory`] asks.
trait Lookups: Send + Sync + 'static {
    /// Looks up the addresses of `name` for `kind` (AAAA, A, or both), with their TTL.
    fn addrs(self: Arc<Self>, name: String, kind: QueryKind) -> ResolvingWithTtl;

    /// Looks up the HTTPS records of `name`, with their TTL.
    fn https(self: Arc<Self>, name: String) -> ResolvingServicesWithTtl;
}

impl<X: ConnectionProvider> Lookups for Resolver<X> {
    fn addrs(self: Arc<Self>, name: String, kind: QueryKind) -> ResolvingWithTtl {
        let resolver = self;
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

    fn https(self: Arc<Self>, name: String) -> ResolvingServicesWithTtl {
        let resolver = self;
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
        let lookup = self.lookups.clone().addrs(name.to_string(), kind);
        let Some(order) = &self.order else {
            return lookup;
        };
        match kind {
            QueryKind::Aaaa => order.aaaa(name, lookup),
            QueryKind::A => order.a(name, lookup, || {
                <<P as ConnectionProvider>::RuntimeProvider as RuntimeProvider>::Timer::delay_for(
                    AAAA_WAIT,
                )
            }),
            _ => lookup,
        }
    }

    fn resolve_https_with_ttl(&self, name: &str) -> ResolvingServicesWithTtl {
        self.lookups.clone().https(name.to_string())
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
