//! `risk_review`: a periodic review of a risk by the second or third line of defence.
use super::category::Texts;
use super::enums::{ReviewLine, ReviewResult};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_review")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub risk_id: Uuid,
    pub reviewed_on: Date,
    pub reviewer_id: Option<Uuid>,
    pub line: ReviewLine,
    pub result: ReviewResult,
    pub note: Option<String>,
    pub evidence_links: Texts,
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
