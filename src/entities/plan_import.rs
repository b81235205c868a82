//! `plan_import`: an asynchronous upload of a plan matrix (`Prefer: respond-async`), from
//! `queued` to `succeeded` (its `result` is the synchronous reply) or `failed` (`problem`).
use super::enums::ImportStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_import")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: ImportStatus,
    /// `csv`, `xlsx` or `json`.
    pub format: String,
    /// The query of the upload and its uploader.
    pub options: Json,
    /// Key of the body in the object store, until it ran.
    pub storage_key: Option<String>,
    pub file_sha256: String,
    pub size_bytes: i64,
    /// Until when the runner that claimed it holds it.
    pub lease_until: Option<DateTimeUtc>,
    /// How many times a runner claimed it.
    pub attempts: i32,
    /// The reply of the synchronous upload (`PlanImportResponse`), once it succeeded.
    pub result: Option<Json>,
    /// The problem of the synchronous upload, once it failed.
    pub problem: Option<Json>,
    /// The draft plan created.
    pub plan_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
