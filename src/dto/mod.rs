//! Wire types: request bodies (`Create…`, `Update…` as merge patch), responses (`…Response`
//! built from models) and list queries. Table models never go on the wire.
pub mod actions;
pub mod categories;
pub mod evidence;
pub mod finding_imports;
pub mod findings;
pub mod identity;
pub mod lenient;
pub mod objectives;
pub mod plan_lifecycle;
pub mod plan_matrix;
pub mod plans;
pub mod reporting_periods;
pub mod reports;
pub mod validate;

/// The bytes of a file (an upload or download body that is not JSON).
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);
