//! QUIC racing on async-io (feature `quic`; HEv3 §6, HG1, HG2), under smol and async-std:
//! the QUIC endpoint of an HTTPS record wins with h3, a refused QUIC attempt fails at once,
//! a blackholed one waits for the attempt delay while TCP+TLS wins, and the UDP sockets and
//! quinn's tasks on the `eyeballs-quic` thread are counted: none left by a lost, failed or
//! dropped attempt. The servers are eyeballs-lab's, on threads of their own.
#![cfg(feature = "quic")]
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_async_std::{
    quic_background_tasks, AttemptStatus, Config, Connector, Failure, ServiceRecord,
    StaticResolver, Tls, Transport, TCP_AFTER_QUIC_DELAY,
};
use eyeballs_lab::loopback::{V4, V6};
use eyeballs_lab::tls::{
    open_udp_sockets, same_port, QuicEnd, QuicServe, QuicServer, TestCa, TlsServe, TlsServer,
    UdpBlackhole,
};

const NAME: &str = "quic.eyeballs.test";

/// The executors a test runs under.
#[derive(Debug, Clone, Copy)]
enum On {
    Smol,
    AsyncStd,
}

const ON: [On; 2] = [On::Smol, On::AsyncStd];

/// Runs `test` under `on`, one test at a time (they count the process's sockets and tasks).
fn serial<T>(on: On, test: impl Future<Output = T>) -> T {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    match on {
        On::Smol => smol::block_on(test),
        On::AsyncStd => async_std::task::block_on(test),
    }
}

/// What listens on one port of `::1` and `127.0.0.1`.
struct Port {
    port: u16,
    _tls: Vec<TlsServer>,
    quic: Vec<QuicServer>,
    holes: Vec<UdpBlackhole>,
}

#[derive(Clone, Copy)]
enum Udp {
    Quic,
    Blackhole,
    Closed,
}

/// TLS (h2) on both families' TCP port, and `udp` on each family's UDP port (`[v6, v4]`).
fn serve(ca: &TestCa, udp: [Udp; 2]) -> Port {
    let ips = [V6, V4];
    let (port, listeners, sockets) = same_port(&ips, &ips).unwrap();
    let mut p = Port {
        port,
        _tls: Vec::new(),
        quic: Vec::new(),
        holes: Vec::new(),
    };
    for l in listeners {
        let config = ca.server_config(&[NAME], &["h2"]);
        p._tls
            .push(TlsServer::start(l, config, TlsServe::Echo).unwrap());
    }
    for (socket, udp) in sockets.into_iter().zip(udp) {
        match udp {
            Udp::Quic => {
                let config = ca.server_config(&[NAME], &["h3"]);
                p.quic
                    .push(QuicServer::start(socket, config, QuicServe::Echo).unwrap());
            }
            Udp::Blackhole => p.holes.push(UdpBlackhole::start(socket).unwrap()),
            Udp::Closed => drop(socket),
        }
    }
    p
}

/// A connector whose resolver has `hosts` for [`NAME`] and one HTTPS record for `port`
/// offering `alpn`.
fn connector(port: u16, alpn: &[&str], hosts: &[IpAddr], config: Config) -> Connector {
    let record = ServiceRecord::new(1, ".").alpn(alpn.iter().copied());
    let resolver = StaticResolver::new()
        .host(NAME, hosts.iter().copied())
        .https(&format!("_{port}._https.{NAME}"), [record]);
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

async fn sleep(d: Duration) {
    async_io::Timer::after(d).await;
}

/// Waits (at most 10 s: a closed QUIC connection drains for 3 PTOs) for `done`.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        sleep(Duration::from_millis(10)).await;
    }
    true
}

