//! HTTP plumbing shared by every route: request context and logging middleware, problem
//! localisation, security headers, extractor error handlers, 404/405, ETags
//! and idempotent POSTs.
pub mod etag;
pub mod idempotency;
pub mod json;
pub mod prefer;
pub mod query_schema;
pub mod upload;

pub use json::Json;

use crate::error::{ApiError, ErrorCode, ProblemSource};
use crate::telemetry::RequestContext;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, Header, HeaderName, HeaderValue, Preference};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::FutureExt;
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Spanish when the most preferred language of `Accept-Language` (q-values weighed, the first
/// listed among equals) is Spanish; English otherwise, also for a header that does not parse.
fn wants_spanish(req: &ServiceRequest) -> bool {
    match header::AcceptLanguage::parse(req).map(|a| a.preference()) {
        Ok(Preference::Specific(tag)) => tag.primary_language().eq_ignore_ascii_case("es"),
        _ => false,
    }
}

fn client_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 100
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then(|| value.to_string())
}

/// Outermost middleware: request id, span and access log, localised problem bodies with
/// `instance` and `request_id`, and security headers on every response.
pub async fn request_context(
    req: ServiceRequest, next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = client_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let client_addr = req.peer_addr().map(|a| a.ip().to_string());
    let spanish = wants_spanish(&req);
    let path = req.path().to_string();
    let method = req.method().clone();
    req.extensions_mut().insert(RequestContext { request_id: request_id.clone(), client_addr });
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %path,
        http.route = %route,
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.response.status_code = tracing::field::Empty,
    );
    crate::telemetry::traces::continue_trace(&span, req.headers());
    let started = std::time::Instant::now();
    // Errors that escape the app (rare: middleware failures) and panics are answered by the
    // server from the error itself; their body is still a problem document.
    let result = std::panic::AssertUnwindSafe(next.call(req).instrument(span.clone())).catch_unwind().await;
    let res = match result {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(err)) => return Err(err),
        Err(_) => {
            span.in_scope(|| tracing::error!("handler panicked"));
            return Err(ApiError::new(ErrorCode::Internal).into());
        }
    };
    let res = cors_problem(res);
    let res = localise_problem(res, spanish, &path, &request_id);
    let mut res = res;
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if path.starts_with("/api/") && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let status = res.status().as_u16();
    span.record("http.response.status_code", status);
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request served");
        }
    });
    Ok(res)
}

/// actix-cors answers refused preflights with plain text; answer them like every other error,
/// saying which setting admits the origin.
fn cors_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    use actix_cors::CorsError;
    let Some(err) = res.response().error().and_then(|e| e.as_error::<CorsError>()).cloned() else {
        return res;
    };
    let origin =
        res.request().headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("(none)").to_string();
    let problem = match err {
        CorsError::OriginNotAllowed => ApiError::new(ErrorCode::CorsRefused).detail(
            format!(
                "The origin {origin} is not allowed. Add it to MEJORA_CORS_ORIGINS (comma-separated origins, e.g. \
                 MEJORA_CORS_ORIGINS={origin}) and restart the service; in development http://localhost:* and \
                 http://127.0.0.1:* are allowed without it."
            ),
            format!(
                "El origen {origin} no está permitido. Agréguelo a MEJORA_CORS_ORIGINS (orígenes separados por comas, \
                 p. ej. MEJORA_CORS_ORIGINS={origin}) y reinicie el servicio; en desarrollo http://localhost:* y \
                 http://127.0.0.1:* se permiten sin configurarlo."
            ),
        ),
        CorsError::MethodNotAllowed | CorsError::BadRequestMethod => ApiError::new(ErrorCode::CorsRefused).detail(
            "The method in Access-Control-Request-Method is not allowed: use GET, POST, PATCH, PUT or DELETE",
            "El método de Access-Control-Request-Method no está permitido: use GET, POST, PATCH, PUT o DELETE",
        ),
        CorsError::HeadersNotAllowed | CorsError::BadRequestHeaders => ApiError::new(ErrorCode::CorsRefused).detail(
            "A header in Access-Control-Request-Headers is not allowed: the API accepts Authorization, \
             Content-Type, Accept, Accept-Language, If-Match, Idempotency-Key and X-Request-Id",
            "Un encabezado de Access-Control-Request-Headers no está permitido: la API acepta Authorization, \
             Content-Type, Accept, Accept-Language, If-Match, Idempotency-Key y X-Request-Id",
        ),
        other => ApiError::new(ErrorCode::CorsRefused)
            .detail(format!("{other}"), format!("Solicitud CORS inválida: {other}")),
    };
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, problem.error_response())
}

