//! Happy Eyeballs (RFC 8305) for plain `std::net` users, with no async runtime.
//!
//! [`connect`] is a drop-in for [`std::net::TcpStream::connect`] that gets the fastest
//! working connection out of a host name, and [`connect_timeout`] one for
//! `TcpStream::connect_timeout` that takes a host name.
//!
//! ```no_run
//! let stream = eyeballs_blocking::connect("localhost:8080")?; // a std::net::TcpStream
//! # let _ = stream;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How it runs
//!
//! One thread — the caller's — drives the whole race: every attempt is a non-blocking socket
//! registered with one readiness poller (mio: epoll, kqueue, ...), not a thread per attempt.
//! An attempt is connected when its socket is writable, `SO_ERROR` is zero and it has a
//! peer — not when it is readable. The winner is returned in blocking mode; the losers are
//! closed before `connect` returns.
//!
//! DNS runs on one short-lived thread per query, which wakes the poller when it answers
//! (RFC 8305 §3, R3, allows exactly this emulation of asynchronous DNS). The
//! [`SystemResolver`] asks `getaddrinfo` through std, which answers both families in one
//! call; a [`Resolve`] that answers AAAA and A separately gets two threads, and the
//! Resolution Delay applies. A lookup cannot be cancelled: when a race ends first, its thread
//! finishes on its own and the answer is dropped.
//!
//! The decisions are all [`eyeballs_core`]'s; this crate only opens sockets, waits and
//! resolves.

mod connector;
mod driver;
mod resolve;

pub use connector::{Connector, ConnectorBuilder};
pub use resolve::{discover_nat64, Resolve, SystemResolver};

pub use eyeballs_core::{Config, FamilyPolicy, Report};
pub use eyeballs_net::{Builder, SocketHook, SocketOptions, StaticResolver};

use std::io;
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use eyeballs_core::ToHostPort;

fn default_connector() -> &'static Connector {
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    DEFAULT.get_or_init(Connector::default)
}

/// Connects to `target` with Happy Eyeballs and RFC 8305's defaults, through one
/// process-wide [`Connector`] (system resolver, history on).
///
/// # Errors
///
/// As [`Connector::connect`].
pub fn connect<T: ToHostPort>(target: T) -> io::Result<TcpStream> {
    default_connector().connect(target)
}

/// Connects like [`connect`], giving up after `timeout`.
///
/// # Errors
///
/// As [`Connector::connect_timeout`].
pub fn connect_timeout<T: ToHostPort>(target: T, timeout: Duration) -> io::Result<TcpStream> {
    default_connector().connect_timeout(target, timeout)
}
