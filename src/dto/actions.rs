//! Improvement actions on the wire: the action with its computed figures, requests and filters.
use crate::dto::common::Meta;
use crate::entities::enums::{
    ActionFocus, ActionStatus, ActionType, ComplianceResult, EffectivenessResult, TrafficLight,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An improvement action (acción de mejora).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Action)]
pub struct ActionResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Plan it belongs to.
    pub plan_id: Uuid,
    /// Category of the plan it improves.
    pub category_id: Option<Uuid>,
    /// Audit findings it answers.
    pub finding_ids: Vec<Uuid>,
    /// PEI/PETI objectives it serves.
    pub objective_ids: Vec<Uuid>,
    /// Number within the plan (1, 2, …).
    pub number: i32,
    /// Correction, corrective, preventive or improvement action.
    #[serde(rename = "type")]
    pub action_type: ActionType,
    /// Corrective, optimisation or maturity raise.
    pub focus: ActionFocus,
    /// What will be done.
    #[schema(example = "Implementar un portal de transparencia y rendición de cuentas")]
    pub title: String,
    /// Details.
    pub description: Option<String>,
    /// Purpose of the action.
    pub goal: Option<String>,
    /// Unit of measure of the target quantity.
    #[schema(example = "Portal publicado")]
    pub unit: Option<String>,
    /// Quantity that means done.
    #[schema(example = 1)]
    pub target_quantity: f64,
    /// User responsible for carrying it out.
    pub responsible_id: Option<Uuid>,
    /// Responsible unit (dependencia).
    pub responsible_unit: Option<String>,
    /// Start date.
    #[schema(example = "2024-08-01")]
    pub start_date: NaiveDate,
    /// Due date.
    #[schema(example = "2027-12-31")]
    pub due_date: NaiveDate,
    /// Execution state.
    pub status: ActionStatus,
    /// When it was finished (set with `status: done`).
    pub completed_on: Option<NaiveDate>,
    /// Control office's compliance rating.
    pub compliance: ComplianceResult,
    /// Control office's effectiveness rating.
    pub effectiveness: EffectivenessResult,
    /// Who rated it.
    pub evaluated_by: Option<Uuid>,
    /// When it was rated.
    pub evaluated_on: Option<NaiveDate>,
    /// Criterion of the effectiveness rating.
    pub evaluation_criterion: Option<String>,
    /// Note of the rating.
    pub evaluation_note: Option<String>,
    /// The ineffective action this one reformulates.
    pub reformulated_from_id: Option<Uuid>,
    /// Why it was reformulated.
    pub reformulation_reason: Option<String>,
    /// Resources needed.
    pub resources: Option<String>,
    /// Estimated cost in COP, a decimal string.
    #[schema(value_type = Option<String>, example = "2500000.00")]
    pub estimated_cost: Option<String>,
    /// Computed: `(due_date − start_date) / 7` rounded half away from zero.
    #[schema(example = 178)]
    pub weeks: i64,
    /// Computed: sum of `reported_quantity` of accepted evidence.
    pub accepted_quantity: f64,
    /// Computed: `accepted_quantity ÷ target_quantity × 100`, capped at 100.
    #[schema(example = 50)]
    pub progress_pct: f64,
    /// Computed: planned or in progress and past its due date (today in Colombia).
    pub overdue: bool,
    /// Computed: green done on time, amber done late, red overdue, grey not finished and not yet due; `null` when cancelled.
    pub traffic_light: Option<TrafficLight>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

/// A new action of a `draft` or `submitted` plan; it starts `planned`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActionRequest {
    /// Number within the plan; default after the last one.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(minimum = 1, maximum = 100000)]
    pub number: Option<i32>,
    /// Correction, corrective, preventive or improvement action.
    #[serde(rename = "type")]
    pub action_type: ActionType,
    /// Corrective, optimisation or maturity raise.
    pub focus: ActionFocus,
    /// What will be done.
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub title: String,
    /// Details.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// Purpose of the action.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub goal: Option<String>,
    /// Unit of measure of the target quantity.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    pub unit: Option<String>,
    /// Quantity that means done (greater than 0; default 1).
    #[serde(default)]
    #[schema(exclusive_minimum = 0, maximum = 1000000000000.0_f64)]
    pub target_quantity: Option<f64>,
    /// User of the organization responsible for it.
    #[serde(default)]
    pub responsible_id: Option<Uuid>,
    /// Responsible unit (dependencia).
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub responsible_unit: Option<String>,
    /// Start date.
    pub start_date: NaiveDate,
    /// Due date, not before `start_date`.
    pub due_date: NaiveDate,
    /// Category of the same plan it improves.
    #[serde(default)]
    pub category_id: Option<Uuid>,
    /// Audit findings it answers.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub finding_ids: Vec<Uuid>,
    /// PEI/PETI objectives it serves.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub objective_ids: Vec<Uuid>,
    /// Resources needed.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub resources: Option<String>,
    /// Estimated cost in COP as a decimal string, at most two decimals.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2500000.00", pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$")]
    pub estimated_cost: Option<Decimal>,
}

