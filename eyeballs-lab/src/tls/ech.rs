//! A TLS 1.3 server that rejects Encrypted ClientHello and sends retry configurations
//! (RFC 9849 §7.1): what a client's ECH retry (§6.1.6, HEv3 V54) is tested against.
//!
//! rustls has no server-side ECH, so this is a small TLS 1.3 server of its own on ring's
//! primitives: it reads one ClientHello, answers the outer hello with an ordinary handshake
//! (TLS_AES_128_GCM_SHA256, X25519, an ECDSA P-256 certificate for the ECH configuration's
//! public name) and puts the `encrypted_client_hello` extension with `retry_configs` in
//! EncryptedExtensions. A client that verifies all this reports the rejection with the retry
//! configurations and aborts with `ech_required`. No application data: the server reads the
//! client's Finished and alert, records them, and closes.
//!
//! It never decrypts the inner hello (that needs HPKE server-side), so a retry is rejected
//! too: enough to prove that a client retries once, with the server's configurations.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::{aead, agreement, digest, hkdf, hmac, rand, signature};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::{log, Running, TestCa, MAX_CONNECTIONS};

/// How long one connection may take, from accept to close.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);
/// The largest ClientHello it reads (a hybrid key share and ECH padding fit well under it).
const MAX_HELLO: usize = 64 * 1024;
/// The largest record payload (RFC 8446 §5.2: 2^14 plus 256 of AEAD expansion).
const MAX_RECORD: usize = (1 << 14) + 256;
/// The most records it reads from the client after its own flight.
const MAX_CLIENT_RECORDS: usize = 16;

const HANDSHAKE: u8 = 22;
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const APPLICATION_DATA: u8 = 23;
const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
const X25519: u16 = 0x001d;
const ECDSA_SECP256R1_SHA256: u16 = 0x0403;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_KEY_SHARE: u16 = 51;
/// `encrypted_client_hello` (RFC 9849 §5).
const EXT_ECH: u16 = 0xfe0d;

/// What the server saw, shared with its thread.
#[derive(Debug, Default)]
struct EchStats {
    accepted: AtomicUsize,
    answered: AtomicUsize,
    client_finished: AtomicUsize,
    config_ids: Mutex<Vec<u8>>,
    alerts: Mutex<Vec<u8>>,
}

/// What the server answers with.
struct Identity {
    chain: Vec<Vec<u8>>,
    key: signature::EcdsaKeyPair,
    retry_configs: Vec<u8>,
    alpn: Vec<Vec<u8>>,
}

/// A TLS 1.3 server on one TCP listener that rejects ECH with retry configurations. Each
/// connection gets at most 10 s; at most [`MAX_CONNECTIONS`] are served at once. Dropping it
/// stops its thread and closes every socket.
pub struct EchRejectingServer {
    addr: SocketAddr,
    stats: Arc<EchStats>,
    _running: Running,
}

impl std::fmt::Debug for EchRejectingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchRejectingServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl EchRejectingServer {
    /// Serves on a new listener at `addr` (port 0: a free one); see
    /// [`EchRejectingServer::start`].
    ///
    /// # Errors
    ///
    /// When the address cannot be bound or the thread cannot start.
    pub fn bind(
        addr: SocketAddr,
        ca: &TestCa,
        public_name: &str,
        retry_configs: &[u8],
        alpn: &[&str],
    ) -> io::Result<EchRejectingServer> {
        EchRejectingServer::start(
            TcpListener::bind(addr)?,
            ca,
            public_name,
            retry_configs,
            alpn,
        )
    }

