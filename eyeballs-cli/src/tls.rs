//! `--tls`, `--alpn` and `--ca`: the rustls config of a Happy Eyeballs v3 race (the
//! platform's certificate verifier, plus the roots of `--ca`), and the problems with those
//! flags in the command line's words.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use eyeballs_core::Alpn;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use eyeballs_net::TlsConfigError;

/// The ALPN ids `--tls` offers without `--alpn`: HTTP/3 over QUIC (on every runtime but
/// blocking), then HTTP/2 and HTTP/1.1 over TCP.
pub(crate) const DEFAULT_ALPN: &str = "h3,h2,http/1.1";

/// The most ids `--alpn` takes (a ClientHello's list is 2^16 bytes; nobody needs more).
const MAX_IDS: usize = 32;

/// The largest `--ca` file read: a PEM bundle of every public root (about 150 CAs) is a
/// quarter of this.
pub(crate) const MAX_CA_FILE: u64 = 1024 * 1024;

/// Parses `--alpn`: ids separated by commas, each 1 to 255 bytes (RFC 7301), none twice,
/// and none with a space or `;` (a list written with the wrong separator).
pub(crate) fn parse_alpn(given: &str) -> Result<Vec<Alpn>, String> {
    let example = "write ids separated by commas, like h3,h2,http/1.1";
    let wrong_separator = |c: char| c.is_whitespace() || c == ';';
    if given.contains(wrong_separator) {
        let commas: Vec<&str> = given
            .split(|c: char| wrong_separator(c) || c == ',')
            .filter(|id| !id.is_empty())
            .collect();
        return Err(format!(
            "--alpn {given:?}: an ALPN id has no spaces or ';' in it; separate ids with \
             commas: write {}",
            commas.join(",")
        ));
    }
    let mut ids: Vec<Alpn> = Vec::new();
    for id in given.split(',') {
        if id.is_empty() {
            return Err(format!("--alpn {given:?}: an empty ALPN id; {example}"));
        }
        let alpn = Alpn::new(id.as_bytes());
        if !alpn.is_valid() {
            return Err(format!(
                "--alpn: the id {:?}... is over 255 bytes (RFC 7301 allows 1 to 255)",
                id.chars().take(16).collect::<String>()
            ));
        }
        if ids.contains(&alpn) {
            return Err(format!("--alpn {given}: {id} is given twice"));
        }
        if ids.len() == MAX_IDS {
            return Err(format!("--alpn: more than {MAX_IDS} ids"));
        }
        ids.push(alpn);
    }
    Ok(ids)
}

/// Reads the extra roots of `--ca`: every certificate of a PEM file, a regular file of at
/// most [`MAX_CA_FILE`] bytes (a device or a FIFO could be read forever), each one usable as
/// a trust anchor.
pub(crate) fn roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let bytes = read_bounded(path).map_err(|e| format!("--ca {shown}: {e}"))?;
    let mut roots = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert = cert.map_err(|e| format!("--ca {shown}: certificate {}: {e}", i + 1))?;
        RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| format!("--ca {shown}: certificate {} is not usable: {e}", i + 1))?;
        roots.push(cert);
    }
    if roots.is_empty() {
        return Err(format!(
            "--ca {shown}: no certificate in it; give a PEM file (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(roots)
}

/// Reads a regular file of at most [`MAX_CA_FILE`] bytes.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file; give a PEM file of CA certificates".to_owned());
    }
    let too_big = || {
        format!(
            "over {} MiB; give a PEM file of the CA certificates to trust, not a bigger one",
            MAX_CA_FILE / (1024 * 1024)
        )
    };
    if meta.len() > MAX_CA_FILE {
        return Err(too_big());
    }
    // The file can grow after the check: the read stops one byte past the limit anyway.
    let mut bytes = Vec::new();
    file.take(MAX_CA_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CA_FILE {
        return Err(too_big());
    }
    Ok(bytes)
}

/// A client config that trusts what the platform trusts and `extra_roots` (`--ca`), and
/// offers `alpn`: ring, TLS 1.3 and 1.2.
///
/// # Errors
///
/// The platform verifier cannot start: no CA certificate on this system and no `--ca`.
pub(crate) fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    alpn: &[Alpn],
) -> Result<Arc<ClientConfig>, String> {
    let given = !extra_roots.is_empty();
    let mut config = eyeballs_net::platform_client_config(extra_roots).map_err(|e| match e {
        TlsConfigError::Verifier(why) if !given => format!(
            "--tls: this system's trusted CA certificates cannot be read ({why}); install them \
             (the ca-certificates package) or give --ca FILE"
        ),
        other => format!("--tls: {other}"),
    })?;
    config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_lists_parse_and_problems_name_the_flag() {
        let ids = parse_alpn("h3,h2,http/1.1").unwrap_or_default();
        let text: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["h3", "h2", "http/1.1"]);
        for bad in ["", "h2,", ",h2", "h2,,h3"] {
            let e = parse_alpn(bad).unwrap_err();
            assert!(
                e.starts_with("--alpn") && e.contains("empty"),
                "{bad:?}: {e}"
            );
        }
        let long = "x".repeat(256);
        assert!(parse_alpn(&long).unwrap_err().contains("255 bytes"));
        assert!(parse_alpn("h2,h2").unwrap_err().contains("given twice"));
        for (bad, hint) in [
            ("h2 http/1.1", "write h2,http/1.1"),
            ("h2;http/1.1", "write h2,http/1.1"),
            ("h2, http/1.1", "write h2,http/1.1"),
            (" h2", "write h2"),
        ] {
            let e = parse_alpn(bad).unwrap_err();
            assert!(
                e.contains("no spaces or ';'") && e.contains(hint),
                "{bad:?}: {e}"
            );
        }
        let many: Vec<String> = (0..33).map(|i| format!("p{i}")).collect();
        assert!(parse_alpn(&many.join(","))
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn ca_files_are_regular_and_bounded() {
        let e = roots(Path::new("/dev/zero")).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let e = roots(Path::new("/")).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let big = std::env::temp_dir().join(format!("eyeballs-ca-big-{}", std::process::id()));
        let file = File::create(&big).unwrap();
        file.set_len(MAX_CA_FILE + 1).unwrap();
        let e = roots(&big).unwrap_err();
        std::fs::remove_file(&big).unwrap();
        assert!(e.contains("over 1 MiB"), "{e}");
    }
}
