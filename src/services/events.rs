//! Integration events through a transactional outbox. A change that matters to an integrator
//! calls [`emit`] with the transaction of the change (beside its audit event), so the event
//! exists exactly when the change committed. Consumers (webhook delivery, notifications) read
//! the `event` table after commit and keep their own progress (webhooks mark
//! `event.fanned_out_at`, see [`super::webhooks`]); nothing here sends anything.
use crate::entities::enums::{AuditResource, EventType};
use crate::entities::event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, EntityTrait, Statement, Value};
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
        organization_id: Uuid, event_type: EventType, resource_type: AuditResource, resource_id: Option<Uuid>,
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
    if conn.get_database_backend() == DbBackend::Postgres {
        return emit_postgres(conn, events, occurred_at).await;
    }
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

/// PostgreSQL: one statement over column arrays however many events (an upload's batch of
/// 2,000 costs one round trip and no per-row parameters).
async fn emit_postgres(
    conn: &impl ConnectionTrait, events: Vec<NewEvent>, occurred_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let n = events.len();
    let (mut ids, mut orgs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut types, mut resources, mut resource_ids, mut data) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for e in events {
        ids.push(Uuid::now_v7());
        orgs.push(e.organization_id);
        types.push(e.event_type.code().to_string());
        resources.push(e.resource_type.code().to_string());
        resource_ids.push(e.resource_id.map(|id| id.to_string()).unwrap_or_default());
        data.push(e.data.to_string());
    }
    let sql = "INSERT INTO event (id, organization_id, event_type, resource_type, resource_id, occurred_at, data) \
               SELECT x.id, x.org, x.et, x.rt, NULLIF(x.rid, '')::uuid, $1, x.data::jsonb \
               FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[]) \
               AS x(id, org, et, rt, rid, data)";
    let values: Vec<Value> = vec![
        occurred_at.into(),
        ids.into(),
        orgs.into(),
        types.into(),
        resources.into(),
        resource_ids.into(),
        data.into(),
    ];
    conn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    Ok(())
}

/// Writes one event about `resource` (serialized as the API answers it) in the caller's
/// transaction: the one-line form the services use beside their audit event.
pub async fn record(
    conn: &impl ConnectionTrait, organization_id: Uuid, event_type: EventType, resource_type: AuditResource,
    resource_id: Uuid, resource: &impl Serialize,
) -> Result<(), DbErr> {
    emit(conn, NewEvent::new(organization_id, event_type, resource_type, Some(resource_id), resource)?).await
}

/// Writes one event and returns its id (the `webhook-id` is `msg_` + its simple form).
pub async fn emit_returning_id(conn: &impl ConnectionTrait, e: NewEvent) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    let row = event::ActiveModel {
        id: Set(id),
        organization_id: Set(e.organization_id),
        event_type: Set(e.event_type.code().to_string()),
        resource_type: Set(e.resource_type.code().to_string()),
        resource_id: Set(e.resource_id),
        occurred_at: Set(super::now()),
        data: Set(e.data),
    };
    event::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(id)
}

/// Writes one event in the caller's transaction.
pub async fn emit(conn: &impl ConnectionTrait, event: NewEvent) -> Result<(), DbErr> {
    emit_many(conn, vec![event]).await
}

/// `action.updated` for a changed action, and `action.status_changed` when its status moved.
pub async fn action_changed(
    conn: &impl ConnectionTrait, before: &crate::dto::actions::ActionResponse,
    after: &crate::dto::actions::ActionResponse,
) -> Result<(), DbErr> {
    let (org, id) = (after.organization_id, after.id);
    let mut list = vec![NewEvent::new(org, EventType::ActionUpdated, AuditResource::Action, Some(id), after)?];
    if before.status != after.status {
        list.push(NewEvent::new(org, EventType::ActionStatusChanged, AuditResource::Action, Some(id), after)?);
    }
    emit_many(conn, list).await
}
