//! Encrypted ClientHello on the blocking driver (feature `ech`): a server that rejects ECH
//! and sends retry configurations (HEv3 V54, RFC 9849 §6.1.6).
#![cfg(feature = "ech")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use eyeballs_blocking::{Config, Connector, Tls};
use eyeballs_lab::tls::{EchRetryCase, TestCa};

/// V54 on the wire, on the blocking loop: the record's ECH configuration is rejected with
/// the server's retry configuration; the same attempt dials the same endpoint again at once
/// with it, and the retry's rejection fails the attempt (never retried again). What is
/// checked: [`EchRetryCase::check`].
#[test]
fn an_ech_rejection_with_retry_configurations_is_retried_once_on_the_wire() {
    let ca = TestCa::new();
    let case = EchRetryCase::start(&ca).unwrap();
    let connector = Connector::builder()
        .resolver(case.resolver.clone())
        .config(Config::default().ech(true))
        .history(false)
        .build()
        .unwrap();
    let tls = Tls::builder(Arc::new(ca.client_config(&["h2"])))
        .ech(eyeballs_blocking::ech_hook(Arc::new(ca.roots())))
        .build()
        .unwrap();
    let (connection, report) = connector.connect_tls_with_report(case.target(), &tls);
    case.check(connection.map(drop), report.as_ref());
}
