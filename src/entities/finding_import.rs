//! `finding_import`: one bulk upload of findings with its counts and first row errors.
use super::enums::{ConflictPolicy, ImportFormat, ImportMode, ImportStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "finding_import")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub format: ImportFormat,
    pub mode: ImportMode,
    pub dry_run: bool,
    pub on_conflict: ConflictPolicy,
    pub status: ImportStatus,
    pub file_sha256: String,
    pub size_bytes: i64,
    pub received: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub error_count: i64,
    pub errors: Json,
    /// Warnings of the upload (columns it ignored), if any.
    pub warnings: Option<Json>,
    pub duration_ms: i64,
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub version: i32,
    /// Asynchronous uploads: the options the runner reads the spooled body with.
    pub options: Option<Json>,
    /// Asynchronous uploads: key of the spooled body in the object store, until it ran.
    pub storage_key: Option<String>,
    /// Asynchronous uploads: until when the runner that claimed it holds it (a dead runner's
    /// import is claimed again after this).
    pub lease_until: Option<DateTimeUtc>,
    /// Asynchronous uploads: how many times a runner claimed it.
    pub attempts: i32,
    /// An upload that failed as a whole (unreadable file, missing columns): the problem the
    /// synchronous reply would have been.
    pub problem: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