/// The UDP sockets of the process and quinn's tasks on the `eyeballs-quic` thread.
fn counts() -> (usize, usize) {
    (open_udp_sockets(), quic_background_tasks())
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

/// The record's QUIC endpoint on `::1` wins with h3 (QUIC is dealt first, HG1), and a
/// bidirectional stream echoes; the connection holds one socket and two tasks, and gives
/// them back once closed.
#[test]
fn healthy_quic_wins_with_h3() {
    for on in ON {
        serial(on, async {
            let ca = TestCa::new();
            let p = serve(&ca, [Udp::Quic, Udp::Closed]);
            let c = connector(p.port, &["h3", "h2"], &[V6, V4], room_for_quic());
            let tls = tls(&ca, &["h3", "h2"]);
            // The tasks of the tests before this one end first (they count process-wide).
            assert!(eventually(|| quic_background_tasks() == 0).await, "{on:?}");
            let (udp, tasks) = counts();
            let (conn, report) = c.connect_tls_with_report((NAME, p.port), &tls).await;
            let (conn, report) = (conn.unwrap(), report.unwrap());
            assert_eq!(conn.transport(), Transport::Quic, "{on:?}: {report}");
            assert_eq!(conn.endpoint().addr(), SocketAddr::new(V6, p.port));
            assert_eq!(conn.alpn().unwrap().as_bytes(), b"h3");
            assert_eq!(report.attempts().len(), 1, "{report}");
            assert_eq!(counts(), (udp + 1, tasks + 2), "{on:?}");
            let quic = conn.into_quic().unwrap();
            // 200 KB each way: many full-size datagrams on the attempt's socket.
            let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
            let (mut send, mut recv) = quic.open_bi().await.unwrap();
            let echo = async {
                send.write_all(&data).await.unwrap();
                send.finish().unwrap();
            };
            let (echoed, ()) = futures_lite::future::zip(recv.read_to_end(1 << 20), echo).await;
            assert!(echoed.unwrap() == data, "{on:?}: echoed as sent");
            quic.close(0u32.into(), b"done");
            drop((quic, send, recv));
            assert!(
                eventually(|| counts() == (udp, tasks)).await,
                "{on:?}: {:?}, {:?} before",
                counts(),
                (udp, tasks)
            );
            let server = &p.quic[0];
            assert!(eventually(|| server.ends() == [QuicEnd::Closed]).await);
        });
    }
}

/// QUIC to a closed UDP port: the ICMP port unreachable fails the QUIC attempt at once,
/// as a refused TCP connect (HG2, RFC 8305 G1), and TCP+TLS starts then, long before the
/// attempt delay (3 s); nothing of the refused attempt is left.
#[test]
fn a_refused_quic_attempt_fails_at_once_and_tcp_tls_wins() {
    for on in ON {
        serial(on, async {
            let ca = TestCa::new();
            let p = serve(&ca, [Udp::Closed, Udp::Closed]);
            let delay = Duration::from_secs(3);
            let config = Config::default().connection_attempt_delay(delay);
            let c = connector(p.port, &["h3", "h2"], &[V6, V4], config);
            let tls = tls(&ca, &["h3", "h2"]);
            let before = counts();
            let (conn, report) = c.connect_tls_with_report((NAME, p.port), &tls).await;
            let (conn, report) = (conn.unwrap(), report.unwrap());
            assert_eq!(conn.transport(), Transport::Tcp, "{on:?}: {report}");
            let [quic, tcp] = report.attempts() else {
                panic!("QUIC, then TCP: {report}")
            };
            assert_eq!(quic.endpoint.transport(), Transport::Quic, "{report}");
            assert_eq!(quic.status, AttemptStatus::Failed, "{report}");
            let error = quic.error.as_deref().unwrap_or_default();
            assert!(error.contains("refused"), "{on:?}: {report}");
            assert!(quic.ended.unwrap() < quic.started + delay / 3, "{report}");
            assert!(tcp.started < quic.started + delay / 3, "{report}");
            assert!(
                eventually(|| counts() == before).await,
                "{on:?}: {:?}, {before:?} before",
                counts()
            );

            // QUIC only: the race fails with the kernel's error, within a second.
            let c = connector(p.port, &["h3"], &[V4], Config::default());
            let started = Instant::now();
            let err = c
                .connect_tls((NAME, p.port), &self::tls(&ca, &["h3"]))
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
            let error = attempt.error.as_ref().unwrap();
            assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        });
    }
}

/// QUIC blackholed (a UDP socket that swallows the Initial): the QUIC attempt stays pending,
/// TCP+TLS to the same address starts `TCP_AFTER_QUIC_DELAY` later (V29; not a whole attempt
/// delay) and wins, and the cancelled
/// QUIC attempt leaves nothing behind at once, having sent its close.
#[test]
fn a_blackholed_quic_attempt_is_followed_by_tcp_tls_which_wins() {
    for on in ON {
        serial(on, async {
            let ca = TestCa::new();
            let p = serve(&ca, [Udp::Blackhole, Udp::Blackhole]);
            let delay = Duration::from_millis(150);
            let config = Config::default().connection_attempt_delay(delay);
            let c = connector(p.port, &["h3", "h2"], &[V6, V4], config);
            let before = counts();
            let (conn, report) = c
                .connect_tls_with_report((NAME, p.port), &tls(&ca, &["h3", "h2"]))
                .await;
            let (conn, report) = (conn.unwrap(), report.unwrap());
            assert_eq!(conn.transport(), Transport::Tcp, "{on:?}: {report}");
            assert_eq!(conn.endpoint().addr(), SocketAddr::new(V6, p.port));
            let [quic, tcp] = report.attempts() else {
                panic!("QUIC, then TCP: {report}")
            };
            assert_eq!(quic.status, AttemptStatus::Cancelled, "{report}");
            // V29: TCP to the address QUIC went to follows after TCP_AFTER_QUIC_DELAY, not after
            // the (here longer) attempt delay.
            assert!(
                tcp.started >= quic.started + TCP_AFTER_QUIC_DELAY,
                "{report}"
            );
            let released = Instant::now();
            assert!(
                eventually(|| counts() == before).await,
                "{on:?}: {:?}, {before:?} before",
                counts()
            );
            assert!(released.elapsed() < Duration::from_secs(1), "not at once");
            let hole = &p.holes[0];
            assert!(
                eventually(|| hole.received() >= 2).await,
                "{on:?}: Initial, close: {}",
                hole.received()
            );
        });
    }
}

/// A connect dropped mid-race (QUIC blackholed, QUIC only) gives back its sockets and tasks
/// at once; connections that won keep theirs (one socket, two tasks each) until closed.
#[test]
fn dropped_and_won_attempts_give_back_sockets_and_tasks() {
    for on in ON {
        serial(on, async {
            let ca = TestCa::new();
            let p = serve(&ca, [Udp::Quic, Udp::Quic]);
            let holes = serve(&ca, [Udp::Blackhole, Udp::Blackhole]);
            let tls = tls(&ca, &["h3"]);
            let before = counts();
            let c = connector(p.port, &["h3"], &[V6, V4], Config::default());
            let mut kept = Vec::new();
            for _ in 0..3 {
                kept.push(c.connect_tls((NAME, p.port), &tls).await.unwrap());
            }
            assert_eq!(counts(), (before.0 + 3, before.1 + 6), "{on:?}");
            let stalled = connector(holes.port, &["h3"], &[V6, V4], Config::default());
            let race = stalled.connect_tls((NAME, holes.port), &tls);
            let timer = async {
                sleep(Duration::from_millis(300)).await;
                None
            };
            let raced = futures_lite::future::or(async { Some(race.await) }, timer).await;
            assert!(raced.is_none(), "the blackholed race was still running");
            let released = Instant::now();
            assert!(
                eventually(|| counts() == (before.0 + 3, before.1 + 6)).await,
                "{on:?}: {:?}",
                counts()
            );
            assert!(released.elapsed() < Duration::from_secs(1), "not at once");
            drop(kept);
            assert!(
                eventually(|| counts() == before).await,
                "{on:?}: {:?}, {before:?} before",
                counts()
            );
        });
    }
}
