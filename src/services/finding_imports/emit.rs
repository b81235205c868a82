//! Integration events of an upload, written with each batch (in the upload's savepoint, so a
//! rejected or dry-run upload leaves none): `finding.created` for each new finding,
//! `finding.updated` (and `finding.status_changed`) for each changed one.
use super::rows::ImportRow;
use super::write::Context;
use crate::dto::findings::FindingResponse;
use crate::entities::enums::{AuditResource, EventType};
use crate::entities::finding::{self, Requirements};
use crate::services::events::{self, NewEvent};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// The finding a row creates when its key is new (as the batch statement writes it).
pub fn model(r: &ImportRow, ctx: &Context) -> finding::Model {
    finding::Model {
        id: r.id,
        source: r.source,
        auditor: r.auditor.clone(),
        report_code: r.report_code.clone(),
        report_date: r.report_date,
        fiscal_year: r.fiscal_year,
        finding_code: r.finding_code.clone(),
        title: r.title.clone(),
        condition: r.condition.clone(),
        criterion: r.criterion.clone(),
        cause: r.cause.clone(),
        effect: r.effect.clone(),
        classification: r.classification,
        severity: r.severity,
        requirements: Requirements(r.requirements.clone()),
        presumed_incidence: crate::services::findings::incidences(r.presumed_incidence.clone()),
        fiscal_amount: r.fiscal_amount,
        status: r.status,
        plan_id: None,
        repeats_finding_id: None,
        import_id: Some(ctx.import_id),
        search: r.search.clone(),
        organization_id: ctx.org,
        created_at: ctx.now,
        updated_at: ctx.now,
        created_by: ctx.actor,
        updated_by: ctx.actor,
        version: 1,
    }
}

/// Events of one written batch: `new` are the findings its rows would create (a row that
/// updated or skipped an existing finding left its id unused), `created` how many were.
pub async fn batch(
    conn: &impl ConnectionTrait, org: Uuid, mut new: Vec<finding::Model>, created: u64,
    updated: &[(finding::Model, finding::Model)],
) -> Result<(), DbErr> {
    if usize::try_from(created).unwrap_or(usize::MAX) < new.len() {
        // Some keys existed: keep the rows whose id was written (one indexed lookup).
        let written: std::collections::HashSet<Uuid> = if created == 0 {
            Default::default()
        } else {
            finding::Entity::find()
                .select_only()
                .column(finding::Column::Id)
                .filter(finding::Column::OrganizationId.eq(org))
                .filter(finding::Column::Id.is_in(new.iter().map(|m| m.id)))
                .into_tuple::<Uuid>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        new.retain(|m| written.contains(&m.id));
    }
    let mut list = Vec::with_capacity(new.len() + updated.len());
    for row in new {
        let id = row.id;
        let data = FindingResponse::from(row);
        list.push(NewEvent::new(org, EventType::FindingCreated, AuditResource::Finding, Some(id), &data)?);
    }
    for (before, after) in updated {
        let data = FindingResponse::from(after.clone());
        list.push(NewEvent::new(org, EventType::FindingUpdated, AuditResource::Finding, Some(after.id), &data)?);
        if before.status != after.status {
            let status = EventType::FindingStatusChanged;
            list.push(NewEvent::new(org, status, AuditResource::Finding, Some(after.id), &data)?);
        }
    }
    events::emit_many(conn, list).await
}
