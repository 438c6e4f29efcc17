//! `eyeballs demo`: races on loopback that need no root and no network. First RFC 8305
//! (IPv6 hangs, IPv4 wins after the Connection Attempt Delay, history sends the next race
//! to IPv4), then Happy Eyeballs v3 (an HTTPS record offers h3 and h2; QUIC hangs, TCP+TLS
//! wins after the delay, history sends the next race to TCP first).
//!
//! Everything it starts (listeners, the TLS server's thread, the UDP blackhole's thread, the
//! QUIC socket) is dropped, and so closed or joined, before it returns; it writes no file.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::{Report, ServiceRecord};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer, UdpBlackhole};
use eyeballs_tokio::{Connector, StaticResolver, Tls};

use crate::usage;

const DEMO_NAME: &str = "demo.eyeballs.test";
const HEV3_NAME: &str = "hev3.eyeballs.test";

pub(crate) async fn run() -> ExitCode {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("eyeballs demo: this machine has no IPv6 loopback (::1), which the demo races");
        return ExitCode::FAILURE;
    }
    let rfc8305 = match rfc8305().await {
        Ok(times) => times,
        Err(code) => return code,
    };
    println!();
    let hev3 = match hev3().await {
        Ok(times) => times,
        Err(code) => return code,
    };
    println!();
    println!(
        "Without history: {} (RFC 8305) and {} (HEv3) to connect. With it: {} and {}.",
        ms(rfc8305.0),
        ms(hev3.0),
        ms(rfc8305.1),
        ms(hev3.1)
    );
    ExitCode::SUCCESS
}

/// Races 1 and 2: IPv6 hangs; the times to connect without and with history.
async fn rfc8305() -> Result<(Duration, Duration), ExitCode> {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(DEMO_NAME, [V6, V4]))
        .build()
        .map_err(usage)?;
    println!("eyeballs demo: Happy Eyeballs races on loopback, nothing else");
    println!();
    println!(
        "RFC 8305: {DEMO_NAME} resolves to ::1 and 127.0.0.1 (a static resolver: no DNS traffic)"
    );
    println!(
        "  {} hangs: its listener's accept queue is full, so the kernel drops the SYN",
        lab.addr(V6)
    );
    println!("  {} accepts", lab.addr(V4));
    println!();
    println!("Race 1: IPv6 goes first; IPv4 starts after the Connection Attempt Delay");
    let target = (DEMO_NAME, lab.port);
    let first = finished(connector.connect_with_report(target).await)?;
    println!();
    println!("Race 2, same connector: its history saw IPv6 lose, so IPv4 goes first");
    let second = finished(connector.connect_with_report(target).await)?;
    Ok((first.elapsed(), second.elapsed()))
}

/// Races 3 to 5: QUIC hangs on a UDP socket that swallows its packets, a TLS server
/// answers on TCP; the times to connect without history and with it (once QUIC lost twice).
async fn hev3() -> Result<(Duration, Duration), ExitCode> {
    let (port, listeners, sockets) = same_port(&[V4], &[V4]).map_err(|e| {
        eprintln!("eyeballs demo: cannot bind a TCP and a UDP port on 127.0.0.1: {e}");
        ExitCode::FAILURE
    })?;
    let ca = TestCa::new();
    let server_config = ca.server_config(&[HEV3_NAME], &["h2", "http/1.1"]);
    let mut servers = Vec::new();
    let mut holes = Vec::new();
    for listener in listeners {
        servers.push(
            TlsServer::start(listener, server_config.clone(), TlsServe::Echo).map_err(failed)?,
        );
    }
    for socket in sockets {
        holes.push(UdpBlackhole::start(socket).map_err(failed)?);
    }
    // The HTTPS query of a port other than 443 asks `_PORT._https.NAME` (RFC 9460 §9.1).
    let record = ServiceRecord::new(1, ".").alpn(["h3", "h2"]);
    let resolver = StaticResolver::new()
        .host(HEV3_NAME, [V4])
        .https(&format!("_{port}._https.{HEV3_NAME}"), [record]);
    let connector = Connector::builder()
        .resolver(resolver)
        .build()
        .map_err(usage)?;
    let tls = Tls::new(Arc::new(ca.client_config(&["h3", "h2", "http/1.1"]))).map_err(usage)?;
    let addr = SocketAddr::new(V4, port);
    println!("Happy Eyeballs v3: TLS and QUIC, as `eyeballs connect HOST PORT --tls` races them");
    println!("  {HEV3_NAME} resolves to 127.0.0.1, and its HTTPS record says: 1 . alpn=h3,h2");
    println!("  UDP {addr} swallows every datagram, so a QUIC handshake never ends");
    println!("  TCP {addr} is a TLS server (its certificate from a CA made for this demo)");
    println!();
    println!(
        "Race 3: QUIC goes first (the record offers h3); TCP+TLS to the same address follows {} ms later",
        eyeballs_tokio::TCP_AFTER_QUIC_DELAY.as_millis()
    );
    let first = tls_race(&connector, &tls, port).await?;
    println!();
    println!(
        "Race 4, same connector: QUIC lost once, which may only mean it was slower, so it goes first again"
    );
    tls_race(&connector, &tls, port).await?;
    println!();
    println!(
        "Race 5, same connector: QUIC to {addr} lost {} times in a row, so TCP+TLS goes first",
        eyeballs_core::LOSSES_TO_FAIL
    );
    let second = tls_race(&connector, &tls, port).await?;
    // The QUIC socket, the TLS server's thread and the blackhole's go now, not at exit.
    drop((tls, connector, servers, holes));
    Ok((first.elapsed(), second.elapsed()))
}

async fn tls_race(connector: &Connector, tls: &Tls, port: u16) -> Result<Report, ExitCode> {
    let (connection, report) = connector
        .connect_tls_with_report((HEV3_NAME, port), tls)
        .await;
    let alpn = connection.as_ref().ok().map(|c| c.alpn().cloned());
    let report = finished((connection, report))?;
    if let Some(alpn) = alpn {
        let alpn = alpn.map_or_else(|| "none".to_owned(), |a| a.to_string());
        println!("{:>10}  the server chose ALPN {alpn}", "");
    }
    Ok(report)
}

/// Prints the timeline of a race that must have connected.
fn finished<S>(race: (std::io::Result<S>, Option<Report>)) -> Result<Report, ExitCode> {
    let (result, report) = race;
    let report = report.ok_or(ExitCode::FAILURE)?;
    println!("{report}");
    match result {
        Ok(_) => Ok(report),
        Err(e) => {
            eprintln!("eyeballs demo: the race failed: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn failed(e: std::io::Error) -> ExitCode {
    eprintln!("eyeballs demo: cannot start a test server: {e}");
    ExitCode::FAILURE
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
