//! HEv3 and RFC 9848: Encrypted ClientHello (V34, V35, HG6), and the `ech` key with ECH off.
//!
//! Ids are defined in eyeballs-core/docs/requirements.md.

mod common;

use std::time::Duration;

use common::sim::{
    base_instant, ip, ms, path_over, retry_config, sa, tried, Answer, Ev, Outcome, Scenario,
};
use eyeballs_core::{
    AttemptStatus, Config, EchConfig, FailureReason, History, Name, Protocols, Provenance, Report,
    ServiceRecord, Transport,
};

const Q6: &str = "QUIC [2001:db8::1]:443";
const T6: &str = "TCP [2001:db8::1]:443";
const Q4: &str = "QUIC 192.0.2.1:443";
const T4: &str = "TCP 192.0.2.1:443";

/// The `ech` SvcParamKey (RFC 9848).
const KEY_ECH: u16 = 5;

fn ech_config() -> EchConfig {
    EchConfig::new(b"\xfe\x0d\x00\x04test")
}

/// A '.' record offering h3 and h2 with an ECH configuration.
fn ech_record() -> ServiceRecord {
    ServiceRecord::new(1, ".")
        .alpn(["h3", "h2"])
        .ech(ech_config())
}

/// The host with AAAA 2001:db8::1 and A 192.0.2.1 at 0 ms and `https` as its HTTPS answer;
/// a caller speaking h3 over QUIC and h2, http/1.1 over TCP.
fn host(config: Config, https: Answer) -> Scenario {
    Scenario::https_host(config, Protocols::http())
        .dns("HTTPS", https)
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
}

/// The events of a trace's attempts (starts, released ClientHellos, outcomes), without DNS.
fn attempt_events(trace: &common::sim::Trace) -> Vec<(Duration, Ev)> {
    trace
        .events
        .iter()
        .filter(|(_, e)| !matches!(e, Ev::Resolve(_) | Ev::Answered(_)))
        .cloned()
        .collect()
}

/// V34, V55, HG6, HG15: "ECH-capable clients send no ClientHello (TLS, or QUIC's first
/// Initial) until service info is resolved; TCP may connect." With ECH on and the HTTPS
/// answer at 300 ms, TCP to the host's address connects at its usual time (50 ms, the
/// Resolution Delay) with its ClientHello held (`Action::ConnectHeld`); at 300 ms the answer
/// opens the gate and the ClientHello goes out (`Action::Handshake`) with the ECH
/// configuration the record gives for that address, port and transport; QUIC starts then
/// too (its timer). The TLS handshake takes 5 ms from the ClientHello: TCP wins at 305 ms.
#[test]
fn v34_hg15_tcp_connects_early_and_its_client_hello_waits_for_the_https_answer() {
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(300), vec![ech_record()]),
    )
    .net("2001:db8::1", Outcome::Connect(ms(5)))
    .run();
    let v6 = sa("[2001:db8::1]:443");
    assert_eq!(
        attempt_events(&trace),
        vec![
            (ms(50), Ev::Start(v6)),
            (ms(300), Ev::Handshake(v6)),
            (ms(300), Ev::Start(v6)),
            (ms(305), Ev::Connected(v6)),
            (ms(305), Ev::Cancel(v6)),
            (ms(305), Ev::Won(v6)),
        ]
    );
    assert_eq!(trace.tries(), vec![tried(50, T6), tried(300, Q6)]);
    let first = &trace.race.attempts()[0];
    assert!(first.is_held());
    assert_eq!(first.released(), Some(trace.t0 + ms(300)));
    let winner = trace.race.result().unwrap().unwrap();
    assert_eq!(winner.attempt().index(), 0);
    assert_eq!(winner.endpoint().ech(), Some(&ech_config()));
    assert_eq!(
        winner.endpoint().to_string(),
        "TCP [2001:db8::1]:443 h2,http/1.1 ECH"
    );
    assert_eq!(winner.endpoint().priority(), Some(1));

    // HG15: "outcomes after that are timed from the ClientHello": the round trip is 5 ms.
    let mut history = History::new();
    history.record_race(&trace.race);
    let path = path_over("2001:db8::1", Transport::Tcp);
    assert_eq!(history.rtt(path, trace.t0 + ms(305)), Some(ms(5)));

    let report = Report::new(&trace.race, None).to_string();
    assert!(
        report.contains(
            "50.0 ms  attempt 0 IPv6 TCP [2001:db8::1]:443 h2,http/1.1 ECH started (service \
             priority 1), ClientHello held for service information"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "300.0 ms  attempt 0 TCP [2001:db8::1]:443 h2,http/1.1 ECH ClientHello released"
        ),
        "{report}"
    );
}

