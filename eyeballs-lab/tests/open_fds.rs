//! The descriptor counts the benches check leaks with. One test in this binary: the counts
//! are the process's, so no other test may open or close anything meanwhile. Linux: the
//! counts read `/proc/self/fd`.
#![cfg(target_os = "linux")]

use std::time::Duration;

use eyeballs_lab::loopback::{open_fds_least, open_fds_settled};

/// A descriptor kept open is seen by both readings; closed, it is gone from them.
#[test]
fn settled_and_least_counts_see_a_kept_descriptor_and_not_a_closed_one() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let with = open_fds_least(Duration::from_millis(5));
    drop(listener);
    let without = open_fds_least(Duration::from_millis(5));
    assert_eq!(without + 1, with);
    let kept = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    // Never back to the baseline while it is open: the reading at the deadline.
    assert_eq!(
        open_fds_settled(without, Duration::from_millis(5)),
        without + 1
    );
    drop(kept);
    assert_eq!(open_fds_settled(without, Duration::from_secs(1)), without);
}
