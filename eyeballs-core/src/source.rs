//! What the driver knows of its route to a destination: the source address (RFC 6724 §5)
//! and the flags RFC 6724 §6's source rules read.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::small::SmallBuf;
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

/// What a race knows of its routes: each destination's route, or `None` when it has none
/// ([`Input::Sources`](crate::Input::Sources), [`Target::sources`](crate::Target::sources)).
/// The first two destinations live inline (a literal's one or two, a small answer's), so a
/// small race allocates no tree node for them; from the third on, all move to an ordered map.
#[derive(Debug)]
pub(crate) struct Routes {
    few: SmallBuf<(IpAddr, Option<Route>), 2>,
    /// `None` while `few` holds them all (a race without it drops no map); then `few` is
    /// empty. Facts are never removed, so a map, once made, holds at least three.
    many: Option<BTreeMap<IpAddr, Option<Route>>>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Routes {
            few: SmallBuf::new((IpAddr::V4(Ipv4Addr::UNSPECIFIED), None)),
            many: None,
        }
    }

    /// Returns how many destinations have a fact.
    pub(crate) fn len(&self) -> usize {
        self.few.len() + self.many.as_ref().map_or(0, BTreeMap::len)
    }

    /// Returns whether no destination has a fact.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.few.is_empty() && self.many.is_none()
    }

    /// Returns the fact about `destination`: `Some(None)` when it has no route.
    #[inline]
    pub(crate) fn get(&self, destination: &IpAddr) -> Option<&Option<Route>> {
        match &self.many {
            None => self
                .few
                .iter()
                .find(|(d, _)| d == destination)
                .map(|(_, r)| r),
            Some(many) => many.get(destination),
        }
    }

    /// Returns whether `destination` has a fact.
    pub(crate) fn contains_key(&self, destination: &IpAddr) -> bool {
        self.get(destination).is_some()
    }

    /// Sets the fact about `destination`, replacing any earlier one.
    pub(crate) fn insert(&mut self, destination: IpAddr, route: Option<Route>) {
        if let Some(many) = &mut self.many {
            many.insert(destination, route);
            return;
        }
        if let Some(fact) = self.few.iter_mut().find(|(d, _)| *d == destination) {
            fact.1 = route;
            return;
        }
        if self.few.len() < 2 {
            self.few.push((destination, route));
            return;
        }
        let mut many: BTreeMap<_, _> = self.few.iter().copied().collect();
        many.insert(destination, route);
        self.few.clear();
        self.many = Some(many);
    }

    /// Every destination's fact, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&IpAddr, &Option<Route>)> {
        let many = self.many.iter().flat_map(BTreeMap::iter);
        self.few.iter().map(|(d, r)| (d, r)).chain(many)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The routes answer as an ordered map fed the same facts, whatever their number
        /// and repeats (the inline ones and the move to the map included).
        #[test]
        fn routes_answer_as_a_map(facts in prop::collection::vec((0u8..6, prop::option::of(0u8..3)), 0..12)) {
            let ip = |i: u8| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i));
            let route = |r: Option<u8>| r.map(|s| Route { source: ip(100 + s), deprecated: false, home: false, encapsulated: false });
            let mut routes = Routes::new();
            let mut map = BTreeMap::new();
            for (d, r) in facts {
                routes.insert(ip(d), route(r));
                map.insert(ip(d), route(r));
                prop_assert_eq!(routes.len(), map.len());
                prop_assert_eq!(routes.is_empty(), map.is_empty());
                for d in 0..6 {
                    prop_assert_eq!(routes.get(&ip(d)), map.get(&ip(d)));
                    prop_assert_eq!(routes.contains_key(&ip(d)), map.contains_key(&ip(d)));
                }
                let mut all: Vec<_> = routes.iter().map(|(d, r)| (*d, *r)).collect();
                all.sort_by_key(|(d, _)| *d);
                let expected: Vec<_> = map.iter().map(|(d, r)| (*d, *r)).collect();
                prop_assert_eq!(all, expected);
            }
        }
    }
}
