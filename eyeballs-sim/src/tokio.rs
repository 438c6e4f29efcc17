//! The real connector in virtual time on tokio (feature `tokio`).
//!
//! [`runtime`] gives a [`SimRuntime`] on tokio's clock: `runtime(&network)?.connector()`
//! builds an `eyeballs_net::Connector` whose connects, TLS handshakes (feature `tls`) and
//! DNS answers follow the script. Pause tokio's clock (`#[tokio::test(start_paused =
//! true)]`, or `tokio::time::pause()`, tokio's feature `test-util`) and every wait is
//! virtual: when all tasks wait, tokio jumps to the next timer, so your code — retries,
//! timeouts, pools around the connector — runs against the script with exact times, no
//! real sleep and the same result every run.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_sim::{Network, Peer};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ms = Duration::from_millis;
//! let network = Network::new()
//!     .aaaa("example.test", ["2001:db8::1"])
//!     .a("example.test", ["192.0.2.1"])
//!     .tcp("[2001:db8::1]:443", Peer::hang())
//!     .tcp("192.0.2.1:443", Peer::accept(ms(20)));
//! let connector = eyeballs_sim::tokio::runtime(&network)?.connector().build()?;
//! let start = tokio::time::Instant::now();
//! let stream = connector.connect("example.test:443").await?;
//! assert_eq!(stream.peer_addr(), "192.0.2.1:443".parse()?);
//! assert_eq!(start.elapsed(), ms(270)); // virtual: the test took microseconds
//! # Ok(())
//! # }
//! ```
//!
//! What this path cannot simulate, and why, is in [`SimRuntime`]'s docs (QUIC above all:
//! a QUIC winner is a real `quinn::Connection`); the [`Sim`](crate::Sim) engine simulates
//! all of it.
//!
//! # turmoil
//!
//! turmoil (tokio's simulator of distributed systems) was evaluated as a second carrier
//! and not adapted. A runtime over it is possible for TCP (`turmoil::net::TcpStream`, its
//! tokio clock), but it cannot carry what these tests are about: each turmoil host has
//! exactly one IP address, and a simulation is either IPv4 or IPv6, so a dual-stack client
//! with a source address per family does not exist there; its DNS maps a name to one
//! address, with no AAAA/A split, no delays and no HTTPS records; a partitioned link drops
//! the SYN and the connect fails at once with "connection refused" (the SYN's reply
//! channel is dropped), so a black hole — the failure Happy Eyeballs exists for — cannot
//! be expressed (`hold` comes closest, a connect pending until `release`); and it has no
//! QUIC. The script here covers all of those directly.

use eyeballs_net::sim::{Network, ScriptError, SimRuntime};
use eyeballs_tokio::Tokio;

/// A simulated runtime on tokio's clock.
pub type TokioSim = SimRuntime<Tokio>;

/// Makes a [`SimRuntime`] over `network` on tokio's clock and timer (pause the clock for
/// virtual time).
///
/// # Errors
///
/// A [`ScriptError`] for a script that cannot happen.
pub fn runtime(network: &Network) -> Result<TokioSim, ScriptError> {
    SimRuntime::new(Tokio, network)
}
