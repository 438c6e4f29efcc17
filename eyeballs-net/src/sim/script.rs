//! A checked [`Network`]: typed addresses, one entry per query and endpoint, and the
//! answers to what a race asks of it (DNS, dials, source facts).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use eyeballs_core::{
    Alpn, Endpoint, Name, Nat64Prefix, QueryKind, ServiceRecord, Source, Transport,
};

use super::error::ScriptError;
use super::network::{
    AlpnChoice, Connect, DnsFailure, Family, HandshakeEnd, Network, Peer, Reply, SOURCE_V4,
    SOURCE_V6,
};
use crate::error::{AttemptError, AttemptErrorKind, EchRejected};
use crate::resolve::WithTtl;
use crate::runner::sim_loop::{Dialed, World};
use crate::runner::Answer;

/// A DNS answer, checked.
#[derive(Debug, Clone)]
enum Scripted {
    Addrs(Vec<IpAddr>),
    Records(Vec<ServiceRecord>),
    Fail(DnsFailure),
    Never,
}

/// A checked network.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// Per name and record type: after how long, what, and the answer's TTL.
    dns: BTreeMap<(String, QueryKind), (Duration, Scripted, Option<Duration>)>,
    names: BTreeSet<String>,
    peers: BTreeMap<(SocketAddr, Transport), Peer>,
    otherwise: Peer,
    v6: Option<IpAddr>,
    v4: Option<IpAddr>,
    routes: BTreeMap<IpAddr, Source>,
    udp_dropped: BTreeSet<Family>,
    pub(crate) nat64: Option<Nat64Prefix>,
    changes: Vec<(Duration, Vec<IpAddr>, Vec<IpAddr>)>,
}

impl Script {
    /// Checks `network`.
    pub(crate) fn new(network: &Network) -> Result<Script, ScriptError> {
        let mut script = Script {
            dns: BTreeMap::new(),
            names: BTreeSet::new(),
            peers: BTreeMap::new(),
            otherwise: network.otherwise.clone(),
            v6: Some(IpAddr::V6(SOURCE_V6)),
            v4: Some(IpAddr::V4(SOURCE_V4)),
            routes: network
                .routes
                .iter()
                .map(|r| (r.destination(), *r))
                .collect(),
            udp_dropped: network.udp_dropped.iter().copied().collect(),
            nat64: network.nat64,
            changes: Vec::new(),
        };
        for text in &network.sources {
            match ip(text, "a source address")? {
                ip @ IpAddr::V6(_) => script.v6 = Some(ip),
                ip @ IpAddr::V4(_) => script.v4 = Some(ip),
            }
        }
        for family in &network.no_route {
            match family {
                Family::V6 => script.v6 = None,
                Family::V4 => script.v4 = None,
            }
        }
        for (name, kind, answer) in &network.dns {
            let key = Name::new(name).as_str().to_owned();
            let scripted = check_answer(&key, *kind, &answer.reply)?;
            script.names.insert(key.clone());
            script
                .dns
                .insert((key, *kind), (answer.after, scripted, answer.ttl));
        }
        for (text, transport, peer) in &network.peers {
            let addr = socket_addr(text)?;
            script.check_peer(addr, *transport, peer)?;
            script.peers.insert((addr, *transport), peer.clone());
        }
        for (after, added, removed) in &network.changes {
            let parse = |list: &[String]| -> Result<Vec<IpAddr>, ScriptError> {
                list.iter().map(|a| ip(a, "an address change")).collect()
            };
            script
                .changes
                .push((*after, parse(added)?, parse(removed)?));
        }
        Ok(script)
    }

