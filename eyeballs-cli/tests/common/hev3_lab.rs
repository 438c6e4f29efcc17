//! The Happy Eyeballs v3 scenarios of the network lab, written once for the tests
//! (`tests/netlab_tls.rs`) and the benchmark (`benches/netlab_tls.rs`): each a namespace
//! whose DNS server answers HTTPS records and whose addresses run TLS and QUIC servers
//! (eyeballs-lab), with TCP SYNs or UDP datagrams dropped as the scenario says.
// Each includer uses a part.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use eyeballs_lab::dns::{https, param, Reply, Zone};
use eyeballs_lab::netns::{root_or_skip, Behaviour, NetLab};
use eyeballs_lab::tls::{ech_config_list, QuicServe, QuicServer, TestCa, TlsServe, TlsServer};
use hickory_proto::rr::rdata::svcb::{SvcParamKey, SvcParamValue, SVCB};
use hickory_proto::rr::RecordType;

pub(crate) const NAME: &str = "www.lab.test";
/// The authority port: HTTPS records are asked for `NAME` itself (RFC 9460 §9.1).
pub(crate) const PORT: u16 = 443;
/// The port of the record with a `port` key ([`https_late`]).
pub(crate) const SERVICE_PORT: u16 = 8443;
/// The port of the lab's plain listeners (unused here: the servers are TLS and QUIC).
const PLAIN: u16 = 8080;

pub(crate) const V6: &str = "2001:db8::1";
pub(crate) const V4: &str = "203.0.113.1";
/// The alias target's addresses ([`alias`]).
pub(crate) const CDN6: &str = "2001:db8::2";
pub(crate) const CDN4: &str = "203.0.113.2";
/// The two targets of [`two_priorities`].
pub(crate) const PRIMARY6: &str = "2001:db8::a";
pub(crate) const PRIMARY4: &str = "203.0.113.10";
pub(crate) const SECONDARY6: &str = "2001:db8::b";
pub(crate) const SECONDARY4: &str = "203.0.113.11";
/// The public name of the ECH config of [`quic_healthy`]'s record.
pub(crate) const ECH_PUBLIC_NAME: &str = "public.lab.test";

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `addr` and `port` as a socket address is written (`[v6]:port`).
pub(crate) fn sa(addr: &str, port: u16) -> String {
    SocketAddr::new(ip(addr), port).to_string()
}

/// What runs on one address of the lab at `port`: a TLS server (h2, http/1.1) on TCP, a
/// QUIC server (h3) on UDP, or both.
#[derive(Clone, Copy)]
pub(crate) struct Serve {
    addr: &'static str,
    port: u16,
    tls: Option<TlsServe>,
    quic: bool,
}

/// TLS (echo) and QUIC on `addr`, at the authority port.
fn both(addr: &'static str) -> Serve {
    Serve {
        addr,
        port: PORT,
        tls: Some(TlsServe::Echo),
        quic: true,
    }
}

/// One scenario: addresses (their behaviour is the kernel's for TCP SYNs), the zone, the
/// servers, and the addresses whose UDP to [`PORT`] is dropped.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    addrs: Vec<(&'static str, Behaviour)>,
    zone: Zone,
    serve: Vec<Serve>,
    udp_dropped: Vec<&'static str>,
}

/// A running scenario: its servers, the lab and the CA file, dropped in that order.
pub(crate) struct TlsLab {
    _tls: Vec<TlsServer>,
    _quic: Vec<QuicServer>,
    pub(crate) lab: NetLab,
    ca: CaFile,
}

impl TlsLab {
    /// The test CA's root, a PEM file (`--ca`).
    pub(crate) fn ca(&self) -> &Path {
        &self.ca.0
    }
}

