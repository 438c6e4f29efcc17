//! The one connector builder every driver uses: configuration, socket options, resolver,
//! history.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use eyeballs_core::{Config, ConfigError, History};

use crate::history::SharedHistory;
use crate::resolve::Resolve;
use crate::socket::{SocketOptionError, SocketOptions};

/// What a connector holds, built by [`Builder`]: shared by the connector's clones.
#[non_exhaustive]
pub struct Settings<R: ?Sized> {
    /// The race configuration.
    pub config: Config,
    /// Options of every attempt's socket.
    pub socket: SocketOptions,
    /// The resolver.
    pub resolver: Arc<R>,
    /// The history, shared by every connect.
    pub history: SharedHistory,
}

impl<R: ?Sized> fmt::Debug for Settings<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("history", &self.history.is_on())
            .finish_non_exhaustive()
    }
}

/// Turns a resolver into the driver's resolver object (`Arc<dyn Resolve>` for the async
/// drivers): what lets [`Builder::resolver`] take any resolver by value.
pub trait ResolverObject<T> {
    /// Wraps `resolver`.
    fn wrap(resolver: T) -> Arc<Self>;
}

impl<T: Resolve> ResolverObject<T> for dyn Resolve {
    fn wrap(resolver: T) -> Arc<Self> {
        Arc::new(resolver)
    }
}

/// Builds a connector: the race [`Config`] (every RFC 8305 knob, with the RFC's defaults),
/// [`SocketOptions`], the resolver, and the history (on by default).
///
/// Every driver starts one with `Connector::builder()` (its `ConnectorBuilder`); nothing
/// here needs to be named. [`build`](Builder::build) checks the settings, so a connector that
/// exists can connect.
///
/// # Examples
///
/// A connector with a longer Connection Attempt Delay, an overall deadline, IPv4 first,
/// `TCP_NODELAY` and keepalive on every socket, and no history. Every driver's
/// `Connector::builder()` returns this builder (the hidden lines stand in for a driver):
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::{Config, FamilyPolicy};
/// use eyeballs_net::SocketOptions;
/// # use eyeballs_net::{Builder, Resolve, Settings, StaticResolver};
/// # struct Connector(Settings<dyn Resolve>);
/// # impl From<Settings<dyn Resolve>> for Connector {
/// #     fn from(settings: Settings<dyn Resolve>) -> Self { Connector(settings) }
/// # }
/// # impl Connector {
/// #     fn builder() -> Builder<dyn Resolve, Connector> { Builder::new(StaticResolver::new()) }
/// #     fn history(&self) -> Option<eyeballs_core::History> { self.0.history.snapshot() }
/// # }
///
/// let connector = Connector::builder()
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
/// use eyeballs_net::{BuildError, SocketOptions};
/// # use eyeballs_net::{Builder, Resolve, Settings, StaticResolver};
/// # struct Connector;
/// # impl From<Settings<dyn Resolve>> for Connector {
/// #     fn from(_: Settings<dyn Resolve>) -> Self { Connector }
/// # }
/// # impl Connector {
/// #     fn builder() -> Builder<dyn Resolve, Connector> { Builder::new(StaticResolver::new()) }
/// # }
///
/// let Err(err) = Connector::builder()
///     .socket(SocketOptions::new().keepalive(Some(Duration::MAX)))
///     .build()
/// else {
///     panic!("accepted")
/// };
/// assert!(matches!(err, BuildError::Socket(_)));
/// assert!(err.to_string().contains("1 to 32767 whole seconds"), "{err}");
///
/// let Err(err) = Connector::builder()
///     .config(Config::default().first_address_family_count(0))
///     .build()
/// else {
///     panic!("accepted")
/// };
/// assert!(matches!(err, BuildError::Config(_)));
/// ```
pub struct Builder<R: ?Sized, C> {
    config: Config,
    socket: SocketOptions,
    resolver: Arc<R>,
    history: Option<History>,
    connector: PhantomData<fn() -> C>,
}

impl<R: ?Sized, C> Clone for Builder<R, C> {
    fn clone(&self) -> Self {
        Builder {
            config: self.config,
            socket: self.socket.clone(),
            resolver: self.resolver.clone(),
            history: self.history.clone(),
            connector: PhantomData,
        }
    }
}

impl<R: ?Sized, C> fmt::Debug for Builder<R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("history", &self.history.is_some())
            .finish_non_exhaustive()
    }
}

impl<R: ?Sized, C: From<Settings<R>>> Builder<R, C> {
    /// Starts with RFC 8305's defaults, no socket options, history on, and `resolver`.
    pub fn new<T>(resolver: T) -> Self
    where
        R: ResolverObject<T>,
    {
        Builder {
            config: Config::default(),
            socket: SocketOptions::default(),
            resolver: R::wrap(resolver),
            history: Some(History::new()),
            connector: PhantomData,
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

    /// Sets the resolver.
    pub fn resolver<T>(mut self, resolver: T) -> Self
    where
        R: ResolverObject<T>,
    {
        self.resolver = R::wrap(resolver);
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

    /// Builds the connector.
    ///
    /// # Errors
    ///
    /// [`BuildError::Config`] for a race configuration that cannot work (see
    /// [`Config::validate`]), [`BuildError::Socket`] for a socket option every attempt would
    /// fail with (see [`SocketOptions::validate`]).
    pub fn build(self) -> Result<C, BuildError> {
        self.config.validate()?;
        self.socket.validate()?;
        Ok(C::from(Settings {
            config: self.config,
            socket: self.socket,
            resolver: self.resolver,
            history: SharedHistory::new(self.history),
        }))
    }
}

/// Why [`Builder::build`] refused to build a connector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A race setting that cannot work, from [`Config::validate`].
    Config(ConfigError),
    /// A socket option that every attempt would fail with, from [`SocketOptions::validate`].
    Socket(SocketOptionError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Config(e) => e.fmt(f),
            BuildError::Socket(e) => e.fmt(f),
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
