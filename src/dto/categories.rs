//! Scored categories of a plan on the wire.
use crate::dto::common::Meta;
use crate::entities::category::{self, ControlRef};
use crate::entities::enums::{CategorySource, IndicatorKind, MaturityLevel};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// `target − score`, rounded to two decimals.
pub fn gap(score: Option<f64>, target: Option<f64>) -> Option<f64> {
    Some(((target? - score?) * 100.0).round() / 100.0)
}

/// A scored line of a plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Category)]
pub struct CategoryResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Plan it belongs to.
    pub plan_id: Uuid,
    /// Position in the plan (1, 2, …); lists are ordered by it.
    pub position: i32,
    /// Name as in the evaluation.
    #[schema(example = "Indicadores de Proceso Logro: Transparencia")]
    pub name: String,
    /// Where the score comes from.
    pub source: CategorySource,
    /// Process or result indicator.
    pub indicator_kind: Option<IndicatorKind>,
    /// Score 0–100; `null` when not measured.
    #[schema(example = 40)]
    pub score: Option<f64>,
    /// Score of the previous measurement.
    pub previous_score: Option<f64>,
    /// Score the plan aims at.
    #[schema(example = 80)]
    pub target_score: Option<f64>,
    /// Improvement alternatives, in order.
    pub improvement_alternatives: Vec<String>,
    /// How the effectiveness of the actions is judged.
    #[schema(example = "Porcentaje de Cumplimiento de Gobierno Digital")]
    pub effectiveness_criterion: Option<String>,
    /// ISO/IEC 27001:2022 Annex A controls, MSPI domains and other references.
    pub control_refs: Vec<ControlRef>,
    /// Computed: `target_score − score` (negative when the score exceeds the target); `null` if either is missing.
    #[schema(example = 40)]
    pub gap: Option<f64>,
    /// Computed: MSPI maturity level of the score, the highest level whose threshold it reaches
    /// (`nonexistent` 0, `initial` 20, `repeatable` 40, `effective` 60, `managed` 80,
    /// `optimised` 100). Only for `source = mspi`: `null` for FURAG, audit and other scores
    /// (their indices are not on the MSPI scale) and for a category without a score.
    pub maturity_band: Option<MaturityLevel>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<category::Model> for CategoryResponse {
    fn from(m: category::Model) -> Self {
        let maturity_band = m.maturity_band();
        CategoryResponse {
            id: m.id,
            organization_id: m.organization_id,
            plan_id: m.plan_id,
            position: m.position,
            name: m.name,
            source: m.source,
            indicator_kind: m.indicator_kind,
            score: m.score,
            previous_score: m.previous_score,
            target_score: m.target_score,
            improvement_alternatives: m.improvement_alternatives.0,
            effectiveness_criterion: m.effectiveness_criterion,
            control_refs: m.control_refs.0,
            gap: gap(m.score, m.target_score),
            maturity_band,
            meta: crate::meta_of!(m),
        }
    }
}

/// A new category of a `draft` or `submitted` plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    /// Name as in the evaluation.
    #[schema(
        example = "Indicadores de Proceso Logro: Transparencia",
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub name: String,
    /// Where the score comes from.
    pub source: CategorySource,
    /// Process or result indicator.
    #[serde(default)]
    pub indicator_kind: Option<IndicatorKind>,
    /// Score 0–100 (two decimals kept); `null` when not measured.
    #[serde(default)]
    #[schema(example = 40, minimum = 0, maximum = 100)]
    pub score: Option<f64>,
    /// Score of the previous measurement, 0–100.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub previous_score: Option<f64>,
    /// Score the plan aims at, 0–100.
    #[serde(default)]
    #[schema(example = 80, minimum = 0, maximum = 100)]
    pub target_score: Option<f64>,
    /// Improvement alternatives, in order (each up to 20000 characters).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub improvement_alternatives: Vec<String>,
    /// How the effectiveness of the actions is judged.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub effectiveness_criterion: Option<String>,
    /// Control references.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub control_refs: Vec<ControlRef>,
    /// Position in the plan; default after the last category.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(minimum = 1, maximum = 100000)]
    pub position: Option<i32>,
}

/// Changes to a category (merge patch; `null` clears an optional field).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategoryRequest {
    /// Name as in the evaluation.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Where the score comes from.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub source: Option<CategorySource>,
    /// Process or result indicator.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<IndicatorKind>)]
    pub indicator_kind: Option<Option<IndicatorKind>>,
    /// Score 0–100.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100)]
    pub score: Option<Option<f64>>,
    /// Score of the previous measurement, 0–100.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100)]
    pub previous_score: Option<Option<f64>>,
    /// Score the plan aims at, 0–100.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100)]
    pub target_score: Option<Option<f64>>,
    /// Improvement alternatives (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(max_items = 200)]
    #[schema(nullable = false)]
    pub improvement_alternatives: Option<Vec<String>>,
    /// How the effectiveness of the actions is judged.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^[^\x00]*$")]
    pub effectiveness_criterion: Option<Option<String>>,
    /// Control references (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(max_items = 200)]
    #[schema(nullable = false)]
    pub control_refs: Option<Vec<ControlRef>>,
    /// Position in the plan.
    #[serde(default, deserialize_with = "crate::dto::lenient::patch_int")]
    #[schema(minimum = 1, maximum = 100000)]
    #[schema(nullable = false)]
    pub position: Option<i32>,
}

/// Page of a plan's categories, in plan order.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CategoryListQuery {
    /// Only categories from this source.
    pub source: Option<CategorySource>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}
