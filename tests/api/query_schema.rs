//! Query parameters are held to the schema the document gives them: for every operation and
//! every bounded query parameter of the generated spec, a value outside the bounds is 400
//! `invalid_query` naming the parameter (contract fuzzing found `GET /findings?fiscal_year=-858`
//! answered 200 although the documented minimum is 1900).
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::Value;

/// A value just outside the parameter's documented schema, if it has bounds.
fn out_of_bounds(schema: &Value) -> Vec<String> {
    let mut values = Vec::new();
    if let Some(min) = schema["minimum"].as_i64() {
        values.push((min - 1).to_string());
    }
    if let Some(max) = schema["maximum"].as_i64() {
        values.push((max + 1).to_string());
    }
    if let Some(max) = schema["maxLength"].as_u64() {
        values.push("x".repeat(usize::try_from(max).unwrap() + 1));
    }
    values
}

#[tokio::test]
async fn every_bounded_query_parameter_refuses_values_outside_its_documented_schema() {
    let app = spawn_app().await;
    let spec: Value = serde_json::to_value(mejora::openapi::document()).unwrap();
    let id = "0190b6f0-0000-7000-8000-000000000000";
    // Every role (a bad query is judged once the caller may call the operation at all); the
    // operator-only organization operations with the bootstrap administrator.
    let everyone = app
        .user_in(app.org_id, &[Role::Admin, Role::Planner, Role::Responsible, Role::Auditor, Role::Viewer])
        .await
        .token;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query") {
                let name = p["name"].as_str().unwrap();
                for value in out_of_bounds(&p["schema"]) {
                    let url = format!("{}?{name}={value}", path.replace("{id}", id));
                    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                    let token = if path.starts_with("/api/v1/organizations") { &app.admin_token } else { &everyone };
                    let res = app.request(method.clone(), &url, Some(token)).send().await.unwrap();
                    let body = assert_problem(res, 400, "invalid_query").await;
                    let detail = body["detail"].as_str().unwrap_or_default();
                    assert!(detail.starts_with(name), "{method} {url}: {detail}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} bounded query parameters found");
}

#[tokio::test]
async fn a_fiscal_year_outside_its_range_is_refused_in_both_languages() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/findings?fiscal_year=-858", &app.admin_token).await;
    let body = assert_problem(res, 400, "invalid_query").await;
    assert_eq!(body["detail"], "fiscal_year must be between 1900 and 2200");
    let res = app
        .request(Method::GET, "/api/v1/findings?fiscal_year=2201", Some(&app.admin_token))
        .header("Accept-Language", "es")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "invalid_query").await;
    assert_eq!(body["detail"], "fiscal_year debe ser entre 1900 y 2200");
    let res = app.get("/api/v1/findings?fiscal_year=2024", &app.admin_token).await;
    assert_eq!(res.status(), 200);
}
