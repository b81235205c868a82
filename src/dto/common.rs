//! Response types shared by every resource: bookkeeping fields, entity tags, amounts, file
//! bodies.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Bookkeeping fields every resource carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Meta {
    /// When the row was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When the row last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Who changed it last.
    pub updated_by: Option<Uuid>,
    /// Row version; the `ETag` is `"v{version}"`.
    pub version: i32,
}

/// Builds the [`Meta`] of any model that has the bookkeeping columns.
#[macro_export]
macro_rules! meta_of {
    ($m:expr) => {
        $crate::dto::common::Meta {
            created_at: $m.created_at,
            updated_at: $m.updated_at,
            created_by: $m.created_by,
            updated_by: $m.updated_by,
            version: $m.version,
        }
    };
}

/// The bytes of a file (an upload or download body that is not JSON).
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// The entity tag of a row version, as the `ETag` and `If-Match` headers carry it: `"v3"`.
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// A decimal amount as the API writes it: two decimals (`15000000.00`).
pub fn money(amount: Decimal) -> String {
    let mut d = amount.round_dp(2);
    d.rescale(2);
    d.to_string()
}
