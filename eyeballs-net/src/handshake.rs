//! What a connector does with an endpoint the race picked, beyond the TCP connect the
//! runtime performs: the steps after it (TLS, say), and QUIC (HEv3 §6.1, V32, V33; G2).

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;

use eyeballs_core::{Endpoint, HostPort, Protocols};

use crate::drive::Connecting;

/// What one attempt is about: the endpoint the race picked, and the host the caller asked
/// for (whose name TLS sends as SNI and checks the certificate against, never the
/// TargetName of a record: RFC 9460 §9.1, V42).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptContext<'a> {
    /// The endpoint: address, transport, the ALPN ids to offer, ECH configuration.
    pub endpoint: &'a Endpoint,
    /// The host and port the caller asked for.
    pub host: &'a HostPort,
}

/// What follows a TCP handshake.
pub enum Next<O> {
    /// Nothing: the attempt is established now, with this output.
    Done(O),
    /// A step to wait for (a TLS handshake, say): the race hears that the attempt made
    /// progress ([`Input::Progressed`](eyeballs_core::Input::Progressed)), and counts it
    /// established when the step succeeds. An error fails the attempt.
    Then(Connecting<O>),
}

/// How a connector turns the endpoints of a race into connections: the protocols it
/// offers, the step after a TCP connect, and QUIC.
///
/// `S` is the runtime's TCP stream. The async loop connects TCP endpoints itself (with the
/// connector's [`SocketOptions`](crate::SocketOptions)) and hands the stream to
/// [`Handshake::tcp`]; QUIC endpoints go to [`Handshake::quic`]. Dropping a returned future
/// must close everything it opened: losers are dropped.
pub trait Handshake<S>: Send + Sync + 'static {
    /// What a won attempt gives the caller.
    type Output: Send + 'static;

    /// Returns the application protocols the race offers (ALPN ids over TCP and QUIC).
    /// Default: plain TCP.
    fn protocols(&self) -> Protocols {
        Protocols::new()
    }

    /// Returns whether the race asks for HTTPS records (HEv3 §4.1, V1), when the resolver
    /// can answer them. Default: `false`.
    fn https(&self) -> bool {
        false
    }

    /// Finishes a TCP attempt whose handshake completed.
    fn tcp(&self, stream: S, attempt: AttemptContext<'_>) -> Next<Self::Output>;

    /// Makes a QUIC attempt. The race offers QUIC endpoints only when
    /// [`Handshake::protocols`] has QUIC ids. Default: fails with `Unsupported`.
    fn quic(&self, attempt: AttemptContext<'_>) -> Connecting<Self::Output> {
        let endpoint = attempt.endpoint.to_string();
        Box::pin(std::future::ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{endpoint}: this connector does not speak QUIC"),
        ))))
    }
}

/// Plain TCP: an attempt is established when its TCP handshake is (RFC 8305).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainTcp;

impl<S: Send + 'static> Handshake<S> for PlainTcp {
    type Output = S;

    fn tcp(&self, stream: S, _attempt: AttemptContext<'_>) -> Next<S> {
        Next::Done(stream)
    }
}

/// A step of the caller's after TCP connects, as a closure: the G2 hook of
/// [`Connector::connect_established_with_report`](crate::Connector::connect_established_with_report).
pub struct Step<F, S> {
    step: F,
    stream: PhantomData<fn(S)>,
}

impl<F, S> Step<F, S> {
    /// Wraps `step`.
    pub fn new(step: F) -> Self {
        Step {
            step,
            stream: PhantomData,
        }
    }
}

impl<F, Fut, S, O> Handshake<S> for Step<F, S>
where
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<O>> + Send + 'static,
    S: Send + 'static,
    O: Send + 'static,
{
    type Output = O;

    fn tcp(&self, stream: S, _attempt: AttemptContext<'_>) -> Next<O> {
        let step: Pin<Box<dyn Future<Output = io::Result<O>> + Send>> =
            Box::pin((self.step)(stream));
        Next::Then(step)
    }
}
