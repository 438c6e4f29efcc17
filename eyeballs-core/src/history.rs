//! A bounded, expiring, clock-injected store of what past races learned (RFC 8305 §4 R13–R16,
//! §5 R26; HG3), and the small copy of it one race keeps.
//!
//! The store is an ordered map of the entries by [`Path`] (lookups), a queue of the entries
//! by last update (eviction of the least recently updated: a min-heap of one item per entry,
//! queued when the entry is made; an item whose entry was updated since is queued again at
//! the update's time when it comes up, as entries only ever get younger), and, per source
//! address and transport, the multiset of their latest failure and success times (HG3's
//! "does QUIC fail from here"), its greatest time kept apart. Every record, lookup and
//! eviction is O(log n) (amortized: an update of an entry touches no queue, and an eviction
//! may queue again the items of entries updated since they were queued); nothing scans the
//! store.
//!
//! A race never copies the store: it copies the entries of the destinations whose source
//! address it learns, and the per-source aggregates, into a [`Snapshot`] (O(k log n) for k
//! destinations). Every question a race asks is about such a destination or source, and the
//! snapshot answers it exactly as the store would.

use core::time::Duration;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use crate::endpoint::{Transport, TRANSPORTS};
use crate::small::SmallBuf;

/// Default number of destinations a [`History`] remembers.
pub const HISTORY_CAPACITY: usize = 256;
/// Default time an entry stays valid after it was last updated.
pub const HISTORY_TTL: Duration = Duration::from_secs(600);
/// Default of [`History::reprobe_every`]: one race in this many, from a source address where
/// history says QUIC fails, races QUIC as if there were no history (V24, HG3).
pub const QUIC_REPROBE_INTERVAL: u32 = 8;
/// How many losses in a row ([`History::record_loss`]) make a path count as failing.
pub const LOSSES_TO_FAIL: u8 = 2;
/// How many paths from one source must be failing over a transport, with no success over it
/// since, for that transport to count as failing from there ("UDP is blocked on this
/// network", [`History::is_transport_failing`]).
pub const TRANSPORT_FAILURE_QUORUM: usize = 2;

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
/// mutex, say). A race built with [`Race::with_history`](crate::Race::with_history) copies
/// what it needs of it (the entries of the destinations whose source address it knows, then
/// more with [`Race::handle_history`](crate::Race::handle_history) as their sources are
/// reported) and uses it to
///
/// - order endpoints that failed recently after the others (RFC 6724 rule 1, "known to be
///   otherwise unusable"), and start with the other family when every address of the preferred
///   family failed recently, so a host whose IPv6 path just broke connects over IPv4 at once;
/// - try TCP before QUIC when QUIC failed or lost recently to two destinations from this
///   source address and has not worked since ("UDP is blocked here", HG3), and
///   deal one server's failing QUIC after its TCP; QUIC is still tried, after TCP, and
///   one race in [`reprobe_every`](History::reprobe_every) (8) races it first again, so
///   history converges with history-less behaviour (V24);
/// - prefer addresses with a lower recorded round trip (R13) — which are also the ones used
///   before (R14);
/// - derive the Connection Attempt Delay after an address from its retransmission timeout
///   (RFC 6298: `SRTT + 4 * RTTVAR`), clamped to the configured minimum and maximum (R26, R27).
///
/// After the race, [`History::record_race`] feeds the outcome back.
///
/// Entries are keyed by [`Path`]: the local source address, the destination and the
/// transport. They expire [`ttl`](History::ttl) after their last update, and the least
/// recently updated entry is evicted when the store holds [`capacity`](History::capacity)
/// entries (256 by default; each entry costs about 200 bytes in an ordered map, an eviction
/// queue and per-source multisets).
/// Recording, looking up and evicting are O(log n) in the number of entries, so a store of
/// 100,000 entries is as quick to use as a small one.
///
/// Time that goes backwards is clamped: a record stamped earlier than the latest time the
/// history has recorded counts as made at that latest time, so a late report of an old
/// failure cannot move an entry back in time or bring an expired one back. A race learns the source address
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
    entries: BTreeMap<Path, Entry>,
    /// The entries by last update, least first (ties by path): one item per entry, its
    /// `(updated, path)` when it was queued. An update leaves the item as it is (the
    /// entry's `updated` only grows, so an item is never later than its entry); eviction
    /// takes the least item, and one whose entry was updated since is queued again at the
    /// entry's `updated` instead ([`History::evict_to`]). So the entry evicted is the one
    /// with the least `(updated, path)`, and a record costs no push.
    by_age: BinaryHeap<Reverse<(Instant, Path)>>,
    /// Per source address, and in it per transport, the latest failure and success times
    /// of its entries (as multisets, so an entry that changes or goes leaves the right
    /// maximum): one search finds a source's transports. A transport's outcomes are present
    /// exactly while the store holds an entry of that source and transport (every entry
    /// has a success or an evidence time), a source's while one of them is.
    transports: BTreeMap<IpAddr, PerTransport>,
    capacity: usize,
    ttl: Duration,
    /// One race in this many re-probes QUIC where history says it fails.
    reprobe_every: u32,
    /// The latest time recorded: an earlier record is clamped to it.
    latest: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    srtt: Option<Duration>,
    rttvar: Duration,
    last_success: Option<Instant>,
    last_failure: Option<Instant>,
    /// The latest loss ([`History::record_loss`]), and how many in a row since the last
    /// success.
    last_loss: Option<Instant>,
    losses: u8,
    /// Races that dealt this (QUIC) path late because it was failing, since it was last
    /// re-probed ([`History::reprobe_every`]).
    since_probe: u32,
    /// The latest of `last_success`, `last_failure` and `last_loss` (every record sets one
    /// of them to the record's time, and time is clamped so it never goes back).
    updated: Instant,
}

