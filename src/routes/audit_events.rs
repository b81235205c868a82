//! The audit trail (administrators and auditors).
use crate::auth::{AuditReader, Auth};
use crate::dto::identity::{AuditEventResponse, AuditListQuery};
use crate::error::ApiError;
use crate::http::pagination::Page;
use crate::services::audit::{self, Verification};
use crate::startup::AppState;
use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// List audit events
///
/// Every change in the caller's organization, newest first: who (user or service account, with
/// roles), what (resource, operation, before and after), when, from where (request id, address).
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditListQuery), responses(
    (status = 200, description = "One page", body = Page<AuditEventResponse>),
))]
#[get("/audit-events")]
pub async fn list_audit_events(
    auth: Auth<AuditReader>,
    state: web::Data<AppState>,
    query: web::Query<AuditListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit::list(&state.db, auth.organization_id, &query).await?))
}

/// Verify the audit chain
///
/// Recomputes every event's hash and link in the caller's organization and reports the first
/// event that does not match (edited, deleted or reordered behind the service's back).
#[utoipa::path(tag = "audit", security(("bearer" = [])), responses(
    (status = 200, description = "Verification result", body = Verification),
))]
#[get("/audit-events/verify")]
pub async fn verify_audit_chain(auth: Auth<AuditReader>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit::verify(&state.db, auth.organization_id).await?))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    // `verify` first, so `/audit-events/verify` is not read as an id.
    cfg.service(verify_audit_chain).service(list_audit_events);
}
