//! Building and running the HTTP server: database, migrations, first-start bootstrap, routes,
//! middleware, documentation. `Application::build` binds its own listener so tests can start
//! the real service on port 0.
use crate::auth::jwt::TokenService;
use crate::auth::{Authenticator, PrincipalCache};
use crate::config::Config;
use crate::http::query_schema::QueryRules;
use crate::http::{self, RouteTable};
use crate::openapi;
use crate::routes;
use crate::services::background::{self, Runners};
use crate::services::bootstrap;
use crate::services::storage::Storage;
use crate::state::AppState;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::web::Bytes;
use actix_web::{web, App, HttpResponse, HttpServer};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

/// Opens the connection pool. SQLite gets a single connection (one writer at a time).
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = config.database_url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or("");
        if let Some(parent) = std::path::Path::new(file).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
    }
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(if config.is_sqlite() { 1 } else { config.db_max_connections })
        .min_connections(if config.is_sqlite() { 1 } else { 2 })
        .acquire_timeout(config.db_acquire_timeout)
        .sqlx_logging(false)
        // Write-ahead log: readers (the read pool, `read_pool`) neither block the writer nor
        // wait for it. `synchronous` stays FULL: a commit is on disk when it returns.
        .map_sqlx_sqlite_opts(|o| o.journal_mode(SqliteJournalMode::Wal));
    Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open DATABASE_URL ({}): {e}", redact(&config.database_url)))
}

/// Read connections of an SQLite database beside its single writer.
const SQLITE_READERS: u32 = 4;

/// The pool for reads outside transactions. PostgreSQL: the same pool. SQLite: read-only
/// connections to the same file (in WAL mode, see [`connect`]), opened on first use, so lists
/// and reports do not queue behind a write transaction such as a bulk import on the single
/// writer connection. An in-memory SQLite database is private to its connection: it reads
/// through the writer.
pub fn read_pool(config: &Config, db: &DatabaseConnection) -> anyhow::Result<DatabaseConnection> {
    let url = &config.database_url;
    if !config.is_sqlite() || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(db.clone());
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| anyhow::anyhow!("cannot read DATABASE_URL ({}): {e}", redact(url)))?
        .read_only(true)
        .create_if_missing(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS.min(config.db_max_connections))
        .acquire_timeout(config.db_acquire_timeout)
        .connect_lazy_with(options);
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The URL without its password, for messages (a text that is not a URL is shown as it is).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => match parsed.set_password(Some("***")) {
            Ok(()) => parsed.to_string(),
            Err(()) => url.to_string(),
        },
        _ => url.to_string(),
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    bootstrap: Option<bootstrap::Created>,
    metrics: Option<crate::ops::metrics::MetricsServer>,
    runners: Runners,
    shutdown_timeout: std::time::Duration,
}

impl Application {
    /// Connects, migrates, starts serving on `config.bind` and then bootstraps an empty database.
    ///
    /// The server is set up before the first administrator is created: a start that cannot
    /// listen creates nothing, so the next start still creates (and prints) the password.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = connect(&config).await?;
        Migrator::up(&db, None).await?;
        let bootstrap_db = db.clone();
        let bootstrap_config = config.clone();
        let mut app = Self::build_with(config, db)?;
        app.bootstrap = bootstrap::run(&bootstrap_db, &bootstrap_config)
            .await
            .map_err(|e| anyhow::anyhow!("bootstrap failed (check MEJORA_BOOTSTRAP_*): {e}"))?;
        Ok(app)
    }

    /// Binds the server on an already migrated database.
    pub fn build_with(config: Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        let listener = bind(&config)?;
        let port = listener.local_addr()?.port();
        let metrics = match config.metrics_bind {
            Some(addr) => {
                let max = if config.is_sqlite() { 1 } else { config.db_max_connections };
                match crate::ops::metrics::serve(addr, db.clone(), max) {
                    Ok(server) => Some(server),
                    Err(e) if !config.metrics_bind_explicit => {
                        tracing::warn!("metrics are off: {e:#}; set MEJORA_METRICS_BIND to another address or to off");
                        None
                    }
                    Err(e) => return Err(e),
                }
            }
            None => None,
        };
        let shutdown_timeout = config.shutdown_timeout;
        let (server, runners) = run(listener, config, db)?;
        Ok(Self { port, server, bootstrap: None, metrics, runners, shutdown_timeout })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `/metrics`, when `MEJORA_METRICS_BIND` is not `off`.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|m| m.port)
    }

    /// What the first start created, if it did.
    pub fn bootstrap(&self) -> Option<&bootstrap::Created> {
        self.bootstrap.as_ref()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests (up to
    /// `MEJORA_SHUTDOWN_TIMEOUT`, 30 s by default); a request still running then is dropped,
    /// and with it its open transaction, which rolls back. The background runners (uploads,
    /// reminders, notifications, webhook delivery) are then stopped, with the same bound on the
    /// work in progress.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = match self.metrics {
            Some(metrics) => futures_util::future::try_join(self.server, metrics.server).await.map(|_| ()),
            None => self.server.await,
        };
        self.runners.stop(self.shutdown_timeout).await;
        served
    }
}

fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.bind).map_err(|e| anyhow::anyhow!("cannot listen on MEJORA_BIND={}: {e}", config.bind))
}

