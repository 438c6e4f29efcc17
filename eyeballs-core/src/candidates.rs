//! The endpoints a race has not tried yet, in the order it will try them (HEv3 §5; RFC 8305
//! §4 R11, R12, R17, R18; §6 R32, R33; G6).
//!
//! Whenever DNS (or the driver) tells the race something new, the whole list is rebuilt from
//! what is known: endpoints are made from every answer, grouped (V15–V21), sorted within each
//! group (V22, V23), deduplicated (HG11) and dealt out interleaved (V25, HG1). Dealing
//! continues from the picks already made, so a late family's best endpoint is the next one
//! tried (R8, R33, G6, V45) and interleaving is never broken by an update.
//!
//! A rebuild handles small candidates and sorts indices, not endpoints: a candidate is its
//! address, transport, group and packed sort keys, and becomes an [`Endpoint`] (ALPN ids, ECH
//! config, provenance) only when it is taken. Its buffers are kept from one rebuild to the
//! next, so a race allocates them once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Instant;

use crate::config::Config;
use crate::endpoint::{EchConfig, Endpoint, EndpointKey, Protocols, Provenance, Transport};
use crate::history::{Path, Snapshot};
use crate::name::Name;
use crate::nat64::Nat64Prefix;
use crate::record::AttemptRecord;
use crate::resolution::{Alt, Https, Resolution, Service};
use crate::service::Transports;
use crate::small::SmallBuf;
use crate::sort::{SortKey, SEQ_BITS};
use crate::source::Routes;

/// The most endpoints a race considers when [`Config::max_endpoints`] sets no lower cap.
pub const MAX_ENDPOINTS: usize = 65_536;

/// What taking an endpoint reads: what gives its details.
pub(crate) struct Details<'a> {
    pub(crate) resolution: &'a Resolution,
    pub(crate) protocols: &'a Protocols,
    pub(crate) nat64: Option<Nat64Prefix>,
}

/// What a rebuild reads.
pub(crate) struct Context<'a> {
    pub(crate) resolution: &'a Resolution,
    pub(crate) config: &'a Config,
    pub(crate) protocols: &'a Protocols,
    pub(crate) history: Option<&'a Snapshot>,
    /// Destination → route (`None`: no route), from [`Input::Sources`](crate::Input).
    pub(crate) sources: &'a Routes,
    pub(crate) now: Instant,
}

/// The groups of §5.2, in the order they are tried: services by rank, then the caller's
/// alternative services in their order (each by its services' index, which is their rank's
/// order; HG17), then the alias target's own addresses (V11), then the host's addresses
/// without service (V21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Service((u16, u64, usize)),
    Alt((u16, u16)),
    AliasFallback,
    Address,
}

/// [`Group::service`] of an alternative's group made of its own host's addresses.
const PLAIN_ALT: u16 = u16::MAX;

/// One group of a rebuild: its key (its dealing state is kept by key across rebuilds) and
/// where its endpoints' details come from.
#[derive(Debug, Clone, Copy)]
struct Group {
    key: GroupKey,
    /// The index of its service in the resolution's
    /// [`services`](crate::resolution::Extra::services), for service groups; for an
    /// alternative's, in its services (the origin's when they are shared), or [`PLAIN_ALT`].
    service: u16,
    /// Its ECH config as a number: 0 for none, equal numbers for equal configs.
    ech: u8,
}

#[derive(Debug)]
pub(crate) struct Candidates {
    /// Untried endpoints, next first from `head` on, each with the group's dealing state
    /// once it is picked.
    order: SmallBuf<Next, INLINE>,
    head: usize,
    /// The groups of the last rebuild, by index (the order they are tried in); the order's
    /// candidates refer to them.
    groups: SmallBuf<Group, INLINE>,
    /// Every endpoint started (sorted, filled from the race's attempts at each rebuild, and
    /// by [`Candidates::mark_tried`]), so none is started twice.
    tried: Vec<EndpointKey>,
    /// How many of the race's attempts `tried` holds.
    seen: usize,
    /// How each group's dealing stands after the picks made so far: the group of the last
    /// pick inline (most races have one group), the others in a sorted vector.
    deal: Option<(GroupKey, Deal)>,
    /// `deal` is behind by the last pick, of its group: that pick's entry (the one before
    /// `head`) keeps the state, expanded only when read ([`Candidates::settle`]). A walk
    /// then writes no state per pick.
    unsettled: bool,
    deals: Vec<(GroupKey, Deal)>,
    /// Untried endpoints of each family, and of services.
    v6: usize,
    v4: usize,
    services: usize,
    /// What history says of each family (`[v6, v4]`): some endpoint worked / failed.
    good: [bool; 2],
    failed: [bool; 2],
    /// Every waiting IPv6 endpoint has a poor route (see [`SortKey::is_poor_route`]).
    v6_poor: bool,
    skipped_without_ech: usize,
}

/// How many candidates, groups and the like a race keeps without allocating.
const INLINE: usize = 2;

/// The most addresses [`Candidates::rebuild_plain`] orders on the stack.
const PLAIN_MAX: usize = 8;

/// The most addresses [`Candidates::rebuild_plain`] takes: its buffers (32 bytes a
/// candidate) stay small enough for the cache and far below the
/// allocator's trim threshold. Longer lists take the general rebuild, whose packed sort keys
/// scale better (a 10,000-address walk faulted ten times as many pages in the plain one).
const PLAIN_LIMIT: usize = 256;

#[cfg(test)]
thread_local! {
    /// Tests turn the plain rebuild off to hold it to the general one.
    static PLAIN_OFF: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

#[cfg(test)]
fn plain_off() -> bool {
    PLAIN_OFF.with(core::cell::Cell::get)
}

#[cfg(not(test))]
#[inline(always)]
fn plain_off() -> bool {
    false
}

/// The buffers of a rebuild, kept for their capacity: every candidate made, in making order,
/// and indices into it (sorted, then dealt).
#[derive(Debug)]
struct Scratch {
    made: SmallBuf<Cand, INLINE>,
    keys: SmallBuf<OrderKey, INLINE>,
    narrow_keys: SmallBuf<(u64, u32), INLINE>,
    /// Each candidate's unit's best key, with more than one transport.
    unit_keys: Vec<SortKey>,
    digests: Vec<(u64, u32)>,
    dedup: Vec<DedupKey>,
    sorted: SmallBuf<u32, INLINE>,
    /// Whether each sorted candidate is of the same unit as the one before it.
    same_unit: Vec<bool>,
    dealt: SmallBuf<(u32, Dealt), INLINE>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            made: SmallBuf::new(PLACEHOLDER),
            keys: SmallBuf::new(OrderKey {
                hi: 0,
                lo: 0,
                index: 0,
            }),
            narrow_keys: SmallBuf::new((0, 0)),
            unit_keys: Vec::new(),
            digests: Vec::new(),
            dedup: Vec::new(),
            sorted: SmallBuf::new(0),
            same_unit: Vec::new(),
            dealt: SmallBuf::new((0, Dealt::default())),
        }
    }
}

/// A placeholder address for the inline slots of empty buffers.
const NOWHERE: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// A placeholder candidate, for the inline slots of empty buffers.
const PLACEHOLDER: Cand = Cand {
    key: SortKey::ZERO,
    addr: NOWHERE,
    made: 0,
    group: 0,
    transport: Transport::Tcp,
    tcp_first: false,
    skipped: false,
    dup: false,
    taken: false,
    nat64: false,
};

/// One candidate of [`Candidates::rebuild_plain`]: its key, its place among the host's
/// addresses (the IPv6 ones, then the IPv4 ones), and its family.
#[derive(Debug, Clone, Copy)]
struct Plain {
    key: SortKey,
    at: u32,
    v4: bool,
}

impl Plain {
    /// A placeholder (for the slots not yet made).
    const ZERO: Plain = Plain {
        key: SortKey::ZERO,
        at: 0,
        v4: false,
    };
}

/// One candidate: made and sorted by a rebuild, then waiting in the order.
#[derive(Debug, Clone, Copy)]
struct Cand {
    key: SortKey,
    addr: SocketAddr,
    /// Order of making: the first of two duplicates is kept (HG11).
    made: u32,
    /// Its group's index in [`Candidates::groups`].
    group: u16,
    transport: Transport,
    /// TCP goes first in this candidate's group (HG1, HG3).
    tcp_first: bool,
    /// Left out by the ECH downgrade rule (V35).
    skipped: bool,
    /// A later copy of an endpoint made before (HG11).
    dup: bool,
    /// Dealt already in this rebuild.
    taken: bool,
    /// `addr` is the NAT64 synthesis of an IPv4 endpoint, which it is grouped and sorted as
    /// (V51, V62).
    nat64: bool,
}

impl Cand {
    fn v6(&self) -> bool {
        self.addr.is_ipv6() && !self.nat64
    }

    /// The unit an endpoint belongs to: its address and port, and whether rule 1 demoted it
    /// (a failed QUIC endpoint does not drag its address's TCP endpoint down with it).
    fn unit(&self) -> Unit {
        (self.addr, self.key.is_demoted())
    }

    /// 0 for the transport that goes first in its group, 1 for the other.
    fn transport_rank(&self) -> u8 {
        u8::from((self.transport == Transport::Tcp) != self.tcp_first)
    }
}

/// How each group's dealing stands after the picks made so far: the last pick's group's,
/// and the others' (see [`Candidates`]'s `deal` and `deals`).
type Dealing<'a> = (&'a Option<(GroupKey, Deal)>, &'a [(GroupKey, Deal)]);

/// An address (with its port) and whether rule 1 demoted it: what one turn deals.
type Unit = (SocketAddr, bool);

/// One endpoint of the order: what taking it needs.
#[derive(Debug, Clone, Copy)]
struct Next {
    addr: SocketAddr,
    /// The group's dealing state once this endpoint is picked.
    deal: Dealt,
    group: u16,
    transport: Transport,
    /// [`DEMOTED`]: rule 1 demoted it (with its address, its unit); [`NAT64`]: `addr` is the
    /// NAT64 synthesis of an IPv4 endpoint (V52). One byte, so that an entry stays 48 bytes.
    flags: u8,
}

