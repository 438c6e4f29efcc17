//! The proxy scenarios (HEv3 V60, HG20), written once and run by every driver through
//! [`scenarios::run_all`](crate::scenarios::run_all) (plain TCP) and
//! [`tls_scenarios::run_all`](crate::tls_scenarios::run_all) (TLS, feature `tls`): the race
//! runs over the proxy's addresses, the lab proxy resolves the host through the test's
//! map, the client asks DNS about the proxy only, refusals are typed errors naming proxy
//! and host, and a proxy that stalls fails in bounded time.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use eyeballs_core::{AttemptStatus, Config, Failure, Report};
use eyeballs_net::{AttemptError, AttemptErrorKind, Proxy, ProxyError, ProxyKind, StaticResolver};

use crate::loopback::{V4, V6};
use crate::proxy::{ProxyServe, ProxyServer};
use crate::scenarios::{Driver, Outcome, Setup};
use crate::servers::{hang, Hung};

/// The proxy's name, the only name the client resolves.
pub const PROXY_NAME: &str = "proxy.eyeballs.test";
/// The host asked for through the proxy; only the proxy's map knows it.
const ORIGIN: &str = "origin.eyeballs.test";

const KINDS: [ProxyKind; 2] = [ProxyKind::HttpConnect, ProxyKind::Socks5];

/// A lab proxy of `kind` on 127.0.0.1 that maps `origin` to 127.0.0.1.
pub(crate) fn proxy_on_v4(kind: ProxyKind, origin: &str, serve: ProxyServe) -> ProxyServer {
    let listener = TcpListener::bind((V4, 0)).expect("a listener on 127.0.0.1");
    ProxyServer::start(kind, listener, &[(origin, V4)], serve).expect("a lab proxy")
}

/// A lab proxy on 127.0.0.1 and, on the same port of `::1`, a listener that hangs.
fn proxy_behind_hung_v6(kind: ProxyKind, origin: &str) -> (ProxyServer, Hung) {
    for _ in 0..50 {
        let listener = TcpListener::bind((V4, 0)).expect("a listener on 127.0.0.1");
        let port = listener.local_addr().expect("its address").port();
        if let Ok(hung) = hang(SocketAddr::new(V6, port)) {
            let p = ProxyServer::start(kind, listener, &[(origin, V4)], ProxyServe::Tunnel)
                .expect("a lab proxy");
            return (p, hung);
        }
    }
    panic!("no port free on both ::1 and 127.0.0.1 in 50 tries");
}

/// The setup of a connector through `proxy` whose resolver knows the proxy's name only.
fn through(proxy: Proxy, proxy_ips: &[std::net::IpAddr]) -> Setup {
    let resolver = StaticResolver::new().host(PROXY_NAME, proxy_ips.iter().copied());
    let mut setup = Setup::new(resolver, Config::default(), false);
    setup.proxy = Some(proxy);
    setup
}

fn report(out: &Outcome) -> &Report {
    out.1
        .as_ref()
        .unwrap_or_else(|| panic!("no report: {:?}", out.0))
}

/// Asserts that the client asked DNS about the proxy only (V60: the proxy resolves the
/// host).
pub(crate) fn asked_only_the_proxy(driver: &str, r: &Report) {
    assert!(
        !r.queries().is_empty(),
        "{driver}: the proxy's name is resolved:\n{r}"
    );
    for q in r.queries() {
        assert_eq!(
            q.name.as_str(),
            PROXY_NAME,
            "{driver}: a query not for the proxy:\n{r}"
        );
    }
}

/// Waits (at most 5 s) for a connection on a non-blocking `listener`.
fn accepted_within(listener: &TcpListener) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if listener.accept().is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The typed proxy error of every failed attempt of a failed connect.
pub(crate) fn proxy_errors(
    driver: &str,
    err: &io::Error,
) -> Vec<(AttemptErrorKind, Option<ProxyError>)> {
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .unwrap_or_else(|| panic!("{driver}: not a race failure: {err}"));
    failure
        .attempts()
        .iter()
        .map(|a| {
            let error = a.error.as_ref().expect("the attempt ended with an error");
            let e = AttemptError::of(error).unwrap_or_else(|| panic!("{driver}: untyped: {error}"));
            let proxy = std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<ProxyError>())
                .cloned();
            (e.kind(), proxy)
        })
        .collect()
}

