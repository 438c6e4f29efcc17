//! The real connector over the script: a [`Runtime`] whose connects, handshakes and DNS
//! answers follow a [`Network`], on another runtime's clock and timer.

use std::future::{pending, poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_core::{Config, Endpoint, Name, QueryKind, Transport};

use super::error::ScriptError;
use super::network::Network;
use super::script::Script;
use crate::connector::{Connector, ConnectorBuilder};
use crate::resolve::{
    Resolve, Resolving, ResolvingServices, ResolvingServicesWithTtl, ResolvingWithTtl, WithTtl,
};
use crate::runner::sim_loop::Dialed;
use crate::runner::Answer;
use crate::runtime::{Runtime, Timer};
use crate::sockets::{SocketOptions, Sources};

/// A [`Runtime`] over a scripted [`Network`]: TCP connects (and, with feature `tls`, TLS
/// handshakes) go as the script says, on the clock and timer of the runtime `C`. No
/// socket is opened and no packet sent.
///
/// Build a connector with [`SimRuntime::connector`]: its resolver answers from the script
/// ([`SimResolver`]) and its source facts are the script's host's. Everything else is
/// the connector users hold, so code written against `Connector<R>` runs against the
/// script. With tokio's clock paused (`tokio::time::pause`, tokio's `test-util`), timers
/// fire as soon as every task waits, so races take no real time and give the same result
/// every run (`eyeballs-sim`'s feature `tokio` has the clock).
///
/// What this path does not simulate (the [`Sim`](super::Sim) engine does):
///
/// - **QUIC.** A QUIC winner is a real `quinn::Connection`, which needs real UDP packets
///   to a real server: QUIC ids are not offered ([`TlsRuntime::quic`](crate::runtime::TlsRuntime::quic) is `None`).
/// - **ECH rejection.** The runtime sees a rustls config, not whether it carries ECH: a
///   handshake scripted with `Handshake::reject_ech` fails as a rejection whatever the
///   attempt offered.
/// - **Address changes** ([`Network::addresses_change`]): a resolver cannot push.
/// - **Bytes.** A [`SimStream`] carries no data.
///
/// # Examples
///
/// A runtime of your own lends its clock (here async-io's, so real time: use a paused
/// tokio clock for virtual time):
///
/// ```
/// # use std::future::Future; use std::pin::Pin; use std::task::{Context, Poll}; use std::time::Instant;
/// # #[derive(Clone, Default)] struct Clock;
/// # struct T(async_io::Timer);
/// # impl eyeballs_net::runtime::Timer for T {
/// #     fn reset(&mut self, at: Instant) { self.0.set_at(at) }
/// #     fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> { Pin::new(&mut self.0).poll(cx).map(drop) }
/// # }
/// # impl eyeballs_net::runtime::Runtime for Clock {
/// #     type Tcp = (); type Timer = T;
/// #     type Connect = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;
/// #     fn now(&self) -> Instant { Instant::now() }
/// #     fn timer(&self) -> T { T(async_io::Timer::never()) }
/// #     fn connect(&self, _: std::net::SocketAddr, _: &eyeballs_net::SocketOptions) -> Self::Connect { unimplemented!() }
/// # }
/// use std::time::Duration;
/// use eyeballs_net::sim::{Network, Peer, SimRuntime};
///
/// let network = Network::new()
///     .aaaa("example.test", ["2001:db8::1"])
///     .a("example.test", ["192.0.2.1"])
///     .tcp("[2001:db8::1]:443", Peer::refuse(Duration::from_millis(1)))
///     .tcp("192.0.2.1:443", Peer::accept(Duration::from_millis(2)));
/// let runtime = SimRuntime::new(Clock, &network)?;
/// let connector = runtime.connector().build()?;
/// let stream = async_io::block_on(connector.connect("example.test:443"))?;
/// assert_eq!(stream.peer_addr(), "192.0.2.1:443".parse()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SimRuntime<C> {
    clock: C,
    script: Arc<Script>,
}

impl<C> std::fmt::Debug for SimRuntime<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimRuntime").finish_non_exhaustive()
    }
}

