//! The contract every endpoint shares: problem documents, 404/405, localisation, health,
//! request ids, CORS, and the committed OpenAPI document.
use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn health_probes_answer_and_ready_checks_the_database() {
    let app = spawn_app().await;
    let live = app.request(Method::GET, "/health/live", None).send().await.unwrap();
    assert_eq!(json_of(live, 200).await, json!({"status": "ok"}));
    let ready = app.request(Method::GET, "/health/ready", None).send().await.unwrap();
    let body = json_of(ready, 200).await;
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["database"]["status"], "ok", "{body}");
    assert_eq!(body["object_store"]["status"], "ok", "{body}");
}

#[tokio::test]
async fn readiness_answers_503_problem_naming_the_database_when_it_is_gone() {
    let app = spawn_app().await;
    // A second application whose pool points at a database that does not answer.
    let dead = "postgres://postgres@127.0.0.1:1/none".to_string();
    let config = test_config(&dead, &[("MEJORA_DB_ACQUIRE_TIMEOUT", "1")]);
    let db = sea_orm::Database::connect(
        sea_orm::ConnectOptions::new(dead)
            .connect_lazy(true)
            .acquire_timeout(std::time::Duration::from_secs(1))
            .to_owned(),
    )
    .await
    .unwrap();
    let server = mejora::startup::Application::build_with(config, db).unwrap();
    let port = server.port();
    tokio::spawn(server.run_until_stopped());
    let res = app.client.get(format!("http://127.0.0.1:{port}/health/ready")).send().await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    // The problem names the dependency that is down (the object store answers).
    let body = assert_problem(res, 503, "service_unavailable").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["errors"][0]["field"], "database", "{body}");
    assert_eq!(body["errors"][0]["code"], "unavailable", "{body}");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/v1/no-such-thing", None).send().await.unwrap();
    assert_problem(res, 404, "route_not_found").await;
    let res = app.request(Method::DELETE, "/api/v1/me", None).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET");
    assert_problem(res, 405, "method_not_allowed").await;
    let res =
        app.request(Method::PUT, "/api/v1/users/0190b6f0-0000-7000-8000-000000000000", None).send().await.unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    assert_problem(res, 405, "method_not_allowed").await;
    // A literal segment beside a parameter (`/plans/imports`, `/plans/{id}`) is not a bad id.
    let t = &app.admin_token;
    let res =
        app.request(Method::PATCH, "/api/v1/plans/imports", Some(t)).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    assert_problem(res, 405, "method_not_allowed").await;
    let res = app.request(Method::DELETE, "/api/v1/findings/imports", Some(t)).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, POST");
    assert_problem(res, 405, "method_not_allowed").await;
    let res = app
        .request(Method::PATCH, "/api/v1/plans/not-a-uuid", Some(t))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_path").await;
}

#[tokio::test]
async fn malformed_json_wrong_media_type_bad_ids_and_bad_queries_are_problems() {
    let app = spawn_app().await;
    let t = &app.admin_token;
    let res = app
        .request(Method::POST, "/api/v1/users", Some(t))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_json").await;
    let res = app
        .request(Method::POST, "/api/v1/users", Some(t))
        .header("content-type", "text/plain")
        .body("hola")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = app.get("/api/v1/users/not-a-uuid", t).await;
    assert_problem(res, 400, "invalid_path").await;
    let res = app.get("/api/v1/users?limit=abc", t).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.get("/api/v1/users?limit=0", t).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.get("/api/v1/users?limit=501", t).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.get("/api/v1/users?cursor=garbage!", t).await;
    assert_problem(res, 400, "invalid_cursor").await;
    let res = app.get("/api/v1/users?unknown=1", t).await;
    assert_problem(res, 400, "invalid_query").await;
}

#[tokio::test]
async fn unknown_fields_are_rejected() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": "a@b.gov.co", "display_name": "A", "password": "una clave muy larga 99", "roles": ["viewer"], "is_root": true}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "is_root", "{body}");
    assert_eq!(body["errors"][0]["code"], "unknown_field", "{body}");
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": "no-es-correo", "display_name": " ", "password": "corta", "roles": []}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["email", "display_name", "password", "roles"] {
        assert!(fields.contains(&f), "{f} missing in {body}");
    }
}

#[tokio::test]
async fn spanish_is_given_when_asked_for() {
    let app = spawn_app().await;
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .header("Accept-Language", "es-CO,es;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-language"], "es");
    let body = assert_problem(res, 401, "unauthenticated").await;
    assert_eq!(body["title"], "Se requiere autenticación");
    assert_eq!(body["instance"], "/api/v1/me");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_client_one_is_kept() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/health/live", None).header("X-Request-Id", "abc-123").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app.request(Method::GET, "/api/v1/me", None).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let body = assert_problem(res, 401, "unauthenticated").await;
    assert_eq!(body["request_id"], id.as_str());
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = spawn_app().await;
    let res = app
        .request(Method::OPTIONS, "/api/v1/me", None)
        .header("Origin", "https://app.example.gov.co")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example.gov.co");
    let res = app
        .request(Method::GET, "/health/live", None)
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn docs_and_spec_are_served_offline() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/docs/", None).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("swagger"));
    let res = app.request(Method::GET, "/api/v1/openapi.json", None).send().await.unwrap();
    let spec = json_of(res, 200).await;
    assert_eq!(spec["openapi"].as_str().unwrap().get(..3), Some("3.1"));
}

