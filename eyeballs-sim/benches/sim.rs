//! What a simulated race costs: the race runner and the core, with no socket and no wait.
//!
//! - `two_addresses`: a literal IPv6 and IPv4 address (no DNS), IPv6 black-holed, IPv4
//!   accepting after 10 ms: two attempts, 260 ms of virtual time.
//! - `hev3_50_endpoints`: a Happy Eyeballs v3 race by name: HTTPS, AAAA and A answers, one
//!   `.` record offering h3 and h2 with 25 hints (12 IPv6, 13 IPv4), so 50 endpoints (QUIC
//!   and TCP to each); every endpoint refuses after 5 ms except TCP to the last IPv4
//!   hint, which accepts: the race goes through all 50 attempts.
//!
//! History is off, so every iteration runs the same race.
//!
//! Run: `cargo bench -p eyeballs-sim --bench sim`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_sim::{Network, Peer, Protocols, ServiceRecord, Sim};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn two_addresses(c: &mut Criterion) {
    let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
    let v4: SocketAddr = "192.0.2.1:443".parse().unwrap();
    let network = Network::new()
        .tcp(v6, Peer::hang())
        .tcp(v4, Peer::accept(ms(10)));
    let mut sim = Sim::builder(network).history(false).build().unwrap();
    let addrs = [v6, v4];
    let run = sim.connect(&addrs[..]);
    assert_eq!(run.elapsed(), ms(260));
    c.bench_function("sim/two_addresses", |b| {
        b.iter(|| sim.connect(&addrs[..]));
    });
}

fn hev3_50_endpoints(c: &mut Criterion) {
    let v6: Vec<String> = (1..=12).map(|i| format!("2001:db8::{i:x}")).collect();
    let v4: Vec<String> = (1..=13).map(|i| format!("192.0.2.{i}")).collect();
    let record = ServiceRecord::new(1, ".")
        .alpn(["h3", "h2"])
        .ipv6_hints(v6.iter().map(|a| a.parse().unwrap()))
        .ipv4_hints(v4.iter().map(|a| a.parse().unwrap()));
    let last = format!("{}:443", v4[12]);
    let network = Network::new()
        .https("example.test", [record])
        .aaaa("example.test", &v6)
        .a("example.test", &v4)
        .otherwise(Peer::refuse(ms(5)))
        .tcp(&last, Peer::accept(ms(5)));
    let mut sim = Sim::builder(network).history(false).build().unwrap();
    let protocols = Protocols::http();
    let run = sim.connect_tls("example.test:443", &protocols);
    assert_eq!(run.report().unwrap().attempts().len(), 50);
    assert_eq!(run.winner().unwrap().addr(), last.parse().unwrap());
    c.bench_function("sim/hev3_50_endpoints", |b| {
        b.iter(|| sim.connect_tls("example.test:443", &protocols));
    });
}

criterion_group!(benches, two_addresses, hev3_50_endpoints);
criterion_main!(benches);
