//! Improvement plans: create, read, list, merge patch, delete drafts. Lifecycle transitions
//! and new versions are in `plan_lifecycle`.
use crate::auth::{AnyMember, Auth, PlanWriter};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::PlanPath;
use crate::dto::plans::{CreatePlanRequest, PlanListQuery, PlanResponse, UpdatePlanRequest};
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::plans;
use crate::services::transaction;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Create a plan
///
/// Creates an improvement plan as a `draft`. `code` and `version` (default 1) identify it
/// within the organization. Objectives are linked with `objective_ids`.
#[utoipa::path(tag = "plans", security(("bearer" = [])), request_body = CreatePlanRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = PlanResponse, headers(("Location" = String, description = "URL of the plan"), ("ETag" = String, description = "Version"))),
        (status = 409, description = "A plan with this code and version exists", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/plans")]
pub async fn create_plan(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreatePlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_plan", &body), async |txn| {
        let created = plans::create(txn, &actor, auth.organization_id, body.clone()).await?;
        Reply::created(format!("/api/v1/plans/{}", created.id), created.row_version, &created)
    })
    .await
}

/// List plans
///
/// Plans of the caller's organization with filters. Keyset pagination: follow `next_cursor`
/// with the same `sort`; rows added meanwhile never make a page repeat or skip a plan.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(PlanListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<PlanResponse>),
))]
#[get("/plans")]
pub async fn list_plans(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<PlanListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::list(&state.db, auth.organization_id, &query).await?))
}

/// Get a plan
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(PlanPath), responses(
    (status = 200, description = "The plan", body = PlanResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such plan in your organization", body = Problem),
))]
#[get("/plans/{id}")]
pub async fn get_plan(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PlanPath>,
) -> Result<HttpResponse, ApiError> {
    let body = plans::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(body.row_version, &body))
}

/// Update a plan (merge patch)
///
/// Changes a `draft` or `submitted` plan; other states answer 409 `immutable` (start a new
/// version instead). `status` changes only through the transition operations.
#[utoipa::path(tag = "plans", security(("bearer" = [])), request_body(content = UpdatePlanRequest, content_type = "application/merge-patch+json"),
    params(PlanPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = PlanResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "The plan is no longer editable", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/plans/{id}")]
pub async fn update_plan(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PlanPath>, if_match: IfMatch,
    body: Json<UpdatePlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        plans::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner()).await
    })
    .await?;
    Ok(ok_tagged(updated.row_version, &updated))
}

/// Delete a draft plan
///
/// Deletes a `draft` plan with its categories and objective links. Plans past draft are
/// cancelled instead (`POST /plans/{id}/cancel`).
#[utoipa::path(tag = "plans", security(("bearer" = [])),
    params(PlanPath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "The plan is not a draft", body = Problem),
    ))]
#[delete("/plans/{id}")]
pub async fn delete_plan(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PlanPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        plans::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_plan).service(list_plans).service(get_plan).service(update_plan).service(delete_plan);
}
