//! The async loop's cost per wake-up: one race over 10,000 loopback addresses with at most
//! 64 attempts in flight. The first 63 addresses hang (their listeners' queues are full),
//! the next 9,936 refuse, the last accepts; so for most of the race 63 attempts sit in
//! flight while one address after the other is refused. A loop that polls every future on
//! each wake-up pays for the 63 on every refusal and timer.
//!
//! tokio's clock is paused, so the race's 10 ms floor between attempt starts costs no wall
//! time: what is measured is the driver's work (sockets, polls, the core).
//!
//! Run: `cargo bench -p eyeballs-tokio --bench wide`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_core::Config;
use eyeballs_lab::servers::{hang, Serve, Servers};
use eyeballs_tokio::{Connector, StaticResolver};

const ADDRESSES: usize = 10_000;
const IN_FLIGHT: usize = 64;

fn wide(c: &mut Criterion) {
    let servers = Servers::new(&[(Serve::Refuse, Serve::Accept)]).unwrap();
    let port = servers.port(0);
    let hangers: Vec<IpAddr> = (1..IN_FLIGHT as u8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 1, i)))
        .collect();
    let _hung: Vec<_> = hangers
        .iter()
        .map(|ip| hang(SocketAddr::new(*ip, port)).unwrap())
        .collect();
    let refusers = (0..ADDRESSES - IN_FLIGHT).map(|i| {
        let (hi, lo) = (
            u8::try_from(i / 250).unwrap(),
            u8::try_from(i % 250).unwrap(),
        );
        IpAddr::V4(Ipv4Addr::new(127, 1, hi, 1 + lo))
    });
    let mut addrs: Vec<IpAddr> = hangers.clone();
    addrs.extend(refusers);
    addrs.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(addrs.len(), ADDRESSES);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("wide.test", addrs))
        .config(Config::default().max_attempts_in_flight(Some(IN_FLIGHT)))
        .history(false)
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();

    // The race goes as described: every address tried, the last one wins.
    let (stream, report) = rt.block_on(connector.connect_with_report(("wide.test", port)));
    let report = report.unwrap();
    assert!(stream.is_ok(), "{:?}", report.error());
    assert_eq!(report.attempts().len(), ADDRESSES);
    assert_eq!(
        report.winner(),
        Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
    );
    drop(stream);

    let mut group = c.benchmark_group("tokio/10,000 addresses, 64 in flight");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("eyeballs Connector::connect", |b| {
        b.iter(|| {
            let stream = rt.block_on(connector.connect(("wide.test", port)));
            drop(stream.unwrap());
        })
    });
    group.finish();
}

criterion_group!(benches, wide);
criterion_main!(benches);
