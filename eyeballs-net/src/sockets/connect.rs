//! The system-call part of a non-blocking TCP connect, the same for every loop.

use std::io;
use std::net::SocketAddr;

use socket2::{SockRef, Socket};

/// Starts a non-blocking connect: `Ok` when it is under way or done.
pub(crate) fn start_connect(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    match socket.connect(&addr.into()) {
        Ok(()) => Ok(()),
        Err(e) if in_progress(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Connects a socket in blocking mode, as std's `TcpStream::connect` does: `Ok(true)` when
/// connected, `Ok(false)` when the connect goes on in the kernel without this call (a
/// signal interrupted it, or the socket is non-blocking after all: a hook's doing), to be
/// waited for as a non-blocking one; the connect's error otherwise.
#[cfg(feature = "blocking")]
pub(crate) fn connect_blocking(socket: &Socket, addr: SocketAddr) -> io::Result<bool> {
    match socket.connect(&addr.into()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::Interrupted || in_progress(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Ends a non-blocking connect whose socket is writable: its error (`SO_ERROR`), or `Ok`
/// with a peer, or `NotConnected` while it is still under way (a spurious wake-up).
pub(crate) fn finish_connect(socket: &SockRef<'_>) -> io::Result<()> {
    if let Some(e) = socket.take_error()? {
        return Err(e);
    }
    socket.peer_addr().map(drop)
}

/// `EINPROGRESS` (or `EWOULDBLOCK`, which some systems answer instead): a non-blocking
/// connect under way. std has no stable `ErrorKind` for the first.
fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    fn socket() -> Socket {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
        s.set_nonblocking(true).expect("non-blocking");
        s
    }

    #[test]
    fn a_connect_under_way_is_not_an_error_and_finishes_with_a_peer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
        let addr = listener.local_addr().expect("an address");
        let s = socket();
        start_connect(&s, addr).expect("under way");
        // Loopback finishes the handshake at once or within a few polls; bounded.
        let mut result = finish_connect(&SockRef::from(&s));
        for _ in 0..1000 {
            if !matches!(&result, Err(e) if e.kind() == io::ErrorKind::NotConnected) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            result = finish_connect(&SockRef::from(&s));
        }
        result.expect("connected");
    }

    #[test]
    fn a_refused_connect_reports_the_refusal() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a closed port");
        let s = socket();
        let started = start_connect(&s, addr);
        let result = started.and_then(|()| {
            let mut r = finish_connect(&SockRef::from(&s));
            for _ in 0..1000 {
                if !matches!(&r, Err(e) if e.kind() == io::ErrorKind::NotConnected) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
                r = finish_connect(&SockRef::from(&s));
            }
            r
        });
        let e = result.expect_err("refused");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    }
}