    /// Serves on `listener` with a certificate from `ca` for `public_name` (the name the
    /// client's ECH configuration gives for the outer hello), sending `retry_configs` (an
    /// `ECHConfigList`, as [`super::ech_config_list_with_id`] makes) to every ClientHello that
    /// offers ECH, and choosing the first ALPN id of the client's that is in `alpn`. A
    /// ClientHello without an outer ECH extension, an X25519 key share, TLS 1.3 or
    /// TLS_AES_128_GCM_SHA256 is closed unanswered (no HelloRetryRequest).
    ///
    /// # Errors
    ///
    /// When the thread cannot start.
    ///
    /// # Panics
    ///
    /// For a `public_name` that is not a DNS name, `retry_configs` over 65535 bytes, or an
    /// ALPN id that is empty or over 255 bytes.
    pub fn start(
        listener: TcpListener,
        ca: &TestCa,
        public_name: &str,
        retry_configs: &[u8],
        alpn: &[&str],
    ) -> io::Result<EchRejectingServer> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (chain, key) = ca.issue(&[public_name]);
        let key = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            key.secret_der(),
            &rand::SystemRandom::new(),
        )
        .expect("rcgen's default key is ECDSA P-256 in PKCS#8");
        assert!(
            retry_configs.len() <= usize::from(u16::MAX),
            "retry configurations too long"
        );
        assert!(
            alpn.iter().all(|a| !a.is_empty() && a.len() <= 255),
            "bad ALPN id"
        );
        let identity = Arc::new(Identity {
            chain: chain.iter().map(|c| c.to_vec()).collect(),
            key,
            retry_configs: retry_configs.to_vec(),
            alpn: alpn.iter().map(|a| a.as_bytes().to_vec()).collect(),
        });
        let stats = Arc::new(EchStats::default());
        let s = stats.clone();
        let running = Running::spawn("eyeballs-lab-ech", move || async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let mut tasks = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                while tasks.try_join_next().is_some() {}
                s.accepted.fetch_add(1, Ordering::Relaxed);
                if tasks.len() >= MAX_CONNECTIONS {
                    continue;
                }
                let (identity, s) = (identity.clone(), s.clone());
                tasks.spawn(async move {
                    let serve = serve(stream, &identity, &s);
                    let _ = tokio::time::timeout(CONNECTION_DEADLINE, serve).await;
                });
            }
        })?;
        Ok(EchRejectingServer {
            addr,
            stats,
            _running: running,
        })
    }

    /// Returns where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns how many TCP connections it accepted.
    pub fn accepted(&self) -> usize {
        self.stats.accepted.load(Ordering::Relaxed)
    }

    /// Returns the `config_id` of the ECH extension of each ClientHello it read, in order
    /// (a hello without an outer ECH extension adds nothing).
    pub fn config_ids(&self) -> Vec<u8> {
        lock(&self.stats.config_ids).clone()
    }

    /// Returns how many ClientHellos it answered with its whole flight (ServerHello to
    /// Finished, the rejection and its retry configurations in EncryptedExtensions).
    pub fn answered(&self) -> usize {
        self.stats.answered.load(Ordering::Relaxed)
    }

    /// Returns how many client Finished messages it decrypted and found right: clients that
    /// accepted its certificate, signature and Finished.
    pub fn client_finished(&self) -> usize {
        self.stats.client_finished.load(Ordering::Relaxed)
    }

    /// Returns the description of each alert a client sent it, in order (121:
    /// `ech_required`, RFC 9849 §11.2).
    pub fn alerts(&self) -> Vec<u8> {
        lock(&self.stats.alerts).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn serve(mut stream: TcpStream, identity: &Identity, stats: &EchStats) {
    let Some(hello_message) = read_client_hello(&mut stream).await else {
        return;
    };
    let Some(hello) = ClientHello::parse(&hello_message) else {
        return;
    };
    let Some(config_id) = hello.ech_config_id else {
        return;
    };
    log(&stats.config_ids, config_id);
    let (Some(peer_share), true, true) = (hello.x25519, hello.aes_128_gcm, hello.tls13) else {
        return;
    };
    let Some(flight) = Flight::answer(&hello_message, &hello, &peer_share, identity) else {
        return;
    };
    if stream.write_all(&flight.bytes).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    stats.answered.fetch_add(1, Ordering::Relaxed);
    read_client_flight(&mut stream, &flight, stats).await;
}

/// Reads one record: its type and payload (`None` at EOF, on an error or an oversized one).
async fn read_record(stream: &mut TcpStream) -> Option<(u8, [u8; 5], Vec<u8>)> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if len > MAX_RECORD {
        return None;
    }
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.ok()?;
    Some((header[0], header, payload))
}

