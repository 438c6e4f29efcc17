//! QUIC racing on real sockets (feature `quic`; HEv3 §6, HG1, HG2, V39): QUIC endpoints of
//! an HTTPS record race TCP+TLS ones, a refused QUIC attempt fails at once, losers are
//! closed (the server sees CONNECTION_CLOSE), a wrong ALPN is a typed error, and the UDP
//! sockets and tokio tasks are counted: one socket and two tasks per QUIC connection, none
//! left by a lost, failed or dropped attempt.
#![cfg(feature = "quic")]
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_lab::loopback::{V4, V6};
use eyeballs_lab::tls::{
    open_udp_sockets, same_port, QuicEnd, QuicServe, QuicServer, TestCa, TlsServe, TlsServer,
    UdpBlackhole,
};
use eyeballs_tokio::{
    AttemptError, AttemptErrorKind, AttemptStatus, Config, Connector, Failure, ServiceRecord,
    StaticResolver, Tls, Transport, TCP_AFTER_QUIC_DELAY,
};

const NAME: &str = "quic.eyeballs.test";

/// One test at a time (they count the process's UDP sockets), each on a runtime made after
/// the lock is taken and dropped before it is released.
fn serial(test: impl std::future::Future<Output = ()>) {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test);
}

/// What listens on one port of `::1` and `127.0.0.1`.
struct Port {
    port: u16,
    tls: Vec<TlsServer>,
    quic: Vec<QuicServer>,
    holes: Vec<UdpBlackhole>,
}

#[derive(Clone, Copy)]
enum Udp {
    Quic(QuicServe),
    Blackhole,
    Closed,
}

/// TLS (echo) on both families' TCP port, and `udp` on each family's UDP port (`[v6, v4]`);
/// QUIC servers speak `quic_alpn`.
fn serve(ca: &TestCa, udp: [Udp; 2], quic_alpn: &[&str]) -> Port {
    let ips = [V6, V4];
    let (port, listeners, sockets) = same_port(&ips, &ips).unwrap();
    let names = [NAME, "::1", "127.0.0.1"];
    let mut p = Port {
        port,
        tls: Vec::new(),
        quic: Vec::new(),
        holes: Vec::new(),
    };
    for l in listeners {
        let config = ca.server_config(&names, &["h2", "http/1.1"]);
        p.tls
            .push(TlsServer::start(l, config, TlsServe::Echo).unwrap());
    }
    for (socket, udp) in sockets.into_iter().zip(udp) {
        match udp {
            Udp::Quic(serve) => {
                let config = ca.server_config(&names, quic_alpn);
                p.quic
                    .push(QuicServer::start(socket, config, serve).unwrap());
            }
            Udp::Blackhole => p.holes.push(UdpBlackhole::start(socket).unwrap()),
            Udp::Closed => drop(socket),
        }
    }
    p
}

/// A resolver with both loopback addresses for [`NAME`] and one HTTPS record for `port`
/// offering `alpn` on the host's addresses.
fn resolver(port: u16, alpn: &[&str], hosts: &[IpAddr]) -> StaticResolver {
    let record = ServiceRecord::new(1, ".").alpn(alpn.iter().copied());
    StaticResolver::new()
        .host(NAME, hosts.iter().copied())
        .https(&format!("_{port}._https.{NAME}"), [record])
}

fn connector(resolver: StaticResolver, config: Config) -> Connector {
    Connector::builder()
        .resolver(resolver)
        .config(config)
        .history(false)
        .build()
        .unwrap()
}

fn tls(ca: &TestCa, alpn: &[&str]) -> Tls {
    Tls::new(Arc::new(ca.client_config(alpn))).unwrap()
}

/// Waits (at most 10 s: a closed QUIC connection drains for 3 PTOs) for `done`.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// A config that gives a healthy QUIC handshake 2 s before TCP (and before the next
/// address): these tests check that QUIC works end to end, not the 50 ms
/// `TCP_AFTER_QUIC_DELAY`, whose timing is proven on the simulated clock. A debug build's
/// QUIC handshake on a loaded CI machine can take longer than 50 ms, and TCP+TLS winning
/// then is the race working, not a failure of this test's subject.
fn room_for_quic() -> Config {
    Config::default()
        .tcp_after_quic_delay(Duration::from_secs(2))
        .connection_attempt_delay(Duration::from_secs(2))
}

