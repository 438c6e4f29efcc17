//! Heap in use after races whose QUIC attempt was cancelled (feature `quic`): every race's
//! QUIC attempt goes into a UDP socket that swallows its packets, TCP+TLS wins one attempt
//! delay later and the QUIC attempt is cancelled. A cycle in the ready set once kept about
//! 200 bytes of every such race; the heap must come back to where it started.
//!
//! The allocator counts what this thread allocates and frees (`allocation-counter`), and the
//! whole client runs on this thread (a current-thread runtime; quinn's tasks are spawned on
//! it); the servers run on threads of their own and are not counted. CI runs 1,000 races;
//! `EYEBALLS_HEAP_RACES=10000` runs the 10,000.
#![cfg(feature = "quic")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use eyeballs_lab::loopback::V6;
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer, UdpBlackhole};
use eyeballs_tokio::{Config, Connector, ServiceRecord, StaticResolver, Tls, Transport};

const NAME: &str = "heap.eyeballs.test";

#[test]
fn cancelled_quic_attempts_leave_the_heap_where_it_started() {
    let races: usize = std::env::var("EYEBALLS_HEAP_RACES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let ca = TestCa::new();
    let (port, mut listeners, mut sockets) = same_port(&[V6], &[V6]).unwrap();
    let config = ca.server_config(&[NAME], &["h2"]);
    let _tls = TlsServer::start(listeners.pop().unwrap(), config, TlsServe::Echo).unwrap();
    let hole = UdpBlackhole::start(sockets.pop().unwrap()).unwrap();
    let record = ServiceRecord::new(1, ".").alpn(["h3", "h2"]);
    let resolver = StaticResolver::new()
        .host(NAME, [V6])
        .https(&format!("_{port}._https.{NAME}"), [record]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connector = Connector::builder()
        .resolver(resolver)
        .config(Config::default().connection_attempt_delay(Duration::from_millis(10)))
        .history(false)
        .build()
        .unwrap();
    let tls = Tls::new(Arc::new(ca.client_config(&["h3", "h2"]))).unwrap();
    let race = |n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                let (connection, report) =
                    connector.connect_tls_with_report((NAME, port), &tls).await;
                let connection = connection.unwrap();
                let report = report.unwrap();
                assert_eq!(connection.transport(), Transport::Tcp, "{report}");
                assert_eq!(report.attempts().len(), 2, "QUIC, then TCP: {report}");
            }
            // The cancelled attempts' tasks end at once (their close goes first); give the
            // runtime a turn to run them to the end.
            tokio::time::sleep(Duration::from_millis(100)).await;
        })
    };
    // Warm-up: what the runtime, quinn and rustls keep for good (buffers, the per-family
    // socket state, session tickets) is made here.
    race(50);
    let small = allocation_counter::measure(|| race(100));
    let large = allocation_counter::measure(|| race(races));
    assert!(hole.received() >= races, "every race sent QUIC packets: {}", hole.received());
    // Whatever is still held after the races: the same after 100 races as after `races`.
    // A leak of even 16 bytes a race would show as 16 KB over 1,000 races.
    let growth = large.bytes_current - small.bytes_current;
    assert!(
        large.bytes_current < 64 * 1024 && growth < 16 * 1024,
        "heap held after {races} races: {} bytes (after 100: {} bytes)",
        large.bytes_current,
        small.bytes_current
    );
    eprintln!(
        "{races} races with a cancelled QUIC attempt: {} bytes still held ({} allocations \
         made, {} not freed); after 100 races: {} bytes",
        large.bytes_current, large.count_total, large.count_current, small.bytes_current
    );
}