/// Reads handshake records until they hold one whole message, and returns it if it is a
/// ClientHello (type, 24-bit length and body: what the transcript hashes).
async fn read_client_hello(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    loop {
        if message.len() >= 4 {
            let len = usize::from(message[1]) << 16
                | usize::from(message[2]) << 8
                | usize::from(message[3]);
            if message[0] != 1 || len > MAX_HELLO {
                return None;
            }
            if message.len() >= 4 + len {
                message.truncate(4 + len);
                return Some(message);
            }
        }
        let (kind, _, payload) = read_record(stream).await?;
        if kind != HANDSHAKE || message.len() + payload.len() > MAX_HELLO + 4 {
            return None;
        }
        message.extend_from_slice(&payload);
    }
}

/// Reads what the client sends after the server's flight: its Finished under the client
/// handshake keys, then (rustls, rejecting) an alert under its application keys.
async fn read_client_flight(stream: &mut TcpStream, flight: &Flight, stats: &EchStats) {
    let mut handshake = Some(RecordKey::new(&flight.client_handshake));
    let mut application = RecordKey::new(&flight.client_application);
    for _ in 0..MAX_CLIENT_RECORDS {
        let Some((kind, header, mut payload)) = read_record(stream).await else {
            return;
        };
        match kind {
            CHANGE_CIPHER_SPEC => continue,
            ALERT => {
                if let Some(&description) = payload.get(1) {
                    log(&stats.alerts, description);
                }
                return;
            }
            APPLICATION_DATA => {}
            _ => return,
        }
        let key = match handshake.as_mut() {
            Some(key) => key,
            None => &mut application,
        };
        let Some((inner, content)) = key.open(&header, &mut payload) else {
            return;
        };
        match inner {
            HANDSHAKE if handshake.is_some() => {
                let expected = finished_message(&flight.client_finished_key, &flight.transcript);
                if content == expected {
                    stats.client_finished.fetch_add(1, Ordering::Relaxed);
                }
                handshake = None;
            }
            ALERT => {
                if let Some(&description) = content.get(1) {
                    log(&stats.alerts, description);
                }
                return;
            }
            _ => return,
        }
    }
}

/// What the server read in a ClientHello.
#[derive(Debug, Default, PartialEq, Eq)]
struct ClientHello {
    session_id: Vec<u8>,
    x25519: Option<[u8; 32]>,
    aes_128_gcm: bool,
    tls13: bool,
    /// The `config_id` of an outer `encrypted_client_hello` extension.
    ech_config_id: Option<u8>,
    alpn: Vec<Vec<u8>>,
}

impl ClientHello {
    /// Parses a ClientHello handshake message (RFC 8446 §4.1.2); `None` if it is malformed.
    fn parse(message: &[u8]) -> Option<ClientHello> {
        let mut r = Reader(message);
        if r.u8()? != 1 {
            return None;
        }
        let len = r.u24()?;
        let mut body = Reader(r.take(len)?);
        let mut hello = ClientHello::default();
        body.u16()?; // legacy_version
        body.take(32)?; // random
        hello.session_id = body.vec8()?.to_vec();
        if hello.session_id.len() > 32 {
            return None;
        }
        let mut suites = Reader(body.vec16()?);
        while !suites.0.is_empty() {
            hello.aes_128_gcm |= suites.u16()? == TLS_AES_128_GCM_SHA256;
        }
        body.vec8()?; // legacy_compression_methods
        let mut extensions = Reader(body.vec16()?);
        while !extensions.0.is_empty() {
            let kind = extensions.u16()?;
            let mut data = Reader(extensions.vec16()?);
            match kind {
                EXT_SUPPORTED_VERSIONS => {
                    let mut versions = Reader(data.vec8()?);
                    while !versions.0.is_empty() {
                        hello.tls13 |= versions.u16()? == 0x0304;
                    }
                }
                EXT_KEY_SHARE => {
                    let mut shares = Reader(data.vec16()?);
                    while !shares.0.is_empty() {
                        let group = shares.u16()?;
                        let key = shares.vec16()?;
                        if group == X25519 && hello.x25519.is_none() {
                            hello.x25519 = Some(key.try_into().ok()?);
                        }
                    }
                }
                EXT_ALPN => {
                    let mut names = Reader(data.vec16()?);
                    while !names.0.is_empty() {
                        hello.alpn.push(names.vec8()?.to_vec());
                    }
                }
                // ECHClientHello (RFC 9849 §5): type 0 is the outer variant.
                EXT_ECH if data.u8()? == 0 => {
                    data.u16()?; // kdf_id
                    data.u16()?; // aead_id
                    hello.ech_config_id = Some(data.u8()?);
                    data.vec16()?; // enc
                    data.vec16()?; // payload
                }
                _ => {}
            }
        }
        Some(hello)
    }
}

