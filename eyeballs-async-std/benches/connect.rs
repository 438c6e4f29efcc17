//! eyeballs-async-std against plain async-net on loopback, on smol's executor: the overhead
//! of one healthy connect.
//!
//! Run: `cargo bench -p eyeballs-async-std --bench connect`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Rounds of `PER_ROUND` connects of each kind, in alternating order, on smol's executor,
/// async-net against eyeballs; prints the medians and the median of the per-round ratios,
/// which drift on a shared machine does not bias.
fn paired_rounds(label: &str, mut connect: impl FnMut(bool) -> TcpStream) {
    const ROUNDS: usize = 101;
    const PER_ROUND: u32 = 200;
    let mut rounds: Vec<[f64; 2]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; 2];
        for k in 0..2 {
            let which = (round + k) % 2;
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                drop(connect(which == 1));
            }
            t[which] = start.elapsed().as_secs_f64() * 1e6 / f64::from(PER_ROUND);
        }
        rounds.push(t);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{label}, {ROUNDS} rounds of {PER_ROUND}: async-net {:.1} µs, \
         eyeballs {:.1} µs (medians); median ratio {:.3}",
        median(rounds.iter().map(|t| t[0]).collect()),
        median(rounds.iter().map(|t| t[1]).collect()),
        median(rounds.iter().map(|t| t[1] / t[0]).collect()),
    );
}

/// One connect to `127.0.0.1`: async-net's `TcpStream::connect` against eyeballs (issue 18:
/// at most 1.05x).
fn paired(_: &mut Criterion) {
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    paired_rounds("paired", |eyeballs| {
        smol::block_on(async {
            if eyeballs {
                connector.connect(addr).await.unwrap()
            } else {
                TcpStream::connect(addr).await.unwrap()
            }
        })
    });
}

/// One connect to `("localhost", port)`: async-net (`getaddrinfo` once, on the `blocking`
/// pool) against eyeballs (its per-family system lookups, answered for localhost names
/// without `getaddrinfo` as RFC 6761 asks, and a source-address probe per destination,
/// cached 1 s).
fn paired_by_name(_: &mut Criterion) {
    let port = eyeballs_lab::loopback::sink_both();
    let connector = Connector::builder().build().unwrap();
    paired_rounds("paired by name (localhost)", |eyeballs| {
        smol::block_on(async {
            if eyeballs {
                connector.connect(("localhost", port)).await.unwrap()
            } else {
                TcpStream::connect(("localhost", port)).await.unwrap()
            }
        })
    });
}

/// A batch of `n` concurrent connects to `addr` on `ex`, async-net's (`connector` `None`)
/// or eyeballs'; returns the time until every one is done and closed.
async fn batch(
    ex: &smol::Executor<'static>,
    n: usize,
    addr: SocketAddr,
    connector: Option<&Connector>,
) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let connector = connector.cloned();
            ex.spawn(async move {
                let s = match connector {
                    Some(c) => c.connect(addr).await.unwrap(),
                    None => TcpStream::connect(addr).await.unwrap(),
                };
                drop(s);
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    start.elapsed()
}

/// 41 rounds, each a batch of 1,000 concurrent async-net connects and a batch of 1,000
/// eyeballs connects in alternating order, on one smol executor run by as many threads as
/// the machine has cores (the calling thread one of them); prints the median of the
/// per-round throughput ratios eyeballs/async-net (issue 18: at least 0.95).
fn paired_concurrent(_: &mut Criterion) {
    const ROUNDS: usize = 41;
    let ex = Arc::new(smol::Executor::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (stop, stopped) = smol::channel::unbounded::<()>();
    let workers: Vec<_> = (1..threads)
        .map(|_| {
            let (ex, stopped) = (ex.clone(), stopped.clone());
            std::thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
        })
        .collect();
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    let run = |c: Option<&Connector>| smol::block_on(ex.run(batch(&ex, 1000, addr, c)));
    run(Some(&connector)); // warm the listener and the pools
    let mut rounds: Vec<[f64; 2]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; 2];
        for k in 0..2 {
            let which = (round + k) % 2;
            t[which] = run((which == 1).then_some(&connector)).as_secs_f64();
        }
        rounds.push(t);
    }
    drop(stop);
    for w in workers {
        let _ = w.join().unwrap();
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "paired 1000 concurrent, {ROUNDS} rounds on {threads} threads: async-net {:.1} ms, \
         eyeballs {:.1} ms (medians); median throughput ratio {:.3}",
        median(rounds.iter().map(|t| t[0] * 1e3).collect()),
        median(rounds.iter().map(|t| t[1] * 1e3).collect()),
        median(rounds.iter().map(|t| t[0] / t[1]).collect()),
    );
}

criterion_group!(benches, overhead, paired_concurrent, paired, paired_by_name);
criterion_main!(benches);
