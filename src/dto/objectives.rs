//! PEI/PETI strategic objectives on the wire.
use crate::dto::common::Meta;
use crate::entities::enums::ObjectiveSource;
use crate::entities::objective;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A strategic objective of the entity's PEI or PETI.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Objective)]
pub struct ObjectiveResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// PEI (institutional) or PETI (IT) objective.
    pub source: ObjectiveSource,
    /// Code in the strategic plan, unique per source.
    #[schema(example = "OE-3")]
    pub code: String,
    /// Objective as written in the strategic plan.
    #[schema(example = "Fortalecer la seguridad y privacidad de la información")]
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// First year of the strategic plan's period.
    #[schema(example = 2024)]
    pub period_start: Option<i32>,
    /// Last year of the strategic plan's period.
    #[schema(example = 2027)]
    pub period_end: Option<i32>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<objective::Model> for ObjectiveResponse {
    fn from(m: objective::Model) -> Self {
        ObjectiveResponse {
            id: m.id,
            organization_id: m.organization_id,
            source: m.source,
            code: m.code,
            title: m.title,
            description: m.description,
            period_start: m.period_start,
            period_end: m.period_end,
            meta: crate::meta_of!(m),
        }
    }
}

/// A new strategic objective.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateObjectiveRequest {
    /// PEI (institutional) or PETI (IT) objective.
    pub source: ObjectiveSource,
    /// Code in the strategic plan, unique per source within the organization.
    #[schema(example = "OE-3", min_length = 1, max_length = 40, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub code: String,
    /// Objective as written in the strategic plan.
    #[schema(
        example = "Fortalecer la seguridad y privacidad de la información",
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub title: String,
    /// Longer description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// First year of the strategic plan's period.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(example = 2024, minimum = 2000, maximum = 2100)]
    pub period_start: Option<i32>,
    /// Last year of the period; not before `period_start`.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(example = 2027, minimum = 2000, maximum = 2100)]
    pub period_end: Option<i32>,
}

/// Changes to an objective (merge patch).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateObjectiveRequest {
    /// PEI or PETI.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub source: Option<ObjectiveSource>,
    /// Code in the strategic plan.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 40, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub code: Option<String>,
    /// Objective as written in the strategic plan.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub title: Option<String>,
    /// Longer description; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<Option<String>>,
    /// First year of the period; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::lenient::nullable_int")]
    #[schema(value_type = Option<i32>, minimum = 2000, maximum = 2100)]
    pub period_start: Option<Option<i32>>,
    /// Last year of the period; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::lenient::nullable_int")]
    #[schema(value_type = Option<i32>, minimum = 2000, maximum = 2100)]
    pub period_end: Option<Option<i32>>,
}

/// Filters of the objective list (oldest first).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveListQuery {
    /// Only PEI or only PETI objectives.
    pub source: Option<ObjectiveSource>,
    /// Text in code or title (case-insensitive).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}
