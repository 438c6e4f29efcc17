//! The one connector builder: configuration, socket options, resolver, history, handshake
//! timeout.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::{Config, ConfigError, History};

use super::handle::Connector;
use super::history::SharedHistory;
use super::settings::{Settings, SpareRace};
use crate::alt_svc::AltSvcStore;
use crate::proxy::Proxy;
use crate::resolve::cache::SharedDnsCache;
use crate::resolve::{DnsCache, Resolve, SystemResolver};
use crate::sockets::{SocketOptionError, SocketOptions, Sources};

/// How long a handshake (TLS after TCP, QUIC) may take by default before its attempt fails
/// as stalled: Go's `TLSHandshakeTimeout`, and well past any real handshake's round trips.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a [`Connector`]: the race [`Config`] (every RFC 8305 and HEv3 knob, with the
/// RFCs' defaults), [`SocketOptions`], the resolver, the history (on by default) and the
/// handshake timeout. [`build`](ConnectorBuilder::build) checks the settings, so a
/// connector that exists can connect.
///
/// # Examples
///
/// A connector with a longer Connection Attempt Delay, an overall deadline, IPv4 first,
/// `TCP_NODELAY` and keepalive on every socket, and no history:
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::{Config, FamilyPolicy};
/// use eyeballs_net::{Connector, SocketOptions};
/// # #[derive(Clone, Default)] struct MyRuntime;
/// # type Connect = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;
/// # struct T; impl eyeballs_net::runtime::Timer for T {
/// #     fn reset(&mut self, _: std::time::Instant) {}
/// #     fn poll(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<()> { std::task::Poll::Pending }
/// # }
/// # impl eyeballs_net::runtime::Runtime for MyRuntime {
/// #     type Tcp = (); type Timer = T; type Connect = Connect;
/// #     fn now(&self) -> std::time::Instant { std::time::Instant::now() }
/// #     fn timer(&self) -> T { T }
/// #     fn connect(&self, _: std::net::SocketAddr, _: &SocketOptions) -> Connect { Box::pin(async { Ok(()) }) }
/// # }
///
/// let connector: Connector<MyRuntime> = Connector::builder()
///     .config(
///         Config::default()
///             .connection_attempt_delay(Duration::from_millis(300))
///             .timeout(Some(Duration::from_secs(10)))
///             .family_policy(FamilyPolicy::PreferV4),
///     )
///     .socket(
///         SocketOptions::new()
///             .nodelay(true)
///             .keepalive(Some(Duration::from_secs(60))),
///     )
///     .history(false)
///     .build()?;
/// assert!(connector.history().is_none());
/// # Ok::<(), eyeballs_net::BuildError>(())
/// ```
///
/// Settings that cannot work fail here, with the setting named:
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::Config;
/// use eyeballs_net::{BuildError, Connector, SocketOptions};
/// # #[derive(Clone, Default)] struct MyRuntime;
/// # type Connect = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;
/// # struct T; impl eyeballs_net::runtime::Timer for T {
/// #     fn reset(&mut self, _: std::time::Instant) {}
/// #     fn poll(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<()> { std::task::Poll::Pending }
/// # }
/// # impl eyeballs_net::runtime::Runtime for MyRuntime {
/// #     type Tcp = (); type Timer = T; type Connect = Connect;
/// #     fn now(&self) -> std::time::Instant { std::time::Instant::now() }
/// #     fn timer(&self) -> T { T }
/// #     fn connect(&self, _: std::net::SocketAddr, _: &SocketOptions) -> Connect { Box::pin(async { Ok(()) }) }
/// # }
///
/// let Err(err) = Connector::<MyRuntime>::builder()
///     .socket(SocketOptions::new().keepalive(Some(Duration::MAX)))
///     .build()
/// else {
///     panic!("accepted")
/// };
/// assert!(matches!(err, BuildError::Socket(_)));
/// assert!(err.to_string().contains("1 to 32767 whole seconds"), "{err}");
///
/// let Err(err) = Connector::<MyRuntime>::builder()
///     .config(Config::default().first_address_family_count(0))
///     .build()
/// else {
///     panic!("accepted")
/// };
/// assert!(matches!(err, BuildError::Config(_)));
/// ```
pub struct ConnectorBuilder<R> {
    runtime: R,
    config: Config,
    socket: SocketOptions,
    resolver: Arc<dyn Resolve>,
    history: Option<History>,
    handshake_timeout: Duration,
    dns_cache: Option<DnsCache>,
    proxy: Option<Proxy>,
    /// Probed by default; the simulator gives its host's.
    pub(crate) sources: Sources,
}

