//! A bounded, expiring, clock-injected store of what past races learned (RFC 8305 §4 R13–R16,
//! §5 R26).

use core::time::Duration;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::endpoint::Transport;
use crate::race::Race;
use crate::record::AttemptStatus;

/// Default number of destinations a [`History`] remembers.
pub const HISTORY_CAPACITY: usize = 256;
/// Default time an entry stays valid after it was last updated.
pub const HISTORY_TTL: Duration = Duration::from_secs(600);

/// What a history entry is about: one network path, from a local source address to a
/// destination over a transport.
///
/// The source address is what makes history safe (RFC 8305 §4, R15: history "MUST NOT be
/// used across different network interfaces"): another interface or another network gives
/// another source address, and entries of one source never apply to another.
///
/// # Examples
///
/// ```
/// use eyeballs_core::{Path, Transport};
///
/// let path = Path::new(
///     "2001:db8:ffff::2".parse().unwrap(),
///     "[2001:db8::1]:443".parse().unwrap(),
///     Transport::Quic,
/// );
/// assert_eq!(path.transport(), Transport::Quic);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path {
    // Field order is sort order: one source's entries of one transport are contiguous.
    source: IpAddr,
    transport: Transport,
    destination: SocketAddr,
}

impl Path {
    /// The path from `source` to `destination` over `transport`.
    pub fn new(source: IpAddr, destination: SocketAddr, transport: Transport) -> Self {
        Path {
            source,
            transport,
            destination,
        }
    }

    /// Returns the local source address.
    pub fn source(&self) -> IpAddr {
        self.source
    }

    /// Returns the destination.
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }

    /// Returns the transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }
}

/// What past races learned about network paths: round-trip times and failures, per source
/// address, destination and transport.
///
/// A history lives outside any race and is shared across races by the adapter (behind a
/// mutex, say). A race built with [`Race::with_history`] takes a snapshot of it and uses it to
///
/// - order endpoints that failed recently after the others (RFC 6724 rule 1, "known to be
///   otherwise unusable"), and start with the other family when every address of the preferred
///   family failed recently, so a host whose IPv6 path just broke connects over IPv4 at once;
/// - try TCP before QUIC when QUIC failed recently from this source address and has not
///   worked since ("UDP is blocked here", HEV3.md HG3); QUIC is still tried, after TCP;
/// - prefer addresses with a lower recorded round trip (R13) — which are also the ones used
///   before (R14);
/// - derive the Connection Attempt Delay after an address from its retransmission timeout
///   (RFC 6298: `SRTT + 4 * RTTVAR`), clamped to the configured minimum and maximum (R26, R27).
///
/// After the race, [`History::record_race`] feeds the outcome back.
///
/// Entries are keyed by [`Path`]: the local source address, the destination and the
/// transport. They expire [`ttl`](History::ttl) after their last update, and the least
/// recently updated entry is evicted when the store is full. A race learns the source address
/// of each destination from its driver ([`Input::Sources`](crate::Input::Sources)); it uses
/// and records history only for destinations whose source it knows. So history learned on
/// one network never applies on another (R15), and a new network starts with none (R16);
/// [`History::clear`] forgets everything at once.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use eyeballs_core::{History, Path, Transport};
///
/// let now = Instant::now();
/// let mut history = History::new();
/// let source = "2001:db8:ffff::2".parse().unwrap();
/// let path = Path::new(source, "[2001:db8::1]:443".parse().unwrap(), Transport::Tcp);
/// history.record_success(path, Duration::from_millis(20), now);
/// assert_eq!(history.rtt(path, now), Some(Duration::from_millis(20)));
/// // Another network (another source address) sees nothing.
/// let elsewhere = Path::new("2001:db8:eeee::2".parse().unwrap(), path.destination(), Transport::Tcp);
/// assert_eq!(history.rtt(elsewhere, now), None);
/// history.clear();
/// assert!(history.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct History {
    /// Sorted by path, so lookups are binary searches and a snapshot is one copy.
    entries: Vec<(Path, Entry)>,
    capacity: usize,
    ttl: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    srtt: Option<Duration>,
    rttvar: Duration,
    last_success: Option<Instant>,
    last_failure: Option<Instant>,
    updated: Instant,
}

impl Default for History {
    fn default() -> Self {
        History::new()
    }
}

impl History {
    /// Makes an empty history with the default capacity (256) and time to live (10 min).
    pub fn new() -> Self {
        History {
            entries: Vec::new(),
            capacity: HISTORY_CAPACITY,
            ttl: HISTORY_TTL,
        }
    }

