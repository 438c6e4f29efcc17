//! The connector of the async drivers, written once over a [`Runtime`].

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;

use std::time::Duration;

use eyeballs_core::{Config, History, Report, ToHostPort};

use crate::builder::{Builder, Settings};
use crate::drive::{run_async, AsyncIo};
use crate::handshake::{Handshake, PlainTcp, Step};
use crate::resolve::Resolve;

/// An async runtime an eyeballs driver runs on (`eyeballs-tokio`, `eyeballs-async-std`).
pub trait Runtime: 'static {
    /// Its clock, timer and sockets, for one race.
    type Io: AsyncIo + Send;
    /// Its system resolver, the connector's default.
    type SystemResolver: Resolve + Default;

    /// Makes the clock, timer and sockets of one race.
    fn io() -> Self::Io;
}

/// The stream a runtime's connect returns.
pub type Stream<R> = <<R as Runtime>::Io as AsyncIo>::Stream;

/// Connects with Happy Eyeballs on the runtime `R`; holds the configuration, the resolver
/// and the history. Each async driver wraps it in its own `Connector`
/// (`eyeballs_tokio::Connector` holds a `Connector<Tokio>`), which is what users name.
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
pub struct Connector<R> {
    settings: Arc<Settings<dyn Resolve>>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Clone for Connector<R> {
    fn clone(&self) -> Self {
        Connector {
            settings: self.settings.clone(),
            runtime: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Connector<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Connector").field(&self.settings).finish()
    }
}

impl<R> From<Settings<dyn Resolve>> for Connector<R> {
    fn from(settings: Settings<dyn Resolve>) -> Self {
        Connector {
            settings: Arc::new(settings),
            runtime: PhantomData,
        }
    }
}

impl<R: Runtime> Default for Connector<R> {
    fn default() -> Self {
        Connector::builder()
            .build()
            .unwrap_or_else(|e| unreachable!("the default config is valid: {e}"))
    }
}

impl<R: Runtime> Connector<R> {
    /// Starts a builder with RFC 8305's defaults, the runtime's system resolver and history
    /// on.
    pub fn builder() -> Builder<dyn Resolve, Self> {
        Builder::new(R::SystemResolver::default())
    }

    /// Connects to `target` (`"host:port"`, `("host", port)`, a `SocketAddr`, ...).
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`eyeballs_core::Failure`] with every attempt's address and error; `InvalidInput` for
    /// a target that does not parse.
    pub async fn connect<T: ToHostPort>(&self, target: T) -> io::Result<Stream<R>> {
        self.run(target, false).await.0
    }

    /// Connects like [`Connector::connect`], giving up after `timeout` (DNS included): the
    /// connector's configuration with [`Config::timeout`] set to `timeout`.
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; `TimedOut` when the deadline passes, and `InvalidInput`
    /// for a zero `timeout`.
    pub async fn connect_timeout<T: ToHostPort>(
        &self,
        target: T,
        timeout: Duration,
    ) -> io::Result<Stream<R>> {
        let config = self.settings.config.timeout(Some(timeout));
        self.run_with(target, config, false, &PlainTcp).await.0
    }

    /// Connects like [`Connector::connect`], and also returns what happened: DNS answers,
    /// every attempt with its start, end and result, the winner and the total time.
    ///
    /// The report is `None` only when the race could not start (a target that does not
    /// parse, an unknown IPv6 zone).
    pub async fn connect_with_report<T: ToHostPort>(
        &self,
        target: T,
    ) -> (io::Result<Stream<R>>, Option<Report>) {
        self.run(target, true).await
    }

    /// Connects like [`Connector::connect_with_report`], but an attempt counts as
    /// established only when `establish` (a TLS handshake, say) has succeeded on its
    /// stream: RFC 8305 counts the TCP handshake, and Happy Eyeballs v3 (§6.1) asks to wait
    /// for TLS when TLS is used (gap G2). An `establish` error fails that attempt, so the
    /// race goes on with the others; the losers' `establish` futures are dropped.
    ///
    /// Attempt times in the report and the history then include `establish`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use eyeballs_net::{Connector, Runtime, Stream};
    ///
    /// // The caller's step (a TLS handshake, say): an attempt counts once it returns `Ok`.
    /// async fn handshake<R: Runtime>(stream: Stream<R>) -> std::io::Result<Stream<R>> {
    ///     Ok(stream)
    /// }
    ///
    /// # async fn demo<R: Runtime>(connector: Connector<R>) {
    /// let (stream, report) = connector
    ///     .connect_established_with_report("localhost:8080", handshake::<R>)
    ///     .await;
    /// # let _ = (stream, report);
    /// # }
    /// ```
    pub async fn connect_established_with_report<T, F, Fut, S>(
        &self,
        target: T,
        establish: F,
    ) -> (io::Result<S>, Option<Report>)
    where
        T: ToHostPort,
        F: Fn(Stream<R>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: Send + 'static,
    {
        let step = Step::new(establish);
        self.run_with(target, self.settings.config, true, &step)
            .await
    }

    /// Connects like [`Connector::connect_with_report`], with `handshake` doing what follows
    /// each TCP connect (TLS, say) and the QUIC attempts, and offering its protocols: the
    /// general form the TLS and QUIC connects of the drivers are made of (HEv3 §6.1).
    pub async fn connect_with_handshake<T, H>(
        &self,
        target: T,
        handshake: &H,
    ) -> (io::Result<H::Output>, Option<Report>)
    where
        T: ToHostPort,
        H: Handshake<Stream<R>>,
    {
        self.run_with(target, self.settings.config, true, handshake)
            .await
    }

    /// Connects over TCP+TLS, and QUIC where `tls` has it, with `tls`'s rustls config: an
    /// attempt counts when its handshake is done (HEv3 §6.1). See [`Tls`](crate::Tls).
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; each failed attempt's error in the
    /// [`Failure`](eyeballs_core::Failure) holds an [`AttemptError`](crate::AttemptError)
    /// naming the endpoint when TLS, QUIC or the driver rejected it.
    #[cfg(feature = "tls")]
    pub async fn connect_tls<T, S>(
        &self,
        target: T,
        tls: &crate::Tls<S>,
    ) -> io::Result<crate::Connection<S::Stream>>
    where
        T: ToHostPort,
        S: crate::TlsStack<Tcp = Stream<R>>,
    {
        self.run_with(target, self.settings.config, false, tls)
            .await
            .0
    }

    /// Connects like [`Connector::connect_tls`], and also returns the race's report.
    #[cfg(feature = "tls")]
    pub async fn connect_tls_with_report<T, S>(
        &self,
        target: T,
        tls: &crate::Tls<S>,
    ) -> (io::Result<crate::Connection<S::Stream>>, Option<Report>)
    where
        T: ToHostPort,
        S: crate::TlsStack<Tcp = Stream<R>>,
    {
        self.run_with(target, self.settings.config, true, tls).await
    }

    async fn run<T: ToHostPort>(
        &self,
        target: T,
        want_report: bool,
    ) -> (io::Result<Stream<R>>, Option<Report>) {
        self.run_with(target, self.settings.config, want_report, &PlainTcp)
            .await
    }

    async fn run_with<T: ToHostPort, H: Handshake<Stream<R>>>(
        &self,
        target: T,
        config: Config,
        want_report: bool,
        handshake: &H,
    ) -> (io::Result<H::Output>, Option<Report>) {
        match target.to_host_port() {
            Ok(target) => {
                run_async(
                    &self.settings,
                    &target,
                    config,
                    want_report,
                    R::io(),
                    handshake,
                )
                .await
            }
            Err(e) => (Err(io::Error::new(io::ErrorKind::InvalidInput, e)), None),
        }
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub fn history(&self) -> Option<History> {
        self.settings.history.snapshot()
    }

    /// Forgets the history (call it when the network attachment changes).
    pub fn clear_history(&self) {
        self.settings.history.clear();
    }

    /// Returns the race configuration.
    pub fn config(&self) -> &Config {
        &self.settings.config
    }
}
