//! PEI/PETI objectives: creation, uniqueness, lists, links from plans, deletion and tenancy.
use crate::helpers::*;
use crate::plans::{create_plan, delete, plan_body};
use mejora::entities::enums::Role;
use serde_json::{json, Value};

async fn create_objective(app: &TestApp, token: &str, body: &Value) -> Value {
    json_of(app.post("/api/v1/objectives", token, body).await, 201).await
}

#[tokio::test]
async fn plans_link_to_the_objectives_they_serve() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let res = app
        .post(
            "/api/v1/objectives",
            &token,
            &json!({"source": "pei", "code": "OE-3", "title": "Fortalecer la gestión institucional", "period_start": 2024, "period_end": 2027}),
        )
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let pei = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/objectives/{}", pei["id"].as_str().unwrap()));
    assert_eq!(pei["period_end"], 2027);
    let peti = create_objective(
        &app,
        &token,
        &json!({"source": "peti", "code": "OE-3", "title": "Seguridad de la información"}),
    )
    .await;
    let listed =
        json_of(app.get("/api/v1/objectives?source=peti", &app.token_for(Role::Auditor).await).await, 200).await;
    assert_eq!(listed["items"], json!([peti]));
    let found = json_of(app.get("/api/v1/objectives?q=SEGURIDAD", &token).await, 200).await;
    assert_eq!(found["items"][0]["id"], peti["id"]);

    let mut body = plan_body("TI.PL03");
    body["objective_ids"] = json!([peti["id"], pei["id"], peti["id"]]);
    let plan = create_plan(&app, &token, &body).await;
    let mut linked: Vec<&str> = plan["objective_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    linked.sort();
    let mut expected = vec![pei["id"].as_str().unwrap(), peti["id"].as_str().unwrap()];
    expected.sort();
    assert_eq!(linked, expected);
    create_plan(&app, &token, &plan_body("OTRO")).await;
    let serving =
        json_of(app.get(&format!("/api/v1/plans?objective_id={}", pei["id"].as_str().unwrap()), &token).await, 200)
            .await;
    assert_eq!(serving["items"].as_array().unwrap().len(), 1);
    assert_eq!(serving["items"][0]["id"], plan["id"]);

    let pei_path = format!("/api/v1/objectives/{}", pei["id"].as_str().unwrap());
    assert_problem(delete(&app, &pei_path, &token, Some("\"v1\"")).await, 409, "conflict").await;
    let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let plan =
        json_of(app.patch(&plan_path, &token, "\"v1\"", &json!({"objective_ids": [peti["id"]]})).await, 200).await;
    assert_eq!(plan["objective_ids"], json!([peti["id"]]));
    assert_eq!(delete(&app, &pei_path, &token, Some("\"v1\"")).await.status(), 204);
    assert_problem(app.get(&pei_path, &token).await, 404, "not_found").await;
    assert_eq!(
        crate::plans::audit_operations(&app, "objective", pei["id"].as_str().unwrap()).await,
        ["create", "delete"]
    );
}

#[tokio::test]
async fn unknown_and_foreign_objectives_cannot_be_linked() {
    let app = spawn_app().await;
    let (_, stranger) = app.other_organization().await;
    let foreign =
        create_objective(&app, &stranger.token, &json!({"source": "pei", "code": "E1", "title": "Ajeno"})).await;
    let token = app.token_for(Role::Planner).await;
    let mut body = plan_body("TI.PL03");
    body["objective_ids"] = json!([foreign["id"]]);
    let problem = assert_problem(app.post("/api/v1/plans", &token, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "objective_ids");
    assert_eq!(problem["errors"][0]["code"], "unknown_objective");
    let path = format!("/api/v1/objectives/{}", foreign["id"].as_str().unwrap());
    assert_problem(app.get(&path, &token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &token, "\"v1\"", &json!({"title": "x"})).await, 404, "not_found").await;
    assert_eq!(json_of(app.get("/api/v1/objectives", &token).await, 200).await["items"], json!([]));
}

#[tokio::test]
async fn objective_codes_are_unique_per_source_and_periods_ordered() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let first = create_objective(&app, &token, &json!({"source": "pei", "code": "OE-1", "title": "Uno"})).await;
    let problem = assert_problem(
        app.post("/api/v1/objectives", &token, &json!({"source": "pei", "code": "OE-1", "title": "Otro"})).await,
        409,
        "already_exists",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "code");
    let second = create_objective(&app, &token, &json!({"source": "pei", "code": "OE-2", "title": "Dos"})).await;
    let path = format!("/api/v1/objectives/{}", second["id"].as_str().unwrap());
    assert_problem(app.patch(&path, &token, "\"v1\"", &json!({"code": "OE-1"})).await, 409, "already_exists").await;
    let problem = assert_problem(
        app.patch(&path, &token, "\"v1\"", &json!({"period_start": 2027, "period_end": 2024})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "period_end");
    let updated = json_of(
        app.patch(&path, &token, "\"v1\"", &json!({"title": "Dos ajustado", "description": "Detalle"})).await,
        200,
    )
    .await;
    assert_eq!(updated["description"], "Detalle");
    assert_problem(app.patch(&path, &token, "\"v1\"", &json!({"title": "Tarde"})).await, 412, "precondition_failed")
        .await;
    assert_eq!(first["code"], "OE-1");
}
