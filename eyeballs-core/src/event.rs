//! What crosses between a race and its driver: inputs in, actions out.

use std::net::IpAddr;

use crate::endpoint::Endpoint;
use crate::error::{Failure, Winner};
use crate::name::Name;
use crate::service::ServiceRecord;
use crate::sort::Route;
use crate::target::{AttemptId, QueryId, QueryKind};

/// A fact the driver reports to the race.
#[derive(Debug)]
#[non_exhaustive]
pub enum Input<E> {
    /// An address query (AAAA, A, or both) was answered; `addrs` may be empty (no data).
    /// For an HTTPS query this counts as an answer without records.
    Resolved {
        /// The query answered.
        query: QueryId,
        /// The addresses in the answer, in the resolver's order.
        addrs: Vec<IpAddr>,
    },
    /// An HTTPS query was answered; `records` may be empty (no data). For an address query
    /// this counts as an answer without addresses.
    ResolvedServices {
        /// The query answered.
        query: QueryId,
        /// The records of the answer, decoded (AliasMode and ServiceMode alike).
        records: Vec<ServiceRecord>,
    },
    /// A query failed (SERVFAIL, NXDOMAIN, timeout, ...).
    ResolveFailed {
        /// The query that failed.
        query: QueryId,
        /// The resolver's error, kept for the failure report.
        error: E,
    },
    /// The source addresses the host would use for these destinations (RFC 6724 §5), or that
    /// it has no route to them. History is kept per source address, so it never applies on
    /// another network (R15); a destination without a known source gets no history. Facts may
    /// come before the answers that hold their destinations.
    Sources {
        /// One fact per destination.
        sources: Vec<Source>,
    },
    /// An attempt made progress without being established: TCP connected, TLS still under
    /// way (HEv3 §6.1, V33). The timer for the next attempt is pushed back to this attempt's
    /// expected full setup (HG10).
    Progressed {
        /// The attempt that progressed.
        attempt: AttemptId,
    },
    /// An attempt's connection is established (the TCP handshake, or whatever the driver
    /// counts as established: G2, HEv3 §6.1).
    Connected {
        /// The attempt that connected.
        attempt: AttemptId,
    },
    /// An attempt failed.
    ConnectFailed {
        /// The attempt that failed.
        attempt: AttemptId,
        /// Its error, kept for the failure report.
        error: E,
    },
    /// The host's addresses changed after the answers (DNS push, RFC 8765, or a TTL expiry):
    /// `added` are sorted in (R33), `removed` are dropped if untried (R32); attempts already
    /// started are never cancelled for it (R31). Added addresses are the host's own: they
    /// take its port (for [`Target::addrs`](crate::Target::addrs), the first address's port)
    /// and, like its A/AAAA answers, also serve a `.` service record (V19).
    AddressesChanged {
        /// Addresses to add.
        added: Vec<IpAddr>,
        /// Addresses to withdraw.
        removed: Vec<IpAddr>,
    },
    /// The caller gave up: every attempt in flight is cancelled and the race fails.
    Aborted,
}

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

/// What the race asks the driver to do. Drain them with
/// [`Race::poll_action`](crate::Race::poll_action) and perform each in order.
///
/// `Resolve` and `Connect` may grow fields: match them with `..`.
#[derive(Debug)]
#[non_exhaustive]
#[must_use]
pub enum Action<E> {
    /// Send a DNS query and report it with [`Input::Resolved`] (addresses),
    /// [`Input::ResolvedServices`] (HTTPS records) or [`Input::ResolveFailed`].
    #[non_exhaustive]
    Resolve {
        /// The query's id.
        query: QueryId,
        /// The name to ask about: the host, a service's TargetName, an alias target, or the
        /// HTTPS query name (`_8443._https.host`).
        name: Name,
        /// What to ask for.
        kind: QueryKind,
    },
    /// Start a connection attempt to `endpoint` and report it with [`Input::Connected`] or
    /// [`Input::ConnectFailed`] (and [`Input::Progressed`] on the way, if it has steps).
    #[non_exhaustive]
    Connect {
        /// The attempt's id.
        attempt: AttemptId,
        /// What to connect to, over which transport, offering which ALPN ids.
        endpoint: Endpoint,
    },
    /// Abandon this attempt and close its socket, now or whenever it completes: it lost, or
    /// the race ended without it.
    Cancel {
        /// The attempt to cancel.
        attempt: AttemptId,
    },
    /// The race is over; this is the last action. On success, keep the winner's connection.
    /// Outstanding DNS queries may be dropped (R24) or left to fill a cache (R25).
    Finish(Result<Winner, Failure<E>>),
}
