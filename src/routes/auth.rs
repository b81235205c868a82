//! Sign-in endpoints: password login, refresh rotation, logout, client credentials.
use crate::dto::identity::{ClientCredentialsRequest, LoginRequest, RefreshRequest, TokenResponse};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::Json;
use crate::services::sessions::{self, Origin};
use crate::state::AppState;
use crate::telemetry::RequestContext;
use actix_web::http::header;
use actix_web::{post, web, HttpMessage, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use utoipa_actix_web::service_config::ServiceConfig;

/// Request id and client address of the current request.
pub fn origin(req: &HttpRequest) -> Origin {
    let ctx = req.extensions().get::<RequestContext>().cloned();
    Origin { request_id: ctx.as_ref().map(|c| c.request_id.clone()), client_addr: ctx.and_then(|c| c.client_addr) }
}

/// Sign in with e-mail and password
///
/// Returns a short-lived access token and a single-use refresh token. Wrong e-mail, wrong
/// password and inactive account all answer the same 401; repeated failures answer 429.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in", body = TokenResponse),
    (status = 401, description = "Invalid credentials", body = Problem),
    (status = 422, description = "Invalid fields", body = Problem),
))]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest, state: web::Data<AppState>, body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let tokens =
        sessions::login(&state.db, &state.config, &state.tokens, &body.email, body.password, &origin(&req)).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Rotate a refresh token
///
/// Returns a new access token and a new refresh token; the one sent stops working. Sending a
/// refresh token that was already rotated revokes every token of that sign-in.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "New tokens", body = TokenResponse),
    (status = 401, description = "Invalid, expired, revoked or reused refresh token", body = Problem),
    (status = 422, description = "The body lacks `refresh_token` or has other fields", body = Problem),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    req: HttpRequest, state: web::Data<AppState>, body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = sessions::refresh(&state.db, &state.config, &state.tokens, &body.refresh_token, &origin(&req)).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Sign out (revoke a refresh token)
///
/// Revokes the refresh token and every token rotated from the same sign-in. Unknown tokens are
/// accepted silently. Access tokens already issued expire on their own (see `expires_in`).
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "Revoked"),
    (status = 422, description = "The body lacks `refresh_token` or has other fields", body = Problem),
))]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest, state: web::Data<AppState>, body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    sessions::logout(&state.db, &body.refresh_token, &origin(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Obtain a token with client credentials (service accounts)
///
/// OAuth 2.0 client-credentials grant (RFC 6749 §4.4): a form body with
/// `grant_type=client_credentials`, and `client_id`/`client_secret` in the body or as HTTP Basic.
#[utoipa::path(tag = "auth", request_body(content = ClientCredentialsRequest, content_type = "application/x-www-form-urlencoded"), responses(
    (status = 200, description = "Access token", body = TokenResponse),
    (status = 401, description = "Invalid client credentials", body = Problem),
    (status = 415, description = "Not a form body", body = Problem),
    (status = 422, description = "Unsupported grant type", body = Problem),
))]
#[post("/auth/token")]
pub async fn token(
    req: HttpRequest, state: web::Data<AppState>, body: web::Form<ClientCredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.grant_type != "client_credentials" {
        return Err(ApiError::field("grant_type", "unsupported_grant_type", "only client_credentials is supported"));
    }
    let (client_id, secret) = match (basic_credentials(&req), body.client_id, body.client_secret) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return Err(ApiError::new(ErrorCode::InvalidCredentials)),
    };
    let tokens =
        sessions::client_credentials(&state.db, &state.config, &state.tokens, &client_id, &secret, &origin(&req))
            .await?;
    Ok(HttpResponse::Ok().json(tokens))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(refresh).service(logout).service(token);
}
