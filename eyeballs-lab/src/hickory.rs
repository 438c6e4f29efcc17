//! One list of hickory scenarios, written once and run by every driver's `HickoryResolver`
//! (tokio, async-std, smol, blocking) against the lab's DNS server ([`crate::dns`]), with
//! real packets: AAAA and A as two queries (RFC 8305 §3), errors as sentences, HTTPS records
//! decoded (RFC 9460), and nothing left behind.
//!
//! Each driver's test suite implements [`HickoryDriver`] in a few lines and calls
//! [`run_all`] from a test binary with a single test (the descriptor and task counts need the
//! process to themselves).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_core::{
    AttemptStatus, Config, EchConfig, Failure, FailureReason, QueryKind, Report, ServiceRecord,
};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use crate::dns::{https, param, DnsServer, Reply, Zone};
use crate::loopback::{open_fds, Behaviour, Lab, V4, V6};
use crate::scenarios::Outcome;

/// The driver under test, with its hickory resolver.
pub trait HickoryDriver {
    /// Its name, for messages.
    fn name(&self) -> &'static str;

    /// Races `target` through a connector (history off, `config`) whose hickory resolver
    /// asks only `server`. With `timeout`, hickory waits that long for each answer and tries
    /// once (`ResolverOpts::attempts` 0: no retry); otherwise hickory's defaults apply. The
    /// connector and resolver are dropped before this returns.
    fn race(
        &self,
        server: SocketAddr,
        timeout: Option<Duration>,
        config: Config,
        target: &str,
    ) -> Outcome;

    /// Asks `server` for the HTTPS records of `name` through the resolver's
    /// `resolve_https`, and says whether the resolver claims to answer HTTPS queries.
    fn https(&self, server: SocketAddr, name: &str) -> (bool, io::Result<Vec<ServiceRecord>>);

    /// Returns whether ending a race drops its lookups at once (async drivers), rather than
    /// leaving them to finish on their threads (blocking).
    fn cancels_lookups(&self) -> bool;

    /// Returns how many hickory background tasks the driver's runtime provider has alive,
    /// when it counts them.
    fn background_tasks(&self) -> Option<usize>;
}

/// One scenario: panics when the driver does not behave.
pub type Scenario = fn(&dyn HickoryDriver);

/// Runs every scenario against `driver`, one after another (the cleanup check last, after
/// the runtime has opened whatever it keeps for good).
///
/// # Panics
///
/// On the first scenario that does not hold.
pub fn run_all(driver: &dyn HickoryDriver) {
    let scenarios: [(&str, Scenario); 14] = [
        ("both answer", both_answer_ipv6_wins),
        ("late AAAA", late_aaaa_ipv4_after_the_resolution_delay),
        ("AAAA SERVFAIL", aaaa_servfail_then_ipv4_without_delay),
        ("empty AAAA", empty_aaaa_is_negative_not_an_error),
        ("late A", late_a_is_merged_and_wins),
        ("NXDOMAIN", nxdomain_is_a_sentence),
        ("SERVFAIL", servfail_is_a_sentence),
        ("no answer", no_answer_is_a_timeout_sentence),
        ("HTTPS records", https_records_are_decoded),
        ("HTTPS alias", https_alias_mode),
        ("HTTPS port prefix", https_port_prefixed_name),
        ("HTTPS no data", https_no_data_is_no_records),
        ("HTTPS errors", https_errors_are_sentences),
        ("cleanup", abandoned_lookups_leave_nothing),
    ];
    for (name, scenario) in scenarios {
        let started = Instant::now();
        scenario(driver);
        eprintln!("{}: {name}: ok ({:?})", driver.name(), started.elapsed());
    }
}

const NAME: &str = "h.eyeballs.test";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn zone(aaaa: Reply, a: Reply) -> Zone {
    Zone::default()
        .set(NAME, RecordType::AAAA, aaaa)
        .set(NAME, RecordType::A, a)
}

/// Races `NAME` on `lab`'s port with `zone` served, hickory's defaults, history off.
fn race(driver: &dyn HickoryDriver, zone: Zone, lab: &Lab) -> (io::Result<SocketAddr>, Report) {
    let server = DnsServer::start(zone);
    let target = format!("{NAME}:{}", lab.port);
    let (peer, report) = driver.race(server.addr, None, Config::default(), &target);
    settle(driver);
    drop(server);
    let report = report.unwrap_or_else(|| panic!("{}: no report: {peer:?}", driver.name()));
    (peer, report)
}

