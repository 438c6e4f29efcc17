//! The script: what DNS answers and when, how each endpoint answers, and what the host
//! knows of its routes. Built with chained calls and checked once, by [`Sim`](super::Sim)
//! or [`SimRuntime`](super::SimRuntime): a script that cannot happen is a
//! [`ScriptError`](super::ScriptError) there, never a surprise in the middle of a race.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use eyeballs_core::{Alpn, EchConfig, Nat64Prefix, QueryKind, ServiceRecord, Source, Transport};

/// The source address the simulated host uses for IPv6 destinations unless
/// [`Network::source`] says otherwise (a documentation address, RFC 3849).
pub const SOURCE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x100);
/// The source address the simulated host uses for IPv4 destinations unless
/// [`Network::source`] says otherwise (a documentation address, RFC 5737).
pub const SOURCE_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);

/// A scripted network, seen from one host: DNS per name and record type, endpoints per
/// address, port and transport, and the host's own addresses and routes.
///
/// What the script leaves out behaves as on a real network: a name with no script does
/// not exist (NXDOMAIN, at once), a record type with no script for a known name has no
/// data (an empty answer, at once), and an endpoint with no script has nothing listening
/// (refused at once; [`Network::otherwise`] changes that). The host has an IPv6 and an
/// IPv4 address ([`SOURCE_V6`], [`SOURCE_V4`]) and a route for both families.
///
/// Addresses are written as text (`"2001:db8::1"`, `"192.0.2.1:443"`, `"[2001:db8::1]:443"`)
/// or given as `IpAddr`/`SocketAddr` values; text that does not parse is a
/// [`ScriptError`](super::ScriptError) when the script is checked. An endpoint given
/// without a port is on port 443.
///
/// # Examples
///
/// IPv6 black-holed, IPv4 answering in 20 ms:
///
/// ```
/// use std::time::Duration;
/// use eyeballs_net::sim::{Network, Peer, Sim};
///
/// let ms = Duration::from_millis;
/// let network = Network::new()
///     .aaaa("example.test", ["2001:db8::1"])
///     .a("example.test", ["192.0.2.1"])
///     .tcp("[2001:db8::1]:443", Peer::hang())
///     .tcp("192.0.2.1:443", Peer::accept(ms(20)));
/// let run = Sim::new(network)?.connect("example.test:443");
/// assert_eq!(run.winner().map(|e| e.addr()), Some("192.0.2.1:443".parse()?));
/// assert_eq!(run.elapsed(), ms(250 + 20)); // the Connection Attempt Delay, then 20 ms
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) dns: Vec<(String, QueryKind, Answer)>,
    pub(crate) peers: Vec<(String, Transport, Peer)>,
    pub(crate) otherwise: Peer,
    pub(crate) sources: Vec<String>,
    pub(crate) no_route: Vec<Family>,
    pub(crate) routes: Vec<Source>,
    pub(crate) udp_dropped: Vec<Family>,
    pub(crate) nat64: Option<Nat64Prefix>,
    pub(crate) changes: Vec<(Duration, Vec<String>, Vec<String>)>,
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    /// Starts an empty network: no names, nothing listening, a dual-stack host.
    pub fn new() -> Self {
        Network {
            dns: Vec::new(),
            peers: Vec::new(),
            otherwise: Peer::refuse(Duration::ZERO),
            sources: Vec::new(),
            no_route: Vec::new(),
            routes: Vec::new(),
            udp_dropped: Vec::new(),
            nat64: None,
            changes: Vec::new(),
        }
    }

    /// Sets what a query for `name` of record type `kind` answers ([`QueryKind::Aaaa`],
    /// [`QueryKind::A`] or [`QueryKind::Https`]); a later call for the same name and type
    /// replaces it. The name is the one the race asks about: the host, an alias target, a
    /// TargetName, or for HTTPS on a port other than 443 `_PORT._https.host`.
    pub fn dns(mut self, name: &str, kind: QueryKind, answer: Answer) -> Self {
        self.dns.push((name.to_owned(), kind, answer));
        self
    }

    /// Sets the AAAA answer of `name`: these addresses, at once.
    pub fn aaaa<I, A>(self, name: &str, addrs: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: fmt::Display,
    {
        self.dns(name, QueryKind::Aaaa, Answer::addrs(addrs))
    }

    /// Sets the A answer of `name`: these addresses, at once.
    pub fn a<I, A>(self, name: &str, addrs: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: fmt::Display,
    {
        self.dns(name, QueryKind::A, Answer::addrs(addrs))
    }

    /// Sets the HTTPS answer of `name`: these records, at once.
    pub fn https<I: IntoIterator<Item = ServiceRecord>>(self, name: &str, records: I) -> Self {
        self.dns(name, QueryKind::Https, Answer::records(records))
    }

    /// Changes the host's addresses `after` the race started, whatever the queries
    /// answered (DNS push, RFC 8765, or a TTL expiry): `added` are sorted in, `removed`
    /// withdrawn if not yet tried (RFC 8305 §6, HEv3 §7). Only [`Sim`](super::Sim) runs
    /// them: a connector's resolver has no way to push.
    pub fn addresses_change<I, J, A, B>(mut self, after: Duration, added: I, removed: J) -> Self
    where
        I: IntoIterator<Item = A>,
        J: IntoIterator<Item = B>,
        A: fmt::Display,
        B: fmt::Display,
    {
        let added = added.into_iter().map(|a| a.to_string()).collect();
        let removed = removed.into_iter().map(|a| a.to_string()).collect();
        self.changes.push((after, added, removed));
        self
    }

    /// Sets how TCP (and TLS over it) to `addr` answers; port 443 unless given.
    pub fn tcp(self, addr: impl fmt::Display, peer: Peer) -> Self {
        self.endpoint(addr, Transport::Tcp, peer)
    }

    /// Sets how QUIC to `addr` answers; port 443 unless given.
    pub fn quic(self, addr: impl fmt::Display, peer: Peer) -> Self {
        self.endpoint(addr, Transport::Quic, peer)
    }

    /// Sets how `addr` answers over `transport`; port 443 unless given. A later call for
    /// the same endpoint replaces it.
    pub fn endpoint(mut self, addr: impl fmt::Display, transport: Transport, peer: Peer) -> Self {
        self.peers.push((addr.to_string(), transport, peer));
        self
    }

    /// Sets how endpoints without a script answer (default: refused at once, nothing
    /// listens). `Peer::hang()` makes every unscripted address a black hole.
    pub fn otherwise(mut self, peer: Peer) -> Self {
        self.otherwise = peer;
        self
    }

    /// Drops every UDP packet of `family` (a firewall that blocks UDP): QUIC attempts to
    /// it hang, whatever their script says, until the handshake timeout.
    pub fn drop_udp(mut self, family: Family) -> Self {
        self.udp_dropped.push(family);
        self
    }

    /// Drops every UDP packet, of both families.
    pub fn drop_all_udp(self) -> Self {
        self.drop_udp(Family::V6).drop_udp(Family::V4)
    }

    /// Sets the host's source address of that address's family (default [`SOURCE_V6`] and
    /// [`SOURCE_V4`]): RFC 6724 sorts with it, and history is kept per source (R15).
    pub fn source(mut self, addr: impl fmt::Display) -> Self {
        self.sources.push(addr.to_string());
        self
    }

    /// Takes `family` away from the host: no address, no route. Attempts to it fail at
    /// once (network unreachable), and RFC 6724 sorts its destinations last.
    pub fn no_route(mut self, family: Family) -> Self {
        self.no_route.push(family);
        self
    }

    /// Sets the route to one destination: its source address and flags (deprecated, home
    /// address), or none at all (`Source::unreachable`). It overrides the family's source.
    pub fn route(mut self, fact: Source) -> Self {
        self.routes.push(fact);
        self
    }

    /// Puts the host behind NAT64 with `prefix` (RFC 6146): races use it
    /// (`Config::nat64`, RFC 8305 §7), and an IPv6 address inside the prefix reaches the
    /// IPv4 endpoint it embeds, with that endpoint's script unless it has one of its own.
    pub fn nat64(mut self, prefix: Nat64Prefix) -> Self {
        self.nat64 = Some(prefix);
        self
    }
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Family {
    /// IPv6.
    V6,
    /// IPv4.
    V4,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V6(_) => Family::V6,
            IpAddr::V4(_) => Family::V4,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V6 => "IPv6",
            Family::V4 => "IPv4",
        })
    }
}

