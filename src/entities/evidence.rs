//! `evidence`: a follow-up report on an action (seguimiento), reviewed by an auditor.
use super::category::Texts;
use super::enums::ReviewStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub action_id: Uuid,
    pub cut_off_date: Date,
    pub evidence_date: Option<Date>,
    pub description: String,
    pub reported_quantity: Option<f64>,
    pub links: Texts,
    pub review_status: ReviewStatus,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_note: Option<String>,
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
