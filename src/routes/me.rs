//! The caller's own identity and password.
use crate::auth::{AnyMember, Auth};
use crate::dto::identity::{ChangePasswordRequest, MeResponse};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::services::users;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Who am I
///
/// The authenticated user or service account, with the roles it holds now.
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, description = "The caller", body = MeResponse)))]
#[get("/me")]
pub async fn me(auth: Auth<AnyMember>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::me(&state.db, &auth).await?))
}

/// Change my password
///
/// Needs the current password; revokes every refresh token of the user (other sessions end
/// when their access tokens expire).
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest, responses(
    (status = 204, description = "Changed"),
    (status = 409, description = "Service accounts have no password", body = Problem),
    (status = 422, description = "Wrong current password or weak new password", body = Problem),
))]
#[post("/me/password")]
pub async fn change_password(
    auth: Auth<AnyMember>, state: web::Data<AppState>, body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    users::change_own_password(&state.db, &auth, body.current_password, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(me).service(change_password);
}
