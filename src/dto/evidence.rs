//! Follow-up evidence and its files on the wire.
use crate::dto::common::Meta;
use crate::entities::enums::ReviewStatus;
use crate::entities::{evidence, evidence_file};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A stored evidence file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileResponse {
    /// Id.
    pub id: Uuid,
    /// Evidence it belongs to.
    pub evidence_id: Uuid,
    /// File name given by the uploader (for display and download only).
    #[schema(example = "acta-comite.pdf")]
    pub name: String,
    /// Media type detected from the bytes.
    #[schema(example = "application/pdf")]
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Where to download it.
    #[schema(example = "/api/v1/files/0190b6f0-0000-7000-8000-000000000000/content")]
    pub content_url: String,
    /// When it was uploaded (UTC).
    pub created_at: DateTime<Utc>,
    /// Who uploaded it.
    pub created_by: Option<Uuid>,
}

impl From<evidence_file::Model> for FileResponse {
    fn from(m: evidence_file::Model) -> Self {
        FileResponse {
            content_url: format!("/api/v1/files/{}/content", m.id),
            id: m.id,
            evidence_id: m.evidence_id,
            name: m.name,
            media_type: m.media_type,
            size: m.size,
            sha256: m.sha256,
            created_at: m.created_at,
            created_by: m.created_by,
        }
    }
}

/// Follow-up evidence of an action.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Evidence)]
pub struct EvidenceResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Action it reports on.
    pub action_id: Uuid,
    /// Cut-off date of the report (corte).
    #[schema(example = "2025-06-30")]
    pub cut_off_date: NaiveDate,
    /// Date the evidence represents (may differ from the upload date).
    pub evidence_date: Option<NaiveDate>,
    /// What was done.
    pub description: String,
    /// Quantity delivered, in the action's unit.
    pub reported_quantity: Option<f64>,
    /// Links (document management system, repositories).
    pub links: Vec<String>,
    /// Files.
    pub files: Vec<FileResponse>,
    /// Review state; `accepted` evidence is immutable.
    pub review_status: ReviewStatus,
    /// Auditor who reviewed it.
    pub reviewed_by: Option<Uuid>,
    /// When it was reviewed.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Reviewer's note.
    pub review_note: Option<String>,
    /// Bookkeeping (`created_by` is who reported it).
    #[serde(flatten)]
    pub meta: Meta,
}

impl EvidenceResponse {
    /// The evidence with its files.
    pub fn new(m: evidence::Model, files: Vec<evidence_file::Model>) -> Self {
        EvidenceResponse {
            id: m.id,
            organization_id: m.organization_id,
            action_id: m.action_id,
            cut_off_date: m.cut_off_date,
            evidence_date: m.evidence_date,
            description: m.description,
            reported_quantity: m.reported_quantity,
            links: m.links.0,
            files: files.into_iter().map(FileResponse::from).collect(),
            review_status: m.review_status,
            reviewed_by: m.reviewed_by,
            reviewed_at: m.reviewed_at,
            review_note: m.review_note,
            meta: crate::meta_of!(m),
        }
    }
}

/// New evidence on an action of an approved or running plan; files are added afterwards with
/// `POST /evidence/{id}/files`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvidenceRequest {
    /// Cut-off date of the report.
    #[schema(example = "2025-06-30")]
    pub cut_off_date: NaiveDate,
    /// Date the evidence represents.
    #[serde(default)]
    pub evidence_date: Option<NaiveDate>,
    /// What was done.
    #[schema(min_length = 1, max_length = 20000, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub description: String,
    /// Quantity delivered, in the action's unit (0 or more).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000000000.0_f64)]
    pub reported_quantity: Option<f64>,
    /// `http` or `https` links.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub links: Vec<String>,
}

/// Changes to evidence that is not accepted (merge patch); it goes back to `submitted`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEvidenceRequest {
    /// Cut-off date.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub cut_off_date: Option<NaiveDate>,
    /// Date the evidence represents.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub evidence_date: Option<Option<NaiveDate>>,
    /// What was done.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 20000, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    /// Quantity delivered.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1000000000000.0_f64)]
    pub reported_quantity: Option<Option<f64>>,
    /// Links (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(max_items = 50)]
    #[schema(nullable = false)]
    pub links: Option<Vec<String>>,
}

/// An auditor's review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewEvidenceRequest {
    /// `accepted`, `rejected` or `needs_changes`.
    pub status: ReviewStatus,
    /// Note; required unless accepting.
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
}

/// Filters of the evidence list (oldest first).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvidenceListQuery {
    /// Only evidence of this action.
    pub action_id: Option<Uuid>,
    /// Only evidence in this review state (e.g. the `submitted` review queue).
    pub review_status: Option<ReviewStatus>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// A multipart upload with one part named `file`.
#[derive(Debug, ToSchema)]
pub struct UploadFileForm {
    /// The file (PDF, image, office document, CSV, plain text or ZIP); its type is detected from its bytes.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}
