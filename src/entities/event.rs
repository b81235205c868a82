//! `event`: the transactional outbox. One integration event (`finding.created`,
//! `action.overdue`…) per row, written in the transaction of the change; never updated.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "event")]
pub struct Model {
    /// Time-ordered id (UUIDv7); `msg_` + its simple form is the `webhook-id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// An [`super::enums::EventType`] code.
    pub event_type: String,
    /// An [`super::enums::AuditResource`] code: what `resource_id` names.
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
    /// The resource as the API returns it (never secrets).
    pub data: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
