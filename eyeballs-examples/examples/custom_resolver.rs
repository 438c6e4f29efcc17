//! A resolver of your own: anything that implements `Resolve` (here, every name under
//! `.test` is both loopbacks, answered at once; a blocking lookup would go on the
//! resolver pool with `on_pool`). The race asks AAAA and A apart, so RFC 8305's
//! Resolution Delay applies.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use std::io;
use std::net::IpAddr;

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, QueryKind, Resolve, Resolving};

/// Every `*.test` name is `::1` and `127.0.0.1`; other names do not exist.
struct LoopbackZone;

impl Resolve for LoopbackZone {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let answer: io::Result<Vec<IpAddr>> = match (name.ends_with(".test"), kind) {
            (false, _) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name}: no such name"),
            )),
            (true, QueryKind::Aaaa) => Ok(vec![V6]),
            (true, QueryKind::A) => Ok(vec![V4]),
            (true, _) => Ok(vec![V6, V4]),
        };
        Box::pin(std::future::ready(answer))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let connector = Connector::builder().resolver(LoopbackZone).build()?;
    let (stream, report) = connector
        .connect_with_report(("anything.test", lab.port))
        .await;
    println!("{}", report.expect("the race started"));
    assert_eq!(stream?.peer_addr()?, lab.addr(V4));
    if let Err(e) = connector.connect(("elsewhere.example", lab.port)).await {
        println!("elsewhere.example: {e}");
    }
    Ok(())
}
