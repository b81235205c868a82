//! The one error type of the service and its RFC 9457 `application/problem+json` rendering.
//!
//! Every failure a client can see is an [`ApiError`] carrying an [`ErrorCode`]. The code table
//! below is the single source of truth for status, stable `type` URI and the English/Spanish titles.
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Problem responses use this media type (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Base of the `type` URI of every problem.
pub const PROBLEM_BASE: &str = "https://mejora.gov.co/problems/";

macro_rules! error_codes {
    ($($variant:ident => ($status:expr, $slug:literal, $en:literal, $es:literal)),+ $(,)?) => {
        /// Stable, machine-readable error codes. Clients branch on these, never on text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $($variant),+ }

        impl ErrorCode {
            /// Every code, for the documentation table and the enumeration endpoint.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];
            /// HTTP status of this code.
            pub fn status(self) -> StatusCode { match self { $(ErrorCode::$variant => $status),+ } }
            /// The snake_case code string.
            pub fn as_str(self) -> &'static str { match self { $(ErrorCode::$variant => $slug),+ } }
            /// Short English title.
            pub fn title_en(self) -> &'static str { match self { $(ErrorCode::$variant => $en),+ } }
            /// Short Spanish title.
            pub fn title_es(self) -> &'static str { match self { $(ErrorCode::$variant => $es),+ } }
        }
    };
}

error_codes! {
    ValidationFailed => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The request has invalid fields", "La solicitud tiene campos inválidos"),
    InvalidJson => (StatusCode::BAD_REQUEST, "invalid_json", "The body is not valid JSON for this operation", "El cuerpo no es un JSON válido para esta operación"),
    InvalidQuery => (StatusCode::BAD_REQUEST, "invalid_query", "A query parameter is invalid", "Un parámetro de consulta es inválido"),
    InvalidPath => (StatusCode::BAD_REQUEST, "invalid_path", "A path parameter is invalid", "Un parámetro de la ruta es inválido"),
    InvalidHeader => (StatusCode::BAD_REQUEST, "invalid_header", "A request header is invalid", "Un encabezado de la solicitud es inválido"),
    InvalidCursor => (StatusCode::BAD_REQUEST, "invalid_cursor", "The pagination cursor is invalid", "El cursor de paginación es inválido"),
    InvalidMultipart => (StatusCode::BAD_REQUEST, "invalid_multipart", "The multipart body is malformed", "El cuerpo multipart está mal formado"),
    Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication is required", "Se requiere autenticación"),
    InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token", "The access token is invalid or expired", "El token de acceso es inválido o expiró"),
    InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials", "Invalid credentials", "Credenciales inválidas"),
    InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid_refresh_token", "The refresh token is invalid, expired or revoked", "El token de actualización es inválido, expiró o fue revocado"),
    CorsRefused => (StatusCode::FORBIDDEN, "cors_refused", "This browser origin, method or header is not allowed", "Este origen, método o encabezado del navegador no está permitido"),
    Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Your roles do not allow this operation", "Sus roles no permiten esta operación"),
    SegregationOfDuties => (StatusCode::FORBIDDEN, "segregation_of_duties", "Segregation of duties forbids this operation", "La segregación de funciones impide esta operación"),
    OperatorAccountProtected => (StatusCode::FORBIDDEN, "operator_account_protected", "Only the platform operator changes the operator account", "Solo el operador de la plataforma modifica la cuenta del operador"),
    OwnPrivilegesLocked => (StatusCode::FORBIDDEN, "own_privileges_locked", "Nobody changes their own roles or active flag; another administrator must", "Nadie cambia sus propios roles ni su estado activo; debe hacerlo otro administrador"),
    NotFound => (StatusCode::NOT_FOUND, "not_found", "The resource does not exist", "El recurso no existe"),
    RouteNotFound => (StatusCode::NOT_FOUND, "route_not_found", "No such endpoint", "No existe ese punto de acceso"),
    MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed on this endpoint", "Método no permitido en este punto de acceso"),
    Conflict => (StatusCode::CONFLICT, "conflict", "The request conflicts with the current state", "La solicitud entra en conflicto con el estado actual"),
    AlreadyExists => (StatusCode::CONFLICT, "already_exists", "A resource with the same key already exists", "Ya existe un recurso con la misma clave"),
    InvalidTransition => (StatusCode::CONFLICT, "invalid_transition", "That state change is not allowed", "Ese cambio de estado no está permitido"),
    PeriodClosed => (StatusCode::CONFLICT, "period_closed", "A closed reporting period covers this; its figures can no longer change", "Un corte de reporte cerrado cubre esto; sus cifras ya no pueden cambiar"),
    Immutable => (StatusCode::CONFLICT, "immutable", "The resource can no longer be changed", "El recurso ya no puede modificarse"),
    IdempotencyKeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", "The Idempotency-Key was used with a different request", "La Idempotency-Key se usó con otra solicitud"),
    IdempotencyInProgress => (StatusCode::CONFLICT, "idempotency_in_progress", "A request with this Idempotency-Key is still being processed", "Una solicitud con esta Idempotency-Key aún se está procesando"),
    PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition_failed", "The resource changed since you read it (stale If-Match)", "El recurso cambió desde que lo leyó (If-Match desactualizado)"),
    PreconditionRequired => (StatusCode::PRECONDITION_REQUIRED, "precondition_required", "This operation requires an If-Match header", "Esta operación requiere el encabezado If-Match"),
    ImportRejected => (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected", "The file has invalid rows; nothing was written", "El archivo tiene filas inválidas; no se escribió nada"),
    UploadStalled => (StatusCode::REQUEST_TIMEOUT, "upload_stalled", "The upload stalled: no bytes arrived within the idle time; nothing was written", "La carga se detuvo: no llegaron bytes dentro del tiempo de espera; no se escribió nada"),
    IncompleteBody => (StatusCode::BAD_REQUEST, "incomplete_body", "The request body ended before it was complete", "El cuerpo de la solicitud terminó antes de estar completo"),
    PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large", "El cuerpo de la solicitud es demasiado grande"),
    SpreadsheetTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "spreadsheet_too_large", "The spreadsheet exceeds a reading limit", "La hoja de cálculo supera un límite de lectura"),
    UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type", "Tipo de contenido no soportado"),
    NotAcceptable => (StatusCode::NOT_ACCEPTABLE, "not_acceptable", "Cannot produce the requested representation", "No se puede producir la representación solicitada"),
    RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests; retry later", "Demasiadas solicitudes; intente más tarde"),
    ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "The service is temporarily unavailable", "El servicio no está disponible temporalmente"),
    Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "Error interno"),
}

