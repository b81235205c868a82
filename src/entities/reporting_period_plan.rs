//! `reporting_period_plan`: one covered plan's figures and content as of a period's cut-off,
//! written once when the period closes and never recomputed.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reporting_period_plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub plan_version: i32,
    pub title: String,
    pub progress_pct: Option<f64>,
    pub compliance_pct: Option<f64>,
    pub effectiveness_pct: Option<f64>,
    pub traffic_light: Option<String>,
    pub actions_count: i32,
    /// What the exports print of the plan (organization, plan metadata, categories), as JSON.
    pub content: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
