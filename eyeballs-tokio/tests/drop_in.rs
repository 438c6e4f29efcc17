//! `eyeballs_tokio::connect` as a drop-in for `tokio::net::TcpStream::connect`: every target
//! form tokio takes, address lists, `connect_timeout`, and build-time checks. Only
//! `eyeballs_tokio` is imported: one dependency is enough.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{
    AttemptStatus, BuildError, Connector, Failure, FailureReason, SocketOptionError, SocketOptions,
    ToHostPort,
};
use tokio::net::TcpStream;

/// Connects with tokio and with eyeballs to the same target; both reach `expected`.
async fn both<T>(target: T, expected: SocketAddr)
where
    T: tokio::net::ToSocketAddrs + ToHostPort + Clone + std::fmt::Debug,
{
    let theirs = TcpStream::connect(target.clone()).await.unwrap();
    assert_eq!(theirs.peer_addr().unwrap(), expected, "tokio, {target:?}");
    let ours = eyeballs_tokio::connect(target.clone()).await.unwrap();
    assert_eq!(ours.peer_addr().unwrap(), expected, "eyeballs, {target:?}");
}

/// Every form of `tokio::net::ToSocketAddrs` without DNS works with `connect` too.
#[tokio::test]
async fn takes_what_tokio_takes() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (v6, v4) = (lab.addr(V6), lab.addr(V4));
    let port = lab.port;
    both(v4, v4).await;
    both(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), v4).await;
    both(SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0), v6).await;
    both((V4, port), v4).await;
    both((Ipv4Addr::LOCALHOST, port), v4).await;
    both((Ipv6Addr::LOCALHOST, port), v6).await;
    both(("127.0.0.1", port), v4).await;
    both((String::from("::1"), port), v6).await;
    both(format!("[::1]:{port}"), v6).await;
    both(format!("127.0.0.1:{port}").as_str(), v4).await;
    both(&[v4][..], v4).await;
    // tokio tries a list in order; eyeballs orders it as a DNS answer, IPv6 first.
    let list = [v4, v6];
    let ours = eyeballs_tokio::connect(&list[..]).await.unwrap();
    assert_eq!(ours.peer_addr().unwrap(), v6);
}

/// A list of addresses races as given, without DNS: the first refuses, the second wins.
#[tokio::test]
async fn an_address_list_races() {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let list = [lab.addr(V6), lab.addr(V4)];
    let connector = Connector::builder().history(false).build().unwrap();
    let (stream, report) = connector.connect_with_report(&list[..]).await;
    let report = report.unwrap();
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        lab.addr(V4),
        "{report}"
    );
    assert!(report.queries().is_empty(), "no DNS:\n{report}");
    let [first, second] = report.attempts() else {
        panic!("{report}")
    };
    assert_eq!(
        (first.endpoint.addr(), first.status),
        (lab.addr(V6), AttemptStatus::Failed)
    );
    assert_eq!(
        (second.endpoint.addr(), second.status),
        (lab.addr(V4), AttemptStatus::Connected)
    );

    let none: &[SocketAddr] = &[];
    let err = connector.connect(none).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
}

/// `connect_timeout` is the overall deadline: both addresses hang, the connect gives up
/// after about 100 ms with `TimedOut` and the `Failure` inside; zero is refused.
#[tokio::test]
async fn connect_timeout_gives_up() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let list = [lab.addr(V6), lab.addr(V4)];
    let t0 = Instant::now();
    let err = eyeballs_tokio::connect_timeout(&list[..], Duration::from_millis(100))
        .await
        .unwrap_err();
    let took = t0.elapsed();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .unwrap();
    assert!(
        matches!(failure.reason(), FailureReason::TimedOut { .. }),
        "{failure}"
    );

    let connector = Connector::default();
    let err = connector
        .connect_timeout(lab.addr(V4), Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
}

/// A keepalive the kernel would refuse fails when the connector is built, naming the option
/// and its range; the range's ends work on a real socket.
#[tokio::test]
async fn bad_socket_options_fail_at_build() {
    for idle in [
        Duration::MAX,
        Duration::ZERO,
        Duration::from_millis(999),
        Duration::from_secs(32768),
    ] {
        let err = Connector::builder()
            .socket(SocketOptions::new().keepalive(Some(idle)))
            .build()
            .unwrap_err();
        let BuildError::Socket(socket) = &err else {
            panic!("{idle:?}: {err}")
        };
        assert_eq!(socket, &SocketOptionError::Keepalive(idle));
        assert!(
            err.to_string().contains("1 to 32767 whole seconds"),
            "{err}"
        );
    }
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    for idle in [Duration::from_secs(1), Duration::from_secs(32767)] {
        let connector = Connector::builder()
            .socket(SocketOptions::new().keepalive(Some(idle)))
            .build()
            .unwrap();
        connector.connect(lab.addr(V4)).await.unwrap();
    }
    let err = Connector::builder()
        .socket(SocketOptions::new().bind_v4(Some(lab.addr(V6))))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("bind_v4 takes an IPv4 address"),
        "{err}"
    );
}
