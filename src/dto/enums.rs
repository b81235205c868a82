//! The enumerations of the API. They are stored as they travel (one type for the column and
//! the wire, with Spanish and English labels), so their home is `crate::entities::enums`; this
//! module is how the HTTP layer names them, since routes never reach into `entities`.
pub use crate::entities::enums::*;
