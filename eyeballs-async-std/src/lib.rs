//! Happy Eyeballs (RFC 8305) for async-std and smol.
//!
//! async-std is deprecated upstream in favour of smol; both run on the same reactor,
//! async-io. This crate is built on async-io and async-net, so it serves async-std and smol
//! users alike (and any executor, since async-io drives its own reactor when nothing else
//! does). It returns an [`async_net::TcpStream`].
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `hickory` | `HickoryResolver` on async-io (no tokio): AAAA and A as two queries, and HTTPS records (Happy Eyeballs v3, and QUIC) |
//! | `tls` | `Connector::connect_tls`: TCP+TLS races (futures-rustls), `Tls` |
//! | `quic` | QUIC endpoints (quinn on async-io, one process-wide thread) race beside TCP+TLS; brings `ring` |
//! | `ring` | rustls' ring provider: `crypto_provider()`, used by the one-call constructors |
//! | `aws-lc-rs` | rustls' aws-lc-rs provider (preferred over ring when both are on) |
//! | `platform-verifier` | trust what the platform trusts: `Tls::platform`, `platform_client_config` (needs `ring` or `aws-lc-rs`) |
//! | `ech` | Encrypted ClientHello (`ech_hook`, on aws-lc-rs) |
//! | `serde` | `Report`, `Winner`, `Failure` and their records serialize (times in milliseconds) |
//!
//! # What QUIC needs
//!
//! A connect races QUIC for an endpoint only when the host's HTTPS record (RFC 9460) offers a
//! QUIC id (`h3`) for it. So QUIC takes all four of: feature `quic`; the hickory resolver
//! (`HickoryResolver`, feature `hickory`: the default system resolver, `getaddrinfo`, cannot
//! ask for HTTPS records); a `Tls` whose ALPN ids include `h3`; and a host that publishes an
//! HTTPS record with `alpn=h3`. Missing any one, `connect_tls` races TCP+TLS alone, which is
//! the right thing, not an error.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # smol::block_on(async {
//! # let listener = async_net::TcpListener::bind("[::1]:0").await?;
//! # let port = listener.local_addr()?.port();
//! // "host:443", ("host", 443), a SocketAddr, &[SocketAddr], ...: what async-net's connect takes.
//! let stream = eyeballs_async_std::connect(format!("[::1]:{port}")).await?; // an async_net::TcpStream
//! # let _ = stream;
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! [`connect_timeout`] gives up after a deadline. The [`Connector`] is the same as
//! `eyeballs-tokio`'s: a [`Config`] (the delays, the deadline, the family policy),
//! [`SocketOptions`], a resolver ([`SystemResolver`], [`StaticResolver`] or your own
//! [`Resolve`]), a history, and [`Connector::connect_with_report`], whose [`Report`] shows
//! which address won and why the others failed (see the [`Connector`] example). A failed
//! connect is an `io::Error` whose inner error is the [`Failure`]. Losing attempts close when
//! the race is decided, and dropping a connect mid-race closes everything it opened. This
//! crate re-exports every type its API uses, so one dependency is enough.
//!
//! # TLS (Happy Eyeballs v3)
//!
//! With the feature `tls`, [`Connector::connect_tls`] races TCP+TLS with futures-rustls: an
//! attempt counts once its TLS handshake is done (HEv3 §6.1), each endpoint offers every TCP
//! ALPN id of the caller's rustls config, the server name is the host asked for, and the
//! race asks for HTTPS records when the resolver answers them. An attempt whose TCP is up
//! and TLS under way pushes the next start back (V33). Bad input (an empty or malformed ALPN
//! list, a certificate that does not verify, no ALPN in common, ECH, port 0) is a typed
//! error naming the endpoint, as on tokio (`AttemptError`, `TlsConfigError`). ECH: as on
//! tokio, `TlsBuilder::ech`, or `ech_hook` with the feature `ech`.
//!
//! # QUIC
//!
//! With the feature `quic`, the config's `h3` ids race over QUIC (quinn) beside TCP+TLS, as
//! on tokio: the result is a `Connection`, a TLS stream or a `quinn::Connection`. quinn
//! runs on async-io without smol's or async-std's executor and without a tokio runtime
//! (quinn depends on tokio's `sync` module only): its tasks (per connection, its driver and
//! its endpoint's) run on one process-wide thread, `eyeballs-quic`, started by the first
//! QUIC attempt (`quic_background_tasks` counts them); a connection's streams run
//! wherever they are polled. Each QUIC attempt has a UDP socket of its own, connected to
//! its destination: a port that refuses fails the attempt at once (`ConnectionRefused`),
//! and a losing or dropped attempt sends its CONNECTION_CLOSE and releases its socket and
//! tasks at once. Without `quic`, `h3` ids are not offered, and a config with only QUIC ids
//! is refused (`TlsConfigError::NoAlpn`).
//!
//! # The system resolver's threads
//!
//! [`SystemResolver`] and [`CombinedSystemResolver`] run `getaddrinfo` on the process's
//! resolver pool (shared by every eyeballs driver; [`on_pool`] puts a blocking lookup of
//! yours there), not on the `blocking` crate's pool, so that a hung system resolver cannot leave a thread behind per
//! abandoned connect: identical lookups in flight (the same name and family) are one call;
//! at most [`RESOLVER_THREADS`] (8) run at once, each on a pool thread, and up to
//! [`RESOLVER_QUEUE`] (64) more wait; when every thread
//! is busy and the queue is full, a new lookup fails at once (`WouldBlock`), a failed query
//! for the race. A dropped or timed-out connect withdraws from its lookups (a running one
//! holds its thread until `getaddrinfo` returns), and a pool thread idle for a second
//! exits.
//!
//! # Resolvers
//!
//! - [`SystemResolver`] (the default): `getaddrinfo` once per family, in parallel, on the
//!   process's resolver pool (see below). It cannot return HTTPS records.
//! - `HickoryResolver` (feature `hickory`): hickory-resolver on async-io (no tokio), under
//!   async-std, smol or any executor. AAAA and A are two queries, so RFC 8305 §3's
//!   Resolution Delay and late-answer merging apply, and HTTPS records (RFC 9460) are
//!   decoded into [`ServiceRecord`]s: Happy Eyeballs v3 needs it. hickory's background
//!   tasks run on one process-wide thread, `eyeballs-hickory`.
//! - [`StaticResolver`], or your own [`Resolve`].
//!
//! Every action and input is a `tracing` event at `DEBUG` with target `eyeballs`.
//!
//! The decisions are all [`eyeballs_core`]'s; the race runner, the dialers and the
//! resolvers are `eyeballs_net`'s, shared with every other driver. This crate only says how
//! async-io keeps time, arms a timer, connects a socket and runs TLS ([`AsyncIo`], an
//! `eyeballs_net::runtime::Runtime`, with TLS and QUIC).

