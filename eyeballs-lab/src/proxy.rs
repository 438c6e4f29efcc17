//! Loopback proxies for HEv3 V60's tests: an HTTP CONNECT or SOCKS5 server on a listener
//! the test gives it, that resolves the names it is asked for through the test's own map
//! (never DNS), forwards only to loopback addresses, and answers as told: open the tunnel,
//! stall before answering, or refuse with a status or reply code.
//!
//! Bounded: at most [`MAX_PROXY_CONNECTIONS`] connections at once (more are closed at
//! once), every read and write with a deadline ([`PROXY_IO_DEADLINE`]), and everything
//! stopped and joined or timed out when the server is dropped.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eyeballs_net::ProxyKind;

/// The most connections a [`ProxyServer`] serves at once; more are closed on accept.
pub const MAX_PROXY_CONNECTIONS: usize = 32;
/// How long a proxy's connection may wait for a read or a write, and the longest a
/// stalling proxy holds a connection.
pub const PROXY_IO_DEADLINE: Duration = Duration::from_secs(10);
/// The most bytes of a CONNECT request the proxy reads.
const MAX_REQUEST: usize = 8 * 1024;

/// How a [`ProxyServer`] answers every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyServe {
    /// Resolves the name through the map, connects, answers success and forwards both ways.
    /// A name not in the map is refused (HTTP 502, SOCKS5 reply 4).
    Tunnel,
    /// Reads the request and never answers (until the client closes, the server is
    /// dropped, or [`PROXY_IO_DEADLINE`] passes).
    Stall,
    /// Answers with this HTTP status (say 407) or SOCKS5 reply code (say 5), then closes.
    Refuse(u16),
}

/// What the proxy's threads share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    accepted: AtomicUsize,
    active: AtomicUsize,
    /// What each request asked for, as `host:port`.
    requests: Mutex<Vec<String>>,
}

/// A proxy on a loopback listener, serving until dropped.
#[derive(Debug)]
pub struct ProxyServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl ProxyServer {
    /// Serves `kind` on `listener` (bound by the test, on loopback), resolving the names
    /// asked for through `names` (a name and the loopback address it stands for), and
    /// answering as `serve` says.
    ///
    /// # Errors
    ///
    /// When the listener has no address, or a name maps to an address that is not loopback.
    pub fn start(
        kind: ProxyKind,
        listener: TcpListener,
        names: &[(&str, IpAddr)],
        serve: ProxyServe,
    ) -> io::Result<ProxyServer> {
        ProxyServer::spawn(kind, listener, names, serve, None)
    }

    /// Like [`ProxyServer::start`], for a proxy that wants `user` and `password`: HTTP
    /// `Proxy-Authorization: Basic` (407 without it or with others), SOCKS5 RFC 1929
    /// username/password (method 0xff when it is not offered, status 1 for others).
    ///
    /// # Errors
    ///
    /// As [`ProxyServer::start`].
    pub fn start_with_credentials(
        kind: ProxyKind,
        listener: TcpListener,
        names: &[(&str, IpAddr)],
        serve: ProxyServe,
        (user, password): (&str, &str),
    ) -> io::Result<ProxyServer> {
        let credentials = Some((user.to_string(), password.to_string()));
        ProxyServer::spawn(kind, listener, names, serve, credentials)
    }

    fn spawn(
        kind: ProxyKind,
        listener: TcpListener,
        names: &[(&str, IpAddr)],
        serve: ProxyServe,
        credentials: Option<(String, String)>,
    ) -> io::Result<ProxyServer> {
        let addr = listener.local_addr()?;
        if let Some((name, ip)) = names.iter().find(|(_, ip)| !ip.is_loopback()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the lab proxy forwards to loopback only, not {name} -> {ip}"),
            ));
        }
        let names: Vec<(String, IpAddr)> = names
            .iter()
            .map(|(n, ip)| (n.to_ascii_lowercase(), *ip))
            .collect();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("eyeballs-lab-proxy".into())
            .spawn(move || accept_loop(&listener, (kind, &credentials), &names, serve, &s))?;
        Ok(ProxyServer {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// Returns the listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns what each request asked for (`host:port`, IPv6 in brackets), in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// Returns how many connections the proxy accepted.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; the loop sees `stop` and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A proxy's protocol and the credentials it wants, if any.
type Wants<'a> = (ProxyKind, &'a Option<(String, String)>);

fn accept_loop(
    listener: &TcpListener,
    (kind, credentials): Wants<'_>,
    names: &[(String, IpAddr)],
    serve: ProxyServe,
    shared: &Arc<Shared>,
) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.active.load(Ordering::SeqCst) >= MAX_PROXY_CONNECTIONS {
            continue;
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        let (names, s, credentials) = (names.to_vec(), shared.clone(), credentials.clone());
        let spawned = std::thread::Builder::new()
            .name("eyeballs-lab-proxy-conn".into())
            .spawn(move || {
                let _ = serve_one(stream, (kind, &credentials), &names, serve, &s);
                s.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn serve_one(
    mut client: TcpStream,
    (kind, credentials): Wants<'_>,
    names: &[(String, IpAddr)],
    serve: ProxyServe,
    shared: &Shared,
) -> io::Result<()> {
    client.set_read_timeout(Some(PROXY_IO_DEADLINE))?;
    client.set_write_timeout(Some(PROXY_IO_DEADLINE))?;
    let (host, port) = match kind {
        ProxyKind::Socks5 => socks_request(&mut client, credentials)?,
        _ => {
            let (host, port, authorization) = http_request(&mut client)?;
            if let Some((user, password)) = credentials {
                let expected = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
                if authorization.as_deref() != Some(expected.as_str()) {
                    return refuse(&mut client, kind, 407);
                }
            }
            (host, port)
        }
    };
    let asked = match host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port).to_string(),
        Err(_) => format!("{host}:{port}"),
    };
    lock(&shared.requests).push(asked);
    match serve {
        ProxyServe::Stall => stall(&mut client, shared),
        ProxyServe::Refuse(code) => refuse(&mut client, kind, code),
        ProxyServe::Tunnel => {
            let ip = match host.parse::<IpAddr>() {
                Ok(ip) => Some(ip).filter(IpAddr::is_loopback),
                Err(_) => names
                    .iter()
                    .find(|(n, _)| *n == host.to_ascii_lowercase())
                    .map(|(_, ip)| *ip),
            };
            let Some(ip) = ip else {
                return refuse(&mut client, kind, refusal_code(kind, false));
            };
            let origin = match TcpStream::connect_timeout(
                &SocketAddr::new(ip, port),
                Duration::from_secs(2),
            ) {
                Ok(origin) => origin,
                Err(_) => return refuse(&mut client, kind, refusal_code(kind, true)),
            };
            match kind {
                ProxyKind::Socks5 => client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?,
                _ => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?,
            }
            splice(client, origin)
        }
    }
}

/// The code a proxy answers when it cannot reach the host: 502 or SOCKS5 reply 4 (host
/// unreachable) for an unknown name, 502 or reply 5 (refused) for a failed connect.
fn refusal_code(kind: ProxyKind, known: bool) -> u16 {
    match (kind, known) {
        (ProxyKind::Socks5, false) => 4,
        (ProxyKind::Socks5, true) => 5,
        _ => 502,
    }
}

/// Reads a `CONNECT host:port HTTP/1.1` request and its headers; returns the host, the
/// port and the `Proxy-Authorization` value, if any.
fn http_request(client: &mut TcpStream) -> io::Result<(String, u16, Option<String>)> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if request.len() >= MAX_REQUEST || client.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::InvalidData.into());
        }
        request.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&request);
    let mut words = text.split_whitespace();
    let (Some("CONNECT"), Some(authority)) = (words.next(), words.next()) else {
        return Err(io::ErrorKind::InvalidData.into());
    };
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or(io::ErrorKind::InvalidData)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.parse().map_err(|_| io::ErrorKind::InvalidData)?;
    let authorization = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_string())
    });
    Ok((host.to_string(), port, authorization))
}

