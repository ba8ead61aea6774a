//! The `http:` block's connection settings: how users map onto connections (`per-user`,
//! `shared`, `shared: 64`), the HTTP version, TLS (`ca`, mTLS, SNI, `insecure`, resumption),
//! source addresses and the split timeouts.
//!
//! Kept apart from `validate.rs` because it is one concept (what the client looks like on the
//! wire) with its own raw types. Certificate and key files are read here, at load time, so a
//! missing or malformed PEM fails before the run with the file named, not at 8:00.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::model::ConnectionMode;
use crate::scenario::raw::Scalar;
use crate::scenario::suggest;
use crate::scenario::validate::duration_at;

type Result<T> = std::result::Result<T, ScenarioError>;

/// More source addresses than this in `local_addresses` is a mistake (a /8 is 16 million):
/// a CIDR is kept as a range, but a list is spelt out.
const MAX_LISTED_ADDRESSES: usize = 4096;

/// What the client looks like on the wire, beyond the connection mode.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// `shared: N`: at most N connections for all users, requests queue on the client for a
    /// free one (wrk's `-c`). `None` with `shared`: a connection per concurrent request,
    /// kept for reuse.
    pub pool: Option<u32>,
    pub version: HttpVersion,
    pub tls: TlsSettings,
    /// Source addresses connections are bound to, in turn (k6's `--local-ips`). Empty: the
    /// system picks.
    pub local_addresses: Vec<ipnet::IpNet>,
    pub timeouts: Timeouts,
}

/// `http.version`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpVersion {
    /// HTTP/2 when the server offers it by ALPN (HTTPS), HTTP/1.1 otherwise, as a browser.
    #[default]
    Auto,
    Http1,
    /// HTTP/2 only: over TLS the server must agree by ALPN; over plain TCP it is spoken
    /// directly (prior knowledge, h2c).
    Http2,
}

/// `http.tls`.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// Extra trust anchors (`ca: file.pem`) added to the platform's roots.
    pub ca: Vec<CertificateDer<'static>>,
    /// `client_cert` and `client_key`: a client certificate for mutual TLS.
    pub identity: Option<Arc<Identity>>,
    /// The name sent in SNI and checked against the certificate, in place of the URL's host.
    pub server_name: Option<String>,
    /// Accept any certificate. Never a default; the report says when it was on.
    pub insecure: bool,
    /// Resume TLS sessions across a user's connections and across users (returning browsers).
    /// Off by default: every per-user connection makes a full handshake, as on the morning.
    pub resumption: bool,
}

/// A client certificate chain and its key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// `http.timeouts`: each phase's limit, under the attempt's total (`http.timeout` or the
/// step's). `None`: only the total bounds that phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    pub first_byte: Option<Duration>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, expecting = "TLS settings, e.g. `{ ca: ca.pem, server_name: ent.example.org }`")]
pub struct RawTls {
    /// A PEM file of CA certificates to trust besides the system's (relative to the scenario).
    pub ca: Option<String>,
    /// A PEM client certificate chain, for targets that ask for one (with `client_key`).
    pub client_cert: Option<String>,
    /// The PEM private key of `client_cert`.
    pub client_key: Option<String>,
    /// The name to send (SNI) and check the certificate against, when the URL's host is not it.
    pub server_name: Option<String>,
    /// Do not check certificates (reports say so in red). For test targets only.
    pub insecure: Option<bool>,
    /// Resume TLS sessions on a user's reconnections, as browsers do (default `true`).
    pub resumption: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, expecting = "timeouts, e.g. `{ connect: 5s, tls: 5s, first_byte: 20s }`")]
pub struct RawTimeouts {
    /// Longest wait for the TCP connection.
    #[schemars(with = "Option<crate::scenario::schema::DurationText>")]
    pub connect: Option<Scalar>,
    /// Longest wait for the TLS handshake.
    #[schemars(with = "Option<crate::scenario::schema::DurationText>")]
    pub tls: Option<Scalar>,
    /// Longest wait for the first byte of a response.
    #[schemars(with = "Option<crate::scenario::schema::DurationText>")]
    pub first_byte: Option<Scalar>,
}

const CONNECTIONS_HINT: &str = "write `connections: per-user` (each user its own, the default), `connections: shared` \
     or `connections: { shared: 64 }` (a fixed pool of 64)";