/// A cursor over TLS's wire format; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// Appends `data` with a length prefix of `width` bytes (1, 2 or 3).
///
/// # Panics
///
/// When `data` does not fit the width (never with what this module sends).
fn put(out: &mut Vec<u8>, width: usize, data: &[u8]) {
    let len = u32::try_from(data.len()).expect("under 4 GiB");
    assert!(
        width <= 3 && len < 1 << (8 * width),
        "{len} in {width} bytes"
    );
    out.extend_from_slice(&len.to_be_bytes()[4 - width..]);
    out.extend_from_slice(data);
}

/// A handshake message: type, 24-bit length, body.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    put(&mut out, 3, body);
    out
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    out.copy_from_slice(hmac::sign(&key, data).as_ref());
    out
}

/// HKDF-Extract (RFC 5869 §2.2) is HMAC with the salt as key.
fn extract(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
    hmac_sha256(salt, ikm)
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with SHA-256; `N` is at most 32 here.
fn expand_label<const N: usize>(secret: &[u8; 32], label: &str, context: &[u8]) -> [u8; N] {
    let mut info = Vec::new();
    info.extend_from_slice(&u16::try_from(N).expect("a short key").to_be_bytes());
    put(&mut info, 1, &[b"tls13 ", label.as_bytes()].concat());
    put(&mut info, 1, context);
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret);
    let mut out = [0u8; N];
    prk.expand(&[&info], Len(N))
        .and_then(|okm| okm.fill(&mut out))
        .expect("N is at most 255 hash lengths");
    out
}

/// Derive-Secret (RFC 8446 §7.1) over the hash of `transcript`.
fn derive_secret(secret: &[u8; 32], label: &str, transcript: &[u8]) -> [u8; 32] {
    expand_label(secret, label, &sha256(transcript))
}

/// A Finished message (RFC 8446 §4.4.4) for the transcript so far.
fn finished_message(finished_key: &[u8; 32], transcript: &[u8]) -> Vec<u8> {
    message(20, &hmac_sha256(finished_key, &sha256(transcript)))
}

/// One direction's AES-128-GCM record protection (RFC 8446 §5.2, §5.3).
struct RecordKey {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    sequence: u64,
}

impl RecordKey {
    fn new(traffic_secret: &[u8; 32]) -> RecordKey {
        let key: [u8; 16] = expand_label(traffic_secret, "key", b"");
        let key = aead::UnboundKey::new(&aead::AES_128_GCM, &key).expect("a 16-byte key");
        RecordKey {
            key: aead::LessSafeKey::new(key),
            iv: expand_label(traffic_secret, "iv", b""),
            sequence: 0,
        }
    }

