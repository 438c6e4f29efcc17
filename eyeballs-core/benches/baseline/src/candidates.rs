//! The not-yet-attempted addresses of a race, kept sorted per family and handed out
//! interleaved (RFC 8305 §4 R11, R12, R17, R18; §6 R32, R33; G6).

use std::collections::{BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::config::Config;
use crate::history::History;
use crate::sort::SortKey;

#[derive(Debug)]
pub(crate) struct Candidates {
    /// IPv6 candidates, best first.
    v6: VecDeque<Candidate>,
    /// IPv4 candidates, best first.
    v4: VecDeque<Candidate>,
    /// Every address ever accepted, attempted or not, so that answers are deduplicated.
    seen: BTreeSet<SocketAddr>,
    /// Arrival counter: rule 10's "leave the order unchanged".
    next_seq: u64,
    /// Addresses accepted and not dropped (attempted plus pending), for `max_addresses`.
    accepted: usize,
    /// Family of the first pick, and how many picks of it opened the race (R18).
    opening: Option<Opening>,
    /// Family of the last pick.
    last_v6: Option<bool>,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    key: SortKey,
    addr: SocketAddr,
}

#[derive(Debug, Clone, Copy)]
struct Opening {
    v6: bool,
    run: usize,
    done: bool,
}

impl Candidates {
    pub(crate) fn new() -> Self {
        Candidates {
            v6: VecDeque::new(),
            v4: VecDeque::new(),
            seen: BTreeSet::new(),
            next_seq: 0,
            accepted: 0,
            opening: None,
            last_v6: None,
        }
    }

    /// Returns whether no address is waiting to be attempted.
    pub(crate) fn is_empty(&self) -> bool {
        self.v6.is_empty() && self.v4.is_empty()
    }

    /// Merges `addrs` into the sorted lists and returns how many were new.
    ///
    /// IPv4 addresses are first translated with the NAT64 prefix, if any (R36); addresses of a
    /// family the policy excludes, and duplicates, are dropped. New addresses land at their
    /// sorted place among those not yet attempted (R8, R33); the interleaving in
    /// [`Candidates::pop_next`] makes a late family's best address the next one tried (G6).
    pub(crate) fn add<I>(
        &mut self,
        addrs: I,
        config: &Config,
        history: Option<&History>,
        now: Instant,
    ) -> usize
    where
        I: IntoIterator<Item = SocketAddr>,
    {
        let mut new_v6 = Vec::new();
        let mut new_v4 = Vec::new();
        for addr in addrs {
            let addr = match (addr, config.nat64) {
                (SocketAddr::V4(v4), Some(prefix)) => {
                    SocketAddr::new(IpAddr::V6(prefix.synthesize(*v4.ip())), v4.port())
                }
                _ => addr,
            };
            if !config.family_policy.allows(addr.is_ipv6()) || !self.seen.insert(addr) {
                continue;
            }
            let demoted = history.is_some_and(|h| h.is_failing(addr, now));
            let rtt = history.and_then(|h| h.rtt(addr, now));
            let key = SortKey::new(addr.ip(), self.next_seq, demoted, rtt);
            self.next_seq += 1;
            let list = if addr.is_ipv6() {
                &mut new_v6
            } else {
                &mut new_v4
            };
            list.push(Candidate { key, addr });
        }
        let added = new_v6.len() + new_v4.len();
        self.accepted += added;
        merge(&mut self.v6, new_v6);
        merge(&mut self.v4, new_v4);
        if let Some(cap) = config.max_addresses {
            self.truncate(cap, config.family_policy.prefers_v6());
        }
        added
    }

    /// Drops the not-yet-attempted addresses among `ips` (R32). Attempted ones are untouched
    /// (R31): they are no longer here.
    pub(crate) fn remove(&mut self, ips: &[IpAddr]) {
        if ips.is_empty() {
            return;
        }
        let gone: BTreeSet<IpAddr> = ips.iter().copied().collect();
        let mut dropped = Vec::new();
        for list in [&mut self.v6, &mut self.v4] {
            list.retain(|c| {
                let keep = !gone.contains(&c.addr.ip());
                if !keep {
                    dropped.push(c.addr);
                }
                keep
            });
        }
        self.accepted -= dropped.len();
        // A dropped address may come back in a later update. Attempted addresses stay in
        // `seen`, so that none is ever attempted twice.
        for addr in dropped {
            self.seen.remove(&addr);
        }
    }

    /// Takes the next address to attempt.
    ///
    /// The first pick is the preferred family's best, unless history says that family is broken
    /// for this host (an address of it failed recently and none of it worked since) and the
    /// other is not: then the other family goes first. The opening family then gets
    /// `first_address_family_count` picks in a row (R18), after which the families alternate
    /// (R17). A family that has run out is skipped.
    pub(crate) fn pop_next(&mut self, config: &Config) -> Option<SocketAddr> {
        let want_v6 = match (self.opening, self.last_v6) {
            (Some(o), _) if !o.done && o.run < config.first_address_family_count => o.v6,
            (_, Some(last)) => !last,
            _ => {
                let prefer_v6 = config.family_policy.prefers_v6();
                prefer_v6 != self.should_flip(prefer_v6)
            }
        };
        let (first, second) = if want_v6 {
            (&mut self.v6, &mut self.v4)
        } else {
            (&mut self.v4, &mut self.v6)
        };
        let picked = first.pop_front().or_else(|| second.pop_front())?.addr;
        let v6 = picked.is_ipv6();
        match &mut self.opening {
            None => {
                self.opening = Some(Opening {
                    v6,
                    run: 1,
                    done: false,
                })
            }
            Some(o) if !o.done && o.v6 == v6 => o.run += 1,
            Some(o) => o.done = true,
        }
        self.last_v6 = Some(v6);
        Some(picked)
    }

    /// Returns whether an address of this family is waiting.
    pub(crate) fn has_family(&self, v6: bool) -> bool {
        !if v6 { &self.v6 } else { &self.v4 }.is_empty()
    }

    /// Returns whether the other family should go first: history says the preferred one is
    /// broken for this host (an address of it failed recently and none worked since) and the
    /// other is not. Scans the lists; it is asked only before the first attempt.
    pub(crate) fn should_flip(&self, prefer_v6: bool) -> bool {
        let (preferred, other) = if prefer_v6 {
            (&self.v6, &self.v4)
        } else {
            (&self.v4, &self.v6)
        };
        is_bad(preferred) && !is_bad(other)
    }

    /// Drops the least preferred pending addresses until at most `cap` are accepted: from the
    /// longer list (the tail of an interleaved order is the longer family's), the other family
    /// on a tie.
    fn truncate(&mut self, cap: usize, prefer_v6: bool) {
        while self.accepted > cap {
            let drop_v6 = match self.v6.len().cmp(&self.v4.len()) {
                core::cmp::Ordering::Greater => true,
                core::cmp::Ordering::Less => false,
                core::cmp::Ordering::Equal => !prefer_v6,
            };
            let list = if drop_v6 { &mut self.v6 } else { &mut self.v4 };
            if list.pop_back().is_none() {
                break;
            }
            self.accepted -= 1;
        }
    }
}

/// Returns whether history says this family is broken for this host: some address of it
/// failed recently, and none worked more recently than it failed.
fn is_bad(list: &VecDeque<Candidate>) -> bool {
    let mut failed = false;
    for c in list {
        if c.key.is_good() {
            return false;
        }
        failed |= c.key.is_demoted();
    }
    failed
}

/// Merges the unsorted `new` into the sorted `list`, in O(n + m log m).
fn merge(list: &mut VecDeque<Candidate>, mut new: Vec<Candidate>) {
    if new.is_empty() {
        return;
    }
    // Keys are unique (they end in the arrival counter), so an unstable sort is exact.
    new.sort_unstable_by_key(|c| c.key);
    match list.back() {
        None => *list = VecDeque::from(new),
        Some(last) if last.key < new[0].key => list.extend(new),
        Some(_) => {
            let old = core::mem::take(list);
            let mut merged = VecDeque::with_capacity(old.len() + new.len());
            let mut old = old.into_iter().peekable();
            let mut new = new.into_iter().peekable();
            loop {
                let take_old = match (old.peek(), new.peek()) {
                    (Some(a), Some(b)) => a.key < b.key,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                let next = if take_old { old.next() } else { new.next() };
                merged.extend(next);
            }
            *list = merged;
        }
    }
}