/// A piece of text in both languages the API speaks.
#[derive(Debug, Clone)]
pub struct Text {
    /// English.
    pub en: String,
    /// Spanish.
    pub es: String,
}

impl Text {
    /// Builds a bilingual text.
    pub fn new(en: impl Into<String>, es: impl Into<String>) -> Self {
        Self { en: en.into(), es: es.into() }
    }
}

/// One invalid field of a request (or of one row of a bulk upload).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Data row of a bulk upload, counted from 1 (absent for ordinary requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub row: Option<u64>,
    /// JSON path of the field (`score`, `rows[3].due_date`).
    #[schema(example = "score")]
    pub field: String,
    /// Stable code of the rule that failed.
    #[schema(example = "out_of_range")]
    pub code: String,
    /// Human-readable explanation, in the language asked for with `Accept-Language`.
    #[schema(example = "must be between 0 and 100")]
    pub message: String,
    /// The Spanish explanation, when the one who raised the error wrote it (else it comes from
    /// `crate::messages`).
    #[serde(skip)]
    pub message_es: Option<String>,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row: None, field: field.into(), code: code.into(), message: message.into(), message_es: None }
    }

    /// The same error with its Spanish explanation.
    pub fn with_spanish(mut self, message: impl Into<String>) -> Self {
        self.message_es = Some(message.into());
        self
    }

    /// The error as rendered for a Spanish reader.
    pub fn in_spanish(&self) -> Self {
        let message = self.message_es.clone().or_else(|| crate::messages::spanish(&self.message));
        Self { message: message.unwrap_or_else(|| self.message.clone()), ..self.clone() }
    }

    /// The same error, located at data row `row` of a bulk upload.
    pub fn at_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }
}

