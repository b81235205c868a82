//! Users of the caller's organization (administrators).
use crate::auth::{Admin, Auth};
use crate::dto::identity::{CreateUserRequest, ResetPasswordRequest, UpdateUserRequest, UserListQuery, UserResponse};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::UserPath;
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::transaction;
use crate::services::users;
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Create a user
///
/// Adds a person to the caller's organization with a set of roles. The password must have at
/// least 12 characters, must not be a common password and must not contain the e-mail.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = UserResponse, headers(("Location" = String, description = "URL of the user"), ("ETag" = String, description = "Version"))),
        (status = 409, description = "E-mail already registered", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/users")]
pub async fn create_user(
    auth: Auth<Admin>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    // The password stays out of the stored request fingerprint.
    let fingerprint = ("create_user", &body.email, &body.display_name, &body.roles, &body.unit);
    idempotency::write(&state.db, &auth, &key, &fingerprint, async |txn| {
        let created = users::create(txn, &actor, auth.organization_id, body.clone(), false).await?;
        Reply::created(format!("/api/v1/users/{}", created.id), created.version, &UserResponse::from(created))
    })
    .await
}

/// List users
///
/// Users of the caller's organization, oldest first, with filters.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(UserListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<UserResponse>),
))]
#[get("/users")]
pub async fn list_users(
    auth: Auth<Admin>, state: web::Data<AppState>, query: web::Query<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::list(&state.db, auth.organization_id, &query).await?))
}

/// Get a user
#[utoipa::path(tag = "users", security(("bearer" = [])), params(UserPath), responses(
    (status = 200, description = "The user", body = UserResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such user in your organization", body = Problem),
))]
#[get("/users/{id}")]
pub async fn get_user(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let found = users::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a user (merge patch)
///
/// Changes name, roles, unit or active flag. Deactivating a user revokes their refresh tokens
/// and their access tokens stop working at once on this replica (within 5 s on others).
/// Nobody changes their own roles or active flag (another administrator must), and only the
/// platform operator changes the operator's account.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body(content = UpdateUserRequest, content_type = "application/merge-patch+json"),
    params(UserPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = UserResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Not an administrator (`forbidden`), the platform operator's account changed by someone else (`operator_account_protected`), or your own roles or active flag (`own_privileges_locked`)", body = Problem),
        (status = 404, description = "No such user in your organization", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/users/{id}")]
pub async fn update_user(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<UserPath>, if_match: IfMatch,
    body: Json<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        users::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner()).await
    })
    .await?;
    state.principals.invalidate(updated.id);
    Ok(ok_tagged(updated.version, &UserResponse::from(updated)))
}

/// Reset a user's password
///
/// Sets a new password chosen by the administrator and revokes the user's refresh tokens.
/// The platform operator's password is reset only by the operator.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = ResetPasswordRequest,
    params(UserPath),
    responses(
        (status = 204, description = "Password replaced"),
        (status = 403, description = "Not an administrator (`forbidden`), or the platform operator's account reset by someone else (`operator_account_protected`)", body = Problem),
        (status = 404, description = "No such user in your organization", body = Problem),
        (status = 422, description = "Weak password", body = Problem),
    ))]
#[post("/users/{id}/password")]
pub async fn reset_password(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<UserPath>, body: Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor::from(&auth.principal);
    users::reset_password(&state.db, &actor, auth.organization_id, id.id, body.into_inner().password).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_user).service(list_users).service(get_user).service(update_user).service(reset_password);
}