    fn nonce(&mut self) -> aead::Nonce {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.sequence.to_be_bytes()) {
            *n ^= s;
        }
        self.sequence = self.sequence.saturating_add(1);
        aead::Nonce::assume_unique_for_key(nonce)
    }

    /// Returns `content` of type `kind` as one protected record.
    fn seal(&mut self, kind: u8, content: &[u8]) -> Vec<u8> {
        let mut inner = content.to_vec();
        inner.push(kind);
        let len = u16::try_from(inner.len() + aead::AES_128_GCM.tag_len()).expect("one record");
        let mut record = vec![APPLICATION_DATA, 3, 3];
        record.extend_from_slice(&len.to_be_bytes());
        let header = record.clone();
        let nonce = self.nonce();
        self.key
            .seal_in_place_append_tag(nonce, aead::Aad::from(header), &mut inner)
            .expect("a record under the AEAD's limit");
        record.extend_from_slice(&inner);
        record
    }

    /// Opens a protected record: its inner content type and content.
    fn open(&mut self, header: &[u8; 5], payload: &mut [u8]) -> Option<(u8, Vec<u8>)> {
        let nonce = self.nonce();
        let plain = self
            .key
            .open_in_place(nonce, aead::Aad::from(header), payload)
            .ok()?;
        let end = plain.iter().rposition(|&b| b != 0)?;
        Some((plain[end], plain[..end].to_vec()))
    }
}

/// The server's answer to one ClientHello, and what it needs to read the client's reply.
struct Flight {
    /// ServerHello, change_cipher_spec, and the protected EncryptedExtensions, Certificate,
    /// CertificateVerify and Finished: the bytes to send.
    bytes: Vec<u8>,
    /// ClientHello to the server's Finished.
    transcript: Vec<u8>,
    client_handshake: [u8; 32],
    client_finished_key: [u8; 32],
    client_application: [u8; 32],
}

impl Flight {
    /// The TLS 1.3 handshake (RFC 8446 §4, key schedule §7.1) for `hello`: `None` only if
    /// ring refuses the client's key share or cannot sign.
    fn answer(
        hello_message: &[u8],
        hello: &ClientHello,
        peer_share: &[u8; 32],
        identity: &Identity,
    ) -> Option<Flight> {
        let rng = rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).ok()?;
        let public = private.compute_public_key().ok()?;
        let shared = agreement::agree_ephemeral(
            private,
            &agreement::UnparsedPublicKey::new(&agreement::X25519, peer_share),
            <[u8]>::to_vec,
        )
        .ok()?;
        let mut random = [0u8; 32];
        rand::SecureRandom::fill(&rng, &mut random).ok()?;

        // ServerHello (§4.1.3): the session id echoed, TLS 1.3 and the X25519 share.
        let mut body = vec![3, 3];
        body.extend_from_slice(&random);
        put(&mut body, 1, &hello.session_id);
        body.extend_from_slice(&TLS_AES_128_GCM_SHA256.to_be_bytes());
        body.push(0);
        let mut extensions = Vec::new();
        extensions.extend_from_slice(&EXT_SUPPORTED_VERSIONS.to_be_bytes());
        put(&mut extensions, 2, &[3, 4]);
        let mut share = X25519.to_be_bytes().to_vec();
        put(&mut share, 2, public.as_ref());
        extensions.extend_from_slice(&EXT_KEY_SHARE.to_be_bytes());
        put(&mut extensions, 2, &share);
        put(&mut body, 2, &extensions);
        let server_hello = message(2, &body);
        let mut transcript = hello_message.to_vec();
        transcript.extend_from_slice(&server_hello);

        let mut bytes = vec![HANDSHAKE, 3, 3];
        put(&mut bytes, 2, &server_hello);
        // Middlebox compatibility (RFC 8446 D.4): clients ignore it.
        bytes.extend_from_slice(&[CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1]);

        // The key schedule to the handshake traffic secrets.
        let zeros = [0u8; 32];
        let early = extract(&zeros, &zeros);
        let handshake = extract(&derive_secret(&early, "derived", b""), &shared);
        let server_handshake = derive_secret(&handshake, "s hs traffic", &transcript);
        let client_handshake = derive_secret(&handshake, "c hs traffic", &transcript);
        let mut protect = RecordKey::new(&server_handshake);

