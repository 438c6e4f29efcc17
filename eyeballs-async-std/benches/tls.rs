//! One healthy TLS connect through eyeballs against plain futures-rustls over async-net on
//! loopback, on smol's executor (same rustls config, same server).
//!
//! Run: `cargo bench -p eyeballs-async-std --features tls --bench tls`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_async_std::{Connector, TcpStream, Tls};
use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{TestCa, TlsServe, TlsServer};
use rustls::pki_types::ServerName;

fn setup() -> (TlsServer, Arc<rustls::ClientConfig>, Tls, Connector) {
    let ca = TestCa::new();
    let server = TlsServer::bind(
        SocketAddr::new(V4, 0),
        ca.server_config(&["127.0.0.1"], &["h2"]),
        TlsServe::Echo,
    )
    .unwrap();
    let config = Arc::new(ca.client_config(&["h2"]));
    let tls = Tls::new(config.clone()).unwrap();
    let connector = Connector::builder().history(false).build().unwrap();
    (server, config, tls, connector)
}

async fn plain(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = futures_rustls::TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .unwrap();
    drop(tls);
}

fn overhead(c: &mut Criterion) {
    let (server, config, tls, connector) = setup();
    let addr = server.addr();
    let mut group = c.benchmark_group("async-io tls/one healthy loopback");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("futures-rustls over async-net", |b| {
        b.iter(|| smol::block_on(plain(addr, &config)))
    });
    group.bench_function("eyeballs Connector::connect_tls", |b| {
        b.iter(|| smol::block_on(async { drop(connector.connect_tls(addr, &tls).await.unwrap()) }))
    });
    group.finish();
}

/// Interleaved rounds; prints the median of the per-round ratios eyeballs/plain.
fn paired(_: &mut Criterion) {
    const ROUNDS: usize = 41;
    const PER_ROUND: u32 = 20;
    let (server, config, tls, connector) = setup();
    let addr = server.addr();
    let mut rounds: Vec<[f64; 2]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; 2];
        for k in 0..2 {
            let which = (round + k) % 2;
            let start = Instant::now();
            smol::block_on(async {
                for _ in 0..PER_ROUND {
                    match which {
                        0 => plain(addr, &config).await,
                        _ => drop(connector.connect_tls(addr, &tls).await.unwrap()),
                    }
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
    println!(
        "paired, {ROUNDS} rounds of {PER_ROUND}: futures-rustls {:.1} µs, eyeballs {:.1} µs (medians); median ratio {:.3}",
        median(rounds.iter().map(|t| t[0]).collect()),
        median(rounds.iter().map(|t| t[1]).collect()),
        median(rounds.iter().map(|t| t[1] / t[0]).collect()),
    );
}

criterion_group!(benches, overhead, paired);
criterion_main!(benches);
