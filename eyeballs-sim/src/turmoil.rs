//! The connector inside a turmoil simulation (feature `turmoil`): TCP connects over
//! turmoil's simulated network, DNS and the host's routes from a [`Network`] script.
//!
//! turmoil (tokio's simulator of distributed systems) runs hosts with their own
//! addresses, links with latency, partitions and held messages, on tokio's paused clock.
//! [`Turmoil`] is a [`Runtime`] over it: its connects are `turmoil::net::TcpStream`s, its
//! clock and timer tokio's (so each host's simulated time). turmoil has no DNS with
//! record types, delays or HTTPS records, so names are answered from a script
//! ([`connector`]), whose host also gives the race its source addresses.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_sim::Network;
//!
//! let mut sim = turmoil::Builder::new()
//!     .min_message_latency(Duration::from_millis(5))
//!     .max_message_latency(Duration::from_millis(5))
//!     .build();
//! for server in ["2001:db8::1", "192.0.2.1"] {
//!     sim.host(server, move || async move {
//!         // A turmoil listener binds the unspecified address of its host's family.
//!         let any = match server.parse::<std::net::IpAddr>()? {
//!             std::net::IpAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED),
//!             std::net::IpAddr::V4(_) => std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED),
//!         };
//!         let listener = turmoil::net::TcpListener::bind((any, 443)).await?;
//!         loop {
//!             let _ = listener.accept().await?;
//!         }
//!     });
//! }
//! // turmoil's black hole: IPv6's SYN is held on the link, and never released.
//! sim.client("client", async {
//!     let dns = Network::new()
//!         .aaaa("example.test", ["2001:db8::1"])
//!         .a("example.test", ["192.0.2.1"]);
//!     let connector = eyeballs_sim::turmoil::connector(&dns)?.history(false).build()?;
//!     let start = tokio::time::Instant::now();
//!     let stream = connector.connect("example.test:443").await?;
//!     assert_eq!(stream.peer_addr()?, "192.0.2.1:443".parse()?);
//!     // IPv4 starts at 250 ms and connects when its SYN arrives, 5 ms later (turmoil
//!     // acknowledges a SYN without a message back).
//!     assert_eq!(start.elapsed(), Duration::from_millis(255));
//!     Ok(())
//! });
//! sim.hold("client", "2001:db8::1");
//! sim.run().map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What turmoil can and cannot carry
//!
//! - **Dual stack.** A turmoil host has exactly one address: servers of both families
//!   are two hosts, and the client's one address is its source for both families (the
//!   race's source facts, and so its history and RFC 6724 sorting, come from the script's
//!   host instead). A host without IPv6 cannot be expressed in turmoil.
//! - **Black holes.** A partitioned link drops the SYN and turmoil fails the connect at
//!   once with "connection refused", the opposite of a black hole. `hold` is the black
//!   hole: the SYN waits on the link until `release`.
//! - **TLS and QUIC.** `Turmoil` is a TCP runtime: TLS would need a real handshake over
//!   turmoil's streams, and turmoil has no QUIC. The [`Sim`](crate::Sim) engine
//!   simulates TLS and QUIC handshakes from the script.
//! - **Round trips.** A connect completes when the SYN reaches the listener: one link
//!   latency, not two.
//! - **Time.** turmoil advances its clock in ticks (1 ms by default) and draws link
//!   latencies at random between a minimum and a maximum (seeded): set both to one value
//!   for exact times.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use eyeballs_net::runtime::Runtime;
use eyeballs_net::sim::{Network, ScriptError, SimRuntime};
use eyeballs_net::{ConnectorBuilder, SocketOptions};
use eyeballs_tokio::Tokio;

/// A runtime whose TCP connects are turmoil's (`turmoil::net::TcpStream::connect`), on
/// the clock of the turmoil host it runs in. Socket options do not apply (turmoil has no
/// sockets). Use it inside a turmoil host or client, built with [`connector`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Turmoil;

impl Runtime for Turmoil {
    type Tcp = turmoil::net::TcpStream;
    type Timer = <Tokio as Runtime>::Timer;
    type Connect = Pin<Box<dyn Future<Output = io::Result<turmoil::net::TcpStream>> + Send>>;

    fn now(&self) -> Instant {
        Tokio.now()
    }

    fn timer(&self) -> Self::Timer {
        Tokio.timer()
    }

    fn connect(&self, addr: SocketAddr, _: &SocketOptions) -> Self::Connect {
        Box::pin(turmoil::net::TcpStream::connect(addr))
    }
}

/// Starts a connector builder on [`Turmoil`] whose DNS answers (on tokio's clock) and
/// source facts come from `network` (its endpoints are turmoil's hosts, not the script's).
///
/// # Errors
///
/// A [`ScriptError`] for a script that cannot happen.
pub fn connector(network: &Network) -> Result<ConnectorBuilder<Turmoil>, ScriptError> {
    Ok(SimRuntime::new(Tokio, network)?.connector_on(Turmoil))
}