        // EncryptedExtensions (§4.3.1): ECH's retry configurations (RFC 9849 §5:
        // ECHEncryptedExtensions is the ECHConfigList) and the ALPN id chosen.
        let mut extensions = Vec::new();
        extensions.extend_from_slice(&EXT_ECH.to_be_bytes());
        put(&mut extensions, 2, &identity.retry_configs);
        if let Some(alpn) = hello.alpn.iter().find(|a| identity.alpn.contains(a)) {
            let mut list = Vec::new();
            put(&mut list, 1, alpn);
            extensions.extend_from_slice(&EXT_ALPN.to_be_bytes());
            let mut data = Vec::new();
            put(&mut data, 2, &list);
            put(&mut extensions, 2, &data);
        }
        let mut body = Vec::new();
        put(&mut body, 2, &extensions);
        let encrypted_extensions = message(8, &body);

        // Certificate (§4.4.2): no request context, each certificate without extensions.
        let mut list = Vec::new();
        for certificate in &identity.chain {
            put(&mut list, 3, certificate);
            list.extend_from_slice(&[0, 0]);
        }
        let mut body = vec![0];
        put(&mut body, 3, &list);
        let certificate = message(11, &body);

        for m in [&encrypted_extensions, &certificate] {
            transcript.extend_from_slice(m);
            bytes.extend_from_slice(&protect.seal(HANDSHAKE, m));
        }

        // CertificateVerify (§4.4.3): 64 spaces, the context string, a zero, the hash.
        let mut signed = vec![0x20; 64];
        signed.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
        signed.extend_from_slice(&sha256(&transcript));
        let signature = identity.key.sign(&rng, &signed).ok()?;
        let mut body = ECDSA_SECP256R1_SHA256.to_be_bytes().to_vec();
        put(&mut body, 2, signature.as_ref());
        let certificate_verify = message(15, &body);
        transcript.extend_from_slice(&certificate_verify);
        bytes.extend_from_slice(&protect.seal(HANDSHAKE, &certificate_verify));

        let finished_key = expand_label(&server_handshake, "finished", b"");
        let finished = finished_message(&finished_key, &transcript);
        transcript.extend_from_slice(&finished);
        bytes.extend_from_slice(&protect.seal(HANDSHAKE, &finished));