/// V34, HG6 with `Config::early_tcp(false)`, for drivers that cannot hold a handshake: no
/// attempt starts before the HTTPS answer (300 ms), and the first one is then to the
/// record's endpoint, with its ECH configuration.
#[test]
fn v34_without_early_tcp_no_attempt_before_the_https_answer() {
    let trace = host(
        Config::default().ech(true).early_tcp(false),
        Answer::Records(ms(300), vec![ech_record()]),
    )
    .quic("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(300, Q6)]);
    assert_eq!(trace.winning_try(), Some(tried(310, Q6)));
    let endpoint = &trace.endpoints()[0];
    assert_eq!(endpoint.ech(), Some(&ech_config()));
    assert_eq!(endpoint.to_string(), "QUIC [2001:db8::1]:443 h3 ECH");
}

/// The contrast to V34: with ECH off, V5(b)'s Resolution Delay lets the host's own address
/// start at 50 ms over TCP, its ClientHello not held (V55: only ECH holds a handshake, never
/// keys that only save round trips); the record at 300 ms then adds its endpoints at their
/// sorted place (V45), without ECH, and the timer (due at 300 ms) starts QUIC.
#[test]
fn v34_v55_contrast_with_ech_off_nothing_is_held() {
    let trace = host(
        Config::default(),
        Answer::Records(ms(300), vec![ech_record()]),
    )
    .quic("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(50, T6), tried(300, Q6)]);
    assert_eq!(trace.winning_try(), Some(tried(310, Q6)));
    assert_eq!(trace.endpoints()[0].provenance(), &Provenance::Address);
    assert_eq!(trace.endpoints()[1].ech(), None, "ECH off: no ECH config");
    assert_eq!(trace.cancelled_tries(), vec![tried(310, T6)]);
    assert!(!trace.race.attempts()[0].is_held());
    assert!(!trace
        .events
        .iter()
        .any(|(_, e)| matches!(e, Ev::Handshake(_))));
}

/// V34, HG15 over an alias chain (V8): service information has arrived only when the chain
/// ends. The host's HTTPS answer at 0 ms is an alias; the alias target's own address (V11's
/// fallback, the first group while no record is known) connects held at 50 ms; the target's
/// HTTPS answer comes at 200 ms with ECH, and the ClientHello goes out then with it.
#[test]
fn v34_hg15_the_gate_waits_for_the_end_of_an_alias_chain() {
    let cdn = "cdn.example.test";
    let c1 = "TCP [2001:db8:c::1]:443";
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(0), vec![ServiceRecord::alias(cdn)]),
    )
    .dns_for(cdn, "HTTPS", Answer::Records(ms(200), vec![ech_record()]))
    .dns_for(cdn, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:c::1")]))
    .dns_for(cdn, "A", Answer::Addrs(ms(0), vec![]))
    .net("2001:db8:c::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(50, c1)]);
    assert!(trace
        .events
        .contains(&(ms(200), Ev::Handshake(sa("[2001:db8:c::1]:443")))));
    assert_eq!(trace.winning_try(), Some(tried(210, c1)));
    let winner = trace.race.result().unwrap().unwrap();
    assert_eq!(winner.endpoint().ech(), Some(&ech_config()));
    assert_eq!(
        winner.endpoint().provenance(),
        &Provenance::Service {
            priority: 1,
            target: Name::new(cdn)
        }
    );
}

/// HG7 under the V34 gate: "the Resolution Delay (50 ms) starts the first time endpoints are
/// held (once)" (the requirements page (eyeballs-core/docs/requirements.md)), and ECH forbids only the ClientHello before service
/// information. The host's addresses are held at 0 ms, so TCP connects held at 50 ms; the
/// HTTPS answer at 100 ms names a TargetName whose addresses never come and offers no ECH,
/// so the held ClientHello goes out at 100 ms as it was, and connects at 110 ms.
#[test]
fn hg7_v34_the_resolution_delay_runs_from_the_first_addresses_under_the_gate() {
    let trace = host(
        Config::default().ech(true),
        Answer::Records(
            ms(100),
            vec![ServiceRecord::new(1, "b.example.test").alpn(["h3", "h2"])],
        ),
    )
    .net("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(50, T6)]);
    assert!(trace
        .events
        .contains(&(ms(100), Ev::Handshake(sa("[2001:db8::1]:443")))));
    assert_eq!(trace.winning_try(), Some(tried(110, T6)));
    assert_eq!(trace.endpoints()[0].ech(), None);
}

/// HG6: the gate opens "on ServiceMode, a negative answer, or a failure allowed by V36". A
/// failed HTTPS query at 200 ms (unprotected DNS: negative) and an empty answer at 200 ms
/// both release the held ClientHello of the host's own address at 200 ms, without ECH.
#[test]
fn hg6_a_failed_or_empty_https_answer_opens_the_gate() {
    for https in [Answer::Fail(ms(200)), Answer::Records(ms(200), vec![])] {
        let trace = host(Config::default().ech(true), https.clone())
            .net("2001:db8::1", Outcome::Connect(ms(10)))
            .run();
        assert_eq!(trace.tries(), vec![tried(50, T6)], "{https:?}");
        assert!(trace
            .events
            .contains(&(ms(200), Ev::Handshake(sa("[2001:db8::1]:443")))));
        assert_eq!(trace.winning_try(), Some(tried(210, T6)), "{https:?}");
        assert_eq!(trace.endpoints()[0].ech(), None);
    }
}

/// HG6: an alias to "." ("no service", V9) is a negative answer too: the gate opens when it
/// arrives (120 ms), and the held ClientHello goes out then.
#[test]
fn hg6_an_alias_to_root_opens_the_gate() {
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(120), vec![ServiceRecord::alias(".")]),
    )
    .net("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(50, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(130, T6)));
}

/// V34: with ECH on and an HTTPS query that never answers, no ClientHello ever goes out:
/// TCP connects held at its usual times (50 ms, then 300 ms), and the overall deadline (G4)
/// ends the race with both still held.
#[test]
fn v34_no_https_answer_no_client_hello() {
    let trace = host(
        Config::default().ech(true).timeout(Some(ms(1000))),
        Answer::Never,
    )
    .default_outcome(Outcome::Connect(ms(1)))
    .run();
    assert_eq!(trace.tries(), vec![tried(50, T6), tried(300, T4)]);
    assert!(!trace
        .events
        .iter()
        .any(|(_, e)| matches!(e, Ev::Handshake(_))));
    assert_eq!(
        trace.failure(),
        Some((
            ms(1000),
            FailureReason::TimedOut {
                after: ms(1000),
                in_flight: 2
            }
        ))
    );
    // A held attempt that never sent its ClientHello teaches history nothing (HG15).
    let mut history = History::new();
    history.record_race(&trace.race);
    assert!(history.is_empty());
}

/// V34, HG15: "QUIC attempts wait for the gate" — QUIC's first Initial is the ClientHello. A
/// caller speaking only h3 starts nothing before the HTTPS answer (300 ms).
#[test]
fn hg15_quic_waits_for_the_gate() {
    let trace = Scenario::https_host(Config::default().ech(true), Protocols::new().quic("h3"))
        .dns("HTTPS", Answer::Records(ms(300), vec![ech_record()]))
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .quic("2001:db8::1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(trace.tries(), vec![tried(300, Q6)]);
    assert_eq!(trace.winning_try(), Some(tried(310, Q6)));
}

/// V35 with HG15: the HTTPS answer (100 ms) makes the client SVCB-reliant (its only record
/// has ECH, at another TargetName), so the held TCP attempt to the host's own address has no
/// endpoint with ECH: it is cancelled without its ClientHello ever going out, and the
/// record's endpoints start at once, as after a failure (G1).
#[test]
fn v35_hg15_a_held_attempt_without_ech_is_cancelled_once_reliant() {
    let record = ServiceRecord::new(1, "svc.example.test")
        .alpn(["h3", "h2"])
        .ipv6_hints(["2001:db8:5::1".parse().unwrap()])
        .ech(ech_config());
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(100), vec![record]),
    )
    .dns_for("svc.example.test", "AAAA", Answer::Never)
    .dns_for("svc.example.test", "A", Answer::Never)
    .quic("2001:db8:5::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(
        trace.tries(),
        vec![tried(50, T6), tried(100, "QUIC [2001:db8:5::1]:443")]
    );
    assert_eq!(trace.cancelled_tries()[0], tried(100, T6));
    assert!(!trace
        .events
        .iter()
        .any(|(_, e)| matches!(e, Ev::Handshake(_))));
    assert_eq!(
        trace.winning_try(),
        Some(tried(110, "QUIC [2001:db8:5::1]:443"))
    );
}

/// V35: with ECH on and one usable record offering ECH, no endpoint without ECH is tried:
/// not the priority-2 record's (no ech key), not the host's plain addresses (V21). Only the
/// '.' record's four ECH endpoints are tried; the failure says that 3 endpoints without ECH
/// were left out, and `Failure::skipped_without_ech` counts them.
#[test]
fn v35_no_endpoint_without_ech_once_a_record_offers_it() {
    let scenario = || {
        host(
            Config::default().ech(true),
            Answer::Records(
                ms(5),
                vec![
                    ServiceRecord::new(2, "b.example.test")
                        .alpn(["h2"])
                        .ipv6_hints(["2001:db8:b::1".parse().unwrap()]),
                    ech_record(),
                ],
            ),
        )
        .dns_for(
            "b.example.test",
            "AAAA",
            Answer::Addrs(ms(0), vec![ip("2001:db8:b::1")]),
        )
        .dns_for("b.example.test", "A", Answer::Addrs(ms(0), vec![]))
        .default_outcome(Outcome::Fail(ms(0)))
    };
    let trace = scenario().run();
    assert_eq!(
        trace.tries(),
        vec![tried(5, Q6), tried(15, T6), tried(25, Q4), tried(35, T4)]
    );
    assert!(trace
        .endpoints()
        .iter()
        .all(|e| e.ech() == Some(&ech_config())));
    assert_eq!(
        trace.failure(),
        Some((ms(35), FailureReason::AllAttemptsFailed))
    );
    assert_eq!(
        trace.error.as_deref(),
        Some(
            "all 4 connection attempts failed: \
             QUIC [2001:db8::1]:443 h3 ECH: connection refused; \
             TCP [2001:db8::1]:443 h2,http/1.1 ECH: connection refused; \
             QUIC 192.0.2.1:443 h3 ECH: connection refused; \
             TCP 192.0.2.1:443 h2,http/1.1 ECH: connection refused; \
             3 endpoints without ECH not tried: a service record offers ECH \
             (downgrade protection)"
        )
    );
    let run = scenario().run_unchecked(base_instant());
    assert_eq!(run.failure().skipped_without_ech(), 3);
}

/// V35: "not V11" — after an AliasMode hop, the alias target's last-resort endpoint (its own
/// address, no SvcParams, so no ECH) is not tried either, nor are the host's own addresses.
#[test]
fn v35_no_alias_fallback_without_ech() {
    let cdn = "cdn.example.test";
    let scenario = || {
        host(
            Config::default().ech(true),
            Answer::Records(ms(0), vec![ServiceRecord::alias(cdn)]),
        )
        .dns_for(cdn, "HTTPS", Answer::Records(ms(0), vec![ech_record()]))
        .dns_for(cdn, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:c::1")]))
        .dns_for(cdn, "A", Answer::Addrs(ms(0), vec![]))
        .default_outcome(Outcome::Fail(ms(0)))
    };
    let trace = scenario().run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "QUIC [2001:db8:c::1]:443"),
            tried(10, "TCP [2001:db8:c::1]:443"),
        ]
    );
    let service = Provenance::Service {
        priority: 1,
        target: Name::new(cdn),
    };
    assert!(trace.endpoints().iter().all(|e| e.provenance() == &service));
    let run = scenario().run_unchecked(base_instant());
    let failure = run.failure();
    // The alias target's TCP fallback, and the host's two TCP addresses.
    assert_eq!(failure.skipped_without_ech(), 3);
    assert!(
        failure
            .to_string()
            .ends_with("; 3 endpoints without ECH not tried: a service record offers ECH (downgrade protection)"),
        "{failure}"
    );
}