fn localise_problem(
    res: ServiceResponse<BoxBody>, spanish: bool, path: &str, request_id: &str,
) -> ServiceResponse<BoxBody> {
    let Some(source) = res.response().extensions().get::<ProblemSource>().cloned() else {
        return res;
    };
    let mut problem = if spanish { source.es } else { source.en };
    problem.instance = Some(path.to_string());
    problem.request_id = Some(request_id.to_string());
    let (req, response) = res.into_parts();
    let mut builder = HttpResponse::build(response.status());
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    if spanish {
        builder.insert_header((header::CONTENT_LANGUAGE, "es"));
    }
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    ServiceResponse::new(req, builder.body(body))
}

/// Accepts `application/json`, `application/merge-patch+json` and other `+json` types.
fn is_json(mime: actix_web::mime::Mime) -> bool {
    mime.subtype() == "json" || mime.suffix().map(|s| s == "json").unwrap_or(false)
}

/// JSON extractor settings: size limit, accepted media types and problem replies.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type(is_json)
        .content_type_required(true)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType)
            .detail("Send the body as application/json", "Envíe el cuerpo como application/json"),
        JsonPayloadError::Deserialize(e) => {
            let msg = e.to_string();
            ApiError::new(ErrorCode::InvalidJson).detail(msg.clone(), msg)
        }
        JsonPayloadError::Serialize(e) => ApiError::internal(e),
        other => {
            let msg = other.to_string();
            ApiError::new(ErrorCode::InvalidJson).detail(msg.clone(), msg)
        }
    }
}

/// Query-string extractor settings.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let msg = match err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::new(ErrorCode::InvalidQuery).detail(msg.clone(), msg).into()
    })
}

/// Form-body extractor settings (`/auth/token`).
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(16 * 1024).error_handler(|err, _req| {
        use actix_web::error::UrlencodedError;
        match err {
            UrlencodedError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType)
                .detail(
                    "Send the body as application/x-www-form-urlencoded",
                    "Envíe el cuerpo como application/x-www-form-urlencoded",
                )
                .into(),
            UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => {
                ApiError::new(ErrorCode::PayloadTooLarge).into()
            }
            other => {
                let msg = other.to_string();
                ApiError::new(ErrorCode::InvalidJson).detail(msg.clone(), msg).into()
            }
        }
    })
}

/// Path-parameter extractor settings.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        // `PATCH /plans/imports` reaches `PATCH /plans/{id}`: a literal path that lacks the
        // method is a 405, not a bad id.
        if let Some(methods) = req.app_data::<web::Data<RouteTable>>().and_then(|t| t.allowed(req.path())) {
            if !methods.is_empty() && !methods.contains(req.method()) {
                let response = method_not_allowed(&methods);
                return actix_web::error::InternalError::from_response(err, response).into();
            }
        }
        let msg = match err {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::new(ErrorCode::InvalidPath).detail(msg.clone(), msg).into()
    })
}

/// The documented paths and their methods, to tell 404 from 405.
#[derive(Debug, Default, Clone)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<Method>)>,
}

impl RouteTable {
    /// Builds the table from the generated OpenAPI document.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_matches('/').split('/').map(str::to_string).collect();
                let mut methods = Vec::new();
                let ops = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                for (method, present) in ops {
                    if present {
                        methods.push(method);
                    }
                }
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        // The most specific documented path wins: `/findings/imports` over `/findings/{id}`.
        let mut best: Option<(usize, Vec<Method>)> = None;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if !matches {
                continue;
            }
            let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
            match &mut best {
                Some((score, found)) if *score == literal => found.extend(methods.iter().cloned()),
                Some((score, _)) if *score > literal => {}
                _ => best = Some((literal, methods.clone())),
            }
        }
        best.map(|(_, methods)| methods)
    }
}

/// Fallback for requests no route matched: 405 with `Allow` when the path exists, else 404.
pub async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> HttpResponse {
    match table.allowed(req.path()) {
        Some(methods) if !methods.is_empty() => method_not_allowed(&methods),
        _ => ApiError::new(ErrorCode::RouteNotFound).error_response(),
    }
}

/// 405 with `Allow` listing `methods`.
fn method_not_allowed(methods: &[Method]) -> HttpResponse {
    let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    let mut response = ApiError::new(ErrorCode::MethodNotAllowed).error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}
