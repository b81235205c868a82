//! `notification`: an integration event addressed to one user, read or not.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    /// Time-ordered id (UUIDv7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The user it is addressed to.
    pub user_id: Uuid,
    /// The outbox event it tells about.
    pub event_id: Uuid,
    /// An [`super::enums::EventType`] code.
    pub event_type: String,
    /// An [`super::enums::AuditResource`] code.
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    /// Short text (Spanish).
    pub title: String,
    /// Longer text (Spanish).
    pub body: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
