//! Resolver threads stay bounded when DNS hangs (issue 10, item 5): in a lab namespace whose
//! resolv.conf points at a DNS server that never answers the name, 200 connects by name,
//! one after another, each given up after 100 ms, on every runtime (tokio, async-std, smol,
//! blocking) with the system resolver. While lookups are still hung, the process may hold at
//! most the resolver pool's threads (`eyeballs_net::RESOLVER_THREADS`, each with the socket of
//! its `getaddrinfo`) beyond its baseline; once they have returned and the pool has idled
//! out, threads and descriptors must be back at the baseline.
//!
//! The connects and the counting run inside the namespace (its resolv.conf is mounted only
//! for processes started there), in a process of their own so that the counts of
//! `/proc/self` are the runtime's alone: this test binary runs itself again through
//! `ip netns exec`, once per runtime, with [`CHILD`] naming the runtime. That needs no
//! command-line flag users could see and no extra binary, and the parent keeps the lab.
//!
//! Needs root (CI runs as root); without it the test skips with one line, or fails where
//! `EYEBALLS_REQUIRE_ROOT` is set (`eyeballs_lab::netns::root_or_skip`). It takes about
//! 35 s: 20 s of connects, then up to 10 s for the hung lookups to time out, the four
//! runtimes at once. Print the numbers with `--nocapture`:
//!
//! ```sh
//! cargo test -p eyeballs-cli --test hung_dns -- --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use eyeballs_lab::dns::{Reply, Zone};
use eyeballs_lab::loopback::open_fds;
use eyeballs_lab::netns::{root_or_skip, NetLab};
use hickory_proto::rr::RecordType;

/// The variable that makes this binary the measuring child, naming the runtime.
const CHILD: &str = "EYEBALLS_HUNG_DNS_RUNTIME";
/// This test's name, for the child's `--exact`.
const TEST: &str = "hung_dns_leaves_threads_and_descriptors_at_baseline";
const RUNTIMES: [&str; 4] = ["tokio", "async-std", "smol", "blocking"];

const NAME: &str = "hung.lab.test";
/// Nothing listens here: the warm-up connect to 127.0.0.1 is refused at once.
const PORT: u16 = 8080;
const CONNECTS: usize = 200;
/// Each connect gives up after this long.
const CUT: Duration = Duration::from_millis(100);
/// glibc's defaults (what a system whose DNS server is down waits): a lookup gives up after
/// two tries of 5 s, so hung lookups outlast the 20 s of connects only by joining.
const RESOLVER_OPTIONS: &str = "timeout:5 attempts:2";
/// How long the counts may take to come back after the connects: the last hung lookup's
/// 10 s, the pool's idle second, and slack for a loaded machine.
const SETTLE: Duration = Duration::from_secs(30);
/// How long a child may take in all.
const CHILD_LIMIT: Duration = Duration::from_secs(120);

