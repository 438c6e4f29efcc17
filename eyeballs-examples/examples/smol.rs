//! eyeballs on smol (eyeballs-async-std, on async-io): IPv6 refuses at once, so IPv4
//! starts right away and wins; the stream is an `async_net::TcpStream`.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use eyeballs_async_std::{Connector, StaticResolver};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    smol::block_on(async {
        let connector = Connector::builder()
            .resolver(StaticResolver::new().host("smol.example.test", [V6, V4]))
            .build()?;
        let (stream, report) = connector
            .connect_with_report(("smol.example.test", lab.port))
            .await;
        println!("{}", report.expect("the race started"));
        assert_eq!(stream?.peer_addr()?, lab.addr(V4));
        Ok(())
    })
}
