//! The JSON body extractor of every handler. The body is read and parsed under the app's
//! `JsonConfig` (size limit, media type; broken syntax is 400 `invalid_json`), then turned into
//! the request type with `serde_path_to_error`, so a well-formed body with wrong values is a
//! 422 `validation_failed` whose `errors[]` name the JSON path, the rule and, for
//! enumerations, the allowed values — in English and Spanish.
use crate::error::{ApiError, FieldError};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// A JSON request body of type `T` (use in handlers instead of `actix_web::web::Json`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parsed = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = parsed.await?;
            serde_path_to_error::deserialize::<_, T>(value)
                .map(Json)
                .map_err(|e| ApiError::validation(vec![field_error(&e)]).into())
        })
    }
}

/// The field error for a body that parsed as JSON but does not fit the request type.
pub fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let text = e.inner().to_string();
    let join = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
    if let Some(name) = between(&text, "missing field `", "`") {
        return FieldError::new(join(name), "required", "is required").with_spanish("es obligatorio");
    }
    if let Some(name) = between(&text, "unknown field `", "`") {
        let field = if path.ends_with(name) { path.clone() } else { join(name) };
        let allowed = expected_list(&text);
        let (en, es) = if allowed.is_empty() {
            ("is not a field of this request".to_string(), "no es un campo de esta solicitud".to_string())
        } else {
            (
                format!("is not a field of this request; the fields are: {allowed}"),
                format!("no es un campo de esta solicitud; los campos son: {allowed}"),
            )
        };
        return FieldError::new(field, "unknown_field", en).with_spanish(es);
    }
    let field = if path.is_empty() { "body".to_string() } else { path };
    if let Some(value) = between(&text, "unknown variant `", "`") {
        let allowed = expected_list(&text);
        return FieldError::new(&field, "invalid_enum", format!("`{value}` is not allowed; use one of: {allowed}"))
            .with_spanish(format!("`{value}` no está permitido; use uno de: {allowed}"));
    }
    if let Some(rest) = text.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "another type"));
        if got == "null" {
            return FieldError::new(&field, "required", "must not be null: give a value or leave the field out")
                .with_spanish("no puede ser null: dé un valor u omita el campo");
        }
        return FieldError::new(&field, "invalid_type", format!("must be {expected}, not {got}"))
            .with_spanish(format!("debe ser {}, no {}", kind_es(expected), kind_es(got)));
    }
    if is_date_error(&text) {
        return FieldError::new(&field, "invalid_date", format!("must be a date as YYYY-MM-DD ({text})"))
            .with_spanish("debe ser una fecha AAAA-MM-DD");
    }
    if text.starts_with("UUID parsing failed") || text.contains("expected an optional prefix of `urn:uuid:`") {
        return FieldError::new(&field, "invalid_uuid", "must be a UUID such as 0193a5f0-7c3e-7d41-9b8a-2f6c1e0d9a77")
            .with_spanish("debe ser un UUID como 0193a5f0-7c3e-7d41-9b8a-2f6c1e0d9a77");
    }
    if text.starts_with("Invalid decimal") || text.contains("decimal") {
        return FieldError::new(&field, "invalid_number", "must be a decimal number such as \"1500000.50\"")
            .with_spanish("debe ser un número decimal como \"1500000.50\"");
    }
    if let Some(rest) = text.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "another value"));
        return FieldError::new(&field, "invalid_value", format!("must be {expected}, not {got}"))
            .with_spanish(format!("debe ser {}, no {}", kind_es(expected), kind_es(got)));
    }
    if let Some(rest) = text.strip_prefix("invalid length ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "another length"));
        return FieldError::new(&field, "invalid_length", format!("must have {expected}, not {got}"))
            .with_spanish(format!("debe tener {expected}, no {got}"));
    }
    FieldError::new(&field, "invalid_value", text.clone()).with_spanish(format!("valor inválido: {text}"))
}

/// The text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// `a, b, c` from serde's "expected one of `a`, `b`, `c`" (or "expected `a`").
fn expected_list(text: &str) -> String {
    let Some(at) = text.find("expected ") else { return String::new() };
    text[at..].split('`').skip(1).step_by(2).collect::<Vec<_>>().join(", ")
}

/// Messages of chrono's date parser, which serde passes through unchanged.
fn is_date_error(text: &str) -> bool {
    [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
        "invalid date `",
    ]
    .iter()
    .any(|m| text.starts_with(m))
}

/// Spanish for serde's descriptions of JSON kinds ("a string", "integer `5`", "a sequence").
fn kind_es(kind: &str) -> String {
    let table = [
        ("a string", "un texto"),
        ("a sequence", "una lista"),
        ("a boolean", "un booleano"),
        ("a map", "un objeto"),
        ("a valid date", "una fecha válida"),
        ("a UUID string", "un UUID"),
        ("string ", "el texto "),
        ("integer ", "el entero "),
        ("floating point ", "el número "),
        ("boolean ", "el booleano "),
        ("sequence", "una lista"),
        ("map", "un objeto"),
        ("struct ", "un objeto "),
        ("enum ", "un valor de "),
        ("an integer", "un número entero"),
        ("a number", "un número"),
    ];
    for (en, es) in table {
        if let Some(rest) = kind.strip_prefix(en) {
            return format!("{es}{rest}");
        }
    }
    match kind {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            format!("un número entero ({kind})")
        }
        "f32" | "f64" => "un número".to_string(),
        other => other.to_string(),
    }
}