/// The QUIC endpoint of the record wins (QUIC is dealt first, HG1) and negotiates h3; a
/// bidirectional stream echoes.
#[test]
fn healthy_quic_wins_with_h3() {
    serial(async {
        let ca = TestCa::new();
        let p = serve(&ca, [Udp::Quic(QuicServe::Echo), Udp::Closed], &["h3"]);
        let c = connector(resolver(p.port, &["h3", "h2"], &[V6, V4]), room_for_quic());
        let tls = tls(&ca, &["h3", "h2", "http/1.1"]);
        let (conn, report) = c.connect_tls_with_report((NAME, p.port), &tls).await;
        let conn = conn.unwrap();
        let report = report.unwrap();
        assert_eq!(conn.transport(), Transport::Quic, "{report}");
        assert_eq!(conn.endpoint().addr(), SocketAddr::new(V6, p.port));
        assert_eq!(conn.alpn().unwrap().as_bytes(), b"h3");
        assert_eq!(report.attempts().len(), 1, "{report}");
        let quic = conn.into_quic().unwrap();
        // 200 KB each way: many full-size datagrams on the attempt's socket (no GRO, path
        // MTU probing on, no fragments).
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let (mut send, mut recv) = quic.open_bi().await.unwrap();
        let echo = async {
            send.write_all(&data).await.unwrap();
            send.finish().unwrap();
        };
        let (echoed, ()) = tokio::join!(recv.read_to_end(1 << 20), echo);
        assert!(echoed.unwrap() == data, "echoed as sent");
    });
}

/// The tokio tasks alive on the runtime of the test (the lab's servers run elsewhere).
fn tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// QUIC to a closed UDP port: the ICMP port unreachable fails the QUIC attempt at once with
/// `ConnectionRefused`, as a refused TCP connect would (HG2, RFC 8305 G1), and TCP+TLS to the
/// same address starts then, long before the attempt delay (3 s) would have started it.
/// The refused attempt leaves no socket and no task behind.
#[test]
fn a_refused_quic_attempt_fails_at_once_and_tcp_tls_wins() {
    serial(async {
        let ca = TestCa::new();
        let p = serve(&ca, [Udp::Closed, Udp::Closed], &["h3"]);
        let delay = Duration::from_secs(3);
        let c = connector(
            resolver(p.port, &["h3", "h2"], &[V6, V4]),
            Config::default().connection_attempt_delay(delay),
        );
        let tls = tls(&ca, &["h3", "h2"]);
        let (udp, tasks) = (open_udp_sockets(), tasks());
        let (conn, report) = c.connect_tls_with_report((NAME, p.port), &tls).await;
        let (conn, report) = (conn.unwrap(), report.unwrap());
        assert_eq!(conn.transport(), Transport::Tcp, "{report}");
        assert_eq!(conn.endpoint().addr(), SocketAddr::new(V6, p.port));
        let [quic, tcp] = report.attempts() else {
            panic!("QUIC, then TCP: {report}")
        };
        assert_eq!(quic.endpoint.transport(), Transport::Quic, "{report}");
        assert_eq!(quic.status, AttemptStatus::Failed, "{report}");
        let error = quic.error.as_deref().unwrap_or_default();
        assert!(error.contains("refused"), "{report}");
        assert!(quic.ended.unwrap() < quic.started + delay / 3, "{report}");
        assert!(tcp.started < quic.started + delay / 3, "{report}");
        assert!(
            eventually(|| open_udp_sockets() == udp && self::tasks() == tasks).await,
            "{} UDP sockets ({udp} before), {} tasks ({tasks} before)",
            open_udp_sockets(),
            self::tasks()
        );
    });
}

/// A QUIC-only race to a closed UDP port fails with the kernel's `ConnectionRefused` as the
/// attempt's error, well within a second (quinn alone would wait for its idle timeout).
#[test]
fn a_quic_only_race_to_a_closed_port_is_refused() {
    serial(async {
        let ca = TestCa::new();
        let p = serve(&ca, [Udp::Closed, Udp::Closed], &["h3"]);
        let c = connector(resolver(p.port, &["h3"], &[V4]), Config::default());
        let started = Instant::now();
        let err = c
            .connect_tls((NAME, p.port), &tls(&ca, &["h3"]))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1), "{err}");
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
            .unwrap();
        let [attempt] = failure.attempts() else {
            panic!("one attempt: {err}")
        };
        assert_eq!(attempt.endpoint.transport(), Transport::Quic);
        let error = attempt.error.as_ref().unwrap();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    });
}

