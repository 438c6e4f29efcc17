//! The connects of `Connector<Blocking>` (feature `blocking`): the race on the caller's
//! thread, plain TCP or TCP+TLS.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use eyeballs_core::{Protocols, Report, ToHostPort};

use super::handle::Connector;
use crate::runner::blocking_loop::{self, PlainTcp, SyncDial};
use crate::runner::Plan;

/// std's sockets, with no async runtime: a [`Connector<Blocking>`](Connector) connects on
/// the caller's thread (feature `blocking`; `eyeballs-blocking` is its front door).
///
/// One thread, the caller's, drives the whole race: every attempt is a non-blocking socket
/// registered with one readiness poller (mio: epoll, kqueue, ...), kept per thread between
/// races; DNS answers come from the resolver's futures, which wake that poller (the system
/// resolver's lookups run on the bounded resolver pool). An attempt is connected when its
/// socket is writable, `SO_ERROR` is zero and it has a peer. TLS over TCP (feature `tls`)
/// is rustls' own state, stepped on the same poller. The winner is returned in blocking
/// mode; the losers are closed before the connect returns. A plain TCP race whose one
/// attempt is all that can happen (one address, no deadline, no proxy) connects it in place
/// in blocking mode, with std's system calls: there is nothing to wait for beside it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocking;

impl Connector<Blocking> {
    /// Connects to `target`: anything [`std::net::TcpStream::connect`] takes
    /// (`"host:port"`, `("host", port)`, `(IpAddr, port)`, a `SocketAddr`, `&[SocketAddr]`,
    /// ...; see [`ToHostPort`]). A list of addresses races without DNS, ordered as RFC 8305
    /// orders a DNS answer (IPv6 first, families interleaved), not tried one by one.
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`Failure`](eyeballs_core::Failure) with every attempt's address and error;
    /// `InvalidInput` for a target that does not parse.
    pub fn connect<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        self.run_blocking(target, self.blocking_plan(false), &PlainTcp)
            .0
    }

    /// Connects to an `http` origin `target` with plain TCP, like [`Connector::connect`],
    /// but as RFC 9460 §9.5 and HEv3 §11 (V37) ask: when the resolver answers HTTPS queries
    /// (hickory does; `getaddrinfo` cannot), the race asks the one of the origin's `https`
    /// form (port 80 as 443), and
    /// - with [`Config::protected_dns`](eyeballs_core::Config::protected_dns), no stream is
    ///   returned before that answer (TCP connects meanwhile, nothing is sent), and a
    ///   failed query fails the connect (V36);
    /// - a ServiceMode record in the answer fails the connect with
    ///   [`FailureReason::UpgradeToHttps`](eyeballs_core::FailureReason::UpgradeToHttps)
    ///   (its connections closed, on protected DNS before any data): connect again with
    ///   TLS to the `https` form (port 80 as 443, another port as itself). Without
    ///   protected DNS a connection made before the answer is returned.
    ///
    /// A resolver without HTTPS answers makes it [`Connector::connect`].
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; the inner [`Failure`](eyeballs_core::Failure)'s reason
    /// is `UpgradeToHttps` when the origin must be reached with TLS, `ServiceQueryFailed`
    /// when its HTTPS query failed on protected DNS.
    pub fn connect_http<T: ToHostPort>(&self, target: T) -> io::Result<TcpStream> {
        let mut plan = self.blocking_plan(false);
        plan.http_origin = true;
        self.run_blocking(target, plan, &PlainTcp).0
    }

    /// Connects like [`Connector::connect`], giving up after `timeout` (DNS included), like
    /// `TcpStream::connect_timeout`: the connector's configuration with
    /// [`Config::timeout`](eyeballs_core::Config::timeout) set to `timeout`.
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; `TimedOut` when the deadline passes, and `InvalidInput`
    /// for a zero `timeout`.
    pub fn connect_timeout<T: ToHostPort>(
        &self,
        target: T,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        let mut plan = self.blocking_plan(false);
        plan.config = plan.config.timeout(Some(timeout));
        self.run_blocking(target, plan, &PlainTcp).0
    }

    /// Connects like [`Connector::connect`], and also returns what happened: DNS answers,
    /// every attempt with its start, end and result, the winner and the total time.
    ///
    /// The report is `None` only when the race could not start (a target that does not
    /// parse, an unknown IPv6 zone).
    pub fn connect_with_report<T: ToHostPort>(
        &self,
        target: T,
    ) -> (io::Result<TcpStream>, Option<Report>) {
        self.run_blocking(target, self.blocking_plan(true), &PlainTcp)
    }

    fn blocking_plan(&self, report: bool) -> Plan {
        Plan {
            config: self.settings().config,
            protocols: Protocols::new(),
            https: false,
            http_origin: false,
            report,
            seed: None,
        }
    }

    fn run_blocking<T: ToHostPort, D: SyncDial>(
        &self,
        target: T,
        plan: Plan,
        dial: &D,
    ) -> (io::Result<D::Output>, Option<Report>) {
        match target.to_host_port() {
            Ok(target) => blocking_loop::run(self.settings(), &target, plan, dial),
            Err(e) => (Err(io::Error::new(io::ErrorKind::InvalidInput, e)), None),
        }
    }
}

