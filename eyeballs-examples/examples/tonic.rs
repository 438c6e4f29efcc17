//! gRPC over eyeballs: tonic's `Channel` with `eyeballs_tokio::HttpConnector` (feature
//! `hyper`) as its connector, so each connection is a Happy Eyeballs race. The service is
//! tonic-health's (generated code ships in the crate: no protoc), served by tonic on
//! 127.0.0.1; `::1` refuses.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use eyeballs_lab::loopback::{V4, V6};
use eyeballs_tokio::{Connector, HttpConnector, StaticResolver};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("eyeballs", tonic_health::ServingStatus::Serving)
        .await;
    let incoming = TcpIncoming::bind((V4, 0).into())?;
    let port = incoming.local_addr()?.port();
    tokio::spawn(
        Server::builder()
            .add_service(health)
            .serve_with_incoming(incoming),
    );

    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("grpc.example.test", [V6, V4]))
        .build()?;
    let channel = Endpoint::from_shared(format!("http://grpc.example.test:{port}"))?
        .connect_with_connector(HttpConnector::new(connector))
        .await?;
    let mut client = HealthClient::new(channel);
    let response = client
        .check(HealthCheckRequest {
            service: "eyeballs".into(),
        })
        .await?;
    println!("eyeballs: {:?}", response.get_ref().status());
    assert_eq!(response.get_ref().status, 1, "SERVING");
    Ok(())
}
