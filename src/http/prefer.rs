//! The `Prefer` request header (RFC 7240): `respond-async` asks a long operation to answer
//! `202 Accepted` at once; the reply then carries `Preference-Applied: respond-async`.
use crate::error::ApiError;
use crate::services::finding_imports::jobs;
use crate::services::storage::Storage;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

const PREFER: HeaderName = HeaderName::from_static("prefer");
const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// How `Prefer` is documented on the operations that honour it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct PreferHeader {
    /// `respond-async`: answer `202 Accepted` with `Location` of the import record as soon as the body is received, and process it in the background (RFC 7240). Without it the upload is processed before the reply.
    #[param(rename = "Prefer", example = "respond-async")]
    prefer: Option<String>,
}

/// True when a `Prefer` header holds the `respond-async` preference (any case, any place in
/// the list, with or without parameters).
pub fn respond_async(req: &HttpRequest) -> bool {
    req.headers().get_all(PREFER).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|pref| {
        let token = pref.split(';').next().unwrap_or("").split('=').next().unwrap_or("").trim();
        token.eq_ignore_ascii_case("respond-async")
    })
}

/// `response` with `Preference-Applied: respond-async`.
pub fn applied(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(PREFERENCE_APPLIED, HeaderValue::from_static("respond-async"));
    response
}

/// The answer to an upload queued with `respond-async` whose body was stored under `key`:
/// the 202 with `Preference-Applied`; when no new upload was queued (a replayed
/// `Idempotency-Key`, an error) the stored body is deleted.
pub async fn accepted(
    storage: &Storage, key: &str, result: Result<HttpResponse, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let queued = matches!(&result, Ok(r) if !r.headers().contains_key("idempotent-replayed"));
    if !queued {
        jobs::forget(storage, key).await;
    }
    result.map(applied)
}