/// The entries' evidence times ([`Entry::evidence`]) and the `last_success` times of
/// one (source, transport)'s entries, with their counts; and how many races from that source
/// used its failures since the last re-probe (HG3).
/// A source's outcomes, per transport ([`slot`]).
type PerTransport = [Option<Outcomes>; TRANSPORTS.len()];

/// The place of `transport` in a [`PerTransport`].
fn slot(transport: Transport) -> usize {
    match transport {
        Transport::Tcp => 0,
        Transport::Quic => 1,
    }
}

#[derive(Debug, Clone, Default)]
struct Outcomes {
    failures: Times,
    successes: Times,
    since_probe: u32,
}

/// A multiset of times, its greatest time (with its count) kept out of the tree: records
/// come in time order (time is clamped so that it never goes back), so a path recorded
/// again replaces the greatest time by a later one, and a source with one path (or one
/// path recorded again and again) touches no tree at all.
#[derive(Debug, Clone, Default)]
struct Times {
    /// The greatest time and its count (at least 1); `None` only when `rest` is empty too.
    top: Option<(Instant, u32)>,
    /// The other times, each earlier than `top`'s, with their counts.
    rest: BTreeMap<Instant, u32>,
}

/// The latest failures and success of a (source, transport), over its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Latest {
    /// The two latest evidence times (two entries may share one).
    failure: Option<Instant>,
    second_failure: Option<Instant>,
    success: Option<Instant>,
    since_probe: u32,
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
            entries: BTreeMap::new(),
            by_age: BinaryHeap::new(),
            transports: BTreeMap::new(),
            capacity: HISTORY_CAPACITY,
            ttl: HISTORY_TTL,
            reprobe_every: QUIC_REPROBE_INTERVAL,
            latest: None,
        }
    }

    /// Sets how often a race re-probes QUIC from a source address where history says it
    /// fails, default [`QUIC_REPROBE_INTERVAL`] (8); 0 or 1 re-probes every time.
    ///
    /// V24: history "MUST converge with history-less behaviour (ignore it now and then)";
    /// HG3: "ignores it now and then to re-probe". Counted per source address: after
    /// `every - 1` races from a source that dealt TCP before QUIC because of QUIC's history
    /// there (a failing QUIC path, or UDP judged blocked), the next race from it ignores that
    /// history and races QUIC first, as without history. So a network that unblocks UDP gets
    /// QUIC back within `every` races from it, and a server whose UDP was repaired is tried
    /// over QUIC again. On a network that still drops UDP a re-probe costs the delay of TCP
    /// after QUIC ([`Config::tcp_after_quic_delay`](crate::Config::tcp_after_quic_delay),
    /// 50 ms): 6 ms a race on average with the default. Counts live with the source's QUIC
    /// entries and go with them.
    pub fn reprobe_every(mut self, races: u32) -> Self {
        self.reprobe_every = races;
        self
    }

    /// Sets how many destinations are remembered; 0 remembers nothing. The least recently
    /// updated entries beyond it are dropped at once.
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

    /// Forgets everything, as R16 asks when the network attachment changes. The latest time
    /// recorded is kept: time still does not go backwards.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_age.clear();
        self.transports.clear();
    }

    /// Records that a connection over `path` completed after `rtt` (RFC 6298 smoothing,
    /// saturating: any `rtt` is accepted). A `now` earlier than the latest time recorded
    /// counts as that time.
    pub fn record_success(&mut self, path: Path, rtt: Duration, now: Instant) {
        self.update(path, now, |entry, now| {
            match entry.srtt {
                None => {
                    entry.srtt = Some(rtt);
                    entry.rttvar = rtt / 2;
                }
                Some(srtt) => {
                    // RFC 6298 §2.3 with alpha = 1/8 and beta = 1/4; dividing first cannot
                    // overflow.
                    let diff = srtt.abs_diff(rtt);
                    entry.rttvar = (entry.rttvar / 4 * 3).saturating_add(diff / 4);
                    entry.srtt = Some((srtt / 8 * 7).saturating_add(rtt / 8));
                }
            }
            entry.last_success = Some(now);
            entry.losses = 0;
        });
    }

    /// Records that a connection over `path` failed, or, over TCP, lost to a later-started
    /// attempt. A `now` earlier than the latest time recorded counts as that time.
    pub fn record_failure(&mut self, path: Path, now: Instant) {
        self.update(path, now, |entry, now| entry.last_failure = Some(now));
    }

    /// Records that an attempt over `path` lost: it was cancelled unanswered when one that
    /// started no earlier won (V24, HG3). Weaker evidence than a failure: a QUIC
    /// attempt that loses to TCP may only have been slower. A path counts as failing after
    /// [`LOSSES_TO_FAIL`] (2) losses with no success in between. A `now` earlier than the
    /// latest time recorded counts as that time.
    pub fn record_loss(&mut self, path: Path, now: Instant) {
        self.update(path, now, |entry, now| {
            entry.last_loss = Some(now);
            entry.losses = entry.losses.saturating_add(1);
        });
    }

    /// Returns the smoothed round trip over `path`, if one was recorded within the time to
    /// live.
    pub fn rtt(&self, path: Path, now: Instant) -> Option<Duration> {
        self.fresh(path, now).and_then(Entry::rtt)
    }

    /// Returns whether `path` is failing, within the time to live: it failed more recently
    /// than it succeeded, or lost [`LOSSES_TO_FAIL`] (2) times since it last succeeded.
    pub fn is_failing(&self, path: Path, now: Instant) -> bool {
        self.fresh(path, now).is_some_and(Entry::is_failing)
    }

    /// Returns the retransmission timeout RFC 6298 computes for `path` (`SRTT + 4 * RTTVAR`,
    /// saturating): when its second SYN (or, for QUIC, about when its first probe timeout)
    /// would go out, which R26 and HEv3 §6 (V29) suggest as the Connection Attempt Delay.
    pub fn retransmission_timeout(&self, path: Path, now: Instant) -> Option<Duration> {
        self.fresh(path, now)
            .and_then(Entry::retransmission_timeout)
    }

    /// Returns whether `transport` fails from `source` ("UDP is blocked on this network",
    /// HG3): at least [`TRANSPORT_FAILURE_QUORUM`] (2) paths from `source` over
    /// `transport` are failing ([`History::is_failing`]) and became so after the latest
    /// success over it from there, all within the time to live. One server's broken UDP is
    /// that server's: its path fails, the others keep QUIC.
    ///
    /// O(log n): the answer comes from the latest two failures and the latest success over
    /// the source's entries of that transport, kept as they are recorded (see [`History`]).
    pub fn is_transport_failing(&self, source: IpAddr, transport: Transport, now: Instant) -> bool {
        self.latest(source, transport)
            .is_some_and(|l| l.is_failing(self.ttl, now))
    }

    fn fresh(&self, path: Path, now: Instant) -> Option<&Entry> {
        let entry = self.entries.get(&path)?;
        is_fresh(entry.updated, self.ttl, now).then_some(entry)
    }

    fn latest(&self, source: IpAddr, transport: Transport) -> Option<Latest> {
        self.outcomes(source, transport).map(Outcomes::latest)
    }

    fn outcomes(&self, source: IpAddr, transport: Transport) -> Option<&Outcomes> {
        self.transports.get(&source)?[slot(transport)].as_ref()
    }

    fn outcomes_mut(&mut self, source: IpAddr, transport: Transport) -> Option<&mut Outcomes> {
        self.transports.get_mut(&source)?[slot(transport)].as_mut()
    }

    /// Counts a race that dealt QUIC over `path` late because the path was failing, or
    /// starts the count again after a race that re-probed it ([`History::reprobe_every`]).
    pub(crate) fn count_quic_path(&mut self, path: Path, probed: bool) {
        if let Some(e) = self.entries.get_mut(&path) {
            e.since_probe = if probed {
                0
            } else {
                e.since_probe.saturating_add(1)
            };
        }
    }

    /// Counts a race from `source` that dealt TCP first because QUIC fails from there, or
    /// starts the count again after a race that re-probed (see [`History::reprobe_every`]).
    pub(crate) fn count_quic_race(&mut self, source: IpAddr, probed: bool) {
        if let Some(o) = self.outcomes_mut(source, Transport::Quic) {
            o.since_probe = if probed {
                0
            } else {
                o.since_probe.saturating_add(1)
            };
        }
    }

    /// Applies one record to the entry of `path` (made if new, renewed if expired) at `now`
    /// clamped to the latest time recorded, keeping the map, the eviction queue and the
    /// multisets in step.
    fn update(&mut self, path: Path, now: Instant, record: impl FnOnce(&mut Entry, Instant)) {
        let now = match self.latest {
            Some(latest) if latest > now => latest,
            _ => now,
        };
        self.latest = Some(now);
        let ttl = self.ttl;
        if let Some(entry) = self.entries.get_mut(&path) {
            let (old_evidence, old_success) = (entry.evidence(), entry.last_success);
            if !is_fresh(entry.updated, ttl, now) {
                *entry = Entry::new(now);
            }
            record(entry, now);
            entry.updated = now;
            let (new_evidence, new_success) = (entry.evidence(), entry.last_success);
            // Its item in the eviction queue stays as it is (see `by_age`).
            // The entry had an outcome, so its (source, transport) has its multisets.
            if let Some(o) = self.outcomes_mut(path.source, path.transport) {
                o.failures.replace(old_evidence, new_evidence);
                o.successes.replace(old_success, new_success);
            }
            return;
        }
        if self.capacity == 0 {
            return;
        }
        self.evict_to(self.capacity - 1);
        let mut entry = Entry::new(now);
        record(&mut entry, now);
        entry.updated = now;
        let o = self.transports.entry(path.source).or_default()[slot(path.transport)]
            .get_or_insert_with(Outcomes::default);
        o.failures.replace(None, entry.evidence());
        o.successes.replace(None, entry.last_success);
        self.entries.insert(path, entry);
        self.by_age.push(Reverse((now, path)));
    }

    /// Drops the least recently updated entries (the least `(updated, path)`) until at most
    /// `keep` remain.
    ///
    /// Every item of the queue is no later than its entry's `(updated, path)`, so when the
    /// least item is its entry's, that entry is the least of all; an item whose entry was
    /// updated since it was queued goes back at the entry's time. Amortized O(log n) a
    /// record: an item goes back at most once for each update of its entry.
    fn evict_to(&mut self, keep: usize) {
        while self.entries.len() > keep {
            let Some(Reverse((queued, path))) = self.by_age.pop() else {
                break;
            };
            let Some(entry) = self.entries.get(&path) else {
                // Not reached: an entry leaves only with its item (or with every item).
                continue;
            };
            if entry.updated != queued {
                self.by_age.push(Reverse((entry.updated, path)));
                continue;
            }
            if let Some(old) = self.entries.remove(&path) {
                self.forget_outcomes(path, &old);
            }
        }
    }

    /// Takes an entry's outcome times out of its (source, transport)'s multisets.
    fn forget_outcomes(&mut self, path: Path, old: &Entry) {
        let Some(per) = self.transports.get_mut(&path.source) else {
            return;
        };
        let outcomes = &mut per[slot(path.transport)];
        let Some(o) = outcomes else {
            return;
        };
        if let Some(t) = old.evidence() {
            o.failures.take_one(t);
        }
        if let Some(t) = old.last_success {
            o.successes.take_one(t);
        }
        if o.failures.is_empty() && o.successes.is_empty() {
            *outcomes = None;
            if per.iter().all(Option::is_none) {
                self.transports.remove(&path.source);
            }
        }
    }
}