/// Waits, up to 3 s, until the driver's hickory tasks are gone: a blocking race leaves its
/// late lookups (a 400 ms AAAA, say) to finish on their threads, which need the server to
/// answer them. (An async driver has dropped them already.) The cleanup scenario checks
/// that nothing stays.
fn settle(driver: &dyn HickoryDriver) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while driver.background_tasks().unwrap_or(0) != 0 && Instant::now() < deadline {
        std::thread::sleep(ms(5));
    }
}

fn peer(driver: &dyn HickoryDriver, outcome: &(io::Result<SocketAddr>, Report)) -> SocketAddr {
    match &outcome.0 {
        Ok(peer) => *peer,
        Err(e) => panic!("{}: connect failed: {e}\n{}", driver.name(), outcome.1),
    }
}

fn failure(err: &io::Error) -> &Failure<io::Error> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .unwrap_or_else(|| panic!("no Failure inside: {err}"))
}

/// The texts of the failed queries of `err`'s `Failure`, with their kinds.
fn query_errors(err: &io::Error) -> Vec<(io::ErrorKind, String)> {
    failure(err)
        .queries()
        .iter()
        .map(|q| (q.error.kind(), q.error.to_string()))
        .collect()
}

/// Both answer at once: two queries, AAAA first; IPv6 wins.
pub fn both_answer_ipv6_wins(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let out = race(
        driver,
        zone(Reply::Addrs(ms(0), vec![V6]), Reply::Addrs(ms(0), vec![V4])),
        &lab,
    );
    assert_eq!(peer(driver, &out), lab.addr(V6), "{}", out.1);
    let kinds: Vec<_> = out.1.queries().iter().map(|q| q.kind).collect();
    assert_eq!(kinds, vec![QueryKind::Aaaa, QueryKind::A], "{}", out.1);
}

/// R5: AAAA is 400 ms late; IPv4 starts after the 50 ms Resolution Delay, before the AAAA
/// answer, and wins.
pub fn late_aaaa_ipv4_after_the_resolution_delay(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let out = race(
        driver,
        zone(
            Reply::Addrs(ms(400), vec![V6]),
            Reply::Addrs(ms(0), vec![V4]),
        ),
        &lab,
    );
    let report = &out.1;
    assert_eq!(peer(driver, &out), lab.addr(V4), "{report}");
    let a_answered = report.queries()[1].answered.expect("A answered");
    let start = report.attempts()[0].started;
    assert!(
        start >= a_answered + ms(50),
        "waited the Resolution Delay:\n{report}"
    );
    assert!(start < ms(350), "did not wait for AAAA:\n{report}");
}

/// R7: with AAAA failed (SERVFAIL), the A answer starts IPv4 at once, without the
/// Resolution Delay; the failure is in the report. (hickory retries a SERVFAIL, so the A
/// answer comes 150 ms later, after AAAA has surely failed.)
pub fn aaaa_servfail_then_ipv4_without_delay(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let out = race(
        driver,
        zone(
            Reply::Code(ms(0), ResponseCode::ServFail),
            Reply::Addrs(ms(150), vec![V4]),
        ),
        &lab,
    );
    let report = &out.1;
    assert_eq!(peer(driver, &out), lab.addr(V4), "{report}");
    let aaaa = &report.queries()[0];
    assert!(aaaa.error.is_some(), "{report}");
    let a_answered = report.queries()[1].answered.expect("A answered");
    assert!(aaaa.answered.expect("AAAA ended") <= a_answered, "{report}");
    assert!(
        report.attempts()[0].started < a_answered + ms(40),
        "no Resolution Delay:\n{report}"
    );
}

/// R7: an empty AAAA answer (NOERROR, no data) is negative, not an error.
pub fn empty_aaaa_is_negative_not_an_error(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let out = race(
        driver,
        zone(Reply::Addrs(ms(0), vec![]), Reply::Addrs(ms(0), vec![V4])),
        &lab,
    );
    assert_eq!(peer(driver, &out), lab.addr(V4), "{}", out.1);
    assert!(out.1.queries()[0].error.is_none(), "{}", out.1);
    assert!(out.1.queries()[0].addrs.is_empty(), "{}", out.1);
}

/// R8: IPv6 hangs; A answers 400 ms late; the late IPv4 address is merged and wins.
pub fn late_a_is_merged_and_wins(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let out = race(
        driver,
        zone(
            Reply::Addrs(ms(0), vec![V6]),
            Reply::Addrs(ms(400), vec![V4]),
        ),
        &lab,
    );
    let report = &out.1;
    assert_eq!(peer(driver, &out), lab.addr(V4), "{report}");
    let [v6, v4] = report.attempts() else {
        panic!("two attempts: {report}")
    };
    assert_eq!(v6.status, AttemptStatus::Cancelled, "{report}");
    assert!(v4.started >= ms(400), "{report}");
}

