//! hickory-resolver as a [`Resolve`] on tokio: AAAA and A as two concurrent queries, and
//! HTTPS records (feature `hickory`).

use std::io;
use std::net::SocketAddr;

use eyeballs_core::QueryKind;
use eyeballs_net::hickory::Hickory;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;

use eyeballs_net::{Resolve, Resolving, ResolvingServices};

/// Resolves with hickory-resolver, asking AAAA and A separately and concurrently, so the
/// race's Resolution Delay (RFC 8305 §3, R5) and late-answer merging (R8) apply for real.
/// It also answers HTTPS queries (RFC 9460), decoded into the core's service records (alpn,
/// no-default-alpn, port, ipv4hint, ipv6hint, ech, mandatory): Happy Eyeballs v3 needs a
/// resolver like this one, since `getaddrinfo` cannot return HTTPS records.
///
/// An empty answer (NOERROR, no data) is an empty list, not an error, as R7 needs. Errors are
/// sentences that name the host: `"nosuch.test: no such name (NXDOMAIN)"` (kind
/// `NotFound`), `"...: the DNS server failed (SERVFAIL)"`, `"...: no answer from the DNS
/// server (timed out)"` (kind `TimedOut`).
///
/// hickory's background work (one task per name server connection) runs on the tokio
/// runtime the lookups run on.
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
#[derive(Clone, Debug)]
pub struct HickoryResolver {
    inner: Hickory<TokioRuntimeProvider>,
}

impl HickoryResolver {
    /// Uses the system's DNS configuration (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read.
    pub fn from_system_conf() -> io::Result<Self> {
        let inner = Hickory::from_system_conf(TokioRuntimeProvider::default())?;
        Ok(HickoryResolver { inner })
    }

    /// Asks these name servers (UDP, then TCP, on their ports), with hickory's defaults.
    ///
    /// # Errors
    ///
    /// When hickory cannot build the resolver.
    pub fn with_name_servers(servers: &[SocketAddr]) -> io::Result<Self> {
        let inner = Hickory::with_name_servers(servers, TokioRuntimeProvider::default())?;
        Ok(HickoryResolver { inner })
    }

    /// Wraps a resolver you built yourself.
    pub fn from_resolver(resolver: TokioResolver) -> Self {
        HickoryResolver {
            inner: Hickory::new(resolver),
        }
    }
}

impl Resolve for HickoryResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        self.inner.resolve(name, kind)
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        self.inner.resolve_https(name)
    }

    fn answers_https(&self) -> bool {
        self.inner.answers_https()
    }
}