        // The application traffic secrets hash the transcript to the server's Finished.
        let master = extract(&derive_secret(&handshake, "derived", b""), &zeros);
        Some(Flight {
            bytes,
            client_finished_key: expand_label(&client_handshake, "finished", b""),
            client_application: derive_secret(&master, "c ap traffic", &transcript),
            client_handshake,
            transcript,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 §3 (a simple 1-RTT handshake): the early secret, the `derived` secret and
    /// the server's handshake write key come out of this key schedule as the trace says.
    #[test]
    fn the_key_schedule_matches_rfc_8448() {
        let zeros = [0u8; 32];
        let early = extract(&zeros, &zeros);
        assert_eq!(
            hex(&early),
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"
        );
        let derived = derive_secret(&early, "derived", b"");
        assert_eq!(
            hex(&derived),
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"
        );
    }

    /// A ClientHello as rustls (ring, TLS 1.3 and 1.2, ALPN h2) writes it: the record's
    /// payload, one handshake message.
    fn rustls_client_hello() -> Vec<u8> {
        let ca = TestCa::new();
        let config = Arc::new(ca.client_config(&["h2"]));
        let name = rustls::pki_types::ServerName::try_from("hello.eyeballs.test").unwrap();
        let mut client = rustls::ClientConnection::new(config, name).unwrap();
        let mut wire = Vec::new();
        client.write_tls(&mut wire).unwrap();
        assert_eq!(wire[0], HANDSHAKE);
        let len = usize::from(u16::from_be_bytes([wire[3], wire[4]]));
        assert_eq!(wire.len(), 5 + len, "one record");
        wire.split_off(5)
    }

    #[test]
    fn a_rustls_client_hello_gives_what_the_server_needs() {
        let hello = ClientHello::parse(&rustls_client_hello()).unwrap();
        assert_eq!(
            hello.session_id.len(),
            32,
            "middlebox compatibility's session id"
        );
        assert!(hello.x25519.is_some());
        assert!(hello.aes_128_gcm);
        assert!(hello.tls13);
        assert_eq!(hello.alpn, [b"h2".to_vec()]);
        assert_eq!(hello.ech_config_id, None, "no ECH offered");
    }

    /// Every cut of a ClientHello is refused (its lengths no longer add up), none panics.
    #[test]
    fn a_cut_client_hello_is_refused() {
        let message = rustls_client_hello();
        for end in 0..message.len() {
            assert_eq!(ClientHello::parse(&message[..end]), None, "cut at {end}");
        }
    }

    /// An outer ECH extension (RFC 9849 §5) gives its config id; an inner one (type 1) none.
    #[test]
    fn the_outer_ech_extension_gives_its_config_id() {
        let with = |ech: &[u8]| {
            let mut extensions = EXT_ECH.to_be_bytes().to_vec();
            put(&mut extensions, 2, ech);
            let mut body = vec![3, 3];
            body.extend_from_slice(&[0; 32]);
            put(&mut body, 1, &[]);
            put(&mut body, 2, &TLS_AES_128_GCM_SHA256.to_be_bytes());
            put(&mut body, 1, &[0]);
            put(&mut body, 2, &extensions);
            ClientHello::parse(&message(1, &body)).map(|h| h.ech_config_id)
        };
        // Outer: HKDF-SHA256, AES-128-GCM, config id 42, a 32-byte enc, a 3-byte payload.
        let mut outer = vec![0, 0, 1, 0, 1, 42];
        put(&mut outer, 2, &[9; 32]);
        put(&mut outer, 2, &[1, 2, 3]);
        assert_eq!(with(&outer), Some(Some(42)));
        assert_eq!(with(&[1]), Some(None), "the inner variant");
        assert_eq!(with(&outer[..outer.len() - 1]), None, "a cut payload");
    }

    /// A client that offers no ECH gets no answer: nothing to reject, so no flight, and no
    /// config id recorded; the connection is closed.
    #[test]
    fn a_client_hello_without_ech_is_closed_unanswered() {
        use std::io::{Read, Write};
        let ca = TestCa::new();
        let retry = super::super::ech_config_list_with_id("public.eyeballs.test", 2);
        let server = EchRejectingServer::bind(
            SocketAddr::new(crate::loopback::V4, 0),
            &ca,
            "public.eyeballs.test",
            &retry,
            &["h2"],
        )
        .unwrap();
        let tcp = std::net::TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let config = Arc::new(ca.client_config(&["h2"]));
        let name = rustls::pki_types::ServerName::try_from("public.eyeballs.test").unwrap();
        let client = rustls::ClientConnection::new(config, name).unwrap();
        let mut tls = rustls::StreamOwned::new(client, tcp);
        let written = tls.write_all(b"hello").and_then(|()| tls.flush());
        let mut buf = [0u8; 16];
        let read = written.and_then(|()| tls.read(&mut buf));
        let err = read.unwrap_err();
        assert_ne!(
            err.kind(),
            std::io::ErrorKind::WouldBlock,
            "closed, not timed out"
        );
        assert_ne!(
            err.kind(),
            std::io::ErrorKind::TimedOut,
            "closed, not timed out"
        );
        assert_eq!(server.accepted(), 1);
        assert_eq!(server.config_ids(), Vec::<u8>::new());
        assert_eq!(server.answered(), 0);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// V54 on the wire, written once for every driver: an [`EchRejectingServer`] on
/// `127.0.0.1` that rejects ECH with a retry configuration (id 2), and a resolver whose
/// HTTPS record for [`EchRetryCase::NAME`] carries another (id 1). A driver's test connects
/// with ECH on (its `ech_hook` with [`TestCa::roots`]) and hands the result to
/// [`EchRetryCase::check`].
#[derive(Debug)]
pub struct EchRetryCase {
    /// The server.
    pub server: EchRejectingServer,
    /// `NAME` on `127.0.0.1`, with the HTTPS record of the server's port.
    pub resolver: eyeballs_net::StaticResolver,
    /// The retry configuration list the server sends.
    pub retry: Vec<u8>,
}

impl EchRetryCase {
    /// The name the case's resolver answers, and the server's certificate names.
    pub const NAME: &'static str = "tls.eyeballs.test";
    /// The public name of both ECH configurations.
    pub const PUBLIC: &'static str = "public.eyeballs.test";

    /// Starts the server (ALPN `h2`) with `ca`'s certificate for the public name.
    ///
    /// # Errors
    ///
    /// The server's bind or thread.
    pub fn start(ca: &TestCa) -> io::Result<Self> {
        let retry = super::ech_config_list_with_id(Self::PUBLIC, 2);
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = EchRejectingServer::bind(loopback, ca, Self::PUBLIC, &retry, &["h2"])?;
        let addr = server.addr();
        let ech = eyeballs_core::EchConfig::new(&super::ech_config_list_with_id(Self::PUBLIC, 1));
        let record = eyeballs_core::ServiceRecord::new(1, ".")
            .alpn(["h2"])
            .ech(ech);
        let resolver = eyeballs_net::StaticResolver::new()
            .host(Self::NAME, [addr.ip()])
            .https(&format!("_{}._https.{}", addr.port(), Self::NAME), [record]);
        Ok(EchRetryCase {
            server,
            resolver,
            retry,
        })
    }

    /// The target to connect to.
    pub fn target(&self) -> (&'static str, u16) {
        (Self::NAME, self.server.addr().port())
    }

    /// Checks a connect's result: it failed with one attempt to the server, an `Ech` error;
    /// the report has that one attempt, retried (`ech_retried`) with the server's
    /// configuration; the server saw two ClientHellos, with configuration ids 1 then 2
    /// (the retry used the retry configuration, and the rejected retry was not retried);
    /// both handshakes reached the client's Finished and its `ech_required` alert (waited
    /// for, at most 5 s: the server's thread records them after the client has read its
    /// flight).
    ///
    /// # Panics
    ///
    /// When any of that does not hold.
    pub fn check(&self, connected: io::Result<()>, report: Option<&eyeballs_core::Report>) {
        let Err(err) = connected else {
            panic!("the retry is rejected too, so the connect fails")
        };
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<eyeballs_core::Failure<io::Error>>())
            .unwrap_or_else(|| panic!("a race failure: {err}"));
        let kinds: Vec<_> = failure
            .attempts()
            .iter()
            .map(|a| {
                let kind = a
                    .error
                    .as_ref()
                    .and_then(eyeballs_net::AttemptError::of)
                    .map(eyeballs_net::AttemptError::kind);
                (a.endpoint.addr(), kind)
            })
            .collect();
        assert_eq!(
            kinds,
            [(
                self.server.addr(),
                Some(eyeballs_net::AttemptErrorKind::Ech)
            )],
            "{err}"
        );
        let report = report.unwrap_or_else(|| panic!("the report: {err}"));
        let [attempt] = report.attempts() else {
            panic!("one attempt, the retry inside it: {report}")
        };
        assert!(attempt.ech_retried.is_some(), "{report}");
        assert_eq!(
            attempt.endpoint.ech(),
            Some(&eyeballs_core::EchConfig::new(&self.retry)),
            "the retry took the server's configurations: {report}"
        );
        assert_eq!(self.server.accepted(), 2, "the first dial and one retry");
        assert_eq!(
            self.server.config_ids(),
            [1, 2],
            "the retry used the retry configuration"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while self.server.alerts().len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(self.server.answered(), 2, "two flights");
        assert_eq!(
            self.server.client_finished(),
            2,
            "the client verified each handshake"
        );
        assert_eq!(self.server.alerts(), [121, 121], "ech_required, twice");
    }
}
