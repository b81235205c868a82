//! Critical information assets of the organization's processes.
use crate::dto::pagination::{Page, PageParams};
use crate::dto::patch::{set, set_nullable};
use crate::dto::risks::{AssetListQuery, AssetResponse, CreateAssetRequest, UpdateAssetRequest};
use crate::dto::validate::Checks;
use crate::entities::enums::{AuditOperation, AuditResource};
use crate::entities::{asset, risk, user};
use crate::error::{ApiError, ErrorCode};
use crate::services::audit::{self, Actor, Entry};
use crate::services::tenancy::{check_ids, find_in_org, scoped, update_versioned};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

fn normalize(m: &mut asset::Model) {
    m.name = m.name.trim().to_string();
    m.process = m.process.trim().to_string();
    m.description = super::clean_text(m.description.take());
    m.owner_unit = super::clean_text(m.owner_unit.take());
    m.custodian_unit = super::clean_text(m.custodian_unit.take());
}

fn check(c: &mut Checks, m: &asset::Model) {
    c.text("name", &m.name, 300);
    c.text("process", &m.process, 200);
    c.optional_text("description", m.description.as_deref(), 10_000);
    c.optional_text("owner_unit", m.owner_unit.as_deref(), 200);
    c.optional_text("custodian_unit", m.custodian_unit.as_deref(), 200);
}

async fn check_people(conn: &impl ConnectionTrait, org: Uuid, m: &asset::Model) -> Result<(), ApiError> {
    for (field, id) in [("owner_id", m.owner_id), ("custodian_id", m.custodian_id)] {
        if let Some(id) = id {
            check_ids::<user::Entity>(conn, org, field, "unknown_user", &[id]).await?;
        }
    }
    Ok(())
}

/// Records an asset.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateAssetRequest,
) -> Result<asset::Model, ApiError> {
    let now = crate::services::now();
    let mut model = asset::Model {
        id: Uuid::now_v7(),
        name: req.name,
        process: req.process,
        kind: req.kind,
        description: req.description,
        owner_id: req.owner_id,
        owner_unit: req.owner_unit,
        custodian_id: req.custodian_id,
        custodian_unit: req.custodian_unit,
        classification: req.classification,
        personal_data: req.personal_data,
        confidentiality: req.confidentiality,
        integrity: req.integrity,
        availability: req.availability,
        critical: req.critical,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    normalize(&mut model);
    let mut c = Checks::new();
    check(&mut c, &model);
    c.finish()?;
    check_people(conn, org, &model).await?;
    asset::Entity::insert(asset::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Asset, model.id, AuditOperation::Create)
            .after(&AssetResponse::from(model.clone())),
    )
    .await?;
    Ok(model)
}

/// Assets of `org`, oldest first.
pub async fn list(conn: &impl ConnectionTrait, org: Uuid, q: &AssetListQuery) -> Result<Page<AssetResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    crate::services::objectives::check_query_text("process", q.process.as_deref(), 200)?;
    let mut select = scoped::<asset::Entity>(org).order_by_asc(asset::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(asset::Column::Id.gt(cursor.id));
    }
    if let Some(p) = q.process.as_deref() {
        select = select.filter(asset::Column::Process.eq(p.trim()));
    }
    if let Some(k) = q.kind {
        select = select.filter(asset::Column::Kind.eq(k));
    }
    if let Some(critical) = q.critical {
        select = select.filter(asset::Column::Critical.eq(critical));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |a| (None, a.id), AssetResponse::from))
}

/// An asset of `org`.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<AssetResponse, ApiError> {
    Ok(find_in_org::<asset::Entity>(conn, org, id).await?.into())
}

/// Applies a merge patch to an asset.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateAssetRequest,
) -> Result<asset::Model, ApiError> {
    let current = find_in_org::<asset::Entity>(conn, org, id).await?;
    let mut next = current.clone();
    set(&mut next.name, req.name);
    set(&mut next.process, req.process);
    set(&mut next.kind, req.kind);
    set_nullable(&mut next.description, req.description);
    set_nullable(&mut next.owner_id, req.owner_id);
    set_nullable(&mut next.owner_unit, req.owner_unit);
    set_nullable(&mut next.custodian_id, req.custodian_id);
    set_nullable(&mut next.custodian_unit, req.custodian_unit);
    set(&mut next.classification, req.classification);
    set(&mut next.personal_data, req.personal_data);
    set(&mut next.confidentiality, req.confidentiality);
    set(&mut next.integrity, req.integrity);
    set(&mut next.availability, req.availability);
    set(&mut next.critical, req.critical);
    normalize(&mut next);
    let mut c = Checks::new();
    check(&mut c, &next);
    c.finish()?;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    if next == current {
        return Ok(current);
    }
    check_people(conn, org, &next).await?;
    next.updated_at = crate::services::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, asset::ActiveModel::from(next.clone())).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Asset, id, AuditOperation::Update)
            .before(&AssetResponse::from(current))
            .after(&AssetResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

/// Deletes an asset no risk names.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let current = find_in_org::<asset::Entity>(conn, org, id).await?;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    let needle = id.to_string();
    let in_use = scoped::<risk::Entity>(org)
        .select_only()
        .column(risk::Column::AssetIds)
        .into_tuple::<crate::entities::risk::Ids>()
        .all(conn)
        .await?
        .iter()
        .any(|ids| ids.0.iter().any(|a| a.to_string() == needle));
    if in_use {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "Risks name this asset; remove it from them first",
            "Hay riesgos que nombran este activo; retírelo de ellos primero",
        ));
    }
    crate::services::tenancy::delete_versioned::<asset::Entity>(conn, org, id, expected_version).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Asset, id, AuditOperation::Delete).before(&AssetResponse::from(current)),
    )
    .await?;
    Ok(())
}