mod runtime;

pub use runtime::AsyncIo;
#[cfg(feature = "tls")]
pub use runtime::TlsStream;

/// Connects with Happy Eyeballs on async-io (async-std, smol, any executor):
/// `eyeballs_net::Connector` on [`AsyncIo`]. Its connects return an
/// [`async_net::TcpStream`] (and, with `tls`, a [`Connection`]); see the
/// [crate docs](crate) for examples.
pub type Connector = eyeballs_net::Connector<AsyncIo>;

/// Builds a [`Connector`]: [`Config`], [`SocketOptions`], resolver (default
/// [`SystemResolver`]), history (default on), handshake timeout.
pub type ConnectorBuilder = eyeballs_net::ConnectorBuilder<AsyncIo>;

/// hickory-resolver on async-io (feature `hickory`; no tokio): AAAA and A as two queries,
/// and HTTPS records, so Happy Eyeballs v3 applies. hickory's background tasks (one per
/// name server connection) run on one process-wide thread, `eyeballs-hickory`
/// ([`hickory_background_tasks`] counts them); a lookup's own future and its UDP socket run
/// where the connect is polled.
///
/// # Examples
///
/// ```no_run
/// use eyeballs_async_std::{Connector, HickoryResolver};
///
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let connector = Connector::builder()
///     .resolver(HickoryResolver::from_system_conf()?)
///     .build()?;
/// # let _ = connector;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "hickory")]
pub type HickoryResolver = eyeballs_net::HickoryResolver<AsyncIo>;
#[cfg(feature = "hickory")]
pub use eyeballs_net::{hickory_background_tasks, AsyncIoRuntimeProvider};

/// What a won TLS or QUIC attempt gives on async-io (feature `tls`): a [`TlsStream`] or
/// (feature `quic`) a `quinn::Connection`, the endpoint and the ALPN id negotiated.
#[cfg(feature = "tls")]
pub type Connection = eyeballs_net::Connection<TlsStream>;

/// The connection of a [`Connection`] (feature `tls`).
#[cfg(feature = "tls")]
pub type Established = eyeballs_net::Established<TlsStream>;

pub use async_net::TcpStream;
/// The quinn the `quic` feature is built on (feature `quic`).
#[cfg(feature = "quic")]
pub use eyeballs_net::quinn;
#[cfg(feature = "quic")]
pub use eyeballs_net::{quic_background_tasks, AsyncIoQuinn};
// What the API uses, so that one dependency is enough.
#[doc(inline)]
pub use eyeballs_net::prelude::*;

use std::io;
use std::sync::OnceLock;
use std::time::Duration;

fn default_connector() -> &'static Connector {
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    DEFAULT.get_or_init(Connector::default)
}

/// Connects to `target` with Happy Eyeballs and RFC 8305's defaults, through one
/// process-wide [`Connector`] (system resolver, history on).
///
/// It takes what [`async_net::TcpStream::connect`] takes (see [`ToHostPort`]).
///
/// `localhost` and names under `.localhost` are answered at once, without DNS, with `::1`
/// and `127.0.0.1` (RFC 6761 §6.3), and raced like any answer: `::1` first, `127.0.0.1`
/// when it is refused or slow. The process-wide connector keeps one history for the whole
/// process (RFC 8305 §4): a later connect to the same destination starts with what worked
/// (after a broken IPv6 path, IPv4 first). For a history of your own, or none
/// (`ConnectorBuilder::history(false)`), keep a [`Connector`] of your own.
///
/// # Errors
///
/// As [`Connector::connect`].
pub async fn connect<T: ToHostPort>(target: T) -> io::Result<TcpStream> {
    default_connector().connect(target).await
}

/// Connects like [`connect`], giving up after `timeout` (DNS included).
///
/// # Errors
///
/// As [`Connector::connect_timeout`].
pub async fn connect_timeout<T: ToHostPort>(target: T, timeout: Duration) -> io::Result<TcpStream> {
    default_connector().connect_timeout(target, timeout).await
}
