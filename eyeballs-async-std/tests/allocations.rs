//! Allocations of one healthy connect to a loopback address on async-io, counted
//! (`allocation-counter`: this thread's allocations; `async_io::block_on` drives the reactor
//! here), against async-net's own `TcpStream::connect`.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use eyeballs_async_std::Connector;

/// The most allocations one connect to an address may make, with the history off and on (the
/// default): issue 18's bound.
const MAX_PER_CONNECT: u64 = 8;

#[test]
fn a_connect_to_an_address_allocates_little() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let rounds = 100u64;
    let total = 3 * 50 + 3 * rounds;
    let acceptor = std::thread::spawn(move || {
        for _ in 0..total {
            drop(listener.accept());
        }
    });
    let bare = Connector::builder().history(false).build().unwrap();
    // The default connector: history on.
    let default = Connector::default();
    let connect = |connector: &Connector, n: u64| {
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
    connect(&bare, 50);
    connect(&default, 50);
    plain(50);
    let ours = allocation_counter::measure(|| connect(&bare, rounds));
    let with_history = allocation_counter::measure(|| connect(&default, rounds));
    let theirs = allocation_counter::measure(|| plain(rounds));
    let per = ours.count_total / rounds;
    let per_history = with_history.count_total / rounds;
    let per_net = theirs.count_total / rounds;
    eprintln!(
        "allocations a connect: eyeballs {per} ({} bytes), with history {per_history} ({} \
         bytes), async-net {per_net} ({} bytes)",
        ours.bytes_total / rounds,
        with_history.bytes_total / rounds,
        theirs.bytes_total / rounds
    );
    assert!(
        per <= MAX_PER_CONNECT,
        "{per} allocations a connect (async-net: {per_net})"
    );
    assert!(per_history <= MAX_PER_CONNECT, "{per_history} with history");
    assert_eq!(ours.count_current, 0, "nothing kept");
    assert_eq!(with_history.count_current, 0, "nothing kept");
    acceptor.join().unwrap();
}
