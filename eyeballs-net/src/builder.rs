//! The one connector builder every driver uses: configuration, socket options, resolver,
//! history.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use eyeballs_core::{Config, ConfigError, History};

use crate::history::SharedHistory;
use crate::resolve::Resolve;
use crate::socket::SocketOptions;

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

/// Builds a driver's connector `C`: the race [`Config`] (every RFC 8305 knob, with the RFC's
/// defaults), [`SocketOptions`], the resolver (an `R`), and the history (on by default).
///
/// Each driver names it `ConnectorBuilder` and starts it with `Connector::builder()`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::Config;
/// use eyeballs_net::{Builder, Resolve, Settings, SocketOptions, StaticResolver};
///
/// /// A driver's connector, as the drivers define theirs.
/// struct Connector(std::sync::Arc<Settings<dyn Resolve>>);
///
/// impl From<Settings<dyn Resolve>> for Connector {
///     fn from(settings: Settings<dyn Resolve>) -> Self {
///         Connector(std::sync::Arc::new(settings))
///     }
/// }
///
/// let connector: Connector = Builder::<dyn Resolve, Connector>::new(StaticResolver::new())
///     .config(Config::default().connection_attempt_delay(Duration::from_millis(300)))
///     .socket(SocketOptions::new().nodelay(true))
///     .history(false)
///     .build()?;
/// assert!(!connector.0.history.is_on());
/// # Ok::<(), eyeballs_core::ConfigError>(())
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
    /// A [`ConfigError`] for settings that cannot work (see [`Config::validate`]).
    pub fn build(self) -> Result<C, ConfigError> {
        self.config.validate()?;
        Ok(C::from(Settings {
            config: self.config,
            socket: self.socket,
            resolver: self.resolver,
            history: SharedHistory::new(self.history),
        }))
    }
}
