//! Scored categories of a plan: `/plans/{id}/categories` and `/categories/{id}`.
use crate::auth::{AnyMember, Auth, PlanWriter};
use crate::dto::categories::{CategoryListQuery, CategoryResponse, CreateCategoryRequest, UpdateCategoryRequest};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::{CategoryPath, PlanPath};
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::categories;
use crate::services::transaction;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Add a category to a plan
///
/// Adds a scored line (e.g. a FURAG index with its score and improvement alternatives) to a
/// `draft` or `submitted` plan. Scores are 0–100; `gap` and `maturity_band` are computed.
#[utoipa::path(tag = "categories", security(("bearer" = [])), request_body = CreateCategoryRequest,
    params(PlanPath, IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = CategoryResponse, headers(("Location" = String, description = "URL of the category"), ("ETag" = String, description = "Version"))),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "The plan is no longer editable", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/plans/{id}/categories")]
pub async fn create_category(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PlanPath>, key: IdempotencyKey,
    body: Json<CreateCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let plan_id = id.id;
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_category", plan_id, &body), async |txn| {
        let created = categories::create(txn, &actor, auth.organization_id, plan_id, body.clone()).await?;
        Reply::created(format!("/api/v1/categories/{}", created.id), created.version, &CategoryResponse::from(created))
    })
    .await
}

/// List a plan's categories
///
/// In plan order (`position`, then creation).
#[utoipa::path(tag = "categories", security(("bearer" = [])),
    params(PlanPath, CategoryListQuery, PageParams),
    responses(
        (status = 200, description = "One page", body = Page<CategoryResponse>),
        (status = 404, description = "No such plan in your organization", body = Problem),
    ))]
#[get("/plans/{id}/categories")]
pub async fn list_categories(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PlanPath>, query: web::Query<CategoryListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(categories::list(&state.db, auth.organization_id, id.id, &query).await?))
}

/// Get a category
#[utoipa::path(tag = "categories", security(("bearer" = [])), params(CategoryPath), responses(
    (status = 200, description = "The category", body = CategoryResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such category in your organization", body = Problem),
))]
#[get("/categories/{id}")]
pub async fn get_category(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<CategoryPath>,
) -> Result<HttpResponse, ApiError> {
    let found = categories::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a category (merge patch)
///
/// Only while its plan is `draft` or `submitted` (409 `immutable` otherwise).
#[utoipa::path(tag = "categories", security(("bearer" = [])), request_body(content = UpdateCategoryRequest, content_type = "application/merge-patch+json"),
    params(CategoryPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = CategoryResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such category in your organization", body = Problem),
        (status = 409, description = "The plan is no longer editable", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/categories/{id}")]
pub async fn update_category(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<CategoryPath>, if_match: IfMatch,
    body: Json<UpdateCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        categories::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner())
            .await
    })
    .await?;
    Ok(ok_tagged(updated.version, &CategoryResponse::from(updated)))
}

/// Delete a category
///
/// Only while its plan is `draft` or `submitted` (409 `immutable` otherwise).
#[utoipa::path(tag = "categories", security(("bearer" = [])),
    params(CategoryPath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such category in your organization", body = Problem),
        (status = 409, description = "The plan is no longer editable", body = Problem),
    ))]
#[delete("/categories/{id}")]
pub async fn delete_category(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<CategoryPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        categories::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_category)
        .service(list_categories)
        .service(get_category)
        .service(update_category)
        .service(delete_category);
}
