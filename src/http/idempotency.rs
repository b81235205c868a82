//! Idempotent POSTs. With an `Idempotency-Key` header, the first request's reply is stored in
//! the same transaction as its write; a retry with the same key and the same request gets that
//! reply again (and no second row), the same key with another request gets 422.
//!
//! The placeholder row is inserted before the write, so on PostgreSQL a concurrent request
//! with the same key waits on its unique index until the first one commits or rolls back.
use crate::auth::Principal;
use crate::entities::idempotency_record;
use crate::error::{ApiError, ErrorCode};
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::{ready, Ready};

const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
const PENDING: i16 = 0;

/// The `Idempotency-Key` header (1–255 visible ASCII characters), when sent.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.headers().get(HEADER) {
            None => Ok(IdempotencyKey(None)),
            Some(value) => match value.to_str() {
                Ok(v) if !v.is_empty() && v.len() <= 255 && v.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(IdempotencyKey(Some(v.to_string())))
                }
                _ => Err(ApiError::new(ErrorCode::InvalidHeader).detail(
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    "Idempotency-Key debe tener de 1 a 255 caracteres ASCII visibles",
                )),
            },
        };
        ready(result)
    }
}

/// The reply of a successful write, before it becomes an HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// `Location` of a created resource.
    pub location: Option<String>,
    /// `ETag` of the written row.
    pub etag: Option<String>,
    /// JSON body.
    pub body: serde_json::Value,
}

impl Reply {
    /// `201 Created` with `Location` and `ETag`.
    pub fn created(location: String, version: i32, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply {
            status: StatusCode::CREATED,
            location: Some(location),
            etag: Some(super::etag::etag(version)),
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
        })
    }

    /// A reply with a status and a body, no headers.
    pub fn with_status(status: StatusCode, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply { status, location: None, etag: None, body: serde_json::to_value(body).map_err(ApiError::internal)? })
    }

    fn headers(&self) -> serde_json::Value {
        serde_json::json!({ "location": self.location, "etag": self.etag })
    }

    /// The HTTP response; `replayed` adds `Idempotent-Replayed: true`.
    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if let Some(location) = &self.location {
            builder.insert_header((header::LOCATION, location.as_str()));
        }
        if let Some(etag) = &self.etag {
            builder.insert_header((header::ETAG, etag.as_str()));
        }
        if replayed {
            builder.insert_header((REPLAYED, HeaderValue::from_static("true")));
        }
        builder.json(self.body)
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
    txn: &impl ConnectionTrait,
    principal: &Principal,
    key: &str,
    hash: &str,
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
pub fn replay(existing: idempotency_record::Model, hash: &str) -> Result<HttpResponse, ApiError> {
    if existing.status == PENDING {
        return Err(ApiError::new(ErrorCode::IdempotencyInProgress).retry_after(1));
    }
    if existing.request_hash != hash {
        return Err(ApiError::new(ErrorCode::IdempotencyKeyReused));
    }
    let headers = existing.headers.unwrap_or_default();
    let text = |name: &str| headers.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let reply = Reply {
        status: StatusCode::from_u16(u16::try_from(existing.status).unwrap_or(200)).unwrap_or(StatusCode::OK),
        location: text("location"),
        etag: text("etag"),
        body: existing.body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default(),
    };
    Ok(reply.into_response(true))
}

/// Stores the reply of a [`Claim::Fresh`] request (and its fingerprint) in its transaction.
pub async fn remember(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    key: &str,
    hash: &str,
    reply: &Reply,
) -> Result<(), ApiError> {
    let stored = idempotency_record::ActiveModel {
        organization_id: Set(principal.organization_id),
        principal_id: Set(principal.id),
        key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        status: Set(i16::try_from(reply.status.as_u16()).unwrap_or(200)),
        headers: Set(Some(reply.headers())),
        body: Set(Some(serde_json::to_vec(&reply.body).map_err(ApiError::internal)?)),
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

/// Runs `write` in one transaction, honouring the idempotency key. `request` identifies the
/// operation and its input (e.g. `("create_plan", &body)`): it is what "the same request" means.
pub async fn write<F>(
    db: &DatabaseConnection,
    principal: &Principal,
    key: &IdempotencyKey,
    request: &impl Serialize,
    write: F,
) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Reply, ApiError>,
{
    let txn = db.begin().await?;
    let Some(key) = key.0.as_deref() else {
        let reply = write(&txn).await?;
        txn.commit().await?;
        return Ok(reply.into_response(false));
    };
    let hash = fingerprint(request)?;
    if let Claim::Used(existing) = claim(&txn, principal, key, &hash).await? {
        txn.rollback().await?;
        return replay(existing, &hash);
    }
    let reply = write(&txn).await?;
    remember(&txn, principal, key, &hash, &reply).await?;
    txn.commit().await?;
    Ok(reply.into_response(false))
}
