//! Asynchronous bulk uploads (`Prefer: respond-async`): 202 with `Location`, the record going
//! `queued → running → succeeded|failed` with the synchronous counts, a client that hangs up
//! after the 202, a dead runner's import claimed again after its lease, idempotency, and the
//! `import.completed` / `import.failed` events.
use crate::helpers::*;
use mejora::entities::enums::Role;
use mejora::entities::event;
use mejora::services::finding_imports::jobs::{self, RunnerSettings};
use mejora::services::spreadsheet::Limits as SheetLimits;
use mejora::services::storage::Storage;
use reqwest::{Method, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FAST: &[(&str, &str)] = &[("MEJORA_JOB_POLL_MS", "50")];
const NO_RUNNERS: &[(&str, &str)] = &[("MEJORA_BACKGROUND", "off")];

fn file(n: usize, bad: usize) -> String {
    let mut text =
        "source,report_code,finding_code,title,severity,classification,fiscal_year,report_date,requirements\n"
            .to_string();
    for i in 0..n {
        let severity = if i < bad { "gravísima" } else { "high" };
        text.push_str(&format!(
            "internal_audit,OCI-ASYNC,H-{i:04},Hallazgo {i},{severity},observation,2024,2025-03-31,A.5.15\n"
        ));
    }
    text
}

async fn upload(app: &TestApp, token: &str, query: &str, body: &str, prefer: Option<&str>) -> Response {
    let mut req = app
        .request(Method::POST, &format!("/api/v1/findings/imports{query}"), Some(token))
        .header("Content-Type", "text/csv")
        .body(body.as_bytes().to_vec());
    if let Some(p) = prefer {
        req = req.header("Prefer", p);
    }
    req.send().await.unwrap()
}

/// Polls the import at `location` until it leaves `queued`/`running` (at most 20 s).
async fn finished(app: &TestApp, token: &str, location: &str) -> Value {
    for _ in 0..400 {
        let record = json_of(app.get(location, token).await, 200).await;
        if !matches!(record["status"].as_str(), Some("queued" | "running")) {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import at {location} did not finish");
}

fn location_of(res: &Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).expect("Location").to_string()
}

async fn events_of(app: &TestApp, code: &str) -> Vec<event::Model> {
    event::Entity::find().filter(event::Column::EventType.eq(code)).all(&app.db).await.unwrap()
}

#[tokio::test]
async fn an_async_upload_answers_202_and_ends_with_the_counts_of_a_synchronous_one() {
    let text = file(25, 3);
    let sync_app = spawn_app().await;
    let auditor = sync_app.token_for(Role::Auditor).await;
    let sync = json_of(upload(&sync_app, &auditor, "?mode=partial", &text, None).await, 201).await;
    assert_eq!(sync["status"], "completed");

    let app = spawn_app_with(FAST).await;
    let auditor = app.token_for(Role::Auditor).await;
    let res = upload(&app, &auditor, "?mode=partial", &text, Some("respond-async")).await;
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(res.headers().get("preference-applied").unwrap(), "respond-async");
    let location = location_of(&res);
    let accepted: Value = res.json().await.unwrap();
    assert!(matches!(accepted["status"].as_str(), Some("queued" | "running")), "{accepted}");
    assert_eq!(location, format!("/api/v1/findings/imports/{}", accepted["id"].as_str().unwrap()));

    let done = finished(&app, &auditor, &location).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"], sync["counts"]);
    assert_eq!(done["errors"], sync["errors"]);
    assert_eq!(done["error_count"], sync["error_count"]);
    assert_eq!(done["counts"]["created"], 22);
    // The import.completed event names the upload; so did the synchronous one.
    let completed = events_of(&app, "import.completed").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].resource_id.map(|id| id.to_string()).as_deref(), done["id"].as_str());
    assert_eq!(events_of(&sync_app, "import.completed").await.len(), 1);
}