/// What one DNS query answers, and after how long (at once unless [`Answer::after`]).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::{QueryKind, ServiceRecord};
/// use eyeballs_net::sim::{Answer, Network};
///
/// let network = Network::new()
///     .dns("example.test", QueryKind::Aaaa, Answer::servfail().after(Duration::from_millis(30)))
///     .dns("example.test", QueryKind::A, Answer::addrs(["192.0.2.1"]))
///     .dns("example.test", QueryKind::Https, Answer::never())
///     .dns("cdn.example.test", QueryKind::Https, Answer::records([ServiceRecord::new(1, ".")]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub(crate) after: Duration,
    pub(crate) reply: Reply,
    pub(crate) ttl: Option<Duration>,
}

/// The content of an [`Answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    Addrs(Vec<String>),
    Records(Vec<ServiceRecord>),
    Fail(DnsFailure),
    Never,
}

/// How a query fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DnsFailure {
    ServFail,
    NxDomain,
    TimedOut,
}

impl Answer {
    /// Addresses (AAAA or A; none is an empty answer, NODATA).
    pub fn addrs<I, A>(addrs: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: fmt::Display,
    {
        Answer::now(Reply::Addrs(
            addrs.into_iter().map(|a| a.to_string()).collect(),
        ))
    }

    /// HTTPS records (none is an empty answer).
    pub fn records<I: IntoIterator<Item = ServiceRecord>>(records: I) -> Self {
        Answer::now(Reply::Records(records.into_iter().collect()))
    }

    /// An empty answer (NOERROR, no data): for any record type.
    pub fn empty() -> Self {
        Answer::now(Reply::Addrs(Vec::new()))
    }

    /// The server failed (SERVFAIL).
    pub fn servfail() -> Self {
        Answer::now(Reply::Fail(DnsFailure::ServFail))
    }

    /// The name does not exist (NXDOMAIN).
    pub fn nxdomain() -> Self {
        Answer::now(Reply::Fail(DnsFailure::NxDomain))
    }

    /// The resolver gave up waiting (a timeout, as a resolver reports it): usually with
    /// [`Answer::after`] its timeout.
    pub fn timed_out() -> Self {
        Answer::now(Reply::Fail(DnsFailure::TimedOut))
    }

    /// No answer, ever (a resolver without a timeout).
    pub fn never() -> Self {
        Answer::now(Reply::Never)
    }

    /// Answers `delay` after the query was sent (`Duration::MAX`: never).
    pub fn after(mut self, delay: Duration) -> Self {
        self.after = delay;
        self
    }

    /// Gives the answer a TTL, so that a DNS cache keeps it
    /// ([`SimBuilder::dns_cache`](super::SimBuilder::dns_cache)); without one it is never
    /// cached, as the system resolver's answers are not.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    fn now(reply: Reply) -> Self {
        Answer {
            after: Duration::ZERO,
            reply,
            ttl: None,
        }
    }
}