/// A QUIC-only race whose every server swallows its packets (a stalled handshake): each
/// attempt fails as stalled at the connector's handshake timeout, counted from its start,
/// and the race ends in bounded time naming both endpoints. Without the timeout it would
/// wait for quinn's 30 s idle timeout.
#[test]
fn a_quic_only_race_into_black_holes_ends_at_the_handshake_timeout() {
    serial(async {
        let ca = TestCa::new();
        let p = serve(&ca, [Udp::Blackhole, Udp::Blackhole], &["h3"]);
        let c = Connector::builder()
            .resolver(resolver(p.port, &["h3"], &[V6, V4]))
            .handshake_timeout(Duration::from_millis(300))
            .history(false)
            .build()
            .unwrap();
        let started = Instant::now();
        let err = c
            .connect_tls((NAME, p.port), &tls(&ca, &["h3"]))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}: {err}");
        assert!(
            elapsed < Duration::from_secs(3),
            "bounded: {elapsed:?}: {err}"
        );
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
            .unwrap();
        let kinds: Vec<AttemptErrorKind> = failure
            .attempts()
            .iter()
            .map(|a| AttemptError::of(a.error.as_ref().unwrap()).unwrap().kind())
            .collect();
        assert_eq!(
            kinds,
            [AttemptErrorKind::Stalled, AttemptErrorKind::Stalled],
            "{err}"
        );
        assert!(p.holes.iter().all(|h| h.received() > 0), "both were tried");
    });
}

/// QUIC to IPv6 is blackholed (a UDP socket that swallows the Initial packets): TCP+TLS to
/// the same address starts `TCP_AFTER_QUIC_DELAY` later (V29; not a whole attempt delay) and
/// wins; the QUIC attempt is
/// cancelled.
#[test]
fn blackholed_quic_loses_to_tcp_tls_to_the_same_address() {
    serial(async {
        let ca = TestCa::new();
        let p = serve(&ca, [Udp::Blackhole, Udp::Blackhole], &["h3"]);
        let delay = Duration::from_millis(150);
        let c = connector(
            resolver(p.port, &["h3", "h2"], &[V6, V4]),
            Config::default().connection_attempt_delay(delay),
        );
        let (conn, report) = c
            .connect_tls_with_report((NAME, p.port), &tls(&ca, &["h3", "h2"]))
            .await;
        let conn = conn.unwrap();
        let report = report.unwrap();
        assert_eq!(conn.transport(), Transport::Tcp, "{report}");
        assert_eq!(
            conn.endpoint().addr(),
            SocketAddr::new(V6, p.port),
            "{report}"
        );
        assert_eq!(conn.alpn().unwrap().as_bytes(), b"h2");
        let [quic, tcp] = report.attempts() else {
            panic!("QUIC, then TCP: {report}")
        };
        assert_eq!(quic.endpoint.transport(), Transport::Quic, "{report}");
        assert_eq!(quic.status, AttemptStatus::Cancelled, "{report}");
        // V29: TCP to the address QUIC went to follows after TCP_AFTER_QUIC_DELAY, not after
        // the (here longer) attempt delay.
        assert!(
            tcp.started >= quic.started + TCP_AFTER_QUIC_DELAY,
            "{report}"
        );
        assert!(
            p.holes[0].received() >= 1,
            "the Initial reached the blackhole"
        );
    });
}

/// A QUIC server that is slow to accept: TCP+TLS wins meanwhile, the QUIC attempt is
/// dropped, and the server, once it accepts, finds the client's CONNECTION_CLOSE (quinn
/// buffered it): the loser was closed, not left to time out.
#[test]
fn a_losing_quic_attempt_sends_connection_close() {
    serial(async {
        let ca = TestCa::new();
        let late = Udp::Quic(QuicServe::AcceptAfter(Duration::from_millis(600)));
        let p = serve(&ca, [late, Udp::Closed], &["h3"]);
        let c = connector(
            resolver(p.port, &["h3", "h2"], &[V6]),
            Config::default().connection_attempt_delay(Duration::from_millis(100)),
        );
        let conn = c
            .connect_tls((NAME, p.port), &tls(&ca, &["h3", "h2"]))
            .await
            .unwrap();
        assert_eq!(conn.transport(), Transport::Tcp);
        let server = &p.quic[0];
        assert!(
            eventually(|| !server.ends().is_empty()).await,
            "the server saw an end"
        );
        assert_eq!(server.ends(), [QuicEnd::Closed], "closed, not timed out");
        assert_eq!(server.handshakes(), 0);
    });
}

