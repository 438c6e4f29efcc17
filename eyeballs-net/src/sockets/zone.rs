//! IPv6 zones (`fe80::1%eth0`) to interface indexes.

use std::io;

/// Turns an IPv6 zone (`lo`, `eth0`, or a number) into an interface index, with
/// `if_nametoindex(3)` (no file is read).
///
/// # Errors
///
/// `InvalidInput` for a zone that names no interface.
pub(crate) fn zone_index(zone: &str) -> io::Result<u32> {
    if let Ok(index) = zone.parse::<u32>() {
        return Ok(index);
    }
    let unknown = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown IPv6 zone {zone:?} ({why}); use an interface name or number"),
        )
    };
    // IFNAMSIZ is 16 with the final NUL.
    if zone.is_empty() || zone.len() >= 16 || zone.bytes().any(|b| b == 0) {
        return Err(unknown("not an interface name"));
    }
    index_of(zone).ok_or_else(|| unknown("no such interface"))
}

#[cfg(unix)]
fn index_of(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok().filter(|&i| i != 0)
}

#[cfg(not(unix))]
fn index_of(_name: &str) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_unknown_zones() {
        assert_eq!(zone_index("7").ok(), Some(7));
        assert_eq!(
            zone_index("lo").ok(),
            Some(1),
            "the loopback interface is index 1 on Linux"
        );
        for bad in ["", "no-such-if0", "a/b", "0123456789abcdef"] {
            let e = zone_index(bad).expect_err(bad);
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(e.to_string().contains("unknown IPv6 zone"), "{e}");
        }
    }
}
