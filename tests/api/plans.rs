//! Plans: creation, the seed plan, validation, merge patch with If-Match, concurrency,
//! idempotency, deletion of drafts, lists with filters and keyset pagination, tenancy.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A valid plan body with the given code.
pub fn plan_body(code: &str) -> Value {
    json!({
        "code": code,
        "title": "Plan de mejoramiento MSPI",
        "policy_scope": "mspi",
        "fiscal_year": 2024,
        "start_date": "2024-08-01",
        "end_date": "2027-12-31",
    })
}

/// The `ETag` of a plan (row version) or of any other resource (`version`).
pub fn etag_of(body: &Value) -> String {
    let v = if body["row_version"].is_number() { &body["row_version"] } else { &body["version"] };
    format!("\"v{v}\"")
}

pub async fn create_plan(app: &TestApp, token: &str, body: &Value) -> Value {
    json_of(app.post("/api/v1/plans", token, body).await, 201).await
}

pub async fn add_category(app: &TestApp, token: &str, plan: &Value, body: &Value) -> Value {
    let path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    json_of(app.post(&path, token, body).await, 201).await
}

/// POST with `If-Match`.
pub async fn post_if_match(app: &TestApp, path: &str, token: &str, etag: &str, body: Option<&Value>) -> Response {
    let mut req = app.request(Method::POST, path, Some(token)).header("If-Match", etag);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

/// DELETE with an optional `If-Match`.
pub async fn delete(app: &TestApp, path: &str, token: &str, etag: Option<&str>) -> Response {
    let mut req = app.request(Method::DELETE, path, Some(token));
    if let Some(e) = etag {
        req = req.header("If-Match", e);
    }
    req.send().await.unwrap()
}

/// Runs a transition on a plan and returns the reply.
pub async fn transition(app: &TestApp, token: &str, plan: &Value, op: &str, body: Option<&Value>) -> Response {
    let path = format!("/api/v1/plans/{}/{op}", plan["id"].as_str().unwrap());
    post_if_match(app, &path, token, &etag_of(plan), body).await
}

/// Operations of the audit trail for one resource, oldest first.
pub async fn audit_operations(app: &TestApp, resource_type: &str, id: &str) -> Vec<String> {
    let path = format!("/api/v1/audit-events?resource_type={resource_type}&resource_id={id}&limit=500");
    let page = json_of(app.get(&path, &app.admin_token).await, 200).await;
    let mut ops: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap().to_string()).collect();
    ops.reverse();
    ops
}

#[tokio::test]
async fn planners_create_draft_plans_with_location_and_etag() {
    let app = spawn_app().await;
    let planner = app.user_in(app.org_id, &[Role::Planner]).await;
    let mut body = plan_body("TI.PL03");
    body["budget"] = json!("15000000.5");
    body["funding_source"] = json!("investment");
    body["maturity_current"] = json!("initial");
    body["maturity_target"] = json!("effective");
    body["origin"] = json!("furag");
    let res = app.post("/api/v1/plans", &planner.token, &body).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["etag"], "\"v1\"");
    let plan = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/plans/{}", plan["id"].as_str().unwrap()));
    assert_eq!(plan["code"], "TI.PL03");
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["row_version"], 1);
    assert_eq!(plan["status"], "draft");
    assert_eq!(plan["budget"], "15000000.50");
    assert_eq!(plan["organization_id"], app.org_id.to_string());
    assert_eq!(plan["created_by"], planner.id.to_string());
    assert_eq!(plan["objective_ids"], json!([]));
    for computed in ["progress_pct", "compliance_pct", "effectiveness_pct", "traffic_light"] {
        assert!(plan[computed].is_null(), "{computed} should be null without actions: {plan}");
    }
    let res = app.get(&location, &app.token_for(Role::Viewer).await).await;
    assert_eq!(res.headers()["etag"], "\"v1\"");
    assert_eq!(json_of(res, 200).await, plan);
    assert_eq!(audit_operations(&app, "plan", plan["id"].as_str().unwrap()).await, ["create"]);
}

