//! tokio-specific real-socket tests; the scenarios every driver shares are in
//! `scenarios.rs`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use eyeballs_core::QueryKind;
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_lab::resolver::Delayed;
use eyeballs_tokio::{Connector, StaticResolver};

const NAME: &str = "dual.eyeballs.test";

/// The Resolution Delay with real timers: A answers at once, AAAA 400 ms later; IPv4 starts
/// after about 50 ms, before the AAAA answer, and wins.
#[tokio::test]
async fn resolution_delay_with_a_slow_aaaa() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(Delayed::new(
            StaticResolver::new().host(NAME, [V6, V4]),
            &[(QueryKind::Aaaa, Duration::from_millis(400))],
            |d| Box::pin(tokio::time::sleep(d)),
        ))
        .history(false)
        .build()
        .unwrap();
    let (stream, report) = connector.connect_with_report((NAME, lab.port)).await;
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let report = report.unwrap();
    let start = report.attempts()[0].started;
    assert!(
        start >= Duration::from_millis(50) && start < Duration::from_millis(350),
        "{report}"
    );
    assert_eq!(
        report.queries()[0].answered,
        None,
        "AAAA was still outstanding:\n{report}"
    );
}

/// The process-wide `connect` works with an IP literal (no DNS).
#[tokio::test]
async fn free_function_connects_literals() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let stream = eyeballs_tokio::connect(lab.addr(V4)).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), lab.addr(V4));
}

/// The driver takes `now` from tokio's clock: with time paused, the race's timers run on
/// virtual time, so the IPv4 attempt starts exactly 250 ms after the IPv6 one, whatever the
/// machine's load.
#[tokio::test(start_paused = true)]
async fn paused_time_gives_exact_timings() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap();
    let (stream, report) = connector.connect_with_report((NAME, lab.port)).await;
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let report = report.unwrap();
    let [v6, v4] = report.attempts() else {
        panic!("{report}")
    };
    assert_eq!(v6.started, Duration::ZERO, "{report}");
    assert_eq!(v4.started, Duration::from_millis(250), "{report}");
}

/// Gap G2 (HEv3 §6.1): with an `establish` step (a stand-in for TLS), an attempt counts only
/// once that step succeeds. IPv6 accepts TCP but fails the step: the race goes on to IPv4
/// at once, and the report keeps the step's error.
#[tokio::test]
async fn established_means_after_the_callers_handshake() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap();
    let fails_on_v6 = |stream: tokio::net::TcpStream| async move {
        if stream.peer_addr()?.is_ipv6() {
            Err(std::io::Error::other("handshake failed"))
        } else {
            Ok(stream)
        }
    };
    let (stream, report) = connector
        .connect_established_with_report((NAME, lab.port), fails_on_v6)
        .await;
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let report = report.unwrap();
    let [v6, v4] = report.attempts() else {
        panic!("{report}")
    };
    assert_eq!(v6.error.as_deref(), Some("handshake failed"), "{report}");
    assert!(v4.started < Duration::from_millis(200), "{report}");

    // A handshake that hangs on IPv6 loses to IPv4 after the attempt delay.
    let hangs_on_v6 = |stream: tokio::net::TcpStream| async move {
        if stream.peer_addr()?.is_ipv6() {
            std::future::pending::<()>().await;
        }
        Ok(stream)
    };
    let (stream, report) = connector
        .connect_established_with_report((NAME, lab.port), hangs_on_v6)
        .await;
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let report = report.unwrap();
    let [v6, v4] = report.attempts() else {
        panic!("{report}")
    };
    assert_eq!(
        v6.status,
        eyeballs_core::AttemptStatus::Cancelled,
        "{report}"
    );
    assert!(v4.started >= Duration::from_millis(250), "{report}");
}
