//! Keyset pagination: `?limit=&cursor=`, replies `{items, next_cursor}`. The cursor is an
//! opaque token holding the sort key and id of the last row returned, so the next page is a
//! range scan on an index whatever its depth.
use crate::error::{ApiError, ErrorCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Default page size.
pub const DEFAULT_LIMIT: u64 = 50;
/// Largest page size.
pub const MAX_LIMIT: u64 = 500;

/// Page size and position, shared by every list operation: the one definition of `limit` and
/// `cursor` in the API document (list handlers name `PageParams` in their `params(...)`; list
/// queries carry the two fields undocumented, `#[param(ignore)]`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Opaque cursor from a previous page's `next_cursor`, valid only with the same `sort`.
    pub cursor: Option<String>,
}

/// Position after the last row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Sort key of the last row (`null` when sorting by id only or the key was null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<serde_json::Value>,
    /// Id of the last row (tie-breaker).
    pub id: Uuid,
    /// Which sort the cursor belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
}

impl Cursor {
    /// Encodes the cursor as an opaque token.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Decodes a token produced by [`Cursor::encode`]; 400 `invalid_cursor` otherwise.
    pub fn decode(token: &str) -> Result<Self, ApiError> {
        URL_SAFE_NO_PAD
            .decode(token.as_bytes())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidCursor))
    }
}

impl PageParams {
    /// The validated page size.
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::new(ErrorCode::InvalidQuery).detail(
                format!("limit must be between 1 and {MAX_LIMIT}"),
                format!("limit debe estar entre 1 y {MAX_LIMIT}"),
            )),
        }
    }

    /// The decoded cursor, checked to belong to `sort`.
    pub fn cursor(&self, sort: &str) -> Result<Option<Cursor>, ApiError> {
        match self.cursor.as_deref() {
            None | Some("") => Ok(None),
            Some(token) => {
                let cursor = Cursor::decode(token)?;
                if cursor.s.as_deref().unwrap_or("") != sort {
                    return Err(ApiError::new(ErrorCode::InvalidCursor)
                        .detail("The cursor belongs to another sort order", "El cursor pertenece a otro orden"));
                }
                Ok(Some(cursor))
            }
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Cursor for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only signals that more exist.
    pub fn from_rows<R>(
        mut rows: Vec<R>, limit: u64, sort: &str, key: impl Fn(&R) -> (Option<serde_json::Value>, Uuid),
        map: impl FnMut(R) -> T,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| {
                let (k, id) = key(last);
                Cursor { k, id, s: (!sort.is_empty()).then(|| sort.to_string()) }.encode()
            })
        } else {
            None
        };
        Page { items: rows.into_iter().map(map).collect(), next_cursor }
    }
}
