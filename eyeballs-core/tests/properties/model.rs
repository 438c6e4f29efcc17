//! The reference model of `matches_the_reference_model`: a world (configuration, target,
//! DNS, network) and an event-driven walk of the rules in the requirements page (eyeballs-core/docs/requirements.md) and RFC 8305 that
//! predicts every start, the winner and the failure. It is written from the rules, not from
//! the core's code; where the rules leave a choice open, the model says so and the property
//! leaves the case aside.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eyeballs_core::{
    AltService, Config, DelaySchedule, FamilyPolicy, Protocols, ServiceRecord, Target, Transport,
};

use crate::common::sim::{ms, Answer, Outcome, Scenario, HOST};

/// The reference order within one family, written independently of the core from RFC 6724:
/// higher precedence first (rule 6), then smaller scope (rule 8), then the given order;
/// duplicates once.
pub(crate) fn reference_sort(addrs: &[IpAddr]) -> Vec<IpAddr> {
    let key = |ip: &IpAddr| -> (i32, i32) {
        let s = ip.to_string();
        let precedence = match s.as_str() {
            "::1" => 50,
            _ if ip.is_ipv4() => 35,
            _ if s.starts_with("2002:") => 30,
            _ if s.starts_with("fc00:") => 3,
            _ => 40,
        };
        let link_local = s.starts_with("fe80:")
            || s.starts_with("169.254.")
            || s.starts_with("127.")
            || s == "::1";
        (-precedence, if link_local { 2 } else { 14 })
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out.sort_by_key(key);
    out
}

// ---------------------------------------------------------------------------------------
// The world a reference-model case runs in.
// ---------------------------------------------------------------------------------------

/// What one address query answers, `after` its query was sent.
#[derive(Debug, Clone)]
pub(crate) enum Dns {
    Addrs(Duration, Vec<IpAddr>),
    /// An expired answer from a cache after the first delay (V13, HG18), then the fresh
    /// one after the second (both from the query).
    Stale(Duration, Vec<IpAddr>, Duration, Vec<IpAddr>),
    Fail(Duration),
    Never,
}

/// A ServiceMode record, in the model's own terms.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub(crate) priority: u16,
    pub(crate) target: &'static str,
    pub(crate) alpn: Vec<&'static str>,
    pub(crate) no_default_alpn: bool,
    pub(crate) port: Option<u16>,
    pub(crate) hints: [Vec<IpAddr>; 2],
    pub(crate) mandatory: Option<u16>,
}

#[derive(Debug, Clone)]
pub(crate) enum Https {
    Records(Duration, Vec<Rec>),
    Fail(Duration),
    Never,
}

/// The caller's protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// `Protocols::new()`: plain TCP, no ALPN.
    Plain,
    /// `Protocols::http()`: h3 over QUIC, h2 and http/1.1 over TCP.
    Http,
    /// h2 over TCP only.
    H2,
    /// h3 over QUIC only.
    H3,
}

impl Caller {
    pub(crate) fn protocols(self) -> Protocols {
        match self {
            Caller::Plain => Protocols::new(),
            Caller::Http => Protocols::http(),
            Caller::H2 => Protocols::new().tcp("h2"),
            Caller::H3 => Protocols::new().quic("h3"),
        }
    }

    /// The ALPN ids spoken over `transport`.
    pub(crate) fn ids(self, transport: Transport) -> &'static [&'static str] {
        match (self, transport) {
            (Caller::Http, Transport::Quic) | (Caller::H3, Transport::Quic) => &["h3"],
            (Caller::Http, Transport::Tcp) => &["h2", "http/1.1"],
            (Caller::H2, Transport::Tcp) => &["h2"],
            _ => &[],
        }
    }

    /// HEv3 V21/V11: plain addresses go over TCP when the caller speaks TCP, else QUIC.
    pub(crate) fn fallback(self) -> Transport {
        if self == Caller::H3 {
            Transport::Quic
        } else {
            Transport::Tcp
        }
    }
}