/// [`Next::flags`]: rule 1 demoted it.
const DEMOTED: u8 = 1;
/// [`Next::flags`]: its address is the NAT64 synthesis of an IPv4 endpoint.
const NAT64: u8 = 2;

impl Next {
    fn demoted(&self) -> bool {
        self.flags & DEMOTED != 0
    }

    fn nat64(&self) -> bool {
        self.flags & NAT64 != 0
    }
}

impl Candidates {
    pub(crate) fn new() -> Self {
        Candidates {
            order: SmallBuf::new(Next {
                addr: NOWHERE,
                deal: Dealt::default(),
                group: 0,
                transport: Transport::Tcp,
                flags: 0,
            }),
            head: 0,
            groups: SmallBuf::new(Group {
                key: GroupKey::Address,
                service: 0,
                ech: 0,
            }),
            tried: Vec::new(),
            seen: 0,
            deal: None,
            unsettled: false,
            deals: Vec::new(),
            v6: 0,
            v4: 0,
            services: 0,
            good: [false; 2],
            failed: [false; 2],
            v6_poor: false,
            skipped_without_ech: 0,
        }
    }

    /// Returns how many endpoints are waiting to be tried.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.order.len() - self.head
    }

    /// Returns whether no endpoint is waiting to be tried.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.head >= self.order.len()
    }

    /// Returns whether an endpoint of this family is waiting.
    #[inline]
    pub(crate) fn has_family(&self, v6: bool) -> bool {
        if v6 {
            self.v6 > 0
        } else {
            self.v4 > 0
        }
    }

    /// Returns the address and transport of the endpoint [`Candidates::pop_next`] would
    /// take.
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<(SocketAddr, Transport)> {
        self.order.get(self.head).map(|p| (p.addr, p.transport))
    }

    /// Returns whether an endpoint that came from a service record is waiting.
    pub(crate) fn has_service_endpoint(&self) -> bool {
        self.services > 0
    }

    /// Returns whether IPv6 endpoints wait and every one has a poor route: RFC 6724 would
    /// rank an IPv4 destination with a good route above all of them.
    pub(crate) fn is_v6_poor(&self) -> bool {
        self.v6_poor
    }

    /// Returns how many endpoints without ECH the last rebuild left out (V35).
    pub(crate) fn skipped_without_ech(&self) -> usize {
        self.skipped_without_ech
    }

    /// Returns whether the other family should go first: history says the preferred one is
    /// broken for this host (an endpoint of it failed recently and none worked since) and the
    /// other is not.
    pub(crate) fn should_flip(&self, prefer_v6: bool) -> bool {
        should_flip(self.good, self.failed, prefer_v6)
    }

    /// Takes the next endpoint to try; `resolution` and `protocols` give its details (its
    /// group's, as at the last rebuild: anything that changes them rebuilds).
    ///
    /// Inlined into its one caller (the race's step), where the endpoint is built in place
    /// for the attempt's record instead of returned and copied (a walk takes one per
    /// attempt).
    #[inline(always)]
    pub(crate) fn pop_next(&mut self, cx: &Details<'_>) -> Option<Endpoint> {
        let p = *self.order.get(self.head)?;
        let group = self.groups[usize::from(p.group)];
        match &self.deal {
            // The last pick's group again (always, with one group): this pick's entry keeps
            // the state, read from it when needed.
            Some((key, _)) if *key == group.key => self.unsettled = true,
            // The first pick (of every race): its entry keeps the state as well.
            None => {
                self.deal = Some((group.key, Deal::default()));
                self.unsettled = true;
            }
            Some(_) => self.switch_deal(&p, group.key),
        }
        self.head += 1;
        self.count(&p, group, false);
        Some(endpoint(&p, group, cx))
    }

    /// Writes the last pick's dealing state into `deal` when it is behind (see
    /// `unsettled`).
    fn settle(&mut self) {
        if !core::mem::take(&mut self.unsettled) {
            return;
        }
        let last = self.head.checked_sub(1).and_then(|i| self.order.get(i));
        if let (Some(p), Some((_, deal))) = (last, &mut self.deal) {
            *deal = p.deal.expand((p.addr, p.demoted()));
        }
    }

    /// A pick of another group than the last one's (`key`): keeps the last group's state
    /// in `deals` and makes `p`'s the inline one.
    #[cold]
    fn switch_deal(&mut self, p: &Next, key: GroupKey) {
        self.settle();
        let deal = p.deal.expand((p.addr, p.demoted()));
        if let Some((key, deal)) = self.deal.replace((key, deal)) {
            match self.deals.binary_search_by_key(&key, |(g, _)| *g) {
                Ok(i) => self.deals[i].1 = deal,
                Err(i) => self.deals.insert(i, (key, deal)),
            }
        }
    }

    /// Returns the first waiting endpoint to `addr` over `transport` (its best group's),
    /// without taking it.
    pub(crate) fn find(
        &self,
        addr: SocketAddr,
        transport: Transport,
        cx: &Details<'_>,
    ) -> Option<Endpoint> {
        let order = self.order.get(self.head..).unwrap_or_default();
        let p = order
            .iter()
            .find(|p| p.addr == addr && p.transport == transport)?;
        Some(endpoint(p, self.groups[usize::from(p.group)], cx))
    }

    /// Counts an endpoint as tried though no attempt started it: an attempt took it over
    /// (an ECH retry's endpoint, V54). Takes effect at the next rebuild.
    pub(crate) fn mark_tried(&mut self, key: EndpointKey) {
        if let Err(i) = self.tried.binary_search(&key) {
            self.tried.insert(i, key);
        }
    }

    /// Rebuilds the list from everything known (see the module docs).
    pub(crate) fn rebuild<E>(&mut self, cx: &Context<'_>, attempts: &[AttemptRecord<E>]) {
        // Before the order it reads from is replaced.
        self.settle();
        if self.seen < attempts.len() {
            let new = &attempts[self.seen..];
            self.tried.extend(new.iter().map(|a| a.endpoint.key()));
            self.tried.sort_unstable();
            self.seen = attempts.len();
        }
        if self.rebuild_plain(cx) {
            return;
        }
        // The scratch lives for one rebuild (inline while it is small): kept with the race,
        // a long walk's buffers would stay until it ends, and the allocator gives back (and
        // faults in again) what a race frees at once past its trim threshold.
        let mut scratch = Scratch::new();
        let Scratch {
            made: cands,
            keys,
            narrow_keys,
            unit_keys,
            digests,
            dedup,
            sorted,
            same_unit,
            dealt,
        } = &mut scratch;
        cands.clear();
        make(cx, &self.tried, &mut self.groups, cands);
        mark_duplicates(cands, (digests, dedup), &self.groups);
        // Whether a family is broken is judged on TCP, when there is TCP: a QUIC failure
        // alone says UDP is blocked (HG3), not that IPv6 is.
        self.good = [false; 2];
        self.failed = [false; 2];
        sorted.clear();
        sorted.reserve(cands.len());
        let (mut any_tcp, mut v6_seen, mut v6_poor, mut skipped) = (false, false, true, 0);
        let mut first = None;
        let mut one_transport = true;
        for (i, c) in cands.iter().enumerate() {
            if c.dup {
                continue;
            }
            if c.skipped {
                skipped += 1;
                continue;
            }
            sorted.push(i as u32);
            any_tcp |= c.transport == Transport::Tcp;
            if c.v6() {
                v6_seen = true;
                v6_poor &= c.key.is_poor_route();
            }
            one_transport &= *first.get_or_insert(c.transport) == c.transport;
        }
        self.skipped_without_ech = skipped;
        self.v6_poor = v6_seen && v6_poor;
        for &i in sorted.iter() {
            let c = &cands[i as usize];
            if any_tcp && c.transport != Transport::Tcp {
                continue;
            }
            let f = usize::from(!c.addr.is_ipv6());
            self.good[f] |= c.key.is_good();
            self.failed[f] |= c.key.is_demoted();
        }
        // Units: the endpoints of one address in one group, over each transport. A unit
        // sorts by its best endpoint; equal keys keep the order of arrival (RFC 6724 rule
        // 10: `made` follows the answers).
        // With one transport, every unit is one endpoint and its key is its own (as made).
        // The best key of each unit (its address, over every transport), by candidate; empty
        // with one transport, where every unit is one endpoint and its key its own.
        unit_keys.clear();
        if !one_transport {
            unit_keys.extend(cands.iter().map(|c| c.key));
            sorted.sort_unstable_by(|&a, &b| {
                let (x, y) = (&cands[a as usize], &cands[b as usize]);
                (x.group, !x.v6(), x.unit(), x.key).cmp(&(y.group, !y.v6(), y.unit(), y.key))
            });
            let mut i = 0;
            while i < sorted.len() {
                let c = &cands[sorted[i] as usize];
                let (group, unit, best) = (c.group, c.unit(), c.key);
                while i < sorted.len() {
                    let k = sorted[i] as usize;
                    if cands[k].group != group || cands[k].unit() != unit {
                        break;
                    }
                    unit_keys[k] = best;
                    i += 1;
                }
            }
        }
        let unit_key = |i: u32| match unit_keys.get(i as usize) {
            Some(k) => *k,
            None => cands[i as usize].key,
        };
        // When every key shares its round trip and prefix part (no history, no source: the
        // usual case), group, family, rules 1–8 and the order of arrival fit in one `u64`,
        // and the sort moves 16 bytes a candidate; otherwise the whole key.
        let tie = |a: u32, b: u32| {
            let (x, y) = (&cands[a as usize], &cands[b as usize]);
            (x.unit(), x.transport_rank(), x.made).cmp(&(y.unit(), y.transport_rank(), y.made))
        };
        let shared = sorted.first().map(|&i| unit_key(i).packed().1 >> SEQ_BITS);
        let full = |i: u32| {
            let c = &cands[i as usize];
            (c.group, !c.v6(), unit_key(i))
        };
        if sorted.len() <= 8 {
            // A few: sorted in place, each comparison reading the keys.
            sorted.sort_unstable_by(|&a, &b| full(a).cmp(&full(b)).then_with(|| tie(a, b)));
        } else if sorted
            .iter()
            .all(|&i| Some(unit_key(i).packed().1 >> SEQ_BITS) == shared)
        {
            narrow_keys.clear();
            narrow_keys.extend(sorted.iter().map(|&i| {
                let c = &cands[i as usize];
                let (rules, rest) = unit_key(i).packed();
                let seq = (rest & ((1 << SEQ_BITS) - 1)) as u64;
                let key = (u64::from(c.group) << 49)
                    | (u64::from(!c.v6()) << 48)
                    | (u64::from(rules) << SEQ_BITS)
                    | seq;
                (key, i)
            }));
            narrow_keys.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| tie(a.1, b.1)));
            sorted.clear();
            sorted.extend(narrow_keys.iter().map(|k| k.1));
        } else {
            keys.clear();
            keys.extend(sorted.iter().map(|&i| {
                let c = &cands[i as usize];
                let (rules, rest) = unit_key(i).packed();
                let hi = (u64::from(c.group) << 48) | (u64::from(!c.v6()) << 47) | u64::from(rules);
                OrderKey {
                    hi,
                    lo: rest,
                    index: i,
                }
            }));
            keys.sort_unstable_by(|a, b| {
                (a.hi, a.lo)
                    .cmp(&(b.hi, b.lo))
                    .then_with(|| tie(a.index, b.index))
            });
            sorted.clear();
            sorted.extend(keys.iter().map(|k| k.index));
        }
        // Units of more than one endpoint exist only with more than one transport.
        same_unit.clear();
        if !one_transport {
            same_unit.extend((0..sorted.len()).map(|k| {
                k > 0 && {
                    let (a, b) = (&cands[sorted[k - 1] as usize], &cands[sorted[k] as usize]);
                    a.group == b.group && a.unit() == b.unit()
                }
            }));
        }
        dealt.clear();
        dealt.reserve(sorted.len());
        let flip = should_flip(self.good, self.failed, cx.config.family_policy.prefers_v6());
        let dealing = (&self.deal, &self.deals[..]);
        deal(
            cx,
            flip,
            dealing,
            &self.groups,
            (cands, unit_keys),
            (sorted, same_unit),
            dealt,
        );
        let cap = cx.config.max_endpoints.unwrap_or(MAX_ENDPOINTS);
        dealt.truncate(cap.saturating_sub(self.seen));
        self.order.clear();
        self.head = 0;
        self.order.extend(dealt.iter().map(|&(i, deal)| {
            let c = &cands[i as usize];
            Next {
                addr: c.addr,
                deal,
                group: c.group,
                transport: c.transport,
                flags: if c.key.is_demoted() { DEMOTED } else { 0 }
                    | if c.nat64 { NAT64 } else { 0 },
            }
        }));
        (self.v6, self.v4, self.services) = (0, 0, 0);
        for i in 0..self.order.len() {
            let c = self.order[i];
            self.count(&c, self.groups[usize::from(c.group)], true);
        }
    }

    /// The rebuild of the races users make most: one host's addresses (given, or answered)
    /// and nothing else, so one group (V21) over one transport, where every unit is one
    /// endpoint. The general rebuild's grouping, units and turns reduce to this: make the
    /// untried candidates as [`make`] does, leaving out duplicates (HG11), order them by
    /// family and key, and deal the families alternately, continuing from the picks made so
    /// far (R8, G6). A candidate is only its key and its place among the host's addresses
    /// ([`Plain`]: 32 bytes, sorted in place); up to [`PLAIN_MAX`] live on the stack, and at
    /// most [`PLAIN_LIMIT`] are taken; one address, or one of each family, needs neither the
    /// buffer nor the sort. Returns `false`, touching nothing, for any other race.
    /// The property test `a_plain_rebuild_orders_as_the_general_one` holds it to the general
    /// path.
    fn rebuild_plain(&mut self, cx: &Context<'_>) -> bool {
        let r = cx.resolution;
        let Some(n) = r.names.first() else {
            return false;
        };
        let deal = match self.deal {
            None => Deal::default(),
            Some((GroupKey::Address, deal)) if deal.turn.is_none() => deal,
            Some(_) => return false,
        };
        let (l6, l4) = (&n.v6.addrs[..], &n.v4.addrs[..]);
        let total = l6.len() + l4.len();
        if r.has_services()
            || !self.deals.is_empty()
            || cx.config.nat64.is_some()
            || total > PLAIN_LIMIT
            || plain_off()
        {
            return false;
        }
        if total == 0 {
            // Nothing to order (a host not answered yet): what `order_plain` leaves for no
            // address, without running either copy of it (a walk's code then fits the
            // instruction cache better).
            self.clear_plain();
            return true;
        }
        let transport = if cx.protocols.speaks(Transport::Tcp) {
            Transport::Tcp
        } else {
            Transport::Quic
        };
        // One address (every race over one given address): nothing to sort or weigh.
        if let ([addr], []) | ([], [addr]) = (l6, l4) {
            self.order_one(cx, *addr, transport, deal);
            return true;
        }
        // One of each family (the usual two): nothing to sort, no copy to look for.
        if let ([a6], [a4]) = (l6, l4) {
            self.order_pair(cx, (*a6, *a4), transport, deal);
            return true;
        }
        // Two copies of the code (`FEW`): the few on the stack, sorted by insertion; more on
        // the heap, by the standard sort.
        if total <= PLAIN_MAX {
            let mut inline = [Plain::ZERO; PLAIN_MAX];
            self.order_plain::<true>(cx, (l6, l4), transport, deal, &mut inline)
        } else {
            let mut heap = vec![Plain::ZERO; total];
            self.order_plain::<false>(cx, (l6, l4), transport, deal, &mut heap)
        }
    }

    /// Leaves the state [`Candidates::order_plain`] leaves for a host without addresses:
    /// one group of plain addresses, nothing judged, nothing waiting.
    #[cold]
    fn clear_plain(&mut self) {
        self.groups.clear();
        self.groups.push(Group {
            key: GroupKey::Address,
            service: 0,
            ech: 0,
        });
        self.good = [false; 2];
        self.failed = [false; 2];
        self.skipped_without_ech = 0;
        self.v6_poor = false;
        self.order.clear();
        self.head = 0;
        (self.v6, self.v4, self.services) = (0, 0, 0);
    }

    /// Leaves what [`Candidates::order_plain`] leaves for one address: no buffer, no sort,
    /// and no choice of the opening family (with one family waiting, a turn goes to it
    /// whichever would open: the deal's state after the pick is the same).
    fn order_one(
        &mut self,
        cx: &Context<'_>,
        addr: SocketAddr,
        transport: Transport,
        mut deal: Deal,
    ) {
        self.groups.clear();
        self.groups.push(Group {
            key: GroupKey::Address,
            service: 0,
            ech: 0,
        });
        self.good = [false; 2];
        self.failed = [false; 2];
        self.skipped_without_ech = 0;
        self.v6_poor = false;
        self.order.clear();
        self.head = 0;
        (self.v6, self.v4, self.services) = (0, 0, 0);
        let v6 = addr.is_ipv6();
        if !cx.config.family_policy.allows(v6)
            || (!self.tried.is_empty() && is_tried(&self.tried, addr, transport, None))
        {
            return;
        }
        let route = if cx.sources.is_empty() {
            None
        } else {
            cx.sources.get(&addr.ip()).copied()
        };
        // The first of its answer (as `make_plain` counts).
        let key = sort_key(cx, (addr, addr.ip()), route, transport, 0);
        let f = usize::from(!v6);
        self.good[f] = key.is_good();
        self.failed[f] = key.is_demoted();
        self.v6_poor = v6 && key.is_poor_route();
        let cap = cx
            .config
            .max_endpoints
            .unwrap_or(MAX_ENDPOINTS)
            .saturating_sub(self.seen);
        let count = cx.config.first_address_family_count;
        if cap == 0 || deal.pick(|family| family == v6, count, v6).is_none() {
            return;
        }
        self.order.push(Next {
            addr,
            deal: deal.compact(),
            group: 0,
            transport,
            flags: if key.is_demoted() { DEMOTED } else { 0 },
        });
        if v6 {
            self.v6 = 1;
        } else {
            self.v4 = 1;
        }
    }

    /// Leaves what [`Candidates::order_plain`] leaves for one IPv6 and one IPv4 address:
    /// each family's only candidate is its first, and two of different families are never
    /// copies of each other (HG11), so nothing is sorted or compared before the deal.
    fn order_pair(
        &mut self,
        cx: &Context<'_>,
        (a6, a4): (SocketAddr, SocketAddr),
        transport: Transport,
        deal: Deal,
    ) {
        let no_routes = cx.sources.is_empty();
        let tried = &self.tried;
        let made = |addr: SocketAddr| {
            if !cx.config.family_policy.allows(addr.is_ipv6())
                || (!tried.is_empty() && is_tried(tried, addr, transport, None))
            {
                return None;
            }
            let route = if no_routes {
                None
            } else {
                cx.sources.get(&addr.ip()).copied()
            };
            // The first of its family's answer (as `make_plain` counts).
            Some((addr, sort_key(cx, (addr, addr.ip()), route, transport, 0)))
        };
        // A resolution files each address by its family: `a6` is IPv6, `a4` IPv4.
        let (mut few, mut len, mut split) = ([(NOWHERE, SortKey::ZERO); 2], 0, 0);
        if let Some(c) = made(a6) {
            few[0] = c;
            (len, split) = (1, 1);
        }
        if let Some(c) = made(a4) {
            few[len] = c;
            len += 1;
        }
        self.groups.clear();
        self.groups.push(Group {
            key: GroupKey::Address,
            service: 0,
            ech: 0,
        });
        self.good = [false; 2];
        self.failed = [false; 2];
        for (addr, key) in &few[..len] {
            let f = usize::from(!addr.is_ipv6());
            self.good[f] |= key.is_good();
            self.failed[f] |= key.is_demoted();
        }
        self.skipped_without_ech = 0;
        self.v6_poor = split == 1 && few[0].1.is_poor_route();
        self.deal_plain(cx, deal, transport, (split, len), |k| few[k]);
    }

    /// Makes, orders and deals a plain rebuild's candidates in `buf` (room for every
    /// address; `FEW`: at most [`PLAIN_MAX`]). Returns `false`, touching nothing, when
    /// crafted addresses defeat the digests (the general rebuild then takes them).
    fn order_plain<const FEW: bool>(
        &mut self,
        cx: &Context<'_>,
        (l6, l4): (&[SocketAddr], &[SocketAddr]),
        transport: Transport,
        deal: Deal,
        buf: &mut [Plain],
    ) -> bool {
        // `at` is below `total`: the address exists.
        let addr_at = |at: u32| match l6.get(at as usize) {
            Some(&a) => a,
            None => l4[at as usize - l6.len()],
        };
        // A few are compared pairwise; more, by their digests.
        let made = if FEW || l6.len() + l4.len() <= 16 {
            self.make_plain::<true>(cx, (l6, l4), transport, buf)
        } else {
            self.make_plain::<false>(cx, (l6, l4), transport, buf)
        };
        let Some(len) = made else {
            return false;
        };
        let few = &mut buf[..len];
        self.groups.clear();
        self.groups.push(Group {
            key: GroupKey::Address,
            service: 0,
            ech: 0,
        });
        let (mut v6_seen, mut v6_poor) = (false, true);
        self.good = [false; 2];
        self.failed = [false; 2];
        for f in few.iter() {
            if !f.v4 {
                v6_seen = true;
                v6_poor &= f.key.is_poor_route();
            }
            // One transport: every candidate is judged (see `rebuild`).
            self.good[usize::from(f.v4)] |= f.key.is_good();
            self.failed[usize::from(f.v4)] |= f.key.is_demoted();
        }
        self.skipped_without_ech = 0;
        self.v6_poor = v6_seen && v6_poor;
        // The general order: family, then key, then the tie of equal keys (the unit: its
        // address, as the key holds rule 1's demotion; then the order of making). Never
        // equal for two candidates: their `at` differ.
        let order = |x: &Plain, y: &Plain| {
            (x.v4, x.key)
                .cmp(&(y.v4, y.key))
                .then_with(|| (addr_at(x.at), x.at).cmp(&(addr_at(y.at), y.at)))
        };
        if FEW {
            insertion_sort(few, |x, y| order(x, y).is_lt());
        } else {
            few.sort_unstable_by(order);
        }
        let split = few.iter().take_while(|f| !f.v4).count();
        self.deal_plain(cx, deal, transport, (split, few.len()), |k| {
            (addr_at(few[k].at), few[k].key)
        });
        true
    }

    /// Makes a plain rebuild's candidates into `buf` (room for every address: the IPv6
    /// ones, `l6`, then the IPv4 ones), in the order of making; a copy of an endpoint made
    /// before is left out (HG11: the first made is kept), found by comparing it with each
    /// one made (`PAIRWISE`) or by its digest. Returns how many, or `None` when crafted
    /// addresses defeat the digests (the general rebuild then takes them).
    fn make_plain<const PAIRWISE: bool>(
        &self,
        cx: &Context<'_>,
        (l6, l4): (&[SocketAddr], &[SocketAddr]),
        transport: Transport,
        buf: &mut [Plain],
    ) -> Option<usize> {
        let addr_at = |at: u32| match l6.get(at as usize) {
            Some(&a) => a,
            None => l4[at as usize - l6.len()],
        };
        let no_routes = cx.sources.is_empty();
        let mut table = Vec::new();
        let mut digests = (!PAIRWISE).then(|| Digests::new(&mut table, l6.len() + l4.len()));
        let tried = tried_filter(&self.tried, transport);
        let mut len = 0;
        for (at, &addr) in l6.iter().chain(l4).enumerate() {
            if !cx.config.family_policy.allows(addr.is_ipv6()) {
                continue;
            }
            // The digest serves the filter and the table both (unused when neither is).
            let d = if PAIRWISE && tried == 0 {
                0
            } else {
                endpoint_digest(addr, transport, 0)
            };
            if tried != 0
                && tried & tried_bit(d) != 0
                && is_tried(&self.tried, addr, transport, None)
            {
                continue;
            }
            // At most PLAIN_LIMIT addresses: these fit.
            let (at, made) = (at as u32, len as u32);
            let copy = match &mut digests {
                _ if PAIRWISE => buf[..len].iter().any(|f| addr_at(f.at) == addr),
                None => false,
                Some(set) => {
                    let alike = |i: u32| addr_at(buf[i as usize].at) == addr;
                    set.first(d, made, alike).ok()?.is_some()
                }
            };
            if copy {
                continue;
            }
            let route = if no_routes {
                None
            } else {
                cx.sources.get(&addr.ip()).copied()
            };
            let seq = (at as usize).checked_sub(l6.len()).unwrap_or(at as usize);
            // Room for every address: `len` is below `total`.
            buf[len] = Plain {
                key: sort_key(cx, (addr, addr.ip()), route, transport, seq),
                at,
                v4: !addr.is_ipv6(),
            };
            len += 1;
        }
        Some(len)
    }

    /// Deals a plain rebuild's sorted candidates (`at(k)`: the `k`-th one's address and
    /// key; IPv6 in `..split`, IPv4 in `split..all`) into the order, the families
    /// alternately, continuing from `deal`.
    #[inline(always)]
    fn deal_plain(
        &mut self,
        cx: &Context<'_>,
        mut deal: Deal,
        transport: Transport,
        (split, all): (usize, usize),
        at: impl Fn(usize) -> (SocketAddr, SortKey),
    ) {
        let prefer_v6 = cx.config.family_policy.prefers_v6();
        let first_v6 = if should_flip(self.good, self.failed, prefer_v6) {
            !prefer_v6
        } else if prefer_v6 {
            if split > 0 && split < all {
                at(0).1.family_rank() <= at(split).1.family_rank()
            } else {
                true
            }
        } else {
            false
        };
        let cap = cx
            .config
            .max_endpoints
            .unwrap_or(MAX_ENDPOINTS)
            .saturating_sub(self.seen);
        let count = cx.config.first_address_family_count;
        self.order.clear();
        self.order.reserve(all.min(cap));
        self.head = 0;
        (self.v6, self.v4, self.services) = (0, 0, 0);
        let (mut next_v6, mut next_v4) = (0, split);
        while self.order.len() < cap {
            let has = |v6: bool| if v6 { next_v6 < split } else { next_v4 < all };
            let Some(v6) = deal.pick(has, count, first_v6) else {
                break;
            };
            let k = if v6 { &mut next_v6 } else { &mut next_v4 };
            let (addr, key) = at(*k);
            *k += 1;
            self.order.push(Next {
                addr,
                deal: deal.compact(),
                group: 0,
                transport,
                flags: if key.is_demoted() { DEMOTED } else { 0 },
            });
            // One group of plain addresses: no service endpoint, no NAT64.
            if addr.is_ipv6() {
                self.v6 += 1;
            } else {
                self.v4 += 1;
            }
        }
    }

    /// Counts an endpoint of `group` (its own) into (or out of) the order's tallies.
    #[inline(always)]
    fn count(&mut self, p: &Next, group: Group, add: bool) {
        let n = if p.addr.is_ipv6() && !p.nat64() {
            &mut self.v6
        } else {
            &mut self.v4
        };
        let s = &mut self.services;
        let service = matches!(group.key, GroupKey::Service(_));
        if add {
            *n += 1;
            *s += usize::from(service);
        } else {
            *n -= 1;
            *s -= usize::from(service);
        }
    }
}

