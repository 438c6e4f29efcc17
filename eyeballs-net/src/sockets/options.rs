//! Opening one attempt's socket with the connector's options.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, TcpKeepalive, Type};

/// The shortest keepalive idle time [`SocketOptions::keepalive`] takes: `TCP_KEEPIDLE` counts
/// whole seconds, and Linux rejects 0.
pub const MIN_KEEPALIVE_IDLE: Duration = Duration::from_secs(1);

/// The longest keepalive idle time [`SocketOptions::keepalive`] takes: Linux's
/// `MAX_TCP_KEEPIDLE` (32767 s), the narrowest limit of the platforms socket2 supports.
pub const MAX_KEEPALIVE_IDLE: Duration = Duration::from_secs(32767);

/// A hook that sees every socket before it connects, to set what [`SocketOptions`] does not.
pub type SocketHook = Arc<dyn Fn(&Socket, SocketAddr) -> io::Result<()> + Send + Sync>;

/// Options applied to every attempt's socket, the same for every driver.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_net::SocketOptions;
///
/// let options = SocketOptions::new()
///     .nodelay(true)
///     .keepalive(Some(Duration::from_secs(60)))
///     .bind_v4(Some("127.0.0.1:0".parse().unwrap()))
///     .hook(|socket, _addr| socket.set_tcp_user_timeout(Some(Duration::from_secs(30))));
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct SocketOptions {
    nodelay: bool,
    keepalive: Option<Duration>,
    bind_v4: Option<SocketAddr>,
    bind_v6: Option<SocketAddr>,
    device: Option<String>,
    hook: Option<SocketHook>,
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
    /// No options: the kernel's defaults.
    pub fn new() -> Self {
        SocketOptions::default()
    }

    /// Sets `TCP_NODELAY`, default off.
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Turns TCP keepalive on with this idle time, default off.
    ///
    /// The kernel counts whole seconds (a fraction is dropped), from [`MIN_KEEPALIVE_IDLE`]
    /// (1 s) to [`MAX_KEEPALIVE_IDLE`] (32767 s); the connector's `build()` rejects anything
    /// else with [`SocketOptionError::Keepalive`].
    pub fn keepalive(mut self, idle: Option<Duration>) -> Self {
        self.keepalive = idle;
        self
    }

    /// Binds IPv4 attempts to this local address (port 0 for any port); it must be an IPv4
    /// address.
    pub fn bind_v4(mut self, local: Option<SocketAddr>) -> Self {
        self.bind_v4 = local;
        self
    }

    /// Binds IPv6 attempts to this local address (port 0 for any port); it must be an IPv6
    /// address.
    pub fn bind_v6(mut self, local: Option<SocketAddr>) -> Self {
        self.bind_v6 = local;
        self
    }

    /// Binds every socket to a network interface (`SO_BINDTODEVICE`, Linux only; elsewhere
    /// the connector's `build()` fails with [`SocketOptionError::DeviceUnsupported`]).
    ///
    /// Keep one connector, and so one history, per interface: RFC 8305 §4 forbids using
    /// history across interfaces (R15).
    pub fn bind_device(mut self, device: Option<&str>) -> Self {
        self.device = device.map(str::to_string);
        self
    }

    /// Calls `hook` on every socket before it connects, to set any option socket2 offers.
    /// The socket is non-blocking, but for the blocking driver's sole attempt (one address,
    /// no deadline), which connects in blocking mode as std does; a hook that makes that one
    /// non-blocking only has it waited for on the poller.
    pub fn hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Socket, SocketAddr) -> io::Result<()> + Send + Sync + 'static,
    {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Checks the options that would make every attempt fail: a keepalive idle time the
    /// kernel rejects, a local address of the wrong family, a device name that cannot name an
    /// interface. The connector builders call it, so bad options fail when the connector is
    /// built, not at every connect.
    ///
    /// It does not check that a device or a local address exists: interfaces come and go.
    ///
    /// # Errors
    ///
    /// A [`SocketOptionError`] naming the first bad option and what it accepts.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_net::{SocketOptionError, SocketOptions};
    ///
    /// let bad = SocketOptions::new().keepalive(Some(Duration::MAX));
    /// let err = bad.validate().unwrap_err();
    /// assert!(matches!(err, SocketOptionError::Keepalive(_)));
    /// assert_eq!(err.option(), "keepalive");
    /// assert!(SocketOptions::new().keepalive(Some(Duration::from_secs(60))).validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), SocketOptionError> {
        if let Some(idle) = self.keepalive {
            let secs = idle.as_secs();
            if secs < MIN_KEEPALIVE_IDLE.as_secs() || secs > MAX_KEEPALIVE_IDLE.as_secs() {
                return Err(SocketOptionError::Keepalive(idle));
            }
        }
        if let Some(addr) = self.bind_v4.filter(SocketAddr::is_ipv6) {
            return Err(SocketOptionError::BindFamily {
                option: "bind_v4",
                addr,
            });
        }
        if let Some(addr) = self.bind_v6.filter(SocketAddr::is_ipv4) {
            return Err(SocketOptionError::BindFamily {
                option: "bind_v6",
                addr,
            });
        }
        if let Some(device) = &self.device {
            if !cfg!(any(
                target_os = "linux",
                target_os = "android",
                target_os = "fuchsia"
            )) {
                return Err(SocketOptionError::DeviceUnsupported);
            }
            // IFNAMSIZ is 16 with the final NUL; a name is also a path component in sysfs.
            let ok = (1..16).contains(&device.len())
                && !device
                    .bytes()
                    .any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace())
                && device != "."
                && device != "..";
            if !ok {
                return Err(SocketOptionError::Device(device.clone()));
            }
        }
        Ok(())
    }

    /// Opens a non-blocking TCP socket for `addr` with every option applied and, if asked,
    /// bound; the caller connects it. A [`Runtime`](crate::runtime::Runtime)'s connect
    /// starts here.
    ///
    /// # Errors
    ///
    /// Whatever the kernel says to `socket`, `setsockopt` or `bind`, or the hook's error.
    pub fn open(&self, addr: SocketAddr) -> io::Result<Socket> {
        // Non-blocking from the start where the kernel allows it: one system call, not two
        // (measured: the second call cost 20% of the throughput of 1,000 concurrent
        // connects).
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
        self.apply(socket, addr)
    }

    /// As [`SocketOptions::open`], but the socket is in blocking mode, as std's
    /// `TcpStream::connect` makes it: the blocking driver's sole attempt connects in place
    /// (see `blocking_loop`).
    #[cfg(feature = "blocking")]
    pub(crate) fn open_blocking(&self, addr: SocketAddr) -> io::Result<Socket> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        self.apply(socket, addr)
    }

    /// Whether a hook runs on each socket (it may change what `open` set, its blocking mode
    /// say).
    #[cfg(feature = "blocking")]
    pub(crate) fn has_hook(&self) -> bool {
        self.hook.is_some()
    }

    /// Sets the options on a new socket, binds it if asked and runs the hook.
    fn apply(&self, socket: Socket, addr: SocketAddr) -> io::Result<Socket> {
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

    /// The local address attempts to `dest`'s family bind to, if any.
    pub(crate) fn bind_for(&self, dest: IpAddr) -> Option<SocketAddr> {
        if dest.is_ipv6() {
            self.bind_v6
        } else {
            self.bind_v4
        }
    }

    /// The device attempts bind to, if any.
    pub(crate) fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }
}

