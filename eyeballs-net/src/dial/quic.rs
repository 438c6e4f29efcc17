//! QUIC attempts with quinn (feature `quic`): one UDP socket per attempt, connected to its
//! destination, so that the kernel reports a refusal (ICMP port unreachable) to that
//! attempt alone; the attempt's quinn `Endpoint` lives as long as its connection.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use eyeballs_core::{Alpn, Endpoint, HostPort, Transport};
use quinn::crypto::rustls::HandshakeData;
use rustls::pki_types::ServerName;
use socket2::{Domain, Protocol, Socket, Type};

use super::{Dialing, Step};
use crate::error::{AttemptError, AttemptErrorKind};
use crate::tls::{
    check_alpn, quic_error, server_name, Configs, Connection, Established, QuicFailure,
};

/// Starts a QUIC attempt to `endpoint` on `quinn`'s runtime.
pub(crate) fn dial<S: Send + 'static>(
    quinn: Arc<dyn quinn::Runtime>,
    configs: &Configs,
    endpoint: Endpoint,
    host: &HostPort,
) -> Dialing<Connection<S>> {
    let setup = (|| {
        let Some(quic) = configs.quic.as_ref() else {
            return Err(AttemptError::with_source(
                endpoint.clone(),
                AttemptErrorKind::Unsupported,
                "no QUIC ALPN id to offer",
            ));
        };
        let rustls = configs.config_for(&endpoint, Transport::Quic)?;
        let config = quic.client_config(&endpoint, rustls)?;
        let name = server_name(host, &endpoint)?;
        let socket = open(endpoint.addr())
            .map_err(|e| AttemptError::with_source(endpoint.clone(), AttemptErrorKind::Io, e))?;
        let quinn_endpoint =
            quinn::Endpoint::new(quinn::EndpointConfig::default(), None, socket, quinn).map_err(
                |e| AttemptError::with_source(endpoint.clone(), AttemptErrorKind::Io, e),
            )?;
        let connecting = quinn_endpoint
            .connect_with(config, endpoint.addr(), &quinn_name(&name, &endpoint))
            .map_err(|e| quic_error(&endpoint, QuicFailure::Connect(e)))?;
        Ok((quinn_endpoint, connecting))
    })();
    let (quinn_endpoint, connecting) = match setup {
        Ok(started) => started,
        Err(e) => return Box::pin(std::future::ready(Step::Done(Err(e.into())))),
    };
    Box::pin(async move {
        // The endpoint handle goes with the attempt: a loser's socket closes when its
        // connection's close is sent, the winner's lives with its connection.
        let _endpoint = quinn_endpoint;
        let connection = match connecting.await {
            Ok(connection) => connection,
            Err(e) => {
                let error: io::Error = quic_error(&endpoint, QuicFailure::Handshake(e)).into();
                return Step::Done(Err(error));
            }
        };
        let alpn = connection
            .handshake_data()
            .and_then(|d| d.downcast::<HandshakeData>().ok())
            .and_then(|d| d.protocol)
            .map(|id| Alpn::new(&id));
        if let Err(e) = check_alpn(&endpoint, alpn.as_ref(), true) {
            connection.close(quinn::VarInt::from_u32(0), b"no ALPN protocol in common");
            return Step::Done(Err(e));
        }
        Step::Done(Ok(Connection::new(
            Established::Quic(connection),
            endpoint,
            alpn,
        )))
    })
}

/// A UDP socket for one attempt: bound to the family's unspecified address (IPv6 only on
/// the IPv6 one), connected to `dest` so the kernel reports its ICMP errors to it.
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
