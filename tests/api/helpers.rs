//! Test harness: each test spawns the real application on port 0 with its own database
//! (a SQLite file, or a PostgreSQL database cloned from a migrated template when
//! `TEST_DATABASE_URL` is set) and talks to it over HTTP.
#![allow(dead_code)]

use mejora::auth::jwt::{PrincipalKind, TokenService};
use mejora::config::Config;
use mejora::entities::enums::{Role, Roles};
use mejora::entities::user;
use mejora::startup::{self, Application};
use migration::{Migrator, MigratorTrait};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, Statement};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Password of the bootstrap administrator and of every user made by `user_with`.
pub const PASSWORD: &str = "una clave de prueba larga 2026";
pub const ADMIN_EMAIL: &str = "admin@prueba.gov.co";
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub config: Config,
    pub org_id: Uuid,
    pub admin_id: Uuid,
    pub admin_token: String,
    pub backend: &'static str,
}

pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub organization_id: Uuid,
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| mejora::auth::password::hash(PASSWORD).expect("hash"))
}

/// PostgreSQL server for tests, when configured.
pub fn pg_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

pub fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    format!("{}/{}{}", &base[..host_end], name, query)
}

/// Name of the migrated template: changes whenever a migration file changes.
fn template_name() -> String {
    use sha2::{Digest, Sha256};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migration/src");
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("migration dir").flatten().map(|e| e.path()).collect();
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(std::fs::read(&f).expect("read migration"));
    }
    format!("mejora_tmpl_{}", &hex::encode(hasher.finalize())[..16])
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn pg_template(server: &str) -> String {
    TEMPLATE.get_or_init(|| build_template(server, template_name(), true)).await.clone()
}

/// Builds the migrated template `name` unless it exists. A run of another branch (other
/// migrations) may drop it meanwhile; cloning then calls this again.
async fn build_template(server: &str, name: String, drop_stale: bool) -> String {
    let admin = Database::connect(with_database(server, "postgres")).await.expect("connect to postgres");
    // One process at a time builds the template; the others wait on the advisory lock.
    admin.execute_unprepared("SELECT pg_advisory_lock(727274)").await.expect("lock");
    let exists = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await
        .expect("query")
        .is_some();
    if !exists {
        let building = format!("{name}_building");
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {building}")).await.expect("drop");
        admin.execute_unprepared(&format!("CREATE DATABASE {building}")).await.expect("create template");
        let db = Database::connect(with_database(server, &building)).await.expect("connect template");
        Migrator::up(&db, None).await.expect("migrate template");
        db.close().await.expect("close");
        admin.execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}")).await.expect("rename");
    }
    if drop_stale {
        drop_stale_databases(&admin, &name).await;
    }
    admin.execute_unprepared("SELECT pg_advisory_unlock(727274)").await.expect("unlock");
    admin.close().await.ok();
    name
}

/// Seconds since the epoch, as test database names carry it.
fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Test databases are left behind for post-mortems; each run drops those of runs more than an
/// hour old (and templates of other migrations), so repeated runs do not fill the disk.
async fn drop_stale_databases(admin: &DatabaseConnection, template: &str) {
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'mejora\\_t\\_%' OR datname LIKE 'mejora\\_tmpl\\_%'",
        ))
        .await
        .unwrap_or_default();
    let cutoff = now_secs().saturating_sub(3600);
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else { continue };
        let stale = match name.strip_prefix("mejora_t_") {
            Some(rest) => rest.split('_').next().and_then(|t| t.parse::<u64>().ok()).is_none_or(|t| t < cutoff),
            None => name != template,
        };
        if stale {
            // A database still in use refuses to be dropped; it is left for a later run.
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
        }
    }
}

/// Once per run: SQLite files and evidence directories of runs more than an hour old.
fn remove_stale_files(dir: &std::path::Path) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let hour = std::time::Duration::from_secs(3600);
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > hour);
            if old {
                let path = entry.path();
                let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            }
        }
    });
}

