//! A bounded, expiring, clock-injected store of what past races learned (RFC 8305 §4 R13–R16,
//! §5 R26).

use core::time::Duration;
use std::net::SocketAddr;
use std::time::Instant;

use crate::race::Race;
use crate::record::AttemptStatus;

/// Default number of destinations a [`History`] remembers.
pub const HISTORY_CAPACITY: usize = 256;
/// Default time an entry stays valid after it was last updated.
pub const HISTORY_TTL: Duration = Duration::from_secs(600);

/// What past races learned about destination addresses: round-trip times and failures.
///
/// A history lives outside any race and is shared across races by the adapter (behind a
/// mutex, say). A race built with [`Race::with_history`] takes a snapshot of it and uses it to
///
/// - order addresses that failed recently after the others (RFC 6724 rule 1, "known to be
///   otherwise unusable"), and start with the other family when every address of the preferred
///   family failed recently, so a host whose IPv6 path just broke connects over IPv4 at once;
/// - prefer addresses with a lower recorded round trip (R13) — which are also the ones used
///   before (R14);
/// - derive the Connection Attempt Delay after an address from its retransmission timeout
///   (RFC 6298: `SRTT + 4 * RTTVAR`), clamped to the configured minimum and maximum (R26, R27).
///
/// After the race, [`History::record_race`] feeds the outcome back.
///
/// Entries are keyed by destination socket address, expire [`ttl`](History::ttl) after their
/// last update, and the least recently updated entry is evicted when the store is full.
///
/// RFC 8305 §4: historical data "MUST NOT be used across different network interfaces" (R15)
/// and "SHOULD be flushed whenever a device changes the network to which it is attached"
/// (R16). Keep one `History` per network attachment, and call [`History::clear`] when it
/// changes.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use eyeballs_core::History;
///
/// let now = Instant::now();
/// let mut history = History::new();
/// let addr = "[2001:db8::1]:443".parse().unwrap();
/// history.record_success(addr, Duration::from_millis(20), now);
/// assert_eq!(history.rtt(addr, now), Some(Duration::from_millis(20)));
/// history.clear();
/// assert!(history.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct History {
    /// Sorted by address, so lookups are binary searches and a snapshot is one copy.
    entries: Vec<(SocketAddr, Entry)>,
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

    /// Records that a connection to `addr` completed after `rtt` (RFC 6298 smoothing).
    pub fn record_success(&mut self, addr: SocketAddr, rtt: Duration, now: Instant) {
        let Some(entry) = self.entry_mut(addr, now) else {
            return;
        };
        match entry.srtt {
            None => {
                entry.srtt = Some(rtt);
                entry.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(rtt);
                entry.rttvar = entry.rttvar * 3 / 4 + diff / 4;
                entry.srtt = Some(srtt * 7 / 8 + rtt / 8);
            }
        }
        entry.last_success = Some(now);
        entry.updated = now;
    }

    /// Records that a connection to `addr` failed, or lost to a later-started attempt.
    pub fn record_failure(&mut self, addr: SocketAddr, now: Instant) {
        let Some(entry) = self.entry_mut(addr, now) else {
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
            match a.status() {
                AttemptStatus::Connected => {
                    self.record_success(
                        a.addr(),
                        ended.saturating_duration_since(a.started()),
                        ended,
                    );
                }
                AttemptStatus::Failed => self.record_failure(a.addr(), ended),
                AttemptStatus::Cancelled => {
                    let lost = winner_start.is_some_and(|w| a.started() <= w);
                    if lost || timed_out {
                        self.record_failure(a.addr(), ended);
                    }
                }
                AttemptStatus::Connecting => {}
            }
        }
    }

    /// Returns the smoothed round trip to `addr`, if one was recorded within the time to live.
    pub fn rtt(&self, addr: SocketAddr, now: Instant) -> Option<Duration> {
        self.fresh(addr, now).and_then(|e| e.srtt)
    }

    /// Returns whether `addr` failed more recently than it succeeded, within the time to live.
    pub fn is_failing(&self, addr: SocketAddr, now: Instant) -> bool {
        self.fresh(addr, now)
            .is_some_and(|e| match (e.last_failure, e.last_success) {
                (Some(f), Some(s)) => f > s,
                (Some(_), None) => true,
                (None, _) => false,
            })
    }

    /// Returns the retransmission timeout RFC 6298 computes for `addr` (`SRTT + 4 * RTTVAR`):
    /// when its second SYN would go out, which R26 suggests as the Connection Attempt Delay.
    pub fn retransmission_timeout(&self, addr: SocketAddr, now: Instant) -> Option<Duration> {
        self.fresh(addr, now)
            .and_then(|e| e.srtt.map(|srtt| srtt + e.rttvar * 4))
    }

    fn fresh(&self, addr: SocketAddr, now: Instant) -> Option<&Entry> {
        let i = self.entries.binary_search_by(|(a, _)| a.cmp(&addr)).ok()?;
        let entry = &self.entries[i].1;
        (now.saturating_duration_since(entry.updated) < self.ttl).then_some(entry)
    }

    /// Finds or makes the entry of `addr`; `None` when the capacity is 0.
    fn entry_mut(&mut self, addr: SocketAddr, now: Instant) -> Option<&mut Entry> {
        match self.entries.binary_search_by(|(a, _)| a.cmp(&addr)) {
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
                    .binary_search_by(|(a, _)| a.cmp(&addr))
                    .unwrap_or_else(|i| i);
                self.entries.insert(i, (addr, Entry::new(now)));
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
