//! Today's core against the RFC 8305-only core of commit 266a16b, paired in one process.
//!
//! Run: `cargo bench -p eyeballs-core --bench paired` (optionally a filter: `-- walk`).
//!
//! Each race is run by both cores on the same inputs, in rounds that alternate which core
//! goes first; a round times a batch of races of each core. The figure is the median of the
//! per-round ratios (today / 266a16b), which the VM's drift between processes (up to 2x)
//! does not move, unlike the absolute times printed beside it. Issue 18's bounds: the
//! 2-address race at most 1.10x, the walks at most 1.25x.
//!
//! The baseline is a frozen copy of that commit's core in `benches/baseline/` (a path
//! dev-dependency, dropped when the crate is published; so is this file).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::print_stdout
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core as new;
use eyeballs_core_266a16b as old;

/// `n` IPv6 (2001:db8::/32) and `n` IPv4 (198.18.0.0/15, RFC 2544) addresses.
fn addrs(n: u32) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let v6 = (0..n)
        .map(|i| {
            let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (i >> 16) as u16, i as u16);
            IpAddr::V6(ip)
        })
        .collect();
    let v4 = (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i)))
        .collect();
    (v6, v4)
}

fn two() -> [SocketAddr; 2] {
    [
        SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            443,
        ),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 443),
    ]
}

fn one() -> [SocketAddr; 1] {
    [SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        443,
    )]
}

/// The driver of both cores, written once: the two APIs differ only in names.
macro_rules! races {
    ($side:ident, $core:ident, $host:expr, $winner:ident) => {
        pub(super) mod $side {
            use super::*;
            use ::$core::{Action, AttemptId, Config, Input, QueryId, Race, Target};

            /// The two-address race users see most: IPv6 hangs, IPv4 starts after 250 ms
            /// and wins.
            #[inline(never)]
            pub(crate) fn two_address_race(t0: Instant) -> AttemptId {
                let target = Target::addrs(two());
                let mut race: Race<()> = Race::new(target, Config::default(), t0).unwrap();
                while race.poll_action().is_some() {}
                let t = race.poll_timeout().unwrap();
                race.handle_timeout(t);
                let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
                    unreachable!()
                };
                race.handle_input(Input::Connected { attempt }, t + Duration::from_millis(10));
                let mut winner = None;
                while let Some(action) = race.poll_action() {
                    if let Action::Finish(Ok(w)) = action {
                        winner = Some($winner(&w));
                    }
                }
                winner.unwrap()
            }

            /// A race over one given address (what every driver's `connect(SocketAddr)`
            /// builds): it connects at once and wins.
            #[inline(never)]
            pub(crate) fn one_address_race(t0: Instant) -> AttemptId {
                let target = Target::addrs(one());
                let mut race: Race<()> = Race::new(target, Config::default(), t0).unwrap();
                let Some(Action::Connect { attempt, .. }) = race.poll_action() else {
                    unreachable!()
                };
                while race.poll_action().is_some() {}
                race.handle_input(Input::Connected { attempt }, t0 + Duration::from_millis(1));
                let mut winner = None;
                while let Some(action) = race.poll_action() {
                    if let Action::Finish(Ok(w)) = action {
                        winner = Some($winner(&w));
                    }
                }
                winner.unwrap()
            }

            /// A host whose AAAA answer comes first and whose A answer arrives late (after
            /// `late_after` attempts); every attempt fails at once except the very last, so
            /// the whole list is walked (R11) with late merging (R8) and the 10 ms floor.
            #[inline(never)]
            pub(crate) fn walk_race(
                v6: Vec<IpAddr>,
                v4: Vec<IpAddr>,
                late_after: usize,
                t0: Instant,
            ) -> usize {
                let total = v6.len() + v4.len();
                let mut race: Race<()> = Race::new($host, Config::default(), t0).unwrap();
                while race.poll_action().is_some() {}
                let mut now = t0;
                let query = QueryId::from_index(0);
                race.handle_input(Input::Resolved { query, addrs: v6 }, now);
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
                                return started;
                            }
                            _ => {}
                        }
                    }
                    if started == late_after {
                        if let Some(v4) = late.take() {
                            let query = QueryId::from_index(1);
                            race.handle_input(Input::Resolved { query, addrs: v4 }, now);
                            continue;
                        }
                    }
                    now = race.poll_timeout().unwrap();
                    race.handle_timeout(now);
                }
            }
        }
    };
}

