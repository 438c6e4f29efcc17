//! The endpoints a race has not tried yet, in the order it will try them (HEv3 §5; RFC 8305
//! §4 R11, R12, R17, R18; §6 R32, R33; G6).
//!
//! Whenever DNS (or the driver) tells the race something new, the whole list is rebuilt from
//! what is known: endpoints are made from every answer, grouped (V15–V21), sorted within each
//! group (V22, V23), deduplicated (HG11) and dealt out interleaved (V25, HG1). Dealing
//! continues from the picks already made, so a late family's best endpoint is the next one
//! tried (R8, R33, G6, V45) and interleaving is never broken by an update.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::config::Config;
use crate::endpoint::{EchConfig, Endpoint, EndpointKey, Protocols, Provenance, Transport};
use crate::history::{Path, Snapshot};
use crate::record::AttemptRecord;
use crate::resolution::{Resolution, Service};
use crate::sort::{Route, SortKey};

/// The most endpoints a race considers when [`Config::max_endpoints`] sets no lower cap.
pub const MAX_ENDPOINTS: usize = 65_536;

/// What a rebuild reads.
pub(crate) struct Context<'a> {
    pub(crate) resolution: &'a Resolution,
    pub(crate) config: &'a Config,
    pub(crate) protocols: &'a Protocols,
    pub(crate) history: Option<&'a Snapshot>,
    /// Destination → route (`None`: no route), from [`Input::Sources`](crate::Input).
    pub(crate) sources: &'a BTreeMap<IpAddr, Option<Route>>,
    pub(crate) now: Instant,
}

/// The groups of §5.2, in the order they are tried: services by rank, then the alias
/// target's own addresses (V11), then the host's addresses without service (V21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Service((u16, u64, usize)),
    AliasFallback,
    Address,
}

#[derive(Debug)]
pub(crate) struct Candidates {
    /// Untried endpoints, next first, each with its group and the group's dealing state once
    /// it is picked. A rebuild makes the new list in this same buffer, so it allocates
    /// nothing once the buffer is big enough, and endpoints never move from list to list.
    order: VecDeque<Cand>,
    /// Every endpoint started (sorted, filled from the race's attempts at each rebuild), so
    /// none is started twice.
    tried: Vec<EndpointKey>,
    /// How each group's dealing stands after the picks made so far: the group of the last
    /// pick inline (most races have one group), the others in a sorted vector.
    deal: Option<(GroupKey, Deal)>,
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

/// One candidate: made and sorted by a rebuild, then waiting in the order.
#[derive(Debug)]
struct Cand {
    group: GroupKey,
    /// TCP goes first in this candidate's group (HG1, HG3).
    tcp_first: bool,
    key: SortKey,
    /// The best key of its unit (its address, over every transport): units sort by it.
    unit_key: SortKey,
    /// Order of making: the first of two duplicates is kept (HG11).
    made: u32,
    /// Left out by the ECH downgrade rule (V35).
    skipped: bool,
    /// Dealt already in this rebuild.
    taken: bool,
    /// Its place in the dealt order (0 = next), once taken.
    pos: usize,
    /// The group's dealing state once this endpoint is picked.
    deal: Deal,
    endpoint: Endpoint,
}

impl Cand {
    fn v6(&self) -> bool {
        self.endpoint.addr.is_ipv6()
    }

    /// The unit an endpoint belongs to: its address and port, and whether rule 1 demoted it
    /// (a failed QUIC endpoint does not drag its address's TCP endpoint down with it).
    fn unit(&self) -> Unit {
        (self.endpoint.addr, self.key.is_demoted())
    }

