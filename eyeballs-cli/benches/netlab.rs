//! Time-to-connect per network-lab scenario: every eyeballs driver against hyper-util's
//! `HttpConnector` (default settings) and plain `tokio::net::TcpStream::connect`.
//!
//! Run as root: `cargo bench -p eyeballs-cli --bench netlab`. It prints a Markdown table of
//! medians (5 connects each; a connect that takes over 10 s counts as "> 10 s"). Each
//! scenario gets its own network namespace (eyeballs-lab); the clients run inside it, by
//! this binary re-executing itself through `ip netns exec`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use eyeballs_lab::dns::{Reply, Zone};
use eyeballs_lab::netns::{root_or_skip, Behaviour, NetLab};
use hickory_proto::rr::RecordType;

const PORT: u16 = 8080;
const NAME: &str = "www.lab.test";
const REPS: usize = 5;
const CAP: Duration = Duration::from_secs(10);
const CLIENTS: [&str; 7] = [
    "eyeballs-tokio",
    "eyeballs-tokio+hickory",
    "eyeballs-async-std (smol)",
    "eyeballs-blocking",
    "hyper-util HttpConnector",
    "tokio TcpStream::connect",
    "std TcpStream::connect",
];

/// A name, each address with its behaviour, the DNS zone, and what else the namespace needs.
type Scenario = (
    &'static str,
    Vec<(&'static str, Behaviour)>,
    Zone,
    fn(&NetLab),
);

/// Nothing more.
fn plain(_: &NetLab) {}

/// [`ula_only`], and SYNs to the IPv6 destination dropped (it hangs, as a broken path does).
fn ula_drop(lab: &NetLab) {
    ula_only(lab);
    let dropped = lab
        .command("ip6tables")
        .args([
            "-w",
            "-A",
            "OUTPUT",
            "-d",
            "2001:db8:1::1",
            "-p",
            "tcp",
            "--syn",
            "-j",
            "DROP",
        ])
        .status()
        .unwrap();
    assert!(dropped.success(), "ip6tables: {dropped}");
}

/// The namespace's only IPv6 source for 2001:db8:1::/64 is the ULA fd00::1 (a local route
/// with that source hint).
fn ula_only(lab: &NetLab) {
    lab.ip(&["addr", "add", "fd00::1/128", "dev", "lo", "nodad"])
        .unwrap();
    lab.ip(&[
        "-6",
        "route",
        "add",
        "local",
        "2001:db8:1::/64",
        "dev",
        "lo",
        "src",
        "fd00::1",
        "table",
        "local",
    ])
    .unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--client") {
        client(&args[i + 1]);
        return;
    }
    if !root_or_skip() {
        return;
    }
    let ms = Duration::from_millis;
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let v6 = "2001:db8::1";
    let v4 = "203.0.113.1";
    let dual = |aaaa: Duration, a: Duration| {
        Zone::default()
            .set(NAME, RecordType::AAAA, Reply::Addrs(aaaa, vec![ip(v6)]))
            .set(NAME, RecordType::A, Reply::Addrs(a, vec![ip(v4)]))
    };
    let scenarios: Vec<Scenario> = vec![
        (
            "healthy dual stack",
            vec![(v6, Behaviour::Accept), (v4, Behaviour::Accept)],
            dual(ms(0), ms(0)),
            plain,
        ),
        (
            "IPv6 dropped",
            vec![(v6, Behaviour::Drop), (v4, Behaviour::Accept)],
            dual(ms(0), ms(0)),
            plain,
        ),
        (
            "IPv6 refused",
            vec![(v6, Behaviour::Refuse), (v4, Behaviour::Accept)],
            dual(ms(0), ms(0)),
            plain,
        ),
        (
            "IPv6 unreachable",
            vec![(v6, Behaviour::Unreachable), (v4, Behaviour::Accept)],
            dual(ms(0), ms(0)),
            plain,
        ),
        (
            "IPv6 slow (SYN held 1 s)",
            vec![(v6, Behaviour::Delay(ms(1000))), (v4, Behaviour::Accept)],
            dual(ms(0), ms(0)),
            plain,
        ),
        (
            "AAAA 300 ms late",
            vec![(v6, Behaviour::Accept), (v4, Behaviour::Accept)],
            dual(ms(300), ms(0)),
            plain,
        ),
        (
            "AAAA 1000 ms late",
            vec![(v6, Behaviour::Accept), (v4, Behaviour::Accept)],
            dual(ms(1000), ms(0)),
            plain,
        ),
        (
            "A 300 ms late, IPv6 dropped",
            vec![(v6, Behaviour::Drop), (v4, Behaviour::Accept)],
            dual(ms(0), ms(300)),
            plain,
        ),
        (
            "only IPv6 source a ULA, IPv6 dropped",
            vec![(v4, Behaviour::Accept)],
            Zone::default()
                .set(
                    NAME,
                    RecordType::AAAA,
                    Reply::Addrs(ms(0), vec![ip("2001:db8:1::1")]),
                )
                .set(NAME, RecordType::A, Reply::Addrs(ms(0), vec![ip(v4)])),
            ula_drop,
        ),
    ];
    println!("| scenario | {} |", CLIENTS.join(" | "));
    println!("|---|{}", "---|".repeat(CLIENTS.len()));
    for (name, addrs, zone, setup) in scenarios {
        let addrs: Vec<(IpAddr, Behaviour)> = addrs.iter().map(|(a, b)| (ip(a), *b)).collect();
        let lab = NetLab::new(&addrs, PORT, zone).unwrap();
        setup(&lab);
        let cells: Vec<String> = CLIENTS.iter().map(|c| median(&lab, c)).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}

/// Runs `client` REPS times inside the lab and returns the median, or "> 10 s".
fn median(lab: &NetLab, client: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut times = Vec::new();
    for _ in 0..REPS {
        let out = lab
            .command(exe.to_str().unwrap())
            .args(["--client", client])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        match text.trim().parse::<f64>() {
            Ok(ms) => times.push(ms),
            Err(_) => return format!("> {} s", CAP.as_secs()),
        }
    }
    times.sort_by(f64::total_cmp);
    format!("{:.1} ms", times[times.len() / 2])
}

/// Inside the namespace: one connect with `kind`, printing its time in milliseconds, or
/// nothing when it failed or took longer than the cap.
fn client(kind: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = (NAME, PORT);
    let start = Instant::now();
    let ok = match kind {
        "eyeballs-tokio" => rt.block_on(async {
            let c = eyeballs_tokio::Connector::builder()
                .history(false)
                .build()
                .unwrap();
            tokio::time::timeout(CAP, c.connect(target))
                .await
                .is_ok_and(|r| r.is_ok())
        }),
        "eyeballs-tokio+hickory" => rt.block_on(async {
            let resolver = eyeballs_tokio::HickoryResolver::from_system_conf().unwrap();
            let c = eyeballs_tokio::Connector::builder()
                .resolver(resolver)
                .history(false)
                .build()
                .unwrap();
            tokio::time::timeout(CAP, c.connect(target))
                .await
                .is_ok_and(|r| r.is_ok())
        }),
        "eyeballs-async-std (smol)" => smol::block_on(async {
            let c = eyeballs_async_std::Connector::builder()
                .history(false)
                .build()
                .unwrap();
            let timer = async {
                smol::Timer::after(CAP).await;
                false
            };
            smol::future::or(async { c.connect(target).await.is_ok() }, timer).await
        }),
        "eyeballs-blocking" => {
            let c = eyeballs_blocking::Connector::builder()
                .history(false)
                .build()
                .unwrap();
            c.connect_timeout(target, CAP).is_ok()
        }
        "hyper-util HttpConnector" => rt.block_on(async {
            use tower_service::Service;
            let mut c = hyper_util::client::legacy::connect::HttpConnector::new();
            let uri: http::Uri = format!("http://{NAME}:{PORT}/").parse().unwrap();
            tokio::time::timeout(CAP, c.call(uri))
                .await
                .is_ok_and(|r| r.is_ok())
        }),
        "tokio TcpStream::connect" => rt.block_on(async {
            let connect = tokio::net::TcpStream::connect(target);
            tokio::time::timeout(CAP, connect)
                .await
                .is_ok_and(|r| r.is_ok())
        }),
        "std TcpStream::connect" => {
            // std tries each address in turn with the kernel's own SYN timeout; run it on a
            // thread so that the cap applies.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(std::net::TcpStream::connect(target).is_ok());
            });
            rx.recv_timeout(CAP).unwrap_or(false)
        }
        other => panic!("unknown client {other}"),
    };
    if ok {
        println!("{:.3}", start.elapsed().as_secs_f64() * 1000.0);
    }
    // Exit now: a thread still blocked in connect must not hold the process.
    std::process::exit(0);
}
