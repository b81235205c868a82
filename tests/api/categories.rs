//! Categories of a plan: computed gap and maturity band, score limits, control references,
//! plan order with pagination, merge patch with If-Match, idempotency and tenancy.
use crate::helpers::*;
use crate::plans::{add_category, create_plan, delete, plan_body};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn path_of(category: &Value) -> String {
    format!("/api/v1/categories/{}", category["id"].as_str().unwrap())
}

#[tokio::test]
async fn categories_compute_their_gap_and_maturity_band() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let cases = [
        (json!(0), json!(80), json!(80.0), "nonexistent"),
        (json!(19.99), json!(20), json!(0.01), "nonexistent"),
        (json!(20), json!(60), json!(40.0), "initial"),
        (json!(40), json!(80), json!(40.0), "repeatable"),
        (json!(72.5), json!(70), json!(-2.5), "effective"),
        (json!(80), json!(100), json!(20.0), "managed"),
        (json!(100), json!(100), json!(0.0), "optimised"),
    ];
    for (score, target, gap, band) in cases {
        let c = add_category(
            &app,
            &token,
            &plan,
            &json!({"name": "Índice", "source": "mspi", "score": score, "target_score": target}),
        )
        .await;
        assert_eq!(c["gap"], gap, "{score}");
        assert_eq!(c["maturity_band"], band, "{score}");
    }
    let unscored =
        add_category(&app, &token, &plan, &json!({"name": "Sin medir", "source": "mspi", "target_score": 60})).await;
    assert!(unscored["score"].is_null() && unscored["gap"].is_null() && unscored["maturity_band"].is_null());
    let rounded =
        add_category(&app, &token, &plan, &json!({"name": "Redondeo", "source": "audit", "score": 33.333})).await;
    assert_eq!(rounded["score"], 33.33);
    assert!(rounded["gap"].is_null());
}

#[tokio::test]
async fn one_maturity_scale_the_category_and_the_report_agree_and_only_mspi_scores_get_a_level() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("ESCALA")).await;
    // The MSPI instrument's levels: the highest threshold (0, 20, 40, 60, 80, 100) reached.
    let mspi = [
        (0.0, "nonexistent"),
        (10.0, "nonexistent"),
        (19.99, "nonexistent"),
        (20.0, "initial"),
        (39.99, "initial"),
        (40.0, "repeatable"),
        (50.0, "repeatable"),
        (60.0, "effective"),
        (75.0, "effective"),
        (80.0, "managed"),
        (99.99, "managed"),
        (100.0, "optimised"),
    ];
    let mut expected = Vec::new();
    for (score, band) in mspi {
        let c = add_category(&app, &token, &plan, &json!({"name": "MSPI", "source": "mspi", "score": score})).await;
        assert_eq!(c["maturity_band"], band, "{score}");
        expected.push((c["id"].clone(), json!(band)));
    }
    // A FURAG index, an audit grade or another source is not on the MSPI scale: no level.
    for source in ["furag", "audit", "other"] {
        let c = add_category(&app, &token, &plan, &json!({"name": "Índice", "source": source, "score": 50})).await;
        assert_eq!(c["maturity_band"], Value::Null, "{source}");
        expected.push((c["id"].clone(), Value::Null));
    }
    let id = plan["id"].as_str().unwrap();
    let report = json_of(app.get(&format!("/api/v1/plans/{id}/report"), &token).await, 200).await;
    let listed = json_of(app.get(&format!("/api/v1/plans/{id}/categories?limit=500"), &token).await, 200).await;
    let from_report: Vec<(Value, Value)> = report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].clone(), c["maturity_band"].clone()))
        .collect();
    let from_list: Vec<(Value, Value)> =
        listed["items"].as_array().unwrap().iter().map(|c| (c["id"].clone(), c["maturity_band"].clone())).collect();
    assert_eq!(from_report, expected);
    assert_eq!(from_list, expected);
    // Changing the source to MSPI gives the level; back to FURAG takes it away.
    let furag = add_category(&app, &token, &plan, &json!({"name": "Cambio", "source": "furag", "score": 75})).await;
    let patched = json_of(app.patch(&path_of(&furag), &token, "\"v1\"", &json!({"source": "mspi"})).await, 200).await;
    assert_eq!(patched["maturity_band"], "effective");
}

