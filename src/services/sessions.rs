//! Sign-in: password logins with rotating refresh tokens, client credentials for service
//! accounts and logout. Failed attempts are throttled by [`super::login_throttle`] (counters
//! in the shared database, so every replica sees the same count).
use super::audit::{self, Actor, Entry, PLATFORM_ORG};
use super::login_throttle;
use super::service_accounts;
use crate::auth::jwt::{PrincipalKind, TokenService};
use crate::auth::password;
use crate::config::Config;
use crate::dto::identity::TokenResponse;
use crate::entities::enums::{ActorKind, AuditOperation, AuditResource};
use crate::entities::{refresh_token, user};
use crate::error::{ApiError, ErrorCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Request facts recorded with sign-in events.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Request id.
    pub request_id: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
}

fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("mjr_{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn user_actor(u: &user::Model, origin: &Origin) -> Actor {
    Actor {
        id: Some(u.id),
        kind: ActorKind::User,
        roles: u.roles.0.clone(),
        request_id: origin.request_id.clone(),
        client_addr: origin.client_addr.clone(),
    }
}

/// Records a failed sign-in in the platform's chain, never in the organization's: a burst of
/// wrong passwords must not queue the victim organization's writes behind its chain lock.
/// The organization is kept in the event (`after.organization_id`).
async fn record_failure(db: &DatabaseConnection, org: Uuid, login: &str, origin: &Origin) -> Result<(), ApiError> {
    metrics::counter!("mejora_login_failures_total").increment(1);
    let txn = db.begin().await?;
    let actor = Actor::anonymous(origin.request_id.clone(), origin.client_addr.clone());
    let entry = Entry::new(PLATFORM_ORG, AuditResource::Session, login, AuditOperation::LoginFailed)
        .after(&serde_json::json!({ "organization_id": (org != PLATFORM_ORG).then_some(org) }));
    audit::record(&txn, &actor, entry).await?;
    txn.commit().await?;
    Ok(())
}

async fn issue_refresh(
    conn: &impl ConnectionTrait, config: &Config, u: &user::Model, family: Uuid,
) -> Result<String, ApiError> {
    let token = new_refresh_token();
    let now = super::now();
    let ttl = chrono::Duration::from_std(config.refresh_token_ttl).unwrap_or(chrono::Duration::days(30));
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family),
        user_id: Set(u.id),
        organization_id: Set(u.organization_id),
        token_hash: Set(token_digest(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(token)
}

fn bearer(
    tokens: &TokenService, id: Uuid, org: Uuid, kind: PrincipalKind, refresh: Option<String>,
) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: tokens.issue(id, org, kind).map_err(ApiError::internal)?,
        token_type: "Bearer".into(),
        expires_in: tokens.ttl_seconds,
        refresh_token: refresh,
    })
}

/// E-mail and password → access and refresh tokens. Unknown e-mail, wrong password and
/// inactive account all answer the same 401, after the same amount of hashing work.
pub async fn login(
    db: &DatabaseConnection, config: &Config, tokens: &TokenService, email: &str, secret: String, origin: &Origin,
) -> Result<TokenResponse, ApiError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 || email.contains('\0') {
        return Err(ApiError::new(ErrorCode::InvalidCredentials));
    }
    let attempt = login_throttle::begin(db, config, &email, origin.client_addr.as_deref()).await?;
    let found = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(db).await?;
    let hash = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| password::dummy_hash().to_string());
    let matches = password::verify_blocking(secret, hash).await;
    let user = match found {
        Some(u) if matches && u.active => u,
        other => {
            let org = other.map(|u| u.organization_id).unwrap_or(PLATFORM_ORG);
            record_failure(db, org, &email, origin).await?;
            return Err(ApiError::new(ErrorCode::InvalidCredentials));
        }
    };
    attempt.succeeded(db).await?;
    let txn = db.begin().await?;
    let refresh = issue_refresh(&txn, config, &user, Uuid::now_v7()).await?;
    audit::record(
        &txn,
        &user_actor(&user, origin),
        Entry::new(user.organization_id, AuditResource::Session, &email, AuditOperation::Login),
    )
    .await?;
    txn.commit().await?;
    bearer(tokens, user.id, user.organization_id, PrincipalKind::User, Some(refresh))
}

