//! Real sockets on loopback: outcomes and the order of events, with wide time bounds.
#![allow(clippy::unwrap_used)]

use std::io;
use std::time::{Duration, Instant};

use eyeballs_core::{AttemptStatus, Failure, FailureReason, QueryKind};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_lab::resolver::Delayed;
use eyeballs_tokio::{Config, Connector, StaticResolver};

const NAME: &str = "dual.eyeballs.test";

fn connector() -> Connector {
    Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap()
}

fn failure(e: &io::Error) -> &Failure<io::Error> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<Failure<io::Error>>())
        .unwrap_or_else(|| panic!("not a race failure: {e:?}"))
}

/// A healthy dual-stack host: IPv6 goes first and wins; no second attempt starts.
#[tokio::test]
async fn healthy_ipv6_wins() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (stream, report) = connector().connect_with_report((NAME, lab.port)).await;
    let stream = stream.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), lab.addr(V6));
    let report = report.unwrap();
    assert_eq!(report.attempts().len(), 1, "{report}");
    assert_eq!(report.winner(), Some(lab.addr(V6)));
    assert_eq!(report.queries().len(), 2, "AAAA and A asked separately");
    assert_eq!(report.queries()[0].kind, QueryKind::Aaaa);
}

/// IPv6 refused: the IPv4 attempt starts at once (RFC 8305 G1), far sooner than the
/// 250 ms Connection Attempt Delay, and wins.
#[tokio::test]
async fn refused_ipv6_starts_ipv4_at_once() {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let (stream, report) = connector().connect_with_report((NAME, lab.port)).await;
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let report = report.unwrap();
    let [v6, v4] = report.attempts() else {
        panic!("two attempts: {report}")
    };
    assert_eq!(v6.status, AttemptStatus::Failed);
    assert!(
        v6.error.as_deref().unwrap_or("").contains("refused"),
        "{report}"
    );
    assert_eq!(v4.status, AttemptStatus::Connected);
    assert!(
        v4.started < Duration::from_millis(200),
        "IPv4 waited for the timer:\n{report}"
    );
    assert!(
        v4.started >= v6.ended.unwrap(),
        "IPv4 started after IPv6 failed"
    );
}

/// IPv6 hangs (full accept queue): IPv4 starts after the attempt delay and wins; the IPv6
/// attempt is cancelled and its socket closed.
#[tokio::test]
async fn hanging_ipv6_loses_to_ipv4_after_the_delay() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let (stream, report) = connector().connect_with_report((NAME, lab.port)).await;
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let report = report.unwrap();
    let [v6, v4] = report.attempts() else {
        panic!("two attempts: {report}")
    };
    assert_eq!(v6.status, AttemptStatus::Cancelled, "{report}");
    assert_eq!(v4.status, AttemptStatus::Connected);
    assert!(v4.started >= Duration::from_millis(250), "{report}");
    assert!(v4.started < Duration::from_secs(2), "{report}");
    assert_eq!(v6.ended, v4.ended, "cancelled the moment IPv4 won");
}

/// Everything refused: one error that names every address and keeps every error.
#[tokio::test]
async fn all_refused_gives_the_aggregated_error() {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Refuse);
    let err = connector().connect((NAME, lab.port)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    let f = failure(&err);
    assert_eq!(f.reason(), FailureReason::AllAttemptsFailed);
    let addrs: Vec<_> = f.attempts().iter().map(|a| a.addr).collect();
    assert_eq!(addrs, vec![lab.addr(V6), lab.addr(V4)]);
    let text = err.to_string();
    assert!(
        text.starts_with("all 2 connection attempts failed"),
        "{text}"
    );
    assert!(text.contains(&lab.addr(V6).to_string()) && text.contains(&lab.addr(V4).to_string()));
}

/// The deadline: everything hangs, the connect fails with TimedOut near the deadline.
#[tokio::test]
async fn deadline_fires() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .config(Config::default().timeout(Some(Duration::from_millis(600))))
        .build()
        .unwrap();
    let t = Instant::now();
    let err = connector.connect((NAME, lab.port)).await.unwrap_err();
    let took = t.elapsed();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let f = failure(&err);
    assert!(
        matches!(f.reason(), FailureReason::TimedOut { in_flight: 2, .. }),
        "{err}"
    );
}

/// IP literals skip DNS, in both families.
#[tokio::test]
async fn ip_literals_skip_dns() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    // A resolver that knows nothing: a literal must not reach it.
    let connector = Connector::builder()
        .resolver(StaticResolver::new())
        .build()
        .unwrap();
    for target in [
        format!("127.0.0.1:{}", lab.port),
        format!("[::1]:{}", lab.port),
    ] {
        let (stream, report) = connector.connect_with_report(target.as_str()).await;
        assert_eq!(stream.unwrap().peer_addr().unwrap().to_string(), target);
        assert!(report.unwrap().queries().is_empty());
    }
    let zoned = connector
        .connect(format!("[::1%lo]:{}", lab.port))
        .await
        .unwrap();
    assert_eq!(zoned.peer_addr().unwrap().ip(), V6);
    let err = connector
        .connect(format!("[::1%no-such-if0]:{}", lab.port))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("unknown IPv6 zone"), "{err}");
}

/// An unknown name gives the resolver's error; a malformed target is InvalidInput.
#[tokio::test]
async fn unknown_names_and_bad_targets() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let err = connector()
        .connect(("nowhere.eyeballs.test", lab.port))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("DNS failed") && text.contains("no such host"),
        "{text}"
    );
    let err = connector()
        .connect("no-port.eyeballs.test")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("has no port"), "{err}");
}

/// History: after IPv6 hung once, the next connect to the same host starts with IPv4.
#[tokio::test]
async fn history_goes_straight_to_ipv4_the_second_time() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .build()
        .unwrap();
    let (first, r1) = connector.connect_with_report((NAME, lab.port)).await;
    assert_eq!(first.unwrap().peer_addr().unwrap(), lab.addr(V4));
    assert_eq!(r1.unwrap().attempts().len(), 2);
    let history = connector.history().unwrap();
    assert!(history.is_failing(lab.addr(V6), std::time::Instant::now()));
    let (second, r2) = connector.connect_with_report((NAME, lab.port)).await;
    assert_eq!(second.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let r2 = r2.unwrap();
    assert_eq!(r2.attempts()[0].addr, lab.addr(V4), "IPv4 first:\n{r2}");
    assert!(
        r2.elapsed() < Duration::from_millis(200),
        "no attempt delay:\n{r2}"
    );
    connector.clear_history();
    assert!(connector.history().unwrap().is_empty());
}

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
