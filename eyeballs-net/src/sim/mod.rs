//! A network simulator that runs the real race in virtual time (feature `sim`; the
//! `eyeballs-sim` crate re-exports it, with property-test strategies and tokio glue).
//!
//! A [`Network`] is a script: what DNS answers and when, per name and record type (AAAA,
//! A, HTTPS); how each endpoint answers, per address, port and transport (accept,
//! refuse or hang after so long; a TLS or QUIC handshake that succeeds with an ALPN id,
//! fails, stalls or rejects ECH); UDP dropped; and the host's side (its source
//! addresses and routes, a NAT64 prefix). Two ways run it:
//!
//! - [`Sim`] drives the connectors' own race runner against the script in a loop of its
//!   own, with a virtual clock that jumps to the next event: no runtime, no socket, a
//!   race in microseconds, and the same [`Run`] (report, winner, events) for the same
//!   script and seed. TCP, TLS and QUIC are all simulated.
//! - [`SimRuntime`] is a [`Runtime`](crate::runtime::Runtime) (and, with feature `tls`, a
//!   [`TlsRuntime`](crate::runtime::TlsRuntime)) over the script, borrowing the clock and
//!   timer of another runtime: a `Connector<SimRuntime<_>>` is the real connector, and
//!   the user code around it (retries, pools) runs against the script. Under tokio with a
//!   paused clock that is virtual time too. QUIC is not offered on this path: a QUIC
//!   winner is a real `quinn::Connection`, which needs real packets.
//!
//! Requirement ids in these docs are defined in
//! [`eyeballs_core::requirements`].

mod engine;
mod error;
mod network;
mod runtime;
mod script;

pub use crate::runner::sim_loop::Event;
pub use engine::{Run, Sim, SimBuilder, SEED};
pub use error::ScriptError;
pub use network::{Answer, Family, Handshake, Network, Peer, SOURCE_V4, SOURCE_V6};
#[cfg(feature = "tls")]
pub use runtime::SimTlsStream;
pub use runtime::{SimResolver, SimRuntime, SimStream};