/// ECH off: a record with an ech key is still usable (the key is optional), but its
/// endpoints carry no ECH configuration, and nothing is gated or left out.
#[test]
fn ech_off_records_with_ech_are_used_without_it() {
    let trace = host(
        Config::default(),
        Answer::Records(ms(5), vec![ech_record()]),
    )
    .default_outcome(Outcome::Fail(ms(0)))
    .run();
    assert_eq!(
        trace.tries(),
        vec![tried(5, Q6), tried(15, T6), tried(25, Q4), tried(35, T4)]
    );
    assert!(trace.endpoints().iter().all(|e| e.ech().is_none()));
    assert!(trace.endpoints().iter().all(|e| e.priority() == Some(1)));
    let error = trace.error.unwrap();
    assert!(!error.contains("ECH"), "{error}");
}

/// V12 with ECH off: `ech` listed as mandatory is a key this client does not understand,
/// so the record is unusable; no service is left (a negative service answer) and the host's
/// own addresses are tried over TCP. With ECH on, the same record is usable, with ECH.
#[test]
fn ech_as_a_mandatory_key_needs_ech_on() {
    let record = || ech_record().mandatory([KEY_ECH]);
    let off = host(Config::default(), Answer::Records(ms(5), vec![record()]))
        .default_outcome(Outcome::Fail(ms(0)))
        .run();
    assert_eq!(off.tries(), vec![tried(5, T6), tried(15, T4)]);
    assert!(off
        .endpoints()
        .iter()
        .all(|e| e.provenance() == &Provenance::Address && e.ech().is_none()));

    let on = host(
        Config::default().ech(true),
        Answer::Records(ms(5), vec![record()]),
    )
    .default_outcome(Outcome::Fail(ms(0)))
    .run();
    assert_eq!(
        on.tries(),
        vec![tried(5, Q6), tried(15, T6), tried(25, Q4), tried(35, T4)]
    );
    assert!(on
        .endpoints()
        .iter()
        .all(|e| e.ech() == Some(&ech_config())));
}