/// How one endpoint answers an attempt: its connect (TCP's handshake; for QUIC, the
/// first flight), then its TLS or QUIC handshake.
///
/// A TLS race (`Sim::connect_tls`) counts an attempt when its handshake is done (HEv3
/// §6.1): TCP up is progress, then the [`Handshake`]. QUIC has no separate connect: its
/// attempt is done at the connect's delay plus the handshake's. A plain race
/// (`Sim::connect`) counts the TCP connect and ignores the handshake.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_net::sim::{Handshake, Peer};
///
/// let ms = Duration::from_millis;
/// let h2 = Peer::accept(ms(10)).handshake(Handshake::done(ms(20)).alpn("h2"));
/// let stalls = Peer::accept(ms(10)).handshake(Handshake::stall());
/// let refuses = Peer::refuse(ms(1));
/// let black_hole = Peer::hang();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub(crate) connect: Connect,
    pub(crate) handshake: Handshake,
}

/// How a connect goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connect {
    Accept(Duration),
    Refuse(Duration),
    Hang,
}

impl Peer {
    /// Accepts after `delay` (a SYN-ACK, or QUIC's first answer); its handshake, if the
    /// race has one, then succeeds at once with the first ALPN id offered.
    pub fn accept(delay: Duration) -> Self {
        Peer {
            connect: Connect::Accept(delay),
            handshake: Handshake::done(Duration::ZERO),
        }
    }

