//! A small DNS server on loopback UDP, answering AAAA, A and HTTPS for test names with
//! per-type delays, empty answers and error codes, so real resolvers are tested against real
//! packets. It runs on a thread of its own (no async runtime), so every driver's tests can
//! use it. Every record it gives has a TTL of 60 s, and it counts the queries it receives
//! ([`DnsServer::queries`]).

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::svcb::{self, SvcParamKey, SvcParamValue, SVCB};
use hickory_proto::rr::rdata::{A, AAAA, HTTPS};
pub use hickory_proto::rr::RecordType;
use hickory_proto::rr::{Name, RData, Record};

/// What one record type of one name answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// These addresses (maybe none: NOERROR with no data) after a delay.
    Addrs(Duration, Vec<IpAddr>),
    /// These HTTPS records (maybe none: NOERROR with no data) after a delay; build them with
    /// [`https`] and the [`param`] functions.
    Https(Duration, Vec<SVCB>),
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
        self.0.insert((key(name), rtype), reply);
        self
    }
}

/// An HTTPS (SVCB) record's data: SvcPriority (0 = AliasMode), TargetName (`"."` = the
/// owner) and SvcParams (in increasing key order, as RFC 9460 §2.2 requires on the wire).
///
/// # Panics
///
/// When `target` is not a valid name.
///
/// # Examples
///
/// ```
/// use eyeballs_lab::dns::{https, param};
///
/// // HTTPS 1 . alpn=h2 port=8443
/// let record = https(1, ".", vec![param::alpn(&["h2"]), param::port(8443)]);
/// assert_eq!(record.svc_priority, 1);
/// ```
pub fn https(priority: u16, target: &str, mut params: Vec<(SvcParamKey, SvcParamValue)>) -> SVCB {
    let target = Name::from_ascii(target).expect("a valid TargetName");
    params.sort_by_key(|(k, _)| u16::from(*k));
    SVCB::new(priority, target, params)
}

/// SvcParams for [`https`], typed (RFC 9460 §7, RFC 9848).
pub mod param {
    use super::*;

    /// `mandatory=...`, by key number (0 to 6 are the known keys).
    pub fn mandatory(keys: &[u16]) -> (SvcParamKey, SvcParamValue) {
        let keys = keys.iter().map(|&k| SvcParamKey::from(k)).collect();
        (
            SvcParamKey::Mandatory,
            SvcParamValue::Mandatory(svcb::Mandatory(keys)),
        )
    }

    /// `alpn=...`.
    pub fn alpn(ids: &[&str]) -> (SvcParamKey, SvcParamValue) {
        let ids = ids.iter().map(|s| s.to_string()).collect();
        (SvcParamKey::Alpn, SvcParamValue::Alpn(svcb::Alpn(ids)))
    }

    /// `no-default-alpn`.
    pub fn no_default_alpn() -> (SvcParamKey, SvcParamValue) {
        (SvcParamKey::NoDefaultAlpn, SvcParamValue::NoDefaultAlpn)
    }

    /// `port=...`.
    pub fn port(port: u16) -> (SvcParamKey, SvcParamValue) {
        (SvcParamKey::Port, SvcParamValue::Port(port))
    }

    /// `ipv4hint=...`.
    pub fn ipv4hint(hints: &[Ipv4Addr]) -> (SvcParamKey, SvcParamValue) {
        let hints = hints.iter().map(|&a| A(a)).collect();
        (
            SvcParamKey::Ipv4Hint,
            SvcParamValue::Ipv4Hint(svcb::IpHint(hints)),
        )
    }

    /// `ipv6hint=...`.
    pub fn ipv6hint(hints: &[Ipv6Addr]) -> (SvcParamKey, SvcParamValue) {
        let hints = hints.iter().map(|&a| AAAA(a)).collect();
        (
            SvcParamKey::Ipv6Hint,
            SvcParamValue::Ipv6Hint(svcb::IpHint(hints)),
        )
    }

    /// `ech=...`: an ECHConfigList, as opaque bytes.
    pub fn ech(config_list: &[u8]) -> (SvcParamKey, SvcParamValue) {
        (
            SvcParamKey::EchConfigList,
            SvcParamValue::EchConfigList(svcb::EchConfigList(config_list.to_vec())),
        )
    }

    /// `keyNNNNN=...`: a key no client knows, with its raw value.
    pub fn unknown(key: u16, value: &[u8]) -> (SvcParamKey, SvcParamValue) {
        (
            SvcParamKey::from(key),
            SvcParamValue::Unknown(svcb::Unknown(value.to_vec())),
        )
    }
}

/// The most replies waiting for their delay at once; more queries than that are dropped.
const MAX_PENDING: usize = 1024;
/// The most datagrams one server reads: a test sends a handful (retries included).
const MAX_QUERIES: usize = 10_000;

