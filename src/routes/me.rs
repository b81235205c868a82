//! The caller's own identity and password.
use crate::auth::jwt::PrincipalKind;
use crate::auth::{AnyMember, Auth};
use crate::dto::identity::{ChangePasswordRequest, MeResponse};
use crate::entities::{organization, service_account, user};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::Json;
use crate::services::audit::{Actor, AuditOperation};
use crate::services::users;
use crate::startup::AppState;
use actix_web::{get, post, web, HttpResponse};
use sea_orm::{EntityTrait, TransactionTrait};
use utoipa_actix_web::service_config::ServiceConfig;

/// Who am I
///
/// The authenticated user or service account, with the roles it holds now.
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, description = "The caller", body = MeResponse)))]
#[get("/me")]
pub async fn me(auth: Auth<AnyMember>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let org =
        organization::Entity::find_by_id(auth.organization_id).one(&state.db).await?.ok_or_else(ApiError::not_found)?;
    let (login, display_name) = match auth.kind {
        PrincipalKind::User => {
            let u = user::Entity::find_by_id(auth.id).one(&state.db).await?.ok_or_else(ApiError::not_found)?;
            (u.email, u.display_name)
        }
        PrincipalKind::ServiceAccount => {
            let a =
                service_account::Entity::find_by_id(auth.id).one(&state.db).await?.ok_or_else(ApiError::not_found)?;
            (a.client_id, a.name)
        }
    };
    Ok(HttpResponse::Ok().json(MeResponse {
        id: auth.id,
        kind: match auth.kind {
            PrincipalKind::User => "user".into(),
            PrincipalKind::ServiceAccount => "service_account".into(),
        },
        organization_id: auth.organization_id,
        organization_name: org.name,
        login,
        display_name,
        roles: auth.roles.0.clone(),
        platform_operator: auth.platform_operator,
    }))
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
    auth: Auth<AnyMember>,
    state: web::Data<AppState>,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    if auth.kind != PrincipalKind::User {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "Service accounts use rotating secrets, not passwords",
            "Las cuentas de servicio usan secretos rotables, no contraseñas",
        ));
    }
    let body = body.into_inner();
    let current = user::Entity::find_by_id(auth.id).one(&state.db).await?.ok_or_else(ApiError::not_found)?;
    if !crate::auth::password::verify_blocking(body.current_password, current.password_hash.clone()).await {
        return Err(ApiError::field("current_password", "mismatch", "the current password is wrong"));
    }
    let txn = state.db.begin().await?;
    users::set_password(
        &txn,
        &Actor::from(&auth.principal),
        &current,
        body.new_password,
        AuditOperation::ChangePassword,
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(me).service(change_password);
}
