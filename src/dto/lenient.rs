//! Integer fields that accept `2025.0` as well as `2025`: JSON Schema (and so the OpenAPI
//! contract) counts a number with a zero fraction as an integer, and generated clients send it.
//! Use with `#[serde(default, deserialize_with = "crate::dto::lenient::…")]`. Dates: ISO or the
//! Colombian day-first form, shared with the bulk upload of findings.
use chrono::NaiveDate;
use serde::de::Error;
use serde::{Deserialize, Deserializer};

fn to_i32<E: Error>(n: serde_json::Number) -> Result<i32, E> {
    let value = match n.as_i64() {
        Some(i) => Some(i),
        None => n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64),
    };
    value
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| E::custom(format!("invalid value: {n}, expected an integer")))
}

/// A required integer.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    to_i32(serde_json::Number::deserialize(d)?)
}

/// An optional integer (`null` or absent → `None`).
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?.map(to_i32).transpose()
}

/// A merge-patch integer of a required field: absent → `None`; `null` is refused.
pub fn patch_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    to_i32(serde_json::Number::deserialize(d)?).map(Some)
}

/// A merge-patch integer: absent → `None`, `null` → `Some(None)`.
pub fn nullable_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i32>>, D::Error> {
    opt_int(d).map(Some)
}

/// Parses a date written `YYYY-MM-DD` or `DD/MM/YYYY` (one-digit day and month accepted).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.contains('/') {
        let mut parts = text.split('/');
        let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || d.is_empty() || d.len() > 2 || m.is_empty() || m.len() > 2 {
            return None;
        }
        NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    } else {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| text.len() == 10)
    }
}

/// An optional date as [`parse_date`] reads it, where `""` is absent (as spreadsheets export a
/// blank cell).
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else { return Ok(None) };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse_date(text)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("invalid date `{text}`, expected YYYY-MM-DD or DD/MM/YYYY")))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::int")]
        a: i32,
        #[serde(default, deserialize_with = "super::opt_int")]
        b: Option<i32>,
        #[serde(default, deserialize_with = "super::nullable_int")]
        c: Option<Option<i32>>,
    }

    #[test]
    fn integral_floats_are_integers_and_fractions_are_refused() {
        let t: T = serde_json::from_str(r#"{"a": 2025.0, "b": 3, "c": null}"#).unwrap();
        assert_eq!((t.a, t.b, t.c), (2025, Some(3), Some(None)));
        let t: T = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        assert_eq!((t.b, t.c), (None, None));
        assert!(serde_json::from_str::<T>(r#"{"a": 1.5}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": "1"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": 1e12}"#).is_err());
    }

    #[derive(serde::Deserialize)]
    struct D {
        #[serde(default, deserialize_with = "super::opt_date")]
        d: Option<chrono::NaiveDate>,
    }

    #[test]
    fn dates_take_blank_iso_and_colombian_forms() {
        let date = |s: &str| serde_json::from_str::<D>(s).map(|d| d.d.map(|d| d.to_string()));
        assert_eq!(date(r#"{"d": ""}"#).unwrap(), None);
        assert_eq!(date(r#"{}"#).unwrap(), None);
        assert_eq!(date(r#"{"d": null}"#).unwrap(), None);
        assert_eq!(date(r#"{"d": "2024-03-05"}"#).unwrap().as_deref(), Some("2024-03-05"));
        assert_eq!(date(r#"{"d": "05/03/2024"}"#).unwrap().as_deref(), Some("2024-03-05"));
        assert!(date(r#"{"d": "marzo"}"#).is_err());
    }
}
