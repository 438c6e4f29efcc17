//! A small DNS server on loopback UDP, answering AAAA and A for test names with per-type
//! delays, empty answers and error codes, so real resolvers are tested against real packets.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

/// What one record type of one name answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// These addresses (maybe none: NOERROR with no data) after a delay.
    Addrs(Duration, Vec<IpAddr>),
    /// This response code (SERVFAIL, NXDOMAIN) after a delay.
    Code(Duration, ResponseCode),
    /// No reply at all.
    Silent,
}

/// The zone: (lowercase name without the final dot, type) to reply.
#[derive(Debug, Clone, Default)]
pub struct Zone(BTreeMap<(String, RecordType), Reply>);

impl Zone {
    /// Sets what `name` answers for `rtype`. Other types of a known name answer NOERROR
    /// with no data; unknown names answer NXDOMAIN.
    pub fn set(mut self, name: &str, rtype: RecordType, reply: Reply) -> Self {
        self.0.insert((name.to_ascii_lowercase(), rtype), reply);
        self
    }
}

/// Serves `zone` on 127.0.0.1 until the returned handle is dropped (the task is aborted).
pub struct DnsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DnsServer {
    /// Starts serving `zone` on a free UDP port of 127.0.0.1, on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When no UDP socket can be bound on 127.0.0.1.
    pub async fn start(zone: Zone) -> DnsServer {
        DnsServer::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), zone).await
    }

    /// Starts serving `zone` at `addr` (say 127.0.0.1:53 inside a lab namespace).
    ///
    /// # Panics
    ///
    /// When the UDP socket cannot be bound.
    pub async fn start_at(addr: SocketAddr, zone: Zone) -> DnsServer {
        let socket = Arc::new(UdpSocket::bind(addr).await.expect("bind DNS socket"));
        let addr = socket.local_addr().expect("local addr");
        let zone = Arc::new(zone);
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            // Bounded: a test sends a handful of queries (retries included).
            for _ in 0..10_000 {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let socket = socket.clone();
                let zone = zone.clone();
                tokio::spawn(async move {
                    if let Some((delay, reply)) = answer(&zone, &query) {
                        tokio::time::sleep(delay).await;
                        if let Ok(bytes) = reply.to_vec() {
                            let _ = socket.send_to(&bytes, peer).await;
                        }
                    }
                });
            }
        });
        DnsServer { addr, task }
    }
}

fn answer(zone: &Zone, query: &Message) -> Option<(Duration, Message)> {
    let q = query.queries.first()?;
    let name = q
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(q.clone());
    let known = zone.0.keys().any(|(n, _)| *n == name);
    let delay = match zone.0.get(&(name.clone(), q.query_type())) {
        Some(Reply::Silent) => return None,
        Some(Reply::Code(delay, code)) => {
            reply.metadata.response_code = *code;
            *delay
        }
        Some(Reply::Addrs(delay, addrs)) => {
            for ip in addrs {
                let rdata = match ip {
                    IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                    IpAddr::V4(v4) => RData::A(A(*v4)),
                };
                reply.add_answer(Record::from_rdata(q.name().clone(), 60, rdata));
            }
            *delay
        }
        None if known => Duration::ZERO,
        None => {
            reply.metadata.response_code = ResponseCode::NXDomain;
            Duration::ZERO
        }
    };
    Some((delay, reply))
}