    /// Sets how many destinations are remembered; 0 remembers nothing.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self.evict_to(capacity);
        self
    }

    /// Sets how long an entry stays valid after its last update.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Returns how many destinations are remembered (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets everything, as R16 asks when the network attachment changes.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Records that a connection over `path` completed after `rtt` (RFC 6298 smoothing,
    /// saturating: any `rtt` is accepted).
    pub fn record_success(&mut self, path: Path, rtt: Duration, now: Instant) {
        let Some(entry) = self.entry_mut(path, now) else {
            return;
        };
        match entry.srtt {
            None => {
                entry.srtt = Some(rtt);
                entry.rttvar = rtt / 2;
            }
            Some(srtt) => {
                // RFC 6298 §2.3 with alpha = 1/8 and beta = 1/4; dividing first cannot overflow.
                let diff = srtt.abs_diff(rtt);
                entry.rttvar = (entry.rttvar / 4 * 3).saturating_add(diff / 4);
                entry.srtt = Some((srtt / 8 * 7).saturating_add(rtt / 8));
            }
        }
        entry.last_success = Some(now);
        entry.updated = now;
    }

    /// Records that a connection over `path` failed, or lost to a later-started attempt.
    pub fn record_failure(&mut self, path: Path, now: Instant) {
        let Some(entry) = self.entry_mut(path, now) else {
            return;
        };
        entry.last_failure = Some(now);
        entry.updated = now;
    }

    /// Learns from a finished (or running) race.
    ///
    /// - A connected attempt records its round trip (from its start to its connection).
    /// - A failed attempt records a failure.
    /// - A cancelled attempt that had started no later than the winner records a failure: it
    ///   had at least as long as the winner and did not connect (a hanging IPv6 path, say).
    ///   One cancelled by the overall deadline records a failure too. One cancelled because
    ///   the caller aborted teaches nothing.
    pub fn record_race<E>(&mut self, race: &Race<E>) {
        let winner_start = race
            .attempts()
            .iter()
            .find(|a| a.status() == AttemptStatus::Connected)
            .map(|a| a.started());
        let timed_out = race.is_timed_out();
        for a in race.attempts() {
            let Some(ended) = a.ended() else { continue };
            // R15: a destination whose source address is unknown teaches nothing.
            let Some(source) = race.source_of(a.addr().ip()) else {
                continue;
            };
            let path = Path::new(source, a.addr(), a.endpoint().transport());
            match a.status() {
                AttemptStatus::Connected => {
                    self.record_success(path, ended.saturating_duration_since(a.started()), ended);
                }
                AttemptStatus::Failed => self.record_failure(path, ended),
                AttemptStatus::Cancelled => {
                    let lost = winner_start.is_some_and(|w| a.started() <= w);
                    if lost || timed_out {
                        self.record_failure(path, ended);
                    }
                }
                AttemptStatus::Connecting => {}
            }
        }
    }

    /// Returns the smoothed round trip over `path`, if one was recorded within the time to
    /// live.
    pub fn rtt(&self, path: Path, now: Instant) -> Option<Duration> {
        self.fresh(path, now).and_then(|e| e.srtt)
    }

    /// Returns whether `path` failed more recently than it succeeded, within the time to live.
    pub fn is_failing(&self, path: Path, now: Instant) -> bool {
        self.fresh(path, now).is_some_and(Entry::is_failing)
    }

    /// Returns the retransmission timeout RFC 6298 computes for `path` (`SRTT + 4 * RTTVAR`,
    /// saturating): when its second SYN (or, for QUIC, about when its first probe timeout)
    /// would go out, which R26 and HEv3 §6 (V29) suggest as the Connection Attempt Delay.
    pub fn retransmission_timeout(&self, path: Path, now: Instant) -> Option<Duration> {
        self.fresh(path, now).and_then(|e| {
            e.srtt
                .map(|srtt| srtt.saturating_add(e.rttvar.saturating_mul(4)))
        })
    }

    /// Returns whether `transport` fails from `source`: its most recent fresh outcome to any
    /// destination was a failure ("QUIC is blocked on this network", HEV3.md HG3).
    pub fn is_transport_failing(&self, source: IpAddr, transport: Transport, now: Instant) -> bool {
        let start = self
            .entries
            .partition_point(|(p, _)| (p.source, p.transport) < (source, transport));
        let mut failure = None;
        let mut success = None;
        for (p, e) in &self.entries[start..] {
            if (p.source, p.transport) != (source, transport) {
                break;
            }
            if !self.is_fresh(e, now) {
                continue;
            }
            failure = failure.max(e.last_failure);
            success = success.max(e.last_success);
        }
        match (failure, success) {
            (Some(f), Some(s)) => f > s,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    fn is_fresh(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.updated) < self.ttl
    }

    fn fresh(&self, path: Path, now: Instant) -> Option<&Entry> {
        let i = self.entries.binary_search_by(|(p, _)| p.cmp(&path)).ok()?;
        let entry = &self.entries[i].1;
        self.is_fresh(entry, now).then_some(entry)
    }

    /// Finds or makes the entry of `path`; `None` when the capacity is 0.
    fn entry_mut(&mut self, path: Path, now: Instant) -> Option<&mut Entry> {
        match self.entries.binary_search_by(|(p, _)| p.cmp(&path)) {
            Ok(i) => {
                let ttl = self.ttl;
                let entry = &mut self.entries[i].1;
                if now.saturating_duration_since(entry.updated) >= ttl {
                    *entry = Entry::new(now);
                }
                Some(entry)
            }
            Err(_) if self.capacity == 0 => None,
            Err(_) => {
                self.evict_to(self.capacity - 1);
                let i = self
                    .entries
                    .binary_search_by(|(p, _)| p.cmp(&path))
                    .unwrap_or_else(|i| i);
                self.entries.insert(i, (path, Entry::new(now)));
                Some(&mut self.entries[i].1)
            }
        }
    }

    /// Drops the least recently updated entries until at most `keep` remain.
    fn evict_to(&mut self, keep: usize) {
        while self.entries.len() > keep {
            let oldest = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, e))| e.updated)
                .map(|(i, _)| i);
            match oldest {
                Some(i) => {
                    self.entries.remove(i);
                }
                None => break,
            }
        }
    }
}

impl Entry {
    fn is_failing(&self) -> bool {
        match (self.last_failure, self.last_success) {
            (Some(f), Some(s)) => f > s,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    fn new(now: Instant) -> Self {
        Entry {
            srtt: None,
            rttvar: Duration::ZERO,
            last_success: None,
            last_failure: None,
            updated: now,
        }
    }
}
