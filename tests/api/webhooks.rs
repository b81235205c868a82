//! Webhooks (#18): subscriptions, signed deliveries to a real receiver in the test process,
//! retries, `Retry-After`, 410, SSRF refusals, secret rotation, a worker dying mid-delivery,
//! two workers on one database, and verification with the Standard Webhooks reference library
//! (`scripts/verify-webhooks.py`, when Python has `standardwebhooks`).
use crate::helpers::*;
use crate::plans::etag_of;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use mejora::entities::enums::Role;
use mejora::entities::{event, webhook, webhook_delivery};
use mejora::services::audit::Actor;
use mejora::services::webhooks::dispatch::{self, Dispatcher};
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The allow-list every test app needs to reach the receiver on 127.0.0.1.
pub const ALLOW: &[(&str, &str)] =
    &[("MEJORA_WEBHOOK_ALLOW_HOSTS", "127.0.0.1/32"), ("MEJORA_WEBHOOK_ALLOW_HTTP", "true")];

/// A reply the receiver gives: status and `Retry-After`.
type Scripted = (u16, Option<String>);

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1: records every request and answers the scripted replies in
/// order (status, `Retry-After`), then 204.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, rx: web::Data<Receiver>) -> HttpResponse {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    rx.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let next = rx.script.lock().unwrap().pop_front();
    match next {
        Some((status, retry_after)) => {
            let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
            if let Some(r) = retry_after {
                res.insert_header(("Retry-After", r));
            }
            res.finish()
        }
        None => HttpResponse::NoContent().finish(),
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rx =
            Receiver { url: format!("http://127.0.0.1:{port}/hook"), received: Arc::default(), script: Arc::default() };
        let data = web::Data::new(rx.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        tokio::spawn(server);
        rx
    }

    pub fn answer(&self, status: u16, retry_after: Option<&str>) {
        self.script.lock().unwrap().push_back((status, retry_after.map(str::to_string)));
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Verifies a `webhook-signature` header with an HMAC written here (not the service's code):
/// true when one of its `v1,` signatures is the one `secret` gives.
pub fn verifies(secret: &str, r: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').any(|s| s == expected)
}

/// Runs `scripts/verify-webhooks.py` (the Standard Webhooks reference library) on `received`.
/// Skipped with a note when Python or the library is missing, except in CI.
pub fn verify_with_reference_library(secret: &str, received: &[Received]) {
    let input: Vec<Value> = received
        .iter()
        .map(|r| {
            json!({"secret": secret, "body": r.body, "headers": {
                "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature}})
        })
        .collect();
    let file = std::env::temp_dir().join(format!("webhooks-{}.json", Uuid::new_v4().simple()));
    std::fs::write(&file, serde_json::to_vec(&input).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/verify-webhooks.py");
    let out = std::process::Command::new("python3").arg(script).arg(&file).output();
    let _ = std::fs::remove_file(&file);
    let in_ci = std::env::var("CI").is_ok();
    match out {
        Ok(out) if out.status.code() == Some(3) || (out.status.code().is_none() && !in_ci) => {
            assert!(!in_ci, "CI must have standardwebhooks: {}", String::from_utf8_lossy(&out.stderr));
            eprintln!("note: standardwebhooks missing, reference verification skipped (pip install standardwebhooks)");
        }
        Ok(out) => assert!(
            out.status.success(),
            "standardwebhooks refused: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            assert!(!in_ci, "python3 missing in CI: {e}");
            eprintln!("note: python3 missing, reference verification skipped");
        }
    }
}

pub async fn dispatcher(app: &TestApp) -> Dispatcher {
    Dispatcher::new(app.db.clone(), &app.config.webhooks).unwrap()
}

/// Creates a webhook for `types`; returns (id, secret, body).
pub async fn subscribe(app: &TestApp, url: &str, types: &[&str]) -> (Uuid, String, Value) {
    let res = app.post("/api/v1/webhooks", &app.admin_token, &json!({"url": url, "event_types": types})).await;
    let body = json_of(res, 201).await;
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    (id, body["secret"].as_str().unwrap().to_string(), body)
}

async fn deliveries(app: &TestApp, hook: Uuid) -> Vec<Value> {
    let page = json_of(app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &app.admin_token).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

/// Makes every pending delivery due now (instead of waiting for the schedule).
async fn make_due(app: &TestApp) {
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(webhook_delivery::Column::NextAttemptAt.is_not_null())
        .exec(&app.db)
        .await
        .unwrap();
}

async fn new_finding(app: &TestApp, auditor: &str, code: &str) -> Value {
    let body = json!({"source": "internal_audit", "report_code": "OCI-W", "finding_code": code, "title": "Hallazgo"});
    json_of(app.post("/api/v1/findings", auditor, &body).await, 201).await
}

#[tokio::test]
async fn subscriptions_show_the_secret_once_and_check_their_fields() {
    let app = spawn_app_with(ALLOW).await;
    let (id, secret, created) = subscribe(&app, "https://203.0.113.7/hooks", &["action.*", "finding.created"]).await;
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 24);
    assert_eq!(created["event_types"], json!(["action.*", "finding.created"]));
    assert_eq!(created["active"], true);

    // Never again: not in reads, lists or the audit trail.
    let read = json_of(app.get(&format!("/api/v1/webhooks/{id}"), &app.admin_token).await, 200).await;
    assert!(read.get("secret").is_none());
    let list = json_of(app.get("/api/v1/webhooks", &app.admin_token).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let audit = app.get("/api/v1/audit-events?limit=500", &app.admin_token).await.text().await.unwrap();
    assert!(!list.to_string().contains(&secret) && !audit.contains(&secret[6..]));

    // A replay with the same Idempotency-Key omits it.
    let body = json!({"url": "https://203.0.113.8/h", "event_types": ["*"]});
    let send = || {
        app.request(Method::POST, "/api/v1/webhooks", Some(&app.admin_token))
            .header("Idempotency-Key", "wh-1")
            .json(&body)
            .send()
    };
    let first = json_of(send().await.unwrap(), 201).await;
    assert!(first["secret"].as_str().is_some());
    let again = send().await.unwrap();
    assert_eq!(again.headers().get("Secret-Omitted").unwrap(), "secret");
    assert_eq!(json_of(again, 201).await["secret"], Value::Null);

    // Invalid types, schemes and addresses are refused with stable codes.
    for (body, code) in [
        (json!({"url": "https://203.0.113.7/h", "event_types": ["finding.exploded"]}), "unknown_event_type"),
        (json!({"url": "https://203.0.113.7/h", "event_types": ["nothing.*"]}), "unknown_event_type"),
        (json!({"url": "https://203.0.113.7/h", "event_types": []}), "count"),
        (json!({"url": "ftp://203.0.113.7/h", "event_types": ["*"]}), "scheme_not_allowed"),
        (json!({"url": "https://10.1.2.3/h", "event_types": ["*"]}), "address_not_allowed"),
        (json!({"url": "https://169.254.169.254/latest", "event_types": ["*"]}), "address_not_allowed"),
        (json!({"url": "https://[::1]/h", "event_types": ["*"]}), "address_not_allowed"),
        (json!({"url": "https://[::ffff:192.168.0.1]/h", "event_types": ["*"]}), "address_not_allowed"),
        (json!({"url": "https://[fd00::1]/h", "event_types": ["*"]}), "address_not_allowed"),
    ] {
        let problem =
            assert_problem(app.post("/api/v1/webhooks", &app.admin_token, &body).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], code, "{body}");
    }

    // Merge patch with If-Match; deactivation; delete.
    let path = format!("/api/v1/webhooks/{id}");
    let res =
        app.patch(&path, &app.admin_token, &etag_of(&read), &json!({"description": "ERP", "active": false})).await;
    let patched = json_of(res, 200).await;
    assert_eq!((patched["description"].as_str(), patched["active"].as_bool()), (Some("ERP"), Some(false)));
    let res = app.patch(&path, &app.admin_token, &etag_of(&read), &json!({"description": "x"})).await;
    assert_problem(res, 412, "precondition_failed").await;
    let res = app
        .request(Method::DELETE, &path, Some(&app.admin_token))
        .header("If-Match", etag_of(&patched))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // Only administrators.
    let planner = app.token_for(Role::Planner).await;
    assert_problem(app.get("/api/v1/webhooks", &planner).await, 403, "forbidden").await;
}

#[tokio::test]
async fn plain_http_and_loopback_need_the_operator() {
    let app = spawn_app().await;
    let body = json!({"url": "http://203.0.113.7/h", "event_types": ["*"]});
    let problem =
        assert_problem(app.post("/api/v1/webhooks", &app.admin_token, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "scheme_not_allowed");
    let app = spawn_app_with(&[("MEJORA_WEBHOOK_ALLOW_HTTP", "true")]).await;
    let body = json!({"url": "http://127.0.0.1:9/h", "event_types": ["*"]});
    let problem =
        assert_problem(app.post("/api/v1/webhooks", &app.admin_token, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "address_not_allowed");
}

#[tokio::test]
async fn committed_changes_are_delivered_signed_and_rolled_back_ones_leave_no_event() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    let (hook, secret, _) = subscribe(&app, &rx.url, &["finding.*"]).await;

    // A change that rolls back leaves no event.
    let before = event::Entity::find().count(&app.db).await.unwrap();
    let txn = app.db.begin().await.unwrap();
    let req = serde_json::from_value(json!({"source": "internal_audit", "report_code": "OCI-R",
                                            "finding_code": "R-1", "title": "Revertido"}))
    .unwrap();
    mejora::services::findings::create(&txn, &Actor::system(), app.org_id, req).await.unwrap();
    assert_eq!(event::Entity::find().count(&txn).await.unwrap(), before + 1);
    txn.rollback().await.unwrap();
    assert_eq!(event::Entity::find().count(&app.db).await.unwrap(), before);

    // A committed one is delivered once, signed.
    let finding = new_finding(&app, &aud, "W-1").await;
    let path = format!("/api/v1/findings/{}", finding["id"].as_str().unwrap());
    let res = app.patch(&path, &aud, &etag_of(&finding), &json!({"title": "Cambiado"})).await;
    let changed = json_of(res, 200).await;
    let round = dispatcher(&app).await.run_once().await.unwrap();
    assert_eq!((round.deliveries, round.delivered), (2, 2));
    // Attempts run concurrently: the receiver may get them in any order (the spec allows it).
    let mut got = rx.all();
    got.sort_by_key(|r| r.json()["type"].as_str().unwrap().to_string());
    assert_eq!(got.len(), 2);
    let (created, updated) = (got[0].json(), got[1].json());
    assert_eq!(created["type"], "finding.created");
    assert_eq!(created["data"], finding);
    assert_eq!(updated["type"], "finding.updated");
    assert_eq!(updated["data"]["title"], changed["title"]);
    assert!(created["timestamp"].as_str().unwrap().ends_with('Z'));
    for r in &got {
        assert!(r.id.starts_with("msg_") && verifies(&secret, r), "{r:?}");
        let ts: i64 = r.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    }
    assert_ne!(got[0].id, got[1].id);
    verify_with_reference_library(&secret, &got);

    // Nothing twice: the next round has nothing to do.
    let round = dispatcher(&app).await.run_once().await.unwrap();
    assert_eq!((round.events, round.attempts), (0, 0));
    let list = deliveries(&app, hook).await;
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|d| d["status"] == "succeeded" && d["last_status_code"] == 204 && d["attempts"] == 1));
}

#[tokio::test]
async fn the_background_dispatcher_delivers_without_being_asked() {
    let mut env = ALLOW.to_vec();
    env.push(("MEJORA_WEBHOOK_DISPATCH_INTERVAL", "100"));
    let app = spawn_app_with(&env).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    subscribe(&app, &rx.url, &["*"]).await;
    new_finding(&app, &aud, "BG-1").await;
    for _ in 0..100 {
        if !rx.all().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rx.all().len(), 1);
    assert_eq!(rx.all()[0].json()["type"], "finding.created");
}

#[tokio::test]
async fn failures_are_retried_on_schedule_honouring_retry_after_with_the_same_id() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    let (hook, secret, _) = subscribe(&app, &rx.url, &["finding.created"]).await;
    new_finding(&app, &aud, "RT-1").await;
    let worker = dispatcher(&app).await;

    rx.answer(500, None);
    worker.run_once().await.unwrap();
    let d = &deliveries(&app, hook).await[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status_code"].as_i64()),
        (Some("pending"), Some(1), Some(500))
    );
    let next: chrono::DateTime<chrono::Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = (next - chrono::Utc::now()).num_milliseconds();
    assert!((3000..=6000).contains(&wait), "second attempt 5 s later (±10 %), got {wait} ms");
    // Not due yet: nothing is attempted.
    assert_eq!(worker.run_once().await.unwrap().attempts, 0);

    make_due(&app).await;
    rx.answer(503, Some("3600"));
    worker.run_once().await.unwrap();
    let d = &deliveries(&app, hook).await[0];
    let next: chrono::DateTime<chrono::Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!((next - chrono::Utc::now()).num_seconds() >= 3590, "Retry-After: 3600 beats the 5 min step");

    make_due(&app).await;
    worker.run_once().await.unwrap();
    let d = &deliveries(&app, hook).await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("succeeded"), Some(3)));
    assert_eq!(d["next_attempt_at"], Value::Null);
    let got = rx.all();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.id == got[0].id && r.id == d["message_id"] && verifies(&secret, r)));

    // The schedule gives up after 8 attempts.
    assert_eq!(dispatch::MAX_ATTEMPTS, 8);
    assert!(dispatch::next_delay(7, None).is_some() && dispatch::next_delay(8, None).is_none());
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_so_do_five_days_of_failures() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    let (gone, _, _) = subscribe(&app, &rx.url, &["finding.created"]).await;
    new_finding(&app, &aud, "G-1").await;
    rx.answer(410, None);
    dispatcher(&app).await.run_once().await.unwrap();
    let read = json_of(app.get(&format!("/api/v1/webhooks/{gone}"), &app.admin_token).await, 200).await;
    assert_eq!((read["active"].as_bool(), read["disabled_reason"].as_str()), (Some(false), Some("gone")));
    assert_eq!(deliveries(&app, gone).await[0]["status"], "failed");
    // Admins see it: an audit event and a webhook.disabled event.
    let audit = json_of(app.get("/api/v1/audit-events?resource_type=webhook", &app.admin_token).await, 200).await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["operation"] == "disable"), "{audit}");
    let disabled = event::Entity::find().filter(event::Column::EventType.eq("webhook.disabled")).count(&app.db).await;
    assert_eq!(disabled.unwrap(), 1);
    // Nothing more goes to it.
    new_finding(&app, &aud, "G-2").await;
    dispatcher(&app).await.run_once().await.unwrap();
    assert_eq!(rx.all().len(), 1);

    // Failing for 5 days.
    let (failing, _, _) = subscribe(&app, &rx.url, &["finding.created"]).await;
    webhook::Entity::update_many()
        .col_expr(webhook::Column::FailingSince, Expr::value(chrono::Utc::now() - chrono::Duration::days(6)))
        .filter(webhook::Column::Id.eq(failing))
        .exec(&app.db)
        .await
        .unwrap();
    new_finding(&app, &aud, "G-3").await;
    rx.answer(500, None);
    dispatcher(&app).await.run_once().await.unwrap();
    let read = json_of(app.get(&format!("/api/v1/webhooks/{failing}"), &app.admin_token).await, 200).await;
    assert_eq!((read["active"].as_bool(), read["disabled_reason"].as_str()), (Some(false), Some("failing")));

    // Re-enabling clears the reason; the pending delivery goes out.
    let res = app
        .patch(&format!("/api/v1/webhooks/{failing}"), &app.admin_token, &etag_of(&read), &json!({"active": true}))
        .await;
    assert_eq!(json_of(res, 200).await["disabled_reason"], Value::Null);
    make_due(&app).await;
    assert_eq!(dispatcher(&app).await.run_once().await.unwrap().delivered, 1);
}

