//! Test servers for eyeballs: what the tests, benchmarks and the demo race against.
//!
//! - [`loopback`]: one port on `::1` and `127.0.0.1`, each address accepting, refusing, or
//!   hanging (a listener whose accept queue is full, so the kernel drops new SYNs).
//! - [`scenarios`]: the real-socket scenarios every driver must pass, written once.
//! - [`servers`]: loopback ports that accept, refuse, hang or accept slowly, served by one
//!   thread that counts the connections it accepted and has not seen closed (soak tests).
//! - [`proxy`]: HTTP CONNECT and SOCKS5 proxies on loopback (HEv3 V60) that resolve names
//!   through the test's map (never DNS), forward to loopback only, and open the tunnel,
//!   stall or refuse as told.
//! - [`resolver::Delayed`]: a static resolver whose AAAA or A answers come late;
//!   [`resolver::GatedRefresh`]: one whose second A answer waits for the test (the DNS
//!   cache's refreshes).
//! - [`dns`] (feature `dns`): a DNS server on loopback UDP, on a thread of its own, with
//!   per-type delays, empty answers, error codes and HTTPS records.
//! - [`hickory`] (feature `dns`): the hickory scenarios every driver's `HickoryResolver`
//!   runs against that server, written once.
//! - [`tls_scenarios`] (feature `tls`): the TLS scenarios every driver must pass, written
//!   once.
//! - [`tls`] (feature `tls`): a test certificate authority, TLS servers that echo or stall,
//!   QUIC servers that echo or accept late and record how each connection ended, a UDP
//!   blackhole, and the count of open UDP sockets; the CA's root as PEM for a CA file; a
//!   TLS 1.3 server that rejects ECH with retry configurations (`EchRejectingServer`).
//!
//! - [`netns`] (feature `netns`, Linux, root): a network namespace per test with
//!   documentation-prefix addresses that accept, refuse, answer ICMP unreachable, drop, or
//!   hold the SYN; a DNS server and resolv.conf inside; a test's own servers bound inside
//!   (`NetLab::in_namespace`), UDP to a port dropped (`NetLab::drop_udp`). `netns::root_or_skip` is where every
//!   root-needing test decides to run, skip, or (with `EYEBALLS_REQUIRE_ROOT=1`, in CI) fail.
//!
//! Everything here sends only to loopback (or, in [`netns`], to addresses that exist only
//! inside the test's own namespace), and closes what it opened when dropped.
//!
//! The crate is published so that `eyeballs demo` (eyeballs-cli) and the drivers' packaged
//! tests can use it: it is test support for eyeballs, not a general-purpose library.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `dns` | a DNS server on loopback UDP (delays, error codes, HTTPS records) and the hickory scenarios |
//! | `tls` | a test CA, TLS servers (echo, stall, HTTP), a TLS 1.3 server that rejects ECH with retry configurations, QUIC servers, a UDP blackhole |
//! | `netns` | network namespaces with real kernel behaviours (Linux, root; `ip` and iptables) |

#[cfg(feature = "dns")]
pub mod dns;
#[cfg(feature = "dns")]
pub mod hickory;
pub mod loopback;
#[cfg(feature = "netns")]
pub mod netns;
pub mod proxy;
pub mod proxy_scenarios;
pub mod resolver;
pub mod scenarios;
pub mod servers;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "tls")]
pub mod tls_scenarios;

/// The history type the scenarios hand between connectors.
pub use eyeballs_core::History;
