//! The soak test: every driver (tokio, async-std, smol, blocking) runs many races against
//! loopback servers that accept, refuse, hang or accept slowly, with DNS that answers at
//! once, late, or never; a third of the connects are abandoned at a random moment. After
//! each driver's races, open descriptors, threads and the servers' accepted-but-unclosed
//! connections must be back at their baseline, and the resident set must not have grown
//! from the first half of the races to the second.
//!
//! Ignored by default (100,000 races per driver take minutes). Run it with
//!
//! ```sh
//! cargo test --release -p eyeballs-cli --test soak -- --ignored --nocapture
//! EYEBALLS_SOAK_RACES=2000 cargo test -p eyeballs-cli --test soak -- --ignored  # CI's form
//! ```
//!
//! One test in this binary, so that the process-wide counts are the soak's alone.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eyeballs_core::{Config, QueryKind};
use eyeballs_lab::loopback::open_fds;
use eyeballs_lab::servers::{Serve, Servers};

/// Races in flight at once (tasks, or threads for the blocking driver).
const CONCURRENCY: usize = 128;
/// Every race ends by this deadline: DNS that never answers cannot hold one up.
const RACE_TIMEOUT: Duration = Duration::from_millis(120);
/// How long the counts may take to settle after the races (pool threads idle out in 1 s).
const SETTLE: Duration = Duration::from_secs(10);
/// How much the resident set may grow from the end of the first half to the end of the
/// second. At 100,000 races the second half is 50,000 races, so 2 MiB is 42 bytes a race:
/// anything a race could leak (a socket's buffers, a boxed connect future, a report) is
/// larger. What moves without a leak is the allocator's caches and the history (a few
/// addresses): 0-224 KiB in the runs of BENCHMARKS.md. At CI's 2,000 races only large leaks
/// (2 KiB a race) show.
const RSS_SLACK_KIB: u64 = 2048;

#[test]
#[ignore = "minutes long; CI runs a short form with EYEBALLS_SOAK_RACES"]
fn soak() {
    let races: u64 = std::env::var("EYEBALLS_SOAK_RACES")
        .ok()
        .map(|v| v.parse().expect("EYEBALLS_SOAK_RACES is a number"))
        .unwrap_or(100_000);
    let servers = Servers::new(&PAIRS.map(|(v6, v4, _)| (v6, v4))).unwrap();
    let mut failures = Vec::new();
    for driver in [
        Driver::Tokio,
        Driver::AsyncStd,
        Driver::Smol,
        Driver::Blocking,
    ] {
        let result = soak_one(driver, races, &servers);
        println!("{result}");
        failures.extend(result.problems());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The servers: each pair's `::1` and `127.0.0.1` behaviour, and whether a race to it
/// with DNS that answers both families, not cut short, must connect.
const PAIRS: [(Serve, Serve, bool); 16] = {
    use Serve::{Accept as A, Hang as H, Refuse as R};
    const S: Serve = Serve::SlowAccept(Duration::from_millis(20));
    [
        (A, A, true),
        (A, R, true),
        (A, H, true),
        (A, S, true),
        (R, A, true),
        (R, R, false),
        (R, H, false),
        (R, S, false),
        (H, A, true),
        (H, R, false),
        (H, H, false),
        (H, S, false),
        (S, A, false),
        (S, R, false),
        (S, H, false),
        (S, S, false),
    ]
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    Tokio,
    AsyncStd,
    Smol,
    Blocking,
}

/// What one race does, a function of its number.
#[derive(Debug, Clone, Copy)]
struct Plan {
    pair: usize,
    name: &'static str,
    /// Abandon the connect after this long (the blocking driver: its deadline).
    cut: Option<Duration>,
}

/// Names and what their DNS does: `(name, AAAA, A)`. Every name has `::1` and `127.0.0.1`.
const NAMES: [(&str, Dns, Dns); 5] = [
    ("fast.soak.test", Dns::Now, Dns::Now),
    ("slow10.soak.test", Dns::Late(10), Dns::Late(10)),
    ("slow30.soak.test", Dns::Late(30), Dns::Late(30)),
    ("hang.soak.test", Dns::Hang, Dns::Hang),
    ("hang6.soak.test", Dns::Hang, Dns::Now),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dns {
    Now,
    Late(u64),
    Hang,
}

fn plan(race: u64) -> Plan {
    let mut r = SplitMix(race);
    let pair = (r.next() % PAIRS.len() as u64) as usize;
    // 40% fast, 15% each of the others.
    let name = match r.next() % 20 {
        0..=7 => 0,
        8..=10 => 1,
        11..=13 => 2,
        14..=16 => 3,
        _ => 4,
    };
    let cut = r
        .next()
        .is_multiple_of(3)
        .then(|| Duration::from_micros(1 + r.next() % 60_000));
    Plan {
        pair,
        name: NAMES[name].0,
        cut,
    }
}

/// Whether a race with this plan must connect: a server that answers at once on the family
/// the race tries first or soon after, DNS that answers both families, and no cut.
fn must_connect(plan: &Plan) -> bool {
    let answers_both = NAMES
        .iter()
        .any(|(n, aaaa, a)| *n == plan.name && *aaaa != Dns::Hang && *a != Dns::Hang);
    PAIRS[plan.pair].2 && answers_both && plan.cut.is_none()
}

/// splitmix64: a few lines of deterministic randomness, so a failing race can be replayed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Connected,
    Failed,
    Cut,
}

/// What the races of one half did.
#[derive(Default)]
struct Tally {
    outcomes: Mutex<BTreeMap<Outcome, u64>>,
    /// Races that had to connect and did not, with their number and error.
    missed: Mutex<Vec<(u64, String)>>,
    next: AtomicU64,
}

impl Tally {
    fn record(&self, race: u64, plan: &Plan, result: Result<(), io::Error>, cut: bool) {
        let outcome = match (&result, cut) {
            (_, true) => Outcome::Cut,
            (Ok(()), _) => Outcome::Connected,
            (Err(_), _) => Outcome::Failed,
        };
        *lock(&self.outcomes).entry(outcome).or_default() += 1;
        if must_connect(plan) && outcome != Outcome::Connected {
            let mut missed = lock(&self.missed);
            if missed.len() < 20 {
                missed.push((race, format!("{plan:?}: {result:?}")));
            }
        }
    }

    /// Returns the next race number below `end`, or `None`.
    fn take(&self, end: u64) -> Option<u64> {
        self.next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < end).then_some(n + 1)
            })
            .ok()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The counts that must come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    fds: usize,
    threads: usize,
    open: usize,
}

