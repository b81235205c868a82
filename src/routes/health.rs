//! Liveness and readiness probes (outside `/api/v1`, no authentication).
use crate::error::{ApiError, ErrorCode};
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

/// Readiness: the database answers
///
/// Runs a trivial query; 503 while the database is unreachable.
#[utoipa::path(tag = "health", responses(
    (status = 200, description = "Ready", body = HealthResponse),
    (status = 503, description = "The database is unreachable", body = crate::error::Problem),
))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.db.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(HealthResponse { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(ErrorCode::ServiceUnavailable)
                .detail("The database is unreachable", "La base de datos no responde")
                .retry_after(5))
        }
    }
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready);
}