/// The test CA's root in a file, removed when dropped.
struct CaFile(PathBuf);

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts `s` in a lab of its own, or returns `None` when not root (see [`root_or_skip`]).
/// Certificates (for [`NAME`]) come from a CA made here.
///
/// # Panics
///
/// When the lab or a server cannot start.
pub(crate) fn start(s: Scenario) -> Option<TlsLab> {
    if !root_or_skip() {
        return None;
    }
    let addrs: Vec<(IpAddr, Behaviour)> = s.addrs.iter().map(|(a, b)| (ip(a), *b)).collect();
    let lab = NetLab::new(&addrs, PLAIN, s.zone).expect("the lab");
    let ca = TestCa::new();
    let (mut tls, mut quic) = (Vec::new(), Vec::new());
    for serve in s.serve {
        let at = SocketAddr::new(ip(serve.addr), serve.port);
        let (listener, socket) = lab
            .in_namespace(move || {
                let listener = serve.tls.map(|_| TcpListener::bind(at)).transpose()?;
                let socket = serve.quic.then(|| UdpSocket::bind(at)).transpose()?;
                Ok((listener, socket))
            })
            .expect("the servers' sockets in the namespace");
        if let (Some(l), Some(how)) = (listener, serve.tls) {
            let config = ca.server_config(&[NAME], &["h2", "http/1.1"]);
            tls.push(TlsServer::start(l, config, how).expect("a TLS server"));
        }
        if let Some(u) = socket {
            let config = ca.server_config(&[NAME], &["h3"]);
            quic.push(QuicServer::start(u, config, QuicServe::Echo).expect("a QUIC server"));
        }
    }
    for addr in s.udp_dropped {
        lab.drop_udp(ip(addr), PORT).expect("a UDP rule");
    }
    let path = std::env::temp_dir().join(format!("{}-ca.pem", lab.name()));
    std::fs::write(&path, ca.root_pem()).expect("the CA file");
    Some(TlsLab {
        _tls: tls,
        _quic: quic,
        lab,
        ca: CaFile(path),
    })
}

/// `NAME` with AAAA `V6` and A `V4` at once, and these HTTPS records after `delay`.
fn zone(delay: Duration, records: Vec<SVCB>) -> Zone {
    Zone::default()
        .set(NAME, RecordType::AAAA, Reply::Addrs(ms(0), vec![ip(V6)]))
        .set(NAME, RecordType::A, Reply::Addrs(ms(0), vec![ip(V4)]))
        .set(NAME, RecordType::HTTPS, Reply::Https(delay, records))
}

/// `1 . alpn=h3,h2` and these params.
fn h3_h2(mut params: Vec<(SvcParamKey, SvcParamValue)>) -> SVCB {
    params.push(param::alpn(&["h3", "h2"]));
    https(1, ".", params)
}

fn dual() -> Vec<(&'static str, Behaviour)> {
    vec![(V6, Behaviour::Accept), (V4, Behaviour::Accept)]
}

/// Every scenario, in the benchmark's order.
pub(crate) fn all() -> Vec<Scenario> {
    vec![
        quic_healthy(),
        udp_dropped("UDP dropped"),
        https_late(),
        hints_only(),
        alias(),
        two_priorities(),
        tls_stalls_on_ipv6(),
        udp_dropped("QUIC blocked, second race (history)"),
    ]
}

/// QUIC healthy: `1 . alpn=h3,h2 ech=...` (ECH config bytes for [`ECH_PUBLIC_NAME`]), TLS
/// and QUIC on both addresses.
pub(crate) fn quic_healthy() -> Scenario {
    let record = h3_h2(vec![param::ech(&ech_config_list(ECH_PUBLIC_NAME))]);
    Scenario {
        name: "QUIC healthy",
        addrs: dual(),
        zone: zone(ms(0), vec![record]),
        serve: vec![both(V6), both(V4)],
        udp_dropped: vec![],
    }
}

/// As [`quic_healthy`] (without ECH), with UDP to both addresses dropped: QUIC blocked.
pub(crate) fn udp_dropped(name: &'static str) -> Scenario {
    Scenario {
        name,
        addrs: dual(),
        zone: zone(ms(0), vec![h3_h2(vec![])]),
        serve: vec![both(V6), both(V4)],
        udp_dropped: vec![V6, V4],
    }
}

/// The HTTPS answer 300 ms late: `1 . alpn=h3,h2 port=8443`; TLS and QUIC on
/// [`SERVICE_PORT`] only, so the authority port (443) refuses.
pub(crate) fn https_late() -> Scenario {
    let on = |addr| Serve {
        port: SERVICE_PORT,
        ..both(addr)
    };
    Scenario {
        name: "HTTPS answer 300 ms late",
        addrs: dual(),
        zone: zone(ms(300), vec![h3_h2(vec![param::port(SERVICE_PORT)])]),
        serve: vec![on(V6), on(V4)],
        udp_dropped: vec![],
    }
}

