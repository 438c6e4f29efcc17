//! What a race remembers of its attempts and queries, for reports and history.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::endpoint::Endpoint;
use crate::id::{AttemptId, QueryId, QueryKind};
use crate::name::Name;
use crate::service::ServiceRecord;

/// Where an attempt stands.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttemptStatus {
    /// Started, not yet ended.
    Connecting,
    /// Connected and won.
    Connected,
    /// Failed on its own.
    Failed,
    /// Cancelled by the race.
    Cancelled,
}

/// What an attempt's held ClientHello (HG15), ECH retry (V54) and progress report (V33) did:
/// what few attempts have.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Handshake {
    /// Started with its ClientHello held ([`Action::ConnectHeld`](crate::Action::ConnectHeld)).
    pub(crate) held: bool,
    /// When a held ClientHello was released ([`Action::Handshake`](crate::Action::Handshake)).
    pub(crate) released: Option<Instant>,
    /// When the server rejected ECH and the attempt dialed again with its retry configs.
    pub(crate) ech_retried: Option<Instant>,
    /// When it reported progress ([`Input::Progressed`](crate::Input::Progressed)).
    pub(crate) progressed: Option<Instant>,
}

/// One attempt of a race, as recorded for reports and for [`History::record_race`](crate::History::record_race).
#[derive(Debug)]
pub struct AttemptRecord<E> {
    /// Its id's index: 32 bits hold every attempt (at most `MAX_ENDPOINTS`), and keep the
    /// record at 160 bytes (without an error type's).
    pub(crate) id: u32,
    pub(crate) endpoint: Endpoint,
    pub(crate) started: Instant,
    /// The Connection Attempt Delay that followed its start.
    pub(crate) delay: Duration,
    /// What a held ClientHello, an ECH retry and a progress report did; boxed, as few
    /// attempts have any, so that a record stays small (a long walk keeps thousands).
    pub(crate) handshake: Option<Box<Handshake>>,
    pub(crate) ended: Option<Instant>,
    pub(crate) status: AttemptStatus,
    pub(crate) error: Option<E>,
}

impl<E> AttemptRecord<E> {
    /// Returns the attempt's id.
    pub fn id(&self) -> AttemptId {
        AttemptId(self.id as usize)
    }
    /// Returns the endpoint it tried: after an ECH retry, with the retry configurations as
    /// its ECH config (the one it connects with).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    /// Returns the socket address it tried.
    pub fn addr(&self) -> SocketAddr {
        self.endpoint.addr
    }
    /// Returns when it started.
    pub fn started(&self) -> Instant {
        self.started
    }
    /// Returns the Connection Attempt Delay the race waited after its start before starting
    /// another (unless a failure came first): fixed, or from its path's history (R26, V29).
    pub fn delay(&self) -> Duration {
        self.delay
    }
    /// Returns whether it started with its ClientHello held, ECH's gate shut (HEv3 §6.1,
    /// V34, V55, HG15: [`Action::ConnectHeld`](crate::Action::ConnectHeld)).
    pub fn is_held(&self) -> bool {
        self.handshake.as_ref().is_some_and(|h| h.held)
    }
    /// Returns when its held ClientHello was released
    /// ([`Action::Handshake`](crate::Action::Handshake)).
    pub fn released(&self) -> Option<Instant> {
        self.handshake.as_ref().and_then(|h| h.released)
    }
    /// Returns when it reported progress ([`Input::Progressed`](crate::Input::Progressed)).
    pub fn progressed(&self) -> Option<Instant> {
        self.handshake.as_ref().and_then(|h| h.progressed)
    }
    /// Returns when the server rejected ECH and the attempt dialed again with the server's
    /// retry configurations ([`Action::RetryEch`](crate::Action::RetryEch), V54).
    pub fn ech_retried(&self) -> Option<Instant> {
        self.handshake.as_ref().and_then(|h| h.ech_retried)
    }

    /// What a held ClientHello, an ECH retry and a progress report did, made when first
    /// needed.
    pub(crate) fn handshake_mut(&mut self) -> &mut Handshake {
        self.handshake.get_or_insert_with(Box::default)
    }
    /// Returns when it connected, failed or was cancelled.
    pub fn ended(&self) -> Option<Instant> {
        self.ended
    }
    /// Returns where it stands.
    pub fn status(&self) -> AttemptStatus {
        self.status
    }
    /// Returns its error, if it failed, until the race fails: then the error moves into
    /// the [`Failure`](crate::Failure).
    pub fn error(&self) -> Option<&E> {
        self.error.as_ref()
    }
}

/// One DNS query of a race, as recorded for reports.
#[derive(Debug)]
pub struct QueryRecord<E> {
    pub(crate) id: QueryId,
    pub(crate) name: Name,
    pub(crate) kind: QueryKind,
    pub(crate) sent: Instant,
    /// When an expired answer arrived, the query still open (V13, HG18).
    pub(crate) stale: Option<Instant>,
    pub(crate) answered: Option<Instant>,
    pub(crate) addrs: Vec<IpAddr>,
    pub(crate) records: Vec<ServiceRecord>,
    pub(crate) failed: bool,
    pub(crate) error: Option<E>,
}

impl<E> QueryRecord<E> {
    /// Returns the query's id.
    pub fn id(&self) -> QueryId {
        self.id
    }
    /// Returns the name it asked about.
    pub fn name(&self) -> &Name {
        &self.name
    }
    /// Returns what it asked for.
    pub fn kind(&self) -> QueryKind {
        self.kind
    }
    /// Returns when it was asked for.
    pub fn sent(&self) -> Instant {
        self.sent
    }
    /// Returns when an expired answer arrived for it
    /// ([`Input::ResolvedStale`](crate::Input::ResolvedStale), V13), the query still open.
    pub fn stale(&self) -> Option<Instant> {
        self.stale
    }
    /// Returns when it was answered or failed (the fresh answer, after a stale one).
    pub fn answered(&self) -> Option<Instant> {
        self.answered
    }
    /// Returns the addresses of its answer (the latest: the fresh one after a stale one), as
    /// given (at most
    /// [`MAX_ANSWER_ADDRS`](crate::MAX_ANSWER_ADDRS)).
    pub fn addrs(&self) -> &[IpAddr] {
        &self.addrs
    }
    /// Returns the service records of its answer, as given (at most
    /// [`MAX_ANSWER_RECORDS`](crate::MAX_ANSWER_RECORDS)).
    pub fn records(&self) -> &[ServiceRecord] {
        &self.records
    }
    /// Returns whether it failed.
    pub fn is_failed(&self) -> bool {
        self.failed
    }
    /// Returns its error until the race fails: then the error moves into the [`Failure`](crate::Failure).
    pub fn error(&self) -> Option<&E> {
        self.error.as_ref()
    }
}