/// NXDOMAIN: the race fails with DNS errors, each a sentence naming the host (kind
/// `NotFound`), not hickory's debug dump of the query.
pub fn nxdomain_is_a_sentence(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (result, report) = race(driver, Zone::default(), &lab);
    let err = result.expect_err("an unknown name");
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(err.to_string().starts_with("DNS failed"), "{err}");
    let expected = (
        io::ErrorKind::NotFound,
        format!("{NAME}: no such name (NXDOMAIN)"),
    );
    assert_eq!(
        query_errors(&err),
        vec![expected.clone(), expected],
        "{err}"
    );
    assert!(!err.to_string().contains("Query"), "{err}");
    assert!(!report.to_string().contains("Name("), "{report}");
    assert!(report.attempts().is_empty(), "{report}");
}

/// SERVFAIL says the server failed.
pub fn servfail_is_a_sentence(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let (result, _) = race(
        driver,
        zone(
            Reply::Code(ms(0), ResponseCode::ServFail),
            Reply::Code(ms(0), ResponseCode::ServFail),
        ),
        &lab,
    );
    let err = result.expect_err("SERVFAIL");
    let errors = query_errors(&err);
    assert_eq!(errors.len(), 2, "{err}");
    for (_, text) in errors {
        assert_eq!(text, format!("{NAME}: the DNS server failed (SERVFAIL)"));
    }
}

/// A server that never answers is a `TimedOut` sentence (hickory with a 200 ms timeout and
/// one attempt, so the scenario is quick).
pub fn no_answer_is_a_timeout_sentence(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let server = DnsServer::start(zone(Reply::Silent, Reply::Silent));
    let target = format!("{NAME}:{}", lab.port);
    let (result, _) = driver.race(server.addr, Some(ms(200)), Config::default(), &target);
    settle(driver);
    drop(server);
    let err = result.expect_err("no answer");
    let errors = query_errors(&err);
    assert_eq!(errors.len(), 2, "{err}");
    for (kind, text) in errors {
        assert_eq!(kind, io::ErrorKind::TimedOut, "{text}");
        assert_eq!(
            text,
            format!("{NAME}: no answer from the DNS server (timed out)")
        );
    }
}

/// A fake ECHConfigList: the core and the resolver treat it as opaque bytes.
const ECH: &[u8] = &[0x00, 0x08, 0xfe, 0x0d, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef];

/// Asks for `name`'s HTTPS records with `reply` served for it (and an A record, so that the
/// name exists).
fn https_answer(
    driver: &dyn HickoryDriver,
    name: &str,
    reply: Reply,
) -> io::Result<Vec<ServiceRecord>> {
    let zone = Zone::default().set(name, RecordType::HTTPS, reply).set(
        name,
        RecordType::A,
        Reply::Addrs(ms(0), vec![V4]),
    );
    let server = DnsServer::start(zone);
    let (answers, records) = driver.https(server.addr, name);
    assert!(
        answers,
        "{}: the hickory resolver answers HTTPS",
        driver.name()
    );
    records
}

/// ServiceMode records, in answer order: priority, TargetName, alpn, no-default-alpn,
/// port, both hints and the ECH bytes decoded; an unknown key in `mandatory` is kept as its
/// number (so the core refuses the record, RFC 9460 §8) and its value dropped.
pub fn https_records_are_decoded(driver: &dyn HickoryDriver) {
    let v4hint = Ipv4Addr::new(127, 0, 0, 2);
    let v6hint = Ipv6Addr::LOCALHOST;
    let reply = Reply::Https(
        ms(0),
        vec![
            https(
                1,
                ".",
                vec![
                    param::alpn(&["h3", "h2"]),
                    param::port(8443),
                    param::ipv4hint(&[v4hint]),
                    param::ech(ECH),
                    param::ipv6hint(&[v6hint]),
                ],
            ),
            https(
                2,
                "alt.eyeballs.test",
                vec![param::alpn(&["h2"]), param::no_default_alpn()],
            ),
            https(
                3,
                ".",
                vec![
                    param::mandatory(&[1, 65000]),
                    param::alpn(&["h2"]),
                    param::unknown(65000, &[7, 7]),
                ],
            ),
        ],
    );
    let records = https_answer(driver, "svc.eyeballs.test", reply).expect("HTTPS records");
    let expected = vec![
        ServiceRecord::new(1, ".")
            .alpn(["h3", "h2"])
            .port(8443)
            .ipv4_hints([v4hint])
            .ipv6_hints([v6hint])
            .ech(EchConfig::new(ECH)),
        ServiceRecord::new(2, "alt.eyeballs.test")
            .alpn(["h2"])
            .no_default_alpn(true),
        ServiceRecord::new(3, ".")
            .alpn(["h2"])
            .mandatory([1, 65000]),
    ];
    assert_eq!(records, expected, "{}", driver.name());
}

