//! Controls of a risk. Every change recomputes the risk's residual valuation and writes the
//! risk with a new version in the same transaction (the treatment rule is checked again).
use super::{control_response, ensure_may_write, save};
use crate::dto::risks::{CreateRiskControlRequest, RiskControlResponse, UpdateRiskControlRequest};
use crate::dto::validate::Checks;
use crate::entities::category::Texts;
use crate::entities::enums::{AuditOperation, AuditResource};
use crate::entities::{risk, risk_control};
use crate::error::ApiError;
use crate::services::audit::{self, Actor, Entry};
use crate::services::categories::annex_a_control;
use crate::services::tenancy::{find_in_org, update_versioned};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Most controls one risk may have.
pub const MAX_CONTROLS: usize = 50;

/// A new control row (not yet checked).
pub fn new_model(
    actor: &Actor, org: Uuid, risk_id: Uuid, position: i32, req: CreateRiskControlRequest,
) -> risk_control::Model {
    let now = crate::services::now();
    let mut m = risk_control::Model {
        id: Uuid::now_v7(),
        risk_id,
        position,
        responsible: req.responsible,
        action: req.action,
        complement: req.complement,
        control_type: req.control_type,
        implementation: req.implementation,
        documentation: req.documentation,
        frequency: req.frequency,
        evidence: req.evidence,
        annex_a_refs: Texts(req.annex_a_refs),
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    normalize(&mut m);
    m
}

fn normalize(m: &mut risk_control::Model) {
    m.responsible = m.responsible.trim().to_string();
    m.action = m.action.trim().to_string();
    m.complement = super::clean_text(m.complement.take());
    let mut refs: Vec<String> =
        m.annex_a_refs.0.iter().map(|r| annex_a_control(r).unwrap_or_else(|| r.trim().to_string())).collect();
    refs.dedup();
    m.annex_a_refs = Texts(refs);
}

/// Checks a control's fields; errors are named `{prefix}field`.
pub fn check(c: &mut Checks, prefix: &str, m: &risk_control::Model) {
    c.range(&format!("{prefix}position"), Some(m.position), 1, 1000);
    c.text(&format!("{prefix}responsible"), &m.responsible, 300);
    c.text(&format!("{prefix}action"), &m.action, 5000);
    c.optional_text(&format!("{prefix}complement"), m.complement.as_deref(), 5000);
    if m.annex_a_refs.0.len() > 93 {
        c.push(&format!("{prefix}annex_a_refs"), "too_many", "at most 93 references");
    }
    for (i, r) in m.annex_a_refs.0.iter().enumerate() {
        if annex_a_control(r).is_none() {
            c.push(
                &format!("{prefix}annex_a_refs[{i}]"),
                "unknown_control",
                "not an ISO/IEC 27001:2022 Annex A control (5.1–5.37, 6.1–6.8, 7.1–7.14, 8.1–8.34)",
            );
        }
    }
}

async fn controls_of(conn: &impl ConnectionTrait, risk_id: Uuid) -> Result<Vec<risk_control::Model>, ApiError> {
    Ok(risk_control::Entity::find()
        .filter(risk_control::Column::RiskId.eq(risk_id))
        .order_by_asc(risk_control::Column::Position)
        .order_by_asc(risk_control::Column::Id)
        .all(conn)
        .await?)
}

/// A control of `org` and its risk.
async fn find(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid,
) -> Result<(risk_control::Model, risk::Model), ApiError> {
    let c = find_in_org::<risk_control::Entity>(conn, org, id).await?;
    let r = find_in_org::<risk::Entity>(conn, org, c.risk_id).await?;
    Ok((c, r))
}

/// Controls of a risk, in the order they apply.
pub async fn list(conn: &impl ConnectionTrait, org: Uuid, risk_id: Uuid) -> Result<Vec<RiskControlResponse>, ApiError> {
    find_in_org::<risk::Entity>(conn, org, risk_id).await?;
    Ok(controls_of(conn, risk_id).await?.into_iter().map(control_response).collect())
}

/// One control.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<RiskControlResponse, ApiError> {
    Ok(control_response(find_in_org::<risk_control::Entity>(conn, org, id).await?))
}

