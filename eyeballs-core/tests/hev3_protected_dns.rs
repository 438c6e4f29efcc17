//! HEv3 §6.3 and RFC 9460 §3.1: a failed service query on protected DNS (V36, HG6, HG21);
//! HEv3 §11 and RFC 9460 §9.5: an `http` origin on protected DNS (V37).
//!
//! `Config::protected_dns(true)`: a failed HTTPS query (SERVFAIL, timeout) gives the
//! connection up, with `FailureReason::ServiceQueryFailed`; a negative answer does not. An
//! `http` origin (`Target::http_origin`) holds its cleartext until the HTTPS answer, and a
//! positive one ends the race with `FailureReason::UpgradeToHttps`.
//! Every timeline is exact, on the simulator's virtual clock. Ids are defined in
//! eyeballs-core/docs/requirements.md.

mod common;

use common::sim::{base_instant, ip, ms, sa, tried, Answer, Ev, Outcome, Scenario, HOST};
use eyeballs_core::{
    AltService, Config, FailureReason, Protocols, QueryKind, ServiceRecord, Target,
};

const T6: &str = "TCP [2001:db8::1]:443";
const T4: &str = "TCP 192.0.2.1:443";

/// The HEv3 web client at example.test:443 with `https` as its HTTPS answer, AAAA
/// 2001:db8::1 and A 192.0.2.1 at 0 ms, speaking h3, h2 and http/1.1.
fn host(config: Config, https: Answer) -> Scenario {
    Scenario::https_host(config, Protocols::http())
        .dns("HTTPS", https)
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
}

fn protected() -> Config {
    Config::default().protected_dns(true)
}

/// V36 (RFC 9460 §3.1: "the client SHOULD NOT fall back to $QNAME's A/AAAA records"): the
/// HTTPS query fails (SERVFAIL) at 10 ms, both addresses known since 0 ms. On protected DNS
/// the race fails at 10 ms with `ServiceQueryFailed`, no attempt made, the failed query in
/// the failure; on DNS that is not protected (the default) the failure counts as negative
/// and TCP starts at 10 ms on the addresses.
#[test]
fn v36_a_failed_https_query_on_protected_dns_gives_the_connection_up() {
    let trace = host(protected(), Answer::Fail(ms(10)))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.tries(), vec![]);
    assert_eq!(
        trace.failure(),
        Some((ms(10), FailureReason::ServiceQueryFailed))
    );
    let queries = trace.race.queries();
    assert!(queries[0].kind() == QueryKind::Https && queries[0].is_failed());
    let text = trace.error.clone().unwrap_or_default();
    assert!(
        text.starts_with("the HTTPS query failed on protected DNS")
            && text.contains("HTTPS example.test"),
        "{text}"
    );

    let open = host(Config::default(), Answer::Fail(ms(10)))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(open.tries(), vec![tried(10, T6)]);
    assert_eq!(open.winner(), Some((ms(15), sa("[2001:db8::1]:443"))));
}

/// V36 with attempts already running: the HTTPS query times out at 400 ms, after V5(b)
/// started TCP on the addresses at 50 ms (the Resolution Delay) and 300 ms, both hanging.
/// At 400 ms both are cancelled and the race fails; nothing starts after (no fallback).
#[test]
fn v36_attempts_on_addresses_alone_are_cancelled_when_the_query_fails() {
    let trace = host(protected(), Answer::Fail(ms(400)))
        .default_outcome(Outcome::Hang)
        .run();
    assert_eq!(trace.tries(), vec![tried(50, T6), tried(300, T4)]);
    assert_eq!(
        trace.cancels(),
        vec![
            (ms(400), sa("[2001:db8::1]:443")),
            (ms(400), sa("192.0.2.1:443"))
        ]
    );
    assert_eq!(
        trace.failure(),
        Some((ms(400), FailureReason::ServiceQueryFailed))
    );
}

/// V36: an attempt that connected before the failure arrived has won: TCP starts at 50 ms
/// and connects at 60 ms; the HTTPS query that would fail at 400 ms no longer matters.
#[test]
fn v36_a_connection_made_before_the_failure_stands() {
    let trace = host(protected(), Answer::Fail(ms(400)))
        .default_outcome(Outcome::Connect(ms(10)))
        .run();
    assert_eq!(trace.winner(), Some((ms(60), sa("[2001:db8::1]:443"))));
}

/// V36 and HG6 ("with ECH on, always gate ... open on ServiceMode, a negative answer, or a
/// failure allowed by V36"): with ECH on and protected DNS, TCP connects at 50 ms with its
/// ClientHello held; the HTTPS query fails at 200 ms: the gate never opens (no ClientHello
/// ever goes out), the held attempt is cancelled and the race fails at 200 ms. Unprotected,
/// the same failure opens the gate at 200 ms (`hev3_ech.rs`).
#[test]
fn v36_hg6_with_ech_the_gate_stays_shut_on_a_failure() {
    let trace = host(protected().ech(true), Answer::Fail(ms(200)))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.tries(), vec![tried(50, T6)]);
    assert!(!trace
        .events
        .iter()
        .any(|(_, e)| matches!(e, Ev::Handshake(_))));
    assert_eq!(trace.cancels(), vec![(ms(200), sa("[2001:db8::1]:443"))]);
    assert_eq!(
        trace.failure(),
        Some((ms(200), FailureReason::ServiceQueryFailed))
    );
    assert!(trace.race.attempts()[0].released().is_none());
}

