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
use std::pin::Pin;
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use eyeballs_core::{Endpoint, HostPort, Transport};

use crate::error::{AttemptError, AttemptErrorKind};
use crate::proxy::{tunnel, Proxy};
use crate::runtime::Runtime;
use crate::sockets::SocketOptions;

#[cfg(feature = "quic")]
pub(crate) mod quic;
#[cfg(feature = "tls")]
pub(crate) mod tls;

/// How far an async attempt got; `F` is the rest of it.
pub(crate) enum Step<O, F> {
    /// Progress without being established (TCP up, the handshake under way): the rest.
    Progressed(F),
    /// Established, or failed, for good.
    Done(io::Result<O>),
}

/// An attempt on its way, boxed: the dialers with steps after TCP (TLS, QUIC, the caller's).
pub(crate) struct Dialing<O>(Pin<Box<dyn Future<Output = Step<O, Dialing<O>>> + Send>>);

impl<O> Dialing<O> {
    pub(crate) fn new(future: impl Future<Output = Step<O, Dialing<O>>> + Send + 'static) -> Self {
        Dialing(Box::pin(future))
    }

    /// An attempt that ended before it began (a refusal, a setup error).
    pub(crate) fn done(result: io::Result<O>) -> Self
    where
        O: Send + 'static,
    {
        Dialing::new(std::future::ready(Step::Done(result)))
    }
}