#[tokio::test]
async fn deliveries_refuse_internal_addresses_at_send_time() {
    // Subscribed while the operator allowed 127.0.0.1; the worker of a process without the
    // allow-list refuses to connect (as it would after a DNS change).
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    let (hook, _, _) = subscribe(&app, &rx.url, &["*"]).await;
    new_finding(&app, &aud, "S-1").await;
    let strict = test_config("sqlite::memory:", &[("MEJORA_WEBHOOK_ALLOW_HTTP", "true")]);
    Dispatcher::new(app.db.clone(), &strict.webhooks).unwrap().run_once().await.unwrap();
    assert!(rx.all().is_empty());
    let d = &deliveries(&app, hook).await[0];
    assert_eq!((d["status"].as_str(), d["last_status_code"].as_i64()), (Some("pending"), None));
    assert!(d["last_error"].as_str().unwrap().contains("127.0.0.1"), "{d}");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    let (hook, old, created) = subscribe(&app, &rx.url, &["finding.created"]).await;
    let path = format!("/api/v1/webhooks/{hook}/rotate-secret");
    let res = app.request(Method::POST, &path, Some(&app.admin_token)).send().await.unwrap();
    assert_problem(res, 428, "precondition_required").await;
    let res = app
        .request(Method::POST, &path, Some(&app.admin_token))
        .header("If-Match", etag_of(&created))
        .send()
        .await
        .unwrap();
    let rotated = json_of(res, 200).await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_") && new != old);
    let until: chrono::DateTime<chrono::Utc> = rotated["previous_secret_expires_at"].as_str().unwrap().parse().unwrap();
    assert!((until - chrono::Utc::now() - chrono::Duration::hours(24)).num_seconds().abs() < 60);

    new_finding(&app, &aud, "ROT-1").await;
    dispatcher(&app).await.run_once().await.unwrap();
    let got = rx.all();
    assert_eq!(got[0].signature.split(' ').count(), 2);
    assert!(verifies(&new, &got[0]) && verifies(&old, &got[0]));
    verify_with_reference_library(&new, &got);
    verify_with_reference_library(&old, &got);

    // After the overlap, only the new one signs.
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::PreviousSecretExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(webhook::Column::Id.eq(hook))
        .exec(&app.db)
        .await
        .unwrap();
    new_finding(&app, &aud, "ROT-2").await;
    dispatcher(&app).await.run_once().await.unwrap();
    let last = rx.all().pop().unwrap();
    assert!(verifies(&new, &last) && !verifies(&old, &last));
}

