//! hickory-resolver in eyeballs' terms (feature `hickory`), for every driver: AAAA and A as
//! two queries (so RFC 8305's Resolution Delay and late-answer merging really happen), HTTPS
//! records decoded into the core's service records (so Happy Eyeballs v3's services, ports,
//! ALPN ids, hints and ECH), errors as sentences. A runtime supplies hickory's runtime
//! provider ([`HickoryRuntime`]); the async-io provider is here (feature `async-io`), for
//! the async-io driver and the blocking one.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use eyeballs_core::QueryKind;
use hickory_resolver::config::ResolverOpts;
use hickory_resolver::Resolver;

mod answers;
#[cfg(feature = "async-io")]
pub(crate) mod async_io;
mod decode;
mod order;
mod sequenced;

use answers::Hickory;

use crate::resolve::{
    Resolve, Resolving, ResolvingServices, ResolvingServicesWithTtl, ResolvingWithTtl,
};
use crate::runtime::HickoryRuntime;

/// Resolves with hickory-resolver on the runtime `R`, asking AAAA and A separately and
/// concurrently, so the race's Resolution Delay (RFC 8305 §3, R5) and late-answer merging
/// (R8) apply for real. The AAAA query leaves first (R1): the resolver's UDP sockets report
/// the AAAA queries they send, and the A lookup of a name starts once the AAAA query of
/// that name has left (or its lookup has finished), 20 ms at most. This holds for the
/// resolvers this type builds; one built with [`HickoryResolver::from_resolver`] is asked
/// as it is, its AAAA lookup polled first, which does not fix the order on the wire when
/// hickory's connection task runs on another thread. It also answers HTTPS queries (RFC 9460), decoded into the core's
/// service records (alpn, no-default-alpn, port, ipv4hint, ipv6hint, ech, mandatory):
/// Happy Eyeballs v3 (services, ALPN, ECH, QUIC) needs a resolver like this one, since
/// `getaddrinfo` cannot return HTTPS records.
///
/// An empty answer (NOERROR, no data) is an empty list, not an error, as R7 needs. Errors
/// are sentences that name the host: `"nosuch.test: no such name (NXDOMAIN)"` (kind
/// `NotFound`), `"...: the DNS server failed (SERVFAIL)"`, `"...: no answer from the DNS
/// server (timed out)"` (kind `TimedOut`).
///
/// Each driver names it for its runtime: `eyeballs_tokio::HickoryResolver` is
/// `HickoryResolver<Tokio>` (hickory's tasks on the tokio runtime the lookups run on);
/// eyeballs-async-std's and eyeballs-blocking's run on async-io, with hickory's
/// background tasks (one per name server connection, ending when the resolver and its
/// clones are dropped and their last request is done) on one process-wide thread,
/// `eyeballs-hickory`.
pub struct HickoryResolver<R: HickoryRuntime> {
    inner: Hickory<R::Provider>,
}

impl<R: HickoryRuntime> Clone for HickoryResolver<R> {
    fn clone(&self) -> Self {
        HickoryResolver {
            inner: self.inner.clone(),
        }
    }
}

impl<R: HickoryRuntime> fmt::Debug for HickoryResolver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HickoryResolver").finish_non_exhaustive()
    }
}

impl<R: HickoryRuntime> HickoryResolver<R> {
    /// Uses the system's DNS configuration (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read, or the runtime's provider cannot be
    /// made.
    pub fn from_system_conf() -> io::Result<Self> {
        let inner = Hickory::from_system_conf(R::provider()?)?;
        Ok(HickoryResolver { inner })
    }

    /// Asks these name servers (UDP, then TCP, on their ports), with hickory's defaults.
    ///
    /// # Errors
    ///
    /// When hickory cannot build the resolver, or the runtime's provider cannot be made.
    pub fn with_name_servers(servers: &[SocketAddr]) -> io::Result<Self> {
        let inner = Hickory::with_name_servers(servers, R::provider()?)?;
        Ok(HickoryResolver { inner })
    }

    /// Asks these name servers like [`HickoryResolver::with_name_servers`], with hickory's
    /// options as `options` sets them (its timeout per try, its number of retries, ...).
    ///
    /// # Errors
    ///
    /// As [`HickoryResolver::with_name_servers`].
    pub fn with_options(
        servers: &[SocketAddr],
        options: impl FnOnce(&mut ResolverOpts),
    ) -> io::Result<Self> {
        let inner = Hickory::with_options(servers, R::provider()?, options)?;
        Ok(HickoryResolver { inner })
    }

    /// Wraps a resolver you built yourself (hickory's `Resolver::builder` with
    /// [`HickoryResolver::provider`], to set its options). Its sockets are its own, so the
    /// AAAA query is not held to leave before the A query (see the type's docs);
    /// [`HickoryResolver::with_options`] sets hickory's options and keeps that order.
    pub fn from_resolver(resolver: Resolver<R::Provider>) -> Self {
        HickoryResolver {
            inner: Hickory::new(resolver),
        }
    }

    /// Returns the runtime's hickory provider, to build a resolver with options of your
    /// own for [`HickoryResolver::from_resolver`].
    ///
    /// # Errors
    ///
    /// When the provider cannot be made (a thread it needs cannot start).
    pub fn provider() -> io::Result<R::Provider> {
        R::provider()
    }
}

impl<R: HickoryRuntime> Resolve for HickoryResolver<R> {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        self.inner.resolve(name, kind)
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        self.inner.resolve_https(name)
    }

    /// Gives each answer's TTL: the smallest of its records', as hickory gives them (what
    /// is left of it, for an answer from hickory's own cache), for the connector's
    /// [`DnsCache`](crate::DnsCache).
    fn resolve_with_ttl(&self, name: &str, kind: QueryKind) -> ResolvingWithTtl {
        self.inner.resolve_with_ttl(name, kind)
    }

    fn resolve_https_with_ttl(&self, name: &str) -> ResolvingServicesWithTtl {
        self.inner.resolve_https_with_ttl(name)
    }

    fn answers_https(&self) -> bool {
        true
    }
}
