//! Service records (SVCB/HTTPS, RFC 9460) as the core reads them: typed, never wire format.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::endpoint::{Alpn, EchConfig, Protocols, Transport};
use crate::name::Name;

/// The most ServiceMode records a race takes from one answer (the lowest priorities are kept;
/// ties keep the answer's order). RFC 9460 sets no limit; 64 is far more than any zone uses.
pub const MAX_SERVICE_RECORDS: usize = 64;
/// The most hints of each family a race takes from one record.
pub const MAX_HINTS: usize = 64;

/// SvcParamKeys this crate understands (RFC 9460 §14.3.2, RFC 9848): `alpn` (1),
/// `no-default-alpn` (2), `port` (3), `ipv4hint` (4), `ech` (5, only when ECH is on),
/// `ipv6hint` (6).
const KEY_ALPN: u16 = 1;
const KEY_ECH: u16 = 5;
const KEY_IPV6HINT: u16 = 6;

/// One HTTPS (or SVCB) record, typed: what the driver's resolver decoded from the wire.
///
/// SvcPriority 0 is AliasMode (RFC 9460 §2.4.2): the record only names another host whose
/// records to ask for. Anything else is ServiceMode (§2.4.3): a service at TargetName (`.`
/// means the record's owner) with parameters.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Alpn, ServiceRecord};
///
/// // example.test. HTTPS 1 . alpn=h3,h2 ipv6hint=2001:db8::1
/// let record = ServiceRecord::new(1, ".")
///     .alpn(["h3", "h2"])
///     .ipv6_hints(["2001:db8::1".parse().unwrap()]);
/// assert!(!record.is_alias());
/// assert_eq!(record.alpn_ids(), &[Alpn::from("h3"), Alpn::from("h2")]);
/// let alias = ServiceRecord::alias("cdn.example.test");
/// assert!(alias.is_alias());
/// ```
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceRecord {
    priority: u16,
    target: Option<Name>,
    alpn: Vec<Alpn>,
    no_default_alpn: bool,
    port: Option<u16>,
    ipv4_hints: Vec<Ipv4Addr>,
    ipv6_hints: Vec<Ipv6Addr>,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_impls::has_ech")
    )]
    ech: Option<EchConfig>,
    mandatory: Vec<u16>,
}

impl ServiceRecord {
    /// A record with this SvcPriority and TargetName, and no parameters yet.
    pub fn new(priority: u16, target: impl Into<Name>) -> Self {
        ServiceRecord {
            priority,
            target: Some(target.into()),
            ..ServiceRecord::default()
        }
    }

    /// An AliasMode record (SvcPriority 0) pointing at `target`; `.` means "no service".
    pub fn alias(target: impl Into<Name>) -> Self {
        ServiceRecord::new(0, target)
    }

