//! A network namespace per test: addresses from the documentation prefixes on its loopback,
//! each with a behaviour the real kernel carries out (accept, refuse, ICMP unreachable,
//! silent drop, SYN held N ms), a DNS server at 127.0.0.1:53 and a resolv.conf that points
//! at it. The code under test runs inside with [`NetLab::command`] (`ip netns exec`, which
//! also mounts the namespace's resolv.conf).
//!
//! Needs root. A test asks [`root_or_skip`] first: without root it skips with one visible
//! line, or fails where `EYEBALLS_REQUIRE_ROOT` is set (CI), so a lab that did not run
//! cannot pass unseen. Everything is undone when the [`NetLab`] is dropped, also when a test
//! panics: the servers stop, the namespace (with its addresses and firewall rules) is
//! deleted, and its `/etc/netns` folder removed. Namespaces left by a killed run are swept
//! by the next one.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

use crate::dns::{DnsServer, Query, QueryLog, Zone};

/// What one address of the lab does with a connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A listener accepts.
    Accept,
    /// Nothing listens: the kernel answers with a TCP reset.
    Refuse,
    /// A firewall rejects with ICMP unreachable (the SYN first passes the NFQUEUE consumer,
    /// so the error arrives while the connecting socket is not locked: see the module docs).
    Unreachable,
    /// A firewall drops the SYN: the connect hangs.
    Drop,
    /// The SYN is held this long by the NFQUEUE consumer, then a listener accepts.
    Delay(Duration),
}

/// One namespace with its addresses, firewall rules, servers and resolv.conf.
#[derive(Debug)]
pub struct NetLab {
    name: String,
    stop: Arc<AtomicBool>,
    stop_dns: Option<tokio::sync::oneshot::Sender<()>>,
    /// The queries the DNS server received.
    dns_log: QueryLog,
    threads: Vec<JoinHandle<()>>,
    /// The listeners, kept open for the lab's life.
    listeners: Vec<TcpListener>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const PREFIX: &str = "eyeballs-lab-";

/// The variable that turns a lab test's skip (not root) into a failure; CI sets it.
pub const REQUIRE_ROOT: &str = "EYEBALLS_REQUIRE_ROOT";

/// Decides whether a test (or benchmark) that needs the lab runs: every such test calls it
/// first and returns at once when it gives `false`.
///
/// Returns `true` when this process runs as root. Otherwise it writes one line naming the
/// test to the process's stderr (directly, not through `eprintln!`, which libtest captures
/// and hides for a passing test) and returns `false`.
///
/// # Panics
///
/// When not root and [`REQUIRE_ROOT`] is set to anything but `""` or `0`: there (CI) a lab
/// test that skips is a failure, with a message that says why.
pub fn root_or_skip() -> bool {
    let require = std::env::var_os(REQUIRE_ROOT);
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_owned);
    let test = test.as_deref().unwrap_or("this test");
    match decide(nix::unistd::geteuid().is_root(), require.as_deref()) {
        Decision::Run => true,
        Decision::Skip => {
            // One write, so the line is not split by the test runner's own output.
            let line = format!(
                "skipped {test}: the network lab needs root (set {REQUIRE_ROOT}=1 to fail instead)\n"
            );
            let _ = io::stderr().write_all(line.as_bytes());
            false
        }
        Decision::Fail => panic!(
            "{test} needs root for the network lab, and {REQUIRE_ROOT} is set, so it may not \
             skip: run it as root, or unset {REQUIRE_ROOT}"
        ),
    }
}

/// What [`root_or_skip`] does.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Run,
    Skip,
    Fail,
}

fn decide(root: bool, require: Option<&OsStr>) -> Decision {
    let required = require.is_some_and(|v| !v.is_empty() && v != "0");
    match (root, required) {
        (true, _) => Decision::Run,
        (false, false) => Decision::Skip,
        (false, true) => Decision::Fail,
    }
}

impl NetLab {
    /// Builds a lab: each address (on the namespace's loopback) with its behaviour on
    /// `port`, and `zone` served by DNS at 127.0.0.1:53 inside.
    ///
    /// # Errors
    ///
    /// When a command (`ip`, `iptables`, `ip6tables`) fails or a server cannot start; what
    /// was already set up is undone.
    pub fn new(addrs: &[(IpAddr, Behaviour)], port: u16, zone: Zone) -> io::Result<NetLab> {
        sweep_stale();
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run("ip", &["netns", "add", &name])?;
        // From here on, dropping `lab` deletes the namespace, whatever fails next.
        let mut lab = NetLab {
            name,
            stop: Arc::new(AtomicBool::new(false)),
            stop_dns: None,
            dns_log: QueryLog::default(),
            threads: Vec::new(),
            listeners: Vec::new(),
        };
        lab.setup(addrs, port, zone)?;
        Ok(lab)
    }

