//! What a race is about: a host name or addresses, and the protocols the caller speaks.

use std::net::SocketAddr;

use crate::alt_svc::AltService;
use crate::endpoint::Protocols;
use crate::name::Name;
use crate::resolution::https_query_name;
use crate::small::SmallBuf;
use crate::source::Source;

/// What a race connects to: a host name to resolve, or addresses given directly, and the
/// application protocols the caller speaks.
///
/// By default a race is RFC 8305's: AAAA and A queries, plain TCP. [`Target::https`] adds the
/// HTTPS query of Happy Eyeballs v3 (§4.1), and [`Target::protocols`] says which ALPN ids
/// the caller speaks over TCP and QUIC (§6.2).
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Protocols, Target};
///
/// let tcp = Target::host("example.test", 443); // AAAA and A, plain TCP
/// let web = Target::host("example.test", 443).https(true).protocols(Protocols::http());
/// let literal = Target::addrs(["[::1]:443".parse().unwrap(), "127.0.0.1:443".parse().unwrap()]);
/// assert_eq!(web.https_query_name().unwrap().as_str(), "example.test");
/// assert_eq!(
///     Target::host("example.test", 8443).https(true).https_query_name().unwrap().as_str(),
///     "_8443._https.example.test"
/// );
/// # let _ = (tcp, literal);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub(crate) kind: TargetKind,
    pub(crate) protocols: Protocols,
    pub(crate) https: bool,
    pub(crate) http_origin: bool,
    /// One inline: a literal's one fact allocates nothing.
    pub(crate) sources: SmallBuf<Source, 1>,
    pub(crate) alts: Vec<AltService>,
    /// The origin a proxy reaches for this race (V60): the race resolves the proxy.
    pub(crate) origin: Option<Box<(Name, u16)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetKind {
    Host {
        name: Name,
        port: u16,
        combined: bool,
    },
    /// Two inline: a dual-stack pair allocates nothing.
    Addrs(SmallBuf<SocketAddr, 2>),
}

/// An empty list of source facts.
pub(crate) fn no_sources() -> SmallBuf<Source, 1> {
    SmallBuf::new(Source::unreachable(std::net::IpAddr::V4(
        std::net::Ipv4Addr::UNSPECIFIED,
    )))
}

impl Target {
    /// A host name resolved with two queries, AAAA then A (R1), answered separately, so the
    /// Resolution Delay (R5) and late-answer merging (R8) apply.
    pub fn host(name: impl Into<Name>, port: u16) -> Self {
        Target::with_kind(TargetKind::Host {
            name: name.into(),
            port,
            combined: false,
        })
    }

    /// A host name resolved with one query that returns both families at once, as
    /// `getaddrinfo` does (R3's fallback). Its order is kept among equal RFC 6724 keys.
    pub fn host_combined(name: impl Into<Name>, port: u16) -> Self {
        Target::with_kind(TargetKind::Host {
            name: name.into(),
            port,
            combined: true,
        })
    }

    /// Addresses given directly, such as IP literals: no DNS at all.
    pub fn addrs<I: IntoIterator<Item = SocketAddr>>(addrs: I) -> Self {
        let mut list = SmallBuf::new(SocketAddr::from(([0, 0, 0, 0], 0)));
        list.extend(addrs);
        Target::with_kind(TargetKind::Addrs(list))
    }

    fn with_kind(kind: TargetKind) -> Self {
        Target {
            kind,
            protocols: Protocols::new(),
            https: false,
            http_origin: false,
            sources: no_sources(),
            alts: Vec::new(),
            origin: None,
        }
    }