/// Changes to an action (merge patch). While the plan is `draft` or `submitted` every field
/// may change; once it is approved or running only `status`, `completed_on`, `responsible_id`
/// and `responsible_unit` may.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActionRequest {
    /// Number within the plan.
    #[serde(default, deserialize_with = "crate::dto::lenient::patch_int")]
    #[schema(minimum = 1, maximum = 100000)]
    #[schema(nullable = false)]
    pub number: Option<i32>,
    /// Kind of action.
    #[serde(default, rename = "type", deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub action_type: Option<ActionType>,
    /// Focus.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub focus: Option<ActionFocus>,
    /// What will be done.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub title: Option<String>,
    /// Details.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = r"^[^\x00]*$")]
    pub description: Option<Option<String>>,
    /// Purpose.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^[^\x00]*$")]
    pub goal: Option<Option<String>>,
    /// Unit of measure.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 100, pattern = r"^[^\x00]*$")]
    pub unit: Option<Option<String>>,
    /// Quantity that means done (greater than 0).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(exclusive_minimum = 0, maximum = 1000000000000.0_f64)]
    #[schema(nullable = false)]
    pub target_quantity: Option<f64>,
    /// Responsible user.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub responsible_id: Option<Option<Uuid>>,
    /// Responsible unit.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\x00]*$")]
    pub responsible_unit: Option<Option<String>>,
    /// Start date.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub start_date: Option<NaiveDate>,
    /// Due date.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub due_date: Option<NaiveDate>,
    /// Execution state: `planned ⇄ in_progress → done`, `done → in_progress` while not rated,
    /// `planned | in_progress → cancelled`.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub status: Option<ActionStatus>,
    /// When it was finished (only with `done`; default today in Colombia).
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub completed_on: Option<Option<NaiveDate>>,
    /// Category of the same plan.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub category_id: Option<Option<Uuid>>,
    /// Audit findings it answers (replaces the set).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(max_items = 200)]
    #[schema(nullable = false)]
    pub finding_ids: Option<Vec<Uuid>>,
    /// Objectives it serves (replaces the set).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(max_items = 200)]
    #[schema(nullable = false)]
    pub objective_ids: Option<Vec<Uuid>>,
    /// Resources needed.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^[^\x00]*$")]
    pub resources: Option<Option<String>>,
    /// Estimated cost in COP.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$")]
    pub estimated_cost: Option<Option<Decimal>>,
}

/// The control office's rating of an action.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateActionRequest {
    /// Was it carried out (on time)? `met` and `met_late` need the action `done`.
    pub compliance: ComplianceResult,
    /// Did it remove the cause?
    pub effectiveness: EffectivenessResult,
    /// Criterion applied.
    #[serde(default)]
    #[schema(example = "Porcentaje de Cumplimiento de Gobierno Digital", max_length = 2000, pattern = r"^[^\x00]*$")]
    pub criterion: Option<String>,
    /// Note.
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
}

/// A new action replacing one rated `not_effective`; type, focus, category, findings and
/// objectives are copied.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReformulateActionRequest {
    /// Why the action is reformulated.
    #[schema(min_length = 1, max_length = 2000, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub reason: String,
    /// New title (default: the old one).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub title: Option<String>,
    /// New description (default: the old one).
    #[serde(default)]
    #[schema(max_length = 20000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// New target quantity (default: the old one).
    #[serde(default)]
    #[schema(exclusive_minimum = 0, maximum = 1000000000000.0_f64)]
    pub target_quantity: Option<f64>,
    /// New responsible user (default: the old one).
    #[serde(default)]
    pub responsible_id: Option<Uuid>,
    /// Start date.
    pub start_date: NaiveDate,
    /// Due date, not before `start_date`.
    pub due_date: NaiveDate,
}

/// Order of the action list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ActionSort {
    /// Oldest first.
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first.
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    /// Earliest due date first.
    #[serde(rename = "due_date")]
    DueDate,
    /// Latest due date first.
    #[serde(rename = "-due_date")]
    DueDateDesc,
    /// By number (plan order).
    #[serde(rename = "number")]
    Number,
}

/// Filters and order of the action list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActionListQuery {
    /// Only actions of this plan.
    pub plan_id: Option<Uuid>,
    /// Only actions of this category.
    pub category_id: Option<Uuid>,
    /// Only actions in this state.
    pub status: Option<ActionStatus>,
    /// Only actions of this responsible user.
    pub responsible_id: Option<Uuid>,
    /// Only overdue (`true`) or only not overdue (`false`) actions.
    pub overdue: Option<bool>,
    /// Only actions due strictly before this date.
    pub due_before: Option<NaiveDate>,
    /// Only actions due strictly after this date.
    pub due_after: Option<NaiveDate>,
    /// `created_at` (default), `-created_at`, `due_date`, `-due_date` or `number`.
    pub sort: Option<ActionSort>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}