/// AliasMode (priority 0): the target, nothing else.
pub fn https_alias_mode(driver: &dyn HickoryDriver) {
    let reply = Reply::Https(ms(0), vec![https(0, "cdn.eyeballs.test", vec![])]);
    let records = https_answer(driver, "alias.eyeballs.test", reply).expect("HTTPS records");
    assert_eq!(
        records,
        vec![ServiceRecord::alias("cdn.eyeballs.test")],
        "{}",
        driver.name()
    );
}

/// The name a race asks off port 443, `_PORT._https.host` (RFC 9460 §9.1), is asked as
/// given.
pub fn https_port_prefixed_name(driver: &dyn HickoryDriver) {
    let reply = Reply::Https(ms(0), vec![https(1, ".", vec![param::port(9443)])]);
    let name = "_8443._https.svc.eyeballs.test";
    let records = https_answer(driver, name, reply).expect("HTTPS records");
    assert_eq!(
        records,
        vec![ServiceRecord::new(1, ".").port(9443)],
        "{}",
        driver.name()
    );
}

/// A name without HTTPS records (NOERROR, no data) has no services: an empty answer, not
/// an error.
pub fn https_no_data_is_no_records(driver: &dyn HickoryDriver) {
    let records = https_answer(driver, "plain.eyeballs.test", Reply::Https(ms(0), vec![]));
    assert_eq!(records.expect("no data"), vec![], "{}", driver.name());
}

/// NXDOMAIN and SERVFAIL for HTTPS are the same sentences as for addresses.
pub fn https_errors_are_sentences(driver: &dyn HickoryDriver) {
    let server = DnsServer::start(Zone::default());
    let (_, nx) = driver.https(server.addr, "nosuch.eyeballs.test");
    drop(server);
    let err = nx.expect_err("NXDOMAIN");
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert_eq!(
        err.to_string(),
        "nosuch.eyeballs.test: no such name (NXDOMAIN)"
    );
    let servfail = Reply::Code(ms(0), ResponseCode::ServFail);
    let err = https_answer(driver, "broken.eyeballs.test", servfail).expect_err("SERVFAIL");
    assert_eq!(
        err.to_string(),
        "broken.eyeballs.test: the DNS server failed (SERVFAIL)"
    );
}

/// A race that ends while its lookups wait (the server never answers; the race's deadline
/// is 150 ms, hickory's 1 s) leaves no socket and no hickory task behind: at once for an
/// async driver (its lookups are dropped), within hickory's timeout for the blocking one
/// (its lookups finish on their threads).
pub fn abandoned_lookups_leave_nothing(driver: &dyn HickoryDriver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let server = DnsServer::start(zone(Reply::Silent, Reply::Silent));
    let target = format!("{NAME}:{}", lab.port);
    let config = Config::default().timeout(Some(ms(150)));
    settle(driver);
    let baseline = open_fds();
    let started = Instant::now();
    let (result, _) = driver.race(server.addr, Some(ms(1000)), config, &target);
    let err = result.expect_err("no answer");
    assert!(
        matches!(failure(&err).reason(), FailureReason::TimedOut { .. }),
        "{err}"
    );
    assert!(started.elapsed() < ms(900), "the race's deadline ended it");
    let clean = || open_fds() <= baseline && driver.background_tasks().unwrap_or(0) == 0;
    if driver.cancels_lookups() {
        assert_eq!(open_fds(), baseline, "{}: sockets closed", driver.name());
    }
    // Bounded: hickory's 1 s timeout (one try) ends a lookup left to finish, with room for
    // a slow CI.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !clean() && Instant::now() < deadline {
        std::thread::sleep(ms(10));
    }
    assert!(
        clean(),
        "{}: {} descriptors open (had {baseline}), {:?} hickory tasks",
        driver.name(),
        open_fds(),
        driver.background_tasks()
    );
    drop(server);
}