    fn check_peer(
        &self,
        addr: SocketAddr,
        transport: Transport,
        peer: &Peer,
    ) -> Result<(), ScriptError> {
        let connects = matches!(peer.connect, Connect::Accept(_));
        if !connects && peer.handshake != super::Handshake::done(Duration::ZERO) {
            return Err(ScriptError::HandshakeWithoutConnect {
                endpoint: addr.to_string(),
                transport,
            });
        }
        let family = Family::of(addr.ip());
        // Behind NAT64 an IPv4 endpoint is reached through a synthesized IPv6 address.
        let via_nat64 = family == Family::V4 && self.nat64.is_some() && self.v6.is_some();
        if connects && self.fact(addr.ip()).source().is_none() && !via_nat64 {
            return Err(ScriptError::Unreachable {
                endpoint: addr.to_string(),
                transport,
                family,
            });
        }
        Ok(())
    }

    /// The source fact of `dest`: a route override, else the family's source (loopback
    /// and link-local destinations use their own scope), else no route.
    pub(crate) fn fact(&self, dest: IpAddr) -> Source {
        if let Some(fact) = self.routes.get(&dest) {
            return *fact;
        }
        match self.source_of(dest) {
            Some(source) => Source::new(dest, source),
            None => Source::unreachable(dest),
        }
    }

    fn source_of(&self, dest: IpAddr) -> Option<IpAddr> {
        if dest.is_loopback() {
            return Some(dest);
        }
        match dest {
            IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => self
                .v6
                .map(|_| IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100))),
            IpAddr::V4(v4) if v4.is_link_local() => self
                .v4
                .map(|_| IpAddr::V4(Ipv4Addr::new(169, 254, 100, 100))),
            IpAddr::V6(_) => self.v6,
            IpAddr::V4(_) => self.v4,
        }
    }

    /// The answer of a query: the script's, else no data for a known name, else NXDOMAIN.
    pub(crate) fn answer(
        &self,
        name: &Name,
        kind: QueryKind,
    ) -> Option<(Duration, io::Result<WithTtl<Answer>>)> {
        let key = name.as_str();
        let (after, scripted, ttl) = match self.dns.get(&(key.to_owned(), kind)) {
            Some((after, scripted, ttl)) => (*after, scripted.clone(), *ttl),
            None if self.names.contains(key) => (Duration::ZERO, Scripted::Addrs(Vec::new()), None),
            None => (Duration::ZERO, Scripted::Fail(DnsFailure::NxDomain), None),
        };
        let answer = match scripted {
            Scripted::Never => return None,
            Scripted::Addrs(addrs) if kind == QueryKind::Https => {
                debug_assert!(addrs.is_empty(), "checked: no addresses for HTTPS");
                Ok(Answer::Records(Vec::new()))
            }
            Scripted::Addrs(addrs) => Ok(Answer::Addrs(addrs)),
            Scripted::Records(records) => Ok(Answer::Records(records)),
            Scripted::Fail(failure) => Err(dns_error(key, failure)),
        };
        Some((after, answer.map(|a| WithTtl::new(a, ttl))))
    }

    /// How an attempt to `endpoint` goes (see [`World::dial`]).
    pub(crate) fn attempt(&self, endpoint: &Endpoint, tls: bool) -> Vec<(Duration, Dialed)> {
        let addr = endpoint.addr();
        let transport = endpoint.transport();
        if self.fact(addr.ip()).source().is_none() {
            let family = Family::of(addr.ip());
            let error = io::Error::new(
                io::ErrorKind::NetworkUnreachable,
                format!("network unreachable (the simulated host has no {family} route there)"),
            );
            return vec![(Duration::ZERO, Dialed::Failed(error))];
        }
        if transport == Transport::Quic && self.udp_dropped.contains(&Family::of(addr.ip())) {
            return Vec::new();
        }
        let peer = self.peer(addr, transport);
        let accepted = match peer.connect {
            Connect::Hang => return Vec::new(),
            Connect::Refuse(after) => {
                let error = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
                return vec![(after, Dialed::Failed(error))];
            }
            Connect::Accept(after) => after,
        };
        let quic = transport == Transport::Quic;
        if !tls && !quic {
            return vec![(accepted, Dialed::Established(None))];
        }
        let mut steps = Vec::new();
        if !quic {
            steps.push((accepted, Dialed::Progressed));
        }
        let done = accepted.saturating_add(peer.handshake.after);
        let end = match &peer.handshake.end {
            HandshakeEnd::Stall => return steps,
            HandshakeEnd::RejectEch(current)
                if endpoint.ech().is_some() && endpoint.ech() != current.as_ref() =>
            {
                Dialed::Failed(
                    AttemptError::with_source(
                        endpoint.clone(),
                        AttemptErrorKind::Ech,
                        EchRejected {
                            retry: current.clone(),
                        },
                    )
                    .into(),
                )
            }
            HandshakeEnd::Fail => {
                let kind = if quic {
                    AttemptErrorKind::Quic
                } else {
                    AttemptErrorKind::Tls
                };
                Dialed::Failed(attempt_error(
                    endpoint,
                    kind,
                    "the server sent a handshake_failure alert",
                ))
            }
            HandshakeEnd::Done(choice) => established(endpoint, choice.as_ref()),
            HandshakeEnd::RejectEch(_) => established(endpoint, None),
        };
        steps.push((done, end));
        steps
    }

    /// The script of an endpoint; behind NAT64, a synthesized address's IPv4 endpoint's.
    pub(crate) fn peer(&self, addr: SocketAddr, transport: Transport) -> &Peer {
        if let Some(peer) = self.peers.get(&(addr, transport)) {
            return peer;
        }
        if let (Some(prefix), IpAddr::V6(v6)) = (self.nat64, addr.ip()) {
            if let Some(v4) = embedded(prefix, v6) {
                let v4 = SocketAddr::new(IpAddr::V4(v4), addr.port());
                if let Some(peer) = self.peers.get(&(v4, transport)) {
                    return peer;
                }
            }
        }
        &self.otherwise
    }
}

