//! quinn-udp's state of a UDP socket, made once per address family for every attempt's
//! socket (Linux), with the socket options it would set, but not UDP GRO.
//!
//! Why: `UdpSocketState::new` probes GRO support with a socket of its own and turns GRO on,
//! for every socket. Each GRO socket that opens or closes while none other is open flips a
//! kernel static key (code patched on every CPU: about 250 µs on the development VM), and a
//! GRO socket makes quinn allocate and zero a 3 MiB receive buffer per endpoint. A QUIC
//! attempt's socket carries one handshake: it needs neither. The state itself holds only
//! what the kernel supports (GSO segments, whether `sendmsg` takes ECN), so it is made once
//! per family, on a socket opened for that and closed again: a probe of the kernel, like
//! the probes quinn-udp keeps in statics of its own.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, PoisonError};

use nix::sys::socket::{setsockopt, sockopt};
use quinn::udp::UdpSocketState;
use socket2::SockRef;

/// The state for `socket`, an attempt's socket of the family of `v6`, and the options
/// quinn-udp sets, but GRO; `gro` says whether the socket has GRO on.
pub(crate) fn attempt_state(
    socket: &UdpSocket,
    v6: bool,
) -> io::Result<(Arc<UdpSocketState>, bool)> {
    configure(socket, v6)?;
    Ok((family_state(v6)?, false))
}

/// quinn-udp's options but GRO, as `UdpSocketState::new` sets them on Linux: ECN received
/// (TOS / traffic class), packet info, and no fragmentation (path MTU probing, as quinn
/// discovers the MTU itself).
fn configure(socket: &UdpSocket, v6: bool) -> io::Result<()> {
    let sock = SockRef::from(socket);
    let fd = socket.as_fd();
    if v6 {
        rustix::net::sockopt::set_ipv6_mtu_discover(
            fd,
            rustix::net::sockopt::Ipv6PathMtuDiscovery::PROBE,
        )?;
        setsockopt(&fd, sockopt::Ipv6RecvPacketInfo, &true)?;
        sock.set_recv_tclass_v6(true)?;
        setsockopt(&fd, sockopt::Ipv6DontFrag, &true)?;
    } else {
        // quinn-udp ignores a failure of this one (old kernels).
        let _ = sock.set_recv_tos_v4(true);
        rustix::net::sockopt::set_ip_mtu_discover(
            fd,
            rustix::net::sockopt::Ipv4PathMtuDiscovery::PROBE,
        )?;
        setsockopt(&fd, sockopt::Ipv4PacketInfo, &true)?;
    }
    Ok(())
}

/// The state of the family, made on first use (and again after a failure).
fn family_state(v6: bool) -> io::Result<Arc<UdpSocketState>> {
    static STATES: Mutex<[Option<Arc<UdpSocketState>>; 2]> = Mutex::new([None, None]);
    let mut states = STATES.lock().unwrap_or_else(PoisonError::into_inner);
    let slot = &mut states[usize::from(v6)];
    if let Some(state) = slot {
        return Ok(state.clone());
    }
    let any = match v6 {
        true => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        false => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
    };
    let probe = UdpSocket::bind(any)?;
    let state = Arc::new(UdpSocketState::new((&probe).into())?);
    *slot = Some(state.clone());
    Ok(state)
}
