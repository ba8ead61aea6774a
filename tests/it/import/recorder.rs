//! A recorder in the tests: drives a real session against the embedded demo workspace over
//! real sockets (log in, agenda, homework, the first homework's file) and writes what went
//! over the wire as HAR 1.2 entries, the way a browser's developer tools would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use schoolday::demo::{EmbeddedConfig, EmbeddedTarget};
use serde_json::{json, Value};

pub const USER: &str = "eleve.4e2.017";
pub const PASSWORD: &str = "Tournesol#2021";

struct Exchange {
    started: DateTime<Utc>,
    millis: f64,
    method: &'static str,
    path: String,
    request_headers: Vec<(String, String)>,
    body: Option<String>,
    status: u16,
    response_headers: Vec<(String, String)>,
    response_body: String,
}

/// One HTTP/1.1 request on its own connection, read to the end.
fn send(
    addr: std::net::SocketAddr,
    method: &'static str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
) -> Exchange {
    let started = DateTime::<Utc>::from(std::time::SystemTime::now());
    let clock = std::time::Instant::now();
    let mut request_headers: Vec<(String, String)> = vec![
        ("Host".into(), addr.to_string()),
        ("User-Agent".into(), "Mozilla/5.0 (recorder)".into()),
        ("Connection".into(), "close".into()),
    ];
    request_headers.extend(headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
    if let Some(body) = body {
        request_headers.push(("Content-Type".into(), "application/json".into()));
        request_headers.push(("Content-Length".into(), body.len().to_string()));
    }
    let mut stream = TcpStream::connect(addr).expect("connect to the embedded target");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut wire = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &request_headers {
        wire.push_str(&format!("{k}: {v}\r\n"));
    }
    wire.push_str("\r\n");
    wire.push_str(body.unwrap_or_default());
    stream.write_all(wire.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).expect("a status");
    let response_headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut body_bytes = raw[split + 4..].to_vec();
    if response_headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")) {
        body_bytes = dechunk(&body_bytes);
    }
    Exchange {
        started,
        millis: clock.elapsed().as_secs_f64() * 1000.0,
        method,
        path: path.to_string(),
        request_headers,
        body: body.map(str::to_string),
        status,
        response_headers,
        response_body: String::from_utf8_lossy(&body_bytes).into_owned(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

/// Records a pupil's morning against a fresh embedded target and writes it to `har`.
pub fn record_demo_session(har: &Path) {
    let target = EmbeddedTarget::start(&EmbeddedConfig::default()).expect("embedded target");
    let addr = target.addr();
    let pause = || std::thread::sleep(Duration::from_millis(300));
    let mut exchanges = Vec::new();
    let credentials = json!({ "user": USER, "password": PASSWORD }).to_string();
    exchanges.push(send(addr, "POST", "/login", &[], Some(&credentials)));
    let token =
        serde_json::from_str::<Value>(&exchanges[0].response_body).unwrap()["token"].as_str().unwrap().to_string();
    let cookie = ("Cookie", format!("ENTSESSION={token}"));
    let bearer = ("Authorization", format!("Bearer {token}"));
    pause();
    exchanges.push(send(addr, "GET", "/agenda", &[bearer.clone(), cookie.clone()], None));
    pause();
    exchanges.push(send(addr, "GET", "/homework", &[bearer.clone(), cookie.clone()], None));
    let homework: Value = serde_json::from_str(&exchanges[2].response_body).unwrap();
    let id = homework["items"][0]["id"].as_u64().expect("a homework id");
    pause();
    exchanges.push(send(addr, "GET", &format!("/files/{id}"), &[bearer, cookie], None));
    assert!(exchanges.iter().all(|e| e.status == 200), "the recorded session went well");
    target.shutdown();
    let base = format!("http://{addr}");
    let entries: Vec<Value> = exchanges.iter().map(|e| entry(&base, e)).collect();
    let doc = json!({ "log": { "version": "1.2", "creator": { "name": "schoolday test recorder", "version": "1" }, "entries": entries } });
    std::fs::write(har, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

fn pairs(headers: &[(String, String)]) -> Vec<Value> {
    headers.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect()
}

fn entry(base: &str, e: &Exchange) -> Value {
    let mime = e
        .response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("application/octet-stream", |(_, v)| v.as_str());
    let mut request = json!({
        "method": e.method, "url": format!("{base}{}", e.path), "httpVersion": "HTTP/1.1",
        "headers": pairs(&e.request_headers), "queryString": [], "cookies": [], "headersSize": -1,
        "bodySize": e.body.as_ref().map_or(0, String::len),
    });
    if let Some(body) = &e.body {
        request["postData"] = json!({ "mimeType": "application/json", "text": body });
    }
    json!({
        "startedDateTime": e.started.to_rfc3339(), "time": e.millis, "_resourceType": "fetch",
        "request": request,
        "response": {
            "status": e.status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": pairs(&e.response_headers),
            "cookies": [], "content": { "size": e.response_body.len(), "mimeType": mime, "text": e.response_body },
            "redirectURL": "", "headersSize": -1, "bodySize": e.response_body.len(),
        },
        "cache": {}, "timings": { "send": 0, "wait": e.millis, "receive": 0 },
    })
}