/// Sorts a few elements by `less` (a strict total order): cheaper than the standard sort's
/// setup for a handful.
#[inline(always)]
fn insertion_sort<T: Copy>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && less(&x, &v[j - 1]) {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

/// Deals the sorted candidates out, group by group, a unit (one address over each
/// transport) a turn: each one dealt is marked taken and its index pushed to `dealt`.
/// `flip`: history says the preferred family is broken; `dealing`: how each group's dealing
/// stands after the picks made so far.
fn deal(
    cx: &Context<'_>,
    flip: bool,
    dealing: Dealing<'_>,
    groups: &[Group],
    (cands, unit_keys): (&mut [Cand], &[SortKey]),
    (sorted, same_unit): (&[u32], &[bool]),
    dealt: &mut SmallBuf<(u32, Dealt), INLINE>,
) {
    let prefer_v6 = cx.config.family_policy.prefers_v6();

    let count = cx.config.first_address_family_count;
    let at = |k: usize| sorted[k] as usize;
    let mut offset = 0;
    while offset < sorted.len() {
        let group = cands[at(offset)].group;
        let mut end = offset;
        while end < sorted.len() && cands[at(end)].group == group {
            end += 1;
        }
        // Each family's candidates: IPv6 in [offset, split), IPv4 in [split, end).
        let split = offset + (offset..end).take_while(|&k| cands[at(k)].v6()).count();
        let range = |v6: bool| if v6 { offset..split } else { split..end };
        // The opening family: with IPv6 preferred (the default), the one whose best
        // endpoint RFC 6724 ranks first (rules 1–8: a link-local or ULA-only IPv6 source
        // for a global destination puts IPv4 first); IPv4 when the caller prefers it;
        // the other one when history says the preferred family is broken.
        let best = |v6: bool| {
            let r = range(v6);
            (r.start < r.end).then(|| {
                let i = at(r.start);
                unit_keys.get(i).unwrap_or(&cands[i].key).family_rank()
            })
        };
        let first_v6 = if flip {
            !prefer_v6
        } else if prefer_v6 {
            match (best(true), best(false)) {
                (Some(v6), Some(v4)) => v6 <= v4,
                _ => true,
            }
        } else {
            false
        };
        let mut deal = deal_of(dealing, groups[usize::from(group)].key);
        // A turn cut short by this rebuild is finished first (its unit may have moved).
        if let Some((v6, unit)) = deal.turn.take() {
            let found = range(v6).find(|&k| {
                let c = &cands[at(k)];
                !c.taken && c.unit() == unit
            });
            if let Some(k) = found {
                deal_unit(cands, (sorted, same_unit), k, end, &mut deal, v6, dealt);
            }
        }
        let mut next = [offset, split];
        loop {
            for (v6, n) in [(true, 0), (false, 1)] {
                while next[n] < range(v6).end && cands[at(next[n])].taken {
                    next[n] += 1;
                }
            }
            let has = |v6: bool| next[usize::from(!v6)] < range(v6).end;
            let Some(v6) = deal.pick(has, count, first_v6) else {
                break;
            };
            let k = next[usize::from(!v6)];
            deal_unit(cands, (sorted, same_unit), k, end, &mut deal, v6, dealt);
        }
        offset = end;
    }
}

/// The endpoint of a waiting candidate: its group gives its details.
#[inline(always)]
fn endpoint(p: &Next, group: Group, cx: &Details<'_>) -> Endpoint {
    let resolution = cx.resolution;
    let (ech, provenance) = match group.key {
        GroupKey::Service(_) => {
            let s = &resolution.extra().services[usize::from(group.service)];
            let provenance = Provenance::Service {
                priority: s.rank.0,
                target: s.target.clone(),
            };
            (s.ech.clone(), provenance)
        }
        GroupKey::Alt((alt, _)) => {
            // This group is made only for an alternative the resolution holds.
            let a = &resolution.extra().alts[usize::from(alt)];
            let services = alt_services(resolution, a);
            match services.get(usize::from(group.service)) {
                Some(s) if group.service != PLAIN_ALT => {
                    let provenance = Provenance::AltSvc {
                        host: a.host.clone(),
                        priority: Some(s.rank.0),
                    };
                    (s.ech.clone(), provenance)
                }
                _ => {
                    let provenance = Provenance::AltSvc {
                        host: a.host.clone(),
                        priority: None,
                    };
                    (None, provenance)
                }
            }
        }
        GroupKey::AliasFallback => {
            // This group is made only with an alias target.
            let target = resolution
                .extra()
                .alias
                .map_or_else(Name::root, |a| resolution.names[a].name.clone());
            (None, Provenance::AliasFallback { target })
        }
        GroupKey::Address => (None, Provenance::Address),
    };
    let nat64 = if p.nat64() {
        match (&p.addr, cx.nat64) {
            (SocketAddr::V6(v6), Some(prefix)) => prefix.extract(*v6.ip()),
            _ => None,
        }
    } else {
        None
    };
    Endpoint {
        addr: p.addr,
        transport: p.transport,
        alpn: cx.protocols.shared(p.transport),
        ech,
        provenance,
        nat64,
    }
}

/// The dealing state of `group` after the picks made so far (the default before any).
fn deal_of(dealing: Dealing<'_>, group: GroupKey) -> Deal {
    if let Some((g, deal)) = dealing.0 {
        if *g == group {
            return *deal;
        }
    }
    match dealing.1.binary_search_by_key(&group, |(g, _)| *g) {
        Ok(i) => dealing.1[i].1,
        Err(_) => Deal::default(),
    }
}

/// Returns whether the other family should go first: history says the preferred one is
/// broken for this host (an endpoint of it failed recently and none worked since) and the
/// other is not.
fn should_flip(good: [bool; 2], failed: [bool; 2], prefer_v6: bool) -> bool {
    let (p, o) = if prefer_v6 { (0, 1) } else { (1, 0) };
    let bad = |i: usize| failed[i] && !good[i];
    bad(p) && !bad(o)
}

/// Makes every untried endpoint from what DNS said, in groups.
fn make(
    cx: &Context<'_>,
    tried: &[EndpointKey],
    groups: &mut SmallBuf<Group, INLINE>,
    cands: &mut SmallBuf<Cand, INLINE>,
) {
    let r = cx.resolution;
    let ech_only = cx.config.ech && r.extra().services.iter().any(|s| s.ech.is_some());
    let fallback = if cx.protocols.speaks(Transport::Tcp) {
        Transport::Tcp
    } else {
        Transport::Quic
    };
    groups.clear();
    // Room for every candidate at once: each address over each transport.
    let addrs: usize = r
        .names
        .iter()
        .map(|n| n.v6.addrs.len() + n.v4.addrs.len())
        .sum();
    let both = cx.protocols.speaks(Transport::Quic) && cx.protocols.speaks(Transport::Tcp);
    cands.reserve(addrs.saturating_mul(if both { 2 } else { 1 }));
    let mut maker = Maker {
        cx,
        tried,
        cands,
        groups,
        ech_only,
        ipv6_only: cx.config.nat64.is_some() && is_ipv6_only(cx.sources),
        first: 0,
    };
    for (i, service) in r.extra().services.iter().enumerate() {
        // At most MAX_SERVICE_RECORDS (64) services: these fit.
        let index = u16::try_from(i).unwrap_or(u16::MAX);
        let ech = ech_number(r, service.ech.as_ref());
        maker.start(GroupKey::Service(service.rank), index, ech);
        maker.add_service(service, service.transports);
        maker.finish();
    }
    // V59, HG17: each alternative, once its HTTPS answer (or the origin's, when shared) is
    // in: its records' groups, held to its protocols (V41), or its own host's addresses.
    let settled = r.is_service_settled();
    for (a, alt) in r.extra().alts.iter().enumerate() {
        if !alt.is_settled(settled) {
            continue;
        }
        // At most MAX_ALT_SERVICES (8) alternatives: these fit.
        let a16 = u16::try_from(a).unwrap_or(u16::MAX);
        let services = alt_services(r, alt);
        for (i, service) in services.iter().enumerate() {
            let Some(transports) = service.transports.and(alt.transports) else {
                continue;
            };
            let index = u16::try_from(i).unwrap_or(PLAIN_ALT - 1);
            let ech = ech_number(r, service.ech.as_ref());
            maker.start(GroupKey::Alt((a16, index)), index, ech);
            maker.add_service(service, transports);
            maker.finish();
        }
        if services.is_empty() {
            let Some(n) = alt.name.map(|n| &r.names[n]) else {
                continue;
            };
            let mut transports = [Transport::Quic; 2];
            let k = usize::from(alt.transports.quic) + usize::from(alt.transports.tcp);
            if alt.transports.tcp {
                transports[k - 1] = Transport::Tcp;
            }
            maker.start(GroupKey::Alt((a16, PLAIN_ALT)), PLAIN_ALT, 0);
            for v6 in [true, false] {
                let addrs = n.family(v6).addrs.iter();
                let addrs = addrs.map(|a| SocketAddr::new(a.ip(), alt.port));
                maker.add(addrs, &transports[..k], None);
            }
            maker.finish();
        }
    }
    if let Some(alias) = r.extra().alias {
        let n = &r.names[alias];
        maker.start(GroupKey::AliasFallback, 0, 0);
        for v6 in [true, false] {
            let addrs = &n.family(v6).addrs;
            maker.add(addrs.iter().copied(), &[fallback], None);
        }
        maker.finish();
    }
    if let Some(n) = r.names.first() {
        maker.start(GroupKey::Address, 0, 0);
        for v6 in [true, false] {
            let addrs = &n.family(v6).addrs;
            maker.add(addrs.iter().copied(), &[fallback], None);
        }
        maker.finish();
    }
}

/// Makes the candidates of one rebuild.
struct Maker<'a, 'c> {
    cx: &'a Context<'c>,
    tried: &'a [EndpointKey],
    cands: &'a mut SmallBuf<Cand, INLINE>,
    groups: &'a mut SmallBuf<Group, INLINE>,
    ech_only: bool,
    /// R35: the driver's facts say the network is IPv6-only (only with a NAT64 prefix).
    ipv6_only: bool,
    /// Where the group being made starts.
    first: usize,
}

impl Maker<'_, '_> {
    fn start(&mut self, key: GroupKey, service: u16, ech: u8) {
        self.groups.push(Group { key, service, ech });
        self.first = self.cands.len();
    }

    /// The endpoints of one service: its addresses (hints until the TargetName's answer) over
    /// each of `over`, the transports it offers the caller.
    fn add_service(&mut self, s: &Service, over: Transports) {
        let mut transports = [Transport::Quic; 2];
        let mut n = 0;
        if over.quic {
            transports[n] = Transport::Quic;
            n += 1;
        }
        if over.tcp {
            transports[n] = Transport::Tcp;
            n += 1;
        }
        for v6 in [true, false] {
            let addrs = self.cx.resolution.service_addrs(s, v6);
            let addrs = addrs.into_iter().map(|ip| SocketAddr::new(ip, s.port));
            self.add(addrs, &transports[..n], s.ech.as_ref());
        }
    }

    fn add(
        &mut self,
        addrs: impl Iterator<Item = SocketAddr>,
        transports: &[Transport],
        ech: Option<&EchConfig>,
    ) {
        // Made once for each case, so that a race without NAT64 runs none of its code.
        match self.cx.config.nat64 {
            Some(prefix) => self.add_with::<true>(addrs, transports, ech, prefix),
            None => self.add_with::<false>(addrs, transports, ech, Nat64Prefix::WELL_KNOWN),
        }
    }

    fn add_with<const NAT64: bool>(
        &mut self,
        addrs: impl Iterator<Item = SocketAddr>,
        transports: &[Transport],
        ech: Option<&EchConfig>,
        prefix: Nat64Prefix,
    ) {
        let cx = self.cx;
        // At most MAX_SERVICE_RECORDS + 2 groups.
        let group = u16::try_from(self.groups.len() - 1).unwrap_or(u16::MAX);
        // Asked once: most races have no routes at all.
        let no_routes = cx.sources.is_empty();
        for (seq, addr) in addrs.enumerate() {
            // V51, V52, V62: with a NAT64 prefix, an endpoint is grouped and sorted by its
            // IPv4 form, and connected through NAT64 without an IPv4 route.
            let (addr, ipv4) = if NAT64 {
                nat64(cx, prefix, self.ipv6_only, addr)
            } else {
                (addr, None)
            };
            if !cx.config.family_policy.allows(addr.is_ipv6()) {
                continue;
            }
            // The route is the connected address's (the source a synthesized address uses).
            let route = if no_routes {
                None
            } else {
                cx.sources.get(&addr.ip()).copied()
            };
            let sort_ip = ipv4.map_or(addr.ip(), IpAddr::V4);
            for &transport in transports {
                if !self.tried.is_empty() && is_tried(self.tried, addr, transport, ech) {
                    continue;
                }
                let made = u32::try_from(self.cands.len()).unwrap_or(u32::MAX);
                let key = sort_key(cx, (addr, sort_ip), route, transport, seq);
                self.cands.push(Cand {
                    key,
                    addr,
                    made,
                    group,
                    transport,
                    tcp_first: false,
                    skipped: self.ech_only && ech.is_none(),
                    dup: false,
                    taken: false,
                    nat64: ipv4.is_some(),
                });
            }
        }
    }

    /// Closes the group being made: TCP goes first when the caller asks, or when history
    /// says QUIC fails from a source address this group uses (HG1, HG3). The whole group
    /// turns: a network that drops UDP drops it for both families, and the IPv4 and IPv6
    /// sources of one interface are one network.
    fn finish(&mut self) {
        let cx = self.cx;
        let mine = &mut self.cands[self.first..];
        let mut tcp_first = cx.config.prefer_tcp;
        if let (false, Some(h)) = (tcp_first, cx.history) {
            // Every QUIC candidate's source is looked at (a group may use several), once.
            let mut seen: Vec<IpAddr> = Vec::new();
            let quic = mine.iter().filter(|c| c.transport == Transport::Quic);
            for c in quic {
                let route = cx.sources.get(&c.addr.ip()).copied().flatten();
                let Some(source) = route.map(|r| r.source) else {
                    continue;
                };
                if seen.contains(&source) {
                    continue;
                }
                seen.push(source);
                if h.is_transport_failing(source, Transport::Quic, cx.now)
                    && !h.is_reprobing(source)
                {
                    tcp_first = true;
                    break;
                }
            }
        }
        if tcp_first {
            for c in mine {
                c.tcp_first = true;
            }
        }
    }
}

/// The sort key of the endpoint to `addr` over `transport`, sorted as `sort_ip` (its IPv4
/// form for a NAT64 synthesis), the `seq`-th of its answer, over `route`.
#[inline(always)]
fn sort_key(
    cx: &Context<'_>,
    (addr, sort_ip): (SocketAddr, IpAddr),
    route: Option<Option<crate::sort::Route>>,
    transport: Transport,
    seq: usize,
) -> SortKey {
    if route.is_none() {
        // No fact of its route: no source, so no history either.
        return SortKey::unrouted(sort_ip, seq as u64);
    }
    let source = route.flatten().map(|r| r.source);
    let path = source.map(|s| Path::new(s, addr, transport));
    // HG3, V24: a race that re-probes QUIC (from this source, or over this path) ignores
    // its failures.
    let (failing, rtt) = match cx.history.zip(path) {
        Some((h, p)) => {
            let (failing, rtt) = h.failing_and_rtt(p, cx.now);
            let failing = failing
                && !(transport == Transport::Quic
                    && (h.is_reprobing(p.source()) || h.is_path_reprobing(p)));
            (failing, rtt)
        }
        None => (false, None),
    };
    SortKey::new(sort_ip, route, seq as u64, failing, rtt)
}

/// V51, V52, V57, V62 (HEv3 at HEAD §8.2, §8.3): the address to connect to, and the IPv4
/// address it stands for when that is a NAT64 synthesis. An IPv6 address under the prefix is
/// de-synthesized; an IPv4 endpoint (given or de-synthesized) is connected directly when it
/// has an IPv4 route and the family policy allows IPv4, and through NAT64 otherwise, unless
/// the prefix may not represent it (the well-known prefix and a non-global address: kept as
/// IPv4). Without a fact about its route, an IPv4 address has one unless the network is
/// IPv6-only (R35, [`is_ipv6_only`]).
fn nat64(
    cx: &Context<'_>,
    prefix: Nat64Prefix,
    ipv6_only: bool,
    addr: SocketAddr,
) -> (SocketAddr, Option<Ipv4Addr>) {
    let v4 = match addr {
        SocketAddr::V4(a) => *a.ip(),
        SocketAddr::V6(a) => match prefix.extract(*a.ip()) {
            Some(v4) => v4,
            None => return (addr, None),
        },
    };
    let routed = cx.config.family_policy.allows(false)
        && match cx.sources.get(&IpAddr::V4(v4)) {
            Some(route) => route.is_some(),
            None => !ipv6_only,
        };
    let direct = SocketAddr::new(IpAddr::V4(v4), addr.port());
    if routed {
        return (direct, None);
    }
    match prefix.try_synthesize(v4) {
        Some(v6) => (SocketAddr::new(IpAddr::V6(v6), addr.port()), Some(v4)),
        None => (direct, None),
    }
}

/// R35 (RFC 8305 §7, HEv3 V47): whether the driver's facts say the network is IPv6-only:
/// some IPv6 destination is routed from a global IPv6 source, and every IPv4 destination it
/// reported (at least one) has no route.
pub(crate) fn is_ipv6_only(sources: &Routes) -> bool {
    let mut v6 = false;
    let mut v4 = false;
    for (dest, route) in sources.iter() {
        match (dest, route) {
            (IpAddr::V4(_), Some(_)) => return false,
            (IpAddr::V4(_), None) => v4 = true,
            (IpAddr::V6(_), Some(r)) => v6 |= is_global_v6(r.source),
            (IpAddr::V6(_), None) => {}
        }
    }
    v6 && v4
}

/// Whether `ip` is a global IPv6 address (not loopback, link-local, unspecified or
/// IPv4-mapped).
fn is_global_v6(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !v6.is_loopback()
                && !v6.is_unspecified()
                && first & 0xffc0 != 0xfe80
                && v6.to_ipv4_mapped().is_none()
        }
        IpAddr::V4(_) => false,
    }
}

