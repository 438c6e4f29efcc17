//! Happy Eyeballs (RFC 8305) connections for tokio.
//!
//! [`connect`] is a drop-in for [`tokio::net::TcpStream::connect`] that gets the fastest
//! working connection out of a host name: it asks for AAAA and A, orders the addresses
//! (RFC 6724, families interleaved), starts one attempt, another every 250 ms (or at once
//! when one fails), keeps the first that connects and closes the rest.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let stream = eyeballs_tokio::connect("localhost:8080").await?;
//! # let _ = stream;
//! # Ok(())
//! # }
//! ```
//!
//! For settings, history and reports, build a [`Connector`]. The decisions are all
//! [`eyeballs_core`]'s: this crate only opens sockets, runs timers and resolves names, and
//! feeds what happens back to the core's state machine, through the loop it shares with
//! `eyeballs-async-std` (`eyeballs_net::run_async`).
//!
//! # What a connect does with its sockets
//!
//! - Losing attempts are closed the moment the winner is known, not when the future is
//!   dropped later.
//! - Dropping the connect future mid-race closes every socket it opened and drops its
//!   lookups (a `getaddrinfo` on the blocking pool cannot be stopped; its answer is
//!   discarded).
//! - A connection that completes after the race was decided is closed.
//!
//! # Resolvers
//!
//! - [`SystemResolver`] (the default): `getaddrinfo`, both families in one query.
//! - `HickoryResolver` (feature `hickory`): AAAA and A as two concurrent queries, so the
//!   Resolution Delay and late-answer merging of RFC 8305 §3 really happen.
//! - [`StaticResolver`], or your own [`Resolve`] implementation.
//!
//! IP literals, including IPv6 with a zone (`[fe80::1%eth0]:80`), skip DNS.
//!
//! # hyper
//!
//! With feature `hyper`, a [`Connector`] is a connector for hyper-util's legacy `Client`
//! (the port defaults to 443 for `https`, 80 otherwise; TLS is the caller's layer):
//!
//! ```no_run
//! # #[cfg(feature = "hyper")] {
//! use bytes::Bytes;
//! use http_body_util::Empty;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//!
//! let client: Client<_, Empty<Bytes>> =
//!     Client::builder(TokioExecutor::new()).build(eyeballs_tokio::Connector::default());
//! # let _ = client;
//! # }
//! ```
//!
//! # Tracing
//!
//! Every action and input is a `tracing` event at `DEBUG` with target `eyeballs`; without a
//! subscriber they cost nothing.
//!
//! # Errors
//!
//! Failures are `std::io::Error`s, so `?` works. The inner error of a failed race is the
//! [`eyeballs_core::Failure`], with every attempt's address and error:
//!
//! ```no_run
//! # async fn demo() {
//! use eyeballs_core::Failure;
//! if let Err(e) = eyeballs_tokio::connect("localhost:1").await {
//!     if let Some(failure) = e.get_ref().and_then(|i| i.downcast_ref::<Failure<std::io::Error>>()) {
//!         for attempt in failure.attempts() {
//!             eprintln!("{}: {:?}", attempt.addr, attempt.error);
//!         }
//!     }
//! }
//! # }
//! ```

mod driver;
#[cfg(feature = "hickory")]
mod hickory;
mod resolve;

pub use driver::{Tokio, TokioIo};

#[cfg(feature = "hickory")]
pub use hickory::HickoryResolver;
pub use resolve::SystemResolver;

pub use eyeballs_core::{Config, FamilyPolicy, Report};
pub use eyeballs_net::{
    discover_nat64, Builder, Resolve, Resolving, SocketHook, SocketOptions, StaticResolver,
};

/// Connects with Happy Eyeballs; holds the configuration, the resolver and the history
/// (see [`eyeballs_net::Connector`] for its methods).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use eyeballs_tokio::{Config, Connector, SocketOptions};
///
/// # async fn demo() -> std::io::Result<()> {
/// let connector = Connector::builder()
///     .config(Config::default().connection_attempt_delay(Duration::from_millis(300)))
///     .socket(SocketOptions::new().nodelay(true))
///     .build()
///     .expect("valid settings");
/// let stream = connector.connect("localhost:8080").await?;
/// # let _ = stream;
/// # Ok(())
/// # }
/// ```
pub type Connector = eyeballs_net::Connector<Tokio>;

/// Builds a [`Connector`]: [`Config`], [`SocketOptions`], resolver (default
/// [`SystemResolver`]) and history (default on).
pub type ConnectorBuilder = Builder<dyn Resolve, Connector>;

use std::io;
use std::sync::OnceLock;

use eyeballs_core::ToHostPort;
use tokio::net::TcpStream;

/// Connects to `target` with Happy Eyeballs and RFC 8305's defaults, through one
/// process-wide [`Connector`] (system resolver, history on).
///
/// # Errors
///
/// As [`Connector::connect`].
pub async fn connect<T: ToHostPort>(target: T) -> io::Result<TcpStream> {
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    DEFAULT
        .get_or_init(Connector::default)
        .connect(target)
        .await
}