#[tokio::test]
async fn the_cartago_seed_plan_and_every_category_fit() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let seed: Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.json")))
            .unwrap();
    let p = &seed["plan"];
    let body = json!({
        "code": p["code"], "version": p["version"], "title": p["title"], "policy_scope": "seguridad_digital",
        "origin": "furag", "prepared_by": p["prepared_by"], "prepared_by_role": p["prepared_by_role"],
        "prepared_on": p["prepared_on"], "approved_by": p["approved_by"], "approval_reference": p["approval_reference"],
        "approved_on": p["approved_on"], "start_date": p["implementation_window"]["start"],
        "end_date": p["implementation_window"]["end"],
    });
    let plan = create_plan(&app, &token, &body).await;
    for field in [
        "code",
        "version",
        "title",
        "prepared_by",
        "prepared_by_role",
        "prepared_on",
        "approved_by",
        "approval_reference",
        "approved_on",
    ] {
        assert_eq!(plan[field], p[field], "{field}");
    }
    assert_eq!(plan["start_date"], "2024-08-01");
    assert_eq!(plan["end_date"], "2027-12-31");
    let rows = seed["rows"].as_array().unwrap();
    for row in rows {
        let kind =
            if row["category"].as_str().unwrap().to_lowercase().contains("resultado") { "result" } else { "process" };
        add_category(
            &app,
            &token,
            &plan,
            &json!({"name": row["category"], "source": "furag", "indicator_kind": kind, "score": row["score"],
                    "improvement_alternatives": row["improvement_alternatives"],
                    "effectiveness_criterion": row["effectiveness_evaluation"]}),
        )
        .await;
    }
    let path = format!("/api/v1/plans/{}/categories?limit=500", plan["id"].as_str().unwrap());
    let page = json_of(app.get(&path, &token).await, 200).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), rows.len());
    for (i, (item, row)) in items.iter().zip(rows).enumerate() {
        assert_eq!(item["position"], i + 1);
        assert_eq!(item["name"], row["category"]);
        assert_eq!(item["improvement_alternatives"], row["improvement_alternatives"]);
        assert_eq!(item["effectiveness_criterion"], row["effectiveness_evaluation"]);
        match row["score"].as_f64() {
            Some(score) => assert_eq!(item["score"].as_f64(), Some(score)),
            None => assert!(item["score"].is_null() && item["maturity_band"].is_null()),
        }
    }
    assert_eq!(items[0]["score"], 40.0);
    // The seed's scores are FURAG indices, which carry no MSPI maturity level.
    assert!(items.iter().all(|item| item["maturity_band"].is_null()));
    // The whole plan submits and is approved with the act it records.
    let plan = json_of(app.get(&format!("/api/v1/plans/{}", plan["id"].as_str().unwrap()), &token).await, 200).await;
    let submitted = json_of(transition(&app, &token, &plan, "submit", None).await, 200).await;
    let approved = json_of(transition(&app, &token, &submitted, "approve", Some(&json!({}))).await, 200).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approval_reference"], "Acta No. 05 de 2024");
    assert_eq!(approved["approved_on"], "2024-05-21");
}