impl World for Script {
    fn resolve(
        &self,
        name: &Name,
        kind: QueryKind,
    ) -> Option<(Duration, io::Result<WithTtl<Answer>>)> {
        self.answer(name, kind)
    }

    fn dial(&self, endpoint: &Endpoint, tls: bool) -> Vec<(Duration, Dialed)> {
        self.attempt(endpoint, tls)
    }

    fn changes(&self) -> Vec<(Duration, Vec<IpAddr>, Vec<IpAddr>)> {
        self.changes.clone()
    }
}

/// The end of a handshake that is done: the server's ALPN choice against what the attempt
/// offered.
fn established(endpoint: &Endpoint, choice: Option<&AlpnChoice>) -> Dialed {
    let offered = endpoint.alpn();
    let quic = endpoint.transport() == Transport::Quic;
    let chosen = match choice {
        None => offered.first().cloned(),
        Some(AlpnChoice::Id(id)) => Some(id.clone()),
        Some(AlpnChoice::Nothing) => None,
    };
    let fits = match &chosen {
        Some(id) => offered.contains(id),
        None => !quic,
    };
    if fits {
        return Dialed::Established(chosen);
    }
    let got = chosen.map_or_else(|| "none".to_owned(), |a| a.to_string());
    Dialed::Failed(attempt_error(
        endpoint,
        AttemptErrorKind::Alpn,
        format!("the server answered ALPN {got}"),
    ))
}

fn attempt_error(endpoint: &Endpoint, kind: AttemptErrorKind, why: impl Into<String>) -> io::Error {
    AttemptError::with_source(endpoint.clone(), kind, why.into()).into()
}

/// A failed query's error, worded as the hickory resolver words it.
pub(crate) fn dns_error(name: &str, failure: DnsFailure) -> io::Error {
    match failure {
        DnsFailure::NxDomain => io::Error::new(
            io::ErrorKind::NotFound,
            format!("{name}: no such name (NXDOMAIN)"),
        ),
        DnsFailure::ServFail => {
            io::Error::other(format!("{name}: the DNS server failed (SERVFAIL)"))
        }
        DnsFailure::TimedOut => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{name}: no answer from the DNS server (timed out)"),
        ),
    }
}