impl<O> Future for Dialing<O> {
    type Output = Step<O, Dialing<O>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

/// The release of a held attempt (V34, HG6: its TCP connects, its ClientHello waits for
/// service information): the endpoint its handshake offers and encrypts, once known.
#[derive(Clone, Default)]
pub(crate) struct Gate(Arc<Mutex<GateState>>);

#[derive(Default)]
struct GateState {
    released: Option<Endpoint>,
    waker: Option<Waker>,
}

impl Gate {
    /// Releases the handshake with `endpoint`.
    pub(crate) fn release(&self, endpoint: Endpoint) {
        let waker = {
            let mut state = self.lock();
            state.released = Some(endpoint);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Ready with the released endpoint; registers `cx` before.
    pub(crate) fn poll_released(&self, cx: &mut Context<'_>) -> Poll<Endpoint> {
        let mut state = self.lock();
        match state.released.take() {
            Some(endpoint) => Poll::Ready(endpoint),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// The released endpoint.
    pub(crate) async fn released(&self) -> Endpoint {
        std::future::poll_fn(|cx| self.poll_released(cx)).await
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // Every change under the lock is one assignment or take.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How a connect dials the endpoints of its race on the runtime `R`.
pub(crate) trait Dial<R: Runtime>: Sync {
    /// What an established attempt gives.
    type Output: Send + 'static;
    /// An attempt on its way (no box for plain TCP).
    type Future: Future<Output = Step<Self::Output, Self::Future>> + Send + Unpin + 'static;

    /// Starts an attempt to `endpoint` for the caller's `host`; dropping the returned
    /// future closes everything it opened. With a `gate`, the attempt connects TCP, reports
    /// it as progress, and waits for the gate before its handshake, which then offers the
    /// released endpoint. With a `proxy` (V60, HG20), `endpoint` is the proxy's: TCP up is
    /// progress, then the tunnel to `host` opens (before the gate: the proxy's request is
    /// no ClientHello), and the rest runs through it.
    fn dial(
        &self,
        rt: &R,
        socket: &SocketOptions,
        endpoint: Endpoint,
        host: &HostPort,
        gate: Option<Gate>,
        proxy: Option<&Proxy>,
    ) -> Self::Future;
}

/// Plain TCP: an attempt is established when its TCP handshake is (RFC 8305).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainTcp;

impl<R: Runtime> Dial<R> for PlainTcp {
    type Output = R::Tcp;
    type Future = TcpDial<R::Connect, R::Tcp>;

    fn dial(
        &self,
        rt: &R,
        socket: &SocketOptions,
        endpoint: Endpoint,
        host: &HostPort,
        gate: Option<Gate>,
        proxy: Option<&Proxy>,
    ) -> Self::Future {
        match endpoint.transport() {
            Transport::Tcp => {
                let connect = rt.connect(endpoint.addr(), socket);
                let through = proxy.map(|proxy| {
                    let (proxy, host) = (proxy.clone(), host.clone());
                    Box::new(move |stream: R::Tcp| -> Tunneling<R::Tcp> {
                        Box::pin(async move { tunnel::<R>(stream, &proxy, &endpoint, &host).await })
                    }) as Through<R::Tcp>
                });
                TcpDial::Connecting(connect, gate, through)
            }
            _ => TcpDial::Refused(Some(refusal(endpoint))),
        }
    }
}

/// A tunnel through a proxy on its way (V60).
pub(crate) type Tunneling<T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send>>;

/// What starts a tunnel on a connected stream (V60).
pub(crate) type Through<T> = Box<dyn FnOnce(T) -> Tunneling<T> + Send>;

/// A plain TCP attempt: the runtime's connect, unboxed; held until its gate opens when it
/// has one (there is no handshake to hold, but the race counts it only after). Through a
/// proxy, TCP up is progress and the tunnel follows (boxed: the rare path).
pub(crate) enum TcpDial<C, T> {
    Connecting(C, Option<Gate>, Option<Through<T>>),
    Tunnel(Tunneling<T>, Option<Gate>),
    /// Boxed, so the future is `Unpin` whatever the stream (a rare path: ECH on, no TLS).
    Waiting(Option<Box<T>>, Gate),
    Refused(Option<io::Error>),
}

impl<C, T> Future for TcpDial<C, T>
where
    C: Future<Output = io::Result<T>> + Unpin,
{
    type Output = Step<T, TcpDial<C, T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut *self {
            TcpDial::Connecting(connect, gate, through) => {
                let result = std::task::ready!(Pin::new(connect).poll(cx));
                Poll::Ready(match (result, gate.take(), through.take()) {
                    (Ok(stream), gate, Some(through)) => {
                        Step::Progressed(TcpDial::Tunnel(through(stream), gate))
                    }
                    (Ok(stream), Some(gate), None) => {
                        Step::Progressed(TcpDial::Waiting(Some(Box::new(stream)), gate))
                    }
                    (result, ..) => Step::Done(result),
                })
            }
            TcpDial::Tunnel(tunneling, gate) => {
                let stream = match std::task::ready!(tunneling.as_mut().poll(cx)) {
                    Ok(stream) => stream,
                    Err(e) => return Poll::Ready(Step::Done(Err(e))),
                };
                match gate.take() {
                    // Its progress was reported when TCP came up: wait here for the gate.
                    Some(gate) => {
                        *self = TcpDial::Waiting(Some(Box::new(stream)), gate);
                        self.poll(cx)
                    }
                    None => Poll::Ready(Step::Done(Ok(stream))),
                }
            }
            TcpDial::Waiting(stream, gate) => {
                std::task::ready!(gate.poll_released(cx));
                let stream = stream
                    .take()
                    .map(|s| *s)
                    .ok_or_else(|| io::Error::other("a released attempt polled twice"));
                Poll::Ready(Step::Done(stream))
            }
            TcpDial::Refused(error) => {
                let error = error
                    .take()
                    .unwrap_or_else(|| io::Error::other("a refused attempt polled twice"));
                Poll::Ready(Step::Done(Err(error)))
            }
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
    type Future = Dialing<O>;

    fn dial(
        &self,
        rt: &R,
        socket: &SocketOptions,
        endpoint: Endpoint,
        host: &HostPort,
        gate: Option<Gate>,
        proxy: Option<&Proxy>,
    ) -> Dialing<O> {
        match endpoint.transport() {
            Transport::Tcp => {
                let tcp = rt.connect(endpoint.addr(), socket);
                let step = self.step.clone();
                let host = host.clone();
                let proxy = proxy.cloned();
                Dialing::new(async move {
                    match tcp.await {
                        Ok(stream) => Step::Progressed(Dialing::new(async move {
                            let stream = match &proxy {
                                Some(proxy) => {
                                    match tunnel::<R>(stream, proxy, &endpoint, &host).await {
                                        Ok(stream) => stream,
                                        Err(e) => return Step::Done(Err(e)),
                                    }
                                }
                                None => stream,
                            };
                            if let Some(gate) = gate {
                                gate.released().await;
                            }
                            Step::Done(step(stream).await)
                        })),
                        Err(e) => Step::Done(Err(e)),
                    }
                })
            }
            _ => Dialing::done(Err(refusal(endpoint))),
        }
    }
}

/// Why an endpoint whose transport this connect does not speak is refused.
pub(crate) fn refusal(endpoint: Endpoint) -> io::Error {
    AttemptError::with_source(
        endpoint,
        AttemptErrorKind::Unsupported,
        "this connect does not offer that transport",
    )
    .into()
}
