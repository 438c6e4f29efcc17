//! Drives a race from arbitrary bytes, as a hostile or buggy driver might, and checks the
//! invariants after every step. The fuzz target and the corpus replay test both call [`run`].

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core::{
    AttemptId, Config, FamilyPolicy, History, Input, Nat64Prefix, QueryId, Race, Target,
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
        let n = self.next() % 6;
        (0..n).map(|_| pool(self.next())).collect()
    }
}

fn pool(b: u8) -> IpAddr {
    let s = POOL[usize::from(b) % POOL.len()];
    s.parse()
        .unwrap_or_else(|e| panic!("pool address {s}: {e}"))
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
    let delay = Duration::from_millis(u64::from(b.next()) * 2);
    let mut config = Config::default()
        .family_policy(policy)
        .connection_attempt_delay(delay)
        .resolution_delay(Duration::from_millis(u64::from(b.next())))
        .first_address_family_count(usize::from(b.next() % 3) + 1);
    let caps = b.next();
    if caps & 0x3 != 0 {
        config = config.max_attempts_in_flight(Some(usize::from(caps & 0x3)));
    }
    if caps & 0xc != 0 {
        config = config.max_addresses(Some(usize::from((caps >> 2) & 0x3) * 2));
    }
    if caps & 0x10 != 0 {
        config = config.nat64(Some(Nat64Prefix::WELL_KNOWN));
    }
    let timeout = b.next();
    if timeout != 0 {
        config = config.timeout(Some(Duration::from_millis(u64::from(timeout) * 20)));
    }
    let target = match (head >> 2) % 3 {
        0 => Target::host(443),
        1 => Target::host_combined(443),
        _ => Target::addrs(b.addrs().into_iter().map(|ip| SocketAddr::new(ip, 443))),
    };
    let mut history = None;
    if head & 0x40 != 0 {
        let mut h = History::new();
        for _ in 0..b.next() % 4 {
            let addr = SocketAddr::new(pool(b.next()), 443);
            match b.next() % 2 {
                0 => h.record_failure(addr, t0),
                _ => h.record_success(addr, Duration::from_millis(u64::from(b.next())), t0),
            }
        }
        history = Some(h);
    }
    let fixed_delay = history
        .is_none()
        .then(|| delay.clamp(Duration::from_millis(10), Duration::from_secs(2)));
    let built = match &history {
        Some(h) => Race::<u8>::with_history(target, config, h, t0),
        None => Race::<u8>::new(target, config, t0),
    };
    let Ok(mut race) = built else {
        return;
    };
    let mut checker = Checker::new(fixed_delay);
    let mut now = t0;
    checker.drain(&mut race, now);
    let mut steps = 0;
    while !b.is_empty() && steps < 10_000 {
        steps += 1;
        let op = b.next();
        let arg = b.next();
        let started = race.attempts().len();
        let input = match op % 8 {
            0 => {
                now += Duration::from_millis(u64::from(arg));
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
                query: QueryId::from_index(usize::from(arg % 3)),
                addrs: b.addrs(),
            }),
            3 => Some(Input::ResolveFailed {
                query: QueryId::from_index(usize::from(arg % 3)),
                error: arg,
            }),
            4 => Some(Input::Connected {
                attempt: AttemptId::from_index(usize::from(arg) % (started + 2)),
            }),
            5 => Some(Input::ConnectFailed {
                attempt: AttemptId::from_index(usize::from(arg) % (started + 2)),
                error: arg,
            }),
            6 => Some(Input::AddressesChanged {
                added: b.addrs(),
                removed: b.addrs(),
            }),
            _ if arg == 255 => Some(Input::Aborted),
            _ => {
                // Time that goes backwards is clamped by the race; the checker must see the
                // clamped time too.
                let earlier = now.checked_sub(Duration::from_millis(u64::from(arg)));
                race.handle_timeout(earlier.unwrap_or(now));
                None
            }
        };
        if let Some(input) = input {
            now += Duration::from_millis(u64::from(b.next() % 8));
            checker.on_input(&input);
            race.handle_input(input, now);
        }
        checker.drain(&mut race, now);
    }
}
