//! One dialer per transport, each owning its attempt from the first system call to the
//! established connection, and all reporting the same events to the runner (progressed,
//! established, failed): TCP, TCP then the caller's step (G2), TCP+TLS and QUIC
//! (`tls`, `quic`).
//!
//! A connect picks its dialers as a [`Dial`]: which transports it speaks is a `match`
//! in one place, and a transport it does not speak is refused with
//! [`AttemptErrorKind::Unsupported`], never dialled as another.

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use eyeballs_core::{Endpoint, HostPort, Transport};

use crate::error::{AttemptError, AttemptErrorKind};
use crate::runtime::Runtime;
use crate::sockets::SocketOptions;

#[cfg(feature = "quic")]
pub(crate) mod quic;
#[cfg(feature = "tls")]
pub(crate) mod tls;

/// An attempt on its way, as an async dialer drives it.
pub(crate) type Dialing<O> = Pin<Box<dyn Future<Output = Step<O>> + Send>>;

/// How far an async attempt got.
pub(crate) enum Step<O> {
    /// Progress without being established (TCP up, the handshake under way): the rest.
    Progressed(Dialing<O>),
    /// Established, or failed, for good.
    Done(io::Result<O>),
}

/// How a connect dials the endpoints of its race on the runtime `R`.
pub(crate) trait Dial<R: Runtime>: Sync {
    /// What an established attempt gives.
    type Output: Send + 'static;

    /// Starts an attempt to `endpoint` for the caller's `host`; dropping the returned
    /// future closes everything it opened.
    fn dial(
        &self,
        rt: &R,
        socket: &SocketOptions,
        endpoint: Endpoint,
        host: &HostPort,
    ) -> Dialing<Self::Output>;
}

/// Plain TCP: an attempt is established when its TCP handshake is (RFC 8305).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainTcp;

impl<R: Runtime> Dial<R> for PlainTcp {
    type Output = R::Tcp;

    fn dial(
        &self,
        rt: &R,
        socket: &SocketOptions,
        endpoint: Endpoint,
        _: &HostPort,
    ) -> Dialing<R::Tcp> {
        match endpoint.transport() {
            Transport::Tcp => {
                let tcp = tcp(rt, socket, endpoint.addr());
                Box::pin(async move {
                    Step::Done(match tcp {
                        Ok(connecting) => connecting.await,
                        Err(e) => Err(e),
                    })
                })
            }
            _ => refuse(endpoint),
        }
    }
}

/// TCP, then a step of the caller's (a TLS handshake, say): the attempt counts when the
/// step succeeds (G2, HEv3 §6.1); TCP up is progress (V33).
pub(crate) struct Then<F, R> {
    step: Arc<F>,
    runtime: PhantomData<fn(R)>,
}

impl<F, R> Then<F, R> {
    pub(crate) fn new(step: F) -> Self {
        Then {
            step: Arc::new(step),
            runtime: PhantomData,
        }
    }
}

impl<F, Fut, O, R> Dial<R> for Then<F, R>
where
    R: Runtime,
    F: Fn(R::Tcp) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<O>> + Send + 'static,
    O: Send + 'static,
{
    type Output = O;

    fn dial(&self, rt: &R, socket: &SocketOptions, endpoint: Endpoint, _: &HostPort) -> Dialing<O> {
        match endpoint.transport() {
            Transport::Tcp => {
                let tcp = tcp(rt, socket, endpoint.addr());
                let step = self.step.clone();
                Box::pin(async move {
                    match tcp {
                        Ok(tcp) => match tcp.await {
                            Ok(stream) => {
                                let then = step(stream);
                                Step::Progressed(Box::pin(async move { Step::Done(then.await) }))
                            }
                            Err(e) => Step::Done(Err(e)),
                        },
                        Err(e) => Step::Done(Err(e)),
                    }
                })
            }
            _ => refuse(endpoint),
        }
    }
}

/// Starts the runtime's connect to `addr` with the connector's socket options.
pub(crate) fn tcp<R: Runtime>(
    rt: &R,
    socket: &SocketOptions,
    addr: SocketAddr,
) -> io::Result<R::Connect> {
    Ok(rt.connect(addr, socket))
}

/// Refuses an endpoint whose transport this connect does not speak.
pub(crate) fn refuse<O: Send + 'static>(endpoint: Endpoint) -> Dialing<O> {
    let error = AttemptError::with_source(
        endpoint,
        AttemptErrorKind::Unsupported,
        "this connect does not offer that transport",
    );
    Box::pin(std::future::ready(Step::Done(Err(error.into()))))
}