impl Times {
    /// Replaces one `old` by `new` (`None`: nothing).
    #[inline]
    fn replace(&mut self, old: Option<Instant>, new: Option<Instant>) {
        if old == new {
            return;
        }
        // A path recorded again: its time was the greatest, alone, and the new one is no
        // earlier (time never goes back), so it takes its place; the rest stays earlier.
        if let (Some(t), Some(new), Some((top, n))) = (old, new, &mut self.top) {
            if *top == t && *n == 1 && new >= t {
                *top = new;
                return;
            }
        }
        self.take_then_insert(old, new);
    }

    /// [`Times::replace`] in general: out of line, so that the quick cases stay small.
    #[inline(never)]
    fn take_then_insert(&mut self, old: Option<Instant>, new: Option<Instant>) {
        if let Some(t) = old {
            self.take_one(t);
        }
        if let Some(t) = new {
            self.insert(t);
        }
    }

    /// Adds one `t`.
    fn insert(&mut self, t: Instant) {
        match &mut self.top {
            None => self.top = Some((t, 1)),
            Some((top, n)) if *top == t => *n = n.saturating_add(1),
            Some((top, n)) if *top < t => {
                let (was, count) = (*top, *n);
                *top = t;
                *n = 1;
                self.rest.insert(was, count);
            }
            Some(_) => {
                let n = self.rest.entry(t).or_insert(0);
                *n = n.saturating_add(1);
            }
        }
    }

