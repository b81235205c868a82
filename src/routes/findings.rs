//! Audit findings: auditors record, edit and close them; planners link them to plans; every
//! member reads them.
use crate::auth::{AnyMember, AuditorOnly, Auth, FindingLinker};
use crate::dto::findings::{
    CreateFindingRequest, FindingListQuery, FindingResponse, PlanLinkRequest, TransitionRequest, UpdateFindingRequest,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::FindingPath;
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::findings;
use crate::services::transaction;
use crate::state::AppState;
use actix_web::{get, patch, post, put, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Record a finding
///
/// Adds an audit finding to the caller's organization. Its natural key — source, report code
/// and finding code — is unique (409 otherwise), which is what makes bulk uploads re-runnable.
#[utoipa::path(tag = "findings", security(("bearer" = [])), request_body = CreateFindingRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = FindingResponse, headers(("Location" = String, description = "URL of the finding"), ("ETag" = String, description = "Version"))),
        (status = 409, description = "A finding with the same source, report code and finding code exists", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/findings")]
pub async fn create_finding(
    auth: Auth<AuditorOnly>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateFindingRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    let fingerprint = ("create_finding", &body);
    idempotency::write(&state.db, &auth, &key, &fingerprint, async |txn| {
        let created = findings::create(txn, &actor, auth.organization_id, body.clone()).await?;
        Reply::created(format!("/api/v1/findings/{}", created.id), created.version, &FindingResponse::from(created))
    })
    .await
}

/// List findings
///
/// Findings of the caller's organization, with filters and keyset pagination.
#[utoipa::path(tag = "findings", security(("bearer" = [])), params(FindingListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<FindingResponse>),
))]
#[get("/findings")]
pub async fn list_findings(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<FindingListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(findings::list(&state.reads, auth.organization_id, &query).await?))
}

/// Get a finding
#[utoipa::path(tag = "findings", security(("bearer" = [])), params(FindingPath), responses(
    (status = 200, description = "The finding", body = FindingResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such finding in your organization", body = Problem),
))]
#[get("/findings/{id}")]
pub async fn get_finding(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<FindingPath>,
) -> Result<HttpResponse, ApiError> {
    let found = findings::get(&state.reads, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a finding (merge patch)
///
/// Changes the finding's fields. The status changes through `POST /findings/{id}/transitions`
/// and the plan through `PUT /findings/{id}/plan`.
#[utoipa::path(tag = "findings", security(("bearer" = [])), request_body(content = UpdateFindingRequest, content_type = "application/merge-patch+json"),
    params(FindingPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = FindingResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such finding in your organization", body = Problem),
        (status = 409, description = "The new natural key is taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/findings/{id}")]
pub async fn update_finding(
    auth: Auth<AuditorOnly>, state: web::Data<AppState>, id: web::Path<FindingPath>, if_match: IfMatch,
    body: Json<UpdateFindingRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        findings::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner())
            .await
    })
    .await?;
    Ok(ok_tagged(updated.version, &FindingResponse::from(updated)))
}

/// Change a finding's status
///
/// Moves the finding along its lifecycle: `open → in_treatment → closed_compliant →
/// closed_effective`, with `reopened` and `dismissed`. Closing requires that the finding's
/// actions are done (`closed_compliant`) or rated effective (`closed_effective`). Any other
/// change answers 409 `invalid_transition`.
#[utoipa::path(tag = "findings", security(("bearer" = [])), request_body = TransitionRequest,
    params(FindingPath, IfMatch),
    responses(
        (status = 200, description = "Status changed", body = FindingResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such finding in your organization", body = Problem),
        (status = 409, description = "Transition not allowed from the current status, or actions still pending", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/findings/{id}/transitions")]
pub async fn transition_finding(
    auth: Auth<AuditorOnly>, state: web::Data<AppState>, id: web::Path<FindingPath>, if_match: IfMatch,
    body: Json<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        findings::transition(
            txn,
            &Actor::from(&auth.principal),
            auth.organization_id,
            id.id,
            version,
            body.into_inner(),
        )
        .await
    })
    .await?;
    Ok(ok_tagged(updated.version, &FindingResponse::from(updated)))
}

/// Link a finding to a plan
///
/// Sets (or, with `null`, removes) the improvement plan that treats the finding. Planners,
/// administrators and auditors may do it.
#[utoipa::path(tag = "findings", security(("bearer" = [])), request_body = PlanLinkRequest,
    params(FindingPath, IfMatch),
    responses(
        (status = 200, description = "Link set", body = FindingResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such finding in your organization", body = Problem),
        (status = 422, description = "No such plan in your organization", body = Problem),
    ))]
#[put("/findings/{id}/plan")]
pub async fn link_finding_plan(
    auth: Auth<FindingLinker>, state: web::Data<AppState>, id: web::Path<FindingPath>, if_match: IfMatch,
    body: Json<PlanLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        findings::link_plan(
            txn,
            &Actor::from(&auth.principal),
            auth.organization_id,
            id.id,
            version,
            body.into_inner().plan_id,
        )
        .await
    })
    .await?;
    Ok(ok_tagged(updated.version, &FindingResponse::from(updated)))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_finding)
        .service(list_findings)
        .service(get_finding)
        .service(update_finding)
        .service(transition_finding)
        .service(link_finding_plan);
}
