//! The driver layer of eyeballs: everything a Happy Eyeballs connect does around the
//! sans-IO race of `eyeballs-core`, written once for every runtime.
//!
//! Users meet it through a driver crate (`eyeballs-tokio`, `eyeballs-async-std`,
//! `eyeballs-blocking`), which re-exports what they need; a runtime author meets it
//! through [`runtime`], the one way in.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `hickory` | `HickoryResolver<R>`: hickory-resolver's answers (HTTPS records included) on any driver |
//! | `tls` | `Tls`, `Connection`, TLS dialers, typed handshake errors (`CertificateProblem`) |
//! | `quic` | QUIC dialers (quinn); brings `ring` |
//! | `ring`, `aws-lc-rs` | a rustls crypto provider: `crypto_provider()` (aws-lc-rs when both are on) |
//! | `platform-verifier` | `platform_client_config`, `Tls::platform` (rustls-platform-verifier; needs a provider) |
//! | `ech` | `ech_hook`, Encrypted ClientHello on aws-lc-rs |
//! | `blocking` | `Connector<Blocking>`: the blocking loop (one mio poller per thread) |
//! | `async-io` | hickory's and quinn's runtime on async-io, for async-io runtimes and the blocking driver |
//! | `serde` | eyeballs-core's `serde`: the report and failure serialize |
//!
//! # What is here
//!
//! - [`Connector`] and [`ConnectorBuilder`]: the connector every driver hands out (a
//!   generic type: `eyeballs_tokio::Connector` is `Connector<Tokio>`), with its
//!   configuration, socket options, resolver, history and handshake timeout.
//! - [`Resolve`]: the one resolver trait of every driver, the system resolver on a bounded
//!   pool of threads ([`SystemResolver`], [`on_pool`]), a [`StaticResolver`], and with
//!   feature `hickory` the hickory resolver (HTTPS records, so HEv3 services, ALPN, ECH).
//! - [`DnsCache`]: a connector's cache of DNS answers with their TTLs ([`WithTtl`]), off
//!   by default, for optimistic DNS (HEv3 §4.4: an expired answer races while its query
//!   runs).
//! - [`Tls`] (feature `tls`): TLS-aware racing (HEv3 §6.1) and QUIC (feature `quic`).
//! - [`AttemptError`]: why one attempt failed, naming its endpoint.
//! - Alt-Svc (RFC 7838): [`AltSvcValue`] parses a response's `Alt-Svc` field, and
//!   [`Connector::set_alt_svc`] remembers an origin's alternatives, which its TLS connects
//!   race (HEv3 V59).
//! - Proxies (HEv3 V60): [`ConnectorBuilder::proxy`] with a [`Proxy`] (HTTP CONNECT or
//!   SOCKS5) races the proxy's addresses and asks the proxy for the host by name; a
//!   refusal is a [`ProxyError`].
//! - [`runtime`]: what a runtime gives eyeballs (clock, timer, TCP connect; TLS and QUIC
//!   optionally), with a complete example.
//! - `sim` (feature `sim`): a scripted network and a virtual clock that run the race
//!   runner below deterministically, for tests (the `eyeballs-sim` crate).
//!
//! # How it is built
//!
//! ```text
//! alt_svc/    Alt-Svc: the field value's parser, the connector's per-origin store
//! connector/  the connector users hold, its builder and its connects
//! runner/     the race runner (runtime-free) and the loops that drive it: async
//!             (any Runtime), blocking (one mio poller, feature `blocking`) and
//!             simulated (virtual time, feature `sim`)
//! proxy/      proxies: the public `Proxy`, the sans-IO CONNECT/SOCKS5 handshake, and
//!             its async driver (the blocking loop steps the same handshake)
//! dial/       one dialer per transport, the same events for all: TCP, TCP+step,
//!             TCP+TLS, QUIC (quic/: its socket that keeps refusals, the scope that
//!             ends its tasks, quinn's runtime on async-io)
//! sockets/    socket options, the non-blocking connect, zones, source facts
//! resolve/    the resolver trait, the system resolver and its thread pool
//! hickory/    hickory-resolver in eyeballs' terms, and its async-io provider
//! tls/        TLS and QUIC configuration, server names, error wording
//! runtime.rs  the runtime traits
//! sim/        the simulator (feature `sim`): the script, its checks, the engine over
//!             the simulated loop, and a runtime over the script
//! ```
//!
//! The runner decides nothing the core decides: it feeds the core's inputs and performs
//! its actions, keeps each attempt's handshake deadline, and finishes the race (history,
//! report, the caller's `io::Error`).

#[cfg(all(
    feature = "platform-verifier",
    not(any(feature = "ring", feature = "aws-lc-rs"))
))]
compile_error!(
    "eyeballs-net's feature `platform-verifier` needs a crypto provider: turn on `ring` or \
     `aws-lc-rs` as well"
);

mod alt_svc;
mod connector;
mod dial;
mod error;
#[cfg(feature = "hickory")]
mod hickory;
mod proxy;
mod resolve;
mod runner;
pub mod runtime;
#[cfg(feature = "sim")]
pub mod sim;
mod sockets;
#[cfg(feature = "tls")]
mod tls;

