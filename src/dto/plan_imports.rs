//! Asynchronous uploads of plan matrices on the wire.
use crate::entities::enums::ImportStatus;
use crate::entities::plan_import;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A plan matrix sent with `Prefer: respond-async`, and how it ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanImportJobResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// `queued` → `running` → `succeeded` or `failed`.
    pub status: ImportStatus,
    /// Body format (`csv`, `xlsx`, `json`).
    #[schema(example = "csv")]
    pub format: String,
    /// SHA-256 of the uploaded bytes (hex).
    pub file_sha256: String,
    /// Size of the upload in bytes.
    pub size_bytes: u64,
    /// The draft plan created, once it succeeded (not for dry runs).
    pub plan_id: Option<Uuid>,
    /// `succeeded`: the reply the synchronous upload would have given.
    #[schema(value_type = Option<crate::dto::plan_matrix::PlanImportResponse>)]
    pub result: Option<serde_json::Value>,
    /// `failed`: the problem the synchronous upload would have answered (`import_rejected`
    /// with every row error, `validation_failed`, a plan code taken…).
    #[schema(value_type = Option<crate::error::Problem>)]
    pub problem: Option<serde_json::Value>,
    /// When it was received (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change of its status (UTC).
    pub updated_at: DateTime<Utc>,
    /// Who uploaded it.
    pub created_by: Option<Uuid>,
}

impl From<&plan_import::Model> for PlanImportJobResponse {
    fn from(m: &plan_import::Model) -> Self {
        PlanImportJobResponse {
            id: m.id,
            organization_id: m.organization_id,
            status: m.status,
            format: m.format.clone(),
            file_sha256: m.file_sha256.clone(),
            size_bytes: u64::try_from(m.size_bytes).unwrap_or(0),
            plan_id: m.plan_id,
            result: m.result.clone(),
            problem: m.problem.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            created_by: m.created_by,
        }
    }
}