/// `http.connections`: `per-user`, `shared` or `{ shared: N }`.
pub fn connections(src: &Source, value: &serde_yaml::Value) -> Result<(ConnectionMode, Option<u32>)> {
    let path = "http.connections";
    let bad = |message: String| src.error(path, At::Value, message).with_hint(CONNECTIONS_HINT);
    match value {
        serde_yaml::Value::String(s) if s == "per-user" => Ok((ConnectionMode::PerUser, None)),
        serde_yaml::Value::String(s) if s == "shared" => Ok((ConnectionMode::Shared, None)),
        serde_yaml::Value::Mapping(map) if map.len() == 1 => {
            let (key, size) = map.iter().next().expect("one entry");
            if key.as_str() != Some("shared") {
                return Err(bad(format!("`{}` is not a connection mode", yaml_text(key))));
            }
            match size.as_u64() {
                Some(n @ 1..=1_000_000) => Ok((ConnectionMode::Shared, Some(n as u32))),
                _ => Err(bad(format!("a shared pool holds 1 to 1000000 connections, not `{}`", yaml_text(size)))),
            }
        }
        serde_yaml::Value::String(s) => {
            let error = src.error(path, At::Value, format!("unknown variant `{s}`"));
            Err(match suggest::did_you_mean(s, ["per-user", "shared"]) {
                Some(hint) => error.with_hint(hint),
                None => error.with_hint(CONNECTIONS_HINT),
            })
        }
        other => Err(bad(format!("`{}` is not a connection mode", yaml_text(other)))),
    }
}

fn yaml_text(value: &serde_yaml::Value) -> String {
    serde_yaml::to_string(value).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// `http.local_addresses`: addresses and CIDR ranges.
pub fn local_addresses(src: &Source, items: &[Scalar]) -> Result<Vec<ipnet::IpNet>> {
    let mut nets = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("http.local_addresses[{i}]");
        let text = item.as_str().trim();
        let net = match text.parse::<IpAddr>() {
            Ok(addr) => ipnet::IpNet::from(addr),
            Err(_) => text.parse::<ipnet::IpNet>().map_err(|_| {
                src.error(&path, At::Value, format!("`{text}` is neither an IP address nor a CIDR range"))
                    .with_hint("e.g. `127.0.0.2`, `10.0.0.5` or `127.0.0.0/24`")
            })?,
        };
        if nets.len() >= MAX_LISTED_ADDRESSES {
            return Err(src
                .error(&path, At::Value, format!("more than {MAX_LISTED_ADDRESSES} source addresses are listed"))
                .with_hint("give a range as a CIDR instead, e.g. `127.0.0.0/16`"));
        }
        nets.push(net);
    }
    Ok(nets)
}

/// `http.version`.
pub fn version(src: &Source, text: &Scalar) -> Result<HttpVersion> {
    match text.as_str() {
        "auto" => Ok(HttpVersion::Auto),
        "http1" | "http1.1" => Ok(HttpVersion::Http1),
        "http2" => Ok(HttpVersion::Http2),
        other => Err(src
            .error("http.version", At::Value, format!("`{other}` is not an HTTP version"))
            .with_hint("write `auto` (HTTP/2 when the server offers it, the default), `http1` or `http2`")),
    }
}

/// `http.timeouts`.
pub fn timeouts(src: &Source, raw: &RawTimeouts) -> Result<Timeouts> {
    let one = |key: &str, text: &Option<Scalar>| -> Result<Option<Duration>> {
        let Some(text) = text else { return Ok(None) };
        let path = format!("http.timeouts.{key}");
        let d = duration_at(src, &path, text)?;
        if d.is_zero() {
            return Err(src.error(&path, At::Value, "a timeout must be more than 0s"));
        }
        Ok(Some(d))
    };
    Ok(Timeouts {
        connect: one("connect", &raw.connect)?,
        tls: one("tls", &raw.tls)?,
        first_byte: one("first_byte", &raw.first_byte)?,
    })
}

