//! The plan lifecycle: each transition allowed and refused, its preconditions, If-Match,
//! idempotent replays, the audit trail, read-only states and new versions.
use crate::helpers::*;
use crate::plans::{add_category, audit_operations, create_plan, etag_of, plan_body, transition};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

const APPROVAL: &str = r#"{"approved_by": "Comité Institucional de Gestión y Desempeño", "approval_reference": "Acta No. 05 de 2024", "approved_on": "2024-05-21"}"#;

fn approval() -> Value {
    serde_json::from_str(APPROVAL).unwrap()
}

fn body_for(op: &str) -> Option<Value> {
    match op {
        "approve" => Some(approval()),
        "cancel" => Some(json!({"reason": "Reemplazado por el plan institucional"})),
        _ => None,
    }
}

/// A plan with one category, brought to `status` through the API.
async fn plan_in(app: &TestApp, token: &str, code: &str, status: &str) -> Value {
    let mut plan = create_plan(app, token, &plan_body(code)).await;
    add_category(
        app,
        token,
        &plan,
        &json!({"name": "Transparencia", "source": "furag", "score": 40, "target_score": 80}),
    )
    .await;
    let path: &[&str] = match status {
        "draft" => &[],
        "submitted" => &["submit"],
        "approved" => &["submit", "approve"],
        "in_progress" => &["submit", "approve", "start"],
        "closed" => &["submit", "approve", "start", "close"],
        "cancelled" => &["cancel"],
        other => panic!("no path to {other}"),
    };
    for op in path {
        plan = json_of(transition(app, token, &plan, op, body_for(op).as_ref()).await, 200).await;
    }
    assert_eq!(plan["status"], status);
    plan
}

#[tokio::test]
async fn a_plan_goes_from_draft_to_closed_one_transition_at_a_time() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let mut plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    add_category(&app, &token, &plan, &json!({"name": "Transparencia", "source": "furag", "score": 40})).await;
    for (op, status, version) in
        [("submit", "submitted", 2), ("approve", "approved", 3), ("start", "in_progress", 4), ("close", "closed", 5)]
    {
        let res = transition(&app, &token, &plan, op, body_for(op).as_ref()).await;
        assert_eq!(res.headers()["etag"], format!("\"v{version}\"").as_str(), "{op}");
        plan = json_of(res, 200).await;
        assert_eq!(plan["status"], status, "{op}");
        assert_eq!(plan["updated_by"], plan["created_by"]);
    }
    assert_eq!(plan["approved_by"], "Comité Institucional de Gestión y Desempeño");
    assert_eq!(plan["approval_reference"], "Acta No. 05 de 2024");
    assert_eq!(plan["approved_on"], "2024-05-21");
    let id = plan["id"].as_str().unwrap();
    assert_eq!(audit_operations(&app, "plan", id).await, ["create", "submit", "approve", "start", "close"]);
    let events = json_of(
        app.get(
            &format!("/api/v1/audit-events?resource_type=plan&resource_id={id}&operation=approve"),
            &app.admin_token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(events["items"][0]["before"]["status"], "submitted");
    assert_eq!(events["items"][0]["after"]["status"], "approved");
    let verify = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(verify["intact"], true);
}

#[tokio::test]
async fn transitions_out_of_order_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let refused: &[(&str, &[&str])] = &[
        ("draft", &["approve", "start", "close"]),
        ("submitted", &["submit", "start", "close"]),
        ("approved", &["submit", "approve", "close"]),
        ("in_progress", &["submit", "approve", "start"]),
        ("closed", &["submit", "approve", "start", "close", "cancel"]),
        ("cancelled", &["submit", "approve", "start", "close", "cancel"]),
    ];
    for (i, (status, ops)) in refused.iter().enumerate() {
        let plan = plan_in(&app, &token, &format!("P-{i}"), status).await;
        for op in *ops {
            let res = transition(&app, &token, &plan, op, body_for(op).as_ref()).await;
            let problem = assert_problem(res, 409, "invalid_transition").await;
            assert!(
                problem["detail"].as_str().unwrap().contains(&status.replace('_', " ")),
                "{status}/{op}: {problem}"
            );
        }
        let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        let stored = json_of(app.get(&path, &token).await, 200).await;
        assert_eq!(stored, plan, "{status}: a refused transition changed the plan");
    }
    // Cancelling is allowed from every open state.
    for (i, status) in ["draft", "submitted", "approved", "in_progress"].iter().enumerate() {
        let plan = plan_in(&app, &token, &format!("C-{i}"), status).await;
        let cancelled =
            json_of(transition(&app, &token, &plan, "cancel", body_for("cancel").as_ref()).await, 200).await;
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["cancellation_reason"], "Reemplazado por el plan institucional");
    }
}