#[tokio::test]
async fn an_async_atomic_upload_with_invalid_rows_fails_with_its_row_errors() {
    let app = spawn_app_with(FAST).await;
    let auditor = app.token_for(Role::Auditor).await;
    let res = upload(&app, &auditor, "", &file(10, 2), Some("respond-async; wait=0")).await;
    assert_eq!(res.status().as_u16(), 202);
    let done = finished(&app, &auditor, &location_of(&res)).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["counts"]["rejected"], 2);
    assert_eq!(done["counts"]["created"], 0);
    assert_eq!(done["errors"].as_array().unwrap().len(), 2);
    assert_eq!(done["errors"][0]["row"], 2);
    let failed = events_of(&app, "import.failed").await;
    assert_eq!(failed.len(), 1);
    // Nothing was written.
    let findings = json_of(app.get("/api/v1/findings", &auditor).await, 200).await;
    assert_eq!(findings["items"].as_array().unwrap().len(), 0);
    // A file that cannot be read fails with the problem the synchronous reply would have been.
    let res = upload(&app, &auditor, "", "title\nsolo un título\n", Some("respond-async")).await;
    assert_eq!(res.status().as_u16(), 202);
    let done = finished(&app, &auditor, &location_of(&res)).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["problem"]["code"], "validation_failed", "{done}");
    assert_eq!(events_of(&app, "import.failed").await.len(), 2);
    // A synchronous rejection emits import.failed too.
    let res = upload(&app, &auditor, "", &file(3, 1), None).await;
    assert_problem(res, 422, "import_rejected").await;
    assert_eq!(events_of(&app, "import.failed").await.len(), 3);
}

#[tokio::test]
async fn a_client_that_hangs_up_after_the_202_still_gets_its_upload_done() {
    let app = spawn_app_with(FAST).await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = file(40, 0);
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/findings/imports HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {auditor}\r\n\
         Content-Type: text/csv\r\nPrefer: respond-async\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    // Read the status line and headers only, then hang up.
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server closed before answering");
        received.extend_from_slice(&buf[..n]);
    }
    drop(stream);
    let text = String::from_utf8_lossy(&received).to_string();
    assert!(text.starts_with("HTTP/1.1 202"), "{text}");
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
        .expect("Location")
        .trim()
        .to_string();
    let done = finished(&app, &auditor, &location).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["created"], 40);
}

#[tokio::test]
async fn a_dead_runners_import_is_claimed_again_after_its_lease() {
    let app = spawn_app_with(NO_RUNNERS).await;
    let auditor = app.token_for(Role::Auditor).await;
    let res = upload(&app, &auditor, "", &file(5, 0), Some("respond-async")).await;
    assert_eq!(res.status().as_u16(), 202);
    let location = location_of(&res);
    assert_eq!(json_of(app.get(&location, &auditor).await, 200).await["status"], "queued");

    // A runner claims it with a short lease and dies.
    let dead = jobs::claim(&app.db, Duration::from_millis(700)).await.unwrap().expect("a queued import");
    assert_eq!(dead.attempts, 1);
    assert_eq!(json_of(app.get(&location, &auditor).await, 200).await["status"], "running");
    // While the lease holds, nobody else takes it.
    assert!(jobs::claim(&app.db, Duration::from_secs(60)).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(900)).await;
    let again = jobs::claim(&app.db, Duration::from_secs(60)).await.unwrap().expect("the expired import");
    assert_eq!((again.id, again.attempts), (dead.id, 2));
    let storage = Storage::from_url(&app.config.storage_url).unwrap();
    let settings = RunnerSettings {
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(60),
        sheet_limits: SheetLimits::findings(),
        matrix_limits: SheetLimits::matrix(),
    };
    // The dead runner's late finish is refused: the import is no longer its own.
    jobs::process(&app.db, &storage, &settings, dead).await.unwrap();
    assert_eq!(json_of(app.get(&location, &auditor).await, 200).await["status"], "running");
    jobs::process(&app.db, &storage, &settings, again).await.unwrap();
    let done = json_of(app.get(&location, &auditor).await, 200).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["created"], 5);
    assert_eq!(events_of(&app, "import.completed").await.len(), 1);
}

