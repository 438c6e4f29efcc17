//! The `Connector`: configuration, resolver and history, shared cheaply across tasks.

use std::fmt;
use std::io;
use std::sync::Arc;

use eyeballs_core::{Config, History, Report, ToHostPort};
use eyeballs_net::{Builder, Settings};
use tokio::net::TcpStream;

use crate::driver;
use eyeballs_net::Resolve;

use crate::resolve::SystemResolver;

/// Connects with Happy Eyeballs; holds the configuration, the resolver and the history.
///
/// Cloning is cheap (one `Arc`), and clones share the history, so keep one connector per
/// network attachment and use it from every task.
///
/// # History
///
/// On by default: each connect records, per destination address, round-trip times and
/// failures (see [`eyeballs_core::History`]), and the next connect to the same host starts
/// with what worked — after a broken IPv6 path, it goes straight to IPv4. Turn it off with
/// [`Builder::history`], look at it with [`Connector::history`], and clear it with
/// [`Connector::clear_history`] when the network changes (RFC 8305 §4, R15/R16).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use eyeballs_tokio::{Config, Connector, SocketOptions};
///
/// # async fn demo() -> std::io::Result<()> {
/// let connector = Connector::builder()
///     .config(
///         Config::default()
///             .connection_attempt_delay(Duration::from_millis(300))
///             .timeout(Some(Duration::from_secs(10))),
///     )
///     .socket(SocketOptions::new().nodelay(true))
///     .build()
///     .expect("valid settings");
/// let stream = connector.connect("localhost:8080").await?;
/// # let _ = stream;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Settings<dyn Resolve>>,
}

/// Builds a [`Connector`]: [`Config`], socket options, resolver (default
/// [`SystemResolver`]) and history (default on).
pub type ConnectorBuilder = Builder<dyn Resolve, Connector>;

impl From<Settings<dyn Resolve>> for Connector {
    fn from(settings: Settings<dyn Resolve>) -> Self {
        Connector {
            inner: Arc::new(settings),
        }
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Connector").field(&self.inner).finish()
    }
}

impl Default for Connector {
    fn default() -> Self {
        Connector::builder()
            .build()
            .unwrap_or_else(|e| unreachable!("the default config is valid: {e}"))
    }
}

impl Connector {
    /// Starts a builder with RFC 8305's defaults, the system resolver and history on.
    pub fn builder() -> ConnectorBuilder {
        Builder::new(SystemResolver)
    }

    /// Connects to `target` (`"host:port"`, `("host", port)`, a `SocketAddr`, ...).
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`eyeballs_core::Failure`] with every attempt's address and error; `InvalidInput` for
    /// a target that does not parse.
    pub async fn connect<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        self.run(target, self.inner.config, false).await.0
    }

    /// Connects like [`Connector::connect`], and also returns what happened: DNS answers,
    /// every attempt with its start, end and result, the winner and the total time.
    ///
    /// The report is `None` only when the race could not start (a target that does not
    /// parse, an unknown IPv6 zone).
    pub async fn connect_with_report<T: ToHostPort>(
        &self,
        target: T,
    ) -> (io::Result<TcpStream>, Option<Report>) {
        self.run(target, self.inner.config, true).await
    }

    async fn run<T: ToHostPort>(
        &self,
        target: T,
        config: Config,
        want_report: bool,
    ) -> (io::Result<TcpStream>, Option<Report>) {
        match target.to_host_port() {
            Ok(target) => driver::run(&self.inner, &target, config, want_report).await,
            Err(e) => (Err(io::Error::new(io::ErrorKind::InvalidInput, e)), None),
        }
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub fn history(&self) -> Option<History> {
        self.inner.history.snapshot()
    }

    /// Forgets the history (call it when the network attachment changes).
    pub fn clear_history(&self) {
        self.inner.history.clear();
    }

    /// Returns the race configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}
