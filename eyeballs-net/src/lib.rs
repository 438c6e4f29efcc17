//! Plumbing shared by the eyeballs drivers (`eyeballs-tokio`, `eyeballs-async-std`,
//! `eyeballs-blocking`), so that they stay thin and alike.
//!
//! No runtime and no racing logic here (that is `eyeballs-core`'s): only what every driver
//! does the same way around the core's loop.
//!
//! - [`SocketOptions`]: how every attempt's socket is opened (socket2), non-blocking.
//! - [`start`] and [`finish`]: building a race from a `host:port` (IP literals and zones
//!   included, with the history's snapshot), and ending it (history, report, `io::Error`).
//! - [`run_async`] and [`AsyncIo`]: the driver loop of the async drivers, written once;
//!   a runtime gives it a clock, a timer and a way to connect a socket. A wake-up polls only
//!   the lookups and attempts that were woken (each has its own waker), so its cost does not
//!   grow with the attempts in flight, and a cancel is `O(log n)`.
//! - [`Connector`] over a [`Runtime`]: the connector of the async drivers, written once.
//! - [`Builder`] and [`Settings`]: the one connector builder of every driver.
//! - [`SharedHistory`]: one connector's history, shared by its clones.
//! - [`Resolve`] and [`StaticResolver`]: the resolver trait of the async drivers and a map.
//! - `hickory` (feature `hickory`): hickory-resolver's answers in eyeballs' terms, on any
//!   runtime provider: AAAA and A apart, HTTPS records as service records, errors as
//!   sentences. The drivers' `HickoryResolver`s are this, on their runtime.
//! - [`pool`]: the one process-wide pool of threads for blocking lookups (`getaddrinfo`,
//!   a blocking driver's resolver) that every driver uses: at most [`pool::THREADS`]
//!   threads and [`pool::QUEUED`] queued lookups, identical lookups in flight coalesced,
//!   fail-fast (`WouldBlock`) when full, a dropped or timed-out connect's waiters withdrawn,
//!   idle threads gone after [`pool::IDLE`]. A hung `getaddrinfo` holds one pool thread,
//!   not a thread per connect.
//! - [`AttemptError`]: why one attempt failed, naming its endpoint (port 0, and with `tls`
//!   a certificate, ALPN, ECH or QUIC failure).
//! - [`Tls`] (feature `tls`): TLS-aware racing (HEv3 §6.1), and with `quic` QUIC racing over
//!   quinn, written once over a driver's [`TlsStack`]. `eyeballs-tokio` and
//!   `eyeballs-async-std` name it `Tls` and return its [`Connection`].

mod attempt_error;
mod builder;
mod connector;
mod drive;
mod handshake;
#[cfg(feature = "hickory")]
pub mod hickory;
mod history;
pub mod pool;
#[cfg(feature = "quic")]
mod quic;
mod race;
mod ready;
mod resolve;
mod socket;
mod source;
#[cfg(feature = "tls")]
mod tls;

pub use attempt_error::{AttemptError, AttemptErrorKind};
pub use builder::{BuildError, Builder, ResolverObject, Settings};
pub use connector::{Connector, Runtime, Stream};
pub use drive::{run_async, AsyncIo, Connecting};
pub use handshake::{AttemptContext, Handshake, Next, PlainTcp, Step};
pub use history::SharedHistory;
/// The quinn this crate's `quic` feature is built on (feature `quic`).
#[cfg(feature = "quic")]
pub use quinn;
pub use race::{finish, start};
pub use resolve::{
    discover_nat64, localhost_answer, system_lookup, system_lookup_error, v6_only, Resolve,
    Resolving, ResolvingServices, StaticResolver,
};
/// The rustls this crate's `tls` feature is built on (feature `tls`).
#[cfg(feature = "tls")]
pub use rustls;
pub use socket::{
    zone_index, SocketHook, SocketOptionError, SocketOptions, MAX_KEEPALIVE_IDLE,
    MIN_KEEPALIVE_IDLE,
};
pub use source::{probe_sources, probe_sources_with, SOURCE_CACHE_CAPACITY, SOURCE_CACHE_TTL};
#[cfg(feature = "ech")]
pub use tls::ech_hook;
#[cfg(feature = "tls")]
pub use tls::{
    split_alpn, Connection, EchHook, Established, Tls, TlsBuilder, TlsConfigError, TlsStack,
};