/// A socket option that would make every attempt fail, found by [`SocketOptions::validate`]
/// when the connector is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketOptionError {
    /// The keepalive idle time is outside [`MIN_KEEPALIVE_IDLE`]..=[`MAX_KEEPALIVE_IDLE`]
    /// (1 to 32767 whole seconds).
    Keepalive(Duration),
    /// `bind_v4` was given an IPv6 address, or `bind_v6` an IPv4 one.
    BindFamily {
        /// `"bind_v4"` or `"bind_v6"`.
        option: &'static str,
        /// The address given.
        addr: SocketAddr,
    },
    /// The `bind_device` name cannot name an interface: it must be 1 to 15 bytes, without
    /// `/`, NUL or white space.
    Device(String),
    /// `bind_device` needs `SO_BINDTODEVICE`, which only Linux (and Android, Fuchsia) has.
    DeviceUnsupported,
}

impl SocketOptionError {
    /// Returns the name of the [`SocketOptions`] method whose value was rejected
    /// (`"keepalive"`, `"bind_v4"`, `"bind_v6"`, `"bind_device"`).
    pub fn option(&self) -> &'static str {
        match self {
            SocketOptionError::Keepalive(_) => "keepalive",
            SocketOptionError::BindFamily { option, .. } => option,
            SocketOptionError::Device(_) | SocketOptionError::DeviceUnsupported => "bind_device",
        }
    }
}

impl fmt::Display for SocketOptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketOptionError::Keepalive(idle) => write!(
                f,
                "keepalive idle time {idle:?} is out of range: TCP_KEEPIDLE takes {} to {} whole \
                 seconds",
                MIN_KEEPALIVE_IDLE.as_secs(),
                MAX_KEEPALIVE_IDLE.as_secs()
            ),
            SocketOptionError::BindFamily { option, addr } => {
                let family = if *option == "bind_v4" { "IPv4" } else { "IPv6" };
                write!(f, "{option} takes an {family} address, not {addr}")
            }
            SocketOptionError::Device(name) => write!(
                f,
                "bind_device {name:?} is not an interface name (1 to 15 bytes, without '/', \
                 NUL or spaces)"
            ),
            SocketOptionError::DeviceUnsupported => {
                f.write_str("bind_device needs Linux (SO_BINDTODEVICE)")
            }
        }
    }
}

impl std::error::Error for SocketOptionError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    /// The keepalive bounds are Linux's: both ends open a socket, one second more is EINVAL
    /// from the kernel (what every attempt would fail with if `build()` did not check).
    #[cfg(target_os = "linux")]
    #[test]
    fn keepalive_bounds_are_the_kernels() {
        for idle in [MIN_KEEPALIVE_IDLE, MAX_KEEPALIVE_IDLE] {
            let options = SocketOptions::new().keepalive(Some(idle));
            assert!(options.validate().is_ok());
            assert!(options.open(v4()).is_ok(), "{idle:?}");
        }
        let beyond =
            SocketOptions::new().keepalive(Some(MAX_KEEPALIVE_IDLE + Duration::from_secs(1)));
        let err = beyond.open(v4()).expect_err("past the kernel's limit");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
        let below = SocketOptions::new().keepalive(Some(Duration::from_millis(999)));
        let err = below.open(v4()).expect_err("below a second");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
    }

    /// A hook sees every socket before it connects; its error is the attempt's.
    #[test]
    fn the_hook_runs_on_every_socket_and_its_error_is_kept() {
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = seen.clone();
        let options = SocketOptions::new()
            .nodelay(true)
            .hook(move |socket, addr| {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                assert!(socket.tcp_nodelay()?, "options come before the hook");
                match addr.port() {
                    9 => Err(io::Error::other("refused by the hook")),
                    _ => Ok(()),
                }
            });
        assert!(options.open(v4()).is_ok());
        let err = options
            .open(SocketAddr::from(([127, 0, 0, 1], 9)))
            .expect_err("the hook refuses port 9");
        assert_eq!(err.to_string(), "refused by the hook");
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
