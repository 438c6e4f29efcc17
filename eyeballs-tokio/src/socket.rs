//! Opening one attempt's socket with the connector's options.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, TcpKeepalive, Type};
use tokio::net::{TcpSocket, TcpStream};

/// A hook that sees every socket before it connects, to set what the builder does not.
pub type SocketHook = Arc<dyn Fn(&Socket, SocketAddr) -> io::Result<()> + Send + Sync>;

/// Options applied to every attempt's socket.
#[derive(Clone, Default)]
pub(crate) struct SocketOptions {
    pub(crate) nodelay: bool,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) bind_v4: Option<SocketAddr>,
    pub(crate) bind_v6: Option<SocketAddr>,
    pub(crate) device: Option<String>,
    pub(crate) hook: Option<SocketHook>,
}

impl fmt::Debug for SocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketOptions")
            .field("nodelay", &self.nodelay)
            .field("keepalive", &self.keepalive)
            .field("bind_v4", &self.bind_v4)
            .field("bind_v6", &self.bind_v6)
            .field("device", &self.device)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl SocketOptions {
    /// Opens a non-blocking socket for `addr` with every option applied.
    fn open(&self, addr: SocketAddr) -> io::Result<Socket> {
        // Non-blocking from the start where the kernel allows it: one system call, not two.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking(),
            Some(Protocol::TCP),
        )?;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let socket = {
            let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            s.set_nonblocking(true)?;
            s
        };
        if self.nodelay {
            socket.set_tcp_nodelay(true)?;
        }
        if let Some(idle) = self.keepalive {
            socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
        }
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
        if let Some(device) = &self.device {
            socket.bind_device(Some(device.as_bytes()))?;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
        if self.device.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "binding to a device needs Linux (SO_BINDTODEVICE)",
            ));
        }
        let local = if addr.is_ipv6() {
            self.bind_v6
        } else {
            self.bind_v4
        };
        if let Some(local) = local {
            socket.bind(&local.into())?;
        }
        if let Some(hook) = &self.hook {
            hook(&socket, addr)?;
        }
        Ok(socket)
    }

    /// Connects to `addr`. Dropping the future closes the socket.
    pub(crate) async fn connect(self: Arc<Self>, addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = self.open(addr)?;
        let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
        socket.connect(addr).await
    }
}

/// Turns an IPv6 zone (`lo`, `eth0`, or a number) into an interface index.
pub(crate) fn zone_index(zone: &str) -> io::Result<u32> {
    if let Ok(index) = zone.parse::<u32>() {
        return Ok(index);
    }
    let name_ok = !zone.is_empty()
        && zone.len() < 16
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        && zone != "."
        && zone != "..";
    if !name_ok {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{zone:?} is not an interface name"),
        ));
    }
    // The kernel publishes each interface's index in sysfs; std has no if_nametoindex.
    let path = format!("/sys/class/net/{zone}/ifindex");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown IPv6 zone {zone:?} ({path}: {e}); use a numeric zone"),
        )
    })?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path} does not hold a number"),
        )
    })
}
