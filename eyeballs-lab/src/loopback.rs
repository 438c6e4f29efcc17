//! Loopback servers that accept, refuse or hang, for real-socket tests and the demo.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// The IPv6 loopback address.
pub const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// The IPv4 loopback address.
pub const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// How one loopback address behaves on the test's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A listener that accepts (the kernel completes the handshake).
    Accept,
    /// No listener: the kernel answers RST, the connect is refused.
    Refuse,
    /// A listener whose accept queue is full: the kernel drops new SYNs, the connect hangs.
    Hang,
}

/// One port on `::1` and `127.0.0.1`, each address with its behaviour. Everything is closed
/// when it is dropped.
pub struct Lab {
    /// The port, the same on both addresses.
    pub port: u16,
    listeners: Vec<Socket>,
    /// Connections that fill the accept queues of hanging listeners.
    fillers: Vec<TcpStream>,
}

impl Lab {
    /// Sets up `v6` on `[::1]:port` and `v4` on `127.0.0.1:port`, for one free port.
    ///
    /// # Panics
    ///
    /// When no port is free on both addresses in 50 tries, or `::1` does not exist.
    pub fn new(v6: Behaviour, v4: Behaviour) -> Lab {
        for _ in 0..50 {
            if let Some(lab) = Lab::try_new(v6, v4) {
                return lab;
            }
        }
        panic!("no loopback port was free on both ::1 and 127.0.0.1 in 50 tries");
    }

    fn try_new(v6: Behaviour, v4: Behaviour) -> Option<Lab> {
        // A port that is free on both: bind a probe on ::1 (v6-only), then try 127.0.0.1.
        let probe = listener(SocketAddr::new(V6, 0), 128).ok()?;
        let port = probe.local_addr().ok()?.as_socket()?.port();
        let probe4 = listener(SocketAddr::new(V4, port), 128).ok()?;
        drop((probe, probe4));
        let mut lab = Lab {
            port,
            listeners: Vec::new(),
            fillers: Vec::new(),
        };
        for (ip, behaviour) in [(V6, v6), (V4, v4)] {
            let addr = SocketAddr::new(ip, port);
            match behaviour {
                Behaviour::Refuse => {}
                Behaviour::Accept => lab.listeners.push(listener(addr, 128).ok()?),
                Behaviour::Hang => {
                    // Backlog 0 holds one connection; fill it (and one more, to be sure the
                    // queue is full), and new SYNs are dropped.
                    lab.listeners.push(listener(addr, 0).ok()?);
                    for _ in 0..2 {
                        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                        {
                            lab.fillers.push(s);
                        }
                    }
                }
            }
        }
        Some(lab)
    }

    /// Returns `ip` with the lab's port.
    pub fn addr(&self, ip: IpAddr) -> SocketAddr {
        SocketAddr::new(ip, self.port)
    }
}

fn listener(addr: SocketAddr, backlog: i32) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket)
}

/// The number of open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The number of open file descriptors of this process once it is back to `baseline` or
/// under, or at `within` from now if it never is (then the count is over `baseline`: a
/// leak). A [`sink`]'s thread closes what it accepts a moment after the client is done, so
/// a count taken right after a burst of connects can see the one socket it holds then.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_lab::loopback::{open_fds_least, open_fds_settled, sink};
///
/// let addr = sink();
/// let before = open_fds_least(Duration::from_millis(20));
/// for _ in 0..10 {
///     drop(std::net::TcpStream::connect(addr)?);
/// }
/// // Every connection closed: the count comes back (a leak would stay over `before`).
/// assert!(open_fds_settled(before, Duration::from_secs(1)) <= before);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_fds_settled(baseline: usize, within: std::time::Duration) -> usize {
    let start = std::time::Instant::now();
    loop {
        let n = open_fds();
        if n <= baseline || start.elapsed() >= within {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// The least number of open file descriptors of this process read over `over` (every
/// millisecond): a baseline taken after connects to a [`sink`] without the socket its
/// thread may hold for a moment.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_lab::loopback::open_fds_least;
///
/// let without = open_fds_least(Duration::from_millis(5));
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// assert_eq!(open_fds_least(Duration::from_millis(5)), without + 1);
/// # drop(listener);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_fds_least(over: std::time::Duration) -> usize {
    let start = std::time::Instant::now();
    let mut least = open_fds();
    while start.elapsed() < over {
        std::thread::sleep(std::time::Duration::from_millis(1));
        least = least.min(open_fds());
    }
    least
}

/// A listener on 127.0.0.1 that accepts and closes every connection on its own thread, with
/// a backlog that holds a burst of 1,000 connects: the other end of the benchmarks. It lives
/// as long as the process.
///
/// # Panics
///
/// When 127.0.0.1 has no free port.
pub fn sink() -> SocketAddr {
    let addr = SocketAddr::new(V4, 0);
    let socket = listener(addr, 4096).expect("a listener on 127.0.0.1");
    let addr = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("an IP listener has an IP address");
    let listener = std::net::TcpListener::from(socket);
    std::thread::spawn(move || {
        // A client that is gone before the accept gives an error; keep accepting.
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    addr
}

/// Like [`sink`], on one port of both loopback addresses (`::1` and `127.0.0.1`), so that a
/// connect by name (`localhost:PORT`) is healthy whichever family it takes. Returns the port.
///
/// # Panics
///
/// When no port is free on both addresses.
pub fn sink_both() -> u16 {
    let v4 = sink();
    let v6 = listener(SocketAddr::new(V6, v4.port()), 4096).expect("a listener on ::1");
    let listener = std::net::TcpListener::from(v6);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    v4.port()
}
