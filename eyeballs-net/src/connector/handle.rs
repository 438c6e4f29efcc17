//! The connector users hold: cheap to clone, one per network attachment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::{AltService, Config, History};

use super::settings::Settings;

/// Connects with Happy Eyeballs (RFC 8305, and HEv3 for TLS and QUIC) on the runtime `R`;
/// holds the configuration, the resolver, the history, the DNS cache (off by default) and what the host knows of its
/// routes. Every driver's `Connector` is this type: `eyeballs_tokio::Connector` is
/// `Connector<Tokio>`, `eyeballs_async_std::Connector` is `Connector<AsyncIo>`,
/// `eyeballs_blocking::Connector` is `Connector<Blocking>` (with blocking methods), and a
/// runtime of yours works the same way (see [`runtime`](crate::runtime)).
///
/// Cloning is cheap (one `Arc`), and clones share the history, so keep one connector per
/// network attachment and use it from every task or thread.
///
/// # History
///
/// On by default: each connect records, per source address, destination and transport,
/// round-trip times and failures (see [`History`]), and the next connect to the same host
/// starts with what worked: after a broken IPv6 path it goes straight to IPv4, after QUIC
/// failed from this network TCP goes first. Turn it off with
/// [`ConnectorBuilder::history`](crate::ConnectorBuilder::history), look at it with
/// [`Connector::history`], and clear it with [`Connector::clear_history`] when the network
/// changes (RFC 8305 §4, R15/R16). A race reads only the entries of its own destinations.
///
/// # What a connect does with its sockets
///
/// - Losing attempts are closed the moment the winner is known.
/// - Dropping a connect's future (or returning from a blocking connect) closes every
///   socket it opened and withdraws its lookups; a `getaddrinfo` already running finishes
///   on its resolver-pool thread, and its answer is dropped.
/// - A TLS or QUIC handshake that does not finish within the handshake timeout (10 s by
///   default) fails its attempt, so a server that accepts and never answers cannot hold a
///   connect.
///
/// # Memory between connects
///
/// A connector keeps its last finished race (a few kilobytes: only a race of at most 64
/// attempts and 64 answered addresses and service records is kept), and the next connect
/// builds its race in that memory ([`Race::restart`](eyeballs_core::Race::restart)): a
/// connect to an address then allocates nothing for its race but, with the history on, the
/// race's copy of its destinations' entries. One race per connector, shared by its clones;
/// connects that run at the same time build their own.
pub struct Connector<R> {
    settings: Arc<Settings>,
    runtime: R,
}