#[tokio::test]
async fn replicas_claiming_at_once_take_different_imports() {
    let app = spawn_app_with(NO_RUNNERS).await;
    let auditor = app.token_for(Role::Auditor).await;
    for i in 0..2 {
        let res = upload(&app, &auditor, "", &file(2 + i, 0), Some("respond-async")).await;
        assert_eq!(res.status().as_u16(), 202);
    }
    let other = mejora::startup::connect(&app.config).await.unwrap();
    let lease = Duration::from_secs(60);
    // SQLite serves one process (its runner claims one import at a time); PostgreSQL replicas
    // claim at the same moment.
    let (a, b) = if app.backend == "postgres" {
        tokio::join!(jobs::claim(&app.db, lease), jobs::claim(&other, lease))
    } else {
        (jobs::claim(&app.db, lease).await, jobs::claim(&other, lease).await)
    };
    let (a, b) = (a.unwrap().expect("one import"), b.unwrap().expect("another import"));
    assert_ne!(a.id, b.id);
    assert!(jobs::claim(&app.db, lease).await.unwrap().is_none());
}

#[tokio::test]
async fn an_idempotency_key_replays_the_202() {
    let app = spawn_app_with(FAST).await;
    let auditor = app.token_for(Role::Auditor).await;
    let text = file(3, 0);
    let send = || {
        app.request(Method::POST, "/api/v1/findings/imports", Some(&auditor))
            .header("Content-Type", "text/csv")
            .header("Prefer", "respond-async")
            .header("Idempotency-Key", "carga-async-1")
            .body(text.clone())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status().as_u16(), 202);
    let location = location_of(&first);
    let second = send().await.unwrap();
    assert_eq!(second.status().as_u16(), 202);
    assert_eq!(second.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(location_of(&second), location);
    assert_eq!(finished(&app, &auditor, &location).await["status"], "succeeded");
    let list = json_of(app.get("/api/v1/findings/imports", &auditor).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Without the preference the upload stays synchronous: 201.
    let res = upload(&app, &auditor, "", &file(3, 0), Some("handling=lenient")).await;
    assert_eq!(res.status().as_u16(), 201);
    assert!(res.headers().get("preference-applied").is_none());
}

const MATRIX: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.csv"));
const META: &str = "start_date=2024-08-01&end_date=2027-12-31&title=Plan%20de%20mejoramiento&approval_reference=Acta%20No.%2005%20de%202024&approved_by=Comit%C3%A9&approved_on=2024-05-21&prepared_by=Martha&prepared_by_role=Asesora%20Externa";

async fn matrix(app: &TestApp, token: &str, query: &str, body: &str, prefer: Option<&str>) -> Response {
    let mut req = app
        .request(Method::POST, &format!("/api/v1/plans/imports?{query}"), Some(token))
        .header("Content-Type", "text/csv")
        .body(body.as_bytes().to_vec());
    if let Some(p) = prefer {
        req = req.header("Prefer", p);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_async_plan_matrix_ends_with_the_synchronous_reply_or_its_problem() {
    let query = format!("code=TI.PL03&version=1&{META}");
    let sync_app = spawn_app().await;
    let planner = sync_app.token_for(Role::Planner).await;
    let sync = json_of(matrix(&sync_app, &planner, &query, MATRIX, None).await, 201).await;

    let app = spawn_app_with(FAST).await;
    let planner = app.token_for(Role::Planner).await;
    let res = matrix(&app, &planner, &query, MATRIX, Some("respond-async")).await;
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(res.headers().get("preference-applied").unwrap(), "respond-async");
    let location = location_of(&res);
    assert!(location.starts_with("/api/v1/plans/imports/"), "{location}");
    let done = finished(&app, &planner, &location).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let mut result = done["result"].clone();
    assert_eq!(result["plan_id"], done["plan_id"]);
    let plan =
        json_of(app.get(&format!("/api/v1/plans/{}", done["plan_id"].as_str().unwrap()), &planner).await, 200).await;
    assert_eq!(plan["code"], "TI.PL03");
    result["plan_id"] = sync["plan_id"].clone();
    assert_eq!(result, sync);
    assert_eq!(events_of(&app, "import.completed").await.len(), 1);

    // The same code again: the problem the synchronous upload would answer (409).
    let res = matrix(&app, &planner, &query, MATRIX, Some("respond-async")).await;
    assert_eq!(res.status().as_u16(), 202);
    let done = finished(&app, &planner, &location_of(&res)).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["problem"]["status"], 409, "{done}");
    assert!(done["plan_id"].is_null());
    assert_eq!(events_of(&app, "import.failed").await.len(), 1);
    // Another organization does not see the record.
    let (_, stranger) = app.other_organization().await;
    assert_problem(app.get(&location, &stranger.token).await, 404, "not_found").await;
}
