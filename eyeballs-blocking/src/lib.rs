//! Happy Eyeballs (RFC 8305) for plain `std::net` users, with no async runtime.
//!
//! [`connect`] is a drop-in for [`std::net::TcpStream::connect`] that gets the fastest
//! working connection out of a host name, and [`connect_timeout`] one for
//! `TcpStream::connect_timeout` that takes a host name. Both take what std's
//! `ToSocketAddrs` takes (`"host:port"`, `("host", port)`, `(Ipv4Addr, port)`, a
//! `SocketAddrV6`, `&[SocketAddr]`, ...: see [`ToHostPort`]); a list of addresses
//! races without DNS, ordered the RFC 8305 way (IPv6 first, families interleaved).
//!
//! ```
//! use std::time::Duration;
//!
//! # let listener = std::net::TcpListener::bind("[::1]:0")?;
//! # let port = listener.local_addr()?.port();
//! let stream = eyeballs_blocking::connect(format!("[::1]:{port}"))?; // a std::net::TcpStream
//! let stream = eyeballs_blocking::connect_timeout(("::1", port), Duration::from_secs(5))?;
//! # let _ = stream;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A [`Connector`] holds the settings ([`Config`]: the delays, the deadline, the family
//! policy), the [`SocketOptions`], the resolver and the history;
//! [`Connector::connect_with_report`] returns the race's [`Report`], which shows which
//! address won and why the others failed. A failed connect is an `io::Error` whose inner
//! error is the [`Failure`]. This crate re-exports every type its API uses, so one
//! dependency is enough.
//!
//! # How it runs
//!
//! One thread — the caller's — drives the whole race: every attempt is a non-blocking socket
//! registered with one readiness poller (mio: epoll, kqueue, ...), not a thread per attempt.
//! An attempt is connected when its socket is writable, `SO_ERROR` is zero and it has a
//! peer — not when it is readable. The winner is returned in blocking mode; the losers are
//! closed before `connect` returns.
//!
//! DNS runs on one process-wide pool of at most 8 resolver threads, which wake the poller
//! when they answer (RFC 8305 §3, R3, allows exactly this emulation of asynchronous DNS).
//! It is eyeballs-net's `pool`, the same one the async drivers' system resolvers use, so a
//! process with several drivers still has one pool.
//! The [`SystemResolver`] asks `getaddrinfo` through std, which answers both families in one
//! call; a [`Resolve`] that answers AAAA and A separately gets two lookups, and the
//! Resolution Delay applies.
//!
//! A blocking lookup cannot be cancelled, so the pool bounds what a slow or hung resolver
//! can hold:
//!
//! - Identical lookups in flight (the same resolver, name and query kind) are one call,
//!   whose answer goes to every race that asked.
//! - A lookup runs on one of at most 8 threads; up to 64 more wait in a queue. When every
//!   thread is busy and the queue is full, a new lookup fails at once (`WouldBlock`), and
//!   the race treats it as a failed query: a hung resolver makes races fail fast instead of
//!   piling up threads or waiting without bound.
//! - A race that ends (won, failed, timed out) withdraws from its lookups: a queued lookup
//!   nobody waits for is dropped, a running one finishes on its thread and its answer is
//!   dropped. A hung lookup holds at most one thread.
//! - A thread with nothing to do for a second exits.
//!
//! Each thread that has raced keeps its poller (on Linux an epoll and an eventfd descriptor)
//! for its next race, until it exits.
//!
//! With feature `hickory`, `HickoryResolver` asks AAAA and A apart through hickory-resolver
//! (eyeballs-async-std's, on async-io, waited for on each query's thread), and answers HTTPS
//! queries with records decoded into [`ServiceRecord`]s: Happy Eyeballs v3 needs it, since
//! `getaddrinfo` cannot return HTTPS records. Its background tasks run on one process-wide
//! thread, `eyeballs-hickory`; the `hickory` module lists every thread and its bounds.
//!
//! The decisions are all [`eyeballs_core`]'s; this crate only opens sockets, waits and
//! resolves.

mod connector;
mod driver;
#[cfg(feature = "hickory")]
pub mod hickory;
mod resolve;

pub use connector::{Connector, ConnectorBuilder};
#[cfg(feature = "hickory")]
pub use hickory::HickoryResolver;
pub use resolve::{discover_nat64, CombinedSystemResolver, Resolve, SystemResolver};

// What the API uses, so that one dependency is enough.
pub use eyeballs_core::{
    Alpn, AttemptId, AttemptReport, AttemptStatus, Config, ConfigError, EchConfig, Endpoint,
    FailedAttempt, FailedQuery, Failure, FailureReason, FamilyPolicy, History, Host, HostError,
    HostPort, Name, Nat64Error, Nat64Prefix, Path, Protocols, Provenance, QueryId, QueryKind,
    QueryReport, Report, ServiceRecord, Source, ToHostPort, Transport, Winner, ATTEMPT_START_FLOOR,
    CONNECTION_ATTEMPT_DELAY, HISTORY_CAPACITY, HISTORY_TTL, MAX_CONNECTION_ATTEMPT_DELAY,
    MIN_CONNECTION_ATTEMPT_DELAY, RESOLUTION_DELAY,
};
#[doc(inline)]
pub use eyeballs_net::{
    BuildError, Builder, SocketHook, SocketOptionError, SocketOptions, StaticResolver,
    MAX_KEEPALIVE_IDLE, MIN_KEEPALIVE_IDLE,
};

use std::io;
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

fn default_connector() -> &'static Connector {
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    DEFAULT.get_or_init(Connector::default)
}

/// Connects to `target` with Happy Eyeballs and RFC 8305's defaults, through one
/// process-wide [`Connector`] (system resolver, history on).
///
/// It takes what [`std::net::TcpStream::connect`] takes (see [`ToHostPort`]).
///
/// # Errors
///
/// As [`Connector::connect`].
pub fn connect<T: ToHostPort>(target: T) -> io::Result<TcpStream> {
    default_connector().connect(target)
}

/// Connects like [`connect`], giving up after `timeout` (DNS included), like
/// [`std::net::TcpStream::connect_timeout`], but with a host name or several addresses.
///
/// # Errors
///
/// As [`Connector::connect_timeout`].
pub fn connect_timeout<T: ToHostPort>(target: T, timeout: Duration) -> io::Result<TcpStream> {
    default_connector().connect_timeout(target, timeout)
}
