//! The `Connector`: configuration, resolver and history, shared cheaply across threads.

use std::fmt;
use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::{Config, ConfigError, History, Report, ToHostPort};
use eyeballs_net::{SharedHistory, SocketOptions};

use crate::driver;
use crate::resolve::{Resolve, SystemResolver};

/// Connects with Happy Eyeballs on the calling thread; holds the configuration, the resolver
/// and the history.
///
/// Cloning is cheap (one `Arc`), and clones share the history: keep one connector per
/// network attachment and use it from every thread. History is on by default, as in
/// `eyeballs-tokio` (see [`eyeballs_core::History`]).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use eyeballs_blocking::{Config, Connector};
///
/// let connector = Connector::builder()
///     .config(Config::default().connection_attempt_delay(Duration::from_millis(300)))
///     .build()
///     .expect("valid settings");
/// let stream = connector.connect_timeout("localhost:8080", Duration::from_secs(5))?;
/// # let _ = stream;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) socket: SocketOptions,
    pub(crate) history: SharedHistory,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("config", &self.inner.config)
            .field("socket", &self.inner.socket)
            .field("history", &self.inner.history.is_on())
            .finish_non_exhaustive()
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
        ConnectorBuilder::default()
    }

    /// Connects to `target` (`"host:port"`, `("host", port)`, a `SocketAddr`, ...),
    /// blocking, and returns the stream in blocking mode.
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`eyeballs_core::Failure`] with every attempt's address and error; `InvalidInput` for
    /// a target that does not parse.
    pub fn connect<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        self.run(target, self.inner.config, false).0
    }

    /// Connects like [`Connector::connect`], giving up after `timeout` (DNS included), like
    /// `TcpStream::connect_timeout`.
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; `TimedOut` when the deadline passes, and `InvalidInput`
    /// for a zero `timeout`.
    pub fn connect_timeout<T: ToHostPort>(
        &self,
        target: T,
        timeout: Duration,
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

/// Builds a [`Connector`]: the race [`Config`], [`SocketOptions`], the resolver and the
/// history, as in every eyeballs driver.
#[derive(Clone)]
pub struct ConnectorBuilder {
    config: Config,
    resolver: Arc<dyn Resolve>,
    socket: SocketOptions,
    history: Option<History>,
}

impl Default for ConnectorBuilder {
    fn default() -> Self {
        ConnectorBuilder {
            config: Config::default(),
            resolver: Arc::new(SystemResolver),
            socket: SocketOptions::default(),
            history: Some(History::new()),
        }
    }
}

impl fmt::Debug for ConnectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorBuilder")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("history", &self.history.is_some())
            .finish_non_exhaustive()
    }
}

impl ConnectorBuilder {
    /// Sets the race configuration (see [`Config`]); its `timeout` is the connect timeout.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the options of every attempt's socket.
    pub fn socket(mut self, socket: SocketOptions) -> Self {
        self.socket = socket;
        self
    }

    /// Sets the resolver, default [`SystemResolver`].
    pub fn resolver<R: Resolve>(mut self, resolver: R) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// Turns the history on (the default) or off.
    pub fn history(mut self, on: bool) -> Self {
        self.history = on.then(|| self.history.take().unwrap_or_default());
        self
    }

    /// Starts from this history, and turns it on.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = Some(history);
        self
    }

    /// Builds the connector.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for settings that cannot work (see [`Config::validate`]).
    pub fn build(self) -> Result<Connector, ConfigError> {
        self.config.validate()?;
        Ok(Connector {
            inner: Arc::new(Inner {
                config: self.config,
                resolver: self.resolver,
                socket: self.socket,
                history: SharedHistory::new(self.history),
            }),
        })
    }
}
