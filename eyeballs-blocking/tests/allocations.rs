//! Allocations of one healthy blocking connect to a loopback address, counted
//! (`allocation-counter`: this thread's allocations, and the whole race runs on it), against
//! std's own `TcpStream::connect`: a regression fails here, not in a benchmark.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};

use eyeballs_blocking::Connector;

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
    let connect = |c: &Connector, n: u64| (0..n).for_each(|_| drop(c.connect(addr).unwrap()));
    let plain = |n: u64| (0..n).for_each(|_| drop(TcpStream::connect(addr).unwrap()));
    // Warm-up: the thread's poller, the source cache, the history's entry.
    connect(&bare, 50);
    connect(&default, 50);
    plain(50);
    let ours = allocation_counter::measure(|| connect(&bare, rounds));
    let with_history = allocation_counter::measure(|| connect(&default, rounds));
    let theirs = allocation_counter::measure(|| plain(rounds));
    let per = ours.count_total / rounds;
    let per_history = with_history.count_total / rounds;
    let per_std = theirs.count_total / rounds;
    eprintln!(
        "allocations a connect: eyeballs {per} ({} bytes), with history {per_history} ({} \
         bytes), std {per_std}",
        ours.bytes_total / rounds,
        with_history.bytes_total / rounds
    );
    assert!(
        per <= MAX_PER_CONNECT,
        "{per} allocations a connect (std: {per_std})"
    );
    assert!(per_history <= MAX_PER_CONNECT, "{per_history} with history");
    // Tighter than the bound, so that a regression shows: the race is built in the memory of
    // the connector's last one (`Race::restart`), so with the history off a connect
    // allocates nothing, as std's; with it on, only the race's copy of its entries.
    assert_eq!(
        ours.count_total, 0,
        "allocations in {rounds} connects, history off"
    );
    assert!(
        with_history.count_total <= rounds,
        "{} allocations in {rounds} connects, history on",
        with_history.count_total
    );
    assert_eq!(ours.count_current, 0, "nothing kept");
    assert_eq!(with_history.count_current, 0, "nothing kept");
    acceptor.join().unwrap();
}