// ---- V54, HG14: ECH rejected, retried once with the server's retry configs ----------------

/// The usual ECH host: the '.' record with ECH at 5 ms, so attempts go QUIC v6 (5 ms), TCP
/// v6, QUIC v4, TCP v4, 250 ms apart.
fn ech_host() -> Scenario {
    host(
        Config::default().ech(true),
        Answer::Records(ms(5), vec![ech_record()]),
    )
}

/// V54: "ECH rejected with retry configs: retry the same endpoint once with them, at once,
/// as part of that attempt." QUIC v6 is rejected at 25 ms with retry configs; at 25 ms the
/// race asks to dial the same endpoint again with them (`Action::RetryEch`, the same attempt
/// id: no new start), and the retry connects at 45 ms: attempt 0 wins, with the retry
/// configs as its ECH config. The report and the history see one attempt: its round trip is
/// the retry's (20 ms).
#[test]
fn v54_a_rejection_with_retry_configs_retries_the_same_attempt_at_once() {
    let trace = ech_host()
        .quic("2001:db8::1", Outcome::RejectEch(ms(20), Some(7)))
        .after_retry("2001:db8::1", Transport::Quic, Outcome::Connect(ms(20)))
        .run();
    let v6 = sa("[2001:db8::1]:443");
    let attempts: Vec<(Duration, Ev)> = trace
        .events
        .iter()
        .filter(|(_, e)| !matches!(e, Ev::Resolve(_) | Ev::Answered(_)))
        .cloned()
        .collect();
    assert_eq!(
        attempts,
        vec![
            (ms(5), Ev::Start(v6)),
            (ms(25), Ev::EchRejected(v6)),
            (ms(25), Ev::RetryEch(v6)),
            (ms(45), Ev::Connected(v6)),
            (ms(45), Ev::Won(v6)),
        ]
    );
    assert_eq!(trace.tries(), vec![tried(5, Q6)]);
    let won = trace.race.result().unwrap().unwrap();
    assert_eq!(won.attempt().index(), 0);
    assert_eq!(won.endpoint().ech(), Some(&retry_config(7)));
    assert_eq!(won.endpoint().to_string(), "QUIC [2001:db8::1]:443 h3 ECH");
    let record = &trace.race.attempts()[0];
    assert_eq!(record.ech_retried(), Some(trace.t0 + ms(25)));
    assert_eq!(record.started(), trace.t0 + ms(5));

    let report = Report::new(&trace.race, None);
    assert_eq!(report.attempts()[0].ech_retried, Some(ms(25)));
    assert!(report.to_string().contains(
        "25.0 ms  attempt 0 QUIC [2001:db8::1]:443 h3 ECH ECH rejected: retried with the \
         server's retry configs"
    ));

    let mut history = History::new();
    history.record_race(&trace.race);
    let path = path_over("2001:db8::1", Transport::Quic);
    assert_eq!(history.rtt(path, trace.t0 + ms(45)), Some(ms(20)));
}

