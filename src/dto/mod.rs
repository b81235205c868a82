//! Wire types: request bodies (`Create…`, `Update…` as merge patch), responses (`…Response`
//! built from models), list queries and pages. Table models never go on the wire. Plain serde
//! and utoipa types: nothing from actix, `crate::http` or `crate::services` (the architecture
//! test checks it). Types shared by every resource (bookkeeping, pages, merge-patch fields,
//! file bodies) are in [`common`], [`pagination`] and [`patch`].
pub mod actions;
pub mod categories;
pub mod common;
pub mod enums;
pub mod evidence;
pub mod finding_imports;
pub mod findings;
pub mod identity;
pub mod lenient;
pub mod notifications;
pub mod objectives;
pub mod pagination;
pub mod patch;
pub mod paths;
pub mod plan_imports;
pub mod plan_lifecycle;
pub mod plan_matrix;
pub mod plans;
pub mod reporting_periods;
pub mod reports;
pub mod risks;
pub mod validate;
pub mod webhooks;

pub use common::FileBytes;