/// V60 over plain TCP, HTTP CONNECT and SOCKS5: the connect to the host by name goes
/// through the proxy (the stream's peer is the proxy), the proxy was asked for the host by
/// name and port and reached it, and the client resolved nothing but the proxy's name.
pub fn tcp_through_proxies(driver: &dyn Driver) {
    for kind in KINDS {
        let origin = TcpListener::bind((V4, 0)).expect("an origin on 127.0.0.1");
        origin.set_nonblocking(true).expect("non-blocking");
        let port = origin.local_addr().expect("its address").port();
        let p = proxy_on_v4(kind, ORIGIN, ProxyServe::Tunnel);
        let proxy = Proxy::new(kind, (PROXY_NAME, p.addr().port())).expect("a proxy");
        let c = driver.connector(through(proxy, &[V4]));
        let out = c.connect(&format!("{ORIGIN}:{port}"));
        let r = report(&out).clone();
        let name = driver.name();
        match &out.0 {
            Ok(peer) => assert_eq!(*peer, p.addr(), "{name} {kind}: the peer is the proxy\n{r}"),
            Err(e) => panic!("{name} {kind}: failed: {e}\n{r}"),
        }
        assert_eq!(p.requests(), [format!("{ORIGIN}:{port}")], "{name} {kind}");
        assert!(
            accepted_within(&origin),
            "{name} {kind}: the proxy reached the host"
        );
        asked_only_the_proxy(name, &r);
    }
}

/// V60: the race runs over the proxy's endpoints. The proxy's name has `::1` (which hangs)
/// and `127.0.0.1` (the proxy): IPv6 goes first, IPv4 after the Connection Attempt Delay
/// (250 ms) wins through the proxy, and the IPv6 attempt is cancelled.
pub fn proxy_first_address_hangs(driver: &dyn Driver) {
    let origin = TcpListener::bind((V4, 0)).expect("an origin on 127.0.0.1");
    let port = origin.local_addr().expect("its address").port();
    let (p, _hung) = proxy_behind_hung_v6(ProxyKind::Socks5, ORIGIN);
    let proxy = Proxy::socks5((PROXY_NAME, p.addr().port())).expect("a proxy");
    let c = driver.connector(through(proxy, &[V6, V4]));
    let out = c.connect(&format!("{ORIGIN}:{port}"));
    let r = report(&out);
    let name = driver.name();
    assert_eq!(out.0.as_ref().ok(), Some(&p.addr()), "{name}:\n{r}");
    let [v6, v4] = r.attempts() else {
        panic!("{name}: two attempts:\n{r}")
    };
    assert_eq!(
        v6.endpoint.addr(),
        SocketAddr::new(V6, p.addr().port()),
        "{r}"
    );
    assert_eq!(v6.status, AttemptStatus::Cancelled, "{r}");
    assert_eq!(v4.status, AttemptStatus::Connected, "{r}");
    assert!(
        v4.started >= Duration::from_millis(200),
        "{name}: the delay:\n{r}"
    );
    assert_eq!(p.requests(), [format!("{ORIGIN}:{port}")], "{name}");
    asked_only_the_proxy(name, &r.clone());
}

/// V60: refusals are typed errors naming the proxy and the host: HTTP 407, and SOCKS5
/// reply 5 (connection refused).
pub fn proxy_refusals(driver: &dyn Driver) {
    for (kind, code) in [(ProxyKind::HttpConnect, 407), (ProxyKind::Socks5, 5)] {
        let p = proxy_on_v4(kind, ORIGIN, ProxyServe::Refuse(code));
        let proxy = Proxy::new(kind, (PROXY_NAME, p.addr().port())).expect("a proxy");
        let c = driver.connector(through(proxy, &[V4]));
        let out = c.connect(&format!("{ORIGIN}:443"));
        let name = driver.name();
        let Err(err) = &out.0 else {
            panic!("{name} {kind}: connected through a refusing proxy")
        };
        let errors = proxy_errors(name, err);
        let [(AttemptErrorKind::Proxy, Some(e))] = &errors[..] else {
            panic!("{name} {kind}: {errors:?}")
        };
        let expected = match kind {
            ProxyKind::Socks5 => eyeballs_net::ProxyErrorKind::SocksReply(5),
            _ => eyeballs_net::ProxyErrorKind::Status(407),
        };
        assert_eq!(e.kind(), &expected, "{name} {kind}");
        assert_eq!(e.proxy_addr(), p.addr());
        assert_eq!(e.origin(), format!("{ORIGIN}:443"));
        let text = err.to_string();
        assert!(
            text.contains(&p.addr().to_string()) && text.contains(ORIGIN),
            "{name} {kind}: the message names the proxy and the host: {text}"
        );
    }
}