/// HG14: "the retry goes out at the rejection instant (no new start, so no 10 ms floor), the
/// attempt timer stays armed from the attempt's start, and a rejection with retry configs
/// expedites nothing." The retry hangs: TCP v6 starts at 55 ms (5 + its 50 ms after QUIC,
/// V29), neither at the rejection (25 ms) nor 50 ms after it; it connects at 65 ms and the
/// retried attempt is cancelled.
#[test]
fn hg14_the_retry_keeps_the_attempts_timer_and_expedites_nothing() {
    let trace = ech_host()
        .quic("2001:db8::1", Outcome::RejectEch(ms(20), Some(7)))
        .after_retry("2001:db8::1", Transport::Quic, Outcome::Hang)
        .net("2001:db8::1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(trace.tries(), vec![tried(5, Q6), tried(55, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(65, T6)));
    assert_eq!(trace.cancelled_tries(), vec![tried(65, Q6)]);
}

/// V54: "a rejection of the retry fails the attempt (never retry a retry)" — even with new
/// retry configs. The retry is rejected at 40 ms: the attempt fails there, and as any
/// failure (G1) it starts the next endpoint at once.
#[test]
fn v54_a_rejected_retry_fails_the_attempt() {
    let trace = ech_host()
        .quic("2001:db8::1", Outcome::RejectEch(ms(20), Some(7)))
        .after_retry(
            "2001:db8::1",
            Transport::Quic,
            Outcome::RejectEch(ms(15), Some(8)),
        )
        .net("2001:db8::1", Outcome::Connect(ms(10)))
        .run();
    let v6 = sa("[2001:db8::1]:443");
    let retries = trace
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Ev::RetryEch(_)))
        .count();
    assert_eq!(retries, 1, "a retry is never retried");
    assert!(trace.events.contains(&(ms(40), Ev::EchRejected(v6))));
    assert_eq!(trace.tries(), vec![tried(5, Q6), tried(40, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(50, T6)));
    let failed = &trace.race.attempts()[0];
    assert_eq!(failed.status(), AttemptStatus::Failed);
    assert_eq!(failed.ended(), Some(trace.t0 + ms(40)));
}

