//! A connect whose TCP handshake is over as `connect` returns (a loopback listener, whose
//! handshake the kernel finishes inside `connect`) is established at its first poll: no
//! wait for the reactor's wake-up and no timer (issue 18; tokio's own connect waits for the
//! reactor).
#![allow(clippy::unwrap_used)]

use std::future::{poll_fn, Future};
use std::net::{Ipv4Addr, TcpListener};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use eyeballs_tokio::Connector;

#[tokio::test]
async fn a_loopback_connect_is_established_at_its_first_poll() {
    // Loopback usually finishes the handshake inside `connect`; a busy machine may leave
    // some to its softirq thread, so the test asks for one connect in `TRIES`, not all.
    const TRIES: usize = 50;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = std::thread::spawn(move || {
        for _ in 0..TRIES {
            drop(listener.accept());
        }
    });
    let connector = Connector::builder().build().unwrap();
    let mut at_once = 0;
    for _ in 0..TRIES {
        let mut connect = pin!(connector.connect(addr));
        let first = poll_fn(|cx| Poll::Ready(connect.as_mut().poll(cx))).await;
        let stream = match first {
            Poll::Ready(done) => {
                at_once += 1;
                done
            }
            Poll::Pending => tokio::time::timeout(Duration::from_secs(10), connect)
                .await
                .expect("a loopback connect within 10 s"),
        };
        assert_eq!(stream.unwrap().peer_addr().unwrap(), addr);
    }
    acceptor.join().unwrap();
    assert!(
        at_once > 0,
        "none of {TRIES} loopback connects was established at its first poll"
    );
}

/// A socket that connected at once but could not be registered with the reactor (here: a
/// runtime shutting down) fails with the reactor's own error, not a made-up one.
#[test]
fn a_connect_that_cannot_register_reports_why() {
    use eyeballs_net::runtime::Runtime;
    use eyeballs_net::SocketOptions;
    use eyeballs_tokio::Tokio;
    use std::task::{Context, Waker};

    const TRIES: usize = 20;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    drop(rt);
    let _in_it = handle.enter();
    let mut cx = Context::from_waker(Waker::noop());
    let mut failed = 0;
    for _ in 0..TRIES {
        let mut connect = pin!(Tokio.connect(addr, &SocketOptions::new()));
        if let Poll::Ready(Err(e)) = connect.as_mut().poll(&mut cx) {
            failed += 1;
            assert!(
                !e.to_string().contains("polled after the end"),
                "the registration's error was lost: {e}"
            );
        }
    }
    assert!(
        failed > 0,
        "no connect failed to register on a runtime shut down"
    );
    drop(listener);
}