/// RFC 9457 problem details, as sent on the wire.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type; stable per `code`.
    #[schema(example = "https://mejora.gov.co/problems/validation_failed")]
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem type, in the language asked for with `Accept-Language`.
    #[schema(example = "The request has invalid fields")]
    pub title: String,
    /// HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path this problem occurred on.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/api/v1/plans")]
    pub instance: Option<String>,
    /// Stable machine-readable error code.
    pub code: ErrorCode,
    /// Field-level errors, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Request id, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The service's single error type.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {}", detail.as_ref().map(|d| d.en.as_str()).unwrap_or(""))]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// Optional occurrence-specific explanation.
    pub detail: Option<Text>,
    /// Field errors for validation failures.
    pub errors: Vec<FieldError>,
    /// Seconds to wait, for 429/503.
    pub retry_after: Option<u64>,
    /// The resource's current version, sent as `ETag` with a 412 so the client can retry.
    pub current_version: Option<i32>,
    /// Underlying cause, logged and never shown.
    #[source]
    pub source: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with just a code.
    pub fn new(code: ErrorCode) -> Self {
        Self { code, detail: None, errors: Vec::new(), retry_after: None, current_version: None, source: None }
    }
    /// Adds a bilingual detail.
    pub fn detail(mut self, en: impl Into<String>, es: impl Into<String>) -> Self {
        self.detail = Some(Text::new(en, es));
        self
    }
    /// A 422 with field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors, ..Self::new(ErrorCode::ValidationFailed) }
    }
    /// A 422 with a single field error.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }
    /// 404: missing, or belonging to another organization (indistinguishable on purpose).
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }
    /// 403 for a principal whose roles do not allow the operation.
    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden)
    }
    /// 409 for a state conflict.
    pub fn conflict(code: ErrorCode, en: impl Into<String>, es: impl Into<String>) -> Self {
        Self::new(code).detail(en, es)
    }
    /// `Ok` when the client's `If-Match` (`sent`) names the `current` version, else [`Self::stale`].
    pub fn check_version(current: i32, sent: i32) -> Result<(), Self> {
        if current == sent {
            Ok(())
        } else {
            Err(Self::stale(current, sent))
        }
    }

    /// 412: the client's `If-Match` names version `sent`, the resource is at `current`. The reply
    /// carries the current `ETag` and says how far the resource moved.
    pub fn stale(current: i32, sent: i32) -> Self {
        let moved = current - sent;
        let (changes_en, changes_es) = match moved {
            1 => ("1 change since you read it".to_string(), "1 cambio desde que lo leyó".to_string()),
            n if n > 1 => (format!("{n} changes since you read it"), format!("{n} cambios desde que lo leyó")),
            _ => (
                "this service never issued your version".to_string(),
                "este servicio nunca emitió su versión".to_string(),
            ),
        };
        let mut err = Self::new(ErrorCode::PreconditionFailed).detail(
            format!(
                "You sent If-Match: \"v{sent}\", but the resource is now \"v{current}\" ({changes_en}). Read it again, check the changes and retry with \
                 If-Match: \"v{current}\" (the ETag header of this reply)."
            ),
            format!(
                "Envió If-Match: \"v{sent}\", pero el recurso ahora está en \"v{current}\" ({changes_es}). Léalo de nuevo, revise los cambios y reintente con \
                 If-Match: \"v{current}\" (el encabezado ETag de esta respuesta)."
            ),
        );
        err.current_version = Some(current);
        err
    }

    /// Adds a sentence to the detail in both languages.
    pub fn and_detail(mut self, en: &str, es: &str) -> Self {
        self.detail = Some(match self.detail.take() {
            Some(d) => Text::new(format!("{} {en}", d.en), format!("{} {es}", d.es)),
            None => Text::new(en, es),
        });
        self
    }

    /// 500 wrapping an unexpected cause; the cause is logged, never sent.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self { source: Some(source.into()), ..Self::new(ErrorCode::Internal) }
    }
    /// Replaces the code, keeping detail and field errors (e.g. a 409 that names its field).
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }
    /// 429/503 with `Retry-After`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The problem body in the given language (`es` or anything else for English).
    pub fn problem(&self, spanish: bool) -> Problem {
        Problem {
            type_: format!("{PROBLEM_BASE}{}", self.code.as_str()),
            title: if spanish { self.code.title_es() } else { self.code.title_en() }.to_string(),
            status: self.code.status().as_u16(),
            detail: self.detail.as_ref().map(|d| if spanish { d.es.clone() } else { d.en.clone() }),
            instance: None,
            code: self.code,
            errors: if spanish {
                self.errors.iter().map(FieldError::in_spanish).collect()
            } else {
                self.errors.clone()
            },
            request_id: None,
        }
    }
}

