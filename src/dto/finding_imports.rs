//! Bulk uploads of findings on the wire.
use crate::entities::enums::{
    Classification, ConflictPolicy, FindingSource, FindingStatus, ImportFormat, ImportMode, ImportStatus, Severity,
};
use crate::entities::finding_import;
use crate::error::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How many row errors an import record keeps (the count covers all of them).
pub const STORED_ERRORS_MAX: usize = 1000;

/// Options of a bulk upload.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `atomic` (default): any invalid row rejects the file and nothing is written (422);
    /// `partial`: valid rows are written and invalid rows reported.
    pub mode: Option<ImportMode>,
    /// `true`: validate and report what would happen, without writing findings.
    pub dry_run: Option<bool>,
    /// For rows whose natural key (source, report code, finding code) exists: `skip` (default)
    /// keeps the stored finding; `update` overwrites it with the row's non-empty values (status,
    /// plan link and recurrence are never changed by an upload; closed findings are never
    /// changed: such rows are rejected with `finding_closed`).
    pub on_conflict: Option<ConflictPolicy>,
    /// XLSX: the sheet to read, by name (default: the first sheet).
    #[param(max_length = 100)]
    pub sheet: Option<String>,
    /// `true`: refuse a file with columns that are not findings columns (422 `unknown_column`);
    /// by default they are ignored and listed in `warnings`.
    pub strict: Option<bool>,
}

/// One finding in a JSON upload: the fields of a new finding, with the same leniency as CSV
/// cells (enumerations by code or label, dates `YYYY-MM-DD` or `DD/MM/YYYY`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportFindingRow {
    /// Source, by code or label (`internal_audit`, `Contraloría`).
    pub source: FindingSource,
    /// Auditor or auditing body.
    pub auditor: Option<String>,
    /// Code of the audit report.
    pub report_code: String,
    /// Date of the report (`YYYY-MM-DD` or `DD/MM/YYYY`).
    pub report_date: Option<NaiveDate>,
    /// Fiscal year audited.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    pub fiscal_year: Option<i32>,
    /// Finding code as written in the report.
    pub finding_code: String,
    /// Short title.
    pub title: String,
    /// Condition.
    pub condition: Option<String>,
    /// Criterion.
    pub criterion: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// Effect.
    pub effect: Option<String>,
    /// Classification, by code or label (`No conformidad menor`).
    pub classification: Option<Classification>,
    /// Severity, by code or label (`Alta`).
    pub severity: Option<Severity>,
    /// Status of a new finding (default `open`).
    pub status: Option<FindingStatus>,
    /// Requirement references: an array, or one text separated by `,` or `|`.
    pub requirements: Option<Vec<String>>,
    /// Presumed incidence of a comptroller finding (`disciplinaria`, `fiscal`, `penal`,
    /// `sancionatoria`, by code or label): an array, or one text separated by `,` or `|`.
    pub presumed_incidence: Option<Vec<String>>,
    /// Amount of the presumed fiscal incidence in COP (`125000000.50` or `$ 125.000.000,50`).
    #[schema(value_type = Option<String>)]
    pub fiscal_amount: Option<String>,
}

/// A bulk upload as `multipart/form-data`: one part named `file`.
#[derive(Debug, ToSchema)]
#[schema(max_properties = 1)]
pub struct ImportFileForm {
    /// The file. Its part's `Content-Type` names the format (`text/csv`, `application/json`,
    /// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, optionally with a
    /// `charset`); without one (or with `application/octet-stream`) the file name's extension
    /// (`.csv`, `.json`, `.xlsx`) does.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
}

/// Row counts of a bulk upload.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportCounts {
    /// Data rows in the file (blank rows are not counted).
    pub received: u64,
    /// Findings created.
    pub created: u64,
    /// Existing findings changed (`on_conflict=update`).
    pub updated: u64,
    /// Rows whose finding already existed and was left as it was.
    pub unchanged: u64,
    /// Invalid rows (including repeats of a natural key within the file).
    pub rejected: u64,
}

/// A bulk upload, without its row errors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Body format.
    pub format: ImportFormat,
    /// What was done with invalid rows.
    pub mode: ImportMode,
    /// Whether it only validated (nothing was written).
    pub dry_run: bool,
    /// What was done with existing natural keys.
    pub on_conflict: ConflictPolicy,
    /// Outcome.
    pub status: ImportStatus,
    /// SHA-256 of the uploaded bytes (hex).
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub file_sha256: String,
    /// Size of the upload in bytes.
    pub size_bytes: u64,
    /// Row counts.
    pub counts: ImportCounts,
    /// Row errors found (the record keeps the first 1000).
    pub error_count: u64,
    /// Processing time in milliseconds.
    pub duration_ms: u64,
    /// When it ran (UTC).
    pub created_at: DateTime<Utc>,
    /// Who uploaded it.
    pub created_by: Option<Uuid>,
}

/// A bulk upload with its row errors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportResponse {
    /// The upload.
    #[serde(flatten)]
    pub summary: ImportSummary,
    /// Row errors, at most the first 1000. `row` is the row number a spreadsheet shows (the
    /// header is row 1, the first data row 2; for JSON, the element's position from 1); `field`
    /// names the column as the file's header wrote it (`severidad`).
    pub errors: Vec<FieldError>,
    /// What the upload ignored: columns that are not findings columns (`unknown_column`).
    pub warnings: Vec<FieldError>,
    /// An asynchronous upload that `failed` as a whole (a file that cannot be read, missing
    /// columns): the problem the synchronous reply would have answered. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::error::Problem>)]
    pub problem: Option<serde_json::Value>,
}

impl From<&finding_import::Model> for ImportSummary {
    fn from(m: &finding_import::Model) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        ImportSummary {
            id: m.id,
            organization_id: m.organization_id,
            format: m.format,
            mode: m.mode,
            dry_run: m.dry_run,
            on_conflict: m.on_conflict,
            status: m.status,
            file_sha256: m.file_sha256.clone(),
            size_bytes: count(m.size_bytes),
            counts: ImportCounts {
                received: count(m.received),
                created: count(m.created),
                updated: count(m.updated),
                unchanged: count(m.unchanged),
                rejected: count(m.rejected),
            },
            error_count: count(m.error_count),
            duration_ms: count(m.duration_ms),
            created_at: m.created_at,
            created_by: m.created_by,
        }
    }
}

impl From<finding_import::Model> for ImportSummary {
    fn from(m: finding_import::Model) -> Self {
        ImportSummary::from(&m)
    }
}

impl From<finding_import::Model> for ImportResponse {
    fn from(m: finding_import::Model) -> Self {
        let errors = serde_json::from_value(m.errors.clone()).unwrap_or_default();
        let warnings = m.warnings.clone().and_then(|w| serde_json::from_value(w).ok()).unwrap_or_default();
        ImportResponse { summary: ImportSummary::from(&m), errors, warnings, problem: m.problem.clone() }
    }
}

/// Filters of the import list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportListQuery {
    /// Only uploads with this outcome.
    pub status: Option<ImportStatus>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}
