//! The embedded target's failure modes over real HTTP on loopback: an unbounded queue, work
//! done for clients that have gone (against shedding, which frees their place), the waiting
//! room in front of logins, idle-session expiry and login block windows. Each test starts its
//! own target with short service times and finishes in well under three seconds.

use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use super::tests::{client, futures_join_all, url};
use super::{Block, EmbeddedConfig, EmbeddedTarget, Overload, ServiceTimes};

/// One worker, no hashing, every route held for `service`: latencies are multiples of it.
fn one_worker(service: Duration, overload: Overload) -> EmbeddedConfig {
    EmbeddedConfig {
        workers: 1,
        queue: 16,
        service_time: ServiceTimes::uniform(service),
        login_cpu: Duration::ZERO,
        overload,
        ..EmbeddedConfig::default()
    }
}

fn login_request(client: &Client, target: &EmbeddedTarget, user: &str) -> reqwest::RequestBuilder {
    client.post(url(target, "/login")).json(&json!({ "user": user, "password": "motdepasse" }))
}

/// Logs `user` in; returns the status and the token when there is one.
async fn try_login(client: &Client, target: &EmbeddedTarget, user: &str) -> (StatusCode, Value) {
    let response = login_request(client, target, user).send().await.expect("login");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_with_cookie(client: &Client, target: &EmbeddedTarget, path: &str, token: &str) -> StatusCode {
    client.get(url(target, path)).header(COOKIE, format!("ENTSESSION={token}")).send().await.expect("request").status()
}

async fn sleep_until(instant: Instant) {
    tokio::time::sleep_until(instant.into()).await;
}

#[tokio::test]
async fn queue_mode_never_sheds_and_the_tenth_request_waits_ten_service_times() {
    let service = Duration::from_millis(50);
    // A queue length of 0 would shed everything beyond the worker in `Shed` mode.
    let config = EmbeddedConfig { queue: 0, ..one_worker(service, Overload::Queue) };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let sent = Instant::now();
    let logins = (0..10).map(|i| {
        let request = login_request(&client, &target, &format!("eleve.{i}")).send();
        async move {
            let status = request.await.expect("answered").status();
            (status, sent.elapsed())
        }
    });
    let mut results = futures_join_all(logins.collect()).await;
    results.sort_by_key(|(_, latency)| *latency);
    assert!(results.iter().all(|(s, _)| *s == StatusCode::OK), "{results:?}");
    let last = results[9].1;
    assert!(last >= service * 10 - Duration::from_millis(5), "{results:?}");
    assert!(last < service * 10 + Duration::from_millis(300), "{results:?}");
    // Served one after the other: the k-th answer comes after about k service times.
    for (k, (_, latency)) in results.iter().enumerate() {
        assert!(*latency >= service * (k as u32 + 1) - Duration::from_millis(5), "{results:?}");
    }
    let counts = target.counts();
    assert_eq!((counts.shed, counts.by_status[&200]), (0, 10));
    assert_eq!(counts.peak_in_service, 1);
    assert!(counts.peak_queued >= 8, "{counts:?}");
}

/// How long the one worker takes per login in the gone-clients tests.
const GONE_SERVICE: Duration = Duration::from_millis(250);

/// Four impatient logins on a one-worker target, then one patient login at 2 service times.
/// Login 0 is served (0 to 1 service time); login 1 is in service (1 to 2) when its client
/// gives up at 1.75; logins 2 and 3 wait in the queue and their clients give up first, at
/// 1.25. Ordered so: when every client gave up at the same instant, a server that heard the
/// one in service first handed its slot to a queued login whose departure it had not heard
/// yet, and that login opened a session (the shed-mode test failed so on a busy machine).
/// Returns the patient login's latency.
async fn gone_clients_then_a_patient_one(overload: Overload) -> (Duration, super::TargetCounts) {
    let service = GONE_SERVICE;
    let target = EmbeddedTarget::start(&one_worker(service, overload)).unwrap();
    let client = client();
    let started = Instant::now();
    let login = |i: usize, gives_up: Duration| {
        let request = login_request(&client, &target, &format!("eleve.{i}"));
        tokio::spawn(request.timeout(gives_up.saturating_sub(started.elapsed())).send())
    };
    let mut impatient = vec![login(0, service * 3 / 2)];
    // In this order at the target: 0 and 1 first, then the two that will queue.
    sleep_until(started + Duration::from_millis(20)).await;
    impatient.push(login(1, service * 7 / 4));
    sleep_until(started + service / 5).await;
    impatient.extend([login(2, service * 5 / 4), login(3, service * 5 / 4)]);
    sleep_until(started + service * 2).await;
    let sent = Instant::now();
    let (status, _) = try_login(&client, &target, "eleve.patient").await;
    let latency = sent.elapsed();
    assert_eq!(status, StatusCode::OK);
    let mut answered = 0;
    for request in impatient {
        match request.await.expect("request task") {
            Ok(response) => {
                assert_eq!(response.status(), StatusCode::OK);
                answered += 1;
            }
            Err(error) => assert!(error.is_timeout(), "{error}"),
        }
    }
    // Only the first could be served before its client gave up.
    assert_eq!(answered, 1);
    (latency, target.counts())
}

#[tokio::test]
async fn metastable_serves_clients_that_have_gone_and_later_requests_wait_behind_them() {
    let (latency, counts) = gone_clients_then_a_patient_one(Overload::Metastable).await;
    // The three abandoned logins are served (1 to 4 service times) before the patient one,
    // sent at 2: it waits 2 and is served in the third.
    assert!(latency >= GONE_SERVICE * 27 / 10, "{latency:?}");
    assert_eq!(counts.served_to_nobody, 3, "{counts:?}");
    assert_eq!(counts.by_status[&200], 2, "{counts:?}");
    assert_eq!(counts.received["POST /login"], 5);
    assert_eq!(counts.sessions_created, 5, "the dead logins were really done");
}

#[tokio::test]
async fn shed_mode_frees_the_place_of_a_client_that_has_gone() {
    let (latency, counts) = gone_clients_then_a_patient_one(Overload::Shed).await;
    // The abandoned logins were dropped when their clients left: the patient one is served at
    // once.
    assert!(latency < GONE_SERVICE + Duration::from_millis(90), "{latency:?}");
    assert_eq!(counts.served_to_nobody, 0);
    assert_eq!(counts.by_status[&200], 2, "{counts:?}");
    assert_eq!(counts.received["POST /login"], 5);
    // The login in service when its client left had already opened its session; only the
    // rest of its hold was cut short. The two queued ones were never worked on.
    assert_eq!(counts.sessions_created, 3);
}

/// The ticket number and cookie pair from a queued answer's `Set-Cookie`.
fn ticket_of(response: &reqwest::Response) -> (u64, String) {
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let value = pair.strip_prefix("ENTQUEUE=").expect("a queue cookie");
    let number = value.split('.').next().unwrap().parse().unwrap();
    (number, pair)
}

#[tokio::test]
async fn waiting_room_admits_a_burst_then_tickets_in_fifo_order_at_the_rate() {
    let rate = 10.0;
    let turn = Duration::from_millis(100);
    let config = EmbeddedConfig {
        overload: Overload::WaitingRoom { admit_per_second: rate, retry_after: Duration::from_millis(100) },
        service_time: ServiceTimes::uniform(Duration::from_millis(1)),
        login_cpu: Duration::ZERO,
        ..EmbeddedConfig::default()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let burst = Instant::now();
    let logins = (0..25).map(|i| login_request(&client, &target, &format!("eleve.{i}")).send());
    let answers = futures_join_all(logins.collect()).await;
    let mut admitted = Vec::new();
    let mut queued = Vec::new();
    for answer in answers {
        let response = answer.expect("answered");
        match response.status() {
            StatusCode::OK => admitted.push(response.json::<Value>().await.unwrap()),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(response.headers()[RETRY_AFTER], "1");
                let ticket = ticket_of(&response);
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["queued"], true);
                assert_eq!(body["retry_after_seconds"], 0.1);
                queued.push((ticket, body));
            }
            other => panic!("unexpected {other}"),
        }
    }
    // One second's worth walks straight in; the rest queue with positions 1..=15 in ticket
    // order and an ETA of position / rate.
    assert_eq!(admitted.len(), 10);
    queued.sort_by_key(|((number, _), _)| *number);
    for (index, (_, body)) in queued.iter().enumerate() {
        let position = index as u64 + 1;
        assert_eq!(body["position"], position, "{queued:?}");
        let eta = body["eta_seconds"].as_f64().unwrap();
        assert!((eta - position as f64 / rate).abs() < 0.02, "{body}");
    }
    // Pages need only a session: they are not held by the room while tickets wait.
    let token = admitted[0]["token"].as_str().unwrap();
    assert_eq!(get_with_cookie(&client, &target, "/homework", token).await, StatusCode::OK);

    // Every queued user polls with its ticket every 20 ms until admitted.
    let poll = Duration::from_millis(20);
    let polls = queued.iter().map(|((_, cookie), _)| {
        let request =
            client.post(url(&target, "/login")).header(COOKIE, cookie.clone()).json(&json!({ "user": "eleve.queued" }));
        async move {
            let mut answers = 0;
            let mut last_position = u64::MAX;
            loop {
                tokio::time::sleep(poll).await;
                let response = request.try_clone().unwrap().send().await.expect("poll");
                answers += 1;
                if response.status() == StatusCode::OK {
                    let forget = response
                        .headers()
                        .get_all(SET_COOKIE)
                        .iter()
                        .any(|c| c.to_str().is_ok_and(|c| c.starts_with("ENTQUEUE=;") && c.contains("Max-Age=0")));
                    assert!(forget, "the ticket is exchanged for the session");
                    return (burst.elapsed(), answers - 1);
                }
                assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
                let position = response.json::<Value>().await.unwrap()["position"].as_u64().unwrap();
                assert!(position <= last_position, "a place is never lost");
                last_position = position;
            }
        }
    });
    let results = futures_join_all(polls.collect::<Vec<_>>()).await;
    for (index, (at, _)) in results.iter().enumerate() {
        // Ticket p's turn comes p turns after the burst emptied the bucket, never earlier,
        // and is seen within a poll (plus scheduling slack).
        let due = turn * (index as u32 + 1);
        assert!(*at >= due - Duration::from_millis(2), "{index}: {results:?}");
        assert!(*at <= due + Duration::from_millis(150), "{index}: {results:?}");
        // FIFO: nobody is admitted before someone ahead of them, up to one poll interval.
        if index > 0 {
            assert!(results[index - 1].0 <= *at + poll, "{results:?}");
        }
    }
    let rate_seen = (results.len() - 1) as f64 / (results[14].0 - results[0].0).as_secs_f64();
    assert!((rate_seen - rate).abs() < 1.5, "{rate_seen} admissions/s: {results:?}");

    let counts = target.counts();
    let queued_answers = 15 + results.iter().map(|(_, n)| *n as u64).sum::<u64>();
    let room = &counts.waiting_room;
    assert_eq!((room.admitted, room.tickets, room.waiting), (25, 15, 0));
    assert_eq!(room.queued, queued_answers);
    assert_eq!(counts.by_status[&503], queued_answers);
    assert_eq!((counts.shed, counts.sessions_created), (0, 25));
}

