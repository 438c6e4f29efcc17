//! A race whose one plain TCP attempt is all that can happen connects it in place, in
//! blocking mode, with std's system calls; every other race connects non-blocking. The
//! socket hook sees which: it runs on every socket right before its connect. Loopback only.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eyeballs_blocking::{AttemptStatus, Connector, SocketOptions};

/// A connector without history whose hook records, for each socket, whether it was
/// non-blocking when its connect began; `make_nonblocking` has the hook switch it to
/// non-blocking (as a user's hook may), which a blocking connect must survive.
fn connector(make_nonblocking: bool) -> (Connector, Arc<Mutex<Vec<bool>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let socket = SocketOptions::new().hook(move |socket, _addr| {
        record.lock().unwrap().push(socket.nonblocking()?);
        if make_nonblocking {
            socket.set_nonblocking(true)?;
        }
        Ok(())
    });
    let connector = Connector::builder()
        .socket(socket)
        .history(false)
        .build()
        .unwrap();
    (connector, seen)
}

fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[test]
fn a_sole_attempt_connects_in_blocking_mode_and_returns_a_blocking_stream() {
    let (_listener, addr) = listener();
    let (connector, seen) = connector(false);
    let (stream, report) = connector.connect_with_report(addr);
    let stream = stream.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert_eq!(*seen.lock().unwrap(), [false], "connected in blocking mode");
    // std's connect returns a blocking stream; so does this one, with no call to make it so.
    assert!(!socket2::SockRef::from(&stream).nonblocking().unwrap());
    let report = report.unwrap();
    assert_eq!(report.attempts().len(), 1);
    assert!(matches!(
        report.attempts()[0].status,
        AttemptStatus::Connected
    ));
}

#[test]
fn a_sole_attempt_refused_in_place_fails_the_race_with_the_refusal() {
    let (listener, addr) = listener();
    drop(listener);
    let (connector, seen) = connector(false);
    let (stream, report) = connector.connect_with_report(addr);
    let error = stream.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert_eq!(*seen.lock().unwrap(), [false], "connected in blocking mode");
    let report = report.unwrap();
    assert_eq!(report.attempts().len(), 1);
    assert!(matches!(report.attempts()[0].status, AttemptStatus::Failed));
}

#[test]
fn a_race_with_a_deadline_connects_non_blocking() {
    let (_listener, addr) = listener();
    let (connector, seen) = connector(false);
    let stream = connector
        .connect_timeout(addr, Duration::from_secs(10))
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert_eq!(
        *seen.lock().unwrap(),
        [true],
        "a deadline: the poller's connect"
    );
    assert!(!socket2::SockRef::from(&stream).nonblocking().unwrap());
}

#[test]
fn a_race_with_a_second_address_connects_non_blocking() {
    // The first attempt has the next one's delay to keep: it cannot block.
    let (_first, addr) = listener();
    let second = TcpListener::bind("127.0.0.2:0");
    let Ok(second) = second else {
        // 127.0.0.2 is loopback on Linux; some systems only answer 127.0.0.1.
        eprintln!("skipped: 127.0.0.2 does not bind here");
        return;
    };
    let targets = [addr, second.local_addr().unwrap()];
    let (connector, seen) = connector(false);
    let stream = connector.connect(&targets[..]).unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
    // The first socket only: a slow first handshake (past the 250 ms delay) opens a second.
    assert_eq!(
        seen.lock().unwrap().first(),
        Some(&true),
        "two addresses: the poller's"
    );
}

#[test]
fn a_connect_that_goes_on_past_the_call_is_waited_for() {
    // A hook that makes the socket non-blocking: `connect` returns at once with the
    // handshake under way, as after a signal; the loop waits for it as for any other.
    let (_listener, addr) = listener();
    let (connector, seen) = connector(true);
    let (stream, report) = connector.connect_with_report(addr);
    let stream = stream.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert_eq!(*seen.lock().unwrap(), [false]);
    assert!(!socket2::SockRef::from(&stream).nonblocking().unwrap());
    assert!(matches!(
        report.unwrap().attempts()[0].status,
        AttemptStatus::Connected
    ));

    // Refused the same way: the refusal comes from the wait, not from `connect`.
    let (listener, refused) = self::listener();
    drop(listener);
    let error = connector.connect(refused).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
}
