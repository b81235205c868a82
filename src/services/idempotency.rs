//! Idempotent POSTs. With an `Idempotency-Key` header, the first request's reply is stored in
//! the same transaction as its write; a retry with the same key and the same request gets that
//! reply again (and no second row), the same key with another request gets 422.
//!
//! Secrets shown once (a service account's client secret) are never stored: the stored reply
//! holds `null` in their place, and a replay names the withheld fields in `Secret-Omitted`.
//!
//! The placeholder row is inserted before the write, so on PostgreSQL a concurrent request
//! with the same key waits on its unique index until the first one commits or rolls back.
//!
//! This module owns the stored side (claim, replay, remember, forget) and the transaction of
//! an idempotent write; `crate::http::idempotency` reads the header and turns a [`Reply`] into
//! an HTTP response.
use crate::auth::Principal;
use crate::dto::common::etag;
use crate::entities::idempotency_record;
use crate::error::{ApiError, ErrorCode};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

const PENDING: i16 = 0;

/// The reply of a successful write, before it becomes an HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// `Location` of a created resource.
    pub location: Option<String>,
    /// `ETag` of the written row.
    pub etag: Option<String>,
    /// JSON body.
    pub body: serde_json::Value,
    /// Top-level body fields holding a secret: sent in this reply, never stored for replays.
    pub secrets: Vec<String>,
}

impl Reply {
    /// `201 Created` with `Location` and `ETag`.
    pub fn created(location: String, version: i32, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply {
            status: 201,
            location: Some(location),
            etag: Some(etag(version)),
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
            secrets: Vec::new(),
        })
    }

    /// `200 OK` with the written row's `ETag`.
    pub fn ok(version: i32, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply { etag: Some(etag(version)), ..Self::with_status(200, body)? })
    }

    /// A reply with a status and a body, no headers.
    pub fn with_status(status: u16, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply {
            status,
            location: None,
            etag: None,
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
            secrets: Vec::new(),
        })
    }

    /// Marks a top-level body field as a secret shown once: a replay answers it as `null`.
    pub fn secret(mut self, field: &str) -> Self {
        self.secrets.push(field.to_string());
        self
    }

    /// The body and headers as stored for replays: every field marked secret, and any top-level
    /// field named like a secret as a safety net, replaced by `null` and named in the headers.
    pub fn stored(&self) -> (serde_json::Value, serde_json::Value) {
        let mut body = self.body.clone();
        let mut omitted: Vec<String> = Vec::new();
        if let Some(map) = body.as_object_mut() {
            for (name, value) in map.iter_mut() {
                let secret = self.secrets.contains(name) || SECRET_FIELDS.contains(&name.as_str());
                if secret && !value.is_null() {
                    *value = serde_json::Value::Null;
                    omitted.push(name.clone());
                }
            }
        }
        let headers = serde_json::json!({ "location": self.location, "etag": self.etag, "secret_omitted": omitted });
        (body, headers)
    }
}

