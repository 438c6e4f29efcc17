//! eyeballs-tokio against plain tokio on loopback: the overhead of one healthy connect, and
//! the throughput of 1,000 concurrent connects.
//!
//! Run: `cargo bench -p eyeballs-tokio --bench connect` (`EYEBALLS_BENCH_NO_HISTORY=1`:
//! the paired benches' connector keeps no history).
//!
//! On a shared machine the load moves from one criterion group to the next; the last
//! benchmark, "paired", interleaves short rounds of plain and eyeballs connects and prints
//! the median of the per-round ratios, which such drift does not bias.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_tokio::Connector;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Closes the stream. (Linux reuses loopback TIME_WAIT ports, `net.ipv4.tcp_tw_reuse = 2`
/// by default, so many short connections do not run out of ephemeral ports.)
fn close_now(stream: TcpStream) {
    drop(stream);
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    let mut group = c.benchmark_group("connect/one healthy loopback");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("tokio TcpStream::connect", |b| {
        b.to_async(&rt).iter(|| async {
            let s = TcpStream::connect(addr).await.unwrap();
            close_now(s);
        })
    });
    group.bench_function("eyeballs Connector::connect", |b| {
        b.to_async(&rt).iter(|| async {
            let s = connector.connect(addr).await.unwrap();
            close_now(s);
        })
    });
    group.finish();
}

/// Runs `n` connects at once and returns how long they all took.
async fn batch(n: usize, addr: SocketAddr, connector: Option<&Connector>) -> Duration {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..n {
        let connector = connector.cloned();
        set.spawn(async move {
            let s = match connector {
                Some(c) => c.connect(addr).await.unwrap(),
                None => TcpStream::connect(addr).await.unwrap(),
            };
            close_now(s);
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    start.elapsed()
}

fn concurrent(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    // Warm the listener and the pools.
    rt.block_on(batch(1000, addr, Some(&connector)));
    // Without the socket the sink's thread may still hold from the warm-up.
    let before = eyeballs_lab::loopback::open_fds_least(Duration::from_millis(100));
    let mut group = c.benchmark_group("connect/1000 concurrent");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.throughput(criterion::Throughput::Elements(1000));
    group.bench_function("tokio TcpStream::connect", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(batch(1000, addr, None)))
                .sum()
        })
    });
    group.bench_function("eyeballs Connector::connect", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(batch(1000, addr, Some(&connector))))
                .sum()
        })
    });
    group.finish();
    // Every connection of every batch is closed: the descriptor count is back where it was
    // (within a second: the sink's thread may hold the last socket it accepted).
    let after = eyeballs_lab::loopback::open_fds_settled(before, Duration::from_secs(1));
    println!("open file descriptors before: {before}, after: {after}");
    assert_eq!(before, after, "connections leaked");
}

/// The connector the paired benches race: with history (the default), or without it when
/// `EYEBALLS_BENCH_NO_HISTORY` is set, to measure the history's share.
fn connector() -> Connector {
    let history = std::env::var_os("EYEBALLS_BENCH_NO_HISTORY").is_none();
    Connector::builder().history(history).build().unwrap()
}

/// Like [`concurrent`], paired: 41 rounds, each a batch of 1,000 concurrent tokio connects
/// and a batch of 1,000 eyeballs connects in alternating order, on one multi-threaded
/// runtime; prints the median of the per-round throughput ratios eyeballs/tokio (issue 18:
/// at least 0.95), which drift on a shared machine does not bias as it does criterion's
/// separate groups.
fn paired_concurrent(_: &mut Criterion) {
    const ROUNDS: usize = 41;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = eyeballs_lab::loopback::sink();
    let connector = connector();
    rt.block_on(batch(1000, addr, Some(&connector))); // warm the listener and the pools
    let mut rounds: Vec<[f64; 2]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; 2];
        for k in 0..2 {
            let which = (round + k) % 2;
            let connector = (which == 1).then_some(&connector);
            t[which] = rt.block_on(batch(1000, addr, connector)).as_secs_f64();
        }
        rounds.push(t);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "paired 1000 concurrent, {ROUNDS} rounds: tokio {:.1} ms, eyeballs {:.1} ms (medians); \
         median throughput ratio {:.3}",
        median(rounds.iter().map(|t| t[0] * 1e3).collect()),
        median(rounds.iter().map(|t| t[1] * 1e3).collect()),
        median(rounds.iter().map(|t| t[0] / t[1]).collect()),
    );
}

