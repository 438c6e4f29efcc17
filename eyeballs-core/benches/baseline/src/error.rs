//! How a race ends: the winner, or a failure that keeps every attempt's address and error.

use core::fmt;
use core::time::Duration;
use std::net::SocketAddr;

use crate::target::{AttemptId, QueryId, QueryKind};

/// The attempt that won a race.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Winner {
    /// The winning attempt: the adapter keeps its connection and hands it to the caller.
    pub attempt: AttemptId,
    /// The address it connected to.
    pub addr: SocketAddr,
}

/// Why a race failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// DNS answered, but with no usable address (none at all, or none of an allowed family).
    NoAddresses,
    /// Every DNS query failed, so there was nothing to try.
    DnsFailed,
    /// Every address was tried and every attempt failed.
    AllAttemptsFailed,
    /// The overall deadline passed (see [`Config::timeout`](crate::Config::timeout)).
    TimedOut {
        /// How long the race had run.
        after: Duration,
        /// How many attempts were still in flight, and were cancelled.
        in_flight: usize,
    },
    /// The caller gave up ([`Input::Aborted`](crate::Input::Aborted)).
    Aborted,
}

/// A race that ended without a connection.
///
/// It names its [`FailureReason`] and carries every failed attempt's address and error, and
/// every failed DNS query's error, in the order they happened. `E` is the adapter's error type
/// (for example `std::io::Error`); the core never looks inside it.
#[derive(Debug)]
pub struct Failure<E> {
    reason: FailureReason,
    attempts: Vec<FailedAttempt<E>>,
    queries: Vec<FailedQuery<E>>,
}

/// One attempt of a failed race.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedAttempt<E> {
    /// The attempt.
    pub attempt: AttemptId,
    /// The address it tried.
    pub addr: SocketAddr,
    /// Its error, or `None` when it was still in flight and was cancelled (deadline or abort).
    pub error: Option<E>,
}

/// One DNS query that failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedQuery<E> {
    /// The query.
    pub query: QueryId,
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
    ) -> Self {
        Failure {
            reason,
            attempts,
            queries,
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
                    addr: a.addr,
                    error: a.error.map(&mut f),
                })
                .collect(),
            queries: self
                .queries
                .into_iter()
                .map(|q| FailedQuery {
                    query: q.query,
                    kind: q.kind,
                    error: f(q.error),
                })
                .collect(),
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
        }
        let mut sep = ": ";
        for q in &self.queries {
            write!(f, "{sep}{} query: {}", q.kind, q.error)?;
            sep = "; ";
        }
        for a in &self.attempts {
            match &a.error {
                Some(e) => write!(f, "{sep}{}: {e}", a.addr)?,
                None => write!(f, "{sep}{}: cancelled", a.addr)?,
            }
            sep = "; ";
        }
        Ok(())
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
/// failed, [`NotFound`](std::io::ErrorKind::NotFound) for no addresses. The `Failure` itself
/// is the inner error, so every attempt's address and error stays reachable:
///
/// ```
/// # fn demo(err: std::io::Error) {
/// use eyeballs_core::Failure;
/// if let Some(failure) = err.get_ref().and_then(|e| e.downcast_ref::<Failure<std::io::Error>>()) {
///     for attempt in failure.attempts() {
///         eprintln!("{}: {:?}", attempt.addr, attempt.error);
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
