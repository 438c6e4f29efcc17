//! Happy Eyeballs (RFC 8305) connections for tokio.
//!
//! [`connect`] is a drop-in for [`tokio::net::TcpStream::connect`] that gets the fastest
//! working connection out of a host name: it asks for AAAA and A, orders the addresses
//! (RFC 6724, families interleaved), starts one attempt, another every 250 ms (or at once
//! when one fails), keeps the first that connects and closes the rest. It takes everything
//! tokio's `connect` takes (`"host:port"`, `("host", port)`, `(Ipv4Addr, port)`, a
//! `SocketAddrV6`, `&[SocketAddr]`, ...: see [`ToHostPort`]); a list of addresses
//! races without DNS, ordered the RFC 8305 way (IPv6 first, families interleaved).
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `hickory` | `HickoryResolver`: AAAA and A as two queries, and HTTPS records (services, ports, ALPN, hints, ECH: Happy Eyeballs v3, and QUIC) |
//! | `hyper` | `HttpConnector`, the connector of hyper-util's legacy `Client` (and of tonic's `Endpoint::connect_with_connector`) |
//! | `tls` | `Connector::connect_tls`: TCP+TLS races (tokio-rustls), `Tls`; with `hyper`, `HttpsConnector` |
//! | `quic` | QUIC endpoints (quinn) race beside TCP+TLS; brings `ring` |
//! | `ring` | rustls' ring provider: `crypto_provider()`, used by the one-call constructors |
//! | `aws-lc-rs` | rustls' aws-lc-rs provider (preferred over ring when both are on) |
//! | `platform-verifier` | trust what the platform trusts: `Tls::platform`, `platform_client_config`, `HttpsConnector::platform` (needs `ring` or `aws-lc-rs`) |
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
//! # HTTPS in a few lines
//!
//! ```toml
//! eyeballs-tokio = { version = "0.2", features = ["hyper", "tls", "ring", "platform-verifier", "hickory"] }
//! ```
//!
//! ```no_run
//! # #[cfg(all(feature = "hyper", feature = "platform-verifier"))]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use bytes::Bytes;
//! use http_body_util::Empty;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//!
//! // The platform's roots, ring, the hickory resolver (HTTPS records), h2 and HTTP/1.1.
//! let https = eyeballs_tokio::HttpsConnector::platform(&["h2", "http/1.1"])?;
//! let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
//! let response = client.get("https://example.test/".parse()?).await?;
//! # let _ = response;
//! # Ok(())
//! # }
//! ```
//!
//! One dependency is enough: this crate re-exports every type its API uses (the
//! configuration, the failure, the report, the history, the target conversions).
//!
//! # Connect
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! # let listener = tokio::net::TcpListener::bind("[::1]:0").await?;
//! # let port = listener.local_addr()?.port();
//! // "host:443", ("host", 443), a SocketAddr, ...: what tokio's connect takes.
//! let stream = eyeballs_tokio::connect(format!("[::1]:{port}")).await?; // a tokio::net::TcpStream
//! # let _ = stream;
//! # Ok(())
//! # }
//! ```
//!
//! # Set the delays and a timeout
//!
//! A [`Connector`] holds the settings (every RFC 8305 knob is a [`Config`] setter, whose
//! default is the RFC's value), the socket options, the resolver and the history. Keep one
//! and clone it; clones share the history. For one deadline on one connect,
//! [`connect_timeout`] (or [`Connector::connect_timeout`]) is enough.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_tokio::{Config, Connector, SocketOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let port = listener.local_addr()?.port();
//! let connector = Connector::builder()
//!     .config(
//!         Config::default()
//!             .connection_attempt_delay(Duration::from_millis(300)) // RFC 8305 §5: 250 ms
//!             .resolution_delay(Duration::from_millis(50))          // RFC 8305 §3: 50 ms
//!             .timeout(Some(Duration::from_secs(10))),              // no deadline by default
//!     )
//!     .socket(SocketOptions::new().nodelay(true))
//!     .build()?; // a BuildError names a setting that cannot work
//! let stream = connector.connect(("127.0.0.1", port)).await?;
//!
//! let once = eyeballs_tokio::connect_timeout(("127.0.0.1", port), Duration::from_secs(2)).await?;
//! # let _ = (stream, once);
//! # Ok(())
//! # }
//! ```
//!
//! # See which address won, and why the others failed
//!
//! [`Connector::connect_with_report`] returns the race's [`Report`]: each DNS answer, each
//! attempt with its times and outcome, the winner. A failed connect is an `io::Error` whose
//! inner error is the [`Failure`], with every attempt's address and error:
//!
//! ```
//! use std::net::SocketAddr;
//! use eyeballs_tokio::{Connector, Failure, FailureReason};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let open = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let refused = std::net::TcpListener::bind("127.0.0.2:0")?.local_addr()?; // closed again
//! let addrs: [SocketAddr; 2] = [refused, open.local_addr()?];
//!
//! let (stream, report) = Connector::default().connect_with_report(&addrs[..]).await;
//! let report = report.expect("the race started");
//! assert_eq!(report.winner(), Some(open.local_addr()?));
//! println!("{report}"); // attempt 0 to `refused` failed, attempt 1 connected (winner)
//! # let _ = stream?;
//!
//! let err = eyeballs_tokio::connect(refused).await.unwrap_err();
//! if let Some(failure) = err.get_ref().and_then(|e| e.downcast_ref::<Failure<std::io::Error>>()) {
//!     assert_eq!(failure.reason(), FailureReason::AllAttemptsFailed);
//!     for attempt in failure.attempts() {
//!         println!("{}: {:?}", attempt.endpoint, attempt.error); // ...: Some(... refused ...)
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Use it with hyper-util
//!
//! With the feature `hyper`, an [`HttpConnector`] (a [`Connector`] inside) is a
//! `tower_service::Service<http::Uri>`, the connector of hyper-util's legacy `Client`
//! (wrap it for TLS as you would hyper-util's own `HttpConnector`, or use
//! `HttpsConnector`, below):
//!
//! ```
//! # #[cfg(feature = "hyper")]
//! # fn demo() {
//! use bytes::Bytes;
//! use http_body_util::Empty;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//!
//! let client: Client<_, Empty<Bytes>> =
//!     Client::builder(TokioExecutor::new()).build(eyeballs_tokio::HttpConnector::default());
//! # let _ = client;
//! # }
//! ```
//!
//! # TLS and QUIC: Happy Eyeballs v3 on the wire
//!
//! With the feature `tls`, [`Connector::connect_tls`] races TCP+TLS (tokio-rustls): an
//! attempt counts once its TLS handshake is done (HEv3 §6.1), each endpoint offers every ALPN
//! id of the caller's rustls config for its transport, the server name is the host asked for,
//! and the race asks for HTTPS records when the resolver answers them (the endpoints of a
//! record, its port and its ALPN ids are then raced before the plain addresses). With the
//! feature `quic`, the config's `h3` ids race over QUIC (quinn) beside TCP+TLS: the result is
//! a [`Connection`], a TLS stream or a `quinn::Connection`, with the endpoint and the ALPN id
//! negotiated.
//!
//! ```
//! # #[cfg(not(feature = "tls"))]
//! # fn main() {}
//! # #[cfg(feature = "tls")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use eyeballs_tokio::{Connector, Established, StaticResolver, Tls};
//! # use eyeballs_lab::tls::{TestCa, TlsServe, TlsServer};
//! # let ca = TestCa::new();
//! # let server = TlsServer::bind("[::1]:0".parse()?, ca.server_config(&["www.example.test"], &["h2"]), TlsServe::Echo)?;
//! # let (port, resolver) = (server.addr().port(), StaticResolver::new().host("www.example.test", [server.addr().ip()]));
//! # let mut config = ca.client_config(&[]);
//!
//! // Any rustls ClientConfig (its crypto provider, its roots); ALPN ids say what to race.
//! // With features `platform-verifier` and `ring`: Tls::platform(&["h3", "h2", "http/1.1"]).
//! config.alpn_protocols = vec![b"h3".to_vec(), b"h2".to_vec(), b"http/1.1".to_vec()];
//! let tls = Tls::new(Arc::new(config))?; // keep it: its configs are made once
//! let connector = Connector::builder().resolver(resolver).build()?;
//! let connection = connector.connect_tls(("www.example.test", port), &tls).await?;
//! println!("{} won, ALPN {:?}", connection.endpoint(), connection.alpn());
//! match connection.into_parts().0 {
//!     Established::Tls(stream) => {
//!         // a tokio_rustls::client::TlsStream<TcpStream>
//! #       let _ = stream;
//!     }
//! #   #[cfg(feature = "quic")]
//!     Established::Quic(connection) => {
//!         // a quinn::Connection (feature `quic`)
//! #       let _ = connection;
//!     }
//!     _ => {}
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - **Timer**: an attempt whose TCP is up and TLS under way is progress: the next attempt
//!   starts one Connection Attempt Delay after the TCP connect, not after the attempt started
//!   (V33: the loop reports the TCP connect, the core moves the timer).
//! - **Nothing hangs**: a TLS or QUIC handshake that has not finished within the
//!   connector's handshake timeout ([`HANDSHAKE_TIMEOUT`], 10 s, set with
//!   `ConnectorBuilder::handshake_timeout`) fails its attempt as
//!   [`AttemptErrorKind::Stalled`], naming the endpoint.
//! - **QUIC sockets**: each QUIC attempt has a UDP socket and a quinn endpoint of its own,
//!   the socket connected to its destination, so a port that refuses (an ICMP port
//!   unreachable) fails the attempt at once with `ConnectionRefused`, as a refused TCP
//!   connect does (HEv3, RFC 8305 §5). A losing, failed or dropped QUIC attempt sends its
//!   CONNECTION_CLOSE and frees its socket and its two tasks at once, not after quinn's
//!   draining period; the winner's live as long as its `quinn::Connection`. quinn's tasks
//!   run on the tokio runtime that polls the connect. [`SocketOptions`] apply to TCP only.
//! - **Bad input** gets a typed error naming the endpoint: an empty or malformed ALPN list is
//!   refused by [`Tls::new`] ([`TlsConfigError`]); a certificate that does not verify, no
//!   ALPN in common (over TLS or QUIC), an ECH failure and a target port of 0 fail their
//!   attempt with an [`AttemptError`] of that [`AttemptErrorKind`], inside the
//!   [`Failure`]. An HTTPS record whose port is 0 is unusable and never tried (the core,
//!   V12).
//! - **ECH**: with `Config::ech(true)`, endpoints of a record with an `ech` key carry its
//!   configuration; [`TlsBuilder::ech`] turns it into a rustls config, and with the feature
//!   `ech` (rustls' aws-lc-rs provider, which has HPKE) `ech_hook` does that. Without a hook
//!   such an attempt fails ([`AttemptErrorKind::Ech`]): never a cleartext ClientHello in its
//!   place, and the core tries no endpoint without ECH (the downgrade rule, V35).
//!
//! # HTTPS with hyper
//!
//! With the features `hyper` and `tls`, [`HttpsConnector`] is hyper-util's legacy `Client`
//! connector with a TLS-aware race: `https` URIs race TCP+TLS, the HTTPS records of the host
//! are used when the resolver answers them, and an ALPN of `h2` makes hyper speak HTTP/2.
//! hyper does not speak HTTP/3, so QUIC is not raced there. `HttpsConnector::platform`
//! (features `platform-verifier` and `ring` or `aws-lc-rs`) is the one-call form: the
//! platform's roots, and with `hickory` the hickory resolver, so that HTTPS records are
//! asked for. The alternative is hyper-rustls' `HttpsConnectorBuilder::wrap_connector`
//! around a plain [`Connector`]: TLS then starts after the race, which counts TCP only
//! (RFC 8305, not HEv3's §6.1).
//!
//! With `Config::protected_dns(true)` (a DNSSEC-validating resolver, or DNS over TLS, HTTPS
//! or QUIC; the connector cannot tell), a failed HTTPS query fails the request (HEv3 V36),
//! and `http` URIs go through [`Connector::connect_http`]: hyper gets no stream, so sends no
//! cleartext, before the HTTPS answer of the origin's `https` form, and a record there
//! makes the connection TLS (V37, RFC 9460 §9.5).
//!
//! # reqwest
//!
//! reqwest (0.13) cannot race through eyeballs today, for two precise reasons:
//!
//! - `ClientBuilder::connector_layer` takes a tower layer over reqwest's own connector,
//!   and the service it wraps must answer with `reqwest::connect::Conn`, a type reqwest
//!   keeps private: no crate outside reqwest can make one from another stream, so an
//!   eyeballs connection cannot be handed in.
//! - `ClientBuilder::dns_resolver` (its `Resolve` trait) and `ClientBuilder::resolve`
//!   hand reqwest addresses only. reqwest then connects to them itself: eyeballs' attempt
//!   delays, TLS-aware racing, HTTPS records, history and report do not apply.
//!
//! What a reqwest user can do now:
//!
//! - Use hyper-util's legacy `Client` (reqwest is built on it) with [`HttpsConnector`]
//!   (features `hyper`, `tls`; `HttpsConnector::platform` for the platform's roots) or
//!   [`HttpConnector`] (plain HTTP); tonic takes the latter with
//!   `Endpoint::connect_with_connector`.
//! - Keep reqwest and choose its address with eyeballs: race once with
//!   [`Connector::connect_with_report`], then pin the winner with
//!   `ClientBuilder::resolve(host, winner)`. The winning connection is dropped and
//!   reqwest opens its own to the same address, so this costs one extra TCP handshake and
//!   counts TCP only (no TLS-aware racing); refresh it when the network changes.
//!
//! # What a connect does with its sockets
//!
//! - Losing attempts are closed the moment the winner is known, not when the future is
//!   dropped later.
//! - Dropping the connect future mid-race closes every socket it opened and drops its
//!   lookups (a `getaddrinfo` already running cannot be stopped: it finishes on its
//!   resolver-pool thread, and its answer is discarded; see below).
//! - A connection that completes after the race was decided is closed.
//!
//! # Resolvers
//!
//! - [`SystemResolver`] (the default): `getaddrinfo` once per family, in parallel (R3), so
//!   the Resolution Delay applies; [`CombinedSystemResolver`]: one call for both.
//! - `HickoryResolver` (feature `hickory`): AAAA and A as two concurrent queries, so the
//!   Resolution Delay and late-answer merging of RFC 8305 §3 really happen, and HTTPS
//!   records (RFC 9460) decoded into [`ServiceRecord`]s. Happy Eyeballs v3 (services,
//!   ALPN, ECH, hints) needs it: `getaddrinfo` cannot return HTTPS records.
//! - [`StaticResolver`], or your own [`Resolve`] implementation.
//!
//! The system resolvers run `getaddrinfo` on the process's resolver pool (shared by every
//! eyeballs driver; [`on_pool`] puts your own blocking lookups there), not on tokio's
//! blocking pool, so that a hung system resolver cannot leave a thread behind per abandoned
//! connect:
//!
//! - Identical lookups in flight (the same name and family) are one call, whose answer goes
//!   to every connect that asked.
//! - At most [`RESOLVER_THREADS`] (8) lookups run at once, each on a pool thread; up to
//!   [`RESOLVER_QUEUE`] (64) more wait. When every
//!   thread is busy and the queue is full, a new lookup fails at once (`WouldBlock`), and
//!   the race treats it as a failed query.
//! - A dropped or timed-out connect withdraws from its lookups: a queued one nobody waits
//!   for is dropped, a running one holds its thread until `getaddrinfo` returns.
//! - A pool thread with nothing to do for a second exits.
//!
//! IP literals, including IPv6 with a zone (`[fe80::1%eth0]:80`), skip DNS.
//!
//! # Tracing
//!
//! Every action and input is a `tracing` event at `DEBUG` with target `eyeballs`; without a
//! subscriber they cost nothing.
//!
//! The decisions are all [`eyeballs_core`]'s; the race runner, the dialers and the
//! resolvers are `eyeballs_net`'s, shared with every other driver. This crate only says
//! how tokio keeps time, arms a timer, connects a socket and runs TLS, QUIC and hickory
//! ([`Tokio`], an `eyeballs_net::runtime::Runtime`).

