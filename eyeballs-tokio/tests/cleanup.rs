//! Nothing leaks: losing sockets close when the race is decided, dropping a connect mid-race
//! closes everything it opened. One test function, so no other test's sockets disturb the
//! file descriptor count.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use eyeballs_lab::loopback::{open_fds, Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Config, Connector, StaticResolver};

const NAME: &str = "cleanup.eyeballs.test";

#[tokio::test(flavor = "current_thread")]
async fn no_socket_outlives_the_race() {
    let hang = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let mixed = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap();
    let baseline = open_fds();

    // Dropped mid-race, with both attempts in flight (IPv4 starts at 250 ms).
    let race = connector.connect((NAME, hang.port));
    let dropped = tokio::time::timeout(Duration::from_millis(400), race).await;
    assert!(
        dropped.is_err(),
        "the race cannot finish: both addresses hang"
    );
    assert_eq!(
        open_fds(),
        baseline,
        "dropping the connect future closed its sockets"
    );

    // Won by IPv4: the hanging IPv6 attempt is closed as soon as the race is decided, so
    // the only new descriptor is the returned stream.
    let (stream, report) = connector.connect_with_report((NAME, mixed.port)).await;
    let stream = stream.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), mixed.addr(V4));
    assert_eq!(report.unwrap().attempts().len(), 2);
    assert_eq!(open_fds(), baseline + 1, "only the winner is open");
    drop(stream);
    assert_eq!(open_fds(), baseline);

    // A failed race (deadline) closes everything too.
    let timed = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .config(Config::default().timeout(Some(Duration::from_millis(300))))
        .build()
        .unwrap();
    assert!(timed.connect((NAME, hang.port)).await.is_err());
    assert_eq!(open_fds(), baseline);
    drop((hang, mixed));
}
