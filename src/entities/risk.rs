//! `risk`: a risk of the register (mapa de riesgos) with its description in the DAFP shape
//! (impact + immediate cause + root cause), its inherent valuation, the residual valuation its
//! controls ([`super::risk_control`]) leave, its treatment and its monitoring dates. The
//! valuation columns are computed by `services::risks::methodology`, never written by callers.
use super::category::Texts;
use super::enums::{RiskImpact, RiskKind, RiskProbability, RiskZone, TreatmentOption};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Ids stored as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Ids(pub Vec<Uuid>);

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "risk")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub process: String,
    pub kind: RiskKind,
    pub asset_ids: Ids,
    pub confidentiality: bool,
    pub integrity: bool,
    pub availability: bool,
    pub impact: String,
    pub immediate_cause: String,
    pub root_cause: String,
    pub threats: Texts,
    pub vulnerabilities: Texts,
    pub owner_id: Option<Uuid>,
    pub annual_frequency: i32,
    pub economic_impact: RiskImpact,
    pub reputational_impact: RiskImpact,
    pub inherent_probability: RiskProbability,
    pub inherent_impact: RiskImpact,
    pub inherent_zone: RiskZone,
    pub residual_probability_pct: f64,
    pub residual_impact_pct: f64,
    pub residual_probability: RiskProbability,
    pub residual_impact: RiskImpact,
    pub residual_zone: RiskZone,
    pub treatment: TreatmentOption,
    pub accepted_by: Option<Uuid>,
    pub accepted_on: Option<Date>,
    pub acceptance_expires_on: Option<Date>,
    pub review_interval_days: i32,
    pub last_review_on: Option<Date>,
    pub next_review_on: Option<Date>,
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
