//! JSON merge patch (RFC 7396) fields: absent means "leave as is", `null` means "clear".
use serde::{Deserialize, Deserializer};

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
/// Use with `#[serde(default, deserialize_with = "crate::dto::patch::nullable")]`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Applies a merge-patch value to a required field: absent keeps, a value replaces.
pub fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

/// Applies a merge-patch value to an optional field: absent keeps, `null` clears, a value replaces.
pub fn set_nullable<T>(target: &mut Option<T>, value: Option<Option<T>>) {
    if let Some(v) = value {
        *target = v;
    }
}

/// Deserializes a merge-patch field that may be absent (`None`) or a value, but never `null`:
/// a required field cannot be cleared, so `null` is a 422 naming it rather than a silent no-op.
/// Use with `#[serde(default, deserialize_with = "crate::dto::patch::required")]`.
pub fn required<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}
