//! Encrypted ClientHello on async-std (feature `ech`): a server that rejects ECH
//! and sends retry configurations (HEv3 V54, RFC 9849 §6.1.6).
#![cfg(feature = "ech")]
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_async_std::{
    AttemptError, AttemptErrorKind, Config, Connector, EchConfig, Failure, ServiceRecord,
    StaticResolver, Tls,
};
use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{ech_config_list_with_id, EchRejectingServer, TestCa};

const NAME: &str = "tls.eyeballs.test";
const PUBLIC: &str = "public.eyeballs.test";

/// V54 on the wire, on async-std (futures-rustls): the record's ECH configuration (id 1) is rejected
/// with the server's retry configuration (id 2); the same attempt dials the same endpoint
/// again at once with id 2 (one attempt in the report, its retry recorded), and the retry's
/// rejection fails it with an `Ech` error, never retried again. Each handshake got as far as
/// the client's Finished and its `ech_required` alert.
#[test]
fn an_ech_rejection_with_retry_configurations_is_retried_once_on_the_wire() {
    let ca = TestCa::new();
    let retry = ech_config_list_with_id(PUBLIC, 2);
    let server =
        EchRejectingServer::bind(SocketAddr::new(V4, 0), &ca, PUBLIC, &retry, &["h2"]).unwrap();
    let port = server.addr().port();
    let ech = EchConfig::new(&ech_config_list_with_id(PUBLIC, 1));
    let record = ServiceRecord::new(1, ".").alpn(["h2"]).ech(ech);
    let resolver = StaticResolver::new()
        .host(NAME, [V4])
        .https(&format!("_{port}._https.{NAME}"), [record]);
    let connector = Connector::builder()
        .resolver(resolver)
        .config(Config::default().ech(true))
        .history(false)
        .build()
        .unwrap();
    let tls = Tls::builder(Arc::new(ca.client_config(&["h2"])))
        .ech(eyeballs_async_std::ech_hook(Arc::new(ca.roots())))
        .build()
        .unwrap();
    let (connection, report) =
        async_std::task::block_on(connector.connect_tls_with_report((NAME, port), &tls));
    let Err(err) = connection else {
        panic!("the retry is rejected too")
    };
    let report = report.unwrap();
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
        .unwrap_or_else(|| panic!("a race failure: {err}"));
    let kinds: Vec<_> = failure
        .attempts()
        .iter()
        .map(|a| {
            let error = a.error.as_ref().expect("the attempt ended with an error");
            (a.endpoint.addr(), AttemptError::of(error).unwrap().kind())
        })
        .collect();
    assert_eq!(
        kinds,
        [(SocketAddr::new(V4, port), AttemptErrorKind::Ech)],
        "{err}"
    );
    let [attempt] = report.attempts() else {
        panic!("one attempt, the retry inside it: {report}")
    };
    assert!(attempt.ech_retried.is_some(), "{report}");
    assert_eq!(attempt.endpoint.ech(), Some(&EchConfig::new(&retry)));
    assert_eq!(server.accepted(), 2, "the first dial and one retry");
    assert_eq!(
        server.config_ids(),
        [1, 2],
        "the retry used the retry configuration"
    );
    // The server thread records the alerts; wait for the second (at most 5 s).
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.alerts().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        server.client_finished(),
        2,
        "the client verified each handshake"
    );
    assert_eq!(server.alerts(), [121, 121], "ech_required, twice");
}
