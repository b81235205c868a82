//! Integration events through a transactional outbox. A change that matters to an integrator
//! calls [`emit`] with the transaction of the change (beside its audit event), so the event
//! exists exactly when the change committed. Consumers (webhook delivery, notifications) read
//! the `event` table after commit and keep their own progress; nothing here sends anything.
use crate::entities::enums::{AuditResource, EventType};
use crate::entities::event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde::Serialize;
use uuid::Uuid;

/// One event to write: its type, the resource it is about (as the API returns it).
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Organization whose integrators may see it.
    pub organization_id: Uuid,
    /// What happened.
    pub event_type: EventType,
    /// Kind of resource `data` is.
    pub resource_type: AuditResource,
    /// Id of that resource, when it has one.
    pub resource_id: Option<Uuid>,
    /// The resource as the API returns it. Never a secret.
    pub data: serde_json::Value,
}

impl NewEvent {
    /// An event about `resource`, serialized as the API would answer it.
    pub fn new(
        organization_id: Uuid,
        event_type: EventType,
        resource_type: AuditResource,
        resource_id: Option<Uuid>,
        resource: &impl Serialize,
    ) -> Result<Self, DbErr> {
        let data = serde_json::to_value(resource).map_err(|e| DbErr::Custom(format!("event payload: {e}")))?;
        Ok(NewEvent { organization_id, event_type, resource_type, resource_id, data })
    }
}

/// Writes events in the caller's transaction (bulk uploads pass many at once).
pub async fn emit_many(conn: &impl ConnectionTrait, events: Vec<NewEvent>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let occurred_at = super::now();
    let rows: Vec<event::ActiveModel> = events
        .into_iter()
        .map(|e| event::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(e.organization_id),
            event_type: Set(e.event_type.code().to_string()),
            resource_type: Set(e.resource_type.code().to_string()),
            resource_id: Set(e.resource_id),
            occurred_at: Set(occurred_at),
            data: Set(e.data),
        })
        .collect();
    // 7 columns a row: 2000 rows stay under SQLite's 32,766 parameters.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(2000).collect();
        event::Entity::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Writes one event in the caller's transaction.
pub async fn emit(conn: &impl ConnectionTrait, event: NewEvent) -> Result<(), DbErr> {
    emit_many(conn, vec![event]).await
}
