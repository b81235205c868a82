//! Organizations (tenants): the platform operator creates them, members read their own,
//! administrators edit their own.
use crate::auth::{Admin, AnyMember, Auth, PlatformOperator};
use crate::dto::identity::{CreateOrganizationRequest, OrganizationResponse, UpdateOrganizationRequest};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::OrganizationPath;
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::organizations;
use crate::services::transaction;
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Create an organization (platform operator)
///
/// Registers a public entity as a tenant, optionally with its first administrator (`admin`).
#[utoipa::path(tag = "organizations", security(("bearer" = [])), request_body = CreateOrganizationRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = OrganizationResponse, headers(("Location" = String, description = "URL of the organization"), ("ETag" = String, description = "Version"))),
        (status = 409, description = "NIT or admin e-mail already registered", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/organizations")]
pub async fn create_organization(
    auth: Auth<PlatformOperator>, state: web::Data<AppState>, key: IdempotencyKey,
    body: Json<CreateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    let fingerprint = (
        "create_organization",
        &body.name,
        &body.tax_id,
        &body.order,
        &body.sector,
        body.admin.as_ref().map(|a| &a.email),
    );
    idempotency::write(&state.db, &auth, &key, &fingerprint, async |txn| {
        let (org, _) = organizations::create(txn, &actor, body.clone()).await?;
        Reply::created(format!("/api/v1/organizations/{}", org.id), org.version, &OrganizationResponse::from(org))
    })
    .await
}

/// List organizations
///
/// The caller's own organization; every organization for the platform operator.
#[utoipa::path(tag = "organizations", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, description = "One page", body = Page<OrganizationResponse>),
))]
#[get("/organizations")]
pub async fn list_organizations(
    auth: Auth<AnyMember>, state: web::Data<AppState>, page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(organizations::list(&state.db, auth.organization_id, auth.platform_operator, &page).await?))
}

/// Get an organization
#[utoipa::path(tag = "organizations", security(("bearer" = [])), params(OrganizationPath), responses(
    (status = 200, description = "The organization", body = OrganizationResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "Not found or not yours", body = Problem),
))]
#[get("/organizations/{id}")]
pub async fn get_organization(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<OrganizationPath>,
) -> Result<HttpResponse, ApiError> {
    let org = organizations::get(&state.db, auth.organization_id, auth.platform_operator, id.id).await?;
    Ok(ok_tagged(org.version, &OrganizationResponse::from(org)))
}

/// Update your organization (merge patch)
#[utoipa::path(tag = "organizations", security(("bearer" = [])), request_body(content = UpdateOrganizationRequest, content_type = "application/merge-patch+json"),
    params(OrganizationPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = OrganizationResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "Not found or not yours", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/organizations/{id}")]
pub async fn update_organization(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<OrganizationPath>, if_match: IfMatch,
    body: Json<UpdateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    // Administrators edit their own organization only, even when they are platform operators.
    let current = organizations::get(&state.db, auth.organization_id, false, id.id).await?;
    let updated = transaction(&state.db, async |txn| {
        organizations::update(txn, &Actor::from(&auth.principal), current, version, body.into_inner()).await
    })
    .await?;
    Ok(ok_tagged(updated.version, &OrganizationResponse::from(updated)))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_organization).service(list_organizations).service(get_organization).service(update_organization);
}