#[tokio::test]
async fn test_events_go_to_one_endpoint_and_deliveries_can_be_retried() {
    let app = spawn_app_with(ALLOW).await;
    let rx = Receiver::start().await;
    let other = Receiver::start().await;
    let (hook, secret, _) = subscribe(&app, &rx.url, &["plan.status_changed"]).await;
    subscribe(&app, &other.url, &["*"]).await;
    let res = app
        .request(Method::POST, &format!("/api/v1/webhooks/{hook}/test"), Some(&app.admin_token))
        .send()
        .await
        .unwrap();
    let queued = json_of(res, 202).await;
    assert_eq!((queued["status"].as_str(), queued["event_type"].as_str()), (Some("pending"), Some("webhook.test")));
    dispatcher(&app).await.run_once().await.unwrap();
    let got = rx.all();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert!(verifies(&secret, &got[0]));
    assert!(other.all().is_empty(), "a test event goes to its endpoint only");

    let d = &deliveries(&app, hook).await[0];
    assert_eq!((d["status"].as_str(), d["last_status_code"].as_i64()), (Some("succeeded"), Some(204)));
    assert!(d["last_latency_ms"].as_i64().is_some());
    let path = format!("/api/v1/webhooks/{hook}/deliveries/{}/retry", d["id"].as_str().unwrap());
    let res = app.request(Method::POST, &path, Some(&app.admin_token)).send().await.unwrap();
    assert_eq!(json_of(res, 202).await["status"], "pending");
    dispatcher(&app).await.run_once().await.unwrap();
    let got = rx.all();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].id, got[0].id, "a retry keeps the webhook-id");
    let wrong = format!("/api/v1/webhooks/{hook}/deliveries/{}/retry", Uuid::now_v7());
    let res = app.request(Method::POST, &wrong, Some(&app.admin_token)).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let filtered = app.get(&format!("/api/v1/webhooks/{hook}/deliveries?status=failed"), &app.admin_token).await;
    assert!(json_of(filtered, 200).await["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_delivery_claimed_by_a_worker_that_died_is_attempted_again_with_the_same_id() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    let (hook, _, _) = subscribe(&app, &rx.url, &["finding.created"]).await;
    new_finding(&app, &aud, "D-1").await;
    dispatch::fan_out(&app.db).await.unwrap();
    // A worker claims it and dies before sending.
    let claimed = dispatch::claim(&app.db, chrono::Utc::now(), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // While its lease runs, nobody else takes it.
    assert_eq!(dispatcher(&app).await.run_once().await.unwrap().attempts, 0);
    // The lease expires: the delivery is attempted again.
    let later = chrono::Utc::now() + dispatch::LEASE + chrono::Duration::seconds(1);
    let again = dispatch::claim(&app.db, later, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    dispatcher(&app).await.attempt(again[0].clone()).await.unwrap();
    let got = rx.all();
    assert_eq!(got.len(), 1);
    let d = &deliveries(&app, hook).await[0];
    assert_eq!(got[0].id, d["message_id"]);
    assert_eq!(got[0].id, format!("msg_{}", claimed[0].event_id.simple()));
}

#[tokio::test]
async fn two_workers_on_one_database_never_send_the_same_attempt_twice() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    subscribe(&app, &rx.url, &["finding.created"]).await;
    for i in 0..40 {
        new_finding(&app, &aud, &format!("TW-{i}")).await;
    }
    // Two processes: each its own pool and HTTP client.
    let url = app.config.database_url.clone();
    let other = startup_pool(&url, &app).await;
    let (a, b) = (
        Dispatcher::new(app.db.clone(), &app.config.webhooks).unwrap(),
        Dispatcher::new(other, &app.config.webhooks).unwrap(),
    );
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let (ra2, rb2) = tokio::join!(a.run_once(), b.run_once());
    let total = ra.attempts + rb.attempts + ra2.unwrap().attempts + rb2.unwrap().attempts;
    assert_eq!(total, 40);
    assert_eq!(ra.deliveries + rb.deliveries, 40, "each event fanned out once");
    let ids: BTreeSet<String> = rx.all().into_iter().map(|r| r.id).collect();
    assert_eq!((rx.all().len(), ids.len()), (40, 40));
}

async fn startup_pool(url: &str, app: &TestApp) -> sea_orm::DatabaseConnection {
    if app.backend == "sqlite" {
        return app.db.clone();
    }
    mejora::startup::connect(&test_config(url, ALLOW)).await.unwrap()
}

#[tokio::test]
async fn events_reach_only_their_own_organizations_endpoints() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx_a = Receiver::start().await;
    let rx_b = Receiver::start().await;
    subscribe(&app, &rx_a.url, &["*"]).await;
    let (org_b, admin_b) = app.other_organization().await;
    let body = json!({"url": rx_b.url, "event_types": ["*"]});
    let hook_b = json_of(app.post("/api/v1/webhooks", &admin_b.token, &body).await, 201).await;
    new_finding(&app, &aud, "T-A").await;
    let finding_b = json!({"source": "internal_audit", "report_code": "OCI-B", "finding_code": "T-B", "title": "De B"});
    let auditor_b = app.user_in(org_b, &[Role::Auditor]).await;
    json_of(app.post("/api/v1/findings", &auditor_b.token, &finding_b).await, 201).await;
    dispatcher(&app).await.run_once().await.unwrap();
    let (a, b) = (rx_a.all(), rx_b.all());
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0].json()["data"]["organization_id"], app.org_id.to_string());
    assert_eq!(b[0].json()["data"]["organization_id"], org_b.to_string());
    // B's webhook and deliveries are not A's to read.
    let b_id = hook_b["id"].as_str().unwrap();
    assert_problem(app.get(&format!("/api/v1/webhooks/{b_id}"), &app.admin_token).await, 404, "not_found").await;
    assert_problem(app.get(&format!("/api/v1/webhooks/{b_id}/deliveries"), &app.admin_token).await, 404, "not_found")
        .await;
}