fn counts(servers: &Servers) -> Counts {
    Counts {
        fds: open_fds(),
        threads: status("Threads:").unwrap_or(0) as usize,
        open: servers.open(),
    }
}

/// Reads a number from `/proc/self/status` (`Threads:`, `VmRSS:` in KiB).
fn status(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// The process's user and system CPU time, from `/proc/self/stat` (in clock ticks, which
/// are 1/100 s on Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses: utime and stime are the
    // 12th and 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks.saturating_mul(10))
}

fn resolver_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.trim_end() == "eyeballs-dns")
        })
        .count()
}

/// The connections waiting in the accept queues of the listeners that accept (not the hung
/// ones, whose queues stay full) of the pairs on `ports`, read from `/proc/net/tcp6` and
/// `/proc/net/tcp`: a listening socket's `rx_queue` column is its accept queue's length.
/// `None` if a table cannot be read or a listener is missing from it.
fn accept_queues(ports: &[u16]) -> Option<u64> {
    let mut total = 0;
    for (table, v6) in [("/proc/net/tcp6", true), ("/proc/net/tcp", false)] {
        let text = std::fs::read_to_string(table).ok()?;
        for (pair, &port) in PAIRS.iter().zip(ports) {
            let serve = if v6 { pair.0 } else { pair.1 };
            if matches!(serve, Serve::Hang | Serve::Refuse) {
                continue;
            }
            total += text.lines().skip(1).find_map(|line| {
                // sl local_address rem_address st tx_queue:rx_queue ...
                let fields: Vec<&str> = line.split_whitespace().collect();
                let local_port = fields.get(1)?.rsplit_once(':')?.1;
                let listening = fields.get(3) == Some(&"0A");
                (listening && u16::from_str_radix(local_port, 16).ok()? == port)
                    .then(|| u64::from_str_radix(fields.get(4)?.split_once(':')?.1, 16).ok())
                    .flatten()
            })?;
        }
    }
    Some(total)
}

