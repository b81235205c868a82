//! Bulk uploads that change findings leave a trace (hardening issue, item 7): every finding an
//! `on_conflict=update` upload changes gets its own audit event with before and after, closed
//! findings are not rewritten (row error `finding_closed`), and the chain stays intact.
use crate::helpers::*;
use mejora::entities::enums::{FindingStatus, Role};
use mejora::entities::finding;
use reqwest::{Method, Response};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

const HEADER: &str = "source,report_code,finding_code,title,severity\n";

async fn csv(app: &TestApp, token: &str, query: &str, body: String) -> Response {
    app.request(Method::POST, &format!("/api/v1/findings/imports{query}"), Some(token))
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn file(rows: &[(&str, &str, &str)]) -> String {
    let mut text = HEADER.to_string();
    for (code, title, severity) in rows {
        text.push_str(&format!("internal_audit,OCI-2025,{code},{title},{severity}\n"));
    }
    text
}

async fn finding_id(app: &TestApp, token: &str, code: &str) -> String {
    let page = json_of(app.get(&format!("/api/v1/findings?q={code}"), token).await, 200).await;
    let items = page["items"].as_array().unwrap();
    let found = items.iter().find(|f| f["finding_code"] == code).expect("finding");
    found["id"].as_str().unwrap().to_string()
}

async fn events(app: &TestApp, query: &str) -> Vec<Value> {
    let page = json_of(app.get(&format!("/api/v1/audit-events?limit=500&{query}"), &app.admin_token).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

async fn chain_is_intact(app: &TestApp) {
    let verify = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(verify["intact"], true, "{verify}");
}

#[tokio::test]
async fn an_update_upload_records_each_changed_finding_with_before_and_after() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let first = file(&[("H-1", "Accesos", "high"), ("H-2", "Copias", "low"), ("H-3", "Claves", "medium")]);
    json_of(csv(&app, &auditor, "", first).await, 201).await;
    let second =
        file(&[("H-1", "Accesos sin revisión", "high"), ("H-2", "Copias", "critical"), ("H-3", "Claves", "medium")]);
    let import = json_of(csv(&app, &auditor, "?on_conflict=update", second).await, 201).await;
    assert_eq!(import["counts"]["updated"], 2, "{import}");
    assert_eq!(import["counts"]["unchanged"], 1);

    let h1 = finding_id(&app, &auditor, "H-1").await;
    let trail = events(&app, &format!("resource_type=finding&resource_id={h1}&operation=update")).await;
    assert_eq!(trail.len(), 1, "{trail:?}");
    let event = &trail[0];
    assert_eq!(event["before"]["title"], "Accesos");
    assert_eq!(event["after"]["title"], "Accesos sin revisión");
    assert_eq!(event["before"]["version"], 1);
    assert_eq!(event["after"]["version"], 2);
    assert_eq!(event["after"]["import_id"], import["id"]);
    assert_eq!(event["actor_roles"], serde_json::json!(["auditor"]));
    let h2 = finding_id(&app, &auditor, "H-2").await;
    let trail = events(&app, &format!("resource_type=finding&resource_id={h2}&operation=update")).await;
    assert_eq!(
        (trail[0]["before"]["severity"].as_str(), trail[0]["after"]["severity"].as_str()),
        (Some("low"), Some("critical"))
    );
    // The unchanged finding has no update event; all update events of the upload are 2.
    let h3 = finding_id(&app, &auditor, "H-3").await;
    assert!(events(&app, &format!("resource_type=finding&resource_id={h3}&operation=update")).await.is_empty());
    assert_eq!(events(&app, "resource_type=finding&operation=update").await.len(), 2);
    chain_is_intact(&app).await;

    // A dry run reports the updates but records nothing.
    let third = file(&[("H-1", "Otro título", "high")]);
    let dry = json_of(csv(&app, &auditor, "?on_conflict=update&dry_run=true", third).await, 201).await;
    assert_eq!(dry["counts"]["updated"], 1);
    assert_eq!(events(&app, "resource_type=finding&operation=update").await.len(), 2);
}

#[tokio::test]
async fn closed_findings_are_not_rewritten_by_an_upload() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let first = file(&[("C-1", "Cerrado", "high"), ("C-2", "Abierto", "low")]);
    json_of(csv(&app, &auditor, "", first).await, 201).await;
    // C-1 is closed (through its actions, in real life).
    finding::Entity::update_many()
        .col_expr(finding::Column::Status, Expr::value(FindingStatus::ClosedCompliant.code()))
        .filter(finding::Column::FindingCode.eq("C-1"))
        .exec(&app.db)
        .await
        .unwrap();
    let changes = file(&[("C-1", "Reescrito", "low"), ("C-2", "Abierto y cambiado", "low")]);

    // All or nothing: the closed finding rejects the file.
    let res = csv(&app, &auditor, "?on_conflict=update", changes.clone()).await;
    let problem = assert_problem(res, 422, "import_rejected").await;
    assert_eq!(problem["errors"][0]["code"], "finding_closed", "{problem}");
    assert_eq!(problem["errors"][0]["row"], 2);
    let c2 = finding_id(&app, &auditor, "C-2").await;
    let stored = json_of(app.get(&format!("/api/v1/findings/{c2}"), &auditor).await, 200).await;
    assert_eq!(stored["title"], "Abierto");

    // Partial: the open finding changes, the closed one is reported and left alone.
    let import = json_of(csv(&app, &auditor, "?on_conflict=update&mode=partial", changes).await, 201).await;
    assert_eq!(import["counts"]["updated"], 1, "{import}");
    assert_eq!(import["counts"]["rejected"], 1);
    assert_eq!(import["errors"][0]["code"], "finding_closed");
    assert_eq!(import["errors"][0]["field"], "finding_code");
    let c1 = finding_id(&app, &auditor, "C-1").await;
    let closed = json_of(app.get(&format!("/api/v1/findings/{c1}"), &auditor).await, 200).await;
    assert_eq!((closed["title"].as_str(), closed["version"].as_i64()), (Some("Cerrado"), Some(1)));
    assert!(events(&app, &format!("resource_type=finding&resource_id={c1}&operation=update")).await.is_empty());

    // Sending the closed finding as it is stored is no change, hence no error.
    let same = file(&[("C-1", "Cerrado", "high")]);
    let import = json_of(csv(&app, &auditor, "?on_conflict=update", same).await, 201).await;
    assert_eq!((import["counts"]["unchanged"].as_u64(), import["counts"]["rejected"].as_u64()), (Some(1), Some(0)));
    chain_is_intact(&app).await;
}

#[tokio::test]
async fn an_upload_that_changes_thousands_of_findings_chains_an_event_for_each() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    // More rows than one batch on either backend.
    let n = 2500;
    let rows: Vec<(String, String)> = (0..n).map(|i| (format!("M-{i:05}"), format!("Hallazgo {i}"))).collect();
    let text = |suffix: &str| {
        let mut t = HEADER.to_string();
        for (code, title) in &rows {
            t.push_str(&format!("internal_audit,OCI-2025,{code},{title}{suffix},high\n"));
        }
        t
    };
    json_of(csv(&app, &auditor, "", text("")).await, 201).await;
    let import = json_of(csv(&app, &auditor, "?on_conflict=update", text(" (revisado)")).await, 201).await;
    assert_eq!(import["counts"]["updated"], n);
    let verify = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(verify["intact"], true, "{verify}");
    // The two import events, the updates, and the auditor's creation by the harness (none).
    assert!(verify["checked"].as_u64().unwrap() >= n + 2, "{verify}");
    let latest = events(&app, "resource_type=finding&operation=update").await;
    assert!(latest[0]["after"]["title"].as_str().unwrap().ends_with("(revisado)"));
}