/// Standard base64 (RFC 4648 §4), to check a `Proxy-Authorization: Basic` value; the
/// client's encoder is eyeballs-net's own, so this one is written apart on purpose.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            n |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..4 {
            let c = if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i)) as usize & 63]
            } else {
                b'='
            };
            out.push(char::from(c));
        }
    }
    out
}

/// Reads a SOCKS5 greeting (answering "no authentication", or username/password when the
/// proxy wants credentials, RFC 1929) and a CONNECT request.
fn socks_request(
    client: &mut TcpStream,
    credentials: &Option<(String, String)>,
) -> io::Result<(String, u16)> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head)?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods)?;
    let method = if credentials.is_some() { 2 } else { 0 };
    if head[0] != 5 || !methods.contains(&method) {
        client.write_all(&[5, 0xff])?;
        return Err(io::ErrorKind::InvalidData.into());
    }
    client.write_all(&[5, method])?;
    if let Some((user, password)) = credentials {
        let read_field = |client: &mut TcpStream| -> io::Result<Vec<u8>> {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut field = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut field)?;
            Ok(field)
        };
        let mut version = [0u8; 1];
        client.read_exact(&mut version)?;
        let (u, p) = (read_field(client)?, read_field(client)?);
        if version[0] != 1 || u != user.as_bytes() || p != password.as_bytes() {
            client.write_all(&[1, 1])?;
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        client.write_all(&[1, 0])?;
    }
    let mut req = [0u8; 4];
    client.read_exact(&mut req)?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            client.read_exact(&mut a)?;
            IpAddr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            client.read_exact(&mut a)?;
            IpAddr::from(a).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Err(io::ErrorKind::InvalidData.into()),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    Ok((host, u16::from_be_bytes(port)))
}

fn refuse(client: &mut TcpStream, kind: ProxyKind, code: u16) -> io::Result<()> {
    match kind {
        ProxyKind::Socks5 => {
            let code = u8::try_from(code).unwrap_or(1);
            client.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0])
        }
        _ => {
            let reason = match code {
                407 => "Proxy Authentication Required",
                502 => "Bad Gateway",
                _ => "Refused",
            };
            let answer = format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\n\r\n");
            client.write_all(answer.as_bytes())
        }
    }
}

/// Holds the connection without answering until the client closes, the server stops, or
/// the deadline passes.
fn stall(client: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_millis(50)))?;
    let deadline = Instant::now() + PROXY_IO_DEADLINE;
    let mut buf = [0u8; 256];
    while Instant::now() < deadline && !shared.stop.load(Ordering::SeqCst) {
        match client.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copies both ways until either side closes (each copy bounded by the streams' read
/// deadlines), then closes both.
fn splice(client: TcpStream, origin: TcpStream) -> io::Result<()> {
    origin.set_read_timeout(Some(PROXY_IO_DEADLINE))?;
    origin.set_write_timeout(Some(PROXY_IO_DEADLINE))?;
    let (mut c_read, mut o_write) = (client.try_clone()?, origin.try_clone()?);
    let up = std::thread::Builder::new()
        .name("eyeballs-lab-proxy-up".into())
        .spawn(move || {
            let _ = io::copy(&mut c_read, &mut o_write);
            let _ = o_write.shutdown(Shutdown::Write);
        })?;
    let (mut o_read, mut c_write) = (origin, client);
    let _ = io::copy(&mut o_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = o_read.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}
