//! One healthy TLS connect and one healthy QUIC connect through eyeballs against the plain
//! crates on loopback: tokio-rustls over `TcpStream::connect`, and quinn's
//! `Endpoint::connect_with` (one client endpoint, as eyeballs keeps one per family). Both
//! sides use the same rustls config (so the same session cache) and the same servers
//! (eyeballs-lab's, on their own threads).
//!
//! Run: `cargo bench -p eyeballs-tokio --features quic --bench tls`.
//!
//! The criterion groups come first; "paired" then interleaves rounds of plain and eyeballs
//! connects and prints the median of the per-round ratios, which load drift on a shared
//! machine does not bias.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{QuicServe, QuicServer, TestCa, TlsServe, TlsServer};
use eyeballs_tokio::{Connector, Tls};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

struct Setup {
    rt: Runtime,
    _servers: (TlsServer, QuicServer),
    tls_addr: SocketAddr,
    quic_addr: SocketAddr,
    /// The client config over TCP (`h2`) and its `Tls`.
    tcp_config: Arc<rustls::ClientConfig>,
    tcp: Tls,
    /// quinn's client endpoint and config (`h3`), and eyeballs' QUIC-only `Tls`.
    quinn: quinn::Endpoint,
    quinn_config: quinn::ClientConfig,
    quic: Tls,
    connector: Connector,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ca = TestCa::new();
    let tls_server = TlsServer::bind(
        SocketAddr::new(V4, 0),
        ca.server_config(&["127.0.0.1"], &["h2"]),
        TlsServe::Echo,
    )
    .unwrap();
    let quic_server = QuicServer::bind(
        SocketAddr::new(V4, 0),
        ca.server_config(&["127.0.0.1"], &["h3"]),
        QuicServe::Echo,
    )
    .unwrap();
    let tcp_config = Arc::new(ca.client_config(&["h2"]));
    let quic_config = Arc::new(ca.client_config(&["h3"]));
    let quinn_config = quinn::ClientConfig::new(Arc::new(
        quinn::crypto::rustls::QuicClientConfig::try_from(quic_config.clone()).unwrap(),
    ));
    let quinn = rt.block_on(async {
        quinn::Endpoint::client(SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0)).unwrap()
    });
    Setup {
        tls_addr: tls_server.addr(),
        quic_addr: quic_server.addr(),
        _servers: (tls_server, quic_server),
        tcp: Tls::new(tcp_config.clone()).unwrap(),
        tcp_config,
        quinn,
        quinn_config,
        quic: Tls::new(quic_config).unwrap(),
        connector: Connector::builder().history(false).build().unwrap(),
        rt,
    }
}

impl Setup {
    async fn plain_tls(&self) {
        let tcp = TcpStream::connect(self.tls_addr).await.unwrap();
        let name = ServerName::IpAddress(self.tls_addr.ip().into());
        let tls = tokio_rustls::TlsConnector::from(self.tcp_config.clone())
            .connect(name, tcp)
            .await
            .unwrap();
        drop(tls);
    }

    async fn eyeballs_tls(&self) {
        let c = self
            .connector
            .connect_tls(self.tls_addr, &self.tcp)
            .await
            .unwrap();
        drop(c);
    }

    async fn plain_quic(&self) {
        let c = self
            .quinn
            .connect_with(self.quinn_config.clone(), self.quic_addr, "127.0.0.1")
            .unwrap()
            .await
            .unwrap();
        drop(c);
    }

    async fn eyeballs_quic(&self) {
        let c = self
            .connector
            .connect_tls(self.quic_addr, &self.quic)
            .await
            .unwrap();
        assert_eq!(c.transport(), eyeballs_tokio::Transport::Quic);
        drop(c);
    }
}

fn groups(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("tls/one healthy loopback");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("tokio-rustls over TcpStream::connect", |b| {
        b.iter(|| s.rt.block_on(s.plain_tls()))
    });
    group.bench_function("eyeballs Connector::connect_tls", |b| {
        b.iter(|| s.rt.block_on(s.eyeballs_tls()))
    });
    group.finish();
    let mut group = c.benchmark_group("quic/one healthy loopback");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("quinn Endpoint::connect_with", |b| {
        b.iter(|| s.rt.block_on(s.plain_quic()))
    });
    group.bench_function("eyeballs Connector::connect_tls (QUIC)", |b| {
        b.iter(|| s.rt.block_on(s.eyeballs_quic()))
    });
    group.finish();
}

/// Rounds of `PER_ROUND` connects of each kind, in alternating order; prints the median of
/// the per-round ratios eyeballs/plain.
fn paired(_: &mut Criterion) {
    const ROUNDS: usize = 41;
    const PER_ROUND: u32 = 20;
    let s = setup();
    for quic in [false, true] {
        let mut rounds: Vec<[f64; 2]> = Vec::new();
        for round in 0..ROUNDS {
            let mut t = [0.0; 2];
            for k in 0..2 {
                let which = (round + k) % 2;
                let start = Instant::now();
                s.rt.block_on(async {
                    for _ in 0..PER_ROUND {
                        match (quic, which) {
                            (false, 0) => s.plain_tls().await,
                            (false, _) => s.eyeballs_tls().await,
                            (true, 0) => s.plain_quic().await,
                            (true, _) => s.eyeballs_quic().await,
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
        let (plain, ours) = match quic {
            false => ("tokio-rustls", "eyeballs TLS"),
            true => ("quinn", "eyeballs QUIC"),
        };
        println!(
            "paired, {ROUNDS} rounds of {PER_ROUND}: {plain} {:.1} µs, {ours} {:.1} µs (medians); median ratio {:.3}",
            median(rounds.iter().map(|t| t[0]).collect()),
            median(rounds.iter().map(|t| t[1]).collect()),
            median(rounds.iter().map(|t| t[1] / t[0]).collect()),
        );
    }
}

criterion_group!(benches, groups, paired);
criterion_main!(benches);
