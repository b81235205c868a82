//! `risk_control`: a control of a risk, in the DAFP shape (responsible + action + complement),
//! with its attributes and ISO/IEC 27001:2022 Annex A references. Controls apply in `position`
//! order when the residual risk is computed.
use super::category::Texts;
use super::enums::{ControlDocumentation, ControlEvidence, ControlFrequency, ControlImplementation, ControlType};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_control")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub risk_id: Uuid,
    pub position: i32,
    pub responsible: String,
    pub action: String,
    pub complement: Option<String>,
    pub control_type: ControlType,
    pub implementation: ControlImplementation,
    pub documentation: ControlDocumentation,
    pub frequency: ControlFrequency,
    pub evidence: ControlEvidence,
    pub annex_a_refs: Texts,
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
