//! eyeballs on tokio: `connect` as a drop-in for `TcpStream::connect`, then a `Connector`
//! whose report shows the race. `race.example.test` resolves (a static resolver: no DNS
//! traffic) to `::1`, whose listener never answers, and `127.0.0.1`, which accepts: IPv4
//! starts after the Connection Attempt Delay (250 ms) and wins.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, StaticResolver};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);

    // What tokio's connect takes: "host:port", (host, port), a SocketAddr, &[SocketAddr].
    let stream = eyeballs_tokio::connect(("127.0.0.1", lab.port)).await?;
    println!("connect: {}", stream.peer_addr()?);

    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("race.example.test", [V6, V4]))
        .build()?;
    let (stream, report) = connector
        .connect_with_report(("race.example.test", lab.port))
        .await;
    println!("{}", report.expect("the race started"));
    assert_eq!(stream?.peer_addr()?, lab.addr(V4));
    Ok(())
}