/// Rewrites the risk after its controls changed to `controls`.
async fn revalue_risk(
    conn: &impl ConnectionTrait, actor: &Actor, current: &risk::Model, controls: Vec<risk_control::Model>,
) -> Result<(), ApiError> {
    save(conn, actor, current, current.clone(), controls, (None, None)).await.map(|_| ())
}

/// Adds a control to a risk and recomputes its residual valuation.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, risk_id: Uuid, req: CreateRiskControlRequest,
) -> Result<RiskControlResponse, ApiError> {
    let current = find_in_org::<risk::Entity>(conn, org, risk_id).await?;
    ensure_may_write(actor, current.owner_id)?;
    let mut controls = controls_of(conn, risk_id).await?;
    if controls.len() >= MAX_CONTROLS {
        return Err(ApiError::field("position", "too_many", format!("a risk has at most {MAX_CONTROLS} controls")));
    }
    let last = controls.iter().map(|c| c.position).max().unwrap_or(0);
    let position = req.position.unwrap_or(last + 1);
    let model = new_model(actor, org, risk_id, position, req);
    let mut c = Checks::new();
    check(&mut c, "", &model);
    c.finish()?;
    risk_control::Entity::insert(risk_control::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    controls.push(model.clone());
    controls.sort_by_key(|c| (c.position, c.id));
    revalue_risk(conn, actor, &current, controls).await?;
    let created = control_response(model);
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::RiskControl, created.id, AuditOperation::Create).after(&created),
    )
    .await?;
    Ok(created)
}

/// Applies a merge patch to a control and recomputes the risk.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
    req: UpdateRiskControlRequest,
) -> Result<RiskControlResponse, ApiError> {
    use crate::dto::patch::{set, set_nullable};
    let (current, current_risk) = find(conn, org, id).await?;
    ensure_may_write(actor, current_risk.owner_id)?;
    let risk_id = current_risk.id;
    let mut next = current.clone();
    set(&mut next.position, req.position);
    set(&mut next.responsible, req.responsible);
    set(&mut next.action, req.action);
    set_nullable(&mut next.complement, req.complement);
    set(&mut next.control_type, req.control_type);
    set(&mut next.implementation, req.implementation);
    set(&mut next.documentation, req.documentation);
    set(&mut next.frequency, req.frequency);
    set(&mut next.evidence, req.evidence);
    set(&mut next.annex_a_refs, req.annex_a_refs.map(Texts));
    normalize(&mut next);
    let mut c = Checks::new();
    check(&mut c, "", &next);
    c.finish()?;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    if next == current {
        return Ok(control_response(current));
    }
    next.updated_at = crate::services::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, risk_control::ActiveModel::from(next.clone())).await?;
    let mut controls: Vec<_> =
        controls_of(conn, risk_id).await?.into_iter().map(|c| if c.id == id { next.clone() } else { c }).collect();
    controls.sort_by_key(|c| (c.position, c.id));
    revalue_risk(conn, actor, &current_risk, controls).await?;
    let after = control_response(next);
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::RiskControl, id, AuditOperation::Update)
            .before(&control_response(current))
            .after(&after),
    )
    .await?;
    Ok(after)
}

/// Removes a control and recomputes the risk.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let (current, current_risk) = find(conn, org, id).await?;
    ensure_may_write(actor, current_risk.owner_id)?;
    let risk_id = current_risk.id;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    crate::services::tenancy::delete_versioned::<risk_control::Entity>(conn, org, id, expected_version).await?;
    let controls: Vec<_> = controls_of(conn, risk_id).await?;
    revalue_risk(conn, actor, &current_risk, controls).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::RiskControl, id, AuditOperation::Delete).before(&control_response(current)),
    )
    .await?;
    Ok(())
}
