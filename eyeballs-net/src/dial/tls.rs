//! TCP+TLS and QUIC on an async runtime (feature `tls`): an attempt counts when its
//! handshake is done (HEv3 §6.1), its TCP connect is progress (V33).

use std::sync::Arc;

use eyeballs_core::{Alpn, Endpoint, HostPort, Transport};

use super::{refusal, Dial, Dialing, Step};
use crate::runtime::TlsRuntime;
use crate::sockets::SocketOptions;
use crate::tls::{check_alpn, server_name, tls_io_error, Configs, Connection, Established, Tls};

/// The dialers of a TLS-aware race on `R`.
pub(crate) struct TlsDial {
    configs: Arc<Configs>,
}

impl TlsDial {
    pub(crate) fn new(tls: &Tls) -> Self {
        TlsDial {
            configs: tls.configs().clone(),
        }
    }
}

impl<R: TlsRuntime> Dial<R> for TlsDial {
    type Output = Connection<R::TlsStream>;
    type Future = Dialing<Self::Output>;

    fn dial(
        &self,
        rt: &R,
        socket: &SocketOptions,
        endpoint: Endpoint,
        host: &HostPort,
    ) -> Dialing<Self::Output> {
        match endpoint.transport() {
            Transport::Tcp => tls_over_tcp(rt, &self.configs, socket, endpoint, host),
            #[cfg(feature = "quic")]
            Transport::Quic => match rt.quic() {
                Some(quic) => super::quic::dial(quic, &self.configs, endpoint, host),
                None => Dialing::done(Err(refusal(endpoint))),
            },
            _ => Dialing::done(Err(refusal(endpoint))),
        }
    }
}

/// TCP, then TLS with the endpoint's config and the caller's host as the server name.
fn tls_over_tcp<R: TlsRuntime>(
    rt: &R,
    configs: &Configs,
    socket: &SocketOptions,
    endpoint: Endpoint,
    host: &HostPort,
) -> Dialing<Connection<R::TlsStream>> {
    let setup = configs
        .config_for(&endpoint, Transport::Tcp)
        .and_then(|config| Ok((config, server_name(host, &endpoint)?)));
    let (config, name) = match setup {
        Ok(setup) => setup,
        Err(e) => return Dialing::done(Err(e.into())),
    };
    let tcp = rt.connect(endpoint.addr(), socket);
    let rt = rt.clone();
    Dialing::new(async move {
        let stream = match tcp.await {
            Ok(stream) => stream,
            Err(e) => return Step::Done(Err(e)),
        };
        let handshake = rt.handshake(config, name, stream);
        Step::Progressed(Dialing::new(async move {
            let stream = match handshake.await {
                Ok(stream) => stream,
                Err(e) => return Step::Done(Err(tls_io_error(&endpoint, e).into())),
            };
            let alpn = R::alpn(&stream).map(Alpn::new);
            Step::Done(
                check_alpn(&endpoint, alpn.as_ref(), false)
                    .map(|()| Connection::new(Established::Tls(stream), endpoint, alpn)),
            )
        }))
    })
}
