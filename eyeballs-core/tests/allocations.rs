//! How many heap allocations a race makes, counted by a per-thread counting allocator
//! (the `allocation-counter` dev-dependency), so that a regression fails CI (issue 18).
//!
//! The races are the benchmarks' (`benches/race.rs`): the 2-address race (IPv6 hangs, IPv4
//! starts after 250 ms and wins) and a walk of addresses with a late A answer. Counted:
//! everything the race's code allocates, the target's address vector included.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use eyeballs_core::{Action, Config, Input, QueryId, Race, Target};

fn two_address_target() -> Target {
    Target::addrs([
        SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            443,
        ),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 443),
    ])
}

fn two_address_race(t0: std::time::Instant) {
    let race: Race<()> = Race::new(two_address_target(), Config::default(), t0).expect("valid");
    run_two_address_race(race);
}

/// Runs the 2-address race from its start; returns it, finished.
fn run_two_address_race(mut race: Race<()>) -> Race<()> {
    while race.poll_action().is_some() {}
    let t = race.poll_timeout().expect("a deadline");
    race.handle_timeout(t);
    let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
        panic!("IPv4 starts")
    };
    race.handle_input(Input::Connected { attempt }, t + Duration::from_millis(10));
    while race.poll_action().is_some() {}
    assert!(race.result().is_some_and(|r| r.is_ok()));
    race
}

/// A host name whose AAAA answer holds `n` addresses and whose A answer, `n` more, comes
/// after three attempts; every attempt fails but the last.
fn walk(n: u32, t0: std::time::Instant) {
    let v6: Vec<IpAddr> = (0..n)
        .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16 + 1)))
        .collect();
    let v4: Vec<IpAddr> = (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i)))
        .collect();
    let total = 2 * n as usize;
    let mut race: Race<()> =
        Race::new(Target::host("example.test", 443), Config::default(), t0).expect("valid");
    while race.poll_action().is_some() {}
    let mut now = t0;
    race.handle_input(
        Input::Resolved {
            query: QueryId::from_index(0),
            addrs: v6,
        },
        now,
    );
    let mut late = Some(v4);
    let mut started = 0;
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Connect { attempt, .. } => {
                    started += 1;
                    let input = if started == total {
                        Input::Connected { attempt }
                    } else {
                        Input::ConnectFailed { attempt, error: () }
                    };
                    race.handle_input(input, now);
                }
                Action::Finish(result) => {
                    assert!(result.is_ok());
                    return;
                }
                _ => {}
            }
        }
        if started == 3 {
            if let Some(addrs) = late.take() {
                race.handle_input(
                    Input::Resolved {
                        query: QueryId::from_index(1),
                        addrs,
                    },
                    now,
                );
                continue;
            }
        }
        now = race.poll_timeout().expect("a deadline");
        race.handle_timeout(now);
    }
}

/// The 2-address race: the target's vector, and the race's own state.
#[test]
fn a_two_address_race_allocates_little() {
    #[allow(clippy::disallowed_methods)]
    let t0 = std::time::Instant::now();
    two_address_race(t0);
    let info = allocation_counter::measure(|| two_address_race(t0));
    // Issue 18's bound: the target's vector and the attempts' (the race keeps its endpoints,
    // actions and answers inline while they are few).
    assert!(
        info.count_total <= MAX_TWO_ADDRESS,
        "{} allocations a 2-address race (bound {MAX_TWO_ADDRESS})",
        info.count_total
    );
    assert_eq!(info.count_current, 0, "nothing left allocated");
}

/// A walk's allocations do not grow with its length: its buffers are made once and reused
/// by every rebuild.
#[test]
fn a_walk_allocates_a_bounded_number_of_buffers() {
    #[allow(clippy::disallowed_methods)]
    let t0 = std::time::Instant::now();
    let small = allocation_counter::measure(|| walk(32, t0)).count_total;
    let large = allocation_counter::measure(|| walk(2000, t0)).count_total;
    // Growth only from vectors that double: a logarithmic number of reallocations.
    assert!(
        large <= small + 48,
        "{small} allocations for 64 addresses, {large} for 4,000"
    );
}

const MAX_TWO_ADDRESS: u64 = 2;

/// A race started in the memory of a finished one (`Race::restart`, what the drivers do
/// with their last race) allocates nothing: its state's box and attempts' buffer are the old
/// race's.
#[test]
fn a_restarted_race_allocates_nothing() {
    #[allow(clippy::disallowed_methods)]
    let t0 = std::time::Instant::now();
    let first: Race<()> = Race::new(two_address_target(), Config::default(), t0).expect("valid");
    let mut race = Some(run_two_address_race(first));
    let info = allocation_counter::measure(|| {
        for _ in 0..10 {
            let previous = race.take().expect("a race");
            let next = previous
                .restart(two_address_target(), Config::default(), None, t0)
                .expect("valid");
            race = Some(run_two_address_race(next));
        }
    });
    assert_eq!(info.count_total, 0, "allocations in ten restarted races");
}
