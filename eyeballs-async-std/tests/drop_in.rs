//! `eyeballs_async_std::connect` as a drop-in for `async_net::TcpStream::connect`: every
//! target form async-net takes, address lists, `connect_timeout`, build-time checks. Only
//! `eyeballs_async_std` is imported: one dependency is enough.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use eyeballs_async_std::{
    BuildError, Connector, Failure, FailureReason, SocketOptions, TcpStream, ToHostPort,
};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};

async fn both<T>(target: T, expected: SocketAddr)
where
    T: async_net::AsyncToSocketAddrs + ToHostPort + Clone + std::fmt::Debug,
{
    let theirs = TcpStream::connect(target.clone()).await.unwrap();
    assert_eq!(
        theirs.peer_addr().unwrap(),
        expected,
        "async-net, {target:?}"
    );
    let ours = eyeballs_async_std::connect(target.clone()).await.unwrap();
    assert_eq!(ours.peer_addr().unwrap(), expected, "eyeballs, {target:?}");
}

/// Every form of async-net's `AsyncToSocketAddrs` without DNS works with `connect` too; a
/// list of several races (IPv6 first), where async-net tries it in order.
#[test]
fn takes_what_async_net_takes() {
    smol::block_on(async {
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
        both(&[v4][..], v4).await;
        let list = [v4, v6];
        let ours = eyeballs_async_std::connect(&list[..]).await.unwrap();
        assert_eq!(ours.peer_addr().unwrap(), v6);
    });
}

/// `connect_timeout` is the overall deadline; a keepalive the kernel refuses fails at build.
#[test]
fn connect_timeout_and_build_checks() {
    smol::block_on(async {
        let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
        let t0 = Instant::now();
        let err = eyeballs_async_std::connect_timeout(lab.addr(V4), Duration::from_millis(100))
            .await
            .unwrap_err();
        let took = t0.elapsed();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_secs(5),
            "{took:?}"
        );
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
            .unwrap();
        assert!(matches!(failure.reason(), FailureReason::TimedOut { .. }));
        let err = Connector::default()
            .connect_timeout(lab.addr(V4), Duration::ZERO)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    });
    let err = Connector::builder()
        .socket(SocketOptions::new().keepalive(Some(Duration::MAX)))
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::Socket(_)), "{err}");
}
