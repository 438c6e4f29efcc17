//! The simulator: races run by the connectors' own race runner against a [`Network`], in
//! virtual time.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_core::{
    Alpn, Config, Endpoint, Failure, History, Protocols, QueryKind, Report, ServiceRecord,
    ToHostPort,
};

use super::error::ScriptError;
use super::network::Network;
use super::script::Script;
use crate::alt_svc::AltSvcStore;
use crate::connector::{Settings, SharedHistory, SpareRace, HANDSHAKE_TIMEOUT};
use crate::resolve::cache::SharedDnsCache;
use crate::resolve::{DnsCache, Resolve, Resolving, ResolvingServices};
use crate::runner::sim_loop::{self, Event, Outcome};
use crate::runner::Plan;
use crate::sockets::{SocketOptions, Sources};

/// The default seed of a simulator's shuffle of equal service priorities.
pub const SEED: u64 = 0x5eed;

/// Runs races against a scripted [`Network`] in virtual time, through the race runner
/// every eyeballs connector uses: the same DNS handling, attempt bookkeeping, handshake
/// deadlines, history and report, with no socket, no thread and no real wait. The clock
/// jumps from event to event, so a race that takes ten virtual seconds runs in
/// microseconds, and the same script, configuration and seed give the same [`Run`] every
/// time.
///
/// The clock runs on from race to race, and the history (on by default) is carried over,
/// as a connector's is: a second race to a host whose QUIC failed goes TCP first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_net::sim::{Network, Peer, Sim};
///
/// let ms = Duration::from_millis;
/// let network = Network::new()
///     .aaaa("example.test", ["2001:db8::1"])
///     .a("example.test", ["192.0.2.1"])
///     .tcp("[2001:db8::1]:443", Peer::hang())
///     .tcp("192.0.2.1:443", Peer::accept(ms(10)));
/// let mut sim = Sim::new(network)?;
/// let first = sim.connect("example.test:443");
/// assert_eq!(first.elapsed(), ms(260));
/// // The history knows IPv6 failed from here, and IPv4 worked: IPv4 goes first.
/// let second = sim.connect("example.test:443");
/// assert_eq!(second.elapsed(), ms(10));
/// # Ok::<(), eyeballs_net::sim::ScriptError>(())
/// ```
pub struct Sim {
    script: Arc<Script>,
    settings: Settings,
    seed: u64,
    start: Instant,
    now: Instant,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("settings", &self.settings)
            .field("seed", &self.seed)
            .field("elapsed", &self.elapsed())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Sim`]: the race configuration, the seed, the handshake timeout, the history.
#[derive(Debug, Clone)]
pub struct SimBuilder {
    network: Network,
    config: Config,
    seed: u64,
    handshake_timeout: Duration,
    history: Option<History>,
    dns_cache: Option<DnsCache>,
}

impl Sim {
    /// A simulator with RFC 8305's defaults, history on, the seed [`SEED`], and the
    /// connectors' handshake timeout.
    ///
    /// # Errors
    ///
    /// A [`ScriptError`] for a script that cannot happen.
    pub fn new(network: Network) -> Result<Sim, ScriptError> {
        Sim::builder(network).build()
    }

    /// Starts a builder.
    pub fn builder(network: Network) -> SimBuilder {
        SimBuilder {
            network,
            config: Config::default(),
            seed: SEED,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            history: Some(History::new()),
            dns_cache: None,
        }
    }

    /// Races to `target` over TCP (RFC 8305): an attempt counts when its TCP connect does,
    /// and no HTTPS query is asked, as `Connector::connect` does.
    pub fn connect<T: ToHostPort>(&mut self, target: T) -> Run {
        let plan = self.plan(Protocols::new(), false);
        self.run(target, plan, false)
    }

    /// Races to the `http` origin `target` over TCP, as `Connector::connect_http` does: the
    /// HTTPS query of its `https` form is asked too (V37, RFC 9460 §9.5); with
    /// `Config::protected_dns` TCP is held until its answer, and a ServiceMode record
    /// fails the race with `FailureReason::UpgradeToHttps`.
    pub fn connect_http<T: ToHostPort>(&mut self, target: T) -> Run {
        let mut plan = self.plan(Protocols::new(), false);
        plan.http_origin = true;
        self.run(target, plan, false)
    }

    /// Races to `target` with Happy Eyeballs v3, as `Connector::connect_tls` does: the HTTPS
    /// records are asked too, endpoints offer `protocols` (`Protocols::http()`: h3 over
    /// QUIC, h2 and http/1.1 over TCP), and an attempt counts when its TLS or QUIC
    /// handshake is done (HEv3 §6.1). The simulated client accepts every certificate and
    /// can send ECH (endpoints carry ECH with `Config::ech(true)`).
    pub fn connect_tls<T: ToHostPort>(&mut self, target: T, protocols: &Protocols) -> Run {
        let plan = self.plan(protocols.clone(), true);
        self.run(target, plan, true)
    }

    /// Lets `by` pass on the virtual clock before the next race (history ages, say).
    pub fn advance(&mut self, by: Duration) {
        // A time `Instant` cannot hold is a clock that stops at its end.
        self.now = self.now.checked_add(by).unwrap_or(self.now);
    }

    /// Returns the virtual time since the simulator was made.
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.start)
    }

    /// Changes the network from the next race on: DNS answers, peers, the host's side.
    /// The clock, the history and the DNS cache stay, as a connector's do when a zone's
    /// answer changes or a server moves.
    ///
    /// # Errors
    ///
    /// A [`ScriptError`] for a script that cannot happen; the network is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_net::sim::{Answer, Network, Peer, Sim};
    /// use eyeballs_net::DnsCache;
    /// use eyeballs_core::QueryKind;
    ///
    /// let ms = Duration::from_millis;
    /// let network = |addr: &str| {
    ///     Network::new()
    ///         .dns("example.test", QueryKind::A, Answer::addrs([addr]).after(ms(20)).ttl(ms(1000)))
    ///         .tcp("192.0.2.1:80", Peer::accept(ms(10)))
    ///         .tcp("192.0.2.2:80", Peer::accept(ms(10)))
    /// };
    /// let mut sim = Sim::builder(network("192.0.2.1")).dns_cache(Some(DnsCache::new())).build()?;
    /// assert_eq!(sim.connect("example.test:80").elapsed(), ms(20 + 10));
    /// sim.change_network(network("192.0.2.2"))?;
    /// // Within its TTL, the cached answer holds: no query, and the old address.
    /// let run = sim.connect("example.test:80");
    /// assert_eq!(run.winner().map(|e| e.addr()), Some("192.0.2.1:80".parse()?));
    /// assert_eq!(run.elapsed(), ms(10));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn change_network(&mut self, network: Network) -> Result<(), ScriptError> {
        let script = Arc::new(Script::new(&network)?);
        self.settings.sources = sources(&script);
        self.script = script;
        Ok(())
    }

    /// Returns how many answers the DNS cache holds (0 when it is off).
    pub fn dns_cache_entries(&self) -> usize {
        self.settings.dns_cache.len()
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub fn history(&self) -> Option<History> {
        self.settings.history.snapshot()
    }

    /// Forgets the history (as `Connector::clear_history`: the network changed).
    pub fn clear_history(&self) {
        self.settings.history.clear();
    }

    fn plan(&self, protocols: Protocols, https: bool) -> Plan {
        let mut config = self.settings.config;
        if let Some(prefix) = self.script.nat64 {
            config = config.nat64(Some(prefix));
        }
        Plan {
            config,
            protocols,
            https,
            http_origin: false,
            report: true,
            seed: Some(self.seed),
        }
    }

    fn run<T: ToHostPort>(&mut self, target: T, plan: Plan, tls: bool) -> Run {
        let target = match target.to_host_port() {
            Ok(target) => target,
            Err(e) => {
                return Run::from(Outcome {
                    result: Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
                    report: None,
                    events: Vec::new(),
                    stuck: false,
                    end: self.now,
                })
            }
        };
        let outcome = sim_loop::run(&self.settings, &target, plan, &*self.script, tls, self.now);
        self.now = outcome.end;
        Run::from(outcome)
    }
}

impl SimBuilder {
    /// Sets the race configuration (see [`Config`]); a [`Network::nat64`] prefix is added
    /// to it.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the seed of the shuffle of services of equal priority (HEv3 §5.2, V20; default
    /// [`SEED`]). Real connectors draw a fresh one per race.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how long a TLS or QUIC handshake may take before its attempt fails as stalled
    /// (default the connectors' 10 s, `eyeballs_net::HANDSHAKE_TIMEOUT`).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Turns the history on (the default) or off.
    pub fn history(mut self, on: bool) -> Self {
        self.history = on.then(|| self.history.take().unwrap_or_default());
        self
    }

    /// Starts from this history, and turns it on.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = Some(history);
        self
    }

    /// Turns a DNS cache on (`Some`) or off (`None`, the default), as
    /// [`ConnectorBuilder::dns_cache`](crate::ConnectorBuilder::dns_cache) does: answers
    /// scripted with a TTL ([`Answer::ttl`](super::Answer::ttl)) are kept, used without a
    /// query while fresh, and raced at once while the query runs once expired.
    pub fn dns_cache(mut self, cache: Option<DnsCache>) -> Self {
        self.dns_cache = cache;
        self
    }

    /// Checks the script and the settings, and builds the simulator. Its virtual clock
    /// starts now (only times relative to it matter: reports count from each race's
    /// start).
    ///
    /// # Errors
    ///
    /// A [`ScriptError`] for a script that cannot happen, a configuration that cannot
    /// work, or a zero handshake timeout.
    pub fn build(self) -> Result<Sim, ScriptError> {
        self.config.validate()?;
        if self.handshake_timeout.is_zero() {
            return Err(ScriptError::HandshakeTimeout);
        }
        let script = Arc::new(Script::new(&self.network)?);
        let mut settings = settings(&script, self.config, self.history, self.handshake_timeout);
        settings.dns_cache = SharedDnsCache::new(self.dns_cache);
        // The one clock reading of a simulator: every virtual time is an offset from it.
        let start = Instant::now();
        Ok(Sim {
            script,
            settings,
            seed: self.seed,
            start,
            now: start,
        })
    }
}

/// The settings of a simulated connector: the script's host gives the source facts.
pub(crate) fn settings(
    script: &Arc<Script>,
    config: Config,
    history: Option<History>,
    handshake_timeout: Duration,
) -> Settings {
    Settings {
        config,
        socket: SocketOptions::new(),
        resolver: Arc::new(Answers),
        history: SharedHistory::new(history),
        dns_cache: SharedDnsCache::default(),
        sources: sources(script),
        handshake_timeout,
        alt_svc: AltSvcStore::default(),
        proxy: None,
        spare: SpareRace::default(),
    }
}

/// The source facts of the script's host.
fn sources(script: &Arc<Script>) -> Sources {
    let host = script.clone();
    Sources::Given(Arc::new(move |dest| Some(host.fact(dest))))
}

/// The resolver a [`Sim`]'s runner sees: it answers AAAA, A and HTTPS separately. The
/// simulated loop answers from the script itself; these answers are never awaited.
struct Answers;

impl Resolve for Answers {
    fn resolve(&self, _: &str, _: QueryKind) -> Resolving {
        Box::pin(std::future::pending())
    }

    fn resolve_https(&self, _: &str) -> ResolvingServices {
        Box::pin(std::future::pending::<io::Result<Vec<ServiceRecord>>>())
    }

    fn answers_https(&self) -> bool {
        true
    }
}

/// One simulated race: its winner or error, its report, and what the network saw.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_net::sim::{Event, Network, Peer, Sim};
///
/// let network = Network::new()
///     .a("example.test", ["192.0.2.1"])
///     .tcp("192.0.2.1:443", Peer::refuse(Duration::from_millis(3)));
/// let run = Sim::new(network)?.connect("example.test:443");
/// assert!(run.winner().is_none());
/// assert_eq!(run.error().map(|e| e.kind()), Some(std::io::ErrorKind::ConnectionRefused));
/// assert!(run.events().iter().any(|(t, e)| matches!(e, Event::Failed { .. }) && *t == Duration::from_millis(3)));
/// # Ok::<(), eyeballs_net::sim::ScriptError>(())
/// ```
#[derive(Debug)]
pub struct Run {
    winner: Option<(Endpoint, Option<Alpn>)>,
    error: Option<io::Error>,
    report: Option<Report>,
    events: Vec<(Duration, Event)>,
    stuck: bool,
}

impl From<Outcome> for Run {
    fn from(outcome: Outcome) -> Self {
        let (winner, error) = match outcome.result {
            Ok(won) => (Some((won.endpoint, won.alpn)), None),
            Err(e) => (None, Some(e)),
        };
        Run {
            winner,
            error,
            report: outcome.report,
            events: outcome.events,
            stuck: outcome.stuck,
        }
    }
}

impl Run {
    /// Returns the endpoint that won, or `None` when the race failed.
    pub fn winner(&self) -> Option<&Endpoint> {
        self.winner.as_ref().map(|(e, _)| e)
    }

