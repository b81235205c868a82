//! The digital-security risk register: the DAFP valuation (the guide's worked example and the
//! fixture of the seed plan's risks), controls recomputing the residual risk, appetite and
//! acceptance rules, who writes and reviews, incidents, the heat map, idempotency and audit.
use crate::actions::{action_body, day};
use crate::helpers::*;
use crate::plans::{add_category, audit_operations, create_plan, delete, etag_of, plan_body};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-risks.json"));

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A risk body of the guide's worked example (management risk; media × mayor = alta).
pub fn guide_example(code: &str) -> Value {
    json!({
        "code": code, "process": "Gestión contractual", "kind": "management",
        "impact": "afectación económica por multa y sanción del ente regulador",
        "immediate_cause": "la adquisición de bienes y servicios",
        "root_cause": "el incumplimiento de los requisitos normativos",
        "annual_frequency": 100, "economic_impact": "major", "reputational_impact": "minor",
    })
}

fn preventive_manual() -> Value {
    json!({"responsible": "El profesional de contratación", "action": "verifica la lista de chequeo de requisitos antes de cada adquisición",
           "control_type": "preventive", "implementation": "manual", "annex_a_refs": ["A.5.1"]})
}

fn detective_manual() -> Value {
    json!({"responsible": "El jefe jurídico", "action": "revisa los expedientes contractuales cada mes",
           "control_type": "detective", "implementation": "manual"})
}

async fn put_appetite(app: &TestApp, token: &str, etag: &str, zone: &str) -> Value {
    let res = app
        .request(Method::PUT, "/api/v1/risk-appetite", Some(token))
        .header("If-Match", etag)
        .json(&json!({"max_zone": zone}))
        .send()
        .await
        .unwrap();
    json_of(res, 200).await
}

/// A running plan's action the tests can link risks to.
async fn an_action(app: &TestApp, planner: &str) -> String {
    let plan = create_plan(app, planner, &plan_body("R-ACC")).await;
    let path = format!("/api/v1/plans/{}/actions", id(&plan));
    id(&json_of(app.post(&path, planner, &action_body("Tratar riesgo", &day(0), &day(30), None)).await, 201).await)
}