#[cfg(feature = "tls")]
mod tls {
    use std::sync::Arc;

    use eyeballs_core::{Endpoint, HostPort, Transport};

    use super::*;
    use crate::runner::blocking_loop::tls::{Done, Handshake};
    use crate::runner::blocking_loop::Next;
    use crate::tls::{Configs, Connection, Established, Tls};

    /// A TLS stream over a blocking `std::net::TcpStream`: rustls' client state and the
    /// socket, read and written with `std::io::{Read, Write}`.
    pub type BlockingTlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

    /// TCP+TLS on the blocking loop; QUIC is not raced here (it needs an async runtime).
    struct SyncTls {
        configs: Arc<Configs>,
    }

    impl SyncDial for SyncTls {
        type Output = Connection<BlockingTlsStream>;

        fn dials(&self, transport: Transport) -> bool {
            transport == Transport::Tcp
        }

        fn connected(
            &self,
            stream: mio::net::TcpStream,
            endpoint: &Endpoint,
            host: &HostPort,
        ) -> io::Result<Next<Self::Output>> {
            Handshake::new(&self.configs, stream, endpoint, host).map(|h| Next::Tls(Box::new(h)))
        }

        fn handshaken(&self, done: Done) -> io::Result<Self::Output> {
            Ok(Connection::new(
                Established::Tls(done.stream),
                done.endpoint,
                done.alpn,
            ))
        }
    }

    impl Connector<Blocking> {
        /// Connects over TCP+TLS with `tls`'s rustls config, on the caller's thread: an
        /// attempt counts when its TLS handshake is done (HEv3 §6.1), its TCP connect is
        /// progress (V33), and a handshake that stalls past the handshake timeout fails its
        /// attempt. The race asks for HTTPS records when the resolver answers them (the
        /// hickory resolver does), so Happy Eyeballs v3's services, ports, ALPN ids and
        /// ECH apply; QUIC ids are not offered (QUIC needs an async runtime).
        ///
        /// # Errors
        ///
        /// As [`Connector::connect`]; each failed attempt's error in the
        /// [`Failure`](eyeballs_core::Failure) holds an
        /// [`AttemptError`](crate::AttemptError) naming the endpoint.
        pub fn connect_tls<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
        ) -> io::Result<Connection<BlockingTlsStream>> {
            self.run_tls(target, tls, self.tls_plan(tls, false)).0
        }

        /// Connects like [`Connector::connect_tls`], giving up after `timeout` (DNS and
        /// handshakes included).
        ///
        /// # Errors
        ///
        /// As [`Connector::connect_tls`]; `TimedOut` when the deadline passes, and
        /// `InvalidInput` for a zero `timeout`.
        pub fn connect_tls_timeout<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
            timeout: Duration,
        ) -> io::Result<Connection<BlockingTlsStream>> {
            let mut plan = self.tls_plan(tls, false);
            plan.config = plan.config.timeout(Some(timeout));
            self.run_tls(target, tls, plan).0
        }

        /// Connects like [`Connector::connect_tls`], and also returns the race's report.
        pub fn connect_tls_with_report<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
        ) -> (io::Result<Connection<BlockingTlsStream>>, Option<Report>) {
            self.run_tls(target, tls, self.tls_plan(tls, true))
        }

        fn tls_plan(&self, tls: &Tls, report: bool) -> Plan {
            Plan {
                config: self.settings().config,
                protocols: tls.configs().offered(false),
                https: true,
                http_origin: false,
                report,
                seed: None,
            }
        }

        fn run_tls<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
            plan: Plan,
        ) -> (io::Result<Connection<BlockingTlsStream>>, Option<Report>) {
            let dial = SyncTls {
                configs: tls.configs().clone(),
            };
            self.run_blocking(target, plan, &dial)
        }
    }
}

#[cfg(feature = "tls")]
pub use tls::BlockingTlsStream;
