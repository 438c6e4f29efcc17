//! Allocations of one healthy connect to a loopback address, counted (`allocation-counter`,
//! this thread's allocations; the whole connect runs on a current-thread runtime here),
//! against tokio's own `TcpStream::connect`: a regression fails here, not in a benchmark.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use eyeballs_tokio::Connector;

/// The most allocations one eyeballs connect to an address may make (issue 18's bound).
const MAX_PER_CONNECT: u64 = 8;

#[test]
fn a_connect_to_an_address_allocates_little() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    // Accept and close on a thread of its own (not counted); bounded by the test's connects.
    let total = 300;
    let acceptor = std::thread::spawn(move || {
        for _ in 0..total {
            drop(listener.accept());
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connector = Connector::builder().history(false).build().unwrap();
    let rounds = 100u64;
    let connect = |n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                drop(connector.connect(addr).await.unwrap());
            }
        })
    };
    let plain = |n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                drop(tokio::net::TcpStream::connect(addr).await.unwrap());
            }
        })
    };
    // Warm-up: the runtime's and the source cache's buffers.
    connect(50);
    plain(50);
    let ours = allocation_counter::measure(|| connect(rounds));
    let theirs = allocation_counter::measure(|| plain(rounds));
    let per = ours.count_total / rounds;
    let per_tokio = theirs.count_total / rounds;
    eprintln!(
        "allocations a connect: eyeballs {per} ({} bytes), tokio {per_tokio} ({} bytes)",
        ours.bytes_total / rounds,
        theirs.bytes_total / rounds
    );
    assert!(
        per <= MAX_PER_CONNECT,
        "{per} allocations a connect (tokio: {per_tokio})"
    );
    assert_eq!(ours.count_current, 0, "nothing kept");
    acceptor.join().unwrap();
}
