//! The embedded target over real HTTP on loopback: sessions, pages, counts, saturation and
//! lifecycle, each against a target started by the test itself.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use super::{EmbeddedConfig, EmbeddedTarget, ServiceTimes};

/// A fast target: small service times so tests stay well under a second.
fn quick() -> EmbeddedConfig {
    EmbeddedConfig {
        service_time: ServiceTimes {
            default: Duration::from_millis(1),
            login: Some(Duration::from_millis(2)),
            ..ServiceTimes::default()
        },
        login_cpu: Duration::from_micros(100),
        file_size: 10_000,
        ..EmbeddedConfig::default()
    }
}

/// Every request of these tests goes to a 127.0.0.1 target the test started, over plain
/// http. reqwest still wants a TLS configuration at build time; an empty one, with its own
/// provider, avoids installing a process-wide default that other tests might disagree with.
pub(super) fn client() -> Client {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Client::builder().no_proxy().tls_backend_preconfigured(tls).build().expect("plain-http client")
}

pub(super) fn url(target: &EmbeddedTarget, path: &str) -> String {
    target.base_url().join(path.trim_start_matches('/')).expect("a path joins the base URL").to_string()
}

/// Logs `user` in with JSON; returns the session token.
async fn login(client: &Client, target: &EmbeddedTarget, user: &str) -> String {
    let response = client
        .post(url(target, "/login"))
        .json(&json!({ "user": user, "password": "motdepasse" }))
        .send()
        .await
        .expect("login request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("login JSON");
    body["token"].as_str().expect("a token").to_owned()
}

async fn get_bearer(client: &Client, target: &EmbeddedTarget, path: &str, token: &str) -> reqwest::Response {
    client.get(url(target, path)).header(AUTHORIZATION, format!("Bearer {token}")).send().await.expect("request")
}

#[tokio::test]
async fn login_sets_a_cookie_that_opens_pages_and_the_same_token_as_bearer() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let response = client
        .post(url(&target, "/login"))
        .json(&json!({ "user": "eleve.0001", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["user"], "eleve.0001");
    assert_eq!(cookie, format!("ENTSESSION={token}; Path=/; HttpOnly"));

    let by_cookie = client
        .get(url(&target, "/homework"))
        .header(COOKIE, format!("lang=fr; ENTSESSION={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);
    let homework: Value = by_cookie.json().await.unwrap();
    assert!(homework["items"][0]["subject"].is_string());
    assert!(homework["items"][0]["due"].is_string());

    for page in ["/agenda", "/homework", "/grades", "/messages"] {
        let response = get_bearer(&client, &target, page, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert!(response.json::<Value>().await.is_ok(), "{page}");
    }
    assert_eq!(target.counts().sessions_created, 1);
    assert_eq!(target.active_sessions(), 1);
}

#[tokio::test]
async fn form_login_works_and_a_missing_user_is_400() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let form = client
        .post(url(&target, "/login"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("user=parent.0042&password=secret")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.json::<Value>().await.unwrap()["user"], "parent.0042");

    for body in [r#"{"password":"x"}"#, "{not json", ""] {
        let response = client.post(url(&target, "/login")).body(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:?}");
        assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    }
    let counts = target.counts();
    assert_eq!(counts.sessions_created, 1);
    assert_eq!(counts.by_status, BTreeMap::from([(200, 1), (400, 3)]));
}

#[tokio::test]
async fn pages_without_a_valid_session_are_401() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let pages = ["/agenda", "/homework", "/grades", "/messages", "/files/7"];
    for page in pages {
        let none = client.get(url(&target, page)).send().await.unwrap();
        assert_eq!(none.status(), StatusCode::UNAUTHORIZED, "{page}");
        let forged = get_bearer(&client, &target, page, "0123456789abcdef0123456789abcdef").await;
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "{page}");
    }
    for action in ["/exam/start", "/exam/answer", "/logout"] {
        let response = client.post(url(&target, action)).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{action}");
    }
    let counts = target.counts();
    assert_eq!(counts.unauthorized, 13);
    assert_eq!(counts.by_status, BTreeMap::from([(401, 13)]));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let token = login(&client, &target, "eleve.0002").await;
    let other = login(&client, &target, "eleve.0003").await;
    let logout =
        client.post(url(&target, "/logout")).header(COOKIE, format!("ENTSESSION={token}")).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    assert!(logout.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let after = get_bearer(&client, &target, "/agenda", &token).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let untouched = get_bearer(&client, &target, "/agenda", &other).await;
    assert_eq!(untouched.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_file_is_exactly_file_size_bytes() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let token = login(&client, &target, "eleve.0004").await;
    for id in ["7", "cours-svt.pdf"] {
        let response = get_bearer(&client, &target, &format!("/files/{id}"), &token).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/octet-stream");
        assert_eq!(response.bytes().await.unwrap().len(), 10_000);
    }
    assert_eq!(target.counts().received["GET /files"], 2);
}

#[tokio::test]
async fn exam_answers_are_counted_per_session() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let alice = login(&client, &target, "candidat.1").await;
    let bob = login(&client, &target, "candidat.2").await;
    let post = |path: &'static str, token: &str, body: &'static str| {
        client
            .post(url(&target, path))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    let start = post("/exam/start", &alice, "{}").await.unwrap();
    assert_eq!(start.status(), StatusCode::OK);
    assert!(start.json::<Value>().await.unwrap()["questions"].is_array());
    for expected in 1..=3 {
        let ack = post("/exam/answer", &alice, r#"{"question":1,"choice":"B"}"#).await.unwrap();
        assert_eq!(ack.status(), StatusCode::OK);
        let ack: Value = ack.json().await.unwrap();
        assert_eq!(ack, json!({ "saved": true, "answers": expected }));
    }
    let bob_ack: Value = post("/exam/answer", &bob, r#"{"q":2}"#).await.unwrap().json().await.unwrap();
    assert_eq!(bob_ack["answers"], 1);
    let malformed = post("/exam/answer", &alice, "{\"q\":").await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(target.counts().received["POST /exam/answer"], 5);
}

#[tokio::test]
async fn counts_equal_what_was_sent_per_route() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let token = login(&client, &target, "eleve.0005").await;
    for _ in 0..3 {
        get_bearer(&client, &target, "/agenda", &token).await;
    }
    for id in 0..4 {
        get_bearer(&client, &target, &format!("/files/{id}"), &token).await;
    }
    for path in ["/health", "/health"] {
        let response = client.get(url(&target, path)).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    for path in ["/nope", "/login", "/files/"] {
        let response = client.get(url(&target, path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let counts = target.counts();
    let received: BTreeMap<String, u64> =
        [("POST /login", 1), ("GET /agenda", 3), ("GET /files", 4), ("GET /health", 2), ("other", 3)]
            .into_iter()
            .map(|(key, n)| (key.to_owned(), n))
            .collect();
    assert_eq!(counts.received, received);
    assert_eq!(counts.by_status, BTreeMap::from([(200, 10), (404, 3)]));
    assert_eq!((counts.shed, counts.unauthorized, counts.sessions_created), (0, 0, 1));
    assert_eq!(counts.peak_in_service, 1);
}

/// One worker, one queue place, 100 ms per request: of six simultaneous requests one is
/// served, one waits its turn (and takes about twice as long), and the rest are shed at once.
#[tokio::test]
async fn saturation_queues_then_sheds_with_retry_after() {
    let service = Duration::from_millis(100);
    let config = EmbeddedConfig {
        workers: 1,
        queue: 1,
        service_time: ServiceTimes::uniform(service),
        login_cpu: Duration::ZERO,
        ..EmbeddedConfig::default()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let token = login(&client, &target, "eleve.0006").await;
    let sent = Instant::now();
    let requests = (0..6).map(|_| {
        let request = client.get(url(&target, "/homework")).header(AUTHORIZATION, format!("Bearer {token}")).send();
        async move {
            let response = request.await.expect("response");
            (response.status(), response.headers().get(RETRY_AFTER).cloned(), sent.elapsed())
        }
    });
    let mut results: Vec<_> = futures_join_all(requests.collect()).await;
    results.sort_by_key(|(_, _, latency)| *latency);

    let ok: Vec<Duration> = results.iter().filter(|r| r.0 == StatusCode::OK).map(|r| r.2).collect();
    let shed: Vec<_> = results.iter().filter(|r| r.0 == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert_eq!(ok.len() + shed.len(), 6, "{results:?}");
    assert!(shed.len() >= 3, "{results:?}");
    assert!(shed.iter().all(|r| r.1.as_ref().is_some_and(|v| v == "1")));
    assert!(shed.iter().all(|r| r.2 < service), "shed at once: {results:?}");
    // The queued request waited for the first one: its latency is about two service times.
    assert!(ok.len() >= 2, "{results:?}");
    assert!(ok[0] >= service, "{ok:?}");
    assert!(ok[1] >= service * 2 - Duration::from_millis(5), "{ok:?}");

    let counts = target.counts();
    assert_eq!(counts.shed, shed.len() as u64);
    assert_eq!(counts.by_status[&503], shed.len() as u64);
    assert_eq!(counts.received["GET /homework"], 6);
    assert_eq!(counts.peak_in_service, 1);
    assert_eq!(counts.peak_queued, 1);
}

#[tokio::test]
async fn health_answers_while_every_worker_is_busy() {
    let config = EmbeddedConfig {
        workers: 1,
        queue: 0,
        service_time: ServiceTimes::uniform(Duration::from_millis(400)),
        login_cpu: Duration::ZERO,
        ..EmbeddedConfig::default()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let busy = client.post(url(&target, "/login")).json(&json!({ "user": "prof.1" })).send();
    let busy = tokio::spawn(busy);
    // Let the login take the only slot.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let health = client.get(url(&target, "/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(200));
    let refused = client.get(url(&target, "/agenda")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.await.unwrap().unwrap().status(), StatusCode::OK);
}

/// A 401 is decided inside a worker slot (a real server pays for the session lookup) but
/// holds it only briefly: five refusals take far less than one full service time.
#[tokio::test]
async fn refusals_hold_the_slot_only_briefly() {
    let service = Duration::from_millis(300);
    let config = EmbeddedConfig { workers: 1, service_time: ServiceTimes::uniform(service), ..quick() };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let started = Instant::now();
    for _ in 0..5 {
        let response = client.get(url(&target, "/grades")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(started.elapsed() < service, "{:?}", started.elapsed());
    assert_eq!(target.counts().peak_in_service, 1, "refusals did take the slot");
}

#[tokio::test]
async fn oversized_or_odd_requests_are_answered_not_crashed() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let huge = format!(r#"{{"user":"eleve.9","password":"{}"}}"#, "x".repeat(100_000));
    let response = client.post(url(&target, "/login")).body(huge).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let token = login(&client, &target, "eleve.9").await;
    let binary = client
        .post(url(&target, "/exam/answer"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(vec![0xff_u8, 0x00, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(binary.status(), StatusCode::BAD_REQUEST);
    let unknown = client.delete(url(&target, "/homework")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let counts = target.counts();
    assert_eq!(counts.received["other"], 1);
    assert_eq!(counts.by_status, BTreeMap::from([(200, 1), (400, 2), (404, 1)]));
}

#[test]
fn a_target_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<EmbeddedTarget>();
}

#[tokio::test]
async fn login_burns_its_cpu_inside_the_slot() {
    let config = EmbeddedConfig {
        service_time: ServiceTimes { login: Some(Duration::from_millis(1)), ..ServiceTimes::default() },
        login_cpu: Duration::from_millis(30),
        ..quick()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let started = Instant::now();
    login(&client, &target, "eleve.0007").await;
    // CPU longer than the service time: the login costs the CPU time, not the service time.
    assert!(started.elapsed() >= Duration::from_millis(30), "{:?}", started.elapsed());
}

#[tokio::test]
async fn many_concurrent_logins_each_get_a_session() {
    let config = EmbeddedConfig { threads: 2, ..quick() };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let logins = (0..200).map(|i| {
        let request = client.post(url(&target, "/login")).json(&json!({ "user": format!("eleve.{i:04}") })).send();
        async move { request.await.map(|r| r.status()).ok() }
    });
    let statuses = futures_join_all(logins.collect()).await;
    assert!(statuses.iter().all(|s| *s == Some(StatusCode::OK)), "{statuses:?}");
    let counts = target.counts();
    assert_eq!(counts.sessions_created, 200);
    assert_eq!(counts.received["POST /login"], 200);
    assert!(counts.peak_in_service <= 16);
    assert_eq!(target.active_sessions(), 200);
}

#[tokio::test]
async fn dropped_sessions_must_log_in_again() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let client = client();
    let token = login(&client, &target, "eleve.0008").await;
    assert_eq!(target.drop_sessions(), 1);
    let after = get_bearer(&client, &target, "/homework", &token).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let token = login(&client, &target, "eleve.0008").await;
    assert_eq!(get_bearer(&client, &target, "/homework", &token).await.status(), StatusCode::OK);
}

#[test]
fn non_loopback_addresses_are_refused() {
    for addr in ["0.0.0.0:0", "10.0.0.1:0", "[::]:0"] {
        let addr: SocketAddr = addr.parse().unwrap();
        let error = EmbeddedTarget::start_on(&quick(), addr).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{addr}");
        assert!(error.to_string().contains("loopback"), "{error}");
    }
    let target = EmbeddedTarget::start_on(&quick(), "127.0.0.1:0".parse().unwrap()).unwrap();
    assert!(target.addr().ip().is_loopback());
    assert_ne!(target.addr().port(), 0);
    assert_eq!(target.base_url().as_str(), format!("http://127.0.0.1:{}/", target.addr().port()));
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let first = EmbeddedTarget::start(&quick()).unwrap();
    let error = EmbeddedTarget::start_on(&quick(), first.addr()).unwrap_err();
    assert!(error.to_string().contains(&first.addr().to_string()), "{error}");
}

#[tokio::test]
async fn shutdown_is_prompt_even_with_requests_in_flight() {
    let config = EmbeddedConfig {
        workers: 1,
        queue: 8,
        service_time: ServiceTimes::uniform(Duration::from_secs(10)),
        ..quick()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let health = client.get(url(&target, "/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // Keep the only worker busy for 10 s and a second request queued behind it.
    let stuck: Vec<_> =
        (0..2).map(|_| tokio::spawn(client.post(url(&target, "/login")).json(&json!({"user": "x"})).send())).collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let addr = target.addr();
    let started = Instant::now();
    target.shutdown();
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    for request in stuck {
        assert!(request.await.unwrap().is_err(), "cut off, not answered");
    }
    assert!(std::net::TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn drop_stops_the_target() {
    let target = EmbeddedTarget::start(&quick()).unwrap();
    let addr = target.addr();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    let started = Instant::now();
    drop(target);
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(std::net::TcpStream::connect(addr).is_err());
}

/// Runs futures concurrently on the test's runtime and collects their outputs in order.
pub(super) async fn futures_join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("request task"));
    }
    outputs
}
