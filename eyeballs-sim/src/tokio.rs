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
//! For a turmoil simulation (hosts, links, partitions), feature `turmoil` has a runtime
//! whose connects are turmoil's: `eyeballs_sim::turmoil`, whose docs say what turmoil
//! can and cannot carry.

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