fn old_winner(w: &old::Winner) -> old::AttemptId {
    w.attempt
}

fn new_winner(w: &new::Winner) -> new::AttemptId {
    w.attempt()
}

mod sides {
    use super::*;
    races!(old, eyeballs_core_266a16b, Target::host(443), old_winner);
    races!(
        new,
        eyeballs_core,
        Target::host("example.test", 443),
        new_winner
    );
}

/// Times `iters` runs of `race`, each with its input made by `input`: untimed when it has
/// a cost (`each`: one clock reading per run), or with the whole batch on one reading.
fn batch<I>(
    iters: u32,
    each: bool,
    input: &mut impl FnMut() -> I,
    race: &mut impl FnMut(I),
) -> Duration {
    if !each {
        let start = Instant::now();
        for _ in 0..iters {
            race(input());
        }
        return start.elapsed();
    }
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let i = input();
        let start = Instant::now();
        race(i);
        total += start.elapsed();
    }
    total
}

/// With `PAIRED_ONLY=old` or `new`, runs only that core's races, `PAIRED_ITERS` times each
/// (default 10), untimed: for `valgrind --tool=callgrind
/// --toggle-collect='paired::sides::*'`, whose instruction counts do not drift.
fn only() -> Option<(bool, u32)> {
    let side = std::env::var("PAIRED_ONLY").ok()?;
    let iters = std::env::var("PAIRED_ITERS")
        .ok()
        .and_then(|n| n.parse().ok());
    Some((side == "old", iters.unwrap_or(10)))
}

/// Runs `rounds` rounds of `iters` races of each core, alternating which goes first, and
/// prints the medians.
fn paired<I>(
    name: &str,
    (rounds, iters, each): (usize, u32, bool),
    mut input: impl FnMut() -> I,
    mut old_race: impl FnMut(I),
    mut new_race: impl FnMut(I),
) {
    if let Some((old_side, iters)) = only() {
        for _ in 0..iters {
            let i = input();
            if old_side {
                old_race(i);
            } else {
                new_race(i);
            }
        }
        return;
    }
    // Warm-up: caches, branch predictors, the allocator's free lists.
    batch(iters, each, &mut input, &mut old_race);
    batch(iters, each, &mut input, &mut new_race);
    let mut olds = Vec::with_capacity(rounds);
    let mut news = Vec::with_capacity(rounds);
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (o, n) = if round % 2 == 0 {
            let o = batch(iters, each, &mut input, &mut old_race);
            (o, batch(iters, each, &mut input, &mut new_race))
        } else {
            let n = batch(iters, each, &mut input, &mut new_race);
            (batch(iters, each, &mut input, &mut old_race), n)
        };
        olds.push(o / iters);
        news.push(n / iters);
        ratios.push(n.as_secs_f64() / o.as_secs_f64());
    }
    olds.sort();
    news.sort();
    ratios.sort_by(f64::total_cmp);
    println!(
        "{name}: 266a16b {:?}, today {:?}, ratio median {:.3} (min {:.3}, max {:.3}; {rounds} rounds of {iters})",
        olds[rounds / 2],
        news[rounds / 2],
        ratios[rounds / 2],
        ratios[0],
        ratios[rounds - 1],
    );
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let t0 = Instant::now();

    let name = "race/1 address";
    if wanted(name) {
        paired(
            name,
            (41, 20_000, false),
            || t0,
            |t| {
                black_box(sides::old::one_address_race(black_box(t)));
            },
            |t| {
                black_box(sides::new::one_address_race(black_box(t)));
            },
        );
    }
    let name = "race/2 addresses";
    if wanted(name) {
        paired(
            name,
            (41, 20_000, false),
            || t0,
            |t| {
                black_box(sides::old::two_address_race(black_box(t)));
            },
            |t| {
                black_box(sides::new::two_address_race(black_box(t)));
            },
        );
    }
    for (n, rounds, iters) in [(32u32, 41, 1_000), (500, 21, 40), (5_000, 21, 3)] {
        let name = format!("race/walk/{} addresses, late A", 2 * n);
        if !wanted(&name) {
            continue;
        }
        let (v6, v4) = addrs(n);
        paired(
            &name,
            (rounds, iters, true),
            || (v6.clone(), v4.clone()),
            |(v6, v4)| {
                black_box(sides::old::walk_race(v6, v4, 3, t0));
            },
            |(v6, v4)| {
                black_box(sides::new::walk_race(v6, v4, 3, t0));
            },
        );
    }
}
