//! Query parameters checked against the schema the OpenAPI document gives them (bounds,
//! lengths, patterns), before any handler runs: what the document promises is what the service
//! enforces, with one 400 `invalid_query` naming the parameter. Serde only checks the type, so
//! without this `GET /findings?fiscal_year=-858` was answered although the documented minimum
//! is 1900.
use crate::error::{ApiError, ErrorCode};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

/// What the document says one query parameter's values must satisfy.
#[derive(Debug, Clone, Default)]
struct Rule {
    name: String,
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<regex::Regex>,
}

impl Rule {
    fn from_schema(name: &str, schema: &serde_json::Value) -> Option<Self> {
        let rule = Rule {
            name: name.to_string(),
            minimum: schema["minimum"].as_f64(),
            maximum: schema["maximum"].as_f64(),
            min_length: schema["minLength"].as_u64().and_then(|n| usize::try_from(n).ok()),
            max_length: schema["maxLength"].as_u64().and_then(|n| usize::try_from(n).ok()),
            pattern: schema["pattern"].as_str().and_then(|p| regex::Regex::new(p).ok()),
        };
        let constrained = rule.minimum.is_some()
            || rule.maximum.is_some()
            || rule.min_length.is_some()
            || rule.max_length.is_some()
            || rule.pattern.is_some();
        constrained.then_some(rule)
    }

    /// `None` when `value` conforms; otherwise what it must be.
    fn violation(&self, value: &str) -> Option<String> {
        if self.minimum.is_some() || self.maximum.is_some() {
            // Values that are not numbers are left to the typed extractor (400 as well).
            if let Ok(n) = value.trim().parse::<f64>() {
                let low = self.minimum.is_some_and(|min| n < min);
                let high = self.maximum.is_some_and(|max| n > max);
                if low || high {
                    return Some(match (self.minimum, self.maximum) {
                        (Some(min), Some(max)) => format!("between {min} and {max}"),
                        (Some(min), None) => format!("at least {min}"),
                        (_, Some(max)) => format!("at most {max}"),
                        (None, None) => String::new(),
                    });
                }
            }
        }
        let chars = value.chars().count();
        if self.min_length.is_some_and(|min| chars < min) || self.max_length.is_some_and(|max| chars > max) {
            return Some(match (self.min_length, self.max_length) {
                (Some(min), Some(max)) => format!("{min} to {max} characters long"),
                (Some(min), None) => format!("at least {min} characters long"),
                (_, Some(max)) => format!("at most {max} characters long"),
                (None, None) => String::new(),
            });
        }
        if self.pattern.as_ref().is_some_and(|p| !p.is_match(value)) {
            return Some(match value.contains('\0') {
                true => "free of NUL characters".to_string(),
                false => format!("of the form {}", self.pattern.as_ref().map(regex::Regex::as_str).unwrap_or("")),
            });
        }
        None
    }
}

/// The constrained query parameters of every documented operation.
#[derive(Debug, Default, Clone)]
pub struct QueryRules {
    operations: Vec<(Vec<String>, Method, Vec<Rule>)>,
}

impl QueryRules {
    /// Reads the rules from the generated OpenAPI document.
    pub fn from_openapi(api: &OpenApi) -> Self {
        let mut operations = Vec::new();
        for (path, item) in &api.paths.paths {
            let segments: Vec<String> = path.trim_matches('/').split('/').map(str::to_string).collect();
            let ops = [
                (Method::GET, item.get.as_ref()),
                (Method::POST, item.post.as_ref()),
                (Method::PUT, item.put.as_ref()),
                (Method::PATCH, item.patch.as_ref()),
                (Method::DELETE, item.delete.as_ref()),
            ];
            for (method, op) in ops {
                let rules = op.map(rules_of).unwrap_or_default();
                if !rules.is_empty() {
                    operations.push((segments.clone(), method, rules));
                }
            }
        }
        Self { operations }
    }

    /// Rules of the operation `method path`; the most specific documented path wins.
    fn of(&self, method: &Method, path: &str) -> Option<&[Rule]> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, &[Rule])> = None;
        for (segments, m, rules) in &self.operations {
            let matches = m == method
                && segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if !matches {
                continue;
            }
            let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
            if best.is_none_or(|(score, _)| literal > score) {
                best = Some((literal, rules));
            }
        }
        best.map(|(_, rules)| rules)
    }
}

fn rules_of(op: &Operation) -> Vec<Rule> {
    let mut rules = Vec::new();
    for parameter in op.parameters.iter().flatten() {
        // Enumerations are `$ref`s and checked by the typed extractor; constraints sit inline.
        let RefOr::T(parameter) = parameter else { continue };
        if !matches!(parameter.parameter_in, ParameterIn::Query) {
            continue;
        }
        let Some(RefOr::T(schema)) = &parameter.schema else { continue };
        let Ok(schema) = serde_json::to_value(schema) else { continue };
        rules.extend(Rule::from_schema(&parameter.name, &schema));
    }
    rules
}

/// Middleware: 400 `invalid_query` when a query parameter breaks its documented schema.
pub async fn check(
    req: ServiceRequest, next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let failure = req.app_data::<web::Data<QueryRules>>().and_then(|table| {
        let rules = table.of(req.method(), req.path())?;
        url::form_urlencoded::parse(req.query_string().as_bytes()).find_map(|(name, value)| {
            let rule = rules.iter().find(|r| r.name == name)?;
            rule.violation(&value).map(|must| (name.into_owned(), must))
        })
    });
    if let Some((name, must)) = failure {
        let err = ApiError::new(ErrorCode::InvalidQuery)
            .detail(format!("{name} must be {must}"), format!("{name} debe ser {}", spanish(&must)));
        if !req.headers().contains_key(actix_web::http::header::AUTHORIZATION) {
            return Ok(req.error_response(err));
        }
        // A caller who presents a token learns first whether it may call the operation at all
        // (401/403 from `Auth`, which takes this refusal and answers it only when allowed).
        // Every operation with query parameters is protected (none of the public ones has any).
        actix_web::HttpMessage::extensions_mut(&req).insert(crate::auth::Deferred(err));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The Spanish wording of a rule's requirement.
fn spanish(must: &str) -> String {
    must.replace("between", "entre")
        .replace(" and ", " y ")
        .replace("at least", "al menos")
        .replace("at most", "como máximo")
        .replace("characters long", "caracteres")
        .replace(" to ", " a ")
        .replace("free of NUL characters", "sin caracteres NUL")
        .replace("of the form", "de la forma")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounds_lengths_and_patterns_are_checked() {
        let year = Rule::from_schema("fiscal_year", &json!({"minimum": 1900, "maximum": 2200})).unwrap();
        assert_eq!(year.violation("-858").as_deref(), Some("between 1900 and 2200"));
        assert_eq!(year.violation("2024"), None);
        assert_eq!(year.violation("abc"), None);
        let q = Rule::from_schema("q", &json!({"maxLength": 3, "pattern": "^[^\\x00]*$"})).unwrap();
        assert_eq!(q.violation("abcd").as_deref(), Some("at most 3 characters long"));
        assert_eq!(q.violation("a\0").as_deref(), Some("free of NUL characters"));
        assert_eq!(q.violation("ñañ"), None);
        assert!(Rule::from_schema("plain", &json!({"type": "string"})).is_none());
    }
}