/// A proxy that wants a user name and password, HTTP CONNECT (`Proxy-Authorization:
/// Basic`) and SOCKS5 (RFC 1929): the right ones open the tunnel; a wrong password is a
/// typed refusal (407, SOCKS5 authentication failed), and so is none at all (407, no
/// acceptable method).
pub fn proxy_credentials(driver: &dyn Driver) {
    use eyeballs_net::ProxyErrorKind;
    let name = driver.name();
    for kind in KINDS {
        let origin = TcpListener::bind((V4, 0)).expect("an origin on 127.0.0.1");
        let port = origin.local_addr().expect("its address").port();
        let listener = TcpListener::bind((V4, 0)).expect("a listener on 127.0.0.1");
        let wants = ("alice", "s3cret:%");
        let p = ProxyServer::start_with_credentials(
            kind,
            listener,
            &[(ORIGIN, V4)],
            ProxyServe::Tunnel,
            wants,
        )
        .expect("a lab proxy");
        let proxy = || Proxy::new(kind, (PROXY_NAME, p.addr().port())).expect("a proxy");
        let connect = |proxy: Proxy| {
            driver
                .connector(through(proxy, &[V4]))
                .connect(&format!("{ORIGIN}:{port}"))
        };

        let out = connect(proxy().credentials(wants.0, wants.1).expect("valid"));
        assert_eq!(
            out.0.as_ref().ok(),
            Some(&p.addr()),
            "{name} {kind}: {:?}",
            out.0
        );
        assert_eq!(p.requests(), [format!("{ORIGIN}:{port}")], "{name} {kind}");

        let refused = |proxy: Proxy| -> ProxyErrorKind {
            let out = connect(proxy);
            let Err(err) = &out.0 else {
                panic!("{name} {kind}: connected without the right credentials")
            };
            match &proxy_errors(name, err)[..] {
                [(AttemptErrorKind::Proxy, Some(e))] => e.kind().clone(),
                other => panic!("{name} {kind}: {other:?}"),
            }
        };
        let wrong = refused(proxy().credentials("alice", "wrong").expect("valid"));
        let none = refused(proxy());
        let expected = match kind {
            ProxyKind::Socks5 => [
                ProxyErrorKind::SocksAuthFailed,
                ProxyErrorKind::SocksAuthRequired,
            ],
            _ => [ProxyErrorKind::Status(407), ProxyErrorKind::Status(407)],
        };
        assert_eq!([wrong, none], expected, "{name} {kind}");
    }
}

