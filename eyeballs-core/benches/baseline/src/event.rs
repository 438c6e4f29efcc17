//! What crosses between a race and its driver: inputs in, actions out.

use std::net::{IpAddr, SocketAddr};

use crate::error::{Failure, Winner};
use crate::target::{AttemptId, QueryId, QueryKind};

/// A fact the driver reports to the race.
#[derive(Debug)]
#[non_exhaustive]
pub enum Input<E> {
    /// A query was answered; `addrs` may be empty (no data).
    Resolved {
        /// The query answered.
        query: QueryId,
        /// The addresses in the answer, in the resolver's order.
        addrs: Vec<IpAddr>,
    },
    /// A query failed (SERVFAIL, NXDOMAIN, timeout, ...).
    ResolveFailed {
        /// The query that failed.
        query: QueryId,
        /// The resolver's error, kept for the failure report.
        error: E,
    },
    /// An attempt's connection is established (the TCP handshake, or whatever the adapter
    /// counts as established: G2).
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
    /// The set of addresses changed after the answers (DNS push, RFC 8765, or a TTL expiry):
    /// `added` are sorted into the untried addresses (R33), `removed` are dropped if untried
    /// (R32); attempts already started are never cancelled for it (R31). Added addresses
    /// take the race's port (for [`Target::addrs`](crate::Target::addrs), the first address's port).
    AddressesChanged {
        /// Addresses to add.
        added: Vec<IpAddr>,
        /// Addresses to withdraw.
        removed: Vec<IpAddr>,
    },
    /// The caller gave up: every attempt in flight is cancelled and the race fails.
    Aborted,
}

/// What the race asks the driver to do. Drain them with [`Race::poll_action`](crate::Race::poll_action) and perform each
/// in order.
#[derive(Debug)]
#[non_exhaustive]
#[must_use]
pub enum Action<E> {
    /// Send a DNS query for the host name and report it with [`Input::Resolved`] or
    /// [`Input::ResolveFailed`].
    Resolve {
        /// The query's id.
        query: QueryId,
        /// What to ask for.
        kind: QueryKind,
    },
    /// Start a connection attempt to `addr` and report it with [`Input::Connected`] or
    /// [`Input::ConnectFailed`].
    Connect {
        /// The attempt's id.
        attempt: AttemptId,
        /// Where to connect.
        addr: SocketAddr,
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
