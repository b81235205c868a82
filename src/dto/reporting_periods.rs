//! Reporting periods (cortes) and their stored snapshots on the wire.
use crate::dto::common::Meta;
use crate::dto::plan_matrix::{ExportFormat, ExportLayout};
use crate::entities::enums::{
    ActionStatus, ComplianceResult, EffectivenessResult, PeriodKind, PeriodStatus, TrafficLight,
};
use crate::entities::{reporting_period, reporting_period_action, reporting_period_plan};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new reporting period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReportingPeriodRequest {
    /// Name shown in lists and exports.
    #[schema(
        example = "SIRECI 2025 semestre 1",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub name: String,
    /// What the period is for; a `sireci_semiannual` cut-off is 30 June or 31 December.
    pub kind: PeriodKind,
    /// Cut-off date: evidence dated (its `cut_off_date`) on or before it counts.
    #[schema(example = "2025-06-30")]
    pub cut_off_date: NaiveDate,
    /// Last day to file the report; not before the cut-off.
    #[schema(example = "2025-07-30")]
    pub filing_deadline: NaiveDate,
    /// Plans covered (at most 200); absent or `null`: every plan `in_progress` when the period closes.
    #[serde(default)]
    pub plan_ids: Option<Vec<Uuid>>,
    /// For a correction (kind `other` only): the filed period it corrects.
    #[serde(default)]
    pub corrects_period_id: Option<Uuid>,
}

/// Creates the next SIRECI semiannual periods.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextSireciPeriodsRequest {
    /// The cut-offs are the first 30 June / 31 December on or after this date (default today, Colombia).
    #[serde(default)]
    #[schema(example = "2025-03-15")]
    pub from: Option<NaiveDate>,
    /// How many consecutive cut-offs (1–4, default 2: the next two semesters).
    #[serde(default)]
    #[schema(example = 2, minimum = 1, maximum = 4)]
    pub count: Option<u32>,
    /// Calendar days from each cut-off to its filing deadline (1–120, default 30).
    #[serde(default)]
    #[schema(example = 30, minimum = 1, maximum = 120)]
    pub filing_days: Option<u32>,
}

/// Reopening a closed period (administrators): its snapshot is discarded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenPeriodRequest {
    /// Why it is reopened (kept in the audit trail).
    #[schema(
        example = "Evidencia aceptada tarde por error de radicación",
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub reason: String,
}

/// Recording that a closed period was filed: it becomes read-only for good.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilePeriodRequest {
    /// Date it was filed; not in the future.
    #[schema(example = "2025-07-15")]
    pub filed_on: NaiveDate,
    /// Filing reference, such as the SIRECI receipt number.
    #[schema(
        example = "SIRECI-2025-0001234",
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub filing_reference: String,
    /// SHA-256 (64 hex digits) of the exported file that was filed.
    #[schema(
        example = "9f2c0b6f5c2a4e8d1b3a7c9e0f1d2b4a6c8e0a2b4d6f8a0c2e4f6a8b0d2f4a6c",
        pattern = "^[0-9a-fA-F]{64}$"
    )]
    pub file_sha256: String,
}

/// An observation on one action of a closed period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationItem {
    /// An action in the period's snapshot.
    pub action_id: Uuid,
    /// The observation; `null` or absent clears it.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub observation: Option<String>,
}

/// Observations to record on a closed (not filed) period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationsRequest {
    /// One item per action (1–500).
    pub items: Vec<ObservationItem>,
}

/// One covered plan's figures as of the cut-off (stored when the period closed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodPlanFigures {
    /// Plan id.
    pub plan_id: Uuid,
    /// Plan code.
    pub code: String,
    /// Plan version.
    pub version: i32,
    /// Title.
    pub title: String,
    /// Mean progress of the live actions.
    pub progress_pct: Option<f64>,
    /// Share of rated actions carried out.
    pub compliance_pct: Option<f64>,
    /// Share of effectiveness-rated actions that removed the cause.
    pub effectiveness_pct: Option<f64>,
    /// Worst light among the live actions.
    pub traffic_light: Option<TrafficLight>,
    /// Actions in the snapshot.
    pub actions: i32,
}

