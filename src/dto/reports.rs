//! Progress reports on the wire: one plan's report and the organization's dashboard.
use crate::dto::reporting_periods::{NextCutOff, PeriodTrendPoint};
use crate::entities::enums::{
    ActionStatus, FindingStatus, MaturityLevel, ObjectiveSource, PlanStatus, Severity, TrafficLight,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// How many actions have one value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionStatusCount {
    /// The value.
    pub value: ActionStatus,
    /// How many actions have it.
    pub count: u64,
}

/// How many actions have one value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrafficLightCount {
    /// The value.
    pub value: TrafficLight,
    /// How many actions have it.
    pub count: u64,
}

/// How many plans have one value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanStatusCount {
    /// The value.
    pub value: PlanStatus,
    /// How many plans have it.
    pub count: u64,
}

/// How many findings have one value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingStatusCount {
    /// The value.
    pub value: FindingStatus,
    /// How many findings have it.
    pub count: u64,
}

/// One category of a plan report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryReport {
    /// Category id.
    pub id: Uuid,
    /// Position in the plan.
    pub position: i32,
    /// Name.
    pub name: String,
    /// Score 0–100.
    pub score: Option<f64>,
    /// Target score 0–100.
    pub target_score: Option<f64>,
    /// `target_score - score` (when both are known).
    pub gap: Option<f64>,
    /// MSPI maturity level of the score, as on the category (the highest level whose threshold
    /// it reaches: 0, 20, 40, 60, 80, 100); `null` for scores not from the MSPI self-assessment.
    pub maturity_band: Option<MaturityLevel>,
    /// Actions of the category.
    pub actions: u64,
}

/// An action past its due date and not finished.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueAction {
    /// Action id.
    pub id: Uuid,
    /// Number in the plan.
    pub number: i32,
    /// Title.
    pub title: String,
    /// Due date.
    pub due_date: NaiveDate,
    /// Days past the due date.
    pub days_overdue: i64,
}

/// A strategic objective served by a plan or its actions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectiveServed {
    /// Objective id.
    pub id: Uuid,
    /// PEI or PETI.
    pub source: ObjectiveSource,
    /// Code.
    pub code: String,
    /// Title.
    pub title: String,
}

/// Findings a plan addresses (linked to the plan or to one of its actions).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct FindingCoverage {
    /// Findings covered.
    pub covered: u64,
    /// Of them, still open (`open`, `in_treatment`, `reopened`).
    pub still_open: u64,
}

/// The progress report of a plan. An action superseded by a reformulation is judged through its
/// successor (transitively): it is left out of the traffic lights, percentages and overdue list,
/// where its successor counts instead; `actions_total` and `actions_by_status` still list it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanReport {
    /// Plan id.
    pub plan_id: Uuid,
    /// Plan code.
    pub code: String,
    /// Plan version.
    pub version: i32,
    /// Title.
    pub title: String,
    /// Lifecycle state.
    pub status: PlanStatus,
    /// Date the figures are computed for (today).
    pub as_of: NaiveDate,
    /// Categories in order, with their gap.
    pub categories: Vec<CategoryReport>,
    /// Actions of the plan.
    pub actions_total: u64,
    /// Actions by status.
    pub actions_by_status: Vec<ActionStatusCount>,
    /// Actions by traffic light (cancelled actions have none).
    pub actions_by_traffic_light: Vec<TrafficLightCount>,
    /// Mean progress of the actions that are not cancelled (accepted evidence over target).
    pub progress_pct: Option<f64>,
    /// Share of rated actions that were carried out.
    pub compliance_pct: Option<f64>,
    /// Share of effectiveness-rated actions that removed the cause.
    pub effectiveness_pct: Option<f64>,
    /// Actions past their due date and not finished, oldest first (at most 100).
    pub overdue_actions: Vec<OverdueAction>,
    /// Findings covered and still open.
    pub findings: FindingCoverage,
    /// Objectives served by the plan or its actions.
    pub objectives: Vec<ObjectiveServed>,
    /// The plan's figures in each closed or filed reporting period that covers it, by cut-off
    /// (stored when the period closed).
    pub periods: Vec<PeriodTrendPoint>,
    /// The next unfiled reporting period covering the plan, with the days left to file it.
    pub next_cut_off: Option<NextCutOff>,
    /// Risks of the register the plan's actions treat, with their inherent → residual zones.
    pub risks: Vec<crate::dto::risks::TreatedRisk>,
}

/// The open finding that has waited longest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OldestOpenFinding {
    /// Finding id.
    pub id: Uuid,
    /// Finding code.
    pub finding_code: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: FindingStatus,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Days since it was recorded.
    pub days_open: i64,
}

/// Findings with a severity (`null`: not rated).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeverityCount {
    /// Severity, or `null` when not rated.
    pub value: Option<Severity>,
    /// How many findings have it.
    pub count: u64,
}

/// The organization at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    /// Date the figures are computed for (today).
    pub as_of: NaiveDate,
    /// Plans by status.
    pub plans_by_status: Vec<PlanStatusCount>,
    /// Unfinished actions past their due date (not counting actions superseded by a reformulation).
    pub actions_overdue: u64,
    /// Unfinished actions due from today to 30 days ahead (not counting superseded ones).
    pub actions_due_in_30_days: u64,
    /// Findings by severity.
    pub findings_by_severity: Vec<SeverityCount>,
    /// Findings by status.
    pub findings_by_status: Vec<FindingStatusCount>,
    /// Evidence submitted and waiting for review.
    pub evidence_waiting_review: u64,
    /// The open finding recorded longest ago.
    pub oldest_open_finding: Option<OldestOpenFinding>,
    /// Each closed or filed reporting period's figures (mean over its plans), by cut-off.
    pub periods: Vec<PeriodTrendPoint>,
    /// The next unfiled reporting period, with the days left to file it.
    pub next_cut_off: Option<NextCutOff>,
    /// Per plan with actions that treat risks: those risks and their inherent → residual zones.
    pub risks_by_plan: Vec<crate::dto::risks::PlanRisks>,
}
