//! `risk_appetite`: the organization's risk appetite — the highest residual zone it tolerates
//! without treatment. One row per organization; absent means the default (`low`).
use super::enums::RiskZone;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_appetite")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub max_zone: RiskZone,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<Uuid>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
