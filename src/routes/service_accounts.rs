//! Service accounts of the caller's organization (administrators).
use crate::auth::{Admin, Auth};
use crate::dto::identity::{
    CreateServiceAccountRequest, ServiceAccountResponse, ServiceAccountWithSecret, UpdateServiceAccountRequest,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::ServiceAccountPath;
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::service_accounts;
use crate::services::transaction;
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Create a service account
///
/// For an institutional system. The reply holds the client secret; it is never shown again,
/// not even to a retry with the same `Idempotency-Key` (that replay has `client_secret: null`
/// and the header `Secret-Omitted: client_secret`; rotate the secret if the first reply was lost).
#[utoipa::path(tag = "service-accounts", security(("bearer" = [])), request_body = CreateServiceAccountRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created, with its secret. A replay of the same request (same `Idempotency-Key`) answers `client_secret: null` with `Idempotent-Replayed: true` and `Secret-Omitted: client_secret`: the secret is never stored, so rotate it if the first reply was lost", body = ServiceAccountWithSecret, headers(("Location" = String, description = "URL of the account"), ("ETag" = String, description = "Version"), ("Idempotent-Replayed" = Option<String>, description = "`true` on a replay"), ("Secret-Omitted" = Option<String>, description = "On a replay, the body fields whose secret value was shown only in the first reply (`client_secret`)"))),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/service-accounts")]
pub async fn create_service_account(
    auth: Auth<Admin>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateServiceAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_service_account", &body), async |txn| {
        let (account, secret) = service_accounts::create(txn, &actor, auth.organization_id, body.clone()).await?;
        let location = format!("/api/v1/service-accounts/{}", account.id);
        let version = account.version;
        let body = ServiceAccountWithSecret { account: account.into(), client_secret: Some(secret) };
        Ok(Reply::created(location, version, &body)?.secret("client_secret"))
    })
    .await
}

/// List service accounts
#[utoipa::path(tag = "service-accounts", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, description = "One page", body = Page<ServiceAccountResponse>),
))]
#[get("/service-accounts")]
pub async fn list_service_accounts(
    auth: Auth<Admin>, state: web::Data<AppState>, page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service_accounts::list(&state.db, auth.organization_id, &page).await?))
}

/// Get a service account
#[utoipa::path(tag = "service-accounts", security(("bearer" = [])), params(ServiceAccountPath), responses(
    (status = 200, description = "The account", body = ServiceAccountResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such account in your organization", body = Problem),
))]
#[get("/service-accounts/{id}")]
pub async fn get_service_account(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<ServiceAccountPath>,
) -> Result<HttpResponse, ApiError> {
    let found = service_accounts::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a service account (merge patch)
///
/// Changes name, roles or active flag; a deactivated account's tokens stop working.
#[utoipa::path(tag = "service-accounts", security(("bearer" = [])), request_body(content = UpdateServiceAccountRequest, content_type = "application/merge-patch+json"),
    params(ServiceAccountPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = ServiceAccountResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Not an administrator (`forbidden`), or an account changing its own roles or active flag (`own_privileges_locked`)", body = Problem),
        (status = 404, description = "No such account in your organization", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/service-accounts/{id}")]
pub async fn update_service_account(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<ServiceAccountPath>, if_match: IfMatch,
    body: Json<UpdateServiceAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        service_accounts::update(
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
    state.principals.invalidate(updated.id);
    Ok(ok_tagged(updated.version, &ServiceAccountResponse::from(updated)))
}

/// Rotate a service account's secret
///
/// Issues a new client secret (shown once); the old one stops working at once.
#[utoipa::path(tag = "service-accounts", security(("bearer" = [])), params(ServiceAccountPath), responses(
    (status = 200, description = "New secret", body = ServiceAccountWithSecret),
    (status = 404, description = "No such account in your organization", body = Problem),
))]
#[post("/service-accounts/{id}/secret")]
pub async fn rotate_secret(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<ServiceAccountPath>,
) -> Result<HttpResponse, ApiError> {
    let (account, secret) = transaction(&state.db, async |txn| {
        service_accounts::rotate_secret(txn, &Actor::from(&auth.principal), auth.organization_id, id.id).await
    })
    .await?;
    Ok(ok_tagged(account.version, &ServiceAccountWithSecret { account: account.into(), client_secret: Some(secret) }))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_service_account)
        .service(list_service_accounts)
        .service(get_service_account)
        .service(update_service_account)
        .service(rotate_secret);
}
