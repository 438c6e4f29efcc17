//! What the driver knows of its route to a destination: the source address (RFC 6724 §5)
//! and the flags RFC 6724 §6's source rules read.

use std::net::IpAddr;

use crate::sort::Route;

/// What the host knows of its route to one destination: the source address it would use
/// (RFC 6724 §5), or that it has none, and what RFC 6724 §6's source rules ask about it.
///
/// # Examples
///
/// ```
/// use eyeballs_core::Source;
///
/// let fact = Source::new("2001:db8::1".parse().unwrap(), "2001:db8:ffff::2".parse().unwrap())
///     .deprecated(false);
/// assert_eq!(fact.source(), Some("2001:db8:ffff::2".parse().unwrap()));
/// assert_eq!(Source::unreachable("192.0.2.1".parse().unwrap()).source(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Source {
    destination: IpAddr,
    source: Option<IpAddr>,
    deprecated: bool,
    home: bool,
    encapsulated: bool,
}

impl Source {
    /// The host would send to `destination` from `source`.
    pub fn new(destination: IpAddr, source: IpAddr) -> Self {
        Source {
            destination,
            source: Some(source),
            deprecated: false,
            home: false,
            encapsulated: false,
        }
    }

    /// The host has no route to `destination` (RFC 6724 rule 1: it goes last).
    pub fn unreachable(destination: IpAddr) -> Self {
        Source {
            destination,
            source: None,
            deprecated: false,
            home: false,
            encapsulated: false,
        }
    }

    /// Marks the source address deprecated (its preferred lifetime ran out; Linux flags it
    /// `IFA_F_DEPRECATED`): RFC 6724 rule 3 avoids it.
    pub fn deprecated(mut self, deprecated: bool) -> Self {
        self.deprecated = deprecated;
        self
    }

    /// Marks the source address a Mobile IPv6 home address (RFC 6724 rule 4 prefers it).
    pub fn home(mut self, home: bool) -> Self {
        self.home = home;
        self
    }

    /// Says the route is an encapsulating transition mechanism, such as a tunnel (RFC 6724
    /// rule 7 prefers native transport). 6to4 and Teredo sources count as encapsulated anyway.
    pub fn encapsulated(mut self, encapsulated: bool) -> Self {
        self.encapsulated = encapsulated;
        self
    }

    /// Returns the destination.
    pub fn destination(&self) -> IpAddr {
        self.destination
    }

    /// Returns the source address, or `None` without a route.
    pub fn source(&self) -> Option<IpAddr> {
        self.source
    }

    /// The route the sort keys read: `None` without a route.
    pub(crate) fn route(&self) -> Option<Route> {
        self.source.map(|source| Route {
            source,
            deprecated: self.deprecated,
            home: self.home,
            encapsulated: self.encapsulated,
        })
    }
}