#[cfg(all(feature = "hyper", feature = "tls"))]
mod https;
#[cfg(feature = "hyper")]
mod hyper;
mod runtime;

#[cfg(all(feature = "hyper", feature = "tls"))]
pub use https::{HttpsConnector, HttpsStream};
#[cfg(feature = "hyper")]
pub use hyper::HttpConnector;
#[cfg(feature = "tls")]
pub use runtime::TlsStream;
pub use runtime::Tokio;

/// Connects with Happy Eyeballs on tokio: `eyeballs_net::Connector` on [`Tokio`]. Its
/// connects return tokio's `TcpStream` (and, with `tls`, a
/// [`Connection`]); see the [crate docs](crate) for examples.
pub type Connector = eyeballs_net::Connector<Tokio>;

/// Builds a [`Connector`]: [`Config`], [`SocketOptions`], resolver (default
/// [`SystemResolver`]), history (default on), handshake timeout.
pub type ConnectorBuilder = eyeballs_net::ConnectorBuilder<Tokio>;

/// hickory-resolver on tokio (feature `hickory`): AAAA and A as two queries, and HTTPS
/// records, so Happy Eyeballs v3 applies. hickory's background work (one task per name
/// server connection) runs on the tokio runtime the lookups run on.
///
/// # Examples
///
/// ```no_run
/// use eyeballs_tokio::{Connector, HickoryResolver};
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
pub type HickoryResolver = eyeballs_net::HickoryResolver<Tokio>;

/// What a won TLS or QUIC attempt gives on tokio (feature `tls`): a [`TlsStream`] or a
/// `quinn::Connection`, the endpoint and the ALPN id negotiated.
#[cfg(feature = "tls")]
pub type Connection = eyeballs_net::Connection<TlsStream>;

/// The connection of a [`Connection`]: TLS over TCP, or QUIC (feature `tls`).
#[cfg(feature = "tls")]
pub type Established = eyeballs_net::Established<TlsStream>;

/// The quinn the `quic` feature is built on (feature `quic`).
#[cfg(feature = "quic")]
pub use quinn;
// What the API uses, so that one dependency is enough.
#[doc(inline)]
pub use eyeballs_net::prelude::*;

use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::net::TcpStream;

fn default_connector() -> &'static Connector {
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    DEFAULT.get_or_init(Connector::default)
}

/// Connects to `target` with Happy Eyeballs and RFC 8305's defaults, through one
/// process-wide [`Connector`] (system resolver, history on).
///
/// It takes what [`tokio::net::TcpStream::connect`] takes (see [`ToHostPort`]).
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
