//! Time to a TLS (or QUIC) connection per Happy Eyeballs v3 network-lab scenario
//! (`tests/common/hev3_lab.rs`): eyeballs on tokio and on smol (TCP+TLS and QUIC on both),
//! both with hickory asking the HTTPS records, against hyper-util's `HttpConnector` (its
//! defaults: getaddrinfo, a 300 ms fallback) followed by a tokio-rustls handshake, which is
//! what hyper-rustls does.
//!
//! Run as root: `cargo bench -p eyeballs-cli --bench netlab_tls`. It prints a Markdown table
//! of medians (5 connects each; "> 10 s" for a connect that took longer or failed, with
//! the failure noted). Each scenario gets its own network namespace; the clients run inside
//! it, by this binary re-executing itself through `ip netns exec`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/hev3_lab.rs"]
mod hev3_lab;

use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_lab::netns::root_or_skip;
use hev3_lab::{NAME, PORT};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

const REPS: usize = 5;
const CAP: Duration = Duration::from_secs(10);
const CLIENTS: [&str; 3] = [
    "eyeballs-tokio (TLS + QUIC)",
    "eyeballs-async-std on smol (TLS + QUIC)",
    "hyper-util HttpConnector + tokio-rustls",
];
/// The scenario whose cell is the second of two connects in one process (the history's).
const SECOND_RACE: &str = "QUIC blocked, second race (history)";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--client") {
        let second = args.iter().any(|a| a == "--second");
        client(&args[i + 1], &args[i + 2], second);
        return;
    }
    if !root_or_skip() {
        return;
    }
    println!("| scenario | {} |", CLIENTS.join(" | "));
    println!("|---|{}", "---|".repeat(CLIENTS.len()));
    for scenario in hev3_lab::all() {
        let name = scenario.name;
        let lab = hev3_lab::start(scenario).unwrap();
        let cells: Vec<String> = CLIENTS
            .iter()
            .map(|c| median(&lab, c, name == SECOND_RACE))
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}

/// Runs `client` REPS times inside the lab and returns the median with what won, or
/// "> 10 s" (or the failure).
fn median(lab: &hev3_lab::TlsLab, client: &str, second: bool) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut times = Vec::new();
    let mut won = String::new();
    for _ in 0..REPS {
        let mut command = lab.lab.command(exe.to_str().unwrap());
        command.args(["--client", client, lab.ca().to_str().unwrap()]);
        if second {
            command.arg("--second");
        }
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split_whitespace();
        match fields.next().map(str::parse::<f64>) {
            Some(Ok(ms)) => {
                times.push(ms);
                won = fields.collect::<Vec<_>>().join(" ");
            }
            _ if text.trim().is_empty() => return format!("> {} s", CAP.as_secs()),
            _ => {
                let why: String = text.trim().chars().take(80).collect();
                return format!("failed ({why})");
            }
        }
    }
    times.sort_by(f64::total_cmp);
    format!("{:.1} ms ({won})", times[times.len() / 2])
}

/// Inside the namespace: one connect (or two, timing the second) with `kind`, printing its
/// time in milliseconds and what won, or the failure, or nothing past the cap.
fn client(kind: &str, ca: &str, second: bool) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = |alpn: &[&[u8]]| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut c = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        c.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        Arc::new(c)
    };
    let all: &[&[u8]] = &[b"h3", b"h2", b"http/1.1"];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = (NAME, PORT);
    let races = if second { 2 } else { 1 };
    let mut result = Err("no race".to_owned());
    let mut took = Duration::ZERO;
    match kind {
        "eyeballs-tokio (TLS + QUIC)" => rt.block_on(async {
            let resolver = eyeballs_tokio::HickoryResolver::from_system_conf().unwrap();
            let c = eyeballs_tokio::Connector::builder()
                .resolver(resolver)
                .build()
                .unwrap();
            let tls = eyeballs_tokio::Tls::new(config(all)).unwrap();
            for _ in 0..races {
                let start = Instant::now();
                result = match tokio::time::timeout(CAP, c.connect_tls(target, &tls)).await {
                    Ok(Ok(conn)) => Ok(won(conn.endpoint(), conn.alpn())),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(String::new()),
                };
                took = start.elapsed();
            }
        }),
        "eyeballs-async-std on smol (TLS + QUIC)" => smol::block_on(async {
            let resolver = eyeballs_async_std::HickoryResolver::from_system_conf().unwrap();
            let c = eyeballs_async_std::Connector::builder()
                .resolver(resolver)
                .build()
                .unwrap();
            let tls = eyeballs_async_std::Tls::new(config(all)).unwrap();
            for _ in 0..races {
                let start = Instant::now();
                let connect = async {
                    match c.connect_tls(target, &tls).await {
                        Ok(conn) => Ok(won(conn.endpoint(), conn.alpn())),
                        Err(e) => Err(e.to_string()),
                    }
                };
                let timer = async {
                    smol::Timer::after(CAP).await;
                    Err(String::new())
                };
                result = smol::future::or(connect, timer).await;
                took = start.elapsed();
            }
        }),
        "hyper-util HttpConnector + tokio-rustls" => rt.block_on(async {
            use tower_service::Service;
            let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
            http.enforce_http(false);
            let tls = tokio_rustls::TlsConnector::from(config(&[b"h2", b"http/1.1"]));
            let uri: http::Uri = format!("https://{NAME}/").parse().unwrap();
            for _ in 0..races {
                let start = Instant::now();
                let connect = async {
                    let tcp = http.call(uri.clone()).await.map_err(|e| e.to_string())?;
                    let tcp = tcp.into_inner();
                    let peer = tcp.peer_addr().map_err(|e| e.to_string())?;
                    let name = ServerName::try_from(NAME).unwrap();
                    let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
                    let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                    let alpn = alpn.map(|a| String::from_utf8_lossy(&a).into_owned());
                    Ok(format!("TCP {peer} {}", alpn.unwrap_or_default()))
                };
                result = match tokio::time::timeout(CAP, connect).await {
                    Ok(r) => r,
                    Err(_) => Err(String::new()),
                };
                took = start.elapsed();
            }
        }),
        other => panic!("unknown client {other}"),
    }
    match result {
        Ok(won) => println!("{:.3} {won}", took.as_secs_f64() * 1000.0),
        Err(e) if e.is_empty() => {}
        Err(e) => println!("{e}"),
    }
    // Exit now: nothing may hold the process.
    std::process::exit(0);
}

/// What won, in a few words: `QUIC [2001:db8::1]:443 h3`.
fn won(endpoint: &eyeballs_tokio::Endpoint, alpn: Option<&eyeballs_tokio::Alpn>) -> String {
    let alpn = alpn.map(ToString::to_string).unwrap_or_default();
    format!("{} {} {alpn}", endpoint.transport(), endpoint.addr())
}