/// True for `http://localhost:PORT`, `http://127.0.0.1:PORT` and `http://[::1]:PORT` (any port):
/// a frontend's development server, allowed without configuration in development.
pub fn is_local_dev_origin(origin: &str) -> bool {
    ["http://localhost", "http://127.0.0.1", "http://[::1]"].iter().any(|host| {
        origin.strip_prefix(host).is_some_and(|rest| {
            rest.is_empty()
                || rest.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        })
    })
}

fn cors(origins: &[String], local_dev: bool) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("prefer"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("preference-applied"),
            // A browser frontend can only pace itself on the rate-limit headers it may read.
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    if local_dev {
        cors = cors.allowed_origin_fn(|origin, _| origin.to_str().is_ok_and(is_local_dev_origin));
    }
    cors
}

const SPEC_PATH: &str = "/api/v1/openapi.json";

/// The OpenAPI document, serialized.
struct SpecJson(Bytes);

async fn serve_spec(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(spec.0.clone())
}

/// `/` and `/docs` lead to the interactive documentation at `/docs/`.
async fn to_docs() -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, "/docs/")).finish()
}

fn run(listener: TcpListener, config: Config, db: DatabaseConnection) -> anyhow::Result<(Server, Runners)> {
    let tokens = TokenService::new(&config);
    let document = openapi::document();
    let table = web::Data::new(RouteTable::from_openapi(&document));
    let query_rules = web::Data::new(QueryRules::from_openapi(&document));
    // Serialized once and shared: every worker holding its own copy of the document (as the
    // Swagger UI service would) costs megabytes of idle memory per worker.
    let spec = web::Data::new(SpecJson(Bytes::from(serde_json::to_vec(&document)?)));
    drop(document);
    let storage = Storage::from_url(&config.storage_url)?;
    let runners = background::start(&db, &storage, &config)?;
    let config = Arc::new(config);
    let principals = Arc::new(PrincipalCache::default());
    // Principals are read on the read pool: on SQLite a long write (an import) on the single
    // writer connection would otherwise hold every request's authentication.
    let reads = read_pool(&config, &db)?;
    let authenticator =
        web::Data::new(Authenticator { db: reads.clone(), tokens: tokens.clone(), principals: principals.clone() });
    let reports = Arc::new(crate::services::report_cache::ReportCache::default());
    let state = web::Data::new(AppState { db, reads, config: config.clone(), tokens, principals, storage, reports });
    let limiter = web::Data::new(crate::ops::rate_limit::RateLimiter::new(config.rate_limits.clone()));
    let json_limit = config.json_limit;
    let origins = config.cors_origins.clone();
    let local_dev = config.environment == crate::config::Environment::Development;
    let mut server = HttpServer::new(move || {
        // The document is built once, by `openapi::document`, from the same route list; the
        // paths collected here are dropped.
        let app = App::new()
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(authenticator.clone())
            .app_data(limiter.clone())
            .app_data(table.clone())
            .app_data(query_rules.clone())
            .app_data(spec.clone())
            .app_data(http::json_config(json_limit))
            .app_data(http::query_config())
            .app_data(http::path_config())
            .app_data(http::form_config())
            // Registered before the `/api/v1` scope, which would otherwise claim the spec's path.
            .map(|app| {
                app.service(web::resource(SPEC_PATH).route(web::get().to(serve_spec)))
                    .service(SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::from(SPEC_PATH)))
                    .service(web::resource(["/", "/docs"]).route(web::get().to(to_docs)))
            })
            .configure(routes::configure)
            .into_app();
        app.default_service(web::to(http::fallback))
            .wrap(from_fn(crate::ops::rate_limit::check))
            .wrap(from_fn(crate::auth::check_bearer))
            .wrap(from_fn(http::query_schema::check))
            .wrap(cors(&origins, local_dev))
            .wrap(from_fn(crate::ops::metrics::record))
            .wrap(from_fn(http::request_context))
    })
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .client_request_timeout(config.client_timeout)
    .listen(listener)?;
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    Ok((server.run(), runners))
}

/// Logs one line per configured dependency, without secrets (passwords, keys, tokens).
pub fn log_dependencies(config: &Config) {
    use crate::telemetry::traces;
    tracing::info!(dependency = "database", "database: {}", redact(&config.database_url));
    tracing::info!(
        dependency = "object_store",
        "object store: {}",
        crate::services::storage::describe(&config.storage_url)
    );
    match config.metrics_bind {
        Some(addr) => tracing::info!(dependency = "metrics", "metrics: Prometheus text at http://{addr}/metrics"),
        None => tracing::info!(dependency = "metrics", "metrics: off (MEJORA_METRICS_BIND=off)"),
    }
    tracing::info!(dependency = "rate_limits", "rate limits: {}", config.rate_limits.describe());
    match &config.smtp {
        Some(smtp) => tracing::info!(dependency = "smtp", "mail: {}", crate::services::mail::describe(smtp)),
        None => tracing::info!(dependency = "smtp", "mail: off (MEJORA_SMTP_URL is not set)"),
    }
    match traces::endpoint() {
        Some(endpoint) if traces::enabled() => {
            tracing::info!(dependency = "traces", "traces: OTLP http/protobuf to {}", redact(&endpoint))
        }
        Some(_) => tracing::warn!(dependency = "traces", "traces: off (the OTLP exporter could not be set up)"),
        None => tracing::info!(dependency = "traces", "traces: off (OTEL_EXPORTER_OTLP_ENDPOINT is not set)"),
    }
}
