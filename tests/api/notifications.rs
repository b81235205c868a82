//! `/me/notifications`: events addressed to their principals (responsible users, auditors,
//! uploaders), unread first, marked read one by one or all at once; nobody sees another's;
//! and the same reminders by e-mail, in Spanish, when SMTP is configured.
use crate::actions::{action_body, day, running_plan};
use crate::helpers::*;
use crate::smtp_receiver;
use mejora::entities::enums::Role;
use mejora::services::calendar::today;
use mejora::services::notifications::deliver_once;
use mejora::services::reminders::run_once;
use reqwest::Method;
use serde_json::Value;

const NO_RUNNERS: &[(&str, &str)] = &[("MEJORA_BACKGROUND", "off")];

fn of_type<'a>(page: &'a Value, code: &str) -> Vec<&'a Value> {
    page["items"].as_array().unwrap().iter().filter(|n| n["event_type"] == code).collect()
}

async fn deliver_all(app: &TestApp) {
    while deliver_once(&app.db, None).await.unwrap() > 0 {}
}

#[tokio::test]
async fn reminders_reach_the_responsible_user_unread_first_and_only_them() {
    let app = spawn_app_with(NO_RUNNERS).await;
    let actions: Vec<_> = (0..3).map(|i| action_body(&format!("Acción {i}"), &day(-5), &day(7), None)).collect();
    let run = running_plan(&app, "PM-NOT-1", &actions).await;
    run_once(&app.db, today()).await.unwrap();
    deliver_all(&app).await;
    let token = &run.responsible.token;
    let page = json_of(app.get("/api/v1/me/notifications", token).await, 200).await;
    let due = of_type(&page, "action.due_soon");
    assert_eq!(due.len(), 3, "{page}");
    assert!(due.iter().all(|n| n["unread"] == true));
    assert!(due[0]["title"].as_str().unwrap().starts_with("Acción próxima a vencer: Acción"), "{}", due[0]);
    assert!(due[0]["body"].as_str().unwrap().contains("faltan 7 días"), "{}", due[0]);
    // Nobody else gets them.
    let auditor = json_of(app.get("/api/v1/me/notifications", &run.auditor.token).await, 200).await;
    assert!(of_type(&auditor, "action.due_soon").is_empty());
    let (_, stranger) = app.other_organization().await;
    let theirs = json_of(app.get("/api/v1/me/notifications", &stranger.token).await, 200).await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    let newest = due[0]["id"].as_str().unwrap().to_string();
    let read_path = format!("/api/v1/me/notifications/{newest}/read");
    for other in [&run.auditor.token, &stranger.token] {
        let res = app.request(Method::POST, &read_path, Some(other)).send().await.unwrap();
        assert_problem(res, 404, "not_found").await;
    }
    // Read: it goes after the unread ones.
    let read = json_of(app.request(Method::POST, &read_path, Some(token)).send().await.unwrap(), 200).await;
    assert_eq!(read["unread"], false);
    assert!(read["read_at"].is_string());
    let page = json_of(app.get("/api/v1/me/notifications", token).await, 200).await;
    let due = of_type(&page, "action.due_soon");
    assert_eq!(due.last().unwrap()["id"], newest.as_str());
    assert_eq!(due[0]["unread"], true);
    // Pages of 1 walk the same order without repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/me/notifications?limit=1&cursor={c}"),
            None => "/api/v1/me/notifications?limit=1".to_string(),
        };
        let page = json_of(app.get(&path, token).await, 200).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|n| n["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let all: Vec<Value> = page["items"].as_array().unwrap().iter().map(|n| n["id"].clone()).collect();
    assert_eq!(seen, all);
    // Filter, then read-all.
    let unread = json_of(app.get("/api/v1/me/notifications?unread=true", token).await, 200).await;
    assert_eq!(of_type(&unread, "action.due_soon").len(), 2);
    let done = app.request(Method::POST, "/api/v1/me/notifications/read-all", Some(token)).send().await.unwrap();
    assert!(json_of(done, 200).await["marked"].as_u64().unwrap() >= 2);
    let unread = json_of(app.get("/api/v1/me/notifications?unread=true", token).await, 200).await;
    assert!(unread["items"].as_array().unwrap().is_empty());
    // Processing the outbox again addresses nothing twice.
    deliver_all(&app).await;
    let page = json_of(app.get("/api/v1/me/notifications", token).await, 200).await;
    assert_eq!(of_type(&page, "action.due_soon").len(), 3);
}

#[tokio::test]
async fn an_upload_that_finishes_notifies_its_uploader() {
    let app = spawn_app_with(NO_RUNNERS).await;
    let auditor = app.user_in(app.org_id, &[Role::Auditor]).await;
    let csv = "source,report_code,finding_code,title\ninternal_audit,OCI-N,H-1,Uno\n";
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&auditor.token))
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    json_of(res, 201).await;
    deliver_all(&app).await;
    let page = json_of(app.get("/api/v1/me/notifications", &auditor.token).await, 200).await;
    let done = of_type(&page, "import.completed");
    assert_eq!(done.len(), 1, "{page}");
    assert_eq!(done[0]["title"], "Carga completada");
    assert!(done[0]["body"].as_str().unwrap().contains("1 creadas"), "{}", done[0]);
    let admin = json_of(app.get("/api/v1/me/notifications", &app.admin_token).await, 200).await;
    assert!(of_type(&admin, "import.completed").is_empty());
}

#[tokio::test]
async fn reminders_go_by_mail_in_spanish_when_smtp_is_configured() {
    let smtp = smtp_receiver::start().await;
    let url = smtp.url();
    let app = spawn_app_with(&[
        ("MEJORA_SMTP_URL", url.as_str()),
        ("MEJORA_SMTP_FROM", "mejora@prueba.gov.co"),
        ("MEJORA_JOB_POLL_MS", "50"),
        ("MEJORA_REMINDER_INTERVAL", "3600"),
    ])
    .await;
    let run = running_plan(&app, "PM-MAIL", &[action_body("Publicar informe", &day(-5), &day(1), None)]).await;
    // The scheduler ran at start-up, before the action existed; run it as the next tick would.
    run_once(&app.db, today()).await.unwrap();
    // The responsible person also hears of the action's creation (`action.created`); the
    // reminder is a mail of its own.
    let subject = "Acción próxima a vencer: Publicar informe";
    let reminders = || {
        smtp.received()
            .into_iter()
            .filter(|m| m.to.contains(&run.responsible.email) && m.subject() == subject)
            .collect::<Vec<_>>()
    };
    smtp.wait_for(&run.responsible.email).await;
    for _ in 0..300 {
        if !reminders().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = reminders().into_iter().next().unwrap_or_else(|| panic!("no reminder; got {:?}", smtp.received()));
    assert_eq!(mail.from, "mejora@prueba.gov.co");
    // Delivered once, however many looks at the outbox.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(reminders().len(), 1);
}