pub async fn fresh_database_url() -> (String, &'static str) {
    match pg_url() {
        Some(server) => {
            let template = pg_template(&server).await;
            let name = format!("mejora_t_{}_{}", now_secs(), Uuid::new_v4().simple());
            let admin = Database::connect(with_database(&server, "postgres")).await.expect("connect");
            let clone = format!("CREATE DATABASE {name} TEMPLATE {template}");
            if admin.execute_unprepared(&clone).await.is_err() {
                // Dropped by a concurrent run of other migrations (or busy): build it again.
                build_template(&server, template.clone(), false).await;
                admin.execute_unprepared(&clone).await.expect("clone template");
            }
            admin.close().await.ok();
            (with_database(&server, &name), "postgres")
        }
        None => {
            let dir = std::env::temp_dir().join("mejora-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            remove_stale_files(&dir);
            let file = dir.join(format!("{}.db", Uuid::new_v4().simple()));
            (format!("sqlite://{}?mode=rwc", file.display()), "sqlite")
        }
    }
}

pub fn test_config(database_url: &str, extra: &[(&str, &str)]) -> Config {
    // Each application gets its own evidence directory.
    let files = std::env::temp_dir().join("mejora-tests").join(format!("files-{}", Uuid::new_v4().simple()));
    let storage_url = format!("file://{}", files.display());
    let mut vars: HashMap<String, String> = [
        ("MEJORA_STORAGE_URL", storage_url.as_str()),
        ("DATABASE_URL", database_url),
        ("MEJORA_BIND", "127.0.0.1:0"),
        ("MEJORA_JWT_SECRET", JWT_SECRET),
        ("MEJORA_BOOTSTRAP_ORG", "Concejo Municipal de Prueba"),
        ("MEJORA_BOOTSTRAP_TAX_ID", "891900493-2"),
        ("MEJORA_BOOTSTRAP_EMAIL", ADMIN_EMAIL),
        ("MEJORA_BOOTSTRAP_PASSWORD", PASSWORD),
        ("MEJORA_WORKERS", "1"),
        ("MEJORA_DB_MAX_CONNECTIONS", "4"),
        ("MEJORA_CORS_ORIGINS", "https://app.example.gov.co"),
        ("MEJORA_METRICS_BIND", "off"),
        // Webhook tests run the dispatcher themselves (or turn it on).
        ("MEJORA_WEBHOOK_DISPATCH_INTERVAL", "off"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test config")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        drop(mejora::telemetry::init(mejora::config::LogFormat::Pretty));
    }
    let (url, backend) = fresh_database_url().await;
    let config = test_config(&url, extra);
    let app = Application::build(config.clone()).await.expect("build app");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let db = startup::connect(&test_config(&url, extra)).await.expect("connect");
    let admin = user::Entity::find().one(&db).await.expect("query").expect("bootstrap admin");
    let tokens = TokenService::new(&config);
    let admin_token = tokens.issue(admin.id, admin.organization_id, PrincipalKind::User).expect("token");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
        db,
        config,
        org_id: admin.organization_id,
        admin_id: admin.id,
        admin_token,
        backend,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut builder = self.client.request(method, self.url(path));
        if let Some(t) = token {
            builder = builder.bearer_auth(t);
        }
        builder
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token)).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token)).json(body).send().await.expect("request")
    }

    pub async fn patch(&self, path: &str, token: &str, etag: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .header("If-Match", etag)
            .header("Content-Type", "application/merge-patch+json")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    /// Mints a token for a principal (the token check still reads the principal from the database).
    pub fn token(&self, id: Uuid, org: Uuid) -> String {
        TokenService::new(&self.config).issue(id, org, PrincipalKind::User).expect("token")
    }

    /// A user with these roles in `org`, inserted directly, with a token.
    pub async fn user_in(&self, org: Uuid, roles: &[Role]) -> TestUser {
        let id = Uuid::now_v7();
        let email = format!("u{}@prueba.gov.co", id.simple());
        let now = chrono::Utc::now();
        let model = user::Model {
            id,
            email: email.clone(),
            display_name: format!("Usuario {roles:?}"),
            password_hash: password_hash().to_string(),
            roles: Roles(roles.to_vec()),
            platform_operator: false,
            active: true,
            unit: None,
            organization_id: org,
            created_at: now,
            updated_at: now,
            created_by: None,
            updated_by: None,
            version: 1,
        };
        user::Entity::insert(user::ActiveModel::from(model))
            .exec_without_returning(&self.db)
            .await
            .expect("insert user");
        TestUser { id, email, token: self.token(id, org), organization_id: org }
    }

    /// A user of the bootstrap organization holding `role`.
    pub async fn token_for(&self, role: Role) -> String {
        self.user_in(self.org_id, &[role]).await.token
    }

    /// A second organization with an admin, created through the API by the platform operator.
    pub async fn other_organization(&self) -> (Uuid, TestUser) {
        let tax = format!("9{:08}", rand_digits());
        let res = self
            .post("/api/v1/organizations", &self.admin_token, &json!({"name": "Otra entidad", "tax_id": tax}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.expect("json");
        let org: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
        let admin = self.user_in(org, &[Role::Admin]).await;
        (org, admin)
    }

    /// A finding of the bootstrap organization, recorded through the API by an auditor.
    pub async fn new_finding(&self, code: &str) -> Uuid {
        let auditor = self.token_for(Role::Auditor).await;
        let body = json!({"source": "internal_audit", "report_code": "OCI-2025-01", "finding_code": code,
                          "title": "Hallazgo de prueba"});
        let created = json_of(self.post("/api/v1/findings", &auditor, &body).await, 201).await;
        created["id"].as_str().expect("id").parse().expect("uuid")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request")
    }
}

fn rand_digits() -> u32 {
    (Uuid::new_v4().as_u128() % 100_000_000) as u32
}

/// Asserts the status and that the body is a problem document with `code`; returns the body.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    let actual = res.status().as_u16();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected status; body: {body}");
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().is_some_and(|t| t.ends_with(code)));
    assert!(body["title"].is_string());
    body
}

pub async fn json_of(res: Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected status; body: {body}");
    body
}