/// Waits until `done`, for at most `limit`; returns whether it happened.
fn settle(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct SoakResult {
    driver: Driver,
    races: u64,
    elapsed: Duration,
    outcomes: BTreeMap<Outcome, u64>,
    missed: Vec<(u64, String)>,
    baseline: Counts,
    after: Counts,
    settled: bool,
    /// Resident set after the warm-up, the first half and the second half (KiB).
    rss: [u64; 3],
    /// The process's CPU time (user + system) during the races.
    cpu: Duration,
}

impl SoakResult {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let d = self.driver;
        if !self.settled {
            problems.push(format!(
                "{d:?}: counts did not return to the baseline in {SETTLE:?}: {:?} -> {:?}",
                self.baseline, self.after
            ));
        }
        if self.rss[2] > self.rss[1] + RSS_SLACK_KIB {
            problems.push(format!(
                "{d:?}: resident set grew from {} KiB to {} KiB between the halves",
                self.rss[1], self.rss[2]
            ));
        }
        for (race, why) in &self.missed {
            problems.push(format!("{d:?}: race {race} had to connect: {why}"));
        }
        if self.outcomes.values().sum::<u64>() != self.races {
            problems.push(format!("{d:?}: not every race ended: {:?}", self.outcomes));
        }
        problems
    }
}

impl std::fmt::Display for SoakResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = self.races as f64 / self.elapsed.as_secs_f64();
        let delta = |a: usize, b: usize| b as i64 - a as i64;
        write!(
            f,
            "{:?}: {} races in {:.1} s ({rate:.0} races/s, CPU {:.1} s), {:?}; fds {} -> {} ({:+}), threads {} -> {} ({:+}), server connections open {} -> {}; RSS KiB warm {} / half {} / end {} ({:+})",
            self.driver,
            self.races,
            self.elapsed.as_secs_f64(),
            self.cpu.as_secs_f64(),
            self.outcomes,
            self.baseline.fds,
            self.after.fds,
            delta(self.baseline.fds, self.after.fds),
            self.baseline.threads,
            self.after.threads,
            delta(self.baseline.threads, self.after.threads),
            self.baseline.open,
            self.after.open,
            self.rss[0],
            self.rss[1],
            self.rss[2],
            self.rss[2] as i64 - self.rss[1] as i64,
        )
    }
}

/// Runs one driver's races: a warm-up (so that runtime threads and per-thread pollers
/// exist), the baseline, two halves, then the hung lookups are released and the counts
/// must settle back.
fn soak_one(driver: Driver, races: u64, servers: &Servers) -> SoakResult {
    let gate = Arc::new(Gate::default());
    let runner = Runner::new(driver, servers, gate.clone());
    // The warm-up uses fast DNS only: nothing hangs before the baseline.
    runner.run(&Arc::default(), 256, true);
    // A slow listener accepts one connection per 20 ms, so connections the warm-up made (and
    // already closed) can wait in its accept queue after `open` read 0; one accepted between the
    // baseline's reads would count in `open` but not in `fds`. The baseline waits for every
    // accepting listener's queue to be empty as well.
    let ports: Vec<u16> = (0..PAIRS.len()).map(|i| servers.port(i)).collect();
    assert!(
        settle(SETTLE, || resolver_threads() == 0
            && servers.open() == 0
            && accept_queues(&ports) == Some(0)),
        "{driver:?}: the warm-up did not settle"
    );
    let baseline = counts(servers);
    let rss0 = status("VmRSS:").unwrap_or(0);
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let cpu0 = cpu_time();
    runner.run(&tally, races / 2, false);
    let rss1 = status("VmRSS:").unwrap_or(0);
    runner.run(&tally, races, false);
    let elapsed = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    let rss2 = status("VmRSS:").unwrap_or(0);
    // With the runtime still up: only what the races left behind may differ.
    gate.open();
    let mut after = counts(servers);
    let settled = settle(SETTLE, || {
        after = counts(servers);
        after == baseline
    });
    drop(runner);
    let outcomes = lock(&tally.outcomes).clone();
    let missed = lock(&tally.missed).clone();
    SoakResult {
        driver,
        races,
        elapsed,
        outcomes,
        missed,
        baseline,
        after,
        settled,
        rss: [rss0, rss1, rss2],
        cpu,
    }
}

/// One driver with its runtime, its connector and the soak's resolver.
struct Runner {
    driver: Driver,
    /// The port of each pair of [`PAIRS`].
    ports: [u16; PAIRS.len()],
    tokio: Option<tokio::runtime::Runtime>,
    tokio_connector: eyeballs_tokio::Connector,
    async_io_connector: eyeballs_async_std::Connector,
    blocking_connector: eyeballs_blocking::Connector,
}

fn config() -> Config {
    Config::default()
        .connection_attempt_delay(Duration::from_millis(25))
        .timeout(Some(RACE_TIMEOUT))
}