/// The number of an ECH configuration: 0 for none, else one more than the place of the
/// first service (the origin's, then the alternatives') with an equal one, so equal
/// configurations get equal numbers. At most MAX_SERVICE_RECORDS + MAX_ALT_SERVICES *
/// MAX_ALT_SERVICE_RECORDS (128) services: the numbers fit a `u8`.
fn ech_number(r: &Resolution, ech: Option<&EchConfig>) -> u8 {
    let Some(e) = ech else { return 0 };
    let services = r
        .extra()
        .services
        .iter()
        .chain(r.extra().alts.iter().flat_map(|a| &a.services));
    let i = services.take_while(|s| s.ech.as_ref() != Some(e)).count();
    u8::try_from(i + 1).unwrap_or(u8::MAX)
}

/// An alternative's services: its own HTTPS answer's, or the origin's when it shares the
/// origin's query name.
fn alt_services<'r>(r: &'r Resolution, alt: &'r Alt) -> &'r [Service] {
    if alt.https == Https::Shared {
        &r.extra().services
    } else {
        &alt.services
    }
}

/// A filter of the endpoints of `tried` over `transport` without ECH (the ones a plain
/// rebuild makes): each sets one bit of 64 ([`tried_bit`]). An address whose bit is clear
/// was not tried, and a walk's rebuild searches `tried` for few of its addresses.
fn tried_filter(tried: &[EndpointKey], transport: Transport) -> u64 {
    tried
        .iter()
        .filter(|k| k.transport == transport && k.ech.is_none())
        .fold(0, |filter, k| {
            filter | tried_bit(endpoint_digest(k.addr, transport, 0))
        })
}

