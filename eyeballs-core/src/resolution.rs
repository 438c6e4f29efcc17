//! What DNS has told a race so far (HEv3 §4, §7; RFC 8305 §3): the addresses of every name
//! it asked about, the HTTPS alias chain, and the usable services.

use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::Instant;

use crate::alt_svc::AltService;
use crate::config::{Config, FamilyPolicy};
use crate::endpoint::{EchConfig, Protocols, Transport};
use crate::id::QueryKind;
use crate::name::Name;
use crate::rng::SplitMix64;
use crate::service::{ServiceRecord, Transports, MAX_HINTS, MAX_SERVICE_RECORDS};
use crate::small::SmallBuf;

/// The most names a race resolves besides the host itself: alias targets and TargetNames.
/// Records naming more keep their hints only.
pub const MAX_TARGET_NAMES: usize = 16;
/// The most addresses a race takes from one answer; the rest are ignored.
pub const MAX_ANSWER_ADDRS: usize = 65_536;
/// The most records a race takes from one HTTPS answer (before choosing the usable ones).
pub const MAX_ANSWER_RECORDS: usize = 1024;

/// The most alternative services ([`Target::alt_svc`](crate::Target::alt_svc)) a race
/// takes; later ones are left out.
pub const MAX_ALT_SERVICES: usize = 8;
/// The most ServiceMode records a race takes from an alternative service's HTTPS answer
/// (the lowest priorities).
pub const MAX_ALT_SERVICE_RECORDS: usize = 8;

/// What a query is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryFor {
    /// Addresses of `names[name]`.
    Addrs { name: usize },
    /// The HTTPS records of the current link of the alias chain.
    Https,
    /// The HTTPS records of alternative service `alts[alt]` (RFC 9460 §9.3).
    AltHttps { alt: usize },
}

/// A query the race must send.
#[derive(Debug, Clone)]
pub(crate) struct Ask {
    pub(crate) name: Name,
    pub(crate) kind: QueryKind,
    pub(crate) what: QueryFor,
}

/// Where one family's answer for one name stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Unasked,
    Pending,
    Answered,
    Failed,
}

#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub(crate) state: State,
    /// The answer's addresses, with the authority's port (or a literal's own).
    pub(crate) addrs: SmallBuf<SocketAddr, 2>,
}

/// The answers for one name.
#[derive(Debug, Clone)]
pub(crate) struct NameAnswers {
    pub(crate) name: Name,
    pub(crate) v6: Family,
    pub(crate) v4: Family,
}

impl NameAnswers {
    pub(crate) fn family(&self, v6: bool) -> &Family {
        if v6 {
            &self.v6
        } else {
            &self.v4
        }
    }

    fn family_mut(&mut self, v6: bool) -> &mut Family {
        if v6 {
            &mut self.v6
        } else {
            &mut self.v4
        }
    }
}

/// The answers of every name a race asked about: the host's (the first) inline, since most
/// races ask about no other.
#[derive(Debug)]
pub(crate) struct Names {
    origin: Option<NameAnswers>,
    others: Vec<NameAnswers>,
}

impl Names {
    pub(crate) fn len(&self) -> usize {
        usize::from(self.origin.is_some()) + self.others.len()
    }

    pub(crate) fn push(&mut self, n: NameAnswers) {
        if self.origin.is_none() {
            self.origin = Some(n);
        } else {
            self.others.push(n);
        }
    }

    pub(crate) fn first(&self) -> Option<&NameAnswers> {
        self.origin.as_ref()
    }