/// One random case: the configuration, the target, DNS and the network.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) policy: FamilyPolicy,
    pub(crate) count: usize,
    /// The configured Connection Attempt Delay (clamped by the race).
    pub(crate) delay: Duration,
    pub(crate) resolution_delay: Duration,
    pub(crate) cap: Option<usize>,
    pub(crate) prefer_tcp: bool,
    /// `Config::tcp_after_quic_delay` (clamped by the race, V29).
    pub(crate) follow_up: Duration,
    /// `DelaySchedule::Multiplier { base, factor }`, or the fixed delay.
    pub(crate) multiplier: Option<(Duration, u32)>,
    /// `Alt-Svc: h3=":PORT"` (the origin's host and port), with an HTTPS query (V59).
    pub(crate) alt: bool,
    pub(crate) caller: Caller,
    pub(crate) port: u16,
    /// `Some`: a literal target (these addresses, port 443), no DNS.
    pub(crate) literals: Option<Vec<IpAddr>>,
    /// `Some`: the target asks for HTTPS records.
    pub(crate) https: Option<Https>,
    /// The host's AAAA and A answers.
    pub(crate) host: [Dns; 2],
    /// The AAAA and A answers of each other TargetName, after they are asked.
    pub(crate) names: BTreeMap<&'static str, [Dns; 2]>,
    /// Outcomes of (address, port, transport); anything else hangs.
    pub(crate) net: BTreeMap<(SocketAddr, Transport), Outcome>,
}

/// Family indexes: 0 is IPv6, 1 is IPv4.
pub(crate) fn fam(a: IpAddr) -> usize {
    usize::from(a.is_ipv4())
}

impl World {
    pub(crate) fn allows(&self, f: usize) -> bool {
        match self.policy {
            FamilyPolicy::V6Only => f == 0,
            FamilyPolicy::V4Only => f == 1,
            _ => true,
        }
    }

    pub(crate) fn preferred(&self) -> usize {
        match self.policy {
            FamilyPolicy::PreferV4 | FamilyPolicy::V4Only => 1,
            _ => 0,
        }
    }

    /// The delay the race uses: clamped to [10 ms, 2 s] as `Config` documents.
    pub(crate) fn effective_delay(&self) -> Duration {
        self.delay.clamp(ms(10), ms(2000))
    }

    /// The delay after the `n`-th start (from 1): the fixed one, or the multiplier's
    /// `base × factor^(n−1)` (HG16), within [10 ms, 2 s] (HG13).
    pub(crate) fn delay_after(&self, n: usize) -> Duration {
        match self.multiplier {
            Some((base, factor)) => crate::common::checker::multiplied(base, factor, ms(2000), n),
            None => self.effective_delay(),
        }
    }

    /// How long TCP waits after QUIC to the same address, as the race clamps it.
    pub(crate) fn effective_follow_up(&self) -> Duration {
        self.follow_up.clamp(ms(10), ms(2000))
    }

    pub(crate) fn config(&self) -> Config {
        Config::default()
            .family_policy(self.policy)
            .first_address_family_count(self.count)
            .connection_attempt_delay(self.delay)
            .resolution_delay(self.resolution_delay)
            .max_attempts_in_flight(self.cap)
            .prefer_tcp(self.prefer_tcp)
            .tcp_after_quic_delay(self.follow_up)
            .delay_schedule(match self.multiplier {
                Some((base, factor)) => DelaySchedule::Multiplier { base, factor },
                None => DelaySchedule::Fixed,
            })
    }

    pub(crate) fn https_name(&self) -> String {
        if self.port == 443 {
            HOST.to_string()
        } else {
            format!("_{}._https.{HOST}", self.port)
        }
    }

    /// The simulator scenario for this world.
    pub(crate) fn scenario(&self) -> Scenario {
        let mut s = match &self.literals {
            Some(l) => {
                let mut s = Scenario::with_target(
                    self.config(),
                    Target::addrs(l.iter().map(|a| SocketAddr::new(*a, 443)))
                        .protocols(self.caller.protocols()),
                );
                s.literals = l.clone();
                s
            }
            None => {
                let mut target = Target::host(HOST, self.port)
                    .https(self.https.is_some())
                    .protocols(self.caller.protocols());
                if self.alt {
                    target = target.alt_svc(AltService::new("", self.port).alpn(["h3"]));
                }
                Scenario::with_target(self.config(), target)
            }
        };
        let answer = |d: &Dns| match d {
            Dns::Addrs(t, a) => Answer::Addrs(*t, a.clone()),
            Dns::Stale(t1, a1, t2, a2) => Answer::Stale(
                Box::new(Answer::Addrs(*t1, a1.clone())),
                Box::new(Answer::Addrs(*t2, a2.clone())),
            ),
            Dns::Fail(t) => Answer::Fail(*t),
            Dns::Never => Answer::Never,
        };
        let names = self.names.iter().map(|(n, d)| (*n, d));
        for (name, [aaaa, a]) in std::iter::once((HOST, &self.host)).chain(names) {
            s = s
                .dns_for(name, "AAAA", answer(aaaa))
                .dns_for(name, "A", answer(a));
        }
        if let Some(h) = &self.https {
            let h = match h {
                Https::Records(t, r) => Answer::Records(*t, r.iter().map(Rec::record).collect()),
                Https::Fail(t) => Answer::Fail(*t),
                Https::Never => Answer::Never,
            };
            s = s.dns_for(&self.https_name(), "HTTPS", h);
        }
        s.net = self.net.clone();
        s.expected_delay = Some(self.effective_delay());
        s.expected_follow_up = self.effective_follow_up();
        s.expected_multiplier = self.multiplier.map(|(b, f)| (b, f, ms(2000)));
        s
    }
}