    /// A race through a proxy (HEv3 V60, HG20): `proxy` says where the proxy is (a host
    /// name, resolved and raced as any host is: AAAA and A, RFC 8305's order, interleaving,
    /// attempt delay and history, or addresses given directly), and every attempt asks the
    /// proxy for `origin`:`port` by name (HTTP CONNECT, SOCKS5), so the proxy, not the
    /// race, resolves the origin: no address query is ever sent for it.
    ///
    /// Only TCP endpoints race: CONNECT and SOCKS5 tunnel TCP, and QUIC through a proxy
    /// (MASQUE) is not built, so the caller's QUIC ids are dropped; a caller who speaks only
    /// QUIC gets [`ConfigError::ProxyNeedsTcp`](crate::ConfigError::ProxyNeedsTcp).
    /// With [`Target::https`] the *origin's* HTTPS record is asked for (off by default: a
    /// proxy is often there so that the client makes no lookups of its own), and from it
    /// only ALPN and ECH apply, to the proxy's endpoints: never its TargetName, hints or
    /// port, since the proxy resolves the origin at the authority's port (HG20). An ECH
    /// configuration holds the ClientHello through the tunnel until the answer is in, as
    /// any ECH gate does (V34, HG6, HG15). [`Target::alt_svc`] and the `proxy`'s own
    /// protocols, HTTPS flag and alternatives are ignored; its source addresses are kept.
    ///
    /// # Examples
    ///
    /// ```
    /// use eyeballs_core::{Protocols, Target};
    ///
    /// let t = Target::proxied(Target::host("proxy.test", 3128), "origin.test", 443)
    ///     .https(true)
    ///     .protocols(Protocols::http());
    /// assert_eq!(t.name().unwrap().as_str(), "proxy.test"); // what the race resolves
    /// assert_eq!(t.port(), 3128);
    /// let (origin, port) = t.origin().unwrap(); // what every attempt asks the proxy for
    /// assert_eq!((origin.as_str(), port), ("origin.test", 443));
    /// assert_eq!(t.https_query_name().unwrap().as_str(), "origin.test");
    /// ```
    pub fn proxied(proxy: Target, origin: impl Into<Name>, port: u16) -> Self {
        let mut t = Target::with_kind(proxy.kind);
        t.sources = proxy.sources;
        t.origin = Some(Box::new((origin.into(), port)));
        t
    }

    /// Returns the origin a proxied target's attempts ask the proxy for
    /// ([`Target::proxied`]), or `None` for a direct one.
    pub fn origin(&self) -> Option<(&Name, u16)> {
        self.origin.as_deref().map(|(name, port)| (name, *port))
    }

    /// Gives the source addresses of destinations known before the race starts, as
    /// [`Input::Sources`](crate::Input::Sources) does later: for addresses given directly,
    /// whose first attempt starts in [`Race::new`](crate::Race::new), this is the only way
    /// their history applies.
    pub fn sources<I: IntoIterator<Item = Source>>(mut self, sources: I) -> Self {
        self.sources.extend(sources);
        self
    }

    /// Asks for HTTPS records too (HEv3 §4.1, V1), default off: on for https and wss,
    /// off for protocols without HTTPS records. The query goes out first, then AAAA and A
    /// (V3). Needs ALPN ids in [`Target::protocols`] to be of any use. No effect on
    /// addresses given directly.
    ///
    /// The query name follows the port (V2): for an `http` URL, which RFC 9460 §9.5 looks up
    /// in its `https` form, pass port 443. A ServiceMode TargetName `.` stands for the host
    /// (or the last alias target) also under a `_PORT._https` query name (V9).
    pub fn https(mut self, on: bool) -> Self {
        self.https = on;
        self
    }