    pub(crate) fn first_mut(&mut self) -> Option<&mut NameAnswers> {
        self.origin.as_mut()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&NameAnswers> {
        match i {
            0 => self.origin.as_ref(),
            _ => self.others.get(i - 1),
        }
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut NameAnswers> {
        match i {
            0 => self.origin.as_mut(),
            _ => self.others.get_mut(i - 1),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &NameAnswers> {
        self.origin.iter().chain(self.others.iter())
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut NameAnswers> {
        self.origin.iter_mut().chain(self.others.iter_mut())
    }
}

impl core::ops::Index<usize> for Names {
    type Output = NameAnswers;

    fn index(&self, i: usize) -> &NameAnswers {
        match self.get(i) {
            Some(n) => n,
            None => panic!("name {i} of {}: an index the race made", self.len()),
        }
    }
}

impl core::ops::IndexMut<usize> for Names {
    fn index_mut(&mut self, i: usize) -> &mut NameAnswers {
        let len = self.len();
        match self.get_mut(i) {
            Some(n) => n,
            None => panic!("name {i} of {len}: an index the race made"),
        }
    }
}

/// A usable ServiceMode record, ready to give endpoints.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    /// Sort order (V19, V20): SvcPriority, then a seeded shuffle, then answer order.
    pub(crate) rank: (u16, u64, usize),
    /// The name whose addresses it uses; `None` when [`MAX_TARGET_NAMES`] was reached.
    pub(crate) name: Option<usize>,
    /// The effective TargetName, for [`Provenance`](crate::Provenance).
    pub(crate) target: Name,
    pub(crate) port: u16,
    pub(crate) transports: Transports,
    pub(crate) ech: Option<EchConfig>,
    pub(crate) v6_hints: Vec<IpAddr>,
    pub(crate) v4_hints: Vec<IpAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Https {
    /// Not asked (RFC 8305 race, or addresses given directly): service conditions are met.
    Off,
    Pending,
    Settled,
    /// An alternative whose HTTPS query name is the origin's: the origin's answer is its.
    Shared,
}

/// An alternative service (HEv3 V59, HG17), as the race resolves it.
#[derive(Debug, Clone)]
pub(crate) struct Alt {
    /// Its host (the origin's for `.`), for [`Provenance`](crate::Provenance).
    pub(crate) host: Name,
    /// The name whose addresses it uses; `None` when [`MAX_TARGET_NAMES`] was reached.
    pub(crate) name: Option<usize>,
    pub(crate) port: u16,
    /// What its protocols give over the caller's (V41: records are held to them too).
    pub(crate) transports: Transports,
    pub(crate) https: Https,
    /// The usable ServiceMode records of its own HTTPS answer (not with `Shared`).
    pub(crate) services: Vec<Service>,
}

impl Alt {
    /// Whether its endpoints are known: its HTTPS answer is in (or the origin's, when
    /// shared, per `origin_settled`), or none was asked.
    pub(crate) fn is_settled(&self, origin_settled: bool) -> bool {
        match self.https {
            Https::Pending => false,
            Https::Shared => origin_settled,
            Https::Off | Https::Settled => true,
        }
    }
}

/// Everything DNS said, per name.
#[derive(Debug)]
pub(crate) struct Resolution {
    /// `names[0]` is the host itself (for addresses given directly, an unnamed entry that
    /// holds them).
    pub(crate) names: Names,
    port: u16,
    policy: FamilyPolicy,
    /// Ask for A even when IPv4 is not allowed: NAT64 synthesizes from it (R36).
    want_a: bool,
    combined: bool,
    https: Https,
    /// What only a race asking for HTTPS records or given alternative services fills;
    /// boxed, made when first written, so that a plain race's state (built, moved and
    /// dropped once a race) stays small and drops one empty pointer.
    extra: Option<Box<Extra>>,
}

/// The parts of a [`Resolution`] that a plain race never fills.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    /// Every name the HTTPS chain asked about, for loop detection.
    chain: Vec<Name>,
    /// The last alias target (its index in `names`), after an AliasMode hop.
    pub(crate) alias: Option<usize>,
    pub(crate) services: Vec<Service>,
    /// The alternative services, in the caller's order.
    pub(crate) alts: Vec<Alt>,
}

/// What [`Resolution::extra`] reads while nothing was written.
static NO_EXTRA: Extra = Extra {
    chain: Vec::new(),
    alias: None,
    services: Vec::new(),
    alts: Vec::new(),
};

impl Resolution {
    /// Makes an [`empty`](Resolution::empty) resolution that of a race over a host name;
    /// returns the first queries (V3: HTTPS, then the preferred family, then the other). In
    /// place, as [`Resolution::fill_literal`]: nothing large is moved.
    pub(crate) fn fill_host(
        &mut self,
        name: Name,
        port: u16,
        want_a: bool,
        combined: bool,
        https_name: Option<Name>,
    ) -> Vec<Ask> {
        self.port = port;
        self.want_a = want_a;
        self.combined = combined;
        let mut asks = Vec::new();
        if let Some(https) = https_name {
            asks.push(self.ask_https(https));
        }
        self.names.push(NameAnswers {
            name,
            v6: unasked(),
            v4: unasked(),
        });
        self.ask_addrs(0, &mut asks);
        asks
    }

    /// The HTTPS query of `name`, service information pending until it is answered: the
    /// host's, or, through a proxy, the origin's (V60, HG20).
    pub(crate) fn ask_https(&mut self, name: Name) -> Ask {
        self.https = Https::Pending;
        self.extra_mut().chain.push(name.clone());
        Ask {
            name,
            kind: QueryKind::Https,
            what: QueryFor::Https,
        }
    }

    /// An empty resolution with `policy`, to be filled in place by
    /// [`Resolution::fill_host`] or [`Resolution::fill_literal`].
    pub(crate) fn empty(policy: FamilyPolicy) -> Self {
        Resolution::new(0, policy, true, false)
    }

    /// Makes an [`empty`](Resolution::empty) resolution that of a race over addresses given
    /// directly: all answered, no DNS. In place: a race's state is boxed before it is filled,
    /// so nothing large is moved.
    pub(crate) fn fill_literal(&mut self, addrs: &[SocketAddr]) {
        self.port = addrs.first().map_or(0, SocketAddr::port);
        let answered = || Family {
            state: State::Answered,
            addrs: empty_addrs(),
        };
        self.names.push(NameAnswers {
            name: Name::root(),
            v6: answered(),
            v4: answered(),
        });
        let Some(n) = self.names.first_mut() else {
            return;
        };
        for &a in addrs {
            let family = if a.is_ipv6() { &mut n.v6 } else { &mut n.v4 };
            if family.addrs.len() < MAX_ANSWER_ADDRS {
                family.addrs.push(a);
            }
        }
    }

    fn new(port: u16, policy: FamilyPolicy, want_a: bool, combined: bool) -> Self {
        Resolution {
            names: Names {
                origin: None,
                others: Vec::new(),
            },
            port,
            policy,
            want_a,
            combined,
            https: Https::Off,
            extra: None,
        }
    }

    /// Returns the service records, alias and alternatives (all empty until written).
    #[inline]
    pub(crate) fn extra(&self) -> &Extra {
        self.extra.as_deref().unwrap_or(&NO_EXTRA)
    }

    /// Returns whether some service record, alternative or alias target is held (a race
    /// without them never makes the box it keeps them in).
    #[inline]
    pub(crate) fn has_services(&self) -> bool {
        self.extra
            .as_deref()
            .is_some_and(|e| !e.services.is_empty() || !e.alts.is_empty() || e.alias.is_some())
    }

    /// Returns them to write, made when first needed.
    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Returns whether service information has arrived or been denied (or was never asked).
    pub(crate) fn is_service_settled(&self) -> bool {
        self.https != Https::Pending
    }

    /// Returns whether some alternative service may still bring endpoints that the first
    /// start waits for (HG19): its own HTTPS answer is outstanding, or it has no address yet
    /// while one of its address queries is. Its addresses are its host's, or, once its
    /// records are in, those of its usable records (hints count, V10). An address of either
    /// family ends the wait, and so do answers that are all in, negative or failed ones
    /// included (R7). An alternative that shares the origin's HTTPS answer (same host and
    /// port) adds no wait: its endpoints come from the origin's answers, which V5 waits for.
    #[inline]
    pub(crate) fn is_alt_awaited(&self) -> bool {
        // Inline for the usual race without alternatives; the walk stays out of line.
        !self.extra().alts.is_empty() && self.is_any_alt_awaited()
    }

    #[inline(never)]
    fn is_any_alt_awaited(&self) -> bool {
        self.extra().alts.iter().any(|a| self.is_awaited(a))
    }

    fn is_awaited(&self, alt: &Alt) -> bool {
        match alt.https {
            Https::Pending => return true,
            // Its endpoints come from the origin's answers, which V5 and HG9 wait for.
            Https::Shared => return false,
            Https::Off | Https::Settled => {}
        }
        if alt.services.is_empty() {
            // Without usable records the alternative races its own host's addresses.
            return alt.name.is_some_and(|n| self.is_unaddressed(n));
        }
        // Its records are held to its protocols already (`answer_alt_https`).
        let mut pending = false;
        for s in &alt.services {
            let answer = |v6: bool| s.name.and_then(|n| self.names.get(n)).map(|n| n.family(v6));
            let has = |v6: bool, hints: &[IpAddr]| match answer(v6) {
                Some(f) if f.state == State::Answered => !f.addrs.is_empty(),
                _ => !hints.is_empty(),
            };
            if has(true, &s.v6_hints) || has(false, &s.v4_hints) {
                return false;
            }
            pending |= s.name.is_some_and(|n| self.is_unaddressed(n));
        }
        pending
    }

    /// Whether `names[i]` has no address and a query for one is outstanding.
    fn is_unaddressed(&self, i: usize) -> bool {
        let Some(n) = self.names.get(i) else {
            return false;
        };
        let (v6, v4) = (&n.v6, &n.v4);
        v6.addrs.is_empty()
            && v4.addrs.is_empty()
            && (v6.state == State::Pending || v4.state == State::Pending)
    }

    /// Returns whether the host's own query for this family is outstanding.
    pub(crate) fn is_origin_pending(&self, v6: bool) -> bool {
        self.names
            .first()
            .is_some_and(|n| n.family(v6).state == State::Pending)
    }

    /// Records an address answer for `names[name]`: `kind` says which families it covers.
    /// Addresses of a family the query did not ask for are dropped.
    pub(crate) fn answer_addrs(&mut self, name: usize, kind: QueryKind, addrs: &[IpAddr]) {
        let port = self.port;
        let Some(entry) = self.names.get_mut(name) else {
            return;
        };
        for v6 in [true, false] {
            if !covers(kind, v6) {
                continue;
            }
            let family = entry.family_mut(v6);
            family.state = State::Answered;
            let kept = &mut family.addrs;
            kept.clear();
            kept.reserve(addrs.len());
            // A plain loop by family, not `filter`, `take` and `map`: through those adapters
            // each address was copied via the stack, about twice the instructions an address.
            for ip in addrs {
                if kept.len() == MAX_ANSWER_ADDRS {
                    break;
                }
                match *ip {
                    IpAddr::V6(a) if v6 => {
                        kept.push(SocketAddr::V6(SocketAddrV6::new(a, port, 0, 0)))
                    }
                    IpAddr::V4(a) if !v6 => kept.push(SocketAddr::V4(SocketAddrV4::new(a, port))),
                    _ => {}
                }
            }
        }
    }

    /// Records a failed address query: hints for the name stay in use (HG8).
    pub(crate) fn fail_addrs(&mut self, name: usize, kind: QueryKind) {
        let Some(entry) = self.names.get_mut(name) else {
            return;
        };
        for v6 in [true, false] {
            if covers(kind, v6) {
                entry.family_mut(v6).state = State::Failed;
            }
        }
    }

    /// Records a failed HTTPS query: service information is denied (V36 for DNS that is not
    /// protected: the race goes on with addresses; on protected DNS the race fails instead).
    pub(crate) fn fail_https(&mut self) {
        self.https = Https::Settled;
    }

    /// Records an HTTPS answer: follows an alias (V8, V9), or takes the usable ServiceMode
    /// records (V12, V38–V40). Returns the queries to send next.
    pub(crate) fn answer_https(
        &mut self,
        records: &[ServiceRecord],
        protocols: &Protocols,
        config: &Config,
        rng: &mut SplitMix64,
    ) -> Vec<Ask> {
        let ech = config.ech;
        let mut asks = Vec::new();
        if self.https != Https::Pending {
            return asks;
        }
        let records = &records[..records.len().min(MAX_ANSWER_RECORDS)];
        // RFC 9460 §2.4.1: with an AliasMode record in the set, ServiceMode ones are ignored.
        let aliases: Vec<&ServiceRecord> = records.iter().filter(|r| r.is_alias()).collect();
        if !aliases.is_empty() {
            let target = aliases[rng.below(aliases.len())].target();
            // V9: an alias to "." means "no service". V8: at the depth cap, or in a loop,
            // act as if there were no record.
            if target.is_root()
                || self.extra().chain.len() > config.max_alias_depth
                || self.extra().chain.contains(&target)
            {
                self.https = Https::Settled;
                return asks;
            }
            // V3: the hop's HTTPS query first, then the target's AAAA and A.
            self.extra_mut().chain.push(target.clone());
            asks.push(Ask {
                name: target.clone(),
                kind: QueryKind::Https,
                what: QueryFor::Https,
            });
            if let Some(i) = self.name_index(&target, &mut asks) {
                self.extra_mut().alias = Some(i);
            }
            return asks;
        }
        self.https = Https::Settled;
        let owner = self.extra().alias.unwrap_or(0);
        let all = Transports {
            tcp: true,
            quic: true,
        };
        let (port, limit) = (self.port, MAX_SERVICE_RECORDS);
        let mut services = core::mem::take(&mut self.extra_mut().services);
        let how = (Some(owner), port, all, limit);
        self.services_of(
            records,
            how,
            protocols,
            ech,
            rng,
            (&mut asks, &mut services),
        );
        services.sort_by_key(|s| s.rank);
        self.extra_mut().services = services;
        asks
    }

    /// The usable ServiceMode records of an answer as services (V12, V38–V40): the best
    /// `limit` by priority, TargetName `.` standing for the `owner` name, `port` the
    /// authority's, transports only those `allowed` (V41). Asks for new TargetNames'
    /// addresses (V10).
    fn services_of(
        &mut self,
        records: &[ServiceRecord],
        (owner, port, allowed, limit): (Option<usize>, u16, Transports, usize),
        protocols: &Protocols,
        ech: bool,
        rng: &mut SplitMix64,
        (asks, services): (&mut Vec<Ask>, &mut Vec<Service>),
    ) {
        let mut usable: Vec<(usize, &ServiceRecord, Transports)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.usable(protocols, ech).map(|t| (i, r, t)))
            .filter_map(|(i, r, t)| t.and(allowed).map(|t| (i, r, t)))
            .collect();
        // Keep the best `limit` by priority; ties keep the answer's order.
        usable.sort_by_key(|(i, r, _)| (r.priority(), *i));
        usable.truncate(limit);
        services.reserve(usable.len());
        for (i, record, transports) in usable {
            let target = record.target();
            let (name, effective) = if target.is_root() {
                let name = owner.map_or_else(Name::root, |o| self.names[o].name.clone());
                (owner, name)
            } else {
                (self.name_index(&target, asks), target)
            };
            let hints = |v6: bool| -> Vec<IpAddr> {
                if v6 {
                    let h = record.ipv6_hint_addrs().iter().take(MAX_HINTS);
                    h.map(|a| IpAddr::V6(*a)).collect()
                } else {
                    let h = record.ipv4_hint_addrs().iter().take(MAX_HINTS);
                    h.map(|a| IpAddr::V4(*a)).collect()
                }
            };
            services.push(Service {
                // V20: equal priorities are shuffled (the draw is made for every record, so
                // one record's order does not depend on another's priority).
                rank: (record.priority(), rng.next_u64(), i),
                name,
                target: effective,
                // V42: the port key, else the authority's.
                port: record.port_key().unwrap_or(port),
                transports,
                ech: if ech {
                    record.ech_config().cloned()
                } else {
                    None
                },
                v6_hints: hints(true),
                v4_hints: hints(false),
            });
        }
    }

    /// Adds the caller's alternative services (HEv3 V59, HG17; RFC 9460 §9.3), except
    /// expired ones and those whose protocols the caller does not speak; returns the queries
    /// to send: each new host's AAAA and A, and, when `https` is on, its HTTPS query (shared
    /// with the origin when the names are equal).
    pub(crate) fn add_alts(
        &mut self,
        alts: &[AltService],
        protocols: &Protocols,
        https: Option<&Name>,
        now: Instant,
    ) -> Vec<Ask> {
        let mut asks = Vec::new();
        let origin = self
            .names
            .first()
            .map_or_else(Name::root, |n| n.name.clone());
        let live = alts.iter().filter(|a| !a.is_expired(now));
        for alt in live.take(MAX_ALT_SERVICES) {
            let offers = |t: Transport| {
                let spoken = protocols.alpn(t);
                alt.alpn_ids().iter().any(|id| spoken.contains(id))
            };
            let transports = Transports {
                tcp: offers(Transport::Tcp),
                quic: offers(Transport::Quic),
            };
            if !transports.tcp && !transports.quic {
                continue;
            }
            let host = if alt.host().is_root() {
                origin.clone()
            } else {
                alt.host().clone()
            };
            let index = self.extra().alts.len();
            // V3: its HTTPS query first, then its host's AAAA and A.
            let state = match https {
                None => Https::Off,
                Some(origin_query) => {
                    let query = https_query_name(&host, alt.port());
                    if query == *origin_query {
                        Https::Shared
                    } else {
                        asks.push(Ask {
                            name: query,
                            kind: QueryKind::Https,
                            what: QueryFor::AltHttps { alt: index },
                        });
                        Https::Pending
                    }
                }
            };
            let name = self.name_index(&host, &mut asks);
            self.extra_mut().alts.push(Alt {
                host,
                name,
                port: alt.port(),
                transports,
                https: state,
                services: Vec::new(),
            });
        }
        asks
    }

    /// Records an alternative's HTTPS answer (RFC 9460 §9.3; `None`: it failed): its usable
    /// ServiceMode records, held to the alternative's protocols (V41). An alias is not
    /// followed: the alternative's own host and port are used. Returns the queries to send.
    pub(crate) fn answer_alt_https(
        &mut self,
        alt: usize,
        records: Option<&[ServiceRecord]>,
        protocols: &Protocols,
        ech: bool,
        rng: &mut SplitMix64,
    ) -> Vec<Ask> {
        let mut asks = Vec::new();
        let Some(a) = self.extra().alts.get(alt) else {
            return asks;
        };
        if a.https != Https::Pending {
            return asks;
        }
        let (owner, port, allowed) = (a.name, a.port, a.transports);
        let records = records.unwrap_or_default();
        let records = &records[..records.len().min(MAX_ANSWER_RECORDS)];
        let mut services = Vec::new();
        if !records.iter().any(ServiceRecord::is_alias) {
            let how = (owner, port, allowed, MAX_ALT_SERVICE_RECORDS);
            self.services_of(
                records,
                how,
                protocols,
                ech,
                rng,
                (&mut asks, &mut services),
            );
        }
        let a = &mut self.extra_mut().alts[alt];
        a.services = services;
        a.services.sort_by_key(|s| s.rank);
        a.https = Https::Settled;
        asks
    }

    /// Drops an alternative whose HTTPS query failed on protected DNS (V36, HG21): it
    /// gives no endpoint and holds nothing back.
    pub(crate) fn drop_alt(&mut self, alt: usize) {
        if let Some(a) = self.extra.as_mut().and_then(|e| e.alts.get_mut(alt)) {
            if a.https == Https::Pending {
                a.https = Https::Settled;
                a.services.clear();
                a.name = None;
            }
        }
    }

    /// Replaces the service information of a stale HTTPS answer by the fresh answer's (V13,
    /// HG18). Returns the queries to send next. Only ServiceMode answers are merged:
    /// when an alias was followed, or the fresh answer is one, the chain already moved on
    /// and the stale answer's service information stays.
    pub(crate) fn replace_https(
        &mut self,
        records: &[ServiceRecord],
        protocols: &Protocols,
        config: &Config,
        rng: &mut SplitMix64,
    ) -> Vec<Ask> {
        if self.extra().alias.is_some()
            || self.https != Https::Settled
            || records.iter().any(|r| r.is_alias())
        {
            return Vec::new();
        }
        if let Some(e) = &mut self.extra {
            e.services.clear();
        }
        self.https = Https::Pending;
        self.answer_https(records, protocols, config, rng)
    }

    /// Applies a change of the host's own addresses (R31–R33): `added` join the host's
    /// answers, `removed` leave every answer and hint.
    pub(crate) fn change(&mut self, added: &[IpAddr], removed: &[IpAddr]) {
        let port = self.port;
        if let Some(origin) = self.names.first_mut() {
            for ip in added.iter().take(MAX_ANSWER_ADDRS) {
                let family = origin.family_mut(ip.is_ipv6());
                let addr = SocketAddr::new(*ip, port);
                if family.addrs.len() < MAX_ANSWER_ADDRS && !family.addrs.contains(&addr) {
                    family.addrs.push(addr);
                }
            }
        }
        if removed.is_empty() {
            return;
        }
        let gone = |ip: &IpAddr| removed.contains(ip);
        for n in self.names.iter_mut() {
            n.v6.addrs.retain(|a| !gone(&a.ip()));
            n.v4.addrs.retain(|a| !gone(&a.ip()));
        }
        for s in self.extra.iter_mut().flat_map(|e| &mut e.services) {
            s.v6_hints.retain(|ip| !gone(ip));
            s.v4_hints.retain(|ip| !gone(ip));
        }
    }

    /// Returns the addresses of `service` in one family: its TargetName's answer once there
    /// is one (V43; an empty answer removes the hints, HG8), its hints until then (V10).
    pub(crate) fn service_addrs(&self, service: &Service, v6: bool) -> Vec<IpAddr> {
        if let Some(family) = service.name.map(|n| self.names[n].family(v6)) {
            if family.state == State::Answered {
                return family.addrs.iter().map(SocketAddr::ip).collect();
            }
        }
        if v6 {
            service.v6_hints.clone()
        } else {
            service.v4_hints.clone()
        }
    }

    /// Finds the name, or adds it and asks for its addresses; `None` past the cap.
    fn name_index(&mut self, name: &Name, asks: &mut Vec<Ask>) -> Option<usize> {
        if let Some(i) = self.names.iter().position(|n| n.name == *name) {
            return Some(i);
        }
        if self.names.len() > MAX_TARGET_NAMES {
            return None;
        }
        self.names.push(NameAnswers {
            name: name.clone(),
            v6: unasked(),
            v4: unasked(),
        });
        let i = self.names.len() - 1;
        self.ask_addrs(i, asks);
        Some(i)
    }

    /// Asks for the addresses of `names[i]`: the preferred family first (R1), or one
    /// combined query.
    fn ask_addrs(&mut self, i: usize, asks: &mut Vec<Ask>) {
        let name = self.names[i].name.clone();
        let want_v6 = self.policy.allows(true);
        let want_v4 = self.policy.allows(false) || self.want_a;
        let mut ask = |r: &mut Resolution, kind: QueryKind| {
            for v6 in [true, false] {
                if covers(kind, v6) {
                    r.names[i].family_mut(v6).state = State::Pending;
                }
            }
            asks.push(Ask {
                name: name.clone(),
                kind,
                what: QueryFor::Addrs { name: i },
            });
        };
        if self.combined {
            ask(self, QueryKind::Both);
            return;
        }
        let order = if self.policy.prefers_v6() {
            [(want_v6, QueryKind::Aaaa), (want_v4, QueryKind::A)]
        } else {
            [(want_v4, QueryKind::A), (want_v6, QueryKind::Aaaa)]
        };
        for (want, kind) in order {
            if want {
                ask(self, kind);
            }
        }
    }
}

fn unasked() -> Family {
    Family {
        state: State::Unasked,
        addrs: empty_addrs(),
    }
}

/// No addresses (a placeholder fills the inline slots).
fn empty_addrs() -> SmallBuf<SocketAddr, 2> {
    SmallBuf::new(SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// The HTTPS query name of `host` at `port` (RFC 9460 §9.1, V2).
pub(crate) fn https_query_name(host: &Name, port: u16) -> Name {
    if port == 443 {
        host.clone()
    } else {
        Name::new(&format!("_{port}._https.{host}"))
    }
}

/// Returns whether an answer of `kind` covers the family.
fn covers(kind: QueryKind, v6: bool) -> bool {
    match kind {
        QueryKind::Aaaa => v6,
        QueryKind::A => !v6,
        QueryKind::Both => true,
        _ => false,
    }
}
