//! `risk_incident`: a materialisation of a risk (an incident), optionally tied to the finding
//! that recorded it.
use super::enums::RiskImpact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_incident")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub risk_id: Uuid,
    pub occurred_on: Date,
    pub description: String,
    pub finding_id: Option<Uuid>,
    pub actual_impact: Option<RiskImpact>,
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
