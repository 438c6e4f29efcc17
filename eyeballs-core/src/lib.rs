//! Happy Eyeballs (RFC 8305, and v3: draft-ietf-happy-happyeyeballs-v3) as a pure,
//! clock-injected state machine.
//!
//! A host name resolves to several IPv6 and IPv4 addresses, and to service records (HTTPS,
//! RFC 9460) that name ports, protocols (QUIC or TCP, ALPN) and ECH keys. Some endpoints
//! connect at once; some hang for a minute. Happy Eyeballs asks DNS in parallel, orders the
//! endpoints (service priority, RFC 6724, families interleaved), starts one attempt, then
//! another every 250 ms (or at once when one fails), keeps the first that connects, and
//! closes the rest.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `serde` | `Report` (with its query and attempt records), `Winner`, `Failure` and the types inside them implement `serde::Serialize`: times in milliseconds (`elapsed_ms`, `started_ms`, ...), names and ALPN ids as text |
//!
//! Without features the crate has no dependencies.
//!
//! # Sans-IO
//!
//! This crate decides; it does nothing. It opens no socket, sends no DNS query, reads no
//! clock, spawns no thread and uses no randomness: time enters only as the `now` argument of
//! every method, so the same inputs always give the same actions. A *driver* — the
//! `eyeballs-tokio`, `eyeballs-async-std` and `eyeballs-blocking` crates, or your own — owns
//! the sockets, timers and resolver, and runs this loop:
//!
//! 1. Make a [`Race`] with [`Race::new`] (or [`Race::with_history`]: see below).
//! 2. Drain [`Race::poll_action`] until it returns `None`, performing each [`Action`]:
//!    [`Action::Resolve`] sends a DNS query, [`Action::Connect`] starts a connection attempt
//!    to an [`Endpoint`] (an address, a [`Transport`], ALPN ids, maybe an ECH config),
//!    [`Action::Cancel`] closes one, [`Action::Finish`] ends the race (it is the last action,
//!    and every loser's `Cancel` comes before it). With ECH on, [`Action::ConnectHeld`] opens
//!    a TCP connection whose ClientHello waits for [`Action::Handshake`] (a driver that cannot
//!    hold one turns [`Config::early_tcp`] off). A driver that feeds the newer inputs performs
//!    their answers too: [`Action::RetryEch`] after [`Input::EchRejected`].
//! 3. Read [`Race::poll_timeout`]: an absolute deadline, or `None`.
//! 4. Wait for the first of: that deadline, a DNS answer, an attempt's outcome.
//! 5. Feed what happened with [`Race::handle_input`] (an [`Input`]), or
//!    [`Race::handle_timeout`] when the deadline passed, then go to 2. A driver that keeps
//!    [`History`] also reports each destination's source address ([`Input::Sources`]):
//!    history is kept per source address, so it never crosses networks (R15).
//!
//! With history, the race never copies the whole store. [`Race::with_history`] copies the
//! entries of the destinations whose source the target gives (a literal's addresses); a
//! driver that shares its history between threads can take that copy under its lock
//! ([`History::copy_for`]) and build the race outside it ([`Race::with_history_copy`]). For
//! the destinations of an answer, the driver does three things in this order, at one `now`:
//!
//! 1. feed [`Input::Sources`] with the answer's new destinations and their sources;
//! 2. call [`Race::handle_history`] with the history, under the lock that guards it (the
//!    race copies the entries of those destinations, O(k log n));
//! 3. feed the answer ([`Input::Resolved`] or [`Input::ResolvedServices`]).
//!
//! Then the race decides exactly as if it held the whole history. When it is over,
//! [`History::record_race`] (under the same lock) records what it learned.
//!
//! After any `handle_*` call at `now`, `poll_timeout()` is `None` or later than `now`, so the
//! loop never spins. Ids that are unknown, late or duplicated are ignored, and time that goes
//! backwards is clamped; no input can make the race panic.
//!
//! # Examples
//!
//! A deterministic driver against an imaginary network, where IPv6 hangs and IPv4 answers in
//! 10 ms. Virtual time jumps from event to event; this is how the crate's own tests work.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant};
//! use eyeballs_core::{Action, Config, Input, Race, Target};
//!
//! let t0 = Instant::now();
//! let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
//! let v4: SocketAddr = "192.0.2.1:443".parse().unwrap();
//! let mut race: Race<&str> = Race::new(Target::addrs([v4, v6]), Config::default(), t0)?;
//!
//! let mut now = t0;
//! let mut pending = Vec::new(); // (time the attempt connects, attempt)
//! let winner = loop {
//!     while let Some(action) = race.poll_action() {
//!         match action {
//!             Action::Connect { attempt, endpoint, .. } if endpoint.addr().is_ipv4() => {
//!                 pending.push((now + Duration::from_millis(10), attempt));
//!             }
//!             Action::Connect { .. } => {} // IPv6 hangs forever
//!             Action::Cancel { attempt } => pending.retain(|&(_, a)| a != attempt),
//!             Action::Finish(_) => break,
//!             _ => {}
//!         }
//!     }
//!     if let Some(Ok(winner)) = race.result() {
//!         break winner.clone();
//!     }
//!     let timer = race.poll_timeout();
//!     let io = pending.iter().min().copied();
//!     match (timer, io) {
//!         (Some(t), Some((at, _))) if t < at => {
//!             now = t;
//!             race.handle_timeout(now);
//!         }
//!         (_, Some((at, attempt))) => {
//!             now = at;
//!             pending.retain(|&(_, a)| a != attempt);
//!             race.handle_input(Input::Connected { attempt }, now);
//!         }
//!         (Some(t), None) => {
//!             now = t;
//!             race.handle_timeout(now);
//!         }
//!         (None, None) => unreachable!("a race always has a timer or I/O in flight"),
//!     }
//! };
//! // IPv6 goes first (RFC 8305 §4); IPv4 starts 250 ms later (§5) and connects 10 ms after.
//! assert_eq!(winner.addr(), v4);
//! assert_eq!(now - t0, Duration::from_millis(260));
//! # Ok::<(), eyeballs_core::ConfigError>(())
//! ```
//!
//! The same loop with real sockets, blocking: one thread per attempt (a real driver uses
//! non-blocking sockets and one poller, as `eyeballs-blocking` does), answers over a channel,
//! and `recv_timeout` up to the race's deadline.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::net::{SocketAddr, TcpListener, TcpStream};
//! use std::sync::mpsc;
//! use std::time::{Duration, Instant};
//! use eyeballs_core::{Action, Config, Input, Race, Target};
//!
//! fn connect(addrs: Vec<SocketAddr>) -> std::io::Result<TcpStream> {
//!     let mut race = Race::new(Target::addrs(addrs), Config::default(), Instant::now())
//!         .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
//!     let (tx, rx) = mpsc::channel();
//!     let mut streams = BTreeMap::new();
//!     loop {
//!         while let Some(action) = race.poll_action() {
//!             match action {
//!                 Action::Connect { attempt, endpoint, .. } => {
//!                     let tx = tx.clone();
//!                     std::thread::spawn(move || {
//!                         let _ = tx.send((attempt, TcpStream::connect(endpoint.addr())));
//!                     });
//!                 }
//!                 // A cancelled attempt's stream is dropped, so closed, when it arrives.
//!                 Action::Cancel { .. } => {}
//!                 Action::Finish(Ok(winner)) => {
//!                     return Ok(streams.remove(&winner.attempt()).expect("winner's stream"));
//!                 }
//!                 Action::Finish(Err(failure)) => {
//!                     return Err(std::io::Error::other(failure.to_string()));
//!                 }
//!                 _ => {}
//!             }
//!         }
//!         let wait = race
//!             .poll_timeout()
//!             .map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(Instant::now()));
//!         match rx.recv_timeout(wait) {
//!             Ok((attempt, Ok(stream))) => {
//!                 streams.insert(attempt, stream);
//!                 race.handle_input(Input::Connected { attempt }, Instant::now());
//!             }
//!             Ok((attempt, Err(error))) => {
//!                 race.handle_input(Input::ConnectFailed { attempt, error }, Instant::now());
//!             }
//!             Err(_) => race.handle_timeout(Instant::now()),
//!         }
//!     }
//! }
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//! let closed = TcpListener::bind("127.0.0.2:0").map(|l| l.local_addr().unwrap())?;
//! // 127.0.0.2's listener is gone when `closed` is made, so that address refuses.
//! let stream = connect(vec![closed, SocketAddr::from(([127, 0, 0, 1], port))])?;
//! assert_eq!(stream.peer_addr()?.port(), port);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! An async driver has the same shape: wait with `select` on the DNS futures, the attempt
//! futures and a sleep until `poll_timeout()`.
//!
//! ```
//! use std::time::Instant;
//! use eyeballs_core::{Action, AttemptId, Endpoint, Input, Name, QueryId, QueryKind, Race};
//!
//! /// What the runtime provides; `eyeballs-tokio` implements this loop with tokio.
//! trait Runtime {
//!     type Stream;
//!     fn now(&self) -> Instant;
//!     fn resolve(&mut self, query: QueryId, name: &Name, kind: QueryKind);
//!     fn connect(&mut self, attempt: AttemptId, endpoint: &Endpoint);
//!     fn cancel(&mut self, attempt: AttemptId);
//!     fn take(&mut self, attempt: AttemptId) -> Self::Stream;
//!     /// Waits for the next DNS answer or attempt outcome, or until `deadline`.
//!     async fn next_event(&mut self, deadline: Option<Instant>) -> Option<Input<std::io::Error>>;
//! }
//!
//! async fn drive<R: Runtime>(mut race: Race<std::io::Error>, rt: &mut R)
//!     -> Result<R::Stream, eyeballs_core::Failure<std::io::Error>>
//! {
//!     loop {
//!         while let Some(action) = race.poll_action() {
//!             match action {
//!                 Action::Resolve { query, name, kind, .. } => rt.resolve(query, &name, kind),
//!                 Action::Connect { attempt, endpoint, .. } => rt.connect(attempt, &endpoint),
//!                 Action::Cancel { attempt } => rt.cancel(attempt),
//!                 Action::Finish(result) => return result.map(|w| rt.take(w.attempt())),
//!                 _ => {}
//!             }
//!         }
//!         match rt.next_event(race.poll_timeout()).await {
//!             Some(input) => race.handle_input(input, rt.now()),
//!             None => race.handle_timeout(rt.now()),
//!         }
//!     }
//! }
//! ```
//!
//! Happy Eyeballs v3: the race asks for HTTPS records too, and races QUIC and TCP
//! endpoints. Here the record offers `h3` and `h2` with an IPv6 hint; the race starts on the
//! hint (V10) over QUIC, then TCP to the same address 50 ms later (HG1; V29 lets
//! the delay differ per attempt: [`Config::tcp_after_quic_delay`]).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use eyeballs_core::{Action, Config, Input, Protocols, QueryKind, Race, ServiceRecord};
//! use eyeballs_core::{Target, Transport};
//!
//! let t0 = Instant::now();
//! let target = Target::host("example.test", 443).https(true).protocols(Protocols::http());
//! let mut race: Race<String> = Race::new(target, Config::default(), t0)?;
//! let mut queries = Vec::new();
//! while let Some(Action::Resolve { query, kind, .. }) = race.poll_action() {
//!     queries.push((query, kind));
//! }
//! let kinds: Vec<QueryKind> = queries.iter().map(|(_, k)| *k).collect();
//! assert_eq!(kinds, [QueryKind::Https, QueryKind::Aaaa, QueryKind::A]); // V3
//!
//! // example.test. HTTPS 1 . alpn=h3,h2 ipv6hint=2001:db8::1
//! let record = ServiceRecord::new(1, ".")
//!     .alpn(["h3", "h2"])
//!     .ipv6_hints(["2001:db8::1".parse().unwrap()]);
//! let at = t0 + Duration::from_millis(5);
//! race.handle_input(Input::ResolvedServices { query: queries[0].0, records: vec![record] }, at);
//! let Some(Action::Connect { endpoint, .. }) = race.poll_action() else { panic!() };
//! assert_eq!(endpoint.transport(), Transport::Quic);
//! assert_eq!(endpoint.to_string(), "QUIC [2001:db8::1]:443 h3");
//!
//! assert_eq!(race.poll_timeout(), Some(at + Duration::from_millis(50)));
//! race.handle_timeout(at + Duration::from_millis(50));
//! let Some(Action::Connect { endpoint, .. }) = race.poll_action() else { panic!() };
//! assert_eq!(endpoint.to_string(), "TCP [2001:db8::1]:443 h2,http/1.1"); // V39
//! # Ok::<(), eyeballs_core::ConfigError>(())
//! ```
//!
//! # RFC 8305 map
//!
//! The requirement ids (R1–R40, G1–G6) are those of the project's RFC 8305 checklist.
//!
//! | RFC 8305 | What | Where |
//! |---|---|---|
//! | §3 R1 | AAAA asked before A | [`Target::host`], [`Action::Resolve`] |
//! | §3 R2, R4, R6 | start on the first positive AAAA answer | [`Race::handle_input`] |
//! | §3 R5, R7, G5 | Resolution Delay after a positive A answer | [`Config::resolution_delay`] |
//! | §3 R8, §6 R33, G6 | late answers merged at their sorted place | [`Input::Resolved`], [`Input::AddressesChanged`] |
//! | §4 R11, R12 | all addresses, sorted by RFC 6724 §6, all ten rules (source facts from the driver) | [`Target`], [`Source`], `sort` module docs |
//! | §4 R13, R14 | prefer lower RTT / used addresses | [`History`] |
//! | §4 R15, R16 | history per source address (network), clearable | [`Path`], [`Input::Sources`], [`Race::handle_history`], [`History::clear`] |
//! | §4 R17, R18 | families interleaved, First Address Family Count | [`Config::first_address_family_count`], [`FamilyPolicy`] |
//! | §5 R20, R21 | staggered attempts that keep running | [`Action::Connect`] |
//! | §5 R22, R23 | cancel the losers, ignore untried addresses | [`Action::Cancel`], [`Action::Finish`] |
//! | §5 R24, R25 | outstanding DNS may be dropped or left to fill a cache | [`Action::Finish`] |
//! | §5 R26–R30 | Connection Attempt Delay, its bounds, the 10 ms floor | [`Config::connection_attempt_delay`], [`ATTEMPT_START_FLOOR`] |
//! | §5 G1 | a failure starts the next attempt at once | [`Input::ConnectFailed`] |
//! | §6 R31, R32 | address removals spare started attempts | [`Input::AddressesChanged`] |
//! | §7 R34, R36, R38 | NAT64 synthesis, for IPv4 without an IPv4 route (literals, A answers, a VPN's) | [`Nat64Prefix`], [`Config::nat64`] |
//! | §7 R35 | an IPv6-only network judged from the driver's source facts | [`Race::is_ipv6_only`] |
//! | §7 R37 | a broken AAAA costs one delay: with a prefix, A is asked at once | [`Config::nat64`] |
//! | G2 | "established" is the adapter's call (TCP or TLS) | [`Input::Connected`] |
//! | G3 | no failure while DNS is outstanding | [`FailureReason`] |
//! | G4 | optional overall deadline | [`Config::timeout`] |
//!
//! Not here, by design: R3, R9, R10 and R25 belong to the resolver and the adapters; so do
//! finding the NAT64 prefix (RFC 7050: [`Nat64Prefix::discover`] reads its answer) and the
//! source facts R35 is judged from.
//!
//! # Happy Eyeballs v3 map
//!
//! The ids (V1–V62, HG1–HG22) are those of the project's HEv3 checklist
//! (draft-ietf-happy-happyeyeballs-v3-04, its editor's copy, RFC 9849, RFC 6052), defined in
//! [`requirements`].
//!
//! | HEv3 | What | Where |
//! |---|---|---|
//! | §4.1 V1–V3 | HTTPS query (`_PORT._https.HOST` off 443), then AAAA, A | [`Target::https`], [`Target::https_query_name`] |
//! | §4.2 V5–V7, HG7, HG9 | start on an address plus the preferred family and service info, or after the Resolution Delay | [`Race::handle_input`] |
//! | §4.2.1 V8, V9, V11 | AliasMode chains (capped: a setting), `.` targets, the alias target as last resort | [`ServiceRecord::alias`], [`Config::max_alias_depth`], [`Provenance::AliasFallback`] |
//! | §4.2.1 V10, V43, HG8 | hints until the TargetName's answer replaces them; follow-up AAAA/A | [`ServiceRecord::ipv6_hints`] |
//! | 9460 V12 | unknown mandatory keys, inconsistent records dropped | [`ServiceRecord::mandatory`] |
//! | §5 V15–V21 | groups by service priority (seeded shuffle of ties), plain addresses last | [`Config::seed`], [`Provenance`] |
//! | §5.3 V22–V25 | RFC 6724 and history within a group; families interleaved | [`History`], [`Config::first_address_family_count`] |
//! | §6 HG1, HG2, HG3 | QUIC and TCP of one address dealt QUIC first; TCP first when history says QUIC fails here | [`Config::prefer_tcp`], [`History::is_transport_failing`] |
//! | §5.3 V24, HG3 | history that converges: a lost QUIC attempt is weak evidence, UDP blocked needs two destinations, QUIC re-probed every 8 races | [`History::record_loss`], [`History::reprobe_every`] |
//! | §6 V26–V31 | staggered attempts, delays and bounds as RFC 8305 | [`Config`] |
//! | §6 V29, V58, HG13, HG16 | delay schedules (fixed, base × multiplier, from RTT history); TCP after QUIC to one address sooner | [`DelaySchedule`], [`Config::tcp_after_quic_delay`] |
//! | §6.1 V32, V33, HG10 | "established" is the driver's call; progress extends the timer | [`Input::Progressed`], [`Input::Connected`] |
//! | §6.2 V38–V40, V42 | ALPN sets intersected, every caller id offered per transport, port key | [`Protocols`], [`Endpoint::alpn`] |
//! | §6.1 V34, V35, HG6 | ECH: no ClientHello before service info; no endpoint without ECH once a record has it | [`Config::ech`], [`Failure::skipped_without_ech`] |
//! | §6.1, §6.3 V34, V55, HG15 | early TCP: connects at its time, its ClientHello held until the HTTPS answer, then sent with its ECH config; QUIC waits | [`Action::ConnectHeld`], [`Action::Handshake`], [`Config::early_tcp`] |
//! | §6.3, 9460 §3.1 V36, HG21 | protected DNS: a failed HTTPS query gives the connection up | [`Config::protected_dns`], [`FailureReason::ServiceQueryFailed`] |
//! | §11, 9460 §9.5 V37, HG21 | an `http` origin: cleartext held on protected DNS until the HTTPS answer, a positive one means TLS | [`Target::http_origin`], [`FailureReason::UpgradeToHttps`] |
//! | §7 V46, HG22 | a DNS update fires the next attempt early when the last one is past its expected time (RTT schedule) | [`DelaySchedule::Rtt`] |
//! | RFC 9849 V54, HG14 | ECH rejected with retry configs: the same attempt dials again with them, once | [`Input::EchRejected`], [`Action::RetryEch`] |
//! | §7 V44, V45 | removed endpoints spare started attempts; late endpoints re-sorted in | [`Input::AddressesChanged`] |
//! | §4.4 V13, HG18 | optimistic DNS: an expired answer races at once, the fresh one merged as a late answer | [`Input::ResolvedStale`], [`Input::ResolvedServicesStale`] |
//! | 9460 §9.3 V41, V59, HG5, HG17, HG19 | Alt-Svc alternatives: a group of their own after the records', own queries, held to their HTTPS records and protocols; the first start waits for their answers within the Resolution Delay | [`AltService`], [`Target::alt_svc`], [`Provenance::AltSvc`] |
//! | V60, HG20 | proxies: the race runs over the proxy's endpoints (TCP only), every attempt asks the proxy for the origin by name; the origin's HTTPS record, when asked, gives ALPN and ECH only | [`Target::proxied`], [`Target::origin`] |
//! | HG11 | duplicate endpoints tried once, at the best place | [`Endpoint`] |
//! | HG12 | no failure while any query (aliases, TargetNames) is outstanding | [`FailureReason`] |
//! | HEAD §8 V50–V52, V57, V62 | NAT64: A always asked with a prefix; DNS64 addresses de-synthesized, grouped and sorted as IPv4; IPv4 without a route synthesized; never the well-known prefix for non-global IPv4 | [`Config::nat64`], [`Endpoint::nat64_ipv4`], [`Nat64Prefix::extract`] |
//!
//! Not here: V60 (proxies) is not built; whether DNS is protected (V36) is the caller's
//! word, and the upgrade's TLS connect (V37) the driver's; V14, V47's
//! detection and V50's prefix discovery belong to drivers and resolvers (the core judges
//! R35 from their facts); re-querying for optimistic DNS (V13) is the driver's, the core
//! takes the answers.
//!
//! # Why `std`
//!
//! The core needs only `core` and `alloc` in spirit, but it takes `std::time::Instant` for
//! `now`. `no_std` would need a generic time type on every public item (`Race<E, T>`,
//! `History<T>`, ...), which makes every std user's signatures noisier, for embedded users
//! who do not exist yet. When one does, a `Time` trait with `Instant` as the default type is
//! the path.