/// A reporting period (corte).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportingPeriodResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Name.
    pub name: String,
    /// What it is for.
    pub kind: PeriodKind,
    /// Cut-off date.
    pub cut_off_date: NaiveDate,
    /// Filing deadline.
    pub filing_deadline: NaiveDate,
    /// Plans named at creation; `null`: every running plan when it closes (see `plans` once closed).
    pub plan_ids: Option<Vec<Uuid>>,
    /// The filed period this one corrects.
    pub corrects_period_id: Option<Uuid>,
    /// `open`, `closed` or `filed`.
    pub status: PeriodStatus,
    /// When it was closed (UTC).
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    pub closed_by: Option<Uuid>,
    /// SHA-256 of the snapshot's canonical form (every figure, not the observations), written
    /// when it closed and never recomputed.
    pub snapshot_sha256: Option<String>,
    /// Mean of the covered plans' progress as of the cut-off.
    pub progress_pct: Option<f64>,
    /// Mean of the covered plans' compliance.
    pub compliance_pct: Option<f64>,
    /// Mean of the covered plans' effectiveness.
    pub effectiveness_pct: Option<f64>,
    /// Actions in the snapshot.
    pub actions_count: Option<i32>,
    /// Covered plans and their figures (empty while open).
    pub plans: Vec<PeriodPlanFigures>,
    /// Date it was filed.
    pub filed_on: Option<NaiveDate>,
    /// Filing reference (SIRECI receipt number).
    pub filing_reference: Option<String>,
    /// SHA-256 of the filed file.
    pub filed_file_sha256: Option<String>,
    /// When the filing was recorded (UTC).
    pub filed_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub filed_by: Option<Uuid>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

/// Periods made by one call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportingPeriodList {
    /// The periods, by cut-off.
    pub items: Vec<ReportingPeriodResponse>,
}

/// One covered action's figures as of the cut-off (stored when the period closed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodActionFigures {
    /// Action id.
    pub action_id: Uuid,
    /// Plan id.
    pub plan_id: Uuid,
    /// Number in the plan.
    pub number: i32,
    /// Title.
    pub title: String,
    /// Status when the period closed.
    pub status: ActionStatus,
    /// Quantity of the evidence counted.
    pub accepted_quantity: f64,
    /// Progress as of the cut-off.
    pub progress_pct: f64,
    /// Traffic light as of the cut-off (`null`: cancelled).
    pub traffic_light: Option<TrafficLight>,
    /// Unfinished and past its due date at the cut-off.
    pub overdue: bool,
    /// Compliance rating when the period closed.
    pub compliance: ComplianceResult,
    /// Effectiveness rating when the period closed.
    pub effectiveness: EffectivenessResult,
    /// Evidence counted: dated on or before the cut-off and accepted when the period closed.
    pub evidence_ids: Vec<Uuid>,
    /// The period's observation on the action (editable until filing).
    pub observation: Option<String>,
}

/// Filters of the period list (oldest first).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodListQuery {
    /// Only periods in this state.
    pub status: Option<PeriodStatus>,
    /// Only periods of this kind.
    pub kind: Option<PeriodKind>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Filters of a period's action figures (plan, then number).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodActionsQuery {
    /// Only the actions of this plan.
    pub plan_id: Option<Uuid>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Options of a period export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodExportQuery {
    /// `sireci-f14-1` (default: every covered plan's comptroller rows in one form, modality
    /// progress) or `ti-pl03` (one matrix per covered plan).
    pub layout: Option<ExportLayout>,
    /// `xlsx` (default), `csv` or `json`.
    pub format: Option<ExportFormat>,
}

/// One closed period's figures, for trends.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodTrendPoint {
    /// Period id.
    pub period_id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: PeriodKind,
    /// Cut-off date.
    pub cut_off_date: NaiveDate,
    /// `closed` or `filed`.
    pub status: PeriodStatus,
    /// Progress as of the cut-off.
    pub progress_pct: Option<f64>,
    /// Compliance as of the cut-off.
    pub compliance_pct: Option<f64>,
    /// Effectiveness as of the cut-off.
    pub effectiveness_pct: Option<f64>,
}

