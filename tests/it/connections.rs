//! Connections as the target sees them (issue 11): a user's requests reuse its own connection
//! and no other user's; a shared pool holds its size; per-user HTTPS makes one handshake per
//! user; ALPN picks HTTP/2; source addresses spread users; TLS failures are classified with a
//! message naming the cause. Every target is a loopback server started here (`loopback.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::atomic::Ordering;

use schoolday::analysis::Summary;

use super::loopback::{Cert, Target};
use super::{assert_accounting_closes, run, temp_dir};

const USERS: usize = 12;

/// `USERS` users arriving over half a second, three requests each, every request naming its
/// user in `x-user`.
fn scenario(url: &str, http: &str) -> String {
    format!(
        r#"
name: connections
target: {url}
http: {{ timeout: 10s, headers: {{ x-user: "{{{{ user.id }}}}" }}{http} }}
duration: 500ms
grace: 10s
personas:
  pupil:
    population: {USERS}
    arrival: {{ shape: constant, rate: 24/s, spacing: even }}
    journey:
      - {{ name: login, get: /login }}
      - {{ name: agenda, get: /agenda }}
      - {{ name: homework, get: /homework, goal: true }}
"#
    )
}

fn requests(summary: &Summary) -> u64 {
    summary.steps.iter().map(|s| s.ok).sum()
}

/// Users per connection, as the target saw them.
fn users_by_connection(target: &Target) -> Vec<BTreeSet<String>> {
    target.connections().iter().map(|c| c.users.iter().cloned().collect()).collect()
}

#[test]
fn issue_11_each_user_reuses_its_own_connection_and_no_one_elses() {
    let target = Target::http();
    let dir = temp_dir("conn-per-user");
    let (summary, _) = run(&dir, &scenario(&format!("http://127.0.0.1:{}", target.port()), ""));
    assert_accounting_closes(&summary);
    assert_eq!(requests(&summary), 3 * USERS as u64, "{:?}", summary.requests);
    let connections = target.connections();
    assert_eq!(connections.len(), USERS, "one connection per user: {connections:?}");
    for (c, users) in connections.iter().zip(users_by_connection(&target)) {
        assert_eq!(users.len(), 1, "a connection carried one user's requests only: {c:?}");
        assert_eq!(c.users.len(), 3, "the user's three requests all went over its connection: {c:?}");
    }
    let distinct: BTreeSet<String> = connections.iter().flat_map(|c| c.users.clone()).collect();
    assert_eq!(distinct.len(), USERS);
    assert_eq!(summary.steps[0].http_versions, ["HTTP/1.1"]);
}

#[test]
fn issue_11_a_fixed_shared_pool_holds_its_size_and_queues() {
    let target = Target::http();
    let dir = temp_dir("conn-shared");
    let yaml = scenario(&format!("http://127.0.0.1:{}", target.port()), ", connections: { shared: 2 }");
    let (summary, _) = run(&dir, &yaml);
    assert_accounting_closes(&summary);
    assert_eq!(requests(&summary), 3 * USERS as u64);
    let connections = target.connections();
    assert!(!connections.is_empty() && connections.len() <= 2, "at most 2 connections: {connections:?}");
    let carried: usize = connections.iter().map(|c| c.users.len()).sum();
    assert_eq!(carried, 3 * USERS, "every request went over the pool's connections");
}

#[test]
fn issue_11_per_user_https_makes_one_handshake_per_user() {
    let cert = Cert::new(&["localhost"], false);
    let target = Target::https(&cert);
    let dir = temp_dir("conn-https");
    cert.write(&dir, "ca.pem");
    let yaml = scenario(&format!("https://localhost:{}", target.port()), ", tls: { ca: ca.pem }, version: http1");
    let (summary, _) = run(&dir, &yaml);
    assert_accounting_closes(&summary);
    assert_eq!(requests(&summary), 3 * USERS as u64, "{:?}", summary.http);
    assert_eq!(target.seen.handshakes.load(Ordering::Relaxed), USERS as u64, "one full handshake per user");
    assert!(users_by_connection(&target).iter().all(|u| u.len() == 1));
    assert!(!summary.http.tls_insecure);
}

