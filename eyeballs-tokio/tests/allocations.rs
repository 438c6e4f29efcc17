//! Allocations of one healthy connect to a loopback address, counted (`allocation-counter`,
//! this thread's allocations; the whole connect runs on a current-thread runtime here),
//! against tokio's own `TcpStream::connect`: a regression fails here, not in a benchmark.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use eyeballs_tokio::Connector;

/// The most allocations one eyeballs connect to an address may make, with the history off
/// and on (the default; the race then copies its destinations' entries into a small
/// snapshot of its own): issue 18's bound.
const MAX_PER_CONNECT: u64 = 8;

#[test]
fn a_connect_to_an_address_allocates_little() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    // Accept and close on a thread of its own (not counted); bounded by the test's connects.
    let total = 450; // 3 × 50 warm-up + 3 × 100 measured
    let acceptor = std::thread::spawn(move || {
        for _ in 0..total {
            drop(listener.accept());
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bare = Connector::builder().history(false).build().unwrap();
    // The default connector: history on.
    let default = Connector::default();
    let rounds = 100u64;
    let connect = |connector: &Connector, n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                drop(connector.connect(addr).await.unwrap());
            }
            // tokio frees a dropped socket's registration at its driver's next turn; a
            // loopback connect established at its first poll never waits, so nothing turns
            // it: one yield does (the current-thread scheduler polls its driver then).
            tokio::task::yield_now().await;
        })
    };
    let plain = |n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                drop(tokio::net::TcpStream::connect(addr).await.unwrap());
            }
            // As above: no registration left pending for the next measurement.
            tokio::task::yield_now().await;
        })
    };
    // Warm-up: the runtime's, the source cache's and the history's buffers.
    connect(&bare, 50);
    connect(&default, 50);
    plain(50);
    let ours = allocation_counter::measure(|| connect(&bare, rounds));
    let with_history = allocation_counter::measure(|| connect(&default, rounds));
    let theirs = allocation_counter::measure(|| plain(rounds));
    let per = ours.count_total / rounds;
    let per_history = with_history.count_total / rounds;
    let per_tokio = theirs.count_total / rounds;
    eprintln!(
        "allocations a connect: eyeballs {per} ({} bytes), with history {per_history} ({} \
         bytes), tokio {per_tokio} ({} bytes)",
        ours.bytes_total / rounds,
        with_history.bytes_total / rounds,
        theirs.bytes_total / rounds
    );
    assert!(
        per <= MAX_PER_CONNECT,
        "{per} allocations a connect (tokio: {per_tokio})"
    );
    assert!(per_history <= MAX_PER_CONNECT, "{per_history} with history");
    assert_eq!(ours.count_current, 0, "nothing kept");
    assert_eq!(with_history.count_current, 0, "nothing kept");
    acceptor.join().unwrap();
}
