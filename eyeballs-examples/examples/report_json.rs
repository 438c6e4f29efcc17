//! The report, and a failure, as JSON (feature `serde`): times in milliseconds
//! (`elapsed_ms`, `started_ms`, ...), endpoints with their address, transport, ALPN ids
//! and service priority. A `Failure<io::Error>` serializes once its errors are text.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use std::io;

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, Failure, StaticResolver};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("json.example.test", [V6, V4]))
        .build()?;
    let (stream, report) = connector
        .connect_with_report(("json.example.test", lab.port))
        .await;
    drop(stream?);
    let report = serde_json::to_value(report.expect("the race started"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    assert_eq!(report["attempts"][0]["result"], "failed");
    assert_eq!(report["attempts"][1]["result"], "connected");

    // A failed race: the `io::Error`'s inner error is the `Failure`.
    let closed = Lab::new(Behaviour::Refuse, Behaviour::Refuse);
    let Err(err) = connector.connect(("json.example.test", closed.port)).await else {
        return Err("a closed port connected".into());
    };
    let failure = err
        .into_inner()
        .and_then(|e| e.downcast::<Failure<io::Error>>().ok())
        .expect("a race failure");
    let failure = failure.map_err(|e| e.to_string());
    println!("{}", serde_json::to_string_pretty(&failure)?);
    Ok(())
}
