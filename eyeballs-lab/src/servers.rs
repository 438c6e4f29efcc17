//! Loopback servers for soak tests and benchmarks: ports on `::1` and `127.0.0.1` that
//! accept, refuse, hang or accept slowly, served by one thread, with a count of the
//! connections they accepted and have not seen closed.
//!
//! A server holds every connection it accepts until the client closes it, so
//! [`Servers::open`] counts the client sockets that are still open: after a soak it must
//! come back to zero.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::loopback::{V4, V6};

/// How one address behaves on its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Serve {
    /// Accepts every connection at once (the kernel completes the handshake).
    Accept,
    /// No listener: the kernel answers RST, the connect is refused.
    Refuse,
    /// A listener whose accept queue is full: the kernel drops new SYNs, the connect hangs.
    Hang,
    /// A listener with a short accept queue (8) that accepts one connection per period: a
    /// client whose SYN finds the queue full waits for the kernel's retransmission (1 s on
    /// Linux), so connects are slow, and slower the busier the server.
    SlowAccept(Duration),
}

/// The backlog of a [`Serve::SlowAccept`] listener.
const SLOW_BACKLOG: i32 = 8;

/// Servers on loopback ports, one thread for all of them. Dropping it stops the thread and
/// closes every socket.
pub struct Servers {
    ports: Vec<u16>,
    counts: Arc<Counts>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
    /// Listeners that hang, and the connections that fill their queues.
    _hung: Vec<Hung>,
}

#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    accepted: AtomicU64,
    stop: AtomicBool,
}

impl Servers {
    /// Serves each pair `(v6, v4)` on a free port of its own: `v6` on `[::1]:port`, `v4` on
    /// `127.0.0.1:port`.
    ///
    /// # Errors
    ///
    /// When no port is free on both addresses in 50 tries, `::1` does not exist, or the
    /// thread or poller cannot be made.
    pub fn new(pairs: &[(Serve, Serve)]) -> io::Result<Servers> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
        let mut ports = Vec::new();
        let mut hung = Vec::new();
        let mut listeners = Vec::new();
        for &(v6, v4) in pairs {
            let (port, mut made) = open_pair(v6, v4)?;
            ports.push(port);
            for (listener, serve) in made.drain(..) {
                match (listener, serve) {
                    (Made::Hung(h), _) => hung.push(h),
                    (Made::Listener(l), serve) => listeners.push((l, serve)),
                }
            }
        }
        let counts = Arc::new(Counts::default());
        let mut server = Server::new(poll, listeners, counts.clone())?;
        let thread = std::thread::Builder::new()
            .name("eyeballs-lab-servers".into())
            .spawn(move || server.run())?;
        Ok(Servers {
            ports,
            counts,
            waker,
            thread: Some(thread),
            _hung: hung,
        })
    }

    /// Returns the port of pair `i`, in the order given to [`Servers::new`].
    ///
    /// # Panics
    ///
    /// When there is no pair `i`.
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }

    /// Returns how many accepted connections are open: accepted, and not yet closed by
    /// their client.
    pub fn open(&self) -> usize {
        self.counts.open.load(Ordering::Acquire)
    }

    /// Returns how many connections have been accepted.
    pub fn accepted(&self) -> u64 {
        self.counts.accepted.load(Ordering::Acquire)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.counts.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A listener whose accept queue is full, so that the kernel drops new SYNs to it: connects
/// to its address hang. Closed when dropped.
pub struct Hung {
    _listener: Socket,
    _fillers: Vec<TcpStream>,
}

/// Makes a listener on `addr` that never accepts and whose queue is full.
///
/// # Errors
///
/// When `addr` cannot be bound.
pub fn hang(addr: SocketAddr) -> io::Result<Hung> {
    // Backlog 0 holds one connection; fill it (and one more, to be sure the queue is
    // full), and new SYNs are dropped.
    let listener = listener(addr, 0)?;
    let fillers = (0..2)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok())
        .collect();
    Ok(Hung {
        _listener: listener,
        _fillers: fillers,
    })
}

enum Made {
    Hung(Hung),
    Listener(mio::net::TcpListener),
}