pub use alt_svc::{
    AltSvcError, AltSvcErrorKind, AltSvcValue, ALT_SVC_DEFAULT_MAX_AGE, ALT_SVC_ORIGINS,
};
#[cfg(feature = "blocking")]
pub use connector::Blocking;
#[cfg(all(feature = "blocking", feature = "tls"))]
pub use connector::BlockingTlsStream;
pub use connector::{BuildError, Connector, ConnectorBuilder, HANDSHAKE_TIMEOUT};
#[cfg(all(feature = "quic", feature = "async-io"))]
pub use dial::quic::async_io::{background_tasks as quic_background_tasks, AsyncIoQuinn};
pub use error::{AttemptError, AttemptErrorKind};
#[cfg(all(feature = "hickory", feature = "async-io"))]
pub use hickory::async_io::{background_tasks as hickory_background_tasks, AsyncIoRuntimeProvider};
#[cfg(feature = "hickory")]
pub use hickory::HickoryResolver;
pub use proxy::{Proxy, ProxyError, ProxyErrorKind, ProxyKind, ProxyParseError};
pub use resolve::{
    discover_nat64, on_pool, CombinedSystemResolver, DnsCache, Resolve, Resolving,
    ResolvingServices, ResolvingServicesWithTtl, ResolvingWithTtl, StaticResolver, SystemResolver,
    WithTtl, RESOLVER_QUEUE, RESOLVER_THREADS, RESOLVE_TIMEOUT,
};
pub use sockets::{
    SocketHook, SocketOptionError, SocketOptions, MAX_KEEPALIVE_IDLE, MIN_KEEPALIVE_IDLE,
    SOURCE_CACHE_CAPACITY, SOURCE_CACHE_TTL,
};
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
pub use tls::crypto_provider;
#[cfg(feature = "ech")]
pub use tls::ech_hook;
#[cfg(feature = "platform-verifier")]
pub use tls::platform_client_config;
#[cfg(feature = "tls")]
pub use tls::{
    CertificateProblem, Connection, EchHook, Established, Tls, TlsBuilder, TlsConfigError,
};

/// The quinn this crate's `quic` feature is built on (feature `quic`).
#[cfg(feature = "quic")]
pub use quinn;
/// The rustls this crate's `tls` feature is built on (feature `tls`).
#[cfg(feature = "tls")]
pub use rustls;

/// What every driver re-exports, so that its users need one dependency: the core's types
/// that the API uses (configuration, targets, endpoints, reports, failures, history) and
/// this crate's (resolvers, socket options, errors). A driver adds its runtime's names
/// (`Connector`, `TlsStream`, ...) with `pub use eyeballs_net::prelude::*;`.
pub mod prelude {
    pub use eyeballs_core::{
        Alpn, AltService, AttemptId, AttemptReport, AttemptStatus, Config, ConfigError,
        DelaySchedule, EchConfig, Endpoint, FailedAttempt, FailedQuery, Failure, FailureReason,
        FamilyPolicy, History, Host, HostError, HostPort, Name, Nat64Error, Nat64Prefix, Path,
        Protocols, Provenance, QueryId, QueryKind, QueryReport, Report, ServiceRecord, Source,
        ToHostPort, Transport, Winner, ATTEMPT_START_FLOOR, CONNECTION_ATTEMPT_DELAY,
        HISTORY_CAPACITY, HISTORY_TTL, MAX_ALT_SERVICES, MAX_CONNECTION_ATTEMPT_DELAY,
        MIN_CONNECTION_ATTEMPT_DELAY, RESOLUTION_DELAY, TCP_AFTER_QUIC_DELAY,
    };

    #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    pub use crate::crypto_provider;
    #[cfg(feature = "ech")]
    pub use crate::ech_hook;
    #[cfg(feature = "platform-verifier")]
    pub use crate::platform_client_config;
    pub use crate::{
        discover_nat64, on_pool, AltSvcError, AltSvcErrorKind, AltSvcValue, AttemptError,
        AttemptErrorKind, BuildError, CombinedSystemResolver, DnsCache, Proxy, ProxyError,
        ProxyErrorKind, ProxyKind, ProxyParseError, Resolve, Resolving, ResolvingServices,
        ResolvingServicesWithTtl, ResolvingWithTtl, SocketHook, SocketOptionError, SocketOptions,
        StaticResolver, SystemResolver, WithTtl, ALT_SVC_DEFAULT_MAX_AGE, ALT_SVC_ORIGINS,
        HANDSHAKE_TIMEOUT, MAX_KEEPALIVE_IDLE, MIN_KEEPALIVE_IDLE, RESOLVER_QUEUE,
        RESOLVER_THREADS, RESOLVE_TIMEOUT,
    };
    #[cfg(feature = "tls")]
    pub use crate::{rustls, CertificateProblem, EchHook, Tls, TlsBuilder, TlsConfigError};
}