    /// Refuses after `delay`: a TCP reset, or an ICMP port unreachable for QUIC.
    pub fn refuse(delay: Duration) -> Self {
        Peer {
            connect: Connect::Refuse(delay),
            handshake: Handshake::done(Duration::ZERO),
        }
    }

    /// Never answers: a black hole (dropped SYNs or Initials).
    pub fn hang() -> Self {
        Peer {
            connect: Connect::Hang,
            handshake: Handshake::done(Duration::ZERO),
        }
    }

    /// Sets how the handshake after the connect goes (only for [`Peer::accept`]).
    pub fn handshake(mut self, handshake: Handshake) -> Self {
        self.handshake = handshake;
        self
    }

    /// Returns whether the connect is accepted, and after how long.
    pub fn accepts(&self) -> Option<Duration> {
        match self.connect {
            Connect::Accept(d) => Some(d),
            _ => None,
        }
    }
}

/// How a TLS or QUIC handshake goes, counted from the connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub(crate) after: Duration,
    pub(crate) end: HandshakeEnd,
}

/// How a handshake ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HandshakeEnd {
    /// Done, with the server's ALPN choice: `None` for the first id offered.
    Done(Option<AlpnChoice>),
    Fail,
    /// Rejects an ECH offer, sending these configurations for a retry (an offer of exactly
    /// them is accepted).
    RejectEch(Option<EchConfig>),
    Stall,
}

/// The ALPN id a server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AlpnChoice {
    Id(Alpn),
    Nothing,
}

impl Handshake {
    /// Done after `delay`, the server choosing the first ALPN id the attempt offered.
    pub fn done(delay: Duration) -> Self {
        Handshake {
            after: delay,
            end: HandshakeEnd::Done(None),
        }
    }

    /// Makes the server answer `id` (an id the attempt did not offer fails it: no ALPN in
    /// common).
    pub fn alpn(mut self, id: &str) -> Self {
        self.end = HandshakeEnd::Done(Some(AlpnChoice::Id(Alpn::from(id))));
        self
    }

    /// Makes the server answer no ALPN id (an HTTP/1.1 server without ALPN; QUIC always
    /// needs one, so a QUIC attempt fails).
    pub fn no_alpn(mut self) -> Self {
        self.end = HandshakeEnd::Done(Some(AlpnChoice::Nothing));
        self
    }

    /// Fails after `delay` (a TLS alert: handshake failure).
    pub fn fail(delay: Duration) -> Self {
        Handshake {
            after: delay,
            end: HandshakeEnd::Fail,
        }
    }

    /// Rejects Encrypted ClientHello after `delay`: an attempt that offered ECH fails
    /// (it is never retried without it); one without ECH succeeds as [`Handshake::done`].
    pub fn reject_ech(delay: Duration) -> Self {
        Handshake {
            after: delay,
            end: HandshakeEnd::RejectEch(None),
        }
    }

    /// A server whose ECH keys changed (RFC 9849 §6.1.6): after `delay` it rejects an
    /// offer of any ECH configuration but `current` and sends `current` for a retry, which
    /// the same attempt then makes at once (V54) and which completes `delay` later; an offer
    /// of `current`, or none, succeeds as [`Handshake::done`].
    pub fn reject_ech_with_retry(delay: Duration, current: EchConfig) -> Self {
        Handshake {
            after: delay,
            end: HandshakeEnd::RejectEch(Some(current)),
        }
    }

    /// Never finishes: the connector's handshake timeout fails the attempt.
    pub fn stall() -> Self {
        Handshake {
            after: Duration::ZERO,
            end: HandshakeEnd::Stall,
        }
    }
}
