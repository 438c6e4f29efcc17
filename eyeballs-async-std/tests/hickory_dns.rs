//! hickory-resolver on async-io (this crate's runtime provider), under async-std's executor
//! and smol's, against a real DNS server on loopback: the lab's hickory scenarios (AAAA
//! and A as separate queries, errors as sentences, HTTPS records decoded, nothing left
//! behind), and the bounds of hickory's background tasks. One test in this binary, so that
//! the descriptor and task counts have the process to themselves (feature `hickory`).
#![cfg(feature = "hickory")]
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use eyeballs_async_std::{hickory_background_tasks as background_tasks, AsyncIoRuntimeProvider};
use eyeballs_async_std::{Connector, HickoryResolver, QueryKind, Resolve, ServiceRecord};
use eyeballs_core::Config;
use eyeballs_lab::dns::{DnsServer, Reply, Zone};
use eyeballs_lab::hickory::{run_all, HickoryDriver};
use eyeballs_lab::loopback::{V4, V6};
use eyeballs_lab::scenarios::Outcome;
use hickory_resolver::proto::rr::RecordType;

/// The executor that drives the lookups and connects.
#[derive(Clone, Copy)]
enum Executor {
    AsyncStd,
    Smol,
}

impl Executor {
    fn block_on<F: Future>(self, future: F) -> F::Output {
        match self {
            Executor::AsyncStd => async_std::task::block_on(future),
            Executor::Smol => smol::block_on(future),
        }
    }
}

/// A resolver asking only `server`; with `timeout`, waiting that long and trying once.
fn resolver(server: SocketAddr, timeout: Option<Duration>) -> HickoryResolver {
    let Some(timeout) = timeout else {
        return HickoryResolver::with_name_servers(&[server]).unwrap();
    };
    HickoryResolver::with_options(&[server], |options| {
        options.timeout = timeout;
        options.attempts = 0;
    })
    .unwrap()
}

impl HickoryDriver for Executor {
    fn name(&self) -> &'static str {
        match self {
            Executor::AsyncStd => "async-std",
            Executor::Smol => "smol",
        }
    }

    fn race(
        &self,
        server: SocketAddr,
        timeout: Option<Duration>,
        config: Config,
        target: &str,
    ) -> Outcome {
        let connector = Connector::builder()
            .resolver(resolver(server, timeout))
            .config(config)
            .history(false)
            .build()
            .unwrap();
        let (stream, report) = self.block_on(connector.connect_with_report(target));
        (stream.and_then(|s| s.peer_addr()), report)
    }

    fn https(&self, server: SocketAddr, name: &str) -> (bool, io::Result<Vec<ServiceRecord>>) {
        let resolver = resolver(server, None);
        (
            resolver.answers_https(),
            self.block_on(resolver.resolve_https(name)),
        )
    }

    fn cancels_lookups(&self) -> bool {
        true
    }

    fn background_tasks(&self) -> Option<usize> {
        Some(background_tasks())
    }
}

/// Waits, bounded, until no hickory background task is alive.
fn no_tasks_within(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while background_tasks() != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    background_tasks() == 0
}

/// The threads of this process named `name` (Linux: /proc/self/task/*/comm).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// hickory's background tasks are bounded by the resolver's name server connections, not
/// by the number of lookups, and end when the resolver is dropped; however many resolvers
/// there were, one `eyeballs-hickory` thread runs them.
fn tasks_are_bounded(executor: Executor) {
    let name = "many.eyeballs.test";
    let zone = Zone::default()
        .set(
            name,
            RecordType::AAAA,
            Reply::Addrs(Duration::ZERO, vec![V6]),
        )
        .set(name, RecordType::A, Reply::Addrs(Duration::ZERO, vec![V4]));
    let server = DnsServer::start(zone);
    assert!(no_tasks_within(Duration::from_secs(5)), "a clean start");
    let resolver = resolver(server.addr, None);
    for _ in 0..20 {
        let (v6, v4) = executor.block_on(async {
            futures_lite::future::zip(
                resolver.resolve(name, QueryKind::Aaaa),
                resolver.resolve(name, QueryKind::A),
            )
            .await
        });
        assert_eq!(v6.unwrap(), vec![V6]);
        assert_eq!(v4.unwrap(), vec![V4]);
        // One server, UDP (TCP only for a truncated answer): one connection, one task.
        assert_eq!(background_tasks(), 1, "one task for the one connection");
    }
    drop(resolver);
    assert!(
        no_tasks_within(Duration::from_secs(5)),
        "{} tasks outlived their resolver",
        background_tasks()
    );
    // The kernel cuts thread names to 15 bytes.
    assert_eq!(
        threads_named("eyeballs-hickor"),
        1,
        "one thread per process"
    );
    drop(server);
}

/// The provider's TCP (used after a truncated UDP answer): it connects, from the address
/// it is told to bind, with a working stream; a refused port and a hanging one are errors,
/// the hanging one after hickory's connect timeout.
fn provider_tcp(executor: Executor) {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use hickory_resolver::net::runtime::RuntimeProvider;

    let provider = AsyncIoRuntimeProvider::new().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let bind: SocketAddr = "127.0.0.3:0".parse().unwrap();
    executor.block_on(async {
        let mut stream = provider.connect_tcp(addr, Some(bind), None).await.unwrap();
        let (mut accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer.ip(), bind.ip(), "bound where asked");
        stream.write_all(b"dns").await.unwrap();
        let mut got = [0; 3];
        std::io::Read::read_exact(&mut accepted, &mut got).unwrap();
        assert_eq!(&got, b"dns");
        std::io::Write::write_all(&mut accepted, b"ok").unwrap();
        let mut back = [0; 2];
        stream.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"ok");
    });
    drop(listener);
    let refused = executor.block_on(provider.connect_tcp(addr, None, None));
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(io::ErrorKind::ConnectionRefused)
    );
    let hang = eyeballs_lab::loopback::Lab::new(
        eyeballs_lab::loopback::Behaviour::Hang,
        eyeballs_lab::loopback::Behaviour::Hang,
    );
    let started = Instant::now();
    let limit = Some(Duration::from_millis(200));
    let hung = executor.block_on(provider.connect_tcp(hang.addr(V4), None, limit));
    assert_eq!(hung.err().map(|e| e.kind()), Some(io::ErrorKind::TimedOut));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn hickory_scenarios_on_async_std_and_smol() {
    for executor in [Executor::AsyncStd, Executor::Smol] {
        run_all(&executor);
        tasks_are_bounded(executor);
        provider_tcp(executor);
    }
}