#[tokio::test]
async fn every_listed_change_emits_its_event() {
    let app = spawn_app_with(ALLOW).await;
    let aud = app.token_for(Role::Auditor).await;
    let rx = Receiver::start().await;
    subscribe(&app, &rx.url, &["*"]).await;
    // Findings through the API and an upload; a plan through its lifecycle with actions and
    // evidence (the running-plan helper submits, approves and starts it).
    let finding = new_finding(&app, &aud, "EV-1").await;
    let path = format!("/api/v1/findings/{}/transitions", finding["id"].as_str().unwrap());
    let res = app
        .request(Method::POST, &path, Some(&aud))
        .header("If-Match", etag_of(&finding))
        .json(&json!({"to": "dismissed", "note": "No aplica"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let csv =
        "source,report_code,finding_code,title\ninternal_audit,OCI-U,U-1,Cargado\ninternal_audit,OCI-U,U-2,Cargado\n";
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&aud))
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    json_of(res, 201).await;
    let run = crate::actions::running_plan(
        &app,
        "EV-PLAN",
        &[crate::actions::action_body("Acción", &crate::actions::day(-5), &crate::actions::day(30), None)],
    )
    .await;
    let action = run.actions[0]["id"].as_str().unwrap().to_string();
    let evidence = json_of(
        app.post(&format!("/api/v1/actions/{action}/evidence"), &run.responsible.token, &crate::evidence::report())
            .await,
        201,
    )
    .await;
    let auditor = app.token_for(mejora::entities::enums::Role::Auditor).await;
    let path = format!("/api/v1/evidence/{}/review", evidence["id"].as_str().unwrap());
    let res =
        crate::actions::post_if_match(&app, &path, &auditor, &etag_of(&evidence), &json!({"status": "accepted"})).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    dispatcher(&app).await.run_once().await.unwrap();
    let types: BTreeSet<String> = rx.all().iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    for expected in [
        "finding.created",
        "finding.status_changed",
        "plan.status_changed",
        "action.created",
        "evidence.submitted",
        "evidence.reviewed",
        "action.updated",
        "action.status_changed",
    ] {
        assert!(types.contains(expected), "{expected} missing from {types:?}");
    }
    let uploaded = rx
        .all()
        .iter()
        .filter(|r| r.json()["type"] == "finding.created" && r.json()["data"]["report_code"] == "OCI-U")
        .count();
    assert_eq!(uploaded, 2, "one finding.created per uploaded row");
    // No secret ever travels in an event.
    assert!(rx.all().iter().all(|r| !r.body.contains("whsec_") && !r.body.contains("password")));
}