#[cfg(feature = "tls")]
pub use self::tls::{
    tls_proxy_client_hello_held, tls_proxy_origin_https, tls_stalling_proxy, tls_through_proxies,
};

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use eyeballs_core::{QueryKind, ServiceRecord};

    use crate::tls::{TestCa, TlsServe, TlsServer};
    use crate::tls_scenarios::{Observer, TlsDriver, TlsResolver, TlsSetup, NAME};

    fn setup(ca: &TestCa, proxy: Proxy, handshake_timeout: Duration) -> TlsSetup {
        TlsSetup {
            resolver: TlsResolver::Static(StaticResolver::new().host(PROXY_NAME, [V4])),
            config: Config::default(),
            client: ca.client_config(&["h2"]),
            handshake_timeout,
            proxy: Some(proxy),
        }
    }

    /// V60 with TLS, HTTP CONNECT and SOCKS5: TLS runs to the host through the tunnel, its
    /// certificate checked against the host's name (a certificate for that name only
    /// passes; one for another name fails as a certificate error), the connection carries
    /// data, and the client resolved nothing but the proxy's name.
    pub fn tls_through_proxies(driver: &dyn TlsDriver, ca: &TestCa) {
        let name = driver.name();
        for kind in KINDS {
            let server = TlsServer::bind(
                SocketAddr::new(V4, 0),
                ca.server_config(&[NAME], &["h2"]),
                TlsServe::Echo,
            )
            .expect("a TLS server");
            let p = proxy_on_v4(kind, NAME, ProxyServe::Tunnel);
            let proxy = Proxy::new(kind, (PROXY_NAME, p.addr().port())).expect("a proxy");
            let c = driver.connector(setup(ca, proxy, Duration::from_secs(10)));
            let target = format!("{NAME}:{}", server.addr().port());
            let out = c.connect(&target);
            let r = out
                .1
                .clone()
                .unwrap_or_else(|| panic!("no report: {:?}", out.0));
            let won = match &out.0 {
                Ok(won) => won.clone(),
                Err(e) => panic!("{name} {kind}: failed: {e}\n{r}"),
            };
            assert_eq!(
                won.peer,
                p.addr(),
                "{name} {kind}: the endpoint is the proxy\n{r}"
            );
            assert!(won.echoed, "{name} {kind}: data through the tunnel");
            assert_eq!(
                won.alpn.as_ref().map(|a| a.to_string()).as_deref(),
                Some("h2")
            );
            assert_eq!(p.requests(), std::slice::from_ref(&target), "{name} {kind}");
            asked_only_the_proxy(name, &r);

            // The same host behind a certificate for another name: refused.
            let other = TlsServer::bind(
                SocketAddr::new(V4, 0),
                ca.server_config(&["other.eyeballs.test"], &["h2"]),
                TlsServe::Echo,
            )
            .expect("a TLS server");
            let proxy = Proxy::new(kind, (PROXY_NAME, p.addr().port())).expect("a proxy");
            let c = driver.connector(setup(ca, proxy, Duration::from_secs(10)));
            let out = c.connect(&format!("{NAME}:{}", other.addr().port()));
            let Err(err) = &out.0 else {
                panic!("{name} {kind}: a certificate for another name passed")
            };
            let kinds: Vec<_> = proxy_errors(name, err)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(
                kinds,
                [AttemptErrorKind::Certificate],
                "{name} {kind}: {err}"
            );
        }
    }

    /// V60, HG20: a proxy that accepts and never answers fails its attempt as stalled
    /// within the handshake timeout (300 ms here), for both proxy kinds: bounded, and
    /// typed.
    pub fn tls_stalling_proxy(driver: &dyn TlsDriver, ca: &TestCa) {
        let name = driver.name();
        for kind in KINDS {
            let p = proxy_on_v4(kind, NAME, ProxyServe::Stall);
            let proxy = Proxy::new(kind, (PROXY_NAME, p.addr().port())).expect("a proxy");
            let c = driver.connector(setup(ca, proxy, Duration::from_millis(300)));
            let started = Instant::now();
            let out = c.connect(&format!("{NAME}:443"));
            let elapsed = started.elapsed();
            let Err(err) = &out.0 else {
                panic!("{name} {kind}: connected through a stalling proxy")
            };
            let kinds: Vec<_> = proxy_errors(name, err)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(kinds, [AttemptErrorKind::Stalled], "{name} {kind}: {err}");
            assert!(
                elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(5),
                "{name} {kind}: failed after {elapsed:?}"
            );
            assert_eq!(p.requests(), [format!("{NAME}:443")], "{name} {kind}");
        }
    }

    /// HG20 on real sockets: the host's HTTPS record names another TargetName, port 1 and
    /// an IPv4 hint. Off by default ([`Proxy::origin_https`]): only the proxy is asked
    /// about. On: the HTTPS query for the host goes out, and the record's endpoint wins at
    /// the proxy (its SvcPriority on the winner), while its TargetName is never asked
    /// about and the proxy is asked for the host at the connect's own port.
    pub fn tls_proxy_origin_https(driver: &dyn TlsDriver, ca: &TestCa) {
        let name = driver.name();
        let server = TlsServer::bind(
            SocketAddr::new(V4, 0),
            ca.server_config(&[NAME], &["h2"]),
            TlsServe::Echo,
        )
        .expect("a TLS server");
        let port = server.addr().port();
        let record = ServiceRecord::new(1, "svc.eyeballs.test")
            .alpn(["h2"])
            .port(1)
            .ipv4_hints(["127.0.0.9".parse().expect("an address")]);
        let resolver = StaticResolver::new()
            .host(PROXY_NAME, [V4])
            .https(&format!("_{port}._https.{NAME}"), [record]);
        let target = format!("{NAME}:{port}");
        for on in [false, true] {
            let p = proxy_on_v4(ProxyKind::HttpConnect, NAME, ProxyServe::Tunnel);
            let proxy = Proxy::http_connect((PROXY_NAME, p.addr().port()))
                .expect("a proxy")
                .origin_https(on);
            let mut s = setup(ca, proxy, Duration::from_secs(10));
            s.resolver = TlsResolver::Static(resolver.clone());
            s.client = ca.client_config(&["h2", "http/1.1"]);
            let out = driver.connector(s).connect(&target);
            let r = out
                .1
                .clone()
                .unwrap_or_else(|| panic!("no report: {:?}", out.0));
            let won = match &out.0 {
                Ok(won) => won.clone(),
                Err(e) => panic!("{name} origin_https({on}): failed: {e}\n{r}"),
            };
            assert_eq!(won.peer, p.addr(), "{name}: the endpoint is the proxy\n{r}");
            assert!(won.echoed, "{name}: data through the tunnel");
            assert_eq!(p.requests(), std::slice::from_ref(&target), "{name}");
            let https: Vec<String> = r
                .queries()
                .iter()
                .filter(|q| q.kind == QueryKind::Https)
                .map(|q| q.name.to_string())
                .collect();
            assert!(
                r.queries()
                    .iter()
                    .all(|q| q.name.as_str() != "svc.eyeballs.test"),
                "{name}: the TargetName is the proxy's business:\n{r}"
            );
            let priority = r.winner_endpoint().and_then(|e| e.priority());
            if on {
                assert_eq!(https, [format!("_{port}._https.{NAME}")], "{name}:\n{r}");
                assert_eq!(priority, Some(1), "{name}: the record's endpoint won:\n{r}");
            } else {
                asked_only_the_proxy(name, &r);
                assert_eq!(priority, None, "{name}:\n{r}");
            }
        }
    }

    /// HG20 with V34, HG6, HG15 on real sockets: ECH on, the host's HTTPS record asked
    /// through the proxy's connector and answered 200 ms late. TCP to the proxy connects
    /// and the tunnel opens (the proxy's request is no ClientHello), but the ClientHello
    /// through the tunnel waits for the answer: when the record goes out, the host has
    /// accepted the proxy's connection and read no ClientHello. The record then releases
    /// the attempt, which completes with its ALPN id through the tunnel.
    pub fn tls_proxy_client_hello_held(driver: &dyn TlsDriver, ca: &TestCa) {
        let name = driver.name();
        let server = std::sync::Arc::new(
            TlsServer::bind(
                SocketAddr::new(V4, 0),
                ca.server_config(&[NAME], &["h2", "http/1.1"]),
                TlsServe::Echo,
            )
            .expect("a TLS server"),
        );
        let port = server.addr().port();
        let p = std::sync::Arc::new(proxy_on_v4(ProxyKind::Socks5, NAME, ProxyServe::Tunnel));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let observer = {
            let (server, p, seen) = (server.clone(), p.clone(), seen.clone());
            Observer(std::sync::Arc::new(move || {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((p.requests().len(), server.accepted(), server.sni()));
            }))
        };
        let record = ServiceRecord::new(1, ".").alpn(["h2"]);
        let resolver = StaticResolver::new()
            .host(PROXY_NAME, [V4])
            .https(&format!("_{port}._https.{NAME}"), [record]);
        let proxy = Proxy::socks5((PROXY_NAME, p.addr().port()))
            .expect("a proxy")
            .origin_https(true);
        let mut s = setup(ca, proxy, Duration::from_secs(10));
        s.resolver = TlsResolver::LateHttps(resolver, Duration::from_millis(200), observer);
        s.client = ca.client_config(&["http/1.1", "h2"]);
        s.config = Config::default().ech(true);
        let out = driver.connector(s).connect(&format!("{NAME}:{port}"));
        let r = out
            .1
            .clone()
            .unwrap_or_else(|| panic!("no report: {:?}", out.0));
        let won = match &out.0 {
            Ok(won) => won.clone(),
            Err(e) => panic!("{name}: failed: {e}\n{r}"),
        };
        assert_eq!(won.peer, p.addr(), "{name}:\n{r}");
        assert_eq!(
            won.alpn.as_ref().map(|a| a.to_string()).as_deref(),
            Some("h2")
        );
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).take();
        assert_eq!(
            seen,
            Some((1, 1, Vec::new())),
            "{name}: at the HTTPS answer: tunnel open, no ClientHello yet:\n{r}"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.sni().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            server.sni(),
            [Some(NAME.to_owned())],
            "{name}: after the release"
        );
        let [only] = r.attempts() else {
            panic!("{name}: one attempt:\n{r}")
        };
        assert!(only.held, "{name}:\n{r}");
        assert!(only.released.is_some(), "{name}:\n{r}");
    }
}