    /// Removes one `t`, if there is one.
    fn take_one(&mut self, t: Instant) {
        match &mut self.top {
            Some((top, n)) if *top == t => {
                *n -= 1;
                if *n == 0 {
                    self.top = self.rest.pop_last();
                }
            }
            _ => {
                if let Some(n) = self.rest.get_mut(&t) {
                    *n -= 1;
                    if *n == 0 {
                        self.rest.remove(&t);
                    }
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    /// The greatest time.
    fn last(&self) -> Option<Instant> {
        self.top.map(|(t, _)| t)
    }

    /// The two greatest times (the same twice when it counts twice).
    fn last_two(&self) -> (Option<Instant>, Option<Instant>) {
        match self.top {
            Some((t, n)) if n >= 2 => (Some(t), Some(t)),
            Some((t, _)) => (Some(t), self.rest.last_key_value().map(|(t, _)| *t)),
            None => (None, None),
        }
    }
}

/// Whether an entry updated at `updated` is still valid at `now`: `now - updated < ttl`
/// (0 when `now` is earlier), worked out as `now < updated + ttl` (a sum past what
/// `Instant` holds is never reached), which costs an addition, not a subtraction and a
/// `Duration`.
#[inline]
fn is_fresh(updated: Instant, ttl: Duration, now: Instant) -> bool {
    !ttl.is_zero() && updated.checked_add(ttl).is_none_or(|end| now < end)
}

impl Entry {
    fn new(now: Instant) -> Self {
        Entry {
            srtt: None,
            rttvar: Duration::ZERO,
            last_success: None,
            last_failure: None,
            last_loss: None,
            losses: 0,
            since_probe: 0,
            updated: now,
        }
    }

    fn rtt(&self) -> Option<Duration> {
        self.srtt
    }

    fn is_failing(&self) -> bool {
        self.last_failure > self.last_success
            || (self.losses >= LOSSES_TO_FAIL && self.last_loss > self.last_success)
    }

    /// The entry's word on its transport from its source, for the aggregate: its latest
    /// failure or loss, when that is newer than its latest success (then it is also its update
    /// time); `None` otherwise. A single loss counts here: the aggregate asks two
    /// destinations for their word instead ([`TRANSPORT_FAILURE_QUORUM`]).
    fn evidence(&self) -> Option<Instant> {
        let negative = self.last_failure.max(self.last_loss);
        (negative > self.last_success).then_some(negative).flatten()
    }

    fn retransmission_timeout(&self) -> Option<Duration> {
        self.srtt
            .map(|srtt| srtt.saturating_add(self.rttvar.saturating_mul(4)))
    }
}

impl Outcomes {
    /// The latest failures and success, and the re-probe count.
    fn latest(&self) -> Latest {
        let (failure, second_failure) = self.failures.last_two();
        Latest {
            failure,
            second_failure,
            success: self.successes.last(),
            since_probe: self.since_probe,
        }
    }
}

impl Latest {
    /// Whether at least [`TRANSPORT_FAILURE_QUORUM`] (2) fresh entries' latest outcome is a
    /// failure or a loss newer than the latest fresh success: whether the second latest
    /// evidence is fresh and newer than the latest success.
    ///
    /// An entry's evidence time is its update time, so it is fresh exactly when the entry
    /// is; a success newer than a fresh time is fresh too. So comparing with the
    /// latest success of all entries, expired ones included, gives what a scan of the fresh
    /// entries gives, and so does looking at the two latest evidence times only.
    fn is_failing(self, ttl: Duration, now: Instant) -> bool {
        const _: () = assert!(TRANSPORT_FAILURE_QUORUM == 2, "the aggregate keeps two");
        match self.second_failure {
            Some(second) => is_fresh(second, ttl, now) && self.second_failure > self.success,
            None => false,
        }
    }
}

/// What a race needs of a [`History`] to start: the entries of its target's destinations
/// whose source address the target gives ([`Target::sources`](crate::Target::sources)), and
/// the latest outcomes of their sources. Take it under the lock that guards the history
/// ([`History::copy_for`]), release the lock, and build the race from it
/// ([`Race::with_history_copy`](crate::Race::with_history_copy)): the race then starts
/// exactly as [`Race::with_history`](crate::Race::with_history) would start it with the
/// history as it was when copied, and the lock is held only for the lookups (O(k log n)
/// for k destinations), not for building the race.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use eyeballs_core::{Config, History, Path, Race, Source, Target, Transport};
///
/// let now = Instant::now();
/// let source = "2001:db8:ffff::2".parse().unwrap();
/// let addr = "[2001:db8::1]:443".parse().unwrap();
/// let mut history = History::new();
/// history.record_success(Path::new(source, addr, Transport::Tcp), Duration::from_millis(20), now);
/// let target = Target::addrs([addr]).sources([Source::new(addr.ip(), source)]);
/// let copy = history.copy_for(&target, now); // under the lock
/// let race: Race<String> = Race::with_history_copy(target, Config::default(), copy, now)?;
/// # drop(race);
/// # Ok::<(), eyeballs_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HistoryCopy(pub(crate) Box<Snapshot>);

impl History {
    /// Copies what a race to `target` needs of this history to start ([`HistoryCopy`]):
    /// call it under the lock that guards the history, then build the race outside it.
    /// `now` is the time the race will start at.
    pub fn copy_for(&self, target: &crate::Target, now: Instant) -> HistoryCopy {
        // Written into its box (`Box::new` builds it on the stack and copies it in).
        let mut snapshot = Box::write(Box::new_uninit(), Snapshot::new(self, now));
        // One fact (a one-address literal): its pair, with no list to build.
        if let [fact] = &target.sources[..] {
            if let Some(source) = fact.source() {
                snapshot.copy(self, &mut [(fact.destination(), source)]);
            }
            return HistoryCopy(snapshot);
        }
        // The (destination, source) pairs the race will learn from the target's sources,
        // as it learns them (`State::learn_sources`): at most MAX_SOURCES destinations, a
        // later fact replacing an earlier one.
        let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let mut pairs: SmallBuf<(IpAddr, IpAddr), 4> = SmallBuf::new((unspecified, unspecified));
        let facts = &target.sources[..];
        if facts.len() <= 4 {
            // A few facts (always fewer than MAX_SOURCES): each destination's last one.
            for (i, s) in facts.iter().enumerate() {
                let d = s.destination();
                if let Some(source) = s.source() {
                    if !facts[i + 1..].iter().any(|later| later.destination() == d) {
                        pairs.push((d, source));
                    }
                }
            }
        } else {
            let mut routes = crate::source::Routes::new();
            for s in facts {
                let d = s.destination();
                if routes.len() < crate::MAX_SOURCES || routes.contains_key(&d) {
                    routes.insert(d, s.route());
                }
            }
            pairs.extend(routes.iter().filter_map(|(d, r)| r.map(|r| (*d, r.source))));
        }
        snapshot.copy(self, &mut pairs);
        HistoryCopy(snapshot)
    }
}

/// What one race knows of a [`History`]: the entries of the destinations whose source
/// address it learned, and the latest outcomes per source and transport. It answers the
/// race's questions about those destinations and sources exactly as the history did when
/// they were copied.
///
/// Its lists keep their first few elements inline: a race to one or two destinations from
/// one source copies into the snapshot's own allocation, not into a buffer per list.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    ttl: Duration,
    reprobe_every: u32,
    /// Sorted by path.
    entries: SmallBuf<(Path, Entry), 2>,
    /// Sorted by (source, transport).
    transports: SmallBuf<((IpAddr, Transport), Latest), 2>,
    /// The (destination, source) pairs copied, sorted.
    copied: SmallBuf<(IpAddr, IpAddr), 2>,
    /// The sources whose latest outcomes were copied, sorted.
    sources: SmallBuf<IpAddr, 2>,
    /// Whether a QUIC entry or QUIC outcomes were copied: without, QUIC's history changed
    /// nothing in the race.
    quic: bool,
}

/// A placeholder address for the inline slots of empty buffers (never read).
const UNSPECIFIED: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl Snapshot {
    /// An empty snapshot of `history` (nothing copied yet); `now` only fills the inline
    /// slots of its empty lists.
    pub(crate) fn new(history: &History, now: Instant) -> Self {
        let path = Path::new(UNSPECIFIED, SocketAddr::new(UNSPECIFIED, 0), Transport::Tcp);
        let latest = Latest {
            failure: None,
            second_failure: None,
            success: None,
            since_probe: 0,
        };
        Snapshot {
            ttl: history.ttl,
            reprobe_every: history.reprobe_every,
            entries: SmallBuf::new((path, Entry::new(now))),
            transports: SmallBuf::new(((UNSPECIFIED, Transport::Tcp), latest)),
            copied: SmallBuf::new((UNSPECIFIED, UNSPECIFIED)),
            sources: SmallBuf::new(UNSPECIFIED),
            quic: false,
        }
    }

    /// Copies from `history` the entries of each (destination, source) pair not copied yet
    /// (every port and transport of the destination from that source), and the latest
    /// outcomes of each source not seen yet. O(k log n) for k pairs in a history of n
    /// entries. Returns whether anything was copied.
    pub(crate) fn copy(&mut self, history: &History, pairs: &mut [(IpAddr, IpAddr)]) -> bool {
        if pairs.len() > 1 {
            pairs.sort_unstable();
        }
        let (entries, transports, copied, sources) = (
            self.entries.len(),
            self.transports.len(),
            self.copied.len(),
            self.sources.len(),
        );
        let mut last = None;
        for &pair in pairs.iter() {
            if last == Some(pair) || self.copied[..copied].binary_search(&pair).is_ok() {
                continue;
            }
            last = Some(pair);
            self.copied.push(pair);
            let (destination, source) = pair;
            // A source not seen before: its latest outcomes, and its place in the sorted list.
            let new_source = match self.sources.binary_search(&source) {
                Ok(_) => false,
                Err(i) => {
                    self.sources.push(source);
                    // In order already when it goes last (the first source, say).
                    if i + 1 < self.sources.len() {
                        self.sources[i..].rotate_right(1);
                    }
                    true
                }
            };
            // One search for the source's outcomes over every transport.
            let per = history.transports.get(&source);
            for transport in TRANSPORTS {
                // No outcomes of the source over the transport: no entries either (see
                // `History::transports`), so no search of the entries.
                let Some(o) = per.and_then(|per| per[slot(transport)].as_ref()) else {
                    continue;
                };
                self.quic |= transport == Transport::Quic;
                if new_source {
                    self.transports.push(((source, transport), o.latest()));
                }
                let from = Path::new(source, SocketAddr::new(destination, 0), transport);
                for (p, e) in history.entries.range(from..) {
                    if p.source != source
                        || p.transport != transport
                        || p.destination.ip() != destination
                    {
                        break;
                    }
                    self.entries.push((*p, *e));
                }
            }
        }
        // What was pushed is in order when it is one pair's (one source, TCP then QUIC, each
        // by destination) or one source's pushed onto nothing; otherwise sort.
        let new_pairs = self.copied.len() - copied;
        if copied > 0 && new_pairs > 0 {
            self.copied.sort_unstable();
        }
        if self.entries.len() > entries && (entries > 0 || new_pairs > 1) {
            self.entries.sort_unstable_by_key(|(p, _)| *p);
        }
        if self.transports.len() > transports
            && (transports > 0 || self.sources.len() > sources + 1)
        {
            self.transports.sort_unstable_by_key(|(k, _)| *k);
        }
        self.entries.len() > entries || self.transports.len() > transports
    }

    /// As [`History::is_failing`] and [`History::rtt`], with one lookup.
    #[inline]
    pub(crate) fn failing_and_rtt(&self, path: Path, now: Instant) -> (bool, Option<Duration>) {
        match self.fresh(path, now) {
            Some(e) => (e.is_failing(), e.rtt()),
            None => (false, None),
        }
    }

    /// As [`History::rtt`].
    pub(crate) fn rtt(&self, path: Path, now: Instant) -> Option<Duration> {
        self.fresh(path, now).and_then(Entry::rtt)
    }

    /// As [`History::retransmission_timeout`].
    pub(crate) fn retransmission_timeout(&self, path: Path, now: Instant) -> Option<Duration> {
        self.fresh(path, now)
            .and_then(Entry::retransmission_timeout)
    }

    /// The smallest retransmission timeout of the fresh entries copied from `source`'s
    /// paths (any destination, port and transport): the network's round trip as far as this
    /// race knows it ([`DelaySchedule::Rtt`](crate::DelaySchedule::Rtt)).
    pub(crate) fn fastest_retransmission_timeout(
        &self,
        source: IpAddr,
        now: Instant,
    ) -> Option<Duration> {
        let from = self.entries.partition_point(|(p, _)| p.source < source);
        self.entries[from..]
            .iter()
            .take_while(|(p, _)| p.source == source)
            .filter(|(_, e)| is_fresh(e.updated, self.ttl, now))
            .filter_map(|(_, e)| e.retransmission_timeout())
            .min()
    }

    /// Whether this race re-probes QUIC from `source`: it ignores QUIC's failures there and
    /// races QUIC as if without history ([`History::reprobe_every`]).
    pub(crate) fn is_reprobing(&self, source: IpAddr) -> bool {
        let key = (source, Transport::Quic);
        self.transports
            .binary_search_by_key(&key, |(k, _)| *k)
            .is_ok_and(|i| self.transports[i].1.since_probe.saturating_add(1) >= self.reprobe_every)
    }

    /// Whether this race re-probes QUIC over `path`: it ignores the path's failures and
    /// deals it as if without history ([`History::reprobe_every`]).
    pub(crate) fn is_path_reprobing(&self, path: Path) -> bool {
        let i = self.entries.binary_search_by_key(&path, |(p, _)| *p);
        i.is_ok_and(|i| self.entries[i].1.since_probe.saturating_add(1) >= self.reprobe_every)
    }

    /// The copied QUIC paths that are failing at `now`.
    pub(crate) fn failing_quic_paths(&self, now: Instant) -> impl Iterator<Item = Path> + '_ {
        self.entries
            .iter()
            .filter(move |(p, e)| {
                p.transport == Transport::Quic
                    && is_fresh(e.updated, self.ttl, now)
                    && e.is_failing()
            })
            .map(|(p, _)| *p)
    }

    /// Whether anything of QUIC was copied (entries or outcomes): without, the race has
    /// no QUIC history to count re-probes of.
    pub(crate) fn has_quic(&self) -> bool {
        self.quic
    }

    /// The sources whose aggregates were copied, sorted.
    pub(crate) fn sources(&self) -> &[IpAddr] {
        &self.sources
    }

    /// As [`History::is_transport_failing`].
    pub(crate) fn is_transport_failing(
        &self,
        source: IpAddr,
        transport: Transport,
        now: Instant,
    ) -> bool {
        let i = self
            .transports
            .binary_search_by_key(&(source, transport), |(k, _)| *k);
        i.is_ok_and(|i| self.transports[i].1.is_failing(self.ttl, now))
    }

    fn fresh(&self, path: Path, now: Instant) -> Option<&Entry> {
        // A race's few entries are scanned (an equality test is cheaper than an ordering);
        // many are searched.
        let entry = if self.entries.len() <= 4 {
            &self.entries.iter().find(|(p, _)| *p == path)?.1
        } else {
            let i = self.entries.binary_search_by_key(&path, |(p, _)| *p).ok()?;
            &self.entries[i].1
        };
        is_fresh(entry.updated, self.ttl, now).then_some(entry)
    }
}

#[cfg(test)]
// The test's one clock reading: every time is an offset from it.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SOURCES: [&str; 3] = ["2001:db8:ffff::1", "2001:db8:eeee::1", "198.51.100.1"];
    const DESTS: [&str; 4] = ["2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"];
    const PORTS: [u16; 3] = [0, 443, u16::MAX];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn paths() -> Vec<Path> {
        let mut all = Vec::new();
        for s in SOURCES {
            for d in DESTS {
                for port in PORTS {
                    for t in TRANSPORTS {
                        all.push(Path::new(ip(s), SocketAddr::new(ip(d), port), t));
                    }
                }
            }
        }
        all
    }

    proptest! {
        /// A snapshot answers every question about the pairs it copied, and about their
        /// sources, exactly as the whole history does, at any time (before, during and
        /// after the entries' lives), however the pairs came in batches.
        #[test]
        fn a_snapshot_answers_as_the_whole_history(
            records in prop::collection::vec((0usize..72, any::<bool>(), 0u64..300, 0u64..2000), 0..80),
            batches in prop::collection::vec(
                prop::collection::vec((0usize..4, 0usize..3), 0..6), 0..4),
            capacity in 1usize..40,
        ) {
            let t0 = Instant::now();
            let all = paths();
            let mut h = History::new().capacity(capacity).ttl(Duration::from_millis(700));
            for (i, ok, rtt, at) in records {
                let at = t0 + Duration::from_millis(at);
                if ok {
                    h.record_success(all[i], Duration::from_millis(rtt), at);
                } else {
                    h.record_failure(all[i], at);
                }
            }
            let mut snap = Snapshot::new(&h, t0);
            let mut copied = Vec::new();
            for batch in batches {
                let mut pairs: Vec<(IpAddr, IpAddr)> =
                    batch.iter().map(|&(d, s)| (ip(DESTS[d]), ip(SOURCES[s]))).collect();
                copied.extend(pairs.iter().copied());
                snap.copy(&h, &mut pairs);
            }
            for now in [0u64, 500, 1000, 1500, 2000, 2700, 3000] {
                let now = t0 + Duration::from_millis(now);
                for p in &all {
                    if !copied.contains(&(p.destination().ip(), p.source())) {
                        continue;
                    }
                    prop_assert_eq!(
                        snap.failing_and_rtt(*p, now),
                        (h.is_failing(*p, now), h.rtt(*p, now))
                    );
                    prop_assert_eq!(
                        snap.retransmission_timeout(*p, now),
                        h.retransmission_timeout(*p, now)
                    );
                    prop_assert_eq!(
                        snap.is_transport_failing(p.source(), p.transport(), now),
                        h.is_transport_failing(p.source(), p.transport(), now)
                    );
                }
            }
        }
    }
}
