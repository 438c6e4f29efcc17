//! The connects of an async runtime: plain TCP, TCP then the caller's step, TCP+TLS and
//! QUIC.

use std::future::Future;
use std::io;
use std::time::Duration;

use eyeballs_core::{Protocols, Report, ToHostPort};

use super::handle::Connector;
use crate::dial::{Dial, PlainTcp, Then};
use crate::runner::{async_loop, Plan};
use crate::runtime::Runtime;

impl<R: Runtime> Connector<R> {
    /// Connects to `target`: anything the runtime's own `TcpStream::connect` takes
    /// (`"host:port"`, `("host", port)`, `(IpAddr, port)`, a `SocketAddr`, `&[SocketAddr]`,
    /// ...; see [`ToHostPort`]). A list of addresses races without DNS, ordered as RFC 8305
    /// orders a DNS answer (IPv6 first, families interleaved), not tried one by one.
    ///
    /// # Errors
    ///
    /// An `io::Error` whose inner error, for a failed race, is the
    /// [`Failure`](eyeballs_core::Failure) with every attempt's address and error;
    /// `InvalidInput` for a target that does not parse.
    pub async fn connect<T: ToHostPort>(&self, target: T) -> io::Result<R::Tcp> {
        self.run(target, self.plan(false), &PlainTcp).await.0
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
    pub async fn connect_http<T: ToHostPort>(&self, target: T) -> io::Result<R::Tcp> {
        let mut plan = self.plan(false);
        plan.http_origin = true;
        self.run(target, plan, &PlainTcp).await.0
    }

    /// Connects like [`Connector::connect`], giving up after `timeout` (DNS included): the
    /// connector's configuration with [`Config::timeout`](eyeballs_core::Config::timeout) set to `timeout`.
    ///
    /// # Errors
    ///
    /// As [`Connector::connect`]; `TimedOut` when the deadline passes, and `InvalidInput`
    /// for a zero `timeout`.
    pub async fn connect_timeout<T: ToHostPort>(
        &self,
        target: T,
        timeout: Duration,
    ) -> io::Result<R::Tcp> {
        let mut plan = self.plan(false);
        plan.config = plan.config.timeout(Some(timeout));
        self.run(target, plan, &PlainTcp).await.0
    }

    /// Connects like [`Connector::connect`], and also returns what happened: DNS answers,
    /// every attempt with its start, end and result, the winner and the total time.
    ///
    /// The report is `None` only when the race could not start (a target that does not
    /// parse, an unknown IPv6 zone).
    pub async fn connect_with_report<T: ToHostPort>(
        &self,
        target: T,
    ) -> (io::Result<R::Tcp>, Option<Report>) {
        self.run(target, self.plan(true), &PlainTcp).await
    }

    /// Connects like [`Connector::connect_with_report`], but an attempt counts as
    /// established only when `establish` (a handshake of the caller's) has succeeded on
    /// its stream: RFC 8305 counts the TCP handshake, and Happy Eyeballs v3 (§6.1) asks to
    /// wait for the handshake above it (gap G2). The TCP connect is progress, which pushes
    /// the next attempt back (V33); `establish` has the connector's handshake timeout. An
    /// `establish` error fails that attempt, so the race goes on with the others; the
    /// losers' `establish` futures are dropped.
    ///
    /// Attempt times in the report and the history then include `establish`.
    pub async fn connect_established_with_report<T, F, Fut, S>(
        &self,
        target: T,
        establish: F,
    ) -> (io::Result<S>, Option<Report>)
    where
        T: ToHostPort,
        F: Fn(R::Tcp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: Send + 'static,
    {
        self.run(target, self.plan(true), &Then::new(establish))
            .await
    }

    /// The plan of a plain TCP race.
    fn plan(&self, report: bool) -> Plan {
        Plan {
            config: self.settings().config,
            protocols: Protocols::new(),
            https: false,
            http_origin: false,
            report,
            seed: None,
        }
    }

    /// The race to `target`: the loop's future itself, with no async layer of its own
    /// around it (see [`async_loop::run`]).
    pub(crate) fn run<'a, T: ToHostPort + 'a, D: Dial<R>>(
        &'a self,
        target: T,
        plan: Plan,
        dial: &'a D,
    ) -> impl Future<Output = (io::Result<D::Output>, Option<Report>)> + 'a {
        async_loop::run(self.settings(), self.runtime(), target, plan, dial)
    }
}

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use crate::dial::tls::TlsDial;
    use crate::runtime::TlsRuntime;
    use crate::tls::{Connection, Tls};

    impl<R: TlsRuntime> Connector<R> {
        /// Connects over TCP+TLS, and QUIC where the runtime runs quinn (feature `quic`),
        /// with `tls`'s rustls config: an attempt counts when its handshake is done (HEv3
        /// §6.1). The race asks for HTTPS records when the resolver answers them (the
        /// hickory resolver does; `getaddrinfo` cannot), and QUIC is raced only for
        /// endpoints whose record offers a QUIC id (`h3`). See [`Tls`].
        ///
        /// # Errors
        ///
        /// As [`Connector::connect`]; each failed attempt's error in the
        /// [`Failure`](eyeballs_core::Failure) holds an
        /// [`AttemptError`](crate::AttemptError) naming the endpoint when TLS, QUIC or the
        /// driver rejected it, or when its handshake stalled.
        pub async fn connect_tls<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
        ) -> io::Result<Connection<R::TlsStream>> {
            self.connect_tls_inner(target, tls, false).await.0
        }

        /// Connects like [`Connector::connect_tls`], and also returns the race's report.
        pub async fn connect_tls_with_report<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
        ) -> (io::Result<Connection<R::TlsStream>>, Option<Report>) {
            self.connect_tls_inner(target, tls, true).await
        }

        async fn connect_tls_inner<T: ToHostPort>(
            &self,
            target: T,
            tls: &Tls,
            report: bool,
        ) -> (io::Result<Connection<R::TlsStream>>, Option<Report>) {
            #[cfg(feature = "quic")]
            let quic = self.runtime().quic().is_some();
            #[cfg(not(feature = "quic"))]
            let quic = false;
            let plan = Plan {
                config: self.settings().config,
                protocols: tls.configs().offered(quic),
                https: true,
                http_origin: false,
                report,
                seed: None,
            };
            self.run(target, plan, &TlsDial::new(tls)).await
        }
    }
}
