//! Evidence: who reports it, on which plans, review with segregation of duties, immutability
//! after acceptance, corrections, the review queue and tenancy.
use crate::actions::{action_body, action_path, day, running_plan, Running};
use crate::helpers::*;
use crate::plans::{audit_operations, create_plan, delete, etag_of, plan_body};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

pub fn report() -> Value {
    json!({"cut_off_date": day(0), "evidence_date": day(-1), "description": "Acta de capacitación firmada",
           "reported_quantity": 1, "links": ["https://orfeo.cartago.gov.co/radicado/2025-001"]})
}

pub async fn review(app: &TestApp, token: &str, evidence: &Value, body: &Value) -> reqwest::Response {
    let path = format!("/api/v1/evidence/{}/review", evidence["id"].as_str().unwrap());
    app.request(Method::POST, &path, Some(token)).header("If-Match", etag_of(evidence)).json(body).send().await.unwrap()
}

pub async fn one_action(app: &TestApp, code: &str) -> (Running, String) {
    let run = running_plan(app, code, &[action_body("Capacitar funcionarios", &day(-10), &day(10), None)]).await;
    let path = format!("{}/evidence", action_path(&run.actions[0]));
    (run, path)
}

#[tokio::test]
async fn the_responsible_user_planners_and_admins_report_evidence() {
    let app = spawn_app().await;
    let (run, path) = one_action(&app, "EV").await;
    let res = app.post(&path, &run.responsible.token, &report()).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let evidence = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap()));
    assert_eq!(evidence["review_status"], "submitted");
    assert_eq!(evidence["created_by"], run.responsible.id.to_string());
    assert_eq!(evidence["files"], json!([]));
    assert_eq!(evidence["links"], json!(["https://orfeo.cartago.gov.co/radicado/2025-001"]));
    json_of(app.post(&path, &run.planner, &report()).await, 201).await;
    let stranger = app.user_in(app.org_id, &[Role::Responsible]).await;
    let problem = assert_problem(app.post(&path, &stranger.token, &report()).await, 403, "forbidden").await;
    assert!(problem["detail"].as_str().unwrap().contains("responsible"), "{problem}");
    assert_problem(app.post(&path, &run.auditor.token, &report()).await, 403, "forbidden").await;
    let listed = json_of(app.get(&path, &app.token_for(Role::Viewer).await).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(json_of(app.get(&location, &run.auditor.token).await, 200).await, evidence);
    let mut bad = report();
    bad["links"] = json!(["javascript:alert(1)"]);
    bad["reported_quantity"] = json!(-1);
    bad["evidence_date"] = json!(day(1));
    let problem = assert_problem(app.post(&path, &run.responsible.token, &bad).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["reported_quantity", "evidence_date", "links[0]"]);
}

#[tokio::test]
async fn evidence_is_reported_only_on_approved_or_running_plans() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("BORRADOR")).await;
    let path = format!("/api/v1/plans/{}/actions", plan["id"].as_str().unwrap());
    let action = json_of(app.post(&path, &token, &action_body("Borrador", &day(0), &day(5), None)).await, 201).await;
    let res = app.post(&format!("{}/evidence", action_path(&action)), &token, &report()).await;
    assert_problem(res, 409, "invalid_transition").await;
}

#[tokio::test]
async fn nobody_reviews_evidence_they_reported_or_of_their_own_action() {
    let app = spawn_app().await;
    let both = app.user_in(app.org_id, &[Role::Responsible, Role::Auditor]).await;
    let run = running_plan(&app, "SOD", &[action_body("Propia", &day(-5), &day(5), Some(both.id))]).await;
    let path = format!("{}/evidence", action_path(&run.actions[0]));
    let own = json_of(app.post(&path, &both.token, &report()).await, 201).await;
    let problem = assert_problem(
        review(&app, &both.token, &own, &json!({"status": "accepted"})).await,
        403,
        "segregation_of_duties",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("reported"), "{problem}");
    // Reported by a planner, but `both` is still responsible for the action.
    let by_planner = json_of(app.post(&path, &run.planner, &report()).await, 201).await;
    assert_problem(
        review(&app, &both.token, &by_planner, &json!({"status": "accepted"})).await,
        403,
        "segregation_of_duties",
    )
    .await;
    let planner_auditor = app.user_in(app.org_id, &[Role::Planner, Role::Auditor]).await;
    let theirs = json_of(app.post(&path, &planner_auditor.token, &report()).await, 201).await;
    assert_problem(
        review(&app, &planner_auditor.token, &theirs, &json!({"status": "accepted"})).await,
        403,
        "segregation_of_duties",
    )
    .await;
    assert_problem(review(&app, &run.planner, &theirs, &json!({"status": "accepted"})).await, 403, "forbidden").await;
    let accepted = json_of(review(&app, &run.auditor.token, &theirs, &json!({"status": "accepted"})).await, 200).await;
    assert_eq!(accepted["reviewed_by"], run.auditor.id.to_string());
    assert!(accepted["reviewed_at"].is_string());
}