    fn setup(&mut self, addrs: &[(IpAddr, Behaviour)], port: u16, zone: Zone) -> io::Result<()> {
        let name = self.name.clone();
        run("ip", &["-n", &name, "link", "set", "lo", "up"])?;
        let mut delays: BTreeMap<u16, Duration> = BTreeMap::new();
        for (ip, behaviour) in addrs {
            let (len, tables) = if ip.is_ipv6() {
                ("128", "ip6tables")
            } else {
                ("32", "iptables")
            };
            let cidr = format!("{ip}/{len}");
            let mut add = vec!["-n", &name, "addr", "add", &cidr, "dev", "lo"];
            if ip.is_ipv6() {
                add.push("nodad");
            }
            run("ip", &add)?;
            let dst = ip.to_string();
            let syn = ["-d", &dst, "-p", "tcp", "--syn"];
            match behaviour {
                Behaviour::Accept | Behaviour::Refuse => {}
                Behaviour::Drop => self.firewall(tables, "OUTPUT", &syn, &["-j", "DROP"])?,
                Behaviour::Unreachable => {
                    let queue = queue_for(&mut delays, Duration::ZERO);
                    self.firewall(tables, "OUTPUT", &syn, &nfqueue(&queue))?;
                    let reject = if ip.is_ipv6() {
                        "icmp6-addr-unreachable"
                    } else {
                        "icmp-host-unreachable"
                    };
                    let to = ["-d", &dst, "-p", "tcp"];
                    self.firewall(
                        tables,
                        "INPUT",
                        &to,
                        &["-j", "REJECT", "--reject-with", reject],
                    )?;
                }
                Behaviour::Delay(d) => {
                    let queue = queue_for(&mut delays, *d);
                    self.firewall(tables, "OUTPUT", &syn, &nfqueue(&queue))?;
                }
            }
        }
        fs::create_dir_all(format!("/etc/netns/{name}"))?;
        self.set_resolver_options("timeout:2 attempts:1")?;
        let listen: Vec<SocketAddr> = addrs
            .iter()
            .filter(|(_, b)| matches!(b, Behaviour::Accept | Behaviour::Delay(_)))
            .map(|(ip, _)| SocketAddr::new(*ip, port))
            .collect();
        self.start_servers(listen, zone)?;
        if !delays.is_empty() {
            self.start_nfqueue(delays)?;
        }
        Ok(())
    }

