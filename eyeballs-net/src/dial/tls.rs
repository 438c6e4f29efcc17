//! TCP+TLS and QUIC on an async runtime (feature `tls`): an attempt counts when its
//! handshake is done (HEv3 §6.1), its TCP connect is progress (V33).

use std::sync::Arc;

use eyeballs_core::{Alpn, Endpoint, HostPort, Transport};

use super::{refusal, Dial, Dialing, Gate, Step};
use crate::proxy::{tunnel, Proxy};
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
        gate: Option<Gate>,
        proxy: Option<&Proxy>,
    ) -> Dialing<Self::Output> {
        match endpoint.transport() {
            Transport::Tcp => {
                tls_over_tcp(rt, &self.configs, socket, (endpoint, host), gate, proxy)
            }
            // The core never holds a QUIC attempt: it starts it after the gate (HG15).
            // Nor does it race QUIC through a proxy (HG20): refused, never dialled direct.
            #[cfg(feature = "quic")]
            Transport::Quic if proxy.is_none() => match rt.quic() {
                Some(quic) => super::quic::dial(quic, &self.configs, endpoint, host),
                None => Dialing::done(Err(refusal(endpoint))),
            },
            _ => Dialing::done(Err(refusal(endpoint))),
        }
    }
}

/// TCP, then TLS with the endpoint's config and the caller's host as the server name;
/// with a gate, the ClientHello waits for it and offers the released endpoint (V34, HG15).
/// Through a proxy, the tunnel opens first and TLS to the caller's host runs in it (V60).
fn tls_over_tcp<R: TlsRuntime>(
    rt: &R,
    configs: &Arc<Configs>,
    socket: &SocketOptions,
    (endpoint, host): (Endpoint, &HostPort),
    gate: Option<Gate>,
    proxy: Option<&Proxy>,
) -> Dialing<Connection<R::TlsStream>> {
    // Checked before any socket: a name TLS cannot send fails the attempt at once.
    if let Err(e) = server_name(host, &endpoint) {
        return Dialing::done(Err(e.into()));
    }
    let tcp = rt.connect(endpoint.addr(), socket);
    let (rt, configs, host) = (rt.clone(), configs.clone(), host.clone());
    let proxy = proxy.cloned();
    Dialing::new(async move {
        let stream = match tcp.await {
            Ok(stream) => stream,
            Err(e) => return Step::Done(Err(e)),
        };
        Step::Progressed(Dialing::new(async move {
            let stream = match &proxy {
                Some(proxy) => match tunnel::<R>(stream, proxy, &endpoint, &host).await {
                    Ok(stream) => stream,
                    Err(e) => return Step::Done(Err(e)),
                },
                None => stream,
            };
            let endpoint = match gate {
                Some(gate) => gate.released().await,
                None => endpoint,
            };
            let setup = configs
                .config_for(&endpoint, Transport::Tcp)
                .and_then(|config| Ok((config, server_name(&host, &endpoint)?)));
            let (config, name) = match setup {
                Ok(setup) => setup,
                Err(e) => return Step::Done(Err(e.into())),
            };
            let stream = match rt.handshake(config, name, stream).await {
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
