//! eyeballs-blocking against plain std::net on loopback: the overhead of one healthy connect.
//!
//! Run: `cargo bench -p eyeballs-blocking --bench connect`.
//!
//! On a shared machine the load moves from one criterion group to the next; the last
//! benchmark, "paired", interleaves short rounds of each kind of connect and prints the
//! median of the per-round ratios, which such drift does not bias.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use eyeballs_blocking::Connector;

fn overhead(c: &mut Criterion) {
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    let mut group = c.benchmark_group("blocking/one healthy loopback");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("std TcpStream::connect", |b| {
        b.iter(|| drop(TcpStream::connect(addr).unwrap()))
    });
    // The floor of a one-thread, non-blocking design, without eyeballs: one non-blocking
    // socket, a poller kept across connects (as the driver keeps one per thread), wait for
    // writable, check SO_ERROR, back to blocking.
    let mut poll = mio::Poll::new().unwrap();
    group.bench_function("non-blocking connect + mio poll", |b| {
        b.iter(|| drop(poll_connect(&mut poll, addr)))
    });
    // The same with a new poller per connect (an epoll descriptor made and closed), as the
    // driver did before it kept one per thread.
    group.bench_function("non-blocking connect + new mio poll", |b| {
        b.iter(|| drop(poll_connect(&mut mio::Poll::new().unwrap(), addr)))
    });
    group.bench_function("eyeballs Connector::connect", |b| {
        b.iter(|| drop(connector.connect(addr).unwrap()))
    });
    group.finish();
}

fn poll_connect(poll: &mut mio::Poll, addr: SocketAddr) -> TcpStream {
    use mio::{Events, Interest, Token};
    let mut stream = mio::net::TcpStream::connect(addr).unwrap();
    poll.registry()
        .register(&mut stream, Token(1), Interest::WRITABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    loop {
        poll.poll(&mut events, None).unwrap();
        if stream.take_error().unwrap().is_none() && stream.peer_addr().is_ok() {
            break;
        }
    }
    poll.registry().deregister(&mut stream).unwrap();
    let stream = TcpStream::from(stream);
    stream.set_nonblocking(false).unwrap();
    stream
}

/// The system calls of the driver's first connect to a healthy loopback address when the
/// race has more to do than that attempt (another address, a deadline), without eyeballs: a
/// non-blocking socket, `connect` (in progress), `getpeername` (the handshake is over on
/// loopback), back to blocking. Five system calls with the close, std's three. A race whose
/// one attempt is all that can happen (this bench's: one address, no deadline) connects it
/// in place with std's three since 2026-12-07, so its floor is std's own connect.
fn nonblocking_peer_connect(addr: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking(), None).unwrap();
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => panic!("connect: {e}"),
    }
    socket.peer_addr().unwrap();
    socket.set_nonblocking(false).unwrap();
    socket.into()
}

/// The other bounded design (issue 18's suggestion): a blocking `connect` bounded by the
/// attempt delay through `SO_SNDTIMEO`, which Linux's `connect` honours, then the timeout
/// taken off again (the caller's stream has none, as std's). Also five system calls.
fn sndtimeo_connect(addr: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).unwrap();
    socket
        .set_write_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.set_write_timeout(None).unwrap();
    socket.into()
}

/// Rounds of `PER_ROUND` connects of each kind, interleaved; prints the median of the
/// per-round ratios to std.
fn paired(_: &mut Criterion) {
    const ROUNDS: usize = 101;
    const PER_ROUND: u32 = 200;
    const KINDS: usize = 5;
    let addr = eyeballs_lab::loopback::sink();
    let connector = Connector::builder().build().unwrap();
    let mut poll = mio::Poll::new().unwrap();
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            f();
        }
        start.elapsed() / PER_ROUND
    };
    // Per round: the time of one connect of each kind, in an order that rotates.
    let mut rounds: Vec<[f64; KINDS]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; KINDS];
        for k in 0..KINDS {
            let which = (round + k) % KINDS;
            let d = match which {
                0 => time(&mut || drop(TcpStream::connect(addr).unwrap())),
                1 => time(&mut || drop(connector.connect(addr).unwrap())),
                2 => time(&mut || drop(poll_connect(&mut poll, addr))),
                3 => time(&mut || drop(nonblocking_peer_connect(addr))),
                _ => time(&mut || drop(sndtimeo_connect(addr))),
            };
            t[which] = d.as_secs_f64() * 1e6;
        }
        rounds.push(t);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let at = |i: usize| median(rounds.iter().map(|t| t[i]).collect());
    let ratio = |i: usize| median(rounds.iter().map(|t| t[i] / t[0]).collect());
    println!(
        "paired, {ROUNDS} rounds of {PER_ROUND}: std {:.1} µs, eyeballs {:.1} µs, floor {:.1} µs, \
         getpeername floor {:.1} µs, SO_SNDTIMEO floor {:.1} µs (medians); median ratio to std: \
         eyeballs {:.3}, floor {:.3}, getpeername floor {:.3}, SO_SNDTIMEO floor {:.3}",
        at(0),
        at(1),
        at(2),
        at(3),
        at(4),
        ratio(1),
        ratio(2),
        ratio(3),
        ratio(4),
    );
}

/// Like [`paired`] by name: `("localhost", port)` through std (`getaddrinfo` once) and
/// through eyeballs (per-family system lookups, answered for localhost names without
/// `getaddrinfo` as RFC 6761 asks, and a source-address probe per destination, cached 1 s).
fn paired_by_name(_: &mut Criterion) {
    const ROUNDS: usize = 101;
    const PER_ROUND: u32 = 200;
    let port = eyeballs_lab::loopback::sink_both();
    let connector = Connector::builder().build().unwrap();
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            f();
        }
        start.elapsed() / PER_ROUND
    };
    let mut rounds: Vec<[f64; 2]> = Vec::new();
    for round in 0..ROUNDS {
        let mut t = [0.0; 2];
        for k in 0..2 {
            let which = (round + k) % 2;
            let d = match which {
                0 => time(&mut || drop(TcpStream::connect(("localhost", port)).unwrap())),
                _ => time(&mut || drop(connector.connect(("localhost", port)).unwrap())),
            };
            t[which] = d.as_secs_f64() * 1e6;
        }
        rounds.push(t);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "paired by name (localhost), {ROUNDS} rounds of {PER_ROUND}: std {:.1} µs, eyeballs {:.1} µs \
         (medians); median ratio {:.3}",
        median(rounds.iter().map(|t| t[0]).collect()),
        median(rounds.iter().map(|t| t[1]).collect()),
        median(rounds.iter().map(|t| t[1] / t[0]).collect()),
    );
}

criterion_group!(benches, overhead, paired, paired_by_name);
criterion_main!(benches);
