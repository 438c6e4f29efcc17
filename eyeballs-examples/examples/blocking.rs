//! eyeballs with no runtime: `eyeballs_blocking::connect` is a drop-in for
//! `std::net::TcpStream::connect`; the race runs on the calling thread with one poller.
//! IPv6 hangs, IPv4 wins after the attempt delay, and the history sends the next race
//! straight to IPv4.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use eyeballs_blocking::{Connector, StaticResolver};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let stream = eyeballs_blocking::connect(("127.0.0.1", lab.port))?; // a std::net::TcpStream
    println!("connect: {}", stream.peer_addr()?);

    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("blocking.example.test", [V6, V4]))
        .build()?;
    for race in ["first race", "second race (history: IPv4 first)"] {
        let (stream, report) = connector.connect_with_report(("blocking.example.test", lab.port));
        println!("{race}:\n{}", report.expect("the race started"));
        assert_eq!(stream?.peer_addr()?, lab.addr(V4));
    }
    Ok(())
}