    /// Returns the ALPN id the winner's server chose (TLS and QUIC races).
    pub fn alpn(&self) -> Option<&Alpn> {
        self.winner.as_ref().and_then(|(_, a)| a.as_ref())
    }

    /// Returns the error a connector would have returned, or `None` when the race won.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Returns the race's [`Failure`] (every attempt's and query's error), when it failed.
    pub fn failure(&self) -> Option<&Failure<io::Error>> {
        self.error
            .as_ref()?
            .get_ref()?
            .downcast_ref::<Failure<io::Error>>()
    }

    /// Returns the report: DNS answers, attempts with their times, the winner. `None` only
    /// for a race that could not start (a target that does not parse).
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Returns how long the race took, in virtual time.
    pub fn elapsed(&self) -> Duration {
        self.report.as_ref().map_or(Duration::ZERO, Report::elapsed)
    }

    /// Returns every attempt's start, as (time since the race started, `"TRANSPORT
    /// address"`), in order: the timeline tests assert on.
    pub fn tries(&self) -> Vec<(Duration, String)> {
        let Some(report) = &self.report else {
            return Vec::new();
        };
        report
            .attempts()
            .iter()
            .map(|a| {
                let e = &a.endpoint;
                (a.started, format!("{} {}", e.transport(), e.addr()))
            })
            .collect()
    }

    /// Returns what the network saw, in order, with times since the race started.
    pub fn events(&self) -> &[(Duration, Event)] {
        &self.events
    }

    /// Returns whether the race would have waited forever (something in flight never
    /// ends and there is no deadline): the simulator then aborts it, so a test fails
    /// instead of hanging. Set `Config::timeout` to see the connector's own timeout
    /// instead.
    pub fn is_stuck(&self) -> bool {
        self.stuck
    }
}