#[tokio::test]
async fn invalid_plans_are_refused_naming_each_field() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let body = json!({"code": " ", "title": "", "policy_scope": "mspi", "fiscal_year": 1999, "version": 0,
                      "start_date": "2025-01-01", "end_date": "2024-12-31", "budget": "10.125"});
    let problem = assert_problem(app.post("/api/v1/plans", &token, &body).await, 422, "validation_failed").await;
    let fields: BTreeSet<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, BTreeSet::from(["code", "title", "fiscal_year", "version", "end_date", "budget"]), "{problem}");
    let mut negative = plan_body("X");
    negative["budget"] = json!("-1");
    let problem = assert_problem(app.post("/api/v1/plans", &token, &negative).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "budget");
    let mut bad_enum = plan_body("X");
    bad_enum["policy_scope"] = json!("iso");
    assert_problem(app.post("/api/v1/plans", &token, &bad_enum).await, 422, "validation_failed").await;
    let mut with_status = plan_body("X");
    with_status["status"] = json!("approved");
    let problem = assert_problem(app.post("/api/v1/plans", &token, &with_status).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "status", "{problem}");
    let listed = json_of(app.get("/api/v1/plans", &token).await, 200).await;
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn code_and_version_are_unique_within_an_organization_only() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let problem =
        assert_problem(app.post("/api/v1/plans", &token, &plan_body("TI.PL03")).await, 409, "already_exists").await;
    assert_eq!(problem["errors"][0]["field"], "code");
    let mut second = plan_body("TI.PL03");
    second["version"] = json!(2);
    assert_eq!(create_plan(&app, &token, &second).await["version"], 2);
    let (_, other_admin) = app.other_organization().await;
    create_plan(&app, &other_admin.token, &plan_body("TI.PL03")).await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_reply_and_refuses_another_body() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let send = |body: Value| {
        app.request(Method::POST, "/api/v1/plans", Some(&token))
            .header("Idempotency-Key", "plan-2024-1")
            .json(&body)
            .send()
    };
    let first = send(plan_body("TI.PL03")).await.unwrap();
    let location = first.headers()["location"].clone();
    let first = json_of(first, 201).await;
    let again = send(plan_body("TI.PL03")).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(json_of(again, 201).await, first);
    assert_problem(send(plan_body("OTRO")).await.unwrap(), 422, "idempotency_key_reused").await;
    let listed = json_of(app.get("/api/v1/plans", &token).await, 200).await;
    assert_eq!(crate::plan_lists::ids(&listed), [first["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn merge_patch_changes_only_what_is_sent() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let mut body = plan_body("TI.PL03");
    body["description"] = json!("Primera redacción");
    body["budget"] = json!("100");
    let plan = create_plan(&app, &token, &body).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let res = app
        .patch(
            &path,
            &token,
            &etag_of(&plan),
            &json!({"title": "Plan ajustado", "description": null, "budget": "2500000.75"}),
        )
        .await;
    assert_eq!(res.headers()["etag"], "\"v2\"");
    let updated = json_of(res, 200).await;
    assert_eq!(updated["title"], "Plan ajustado");
    assert!(updated["description"].is_null());
    assert_eq!(updated["budget"], "2500000.75");
    assert_eq!(updated["fiscal_year"], 2024);
    assert_eq!(updated["code"], "TI.PL03");
    assert_eq!(updated["row_version"], 2);
    assert_eq!(json_of(app.get(&path, &token).await, 200).await, updated);
    let problem = assert_problem(
        app.patch(&path, &token, "\"v2\"", &json!({"end_date": "2020-01-01"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "end_date");
    assert_problem(app.patch(&path, &token, "\"v2\"", &json!({"status": "closed"})).await, 422, "validation_failed")
        .await;
    assert_problem(app.patch(&path, &token, "\"v2\"", &json!({"code": "OTRO"})).await, 422, "validation_failed").await;
    assert_eq!(audit_operations(&app, "plan", plan["id"].as_str().unwrap()).await, ["create", "update"]);
}

#[tokio::test]
async fn patch_needs_a_current_if_match() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let res = app
        .request(Method::PATCH, &path, Some(&token))
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"title": "Sin etiqueta"}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 428, "precondition_required").await;
    json_of(app.patch(&path, &token, "\"v1\"", &json!({"title": "Primera"})).await, 200).await;
    assert_problem(app.patch(&path, &token, "\"v1\"", &json!({"title": "Segunda"})).await, 412, "precondition_failed")
        .await;
    assert_eq!(json_of(app.get(&path, &token).await, 200).await["title"], "Primera");
}

#[tokio::test]
async fn of_two_concurrent_patches_with_the_same_etag_exactly_one_wins() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let (body_a, body_b) = (json!({"title": "Versión A"}), json!({"title": "Versión B"}));
    let (a, b) = tokio::join!(app.patch(&path, &token, "\"v1\"", &body_a), app.patch(&path, &token, "\"v1\"", &body_b));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let winner = if a.status() == 200 { "Versión A" } else { "Versión B" };
    let stored = json_of(app.get(&path, &token).await, 200).await;
    assert_eq!(stored["title"], winner);
    assert_eq!(stored["row_version"], 2);
    assert_eq!(audit_operations(&app, "plan", plan["id"].as_str().unwrap()).await, ["create", "update"]);
}

#[tokio::test]
async fn only_draft_plans_are_deleted() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    add_category(&app, &token, &plan, &json!({"name": "Transparencia", "source": "furag", "score": 40})).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    assert_problem(delete(&app, &path, &token, None).await, 428, "precondition_required").await;
    assert_problem(delete(&app, &path, &token, Some("\"v7\"")).await, 412, "precondition_failed").await;
    let submitted = json_of(transition(&app, &token, &plan, "submit", None).await, 200).await;
    assert_problem(delete(&app, &path, &token, Some(&etag_of(&submitted))).await, 409, "invalid_transition").await;

    let draft = create_plan(&app, &token, &plan_body("TI.PL04")).await;
    let category = add_category(&app, &token, &draft, &json!({"name": "Colaboración", "source": "furag"})).await;
    let draft_path = format!("/api/v1/plans/{}", draft["id"].as_str().unwrap());
    assert_eq!(delete(&app, &draft_path, &token, Some("\"v1\"")).await.status(), 204);
    assert_problem(app.get(&draft_path, &token).await, 404, "not_found").await;
    assert_problem(
        app.get(&format!("/api/v1/categories/{}", category["id"].as_str().unwrap()), &token).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(audit_operations(&app, "plan", draft["id"].as_str().unwrap()).await, ["create", "delete"]);
}

#[tokio::test]
async fn other_organizations_plans_are_not_found_and_never_listed() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let (_, stranger) = app.other_organization().await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    assert_problem(app.get(&path, &stranger.token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &stranger.token, "\"v1\"", &json!({"title": "Ajeno"})).await, 404, "not_found")
        .await;
    assert_problem(delete(&app, &path, &stranger.token, Some("\"v1\"")).await, 404, "not_found").await;
    assert_problem(
        transition(&app, &stranger.token, &plan, "cancel", Some(&json!({"reason": "x"}))).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.post(&format!("{path}/versions"), &stranger.token, &json!({})).await, 404, "not_found").await;
    let listed = json_of(app.get("/api/v1/plans?q=TI", &stranger.token).await, 200).await;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(json_of(app.get(&path, &token).await, 200).await["title"], "Plan de mejoramiento MSPI");
}