/// Finds a port free on `::1` and `127.0.0.1` and sets up both addresses.
fn open_pair(v6: Serve, v4: Serve) -> io::Result<(u16, Vec<(Made, Serve)>)> {
    let mut last = io::Error::new(
        io::ErrorKind::AddrInUse,
        "no port free on ::1 and 127.0.0.1",
    );
    for _ in 0..50 {
        match try_pair(v6, v4) {
            Ok(pair) => return Ok(pair),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn try_pair(v6: Serve, v4: Serve) -> io::Result<(u16, Vec<(Made, Serve)>)> {
    let probe = listener(SocketAddr::new(V6, 0), 1)?;
    let port = probe
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("an IP listener without an IP address"))?;
    let probe4 = listener(SocketAddr::new(V4, port), 1)?;
    drop((probe, probe4));
    let mut made = Vec::new();
    for (ip, serve) in [(V6, v6), (V4, v4)] {
        if let Some(m) = open(SocketAddr::new(ip, port), serve)? {
            made.push((m, serve));
        }
    }
    Ok((port, made))
}

fn open(addr: SocketAddr, serve: Serve) -> io::Result<Option<Made>> {
    let backlog = match serve {
        Serve::Refuse => return Ok(None),
        Serve::Hang => return hang(addr).map(|h| Some(Made::Hung(h))),
        Serve::Accept => 1024,
        Serve::SlowAccept(_) => SLOW_BACKLOG,
    };
    let socket = listener(addr, backlog)?;
    socket.set_nonblocking(true)?;
    let std: std::net::TcpListener = socket.into();
    Ok(Some(Made::Listener(mio::net::TcpListener::from_std(std))))
}

fn listener(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket)
}

/// The waker's token; listener `i` has `Token(1 + i)`, connection `j` `Token(CONN + j)`.
const STOP: Token = Token(0);
const CONN: usize = 1 << 20;

struct Server {
    poll: Poll,
    listeners: Vec<Listening>,
    /// Accepted connections; `None` slots are listed in `free`.
    conns: Vec<Option<mio::net::TcpStream>>,
    free: Vec<usize>,
    counts: Arc<Counts>,
}

struct Listening {
    listener: mio::net::TcpListener,
    /// For a slow listener: its period and when it accepts next (`None` also once the next
    /// accept cannot be represented: it never comes).
    slow: Option<(Duration, Instant)>,
}

impl Server {
    fn new(
        poll: Poll,
        listeners: Vec<(mio::net::TcpListener, Serve)>,
        counts: Arc<Counts>,
    ) -> io::Result<Server> {
        let mut server = Server {
            poll,
            listeners: Vec::new(),
            conns: Vec::new(),
            free: Vec::new(),
            counts,
        };
        for (i, (mut listener, serve)) in listeners.into_iter().enumerate() {
            let slow = match serve {
                Serve::SlowAccept(period) => Some((period, Instant::now())),
                _ => {
                    server.poll.registry().register(
                        &mut listener,
                        Token(1 + i),
                        Interest::READABLE,
                    )?;
                    None
                }
            };
            server.listeners.push(Listening { listener, slow });
        }
        Ok(server)
    }

    fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        while !self.counts.stop.load(Ordering::Acquire) {
            let now = Instant::now();
            self.accept_slow(now);
            let timeout = self
                .listeners
                .iter()
                .filter_map(|l| l.slow.map(|(_, next)| next.saturating_duration_since(now)))
                .min();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            for event in &events {
                match event.token() {
                    STOP => {}
                    Token(t) if t >= CONN => self.read(t - CONN),
                    Token(t) => self.accept_all(t - 1),
                }
            }
        }
        let open = self.conns.iter().flatten().count();
        self.counts.open.fetch_sub(open, Ordering::AcqRel);
    }

    /// Accepts one connection on each slow listener whose time has come.
    fn accept_slow(&mut self, now: Instant) {
        for i in 0..self.listeners.len() {
            let Some((period, next)) = self.listeners[i].slow else {
                continue;
            };
            if next > now {
                continue;
            }
            // A period too long to represent: this accept was the last one.
            self.listeners[i].slow = now.checked_add(period).map(|next| (period, next));
            if let Ok((stream, _)) = self.listeners[i].listener.accept() {
                self.hold(stream);
            }
        }
    }

    fn accept_all(&mut self, i: usize) {
        loop {
            let Some(l) = self.listeners.get(i) else {
                return;
            };
            match l.listener.accept() {
                Ok((stream, _)) => self.hold(stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // A client gone before the accept (ECONNABORTED): go on.
                Err(_) => {}
            }
        }
    }

    /// Keeps an accepted connection until its client closes it.
    fn hold(&mut self, mut stream: mio::net::TcpStream) {
        let j = self.free.pop().unwrap_or(self.conns.len());
        let registered =
            self.poll
                .registry()
                .register(&mut stream, Token(CONN + j), Interest::READABLE);
        self.counts.accepted.fetch_add(1, Ordering::AcqRel);
        if registered.is_err() {
            self.free.push(j);
            return;
        }
        self.counts.open.fetch_add(1, Ordering::AcqRel);
        match self.conns.get_mut(j) {
            Some(slot) => *slot = Some(stream),
            None => self.conns.push(Some(stream)),
        }
        // A client that closed before the accept has its EOF waiting already; with
        // edge-triggered readiness the registration reports it.
    }

    /// Reads what a client sent (soak clients send nothing): at EOF or an error, closes.
    fn read(&mut self, j: usize) {
        let Some(Some(stream)) = self.conns.get_mut(j) else {
            return;
        };
        let mut buf = [0u8; 256];
        let closed = loop {
            match stream.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break true,
            }
        };
        if closed {
            if let Some(mut stream) = self.conns[j].take() {
                let _ = self.poll.registry().deregister(&mut stream);
            }
            self.free.push(j);
            self.counts.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn until(mut done: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(5);
        while !done() {
            if Instant::now() > end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    #[test]
    fn each_behaviour_and_the_open_count() {
        let servers = Servers::new(&[
            (Serve::Accept, Serve::Refuse),
            (Serve::Hang, Serve::SlowAccept(Duration::from_millis(50))),
        ])
        .unwrap();
        let (p0, p1) = (servers.port(0), servers.port(1));
        let short = Duration::from_millis(300);

        let client = TcpStream::connect_timeout(&SocketAddr::new(V6, p0), short).unwrap();
        assert!(until(|| servers.open() == 1 && servers.accepted() == 1));
        drop(client);
        assert!(until(|| servers.open() == 0), "the close was seen");

        let refused = TcpStream::connect_timeout(&SocketAddr::new(V4, p0), short).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        let hung = TcpStream::connect_timeout(&SocketAddr::new(V6, p1), short).unwrap_err();
        assert_eq!(hung.kind(), io::ErrorKind::TimedOut);

        // The slow listener's queue has room: the kernel connects at once, the server
        // accepts within its period.
        let slow = TcpStream::connect_timeout(&SocketAddr::new(V4, p1), short).unwrap();
        assert!(until(|| servers.open() == 1 && servers.accepted() == 2));
        drop(slow);
        assert!(until(|| servers.open() == 0));
    }
}
