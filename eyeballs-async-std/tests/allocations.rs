//! Allocations of one healthy connect to a loopback address on async-io, counted
//! (`allocation-counter`: this thread's allocations; `async_io::block_on` drives the reactor
//! here), against async-net's own `TcpStream::connect`.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use eyeballs_async_std::Connector;

/// The most allocations one connect to an address may make, history off (issue 18's bound).
const MAX_PER_CONNECT: u64 = 8;

#[test]
fn a_connect_to_an_address_allocates_little() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let rounds = 100u64;
    let total = 2 * 50 + 2 * rounds;
    let acceptor = std::thread::spawn(move || {
        for _ in 0..total {
            drop(listener.accept());
        }
    });
    let connector = Connector::builder().history(false).build().unwrap();
    let connect = |n: u64| {
        async_io::block_on(async {
            for _ in 0..n {
                drop(connector.connect(addr).await.unwrap());
            }
        })
    };
    let plain = |n: u64| {
        async_io::block_on(async {
            for _ in 0..n {
                drop(async_net::TcpStream::connect(addr).await.unwrap());
            }
        })
    };
    connect(50);
    plain(50);
    let ours = allocation_counter::measure(|| connect(rounds));
    let theirs = allocation_counter::measure(|| plain(rounds));
    let per = ours.count_total / rounds;
    let per_net = theirs.count_total / rounds;
    eprintln!(
        "allocations a connect: eyeballs {per} ({} bytes), async-net {per_net} ({} bytes)",
        ours.bytes_total / rounds,
        theirs.bytes_total / rounds
    );
    assert!(
        per <= MAX_PER_CONNECT,
        "{per} allocations a connect (async-net: {per_net})"
    );
    assert_eq!(ours.count_current, 0, "nothing kept");
    acceptor.join().unwrap();
}
