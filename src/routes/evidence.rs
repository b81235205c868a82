//! Follow-up evidence: `/actions/{id}/evidence`, `/evidence`, `/evidence/{id}` and its review.
use crate::auth::{AnyMember, AuditorOnly, Auth, EvidenceReporter};
use crate::dto::evidence::{
    CreateEvidenceRequest, EvidenceListQuery, EvidenceResponse, ReviewEvidenceRequest, UpdateEvidenceRequest,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::{ActionPath, EvidencePath};
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::transaction;
use crate::services::{evidence, files};
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Report evidence on an action
///
/// By the action's responsible user, a planner or an administrator, on actions (not
/// cancelled) of approved or running plans. The evidence starts `submitted`; add files with
/// `POST /evidence/{id}/files`.
#[utoipa::path(tag = "evidence", security(("bearer" = [])), request_body = CreateEvidenceRequest,
    params(ActionPath, IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = EvidenceResponse, headers(("Location" = String, description = "URL of the evidence"), ("ETag" = String, description = "Version"))),
        (status = 403, description = "Your roles do not allow it, or the action is not assigned to you", body = Problem),
        (status = 404, description = "No such action in your organization", body = Problem),
        (status = 409, description = "The plan is not approved or running, or the action is cancelled; `period_closed`: a closed reporting period covers the plan and the cut-off date", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/actions/{id}/evidence")]
pub async fn create_evidence(
    auth: Auth<EvidenceReporter>, state: web::Data<AppState>, id: web::Path<ActionPath>, key: IdempotencyKey,
    body: Json<CreateEvidenceRequest>,
) -> Result<HttpResponse, ApiError> {
    let (action_id, body) = (id.id, body.into_inner());
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_evidence", action_id, &body), async |txn| {
        let created = evidence::create(txn, &actor, auth.organization_id, action_id, body.clone()).await?;
        Reply::created(format!("/api/v1/evidence/{}", created.id), created.meta.version, &created)
    })
    .await
}

/// List an action's evidence
#[utoipa::path(tag = "evidence", security(("bearer" = [])),
    params(ActionPath, EvidenceListQuery, PageParams),
    responses(
        (status = 200, description = "One page", body = Page<EvidenceResponse>),
        (status = 404, description = "No such action in your organization", body = Problem),
    ))]
#[get("/actions/{id}/evidence")]
pub async fn list_action_evidence(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<ActionPath>, query: web::Query<EvidenceListQuery>,
) -> Result<HttpResponse, ApiError> {
    crate::services::actions::ensure_exists(&state.db, auth.organization_id, id.id).await?;
    let mut query = query.into_inner();
    query.action_id = Some(id.id);
    Ok(HttpResponse::Ok().json(evidence::list(&state.db, auth.organization_id, &query).await?))
}

/// List evidence
///
/// Evidence of the caller's organization, oldest first; `review_status=submitted` is the
/// auditors' review queue.
#[utoipa::path(tag = "evidence", security(("bearer" = [])), params(EvidenceListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<EvidenceResponse>),
))]
#[get("/evidence")]
pub async fn list_evidence(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<EvidenceListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(evidence::list(&state.db, auth.organization_id, &query).await?))
}

/// Get evidence
#[utoipa::path(tag = "evidence", security(("bearer" = [])), params(EvidencePath), responses(
    (status = 200, description = "The evidence with its files", body = EvidenceResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such evidence in your organization", body = Problem),
))]
#[get("/evidence/{id}")]
pub async fn get_evidence(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<EvidencePath>,
) -> Result<HttpResponse, ApiError> {
    let body = evidence::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(body.meta.version, &body))
}

/// Update evidence (merge patch)
///
/// Evidence that is not accepted may be corrected; it goes back to `submitted`. Accepted
/// evidence is immutable (409 `immutable`).
#[utoipa::path(tag = "evidence", security(("bearer" = [])), request_body(content = UpdateEvidenceRequest, content_type = "application/merge-patch+json"),
    params(EvidencePath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = EvidenceResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Your roles do not allow it, or the action is not assigned to you", body = Problem),
        (status = 404, description = "No such evidence in your organization", body = Problem),
        (status = 409, description = "Accepted evidence is immutable; `period_closed`: a closed reporting period covers its plan and cut-off date", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/evidence/{id}")]
pub async fn update_evidence(
    auth: Auth<EvidenceReporter>, state: web::Data<AppState>, id: web::Path<EvidencePath>, if_match: IfMatch,
    body: Json<UpdateEvidenceRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        evidence::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner())
            .await
    })
    .await?;
    Ok(ok_tagged(updated.meta.version, &updated))
}

/// Delete evidence
///
/// Evidence that is not accepted is deleted together with its files: the file records go in
/// the same transaction and the stored bytes right after it commits (a storage failure is
/// logged with the key, never ignored silently).
#[utoipa::path(tag = "evidence", security(("bearer" = [])),
    params(EvidencePath, IfMatch),
    responses(
        (status = 204, description = "Deleted with its files"),
        (status = 403, description = "Your roles do not allow it, or the action is not assigned to you", body = Problem),
        (status = 404, description = "No such evidence in your organization", body = Problem),
        (status = 409, description = "Accepted evidence is immutable; `period_closed`: a closed reporting period covers its plan and cut-off date", body = Problem),
    ))]
#[delete("/evidence/{id}")]
pub async fn delete_evidence(
    auth: Auth<EvidenceReporter>, state: web::Data<AppState>, id: web::Path<EvidencePath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let keys = transaction(&state.db, async |txn| {
        evidence::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    for key in keys {
        files::remove(&state.storage, &key).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Review evidence
///
/// For auditors: `accepted`, `rejected` or `needs_changes` (the last two with a note) on
/// `submitted` evidence. Nobody reviews evidence they reported or that proves an action they
/// are responsible for (403 `segregation_of_duties`). Accepted evidence counts towards the
/// action's progress and is immutable from then on. Acceptance moves the action: a planned
/// action becomes `in_progress`, and one whose accepted quantity reaches its target becomes
/// `done`, completed on the evidence's date (a new action version and audit event).
#[utoipa::path(tag = "evidence", security(("bearer" = [])), request_body = ReviewEvidenceRequest,
    params(EvidencePath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Reviewed", body = EvidenceResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Your roles do not allow it, or segregation of duties", body = Problem),
        (status = 404, description = "No such evidence in your organization", body = Problem),
        (status = 409, description = "Already accepted, or not submitted; `period_closed`: a closed reporting period covers its plan and cut-off date", body = Problem),
        (status = 422, description = "Invalid decision or note missing", body = Problem),
    ))]
#[post("/evidence/{id}/review")]
pub async fn review_evidence(
    auth: Auth<AuditorOnly>, state: web::Data<AppState>, id: web::Path<EvidencePath>, if_match: IfMatch,
    key: IdempotencyKey, body: Json<ReviewEvidenceRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let (id, body) = (id.id, body.into_inner());
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("review_evidence", id, version, &body), async |txn| {
        let reviewed = evidence::review(txn, &actor, auth.organization_id, id, version, body.clone()).await?;
        Reply::ok(reviewed.meta.version, &reviewed)
    })
    .await
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_evidence)
        .service(list_action_evidence)
        .service(list_evidence)
        .service(get_evidence)
        .service(update_evidence)
        .service(delete_evidence)
        .service(review_evidence);
}
