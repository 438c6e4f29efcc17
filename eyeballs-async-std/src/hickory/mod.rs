//! hickory-resolver on async-io (feature `hickory`): [`HickoryResolver`], and the runtime
//! provider it runs on, [`AsyncIoRuntimeProvider`].
//!
//! # Threads, tasks and sockets
//!
//! - One thread per process, `eyeballs-hickory`, started by the first resolver made, runs
//!   hickory's background tasks (an async-executor). It is idle when nothing is asked and
//!   lives as long as the process.
//! - hickory spawns one background task per name server connection. A resolver keeps one
//!   connection per name server and protocol (UDP; TCP after a truncated answer), opened
//!   by the first query; queries that start while a connection is still being opened (a
//!   TCP handshake) open one each, and a failed connection is replaced. The tasks end when
//!   the resolver and its clones are dropped and their last request is answered or timed
//!   out (hickory's `ResolverOpts::timeout`, 5 s by default, per try). [`background_tasks`]
//!   counts them; a test holds a resolver's count at one over many AAAA/A pairs.
//! - A lookup's own future (and its UDP socket: one per query) runs where it is polled, on
//!   the caller's executor; dropping it closes the socket at once.
//! - Sockets and timers are async-io's, whose reactor async-std and smol share.

mod runtime;

use std::io;
use std::net::SocketAddr;

use eyeballs_core::QueryKind;
use eyeballs_net::hickory::Hickory;
use eyeballs_net::{Resolve, Resolving, ResolvingServices};

pub use runtime::{
    background_tasks, AsyncIoHandle, AsyncIoRuntimeProvider, AsyncIoTcpStream, AsyncIoTime,
    AsyncIoUdpSocket,
};

/// A hickory resolver on async-io: what [`HickoryResolver::from_resolver`] takes.
pub type AsyncIoResolver = hickory_resolver::Resolver<AsyncIoRuntimeProvider>;

/// Resolves with hickory-resolver on async-io (async-std, smol, or any executor), asking
/// AAAA and A separately and concurrently, so the race's Resolution Delay (RFC 8305 §3, R5)
/// and late-answer merging (R8) apply for real. It also answers HTTPS queries (RFC 9460),
/// decoded into the core's service records (alpn, no-default-alpn, port, ipv4hint,
/// ipv6hint, ech, mandatory): Happy Eyeballs v3 needs a resolver like this one, since
/// `getaddrinfo` cannot return HTTPS records.
///
/// An empty answer (NOERROR, no data) is an empty list, not an error. Errors are sentences
/// that name the host: `"nosuch.test: no such name (NXDOMAIN)"` (kind `NotFound`),
/// `"...: the DNS server failed (SERVFAIL)"`, `"...: no answer from the DNS server (timed
/// out)"` (kind `TimedOut`). The threads and tasks it uses are listed in the
/// [module docs](self).
///
/// # Examples
///
/// ```no_run
/// use eyeballs_async_std::{Connector, HickoryResolver};
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
    inner: Hickory<AsyncIoRuntimeProvider>,
}

impl HickoryResolver {
    /// Uses the system's DNS configuration (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read, or the `eyeballs-hickory` thread
    /// cannot be started.
    pub fn from_system_conf() -> io::Result<Self> {
        let inner = Hickory::from_system_conf(AsyncIoRuntimeProvider::new()?)?;
        Ok(HickoryResolver { inner })
    }

    /// Asks these name servers (UDP, then TCP, on their ports), with hickory's defaults.
    ///
    /// # Errors
    ///
    /// When hickory cannot build the resolver, or the `eyeballs-hickory` thread cannot be
    /// started.
    pub fn with_name_servers(servers: &[SocketAddr]) -> io::Result<Self> {
        let inner = Hickory::with_name_servers(servers, AsyncIoRuntimeProvider::new()?)?;
        Ok(HickoryResolver { inner })
    }

    /// Wraps a resolver you built yourself (with [`AsyncIoRuntimeProvider::new`]).
    pub fn from_resolver(resolver: AsyncIoResolver) -> Self {
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