/// Hints only: `1 . alpn=h3,h2 ipv4hint=V4 ipv6hint=V6` at once, the real AAAA and A
/// 1000 ms late.
pub(crate) fn hints_only() -> Scenario {
    let record = h3_h2(vec![
        param::ipv4hint(&[V4.parse().expect("IPv4")]),
        param::ipv6hint(&[V6.parse().expect("IPv6")]),
    ]);
    let zone = Zone::default()
        .set(NAME, RecordType::AAAA, Reply::Addrs(ms(1000), vec![ip(V6)]))
        .set(NAME, RecordType::A, Reply::Addrs(ms(1000), vec![ip(V4)]))
        .set(NAME, RecordType::HTTPS, Reply::Https(ms(0), vec![record]));
    Scenario {
        name: "hints only, AAAA and A 1000 ms late",
        addrs: dual(),
        zone,
        serve: vec![both(V6), both(V4)],
        udp_dropped: vec![],
    }
}

/// Alias mode: `www.lab.test HTTPS 0 cdn.lab.test`; cdn.lab.test has `1 . alpn=h3,h2` and
/// addresses that serve, its A 50 ms after its AAAA; the host's own addresses drop TCP and
/// UDP.
pub(crate) fn alias() -> Scenario {
    let cdn = "cdn.lab.test";
    let zone = zone(ms(0), vec![https(0, "cdn.lab.test.", vec![])])
        .set(cdn, RecordType::AAAA, Reply::Addrs(ms(0), vec![ip(CDN6)]))
        .set(cdn, RecordType::A, Reply::Addrs(ms(50), vec![ip(CDN4)]))
        .set(
            cdn,
            RecordType::HTTPS,
            Reply::Https(ms(0), vec![h3_h2(vec![])]),
        );
    Scenario {
        name: "alias mode (the host's own addresses drop)",
        addrs: vec![
            (V6, Behaviour::Drop),
            (V4, Behaviour::Drop),
            (CDN6, Behaviour::Accept),
            (CDN4, Behaviour::Accept),
        ],
        zone,
        serve: vec![both(CDN6), both(CDN4)],
        udp_dropped: vec![V6, V4],
    }
}

/// Two priorities: `1 primary.lab.test alpn=h3,h2` and `2 secondary.lab.test alpn=h3,h2`;
/// every address of the first target drops (TCP and UDP); the second target's addresses
/// serve and answer 50 ms after the first's. The host's own addresses drop too.
pub(crate) fn two_priorities() -> Scenario {
    let records = vec![
        https(1, "primary.lab.test.", vec![param::alpn(&["h3", "h2"])]),
        https(2, "secondary.lab.test.", vec![param::alpn(&["h3", "h2"])]),
    ];
    let (p, s) = ("primary.lab.test", "secondary.lab.test");
    let zone = zone(ms(0), records)
        .set(p, RecordType::AAAA, Reply::Addrs(ms(0), vec![ip(PRIMARY6)]))
        .set(p, RecordType::A, Reply::Addrs(ms(0), vec![ip(PRIMARY4)]))
        .set(
            s,
            RecordType::AAAA,
            Reply::Addrs(ms(50), vec![ip(SECONDARY6)]),
        )
        .set(s, RecordType::A, Reply::Addrs(ms(50), vec![ip(SECONDARY4)]));
    Scenario {
        name: "two priorities, the first target drops",
        addrs: vec![
            (V6, Behaviour::Drop),
            (V4, Behaviour::Drop),
            (PRIMARY6, Behaviour::Drop),
            (PRIMARY4, Behaviour::Drop),
            (SECONDARY6, Behaviour::Accept),
            (SECONDARY4, Behaviour::Accept),
        ],
        zone,
        serve: vec![both(SECONDARY6), both(SECONDARY4)],
        udp_dropped: vec![V6, V4, PRIMARY6, PRIMARY4],
    }
}

/// TLS stalls on IPv6 (TCP connects, the server never answers the ClientHello); IPv4's
/// TLS answers. No HTTPS record (NOERROR, no data) and no QUIC server.
pub(crate) fn tls_stalls_on_ipv6() -> Scenario {
    let zone = Zone::default()
        .set(NAME, RecordType::AAAA, Reply::Addrs(ms(0), vec![ip(V6)]))
        .set(NAME, RecordType::A, Reply::Addrs(ms(0), vec![ip(V4)]));
    let stall = Serve {
        tls: Some(TlsServe::Stall),
        quic: false,
        ..both(V6)
    };
    let echo = Serve {
        quic: false,
        ..both(V4)
    };
    Scenario {
        name: "TLS stalls on IPv6",
        addrs: dual(),
        zone,
        serve: vec![stall, echo],
        udp_dropped: vec![],
    }
}
