//! Integration events of an upload, written with each batch (in the upload's savepoint, so a
//! rejected or dry-run upload leaves none): `finding.created` for each new finding,
//! `finding.updated` (and `finding.status_changed`) for each changed one.
use crate::dto::findings::FindingResponse;
use crate::entities::enums::{AuditResource, EventType};
use crate::entities::finding;
use crate::services::events::{self, NewEvent};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Events of one written batch: `ids` are the ids the batch's rows were given (a row that
/// updated or skipped an existing finding left its id unused), `created` how many were new.
pub async fn batch(
    conn: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
    created: u64,
    updated: &[(finding::Model, finding::Model)],
) -> Result<(), DbErr> {
    let mut list = Vec::with_capacity(usize::try_from(created).unwrap_or(0) + updated.len());
    if created > 0 {
        let new = finding::Entity::find()
            .filter(finding::Column::OrganizationId.eq(org))
            .filter(finding::Column::Id.is_in(ids.iter().copied()))
            .all(conn)
            .await?;
        for row in new {
            let id = row.id;
            list.push(NewEvent::new(
                org,
                EventType::FindingCreated,
                AuditResource::Finding,
                Some(id),
                &FindingResponse::from(row),
            )?);
        }
    }
    for (before, after) in updated {
        let data = FindingResponse::from(after.clone());
        list.push(NewEvent::new(org, EventType::FindingUpdated, AuditResource::Finding, Some(after.id), &data)?);
        if before.status != after.status {
            list.push(NewEvent::new(
                org,
                EventType::FindingStatusChanged,
                AuditResource::Finding,
                Some(after.id),
                &data,
            )?);
        }
    }
    events::emit_many(conn, list).await
}
