//! Service accounts: institutional systems that obtain tokens with client credentials.
//! Secrets are 256-bit random strings shown once and stored as SHA-256 digests (a slow hash
//! adds nothing for secrets of that entropy and would slow every token request).
use super::audit::{self, Actor, Entry};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::identity::{roles, CreateServiceAccountRequest, ServiceAccountResponse, UpdateServiceAccountRequest};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::validate::Checks;
use crate::entities::enums::{AuditOperation, AuditResource};
use crate::entities::service_account;
use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A fresh client secret.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("mjs_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored digest of a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates an account; returns it with its secret (shown once).
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateServiceAccountRequest,
) -> Result<(service_account::Model, String), ApiError> {
    let mut c = Checks::new();
    c.text("name", &req.name, 200);
    if req.roles.is_empty() {
        c.push("roles", "empty", "at least one role is required");
    }
    c.finish()?;
    let secret = new_secret();
    let now = super::now();
    let id = Uuid::now_v7();
    let model = service_account::Model {
        id,
        client_id: format!("mjc_{}", id.simple()),
        name: req.name.trim().to_string(),
        secret_hash: digest(&secret),
        roles: roles(req.roles),
        active: true,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    service_account::Entity::insert(service_account::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::ServiceAccount, id, AuditOperation::Create)
            .after(&ServiceAccountResponse::from(model.clone())),
    )
    .await?;
    Ok((model, secret))
}

/// Service accounts of `org`.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, page: &PageParams,
) -> Result<Page<ServiceAccountResponse>, ApiError> {
    let limit = page.limit()?;
    let mut select = scoped::<service_account::Entity>(org).order_by_asc(service_account::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(service_account::Column::Id.gt(cursor.id));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |a| (None, a.id), ServiceAccountResponse::from))
}

/// Applies a merge patch.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
    req: UpdateServiceAccountRequest,
) -> Result<service_account::Model, ApiError> {
    let current = find_in_org::<service_account::Entity>(conn, org, id).await?;
    let mut c = Checks::new();
    if let Some(name) = &req.name {
        c.text("name", name, 200);
    }
    if req.roles.as_ref().is_some_and(Vec::is_empty) {
        c.push("roles", "empty", "at least one role is required");
    }
    c.finish()?;
    if actor.id == Some(id) {
        super::users::ensure_own_privileges_kept(&current.roles.0, current.active, req.roles.as_deref(), req.active)?;
    }
    // Invalid input is reported before a stale version: fixing the body comes first.
    ApiError::check_version(current.version, expected_version)?;
    let mut next = current.clone();
    crate::dto::patch::set(&mut next.name, req.name.map(|n| n.trim().to_string()));
    crate::dto::patch::set(&mut next.roles, req.roles.map(roles));
    crate::dto::patch::set(&mut next.active, req.active);
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version += 1;
    update_versioned(conn, org, id, current.version, service_account::ActiveModel::from(next.clone())).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::ServiceAccount, id, AuditOperation::Update)
            .before(&ServiceAccountResponse::from(current))
            .after(&ServiceAccountResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

/// Replaces the secret; the old one stops working at once.
pub async fn rotate_secret(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid,
) -> Result<(service_account::Model, String), ApiError> {
    let current = find_in_org::<service_account::Entity>(conn, org, id).await?;
    let secret = new_secret();
    let mut next = current.clone();
    next.secret_hash = digest(&secret);
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version += 1;
    update_versioned(conn, org, id, current.version, service_account::ActiveModel::from(next.clone())).await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::ServiceAccount, id, AuditOperation::RotateSecret))
        .await?;
    Ok((next, secret))
}

/// The account for a client id whose secret matches; `None` otherwise (constant-time compare).
pub async fn authenticate(
    conn: &impl ConnectionTrait, client_id: &str, secret: &str,
) -> Result<Option<service_account::Model>, ApiError> {
    let account =
        service_account::Entity::find().filter(service_account::Column::ClientId.eq(client_id)).one(conn).await?;
    let given = digest(secret);
    Ok(account.filter(|a| {
        let stored = a.secret_hash.as_bytes();
        let given = given.as_bytes();
        stored.len() == given.len() && stored.iter().zip(given).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }))
}

/// A service account of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<ServiceAccountResponse, ApiError> {
    Ok(find_in_org::<service_account::Entity>(conn, org, id).await?.into())
}