    /// Sets the `alpn` key: the record's application protocols.
    pub fn alpn<I, A>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<Alpn>,
    {
        self.alpn = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the `no-default-alpn` key: the scheme's default (`http/1.1`) is not offered.
    pub fn no_default_alpn(mut self, on: bool) -> Self {
        self.no_default_alpn = on;
        self
    }

    /// Sets the `port` key: connect here instead of the authority's port (V42).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the `ipv4hint` key.
    pub fn ipv4_hints<I: IntoIterator<Item = Ipv4Addr>>(mut self, hints: I) -> Self {
        self.ipv4_hints = hints.into_iter().collect();
        self
    }

    /// Sets the `ipv6hint` key.
    pub fn ipv6_hints<I: IntoIterator<Item = Ipv6Addr>>(mut self, hints: I) -> Self {
        self.ipv6_hints = hints.into_iter().collect();
        self
    }

    /// Sets the `ech` key (RFC 9848).
    pub fn ech(mut self, config: EchConfig) -> Self {
        self.ech = Some(config);
        self
    }

    /// Sets the `mandatory` key: the SvcParamKeys a client must understand to use the record.
    /// A key this crate does not know (or `ech` when ECH is off) makes the record unusable
    /// (RFC 9460 §8, V12).
    pub fn mandatory<I: IntoIterator<Item = u16>>(mut self, keys: I) -> Self {
        self.mandatory = keys.into_iter().collect();
        self
    }

    /// Returns the SvcPriority: 0 for AliasMode.
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// Returns whether this is an AliasMode record.
    pub fn is_alias(&self) -> bool {
        self.priority == 0
    }

    /// Returns the TargetName (the root `.` for "the owner").
    pub fn target(&self) -> Name {
        self.target.clone().unwrap_or_else(Name::root)
    }

    /// Returns the `alpn` ids.
    pub fn alpn_ids(&self) -> &[Alpn] {
        &self.alpn
    }

    /// Returns whether `no-default-alpn` is set.
    pub fn is_no_default_alpn(&self) -> bool {
        self.no_default_alpn
    }

    /// Returns the `port` key.
    pub fn port_key(&self) -> Option<u16> {
        self.port
    }

    /// Returns the `ipv4hint` addresses.
    pub fn ipv4_hint_addrs(&self) -> &[Ipv4Addr] {
        &self.ipv4_hints
    }

    /// Returns the `ipv6hint` addresses.
    pub fn ipv6_hint_addrs(&self) -> &[Ipv6Addr] {
        &self.ipv6_hints
    }

    /// Returns the `ech` configuration.
    pub fn ech_config(&self) -> Option<&EchConfig> {
        self.ech.as_ref()
    }

    /// Returns the `mandatory` keys.
    pub fn mandatory_keys(&self) -> &[u16] {
        &self.mandatory
    }

    /// What a proxied race takes of a ServiceMode record (V60, HG20): its ALPN and ECH, at
    /// the proxy (TargetName `.`, the name the race resolves), with no port and no hints,
    /// since the proxy resolves the origin at the authority's port.
    pub(crate) fn through_proxy(&self) -> ServiceRecord {
        ServiceRecord {
            priority: self.priority,
            target: Some(Name::root()),
            alpn: self.alpn.clone(),
            no_default_alpn: self.no_default_alpn,
            port: None,
            ipv4_hints: Vec::new(),
            ipv6_hints: Vec::new(),
            ech: self.ech.clone(),
            mandatory: self.mandatory.clone(),
        }
    }

    /// Decides whether a client that speaks `protocols` (and ECH, when `ech`) can use this
    /// ServiceMode record, and over which transports (V12, V38–V40).
    pub(crate) fn usable(&self, protocols: &Protocols, ech: bool) -> Option<Transports> {
        let known = |k: u16| (KEY_ALPN..=KEY_IPV6HINT).contains(&k) && (ech || k != KEY_ECH);
        if self.is_alias()
            || self.mandatory.iter().any(|&k| !known(k))
            || (self.no_default_alpn && self.alpn.is_empty())
            || self.port == Some(0)
        {
            return None;
        }
        // V38: the record's set is its alpn ids plus the scheme's default, http/1.1.
        let default = Alpn::from("http/1.1");
        let offers = |a: &Alpn| self.alpn.contains(a) || (!self.no_default_alpn && *a == default);
        let speaks = |t: Transport| protocols.alpn(t).iter().any(offers);
        let t = Transports {
            tcp: speaks(Transport::Tcp),
            quic: speaks(Transport::Quic),
        };
        (t.tcp || t.quic).then_some(t)
    }
}

/// The transports a usable record offers a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transports {
    pub(crate) tcp: bool,
    pub(crate) quic: bool,
}

impl Transports {
    /// The transports both allow, or `None` when there are none.
    pub(crate) fn and(self, other: Transports) -> Option<Transports> {
        let t = Transports {
            tcp: self.tcp && other.tcp,
            quic: self.quic && other.quic,
        };
        (t.tcp || t.quic).then_some(t)
    }
}
