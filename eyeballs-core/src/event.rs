//! What crosses between a race and its driver: inputs in, actions out.

use std::net::IpAddr;

use crate::endpoint::{EchConfig, Endpoint};
use crate::error::{Failure, Winner};
use crate::id::{AttemptId, QueryId, QueryKind};
use crate::name::Name;
use crate::service::ServiceRecord;
use crate::source::Source;

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
    /// An expired answer to an address query, from the driver's cache, while the query
    /// itself is still under way ("optimistic DNS": HEv3 §4.4, V13; HG18).
    ///
    /// The race uses it at once, as it would a fresh answer, and keeps the query open: the
    /// fresh answer comes later as [`Input::Resolved`] and replaces it, as a late answer
    /// (§7): addresses it no longer holds leave the list unless their attempt started
    /// (V44), new ones are sorted in (V45), and an equal answer changes nothing. If the fresh
    /// query fails, the stale addresses stay in use (RFC 8767's serve-stale). One stale
    /// answer per query; the core never asks again on its own.
    ResolvedStale {
        /// The query answered from the cache.
        query: QueryId,
        /// The expired answer's addresses.
        addrs: Vec<IpAddr>,
    },
    /// An expired answer to an HTTPS query, as [`Input::ResolvedStale`] (V13, HG18): its
    /// service information counts at once (it opens ECH's gate; a stale ECH configuration is
    /// what [`Input::EchRejected`] recovers from), and the fresh
    /// [`Input::ResolvedServices`] replaces it when it differs. Only ServiceMode answers are
    /// merged: when the stale or the fresh answer is an AliasMode one, the stale answer's
    /// service information stays.
    ResolvedServicesStale {
        /// The query answered from the cache.
        query: QueryId,
        /// The expired answer's records.
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
    /// The server of an attempt that offered ECH rejected it (RFC 9849 §6.1.6, V54): the
    /// TLS stack reports the rejection, with the server's retry configurations when it sent
    /// any (rustls: the `RejectedEch` error's `retry_configs`).
    ///
    /// With retry configurations, and when the attempt was not already a retry, the race
    /// answers with [`Action::RetryEch`] at once: the same attempt dials the same endpoint
    /// again with them (HG14: no new start, no 10 ms floor, the attempt's timer keeps
    /// running from its start, and nothing is expedited). Otherwise (no retry
    /// configurations, a rejected retry, or an attempt that offered no ECH config, such as
    /// GREASE ECH, whose retry configurations RFC 9849 §6.2 says never to use) the attempt
    /// fails with `error`, as [`Input::ConnectFailed`] would fail it. A driver that never
    /// feeds this input reports a rejection as `ConnectFailed`, as before.
    EchRejected {
        /// The attempt whose ECH was rejected.
        attempt: AttemptId,
        /// The server's retry configurations (an `ECHConfigList`), if it sent any. Drivers
        /// pass them only from a server that authenticated as the ECH config's public name
        /// (RFC 9849 §6.1.6).
        retry: Option<EchConfig>,
        /// The error the attempt fails with when it is not retried.
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
    /// Connect `endpoint`'s transport (TCP) but hold its handshake: send no TLS ClientHello
    /// until [`Action::Handshake`] for this attempt (HEv3 §6.1, §6.3, V34, V55;
    /// HG15). With ECH on ([`Config::ech`](crate::Config::ech)), TCP connects at its usual
    /// time while service information is pending, so that the ClientHello can carry the ECH
    /// configuration that arrives. Report TCP up with [`Input::Progressed`], a failure to
    /// connect with [`Input::ConnectFailed`], and the attempt's outcome after its handshake as
    /// any attempt's. A driver that does not know this action leaves the attempt alone: no
    /// ClientHello ever leaks, the attempt just never completes (turn
    /// [`Config::early_tcp`](crate::Config::early_tcp) off instead).
    #[non_exhaustive]
    ConnectHeld {
        /// The attempt's id.
        attempt: AttemptId,
        /// What to connect to (a TCP endpoint); its ALPN and ECH data may change by the
        /// handshake.
        endpoint: Endpoint,
    },
    /// Send the ClientHello of a held attempt ([`Action::ConnectHeld`]) with `endpoint`: the
    /// same address, port and transport, with the ECH configuration, ALPN ids and provenance
    /// that service information now gives for them (HG15). If its TCP connection is
    /// not up yet, send it as soon as it is. The attempt's outcome is timed from here.
    #[non_exhaustive]
    Handshake {
        /// The held attempt.
        attempt: AttemptId,
        /// What the ClientHello offers and encrypts.
        endpoint: Endpoint,
    },
    /// Close this attempt's connection and dial `endpoint` again under the same attempt id:
    /// the same address, port, transport and ALPN ids, with the ECH retry configurations
    /// the server sent ([`Input::EchRejected`], RFC 9849 §6.1.6, V54). Report the retry's
    /// outcome as any attempt's ([`Input::Connected`], [`Input::ConnectFailed`], or
    /// `EchRejected` again, which then fails the attempt: a retry is never retried). The
    /// attempt keeps its start time and its timers (HG14). Asked for only after the
    /// driver fed `EchRejected`.
    #[non_exhaustive]
    RetryEch {
        /// The attempt to dial again.
        attempt: AttemptId,
        /// What to dial: the attempt's endpoint with the retry configurations as its ECH
        /// config.
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