/// The bit of [`tried_filter`] of an endpoint without ECH, from its digest `d`
/// ([`endpoint_digest`]): the top bits of its Fibonacci hash (an IPv4 digest's low bits
/// are its port's, the same for all).
#[inline(always)]
fn tried_bit(d: u64) -> u64 {
    1 << (d.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
}

/// Whether `tried` (sorted) holds the endpoint (address, transport, ECH).
#[inline(always)]
fn is_tried(
    tried: &[EndpointKey],
    addr: SocketAddr,
    transport: Transport,
    ech: Option<&EchConfig>,
) -> bool {
    if tried.len() <= 8 {
        return tried
            .iter()
            .any(|k| k.addr == addr && k.transport == transport && k.ech.as_ref() == ech);
    }
    tried
        .binary_search_by(|k| {
            k.addr
                .cmp(&addr)
                .then(k.transport.cmp(&transport))
                .then_with(|| k.ech.as_ref().cmp(&ech))
        })
        .is_ok()
}

/// HG11: of endpoints alike (address, port, transport, ECH), the first made is kept: the one
/// of the best group; the later ones are marked. Small lists are compared pairwise. Large
/// ones go through a hash table (`table`: open addressing, linear probing) of a 64-bit digest
/// of the endpoint (exact for IPv4; for IPv6 a mix, whose equal digests are then compared
/// endpoint by endpoint), in making order: O(n), where sorting the digests cost O(n log n)
/// and was most of a long walk's rebuild. When many endpoints share a digest (colliding
/// addresses), by the whole key (`full`).
fn mark_duplicates(
    cands: &mut [Cand],
    (table, full): (&mut Vec<(u64, u32)>, &mut Vec<DedupKey>),
    groups: &[Group],
) {
    let ech = |c: &Cand| groups[usize::from(c.group)].ech;
    let alike =
        |a: &Cand, b: &Cand| a.addr == b.addr && a.transport == b.transport && ech(a) == ech(b);
    if cands.len() <= 16 {
        for i in 1..cands.len() {
            if cands[..i].iter().any(|c| !c.dup && alike(c, &cands[i])) {
                cands[i].dup = true;
            }
        }
        return;
    }
    let mut set = Digests::new(table, cands.len());
    for i in 0..cands.len() {
        let c = &cands[i];
        let d = endpoint_digest(c.addr, c.transport, ech(c));
        // At most MAX_ENDPOINTS candidates of each transport: the index fits.
        match set.first(d, i as u32, |j| alike(&cands[j as usize], c)) {
            Ok(Some(_)) => cands[i].dup = true,
            Ok(None) => {}
            Err(Crafted) => return mark_duplicates_fully(cands, full, groups),
        }
    }
}

/// A 64-bit digest of an endpoint (address, transport, ECH number) for deduplication:
/// exact for IPv4; for IPv6 a mix, whose equal digests are then compared endpoint by
/// endpoint.
fn endpoint_digest(addr: SocketAddr, transport: Transport, ech: u8) -> u64 {
    let tail = (u64::from(addr.port()) << 8)
        | (u64::from(transport == Transport::Quic) << 7)
        | u64::from(ech & 0x7f);
    match addr {
        SocketAddr::V4(a) => (u64::from(u32::from(*a.ip())) << 24) | tail,
        SocketAddr::V6(a) => {
            let ip = u128::from(*a.ip());
            let mut h = (ip as u64) ^ ((ip >> 64) as u64).rotate_left(29);
            h ^= (u64::from(a.flowinfo()) << 32 | u64::from(a.scope_id())).rotate_left(13);
            h = (h ^ tail ^ (u64::from(ech) << 56)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            (1 << 63) | (h >> 1)
        }
    }
}

/// The endpoint digests seen so far ([`endpoint_digest`]), for deduplication (HG11): a
/// hash table, open addressing with linear probing, whose slot is a digest and the index of
/// the first endpoint seen with it, plus one (0: empty).
struct Digests<'t> {
    table: &'t mut Vec<(u64, u32)>,
    shift: u32,
}

/// More than 16 endpoints share a digest: crafted addresses, which [`Digests`] leaves to an
/// exact method.
struct Crafted;

impl<'t> Digests<'t> {
    /// A table for `n` endpoints in `table`'s buffer: at most three slots in four used.
    fn new(table: &'t mut Vec<(u64, u32)>, n: usize) -> Self {
        let slots = (n + n / 3 + 1).next_power_of_two();
        table.clear();
        table.resize(slots, (0, 0));
        Digests {
            table,
            shift: 64 - slots.trailing_zeros(),
        }
    }

    /// Returns the first endpoint seen with digest `d` that `alike` says is endpoint `i`'s
    /// equal; or records `i` under `d` and returns `None`.
    fn first(
        &mut self,
        d: u64,
        i: u32,
        alike: impl Fn(u32) -> bool,
    ) -> Result<Option<u32>, Crafted> {
        let mask = self.table.len() - 1;
        // Fibonacci hashing: the top bits of the product spread an IPv4 digest's run of
        // neighbouring addresses over the table.
        let mut at = d
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .checked_shr(self.shift)
            .unwrap_or(0) as usize;
        let mut colliding = 0;
        loop {
            let (seen, index) = self.table[at];
            if index == 0 {
                self.table[at] = (d, i + 1);
                return Ok(None);
            }
            if seen == d {
                if alike(index - 1) {
                    return Ok(Some(index - 1));
                }
                colliding += 1;
                if colliding > 16 {
                    return Err(Crafted);
                }
            }
            at = (at + 1) & mask;
        }
    }
}

/// [`mark_duplicates`] by the whole key: exact whatever the addresses.
fn mark_duplicates_fully(cands: &mut [Cand], scratch: &mut Vec<DedupKey>, groups: &[Group]) {
    let ech = |c: &Cand| groups[usize::from(c.group)].ech;
    for c in cands.iter_mut() {
        c.dup = false;
    }
    scratch.clear();
    scratch.extend(cands.iter().map(|c| {
        let (v6, ip, flowinfo, scope) = match c.addr {
            SocketAddr::V4(a) => (false, u128::from(u32::from(*a.ip())), 0, 0),
            SocketAddr::V6(a) => (true, u128::from(*a.ip()), a.flowinfo(), a.scope_id()),
        };
        DedupKey {
            v6,
            ip,
            port: c.addr.port(),
            flowinfo,
            scope,
            quic: c.transport == Transport::Quic,
            ech: ech(c),
            made: c.made,
        }
    }));
    scratch.sort_unstable();
    for k in 1..scratch.len() {
        let (a, b) = (scratch[k - 1], scratch[k]);
        let class = |k: DedupKey| DedupKey { made: 0, ..k };
        if class(a) == class(b) {
            // `made` is the candidate's index.
            cands[b.made as usize].dup = true;
        }
    }
}

/// What the main sort compares first: group, family and unit key packed in integers, with
/// the candidate's index.
#[derive(Debug, Clone, Copy)]
struct OrderKey {
    hi: u64,
    lo: u128,
    index: u32,
}

/// An endpoint's identity for deduplication (HG11) as integers: the address (family, IP,
/// port, flow, scope: `SocketAddr`'s equality), transport, ECH config; then the making order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct DedupKey {
    v6: bool,
    ip: u128,
    port: u16,
    flowinfo: u32,
    scope: u32,
    quic: bool,
    ech: u8,
    made: u32,
}

