//! `eyeballs_blocking::connect` and `connect_timeout` as drop-ins for std's: every target
//! form std's `ToSocketAddrs` takes without DNS, address lists, build-time checks. Only
//! `eyeballs_blocking` is imported: one dependency is enough.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, TcpStream};
use std::time::{Duration, Instant};

use eyeballs_blocking::{BuildError, Connector, Failure, FailureReason, SocketOptions, ToHostPort};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};

fn both<T>(target: T, expected: SocketAddr)
where
    T: std::net::ToSocketAddrs + ToHostPort + Clone + std::fmt::Debug,
{
    let theirs = TcpStream::connect(target.clone()).unwrap();
    assert_eq!(theirs.peer_addr().unwrap(), expected, "std, {target:?}");
    let ours = eyeballs_blocking::connect(target.clone()).unwrap();
    assert_eq!(ours.peer_addr().unwrap(), expected, "eyeballs, {target:?}");
    let ours = eyeballs_blocking::connect_timeout(target.clone(), Duration::from_secs(5)).unwrap();
    assert_eq!(ours.peer_addr().unwrap(), expected, "eyeballs, {target:?}");
}

/// Every form of std's `ToSocketAddrs` without DNS works with `connect` too; a list of
/// several races (IPv6 first), where std tries it in order.
#[test]
fn takes_what_std_takes() {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (v6, v4) = (lab.addr(V6), lab.addr(V4));
    let port = lab.port;
    both(v4, v4);
    both(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), v4);
    both(SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0), v6);
    both((V4, port), v4);
    both((Ipv4Addr::LOCALHOST, port), v4);
    both((Ipv6Addr::LOCALHOST, port), v6);
    both(("127.0.0.1", port), v4);
    both((String::from("::1"), port), v6);
    both(format!("[::1]:{port}"), v6);
    both(&[v4][..], v4);
    let list = [v4, v6];
    let ours = eyeballs_blocking::connect(&list[..]).unwrap();
    assert_eq!(ours.peer_addr().unwrap(), v6);
}

/// `connect_timeout` is the overall deadline, as std's is (here it passes before the second
/// attempt starts, so one is in flight); a keepalive the kernel refuses fails at build.
#[test]
fn connect_timeout_and_build_checks() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let list = [lab.addr(V6), lab.addr(V4)];
    let t0 = Instant::now();
    let err =
        eyeballs_blocking::connect_timeout(&list[..], Duration::from_millis(100)).unwrap_err();
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
    assert!(
        matches!(
            failure.reason(),
            FailureReason::TimedOut { in_flight: 1, .. }
        ),
        "{failure}"
    );
    let err = Connector::builder()
        .socket(SocketOptions::new().keepalive(Some(Duration::MAX)))
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::Socket(_)), "{err}");
}

/// A resolver that knows its answer at once (a ready future, as the system resolvers give
/// for `localhost`) is asked and answered on the race's own thread: no pool thread, no
/// wait.
#[test]
fn an_answer_known_at_once_needs_no_pool_thread() {
    struct Instant4(std::thread::ThreadId);
    impl eyeballs_blocking::Resolve for Instant4 {
        fn resolve(
            &self,
            name: &str,
            kind: eyeballs_blocking::QueryKind,
        ) -> eyeballs_blocking::Resolving {
            assert_eq!(
                std::thread::current().id(),
                self.0,
                "{name}: asked off the race's thread"
            );
            Box::pin(std::future::ready(Ok(match kind {
                eyeballs_blocking::QueryKind::A => vec![V4],
                _ => Vec::new(),
            })))
        }
    }
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let here = std::thread::current().id();
    let connector = Connector::builder()
        .resolver(Instant4(here))
        .build()
        .unwrap();
    let stream = connector.connect(("instant.test", lab.port)).unwrap();
    assert_eq!(stream.peer_addr().unwrap(), lab.addr(V4));
}