impl<C: Runtime> SimRuntime<C> {
    /// A runtime over `network` on `clock`'s clock and timer.
    ///
    /// # Errors
    ///
    /// A [`ScriptError`] for a script that cannot happen.
    pub fn new(clock: C, network: &Network) -> Result<Self, ScriptError> {
        Ok(SimRuntime {
            clock,
            script: Arc::new(Script::new(network)?),
        })
    }

    /// Returns the resolver of the script, waiting on this runtime's clock.
    pub fn resolver(&self) -> SimResolver<C> {
        SimResolver {
            clock: self.clock.clone(),
            script: self.script.clone(),
        }
    }

    /// Starts a connector builder on this runtime: the script's resolver and host (its
    /// source addresses and routes), and the network's NAT64 prefix in the configuration
    /// (a [`ConnectorBuilder::config`] call replaces it). The rest is a connector's usual
    /// builder.
    pub fn connector(&self) -> ConnectorBuilder<SimRuntime<C>> {
        self.connector_on(self.clone())
    }

    /// Starts a connector builder on another runtime, with this script's DNS (on this
    /// runtime's clock) and host, as [`SimRuntime::connector`] does: for a runtime whose
    /// connects go elsewhere, such as another simulator's sockets (`eyeballs-sim`'s
    /// turmoil runtime). Only the script's DNS and host facts are used then; its
    /// endpoints are not.
    pub fn connector_on<R>(&self, runtime: R) -> ConnectorBuilder<R> {
        let host = self.script.clone();
        let mut builder = Connector::builder_on(runtime)
            .resolver(self.resolver())
            .config(Config::default().nat64(self.script.nat64));
        builder.sources = Sources::Given(Arc::new(move |dest| Some(host.fact(dest))));
        builder
    }
}

/// A connected simulated TCP stream: who it is connected to. It carries no bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStream {
    peer: SocketAddr,
    local: Option<IpAddr>,
}

impl SimStream {
    /// Returns the address of the endpoint it is connected to.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Returns the host's source address it was connected from.
    pub fn local_ip(&self) -> Option<IpAddr> {
        self.local
    }
}

impl<C: Runtime> Runtime for SimRuntime<C> {
    type Tcp = SimStream;
    type Timer = C::Timer;
    type Connect = Pin<Box<dyn Future<Output = io::Result<SimStream>> + Send>>;

    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn timer(&self) -> C::Timer {
        self.clock.timer()
    }

    fn connect(&self, addr: SocketAddr, _: &SocketOptions) -> Self::Connect {
        let endpoint = Endpoint::new(addr, Transport::Tcp);
        let first = self.script.attempt(&endpoint, false).into_iter().next();
        let stream = SimStream {
            peer: addr,
            local: self.script.fact(addr.ip()).source(),
        };
        let clock = self.clock.clone();
        let start = clock.now();
        Box::pin(async move {
            let Some((after, step)) = first else {
                return pending().await;
            };
            sleep(&clock, start, after).await;
            match step {
                Dialed::Failed(e) => Err(e),
                Dialed::Progressed | Dialed::Established(_) => Ok(stream),
            }
        })
    }
}

/// The script's DNS as a [`Resolve`]r: each answer after its delay on the clock of `C`
/// (AAAA, A and HTTPS separately).
#[derive(Clone)]
pub struct SimResolver<C> {
    clock: C,
    script: Arc<Script>,
}

impl<C> std::fmt::Debug for SimResolver<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimResolver").finish_non_exhaustive()
    }
}

impl<C: Runtime> SimResolver<C> {
    fn ask(
        &self,
        name: &str,
        kind: QueryKind,
    ) -> impl Future<Output = io::Result<WithTtl<Answer>>> {
        let answer = self.script.answer(&Name::new(name), kind);
        let clock = self.clock.clone();
        let start = clock.now();
        async move {
            let Some((after, answer)) = answer else {
                return pending().await;
            };
            sleep(&clock, start, after).await;
            answer
        }
    }
}