    /// 0 for the transport that goes first in its group, 1 for the other.
    fn transport_rank(&self) -> u8 {
        u8::from((self.endpoint.transport == Transport::Tcp) != self.tcp_first)
    }
}

/// An address (with its port) and whether rule 1 demoted it: what one turn deals.
type Unit = (SocketAddr, bool);

impl Candidates {
    pub(crate) fn new() -> Self {
        Candidates {
            order: VecDeque::new(),
            tried: Vec::new(),
            deal: None,
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

    /// Returns whether no endpoint is waiting to be tried.
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Returns whether an endpoint of this family is waiting.
    pub(crate) fn has_family(&self, v6: bool) -> bool {
        if v6 {
            self.v6 > 0
        } else {
            self.v4 > 0
        }
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
        let (p, o) = if prefer_v6 { (0, 1) } else { (1, 0) };
        let bad = |i: usize| self.failed[i] && !self.good[i];
        bad(p) && !bad(o)
    }

    /// Takes the next endpoint to try.
    pub(crate) fn pop_next(&mut self) -> Option<Endpoint> {
        let p = self.order.pop_front()?;
        match self.deal.replace((p.group, p.deal)) {
            Some((group, deal)) if group != p.group => {
                match self.deals.binary_search_by_key(&group, |(g, _)| *g) {
                    Ok(i) => self.deals[i].1 = deal,
                    Err(i) => self.deals.insert(i, (group, deal)),
                }
            }
            _ => {}
        }
        self.count(&p, false);
        Some(p.endpoint)
    }

    /// Rebuilds the list from everything known (see the module docs).
    pub(crate) fn rebuild<E>(&mut self, cx: &Context<'_>, attempts: &[AttemptRecord<E>]) {
        if self.tried.len() < attempts.len() {
            let new = &attempts[self.tried.len()..];
            self.tried.extend(new.iter().map(|a| a.endpoint.key()));
            self.tried.sort_unstable();
        }
        // The order's buffer is reused: cleared, it converts to a vector and back in place.
        let mut order = core::mem::take(&mut self.order);
        order.clear();
        let mut cands = Vec::from(order);
        let r = cx.resolution;
        let addrs: usize = r
            .names
            .iter()
            .map(|n| n.v6.addrs.len() + n.v4.addrs.len())
            .sum();
        // Service endpoints go over each transport the caller speaks; the rest over one.
        let both = cx.protocols.speaks(Transport::Quic) && cx.protocols.speaks(Transport::Tcp);
        // Exact: a vector of these rounds a small reserve up to four, past what the
        // allocator's cache of small blocks holds.
        cands.reserve_exact(addrs.saturating_mul(if both { 2 } else { 1 }));
        self.make(cx, &mut cands);
        dedup(&mut cands);
        let before = cands.len();
        cands.retain(|c| !c.skipped);
        self.skipped_without_ech = before - cands.len();
        // Whether a family is broken is judged on TCP, when there is TCP: a QUIC failure
        // alone says UDP is blocked (HG3), not that IPv6 is.
        self.good = [false; 2];
        self.failed = [false; 2];
        let any_tcp = cands.iter().any(|c| c.endpoint.transport == Transport::Tcp);
        let mut v6 = cands.iter().filter(|c| c.v6()).peekable();
        self.v6_poor = v6.peek().is_some() && v6.all(|c| c.key.is_poor_route());
        for c in &cands {
            if any_tcp && c.endpoint.transport != Transport::Tcp {
                continue;
            }
            let i = usize::from(!c.endpoint.addr.is_ipv6());
            self.good[i] |= c.key.is_good();
            self.failed[i] |= c.key.is_demoted();
        }
        // Units: the endpoints of one address in one group, over each transport. A unit
        // sorts by its best endpoint; equal keys keep the order of arrival (RFC 6724 rule
        // 10: `made` follows the answers).
        // With one transport, every unit is one endpoint and its key is its own.
        let one_transport = cands
            .iter()
            .all(|c| Some(c.endpoint.transport) == cands.first().map(|f| f.endpoint.transport));
        if !one_transport {
            cands.sort_unstable_by_key(|c| (c.group, !c.v6(), c.unit(), c.key));
        }
        let mut i = if one_transport { cands.len() } else { 0 };
        while i < cands.len() {
            let (group, unit, best) = (cands[i].group, cands[i].unit(), cands[i].key);
            while i < cands.len() && cands[i].group == group && cands[i].unit() == unit {
                cands[i].unit_key = best;
                i += 1;
            }
        }
        cands.sort_unstable_by_key(|c| {
            (
                c.group,
                !c.v6(),
                c.unit_key,
                c.unit(),
                c.transport_rank(),
                c.made,
            )
        });
        self.deal(cx, &mut cands);
        cands.retain(|c| c.taken);
        arrange(&mut cands);
        let cap = cx.config.max_endpoints.unwrap_or(MAX_ENDPOINTS);
        cands.truncate(cap.saturating_sub(self.tried.len()));
        (self.v6, self.v4, self.services) = (0, 0, 0);
        for c in &cands {
            self.count(c, true);
        }
        self.order = VecDeque::from(cands);
    }

    /// Deals the sorted candidates out, group by group, a unit (one address over each
    /// transport) a turn: each one dealt is marked taken, with its place in the order.
    fn deal(&self, cx: &Context<'_>, cands: &mut [Cand]) {
        let prefer_v6 = cx.config.family_policy.prefers_v6();
        let flip = self.should_flip(prefer_v6);
        let count = cx.config.first_address_family_count;
        let mut pos = 0;
        let mut offset = 0;
        while offset < cands.len() {
            let key = cands[offset].group;
            let mut end = offset;
            while end < cands.len() && cands[end].group == key {
                end += 1;
            }
            // Each family's candidates: IPv6 in [offset, split), IPv4 in [split, end).
            let split = offset + cands[offset..end].iter().take_while(|c| c.v6()).count();
            let range = |v6: bool| if v6 { offset..split } else { split..end };
            // The opening family: with IPv6 preferred (the default), the one whose best
            // endpoint RFC 6724 ranks first (rules 1–8: a link-local or ULA-only IPv6 source
            // for a global destination puts IPv4 first); IPv4 when the caller prefers it;
            // the other one when history says the preferred family is broken.
            let best = |v6: bool| cands[range(v6)].first().map(|c| c.unit_key.family_rank());
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
            let mut deal = self.deal_of(key);
            // A turn cut short by this rebuild is finished first (its unit may have moved).
            if let Some((v6, unit)) = deal.turn.take() {
                let at = range(v6).find(|&i| !cands[i].taken && cands[i].unit() == unit);
                if let Some(at) = at {
                    deal_unit(cands, at, end, &mut deal, v6, &mut pos);
                }
            }
            let mut next = [offset, split];
            loop {
                for (v6, n) in [(true, 0), (false, 1)] {
                    while next[n] < range(v6).end && cands[next[n]].taken {
                        next[n] += 1;
                    }
                }
                let has = |v6: bool| next[usize::from(!v6)] < range(v6).end;
                let Some(v6) = deal.pick(has, count, first_v6) else {
                    break;
                };
                let at = next[usize::from(!v6)];
                deal_unit(cands, at, end, &mut deal, v6, &mut pos);
            }
            offset = end;
        }
    }

    fn deal_of(&self, group: GroupKey) -> Deal {
        if let Some((g, deal)) = self.deal {
            if g == group {
                return deal;
            }
        }
        match self.deals.binary_search_by_key(&group, |(g, _)| *g) {
            Ok(i) => self.deals[i].1,
            Err(_) => Deal::default(),
        }
    }

    fn count(&mut self, p: &Cand, add: bool) {
        let n = if p.endpoint.addr.is_ipv6() {
            &mut self.v6
        } else {
            &mut self.v4
        };
        let s = &mut self.services;
        let service = matches!(p.group, GroupKey::Service(_));
        if add {
            *n += 1;
            *s += usize::from(service);
        } else {
            *n -= 1;
            *s -= usize::from(service);
        }
    }

    /// Makes every untried endpoint from what DNS said, in groups.
    fn make(&self, cx: &Context<'_>, cands: &mut Vec<Cand>) {
        let r = cx.resolution;
        let ech_only = cx.config.ech && r.services.iter().any(|s| s.ech.is_some());
        let fallback = if cx.protocols.speaks(Transport::Tcp) {
            Transport::Tcp
        } else {
            Transport::Quic
        };
        let mut maker = Maker {
            cx,
            tried: &self.tried,
            cands,
            ech_only,
            group: GroupKey::Address,
            first: 0,
        };
        for service in &r.services {
            maker.start(GroupKey::Service(service.rank));
            maker.add_service(service);
            maker.finish();
        }
        if let Some(alias) = r.alias {
            let n = &r.names[alias];
            maker.start(GroupKey::AliasFallback);
            let provenance = Provenance::AliasFallback {
                target: n.name.clone(),
            };
            for v6 in [true, false] {
                let addrs = &n.family(v6).addrs;
                maker.add(addrs.iter().copied(), &[fallback], None, &provenance);
            }
            maker.finish();
        }
        if let Some(n) = r.names.first() {
            maker.start(GroupKey::Address);
            for v6 in [true, false] {
                let addrs = &n.family(v6).addrs;
                maker.add(
                    addrs.iter().copied(),
                    &[fallback],
                    None,
                    &Provenance::Address,
                );
            }
            maker.finish();
        }
    }
}

/// Makes the candidates of one rebuild.
struct Maker<'a, 'c> {
    cx: &'a Context<'c>,
    tried: &'a [EndpointKey],
    cands: &'a mut Vec<Cand>,
    ech_only: bool,
    /// The group being made, and where its candidates start.
    group: GroupKey,
    first: usize,
}

impl Maker<'_, '_> {
    fn start(&mut self, key: GroupKey) {
        self.group = key;
        self.first = self.cands.len();
    }

    /// The endpoints of one service: its addresses (hints until the TargetName's answer) over
    /// each transport it offers the caller.
    fn add_service(&mut self, s: &Service) {
        let mut transports = Vec::with_capacity(2);
        if s.transports.quic {
            transports.push(Transport::Quic);
        }
        if s.transports.tcp {
            transports.push(Transport::Tcp);
        }
        let provenance = Provenance::Service {
            priority: s.rank.0,
            target: s.target.clone(),
        };
        for v6 in [true, false] {
            let addrs = self.cx.resolution.service_addrs(s, v6);
            let addrs = addrs.into_iter().map(|ip| SocketAddr::new(ip, s.port));
            self.add(addrs, &transports, s.ech.as_ref(), &provenance);
        }
    }

    fn add(
        &mut self,
        addrs: impl Iterator<Item = SocketAddr>,
        transports: &[Transport],
        ech: Option<&EchConfig>,
        provenance: &Provenance,
    ) {
        let cx = self.cx;
        for (seq, addr) in addrs.enumerate() {
            // R36: with a NAT64 prefix, IPv4 is reached through synthesized IPv6.
            let addr = match (addr, cx.config.nat64) {
                (SocketAddr::V4(v4), Some(prefix)) => {
                    SocketAddr::new(IpAddr::V6(prefix.synthesize(*v4.ip())), v4.port())
                }
                _ => addr,
            };
            if !cx.config.family_policy.allows(addr.is_ipv6()) {
                continue;
            }
            let route = cx.sources.get(&addr.ip()).copied();
            let source = route.flatten().map(|r| r.source);
            for &transport in transports {
                let endpoint = Endpoint {
                    addr,
                    transport,
                    alpn: cx.protocols.shared(transport),
                    ech: ech.cloned(),
                    provenance: provenance.clone(),
                };
                if !self.tried.is_empty() && self.tried.binary_search(&endpoint.key()).is_ok() {
                    continue;
                }
                let path = source.map(|s| Path::new(s, addr, transport));
                let history = cx.history.zip(path);
                let failing = history.is_some_and(|(h, p)| h.is_failing(p, cx.now));
                let rtt = history.and_then(|(h, p)| h.rtt(p, cx.now));
                let made = u32::try_from(self.cands.len()).unwrap_or(u32::MAX);
                let key = SortKey::new(addr.ip(), route, seq as u64, failing, rtt);
                self.cands.push(Cand {
                    group: self.group,
                    tcp_first: false,
                    key,
                    unit_key: key,
                    made,
                    skipped: self.ech_only && endpoint.ech.is_none(),
                    taken: false,
                    pos: 0,
                    deal: Deal::default(),
                    endpoint,
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
            let quic = mine
                .iter()
                .filter(|c| c.endpoint.transport == Transport::Quic);
            for c in quic {
                let route = cx.sources.get(&c.endpoint.addr.ip()).copied().flatten();
                let Some(source) = route.map(|r| r.source) else {
                    continue;
                };
                if seen.contains(&source) {
                    continue;
                }
                seen.push(source);
                if h.is_transport_failing(source, Transport::Quic, cx.now) {
                    tcp_first = true;
                    break;
                }
            }
        }
        for c in mine {
            c.tcp_first = tcp_first;
        }
    }
}

/// HG11: of endpoints alike (address, port, transport, ECH), the first made is kept: the one
/// of the best group. Small lists are compared pairwise; large ones sorted.
fn dedup(cands: &mut Vec<Cand>) {
    if cands.len() <= 16 {
        let mut i = 1;
        while i < cands.len() {
            if cands[..i]
                .iter()
                .any(|c| c.endpoint.key_eq(&cands[i].endpoint))
            {
                cands.remove(i);
            } else {
                i += 1;
            }
        }
        return;
    }
    cands.sort_unstable_by(|a, b| {
        let (x, y) = (&a.endpoint, &b.endpoint);
        (x.addr, x.transport, &x.ech, a.made).cmp(&(y.addr, y.transport, &y.ech, b.made))
    });
    cands.dedup_by(|later, first| first.endpoint.key_eq(&later.endpoint));
}

/// Deals the unit starting at `cands[at]` (its group ends before `end`): its endpoints in
/// transport order, each with the dealing state once it is picked (a turn under way until
/// its last) and the next place in the order.
fn deal_unit(
    cands: &mut [Cand],
    at: usize,
    end: usize,
    deal: &mut Deal,
    v6: bool,
    pos: &mut usize,
) {
    let unit = cands[at].unit();
    let mut i = at;
    while i < end && cands[i].unit() == unit {
        if !cands[i].taken {
            let last = !(i + 1..end)
                .take_while(|&j| cands[j].unit() == unit)
                .any(|j| !cands[j].taken);
            deal.turn = (!last).then_some((v6, unit));
            let c = &mut cands[i];
            c.taken = true;
            c.pos = *pos;
            c.deal = *deal;
            *pos += 1;
        }
        i += 1;
    }
    deal.turn = None;
}

/// Puts dealt candidates in order: the one at place `k` moves to index `k`. The places are
/// exactly `0..n` (each taken candidate got the next one), so following the cycles of the
/// permutation takes fewer than `n` swaps, each of which puts one candidate where it
/// belongs; the count bounds the loop all the same. Candidates already dealt in the order
/// they were sorted (one family, or families that alternate as sorted) do not move.
fn arrange(cands: &mut [Cand]) {
    let n = cands.len();
    let mut swaps = 0;
    for i in 0..n {
        while swaps < n {
            let to = cands[i].pos.min(n - 1);
            if to == i {
                break;
            }
            cands.swap(i, to);
            swaps += 1;
        }
    }
    debug_assert!(cands.iter().enumerate().all(|(k, c)| c.pos == k));
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
    run: usize,
    done: bool,
}

impl Deal {
    /// Picks the family of the next turn among those `has` says have a unit left.
    fn pick(&mut self, has: impl Fn(bool) -> bool, count: usize, first_v6: bool) -> Option<bool> {
        let want = match (self.opening, self.last_v6) {
            (Some(o), _) if !o.done && o.run < count => o.v6,
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