impl Runner {
    fn new(driver: Driver, servers: &Servers, gate: Arc<Gate>) -> Runner {
        let tokio = (driver == Driver::Tokio).then(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        });
        let tokio_dns = AsyncDns {
            gate: gate.clone(),
            sleep: |d| Box::pin(tokio::time::sleep(d)),
        };
        let async_io_dns = AsyncDns {
            gate: gate.clone(),
            sleep: |d| {
                Box::pin(async move {
                    smol::Timer::after(d).await;
                })
            },
        };
        Runner {
            driver,
            ports: std::array::from_fn(|i| servers.port(i)),
            tokio,
            tokio_connector: eyeballs_tokio::Connector::builder()
                .resolver(tokio_dns)
                .config(config())
                .build()
                .unwrap(),
            async_io_connector: eyeballs_async_std::Connector::builder()
                .resolver(async_io_dns)
                .config(config())
                .build()
                .unwrap(),
            blocking_connector: eyeballs_blocking::Connector::builder()
                .resolver(BlockingDns(Arc::new(Lookups { gate })))
                .config(config())
                .build()
                .unwrap(),
        }
    }

    /// Runs races up to number `end` (from where `tally` stands), `CONCURRENCY` at a time.
    /// A warm-up uses the fast name only and cuts nothing.
    fn run(&self, tally: &Arc<Tally>, end: u64, warm_up: bool) {
        let ports = self.ports;
        let job = Job {
            ports,
            end,
            warm_up,
        };
        match self.driver {
            Driver::Tokio => {
                let Some(rt) = &self.tokio else {
                    unreachable!("a tokio runner has its runtime")
                };
                rt.block_on(async {
                    let mut set = tokio::task::JoinSet::new();
                    for _ in 0..CONCURRENCY {
                        let c = self.tokio_connector.clone();
                        let tally = tally.clone();
                        set.spawn(async move {
                            while let Some((race, p, target)) = job.next(&tally) {
                                let (result, cut) = match p.cut {
                                    Some(cut) => {
                                        match tokio::time::timeout(cut, c.connect(target)).await {
                                            Ok(r) => (r.map(drop), false),
                                            Err(_) => (Ok(()), true),
                                        }
                                    }
                                    None => (c.connect(target).await.map(drop), false),
                                };
                                tally.record(race, &p, result, cut);
                            }
                        });
                    }
                    while let Some(r) = set.join_next().await {
                        r.unwrap();
                    }
                })
            }
            Driver::AsyncStd => async_std::task::block_on(async {
                let tasks: Vec<_> = (0..CONCURRENCY)
                    .map(|_| {
                        let c = self.async_io_connector.clone();
                        async_std::task::spawn(async_worker(c, tally.clone(), job))
                    })
                    .collect();
                for t in tasks {
                    t.await;
                }
            }),
            Driver::Smol => {
                let ex = smol::LocalExecutor::new();
                smol::block_on(ex.run(async {
                    let tasks: Vec<_> = (0..CONCURRENCY)
                        .map(|_| {
                            let c = self.async_io_connector.clone();
                            ex.spawn(async_worker(c, tally.clone(), job))
                        })
                        .collect();
                    for t in tasks {
                        t.await;
                    }
                }))
            }
            Driver::Blocking => std::thread::scope(|s| {
                for _ in 0..CONCURRENCY {
                    s.spawn(|| {
                        let c = &self.blocking_connector;
                        while let Some((race, p, target)) = job.next(tally) {
                            // A blocking connect cannot be dropped: a cut race is one with
                            // that deadline instead.
                            let result = match p.cut {
                                Some(cut) => c.connect_timeout(target, cut),
                                None => c.connect(target),
                            };
                            let cut = p.cut.is_some()
                                && matches!(&result, Err(e) if e.kind() == io::ErrorKind::TimedOut);
                            tally.record(race, &p, result.map(drop), cut);
                        }
                    });
                }
            }),
        }
    }
}

/// Which races a worker runs.
#[derive(Clone, Copy)]
struct Job {
    ports: [u16; PAIRS.len()],
    end: u64,
    warm_up: bool,
}

