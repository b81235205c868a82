//! `category`: a scored line of a plan (e.g. `Indicadores de Proceso Logro: Transparencia`, 40)
//! with its improvement alternatives and control references.
use super::enums::{CategorySource, ControlFramework, IndicatorKind, MaturityLevel};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An ordered list of texts stored as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Texts(pub Vec<String>);

/// A reference to a control or domain of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlRef {
    /// Framework of the reference.
    pub framework: ControlFramework,
    /// Control id (`5.15` for ISO/IEC 27001:2022 Annex A; an `A.` prefix is dropped) or domain name.
    #[schema(example = "5.15", min_length = 1, max_length = 100)]
    pub code: String,
    /// Optional label shown next to the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Control de acceso", max_length = 300)]
    pub label: Option<String>,
}

/// Control references stored as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ControlRefs(pub Vec<ControlRef>);

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    pub name: String,
    pub source: CategorySource,
    pub indicator_kind: Option<IndicatorKind>,
    pub score: Option<f64>,
    pub previous_score: Option<f64>,
    pub target_score: Option<f64>,
    pub improvement_alternatives: Texts,
    pub effectiveness_criterion: Option<String>,
    pub control_refs: ControlRefs,
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The MSPI maturity level of the score, the one rule every response uses. Only a score
    /// from the MSPI self-assessment has one: a FURAG index, an audit grade or another source
    /// measures something else on 0–100, and labelling it with MSPI levels would mislead.
    pub fn maturity_band(&self) -> Option<MaturityLevel> {
        match self.source {
            CategorySource::Mspi => self.score.map(MaturityLevel::of_mspi_score),
            CategorySource::Furag | CategorySource::Audit | CategorySource::Other => None,
        }
    }
}
