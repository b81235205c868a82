//! `finding_risk`: the findings that materialise a risk.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "finding_risk")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub finding_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub risk_id: Uuid,
    pub organization_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
