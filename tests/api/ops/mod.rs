//! Operations: metrics, graceful shutdown, rate limits, backups, S3 and traces (issue 22).
mod backup;
mod graceful;
mod metrics;
mod rate_limits;
mod s3;
mod traces;

use crate::helpers::*;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const PDF_HEAD: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A PDF of `size` bytes whose content depends on `seed`.
pub fn pdf(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = PDF_HEAD.to_vec();
    bytes.extend((0..size.saturating_sub(PDF_HEAD.len())).map(|i| ((i % 251) as u8).wrapping_add(seed)));
    bytes
}

/// Evidence of a fresh action (plan `code`), reported by its responsible user: `(token, evidence)`.
pub async fn new_evidence(app: &TestApp, code: &str) -> (String, Value) {
    let (run, path) = crate::evidence::one_action(app, code).await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &crate::evidence::report()).await, 201).await;
    (run.planner, evidence)
}

pub async fn upload(app: &TestApp, token: &str, evidence: &Value, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = Part::bytes(bytes).file_name(name.to_string()).mime_str("application/pdf").unwrap();
    let path = format!("/api/v1/evidence/{}/files", evidence["id"].as_str().unwrap());
    app.request(Method::POST, &path, Some(token)).multipart(Form::new().part("file", part)).send().await.unwrap()
}

/// A `TestApp` for a `mejora` process started by a test (same database, same JWT secret).
pub async fn attach(base: &str, database_url: &str) -> TestApp {
    use mejora::auth::jwt::{PrincipalKind, TokenService};
    use sea_orm::EntityTrait;
    let config = test_config(database_url, &[]);
    let db = mejora::startup::connect(&config).await.unwrap();
    let admin = mejora::entities::user::Entity::find().one(&db).await.unwrap().expect("bootstrap admin");
    let admin_token = TokenService::new(&config).issue(admin.id, admin.organization_id, PrincipalKind::User).unwrap();
    TestApp {
        address: base.to_string(),
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        db,
        config,
        org_id: admin.organization_id,
        admin_id: admin.id,
        admin_token,
        backend: if database_url.starts_with("sqlite") { "sqlite" } else { "postgres" },
    }
}

/// A new, empty database (no migrations) on the test backend.
pub async fn empty_database_url() -> String {
    match pg_url() {
        Some(server) => {
            use sea_orm::ConnectionTrait;
            let name = format!(
                "mejora_t_{}_{}",
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
                uuid::Uuid::new_v4().simple()
            );
            let admin = sea_orm::Database::connect(with_database(&server, "postgres")).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await.ok();
            with_database(&server, &name)
        }
        None => {
            let file = std::env::temp_dir().join("mejora-tests").join(format!("{}.db", uuid::Uuid::new_v4().simple()));
            format!("sqlite://{}?mode=rwc", file.display())
        }
    }
}
