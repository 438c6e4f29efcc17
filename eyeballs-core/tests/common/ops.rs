//! Drives a race from arbitrary bytes, as a hostile or buggy driver might, and checks the
//! invariants after every step. The fuzz target and the corpus replay test both call [`run`].
//!
//! Durations come from the whole range (zero, milliseconds, hours, `Duration::MAX`), service
//! records from a small pool of names, keys and hints, so that aliases, loops, duplicates,
//! unknown mandatory keys and huge answers all occur.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core::{
    AltService, AttemptId, Config, DelaySchedule, EchConfig, FamilyPolicy, History, Input,
    Nat64Prefix, Path, Protocols, QueryId, Race, ServiceRecord, Source, Target, Transport,
    TCP_AFTER_QUIC_DELAY,
};

use super::checker::Checker;

/// The addresses the bytes choose from: both families, and the special ones RFC 6724 sorts.
const POOL: [&str; 16] = [
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::3",
    "::1",
    "fe80::1",
    "fc00::1",
    "2002:c000:201::1",
    "2001::1",
    "192.0.2.1",
    "192.0.2.2",
    "198.51.100.1",
    "203.0.113.1",
    "127.0.0.1",
    "169.254.0.1",
    "::ffff:192.0.2.9",
    "64:ff9b::c000:201",
];

/// The names records point at: the root, the host, two services, aliases that loop.
const NAMES: [&str; 6] = [
    ".",
    "example.test",
    "svc1.example.test",
    "svc2.example.test",
    "alias.example.test",
    "loop.example.test",
];

/// Reads bytes one at a time; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn addrs(&mut self) -> Vec<IpAddr> {
        let n = self.next();
        // Now and then a huge answer: thousands of copies and neighbours.
        let n = if n == 255 { 5000 } else { usize::from(n % 6) };
        (0..n)
            .map(|i| pool(self.next().wrapping_add(i as u8)))
            .collect()
    }

    /// A duration from the whole range, `Duration::MAX` included.
    fn duration(&mut self) -> Duration {
        let b = self.next();
        match b % 8 {
            0 => Duration::ZERO,
            1 => Duration::MAX,
            2 => Duration::from_secs(u64::MAX >> (b / 8)),
            3 => Duration::from_nanos(u64::from(b)),
            4 => Duration::from_secs(3600 * u64::from(b)),
            _ => Duration::from_millis(u64::from(b) * 2),
        }
    }

    fn records(&mut self) -> Vec<ServiceRecord> {
        let n = self.next();
        let n = if n == 255 { 10_000 } else { usize::from(n % 5) };
        (0..n).map(|i| self.record(i)).collect()
    }

    fn record(&mut self, i: usize) -> ServiceRecord {
        let b = self.next();
        let priority = u16::from(b % 4);
        let target = NAMES[usize::from(self.next()) % NAMES.len()];
        let mut r = ServiceRecord::new(priority, target);
        let keys = self.next();
        if keys & 0x01 != 0 {
            let alpn: &[&str] = match keys >> 5 {
                0 => &["h3"],
                1 => &["h2"],
                2 => &["h3", "h2"],
                3 => &["http/1.1"],
                4 => &["x-unknown"],
                _ => &["h3", "h2", "http/1.1"],
            };
            r = r.alpn(alpn.iter().copied());
        }
        if keys & 0x02 != 0 {
            r = r.no_default_alpn(true);
        }
        if keys & 0x04 != 0 {
            r = r.port([0, 443, 8443][usize::from(b >> 2) % 3]);
        }
        if keys & 0x08 != 0 {
            let v6: Vec<Ipv6Addr> = self
                .addrs()
                .into_iter()
                .filter_map(|a| match a {
                    IpAddr::V6(v6) => Some(v6),
                    IpAddr::V4(_) => None,
                })
                .collect();
            r = r.ipv6_hints(v6);
        }
        if keys & 0x10 != 0 {
            let v4: Vec<Ipv4Addr> = self
                .addrs()
                .into_iter()
                .filter_map(|a| match a {
                    IpAddr::V4(v4) => Some(v4),
                    IpAddr::V6(_) => None,
                })
                .collect();
            r = r.ipv4_hints(v4);
        }
        if b & 0x40 != 0 {
            r = r.ech(EchConfig::new(&[b, (i % 256) as u8]));
        }
        if b & 0x80 != 0 {
            r = r.mandatory([u16::from(self.next())]);
        }
        r
    }
}

fn pool(b: u8) -> IpAddr {
    let s = POOL[usize::from(b) % POOL.len()];
    s.parse()
        .unwrap_or_else(|e| panic!("pool address {s}: {e}"))
}

fn source(dest: IpAddr) -> IpAddr {
    if dest.is_ipv6() {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x100))
    } else {
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 100))
    }
}