/// A QUIC server that speaks another protocol (`hq-interop`) answers the h3 offer with
/// `no_application_protocol`: an `Alpn` error naming the QUIC endpoint, and no socket is
/// left once the `Tls` is gone.
#[test]
fn a_quic_server_with_another_alpn_is_a_typed_error() {
    serial(async {
        let baseline = open_udp_sockets();
        let ca = TestCa::new();
        let p = serve(
            &ca,
            [Udp::Quic(QuicServe::Echo), Udp::Closed],
            &["hq-interop"],
        );
        let servers = open_udp_sockets();
        let c = connector(resolver(p.port, &["h3"], &[V6]), Config::default());
        let tls = tls(&ca, &["h3"]); // QUIC only
        let err = c.connect_tls((NAME, p.port), &tls).await.unwrap_err();
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
            .unwrap();
        let [attempt] = failure.attempts() else {
            panic!("one attempt: {err}")
        };
        let e = AttemptError::of(attempt.error.as_ref().unwrap()).unwrap();
        assert_eq!(e.kind(), AttemptErrorKind::Alpn, "{err}");
        assert_eq!(e.endpoint().addr(), SocketAddr::new(V6, p.port));
        assert_eq!(e.endpoint().transport(), Transport::Quic);
        assert!(err.to_string().contains("QUIC [::1]"), "{err}");
        drop(tls);
        assert!(eventually(|| open_udp_sockets() == servers).await);
        drop(p);
        assert_eq!(open_udp_sockets(), baseline);
    });
}

/// UDP sockets and tasks: each QUIC attempt has a socket of its own, which the winner's
/// connection keeps with its two tasks (endpoint and connection drivers); a connect dropped
/// mid-race (QUIC blackholed) leaves none behind at once (within a second, where quinn's
/// draining period would keep them about 3 s), having sent its closes; once the connections
/// are gone, none is left.
#[test]
fn each_quic_connection_has_its_own_socket_and_none_are_left() {
    serial(async {
        let tasks = tasks();
        let ca = TestCa::new();
        let p = serve(
            &ca,
            [Udp::Quic(QuicServe::Echo), Udp::Quic(QuicServe::Echo)],
            &["h3"],
        );
        let holes = serve(&ca, [Udp::Blackhole, Udp::Blackhole], &["h3"]);
        let baseline = open_udp_sockets();
        let tls = tls(&ca, &["h3", "h2"]);
        let v6 = connector(resolver(p.port, &["h3"], &[V6]), Config::default());
        let v4 = connector(resolver(p.port, &["h3"], &[V4]), Config::default());
        let mut kept = Vec::new();
        for _ in 0..3 {
            let conn = v6.connect_tls((NAME, p.port), &tls).await.unwrap();
            assert_eq!(conn.transport(), Transport::Quic);
            kept.push(conn);
        }
        kept.push(v4.connect_tls((NAME, p.port), &tls).await.unwrap());
        assert_eq!(
            open_udp_sockets(),
            baseline + 4,
            "one socket per connection"
        );
        assert_eq!(self::tasks(), tasks + 8, "two tasks per connection");

        let stalled = connector(resolver(holes.port, &["h3"], &[V6, V4]), Config::default());
        let dropped = tokio::time::timeout(
            Duration::from_millis(300),
            stalled.connect_tls((NAME, holes.port), &tls),
        )
        .await;
        assert!(dropped.is_err(), "the blackholed race was still running");
        let released = Instant::now();
        assert!(
            eventually(|| open_udp_sockets() == baseline + 4 && self::tasks() == tasks + 8).await,
            "the dropped race's sockets and tasks: {} and {} open, {} and {} expected",
            open_udp_sockets(),
            self::tasks(),
            baseline + 4,
            tasks + 8
        );
        assert!(released.elapsed() < Duration::from_secs(1), "not at once");
        // The first attempt (QUIC to IPv6) sent its Initial, then its close.
        let hole = &holes.holes[0];
        assert!(eventually(|| hole.received() >= 2).await, "no close");

        drop(kept);
        drop(tls);
        assert!(
            eventually(|| open_udp_sockets() == baseline && self::tasks() == tasks).await,
            "{} UDP sockets open, {baseline} before; {} tasks, {tasks} before",
            open_udp_sockets(),
            self::tasks()
        );
        for server in &p.quic {
            assert!(eventually(|| server.open() == 0).await);
            assert!(
                server.ends().iter().all(|e| *e == QuicEnd::Closed),
                "{:?}",
                server.ends()
            );
        }
    });
}
