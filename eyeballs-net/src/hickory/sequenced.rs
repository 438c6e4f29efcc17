//! A runtime provider that watches the resolver's UDP sockets for AAAA queries leaving, so
//! that the A query of the same name can wait for them (RFC 8305 §3, R1; see `order`).
//! Everything else is the runtime's provider's own.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hickory_resolver::net::runtime::{DnsUdpSocket, QuicSocketBinder, RuntimeProvider};

use super::order::Order;

/// The record type AAAA (RFC 3596).
const AAAA: u16 = 28;

/// A runtime provider `P` whose UDP sockets report each AAAA query they send to an
/// [`Order`].
#[derive(Clone)]
pub(crate) struct Sequenced<P> {
    inner: P,
    order: Order,
}

impl<P> Sequenced<P> {
    pub(crate) fn new(inner: P, order: Order) -> Self {
        Sequenced { inner, order }
    }
}

impl<P: RuntimeProvider> RuntimeProvider for Sequenced<P> {
    type Handle = P::Handle;
    type Timer = P::Timer;
    type Udp = SequencedUdp<P::Udp>;
    type Tcp = P::Tcp;

    fn create_handle(&self) -> Self::Handle {
        self.inner.create_handle()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
        bind_addr: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> Pin<Box<dyn Send + Future<Output = io::Result<Self::Tcp>>>> {
        self.inner.connect_tcp(server_addr, bind_addr, timeout)
    }

    fn bind_udp(
        &self,
        local_addr: SocketAddr,
        server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = io::Result<Self::Udp>>>> {
        let bound = self.inner.bind_udp(local_addr, server_addr);
        let order = self.order.clone();
        Box::pin(async move {
            Ok(SequencedUdp {
                socket: bound.await?,
                order,
            })
        })
    }

    fn quic_binder(&self) -> Option<&dyn QuicSocketBinder> {
        self.inner.quic_binder()
    }
}

/// A UDP socket of the resolver that reports the AAAA queries it sends.
pub(crate) struct SequencedUdp<U> {
    socket: U,
    order: Order,
}

impl<U: DnsUdpSocket> DnsUdpSocket for SequencedUdp<U> {
    type Time = U::Time;

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.socket.poll_recv_from(cx, buf)
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let sent = self.socket.poll_send_to(cx, buf, target);
        if let Poll::Ready(Ok(_)) = sent {
            if let Some((qname, AAAA)) = question(buf) {
                self.order.aaaa_sent(&qname);
            }
        }
        sent
    }
}

/// The first question of a DNS message: its name (labels joined by dots, without the root)
/// and its type; `None` for a message too short or with no question.
fn question(msg: &[u8]) -> Option<(String, u16)> {
    let count = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    if count == 0 {
        return None;
    }
    let mut at = 12;
    let mut name = String::new();
    loop {
        let len = usize::from(*msg.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        // A query's name is not compressed (a pointer has the top bits set): give up on one.
        if len > 63 {
            return None;
        }
        let label = msg.get(at..at + len)?;
        if !name.is_empty() {
            name.push('.');
        }
        name.extend(label.iter().map(|&b| char::from(b)));
        at += len;
    }
    let rtype = u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]);
    Some((name, rtype))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_question() {
        // id 1, RD, one question: www.Lab.test AAAA IN.
        let mut msg = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["www", "Lab", "test"] {
            msg.push(label.len() as u8);
            msg.extend_from_slice(label.as_bytes());
        }
        msg.extend_from_slice(&[0, 0, 28, 0, 1]);
        assert_eq!(question(&msg), Some(("www.Lab.test".to_string(), AAAA)));
        assert_eq!(question(&msg[..msg.len() - 3]), None, "cut short");
        let mut none = msg.clone();
        none[5] = 0;
        assert_eq!(question(&none), None, "no question");
        let mut pointer = msg.clone();
        pointer[12] = 0xc0;
        assert_eq!(question(&pointer), None, "compressed");
        assert_eq!(question(&[0; 5]), None);
    }
}