/// One query as the server received it: what it asked, and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The name asked about, lowercase, without the final dot.
    pub name: String,
    /// The record type asked for.
    pub rtype: RecordType,
    /// When the server read the datagram.
    pub arrived: Instant,
}

/// The queries a server received, in the order they arrived: shared with the server's
/// thread, which appends each query it can parse (at most `MAX_QUERIES`).
#[derive(Debug, Clone, Default)]
pub struct QueryLog(Arc<Mutex<Vec<Query>>>);

impl QueryLog {
    /// Returns the queries received so far, in arrival order.
    pub fn queries(&self) -> Vec<Query> {
        self.lock().clone()
    }

    fn push(&self, query: Query) {
        self.lock().push(query);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Query>> {
        // A push is one update: a panic elsewhere leaves the list consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Serves a [`Zone`] on loopback UDP from a thread of its own, until dropped (the thread is
/// stopped and joined, and the socket closed).
#[derive(Debug)]
pub struct DnsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The queries it received, in arrival order.
    pub log: QueryLog,
    stop: Arc<AtomicBool>,
    /// The server's own socket (a clone), to wake it with a datagram to itself.
    waker: UdpSocket,
    thread: Option<JoinHandle<()>>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // The thread checks `stop` after every datagram; this one wakes it.
        let _ = self.waker.send_to(&[0], self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl DnsServer {
    /// Starts serving `zone` on a free UDP port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// When no UDP socket can be bound on 127.0.0.1, or no thread started.
    pub fn start(zone: Zone) -> DnsServer {
        DnsServer::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), zone)
    }

    /// Starts serving `zone` at `addr` (say 127.0.0.1:53 inside a lab namespace: the
    /// socket belongs to the calling thread's network namespace).
    ///
    /// # Panics
    ///
    /// When the UDP socket cannot be bound, or no thread started.
    pub fn start_at(addr: SocketAddr, zone: Zone) -> DnsServer {
        let socket = UdpSocket::bind(addr).expect("bind DNS socket");
        let addr = socket.local_addr().expect("local addr");
        let waker = socket.try_clone().expect("clone the DNS socket");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let log = QueryLog::default();
        let logged = log.clone();
        let thread = std::thread::Builder::new()
            .name("eyeballs-lab-dns".into())
            .spawn(move || serve(&socket, &zone, &stopped, &logged))
            .expect("start the DNS server thread");
        DnsServer {
            addr,
            log,
            stop,
            waker,
            thread: Some(thread),
        }
    }
}

impl DnsServer {
    /// Returns how many queries the server has received so far (each DNS message with a
    /// question, retries included, answered or not): what a client's cache saved shows
    /// here.
    pub fn queries(&self) -> usize {
        self.log.queries().len()
    }
}

/// Answers queries, each after its delay, until `stop` (or `MAX_QUERIES` datagrams), and
/// logs each query as it arrives.
fn serve(socket: &UdpSocket, zone: &Zone, stop: &AtomicBool, log: &QueryLog) {
    let mut pending: Vec<(Instant, Vec<u8>, SocketAddr)> = Vec::new();
    let mut buf = [0u8; 2048];
    let mut received = 0;
    while received < MAX_QUERIES && !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(t, ..)| *t <= now);
        pending = later;
        for (_, bytes, peer) in due {
            let _ = socket.send_to(&bytes, peer);
        }
        // Wake for the next reply that falls due (a zero timeout is not allowed).
        let wait = pending
            .iter()
            .map(|(t, ..)| {
                t.saturating_duration_since(now)
                    .max(Duration::from_millis(1))
            })
            .min();
        if socket.set_read_timeout(wait).is_err() {
            return;
        }
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let arrived = Instant::now();
        received += 1;
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        if let Some(q) = query.queries.first() {
            log.push(Query {
                name: key(&q.name().to_ascii()),
                rtype: q.query_type(),
                arrived,
            });
        }
        let Some((delay, reply)) = answer(zone, &query) else {
            continue;
        };
        let Ok(bytes) = reply.to_vec() else {
            continue;
        };
        if delay.is_zero() {
            let _ = socket.send_to(&bytes, peer);
        } else if pending.len() < MAX_PENDING {
            // From when the query came, not from `now` (before the wait for it).
            pending.push((Instant::now() + delay, bytes, peer));
        }
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn answer(zone: &Zone, query: &Message) -> Option<(Duration, Message)> {
    let q = query.queries.first()?;
    let name = key(&q.name().to_ascii());
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(q.clone());
    let known = zone.0.keys().any(|(n, _)| *n == name);
    let record = |rdata| Record::from_rdata(q.name().clone(), 60, rdata);
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
                reply.add_answer(record(rdata));
            }
            *delay
        }
        Some(Reply::Https(delay, records)) => {
            for svcb in records {
                reply.add_answer(record(RData::HTTPS(HTTPS(svcb.clone()))));
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
