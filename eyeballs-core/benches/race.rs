//! End-to-end cost of races through the state machine, with a minimal driver and no I/O.
//!
//! Run: `cargo bench -p eyeballs-core --bench race`.
#![allow(missing_docs, clippy::unwrap_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use eyeballs_core::{
    Action, AttemptId, Config, Input, Protocols, QueryId, QueryKind, Race, ServiceRecord, Target,
};

/// `n` IPv6 (2001:db8::/32) and `n` IPv4 (198.18.0.0/15, RFC 2544) addresses.
fn addrs(n: u32) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let v6 = (0..n)
        .map(|i| {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                0,
                0,
                0,
                (i >> 16) as u16,
                i as u16,
            ))
        })
        .collect();
    let v4 = (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i))) // 198.18.0.0/15 (RFC 2544)
        .collect();
    (v6, v4)
}

/// The two-address race users see most: IPv6 hangs, IPv4 starts after 250 ms and wins.
fn two_address_race(t0: Instant) -> AttemptId {
    let target = Target::addrs([
        SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            443,
        ),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 443),
    ]);
    let mut race: Race<()> = Race::new(target, Config::default(), t0).unwrap();
    while race.poll_action().is_some() {}
    let t = race.poll_timeout().unwrap();
    race.handle_timeout(t);
    let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
        unreachable!()
    };
    race.handle_input(Input::Connected { attempt }, t + Duration::from_millis(10));
    let mut winner = None;
    while let Some(action) = race.poll_action() {
        if let Action::Finish(Ok(w)) = action {
            winner = Some(w.attempt());
        }
    }
    winner.unwrap()
}

/// A host whose AAAA answer comes first and whose A answer arrives late (after `late_after`
/// attempts); every attempt fails at once except the very last, so the whole list is walked
/// (R11) with late merging (R8) and the 10 ms floor (R28).
fn walk_race(v6: Vec<IpAddr>, v4: Vec<IpAddr>, late_after: usize, t0: Instant) -> usize {
    let total = v6.len() + v4.len();
    let target = Target::host("example.test", 443);
    let mut race: Race<()> = Race::new(target, Config::default(), t0).unwrap();
    while race.poll_action().is_some() {}
    let mut now = t0;
    race.handle_input(
        Input::Resolved {
            query: QueryId::from_index(0),
            addrs: v6,
        },
        now,
    );
    let mut late = Some(v4);
    let mut started = 0;
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Connect { attempt, .. } => {
                    started += 1;
                    let input = if started == total {
                        Input::Connected { attempt }
                    } else {
                        Input::ConnectFailed { attempt, error: () }
                    };
                    race.handle_input(input, now);
                }
                Action::Finish(result) => {
                    assert!(result.is_ok());
                    return started;
                }
                _ => {}
            }
        }
        if started == late_after {
            if let Some(v4) = late.take() {
                race.handle_input(
                    Input::Resolved {
                        query: QueryId::from_index(1),
                        addrs: v4,
                    },
                    now,
                );
                continue;
            }
        }
        now = race.poll_timeout().unwrap();
        race.handle_timeout(now);
    }
}

/// Happy Eyeballs v3: an HTTPS answer with three ServiceMode records (hints of both
/// families; QUIC and TCP, TCP only, QUIC only), the host's AAAA at once and its A late, and
/// follow-up AAAA/A queries for two TargetNames. Every attempt fails at once but the last, so
/// every endpoint is dealt, started and failed.
fn hev3_race(t0: Instant) -> usize {
    let v6 = |i: u16| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i);
    let v4 = |i: u8| Ipv4Addr::new(192, 0, 2, i);
    let records = vec![
        ServiceRecord::new(1, ".")
            .alpn(["h3", "h2"])
            .ipv6_hints([v6(1)])
            .ipv4_hints([v4(1)]),
        ServiceRecord::new(2, "svc2.example.test")
            .alpn(["h2"])
            .ipv6_hints([v6(2)])
            .ipv4_hints([v4(2)]),
        ServiceRecord::new(2, "svc3.example.test")
            .alpn(["h3"])
            .no_default_alpn(true)
            .port(8443)
            .ipv6_hints([v6(3)])
            .ipv4_hints([v4(3)]),
    ];
    let target = Target::host("example.test", 443)
        .https(true)
        .protocols(Protocols::http());
    let mut race: Race<()> = Race::new(target, Config::default(), t0).unwrap();
    let mut now = t0;
    let mut late_a = None;
    let mut started = 0;
    // The first record: ::1 and (once A is in) 192.0.2.1 and .9, over QUIC and TCP; the
    // others: their TargetName's AAAA (::2 over TCP, ::3 over QUIC; their empty A answers
    // remove the IPv4 hints, HG8). The host's own addresses are the first record's again
    // (deduplicated, HG11).
    let total = 8;
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Resolve {
                    query, name, kind, ..
                } => {
                    let input = match (name.as_str(), kind) {
                        (_, QueryKind::Https) => Input::ResolvedServices {
                            query,
                            records: records.clone(),
                        },
                        ("example.test", QueryKind::A) => {
                            late_a = Some(query);
                            continue;
                        }
                        ("example.test", _) => Input::Resolved {
                            query,
                            addrs: vec![IpAddr::V6(v6(1))],
                        },
                        (_, QueryKind::Aaaa) => Input::Resolved {
                            query,
                            addrs: vec![IpAddr::V6(if name.as_str().starts_with("svc2") {
                                v6(2)
                            } else {
                                v6(3)
                            })],
                        },
                        _ => Input::Resolved {
                            query,
                            addrs: vec![],
                        },
                    };
                    race.handle_input(input, now);
                }
                Action::Connect { attempt, .. } => {
                    started += 1;
                    let input = if started == total {
                        Input::Connected { attempt }
                    } else {
                        Input::ConnectFailed { attempt, error: () }
                    };
                    race.handle_input(input, now);
                }
                Action::Finish(result) => {
                    assert!(result.is_ok(), "{result:?}");
                    return started;
                }
                _ => {}
            }
        }
        if started == 3 {
            if let Some(query) = late_a.take() {
                let addrs = vec![IpAddr::V4(v4(1)), IpAddr::V4(v4(9))];
                race.handle_input(Input::Resolved { query, addrs }, now);
                continue;
            }
        }
        now = race.poll_timeout().unwrap();
        race.handle_timeout(now);
    }
}

fn benches(c: &mut Criterion) {
    let t0 = Instant::now();
    c.bench_function("race/2 addresses", |b| {
        b.iter(|| black_box(two_address_race(black_box(t0))))
    });

    c.bench_function("race/HEv3, 3 services, QUIC and TCP, late A", |b| {
        b.iter(|| black_box(hev3_race(black_box(t0))))
    });

    let mut group = c.benchmark_group("race/walk");
    for n in [32u32, 5_000] {
        let (v6, v4) = addrs(n);
        group.throughput(Throughput::Elements(u64::from(2 * n)));
        group.sample_size(if n > 100 { 20 } else { 100 });
        group.bench_function(format!("{} addresses, late A", 2 * n), |b| {
            b.iter_batched(
                || (v6.clone(), v4.clone()),
                |(v6, v4)| black_box(walk_race(v6, v4, 3, t0)),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(race, benches);
criterion_main!(race);