/// V54: "A rejection without retry configs fails the attempt": at once, and the next
/// endpoint starts at once (G1). The failure keeps the rejection's error.
#[test]
fn v54_a_rejection_without_retry_configs_fails_the_attempt() {
    let trace = ech_host()
        .default_outcome(Outcome::Fail(ms(1)))
        .quic("2001:db8::1", Outcome::RejectEch(ms(20), None))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(5, Q6), tried(25, T6), tried(35, Q4), tried(45, T4)]
    );
    let error = trace.error.unwrap();
    assert!(
        error.starts_with(
            "all 4 connection attempts failed: QUIC [2001:db8::1]:443 h3 ECH: ECH rejected;"
        ),
        "{error}"
    );
}

/// RFC 9849 §6.2 under V54: an attempt that offered no ECH config (ECH off here; a GREASE
/// ECH extension, say) never uses retry configs: its rejection fails it.
#[test]
fn v54_an_attempt_without_ech_is_never_retried() {
    let trace = host(
        Config::default(),
        Answer::Records(ms(5), vec![ech_record()]),
    )
    .quic("2001:db8::1", Outcome::RejectEch(ms(20), Some(7)))
    .net("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert!(!trace
        .events
        .iter()
        .any(|(_, e)| matches!(e, Ev::RetryEch(_))));
    assert_eq!(trace.tries(), vec![tried(5, Q6), tried(25, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(35, T6)));
}

/// V54 with HG11: the retry configs make the attempt's endpoint one with that ECH config, so
/// an endpoint with the same address, transport and config (here a priority-2 record that
/// carries the retry configs) is never started again; the unrelated TCP endpoints are.
#[test]
fn v54_hg11_the_retried_endpoint_is_not_started_again() {
    let second = ServiceRecord::new(2, ".")
        .alpn(["h3"])
        .no_default_alpn(true)
        .ech(retry_config(7));
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(5), vec![ech_record(), second]),
    )
    .quic("2001:db8::1", Outcome::RejectEch(ms(20), Some(7)))
    .after_retry("2001:db8::1", Transport::Quic, Outcome::Fail(ms(1)))
    .default_outcome(Outcome::Fail(ms(1)))
    .run();
    let v6_retry_configs = trace
        .endpoints()
        .iter()
        .filter(|e| e.addr().is_ipv6() && e.ech() == Some(&retry_config(7)))
        .count();
    assert_eq!(v6_retry_configs, 1, "{:?}", trace.tries());
    assert_eq!(
        trace.tries(),
        vec![
            tried(5, Q6),
            tried(26, T6),
            tried(36, Q4),
            tried(46, T4),
            tried(56, Q4)
        ]
    );
}

