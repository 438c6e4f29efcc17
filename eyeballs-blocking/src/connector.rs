//! The `Connector`: configuration, resolver and history, shared cheaply across threads.

use std::fmt;
use std::io;
use std::sync::Arc;

use eyeballs_core::{Config, History, Report, ToHostPort};
use eyeballs_net::{Builder, Settings};
use std::net::TcpStream;

use crate::driver;
use crate::resolve::{Resolve, SystemResolver};

/// Connects with Happy Eyeballs on the calling thread; holds the configuration, the resolver and the history.
///
/// Cloning is cheap (one `Arc`), and clones share the history, so keep one connector per
/// network attachment and use it from every thread.
///
/// # History
///
/// On by default: each connect records, per destination address, round-trip times and
/// failures (see [`History`]), and the next connect to the same host starts
/// with what worked — after a broken IPv6 path, it goes straight to IPv4. Turn it off with
/// [`Builder::history`], look at it with [`Connector::history`], and clear it with
/// [`Connector::clear_history`] when the network changes (RFC 8305 §4, R15/R16).
///
/// # Examples
///
/// Set the delays and a timeout, then see which address won and why the others failed:
///
/// ```
/// use std::net::{SocketAddr, TcpListener};
/// use std::time::Duration;
/// use eyeballs_blocking::{AttemptStatus, Config, Connector, SocketOptions};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let open = TcpListener::bind("127.0.0.1:0")?;
/// let refused = TcpListener::bind("127.0.0.2:0")?.local_addr()?; // closed again
/// let connector = Connector::builder()
///     .config(
///         Config::default()
///             .connection_attempt_delay(Duration::from_millis(300))
///             .timeout(Some(Duration::from_secs(10))),
///     )
///     .socket(SocketOptions::new().nodelay(true))
///     .build()?;
/// let addrs: [SocketAddr; 2] = [refused, open.local_addr()?];
/// let (stream, report) = connector.connect_with_report(&addrs[..]);
/// let report = report.expect("the race started");
/// assert_eq!(report.winner(), Some(stream?.peer_addr()?));
/// for attempt in report.attempts() {
///     if attempt.status == AttemptStatus::Failed {
///         println!("{} failed: {:?}", attempt.endpoint, attempt.error);
///     }
/// }
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

    /// Connects to `target`: anything [`std::net::TcpStream::connect`] takes (`"host:port"`,
    /// `("host", port)`, `(IpAddr, port)`, a `SocketAddr`, `&[SocketAddr]`, ...; see
    /// [`ToHostPort`]). A list of addresses races without DNS, ordered as RFC 8305 orders a DNS
    /// answer (IPv6 first, families interleaved), not tried one by one.
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`Failure`](crate::Failure) with every attempt's address and error; `InvalidInput`
    /// for a target that does not parse.
    pub fn connect<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        self.run(target, self.inner.config, false).0
    }

    /// Connects like [`Connector::connect`], giving up after `timeout` (DNS included), like
    /// `TcpStream::connect_timeout`: the connector's configuration with [`Config::timeout`]
    /// set to `timeout`.
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; `TimedOut` when the deadline passes, and `InvalidInput`
    /// for a zero `timeout`.
    pub fn connect_timeout<T: ToHostPort>(
        &self,
        target: T,
        timeout: std::time::Duration,
    ) -> io::Result<TcpStream> {
        self.run(target, self.inner.config.timeout(Some(timeout)), false)
            .0
    }

    /// Connects like [`Connector::connect`], and also returns what happened: DNS answers,
    /// every attempt with its start, end and result, the winner and the total time.
    ///
    /// The report is `None` only when the race could not start (a target that does not
    /// parse, an unknown IPv6 zone).
    pub fn connect_with_report<T: ToHostPort>(
        &self,
        target: T,
    ) -> (io::Result<TcpStream>, Option<Report>) {
        self.run(target, self.inner.config, true)
    }

    fn run<T: ToHostPort>(
        &self,
        target: T,
        config: Config,
        want_report: bool,
    ) -> (io::Result<TcpStream>, Option<Report>) {
        match target.to_host_port() {
            Ok(target) => driver::run(&self.inner, &target, config, want_report),
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
