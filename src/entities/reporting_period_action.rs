//! `reporting_period_action`: one covered action's figures as of a period's cut-off, written
//! once when the period closes; only `observation` changes afterwards, until filing.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reporting_period_action")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub action_id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub number: i32,
    pub status: String,
    pub accepted_quantity: f64,
    pub progress_pct: f64,
    pub traffic_light: Option<String>,
    pub overdue: bool,
    pub compliance: String,
    pub effectiveness: String,
    /// Ids of the evidence counted, as a JSON array of strings.
    pub evidence_ids: Json,
    pub observation: Option<String>,
    /// What the exports print of the action and its findings, as JSON.
    pub content: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
