//! What a race tries: endpoints (HEv3 §5), and the protocols the caller speaks (§6.2).

use core::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use crate::name::Name;

/// The transport of an endpoint.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// TCP (with TLS on top when the endpoint has ALPN ids).
    Tcp,
    /// QUIC (RFC 9000) over UDP.
    Quic,
}

/// Every transport, in declaration order (history copies each one's entries).
pub(crate) const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Quic];

// A new transport stops this match from compiling until it joins `TRANSPORTS` above.
const _: () = match Transport::Tcp {
    Transport::Tcp | Transport::Quic => {}
};

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "TCP",
            Transport::Quic => "QUIC",
        })
    }
}

/// An ALPN protocol id (RFC 7301), such as `h2` or `h3`: 1 to 255 bytes.
///
/// # Examples
///
/// ```
/// use eyeballs_core::Alpn;
///
/// let h3 = Alpn::from("h3");
/// assert_eq!(h3.as_bytes(), b"h3");
/// assert_eq!(h3.to_string(), "h3");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Alpn(Box<[u8]>);

impl Alpn {
    /// Makes an id from its bytes. Its length is checked when a race starts
    /// ([`ConfigError::InvalidAlpn`](crate::ConfigError::InvalidAlpn)).
    pub fn new(id: &[u8]) -> Self {
        Alpn(id.into())
    }

    /// Returns the id's bytes, as a TLS ClientHello carries them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Returns whether RFC 7301 allows this id (1 to 255 bytes).
    pub fn is_valid(&self) -> bool {
        (1..=255).contains(&self.0.len())
    }
}

impl From<&str> for Alpn {
    fn from(id: &str) -> Self {
        Alpn::new(id.as_bytes())
    }
}

impl From<&[u8]> for Alpn {
    fn from(id: &[u8]) -> Self {
        Alpn::new(id)
    }
}

impl fmt::Display for Alpn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(&self.0) {
            Ok(s) if s.bytes().all(|b| b.is_ascii_graphic()) => f.write_str(s),
            _ => {
                f.write_str("0x")?;
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl fmt::Debug for Alpn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Alpn({self})")
    }
}

/// An Encrypted ClientHello configuration list, as an HTTPS record's `ech` key carries it
/// (RFC 9848). The core only compares and passes it on; the driver's TLS stack reads it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EchConfig(Arc<[u8]>);

impl EchConfig {
    /// Wraps the bytes of an `ECHConfigList`.
    pub fn new(bytes: &[u8]) -> Self {
        EchConfig(bytes.into())
    }

    /// Returns the `ECHConfigList` bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for EchConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EchConfig({} bytes)", self.0.len())
    }
}

/// The application protocols the caller speaks, and which transport each runs on
/// (HEv3 §6.2, V38–V40).
///
/// The default, [`Protocols::new`], is plain TCP with no ALPN: RFC 8305's race. With ALPN
/// ids, every endpoint offers *all* the caller's ids for its transport (V39): a TCP endpoint
/// offers `h2` and `http/1.1` even when the record lists only `http/1.1`.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Protocols, Transport};
///
/// let http = Protocols::http(); // h3 over QUIC; h2 and http/1.1 over TCP
/// assert!(http.speaks(Transport::Quic));
/// let tcp_only = Protocols::new().tcp("h2").tcp("http/1.1");
/// assert!(!tcp_only.speaks(Transport::Quic));
/// assert!(Protocols::new().speaks(Transport::Tcp)); // plain TCP
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Protocols {
    // `None` is an empty list, so that plain TCP allocates nothing.
    tcp: Option<Arc<[Alpn]>>,
    quic: Option<Arc<[Alpn]>>,
}

impl Protocols {
    /// Plain TCP, no ALPN: the RFC 8305 race.
    pub fn new() -> Self {
        Protocols::default()
    }

    /// HTTP in every version: `h3` over QUIC, `h2` and `http/1.1` over TCP (TLS).
    pub fn http() -> Self {
        Protocols::new().quic("h3").tcp("h2").tcp("http/1.1")
    }

    /// Adds an ALPN id spoken over TCP (TLS), after the ones already added (the order is the
    /// ClientHello's order of preference). A repeated id is ignored.
    pub fn tcp(mut self, alpn: impl Into<Alpn>) -> Self {
        self.tcp = Some(push(self.alpn(Transport::Tcp), alpn.into()));
        self
    }

    /// Adds an ALPN id spoken over QUIC, after the ones already added.
    pub fn quic(mut self, alpn: impl Into<Alpn>) -> Self {
        self.quic = Some(push(self.alpn(Transport::Quic), alpn.into()));
        self
    }

    /// Returns the ids offered over `transport`, in order of preference.
    pub fn alpn(&self, transport: Transport) -> &[Alpn] {
        let list = match transport {
            Transport::Tcp => &self.tcp,
            Transport::Quic => &self.quic,
        };
        list.as_deref().unwrap_or_default()
    }

    /// Returns whether the caller speaks anything over `transport`. Plain TCP (no ids at all)
    /// speaks TCP.
    pub fn speaks(&self, transport: Transport) -> bool {
        match transport {
            Transport::Tcp => {
                !self.alpn(Transport::Tcp).is_empty() || self.alpn(Transport::Quic).is_empty()
            }
            Transport::Quic => !self.alpn(Transport::Quic).is_empty(),
        }
    }

    /// The TCP half only: what a proxied race speaks (V60, HG20).
    pub(crate) fn tcp_only(&self) -> Protocols {
        Protocols {
            tcp: self.tcp.clone(),
            quic: None,
        }
    }

