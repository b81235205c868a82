//! Plan lifecycle requests: approval, cancellation and new versions.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The approval of a submitted plan. Fields left out keep what the plan already records;
/// `approved_by` and `approval_reference` must be known after merging, `approved_on` defaults
/// to today (Colombia).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovePlanRequest {
    /// Body or person that approved it.
    #[serde(default)]
    #[schema(example = "Comité Institucional de Gestión y Desempeño", max_length = 300, pattern = r"^[^\x00]*$")]
    pub approved_by: Option<String>,
    /// Approval act.
    #[serde(default)]
    #[schema(example = "Acta No. 05 de 2024", max_length = 300, pattern = r"^[^\x00]*$")]
    pub approval_reference: Option<String>,
    /// Approval date.
    #[serde(default)]
    #[schema(example = "2024-05-21")]
    pub approved_on: Option<NaiveDate>,
}

/// Why a plan is cancelled.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelPlanRequest {
    /// Reason, kept on the plan and in the audit trail.
    #[schema(
        example = "Reemplazado por el plan institucional 2025",
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub reason: String,
}

/// Overrides for the next version of a plan; everything else is copied.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanVersionRequest {
    /// Title of the new version.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub title: Option<String>,
    /// Fiscal year (vigencia) the new version evaluates.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    /// First day of the new implementation window.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Last day of the new implementation window.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
}
