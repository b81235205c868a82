//! Liveness and readiness probes (outside `/api/v1`, no authentication).
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Probe result.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers
///
/// Does not touch the database; use it to restart a hung process.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = HealthResponse)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// State of one dependency.
#[derive(Debug, Serialize, ToSchema)]
pub struct DependencyCheck {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// How long the check took, in milliseconds.
    pub latency_ms: u64,
    /// Why it is unavailable (absent when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Readiness of the service and of each dependency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessResponse {
    /// `ok` (a dependency that is not answers 503 instead).
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The database (`DATABASE_URL`).
    pub database: DependencyCheck,
    /// The evidence object store (`MEJORA_STORAGE_URL`).
    pub object_store: DependencyCheck,
}

async fn timed<F: std::future::Future<Output = Result<(), String>>>(check: F) -> DependencyCheck {
    let started = std::time::Instant::now();
    let outcome = check.await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(()) => DependencyCheck { status: "ok", latency_ms, error: None },
        Err(error) => DependencyCheck { status: "unavailable", latency_ms, error: Some(error) },
    }
}

/// Readiness: the database and the object store answer
///
/// Checks each dependency (a trivial query; a lookup in the object store) and reports each in
/// the body. While one is unreachable: 503 problem whose `errors` name each unavailable
/// dependency (`field` = `database` or `object_store`, `code` = `unavailable`).
#[utoipa::path(tag = "health", responses(
    (status = 200, description = "Ready: every dependency answers", body = ReadinessResponse),
    (status = 503, description = "A dependency is unreachable; `errors` names it", body = crate::error::Problem),
))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = async { state.db.ping().await.map_err(|e| e.to_string()) };
    let (database, object_store) = futures_util::join!(timed(db), timed(state.storage.check()));
    let down: Vec<FieldError> = [("database", &database), ("object_store", &object_store)]
        .into_iter()
        .filter_map(|(name, check)| {
            check.error.as_ref().map(|e| {
                FieldError::new(name, "unavailable", format!("{name} is unreachable: {e}"))
                    .with_spanish(format!("{name} no responde: {e}"))
            })
        })
        .collect();
    if down.is_empty() {
        return Ok(HttpResponse::Ok().json(ReadinessResponse { status: "ok", database, object_store }));
    }
    tracing::warn!(database = ?database.error, object_store = ?object_store.error, "readiness check failed");
    let names: Vec<&str> = down.iter().map(|f| f.field.as_str()).collect();
    let error = ApiError::new(ErrorCode::ServiceUnavailable)
        .detail(format!("Unreachable: {}", names.join(", ")), format!("No responde: {}", names.join(", ")))
        .retry_after(5);
    Err(ApiError { errors: down, ..error })
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready);
}
