//! How a race ends: the winner, or a failure that keeps every attempt's address and error.

use core::fmt;
use core::time::Duration;
use std::net::SocketAddr;

use crate::endpoint::Endpoint;
use crate::id::{AttemptId, QueryId, QueryKind};
use crate::name::Name;

/// How many attempts and queries a [`Failure`]'s `Display` names; the rest are counted.
pub const FAILURE_DISPLAY_LIMIT: usize = 8;

/// The attempt that won a race.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Winner {
    pub(crate) attempt: AttemptId,
    pub(crate) endpoint: Endpoint,
}

impl Winner {
    /// Returns the winning attempt: the driver keeps its connection and hands it to the
    /// caller.
    pub fn attempt(&self) -> AttemptId {
        self.attempt
    }

    /// Returns the endpoint it connected to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Returns the socket address it connected to.
    pub fn addr(&self) -> SocketAddr {
        self.endpoint.addr
    }
}

/// Why a race failed.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// DNS answered, but with no usable endpoint (no address at all, none of an allowed
    /// family, or only services whose protocols the caller does not speak).
    NoAddresses,
    /// Every DNS query failed, so there was nothing to try.
    DnsFailed,
    /// Every address was tried and every attempt failed.
    AllAttemptsFailed,
    /// The overall deadline passed (see [`Config::timeout`](crate::Config::timeout)).
    TimedOut {
        /// How long the race had run.
        #[cfg_attr(
            feature = "serde",
            serde(rename = "after_ms", serialize_with = "crate::serde_impls::ms")
        )]
        after: Duration,
        /// How many attempts were still in flight, and were cancelled.
        in_flight: usize,
    },
    /// The caller gave up ([`Input::Aborted`](crate::Input::Aborted)).
    Aborted,
    /// The HTTPS (service) query failed (SERVFAIL, a timeout, a network error) on DNS the
    /// driver says is protected ([`Config::protected_dns`](crate::Config::protected_dns)):
    /// the race gives up rather than connect without the service parameters (HEv3 §6.3,
    /// V36; RFC 9460 §3.1). The failed query is in [`Failure::queries`].
    ServiceQueryFailed,
    /// The `http` origin ([`Target::http_origin`](crate::Target::http_origin)) has a
    /// ServiceMode HTTPS record, so the connection must use TLS (RFC 9460 §9.5; HEv3 §11,
    /// V37): connect again with TLS to its `https` form (port 80 as 443). Every attempt
    /// was cancelled; on protected DNS none had sent any data.
    UpgradeToHttps,
}

/// A race that ended without a connection.
///
/// It names its [`FailureReason`] and carries every failed attempt's address and error, and
/// every failed DNS query's error, in the order they happened. `E` is the adapter's error type
/// (for example `std::io::Error`); the core never looks inside it.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug)]
pub struct Failure<E> {
    reason: FailureReason,
    attempts: Vec<FailedAttempt<E>>,
    queries: Vec<FailedQuery<E>>,
    skipped_without_ech: usize,
}

/// One attempt of a failed race.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedAttempt<E> {
    /// The attempt.
    pub attempt: AttemptId,
    /// The endpoint it tried.
    pub endpoint: Endpoint,
    /// Its error, or `None` when it was still in flight and was cancelled (deadline or abort).
    pub error: Option<E>,
}

/// One DNS query that failed.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedQuery<E> {
    /// The query.
    pub query: QueryId,
    /// The name it asked about.
    pub name: Name,
    /// What it asked for.
    pub kind: QueryKind,
    /// The resolver's error.
    pub error: E,
}

impl<E> Failure<E> {
    pub(crate) fn new(
        reason: FailureReason,
        attempts: Vec<FailedAttempt<E>>,
        queries: Vec<FailedQuery<E>>,
        skipped_without_ech: usize,
    ) -> Self {
        Failure {
            reason,
            attempts,
            queries,
            skipped_without_ech,
        }
    }

    /// Returns why the race failed.
    pub fn reason(&self) -> FailureReason {
        self.reason
    }

    /// Returns every attempt that did not connect, in the order they started.
    pub fn attempts(&self) -> &[FailedAttempt<E>] {
        &self.attempts
    }

    /// Returns every DNS query that failed, in the order they were sent.
    pub fn queries(&self) -> &[FailedQuery<E>] {
        &self.queries
    }

    /// Returns how many endpoints without ECH were never tried because a usable service
    /// record offers ECH (downgrade protection, RFC 9848 §5.1, V35).
    pub fn skipped_without_ech(&self) -> usize {
        self.skipped_without_ech
    }

    /// Splits the failure into its parts, giving the errors back by value.
    pub fn into_parts(self) -> (FailureReason, Vec<FailedAttempt<E>>, Vec<FailedQuery<E>>) {
        (self.reason, self.attempts, self.queries)
    }