impl<R: Clone> Clone for Connector<R> {
    fn clone(&self) -> Self {
        Connector {
            settings: self.settings.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<R> fmt::Debug for Connector<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Connector").field(&self.settings).finish()
    }
}

impl<R> Connector<R> {
    pub(crate) fn from_settings(settings: Settings, runtime: R) -> Self {
        Connector {
            settings: Arc::new(settings),
            runtime,
        }
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn runtime(&self) -> &R {
        &self.runtime
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub fn history(&self) -> Option<History> {
        self.settings.history.snapshot()
    }

    /// Forgets the history (call it when the network attachment changes, R16).
    pub fn clear_history(&self) {
        self.settings.history.clear();
    }

    /// Remembers the alternative services (RFC 7838 `Alt-Svc`) that the origin `host`:`port`
    /// announced, replacing those it had (as a new `Alt-Svc` field value does, §3); none
    /// forgets the origin (`Alt-Svc: clear`). Clones of the connector share them.
    ///
    /// Every TLS connect to that origin (`connect_tls` and the others that race TLS and
    /// QUIC, feature `tls`; eyeballs-tokio's hyper `HttpsConnector` too) then races the
    /// alternatives that have not expired: each as a service group of its own after the
    /// HTTPS records' and before the plain addresses (HG17), its host with its own
    /// AAAA and A queries (and HTTPS query, when the resolver answers them), an `h3` one
    /// over QUIC where the connect offers `h3` (V41). The TLS server name stays the
    /// origin's, so each alternative's certificate is checked against the origin (§2.1).
    /// Plain TCP connects and IP-literal targets use none: without a certificate check,
    /// nothing says the alternative speaks for the origin.
    ///
    /// Bounded: at most [`ALT_SVC_ORIGINS`](crate::ALT_SVC_ORIGINS) origins (setting one
    /// more forgets the one set longest ago), each with at most
    /// [`MAX_ALT_SERVICES`](eyeballs_core::MAX_ALT_SERVICES) alternatives. Expiries
    /// ([`AltService::expires`]) are compared with the runtime's clock when a race starts;
    /// expired alternatives are forgotten then. [`AltSvcValue`](crate::AltSvcValue)
    /// parses a response's field value and sets the expiries from its `ma`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use eyeballs_core::AltService;
    /// use eyeballs_net::{AltSvcValue, Connector};
    /// # #[derive(Clone, Default)] struct MyRuntime;
    ///
    /// let connector = Connector::<MyRuntime>::default();
    /// // A response from https://www.example.test said `Alt-Svc: h3=":8443"; ma=3600`.
    /// let value: AltSvcValue = r#"h3=":8443"; ma=3600"#.parse()?;
    /// connector.set_alt_svc("www.example.test", 443, value.services(Instant::now()));
    /// assert_eq!(connector.alt_svc("www.example.test", 443)[0].port(), 8443);
    ///
    /// // Or by hand, with no expiry.
    /// connector.set_alt_svc("www.example.test", 443, [AltService::new("alt.example.test", 443).alpn(["h2"])]);
    /// assert_eq!(connector.alt_svc("www.example.test", 443).len(), 1);
    ///
    /// // `Alt-Svc: clear`.
    /// connector.set_alt_svc("www.example.test", 443, AltSvcValue::parse("clear")?.services(Instant::now()));
    /// assert!(connector.alt_svc("www.example.test", 443).is_empty());
    /// # Ok::<(), eyeballs_net::AltSvcError>(())
    /// ```
    pub fn set_alt_svc<I>(&self, host: &str, port: u16, alts: I)
    where
        I: IntoIterator<Item = AltService>,
    {
        self.settings.alt_svc.set(host, port, alts);
    }

    /// Returns the alternative services remembered for the origin `host`:`port` (see
    /// [`Connector::set_alt_svc`]), expired ones not yet forgotten included.
    pub fn alt_svc(&self, host: &str, port: u16) -> Vec<AltService> {
        self.settings.alt_svc.get(host, port)
    }

    /// Forgets every origin's alternative services (call it when the network attachment
    /// changes: RFC 7838 §2.2 lets clients keep them only while it is the same).
    pub fn clear_alt_svc(&self) {
        self.settings.alt_svc.clear();
    }

    /// Forgets every answer of the DNS cache (see
    /// [`ConnectorBuilder::dns_cache`](crate::ConnectorBuilder::dns_cache)): call it with
    /// [`Connector::clear_history`] when the network attachment changes, since another
    /// network's DNS may answer differently.
    pub fn clear_dns_cache(&self) {
        self.settings.dns_cache.clear();
    }

    /// Returns how many answers the DNS cache holds (0 when it is off), expired ones
    /// included until they are dropped.
    pub fn dns_cache_entries(&self) -> usize {
        self.settings.dns_cache.len()
    }

    /// Returns the proxy every connect goes through, if any
    /// ([`ConnectorBuilder::proxy`](crate::ConnectorBuilder::proxy)).
    pub fn proxy(&self) -> Option<&crate::Proxy> {
        self.settings.proxy.as_ref()
    }

    /// Returns the race configuration.
    pub fn config(&self) -> &Config {
        &self.settings.config
    }

    /// Returns how long a TLS or QUIC handshake may take before its attempt fails as
    /// stalled.
    pub fn handshake_timeout(&self) -> Duration {
        self.settings.handshake_timeout
    }
}