impl Rec {
    pub(crate) fn record(&self) -> ServiceRecord {
        let mut r = ServiceRecord::new(self.priority, self.target)
            .alpn(self.alpn.iter().copied())
            .no_default_alpn(self.no_default_alpn)
            .ipv6_hints(self.hints[0].iter().filter_map(|a| match a {
                IpAddr::V6(v6) => Some(*v6),
                IpAddr::V4(_) => None,
            }))
            .ipv4_hints(self.hints[1].iter().filter_map(|a| match a {
                IpAddr::V4(v4) => Some(*v4),
                IpAddr::V6(_) => None,
            }));
        if let Some(port) = self.port {
            r = r.port(port);
        }
        if let Some(key) = self.mandatory {
            r = r.mandatory([key]);
        }
        r
    }

    /// RFC 9460 §8 and §7.1 (V12, V38–V40), as the requirements page (eyeballs-core/docs/requirements.md) states them: the transports the
    /// caller can use this record over, or `None` when the record is unusable.
    pub(crate) fn transports(&self, caller: Caller) -> Option<[bool; 2]> {
        // Keys 1..=6 are understood, but `ech` (5) only with ECH on, which is off here.
        let understood = self
            .mandatory
            .is_none_or(|k| (1..=6).contains(&k) && k != 5);
        if !understood || (self.no_default_alpn && self.alpn.is_empty()) || self.port == Some(0) {
            return None;
        }
        let offers =
            |id: &&str| self.alpn.contains(id) || (!self.no_default_alpn && *id == "http/1.1");
        let over = |t| caller.ids(t).iter().any(offers);
        let t = [over(Transport::Quic), over(Transport::Tcp)];
        (t[0] || t[1]).then_some(t)
    }
}

// ---------------------------------------------------------------------------------------
// The reference model.
// ---------------------------------------------------------------------------------------

/// An endpoint as the model sees it: where to, and over what.
pub(crate) type Ep = (SocketAddr, Transport);

/// What a query has said so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum St {
    Pending,
    Addrs(Vec<IpAddr>),
    /// An expired answer from a cache: used as an answer, the query still open (HG18).
    Stale(Vec<IpAddr>),
    Failed,
}

/// A usable service, from a record.
#[derive(Debug, Clone)]
pub(crate) struct Svc {
    pub(crate) priority: u16,
    pub(crate) name: &'static str,
    pub(crate) port: u16,
    /// `[QUIC, TCP]`.
    pub(crate) transports: [bool; 2],
    pub(crate) hints: [Vec<IpAddr>; 2],
}

/// The groups of HEv3 §5.2 in the order they are tried: services by priority, then the
/// plain addresses (V21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Group {
    Service(u16),
    /// The alternative service `h3=":PORT"` (HG17: after the records' groups).
    Alt,
    Address,
}

/// How far one group's dealing has got (HG1, RFC 8305 R17/R18): turns taken, the
/// family of the last turn, and the address of a turn still under way.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Deal {
    pub(crate) turns: usize,
    pub(crate) last: Option<usize>,
    /// (family, address) of the turn under way: its other transport is still to come.
    pub(crate) turn: Option<(usize, SocketAddr)>,
    /// An opening turn went to the other family because the opening one had nothing.
    pub(crate) fell_back: bool,
    /// The opening family, chosen at the group's first pick (RFC 8305 §4 interleaves the
    /// sorted list from its first address's family, then takes `count` of that family).
    pub(crate) opening: Option<usize>,
}