/// Rotates a refresh token. Presenting a token that was already rotated revokes its whole
/// family (the token was copied) and answers 401.
pub async fn refresh(
    db: &DatabaseConnection, config: &Config, tokens: &TokenService, token: &str, origin: &Origin,
) -> Result<TokenResponse, ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidRefreshToken);
    let txn = db.begin().await?;
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_digest(token)))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    let now = super::now();
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return Err(invalid());
    }
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let user = user::Entity::find_by_id(stored.user_id).one(&txn).await?;
    let Some(user) = user.filter(|u| u.active && claimed.rows_affected == 1) else {
        revoke_family(&txn, stored.family_id).await?;
        let actor = Actor::anonymous(origin.request_id.clone(), origin.client_addr.clone());
        audit::record(
            &txn,
            &actor,
            Entry::new(
                stored.organization_id,
                AuditResource::Session,
                stored.user_id,
                AuditOperation::RefreshTokenReuse,
            ),
        )
        .await?;
        txn.commit().await?;
        return Err(invalid());
    };
    let next = issue_refresh(&txn, config, &user, stored.family_id).await?;
    txn.commit().await?;
    bearer(tokens, user.id, user.organization_id, PrincipalKind::User, Some(next))
}

async fn revoke_family(conn: &impl ConnectionTrait, family: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(super::now()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Revokes the refresh token's whole family. Unknown tokens are accepted silently (RFC 7009).
pub async fn logout(db: &DatabaseConnection, token: &str, origin: &Origin) -> Result<(), ApiError> {
    let txn = db.begin().await?;
    let stored = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_digest(token)))
        .one(&txn)
        .await?;
    if let Some(stored) = stored {
        revoke_family(&txn, stored.family_id).await?;
        let user = user::Entity::find_by_id(stored.user_id).one(&txn).await?;
        let actor = match &user {
            Some(u) => user_actor(u, origin),
            None => Actor::anonymous(origin.request_id.clone(), origin.client_addr.clone()),
        };
        audit::record(
            &txn,
            &actor,
            Entry::new(stored.organization_id, AuditResource::Session, stored.user_id, AuditOperation::Logout),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Client credentials → access token for a service account (no refresh token).
pub async fn client_credentials(
    db: &DatabaseConnection, config: &Config, tokens: &TokenService, client_id: &str, secret: &str, origin: &Origin,
) -> Result<TokenResponse, ApiError> {
    if client_id.is_empty() || client_id.len() > 100 || client_id.contains('\0') {
        return Err(ApiError::new(ErrorCode::InvalidCredentials));
    }
    let attempt = login_throttle::begin(db, config, client_id, origin.client_addr.as_deref()).await?;
    let account = service_accounts::authenticate(db, client_id, secret).await?;
    let Some(account) = account.filter(|a| a.active) else {
        record_failure(db, PLATFORM_ORG, client_id, origin).await?;
        return Err(ApiError::new(ErrorCode::InvalidCredentials));
    };
    attempt.succeeded(db).await?;
    let txn = db.begin().await?;
    let actor = Actor {
        id: Some(account.id),
        kind: ActorKind::ServiceAccount,
        roles: account.roles.0.clone(),
        request_id: origin.request_id.clone(),
        client_addr: origin.client_addr.clone(),
    };
    audit::record(
        &txn,
        &actor,
        Entry::new(account.organization_id, AuditResource::Session, client_id, AuditOperation::Login),
    )
    .await?;
    txn.commit().await?;
    bearer(tokens, account.id, account.organization_id, PrincipalKind::ServiceAccount, None)
}