/// Stored in the response extensions so the localisation middleware can re-render the body.
#[derive(Clone)]
pub struct ProblemSource {
    /// English rendering.
    pub en: Problem,
    /// Spanish rendering.
    pub es: Problem,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code == ErrorCode::Internal {
            tracing::error!(error = ?self.source, "internal error");
        } else if self.code == ErrorCode::ServiceUnavailable {
            tracing::warn!(error = ?self.source, "service unavailable");
        }
        let en = self.problem(false);
        let mut builder = HttpResponse::build(self.status_code());
        builder.content_type(PROBLEM_JSON);
        if let Some(version) = self.current_version {
            builder.insert_header((header::ETAG, format!("\"v{version}\"")));
        }
        if let Some(seconds) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if matches!(self.code, ErrorCode::Unauthenticated | ErrorCode::InvalidToken) {
            let value = if self.code == ErrorCode::InvalidToken {
                r#"Bearer realm="mejora", error="invalid_token""#
            } else {
                r#"Bearer realm="mejora""#
            };
            builder.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(value)));
        }
        let body = serde_json::to_vec(&en).unwrap_or_default();
        let mut response = builder.body(body);
        response.extensions_mut().insert(ProblemSource { en, es: self.problem(true) });
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        let unavailable = |err: &sea_orm::DbErr| ApiError {
            source: Some(anyhow::anyhow!(err.to_string())),
            ..ApiError::new(ErrorCode::ServiceUnavailable).retry_after(5)
        };
        match classify(&err) {
            DbFailure::UniqueViolation => ApiError::new(ErrorCode::AlreadyExists)
                .detail("Another record already uses that unique key", "Otro registro ya usa esa clave única"),
            DbFailure::ForeignKeyViolation => ApiError::new(ErrorCode::Conflict).detail(
                "A referenced record does not exist or is still referenced",
                "Un registro referenciado no existe o aún está referenciado",
            ),
            DbFailure::NotFound => ApiError::not_found(),
            DbFailure::Unavailable => unavailable(&err),
            DbFailure::Other => ApiError::internal(anyhow::anyhow!(err.to_string())),
        }
    }
}

/// What a database failure means to a client. Decided from the driver's error kind, the
/// PostgreSQL SQLSTATE and the SQLite result code, never from message text: servers translate
/// their messages (`lc_messages = 'es_CO.UTF-8'`), codes stay put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// Unique or primary key violation: 409 `already_exists`.
    UniqueViolation,
    /// Foreign key violation: 409 `conflict`.
    ForeignKeyViolation,
    /// The database cannot answer now (connection lost, shutting down, busy, out of
    /// resources, serialization failure): 503 with `Retry-After`.
    Unavailable,
    /// A row the operation needed is gone: 404.
    NotFound,
    /// Anything else: 500, cause logged.
    Other,
}

/// The database product that produced a coded error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbProduct {
    /// PostgreSQL: five-character SQLSTATE codes.
    Postgres,
    /// SQLite: numeric (extended) result codes.
    Sqlite,
}

/// Classifies a sea-orm error (see [`DbFailure`]).
pub fn classify(err: &sea_orm::DbErr) -> DbFailure {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => DbFailure::Unavailable,
        DbErr::RecordNotFound(_) => DbFailure::NotFound,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => classify_sqlx(e),
        _ => DbFailure::Other,
    }
}

/// Classifies a driver error by its kind and code.
pub fn classify_sqlx(err: &sea_orm::sqlx::Error) -> DbFailure {
    use sea_orm::sqlx::error::ErrorKind;
    use sea_orm::sqlx::Error;
    match err {
        Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => DbFailure::UniqueViolation,
            ErrorKind::ForeignKeyViolation => DbFailure::ForeignKeyViolation,
            _ => {
                let product = if db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
                    DbProduct::Sqlite
                } else {
                    DbProduct::Postgres
                };
                db.code().map_or(DbFailure::Other, |code| classify_code(product, &code))
            }
        },
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::BeginFailed => DbFailure::Unavailable,
        Error::RowNotFound => DbFailure::NotFound,
        _ => DbFailure::Other,
    }
}

