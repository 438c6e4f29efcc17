//! HTTP alternative services (RFC 7838 `Alt-Svc`) as a caller hands them to a race (HEv3
//! V41, V59; RFC 9460 §9.3; HG5, HG17).

use std::time::Instant;

use crate::endpoint::Alpn;
use crate::name::Name;

/// An alternative service the origin announced (an `Alt-Svc` field value, RFC 7838): another
/// host and port, and the protocols it serves, until it expires.
///
/// A race given alternatives ([`Target::alt_svc`](crate::Target::alt_svc)) races each as a
/// service group of its own, after the HTTPS records' groups and before the addresses that
/// belong to no service (HG17; V21). Its host gets its own AAAA and A queries and,
/// with [`Target::https`](crate::Target::https) on, its own HTTPS query (RFC 9460 §9.3):
/// when that finds ServiceMode records, their TargetName, port, hints and ECH configuration
/// are used, and only the transports that both the record and the alternative's protocols
/// allow (V41: attempts consistent with both); otherwise the alternative's own host and port
/// are. An alternative's endpoints wait for that answer, and the first start waits for the
/// alternatives' answers, but no longer than the Resolution Delay
/// ([`Config::resolution_delay`](crate::Config::resolution_delay)) that V5 gives the origin's
/// HTTPS answer (HG19): while its own HTTPS answer is out, or while it has no address and an
/// address query of its own is out. Empty or failed answers end the wait, and an
/// alternative on the origin's host and port (sharing its HTTPS query), an expired one or
/// one the caller speaks none of adds none. Endpoints known after the race started join as
/// late ones do (V45). The TLS server name stays the origin's (V42); the driver checks the
/// certificate against it, as RFC 7838 §2.1 asks.
///
/// Only protocols the caller speaks count ([`Protocols`](crate::Protocols)): `h3` gives a
/// QUIC endpoint, `h2` and `http/1.1` a TCP one (V39: each offering all the caller's ids for
/// its transport). An alternative the caller speaks none of, or one expired when the race
/// starts, is left out. An alias answer to the alternative's HTTPS query is not followed: the
/// alternative's own host and port are used.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{AltService, Protocols, Target};
///
/// // Alt-Svc: h3=":443"; ma=86400
/// let h3 = AltService::new("", 443).alpn(["h3"]);
/// let target = Target::host("example.test", 443)
///     .https(true)
///     .protocols(Protocols::http())
///     .alt_svc(h3);
/// assert_eq!(target.alt_services().len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltService {
    host: Name,
    port: u16,
    alpn: Vec<Alpn>,
    expires: Option<Instant>,
}

impl AltService {
    /// An alternative at `host` (empty or `.`: the origin's host, as `h3=":443"` says) and
    /// `port`, with no protocols yet.
    pub fn new(host: impl Into<Name>, port: u16) -> Self {
        AltService {
            host: host.into(),
            port,
            alpn: Vec::new(),
            expires: None,
        }
    }

    /// Sets the protocols the alternative serves (the `Alt-Svc` protocol ids, ALPN ids).
    pub fn alpn<I, A>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<Alpn>,
    {
        self.alpn = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets when the alternative expires (its `ma`, max-age, after it was received); an
    /// alternative expired when the race starts is not raced. Expiry mid-race cancels
    /// nothing (as V13 has it for DNS).
    pub fn expires(mut self, at: Instant) -> Self {
        self.expires = Some(at);
        self
    }

    /// Returns the alternative's host (the root name `.` for the origin's).
    pub fn host(&self) -> &Name {
        &self.host
    }

    /// Returns the alternative's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the protocols it serves.
    pub fn alpn_ids(&self) -> &[Alpn] {
        &self.alpn
    }

    /// Returns when it expires, if it was given.
    pub fn expiry(&self) -> Option<Instant> {
        self.expires
    }

    /// Returns whether it has expired at `now`.
    pub(crate) fn is_expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|at| now >= at)
    }
}