/// V36: negative answers are answers, not failures. On protected DNS an empty HTTPS answer
/// (NODATA; drivers feed NXDOMAIN the same way) and an alias to "." (V9) at 10 ms let the
/// race go on with the addresses: TCP at 10 ms, connected at 15 ms.
#[test]
fn v36_a_negative_answer_on_protected_dns_is_no_failure() {
    for https in [
        Answer::Records(ms(10), vec![]),
        Answer::Records(ms(10), vec![ServiceRecord::alias(".")]),
    ] {
        let trace = host(protected(), https.clone())
            .default_outcome(Outcome::Connect(ms(5)))
            .run();
        assert_eq!(trace.tries(), vec![tried(10, T6)], "{https:?}");
        assert_eq!(
            trace.winner(),
            Some((ms(15), sa("[2001:db8::1]:443"))),
            "{https:?}"
        );
    }
}

/// V36 along an alias chain: example.test's HTTPS answer (10 ms) is an alias to
/// cdn.example.test, whose HTTPS query fails at 30 ms: on protected DNS the race fails then,
/// without trying the origin's addresses or the alias target's.
#[test]
fn v36_a_failed_query_of_an_alias_hop_gives_up_too() {
    let cdn = "cdn.example.test";
    let trace = host(
        protected(),
        Answer::Records(ms(10), vec![ServiceRecord::alias(cdn)]),
    )
    .dns_for(cdn, "HTTPS", Answer::Fail(ms(20)))
    .dns_for(cdn, "AAAA", Answer::Addrs(ms(5), vec![ip("2001:db8:c::1")]))
    .dns_for(cdn, "A", Answer::Addrs(ms(5), vec![]))
    .default_outcome(Outcome::Connect(ms(5)))
    .run();
    assert_eq!(trace.tries(), vec![]);
    assert_eq!(
        trace.failure(),
        Some((ms(30), FailureReason::ServiceQueryFailed))
    );
}