#[test]
fn hung_dns_leaves_threads_and_descriptors_at_baseline() {
    if let Ok(runtime) = std::env::var(CHILD) {
        println!("{}", child(&runtime));
        return;
    }
    if !root_or_skip() {
        return;
    }
    let zone = Zone::default()
        .set(NAME, RecordType::AAAA, Reply::Silent)
        .set(NAME, RecordType::A, Reply::Silent);
    let lab = NetLab::new(&[], PORT, zone).unwrap();
    lab.set_resolver_options(RESOLVER_OPTIONS).unwrap();
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();
    // All at once: each child's counts are its own process's.
    let children: Vec<(&str, Child)> = RUNTIMES
        .iter()
        .map(|&runtime| {
            let child = lab
                .command(exe)
                .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
                .env(CHILD, runtime)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (runtime, child)
        })
        .collect();
    let mut problems = Vec::new();
    for (runtime, child) in children {
        match report_of(child) {
            Ok(report) => {
                eprintln!("{runtime}: {}", report.summary());
                problems.extend(report.problems(runtime));
            }
            Err(e) => problems.push(format!("{runtime}: {e}")),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Waits (bounded) for a child and reads its report line.
fn report_of(mut child: Child) -> Result<Report, String> {
    let end = Instant::now() + CHILD_LIMIT;
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish in {CHILD_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest's "test NAME ... " may start the line.
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("hung-dns ").map(|(_, r)| r));
    let Some(line) = line else {
        return Err(format!(
            "no report ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    };
    Report::parse(line)
}

/// What a child measured, as `key=value` words.
struct Report(BTreeMap<String, u64>);

impl Report {
    fn parse(line: &str) -> Result<Report, String> {
        let mut values = BTreeMap::new();
        for word in line.split_whitespace() {
            let (key, value) = word
                .split_once('=')
                .ok_or(format!("not key=value: {word}"))?;
            let value = value.parse().map_err(|_| format!("not a number: {word}"))?;
            values.insert(key.to_string(), value);
        }
        Ok(Report(values))
    }

    fn get(&self, key: &str) -> u64 {
        self.0.get(key).copied().unwrap_or(u64::MAX)
    }

    fn summary(&self) -> String {
        format!(
            "threads {} (peak {}, {} after the connects) -> {} {} ms later; descriptors {} \
             (peak {}, {}) -> {}; {} connects in {} ms: {} timed out, {} failed, {} connected",
            self.get("base_threads"),
            self.get("peak_threads"),
            self.get("end_threads"),
            self.get("final_threads"),
            self.get("settle_ms"),
            self.get("base_fds"),
            self.get("peak_fds"),
            self.get("end_fds"),
            self.get("final_fds"),
            self.get("connects"),
            self.get("connect_ms"),
            self.get("timed_out"),
            self.get("failed"),
            self.get("connected"),
        )
    }

    fn problems(&self, runtime: &str) -> Vec<String> {
        let pool = eyeballs_net::RESOLVER_THREADS as u64;
        // The blocking driver races on a thread of its own, which keeps a poller (an epoll
        // and an eventfd) while it races and exits after.
        let (racer_threads, racer_fds) = if runtime == "blocking" {
            (1, 2)
        } else {
            (0, 0)
        };
        let mut problems = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                problems.push(format!("{runtime}: {what} ({})", self.summary()));
            }
        };
        let connects = CONNECTS as u64;
        // A connect that joins a lookup just as it gives up fails with it ("Temporary
        // failure in name resolution"): a few per 10 s. Every other one must time out.
        check(
            self.get("connects") == connects
                && self.get("connected") == 0
                && self.get("timed_out") >= connects * 9 / 10,
            "the connects must time out: the lookups must hang".into(),
        );
        check(
            self.get("peak_threads") <= self.get("base_threads") + racer_threads + pool,
            format!("more threads than the baseline and the pool's {pool} while DNS hung"),
        );
        check(
            self.get("peak_fds") <= self.get("base_fds") + racer_fds + pool,
            format!("more descriptors than the baseline and the pool's {pool} while DNS hung"),
        );
        check(
            self.get("final_threads") <= self.get("base_threads")
                && self.get("final_fds") <= self.get("base_fds"),
            format!("threads and descriptors not back at the baseline within {SETTLE:?}"),
        );
        problems
    }
}

/// The child: warms its runtime up, counts, connects, counts, waits for the counts to
/// come back, and returns its report line.
fn child(runtime: &str) -> String {
    match runtime {
        "tokio" => tokio_connects(),
        "async-std" => async_std_connects(),
        "smol" => smol_connects(),
        "blocking" => blocking_connects(),
        other => panic!("{CHILD}={other}: not a runtime"),
    }
}

/// A process's threads and open descriptors.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    threads: u64,
    fds: u64,
}

fn counts() -> Counts {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(u64::MAX);
    Counts {
        threads,
        fds: open_fds() as u64,
    }
}

/// Counts around the connects of one runtime.
struct Meter {
    base: Counts,
    peak: Counts,
    connects: u64,
    timed_out: u64,
    failed: u64,
    connected: u64,
    started: Instant,
}

impl Meter {
    /// Takes the baseline: call it after the warm-up.
    fn new() -> Meter {
        let base = counts();
        Meter {
            base,
            peak: base,
            connects: 0,
            timed_out: 0,
            failed: 0,
            connected: 0,
            started: Instant::now(),
        }
    }

    fn record<T>(&mut self, result: io::Result<T>) {
        self.connects += 1;
        match result {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => self.timed_out += 1,
            Err(_) => self.failed += 1,
            Ok(_) => self.connected += 1,
        }
        let now = counts();
        self.peak.threads = self.peak.threads.max(now.threads);
        self.peak.fds = self.peak.fds.max(now.fds);
    }

    /// Waits (bounded) for the counts to come back to the baseline; returns the report.
    fn finish(self) -> String {
        let connect_ms = self.started.elapsed().as_millis();
        let end = counts();
        let waited = Instant::now();
        let mut now = end;
        while (now.threads > self.base.threads || now.fds > self.base.fds)
            && waited.elapsed() < SETTLE
        {
            std::thread::sleep(Duration::from_millis(50));
            now = counts();
        }
        format!(
            "hung-dns connects={} timed_out={} failed={} connected={} connect_ms={connect_ms} \
             base_threads={} \
             base_fds={} peak_threads={} peak_fds={} end_threads={} end_fds={} settle_ms={} \
             final_threads={} final_fds={}",
            self.connects,
            self.timed_out,
            self.failed,
            self.connected,
            self.base.threads,
            self.base.fds,
            self.peak.threads,
            self.peak.fds,
            end.threads,
            end.fds,
            waited.elapsed().as_millis(),
            now.threads,
            now.fds,
        )
    }
}

fn timed_out<T>(_: T) -> io::Error {
    io::Error::from(io::ErrorKind::TimedOut)
}

/// Half the connects end by the connector's deadline (`connect_timeout`), half by the
/// runtime dropping the connect future.
fn by_deadline(i: usize) -> bool {
    i.is_multiple_of(2)
}

fn tokio_connects() -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let connector = eyeballs_tokio::Connector::builder().build().unwrap();
    rt.block_on(async {
        let warm = connector.connect_timeout(("127.0.0.1", PORT), SETTLE).await;
        assert!(warm.is_err(), "nothing listens on {PORT}");
        let mut meter = Meter::new();
        for i in 0..CONNECTS {
            let result = if by_deadline(i) {
                connector.connect_timeout((NAME, PORT), CUT).await
            } else {
                tokio::time::timeout(CUT, connector.connect((NAME, PORT)))
                    .await
                    .unwrap_or_else(|e| Err(timed_out(e)))
            };
            meter.record(result);
        }
        meter
    })
    .finish()
}

fn async_std_connects() -> String {
    let connector = eyeballs_async_std::Connector::builder().build().unwrap();
    async_std::task::block_on(async {
        let warm = connector.connect_timeout(("127.0.0.1", PORT), SETTLE).await;
        assert!(warm.is_err(), "nothing listens on {PORT}");
        let mut meter = Meter::new();
        for i in 0..CONNECTS {
            let result = if by_deadline(i) {
                connector.connect_timeout((NAME, PORT), CUT).await
            } else {
                async_std::future::timeout(CUT, connector.connect((NAME, PORT)))
                    .await
                    .unwrap_or_else(|e| Err(timed_out(e)))
            };
            meter.record(result);
        }
        meter
    })
    .finish()
}

fn smol_connects() -> String {
    let connector = eyeballs_async_std::Connector::builder().build().unwrap();
    smol::block_on(async {
        let warm = connector.connect_timeout(("127.0.0.1", PORT), SETTLE).await;
        assert!(warm.is_err(), "nothing listens on {PORT}");
        let mut meter = Meter::new();
        for i in 0..CONNECTS {
            let result = if by_deadline(i) {
                connector.connect_timeout((NAME, PORT), CUT).await
            } else {
                let cut = async {
                    smol::Timer::after(CUT).await;
                    Err(timed_out(()))
                };
                smol::future::or(connector.connect((NAME, PORT)), cut).await
            };
            meter.record(result);
        }
        meter
    })
    .finish()
}

fn blocking_connects() -> String {
    let connector = eyeballs_blocking::Connector::builder().build().unwrap();
    let mut meter = Meter::new();
    // On a thread of its own, whose poller goes with it: the counts can come back exactly.
    let racer = std::thread::spawn(move || {
        for _ in 0..CONNECTS {
            meter.record(connector.connect_timeout((NAME, PORT), CUT));
        }
        meter
    });
    racer.join().unwrap().finish()
}
