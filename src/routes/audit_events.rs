//! The audit trail (administrators and auditors).
use crate::auth::{AuditReader, Auth};
use crate::dto::identity::{AuditEventResponse, AuditListQuery, VerifyQuery};
use crate::dto::pagination::{Page, PageParams};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::services::audit::{self, ChainHead, Verification};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// List audit events
///
/// Every change in the caller's organization, newest first: who (user or service account, with
/// roles), what (resource, operation, before and after), when, from where (request id, address).
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<AuditEventResponse>),
))]
#[get("/audit-events")]
pub async fn list_audit_events(
    auth: Auth<AuditReader>, state: web::Data<AppState>, query: web::Query<AuditListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit::list(&state.db, auth.organization_id, &query).await?))
}

/// Verify the audit chain
///
/// Recomputes every event's hash and link in the caller's organization, in one database
/// snapshot, and reports the first event that does not match (edited, deleted or reordered
/// behind the service's back) or newest events that are missing. The reply's `head` is a
/// receipt: keep it outside the database (minutes of the control committee, a ticket) and pass
/// it back as `anchor=<seq>:<hash>`; the check then also proves that the chain still
/// contains that event unchanged, which holds even against someone who controls the database.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(VerifyQuery), responses(
    (status = 200, description = "Verification result", body = Verification),
    (status = 400, description = "`invalid_query`: `anchor` is not `<seq>:<64 hexadecimal characters>`", body = Problem),
))]
#[get("/audit-events/verify")]
pub async fn verify_audit_chain(
    auth: Auth<AuditReader>, state: web::Data<AppState>, query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let anchor = match query.anchor.as_deref() {
        None => None,
        Some(text) => Some(parse_anchor(text).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidQuery).detail(
                "`anchor` must be `<seq>:<hash>`: the head's sequence number (from 1), a colon and its 64 hexadecimal characters",
                "`anchor` debe ser `<seq>:<hash>`: el número de secuencia de la cabeza (desde 1), dos puntos y sus 64 caracteres hexadecimales",
            )
        })?),
    };
    Ok(HttpResponse::Ok().json(audit::verify(&state.db, auth.organization_id, anchor).await?))
}

/// A receipt `<seq>:<hash>` as the chain head it names.
fn parse_anchor(text: &str) -> Option<ChainHead> {
    let (seq, hash) = text.split_once(':')?;
    let seq = seq.parse::<i64>().ok().filter(|s| *s >= 1)?;
    let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| ChainHead { seq, hash: hash.to_ascii_lowercase() })
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    // `verify` first, so `/audit-events/verify` is not read as an id.
    cfg.service(verify_audit_chain).service(list_audit_events);
}