/// SHA-256 of a request's JSON serialization: what "the same request" means for a key.
pub fn fingerprint(request: &impl Serialize) -> Result<String, ApiError> {
    let bytes = serde_json::to_vec(request).map_err(ApiError::internal)?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// The state of an idempotency key inside the transaction of a write.
#[derive(Debug)]
pub enum Claim {
    /// First use: a placeholder row now holds the key until the transaction ends (on
    /// PostgreSQL a concurrent request with the same key waits for it).
    Fresh,
    /// An earlier request used the key; see [`replay`].
    Used(idempotency_record::Model),
}

/// Reserves `key` for this request in `txn`. `hash` may be empty when the request is only known
/// after its body has been read (streamed uploads); [`remember`] then records it.
pub async fn claim(
    txn: &impl ConnectionTrait, principal: &Principal, key: &str, hash: &str,
) -> Result<Claim, ApiError> {
    let placeholder = idempotency_record::ActiveModel {
        organization_id: Set(principal.organization_id),
        principal_id: Set(principal.id),
        key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        status: Set(PENDING),
        headers: Set(None),
        body: Set(None),
        created_at: Set(chrono::Utc::now()),
    };
    let inserted = idempotency_record::Entity::insert(placeholder)
        .on_conflict(
            OnConflict::columns([
                idempotency_record::Column::OrganizationId,
                idempotency_record::Column::PrincipalId,
                idempotency_record::Column::Key,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let existing = idempotency_record::Entity::find()
        .filter(idempotency_record::Column::OrganizationId.eq(principal.organization_id))
        .filter(idempotency_record::Column::PrincipalId.eq(principal.id))
        .filter(idempotency_record::Column::Key.eq(key))
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::IdempotencyInProgress))?;
    Ok(Claim::Used(existing))
}

/// The reply to a request whose key was used before: the stored reply when it is the same
/// request (`hash`), 409 while the first one is still running, 422 for another request.
pub fn replay(existing: idempotency_record::Model, hash: &str) -> Result<Reply, ApiError> {
    if existing.status == PENDING {
        return Err(ApiError::new(ErrorCode::IdempotencyInProgress).retry_after(1));
    }
    if existing.request_hash != hash {
        return Err(ApiError::new(ErrorCode::IdempotencyKeyReused));
    }
    let headers = existing.headers.unwrap_or_default();
    let text = |name: &str| headers.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let secrets = headers
        .get("secret_omitted")
        .and_then(|v| v.as_array())
        .map(|names| names.iter().filter_map(|n| n.as_str()).map(str::to_string).collect())
        .unwrap_or_default();
    let reply = Reply {
        status: u16::try_from(existing.status).ok().filter(|s| (100..600).contains(s)).unwrap_or(200),
        location: text("location"),
        etag: text("etag"),
        body: existing.body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default(),
        secrets,
    };
    Ok(reply)
}

/// Field names that are never stored in a reply, whether or not the handler marked them.
const SECRET_FIELDS: &[&str] = &["client_secret", "password", "refresh_token", "access_token"];

/// Stores the reply of a [`Claim::Fresh`] request (and its fingerprint) in its transaction.
pub async fn remember(
    txn: &impl ConnectionTrait, principal: &Principal, key: &str, hash: &str, reply: &Reply,
) -> Result<(), ApiError> {
    let (body, headers) = reply.stored();
    let stored = idempotency_record::ActiveModel {
        organization_id: Set(principal.organization_id),
        principal_id: Set(principal.id),
        key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        status: Set(i16::try_from(reply.status).unwrap_or(200)),
        headers: Set(Some(headers)),
        body: Set(Some(serde_json::to_vec(&body).map_err(ApiError::internal)?)),
        ..Default::default()
    };
    idempotency_record::Entity::update(stored).exec(txn).await?;
    Ok(())
}

/// Frees a [`Claim::Fresh`] key whose request failed but whose transaction still commits, so
/// the key can be used again once the request is fixed.
pub async fn forget(txn: &impl ConnectionTrait, principal: &Principal, key: &str) -> Result<(), ApiError> {
    idempotency_record::Entity::delete_many()
        .filter(idempotency_record::Column::OrganizationId.eq(principal.organization_id))
        .filter(idempotency_record::Column::PrincipalId.eq(principal.id))
        .filter(idempotency_record::Column::Key.eq(key))
        .exec(txn)
        .await?;
    Ok(())
}

/// What an idempotent write ends with.
#[derive(Debug)]
pub enum Written {
    /// Success: the reply is sent, and stored for retries with the same key.
    Reply(Reply),
    /// A refusal whose writes are still kept (an upload's import record listing the rejected
    /// rows): the transaction commits, the key is freed so the fixed request may use it again,
    /// and the error is the answer.
    Refused(ApiError),
}

/// The reply of an idempotent write, and whether it is a replay of an earlier one.
#[derive(Debug)]
pub struct Answer {
    /// The reply.
    pub reply: Reply,
    /// True when the reply was stored by an earlier request with the same key.
    pub replayed: bool,
}

/// Runs `write` in one transaction, honouring the idempotency key. `request` identifies the
/// operation and its input (e.g. `("create_plan", &body)`): it is what "the same request" means.
pub async fn write<F>(
    db: &DatabaseConnection, principal: &Principal, key: Option<&str>, request: &impl Serialize, write: F,
) -> Result<Answer, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Reply, ApiError>,
{
    write_or_refuse(db, principal, key, request, async |txn| write(txn).await.map(Written::Reply)).await
}

/// [`write`] for operations that may end in a [`Written::Refused`] whose writes are kept.
pub async fn write_or_refuse<F>(
    db: &DatabaseConnection, principal: &Principal, key: Option<&str>, request: &impl Serialize, write: F,
) -> Result<Answer, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Written, ApiError>,
{
    let txn = db.begin().await?;
    let hash = match key {
        None => None,
        Some(key) => {
            let hash = fingerprint(request)?;
            if let Claim::Used(existing) = claim(&txn, principal, key, &hash).await? {
                txn.rollback().await?;
                return Ok(Answer { reply: replay(existing, &hash)?, replayed: true });
            }
            Some((key, hash))
        }
    };
    match write(&txn).await? {
        Written::Reply(reply) => {
            if let Some((key, hash)) = &hash {
                remember(&txn, principal, key, hash, &reply).await?;
            }
            txn.commit().await?;
            Ok(Answer { reply, replayed: false })
        }
        Written::Refused(error) => {
            if let Some((key, _)) = &hash {
                forget(&txn, principal, key).await?;
            }
            txn.commit().await?;
            Err(error)
        }
    }
}