/// V36, HG21: an alternative service (Alt-Svc, V59) whose own HTTPS query fails on protected
/// DNS is dropped, and the race goes on with the origin's answers: `h3="alt.example.test:443"`,
/// its HTTPS query failing at 5 ms, its host's AAAA at 0 ms. Unprotected, the failure counts
/// as negative and the alternative races its host's address over QUIC first (HG17).
#[test]
fn v36_hg21_an_alternative_whose_query_fails_is_dropped() {
    let alt = "alt.example.test";
    let run = |config: Config| {
        let target = Target::host(HOST, 443)
            .https(true)
            .protocols(Protocols::http())
            .alt_svc(AltService::new(alt, 443).alpn(["h3"]));
        Scenario::with_target(config, target)
            .https(0, vec![])
            .aaaa(0, &["2001:db8::1"])
            .a(0, &[])
            .dns_for(alt, "HTTPS", Answer::Fail(ms(5)))
            .dns_for(alt, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:a::1")]))
            .dns_for(alt, "A", Answer::Addrs(ms(0), vec![]))
            .default_outcome(Outcome::Connect(ms(5)))
            .run()
    };
    assert_eq!(run(protected()).tries(), vec![tried(5, T6)]);
    assert_eq!(
        run(Config::default()).tries(),
        vec![tried(5, "QUIC [2001:db8:a::1]:443")]
    );
}

/// V36: a failed query on protected DNS becomes an `io::Error` of the query's own kind
/// (`TimedOut` for a timeout), with the failure inside.
#[test]
fn v36_the_io_error_has_the_query_s_kind() {
    use std::io;

    use eyeballs_core::{Action, Input, Race};

    let t0 = base_instant();
    let target = Target::host(HOST, 443).https(true);
    let mut race: Race<io::Error> = Race::new(target, protected(), t0).unwrap();
    let mut https = None;
    while let Some(action) = race.poll_action() {
        if let Action::Resolve {
            query,
            kind: QueryKind::Https,
            ..
        } = action
        {
            https = Some(query);
        }
    }
    let error = io::Error::new(io::ErrorKind::TimedOut, "no answer (timed out)");
    let query = https.expect("an HTTPS query");
    race.handle_input(Input::ResolveFailed { query, error }, t0 + ms(30));
    let mut finish = None;
    while let Some(action) = race.poll_action() {
        if let Action::Finish(result) = action {
            finish = Some(result);
        }
    }
    let failure = match finish {
        Some(Err(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert_eq!(failure.reason(), FailureReason::ServiceQueryFailed);
    let error = io::Error::from(failure);
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
}

// ---- V37: an http origin on protected DNS ---------------------------------------------------

/// An `http` origin: example.test:80, plain TCP, its HTTPS query that of
/// `https://example.test` (RFC 9460 §9.5), AAAA 2001:db8::1 and A 192.0.2.1 at 0 ms.
fn http(config: Config, https: Answer) -> Scenario {
    Scenario::with_target(config, Target::host(HOST, 80).http_origin(true))
        .dns("HTTPS", https)
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
}

const H6: &str = "TCP [2001:db8::1]:80";

/// V37 (§11, MUST): "Protected DNS: no cleartext (http) data after the TCP handshake until a
/// valid HTTPS answer; if it is positive, do TLS first." The HTTPS answer comes at 100 ms
/// with a ServiceMode record: TCP connected at 50 ms (the Resolution Delay) with its first
/// data held (`ConnectHeld`), and at 100 ms the race ends with `UpgradeToHttps`, the
/// attempt cancelled without ever being released.
#[test]
fn v37_a_positive_answer_upgrades_before_any_cleartext() {
    let record = ServiceRecord::new(1, ".").alpn(["h2"]);
    let trace = http(protected(), Answer::Records(ms(100), vec![record]))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(trace.tries(), vec![tried(50, H6)]);
    assert!(trace.race.attempts()[0].is_held());
    assert!(trace.race.attempts()[0].released().is_none());
    assert!(!trace
        .events
        .iter()
        .any(|(_, e)| matches!(e, Ev::Handshake(_) | Ev::Won(_))));
    assert_eq!(trace.cancels(), vec![(ms(100), sa("[2001:db8::1]:80"))]);
    assert_eq!(
        trace.failure(),
        Some((ms(100), FailureReason::UpgradeToHttps))
    );
    assert_eq!(trace.race.queries()[0].name().as_str(), HOST);
}

/// V37: a negative answer (no records, or an alias to ".") at 100 ms releases the held
/// connection: its first data may go at 100 ms, and it wins (the sim completes a released
/// attempt 5 ms later). No HTTPS record: cleartext is fine.
#[test]
fn v37_a_negative_answer_releases_the_cleartext_connection() {
    for https in [
        Answer::Records(ms(100), vec![]),
        Answer::Records(ms(100), vec![ServiceRecord::alias(".")]),
    ] {
        let trace = http(protected(), https.clone())
            .default_outcome(Outcome::Connect(ms(5)))
            .run();
        assert_eq!(trace.tries(), vec![tried(50, H6)], "{https:?}");
        assert!(
            trace
                .events
                .contains(&(ms(100), Ev::Handshake(sa("[2001:db8::1]:80")))),
            "{https:?}"
        );
        assert_eq!(
            trace.winner(),
            Some((ms(105), sa("[2001:db8::1]:80"))),
            "{https:?}"
        );
    }
}

/// V37 with V36: a failed HTTPS query on protected DNS gives the connection up (nothing
/// released); an alias chain ends in a ServiceMode record: upgrade.
#[test]
fn v37_a_failed_query_gives_up_and_an_alias_chain_upgrades() {
    let failed = http(protected(), Answer::Fail(ms(100)))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        failed.failure(),
        Some((ms(100), FailureReason::ServiceQueryFailed))
    );
    let cdn = "cdn.example.test";
    let chain = http(
        protected(),
        Answer::Records(ms(10), vec![ServiceRecord::alias(cdn)]),
    )
    .dns_for(
        cdn,
        "HTTPS",
        Answer::Records(ms(20), vec![ServiceRecord::new(1, ".")]),
    )
    .dns_for(cdn, "AAAA", Answer::Addrs(ms(0), vec![]))
    .dns_for(cdn, "A", Answer::Addrs(ms(0), vec![]))
    .default_outcome(Outcome::Connect(ms(5)))
    .run();
    assert_eq!(
        chain.failure(),
        Some((ms(30), FailureReason::UpgradeToHttps))
    );
}

/// V37 applies to protected DNS: on DNS that is not protected nothing is held, so a
/// connection made before the answer (TCP at 50 ms, up at 55) wins with cleartext; a
/// positive answer that comes first (20 ms) still upgrades (RFC 9460 §9.5). The HTTPS
/// query of `http://example.test:8080` is `_8080._https.example.test`.
#[test]
fn v37_unprotected_nothing_is_held_but_an_early_answer_upgrades() {
    let record = || vec![ServiceRecord::new(1, ".")];
    let late = http(Config::default(), Answer::Records(ms(100), record()))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(late.winner(), Some((ms(55), sa("[2001:db8::1]:80"))));
    assert!(!late.race.attempts()[0].is_held());
    let early = http(Config::default(), Answer::Records(ms(20), record()))
        .default_outcome(Outcome::Connect(ms(5)))
        .run();
    assert_eq!(
        early.failure(),
        Some((ms(20), FailureReason::UpgradeToHttps))
    );
    let port = Target::host(HOST, 8080).http_origin(true);
    assert_eq!(
        port.https_query_name().map(|n| n.as_str().to_owned()),
        Some(format!("_8080._https.{HOST}"))
    );
}