    /// Returns the first id that RFC 7301 does not allow (empty, or over 255 bytes).
    #[inline]
    pub(crate) fn invalid(&self) -> Option<&Alpn> {
        // Plain TCP (most races) has no id to check.
        if self.tcp.is_none() && self.quic.is_none() {
            return None;
        }
        let all = self.alpn(Transport::Tcp).iter();
        all.chain(self.alpn(Transport::Quic))
            .find(|a| !a.is_valid())
    }

    pub(crate) fn shared(&self, transport: Transport) -> Option<Arc<[Alpn]>> {
        match transport {
            Transport::Tcp => self.tcp.clone(),
            Transport::Quic => self.quic.clone(),
        }
    }
}

fn push(list: &[Alpn], alpn: Alpn) -> Arc<[Alpn]> {
    let mut v = list.to_vec();
    if !v.contains(&alpn) {
        v.push(alpn);
    }
    v.into()
}

/// Where an endpoint came from (HEv3 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provenance {
    /// A plain A/AAAA answer for the host, or an address given directly: no service
    /// information (RFC 8305; HEv3 V21, the last group).
    Address,
    /// A ServiceMode HTTPS record (RFC 9460): its hints, or the addresses of its TargetName.
    Service {
        /// The record's SvcPriority (1 or more; lower is preferred).
        priority: u16,
        /// The effective TargetName: the host itself for `.`, the last alias target after
        /// aliases.
        target: Name,
    },
    /// The last alias target's own addresses, with the authority's port and no parameters:
    /// RFC 9460 §3's last resort after an AliasMode hop (V11).
    AliasFallback {
        /// The last alias target.
        target: Name,
    },
    /// An alternative service the caller gave ([`Target::alt_svc`](crate::Target::alt_svc),
    /// HEv3 V59): its host's addresses at its port, or, when its HTTPS query found
    /// ServiceMode records, a record's endpoints (RFC 9460 §9.3: at the record's TargetName
    /// and port).
    AltSvc {
        /// The alternative's host (the origin's for an `Alt-Svc` without one).
        host: Name,
        /// The SvcPriority of the alternative's record it came from, if any.
        priority: Option<u16>,
    },
}

/// One thing a race can try: an address and port, a transport, the ALPN ids its handshake
/// offers, an ECH configuration, and where it came from.
///
/// [`Action::Connect`](crate::Action::Connect) hands one to the driver, which opens the
/// socket its transport needs, offers [`Endpoint::alpn`] in its TLS or QUIC handshake and,
/// with [`Endpoint::ech`], encrypts the ClientHello. New fields only ever come with new
/// accessors.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Endpoint, Transport};
///
/// let e = Endpoint::new("[2001:db8::1]:443".parse().unwrap(), Transport::Tcp);
/// assert_eq!(e.to_string(), "TCP [2001:db8::1]:443");
/// assert!(e.alpn().is_empty());
/// ```
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub(crate) addr: SocketAddr,
    pub(crate) transport: Transport,
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::serde_impls::alpn"))]
    pub(crate) alpn: Option<Arc<[Alpn]>>,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_impls::has_ech")
    )]
    pub(crate) ech: Option<EchConfig>,
    #[cfg_attr(
        feature = "serde",
        serde(rename = "priority", serialize_with = "crate::serde_impls::priority")
    )]
    pub(crate) provenance: Provenance,
    pub(crate) nat64: Option<Ipv4Addr>,
}

impl Endpoint {
    /// An endpoint with no ALPN, no ECH and no service information (for tests and for
    /// [`History`](crate::History) lookups).
    pub fn new(addr: SocketAddr, transport: Transport) -> Self {
        Endpoint {
            addr,
            transport,
            alpn: None,
            ech: None,
            provenance: Provenance::Address,
            nat64: None,
        }
    }

    /// Returns the socket address to connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Returns the ALPN ids the handshake offers, in order of preference: every id the caller
    /// speaks over this transport (V39). Empty for plain TCP.
    pub fn alpn(&self) -> &[Alpn] {
        self.alpn.as_deref().unwrap_or_default()
    }

    /// Returns the ECH configuration to encrypt the ClientHello with, if the record had one.
    pub fn ech(&self) -> Option<&EchConfig> {
        self.ech.as_ref()
    }

    /// Returns the IPv4 address this endpoint reaches through NAT64, when its address is
    /// that address synthesized with the NAT64 prefix (HEv3 at HEAD §8.3, V52: an IPv4
    /// endpoint without an IPv4 route; also a DNS64 AAAA answer, de-synthesized and
    /// synthesized again, V51). It was grouped and sorted as this IPv4 address (V62).
    pub fn nat64_ipv4(&self) -> Option<Ipv4Addr> {
        self.nat64
    }

    /// Returns where this endpoint came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Returns the SvcPriority of the record it came from, if any.
    pub fn priority(&self) -> Option<u16> {
        match &self.provenance {
            Provenance::Service { priority, .. } => Some(*priority),
            _ => None,
        }
    }

    /// The identity of an endpoint for deduplication (HG11): address, port, transport, ECH.
    pub(crate) fn key(&self) -> EndpointKey {
        EndpointKey {
            addr: self.addr,
            transport: self.transport,
            ech: self.ech.clone(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.transport, self.addr)?;
        let mut sep = " ";
        for a in self.alpn() {
            write!(f, "{sep}{a}")?;
            sep = ",";
        }
        if self.ech.is_some() {
            f.write_str(" ECH")?;
        }
        Ok(())
    }
}

/// What makes two endpoints the same attempt (HG11).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EndpointKey {
    pub(crate) addr: SocketAddr,
    pub(crate) transport: Transport,
    pub(crate) ech: Option<EchConfig>,
}
