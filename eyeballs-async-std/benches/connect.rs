//! eyeballs-async-std against plain async-net on loopback, on smol's executor: the overhead
//! of one healthy connect.
//!
//! Run: `cargo bench -p eyeballs-async-std --bench connect`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_async_std::{Connector, TcpStream};

fn overhead(c: &mut Criterion) {
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    let mut group = c.benchmark_group("async-io/one healthy loopback");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("async-net TcpStream::connect", |b| {
        b.iter(|| smol::block_on(async { drop(TcpStream::connect(addr).await.unwrap()) }))
    });
    group.bench_function("eyeballs Connector::connect", |b| {
        b.iter(|| smol::block_on(async { drop(connector.connect(addr).await.unwrap()) }))
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