/// `http.tls`, with its files read relative to the scenario.
pub fn tls(src: &Source, raw: &RawTls) -> Result<TlsSettings> {
    let dir = src.file.parent().unwrap_or(Path::new(""));
    let mut settings = TlsSettings {
        insecure: raw.insecure.unwrap_or(false),
        resumption: raw.resumption.unwrap_or(false),
        ..TlsSettings::default()
    };
    if let Some(file) = &raw.ca {
        let (path, resolved) = ("http.tls.ca", dir.join(file));
        settings.ca = certificates(src, path, &resolved)?;
    }
    match (&raw.client_cert, &raw.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(src, "http.tls.client_cert", &dir.join(cert))?;
            let resolved = dir.join(key);
            let key = PrivateKeyDer::from_pem_file(&resolved).map_err(|e| {
                src.error("http.tls.client_key", At::Value, format!("key file `{}`: {}", resolved.display(), pem(e)))
            })?;
            settings.identity = Some(Arc::new(Identity { chain, key }));
        }
        (Some(_), None) => {
            return Err(src
                .error("http.tls.client_cert", At::Key, "a client certificate needs its key")
                .with_hint("add `client_key: client.key` beside `client_cert`"))
        }
        (None, Some(_)) => {
            return Err(src
                .error("http.tls.client_key", At::Key, "a client key needs its certificate")
                .with_hint("add `client_cert: client.pem` beside `client_key`"))
        }
        (None, None) => {}
    }
    if let Some(name) = &raw.server_name {
        if rustls::pki_types::ServerName::try_from(name.as_str()).is_err() {
            return Err(src.error("http.tls.server_name", At::Value, format!("`{name}` is not a host name")));
        }
        settings.server_name = Some(name.clone());
    }
    Ok(settings)
}

fn certificates(src: &Source, path: &str, file: &PathBuf) -> Result<Vec<CertificateDer<'static>>> {
    let fail = |why: String| src.error(path, At::Value, format!("certificate file `{}`: {why}", file.display()));
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| fail(pem(e)))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| fail(pem(e)))?;
    if certs.is_empty() {
        return Err(fail("it holds no `BEGIN CERTIFICATE` block".into()));
    }
    Ok(certs)
}

fn pem(error: rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match error {
        Error::Io(e) => format!("cannot read it: {e}"),
        Error::NoItemsFound => "it holds no PEM block of that kind".into(),
        other => format!("not valid PEM: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::{load_str, ConnectionMode, HttpVersion};

    fn with_http(http: &str) -> String {
        format!(
            "name: t\ntarget: https://127.0.0.1:8443\nduration: 1s\nhttp: {http}\npersonas:\n  p:\n    population: 1\n    \
             arrival: {{ shape: burst, at: 0s }}\n    journey:\n      - {{ get: /, goal: true }}\n"
        )
    }

    fn error(http: &str) -> String {
        match load_str(&with_http(http), Path::new("t.yaml")) {
            Ok(_) => panic!("`{http}` should not load"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn connection_modes_and_pool_sizes() {
        let load = |http: &str| load_str(&with_http(http), Path::new("t.yaml")).unwrap().http;
        let shared = load("{ connections: { shared: 64 } }");
        assert_eq!((shared.connections, shared.client.pool), (ConnectionMode::Shared, Some(64)));
        let shared = load("{ connections: shared }");
        assert_eq!((shared.connections, shared.client.pool), (ConnectionMode::Shared, None));
        let default = load("{ timeout: 5s }");
        assert_eq!((default.connections, default.client.version), (ConnectionMode::PerUser, HttpVersion::Auto));
        assert!(!default.client.tls.insecure && !default.client.tls.resumption);
        let all = load(
            "{ version: http2, local_addresses: [127.0.0.2, 127.0.0.0/24], timeouts: { connect: 2s, first_byte: 9s }, \
             tls: { insecure: true, resumption: true, server_name: ent.example.org } }",
        );
        assert_eq!(all.client.version, HttpVersion::Http2);
        assert_eq!(all.client.local_addresses.len(), 2);
        assert_eq!(all.client.timeouts.connect, Some(std::time::Duration::from_secs(2)));
        assert_eq!(all.client.timeouts.tls, None);
        assert!(all.client.tls.insecure && all.client.tls.resumption);
        assert_eq!(all.client.tls.server_name.as_deref(), Some("ent.example.org"));
    }

    #[test]
    fn mistakes_say_what_to_write() {
        assert!(error("{ connections: { shared: 0 } }").contains("a shared pool holds 1 to 1000000 connections"));
        assert!(error("{ connections: { pool: 4 } }").contains("`pool` is not a connection mode"));
        assert!(error("{ version: h3 }").contains("`h3` is not an HTTP version"));
        assert!(error("{ local_addresses: [10.0.0.300] }").contains("neither an IP address nor a CIDR range"));
        assert!(error("{ timeouts: { tls: 0s } }").contains("http.timeouts.tls: a timeout must be more than 0s"));
        assert!(error("{ timeouts: { read: 1s } }").contains("unknown field `read`"));
        assert!(error("{ tls: { client_cert: c.pem } }").contains("a client certificate needs its key"));
        let missing = error("{ tls: { ca: no-such-ca.pem } }");
        assert!(missing.contains("certificate file `no-such-ca.pem`: cannot read it"), "{missing}");
    }
}