#[tokio::test]
async fn every_member_reads_plans_but_only_planners_and_admins_write() {
    let app = spawn_app().await;
    let plan = create_plan(&app, &app.admin_token, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    for role in [Role::Auditor, Role::Responsible, Role::Viewer] {
        let token = app.token_for(role).await;
        json_of(app.get(&path, &token).await, 200).await;
        assert_problem(app.post("/api/v1/plans", &token, &plan_body("X")).await, 403, "forbidden").await;
        assert_problem(app.patch(&path, &token, "\"v1\"", &json!({"title": "x"})).await, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn plan_enumerations_are_listed_with_spanish_and_english_labels() {
    let app = spawn_app().await;
    let body = json_of(app.request(Method::GET, "/api/v1/enums", None).send().await.unwrap(), 200).await;
    let enums = &body["enums"];
    let codes = |name: &str| -> Vec<String> {
        enums[name].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        codes("PlanStatus"),
        ["draft", "submitted", "approved", "in_progress", "closed", "cancelled", "superseded"]
    );
    assert_eq!(codes("PolicyScope"), ["mspi", "seguridad_digital", "gobierno_digital", "other"]);
    assert_eq!(codes("MaturityLevel"), ["nonexistent", "initial", "repeatable", "effective", "managed", "optimised"]);
    assert_eq!(codes("ObjectiveSource"), ["pei", "peti"]);
    for name in ["PlanOrigin", "FundingSource", "CategorySource", "IndicatorKind", "ControlFramework", "TrafficLight"] {
        assert!(!codes(name).is_empty(), "{name} missing");
    }
    assert_eq!(enums["PlanStatus"][0]["es"], "Borrador");
    assert_eq!(enums["MaturityLevel"][4]["es"], "Gestionado");
}