impl<R: Clone> Clone for ConnectorBuilder<R> {
    fn clone(&self) -> Self {
        ConnectorBuilder {
            runtime: self.runtime.clone(),
            config: self.config,
            socket: self.socket.clone(),
            resolver: self.resolver.clone(),
            history: self.history.clone(),
            handshake_timeout: self.handshake_timeout,
            dns_cache: self.dns_cache,
            proxy: self.proxy.clone(),
            sources: self.sources.clone(),
        }
    }
}

impl<R> fmt::Debug for ConnectorBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorBuilder")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("history", &self.history.is_some())
            .field("handshake_timeout", &self.handshake_timeout)
            .field("dns_cache", &self.dns_cache)
            .finish_non_exhaustive()
    }
}

impl<R: Default> Connector<R> {
    /// Starts a builder with RFC 8305's defaults, the system resolver, history on, and the
    /// runtime's default value.
    pub fn builder() -> ConnectorBuilder<R> {
        ConnectorBuilder::new(R::default())
    }
}

impl<R: Default> Default for Connector<R> {
    fn default() -> Self {
        Connector::builder()
            .build()
            .unwrap_or_else(|e| unreachable!("the default settings are valid: {e}"))
    }
}

impl<R> Connector<R> {
    /// Starts a builder like [`Connector::builder`], on this `runtime` value (a runtime
    /// with a handle, say).
    pub fn builder_on(runtime: R) -> ConnectorBuilder<R> {
        ConnectorBuilder::new(runtime)
    }
}

impl<R> ConnectorBuilder<R> {
    /// Starts with RFC 8305's defaults, no socket options, the system resolver, history on,
    /// a handshake timeout of [`HANDSHAKE_TIMEOUT`], on `runtime`.
    fn new(runtime: R) -> Self {
        ConnectorBuilder {
            runtime,
            config: Config::default(),
            socket: SocketOptions::default(),
            resolver: Arc::new(SystemResolver),
            history: Some(History::new()),
            handshake_timeout: HANDSHAKE_TIMEOUT,
            dns_cache: None,
            proxy: None,
            sources: Sources::default(),
        }
    }

    /// Sets the race configuration: delays, family policy, First Address Family Count,
    /// deadline, caps, NAT64 (see [`Config`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the options of every attempt's socket: nodelay, keepalive, local bind per family,
    /// bind to device, or a socket2 hook for anything else.
    pub fn socket(mut self, socket: SocketOptions) -> Self {
        self.socket = socket;
        self
    }

    /// Sets the resolver (default: [`SystemResolver`]).
    pub fn resolver<T: Resolve>(mut self, resolver: T) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// Turns the history on (the default) or off.
    pub fn history(mut self, on: bool) -> Self {
        self.history = on.then(|| self.history.take().unwrap_or_default());
        self
    }

