//! Idempotent POSTs. With an `Idempotency-Key` header, the first request's reply is stored in
//! the same transaction as its write; a retry with the same key and the same request gets that
//! reply again (and no second row), the same key with another request gets 422.
//!
//! Secrets shown once (a service account's client secret) are never stored: the stored reply
//! holds `null` in their place, and a replay names the withheld fields in `Secret-Omitted`.
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
/// Names the body fields of a replayed reply whose secret value was shown only the first time.
pub const SECRET_OMITTED: HeaderName = HeaderName::from_static("secret-omitted");
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
    /// Top-level body fields holding a secret: sent in this reply, never stored for replays.
    pub secrets: Vec<String>,
}

impl Reply {
    /// `201 Created` with `Location` and `ETag`.
    pub fn created(location: String, version: i32, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply {
            status: StatusCode::CREATED,
            location: Some(location),
            etag: Some(super::etag::etag(version)),
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
            secrets: Vec::new(),
        })
    }

    /// `200 OK` with the written row's `ETag`.
    pub fn ok(version: i32, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Reply { etag: Some(super::etag::etag(version)), ..Self::with_status(StatusCode::OK, body)? })
    }

    /// A reply with a status and a body, no headers.
    pub fn with_status(status: StatusCode, body: &impl Serialize) -> Result<Self, ApiError> {
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
    fn stored(&self) -> (serde_json::Value, serde_json::Value) {
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

    /// The HTTP response; `replayed` adds `Idempotent-Replayed: true` (and `Secret-Omitted`
    /// naming the fields withheld from this replay).
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
            if !self.secrets.is_empty() {
                if let Ok(value) = HeaderValue::from_str(&self.secrets.join(", ")) {
                    builder.insert_header((SECRET_OMITTED, value));
                }
            }
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
    let secrets = headers
        .get("secret_omitted")
        .and_then(|v| v.as_array())
        .map(|names| names.iter().filter_map(|n| n.as_str()).map(str::to_string).collect())
        .unwrap_or_default();
    let reply = Reply {
        status: StatusCode::from_u16(u16::try_from(existing.status).unwrap_or(200)).unwrap_or(StatusCode::OK),
        location: text("location"),
        etag: text("etag"),
        body: existing.body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default(),
        secrets,
    };
    Ok(reply.into_response(true))
}

/// Field names that are never stored in a reply, whether or not the handler marked them.
const SECRET_FIELDS: &[&str] = &["client_secret", "password", "refresh_token", "access_token"];

/// Stores the reply of a [`Claim::Fresh`] request (and its fingerprint) in its transaction.
pub async fn remember(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    key: &str,
    hash: &str,
    reply: &Reply,
) -> Result<(), ApiError> {
    let (body, headers) = reply.stored();
    let stored = idempotency_record::ActiveModel {
        organization_id: Set(principal.organization_id),
        principal_id: Set(principal.id),
        key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        status: Set(i16::try_from(reply.status.as_u16()).unwrap_or(200)),
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