/// The guide's worked example ("Aplicación de los controles para establecer el riesgo
/// residual", Guía v5 2020): probability media 60% and impact mayor 80% give zona alta; a
/// preventive manual control (40%) leaves 36%, a detective manual one (30%) 25.2% (baja);
/// impact stays 80%; residual zone alta. Controls added, changed and removed later recompute
/// the residual risk and the risk's version in the same transaction.
#[tokio::test]
async fn the_guide_worked_example_and_controls_recompute_the_residual_risk() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let action = an_action(&app, &planner).await;
    let mut body = guide_example("RG-01");
    body["action_ids"] = json!([action]);
    body["controls"] = json!([preventive_manual(), detective_manual()]);
    let risk = json_of(app.post("/api/v1/risks", &planner, &body).await, 201).await;
    assert_eq!(
        risk["inherent"],
        json!({"probability": "medium", "probability_pct": 60.0, "impact": "major", "impact_pct": 80.0, "zone": "high"})
    );
    assert_eq!(
        risk["residual"],
        json!({"probability": "low", "probability_pct": 25.2, "impact": "major", "impact_pct": 80.0, "zone": "high"})
    );
    assert_eq!(risk["controls"][0]["weight_pct"], 40.0);
    assert_eq!(risk["controls"][0]["annex_a_refs"], json!(["5.1"]));
    assert_eq!(risk["controls"][1]["weight_pct"], 30.0);
    assert_eq!(
        risk["description"],
        "Posibilidad de afectación económica por multa y sanción del ente regulador debido a la adquisición de bienes y servicios por el incumplimiento de los requisitos normativos"
    );
    assert_eq!(risk["above_appetite"], true);
    assert_eq!(risk["treatment_gap"], false);
    assert_eq!(risk["version"], 1);

    // A corrective automatic control (35%) lowers the impact: 80% → 52% (moderado): baja × moderado = moderada.
    let path = format!("/api/v1/risks/{}/controls", id(&risk));
    let corrective = json!({"responsible": "El sistema de contratación", "action": "bloquea el pago del contrato observado",
                            "control_type": "corrective", "implementation": "automatic", "annex_a_refs": ["8.34"]});
    let control = json_of(app.post(&path, &planner, &corrective).await, 201).await;
    assert_eq!(control["position"], 3);
    let risk = json_of(app.get(&format!("/api/v1/risks/{}", id(&risk)), &planner).await, 200).await;
    assert_eq!(risk["residual"]["impact_pct"], 52.0);
    assert_eq!(risk["residual"]["zone"], "moderate");
    assert_eq!(risk["version"], 2);

    // Made manual (25%): 80% → 60%, still moderado.
    let control_path = format!("/api/v1/risk-controls/{}", id(&control));
    let changed =
        json_of(app.patch(&control_path, &planner, "\"v1\"", &json!({"implementation": "manual"})).await, 200).await;
    assert_eq!(changed["weight_pct"], 25.0);
    let risk = json_of(app.get(&format!("/api/v1/risks/{}", id(&risk)), &planner).await, 200).await;
    assert_eq!(risk["residual"]["impact_pct"], 60.0);
    assert_eq!(risk["version"], 3);
    assert_problem(
        app.patch(&control_path, &planner, "\"v1\"", &json!({"action": "otra"})).await,
        412,
        "precondition_failed",
    )
    .await;

    // Removing it returns to the guide's result.
    assert_eq!(delete(&app, &control_path, &planner, Some("\"v2\"")).await.status(), 204);
    let risk = json_of(app.get(&format!("/api/v1/risks/{}", id(&risk)), &planner).await, 200).await;
    assert_eq!(risk["residual"]["zone"], "high");
    assert_eq!(risk["residual"]["probability_pct"], 25.2);
    assert_eq!(risk["controls"].as_array().unwrap().len(), 2);
    assert_eq!(audit_operations(&app, "risk", &id(&risk)).await, ["create", "update", "update", "update"]);
    assert_eq!(audit_operations(&app, "risk_control", &id(&control)).await, ["create", "update", "delete"]);
}

#[tokio::test]
async fn annex_a_references_and_fields_are_validated() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let action = an_action(&app, &planner).await;
    let mut body = guide_example("RG-02");
    body["action_ids"] = json!([action]);
    body["controls"] = json!([{"responsible": "TI", "action": "revisa", "control_type": "preventive",
                               "implementation": "manual", "annex_a_refs": ["9.1", "5.38"]}]);
    let problem = assert_problem(app.post("/api/v1/risks", &planner, &body).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["controls[0].annex_a_refs[0]", "controls[0].annex_a_refs[1]"]);
    assert_eq!(problem["errors"][0]["code"], "unknown_control");

    // A digital-security risk names the property at stake.
    let mut body = guide_example("RG-02");
    body["kind"] = json!("digital_security");
    body["action_ids"] = json!([action]);
    let problem = assert_problem(app.post("/api/v1/risks", &planner, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "cia_required");

    // Codes are unique in the organization.
    let mut body = guide_example("RG-02");
    body["action_ids"] = json!([action]);
    json_of(app.post("/api/v1/risks", &planner, &body).await, 201).await;
    assert_problem(app.post("/api/v1/risks", &planner, &body).await, 409, "already_exists").await;
}

