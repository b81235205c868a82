//! Improvement plans on the wire: the plan, its lifecycle requests and list filters.
use crate::dto::common::money;
use crate::entities::enums::{FundingSource, MaturityLevel, PlanOrigin, PlanStatus, PolicyScope, TrafficLight};
use crate::entities::plan;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Figures computed from a plan's actions; all `null` while the plan has no actions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlanFigures {
    /// Mean progress of the actions that are not cancelled.
    pub progress_pct: Option<f64>,
    /// Share of rated actions that were carried out.
    pub compliance_pct: Option<f64>,
    /// Share of effectiveness-rated actions that removed the cause.
    pub effectiveness_pct: Option<f64>,
    /// Worst traffic light of the actions.
    pub traffic_light: Option<TrafficLight>,
}

/// An improvement plan (plan de mejoramiento).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Plan)]
pub struct PlanResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Plan code, unique per organization together with `version`.
    #[schema(example = "TI.PL03")]
    pub code: String,
    /// Version of the plan (1, 2, …); a new version starts each improvement round.
    #[schema(example = 1)]
    pub version: i32,
    /// Title.
    #[schema(example = "Plan de mejoramiento de la política seguridad digital")]
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Policy the plan answers to.
    pub policy_scope: PolicyScope,
    /// Evaluation or audit whose results the plan addresses.
    pub origin: Option<PlanOrigin>,
    /// Fiscal year (vigencia) evaluated.
    #[schema(example = 2023)]
    pub fiscal_year: Option<i32>,
    /// First day of the implementation window.
    #[schema(example = "2024-08-01")]
    pub start_date: Option<NaiveDate>,
    /// Last day of the implementation window.
    #[schema(example = "2027-12-31")]
    pub end_date: Option<NaiveDate>,
    /// Lifecycle state; changed only by the transition operations.
    pub status: PlanStatus,
    /// Who prepared the plan.
    #[schema(example = "Martha Cecilia Saldaña S")]
    pub prepared_by: Option<String>,
    /// Role of who prepared it.
    #[schema(example = "Asesora Externa")]
    pub prepared_by_role: Option<String>,
    /// When it was prepared.
    #[schema(example = "2024-10-30")]
    pub prepared_on: Option<NaiveDate>,
    /// Body or person that approved it.
    #[schema(example = "Comité Institucional de Gestión y Desempeño")]
    pub approved_by: Option<String>,
    /// Approval act.
    #[schema(example = "Acta No. 05 de 2024")]
    pub approval_reference: Option<String>,
    /// Approval date.
    #[schema(example = "2024-05-21")]
    pub approved_on: Option<NaiveDate>,
    /// Why the plan was cancelled.
    pub cancellation_reason: Option<String>,
    /// PEI/PETI objectives the plan serves.
    pub objective_ids: Vec<Uuid>,
    /// Budget in COP, a decimal string.
    #[schema(value_type = Option<String>, example = "15000000.00")]
    pub budget: Option<String>,
    /// Where the money comes from.
    pub funding_source: Option<FundingSource>,
    /// MSPI maturity level now.
    pub maturity_current: Option<MaturityLevel>,
    /// MSPI maturity level the plan aims at.
    pub maturity_target: Option<MaturityLevel>,
    /// The version this one was copied from.
    pub previous_version_id: Option<Uuid>,
    /// Computed: mean `progress_pct` (0–100) of the actions not cancelled; `null` without actions.
    #[schema(example = 42.5)]
    pub progress_pct: Option<f64>,
    /// Computed: percentage of compliance-rated actions rated `met` or `met_late`; `null` when none is rated.
    pub compliance_pct: Option<f64>,
    /// Computed: percentage of effectiveness-rated actions rated `effective` (`not_assessable` excluded); `null` when none is rated.
    pub effectiveness_pct: Option<f64>,
    /// Computed: worst traffic light of the actions not cancelled (red, then amber, then grey, then green: green only when every action was done on time); `null` without actions.
    pub traffic_light: Option<TrafficLight>,
    /// When the row was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When the row last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Who changed it last.
    pub updated_by: Option<Uuid>,
    /// Row version; the `ETag` is `"v{row_version}"` (`version` is the plan's own version number).
    pub row_version: i32,
}

impl PlanResponse {
    /// The plan with its objective links and computed figures.
    pub fn new(m: plan::Model, objective_ids: Vec<Uuid>, figures: PlanFigures) -> Self {
        PlanResponse {
            id: m.id,
            organization_id: m.organization_id,
            code: m.code,
            version: m.plan_version,
            title: m.title,
            description: m.description,
            policy_scope: m.policy_scope,
            origin: m.origin,
            fiscal_year: m.fiscal_year,
            start_date: m.start_date,
            end_date: m.end_date,
            status: m.status,
            prepared_by: m.prepared_by,
            prepared_by_role: m.prepared_by_role,
            prepared_on: m.prepared_on,
            approved_by: m.approved_by,
            approval_reference: m.approval_reference,
            approved_on: m.approved_on,
            cancellation_reason: m.cancellation_reason,
            objective_ids,
            budget: m.budget.map(money),
            funding_source: m.funding_source,
            maturity_current: m.maturity_current,
            maturity_target: m.maturity_target,
            previous_version_id: m.previous_version_id,
            progress_pct: figures.progress_pct,
            compliance_pct: figures.compliance_pct,
            effectiveness_pct: figures.effectiveness_pct,
            traffic_light: figures.traffic_light,
            created_at: m.created_at,
            updated_at: m.updated_at,
            created_by: m.created_by,
            updated_by: m.updated_by,
            row_version: m.version,
        }
    }
}

