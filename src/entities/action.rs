//! `action`: an improvement action of a plan (acción de mejora). `action_type` is `type` on the wire.
use super::enums::{ActionFocus, ActionStatus, ActionType, ComplianceResult, EffectivenessResult};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "action")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub category_id: Option<Uuid>,
    pub number: i32,
    pub action_type: ActionType,
    pub focus: ActionFocus,
    pub title: String,
    pub description: Option<String>,
    pub goal: Option<String>,
    pub unit: Option<String>,
    pub target_quantity: f64,
    pub responsible_id: Option<Uuid>,
    pub responsible_unit: Option<String>,
    pub start_date: Date,
    pub due_date: Date,
    pub status: ActionStatus,
    pub completed_on: Option<Date>,
    pub compliance: ComplianceResult,
    pub effectiveness: EffectivenessResult,
    pub evaluated_by: Option<Uuid>,
    pub evaluated_on: Option<Date>,
    pub evaluation_criterion: Option<String>,
    pub evaluation_note: Option<String>,
    pub reformulated_from_id: Option<Uuid>,
    pub reformulation_reason: Option<String>,
    pub resources: Option<String>,
    pub estimated_cost: Option<Decimal>,
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
