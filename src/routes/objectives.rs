//! PEI/PETI strategic objectives that plans and actions serve.
use crate::auth::{AnyMember, Auth, PlanWriter};
use crate::dto::objectives::{CreateObjectiveRequest, ObjectiveListQuery, ObjectiveResponse, UpdateObjectiveRequest};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::ObjectivePath;
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::objectives;
use crate::services::transaction;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Create a strategic objective
///
/// Records a PEI (institutional) or PETI (IT) strategic objective so plans can say which
/// objectives they serve. `code` is unique per source within the organization.
#[utoipa::path(tag = "objectives", security(("bearer" = [])), request_body = CreateObjectiveRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = ObjectiveResponse, headers(("Location" = String, description = "URL of the objective"), ("ETag" = String, description = "Version"))),
        (status = 409, description = "Code already used for this source", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/objectives")]
pub async fn create_objective(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateObjectiveRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_objective", &body), async |txn| {
        let created = objectives::create(txn, &actor, auth.organization_id, body.clone()).await?;
        Reply::created(format!("/api/v1/objectives/{}", created.id), created.version, &ObjectiveResponse::from(created))
    })
    .await
}

/// List strategic objectives
///
/// Objectives of the caller's organization, oldest first.
#[utoipa::path(tag = "objectives", security(("bearer" = [])), params(ObjectiveListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<ObjectiveResponse>),
))]
#[get("/objectives")]
pub async fn list_objectives(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<ObjectiveListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(objectives::list(&state.db, auth.organization_id, &query).await?))
}

/// Get a strategic objective
#[utoipa::path(tag = "objectives", security(("bearer" = [])), params(ObjectivePath), responses(
    (status = 200, description = "The objective", body = ObjectiveResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such objective in your organization", body = Problem),
))]
#[get("/objectives/{id}")]
pub async fn get_objective(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<ObjectivePath>,
) -> Result<HttpResponse, ApiError> {
    let found = objectives::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a strategic objective (merge patch)
#[utoipa::path(tag = "objectives", security(("bearer" = [])), request_body(content = UpdateObjectiveRequest, content_type = "application/merge-patch+json"),
    params(ObjectivePath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = ObjectiveResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such objective in your organization", body = Problem),
        (status = 409, description = "Code already used for this source", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/objectives/{id}")]
pub async fn update_objective(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<ObjectivePath>, if_match: IfMatch,
    body: Json<UpdateObjectiveRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        objectives::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner())
            .await
    })
    .await?;
    Ok(ok_tagged(updated.version, &ObjectiveResponse::from(updated)))
}

/// Delete a strategic objective
///
/// Only objectives no plan links to can be deleted.
#[utoipa::path(tag = "objectives", security(("bearer" = [])),
    params(ObjectivePath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such objective in your organization", body = Problem),
        (status = 409, description = "Plans still link to it", body = Problem),
    ))]
#[delete("/objectives/{id}")]
pub async fn delete_objective(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<ObjectivePath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        objectives::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_objective)
        .service(list_objectives)
        .service(get_objective)
        .service(update_objective)
        .service(delete_objective);
}
