//! Socket options are checked when a connector is built, against the kernel's own limits.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use eyeballs_net::{SocketOptionError, SocketOptions, MAX_KEEPALIVE_IDLE};

fn v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn v6() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

/// Each bad option is named, with what it accepts; good ones pass.
#[test]
fn validate_names_the_option() {
    let cases: Vec<(SocketOptions, &str, &str)> = vec![
        (
            SocketOptions::new().keepalive(Some(Duration::MAX)),
            "keepalive",
            "1 to 32767 whole seconds",
        ),
        (
            SocketOptions::new().keepalive(Some(Duration::from_millis(500))),
            "keepalive",
            "1 to 32767 whole seconds",
        ),
        (
            SocketOptions::new().bind_v4(Some(v6())),
            "bind_v4",
            "takes an IPv4 address, not [::1]:0",
        ),
        (
            SocketOptions::new().bind_v6(Some(v4())),
            "bind_v6",
            "takes an IPv6 address, not 127.0.0.1:0",
        ),
        (
            SocketOptions::new().bind_device(Some("a-name-that-is-too-long")),
            "bind_device",
            "1 to 15 bytes",
        ),
        (
            SocketOptions::new().bind_device(Some("")),
            "bind_device",
            "1 to 15 bytes",
        ),
        (
            SocketOptions::new().bind_device(Some("../x")),
            "bind_device",
            "without '/'",
        ),
    ];
    for (options, option, text) in cases {
        let err = options.validate().unwrap_err();
        assert_eq!(err.option(), option, "{err}");
        assert!(err.to_string().contains(text), "{err}");
    }
    let good = SocketOptions::new()
        .nodelay(true)
        .keepalive(Some(Duration::from_millis(1500)))
        .bind_v4(Some(v4()))
        .bind_v6(Some(v6()));
    assert!(good.validate().is_ok());
    assert!(matches!(
        SocketOptions::new()
            .keepalive(Some(MAX_KEEPALIVE_IDLE + Duration::from_secs(1)))
            .validate(),
        Err(SocketOptionError::Keepalive(_))
    ));
}