/// One group's untried endpoints: `[family][transport slot]`, each sorted.
pub(crate) type Queues = [[Vec<Ep>; 2]; 2];

/// Each address's place in its family's RFC 6724 order, within one group.
pub(crate) type Ranks = BTreeMap<SocketAddr, usize>;

/// RFC 6724 across families, for this pool and the simulated host's sources (a global
/// source of label 1 for global IPv6 destinations, loopback and link-local sources for
/// those): (the source's label differs, rule 5; lower precedence, rule 6). Rules 1–4, 7 and
/// 8 do not tell this pool's families apart.
pub(crate) fn cross_rank(ip: IpAddr) -> (bool, i32) {
    let s = ip.to_string();
    let (label, source_label, precedence) = match s.as_str() {
        "::1" => (0, 0, 50),
        _ if ip.is_ipv4() => (4, 4, 35),
        _ if s.starts_with("2002:") => (2, 1, 30),
        _ if s.starts_with("fc00:") => (13, 1, 3),
        _ => (1, 1, 40),
    };
    (label != source_label, -precedence)
}

impl Deal {
    /// The next endpoint of a group, and the dealing state after it. A turn deals one
    /// address of a family (its next in RFC 6724 order with anything untried) over each of
    /// its transports, in slot order; the opening family gets the first `count` turns, then
    /// the families alternate; a family with nothing left gives its turn to the other.
    ///
    /// The third value says the pick is one the rules leave open: an opening turn went to
    /// the other family (the opening one had nothing yet), and now, with opening turns
    /// left, the opening family has endpoints. The model gives it the remaining opening
    /// turns (V45: the late family's endpoint is next); the core gives the family that went
    /// first `count` turns. Only `count` > 1 can tell the two apart.
    pub(crate) fn next(
        self,
        q: &Queues,
        ranks: &Ranks,
        opening: usize,
        count: usize,
    ) -> Option<(Ep, Deal, bool)> {
        // The slot of `addr`'s endpoint at or after `from`, in family `f`.
        let slot_of = |f: usize, addr: SocketAddr, from: usize| {
            (from..2).find(|&s| q[f][s].iter().any(|e| e.0 == addr))
        };
        let pick = |f: usize, addr: SocketAddr, s: usize| {
            q[f][s].iter().copied().find(|e| e.0 == addr).map(|e| {
                // Another transport of this address still to come keeps the turn open.
                let more = slot_of(f, addr, s + 1).is_some();
                (e, more.then_some((f, addr)))
            })
        };
        if let Some((f, addr)) = self.turn {
            if let Some(s) = slot_of(f, addr, 0) {
                let (ep, turn) = pick(f, addr, s)?;
                return Some((ep, Deal { turn, ..self }, false));
            }
        }
        let opening = self.opening.unwrap_or(opening);
        let opening_turn = self.last.is_none() || self.turns < count;
        let want = match self.last {
            Some(last) if !opening_turn => 1 - last,
            _ => opening,
        };
        for f in [want, 1 - want] {
            // The family's next address: the earlier of the heads in RFC 6724 order.
            let heads = (0..2).filter_map(|s| q[f][s].first().map(|e| e.0));
            let Some(addr) = heads.min_by_key(|a| ranks.get(a).copied().unwrap_or(usize::MAX))
            else {
                continue;
            };
            let s = slot_of(f, addr, 0)?;
            let (ep, turn) = pick(f, addr, s)?;
            let deal = Deal {
                turns: self.turns + 1,
                last: Some(f),
                turn,
                fell_back: self.fell_back || (opening_turn && f != opening),
                opening: Some(opening),
            };
            let open = opening_turn && self.fell_back && f == opening;
            return Some((ep, deal, open));
        }
        None
    }
}

/// How the model's race ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    Won(Duration, Ep),
    Failed(Duration),
    /// Nothing left to happen: something hangs, no deadline.
    Stalled,
}