#[test]
fn issue_11_http2_is_negotiated_by_alpn_one_connection_per_user() {
    let cert = Cert::new(&["localhost"], false);
    let target = Target::https(&cert);
    let dir = temp_dir("conn-h2");
    cert.write(&dir, "ca.pem");
    let (summary, _) = run(&dir, &scenario(&format!("https://localhost:{}", target.port()), ", tls: { ca: ca.pem }"));
    assert_eq!(requests(&summary), 3 * USERS as u64, "{:?}", summary.http);
    let connections = target.connections();
    assert_eq!(connections.len(), USERS);
    assert!(connections.iter().all(|c| c.version == Some(hyper::Version::HTTP_2)), "{connections:?}");
    assert!(users_by_connection(&target).iter().all(|u| u.len() == 1));
    for step in &summary.steps {
        assert_eq!(step.http_versions, ["HTTP/2"], "{}", step.name);
    }
}

#[test]
fn issue_11_users_spread_over_two_source_addresses() {
    let target = Target::http();
    let dir = temp_dir("conn-sources");
    let yaml = scenario(&format!("http://127.0.0.1:{}", target.port()), ", local_addresses: [127.0.0.2, 127.0.0.3]");
    let (summary, _) = run(&dir, &yaml);
    assert_eq!(requests(&summary), 3 * USERS as u64, "{:?}", summary.http);
    let mut by_source: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for c in target.connections() {
        *by_source.entry(c.peer).or_default() += 1;
    }
    let two: [IpAddr; 2] = ["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
    assert_eq!(by_source, BTreeMap::from([(two[0], USERS / 2), (two[1], USERS / 2)]));
}

/// The only error kind of a run, its count, and the reasons given.
fn failed_with(summary: &Summary) -> (String, u64, String) {
    let errors = &summary.requests.errors;
    assert_eq!(errors.len(), 1, "one kind of error: {errors:?}");
    let (kind, n) = errors.iter().next().unwrap();
    let why = summary.http.failures.iter().map(|n| n.message.clone()).collect::<Vec<_>>().join(" | ");
    (kind.clone(), *n, why)
}

#[test]
fn issue_11_https_to_a_plain_http_port_is_a_tls_failure_that_says_so() {
    let target = Target::http();
    let dir = temp_dir("conn-tls-plain");
    let (summary, _) = run(&dir, &scenario(&format!("https://127.0.0.1:{}", target.port()), ""));
    let (kind, n, why) = failed_with(&summary);
    assert_eq!((kind.as_str(), n), ("tls", USERS as u64), "{why}");
    assert!(why.contains("does not speak TLS"), "{why}");
    assert!(target.connections().iter().all(|c| c.users.is_empty()), "no request reached the target");
}

#[test]
fn issue_11_refused_certificates_are_tls_failures_naming_the_cause() {
    let cases = [
        ("expired", Cert::new(&["localhost"], true), "localhost", true, "expired"),
        ("wrong-host", Cert::new(&["other.example"], false), "localhost", true, "not valid for that name"),
        ("untrusted", Cert::new(&["localhost"], false), "localhost", false, "unknown authority"),
    ];
    for (name, cert, host, trusted, expected) in cases {
        let target = Target::https(&cert);
        let dir = temp_dir(&format!("conn-tls-{name}"));
        cert.write(&dir, "ca.pem");
        let tls = if trusted { ", tls: { ca: ca.pem }" } else { "" };
        let url = format!("https://{host}:{}", target.port());
        let (summary, _) = run(&dir, &scenario(&url, tls));
        let (kind, n, why) = failed_with(&summary);
        assert_eq!((kind.as_str(), n), ("tls", USERS as u64), "{name}: {why}");
        assert!(why.contains(expected), "{name}: {why}");

        // `insecure` accepts the same certificate, and the summary says it was on.
        let (summary, _) = run(&dir, &scenario(&url, ", tls: { insecure: true }"));
        assert_eq!(requests(&summary), 3 * USERS as u64, "{name} with insecure: {:?}", summary.http);
        assert!(summary.http.tls_insecure);
    }
}