/// Rounds of `PER_ROUND` connects of each kind to `target`, in alternating order; prints the
/// median of the per-round ratios eyeballs/tokio, which drift on a shared machine does not
/// bias.
fn paired_rounds<T>(label: &str, target: T, floor: Option<SocketAddr>)
where
    T: tokio::net::ToSocketAddrs + eyeballs_tokio::ToHostPort + Copy,
{
    const ROUNDS: usize = 101;
    const PER_ROUND: u32 = 200;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connector = connector();
    // tokio, eyeballs and, by address, the driver's system calls without eyeballs.
    let kinds = if floor.is_some() { 3 } else { 2 };
    let mut rounds: Vec<[f64; 3]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; 3];
        for k in 0..kinds {
            let which = (round + k) % kinds;
            let start = Instant::now();
            rt.block_on(async {
                for _ in 0..PER_ROUND {
                    let s = match (which, floor) {
                        (0, _) => TcpStream::connect(target).await.unwrap(),
                        (2, Some(addr)) => floor_connect(addr).await,
                        _ => connector.connect(target).await.unwrap(),
                    };
                    close_now(s);
                }
            });
            t[which] = start.elapsed().as_secs_f64() * 1e6 / f64::from(PER_ROUND);
        }
        rounds.push(t);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let floor_text = match floor {
        Some(_) => format!(
            "; the same system calls without eyeballs {:.1} µs, ratio {:.3}",
            median(rounds.iter().map(|t| t[2]).collect()),
            median(rounds.iter().map(|t| t[2] / t[0]).collect()),
        ),
        None => String::new(),
    };
    println!(
        "{label}, {ROUNDS} rounds of {PER_ROUND}: tokio {:.1} µs, eyeballs {:.1} µs (medians); median ratio {:.3}{floor_text}",
        median(rounds.iter().map(|t| t[0]).collect()),
        median(rounds.iter().map(|t| t[1]).collect()),
        median(rounds.iter().map(|t| t[1] / t[0]).collect()),
    );
}

/// The system calls of the driver's connect to a healthy loopback address, without
/// eyeballs: a non-blocking socket, `connect` (in progress), `getpeername` (on loopback the
/// handshake is over), then the stream handed to tokio (its registration). tokio's own
/// connect makes one call more: it waits for writability (`epoll_wait`) and reads
/// `SO_ERROR` instead of `getpeername`.
async fn floor_connect(addr: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking(), None).unwrap();
    // In progress, as a rule (a refusal shows in `SO_ERROR` below).
    let started = socket.connect(&addr.into());
    let connected = started.is_ok() || socket.peer_addr().is_ok();
    let stream = TcpStream::from_std(socket.into()).unwrap();
    if !connected {
        stream.writable().await.unwrap();
        assert!(stream.take_error().unwrap().is_none(), "connect failed");
    }
    stream
}

/// One healthy connect to an address, paired.
fn paired(_: &mut Criterion) {
    let addr = eyeballs_lab::loopback::sink();
    paired_rounds("paired", addr, Some(addr));
}

/// Like [`paired`], by name: `("localhost", port)` through tokio's `lookup_host` and
/// through eyeballs (its per-family system lookups, answered for localhost names without
/// `getaddrinfo` as RFC 6761 asks, and a source-address probe per destination, cached 1 s).
fn paired_by_name(_: &mut Criterion) {
    let port = eyeballs_lab::loopback::sink_both();
    paired_rounds("paired by name (localhost)", ("localhost", port), None);
}

criterion_group!(
    benches,
    overhead,
    concurrent,
    paired_concurrent,
    paired,
    paired_by_name
);
criterion_main!(benches);