// `Accept-Language` is read by actix-web's typed header: the q-values decide, not the order.
#[tokio::test]
async fn the_language_with_the_highest_weight_wins() {
    let app = spawn_app().await;
    for (header, spanish) in [("en;q=0.5, es", true), ("es;q=0.2, en", false), ("*", false), ("ES", true)] {
        let res = app.request(Method::GET, "/api/v1/me", None).header("Accept-Language", header).send().await.unwrap();
        let language = res.headers().get("content-language").map(|v| v.to_str().unwrap().to_string());
        let body = assert_problem(res, 401, "unauthenticated").await;
        let title = if spanish { "Se requiere autenticación" } else { "Authentication is required" };
        assert_eq!((language.as_deref() == Some("es"), body["title"].as_str()), (spanish, Some(title)), "{header}");
    }
}

// `/enums` and the spec come from one list: each enumeration listed is a schema of the spec,
// the audit trail's among them.
#[tokio::test]
async fn every_listed_enumeration_is_a_schema_of_the_spec() {
    let app = spawn_app().await;
    let enums = json_of(app.request(Method::GET, "/api/v1/enums", None).send().await.unwrap(), 200).await;
    let spec = json_of(app.request(Method::GET, "/api/v1/openapi.json", None).send().await.unwrap(), 200).await;
    let listed = enums["enums"].as_object().unwrap();
    for name in ["AuditResource", "AuditOperation", "ActorKind"] {
        assert!(listed.contains_key(name), "{name}");
    }
    assert!(listed["AuditOperation"].as_array().unwrap().iter().any(|v| v["code"] == "login_failed"));
    for (name, values) in listed {
        let schema = &spec["components"]["schemas"][name];
        let codes: Vec<&Value> = values.as_array().unwrap().iter().map(|v| &v["code"]).collect();
        let spec_codes: Vec<&Value> = schema["enum"].as_array().unwrap_or_else(|| panic!("{name}")).iter().collect();
        assert_eq!(codes, spec_codes, "{name}");
    }
}

#[tokio::test]
async fn enums_list_every_enumeration_with_both_labels() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/v1/enums", None).send().await.unwrap();
    let body = json_of(res, 200).await;
    let roles = body["enums"]["Role"].as_array().unwrap();
    assert_eq!(roles.len(), 5);
    assert!(roles.iter().any(|r| r["code"] == "auditor" && r["es"] == "Auditor"));
    for (_, values) in body["enums"].as_object().unwrap() {
        for v in values.as_array().unwrap() {
            assert!(v["en"].as_str().is_some_and(|s| !s.is_empty()) && v["es"].as_str().is_some_and(|s| !s.is_empty()));
        }
    }
}

#[test]
fn committed_openapi_matches_the_code() {
    let generated = mejora::openapi::to_pretty_json(&mejora::openapi::document());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; regenerate it with:\n    cargo run -- openapi --output openapi/openapi.json"
    );
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

#[test]
fn every_operation_has_a_summary_and_every_error_a_problem_schema() {
    let spec: Value = serde_json::to_value(mejora::openapi::document()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let where_ = format!("{method} {path}");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{where_} has no summary");
            assert!(op["operationId"].is_string(), "{where_} has no operationId");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/problem+json"]["schema"];
                    assert_eq!(schema["$ref"], "#/components/schemas/Problem", "{where_} {status} is not a problem");
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert!(
                    p["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{where_}: parameter {} undocumented",
                    p["name"]
                );
            }
        }
    }
    // Every property of every schema is described.
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        let mut stack = vec![schema];
        while let Some(s) = stack.pop() {
            let s = resolve(&spec, s);
            for (prop, def) in s["properties"].as_object().into_iter().flatten() {
                let described = def["description"].as_str().is_some_and(|d| !d.is_empty())
                    || def["allOf"].as_array().is_some_and(|a| a.iter().any(|x| x["description"].is_string()))
                    || def["oneOf"].as_array().is_some_and(|a| a.iter().any(|x| x["description"].is_string()));
                assert!(described, "{name}.{prop} has no description");
            }
            for key in ["allOf", "oneOf", "anyOf"] {
                for sub in s[key].as_array().into_iter().flatten() {
                    if sub["$ref"].is_null() {
                        stack.push(sub);
                    }
                }
            }
        }
    }
}