/// Builds a race from the first bytes, then applies the rest as operations.
pub fn run(data: &[u8], t0: Instant) {
    let mut b = Bytes(data);
    let head = b.next();
    let policy = match head % 4 {
        0 => FamilyPolicy::PreferV6,
        1 => FamilyPolicy::PreferV4,
        2 => FamilyPolicy::V6Only,
        _ => FamilyPolicy::V4Only,
    };
    let delay = b.duration();
    let flags = b.next();
    let mut config = Config::default()
        .family_policy(policy)
        .connection_attempt_delay(delay)
        .resolution_delay(b.duration())
        .first_address_family_count(usize::from(b.next() % 3) + 1)
        .seed(u64::from(flags))
        .ech(flags & 0x01 != 0)
        .prefer_tcp(flags & 0x02 != 0)
        // V36: a failed HTTPS query ends the race on protected DNS.
        .protected_dns(flags & 0x10 != 0);
    let max_delay = (flags & 0x04 != 0).then(|| b.duration());
    if let Some(max) = max_delay {
        config = config.max_connection_attempt_delay(max);
    }
    if flags & 0x08 != 0 {
        config = config.min_connection_attempt_delay(b.duration());
    }
    // V29, V58: schedules and TCP after QUIC (the defaults when the bits are clear).
    let multiplier = (flags & 0x20 != 0).then(|| (b.duration(), u32::from(b.next())));
    if let Some((base, factor)) = multiplier {
        config = config.delay_schedule(DelaySchedule::Multiplier { base, factor });
    } else if flags & 0x40 != 0 {
        config = config.delay_schedule(DelaySchedule::Rtt);
    }
    let follow_up = if flags & 0x80 != 0 {
        b.duration()
    } else {
        TCP_AFTER_QUIC_DELAY
    };
    config = config.tcp_after_quic_delay(follow_up);
    let caps = b.next();
    let in_flight_cap = (caps & 0x3 != 0).then_some(usize::from(caps & 0x3));
    config = config.max_attempts_in_flight(in_flight_cap);
    let endpoint_cap = (caps & 0xc != 0).then_some(usize::from((caps >> 2) & 0x3) * 2);
    config = config.max_endpoints(endpoint_cap);
    let nat64 = caps & 0x10 != 0;
    if nat64 {
        // The well-known prefix (V57: never for non-global IPv4), or a network-specific one.
        let prefix = if head & 0x20 != 0 {
            Nat64Prefix::new(Ipv6Addr::new(0x2001, 0xdb8, 0x64, 0, 0, 0, 0, 0), 96)
                .unwrap_or(Nat64Prefix::WELL_KNOWN)
        } else {
            Nat64Prefix::WELL_KNOWN
        };
        config = config.nat64(Some(prefix));
    }
    let timeout = (caps & 0x20 != 0).then(|| b.duration());
    config = config.timeout(timeout);
    let protocols = match (caps >> 6) % 4 {
        0 => Protocols::new(),
        1 => Protocols::http(),
        2 => Protocols::new().quic("h3"),
        _ => Protocols::new().tcp("h2"),
    };
    let target = match (head >> 2) % 4 {
        0 => Target::host("example.test", 443).https(head & 0x10 != 0),
        1 => Target::host_combined("example.test", 443).https(head & 0x10 != 0),
        2 => Target::host("example.test", 8443).https(true),
        _ => Target::addrs(b.addrs().into_iter().map(|ip| SocketAddr::new(ip, 443))),
    }
    .protocols(protocols);
    // V59: alternative services, the origin's host or another, over QUIC or both.
    let target = if head & 0x80 != 0 {
        let alt = b.next();
        let host = NAMES[usize::from(alt) % NAMES.len()];
        let port = [443, 8443][usize::from(alt >> 7)];
        let alpn: &[&str] = match (alt >> 3) % 3 {
            0 => &["h3"],
            1 => &["h3", "h2"],
            _ => &["h2"],
        };
        let mut a = AltService::new(host, port).alpn(alpn.iter().copied());
        if alt & 0x40 != 0 {
            // Expired at the start (zero), or later.
            a = a.expires(t0.checked_add(b.duration()).unwrap_or(t0));
        }
        target
            .alt_svc(a)
            .alt_svc(AltService::new("", 443).alpn(["h3"]))
    } else {
        target
    };
    let alternatives = target.alt_services().len();
    let mut history = None;
    if head & 0x40 != 0 {
        let mut h = History::new();
        for _ in 0..b.next() % 4 {
            let dest = pool(b.next());
            let transport = if b.next() % 2 == 0 {
                Transport::Tcp
            } else {
                Transport::Quic
            };
            let path = Path::new(source(dest), SocketAddr::new(dest, 443), transport);
            match b.next() % 4 {
                3 => h.record_loss(path, t0),
                0 | 2 => h.record_failure(path, t0),
                _ => h.record_success(path, b.duration(), t0),
            }
        }
        history = Some(h);
    }
    // With NAT64 the policy still says which sockets may open: an IPv4 endpoint goes
    // through NAT64 (IPv6) only without an IPv4 route or under `V6Only` (V52).
    let allows = (
        !matches!(policy, FamilyPolicy::V4Only),
        !matches!(policy, FamilyPolicy::V6Only),
    );
    // Kept for `Race::restart` at the end.
    let again = target.clone();
    let built = match &history {
        Some(h) => Race::<u8>::with_history(target, config, h, t0),
        None => Race::<u8>::new(target, config, t0),
    };
    let Ok(mut race) = built else {
        return;
    };
    // Without history nothing but the fixed delay times the starts. As documented, it is
    // clamped to [10 ms, maximum delay] (2 s unless set); the race was accepted, so that
    // maximum is at least the 10 ms floor and the clamp is well defined.
    let max_delay = max_delay.unwrap_or(Duration::from_secs(2));
    let fixed_delay = history
        .is_none()
        .then(|| delay.clamp(Duration::from_millis(10), max_delay));
    let checker_from = |start: Instant| {
        Checker::new(fixed_delay)
            .ech(flags & 0x01 != 0)
            .alts(alternatives)
            .follow_up(follow_up.clamp(Duration::from_millis(10), max_delay))
            .multiplier(
                multiplier
                    .filter(|_| history.is_none())
                    .map(|(base, factor)| (base, factor, max_delay)),
            )
            .in_flight_cap(in_flight_cap)
            .endpoint_cap(endpoint_cap)
            .deadline(timeout.and_then(|d| start.checked_add(d)))
            .families(allows.0, allows.1)
    };
    let mut checker = checker_from(t0);
    let mut now = t0;
    checker.drain(&mut race, now);
    let mut steps = 0;
    while !b.is_empty() && steps < 10_000 {
        steps += 1;
        let op = b.next();
        let arg = b.next();
        let started = race.attempts().len();
        let queries = race.queries().len();
        let query = QueryId::from_index(usize::from(arg) % (queries + 2));
        let attempt = AttemptId::from_index(usize::from(arg) % (started + 2));
        // Operations 0 to 11 as the corpus was made; bytes from 0xf0 up are newer ones.
        let kind = if op >= 0xf0 {
            12 + (op & 0x0f)
        } else {
            op % 12
        };
        let input = match kind {
            0 => {
                now = now.checked_add(b.duration()).unwrap_or(now);
                race.handle_timeout(now);
                None
            }
            1 => {
                if let Some(t) = race.poll_timeout() {
                    now = now.max(t);
                }
                race.handle_timeout(now);
                None
            }
            2 => Some(Input::Resolved {
                query,
                addrs: b.addrs(),
            }),
            3 => Some(Input::ResolveFailed { query, error: arg }),
            4 => Some(Input::Connected { attempt }),
            5 => Some(Input::ConnectFailed {
                attempt,
                error: arg,
            }),
            6 => Some(Input::AddressesChanged {
                added: b.addrs(),
                removed: b.addrs(),
            }),
            7 => Some(Input::ResolvedServices {
                query,
                records: b.records(),
            }),
            8 => Some(Input::Sources {
                sources: b
                    .addrs()
                    .into_iter()
                    .map(|d| {
                        if arg % 5 == 0 {
                            Source::unreachable(d)
                        } else {
                            Source::new(d, source(d))
                        }
                    })
                    .collect(),
            }),
            9 => Some(Input::Progressed { attempt }),
            10 if arg == 255 => Some(Input::Aborted),
            13 => Some(Input::ResolvedStale {
                query,
                addrs: b.addrs(),
            }),
            14 => Some(Input::ResolvedServicesStale {
                query,
                records: b.records(),
            }),
            12 => Some(Input::EchRejected {
                attempt,
                retry: (arg & 0x80 != 0).then(|| EchConfig::new(&[0xfe, 0x0d, arg])),
                error: arg,
            }),
            _ => {
                // Time that goes backwards is clamped by the race; the checker must see the
                // clamped time too.
                let earlier = now.checked_sub(b.duration());
                race.handle_timeout(earlier.unwrap_or(now));
                None
            }
        };
        if let Some(input) = input {
            now = now
                .checked_add(Duration::from_millis(u64::from(b.next() % 8)))
                .unwrap_or(now);
            let sources = matches!(input, Input::Sources { .. });
            checker.on_input(&input);
            race.handle_input(input, now);
            // The driver contract: sources, then the history's entries for them (most of
            // the time: a driver that forgets must not break anything either).
            if let (true, Some(h)) = (sources && arg & 0x40 == 0, &history) {
                race.handle_history(h, now);
            }
        }
        checker.drain(&mut race, now);
    }
    // `Race::restart` in the memory of the race wherever the bytes left it (finished or
    // not): the new race keeps the invariants too, through its start and its first timer.
    let copy = history.as_ref().map(|h| h.copy_for(&again, now));
    let Ok(mut race) = race.restart(again, config, copy, now) else {
        return;
    };
    let mut checker = checker_from(now);
    checker.drain(&mut race, now);
    if let Some(t) = race.poll_timeout() {
        race.handle_timeout(t);
        checker.drain(&mut race, t);
    }
}