/// Deals the unit starting at `sorted[at]` (its group ends before `end`): its endpoints in
/// transport order, each with the dealing state once it is picked (a turn under way until
/// its last), pushed to `dealt`. `same_unit` is empty when every unit is one endpoint.
fn deal_unit(
    cands: &mut [Cand],
    (sorted, same_unit): (&[u32], &[bool]),
    at: usize,
    end: usize,
    deal: &mut Deal,
    v6: bool,
    dealt: &mut SmallBuf<(u32, Dealt), INLINE>,
) {
    let mut stop = at + 1;
    if !same_unit.is_empty() {
        while stop < end && same_unit[stop] {
            stop += 1;
        }
    }
    let unit = cands[sorted[at] as usize].unit();
    for k in at..stop {
        let c = &mut cands[sorted[k] as usize];
        if c.taken {
            continue;
        }
        c.taken = true;
        let last = !(k + 1..stop).any(|j| !cands[sorted[j] as usize].taken);
        deal.turn = (!last).then_some((v6, unit));
        dealt.push((sorted[k], deal.compact()));
    }
    deal.turn = None;
}

/// How one group's endpoints are dealt (R17, R18, V25, HG1): a *turn* gives one family's
/// next address over each transport in the group's order; the opening family gets
/// `first_address_family_count` turns in a row, then families alternate; a family that ran
/// out is skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Deal {
    opening: Option<Opening>,
    last_v6: Option<bool>,
    /// The turn under way, when a rebuild cut it short: its family and unit.
    turn: Option<(bool, Unit)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opening {
    v6: bool,
    /// Turns of the opening family in a row (at most one per endpoint: it fits).
    run: u32,
    done: bool,
}

