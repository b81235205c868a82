//! Audit findings on the wire.
use super::common::Meta;
use crate::entities::enums::{Classification, FindingSource, FindingStatus, PresumedIncidence, Severity};
use crate::entities::finding;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Longest report or finding code.
pub const CODE_MAX: usize = 100;
/// Longest title.
pub const TITLE_MAX: usize = 500;
/// Longest auditor name.
pub const AUDITOR_MAX: usize = 300;
/// Longest condition, criterion, cause or effect.
pub const TEXT_MAX: usize = 20_000;
/// Most requirement references per finding.
pub const REQUIREMENTS_MAX: usize = 50;
/// Longest requirement reference.
pub const REQUIREMENT_MAX: usize = 100;
/// Earliest and latest fiscal year accepted.
pub const FISCAL_YEARS: (i32, i32) = (1990, 2100);

/// An audit finding (hallazgo).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Finding)]
pub struct FindingResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Where the finding comes from.
    pub source: FindingSource,
    /// Auditor or auditing body.
    #[schema(example = "Oficina de Control Interno")]
    pub auditor: Option<String>,
    /// Code of the audit report.
    #[schema(example = "OCI-2025-07")]
    pub report_code: String,
    /// Date of the report.
    pub report_date: Option<NaiveDate>,
    /// Fiscal year audited (vigencia).
    #[schema(example = 2024)]
    pub fiscal_year: Option<i32>,
    /// Finding code as written in the report.
    #[schema(example = "H-03")]
    pub finding_code: String,
    /// Short title.
    #[schema(example = "Revisión de derechos de acceso no evidenciada")]
    pub title: String,
    /// Condition: what the auditor found.
    pub condition: Option<String>,
    /// Criterion: the rule or requirement that applies.
    pub criterion: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// Effect or risk.
    pub effect: Option<String>,
    /// Classification.
    pub classification: Option<Classification>,
    /// Severity.
    pub severity: Option<Severity>,
    /// Requirement references (ISO/IEC 27001:2022 Annex A controls, MSPI domains, norms).
    #[schema(example = json!(["A.5.15", "A.5.18"]))]
    pub requirements: Vec<String>,
    /// Presumed incidence recorded by the Contraloría (comptroller findings only), sorted.
    #[schema(example = json!(["disciplinary", "fiscal"]))]
    pub presumed_incidence: Vec<PresumedIncidence>,
    /// Amount of the presumed fiscal incidence in COP, a decimal string.
    #[schema(value_type = Option<String>, example = "125000000.00")]
    pub fiscal_amount: Option<String>,
    /// Lifecycle status.
    pub status: FindingStatus,
    /// Improvement plan that treats it.
    pub plan_id: Option<Uuid>,
    /// Earlier finding this one repeats (recurrence).
    pub repeats_finding_id: Option<Uuid>,
    /// Bulk upload that created it or last changed it.
    pub import_id: Option<Uuid>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<finding::Model> for FindingResponse {
    fn from(m: finding::Model) -> Self {
        FindingResponse {
            id: m.id,
            organization_id: m.organization_id,
            source: m.source,
            auditor: m.auditor,
            report_code: m.report_code,
            report_date: m.report_date,
            fiscal_year: m.fiscal_year,
            finding_code: m.finding_code,
            title: m.title,
            condition: m.condition,
            criterion: m.criterion,
            cause: m.cause,
            effect: m.effect,
            classification: m.classification,
            severity: m.severity,
            requirements: m.requirements.0,
            presumed_incidence: m.presumed_incidence.0,
            fiscal_amount: m.fiscal_amount.map(super::common::money),
            status: m.status,
            plan_id: m.plan_id,
            repeats_finding_id: m.repeats_finding_id,
            import_id: m.import_id,
            meta: crate::meta_of!(m),
        }
    }
}

/// A new finding.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFindingRequest {
    /// Where the finding comes from.
    pub source: FindingSource,
    /// Auditor or auditing body.
    #[serde(default)]
    #[schema(max_length = 300, example = "Oficina de Control Interno")]
    pub auditor: Option<String>,
    /// Code of the audit report.
    #[schema(min_length = 1, max_length = 100, example = "OCI-2025-07")]
    pub report_code: String,
    /// Date of the report.
    #[serde(default)]
    pub report_date: Option<NaiveDate>,
    /// Fiscal year audited (vigencia), 1990–2100.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(minimum = 1990, maximum = 2100, example = 2024)]
    pub fiscal_year: Option<i32>,
    /// Finding code as written in the report; unique with source and report code.
    #[schema(min_length = 1, max_length = 100, example = "H-03")]
    pub finding_code: String,
    /// Short title.
    #[schema(min_length = 1, max_length = 500, example = "Revisión de derechos de acceso no evidenciada")]
    pub title: String,
    /// Condition: what the auditor found.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub condition: Option<String>,
    /// Criterion: the rule or requirement that applies.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub criterion: Option<String>,
    /// Cause.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub cause: Option<String>,
    /// Effect or risk.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub effect: Option<String>,
    /// Classification.
    #[serde(default)]
    pub classification: Option<Classification>,
    /// Severity.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Requirement references (at most 50, each up to 100 characters).
    #[serde(default)]
    #[schema(example = json!(["A.5.15", "A.5.18"]))]
    pub requirements: Vec<String>,
    /// Presumed incidence (`disciplinary`, `fiscal`, `criminal`, `sanctioning`; several
    /// allowed); only for `comptroller` findings.
    #[serde(default)]
    #[schema(example = json!(["disciplinary", "fiscal"]))]
    pub presumed_incidence: Vec<PresumedIncidence>,
    /// Amount of the presumed fiscal incidence in COP as a decimal string, at most two
    /// decimals; needs `fiscal` in `presumed_incidence`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "125000000.00", pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$")]
    pub fiscal_amount: Option<Decimal>,
    /// Initial status (default `open`): a finding recorded late may already be closed.
    /// Afterwards the status changes only through transitions.
    #[serde(default)]
    pub status: Option<FindingStatus>,
    /// Earlier finding of the organization this one repeats.
    #[serde(default)]
    pub repeats_finding_id: Option<Uuid>,
}