/// The next period to file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextCutOff {
    /// Period id.
    pub period_id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: PeriodKind,
    /// Cut-off date.
    pub cut_off_date: NaiveDate,
    /// Filing deadline.
    pub filing_deadline: NaiveDate,
    /// `open` or `closed`.
    pub status: PeriodStatus,
    /// Days from today (Colombia) to the filing deadline; negative when it has passed.
    pub days_to_filing_deadline: i64,
}

fn code_of<T: Copy>(all: &[T], code: &str, of: impl Fn(T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| of(*v) == code)
}

impl From<reporting_period_plan::Model> for PeriodPlanFigures {
    fn from(r: reporting_period_plan::Model) -> Self {
        PeriodPlanFigures {
            plan_id: r.plan_id,
            code: r.code,
            version: r.plan_version,
            title: r.title,
            progress_pct: r.progress_pct,
            compliance_pct: r.compliance_pct,
            effectiveness_pct: r.effectiveness_pct,
            traffic_light: r.traffic_light.as_deref().and_then(|l| code_of(TrafficLight::ALL, l, TrafficLight::code)),
            actions: r.actions_count,
        }
    }
}

impl ReportingPeriodResponse {
    /// The wire form of a period and its covered plans' stored figures.
    pub fn new(m: reporting_period::Model, plans: Vec<reporting_period_plan::Model>) -> Self {
        ReportingPeriodResponse {
            id: m.id,
            organization_id: m.organization_id,
            name: m.name,
            kind: m.kind,
            cut_off_date: m.cut_off_date,
            filing_deadline: m.filing_deadline,
            plan_ids: m.plan_ids.map(|ids| ids.0.iter().filter_map(|s| s.parse().ok()).collect()),
            corrects_period_id: m.corrects_period_id,
            status: m.status,
            closed_at: m.closed_at,
            closed_by: m.closed_by,
            snapshot_sha256: m.snapshot_sha256,
            progress_pct: m.progress_pct,
            compliance_pct: m.compliance_pct,
            effectiveness_pct: m.effectiveness_pct,
            actions_count: m.actions_count,
            plans: plans.into_iter().map(PeriodPlanFigures::from).collect(),
            filed_on: m.filed_on,
            filing_reference: m.filing_reference,
            filed_file_sha256: m.filed_file_sha256,
            filed_at: m.filed_at,
            filed_by: m.filed_by,
            meta: crate::meta_of!(m),
        }
    }
}

impl From<reporting_period_action::Model> for PeriodActionFigures {
    fn from(r: reporting_period_action::Model) -> Self {
        PeriodActionFigures {
            action_id: r.action_id,
            plan_id: r.plan_id,
            number: r.number,
            title: r.content.get("title").and_then(|t| t.as_str()).unwrap_or_default().to_string(),
            status: code_of(ActionStatus::ALL, &r.status, ActionStatus::code).unwrap_or(ActionStatus::InProgress),
            accepted_quantity: r.accepted_quantity,
            progress_pct: r.progress_pct,
            traffic_light: r.traffic_light.as_deref().and_then(|l| code_of(TrafficLight::ALL, l, TrafficLight::code)),
            overdue: r.overdue,
            compliance: code_of(ComplianceResult::ALL, &r.compliance, ComplianceResult::code)
                .unwrap_or(ComplianceResult::Pending),
            effectiveness: code_of(EffectivenessResult::ALL, &r.effectiveness, EffectivenessResult::code)
                .unwrap_or(EffectivenessResult::Pending),
            evidence_ids: r
                .evidence_ids
                .as_array()
                .map(|ids| ids.iter().filter_map(|v| v.as_str()).filter_map(|s| s.parse().ok()).collect())
                .unwrap_or_default(),
            observation: r.observation,
        }
    }
}

/// A period export as JSON: the period and one sheet per form or matrix.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodExportDocument {
    /// The period: `id`, `name`, `kind`, `cut_off_date`, `closed_at`, `snapshot_sha256`.
    #[schema(value_type = Object)]
    pub period: serde_json::Value,
    /// Each sheet: `title`, `header` (label/value lines), `columns` and `rows` keyed by column.
    #[schema(value_type = Vec<Object>)]
    pub sheets: Vec<serde_json::Value>,
}