#[tokio::test]
async fn scores_outside_0_to_100_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    let body = json!({"name": " ", "source": "furag", "score": 100.5, "previous_score": -1, "target_score": 101,
                      "improvement_alternatives": ["Bien", ""], "position": 0});
    let problem = assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
    let fields: BTreeSet<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        BTreeSet::from(["name", "score", "previous_score", "target_score", "improvement_alternatives[1]", "position"])
    );
    let category =
        add_category(&app, &token, &plan, &json!({"name": "Transparencia", "source": "furag", "score": 40})).await;
    let problem = assert_problem(
        app.patch(&path_of(&category), &token, "\"v1\"", &json!({"score": 140})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "score");
    // Just outside the range is outside, although it rounds to 0 or 100 (found by schemathesis).
    for (field, value) in [("score", -1.0026271200955278e-110), ("target_score", 100.000_000_1)] {
        let res = app.patch(&path_of(&category), &token, "\"v1\"", &json!({ field: value })).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let listed = json_of(app.get(&path, &token).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn control_references_take_annex_a_ids_and_reject_unknown_controls() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let refs = json!([
        {"framework": "iso27001_2022", "code": "A.5.15", "label": "Control de acceso"},
        {"framework": "iso27001_2022", "code": "8.34"},
        {"framework": "mspi_domain", "code": "Gestión de activos"},
    ]);
    let category =
        add_category(&app, &token, &plan, &json!({"name": "Seguridad", "source": "mspi", "control_refs": refs})).await;
    assert_eq!(
        category["control_refs"],
        json!([
            {"framework": "iso27001_2022", "code": "5.15", "label": "Control de acceso"},
            {"framework": "iso27001_2022", "code": "8.34"},
            {"framework": "mspi_domain", "code": "Gestión de activos"},
        ])
    );
    let path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    for code in ["5.38", "9.1", "A.12.6.1", "cinco"] {
        let body = json!({"name": "X", "source": "mspi", "control_refs": [{"framework": "mspi_domain", "code": "ok"}, {"framework": "iso27001_2022", "code": code}]});
        let problem = assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "control_refs[1].code", "{code}");
        assert_eq!(problem["errors"][0]["code"], "unknown_control");
    }
    let body = json!({"name": "X", "source": "mspi", "control_refs": [{"framework": "nist", "code": "PR.AC"}]});
    assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn categories_are_listed_in_plan_order_across_pages() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let mut expected = Vec::new();
    for name in ["Uno", "Dos", "Tres", "Cuatro"] {
        expected.push(add_category(&app, &token, &plan, &json!({"name": name, "source": "furag"})).await);
    }
    // An explicit position places a category among the others.
    let zero = add_category(&app, &token, &plan, &json!({"name": "Cero", "source": "mspi", "position": 1})).await;
    assert_eq!(zero["position"], 1);
    assert_eq!(expected[0]["position"], 1);
    assert_eq!(expected[3]["position"], 4);
    let base = format!("/api/v1/plans/{}/categories?limit=2", plan["id"].as_str().unwrap());
    let mut names = Vec::new();
    let mut path = base.clone();
    loop {
        let page = json_of(app.get(&path, &app.token_for(Role::Viewer).await).await, 200).await;
        names.extend(page["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{base}&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, ["Uno", "Cero", "Dos", "Tres", "Cuatro"]);
    let only_mspi = json_of(app.get(&format!("{base}&source=mspi"), &token).await, 200).await;
    assert_eq!(only_mspi["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn category_changes_are_merge_patches_checked_against_if_match() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let category = add_category(
        &app,
        &token,
        &plan,
        &json!({"name": "Transparencia", "source": "furag", "indicator_kind": "process", "score": 40, "target_score": 80,
                "effectiveness_criterion": "Porcentaje de Cumplimiento de Gobierno Digital"}),
    )
    .await;
    let path = path_of(&category);
    let res = app
        .request(Method::PATCH, &path, Some(&token))
        .header("Content-Type", "application/merge-patch+json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(res, 428, "precondition_required").await;
    let res = app.patch(&path, &token, "\"v1\"", &json!({"score": null, "improvement_alternatives": ["Portal"]})).await;
    assert_eq!(res.headers()["etag"], "\"v2\"");
    let updated = json_of(res, 200).await;
    assert!(updated["score"].is_null() && updated["gap"].is_null() && updated["maturity_band"].is_null());
    assert_eq!(updated["improvement_alternatives"], json!(["Portal"]));
    assert_eq!(updated["effectiveness_criterion"], "Porcentaje de Cumplimiento de Gobierno Digital");
    assert_eq!(updated["indicator_kind"], "process");
    assert_problem(app.patch(&path, &token, "\"v1\"", &json!({"score": 50})).await, 412, "precondition_failed").await;
    assert_eq!(json_of(app.get(&path, &token).await, 200).await, updated);
    assert_problem(delete(&app, &path, &token, None).await, 428, "precondition_required").await;
    assert_problem(delete(&app, &path, &token, Some("\"v1\"")).await, 412, "precondition_failed").await;
    assert_eq!(delete(&app, &path, &token, Some("\"v2\"")).await.status(), 204);
    assert_problem(app.get(&path, &token).await, 404, "not_found").await;
    assert_eq!(
        crate::plans::audit_operations(&app, "category", category["id"].as_str().unwrap()).await,
        ["create", "update", "delete"]
    );
}

#[tokio::test]
async fn adding_a_category_with_an_idempotency_key_is_safe_to_retry() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    let send = |name: &str| {
        app.request(Method::POST, &path, Some(&token))
            .header("Idempotency-Key", "cat-1")
            .json(&json!({"name": name, "source": "furag"}))
            .send()
    };
    let first = json_of(send("Transparencia").await.unwrap(), 201).await;
    let again = send("Transparencia").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again, 201).await, first);
    assert_problem(send("Otra").await.unwrap(), 422, "idempotency_key_reused").await;
    assert_eq!(json_of(app.get(&path, &token).await, 200).await["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn other_organizations_categories_are_not_found() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let category = add_category(&app, &token, &plan, &json!({"name": "Transparencia", "source": "furag"})).await;
    let (_, stranger) = app.other_organization().await;
    let plan_path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    assert_problem(app.get(&plan_path, &stranger.token).await, 404, "not_found").await;
    assert_problem(
        app.post(&plan_path, &stranger.token, &json!({"name": "Intrusa", "source": "furag"})).await,
        404,
        "not_found",
    )
    .await;
    let path = path_of(&category);
    assert_problem(app.get(&path, &stranger.token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &stranger.token, "\"v1\"", &json!({"score": 1})).await, 404, "not_found").await;
    assert_problem(delete(&app, &path, &stranger.token, Some("\"v1\"")).await, 404, "not_found").await;
    assert_eq!(json_of(app.get(&plan_path, &token).await, 200).await["items"].as_array().unwrap().len(), 1);
}