impl Job {
    /// Returns the next race: its number, plan and target.
    fn next(&self, tally: &Tally) -> Option<(u64, Plan, (&'static str, u16))> {
        let race = tally.take(self.end)?;
        let mut p = plan(race);
        if self.warm_up {
            p.name = NAMES[0].0;
            p.cut = None;
        }
        Some((race, p, (p.name, self.ports[p.pair])))
    }
}

/// A worker on async-io (async-std, smol): a cut race loses to a timer and is dropped.
async fn async_worker(c: eyeballs_async_std::Connector, tally: Arc<Tally>, job: Job) {
    while let Some((race, p, target)) = job.next(&tally) {
        let connect = async { Some(c.connect(target).await.map(drop)) };
        let (result, cut) = match p.cut {
            Some(cut) => {
                let timer = async {
                    smol::Timer::after(cut).await;
                    None
                };
                match smol::future::or(connect, timer).await {
                    Some(r) => (r, false),
                    None => (Ok(()), true),
                }
            }
            None => (connect.await.unwrap_or(Ok(())), false),
        };
        tally.record(race, &p, result, cut);
    }
}

/// Hung DNS lookups wait on it; the soak opens it at its end, so that a blocking resolver
/// thread held by a hung lookup comes back.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    opened: Condvar,
}

#[derive(Default)]
struct GateState {
    open: bool,
    /// The wakers of async waits, by wait; a dropped wait takes its own out.
    wakers: BTreeMap<u64, Waker>,
    next: u64,
}

impl Gate {
    fn open(&self) {
        let wakers = {
            let mut state = lock(&self.state);
            state.open = true;
            std::mem::take(&mut state.wakers)
        };
        self.opened.notify_all();
        wakers.into_values().for_each(Waker::wake);
    }

    fn wait_blocking(&self) {
        let mut state = lock(&self.state);
        while !state.open {
            state = self.opened.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// An async wait for the gate.
struct GateWait {
    gate: Arc<Gate>,
    id: Option<u64>,
}

impl Future for GateWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.gate.state);
        if state.open {
            return Poll::Ready(());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                state.next += 1;
                state.next
            }
        };
        state.wakers.insert(id, cx.waker().clone());
        drop(state);
        self.id = Some(id);
        Poll::Pending
    }
}

impl Drop for GateWait {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            lock(&self.gate.state).wakers.remove(&id);
        }
    }
}

fn answer(name: &str, kind: QueryKind) -> (Dns, io::Result<Vec<IpAddr>>) {
    let Some((_, aaaa, a)) = NAMES.iter().find(|(n, ..)| *n == name) else {
        return (
            Dns::Now,
            Err(io::Error::new(io::ErrorKind::NotFound, "not a soak name")),
        );
    };
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    match kind {
        QueryKind::Aaaa => (*aaaa, Ok(vec![v6])),
        QueryKind::A => (*a, Ok(vec![v4])),
        _ => (*aaaa, Ok(vec![v6, v4])),
    }
}

/// The soak's DNS for the async drivers: late answers on the runtime's timer, hung ones on
/// the gate.
struct AsyncDns {
    gate: Arc<Gate>,
    sleep: fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl eyeballs_net::Resolve for AsyncDns {
    fn resolve(&self, name: &str, kind: QueryKind) -> eyeballs_net::Resolving {
        let (dns, result) = answer(name, kind);
        match dns {
            Dns::Now => Box::pin(std::future::ready(result)),
            Dns::Late(ms) => {
                let sleep = (self.sleep)(Duration::from_millis(ms));
                Box::pin(async move {
                    sleep.await;
                    result
                })
            }
            Dns::Hang => {
                let wait = GateWait {
                    gate: self.gate.clone(),
                    id: None,
                };
                Box::pin(async move {
                    wait.await;
                    Err(io::Error::other("the soak is over"))
                })
            }
        }
    }
}

/// The soak's DNS for the blocking driver: blocking lookups, on the resolver pool's
/// threads ([`eyeballs_net::on_pool`]).
struct BlockingDns(Arc<Lookups>);

struct Lookups {
    gate: Arc<Gate>,
}

impl eyeballs_net::Resolve for BlockingDns {
    fn resolve(&self, name: &str, kind: QueryKind) -> eyeballs_net::Resolving {
        eyeballs_net::on_pool(&self.0, name, kind, |lookups, name, kind| {
            lookups.lookup(name, kind)
        })
    }
}

impl Lookups {
    fn lookup(&self, name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
        let (dns, result) = answer(name, kind);
        match dns {
            Dns::Now => result,
            Dns::Late(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                result
            }
            Dns::Hang => {
                self.gate.wait_blocking();
                Err(io::Error::other("the soak is over"))
            }
        }
    }
}
