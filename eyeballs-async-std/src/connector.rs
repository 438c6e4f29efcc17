//! The async-io `Connector`: the shared async connector on async-io, with its methods
//! documented here.

use std::future::Future;
use std::io;
use std::time::Duration;

use async_net::TcpStream;
use eyeballs_core::{Config, History, Report, ToHostPort};
use eyeballs_net::{Builder, Handshake, Resolve, Settings};

use crate::driver::AsyncIoRuntime;
use crate::resolve::SystemResolver;

/// Connects with Happy Eyeballs on async-io (async-std, smol, any executor); holds the
/// configuration, the resolver and the history.
///
/// Cloning is cheap (one `Arc`), and clones share the history, so keep one connector per
/// network attachment and use it from every task. [`Connector::default`] has RFC 8305's
/// settings and the system resolver; [`Connector::builder`] changes them.
///
/// # History
///
/// On by default: each connect records, per destination address, round-trip times and
/// failures (see [`History`]), and the next connect to the same host starts with what
/// worked. Turn it off with [`Builder::history`], look at it with [`Connector::history`],
/// and clear it with [`Connector::clear_history`] when the network changes (RFC 8305 §4,
/// R15/R16).
///
/// # Examples
///
/// Set the delays and a timeout, then see which address won:
///
/// ```
/// use std::time::Duration;
/// use eyeballs_async_std::{Config, Connector};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # smol::block_on(async {
/// let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
/// let connector = Connector::builder()
///     .config(
///         Config::default()
///             .connection_attempt_delay(Duration::from_millis(300))
///             .timeout(Some(Duration::from_secs(10))),
///     )
///     .build()?;
/// let (stream, report) = connector.connect_with_report(listener.local_addr()?).await;
/// assert_eq!(report.and_then(|r| r.winner()), Some(stream?.peer_addr()?));
/// # Ok(())
/// # })
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Connector(eyeballs_net::Connector<AsyncIoRuntime>);

/// Builds a [`Connector`]: [`Config`], [`SocketOptions`](crate::SocketOptions), resolver
/// (default [`SystemResolver`]) and history (default on). Its methods are [`Builder`]'s.
pub type ConnectorBuilder = Builder<dyn Resolve, Connector>;

impl From<Settings<dyn Resolve>> for Connector {
    fn from(settings: Settings<dyn Resolve>) -> Self {
        Connector(eyeballs_net::Connector::from(settings))
    }
}

impl Connector {
    /// Starts a builder with RFC 8305's defaults, the [`SystemResolver`] and history on.
    pub fn builder() -> ConnectorBuilder {
        Builder::new(SystemResolver)
    }

    /// Connects to `target`: anything [`async_net::TcpStream::connect`] takes (`"host:port"`,
    /// `("host", port)`, `(IpAddr, port)`, a `SocketAddr`, `&[SocketAddr]`, ...; see
    /// [`ToHostPort`]). A list of addresses races without DNS, ordered as RFC 8305 orders a DNS
    /// answer (IPv6 first, families interleaved), not tried one by one.
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`Failure`](crate::Failure) with every attempt's address and error; `InvalidInput`
    /// for a target that does not parse.
    pub async fn connect<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        self.0.connect(target).await
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
    ) -> io::Result<TcpStream> {
        self.0.connect_timeout(target, timeout).await
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
        self.0.connect_with_report(target).await
    }

    /// Connects like [`Connector::connect_with_report`], but an attempt counts as
    /// established only when `establish` (a TLS handshake, say) has succeeded on its
    /// stream (Happy Eyeballs v3 §6.1, gap G2). An `establish` error fails that attempt, so
    /// the race goes on with the others; the losers' `establish` futures are dropped.
    pub async fn connect_established_with_report<T, F, Fut, S>(
        &self,
        target: T,
        establish: F,
    ) -> (io::Result<S>, Option<Report>)
    where
        T: ToHostPort,
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: Send + 'static,
    {
        self.0
            .connect_established_with_report(target, establish)
            .await
    }

    /// Connects like [`Connector::connect_with_report`], with `handshake` doing what follows
    /// each TCP connect (a TLS handshake offering the endpoint's ALPN ids, say), making the
    /// QUIC attempts, and choosing the protocols the race offers and whether it asks for
    /// HTTPS records (HEv3 §4.1, §6.1). An attempt counts as established when its handshake
    /// is done; the race hears when its TCP part is (V33).
    pub async fn connect_with_handshake<T, H>(
        &self,
        target: T,
        handshake: &H,
    ) -> (io::Result<H::Output>, Option<Report>)
    where
        T: ToHostPort,
        H: Handshake<TcpStream>,
    {
        self.0.connect_with_handshake(target, handshake).await
    }

    /// Connects to `target` over TCP+TLS: an attempt counts once its TLS handshake is done
    /// (HEv3 §6.1, G2). Each endpoint offers every TCP ALPN id of `tls`; the server name is
    /// `target`'s host; the race asks for HTTPS records when the resolver answers them. An
    /// attempt whose TCP is up and TLS under way pushes the next start back (V33).
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]. Each failed attempt in the [`Failure`](crate::Failure)
    /// holds an [`AttemptError`](crate::AttemptError) naming its endpoint when TLS ended it
    /// (a certificate, no ALPN in common, ECH) or the driver refused it (port 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eyeballs_lab::tls::{TestCa, TlsServe, TlsServer};
    /// use eyeballs_async_std::{Connector, StaticResolver, Tls};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # smol::block_on(async {
    /// let ca = TestCa::new();
    /// let server_config = ca.server_config(&["web.example.test"], &["h2"]);
    /// let server = TlsServer::bind("127.0.0.1:0".parse()?, server_config, TlsServe::Echo)?;
    ///
    /// let tls = Tls::new(Arc::new(ca.client_config(&["h2", "http/1.1"])))?;
    /// let connector = Connector::builder()
    ///     .resolver(StaticResolver::new().host("web.example.test", [server.addr().ip()]))
    ///     .build()?;
    /// let connection = connector
    ///     .connect_tls(("web.example.test", server.addr().port()), &tls)
    ///     .await?;
    /// assert_eq!(connection.alpn().map(|a| a.to_string()).as_deref(), Some("h2"));
    /// let stream = connection.into_tls().expect("TLS over TCP"); // a futures-rustls TlsStream
    /// # let _ = stream;
    /// # Ok(())
    /// # })
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub async fn connect_tls<T: ToHostPort>(
        &self,
        target: T,
        tls: &crate::Tls,
    ) -> io::Result<crate::Connection> {
        self.0.connect_tls(target, tls).await
    }

    /// Connects like [`Connector::connect_tls`], and also returns the race's report.
    #[cfg(feature = "tls")]
    pub async fn connect_tls_with_report<T: ToHostPort>(
        &self,
        target: T,
        tls: &crate::Tls,
    ) -> (io::Result<crate::Connection>, Option<Report>) {
        self.0.connect_tls_with_report(target, tls).await
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub fn history(&self) -> Option<History> {
        self.0.history()
    }

    /// Forgets the history (call it when the network attachment changes).
    pub fn clear_history(&self) {
        self.0.clear_history();
    }

    /// Returns the race configuration.
    pub fn config(&self) -> &Config {
        self.0.config()
    }
}