    /// Starts from this history (say, one kept from an earlier connector), and turns it on.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = Some(history);
        self
    }

    /// Sets how long a handshake may take: TLS after the TCP connect (through a proxy, the
    /// proxy's handshake and TLS after the TCP connect to the proxy), or a QUIC attempt
    /// from its start (default [`HANDSHAKE_TIMEOUT`], 10 s). An attempt past it fails as
    /// [`AttemptErrorKind::Stalled`](crate::AttemptErrorKind::Stalled) and is closed, and the
    /// race goes on with the others: a server that accepts and never answers cannot hold a
    /// connect. Plain TCP attempts end with the kernel's connect timeout, or the race's
    /// [`Config::timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Turns the connector's DNS cache on with these caps (`Some`), or off (`None`, the
    /// default): answers kept with their TTLs, used without a query while fresh, and raced
    /// at once while the fresh query runs once expired ("optimistic DNS", HEv3 §4.4, V13;
    /// HG18). Only answers that come with a TTL are kept
    /// ([`Resolve::resolve_with_ttl`]: hickory's do, the system resolver's do not); see
    /// [`DnsCache`] for what is kept, the caps, and why it is off by default.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_net::{Connector, DnsCache};
    /// # #[derive(Clone, Default)] struct MyRuntime;
    /// # type Connect = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;
    /// # struct T; impl eyeballs_net::runtime::Timer for T {
    /// #     fn reset(&mut self, _: std::time::Instant) {}
    /// #     fn poll(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<()> { std::task::Poll::Pending }
    /// # }
    /// # impl eyeballs_net::runtime::Runtime for MyRuntime {
    /// #     type Tcp = (); type Timer = T; type Connect = Connect;
    /// #     fn now(&self) -> std::time::Instant { std::time::Instant::now() }
    /// #     fn timer(&self) -> T { T }
    /// #     fn connect(&self, _: std::net::SocketAddr, _: &eyeballs_net::SocketOptions) -> Connect { Box::pin(async { Ok(()) }) }
    /// # }
    ///
    /// let connector: Connector<MyRuntime> = Connector::builder()
    ///     .dns_cache(Some(DnsCache::new().max_stale(Duration::from_secs(3600))))
    ///     .build()?;
    /// assert_eq!(connector.dns_cache_entries(), 0);
    /// # Ok::<(), eyeballs_net::BuildError>(())
    /// ```
    pub fn dns_cache(mut self, cache: Option<DnsCache>) -> Self {
        self.dns_cache = cache;
        self
    }

    /// Sends every connect through `proxy` (`Some`), or straight to the host (`None`, the
    /// default): HEv3 V60, HG20. The race then resolves and races the proxy's addresses,
    /// each attempt asks the proxy for the connect's host and port by name (so the proxy
    /// resolves it; the client asks DNS nothing about it), and TLS runs to that host
    /// through the tunnel, its certificate checked against it. See [`Proxy`].
    ///
    /// # Examples
    ///
    /// ```
    /// use eyeballs_net::{Connector, Proxy};
    /// # #[derive(Clone, Default)] struct MyRuntime;
    /// # type Connect = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;
    /// # struct T; impl eyeballs_net::runtime::Timer for T {
    /// #     fn reset(&mut self, _: std::time::Instant) {}
    /// #     fn poll(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<()> { std::task::Poll::Pending }
    /// # }
    /// # impl eyeballs_net::runtime::Runtime for MyRuntime {
    /// #     type Tcp = (); type Timer = T; type Connect = Connect;
    /// #     fn now(&self) -> std::time::Instant { std::time::Instant::now() }
    /// #     fn timer(&self) -> T { T }
    /// #     fn connect(&self, _: std::net::SocketAddr, _: &eyeballs_net::SocketOptions) -> Connect { Box::pin(async { Ok(()) }) }
    /// # }
    ///
    /// let connector: Connector<MyRuntime> = Connector::builder()
    ///     .proxy(Some("socks5://127.0.0.1:1080".parse::<Proxy>()?))
    ///     .build()?;
    /// assert_eq!(connector.proxy().unwrap().to_string(), "socks5://127.0.0.1:1080");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxy(mut self, proxy: Option<Proxy>) -> Self {
        self.proxy = proxy;
        self
    }

    /// Builds the connector.
    ///
    /// # Errors
    ///
    /// [`BuildError::Config`] for a race configuration that cannot work (see
    /// [`Config::validate`]), [`BuildError::Socket`] for a socket option every attempt would
    /// fail with (see [`SocketOptions::validate`]), [`BuildError::HandshakeTimeout`] for a
    /// zero handshake timeout.
    pub fn build(self) -> Result<Connector<R>, BuildError> {
        self.config.validate()?;
        self.socket.validate()?;
        if self.handshake_timeout.is_zero() {
            return Err(BuildError::HandshakeTimeout);
        }
        Ok(Connector::from_settings(
            Settings {
                config: self.config,
                socket: self.socket,
                resolver: self.resolver,
                history: SharedHistory::new(self.history),
                dns_cache: SharedDnsCache::new(self.dns_cache),
                sources: self.sources,
                handshake_timeout: self.handshake_timeout,
                alt_svc: AltSvcStore::default(),
                proxy: self.proxy,
                spare: SpareRace::default(),
            },
            self.runtime,
        ))
    }
}

/// Why [`ConnectorBuilder::build`] refused to build a connector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A race setting that cannot work, from [`Config::validate`].
    Config(ConfigError),
    /// A socket option that every attempt would fail with, from [`SocketOptions::validate`].
    Socket(SocketOptionError),
    /// A handshake timeout of zero: every TLS or QUIC attempt would stall at once.
    HandshakeTimeout,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Config(e) => e.fmt(f),
            BuildError::Socket(e) => e.fmt(f),
            BuildError::HandshakeTimeout => {
                f.write_str("handshake_timeout must be more than zero (default 10 s)")
            }
        }
    }
}

// The message is the inner error's own, so it is not also a `source` (which would print it
// twice in an error chain); match on the variants to reach it.
impl std::error::Error for BuildError {}

impl From<ConfigError> for BuildError {
    fn from(e: ConfigError) -> Self {
        BuildError::Config(e)
    }
}

impl From<SocketOptionError> for BuildError {
    fn from(e: SocketOptionError) -> Self {
        BuildError::Socket(e)
    }
}