    /// Returns the failure with every error mapped through `f` (say, into text).
    pub fn map_err<F, T>(self, mut f: F) -> Failure<T>
    where
        F: FnMut(E) -> T,
    {
        Failure {
            reason: self.reason,
            attempts: self
                .attempts
                .into_iter()
                .map(|a| FailedAttempt {
                    attempt: a.attempt,
                    endpoint: a.endpoint,
                    error: a.error.map(&mut f),
                })
                .collect(),
            queries: self
                .queries
                .into_iter()
                .map(|q| FailedQuery {
                    query: q.query,
                    name: q.name,
                    kind: q.kind,
                    error: f(q.error),
                })
                .collect(),
            skipped_without_ech: self.skipped_without_ech,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            FailureReason::NoAddresses => f.write_str("no addresses to connect to")?,
            FailureReason::DnsFailed => f.write_str("DNS failed")?,
            FailureReason::AllAttemptsFailed => {
                let n = self.attempts.len();
                let s = if n == 1 { "" } else { "s" };
                write!(f, "all {n} connection attempt{s} failed")?;
            }
            FailureReason::TimedOut { after, in_flight } => write!(
                f,
                "timed out after {}ms with {in_flight} attempt{} in flight",
                after.as_millis(),
                if in_flight == 1 { "" } else { "s" }
            )?,
            FailureReason::Aborted => f.write_str("connect aborted by the caller")?,
            FailureReason::ServiceQueryFailed => f.write_str(
                "the HTTPS query failed on protected DNS, so no connection was made without \
                 its service parameters (RFC 9460 section 3.1)",
            )?,
            FailureReason::UpgradeToHttps => f.write_str(
                "the http origin has HTTPS records: connect with TLS to its https form \
                 (RFC 9460 section 9.5)",
            )?,
        }
        // Bounded: the first few of each, then a count; the data keeps all.
        let mut sep = ": ";
        for q in self.queries.iter().take(FAILURE_DISPLAY_LIMIT) {
            write!(f, "{sep}{} {}: {}", q.kind, q.name, q.error)?;
            sep = "; ";
        }
        more(f, self.queries.len(), "queries")?;
        for a in self.attempts.iter().take(FAILURE_DISPLAY_LIMIT) {
            match &a.error {
                Some(e) => write!(f, "{sep}{}: {e}", a.endpoint)?,
                None => write!(f, "{sep}{}: cancelled", a.endpoint)?,
            }
            sep = "; ";
        }
        more(f, self.attempts.len(), "attempts")?;
        if self.skipped_without_ech > 0 {
            let n = self.skipped_without_ech;
            write!(
                f,
                "; {n} endpoint{} without ECH not tried: a service record offers ECH \
                 (downgrade protection)",
                if n == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// Writes "; and N more THINGS" when `total` is over the display limit.
fn more(f: &mut fmt::Formatter<'_>, total: usize, things: &str) -> fmt::Result {
    match total.checked_sub(FAILURE_DISPLAY_LIMIT) {
        Some(rest) if rest > 0 => write!(f, "; and {rest} more {things}"),
        _ => Ok(()),
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Failure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The last error is the most recent thing that went wrong; every error stays
        // reachable through `attempts()` and `queries()`.
        self.attempts
            .iter()
            .rev()
            .find_map(|a| a.error.as_ref())
            .or_else(|| self.queries.last().map(|q| &q.error))
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Turns a failed race into one `std::io::Error`, so `?` works in I/O code.
///
/// The kind follows the reason: [`TimedOut`](std::io::ErrorKind::TimedOut) for the deadline,
/// [`Interrupted`](std::io::ErrorKind::Interrupted) for an abort, the kind of the last
/// attempt's error when all failed (say `ConnectionRefused`), the last query's kind when DNS
/// failed, [`NotFound`](std::io::ErrorKind::NotFound) for no addresses, the HTTPS query's kind
/// when it failed on protected DNS (`TimedOut` for a timeout). The `Failure` itself
/// is the inner error, so every attempt's address and error stays reachable:
///
/// ```
/// # fn demo(err: std::io::Error) {
/// use eyeballs_core::Failure;
/// if let Some(failure) = err.get_ref().and_then(|e| e.downcast_ref::<Failure<std::io::Error>>()) {
///     for attempt in failure.attempts() {
///         eprintln!("{}: {:?}", attempt.endpoint, attempt.error);
///     }
/// }
/// # }
/// ```
impl From<Failure<std::io::Error>> for std::io::Error {
    fn from(failure: Failure<std::io::Error>) -> Self {
        use std::io::ErrorKind;
        let kind = match failure.reason {
            FailureReason::TimedOut { .. } => ErrorKind::TimedOut,
            FailureReason::Aborted => ErrorKind::Interrupted,
            FailureReason::NoAddresses => ErrorKind::NotFound,
            FailureReason::UpgradeToHttps => ErrorKind::Other,
            FailureReason::ServiceQueryFailed => failure
                .queries
                .iter()
                .rev()
                .find(|q| q.kind == QueryKind::Https)
                .map_or(ErrorKind::Other, |q| q.error.kind()),
            FailureReason::DnsFailed | FailureReason::AllAttemptsFailed => failure
                .attempts
                .iter()
                .rev()
                .find_map(|a| a.error.as_ref().map(std::io::Error::kind))
                .or_else(|| failure.queries.last().map(|q| q.error.kind()))
                .unwrap_or(ErrorKind::Other),
        };
        std::io::Error::new(kind, failure)
    }
}