#[tokio::test]
async fn a_risk_above_appetite_is_accepted_or_treated_by_an_action() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let owner = app.user_in(app.org_id, &[Role::Responsible]).await;
    let approver = app.user_in(app.org_id, &[Role::Admin]).await;
    let action = an_action(&app, &planner).await;

    // Default appetite: low. Zona alta without treatment is refused.
    let appetite = json_of(app.get("/api/v1/risk-appetite", &planner).await, 200).await;
    assert_eq!(appetite["max_zone"], "low");
    assert_eq!(appetite["version"], 0);
    let mut body = guide_example("RG-03");
    body["owner_id"] = json!(owner.id);
    let problem = assert_problem(app.post("/api/v1/risks", &planner, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "action_ids");
    assert_eq!(problem["errors"][0]["code"], "treatment_required");

    // Accepting needs an approver other than the owner and an expiry date.
    body["treatment"] = json!("accept");
    body["accepted_by"] = json!(owner.id);
    let problem = assert_problem(app.post("/api/v1/risks", &planner, &body).await, 422, "validation_failed").await;
    let codes: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["same_as_owner", "required"]);
    body["accepted_by"] = json!(approver.id);
    body["acceptance_expires_on"] = json!(day(90));
    let accepted = json_of(app.post("/api/v1/risks", &planner, &body).await, 201).await;
    assert_eq!(accepted["acceptance_status"], "active");
    assert_eq!(accepted["accepted_on"], day(0));
    assert_eq!(accepted["treatment_gap"], false);

    // An acceptance that expired no longer covers the risk: it needs an action.
    let mut body = guide_example("RG-04");
    body["owner_id"] = json!(owner.id);
    body["treatment"] = json!("accept");
    body["accepted_by"] = json!(approver.id);
    body["accepted_on"] = json!(day(-400));
    body["acceptance_expires_on"] = json!(day(-35));
    let problem = assert_problem(app.post("/api/v1/risks", &planner, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "treatment_required");
    body["action_ids"] = json!([action]);
    let expired = json_of(app.post("/api/v1/risks", &planner, &body).await, 201).await;
    assert_eq!(expired["acceptance_status"], "expired");
    assert_eq!(expired["action_ids"], json!([action]));
    // Unlinking the only action is refused while the risk is above appetite.
    let path = format!("/api/v1/risks/{}", id(&expired));
    let problem = assert_problem(
        app.patch(&path, &planner, "\"v1\"", &json!({"action_ids": []})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "treatment_required");
    let listed = json_of(app.get(&format!("/api/v1/risks?action_id={action}"), &planner).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // Raising the appetite to high tolerates zona alta without treatment.
    let appetite = put_appetite(&app, &planner, "\"v0\"", "high").await;
    assert_eq!(appetite["version"], 1);
    let untreated = json_of(app.post("/api/v1/risks", &planner, &guide_example("RG-05")).await, 201).await;
    assert_eq!(untreated["above_appetite"], false);
    let res = app
        .request(Method::PUT, "/api/v1/risk-appetite", Some(&planner))
        .header("If-Match", "\"v0\"")
        .json(&json!({"max_zone": "low"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    put_appetite(&app, &planner, "\"v1\"", "low").await;
    let shown = json_of(app.get(&format!("/api/v1/risks/{}", id(&untreated)), &planner).await, 200).await;
    assert_eq!(shown["treatment_gap"], true);
    assert_eq!(audit_operations(&app, "risk_appetite", &app.org_id.to_string()).await, ["update", "update"]);
}

#[tokio::test]
async fn owners_write_their_risks_and_the_lines_of_defence_review_them() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let owner = app.user_in(app.org_id, &[Role::Responsible]).await;
    let other = app.user_in(app.org_id, &[Role::Responsible]).await;
    let auditor = app.user_in(app.org_id, &[Role::Auditor]).await;
    let viewer = app.token_for(Role::Viewer).await;
    let action = an_action(&app, &planner).await;
    let mut body = guide_example("RG-06");
    body["action_ids"] = json!([action]);
    assert_problem(app.post("/api/v1/risks", &owner.token, &body).await, 403, "forbidden").await;
    body["owner_id"] = json!(owner.id);
    let risk = json_of(app.post("/api/v1/risks", &owner.token, &body).await, 201).await;
    let path = format!("/api/v1/risks/{}", id(&risk));
    assert_problem(app.patch(&path, &other.token, "\"v1\"", &json!({"process": "Otro"})).await, 403, "forbidden").await;
    assert_problem(app.patch(&path, &viewer, "\"v1\"", &json!({"process": "Otro"})).await, 403, "forbidden").await;
    let risk = json_of(app.patch(&path, &owner.token, "\"v1\"", &json!({"review_interval_days": 90})).await, 200).await;
    assert_eq!(risk["next_review_on"], Value::Null);
    // The owner cannot hand the risk to someone else.
    let handed = json!({"owner_id": other.id});
    assert_problem(app.patch(&path, &owner.token, "\"v2\"", &handed).await, 403, "forbidden").await;

    // Third line: auditors. Second line: planners.
    let review = json!({"reviewed_on": day(-2), "line": "third_line", "result": "with_observations",
                        "note": "Los controles no dejan registro", "evidence_links": ["https://intranet/actas/12"]});
    assert_problem(app.post(&format!("{path}/reviews"), &planner, &review).await, 403, "forbidden").await;
    assert_problem(app.post(&format!("{path}/reviews"), &viewer, &review).await, 403, "forbidden").await;
    let recorded = json_of(app.post(&format!("{path}/reviews"), &auditor.token, &review).await, 201).await;
    assert_eq!(recorded["reviewer_id"], json!(auditor.id));
    let mut second = review.clone();
    second["line"] = json!("second_line");
    second["reviewed_on"] = json!(day(-10));
    second["evidence_links"] = json!(["ftp://x"]);
    assert_problem(app.post(&format!("{path}/reviews"), &planner, &second).await, 422, "validation_failed").await;
    second["evidence_links"] = json!([]);
    json_of(app.post(&format!("{path}/reviews"), &planner, &second).await, 201).await;
    let risk = json_of(app.get(&path, &viewer).await, 200).await;
    assert_eq!(risk["last_review_on"], day(-2));
    assert_eq!(risk["next_review_on"], day(88));
    let reviews = json_of(app.get(&format!("{path}/reviews"), &viewer).await, 200).await;
    assert_eq!(reviews.as_array().unwrap().len(), 2);
    assert_eq!(reviews[0]["id"], recorded["id"]);

    // Incidents: a finding that recorded one is linked to the risk.
    let finding = app.new_finding("H-R1").await;
    let incident = json!({"occurred_on": day(-1), "description": "Se publicó un acta con datos personales",
                          "finding_id": finding, "actual_impact": "minor"});
    assert_problem(app.post(&format!("{path}/incidents"), &other.token, &incident).await, 403, "forbidden").await;
    json_of(app.post(&format!("{path}/incidents"), &auditor.token, &incident).await, 201).await;
    let risk = json_of(app.get(&path, &viewer).await, 200).await;
    assert_eq!(risk["finding_ids"], json!([finding]));
    assert_eq!(json_of(app.get(&format!("{path}/incidents"), &viewer).await, 200).await.as_array().unwrap().len(), 1);

    // The owner deletes it with its controls, reviews and incidents.
    assert_eq!(delete(&app, &path, &owner.token, Some(&etag_of(&risk))).await.status(), 204);
    assert_problem(app.get(&format!("{path}/reviews"), &viewer).await, 404, "not_found").await;
}

#[tokio::test]
async fn creates_are_idempotent() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let action = an_action(&app, &planner).await;
    let mut body = guide_example("RG-07");
    body["action_ids"] = json!([action]);
    let send = || {
        app.request(Method::POST, "/api/v1/risks", Some(&planner))
            .header("Idempotency-Key", "riesgo-rg-07")
            .json(&body)
            .send()
    };
    let first = json_of(send().await.unwrap(), 201).await;
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again, 201).await["id"], first["id"]);
    let all = json_of(app.get("/api/v1/risks", &planner).await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
}

/// The seed plan TI.PL03 (Concejo Municipal de Cartago) with three example risks linked to its
/// categories through the actions that treat them (tests/fixtures/cartago-risks.json).
#[tokio::test]
async fn the_seed_plan_categories_link_to_example_risks() {
    let app = spawn_app().await;
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let planner = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &planner, &plan_body(fixture["plan_code"].as_str().unwrap())).await;
    let mut action_of: BTreeMap<String, String> = BTreeMap::new();
    for risk in fixture["risks"].as_array().unwrap() {
        for name in risk["categories"].as_array().unwrap() {
            let name = name.as_str().unwrap().to_string();
            if action_of.contains_key(&name) {
                continue;
            }
            let category = add_category(&app, &planner, &plan, &json!({"name": name, "source": "furag"})).await;
            let mut body = action_body(&format!("Mejorar {name}"), &day(0), &day(60), None);
            body["category_id"] = category["id"].clone();
            let path = format!("/api/v1/plans/{}/actions", id(&plan));
            action_of.insert(name, id(&json_of(app.post(&path, &planner, &body).await, 201).await));
        }
    }
    let mut asset_of: BTreeMap<String, String> = BTreeMap::new();
    for asset in fixture["assets"].as_array().unwrap() {
        let mut body = asset.clone();
        let key = body.as_object_mut().unwrap().remove("key").unwrap();
        asset_of.insert(
            key.as_str().unwrap().into(),
            id(&json_of(app.post("/api/v1/assets", &planner, &body).await, 201).await),
        );
    }
    assert_eq!(
        json_of(app.get("/api/v1/assets?critical=true", &planner).await, 200).await["items"].as_array().unwrap().len(),
        3
    );
    for case in fixture["risks"].as_array().unwrap() {
        let mut body = case["body"].clone();
        body["action_ids"] = json!(case["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| action_of[c.as_str().unwrap()].clone())
            .collect::<Vec<_>>());
        body["asset_ids"] = json!(case["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| asset_of[a.as_str().unwrap()].clone())
            .collect::<Vec<_>>());
        let risk = json_of(app.post("/api/v1/risks", &planner, &body).await, 201).await;
        let e = &case["expected"];
        let code = &body["code"];
        assert_eq!(risk["inherent"]["probability"], e["inherent_probability"], "{code}");
        assert_eq!(risk["inherent"]["impact"], e["inherent_impact"], "{code}");
        assert_eq!(risk["inherent"]["zone"], e["inherent_zone"], "{code}");
        assert_eq!(risk["residual"]["probability_pct"], e["residual_probability_pct"], "{code}");
        assert_eq!(risk["residual"]["impact_pct"], e["residual_impact_pct"], "{code}");
        assert_eq!(risk["residual"]["probability"], e["residual_probability"], "{code}");
        assert_eq!(risk["residual"]["impact"], e["residual_impact"], "{code}");
        assert_eq!(risk["residual"]["zone"], e["residual_zone"], "{code}");
        assert_eq!(risk["treatment_gap"], false, "{code}");
    }

    // The heat map counts them per cell, inherent and residual, with filters.
    let inherent = json_of(app.get("/api/v1/risks/heat-map", &planner).await, 200).await;
    assert_eq!(inherent["total"], 3);
    assert_eq!(inherent["cells"].as_array().unwrap().len(), 25);
    let zones: BTreeMap<String, u64> = inherent["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| (z["zone"].as_str().unwrap().to_string(), z["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        zones,
        BTreeMap::from([("extreme".into(), 1), ("high".into(), 2), ("low".into(), 0), ("moderate".into(), 0)])
    );
    let cell = |map: &Value, p: &str, i: &str| {
        map["cells"].as_array().unwrap().iter().find(|c| c["probability"] == p && c["impact"] == i).unwrap()["count"]
            .clone()
    };
    assert_eq!(cell(&inherent, "very_high", "catastrophic"), 1);
    let residual =
        json_of(app.get("/api/v1/risks/heat-map?stage=residual&process=Gestión%20TIC", &planner).await, 200).await;
    assert_eq!(residual["total"], 2);
    assert_eq!(cell(&residual, "very_low", "moderate"), 1);
    assert_eq!(cell(&residual, "low", "moderate"), 1);
    let corruption = json_of(app.get("/api/v1/risks/heat-map?kind=corruption", &planner).await, 200).await;
    assert_eq!(corruption["total"], 0);
    assert_problem(app.get("/api/v1/risks/heat-map?stage=final", &planner).await, 400, "invalid_query").await;

    // The plan report and the dashboard show the risks the plan's actions treat, inherent → residual.
    let report = json_of(app.get(&format!("/api/v1/plans/{}/report", id(&plan)), &planner).await, 200).await;
    let treated: Vec<(String, String, String, usize)> = report["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("code"), s("inherent_zone"), s("residual_zone"), r["action_ids"].as_array().unwrap().len())
        })
        .collect();
    assert_eq!(
        treated,
        [
            ("RSD-01".into(), "high".into(), "moderate".into(), 2),
            ("RSD-02".into(), "high".into(), "moderate".into(), 2),
            ("RSD-03".into(), "extreme".into(), "extreme".into(), 2)
        ]
    );
    let dashboard = json_of(app.get("/api/v1/dashboard", &planner).await, 200).await;
    assert_eq!(dashboard["risks_by_plan"][0]["plan_id"], plan["id"]);
    assert_eq!(dashboard["risks_by_plan"][0]["risks"], report["risks"]);

    // Keyset pages and filters.
    let page = json_of(app.get("/api/v1/risks?limit=2", &planner).await, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = json_of(app.get(&format!("/api/v1/risks?limit=2&cursor={cursor}"), &planner).await, 200).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    let extreme = json_of(app.get("/api/v1/risks?residual_zone=extreme", &planner).await, 200).await;
    assert_eq!(extreme["items"][0]["code"], "RSD-03");
}

/// Everything of a risk the register keeps, without ids and bookkeeping.
fn content(risk: &Value) -> Value {
    let mut r = risk.clone();
    let o = r.as_object_mut().unwrap();
    for k in ["id", "created_at", "updated_at", "created_by", "updated_by", "version"] {
        o.remove(k);
    }
    for c in o["controls"].as_array_mut().unwrap() {
        let c = c.as_object_mut().unwrap();
        for k in ["id", "risk_id", "created_at", "updated_at", "created_by", "updated_by", "version"] {
            c.remove(k);
        }
    }
    r
}

fn cells(xlsx: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

async fn export(app: &TestApp, token: &str, format: &str) -> Vec<u8> {
    let res = app.get(&format!("/api/v1/risks/export?format={format}"), token).await;
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

async fn import(app: &TestApp, token: &str, query: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/risks/imports{query}"), Some(token))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Export → delete → import → export gives the same risks (owners, approvers, assets, links,
/// controls in order, treatment) and the same workbook cells.
#[tokio::test]
async fn the_risk_map_round_trips_through_xlsx_without_loss() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let owner = app.user_in(app.org_id, &[Role::Responsible]).await;
    let approver = app.user_in(app.org_id, &[Role::Admin]).await;
    let action = an_action(&app, &planner).await;
    let finding = app.new_finding("H-RT").await;
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let asset = fixture["assets"][1].clone();
    let mut asset_body = asset.clone();
    asset_body.as_object_mut().unwrap().remove("key");
    let asset = json_of(app.post("/api/v1/assets", &planner, &asset_body).await, 201).await;
    for (i, case) in fixture["risks"].as_array().unwrap().iter().enumerate() {
        let mut body = case["body"].clone();
        body["action_ids"] = json!([action]);
        body["owner_id"] = json!(owner.id);
        body["asset_ids"] = json!([asset["id"]]);
        if i == 0 {
            body["finding_ids"] = json!([finding]);
            body["treatment"] = json!("accept");
            body["accepted_by"] = json!(approver.id);
            body["accepted_on"] = json!(day(-3));
            body["acceptance_expires_on"] = json!(day(200));
            body["review_interval_days"] = json!(90);
            body["threats"] = json!(["Divulgación, con coma; y punto y coma", "=FÓRMULA()"]);
        }
        json_of(app.post("/api/v1/risks", &planner, &body).await, 201).await;
    }
    let mut without = guide_example("RG-SIN");
    without["action_ids"] = json!([action]);
    json_of(app.post("/api/v1/risks", &planner, &without).await, 201).await;
    let before: Vec<Value> = json_of(app.get("/api/v1/risks", &planner).await, 200).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(content)
        .collect();
    let first = export(&app, &planner, "xlsx").await;
    assert_eq!(cells(&first)[4][0], "CÓDIGO");

    // A dry run checks and writes nothing; the codes are taken while the risks exist.
    let res = import(&app, &planner, "?mode=partial&dry_run=true", XLSX, first.clone()).await;
    let dry = json_of(res, 200).await;
    assert_eq!(dry["risks"], 0);
    assert_eq!(dry["errors"].as_array().unwrap().len(), 4);
    assert_eq!(dry["errors"][0]["code"], "taken");
    let problem = assert_problem(import(&app, &planner, "", XLSX, first.clone()).await, 422, "import_rejected").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4);

    for risk in json_of(app.get("/api/v1/risks", &planner).await, 200).await["items"].as_array().unwrap() {
        let path = format!("/api/v1/risks/{}", id(risk));
        assert_eq!(delete(&app, &path, &planner, Some(&etag_of(risk))).await.status(), 204);
    }
    let res = import(&app, &planner, "?dry_run=true", XLSX, first.clone()).await;
    assert_eq!(json_of(res, 200).await["risks"], 4);
    assert!(json_of(app.get("/api/v1/risks", &planner).await, 200).await["items"].as_array().unwrap().is_empty());
    let done = json_of(import(&app, &planner, "", XLSX, first.clone()).await, 201).await;
    assert_eq!(done["risks"], 4);
    assert_eq!(done["controls"], 8);
    assert_eq!(done["rows"], 9);
    let after: Vec<Value> = json_of(app.get("/api/v1/risks", &planner).await, 200).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(content)
        .collect();
    assert_eq!(after, before);
    assert_eq!(cells(&export(&app, &planner, "xlsx").await), cells(&first));
}

#[tokio::test]
async fn risk_map_imports_report_row_errors_and_refuse_other_media() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let csv = "Mapa de riesgos\n\nCÓDIGO,PROCESO,TIPO DE RIESGO,IMPACTO,CAUSA INMEDIATA,CAUSA RAÍZ,FRECUENCIA ANUAL,IMPACTO ECONÓMICO,IMPACTO REPUTACIONAL,OPCIÓN DE TRATAMIENTO,RESPONSABLE DEL CONTROL,ACCIÓN DEL CONTROL,N° CONTROL,TIPO DE CONTROL,IMPLEMENTACIÓN,DOCUMENTACIÓN,FRECUENCIA DEL CONTROL,EVIDENCIA,CONTROLES ANEXO A ISO/IEC 27001:2022\n\
               R-1,Gestión TIC,Gestión,pérdida,falla,causa,3,Leve,Leve,Reducir,TI,revisa,1,Preventivo,Manual,Documentado,Continua,Con registro,5.15\n\
               R-2,Gestión TIC,Inventado,pérdida,falla,causa,tres,Leve,Leve,,,,,,,,,,\n\
               R-3,Gestión TIC,Gestión,pérdida,falla,causa,3,Leve,Leve,,TI,revisa,1,Preventivo,Manual,Documentado,Continua,Con registro,9.9\n";
    let problem =
        assert_problem(import(&app, &planner, "", "text/csv", csv.as_bytes().to_vec()).await, 422, "import_rejected")
            .await;
    let rows: Vec<(u64, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(2, "unknown_value"), (2, "not_a_number"), (3, "unknown_control")]);
    let partial =
        json_of(import(&app, &planner, "?mode=partial", "text/csv", csv.as_bytes().to_vec()).await, 201).await;
    assert_eq!(partial["risks"], 1);
    let risks = json_of(app.get("/api/v1/risks", &planner).await, 200).await;
    assert_eq!(risks["items"][0]["code"], "R-1");
    assert_eq!(risks["items"][0]["residual"]["zone"], "low");
    assert_problem(
        import(&app, &planner, "", "application/pdf", b"%PDF".to_vec()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let viewer = app.token_for(Role::Viewer).await;
    assert_problem(import(&app, &viewer, "", "text/csv", csv.as_bytes().to_vec()).await, 403, "forbidden").await;
}
