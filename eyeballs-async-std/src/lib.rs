//! Happy Eyeballs (RFC 8305) for async-std and smol.
//!
//! async-std is deprecated upstream in favour of smol; both run on the same reactor,
//! async-io. This crate is built on async-io, async-net and the `blocking` thread pool, so
//! it serves async-std and smol users alike (and any executor, since async-io drives its own
//! reactor when nothing else does). It returns an [`async_net::TcpStream`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let stream = eyeballs_async_std::connect("localhost:8080").await?; // an async_net::TcpStream
//! # let _ = stream;
//! # Ok(())
//! # }
//! ```
//!
//! The [`Connector`] is the same as `eyeballs-tokio`'s: a [`Config`], [`SocketOptions`],
//! a resolver ([`SystemResolver`], [`StaticResolver`] or your own [`Resolve`]), a history,
//! and `connect_with_report`. Losing attempts close when the race is decided, and dropping
//! a connect mid-race closes everything it opened.
//!
//! # hickory
//!
//! Not offered here. hickory-resolver 0.26 runs only on its tokio runtime provider; running
//! it on async-io would mean writing hickory a runtime provider (UDP, TCP and timers on
//! async-io), which this crate does not do. Plug in any resolver through [`Resolve`]; the
//! race then asks AAAA and A separately.
//!
//! Every action and input is a `tracing` event at `DEBUG` with target `eyeballs`.
//!
//! The decisions are all [`eyeballs_core`]'s; this crate only opens sockets, runs timers and
//! resolves, through the loop it shares with `eyeballs-tokio` (`eyeballs_net::run_async`).

mod driver;
mod resolve;

pub use driver::{AsyncIoClock, AsyncIoRuntime};

pub use resolve::SystemResolver;

pub use async_net::TcpStream;
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
/// use eyeballs_async_std::{Config, Connector, SocketOptions};
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
pub type Connector = eyeballs_net::Connector<AsyncIoRuntime>;

/// Builds a [`Connector`]: [`Config`], [`SocketOptions`], resolver (default
/// [`SystemResolver`]) and history (default on).
pub type ConnectorBuilder = Builder<dyn Resolve, Connector>;

use std::io;
use std::sync::OnceLock;

use eyeballs_core::ToHostPort;

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
