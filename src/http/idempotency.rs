//! Idempotent POSTs over HTTP: the `Idempotency-Key` header and the response of a stored or
//! fresh [`Reply`]. What a key means, and the transaction of the write, are in
//! `crate::services::idempotency`.
use crate::auth::Principal;
use crate::error::{ApiError, ErrorCode};
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde::Serialize;
use std::future::{ready, Ready};

pub use crate::services::idempotency::{Answer, Reply, Written};

const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Names the body fields of a replayed reply whose secret value was shown only the first time.
pub const SECRET_OMITTED: HeaderName = HeaderName::from_static("secret-omitted");

/// The `Idempotency-Key` header (1–255 visible ASCII characters), when sent. Handlers that
/// take it list `IdempotencyKey` in their `params(...)`, so the header is documented once, here.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

/// How `Idempotency-Key` is documented.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct IdempotencyKeyHeader {
    /// Makes retries safe: the same key and request (body, or an upload's options and file) return the first reply; 1 to 255 visible ASCII characters.
    #[param(rename = "Idempotency-Key", pattern = "^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

impl utoipa::IntoParams for IdempotencyKey {
    fn into_params(
        parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        IdempotencyKeyHeader::into_params(parameter_in)
    }
}

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

/// The HTTP response of a reply; a replay adds `Idempotent-Replayed: true` (and
/// `Secret-Omitted` naming the fields withheld from it).
pub fn respond(answer: Answer) -> HttpResponse {
    let Answer { reply, replayed } = answer;
    let mut builder = HttpResponse::build(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK));
    if let Some(location) = &reply.location {
        builder.insert_header((header::LOCATION, location.as_str()));
    }
    if let Some(etag) = &reply.etag {
        builder.insert_header((header::ETAG, etag.as_str()));
    }
    if replayed {
        builder.insert_header((REPLAYED, HeaderValue::from_static("true")));
        if !reply.secrets.is_empty() {
            if let Ok(value) = HeaderValue::from_str(&reply.secrets.join(", ")) {
                builder.insert_header((SECRET_OMITTED, value));
            }
        }
    }
    builder.json(reply.body)
}

/// Runs `write` through [`crate::services::idempotency::write`] and answers its reply.
pub async fn write<F>(
    db: &DatabaseConnection, principal: &Principal, key: &IdempotencyKey, request: &impl Serialize, write: F,
) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Reply, ApiError>,
{
    crate::services::idempotency::write(db, principal, key.0.as_deref(), request, write).await.map(respond)
}

/// [`write`] for operations that may end in a [`Written::Refused`] whose writes are kept.
pub async fn write_or_refuse<F>(
    db: &DatabaseConnection, principal: &Principal, key: &IdempotencyKey, request: &impl Serialize, write: F,
) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Written, ApiError>,
{
    crate::services::idempotency::write_or_refuse(db, principal, key.0.as_deref(), request, write).await.map(respond)
}