#[tokio::test]
async fn accepted_evidence_is_immutable() {
    let app = spawn_app().await;
    let (run, path) = one_action(&app, "INM").await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &report()).await, 201).await;
    let accepted = json_of(
        review(&app, &run.auditor.token, &evidence, &json!({"status": "accepted", "note": "Completa"})).await,
        200,
    )
    .await;
    assert_eq!(accepted["review_status"], "accepted");
    assert_eq!(accepted["review_note"], "Completa");
    let evidence_path = format!("/api/v1/evidence/{}", accepted["id"].as_str().unwrap());
    let etag = etag_of(&accepted);
    assert_problem(
        app.patch(&evidence_path, &run.responsible.token, &etag, &json!({"description": "Cambio"})).await,
        409,
        "immutable",
    )
    .await;
    assert_problem(delete(&app, &evidence_path, &run.responsible.token, Some(&etag)).await, 409, "immutable").await;
    assert_problem(
        review(&app, &run.auditor.token, &accepted, &json!({"status": "rejected", "note": "x"})).await,
        409,
        "immutable",
    )
    .await;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4 tarde".to_vec()).file_name("tarde.pdf"));
    let res = app
        .request(Method::POST, &format!("{evidence_path}/files"), Some(&run.responsible.token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "immutable").await;
    assert_eq!(json_of(app.get(&evidence_path, &run.planner).await, 200).await, accepted);
    assert_eq!(audit_operations(&app, "evidence", accepted["id"].as_str().unwrap()).await, ["create", "review"]);
}

#[tokio::test]
async fn evidence_sent_back_is_corrected_and_reviewed_again() {
    let app = spawn_app().await;
    let (run, path) = one_action(&app, "AJU").await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &report()).await, 201).await;
    let problem = assert_problem(
        review(&app, &run.auditor.token, &evidence, &json!({"status": "needs_changes"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "note");
    let problem = assert_problem(
        review(&app, &run.auditor.token, &evidence, &json!({"status": "submitted"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "status");
    let sent_back = json_of(
        review(&app, &run.auditor.token, &evidence, &json!({"status": "needs_changes", "note": "Falta la firma"}))
            .await,
        200,
    )
    .await;
    assert_eq!(sent_back["review_status"], "needs_changes");
    assert_problem(
        review(&app, &run.auditor.token, &sent_back, &json!({"status": "accepted"})).await,
        409,
        "invalid_transition",
    )
    .await;
    let evidence_path = format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap());
    assert_problem(
        app.patch(&evidence_path, &run.responsible.token, &etag_of(&evidence), &json!({"description": "x"})).await,
        412,
        "precondition_failed",
    )
    .await;
    let corrected = json_of(
        app.patch(
            &evidence_path,
            &run.responsible.token,
            &etag_of(&sent_back),
            &json!({"description": "Acta firmada", "reported_quantity": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(corrected["review_status"], "submitted");
    assert!(
        corrected["review_note"].is_null()
            && corrected["reviewed_by"].is_null()
            && corrected["reported_quantity"].is_null()
    );
    let queue = json_of(app.get("/api/v1/evidence?review_status=submitted", &run.auditor.token).await, 200).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    let accepted =
        json_of(review(&app, &run.auditor.token, &corrected, &json!({"status": "accepted"})).await, 200).await;
    assert_eq!(accepted["review_status"], "accepted");
    let queue = json_of(app.get("/api/v1/evidence?review_status=submitted", &run.auditor.token).await, 200).await;
    assert_eq!(queue["items"], json!([]));
}

#[tokio::test]
async fn rejected_evidence_can_be_deleted_by_its_reporter() {
    let app = spawn_app().await;
    let (run, path) = one_action(&app, "DEL").await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &report()).await, 201).await;
    let rejected = json_of(
        review(&app, &run.auditor.token, &evidence, &json!({"status": "rejected", "note": "No corresponde"})).await,
        200,
    )
    .await;
    let evidence_path = format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap());
    assert_problem(delete(&app, &evidence_path, &run.responsible.token, None).await, 428, "precondition_required")
        .await;
    assert_eq!(delete(&app, &evidence_path, &run.responsible.token, Some(&etag_of(&rejected))).await.status(), 204);
    assert_problem(app.get(&evidence_path, &run.planner).await, 404, "not_found").await;
    assert_eq!(
        audit_operations(&app, "evidence", evidence["id"].as_str().unwrap()).await,
        ["create", "review", "delete"]
    );
}

#[tokio::test]
async fn other_organizations_evidence_is_not_found() {
    let app = spawn_app().await;
    let (run, path) = one_action(&app, "TEN").await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &report()).await, 201).await;
    let (_, stranger) = app.other_organization().await;
    let evidence_path = format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap());
    assert_problem(app.get(&evidence_path, &stranger.token).await, 404, "not_found").await;
    assert_problem(app.get(&path, &stranger.token).await, 404, "not_found").await;
    let other_auditor = app.user_in(stranger.organization_id, &[Role::Auditor]).await;
    assert_problem(
        review(&app, &other_auditor.token, &evidence, &json!({"status": "accepted"})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(json_of(app.get("/api/v1/evidence", &stranger.token).await, 200).await["items"], json!([]));
}