mod alt_svc;
mod candidates;
mod config;
mod endpoint;
mod error;
mod event;
mod history;
mod host;
mod id;
mod name;
mod nat64;
mod race;
mod record;
mod report;
mod resolution;
mod rng;
#[cfg(feature = "serde")]
mod serde_impls;
mod service;
mod small;
mod sort;
mod source;
mod target;

#[doc = include_str!("../docs/requirements.md")]
pub mod requirements {}

pub use alt_svc::AltService;
pub use candidates::MAX_ENDPOINTS;
pub use config::{
    Config, ConfigError, DelaySchedule, FamilyPolicy, ATTEMPT_START_FLOOR,
    CONNECTION_ATTEMPT_DELAY, MAX_ALIAS_DEPTH, MAX_CONNECTION_ATTEMPT_DELAY,
    MIN_CONNECTION_ATTEMPT_DELAY, RESOLUTION_DELAY, TCP_AFTER_QUIC_DELAY,
};
pub use endpoint::{Alpn, EchConfig, Endpoint, Protocols, Provenance, Transport};
pub use error::{
    FailedAttempt, FailedQuery, Failure, FailureReason, Winner, FAILURE_DISPLAY_LIMIT,
};
pub use event::{Action, Input};
pub use history::{
    History, HistoryCopy, Path, HISTORY_CAPACITY, HISTORY_TTL, LOSSES_TO_FAIL,
    QUIC_REPROBE_INTERVAL, TRANSPORT_FAILURE_QUORUM,
};
pub use host::{Host, HostError, HostPort, ToHostPort};
pub use id::{AttemptId, QueryId, QueryKind};
pub use name::Name;
pub use nat64::{Nat64Error, Nat64Prefix};
pub use race::{Race, MAX_SOURCES};
pub use record::{AttemptRecord, AttemptStatus, QueryRecord};
pub use report::{AttemptReport, QueryReport, Report};
pub use resolution::{
    MAX_ALT_SERVICES, MAX_ALT_SERVICE_RECORDS, MAX_ANSWER_ADDRS, MAX_ANSWER_RECORDS,
    MAX_TARGET_NAMES,
};
pub use service::{ServiceRecord, MAX_HINTS, MAX_SERVICE_RECORDS};
pub use source::Source;
pub use target::Target;