/// Changes to a finding (merge patch). The status changes through transitions and the plan
/// through the plan link, not here.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFindingRequest {
    /// Where the finding comes from.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub source: Option<FindingSource>,
    /// Auditor or auditing body; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub auditor: Option<Option<String>>,
    /// Code of the audit report.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 100)]
    #[schema(nullable = false)]
    pub report_code: Option<String>,
    /// Date of the report; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub report_date: Option<Option<NaiveDate>>,
    /// Fiscal year audited; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::lenient::nullable_int")]
    #[schema(value_type = Option<i32>, minimum = 1990, maximum = 2100)]
    pub fiscal_year: Option<Option<i32>>,
    /// Finding code as written in the report.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 100)]
    #[schema(nullable = false)]
    pub finding_code: Option<String>,
    /// Short title.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 500)]
    #[schema(nullable = false)]
    pub title: Option<String>,
    /// Condition; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub condition: Option<Option<String>>,
    /// Criterion; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub criterion: Option<Option<String>>,
    /// Cause; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub cause: Option<Option<String>>,
    /// Effect; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub effect: Option<Option<String>>,
    /// Classification; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Classification>)]
    pub classification: Option<Option<Classification>>,
    /// Severity; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Severity>)]
    pub severity: Option<Option<Severity>>,
    /// Requirement references (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub requirements: Option<Vec<String>>,
    /// Presumed incidence (replaces the set; comptroller findings only).
    #[serde(default)]
    pub presumed_incidence: Option<Vec<PresumedIncidence>>,
    /// Amount of the presumed fiscal incidence in COP; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$")]
    pub fiscal_amount: Option<Option<Decimal>>,
    /// Earlier finding this one repeats; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub repeats_finding_id: Option<Option<Uuid>>,
}

/// A status change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// Target status. Allowed: `open → in_treatment | dismissed`; `in_treatment →
    /// closed_compliant | dismissed`; `closed_compliant → closed_effective | reopened`;
    /// `closed_effective → reopened`; `reopened → in_treatment | closed_compliant | dismissed`;
    /// `dismissed → reopened`.
    pub to: FindingStatus,
    /// Why (kept in the audit trail).
    #[serde(default)]
    #[schema(max_length = 2000, example = "Acciones 3 y 4 ejecutadas; evidencia aceptada")]
    pub note: Option<String>,
}

/// The improvement plan that treats a finding.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanLinkRequest {
    /// Plan id; `null` removes the link.
    #[schema(value_type = Option<Uuid>)]
    pub plan_id: Option<Uuid>,
}

/// Order of the finding list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum FindingSort {
    /// Oldest first (creation order).
    #[default]
    #[serde(rename = "created_at")]
    CreatedAsc,
    /// Newest first.
    #[serde(rename = "-created_at")]
    CreatedDesc,
    /// Earliest report date first; findings without a date last.
    #[serde(rename = "report_date")]
    ReportDateAsc,
    /// Latest report date first; findings without a date last.
    #[serde(rename = "-report_date")]
    ReportDateDesc,
}

/// Filters of the finding list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FindingListQuery {
    /// Only findings from this source.
    pub source: Option<FindingSource>,
    /// Only findings of this report code.
    pub report_code: Option<String>,
    /// Only findings in this status.
    pub status: Option<FindingStatus>,
    /// Only findings of this severity.
    pub severity: Option<Severity>,
    /// Only findings of this classification.
    pub classification: Option<Classification>,
    /// Only findings of this fiscal year.
    #[param(minimum = 1900, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    /// Only findings linked to this plan.
    pub plan_id: Option<Uuid>,
    /// Only findings created or last changed by this bulk upload.
    pub import_id: Option<Uuid>,
    /// Text in the finding code, report code or title (ignores case and accents).
    pub q: Option<String>,
    /// Order: `created_at` (default), `-created_at`, `report_date`, `-report_date`.
    pub sort: Option<FindingSort>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}
