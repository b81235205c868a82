//! Database errors are classified by SQLSTATE and SQLite result codes, never by message text:
//! the constraint paths answer the same against a PostgreSQL session whose messages are Spanish.
//! (The classifier's transient codes are unit-tested in `src/error.rs`.)
use crate::helpers::*;
use crate::plans::{create_plan, delete, plan_body};
use mejora::entities::enums::Role;
use mejora::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

/// The options parameter that makes every session of the pool speak Spanish.
const SPANISH: &str = "options=-c%20lc_messages%3Des_CO.UTF-8";

/// Duplicate keys and a still-referenced row: 409 with the right code.
async fn constraint_paths(app: &TestApp) {
    let user = json!({"email": "dup@cartago.gov.co", "display_name": "D",
                      "password": "una clave bastante larga 1", "roles": ["viewer"]});
    json_of(app.post("/api/v1/users", &app.admin_token, &user).await, 201).await;
    assert_problem(app.post("/api/v1/users", &app.admin_token, &user).await, 409, "already_exists").await;
    let token = app.token_for(Role::Planner).await;
    create_plan(app, &token, &plan_body("TI.PL03")).await;
    assert_problem(app.post("/api/v1/plans", &token, &plan_body("TI.PL03")).await, 409, "already_exists").await;
    let objective = json!({"source": "pei", "code": "OE-1", "title": "Uno"});
    let created = json_of(app.post("/api/v1/objectives", &token, &objective).await, 201).await;
    assert_problem(app.post("/api/v1/objectives", &token, &objective).await, 409, "already_exists").await;
    let mut linked = plan_body("OTRO");
    linked["objective_ids"] = json!([created["id"]]);
    create_plan(app, &token, &linked).await;
    let path = format!("/api/v1/objectives/{}", created["id"].as_str().unwrap());
    assert_problem(delete(app, &path, &token, Some("\"v1\"")).await, 409, "conflict").await;
}

#[tokio::test]
async fn constraint_violations_are_recognised_by_code_on_either_backend() {
    let app = spawn_app().await;
    constraint_paths(&app).await;
}

#[tokio::test]
async fn constraint_violations_are_recognised_with_spanish_server_messages() {
    let app = spawn_app().await;
    if app.backend != "postgres" {
        return;
    }
    let sep = if app.config.database_url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}{SPANISH}", app.config.database_url);
    let probe = Database::connect(url.as_str()).await;
    let Ok(probe) = probe else {
        // The server lacks the es_CO.UTF-8 locale (`localedef --no-archive -i es_CO -f UTF-8 es_CO.UTF-8`).
        eprintln!("skipped: the PostgreSQL server cannot speak Spanish (es_CO.UTF-8 locale missing)");
        return;
    };
    let err = probe.execute_unprepared("SELECT 1/0").await.unwrap_err().to_string();
    assert!(err.contains("división por cero"), "the session does not speak Spanish: {err}");
    // The same database, served by an application whose every connection gets Spanish messages.
    let mut config = app.config.clone();
    config.database_url = url;
    let spanish = Application::build(config).await.expect("build");
    let address = format!("http://127.0.0.1:{}", spanish.port());
    tokio::spawn(spanish.run_until_stopped());
    let app = TestApp { address, ..app };
    constraint_paths(&app).await;
}