#[tokio::test]
async fn an_idle_session_expires_and_use_keeps_it_alive() {
    let idle = Duration::from_millis(150);
    let config = EmbeddedConfig {
        session_idle: Some(idle),
        service_time: ServiceTimes::uniform(Duration::from_millis(1)),
        login_cpu: Duration::ZERO,
        ..EmbeddedConfig::default()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    let client = client();
    let (_, used) = try_login(&client, &target, "eleve.1").await;
    let (_, unused) = try_login(&client, &target, "eleve.2").await;
    let used = used["token"].as_str().unwrap();
    let unused = unused["token"].as_str().unwrap();
    let opened = Instant::now();
    // Used every 100 ms, it outlives the 150 ms limit; left alone, the other does not.
    for step in 1..=3 {
        sleep_until(opened + Duration::from_millis(100 * step)).await;
        assert_eq!(get_with_cookie(&client, &target, "/agenda", used).await, StatusCode::OK);
    }
    assert_eq!(get_with_cookie(&client, &target, "/agenda", unused).await, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(idle + Duration::from_millis(50)).await;
    assert_eq!(target.active_sessions(), 0);
    assert_eq!(get_with_cookie(&client, &target, "/agenda", used).await, StatusCode::UNAUTHORIZED);
    let counts = target.counts();
    // `unused` was found expired when presented; `used` was evicted by `active_sessions`
    // before it was presented, so it is just unknown.
    assert_eq!((counts.sessions_expired, counts.unauthorized), (1, 2));
    // Logging in again works as usual.
    let (status, _) = try_login(&client, &target, "eleve.1").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_blocked_prefix_is_refused_during_its_window_only() {
    let config = EmbeddedConfig {
        blocks: vec![Block {
            user_prefix: "parent.".to_owned(),
            from: Duration::from_millis(150),
            to: Duration::from_millis(350),
        }],
        service_time: ServiceTimes::uniform(Duration::from_millis(1)),
        login_cpu: Duration::ZERO,
        ..EmbeddedConfig::default()
    };
    let target = EmbeddedTarget::start(&config).unwrap();
    // The target started just before this instant, so its window opens no later than here.
    let started = Instant::now();
    let client = client();
    assert_eq!(try_login(&client, &target, "parent.1").await.0, StatusCode::OK);

    sleep_until(started + Duration::from_millis(200)).await;
    let (status, body) = try_login(&client, &target, "parent.1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["blocked"], true);
    let until = body["until_seconds"].as_f64().unwrap();
    assert!(until > 0.0 && until <= 0.15, "{body}");
    assert_eq!(try_login(&client, &target, "eleve.1").await.0, StatusCode::OK);

    sleep_until(started + Duration::from_millis(360)).await;
    assert_eq!(try_login(&client, &target, "parent.1").await.0, StatusCode::OK);
    let counts = target.counts();
    assert_eq!((counts.blocked, counts.by_status[&403]), (1, 1));
    assert_eq!(counts.sessions_created, 3);
}
