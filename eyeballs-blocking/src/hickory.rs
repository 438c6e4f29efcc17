//! hickory-resolver for the blocking driver (feature `hickory`): eyeballs-async-std's
//! resolver on async-io, waited for on each query's thread.
//!
//! # Threads, tasks and sockets
//!
//! - Each query runs on the driver's DNS thread for that query (as with every blocking
//!   [`Resolve`]), which waits in `async_io::block_on` for hickory's answer. hickory gives
//!   up after `ResolverOpts::timeout` per try over `attempts + 1` tries (5 s × 3 by
//!   default), so a query a race abandoned holds its thread and its UDP socket no longer
//!   than that.
//! - hickory's background tasks (one per name server connection: see
//!   `eyeballs_async_std::hickory`) run on one process-wide thread, `eyeballs-hickory`,
//!   shared with eyeballs-async-std, started by the first resolver made;
//!   [`background_tasks`] counts them. They end when the resolver and its clones are
//!   dropped and their last request is done.
//! - async-io's reactor is driven by a waiting query thread, or by async-io's own `async-io`
//!   thread.

use std::io;
use std::net::{IpAddr, SocketAddr};

use eyeballs_core::{QueryKind, ServiceRecord};

use crate::resolve::Resolve;

pub use eyeballs_async_std::hickory::{background_tasks, AsyncIoResolver, AsyncIoRuntimeProvider};

/// Resolves with hickory-resolver, blocking: AAAA and A as separate queries (so the race's
/// Resolution Delay, RFC 8305 §3, applies), and HTTPS records (RFC 9460) decoded into the
/// core's service records. Happy Eyeballs v3 needs a resolver like this one: `getaddrinfo`
/// cannot return HTTPS records.
///
/// An empty answer (NOERROR, no data) is an empty list, not an error. Errors are sentences
/// that name the host: `"nosuch.test: no such name (NXDOMAIN)"` (kind `NotFound`),
/// `"...: the DNS server failed (SERVFAIL)"`, `"...: no answer from the DNS server (timed
/// out)"` (kind `TimedOut`). The threads it uses are listed in the [module docs](self).
///
/// # Examples
///
/// ```no_run
/// use eyeballs_blocking::{Connector, HickoryResolver};
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
#[derive(Clone, Debug)]
pub struct HickoryResolver {
    inner: eyeballs_async_std::HickoryResolver,
}

impl HickoryResolver {
    /// Uses the system's DNS configuration (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read, or the `eyeballs-hickory` thread
    /// cannot be started.
    pub fn from_system_conf() -> io::Result<Self> {
        let inner = eyeballs_async_std::HickoryResolver::from_system_conf()?;
        Ok(HickoryResolver { inner })
    }

    /// Asks these name servers (UDP, then TCP, on their ports), with hickory's defaults.
    ///
    /// # Errors
    ///
    /// When hickory cannot build the resolver, or the `eyeballs-hickory` thread cannot be
    /// started.
    pub fn with_name_servers(servers: &[SocketAddr]) -> io::Result<Self> {
        let inner = eyeballs_async_std::HickoryResolver::with_name_servers(servers)?;
        Ok(HickoryResolver { inner })
    }

    /// Wraps a resolver you built yourself (with [`AsyncIoRuntimeProvider::new`]).
    pub fn from_resolver(resolver: AsyncIoResolver) -> Self {
        HickoryResolver {
            inner: eyeballs_async_std::HickoryResolver::from_resolver(resolver),
        }
    }
}

impl Resolve for HickoryResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
        async_io::block_on(eyeballs_net::Resolve::resolve(&self.inner, name, kind))
    }

    fn resolve_https(&self, name: &str) -> io::Result<Vec<ServiceRecord>> {
        async_io::block_on(eyeballs_net::Resolve::resolve_https(&self.inner, name))
    }

    fn answers_https(&self) -> bool {
        true
    }
}
