//! Field checks shared by request bodies; each failure names its field.
use crate::error::{ApiError, FieldError};

/// Collects field errors and turns them into one 422.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    /// An empty set of checks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error.
    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// The errors recorded so far (bulk uploads locate them at their row).
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// Records `error` when present.
    pub fn add(&mut self, error: Option<FieldError>) {
        if let Some(e) = error {
            self.0.push(e);
        }
    }

    /// A required text: trimmed, not blank, at most `max` characters, no NUL.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(field, "blank", "must not be blank");
        }
        self.optional_text(field, Some(value), max);
    }

    /// An optional text: at most `max` characters, no NUL.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.push(field, "too_long", format!("must be at most {max} characters"));
            }
            if v.contains('\0') {
                self.push(field, "invalid_character", "must not contain NUL characters");
            }
        }
    }

    /// A number within bounds.
    pub fn range<T: PartialOrd + std::fmt::Display>(&mut self, field: &str, value: Option<T>, min: T, max: T) {
        if let Some(v) = value {
            if v < min || v > max {
                self.push(field, "out_of_range", format!("must be between {min} and {max}"));
            }
        }
    }

    /// A plausible e-mail address.
    pub fn email(&mut self, field: &str, value: &str) {
        // Kept equal to the pattern in the OpenAPI schema of the e-mail fields.
        let parts: Vec<&str> = value.split('@').collect();
        let ok = value.chars().count() <= 254
            && parts.len() == 2
            && !parts[0].is_empty()
            && parts[1].split('.').count() >= 2
            && parts[1].split('.').all(|label| !label.is_empty())
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            self.push(field, "invalid_email", "must be an e-mail address");
        }
    }

    /// Runs one validation function on `value`: 422 with every error it records, or `Ok`.
    pub fn run<T: ?Sized>(check: impl FnOnce(&mut Checks, &T), value: &T) -> Result<(), ApiError> {
        let mut c = Checks::new();
        check(&mut c, value);
        c.finish()
    }

    /// 422 with every recorded error, or `Ok`.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// Rejects query text the database cannot hold (NUL) with a 400 naming the parameter.
pub fn query_text(name: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.contains('\0') || v.chars().count() > max => {
            Err(ApiError::new(crate::error::ErrorCode::InvalidQuery).detail(
                format!("{name} must have at most {max} characters and no NUL"),
                format!("{name} debe tener como máximo {max} caracteres y ningún NUL"),
            ))
        }
        _ => Ok(()),
    }
}
