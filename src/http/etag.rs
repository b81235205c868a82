//! Optimistic concurrency: every resource carries a `version`; reads send it as a strong
//! `ETag` (`"v3"`), and changes must send it back in `If-Match`.
use crate::error::{ApiError, ErrorCode};
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use std::future::{ready, Ready};

pub use crate::dto::common::etag;

/// The `If-Match` header of a request, parsed into the version it names. Handlers that take it
/// list `IfMatch` in their `params(...)`, so the header is documented once, here.
#[derive(Debug, Clone)]
pub struct IfMatch(Option<Option<i32>>);

/// How `If-Match` is documented.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct IfMatchHeader {
    /// ETag of your last read of this resource (of its GET or of the reply that changed it), e.g. `"v3"`; `*` is not accepted.
    #[param(rename = "If-Match", pattern = r#"^(W/)?"v[0-9]{1,9}"$"#)]
    if_match: String,
}

impl utoipa::IntoParams for IfMatch {
    fn into_params(
        parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        IfMatchHeader::into_params(parameter_in)
    }
}

impl IfMatch {
    /// The version the client read; 428 when the header is missing, 400 when it is not an
    /// entity tag this service issued (`*` included: a change must name what it changes).
    pub fn required(&self) -> Result<i32, ApiError> {
        match self.0 {
            None => Err(ApiError::new(ErrorCode::PreconditionRequired).detail(
                "Send the header If-Match with the ETag of your last read of this resource (the ETag header \
                 of its GET or of the reply that changed it), e.g. If-Match: \"v3\"",
                "Envíe el encabezado If-Match con el ETag de su última lectura de este recurso (el encabezado \
                 ETag de su GET o de la respuesta que lo cambió), p. ej. If-Match: \"v3\"",
            )),
            Some(None) => Err(ApiError::new(ErrorCode::InvalidHeader)
                .detail("If-Match must be an ETag such as \"v3\"", "If-Match debe ser un ETag como \"v3\"")),
            Some(Some(v)) => Ok(v),
        }
    }

    /// Checks the header against the row's current version.
    pub fn check(&self, current: i32) -> Result<i32, ApiError> {
        let wanted = self.required()?;
        if wanted == current {
            Ok(wanted)
        } else {
            Err(ApiError::stale(current, wanted))
        }
    }
}

fn parse(value: &HeaderValue) -> Option<i32> {
    let text = value.to_str().ok()?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    inner.strip_prefix('v')?.parse().ok()
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get(header::IF_MATCH).map(parse);
        ready(Ok(IfMatch(value)))
    }
}

/// A `200 OK` JSON reply with the row's `ETag`.
pub fn ok_tagged<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    tagged(HttpResponse::Ok(), version, body)
}

/// A JSON reply with the given status builder and the row's `ETag`.
pub fn tagged<T: Serialize>(mut builder: HttpResponseBuilder, version: i32, body: &T) -> HttpResponse {
    builder.insert_header((header::ETAG, etag(version))).json(body)
}

/// How `If-None-Match` is documented, for reads whose `ETag` versions computed content.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfNoneMatch {
    /// ETag of your last read of this report; `304 Not Modified` (no body) while it is current.
    #[param(rename = "If-None-Match", max_length = 1000)]
    if_none_match: Option<String>,
}

/// Whether the request's `If-None-Match` names `tag` (weak comparison, as RFC 9110 asks for
/// this header) or is `*`.
pub fn none_match_hits(req: &HttpRequest, tag: &str) -> bool {
    let bare = |t: &str| t.trim().strip_prefix("W/").unwrap_or(t.trim()).to_string();
    let wanted = bare(tag);
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .any(|value| value.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == wanted))
}

/// The longest `If-None-Match` read (as documented on [`IfNoneMatch`]).
const IF_NONE_MATCH_MAX: usize = 1000;

/// `200 OK` with the JSON body and `tag` as `ETag`, or `304 Not Modified` when the request's
/// `If-None-Match` names it; 400 `invalid_header` for an `If-None-Match` longer than documented.
pub fn ok_or_not_modified<T: Serialize>(req: &HttpRequest, tag: &str, body: &T) -> Result<HttpResponse, ApiError> {
    if req.headers().get_all(header::IF_NONE_MATCH).any(|v| v.len() > IF_NONE_MATCH_MAX) {
        return Err(ApiError::new(ErrorCode::InvalidHeader).detail(
            format!("If-None-Match must have at most {IF_NONE_MATCH_MAX} characters"),
            format!("If-None-Match debe tener como máximo {IF_NONE_MATCH_MAX} caracteres"),
        ));
    }
    if none_match_hits(req, tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag.to_string())).finish());
    }
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag.to_string())).json(body))
}
