//! A connect whose TCP handshake is over as `connect` returns (a loopback listener, whose
//! handshake the kernel finishes inside `connect`) is established at its first poll: no
//! wait for the reactor's wake-up and no timer (issue 18; async-net waits for both).
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, TcpListener};
use std::pin::pin;

use eyeballs_async_std::Connector;
use futures_lite::future::poll_once;

#[test]
fn a_loopback_connect_is_established_at_its_first_poll() {
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
        let stream = async_io::block_on(async {
            let mut connect = pin!(connector.connect(addr));
            match poll_once(connect.as_mut()).await {
                Some(done) => {
                    at_once += 1;
                    done
                }
                None => connect.await,
            }
        });
        assert_eq!(stream.unwrap().peer_addr().unwrap(), addr);
    }
    acceptor.join().unwrap();
    assert!(
        at_once > 0,
        "none of {TRIES} loopback connects was established at its first poll"
    );
}