    /// Says the authority is an `http` origin whose connection may have to become `https`
    /// (RFC 9460 §9.5; HEv3 §11, V37), default off. No effect on addresses given directly.
    ///
    /// The race asks for the HTTPS records of the origin's `https` form (port 80 becomes
    /// 443, V2), whatever [`Target::https`] says, and races plain TCP to the host's
    /// addresses. When the answer (at the end of any alias chain) holds a ServiceMode
    /// record, the connection must use TLS: the race ends with
    /// [`FailureReason::UpgradeToHttps`](crate::FailureReason::UpgradeToHttps), every
    /// attempt cancelled, and the caller connects again with TLS to the `https` form. With
    /// [`Config::protected_dns`](crate::Config::protected_dns), no cleartext is sent before
    /// the answer: TCP connects with its first data held
    /// ([`Action::ConnectHeld`](crate::Action::ConnectHeld), released by
    /// [`Action::Handshake`](crate::Action::Handshake) on a negative answer, as ECH holds a
    /// ClientHello, HG15), and a failed query ends the race (V36). On DNS that is not
    /// protected nothing is held: a connection made before a positive answer wins.
    ///
    /// # Examples
    ///
    /// ```
    /// use eyeballs_core::Target;
    ///
    /// let http = Target::host("example.test", 80).http_origin(true);
    /// assert_eq!(http.https_query_name().unwrap().as_str(), "example.test");
    /// let other = Target::host("example.test", 8080).http_origin(true);
    /// assert_eq!(other.https_query_name().unwrap().as_str(), "_8080._https.example.test");
    /// ```
    pub fn http_origin(mut self, on: bool) -> Self {
        self.http_origin = on;
        self
    }

    /// Returns whether the target is an `http` origin ([`Target::http_origin`]).
    pub fn is_http_origin(&self) -> bool {
        self.http_origin
    }

    /// Adds an alternative service the origin announced (`Alt-Svc`, RFC 7838; HEv3 V41,
    /// V59): it races as a service group of its own, after the HTTPS records' groups and
    /// before the addresses without a service (HG17), its host with its own AAAA, A
    /// and (with [`Target::https`]) HTTPS queries. See [`AltService`]. No effect on
    /// addresses given directly. At most [`MAX_ALT_SERVICES`](crate::MAX_ALT_SERVICES) are
    /// used, in the order added.
    pub fn alt_svc(mut self, alt: AltService) -> Self {
        self.alts.push(alt);
        self
    }

    /// Returns the alternative services added with [`Target::alt_svc`].
    pub fn alt_services(&self) -> &[AltService] {
        &self.alts
    }

    /// Sets the application protocols the caller speaks, default plain TCP.
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.protocols = protocols;
        self
    }

    /// Returns the host name the race resolves (a proxied target's: the proxy's), or
    /// `None` for addresses given directly.
    pub fn name(&self) -> Option<&Name> {
        match &self.kind {
            TargetKind::Host { name, .. } => Some(name),
            TargetKind::Addrs(_) => None,
        }
    }

    /// Returns the port the race connects to: the authority's (for addresses given
    /// directly, the first one's; for a proxied target, the proxy's).
    pub fn port(&self) -> u16 {
        match &self.kind {
            TargetKind::Host { port, .. } => *port,
            TargetKind::Addrs(addrs) => addrs.first().map_or(0, SocketAddr::port),
        }
    }

    /// Returns the caller's protocols.
    pub fn protocols_spoken(&self) -> &Protocols {
        &self.protocols
    }

    /// Returns the name the HTTPS query asks about (RFC 9460 §9.1, V2): the host for port
    /// 443, `_PORT._https.HOST` otherwise (for an [`http_origin`](Target::http_origin), of
    /// its `https` form: port 80 as 443); `None` when no HTTPS query is sent. For a
    /// proxied target, the origin's (V60, HG20), whatever the proxy is.
    #[inline]
    pub fn https_query_name(&self) -> Option<Name> {
        if let Some((name, port)) = self.origin() {
            return self.https.then(|| https_query_name(name, port));
        }
        match &self.kind {
            // RFC 9460 §9.5: an http origin is looked up in its https form.
            TargetKind::Host { name, port, .. } if self.http_origin => {
                let port = if *port == 80 { 443 } else { *port };
                Some(https_query_name(name, port))
            }
            TargetKind::Host { name, port, .. } if self.https => {
                Some(https_query_name(name, *port))
            }
            _ => None,
        }
    }
}
