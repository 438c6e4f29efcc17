//! Parsing what callers connect to: `"host:port"`, `("host", port)`, IP literals with or
//! without brackets, IPv6 literals with a zone (`[fe80::1%eth0]:80`). Shared by every adapter.

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use crate::target::Target;

/// A host and a port, parsed.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Host, HostPort};
///
/// let hp: HostPort = "[fe80::1%lo]:8080".parse()?;
/// assert_eq!(hp.port(), 8080);
/// assert!(matches!(hp.host(), Host::ZonedIpv6 { zone, .. } if zone == "lo"));
/// assert!(matches!("localhost:80".parse::<HostPort>()?.host(), Host::Name(n) if n == "localhost"));
/// assert!("localhost".parse::<HostPort>().is_err()); // no port
/// # Ok::<(), eyeballs_core::HostError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    host: Host,
    port: u16,
}

/// The host part of a [`HostPort`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// A name to resolve.
    Name(String),
    /// An IP literal: no DNS.
    Ip(IpAddr),
    /// An IPv6 literal with a zone (`fe80::1%eth0`): no DNS; the adapter turns the zone name
    /// into an interface index (a numeric zone is used as is).
    ZonedIpv6 {
        /// The address.
        addr: Ipv6Addr,
        /// The zone, as written after `%`.
        zone: String,
    },
}

/// Why a host or `host:port` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// The host part is empty.
    EmptyHost,
    /// No `:port` after the host.
    MissingPort(String),
    /// The port is not a number from 0 to 65535.
    BadPort(String),
    /// A `[` without its `]`, or text after `]` that is not `:port`.
    BadBrackets(String),
    /// The name is not a valid host name (RFC 1123: at most 253 bytes, labels of 1 to 63
    /// letters, digits, `-` or `_`).
    BadName(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::EmptyHost => f.write_str("the host name is empty"),
            HostError::MissingPort(s) => {
                write!(
                    f,
                    "{s:?} has no port: write it as host:port, or [ipv6]:port"
                )
            }
            HostError::BadPort(s) => write!(f, "{s:?} is not a port number (0 to 65535)"),
            HostError::BadBrackets(s) => {
                write!(
                    f,
                    "{s:?} is not a bracketed IPv6 address: write it as [ipv6]:port"
                )
            }
            HostError::BadName(s) => write!(f, "{s:?} is not a valid host name"),
        }
    }
}

impl std::error::Error for HostError {}

impl HostPort {
    /// Parses a host (a name, an IP literal with or without brackets, or a zoned IPv6
    /// literal) and takes the port as given.
    ///
    /// # Errors
    ///
    /// A [`HostError`] saying what is wrong with `host`.
    pub fn new(host: &str, port: u16) -> Result<Self, HostError> {
        let inner = match (host.strip_prefix('['), host.strip_suffix(']')) {
            (Some(_), Some(_)) => &host[1..host.len() - 1],
            (None, None) => host,
            _ => return Err(HostError::BadBrackets(host.to_string())),
        };
        Ok(HostPort {
            host: parse_host(inner)?,
            port,
        })
    }

    /// Returns the host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Returns the port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the race target for an IP literal (with `scope_id` for a zoned one), or
    /// `None` for a name, which needs DNS.
    pub fn literal_target(&self, scope_id: u32) -> Option<Target> {
        match &self.host {
            Host::Name(_) => None,
            Host::Ip(ip) => Some(Target::addrs([SocketAddr::new(*ip, self.port)])),
            Host::ZonedIpv6 { addr, .. } => Some(Target::addrs([SocketAddr::V6(
                std::net::SocketAddrV6::new(*addr, self.port, 0, scope_id),
            )])),
        }
    }
}

impl FromStr for HostPort {
    type Err = HostError;

    /// Parses `host:port`, `[ipv6]:port` or `[ipv6%zone]:port`.
    fn from_str(s: &str) -> Result<Self, HostError> {
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (inner, after) = rest
                .split_once(']')
                .ok_or_else(|| HostError::BadBrackets(s.to_string()))?;
            let port = after.strip_prefix(':').ok_or_else(|| match after {
                "" => HostError::MissingPort(s.to_string()),
                _ => HostError::BadBrackets(s.to_string()),
            })?;
            (inner, port)
        } else {
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| HostError::MissingPort(s.to_string()))?;
            if host.contains(':') {
                // An unbracketed IPv6 literal: its last group is not a port.
                return Err(HostError::MissingPort(s.to_string()));
            }
            (host, port)
        };
        let port = port
            .parse::<u16>()
            .map_err(|_| HostError::BadPort(port.to_string()))?;
        Ok(HostPort {
            host: parse_host(host)?,
            port,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Name(n) => write!(f, "{n}:{}", self.port),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}:{}", self.port),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            Host::ZonedIpv6 { addr, zone } => write!(f, "[{addr}%{zone}]:{}", self.port),
        }
    }
}

fn parse_host(s: &str) -> Result<Host, HostError> {
    if s.is_empty() {
        return Err(HostError::EmptyHost);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    if let Some((addr, zone)) = s.split_once('%') {
        if let (Ok(addr), false) = (addr.parse::<Ipv6Addr>(), zone.is_empty()) {
            return Ok(Host::ZonedIpv6 {
                addr,
                zone: zone.to_string(),
            });
        }
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(HostError::BadName(s.to_string()));
    }
    Ok(Host::Name(s.to_string()))
}

/// What `connect` functions accept: `"host:port"`, `("host", port)`, a `SocketAddr`, ...
///
/// The same conversions as `std::net::ToSocketAddrs`, without resolving anything.
pub trait ToHostPort {
    /// Parses `self` into a host and a port.
    ///
    /// # Errors
    ///
    /// A [`HostError`] when the text is not a valid host and port.
    fn to_host_port(&self) -> Result<HostPort, HostError>;
}

impl ToHostPort for HostPort {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        Ok(self.clone())
    }
}

impl ToHostPort for str {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        self.parse()
    }
}

impl ToHostPort for String {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        self.parse()
    }
}

impl<T: ToHostPort + ?Sized> ToHostPort for &T {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        (**self).to_host_port()
    }
}

impl ToHostPort for (&str, u16) {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        HostPort::new(self.0, self.1)
    }
}

impl ToHostPort for (String, u16) {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        HostPort::new(&self.0, self.1)
    }
}

impl ToHostPort for (IpAddr, u16) {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        Ok(HostPort {
            host: Host::Ip(self.0),
            port: self.1,
        })
    }
}

impl ToHostPort for SocketAddr {
    fn to_host_port(&self) -> Result<HostPort, HostError> {
        let host = match self {
            SocketAddr::V6(v6) if v6.scope_id() != 0 => Host::ZonedIpv6 {
                addr: *v6.ip(),
                zone: v6.scope_id().to_string(),
            },
            _ => Host::Ip(self.ip()),
        };
        Ok(HostPort {
            host,
            port: self.port(),
        })
    }
}