/// The IPv4 address a NAT64 address embeds, if `v6` is inside `prefix` (RFC 6052 §2.2).
fn embedded(prefix: Nat64Prefix, v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let bytes = v6.octets();
    let p = prefix.addr().octets();
    let len = usize::from(prefix.prefix_len() / 8);
    if bytes[..len] != p[..len] {
        return None;
    }
    // The IPv4 octets sit after the prefix, skipping bits 64..72 (the "u" octet).
    let octets: Vec<u8> = (len..16)
        .filter(|&i| i != 8)
        .map(|i| bytes[i])
        .take(4)
        .collect();
    let v4 = Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]);
    (prefix.synthesize(v4) == v6).then_some(v4)
}

fn check_answer(name: &str, kind: QueryKind, reply: &Reply) -> Result<Scripted, ScriptError> {
    if !matches!(kind, QueryKind::Aaaa | QueryKind::A | QueryKind::Https) {
        return Err(ScriptError::UnsupportedQuery {
            name: name.to_owned(),
            kind,
        });
    }
    let https = kind == QueryKind::Https;
    Ok(match reply {
        Reply::Addrs(addrs) if https && !addrs.is_empty() => {
            return Err(ScriptError::WrongRecordType {
                name: name.to_owned(),
                kind,
            })
        }
        Reply::Addrs(texts) => {
            let place = format!("the {kind} answer of {name}");
            let mut addrs = Vec::with_capacity(texts.len());
            for text in texts {
                let addr = ip(text, &place)?;
                if addr.is_ipv6() != (kind == QueryKind::Aaaa) {
                    return Err(ScriptError::WrongFamily {
                        name: name.to_owned(),
                        kind,
                        addr: text.clone(),
                    });
                }
                addrs.push(addr);
            }
            Scripted::Addrs(addrs)
        }
        Reply::Records(_) if !https => {
            return Err(ScriptError::WrongRecordType {
                name: name.to_owned(),
                kind,
            })
        }
        Reply::Records(records) => {
            for record in records {
                if let Some(reason) = malformed(record) {
                    return Err(ScriptError::MalformedRecord {
                        name: name.to_owned(),
                        reason,
                    });
                }
            }
            Scripted::Records(records.clone())
        }
        Reply::Fail(failure) => Scripted::Fail(*failure),
        Reply::Never => Scripted::Never,
    })
}

/// Why a record could not be sent by a DNS server (RFC 9460 §2.2, §7.1, §8), if so.
fn malformed(record: &ServiceRecord) -> Option<&'static str> {
    if record.alpn_ids().iter().any(|a| !Alpn::is_valid(a)) {
        return Some("an ALPN id is empty or longer than 255 bytes");
    }
    if record.ech_config().is_some_and(|e| e.as_bytes().is_empty()) {
        return Some("its ech value is empty");
    }
    let mandatory = record.mandatory_keys();
    if mandatory.contains(&0) {
        return Some("\"mandatory\" lists itself (key 0)");
    }
    let unique: BTreeSet<u16> = mandatory.iter().copied().collect();
    if unique.len() != mandatory.len() {
        return Some("\"mandatory\" lists a key twice");
    }
    // Inconsistent parameters (no-default-alpn without alpn, an unknown mandatory key) can
    // be sent: clients drop such records (RFC 9460 §8, V12), which is worth simulating.
    None
}

fn ip(text: &str, place: &str) -> Result<IpAddr, ScriptError> {
    text.parse().map_err(|_| ScriptError::Address {
        place: place.to_owned(),
        text: text.to_owned(),
    })
}

/// A socket address; a bare IP address is on port 443.
fn socket_addr(text: &str) -> Result<SocketAddr, ScriptError> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    ip(text, "an endpoint").map(|ip| SocketAddr::new(ip, 443))
}