/// A new plan; it starts as a `draft`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanRequest {
    /// Plan code, unique per organization together with `version`.
    #[schema(example = "TI.PL03", min_length = 1, max_length = 40, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub code: String,
    /// Version number (default 1); later versions are usually made with `POST /plans/{id}/versions`.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(example = 1, minimum = 1, maximum = 1000)]
    pub version: Option<i32>,
    /// Title.
    #[schema(
        example = "Plan de mejoramiento de la política seguridad digital",
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub title: String,
    /// Description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// Policy the plan answers to.
    pub policy_scope: PolicyScope,
    /// Evaluation or audit whose results the plan addresses.
    #[serde(default)]
    pub origin: Option<PlanOrigin>,
    /// Fiscal year (vigencia) evaluated.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(example = 2023, minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    /// First day of the implementation window.
    #[serde(default)]
    #[schema(example = "2024-08-01")]
    pub start_date: Option<NaiveDate>,
    /// Last day of the implementation window; not before `start_date`.
    #[serde(default)]
    #[schema(example = "2027-12-31")]
    pub end_date: Option<NaiveDate>,
    /// Who prepared the plan.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub prepared_by: Option<String>,
    /// Role of who prepared it.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub prepared_by_role: Option<String>,
    /// When it was prepared.
    #[serde(default)]
    pub prepared_on: Option<NaiveDate>,
    /// Body or person that approved it (may be recorded ahead; the plan is approved only by `POST /plans/{id}/approve`).
    #[serde(default)]
    #[schema(max_length = 300, pattern = r"^[^\x00]*$")]
    pub approved_by: Option<String>,
    /// Approval act, e.g. `Acta No. 05 de 2024`.
    #[serde(default)]
    #[schema(max_length = 300, pattern = r"^[^\x00]*$")]
    pub approval_reference: Option<String>,
    /// Approval date.
    #[serde(default)]
    pub approved_on: Option<NaiveDate>,
    /// PEI/PETI objectives the plan serves (ids from `/api/v1/objectives`).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub objective_ids: Vec<Uuid>,
    /// Budget in COP as a decimal string, at most two decimals.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "15000000.00", pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$")]
    pub budget: Option<Decimal>,
    /// Where the money comes from.
    #[serde(default)]
    pub funding_source: Option<FundingSource>,
    /// MSPI maturity level now.
    #[serde(default)]
    pub maturity_current: Option<MaturityLevel>,
    /// MSPI maturity level the plan aims at.
    #[serde(default)]
    pub maturity_target: Option<MaturityLevel>,
}

/// Changes to a `draft` or `submitted` plan (merge patch; `null` clears an optional field).
/// Code, version and status are not patchable.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlanRequest {
    /// Title.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub title: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<Option<String>>,
    /// Policy the plan answers to.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub policy_scope: Option<PolicyScope>,
    /// Evaluation or audit whose results the plan addresses.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<PlanOrigin>)]
    pub origin: Option<Option<PlanOrigin>>,
    /// Fiscal year (vigencia) evaluated.
    #[serde(default, deserialize_with = "crate::dto::lenient::nullable_int")]
    #[schema(value_type = Option<i32>, minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<Option<i32>>,
    /// First day of the implementation window.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    /// Last day of the implementation window.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    /// Who prepared the plan.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\x00]*$")]
    pub prepared_by: Option<Option<String>>,
    /// Role of who prepared it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\x00]*$")]
    pub prepared_by_role: Option<Option<String>>,
    /// When it was prepared.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub prepared_on: Option<Option<NaiveDate>>,
    /// Body or person that approved it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 300, pattern = r"^[^\x00]*$")]
    pub approved_by: Option<Option<String>>,
    /// Approval act.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 300, pattern = r"^[^\x00]*$")]
    pub approval_reference: Option<Option<String>>,
    /// Approval date.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub approved_on: Option<Option<NaiveDate>>,
    /// PEI/PETI objectives the plan serves (replaces the set).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(max_items = 200)]
    #[schema(nullable = false)]
    pub objective_ids: Option<Vec<Uuid>>,
    /// Budget in COP as a decimal string.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$")]
    pub budget: Option<Option<Decimal>>,
    /// Where the money comes from.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<FundingSource>)]
    pub funding_source: Option<Option<FundingSource>>,
    /// MSPI maturity level now.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<MaturityLevel>)]
    pub maturity_current: Option<Option<MaturityLevel>>,
    /// MSPI maturity level the plan aims at.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<MaturityLevel>)]
    pub maturity_target: Option<Option<MaturityLevel>>,
}

/// Order of the plan list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum PlanSort {
    /// Oldest first.
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first.
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    /// By code, then version.
    #[serde(rename = "code")]
    Code,
    /// By code, then version, descending.
    #[serde(rename = "-code")]
    CodeDesc,
}

/// Filters and order of the plan list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlanListQuery {
    /// Only plans in this state.
    pub status: Option<PlanStatus>,
    /// Only plans of this fiscal year.
    #[param(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    /// Only plans answering to this policy.
    pub policy_scope: Option<PolicyScope>,
    /// Only versions of this exact code.
    #[param(max_length = 40)]
    pub code: Option<String>,
    /// Only plans serving this objective.
    pub objective_id: Option<Uuid>,
    /// Text in code or title (case-insensitive).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `created_at` (default), `-created_at`, `code` or `-code`.
    pub sort: Option<PlanSort>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}