impl<C: Runtime> Resolve for SimResolver<C> {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let answer = self.resolve_with_ttl(name, kind);
        Box::pin(async move { answer.await.map(WithTtl::into_value) })
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        let answer = self.resolve_https_with_ttl(name);
        Box::pin(async move { answer.await.map(WithTtl::into_value) })
    }

    fn resolve_with_ttl(&self, name: &str, kind: QueryKind) -> ResolvingWithTtl {
        let answer = self.ask(name, kind);
        Box::pin(async move {
            Ok(answer.await?.map(|a| match a {
                Answer::Addrs(addrs) => addrs,
                Answer::Records(_) => Vec::new(),
            }))
        })
    }

    fn resolve_https_with_ttl(&self, name: &str) -> ResolvingServicesWithTtl {
        let answer = self.ask(name, QueryKind::Https);
        Box::pin(async move {
            Ok(answer.await?.map(|a| match a {
                Answer::Records(records) => records,
                Answer::Addrs(_) => Vec::new(),
            }))
        })
    }

    fn answers_https(&self) -> bool {
        true
    }
}

/// Waits until `after` past `from` on `clock`; forever for a time `Instant` cannot hold.
async fn sleep<C: Runtime>(clock: &C, from: Instant, after: Duration) {
    let Some(at) = from.checked_add(after) else {
        return pending().await;
    };
    if after.is_zero() {
        return;
    }
    let mut timer = clock.timer();
    timer.reset(at);
    poll_fn(|cx| timer.poll(cx)).await;
}

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use crate::runtime::TlsRuntime;
    use crate::sim::network::{AlpnChoice, HandshakeEnd};
    use rustls::pki_types::ServerName;
    use rustls::{AlertDescription, ClientConfig, PeerIncompatible};

    /// A simulated TLS stream: the TCP stream, and the ALPN id the server chose. It
    /// carries no bytes.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SimTlsStream {
        tcp: SimStream,
        alpn: Option<Vec<u8>>,
    }

    impl SimTlsStream {
        /// Returns the TCP stream under it.
        pub fn tcp(&self) -> &SimStream {
            &self.tcp
        }
    }

    impl<C: Runtime> TlsRuntime for SimRuntime<C> {
        type TlsStream = SimTlsStream;
        type Handshake = Pin<Box<dyn Future<Output = io::Result<SimTlsStream>> + Send>>;

        fn handshake(
            &self,
            config: Arc<ClientConfig>,
            _: ServerName<'static>,
            tcp: SimStream,
        ) -> Self::Handshake {
            let handshake = self.script.peer(tcp.peer, Transport::Tcp).handshake.clone();
            let clock = self.clock.clone();
            let start = clock.now();
            Box::pin(async move {
                let tls_error = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
                let alpn = match handshake.end {
                    HandshakeEnd::Stall => return pending().await,
                    HandshakeEnd::Fail => Err(tls_error(rustls::Error::AlertReceived(
                        AlertDescription::HandshakeFailure,
                    ))),
                    // A retry needs the configuration offered, which a ClientConfig does
                    // not show: this runtime rejects every ECH offer without retry configs.
                    HandshakeEnd::RejectEch(_) => Err(tls_error(rustls::Error::PeerIncompatible(
                        PeerIncompatible::ServerRejectedEncryptedClientHello(None),
                    ))),
                    HandshakeEnd::Done(None) => Ok(config.alpn_protocols.first().cloned()),
                    HandshakeEnd::Done(Some(AlpnChoice::Id(id))) => {
                        Ok(Some(id.as_bytes().to_vec()))
                    }
                    HandshakeEnd::Done(Some(AlpnChoice::Nothing)) => Ok(None),
                };
                sleep(&clock, start, handshake.after).await;
                // The dialer checks the id against the ones offered, as with a real server.
                alpn.map(|alpn| SimTlsStream { tcp, alpn })
            })
        }

        fn alpn(stream: &SimTlsStream) -> Option<&[u8]> {
            stream.alpn.as_deref()
        }
    }
}

#[cfg(feature = "tls")]
pub use tls::SimTlsStream;