/// V13, HG18 with V34: a stale HTTPS answer is service information: with ECH on, the
/// cache's expired record (and addresses) at 0 ms open the gate at once, and the first
/// attempt is QUIC with the record's ECH configuration, not a held TCP connection. (A stale
/// ECH configuration the server no longer accepts is what V54's retry recovers from.)
#[test]
fn v13_v34_a_stale_https_answer_opens_the_gate() {
    let cached = |a: Answer| Answer::Stale(Box::new(a.clone()), Box::new(a));
    let trace = Scenario::https_host(Config::default().ech(true), Protocols::http())
        .dns("HTTPS", cached(Answer::Records(ms(0), vec![ech_record()])))
        .dns(
            "AAAA",
            cached(Answer::Addrs(ms(0), vec![ip("2001:db8::1")])),
        )
        .dns("A", cached(Answer::Addrs(ms(0), vec![ip("192.0.2.1")])))
        .quic("2001:db8::1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(trace.tries(), vec![tried(0, Q6)]);
    assert_eq!(trace.endpoints()[0].ech(), Some(&ech_config()));
    assert_eq!(trace.winning_try(), Some(tried(10, Q6)));
}

/// A driver that feeds inputs before draining the actions still gets each action as it was
/// when queued: a held attempt's `ConnectHeld` keeps the endpoint it connected to though the
/// HTTPS answer then gives it ECH (its `Handshake` carries that), and a rejection with retry
/// configs leaves the `Handshake` as it was (the `RetryEch` carries the retry configs).
#[test]
fn hg15_v54_actions_drained_late_keep_their_endpoints() {
    use eyeballs_core::{Action, Input, QueryKind, Race, Target};
    let t0 = base_instant();
    let target = Target::host("example.test", 443)
        .https(true)
        .protocols(Protocols::http());
    let mut race: Race<()> = Race::new(target, Config::default().ech(true), t0).unwrap();
    let mut queries = Vec::new();
    while let Some(action) = race.poll_action() {
        if let Action::Resolve { query, kind, .. } = action {
            queries.push((kind, query));
        }
    }
    let query = |k: QueryKind| queries.iter().find(|(kind, _)| *kind == k).unwrap().1;
    let addrs = vec![ip("2001:db8::1")];
    race.handle_input(
        Input::Resolved {
            query: query(QueryKind::Aaaa),
            addrs,
        },
        t0,
    );
    let addrs = vec![ip("192.0.2.1")];
    race.handle_input(
        Input::Resolved {
            query: query(QueryKind::A),
            addrs,
        },
        t0,
    );
    // The Resolution Delay ends: the ConnectHeld is queued, and the HTTPS answer comes
    // before it is drained.
    let t = race.poll_timeout().unwrap();
    race.handle_timeout(t);
    let records = vec![ech_record()];
    race.handle_input(
        Input::ResolvedServices {
            query: query(QueryKind::Https),
            records,
        },
        t + ms(5),
    );
    let Some(Action::ConnectHeld {
        attempt, endpoint, ..
    }) = race.poll_action()
    else {
        panic!("a held connect first")
    };
    assert_eq!(endpoint.addr(), sa("[2001:db8::1]:443"));
    assert!(endpoint.ech().is_none());
    assert_eq!(endpoint.provenance(), &Provenance::Address);
    // Not drained yet: the Handshake; a rejection with retry configs comes first.
    race.handle_input(
        Input::EchRejected {
            attempt,
            retry: Some(retry_config(1)),
            error: (),
        },
        t + ms(6),
    );
    let Some(Action::Handshake { endpoint, .. }) = race.poll_action() else {
        panic!("the released ClientHello next")
    };
    assert_eq!(endpoint.ech(), Some(&ech_config()));
    let Some(Action::RetryEch { endpoint, .. }) = race.poll_action() else {
        panic!("then the retry")
    };
    assert_eq!(endpoint.ech(), Some(&retry_config(1)));
}