    /// Returns a command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `ip -n NAMESPACE args...`: an address or route of a test's own (a ULA source
    /// for a prefix, say). The namespace's deletion removes it.
    ///
    /// # Errors
    ///
    /// When `ip` fails.
    pub fn ip(&self, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Rewrites the namespace's resolv.conf (its name server is still the lab's DNS server)
    /// with these `options` instead of `timeout:2 attempts:1`: say `timeout:5 attempts:2`,
    /// glibc's defaults, for a resolver that waits as long as an unconfigured system's does.
    /// Commands started afterwards see it.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn set_resolver_options(&self, options: &str) -> io::Result<()> {
        fs::write(
            format!("/etc/netns/{}/resolv.conf", self.name),
            format!("nameserver 127.0.0.1\noptions {options}\n"),
        )
    }

    /// Runs `f` on a thread that entered the namespace and returns what it returns: sockets
    /// made there belong to the namespace (a socket belongs to the namespace of the thread
    /// that made it), so a test binds its own servers' listeners and UDP sockets with it (a
    /// TLS or QUIC server of `eyeballs_lab::tls`, started on them, serves inside).
    ///
    /// # Errors
    ///
    /// When the thread cannot enter the namespace, or `f` fails.
    pub fn in_namespace<T, F>(&self, f: F) -> io::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> io::Result<T> + Send + 'static,
    {
        let netns = self.netns_file()?;
        let thread = std::thread::spawn(move || {
            setns(&netns, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            f()
        });
        thread
            .join()
            .map_err(|_| io::Error::other("a thread in the lab's namespace panicked"))?
    }

    /// Drops every UDP datagram to `port` of `ip` (an iptables or ip6tables rule): QUIC
    /// to that address is blocked, its attempts hang, as on a network that filters UDP.
    ///
    /// # Errors
    ///
    /// When the rule cannot be added.
    pub fn drop_udp(&self, ip: IpAddr, port: u16) -> io::Result<()> {
        let tables = if ip.is_ipv6() {
            "ip6tables"
        } else {
            "iptables"
        };
        let (dst, port) = (ip.to_string(), port.to_string());
        let udp = ["-d", dst.as_str(), "-p", "udp", "--dport", port.as_str()];
        self.firewall(tables, "OUTPUT", &udp, &["-j", "DROP"])
    }

    /// Returns the queries the lab's DNS server received so far, in the order they arrived
    /// (the order their datagrams were sent: loopback delivers at once, in order).
    pub fn dns_queries(&self) -> Vec<Query> {
        self.dns_log.queries()
    }

    /// Returns the namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn firewall(
        &self,
        tables: &str,
        chain: &str,
        matches: &[&str],
        target: &[&str],
    ) -> io::Result<()> {
        let mut args = vec!["netns", "exec", &self.name, tables, "-w", "-A", chain];
        args.extend_from_slice(matches);
        args.extend_from_slice(target);
        run("ip", &args)
    }

    /// Listeners and the DNS server, made on a thread that entered the namespace (a socket
    /// belongs to the namespace of the thread that made it).
    fn start_servers(&mut self, listen: Vec<SocketAddr>, zone: Zone) -> io::Result<()> {
        let netns = self.netns_file()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        self.stop_dns = Some(stop_tx);
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let setup = || -> io::Result<(Vec<TcpListener>, tokio::runtime::Runtime)> {
                setns(&netns, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                let listeners = listen
                    .iter()
                    .map(TcpListener::bind)
                    .collect::<io::Result<Vec<_>>>()?;
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok((listeners, rt))
            };
            let (listeners, rt) = match setup() {
                Ok(ok) => ok,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let dns = DnsServer::start_at(SocketAddr::from(([127, 0, 0, 1], 53)), zone);
                let _ = ready_tx.send(Ok((listeners, dns.log.clone())));
                // Serves until the lab is dropped (or the sender is gone).
                let _ = stop_rx.await;
                drop(dns);
            });
        });
        self.threads.push(thread);
        let (listeners, log) = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the lab's server thread died"))??;
        self.listeners = listeners;
        self.dns_log = log;
        Ok(())
    }

    /// The NFQUEUE consumer: holds each queued SYN for its queue's delay, then accepts it.
    fn start_nfqueue(&mut self, delays: BTreeMap<u16, Duration>) -> io::Result<()> {
        let netns = self.netns_file()?;
        let stop = self.stop.clone();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let open = || -> io::Result<nfq::Queue> {
                setns(&netns, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                let mut queue = nfq::Queue::open()?;
                for num in delays.keys() {
                    queue.bind(*num)?;
                }
                queue.set_nonblocking(true);
                Ok(queue)
            };
            let mut queue = match open() {
                Ok(q) => {
                    let _ = ready_tx.send(Ok(()));
                    q
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut held: Vec<(Instant, nfq::Message)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match queue.recv() {
                    Ok(mut msg) => {
                        let delay = delays
                            .get(&msg.get_queue_num())
                            .copied()
                            .unwrap_or_default();
                        msg.set_verdict(nfq::Verdict::Accept);
                        held.push((Instant::now() + delay, msg));
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
                let now = Instant::now();
                let (due, later): (Vec<_>, Vec<_>) = held.drain(..).partition(|(t, _)| *t <= now);
                held = later;
                for (_, msg) in due {
                    let _ = queue.verdict(msg);
                }
                // netlink has no readiness hook in the nfq crate: poll every millisecond,
                // which bounds the added delay to about 1 ms.
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        self.threads.push(thread);
        ready_rx
            .recv()
            .map_err(|_| io::Error::other("the lab's NFQUEUE thread died"))?
    }

    fn netns_file(&self) -> io::Result<fs::File> {
        fs::File::open(format!("/run/netns/{}", self.name))
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(stop) = self.stop_dns.take() {
            let _ = stop.send(());
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        self.listeners.clear();
        let _ = run("ip", &["netns", "del", &self.name]);
        let _ = fs::remove_dir_all(format!("/etc/netns/{}", self.name));
    }
}

fn queue_for(delays: &mut BTreeMap<u16, Duration>, delay: Duration) -> String {
    let num = match delays.iter().find(|(_, d)| **d == delay) {
        Some((num, _)) => *num,
        None => {
            let num = u16::try_from(delays.len()).unwrap_or(u16::MAX);
            delays.insert(num, delay);
            num
        }
    };
    num.to_string()
}

fn nfqueue(queue: &str) -> [&str; 4] {
    ["-j", "NFQUEUE", "--queue-num", queue]
}

/// Runs a command and fails with its stderr if it fails.
fn run(program: &str, args: &[&str]) -> io::Result<()> {
    let out = Command::new(program).args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Deletes namespaces a killed run of the lab left behind (their process is gone).
fn sweep_stale() {
    let Ok(entries) = fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        let alive = fs::metadata(format!("/proc/{pid}")).is_ok();
        if !alive {
            let _ = run("ip", &["netns", "del", &name]);
            let _ = fs::remove_dir_all(format!("/etc/netns/{name}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decide, Decision};
    use std::ffi::OsStr;

    #[test]
    fn root_runs_whatever_the_variable() {
        for require in [None, Some(""), Some("0"), Some("1")] {
            assert_eq!(decide(true, require.map(OsStr::new)), Decision::Run);
        }
    }

    #[test]
    fn not_root_skips_unless_required() {
        for require in [None, Some(""), Some("0")] {
            assert_eq!(decide(false, require.map(OsStr::new)), Decision::Skip);
        }
        for require in ["1", "yes"] {
            assert_eq!(decide(false, Some(OsStr::new(require))), Decision::Fail);
        }
    }
}