/// Classifies a database error code. PostgreSQL: class 23 constraint codes; class 08
/// (connection exception), class 53 (insufficient resources), 57P01–57P03 (shutdown, crash,
/// cannot connect now), 40001 and 40P01 (serialization failure, deadlock: retry) are
/// transient. SQLite: the primary code (low byte of the extended code) 19 with extended
/// 2067/1555 (unique, primary key) and 787 (foreign key); BUSY 5, LOCKED 6, IOERR 10, FULL 13
/// and CANTOPEN 14 are transient.
pub fn classify_code(product: DbProduct, code: &str) -> DbFailure {
    match product {
        DbProduct::Postgres => match code {
            "23505" => DbFailure::UniqueViolation,
            "23503" => DbFailure::ForeignKeyViolation,
            "57P01" | "57P02" | "57P03" | "40001" | "40P01" => DbFailure::Unavailable,
            c if c.starts_with("08") || c.starts_with("53") => DbFailure::Unavailable,
            _ => DbFailure::Other,
        },
        DbProduct::Sqlite => match code.parse::<i32>() {
            Ok(2067 | 1555) => DbFailure::UniqueViolation,
            Ok(787) => DbFailure::ForeignKeyViolation,
            Ok(n) if matches!(n & 0xff, 5 | 6 | 10 | 13 | 14) => DbFailure::Unavailable,
            _ => DbFailure::Other,
        },
    }
}

/// Result alias used by services and handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_codes_are_classified_whatever_the_message_language() {
        use DbProduct::Postgres;
        assert_eq!(classify_code(Postgres, "23505"), DbFailure::UniqueViolation);
        assert_eq!(classify_code(Postgres, "23503"), DbFailure::ForeignKeyViolation);
        for transient in ["08006", "08001", "57P01", "57P03", "53300", "40001", "40P01"] {
            assert_eq!(classify_code(Postgres, transient), DbFailure::Unavailable, "{transient}");
        }
        for other in ["22001", "42P01", "23514", "XX000"] {
            assert_eq!(classify_code(Postgres, other), DbFailure::Other, "{other}");
        }
    }

    #[test]
    fn sqlite_extended_codes_are_classified() {
        use DbProduct::Sqlite;
        assert_eq!(classify_code(Sqlite, "2067"), DbFailure::UniqueViolation);
        assert_eq!(classify_code(Sqlite, "1555"), DbFailure::UniqueViolation);
        assert_eq!(classify_code(Sqlite, "787"), DbFailure::ForeignKeyViolation);
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_IOERR_READ, SQLITE_CANTOPEN.
        for transient in ["5", "517", "6", "266", "14"] {
            assert_eq!(classify_code(Sqlite, transient), DbFailure::Unavailable, "{transient}");
        }
        // SQLITE_CONSTRAINT_CHECK and SQLITE_ERROR are not retryable.
        assert_eq!(classify_code(Sqlite, "275"), DbFailure::Other);
        assert_eq!(classify_code(Sqlite, "1"), DbFailure::Other);
    }

    #[test]
    fn driver_error_kinds_without_codes_are_classified() {
        use sea_orm::sqlx::Error;
        let io = Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "conexión reiniciada"));
        assert_eq!(classify_sqlx(&io), DbFailure::Unavailable);
        assert_eq!(classify_sqlx(&Error::PoolTimedOut), DbFailure::Unavailable);
        assert_eq!(classify_sqlx(&Error::PoolClosed), DbFailure::Unavailable);
        assert_eq!(classify_sqlx(&Error::ColumnNotFound("x".into())), DbFailure::Other);
        let wrapped = sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(Error::PoolTimedOut)));
        assert_eq!(classify(&wrapped), DbFailure::Unavailable);
        // Message text plays no part: an English "connection refused" inside a generic error is not an outage.
        assert_eq!(classify(&sea_orm::DbErr::Custom("connection refused".into())), DbFailure::Other);
    }
}