#[derive(Debug)]
pub(crate) enum Io {
    /// The answer to (name, family).
    Dns(&'static str, usize, St),
    Https(Option<Vec<Rec>>),
    /// Attempt `n` connected (`true`) or failed.
    Attempt(usize, bool),
}

/// The reference model: an event-driven walk of the rules in the requirements page (eyeballs-core/docs/requirements.md) (and RFC 8305
/// §3, §5), rebuilding the list of endpoints from what DNS has said at every step.
pub(crate) struct Model<'w> {
    pub(crate) w: &'w World,
    pub(crate) now: Duration,
    pub(crate) io: BTreeMap<(Duration, u64), Io>,
    pub(crate) seq: u64,
    /// (name, family) → what its address query said. Absent: never asked.
    pub(crate) dns: BTreeMap<(&'static str, usize), St>,
    /// `None`: no HTTPS query; `Some(None)`: pending; `Some(Some(services))`: settled.
    pub(crate) https: Option<Option<Vec<Svc>>>,
    /// (start, endpoint, ended).
    pub(crate) attempts: Vec<(Duration, Ep, bool)>,
    /// The next start is due at (`None`: never).
    pub(crate) due: Option<Duration>,
    /// After a QUIC start: when TCP to its address may follow, and that address (V29).
    pub(crate) follow_up: Option<(Duration, SocketAddr)>,
    pub(crate) started: bool,
    /// The Resolution Delay: armed once (`Some`), and when it ends (`None`: never).
    pub(crate) resolution_deadline: Option<Option<Duration>>,
    pub(crate) resolution_over: bool,
    pub(crate) deals: BTreeMap<Group, Deal>,
    /// The times of every I/O completion handled (ties between them are left aside).
    pub(crate) io_times: Vec<Duration>,
    /// A pick the rules leave open was made (see [`Deal::next`]).
    /// Also when such a pick is only looked at: the next pick decides TCP's shorter delay
    /// after QUIC (V29), so its timing depends on it too.
    pub(crate) open_question: std::cell::Cell<bool>,
    pub(crate) end: Option<End>,
}

impl<'w> Model<'w> {
    pub(crate) fn run(w: &'w World) -> Model<'w> {
        let mut m = Model {
            w,
            now: Duration::ZERO,
            io: BTreeMap::new(),
            seq: 0,
            dns: BTreeMap::new(),
            https: None,
            attempts: Vec::new(),
            due: Some(Duration::ZERO),
            follow_up: None,
            started: false,
            resolution_deadline: None,
            resolution_over: false,
            deals: BTreeMap::new(),
            io_times: Vec::new(),
            open_question: std::cell::Cell::new(false),
            end: None,
        };
        if w.literals.is_none() {
            for f in (0..2).filter(|&f| w.allows(f)) {
                m.ask(HOST, f, &w.host[f]);
            }
            if let Some(h) = &w.https {
                m.https = Some(None);
                match h {
                    Https::Records(t, r) => m.schedule(*t, Io::Https(Some(r.clone()))),
                    Https::Fail(t) => m.schedule(*t, Io::Https(None)),
                    Https::Never => {}
                }
            }
        }
        m.settle();
        for _ in 0..10_000 {
            if m.end.is_some() {
                return m;
            }
            let io = m.io.keys().next().copied();
            match (io, m.timer()) {
                // I/O before timers at the same instant.
                (Some((t, key)), timer) if timer.is_none_or(|d| t <= d) => {
                    let Some(io) = m.io.remove(&(t, key)) else {
                        unreachable!("the key was just read")
                    };
                    m.now = t;
                    m.io_times.push(t);
                    m.handle(io);
                }
                (_, Some(t)) => m.now = t,
                (Some(_), None) => unreachable!("the first arm takes I/O when there is no timer"),
                (None, None) => {
                    m.end = Some(End::Stalled);
                    return m;
                }
            }
            m.settle();
        }
        panic!("the model did not finish in 10,000 steps");
    }

    pub(crate) fn schedule(&mut self, after: Duration, io: Io) {
        self.io.insert((self.now + after, self.seq), io);
        self.seq += 1;
    }

    pub(crate) fn ask(&mut self, name: &'static str, f: usize, answer: &Dns) {
        self.dns.insert((name, f), St::Pending);
        match answer {
            Dns::Addrs(t, a) => self.schedule(*t, Io::Dns(name, f, St::Addrs(a.clone()))),
            Dns::Stale(t1, a1, t2, a2) => {
                self.schedule(*t1, Io::Dns(name, f, St::Stale(a1.clone())));
                self.schedule(*t2, Io::Dns(name, f, St::Addrs(a2.clone())));
            }
            Dns::Fail(t) => self.schedule(*t, Io::Dns(name, f, St::Failed)),
            Dns::Never => {}
        }
    }

    pub(crate) fn handle(&mut self, io: Io) {
        match io {
            Io::Dns(name, f, st) => {
                // Addresses of the other family are dropped from an answer.
                let st = match st {
                    St::Addrs(a) => St::Addrs(a.into_iter().filter(|a| fam(*a) == f).collect()),
                    St::Stale(a) => St::Stale(a.into_iter().filter(|a| fam(*a) == f).collect()),
                    st => st,
                };
                self.dns.insert((name, f), st);
            }
            Io::Https(None) => self.https = Some(Some(Vec::new())),
            Io::Https(Some(records)) => {
                let mut services: Vec<Svc> = records
                    .iter()
                    .filter_map(|r| {
                        let transports = r.transports(self.w.caller)?;
                        let name = if r.target == "." { HOST } else { r.target };
                        Some(Svc {
                            priority: r.priority,
                            name,
                            port: r.port.unwrap_or(self.w.port),
                            transports,
                            hints: r.hints.clone(),
                        })
                    })
                    .collect();
                services.sort_by_key(|s| s.priority);
                // V10: AAAA and A for every TargetName other than the host, once each.
                for s in services.iter().filter(|s| s.name != HOST) {
                    for f in (0..2).filter(|&f| self.w.allows(f)) {
                        if !self.dns.contains_key(&(s.name, f)) {
                            let answer = self.w.names[s.name][f].clone();
                            self.ask(s.name, f, &answer);
                        }
                    }
                }
                self.https = Some(Some(services));
            }
            Io::Attempt(n, true) => {
                self.end = Some(End::Won(self.now, self.attempts[n].1));
            }
            Io::Attempt(n, false) => {
                self.attempts[n].2 = true;
                // G1: a failure starts the next attempt at once, 10 ms after the last start
                // at the earliest (R28).
                let last = self.attempts.last().map_or(Duration::ZERO, |a| a.0);
                let soon = self.now.max(last + ms(10));
                self.due = Some(self.due.map_or(soon, |d| d.min(soon)));
            }
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.attempts.iter().filter(|a| !a.2).count()
    }

    pub(crate) fn dns_pending(&self) -> bool {
        // HG18: a query answered from the cache is still open.
        let open = |s: &St| matches!(s, St::Pending | St::Stale(_));
        self.dns.values().any(open) || self.https_pending()
    }

    pub(crate) fn https_pending(&self) -> bool {
        matches!(self.https, Some(None))
    }

    pub(crate) fn services(&self) -> &[Svc] {
        match &self.https {
            Some(Some(s)) => s,
            _ => &[],
        }
    }

    /// The positive answer of (name, family), if any.
    pub(crate) fn answer(&self, name: &'static str, f: usize) -> Option<&[IpAddr]> {
        match self.dns.get(&(name, f)) {
            Some(St::Addrs(a) | St::Stale(a)) => Some(a),
            _ => None,
        }
    }

    /// Every group's endpoints from what is known now, deduplicated across groups (HG11:
    /// the earliest group keeps an endpoint), each `[family][slot]` sorted by RFC 6724;
    /// `untried` drops what has been started.
    pub(crate) fn groups(&self, untried: bool) -> Vec<(Group, Queues, Ranks)> {
        let order = if self.w.prefer_tcp {
            [Transport::Tcp, Transport::Quic]
        } else {
            [Transport::Quic, Transport::Tcp]
        };
        // (group, addresses by family, port, whether each transport slot is used)
        type Raw = (Group, [Vec<IpAddr>; 2], u16, [bool; 2]);
        let mut groups: Vec<Raw> = Vec::new();
        for s in self.services() {
            let addrs = [0, 1].map(|f| {
                if !self.w.allows(f) {
                    return Vec::new();
                }
                // V10, V43, HG8: the hints until the TargetName's answer of that family;
                // a positive or empty answer replaces them, a failure keeps them.
                match self.dns.get(&(s.name, f)) {
                    Some(St::Addrs(a) | St::Stale(a)) => a.clone(),
                    _ => s.hints[f]
                        .iter()
                        .copied()
                        .filter(|a| fam(*a) == f)
                        .collect(),
                }
            });
            // `[QUIC, TCP]` in dealing order.
            let by_slot = order.map(|t| s.transports[usize::from(t == Transport::Tcp)]);
            groups.push((Group::Service(s.priority), addrs, s.port, by_slot));
        }
        let plain = [0, 1].map(|f| match &self.w.literals {
            Some(l) => l
                .iter()
                .copied()
                .filter(|a| fam(*a) == f && self.w.allows(f))
                .collect(),
            None => self
                .answer(HOST, f)
                .map(<[IpAddr]>::to_vec)
                .unwrap_or_default(),
        });
        let fallback = order.map(|t| t == self.w.caller.fallback());
        // V59, V41, HG17: the alternative `h3` at the origin's authority shares its HTTPS
        // answer: with usable records, its endpoints are theirs over QUIC (already in their
        // groups: HG11); without, the host's addresses over QUIC. Not before the answer.
        let settled = matches!(self.https, Some(Some(_)));
        if self.w.alt && settled && self.services().is_empty() {
            let quic = order.map(|t| t == Transport::Quic);
            groups.push((Group::Alt, plain.clone(), self.w.port, quic));
        }
        groups.push((Group::Address, plain, self.w.port_of_plain(), fallback));

        let tried: BTreeSet<Ep> = self.attempts.iter().map(|a| a.1).collect();
        let mut seen: BTreeSet<Ep> = BTreeSet::new();
        groups
            .into_iter()
            .map(|(g, addrs, port, slots)| {
                let mut ranks = Ranks::new();
                for f in [0, 1] {
                    for (i, a) in reference_sort(&addrs[f]).into_iter().enumerate() {
                        ranks.insert(SocketAddr::new(a, port), i);
                    }
                }
                let queues = [0, 1].map(|f| {
                    let sorted = reference_sort(&addrs[f]);
                    [0, 1].map(|slot| {
                        if !slots[slot] {
                            return Vec::new();
                        }
                        sorted
                            .iter()
                            .map(|a| (SocketAddr::new(*a, port), order[slot]))
                            .filter(|ep| seen.insert(*ep))
                            .collect::<Vec<_>>()
                    })
                });
                let queues = queues.map(|slots| {
                    slots.map(|q| {
                        q.into_iter()
                            .filter(|ep| !untried || !tried.contains(ep))
                            .collect()
                    })
                });
                (g, queues, ranks)
            })
            .collect()
    }

    /// The next endpoint to start, its group, and the group's dealing after it (V28: a
    /// group is used up before the next one starts).
    pub(crate) fn next_pick(&self) -> Option<(Ep, Group, Deal, bool)> {
        self.groups(true).iter().find_map(|(g, q, ranks)| {
            let deal = self.deals.get(g).copied().unwrap_or_default();
            // With IPv6 preferred, the group opens with the family whose best address
            // RFC 6724 ranks first (across families); IPv4 when the caller prefers it.
            let best = |f: usize| {
                q[f].iter()
                    .flatten()
                    .min_by_key(|e| ranks.get(&e.0).copied().unwrap_or(usize::MAX))
                    .map(|e| cross_rank(e.0.ip()))
            };
            let opening = match (self.w.preferred(), best(0), best(1)) {
                (0, Some(v6), Some(v4)) if v4 < v6 => 1,
                (p, _, _) => p,
            };
            deal.next(q, ranks, opening, self.w.count)
                .map(|(ep, d, open)| (ep, *g, d, open))
        })
    }

    /// HEv3 V6: IPv6 is the preferred family only with a good route; when every IPv6
    /// endpoint's route is poor (a label that differs from its source's: fc00::/7, 2002::/16
    /// here), IPv4 takes its place.
    pub(crate) fn awaited(&self, groups: &[(Group, Queues, Ranks)]) -> usize {
        let pref = self.w.preferred();
        let mut v6 = groups
            .iter()
            .flat_map(|(_, q, _)| q[0].iter().flatten())
            .peekable();
        let poor = v6.peek().is_some() && v6.all(|e| cross_rank(e.0.ip()).0);
        if pref == 0 && poor && self.w.allows(1) {
            1
        } else {
            pref
        }
    }

    /// V5, R4–R7, HG9: whether the first attempt may start without waiting for the
    /// Resolution Delay. HG19 adds nothing here: the model's alternative shares the
    /// origin's host, port and HTTPS query, and such an alternative adds no wait (one on a
    /// host of its own is checked by `hev3_5_sorting.rs`'s `hg19_*` timelines).
    pub(crate) fn ready(&self) -> bool {
        let groups = self.groups(false);
        let pref = self.awaited(&groups);
        let settled = !self.https_pending();
        let preferred_known = groups
            .iter()
            .any(|(_, q, _)| q[pref].iter().any(|s| !s.is_empty()))
            || self.dns.get(&(HOST, pref)) != Some(&St::Pending);
        let service_endpoint = self.services().is_empty()
            || groups.iter().any(|(g, q, _)| {
                matches!(g, Group::Service(_)) && q.iter().flatten().any(|s| !s.is_empty())
            });
        // With no query outstanding, nothing waited for can still come.
        (settled && preferred_known && service_endpoint) || !self.dns_pending()
    }

    pub(crate) fn any_endpoint(&self) -> bool {
        self.groups(false)
            .iter()
            .any(|(_, q, _)| q.iter().flatten().any(|s| !s.is_empty()))
    }

    /// Starts whatever may start now, arms the Resolution Delay, or ends the race.
    pub(crate) fn settle(&mut self) {
        while self.end.is_none() {
            if !self.started {
                if let Some(deadline) = self.resolution_deadline {
                    self.resolution_over |= deadline.is_some_and(|d| d <= self.now);
                }
                let held = self.any_endpoint();
                if held && (self.resolution_over || self.ready()) {
                    self.started = true;
                    continue;
                }
                if held && self.resolution_deadline.is_none() {
                    // HG7: armed the first time endpoints are held, once.
                    self.resolution_deadline = Some(self.now.checked_add(self.w.resolution_delay));
                    continue;
                }
            } else if self.next_due().is_some_and(|d| d <= self.now)
                && self.w.cap.is_none_or(|c| self.in_flight() < c)
            {
                if let Some((ep, g, deal, open)) = self.next_pick() {
                    self.open_question.set(self.open_question.get() | open);
                    self.start(ep, g, deal);
                    continue;
                }
            }
            // G3, HG12: the race fails only once nothing is in flight, left, or asked.
            if self.in_flight() == 0 && !self.dns_pending() && self.next_pick().is_none() {
                self.end = Some(End::Failed(self.now));
            }
            return;
        }
    }

    pub(crate) fn start(&mut self, ep: Ep, g: Group, deal: Deal) {
        let n = self.attempts.len();
        self.attempts.push((self.now, ep, false));
        self.deals.insert(g, deal);
        self.due = self.now.checked_add(self.w.delay_after(n + 1));
        // V29: TCP to this address, when it is the next endpoint, follows sooner.
        self.follow_up =
            (ep.1 == Transport::Quic).then(|| (self.now + self.w.effective_follow_up(), ep.0));
        match self.w.net.get(&ep).copied().unwrap_or(Outcome::Hang) {
            Outcome::Connect(d) => self.schedule(d, Io::Attempt(n, true)),
            Outcome::Fail(d) => self.schedule(d, Io::Attempt(n, false)),
            // V54 with ECH off (RFC 9849 §6.2): an endpoint that offered no ECH config is
            // never retried, so a rejection is a failure.
            Outcome::RejectEch(d, _) => self.schedule(d, Io::Attempt(n, false)),
            Outcome::Hang => {}
        }
    }

    /// When the next start is due: the delay's end, or sooner for TCP right after QUIC to
    /// the same address while that is the next pick.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        let pick = self.follow_up.and(self.next_pick());
        if let Some((.., open)) = pick {
            self.open_question.set(self.open_question.get() | open);
        }
        match (self.follow_up, pick) {
            (Some((at, addr)), Some((ep, ..))) if ep == (addr, Transport::Tcp) => {
                Some(self.due.map_or(at, |d| d.min(at)))
            }
            _ => self.due,
        }
    }

    /// When the model must look again without I/O: the end of the Resolution Delay, or the
    /// next start when something could start then.
    pub(crate) fn timer(&self) -> Option<Duration> {
        if !self.started {
            return self
                .resolution_deadline
                .flatten()
                .filter(|_| !self.resolution_over);
        }
        let free = self.w.cap.is_none_or(|c| self.in_flight() < c);
        self.next_due()
            .filter(|_| free && self.next_pick().is_some())
    }
}

impl World {
    pub(crate) fn port_of_plain(&self) -> u16 {
        if self.literals.is_some() {
            443
        } else {
            self.port
        }
    }
}
