//! What a race pays to learn its destinations' source addresses (RFC 6724, R15): one UDP
//! probe per destination (socket, connect, getsockname, close; no packet is sent), or a look
//! in the 1 s cache.
//!
//! Run: `cargo bench -p eyeballs-net --bench probe`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_net::{probe_sources, probe_sources_with, SocketOptions};

fn probes(c: &mut Criterion) {
    let dests = [
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    ];
    let mut group = c.benchmark_group("probe/2 loopback destinations");
    group.bench_function("cached (a race within 1 s of the last)", |b| {
        b.iter(|| black_box(probe_sources(black_box(dests))))
    });
    // A bound device skips the cache: every call probes.
    let uncached = SocketOptions::new().bind_device(Some("lo"));
    group.bench_function("probed (socket, connect, getsockname, close)", |b| {
        b.iter(|| black_box(probe_sources_with(black_box(dests), &uncached)))
    });
    group.finish();
}

criterion_group!(benches, probes);
criterion_main!(benches);
