//! Deterministic tests for Happy Eyeballs clients: a scripted network and a virtual clock
//! that run the race runner every eyeballs connector uses.
//!
//! Write what the network does ("IPv6 is black-holed", "UDP is blocked", "the HTTPS
//! record comes 300 ms late", "this server stalls its TLS handshake"), run a race against
//! it, and assert on exact times, the winner, the report. No socket is opened, no packet
//! sent, no real time waited: a race that takes ten virtual seconds runs in microseconds,
//! and the same script, configuration and seed give the same result every run.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_sim::{Network, Peer, Sim};
//!
//! let ms = Duration::from_millis;
//! let network = Network::new()
//!     .aaaa("example.test", ["2001:db8::1"])
//!     .a("example.test", ["192.0.2.1"])
//!     .tcp("[2001:db8::1]:443", Peer::hang()) // a black-holed IPv6 path
//!     .tcp("192.0.2.1:443", Peer::accept(ms(20)));
//! let run = Sim::new(network)?.connect("example.test:443");
//! assert_eq!(run.winner().map(|e| e.addr()), Some("192.0.2.1:443".parse()?));
//! assert_eq!(run.elapsed(), ms(270)); // 250 ms Connection Attempt Delay, then 20 ms
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The [guide] walks through it: [`Network`] scripts DNS (per name and record type: AAAA,
//! A, HTTPS), endpoints (per address, port and transport: accept, refuse, hang; TLS and
//! QUIC handshakes that succeed, fail, stall or reject ECH; UDP dropped) and the host
//! (source addresses and routes, NAT64); [`Sim`] runs races against it and returns a
//! [`Run`] (winner, error, [`Report`], events, exact times).
//!
//! # Features
//!
//! - `proptest`: [`strategy`], strategies that generate networks, configurations and
//!   whole cases, so that a property over every network is three lines.
//! - `tokio`: `tokio::runtime`, the real connector (`eyeballs_net::Connector`) on
//!   [`SimRuntime`] with tokio's clock: under `tokio::time::pause`, your async code that
//!   holds a connector runs against the script in virtual time.
//! - `turmoil`: `turmoil::Turmoil`, a runtime whose TCP connects are turmoil's, so the
//!   connector runs inside a turmoil simulation (DNS and the host from a script; TCP only).
//! - `tls`: [`SimRuntime`] is also a `TlsRuntime` (`Connector::connect_tls` over the
//!   script: TCP+TLS; QUIC is simulated by [`Sim`] only).
//!
//! # How it works
//!
//! `eyeballs-net` drives each race with one runtime-free runner, from an async loop (any
//! runtime) or a blocking loop (mio). Its feature `sim` adds a third loop, the simulated
//! one, which this crate re-exports ([`eyeballs_net::sim`]): the runner is the same code,
//! so what is tested here is what runs in production, from DNS answers to handshake
//! deadlines, history and the report. Only the sockets and the clock are scripted.
//!
//! Requirement ids (R, G, V, HG) are defined in [`eyeballs_core::requirements`].

pub use eyeballs_net::sim::*;
/// A DNS cache for [`SimBuilder::dns_cache`]: optimistic DNS in virtual time.
pub use eyeballs_net::DnsCache;
/// How long the runner waits for one query's answer: a script's `Answer::never` fails
/// as timed out then.
pub use eyeballs_net::RESOLVE_TIMEOUT;
/// Why one attempt failed (the inner error of its `io::Error`), to assert on.
pub use eyeballs_net::{AttemptError, AttemptErrorKind};

/// The core's types a script and its assertions use, so one dependency is enough.
pub use eyeballs_core::{
    Alpn, AttemptStatus, Config, DelaySchedule, EchConfig, Endpoint, Failure, FailureReason,
    FamilyPolicy, History, Nat64Prefix, Protocols, Provenance, QueryKind, Report, ServiceRecord,
    Source, Transport,
};

pub mod guide;
#[cfg(feature = "proptest")]
pub mod strategy;
#[cfg(feature = "tokio")]
pub mod tokio;
#[cfg(feature = "turmoil")]
pub mod turmoil;