#[tokio::test]
async fn submitting_needs_an_implementation_window_and_a_category() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &json!({"code": "X", "title": "Sin fechas", "policy_scope": "mspi"})).await;
    let problem = assert_problem(transition(&app, &token, &plan, "submit", None).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["start_date", "end_date"]);
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let plan = json_of(
        app.patch(&path, &token, "\"v1\"", &json!({"start_date": "2025-01-01", "end_date": "2025-12-31"})).await,
        200,
    )
    .await;
    let problem =
        assert_problem(transition(&app, &token, &plan, "submit", None).await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("category"), "{problem}");
    add_category(&app, &token, &plan, &json!({"name": "Transparencia", "source": "furag"})).await;
    assert_eq!(json_of(transition(&app, &token, &plan, "submit", None).await, 200).await["status"], "submitted");
}

#[tokio::test]
async fn approval_needs_who_approved_and_the_act() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = plan_in(&app, &token, "TI.PL03", "submitted").await;
    let problem =
        assert_problem(transition(&app, &token, &plan, "approve", Some(&json!({}))).await, 422, "validation_failed")
            .await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["approved_by", "approval_reference"]);
    let problem = assert_problem(
        transition(&app, &token, &plan, "approve", Some(&json!({"approved_by": "Comité", "approval_reference": "  "})))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "approval_reference");
    let approved = json_of(
        transition(
            &app,
            &token,
            &plan,
            "approve",
            Some(&json!({"approved_by": "Comité", "approval_reference": "Acta 7"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    let today = mejora::services::calendar::today().to_string();
    assert_eq!(approved["approved_on"], today.as_str());
    assert_problem(
        transition(&app, &token, &plan, "approve", Some(&json!({"extra": 1}))).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn transitions_need_a_current_if_match() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = plan_in(&app, &token, "TI.PL03", "draft").await;
    let path = format!("/api/v1/plans/{}/submit", plan["id"].as_str().unwrap());
    let res = app.request(Method::POST, &path, Some(&token)).send().await.unwrap();
    assert_problem(res, 428, "precondition_required").await;
    let mut stale = plan.clone();
    stale["row_version"] = json!(0);
    assert_problem(transition(&app, &token, &stale, "submit", None).await, 412, "precondition_failed").await;
    // Two concurrent submits with the same ETag: exactly one wins.
    let (a, b) =
        tokio::join!(transition(&app, &token, &plan, "submit", None), transition(&app, &token, &plan, "submit", None));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    assert_eq!(audit_operations(&app, "plan", plan["id"].as_str().unwrap()).await, ["create", "submit"]);
}

#[tokio::test]
async fn a_transition_retried_with_its_idempotency_key_replays_the_reply() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = plan_in(&app, &token, "TI.PL03", "draft").await;
    let path = format!("/api/v1/plans/{}/submit", plan["id"].as_str().unwrap());
    let send = || {
        app.request(Method::POST, &path, Some(&token))
            .header("If-Match", "\"v1\"")
            .header("Idempotency-Key", "submit-1")
            .send()
    };
    let first = json_of(send().await.unwrap(), 200).await;
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["etag"], "\"v2\"");
    assert_eq!(json_of(again, 200).await, first);
    assert_eq!(audit_operations(&app, "plan", plan["id"].as_str().unwrap()).await, ["create", "submit"]);
}

#[tokio::test]
async fn cancelling_needs_a_reason() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = plan_in(&app, &token, "TI.PL03", "draft").await;
    let problem = assert_problem(
        transition(&app, &token, &plan, "cancel", Some(&json!({"reason": " "}))).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    assert_problem(transition(&app, &token, &plan, "cancel", Some(&json!({}))).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn plans_past_submission_and_their_categories_are_read_only() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    // A submitted plan is still editable.
    let submitted = plan_in(&app, &token, "S", "submitted").await;
    let path = format!("/api/v1/plans/{}", submitted["id"].as_str().unwrap());
    json_of(app.patch(&path, &token, &etag_of(&submitted), &json!({"title": "Corregido"})).await, 200).await;
    for (i, status) in ["approved", "in_progress", "closed", "cancelled"].iter().enumerate() {
        let plan = plan_in(&app, &token, &format!("R-{i}"), status).await;
        let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        assert_problem(app.patch(&path, &token, &etag_of(&plan), &json!({"title": "Cambio"})).await, 409, "immutable")
            .await;
        let res = app.post(&format!("{path}/categories"), &token, &json!({"name": "Nueva", "source": "furag"})).await;
        assert_problem(res, 409, "immutable").await;
        let categories = json_of(app.get(&format!("{path}/categories"), &token).await, 200).await;
        let category = &categories["items"][0];
        let category_path = format!("/api/v1/categories/{}", category["id"].as_str().unwrap());
        assert_problem(app.patch(&category_path, &token, "\"v1\"", &json!({"score": 90})).await, 409, "immutable")
            .await;
        let res = crate::plans::delete(&app, &category_path, &token, Some("\"v1\"")).await;
        assert_problem(res, 409, "immutable").await;
    }
}

#[tokio::test]
async fn a_new_version_copies_the_plan_and_supersedes_it_once_approved() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let objective = json_of(
        app.post("/api/v1/objectives", &token, &json!({"source": "peti", "code": "PETI-4", "title": "Gobierno de TI"}))
            .await,
        201,
    )
    .await;
    let mut body = plan_body("TI.PL03");
    body["objective_ids"] = json!([objective["id"]]);
    body["budget"] = json!("1000.00");
    let mut v1 = create_plan(&app, &token, &body).await;
    for (name, score) in [("Transparencia", 40), ("Colaboración", 0)] {
        add_category(
            &app,
            &token,
            &v1,
            &json!({"name": name, "source": "furag", "score": score, "target_score": 80,
                                                 "improvement_alternatives": ["Portal de transparencia"],
                                                 "control_refs": [{"framework": "iso27001_2022", "code": "5.34"}]}),
        )
        .await;
    }
    for op in ["submit", "approve", "start"] {
        v1 = json_of(transition(&app, &token, &v1, op, body_for(op).as_ref()).await, 200).await;
    }
    let v1_path = format!("/api/v1/plans/{}", v1["id"].as_str().unwrap());
    let res =
        app.post(&format!("{v1_path}/versions"), &token, &json!({"fiscal_year": 2025, "title": "Plan 2025"})).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let v2 = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/plans/{}", v2["id"].as_str().unwrap()));
    assert_eq!(v2["code"], "TI.PL03");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["status"], "draft");
    assert_eq!(v2["title"], "Plan 2025");
    assert_eq!(v2["fiscal_year"], 2025);
    assert_eq!(v2["budget"], "1000.00");
    assert_eq!(v2["previous_version_id"], v1["id"]);
    assert_eq!(v2["objective_ids"], json!([objective["id"]]));
    assert!(v2["approved_by"].is_null() && v2["approval_reference"].is_null() && v2["approved_on"].is_null());
    let copied =
        json_of(app.get(&format!("/api/v1/plans/{}/categories", v2["id"].as_str().unwrap()), &token).await, 200).await;
    let original = json_of(app.get(&format!("{v1_path}/categories"), &token).await, 200).await;
    let (copied, original) = (copied["items"].as_array().unwrap(), original["items"].as_array().unwrap());
    assert_eq!(copied.len(), 2);
    for (c, o) in copied.iter().zip(original) {
        assert_ne!(c["id"], o["id"]);
        assert_eq!(c["plan_id"], v2["id"]);
        for field in [
            "name",
            "score",
            "target_score",
            "gap",
            "maturity_band",
            "improvement_alternatives",
            "control_refs",
            "position",
        ] {
            assert_eq!(c[field], o[field], "{field}");
        }
    }
    // Only the latest version may start another one.
    assert_problem(app.post(&format!("{v1_path}/versions"), &token, &json!({})).await, 409, "invalid_transition").await;
    let v2_path = format!("/api/v1/plans/{}", v2["id"].as_str().unwrap());
    assert_problem(app.post(&format!("{v2_path}/versions"), &token, &json!({})).await, 409, "invalid_transition").await;
    assert_eq!(json_of(app.get(&v1_path, &token).await, 200).await["status"], "in_progress");
    let mut v2 = v2;
    for op in ["submit", "approve"] {
        v2 = json_of(transition(&app, &token, &v2, op, body_for(op).as_ref()).await, 200).await;
    }
    assert_eq!(v2["status"], "approved");
    let v1_now = json_of(app.get(&v1_path, &token).await, 200).await;
    assert_eq!(v1_now["status"], "superseded");
    assert_eq!(v1_now["row_version"], 5);
    assert_eq!(
        audit_operations(&app, "plan", v1["id"].as_str().unwrap()).await,
        ["create", "submit", "approve", "start", "supersede"]
    );
    assert_eq!(
        audit_operations(&app, "plan", v2["id"].as_str().unwrap()).await,
        ["create_version", "submit", "approve"]
    );
    // A superseded plan is read-only and cannot be cancelled or started again.
    assert_problem(
        transition(&app, &token, &v1_now, "cancel", body_for("cancel").as_ref()).await,
        409,
        "invalid_transition",
    )
    .await;
    let listed = json_of(app.get("/api/v1/plans?code=TI.PL03&sort=code", &token).await, 200).await;
    let versions: Vec<i64> =
        listed["items"].as_array().unwrap().iter().map(|p| p["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn a_closed_plan_stays_closed_when_its_next_version_is_approved() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let v1 = plan_in(&app, &token, "TI.PL03", "closed").await;
    let v1_path = format!("/api/v1/plans/{}", v1["id"].as_str().unwrap());
    let mut v2 = json_of(app.post(&format!("{v1_path}/versions"), &token, &json!({})).await, 201).await;
    for op in ["submit", "approve"] {
        v2 = json_of(transition(&app, &token, &v2, op, body_for(op).as_ref()).await, 200).await;
    }
    assert_eq!(json_of(app.get(&v1_path, &token).await, 200).await["status"], "closed");
    // Drafts and submitted plans start no versions.
    let draft = plan_in(&app, &token, "D", "draft").await;
    let res = app.post(&format!("/api/v1/plans/{}/versions", draft["id"].as_str().unwrap()), &token, &json!({})).await;
    assert_problem(res, 409, "invalid_transition").await;
}

#[tokio::test]
async fn an_older_version_cannot_be_approved_after_a_newer_one() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let v1 = plan_in(&app, &token, "TI.PL03", "submitted").await;
    let mut second = plan_body("TI.PL03");
    second["version"] = json!(2);
    let mut v2 = create_plan(&app, &token, &second).await;
    add_category(&app, &token, &v2, &json!({"name": "Transparencia", "source": "furag"})).await;
    for op in ["submit", "approve"] {
        v2 = json_of(transition(&app, &token, &v2, op, body_for(op).as_ref()).await, 200).await;
    }
    let problem =
        assert_problem(transition(&app, &token, &v1, "approve", Some(&approval())).await, 409, "invalid_transition")
            .await;
    assert!(problem["detail"].as_str().unwrap().contains("newer"), "{problem}");
}
