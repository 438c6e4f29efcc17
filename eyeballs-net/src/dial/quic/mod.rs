//! QUIC attempts with quinn (feature `quic`): one UDP socket and one quinn endpoint per
//! attempt, on the runtime's [`QuicRuntime`].
//!
//! - The socket is connected to the attempt's destination, so the kernel reports an ICMP
//!   port unreachable to it; [`socket`] keeps that error (quinn's socket types drop it)
//!   and the attempt fails at once with `ConnectionRefused`, as a refused TCP connect does
//!   (HEv3 HG2, RFC 8305 G1).
//! - The endpoint's tasks are tied to the attempt ([`scope`]): a losing, failed or dropped
//!   attempt sends its CONNECTION_CLOSE and releases its tasks and socket at once, instead
//!   of after quinn's draining period. The winner's live as long as its connection.
//! - `async_io` (with feature `async-io`) is quinn's runtime on async-io.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use eyeballs_core::{Alpn, Endpoint, HostPort, Transport};
use quinn::crypto::rustls::HandshakeData;
use rustls::pki_types::ServerName;
use socket2::{Domain, Protocol, Socket, Type};

use super::{Dialing, Step};
use crate::error::{AttemptError, AttemptErrorKind};
use crate::runtime::QuicRuntime;
use crate::tls::{
    check_alpn, quic_error, server_name, Configs, Connection, Established, QuicFailure,
};

#[cfg(feature = "async-io")]
pub(crate) mod async_io;
mod scope;
mod socket;
#[cfg(target_os = "linux")]
mod udp_state;

use scope::{Scope, ScopedRuntime};
use socket::GuardedUdp;

/// Starts a QUIC attempt to `endpoint` on `quic`.
pub(crate) fn dial<S: Send + 'static>(
    quic: &dyn QuicRuntime,
    configs: &Configs,
    endpoint: Endpoint,
    host: &HostPort,
) -> Dialing<Connection<S>> {
    match start(quic, configs, &endpoint, host) {
        Ok(attempt) => Dialing::new(attempt.finish(endpoint)),
        Err(e) => Dialing::done(Err(e)),
    }
}

/// A QUIC attempt under way: what it holds, dropped in this order when it ends without
/// winning: the handshake (quinn queues a CONNECTION_CLOSE), the endpoint handle, then the
/// tasks (after a last poll that sends the close), which hold the socket's last handles.
struct Attempt {
    connecting: Option<quinn::Connecting>,
    endpoint: Option<quinn::Endpoint>,
    socket: Arc<GuardedUdp>,
    scope: Arc<Scope>,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        drop(self.connecting.take());
        drop(self.endpoint.take());
        self.socket.forget_waiter();
        self.scope.abort();
    }
}

/// Opens the attempt's socket and endpoint and starts the handshake. A failure before any
/// packet is sent is the system's (`io::Error`, as a TCP connect's) or an [`AttemptError`].
fn start(
    quic: &dyn QuicRuntime,
    configs: &Configs,
    endpoint: &Endpoint,
    host: &HostPort,
) -> io::Result<Attempt> {
    let Some(quic_config) = configs.quic.as_ref() else {
        return Err(AttemptError::with_source(
            endpoint.clone(),
            AttemptErrorKind::Unsupported,
            "no QUIC ALPN id to offer",
        )
        .into());
    };
    let rustls = configs.config_for(endpoint, Transport::Quic)?;
    let config = quic_config.client_config(endpoint, rustls)?;
    let name = quinn_name(&server_name(host, endpoint)?, endpoint);
    let addr = endpoint.addr();
    let socket = Arc::new(GuardedUdp::attempt(open(addr)?, addr.is_ipv6(), |s| {
        quic.udp(s)
    })?);
    let scope = Arc::new(Scope::default());
    let runtime = Arc::new(ScopedRuntime::new(quic.quinn()?, scope.clone()));
    let mut attempt = Attempt {
        connecting: None,
        endpoint: None,
        socket: socket.clone(),
        scope,
    };
    let quinn_endpoint = quinn::Endpoint::new_with_abstract_socket(
        quinn::EndpointConfig::default(),
        None,
        socket,
        runtime,
    )?;
    let connecting = quinn_endpoint.connect_with(config, endpoint.addr(), &name);
    attempt.endpoint = Some(quinn_endpoint);
    attempt.connecting =
        Some(connecting.map_err(|e| quic_error(endpoint, QuicFailure::Connect(e)))?);
    Ok(attempt)
}

impl Attempt {
    /// Waits for the handshake, or for the socket's refusal, whichever comes first.
    async fn finish<S>(
        mut self,
        endpoint: Endpoint,
    ) -> Step<Connection<S>, Dialing<Connection<S>>> {
        let socket = self.socket.clone();
        let mut refused = std::pin::pin!(socket.refused());
        let done = poll_fn(|cx| {
            let Some(connecting) = self.connecting.as_mut() else {
                unreachable!("an attempt is started with its handshake")
            };
            if let Poll::Ready(done) = Pin::new(connecting).poll(cx) {
                return Poll::Ready(Ok(done));
            }
            refused.as_mut().poll(cx).map(Err)
        })
        .await;
        self.connecting = None;
        let connection = match done {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => {
                let error = quic_error(&endpoint, QuicFailure::Handshake(e));
                return Step::Done(Err(error.into()));
            }
            Err(refusal) => {
                tracing::debug!(target: "eyeballs", %endpoint, %refusal, "QUIC refused");
                return Step::Done(Err(refusal));
            }
        };
        let alpn = connection
            .handshake_data()
            .and_then(|d| d.downcast::<HandshakeData>().ok())
            .and_then(|d| d.protocol)
            .map(|id| Alpn::new(&id));
        if let Err(e) = check_alpn(&endpoint, alpn.as_ref(), true) {
            // Sent by the tasks' last poll when the attempt is dropped, right after this.
            connection.close(quinn::VarInt::from_u32(0), b"no ALPN protocol in common");
            return Step::Done(Err(e));
        }
        // The connection won its handshake: its tasks and socket live as long as it does.
        self.scope.detach();
        Step::Done(Ok(Connection::new(
            Established::Quic(connection),
            endpoint,
            alpn,
        )))
    }
}

/// A UDP socket for one attempt: bound to the family's unspecified address (IPv6 only on
/// the IPv6 one), non-blocking, and connected to `dest` so that the kernel reports its ICMP
/// errors to it.
fn open(dest: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let local = match dest {
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
    };
    let socket = Socket::new(Domain::for_address(dest), Type::DGRAM, Some(Protocol::UDP))?;
    if dest.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&local.into())?;
    socket.connect(&dest.into())?;
    Ok(socket.into())
}

/// The name quinn sends as SNI and checks: a DNS name, or an IP address's text.
fn quinn_name(name: &ServerName<'static>, endpoint: &Endpoint) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_owned(),
        ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
        _ => endpoint.addr().ip().to_string(),
    }
}
