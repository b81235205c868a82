//! What a newcomer, a frontend developer and a script writer meet in their first hour: field
//! errors that name the field (in their language), CORS refusals that say what to configure,
//! state-change messages that read as sentences, conditional requests that say what to send,
//! patches that change nothing, and the documentation a bare URL leads to.
use crate::helpers::*;
use crate::plans::{add_category, create_plan, plan_body};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn finding(code: &str) -> Value {
    json!({"source": "internal_audit", "report_code": "OCI-2025-01", "finding_code": code, "title": "Hallazgo"})
}

async fn post_lang(app: &TestApp, path: &str, token: &str, lang: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, path, Some(token)).header("Accept-Language", lang).json(body).send().await.unwrap()
}

fn only_error(problem: &Value) -> &Value {
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    &errors[0]
}

#[tokio::test]
async fn a_well_formed_body_with_wrong_values_names_the_field_in_the_readers_language() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let path = "/api/v1/findings";

    let mut missing = finding("H-1");
    missing.as_object_mut().unwrap().remove("finding_code");
    let problem = assert_problem(post_lang(&app, path, &auditor, "en", &missing).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!(
        (e["field"].as_str(), e["code"].as_str(), e["message"].as_str()),
        (Some("finding_code"), Some("required"), Some("is required"))
    );
    let problem = assert_problem(post_lang(&app, path, &auditor, "es", &missing).await, 422, "validation_failed").await;
    assert_eq!(only_error(&problem)["message"], "es obligatorio");
    assert_eq!(problem["title"], "La solicitud tiene campos inválidos");

    let mut bad_enum = finding("H-2");
    bad_enum["severity"] = json!("alta");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "en", &bad_enum).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("severity"), Some("invalid_enum")));
    assert_eq!(e["message"], "`alta` is not allowed; use one of: critical, high, medium, low, info");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "es", &bad_enum).await, 422, "validation_failed").await;
    assert_eq!(
        only_error(&problem)["message"],
        "`alta` no está permitido; use uno de: critical, high, medium, low, info"
    );

    let mut bad_date = finding("H-3");
    bad_date["report_date"] = json!("2025-31-12");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "es", &bad_date).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("report_date"), Some("invalid_date")));
    assert_eq!(e["message"], "debe ser una fecha AAAA-MM-DD");

    let mut wrong_type = finding("H-4");
    wrong_type["fiscal_year"] = json!("dos mil");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "en", &wrong_type).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("fiscal_year"), Some("invalid_type")));

    let mut unknown = finding("H-5");
    unknown["responsable"] = json!("Ana");
    let problem = assert_problem(post_lang(&app, path, &auditor, "en", &unknown).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("responsable"), Some("unknown_field")));

    // Rules checked after parsing speak Spanish too.
    let blank = json!({"source": "internal_audit", "report_code": "OCI", "finding_code": "H-6", "title": " "});
    let problem = assert_problem(post_lang(&app, path, &auditor, "es", &blank).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["message"].as_str()), (Some("title"), Some("no puede estar vacío")));

    // Only broken syntax stays a 400.
    let res = app
        .request(Method::POST, path, Some(&auditor))
        .header("Content-Type", "application/json")
        .body(r#"{"source": "internal_audit","#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn nested_field_errors_carry_their_json_path() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &planner, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    let body = json!({"name": "Transparencia", "source": "furag",
                      "control_refs": [{"framework": "iso27001_2022", "code": "5.15"}, {"framework": "nist", "code": "1"}]});
    let problem = assert_problem(app.post(&path, &planner, &body).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("control_refs[1].framework"), Some("invalid_enum")));
    let ok = json!({"name": "Transparencia", "source": "furag"});
    add_category(&app, &planner, &plan, &ok).await;
}

#[tokio::test]
async fn a_bare_address_and_docs_without_slash_lead_to_the_documentation() {
    let app = spawn_app().await;
    for path in ["/", "/docs"] {
        let res = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 302, "{path}");
        assert_eq!(res.headers()["location"], "/docs/");
    }
    let res = app.request(Method::GET, "/docs/", None).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}
