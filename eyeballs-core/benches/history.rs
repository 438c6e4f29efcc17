//! The cost of history at its largest: starting a race against a history of 100,000 entries,
//! and recording a race into it.
//!
//! Run: `cargo bench -p eyeballs-core --bench history`.
//!
//! Before the store was rebuilt (issue 14), `Race::with_history` cloned the whole history
//! (about 9 ms a race at this size) and a record into a full store scanned every entry for
//! the one to evict. Now a race copies the entries of its own destinations, and every
//! record, lookup and eviction is O(log n).
#![allow(missing_docs, clippy::unwrap_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_core::{
    Action, Config, History, Input, Path, QueryId, Race, Source, Target, Transport,
};

const ENTRIES: u32 = 100_000;

fn source(dest: IpAddr) -> IpAddr {
    match dest {
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x100)),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(198, 51, 100, 100)),
    }
}

fn v6() -> SocketAddr {
    SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        443,
    )
}

fn v4() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 443)
}

/// A full history: 100,000 destinations of 198.18.0.0/15 (RFC 2544) and 2001:db8::/32,
/// over TCP and QUIC, and the two addresses the races use.
fn full_history(t0: Instant) -> History {
    let mut h = History::new().capacity(ENTRIES as usize);
    for i in 0..ENTRIES - 2 {
        let dest = if i % 2 == 0 {
            IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i))
        } else {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                1,
                0,
                0,
                0,
                (i >> 16) as u16,
                i as u16,
            ))
        };
        let transport = if i % 3 == 0 {
            Transport::Quic
        } else {
            Transport::Tcp
        };
        let path = Path::new(source(dest), SocketAddr::new(dest, 443), transport);
        let at = t0 + Duration::from_micros(u64::from(i));
        if i % 5 == 0 {
            h.record_failure(path, at);
        } else {
            h.record_success(path, Duration::from_millis(u64::from(i % 200)), at);
        }
    }
    let late = t0 + Duration::from_secs(1);
    h.record_failure(Path::new(source(v6().ip()), v6(), Transport::Tcp), late);
    h.record_success(
        Path::new(source(v4().ip()), v4(), Transport::Tcp),
        Duration::from_millis(10),
        late,
    );
    h
}

/// A literal target whose sources are known: the race copies what the history knows of
/// them when it is built.
fn literal(h: &History, now: Instant) -> Race<()> {
    let target = Target::addrs([v6(), v4()]).sources([
        Source::new(v6().ip(), source(v6().ip())),
        Source::new(v4().ip(), source(v4().ip())),
    ]);
    Race::with_history(target, Config::default(), h, now).unwrap()
}

/// A host name: the race copies nothing when it is built; the driver reports the answer's
/// sources, the race copies their history, then the answer comes.
fn by_name(h: &History, now: Instant) -> Race<()> {
    let target = Target::host("example.test", 443);
    let mut race: Race<()> = Race::with_history(target, Config::default(), h, now).unwrap();
    while race.poll_action().is_some() {}
    let sources = vec![
        Source::new(v6().ip(), source(v6().ip())),
        Source::new(v4().ip(), source(v4().ip())),
    ];
    race.handle_input(Input::Sources { sources }, now);
    race.handle_history(h, now);
    race.handle_input(
        Input::Resolved {
            query: QueryId::from_index(0),
            addrs: vec![v6().ip()],
        },
        now,
    );
    race
}

/// A finished race: IPv6 started first (it failed recently, but the race runs past it),
/// IPv4 connects after 10 ms.
fn finished(h: &History, now: Instant) -> Race<()> {
    let mut race = literal(h, now);
    let mut first = None;
    while let Some(action) = race.poll_action() {
        if let Action::Connect { attempt, .. } = action {
            first = Some(attempt);
        }
    }
    let attempt = first.unwrap();
    race.handle_input(
        Input::Connected { attempt },
        now + Duration::from_millis(10),
    );
    while race.poll_action().is_some() {}
    race
}

fn benches(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut h = full_history(t0);
    let now = t0 + Duration::from_secs(2);
    assert_eq!(h.len(), ENTRIES as usize);

    c.bench_function("history/start a race, 100,000 entries, literal", |b| {
        b.iter(|| black_box(literal(black_box(&h), now)))
    });
    c.bench_function("history/start a race, 100,000 entries, by name", |b| {
        b.iter(|| black_box(by_name(black_box(&h), now)))
    });
    let race = finished(&h, now);
    c.bench_function("history/record_race into 100,000 entries", |b| {
        b.iter(|| h.record_race(black_box(&race)))
    });
    // Every record here is a new destination: each one evicts the oldest entry.
    let mut i = 0u32;
    c.bench_function(
        "history/record a new destination into 100,000 entries",
        |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let ip = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, (i >> 16) as u16, i as u16);
                let dest = SocketAddr::new(IpAddr::V6(ip), 443);
                let path = Path::new(source(dest.ip()), dest, Transport::Tcp);
                h.record_failure(path, now);
            })
        },
    );
}

criterion_group!(history, benches);
criterion_main!(history);
