//! The `Connector`: configuration, resolver and history, shared cheaply across tasks.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eyeballs_core::{Config, ConfigError, FamilyPolicy, History, Report, ToHostPort};
use socket2::Socket;
use tokio::net::TcpStream;

use crate::driver;
use crate::resolve::{Resolve, SystemResolver};
use crate::socket::{SocketHook, SocketOptions};

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
/// [`ConnectorBuilder::history`], look at it with [`Connector::history`], and clear it with
/// [`Connector::clear_history`] when the network changes (RFC 8305 §4, R15/R16).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use eyeballs_tokio::Connector;
///
/// # async fn demo() -> std::io::Result<()> {
/// let connector = Connector::builder()
///     .connection_attempt_delay(Duration::from_millis(300))
///     .timeout(Some(Duration::from_secs(10)))
///     .nodelay(true)
///     .build()
///     .expect("valid settings");
/// let stream = connector.connect("localhost:8080").await?;
/// # let _ = stream;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) socket: Arc<SocketOptions>,
    pub(crate) history: Option<Arc<Mutex<History>>>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("config", &self.inner.config)
            .field("socket", &self.inner.socket)
            .field("history", &self.inner.history.is_some())
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

    /// Connects to `target` (`"host:port"`, `("host", port)`, a `SocketAddr`, ...).
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`eyeballs_core::Failure`] with every attempt's address and error; `InvalidInput` for
    /// a target that does not parse.
    pub async fn connect<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        let target = target
            .to_host_port()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        driver::run(&self.inner, target, false).await.0
    }

    /// Connects like [`Connector::connect`], and also returns what happened: DNS answers,
    /// every attempt with its start, end and result, the winner and the total time.
    ///
    /// The report is `None` only when the target did not parse.
    pub async fn connect_with_report<T: ToHostPort>(
        &self,
        target: T,
    ) -> (io::Result<TcpStream>, Option<Report>) {
        match target.to_host_port() {
            Ok(target) => driver::run(&self.inner, target, true).await,
            Err(e) => (Err(io::Error::new(io::ErrorKind::InvalidInput, e)), None),
        }
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub fn history(&self) -> Option<History> {
        self.inner
            .history
            .as_ref()
            .map(|h| h.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// Forgets the history (call it when the network attachment changes).
    pub fn clear_history(&self) {
        if let Some(h) = &self.inner.history {
            h.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// Returns the race configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// Builds a [`Connector`]. Every RFC 8305 knob of [`Config`] is here, with the RFC's
/// defaults, plus the resolver, the history and socket options.
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
    /// Replaces the whole race configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the Resolution Delay (RFC 8305 §3), default 50 ms.
    pub fn resolution_delay(mut self, delay: Duration) -> Self {
        self.config = self.config.resolution_delay(delay);
        self
    }

    /// Sets the Connection Attempt Delay (RFC 8305 §5), default 250 ms, clamped to
    /// [10 ms, max].
    pub fn connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.config = self.config.connection_attempt_delay(delay);
        self
    }

    /// Sets the Minimum Connection Attempt Delay for history-derived delays, default 100 ms.
    pub fn min_connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.config = self.config.min_connection_attempt_delay(delay);
        self
    }

    /// Sets the Maximum Connection Attempt Delay, default 2 s.
    pub fn max_connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.config = self.config.max_connection_attempt_delay(delay);
        self
    }

    /// Sets the First Address Family Count (RFC 8305 §4), default 1.
    pub fn first_address_family_count(mut self, count: usize) -> Self {
        self.config = self.config.first_address_family_count(count);
        self
    }

    /// Sets which families are used and which goes first, default IPv6 first.
    pub fn family_policy(mut self, policy: FamilyPolicy) -> Self {
        self.config = self.config.family_policy(policy);
        self
    }

    /// Sets an overall deadline per connect, default none.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config = self.config.timeout(timeout);
        self
    }

    /// Caps the attempts in flight at once, default no cap.
    pub fn max_attempts_in_flight(mut self, cap: Option<usize>) -> Self {
        self.config = self.config.max_attempts_in_flight(cap);
        self
    }

    /// Caps the addresses a connect considers, default no cap.
    pub fn max_addresses(mut self, cap: Option<usize>) -> Self {
        self.config = self.config.max_addresses(cap);
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

    /// Starts from this history (say, one loaded from a previous run), and turns it on.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = Some(history);
        self
    }

    /// Sets `TCP_NODELAY` on every socket, default off.
    pub fn nodelay(mut self, on: bool) -> Self {
        self.socket.nodelay = on;
        self
    }

    /// Sets TCP keepalive with this idle time on every socket, default off.
    pub fn keepalive(mut self, idle: Option<Duration>) -> Self {
        self.socket.keepalive = idle;
        self
    }

    /// Binds IPv4 attempts to this local address (port 0 for any port).
    pub fn bind_v4(mut self, local: Option<SocketAddr>) -> Self {
        self.socket.bind_v4 = local;
        self
    }

    /// Binds IPv6 attempts to this local address (port 0 for any port).
    pub fn bind_v6(mut self, local: Option<SocketAddr>) -> Self {
        self.socket.bind_v6 = local;
        self
    }

    /// Binds every socket to a network interface (`SO_BINDTODEVICE`, Linux only).
    ///
    /// Keep one connector, and so one history, per interface: RFC 8305 §4 forbids using
    /// history across interfaces (R15).
    pub fn bind_device(mut self, device: Option<&str>) -> Self {
        self.socket.device = device.map(str::to_string);
        self
    }

    /// Calls `hook` on every socket before it connects, to set any option socket2 offers.
    pub fn socket_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Socket, SocketAddr) -> io::Result<()> + Send + Sync + 'static,
    {
        self.socket.hook = Some(Arc::new(hook) as SocketHook);
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
                socket: Arc::new(self.socket),
                history: self.history.map(|h| Arc::new(Mutex::new(h))),
            }),
        })
    }
}
