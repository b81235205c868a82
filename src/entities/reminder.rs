//! `reminder`: one reminder raised for an action (`due_soon` per threshold and due date,
//! `overdue` per day). The primary key makes each happen once, whatever the replicas.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub action_id: Uuid,
    /// `due_soon` or `overdue`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// `30:2026-12-31` (threshold in days and due date) or `2026-12-02` (the overdue day).
    #[sea_orm(primary_key, auto_increment = false)]
    pub mark: String,
    pub organization_id: Uuid,
    pub raised_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
