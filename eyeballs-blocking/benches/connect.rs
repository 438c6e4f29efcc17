//! eyeballs-blocking against plain std::net on loopback: the overhead of one healthy connect.
//!
//! Run: `cargo bench -p eyeballs-blocking --bench connect`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

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

criterion_group!(benches, overhead);
criterion_main!(benches);