/// A [`Deal`] as each endpoint of the order keeps it: a turn under way is the endpoint's
/// own unit's, so only its family is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Dealt {
    opening: Option<Opening>,
    last_v6: Option<bool>,
    turn_v6: Option<bool>,
}

impl Deal {
    fn compact(&self) -> Dealt {
        Dealt {
            opening: self.opening,
            last_v6: self.last_v6,
            turn_v6: self.turn.map(|(v6, _)| v6),
        }
    }
}

impl Dealt {
    /// The deal, with the turn's unit: `unit`, the endpoint's own.
    fn expand(self, unit: Unit) -> Deal {
        Deal {
            opening: self.opening,
            last_v6: self.last_v6,
            turn: self.turn_v6.map(|v6| (v6, unit)),
        }
    }
}

impl Deal {
    /// Picks the family of the next turn among those `has` says have a unit left.
    fn pick(&mut self, has: impl Fn(bool) -> bool, count: usize, first_v6: bool) -> Option<bool> {
        let want = match (self.opening, self.last_v6) {
            (Some(o), _) if !o.done && (o.run as usize) < count => o.v6,
            (_, Some(last)) => !last,
            _ => first_v6,
        };
        let v6 = if has(want) {
            want
        } else if has(!want) {
            !want
        } else {
            return None;
        };
        match &mut self.opening {
            None => {
                self.opening = Some(Opening {
                    v6,
                    run: 1,
                    done: false,
                })
            }
            Some(o) if !o.done && o.v6 == v6 => o.run = o.run.saturating_add(1),
            Some(o) => o.done = true,
        }
        self.last_v6 = Some(v6);
        Some(v6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cand(addr: SocketAddr, quic: bool, group: u16, made: u32) -> Cand {
        Cand {
            key: SortKey::ZERO,
            addr,
            made,
            group,
            transport: if quic {
                Transport::Quic
            } else {
                Transport::Tcp
            },
            tcp_first: false,
            skipped: false,
            dup: false,
            taken: false,
            nat64: false,
        }
    }

    fn addr(pick: u8, port: bool, scope: bool) -> SocketAddr {
        let port = if port { 443 } else { 8443 };
        match pick % 4 {
            0 => SocketAddr::from(([192, 0, 2, pick / 4], port)),
            1 => SocketAddr::from((
                IpAddr::from([
                    0x20,
                    1,
                    0xd,
                    0xb8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    pick / 4,
                ]),
                port,
            )),
            2 => SocketAddr::V6(std::net::SocketAddrV6::new(
                std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(pick / 4)),
                port,
                0,
                u32::from(scope),
            )),
            _ => SocketAddr::from((
                IpAddr::from([
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0xff,
                    0xff,
                    192,
                    0,
                    2,
                    pick / 4,
                ]),
                port,
            )),
        }
    }

    /// The origin of a test's time (the core never reads the clock itself).
    #[allow(clippy::disallowed_methods)]
    fn origin() -> Instant {
        Instant::now()
    }

    /// Addresses crafted to share their digest defeat the plain rebuild's deduplication:
    /// the general rebuild takes them, and the order is the same.
    #[test]
    fn crafted_digests_order_as_the_general_rebuild() {
        let crafted = |k: u64| {
            let hi = 0x2001_0db8_0000_0000 | k;
            let lo = 0x1234_5678_9abc_def0 ^ hi.rotate_left(29);
            let ip = std::net::Ipv6Addr::from((u128::from(hi) << 64) | u128::from(lo));
            SocketAddr::from((ip, 443))
        };
        let mut addrs: Vec<SocketAddr> = (0..40).map(crafted).collect();
        addrs.push(crafted(3));
        addrs.push(SocketAddr::from(([192, 0, 2, 1], 443)));
        let t0 = origin();
        let with = (Config::default(), &Protocols::new());
        let history = crate::History::new();
        let race = (&addrs[..], false, 0);
        let plain = plain_race(race, &[], with, &history, true, t0);
        let general = plain_race(race, &[], with, &history, false, t0);
        assert_eq!(plain.len(), 42, "{plain:?}");
        assert_eq!(plain, general);
    }

    /// Runs a race over `addrs` (given, or as a host's AAAA answer at once and A answer
    /// after `late` attempts), failing every attempt at once, and returns every action it
    /// took, as printed.
    fn plain_race(
        (addrs, host, late): (&[SocketAddr], bool, usize),
        sources: &[crate::Source],
        (config, protocols): (Config, &Protocols),
        history: &crate::History,
        plain: bool,
        t0: Instant,
    ) -> Vec<String> {
        use crate::{Action, Input, QueryKind, Race, Target};
        PLAIN_OFF.with(|p| p.set(!plain));
        let target = if host {
            Target::host("plain.example", 443)
        } else {
            Target::addrs(addrs.iter().copied())
        };
        let target = target
            .sources(sources.iter().copied())
            .protocols(protocols.clone());
        let mut race: Race<()> = match Race::with_history(target, config, history, t0) {
            Ok(race) => race,
            Err(e) => return vec![format!("{e:?}")],
        };
        let answer = |kind: QueryKind| -> Vec<IpAddr> {
            let v6 = kind == QueryKind::Aaaa;
            addrs
                .iter()
                .filter(|a| a.is_ipv6() == v6)
                .map(|a| a.ip())
                .collect()
        };
        let mut out = Vec::new();
        let mut now = t0;
        let mut held = Vec::new();
        let mut started = 0;
        for _ in 0..400 {
            let mut queries = Vec::new();
            while let Some(action) = race.poll_action() {
                out.push(format!("{action:?}"));
                match action {
                    Action::Connect { attempt, .. } => {
                        started += 1;
                        race.handle_input(Input::ConnectFailed { attempt, error: () }, now);
                    }
                    Action::Resolve { query, kind, .. } => queries.push((query, kind)),
                    Action::Finish(_) => {
                        PLAIN_OFF.with(|p| p.set(false));
                        return out;
                    }
                    _ => {}
                }
            }
            for (query, kind) in queries {
                if kind == QueryKind::A && late > 0 {
                    held.push(query);
                } else {
                    race.handle_input(
                        Input::Resolved {
                            query,
                            addrs: answer(kind),
                        },
                        now,
                    );
                }
            }
            if started >= late || race.poll_timeout().is_none() {
                for query in held.drain(..) {
                    race.handle_input(
                        Input::Resolved {
                            query,
                            addrs: answer(QueryKind::A),
                        },
                        now,
                    );
                }
            }
            if let Some(t) = race.poll_timeout() {
                now = t;
                race.handle_timeout(now);
            }
        }
        PLAIN_OFF.with(|p| p.set(false));
        out.push("unfinished".into());
        out
    }

    proptest! {
        /// The plain rebuild (one host's addresses over one transport) orders and deals
        /// exactly as the general one: with duplicates (few and many), every kind of address,
        /// sources of every kind, history, each family policy, opening count, endpoint cap and
        /// transport, and an A answer arriving after some attempts (dealing goes on).
        #[test]
        fn a_plain_rebuild_orders_as_the_general_one(
            picks in prop::collection::vec((any::<u8>(), any::<bool>(), any::<bool>()), 0..24),
            routes in prop::collection::vec(any::<u8>(), 0..24),
            late in 0usize..5,
            outcomes in prop::collection::vec((any::<u8>(), any::<bool>(), any::<u16>()), 0..6),
            host in any::<bool>(),
            policy in 0u8..4,
            count in 0usize..4,
            cap in prop::option::of(0usize..10),
            spoken in 0u8..3,
            prefer_tcp in any::<bool>(),
        ) {
            let (plain, general) = plain_and_general(
                (&picks, &routes, late, &outcomes, host),
                (policy, count, cap, spoken, prefer_tcp),
            );
            prop_assert_eq!(plain, general);
        }

        /// The same for two addresses (one of each family, which the plain rebuild orders
        /// without a sort, or two of one).
        #[test]
        fn a_plain_rebuild_of_two_addresses_orders_as_the_general_one(
            picks in prop::collection::vec((any::<u8>(), any::<bool>(), any::<bool>()), 2..=2),
            routes in prop::collection::vec(any::<u8>(), 0..3),
            late in 0usize..3,
            outcomes in prop::collection::vec((any::<u8>(), any::<bool>(), any::<u16>()), 0..4),
            host in any::<bool>(),
            policy in 0u8..4,
            count in 0usize..4,
            cap in prop::option::of(0usize..4),
            spoken in 0u8..3,
            prefer_tcp in any::<bool>(),
        ) {
            let (plain, general) = plain_and_general(
                (&picks, &routes, late, &outcomes, host),
                (policy, count, cap, spoken, prefer_tcp),
            );
            prop_assert_eq!(plain, general);
        }

        /// The same for one address (every race over one given address, which the plain
        /// rebuild orders without a sort): with or without its route, history, each family
        /// policy, cap and transport.
        #[test]
        fn a_plain_rebuild_of_one_address_orders_as_the_general_one(
            picks in prop::collection::vec((any::<u8>(), any::<bool>(), any::<bool>()), 1..=1),
            routes in prop::collection::vec(any::<u8>(), 0..2),
            late in 0usize..2,
            outcomes in prop::collection::vec((any::<u8>(), any::<bool>(), any::<u16>()), 0..3),
            host in any::<bool>(),
            policy in 0u8..4,
            count in 0usize..4,
            cap in prop::option::of(0usize..3),
            spoken in 0u8..3,
            prefer_tcp in any::<bool>(),
        ) {
            let (plain, general) = plain_and_general(
                (&picks, &routes, late, &outcomes, host),
                (policy, count, cap, spoken, prefer_tcp),
            );
            prop_assert_eq!(plain, general);
        }
    }

    /// The orders of the plain and the general rebuild of a race made from the properties'
    /// picks (see `a_plain_rebuild_orders_as_the_general_one`).
    #[allow(clippy::type_complexity)]
    fn plain_and_general(
        (picks, routes, late, outcomes, host): (
            &[(u8, bool, bool)],
            &[u8],
            usize,
            &[(u8, bool, u16)],
            bool,
        ),
        (policy, count, cap, spoken, prefer_tcp): (u8, usize, Option<usize>, u8, bool),
    ) -> (Vec<String>, Vec<String>) {
        use crate::{FamilyPolicy, History, Path, Source};
        let addrs: Vec<SocketAddr> = picks
            .iter()
            .map(|&(p, port, scope)| addr(p % 16, port || host, scope && !host))
            .collect();
        let sources: Vec<Source> = addrs
            .iter()
            .zip(routes)
            .map(|(a, r)| match (r % 5, a.is_ipv6()) {
                (0, _) => Source::unreachable(a.ip()),
                (1, true) => Source::new(a.ip(), "2001:db8::100".parse().unwrap()),
                (2, true) => Source::new(a.ip(), "fe80::100".parse().unwrap()),
                (3, true) => Source::new(a.ip(), "fd00::100".parse().unwrap()).deprecated(true),
                (_, true) => Source::new(a.ip(), "2001:db8::200".parse().unwrap()),
                (_, false) => Source::new(a.ip(), "192.0.2.200".parse().unwrap()),
            })
            .collect();
        let t0 = origin();
        let mut history = History::new();
        for &(i, ok, rtt) in outcomes {
            let Some(s) = sources.get(usize::from(i) % sources.len().max(1)) else {
                continue;
            };
            let (Some(src), Some(a)) = (s.source(), addrs.get(usize::from(i) % addrs.len())) else {
                continue;
            };
            let path = Path::new(src, *a, Transport::Tcp);
            if ok {
                history.record_success(path, std::time::Duration::from_millis(u64::from(rtt)), t0);
            } else {
                history.record_failure(path, t0);
            }
        }
        let policy = match policy {
            0 => FamilyPolicy::PreferV6,
            1 => FamilyPolicy::PreferV4,
            2 => FamilyPolicy::V6Only,
            _ => FamilyPolicy::V4Only,
        };
        let config = Config::default()
            .family_policy(policy)
            .first_address_family_count(count)
            .max_endpoints(cap)
            .prefer_tcp(prefer_tcp);
        let protocols = match spoken {
            0 => Protocols::new(),
            1 => Protocols::http(),
            _ => Protocols::new().quic("h3"),
        };
        let with = (config, &protocols);
        let race = (&addrs[..], host, late);
        let plain = plain_race(race, &sources, with, &history, true, t0);
        let general = plain_race(race, &sources, with, &history, false, t0);
        (plain, general)
    }

    proptest! {
        /// HG11's marking by digest marks exactly what the marking by the whole key does:
        /// the first made of each class kept, every later one marked.
        #[test]
        fn duplicates_by_digest_are_duplicates_by_key(
            picks in prop::collection::vec((any::<u8>(), any::<bool>(), any::<bool>(), any::<bool>(), 0u16..3), 17..120),
        ) {
            let groups = [
                Group { key: GroupKey::Service((1, 0, 0)), service: 0, ech: 1 },
                Group { key: GroupKey::Service((2, 0, 1)), service: 1, ech: 1 },
                Group { key: GroupKey::Address, service: 0, ech: 0 },
            ];
            let made: Vec<Cand> = picks
                .iter()
                .enumerate()
                .map(|(i, &(p, port, scope, quic, g))| cand(addr(p % 24, port, scope), quic, g, i as u32))
                .collect();
            let mut quick = made.clone();
            mark_duplicates(&mut quick, (&mut Vec::new(), &mut Vec::new()), &groups);
            let mut full = made.clone();
            mark_duplicates_fully(&mut full, &mut Vec::new(), &groups);
            let q: Vec<bool> = quick.iter().map(|c| c.dup).collect();
            let f: Vec<bool> = full.iter().map(|c| c.dup).collect();
            prop_assert_eq!(q, f);
        }
    }
}
