//! The digital-security risk register (mapa de riesgos) and its link to the improvement cycle:
//! risks with their inherent and residual valuation under the DAFP methodology
//! ([`methodology`]), their controls ([`controls`]), the organization's appetite, the rule that
//! a risk above appetite is accepted or treated by an improvement action, reviews and incidents
//! ([`monitoring`]), the heat map ([`heat_map`]) and the assets risks affect ([`assets`]).
//!
//! Who writes: planners and administrators any risk; a `responsible` only the risks they own.
pub mod assets;
pub mod controls;
pub mod heat_map;
pub mod methodology;
pub mod monitoring;
pub mod sheet;

use super::audit::{self, Actor, Entry};
use super::objectives::clean;
use super::tenancy::{check_ids, find_in_org, scoped, update_versioned};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::patch::{set, set_nullable};
use crate::dto::risks::{
    CreateRiskRequest, PlanRisks, RiskAppetiteResponse, RiskControlResponse, RiskListQuery, RiskResponse,
    RiskValuation, SetRiskAppetiteRequest, TreatedRisk, UpdateRiskRequest,
};
use crate::dto::validate::Checks;
use crate::entities::category::Texts;
use crate::entities::enums::{AcceptanceStatus, AuditOperation, AuditResource, RiskZone, Role, TreatmentOption};
use crate::entities::risk::Ids;
use crate::entities::{
    action, action_risk, asset, finding, finding_risk, plan, risk, risk_appetite, risk_control, user,
};
use crate::error::{ApiError, ErrorCode};
use chrono::NaiveDate;
use methodology::Valuation;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Days between reviews when none is given.
pub const DEFAULT_REVIEW_INTERVAL_DAYS: i32 = 180;

/// 403 unless `actor` may write `owner`'s risk: planners and administrators write any risk, a
/// `responsible` only the risks they own.
pub fn ensure_may_write(actor: &Actor, owner: Option<Uuid>) -> Result<(), ApiError> {
    if actor.roles.iter().any(|r| matches!(r, Role::Admin | Role::Planner)) {
        return Ok(());
    }
    if actor.id.is_some() && owner == actor.id {
        return Ok(());
    }
    Err(ApiError::forbidden().detail(
        "Only planners, administrators and the risk's owner may change this risk",
        "Solo los planeadores, los administradores y el dueño del riesgo pueden modificar este riesgo",
    ))
}

/// The organization's appetite: the highest residual zone tolerated without treatment.
pub async fn appetite(conn: &impl ConnectionTrait, org: Uuid) -> Result<RiskZone, ApiError> {
    Ok(risk_appetite::Entity::find_by_id(org).one(conn).await?.map_or(RiskZone::Low, |a| a.max_zone))
}

/// The appetite as the API shows it.
pub async fn get_appetite(conn: &impl ConnectionTrait, org: Uuid) -> Result<RiskAppetiteResponse, ApiError> {
    Ok(match risk_appetite::Entity::find_by_id(org).one(conn).await? {
        Some(a) => RiskAppetiteResponse {
            max_zone: a.max_zone,
            updated_at: Some(a.updated_at),
            updated_by: a.updated_by,
            version: a.version,
        },
        None => RiskAppetiteResponse { max_zone: RiskZone::Low, updated_at: None, updated_by: None, version: 0 },
    })
}

/// Sets the appetite (`expected` 0 when it was never set).
pub async fn set_appetite(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, expected: i32, req: SetRiskAppetiteRequest,
) -> Result<RiskAppetiteResponse, ApiError> {
    let current = get_appetite(conn, org).await?;
    if current.version != expected {
        return Err(ApiError::stale(current.version, expected));
    }
    let row = risk_appetite::ActiveModel {
        organization_id: Set(org),
        max_zone: Set(req.max_zone),
        updated_at: Set(super::now()),
        updated_by: Set(actor.id),
        version: Set(expected + 1),
    };
    if expected == 0 {
        risk_appetite::Entity::insert(row).exec_without_returning(conn).await?;
    } else {
        let done = risk_appetite::Entity::update_many()
            .set(row)
            .filter(risk_appetite::Column::OrganizationId.eq(org))
            .filter(risk_appetite::Column::Version.eq(expected))
            .exec(conn)
            .await?;
        super::tenancy::written(done.rows_affected)?;
    }
    let next = get_appetite(conn, org).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::RiskAppetite, org, AuditOperation::Update).before(&current).after(&next),
    )
    .await?;
    Ok(next)
}

/// Whether an acceptance holds on `today`.
pub fn acceptance_status(m: &risk::Model, today: NaiveDate) -> AcceptanceStatus {
    match (m.treatment, m.acceptance_expires_on) {
        (TreatmentOption::Accept, Some(expires)) if expires >= today => AcceptanceStatus::Active,
        (TreatmentOption::Accept, _) => AcceptanceStatus::Expired,
        _ => AcceptanceStatus::None,
    }
}

/// True when the risk is above appetite, not validly accepted and no action treats it.
pub fn treatment_gap(m: &risk::Model, actions: usize, max_zone: RiskZone, today: NaiveDate) -> bool {
    m.residual_zone > max_zone && acceptance_status(m, today) != AcceptanceStatus::Active && actions == 0
}

/// 422 when the risk would be left above appetite without acceptance or treatment.
pub fn ensure_treated(m: &risk::Model, actions: usize, max_zone: RiskZone, today: NaiveDate) -> Result<(), ApiError> {
    if treatment_gap(m, actions, max_zone, today) {
        return Err(ApiError::field(
            "action_ids",
            "treatment_required",
            format!(
                "the residual zone ({}) is above the organization's appetite ({}): link at least one improvement action or accept the risk",
                m.residual_zone, max_zone
            ),
        ));
    }
    Ok(())
}

/// Writes the inherent and residual valuation of `m` from its criteria and `controls`, in order.
pub fn revalue(m: &mut risk::Model, controls: &[risk_control::Model]) {
    let frequency = u32::try_from(m.annual_frequency.max(0)).unwrap_or(0);
    let inherent = methodology::inherent(
        methodology::probability_for_frequency(frequency),
        methodology::inherent_impact(m.economic_impact, m.reputational_impact),
    );
    let applied: Vec<_> = controls.iter().map(|c| (c.control_type, c.implementation)).collect();
    let residual = methodology::residual(inherent, &applied);
    m.inherent_probability = inherent.probability;
    m.inherent_impact = inherent.impact;
    m.inherent_zone = inherent.zone;
    m.residual_probability_pct = residual.probability_pct;
    m.residual_impact_pct = residual.impact_pct;
    m.residual_probability = residual.probability;
    m.residual_impact = residual.impact;
    m.residual_zone = residual.zone;
}

fn pct(fraction: f64) -> f64 {
    (fraction * 10_000.0).round() / 100.0
}

fn valuation(v: Valuation) -> RiskValuation {
    RiskValuation {
        probability: v.probability,
        probability_pct: pct(v.probability_pct),
        impact: v.impact,
        impact_pct: pct(v.impact_pct),
        zone: v.zone,
    }
}

/// A control as the API shows it.
pub fn control_response(c: risk_control::Model) -> RiskControlResponse {
    let weight = pct(methodology::control_weight(c.control_type, c.implementation));
    RiskControlResponse::new(c, weight)
}

/// The description in the guide's shape.
pub fn description(m: &risk::Model) -> String {
    format!("Posibilidad de {} debido a {} por {}", m.impact, m.immediate_cause, m.root_cause)
}

/// Links and controls of some risks.
#[derive(Default)]
pub struct Related {
    controls: HashMap<Uuid, Vec<risk_control::Model>>,
    actions: HashMap<Uuid, Vec<Uuid>>,
    findings: HashMap<Uuid, Vec<Uuid>>,
}

/// The controls (in order) and links of `ids`.
pub async fn related(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Related, ApiError> {
    let mut out = Related::default();
    if ids.is_empty() {
        return Ok(out);
    }
    for chunk in ids.chunks(500) {
        for c in risk_control::Entity::find()
            .filter(risk_control::Column::RiskId.is_in(chunk.to_vec()))
            .order_by_asc(risk_control::Column::Position)
            .order_by_asc(risk_control::Column::Id)
            .all(conn)
            .await?
        {
            out.controls.entry(c.risk_id).or_default().push(c);
        }
        // Only links to actions that still exist count (SQLite keeps no foreign keys).
        let links = action_risk::Entity::find()
            .filter(action_risk::Column::RiskId.is_in(chunk.to_vec()))
            .order_by_asc(action_risk::Column::ActionId)
            .all(conn)
            .await?;
        let wanted: Vec<Uuid> = links.iter().map(|l| l.action_id).collect();
        let existing: std::collections::HashSet<Uuid> = action::Entity::find()
            .filter(action::Column::Id.is_in(wanted))
            .select_only()
            .column(action::Column::Id)
            .into_tuple::<Uuid>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        for l in links.into_iter().filter(|l| existing.contains(&l.action_id)) {
            out.actions.entry(l.risk_id).or_default().push(l.action_id);
        }
        for l in finding_risk::Entity::find()
            .filter(finding_risk::Column::RiskId.is_in(chunk.to_vec()))
            .order_by_asc(finding_risk::Column::FindingId)
            .all(conn)
            .await?
        {
            out.findings.entry(l.risk_id).or_default().push(l.finding_id);
        }
    }
    Ok(out)
}

/// The wire form of `rows`.
pub async fn responses(
    conn: &impl ConnectionTrait, org: Uuid, rows: Vec<risk::Model>,
) -> Result<Vec<RiskResponse>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut rel = related(conn, &ids).await?;
    let max_zone = appetite(conn, org).await?;
    let today = super::calendar::today();
    Ok(rows
        .into_iter()
        .map(|m| {
            let controls = rel.controls.remove(&m.id).unwrap_or_default();
            let actions = rel.actions.remove(&m.id).unwrap_or_default();
            let findings = rel.findings.remove(&m.id).unwrap_or_default();
            wire(m, controls, actions, findings, max_zone, today)
        })
        .collect())
}

/// The wire form of one risk.
pub fn wire(
    m: risk::Model, controls: Vec<risk_control::Model>, action_ids: Vec<Uuid>, finding_ids: Vec<Uuid>,
    max_zone: RiskZone, today: NaiveDate,
) -> RiskResponse {
    let inherent = methodology::inherent(m.inherent_probability, m.inherent_impact);
    let residual = Valuation {
        probability_pct: m.residual_probability_pct,
        impact_pct: m.residual_impact_pct,
        probability: m.residual_probability,
        impact: m.residual_impact,
        zone: m.residual_zone,
    };
    RiskResponse {
        meta: crate::meta_of!(m),
        description: description(&m),
        acceptance_status: acceptance_status(&m, today),
        above_appetite: m.residual_zone > max_zone,
        treatment_gap: treatment_gap(&m, action_ids.len(), max_zone, today),
        inherent: valuation(inherent),
        residual: valuation(residual),
        controls: controls.into_iter().map(control_response).collect(),
        action_ids,
        finding_ids,
        id: m.id,
        organization_id: m.organization_id,
        code: m.code,
        process: m.process,
        kind: m.kind,
        asset_ids: m.asset_ids.0,
        confidentiality: m.confidentiality,
        integrity: m.integrity,
        availability: m.availability,
        impact: m.impact,
        immediate_cause: m.immediate_cause,
        root_cause: m.root_cause,
        threats: m.threats.0,
        vulnerabilities: m.vulnerabilities.0,
        owner_id: m.owner_id,
        annual_frequency: m.annual_frequency,
        economic_impact: m.economic_impact,
        reputational_impact: m.reputational_impact,
        treatment: m.treatment,
        accepted_by: m.accepted_by,
        accepted_on: m.accepted_on,
        acceptance_expires_on: m.acceptance_expires_on,
        review_interval_days: m.review_interval_days,
        last_review_on: m.last_review_on,
        next_review_on: m.next_review_on,
    }
}

fn trimmed(list: Vec<String>) -> Texts {
    Texts(list.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect())
}

fn normalize(m: &mut risk::Model) {
    m.code = m.code.trim().to_string();
    m.process = m.process.trim().to_string();
    m.impact = m.impact.trim().to_string();
    m.immediate_cause = m.immediate_cause.trim().to_string();
    m.root_cause = m.root_cause.trim().to_string();
    m.threats = trimmed(std::mem::take(&mut m.threats.0));
    m.vulnerabilities = trimmed(std::mem::take(&mut m.vulnerabilities.0));
    if m.treatment != TreatmentOption::Accept {
        m.accepted_by = None;
        m.accepted_on = None;
        m.acceptance_expires_on = None;
    }
    m.next_review_on = m.last_review_on.map(|d| d + chrono::Duration::days(i64::from(m.review_interval_days)));
}

fn check(c: &mut Checks, m: &risk::Model) {
    c.text("code", &m.code, 40);
    c.text("process", &m.process, 200);
    c.text("impact", &m.impact, 2000);
    c.text("immediate_cause", &m.immediate_cause, 2000);
    c.text("root_cause", &m.root_cause, 2000);
    for (field, list) in [("threats", &m.threats), ("vulnerabilities", &m.vulnerabilities)] {
        if list.0.len() > 100 {
            c.push(field, "too_many", "at most 100 entries");
        }
        for (i, t) in list.0.iter().enumerate() {
            c.optional_text(&format!("{field}[{i}]"), Some(t), 1000);
        }
    }
    if m.asset_ids.0.len() > 200 {
        c.push("asset_ids", "too_many", "at most 200 ids");
    }
    c.range("annual_frequency", Some(m.annual_frequency), 0, 100_000_000);
    c.range("review_interval_days", Some(m.review_interval_days), 1, 3660);
    if m.kind == crate::entities::enums::RiskKind::DigitalSecurity
        && !(m.confidentiality || m.integrity || m.availability)
    {
        c.push("confidentiality", "cia_required", "a digital-security risk puts at least one of C, I or A at stake");
    }
    if m.treatment == TreatmentOption::Accept {
        match m.accepted_by {
            None => c.push("accepted_by", "required", "accepting a risk needs an approver"),
            Some(by) if Some(by) == m.owner_id => {
                c.push("accepted_by", "same_as_owner", "the approver of an acceptance must not be the risk's owner")
            }
            Some(_) => {}
        }
        match (m.accepted_on, m.acceptance_expires_on) {
            (_, None) => c.push("acceptance_expires_on", "required", "accepting a risk needs an expiry date"),
            (Some(on), Some(until)) if until <= on => {
                c.push("acceptance_expires_on", "before_acceptance", "must be after accepted_on")
            }
            _ => {}
        }
    }
}

fn taken(err: sea_orm::DbErr) -> ApiError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        code_taken()
    } else {
        err.into()
    }
}

fn code_taken() -> ApiError {
    ApiError::field("code", "taken", "another risk of the organization has this code")
        .with_code(ErrorCode::AlreadyExists)
}

/// 422 unless each of `ids` (with its field) is a user of `org`.
async fn check_users(conn: &impl ConnectionTrait, org: Uuid, users: &[(&str, Option<Uuid>)]) -> Result<(), ApiError> {
    for (field, id) in users {
        if let Some(id) = id {
            check_ids::<user::Entity>(conn, org, field, "unknown_user", &[*id]).await?;
        }
    }
    Ok(())
}

/// Replaces the action and/or finding links of a risk.
async fn set_links(
    conn: &impl ConnectionTrait, org: Uuid, risk_id: Uuid, actions: Option<&[Uuid]>, findings: Option<&[Uuid]>,
) -> Result<(), ApiError> {
    if let Some(ids) = actions {
        action_risk::Entity::delete_many().filter(action_risk::Column::RiskId.eq(risk_id)).exec(conn).await?;
        if !ids.is_empty() {
            let rows = ids.iter().map(|a| action_risk::ActiveModel {
                action_id: Set(*a),
                risk_id: Set(risk_id),
                organization_id: Set(org),
            });
            action_risk::Entity::insert_many(rows).exec_without_returning(conn).await?;
        }
    }
    if let Some(ids) = findings {
        finding_risk::Entity::delete_many().filter(finding_risk::Column::RiskId.eq(risk_id)).exec(conn).await?;
        if !ids.is_empty() {
            let rows = ids.iter().map(|f| finding_risk::ActiveModel {
                finding_id: Set(*f),
                risk_id: Set(risk_id),
                organization_id: Set(org),
            });
            finding_risk::Entity::insert_many(rows).exec_without_returning(conn).await?;
        }
    }
    Ok(())
}

/// Adds `finding` to the findings of `risk_id` (an incident recorded by a finding).
pub async fn link_finding(
    conn: &impl ConnectionTrait, org: Uuid, risk_id: Uuid, finding: Uuid,
) -> Result<(), ApiError> {
    let exists = finding_risk::Entity::find_by_id((finding, risk_id)).one(conn).await?.is_some();
    if !exists {
        finding_risk::Entity::insert(finding_risk::ActiveModel {
            finding_id: Set(finding),
            risk_id: Set(risk_id),
            organization_id: Set(org),
        })
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Creates a risk with its controls and links, valued by the methodology.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateRiskRequest,
) -> Result<RiskResponse, ApiError> {
    ensure_may_write(actor, req.owner_id)?;
    let now = super::now();
    let today = super::calendar::today();
    let inherent = methodology::inherent(
        crate::entities::enums::RiskProbability::VeryLow,
        crate::entities::enums::RiskImpact::Slight,
    );
    let mut model = risk::Model {
        id: Uuid::now_v7(),
        code: req.code,
        process: req.process,
        kind: req.kind,
        asset_ids: Ids(req.asset_ids.clone()),
        confidentiality: req.confidentiality,
        integrity: req.integrity,
        availability: req.availability,
        impact: req.impact,
        immediate_cause: req.immediate_cause,
        root_cause: req.root_cause,
        threats: Texts(req.threats),
        vulnerabilities: Texts(req.vulnerabilities),
        owner_id: req.owner_id,
        annual_frequency: req.annual_frequency,
        economic_impact: req.economic_impact,
        reputational_impact: req.reputational_impact,
        inherent_probability: inherent.probability,
        inherent_impact: inherent.impact,
        inherent_zone: inherent.zone,
        residual_probability_pct: inherent.probability_pct,
        residual_impact_pct: inherent.impact_pct,
        residual_probability: inherent.probability,
        residual_impact: inherent.impact,
        residual_zone: inherent.zone,
        treatment: req.treatment,
        accepted_by: req.accepted_by,
        accepted_on: req.accepted_on.or((req.treatment == TreatmentOption::Accept).then_some(today)),
        acceptance_expires_on: req.acceptance_expires_on,
        review_interval_days: req.review_interval_days.unwrap_or(DEFAULT_REVIEW_INTERVAL_DAYS),
        last_review_on: None,
        next_review_on: None,
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
    if req.controls.len() > controls::MAX_CONTROLS {
        c.push("controls", "too_many", format!("at most {} controls", controls::MAX_CONTROLS));
    }
    let mut control_rows = Vec::with_capacity(req.controls.len());
    for (i, cr) in req.controls.into_iter().enumerate() {
        let position = cr.position.unwrap_or(i32::try_from(i + 1).unwrap_or(i32::MAX));
        let row = controls::new_model(actor, org, model.id, position, cr);
        controls::check(&mut c, &format!("controls[{i}]."), &row);
        control_rows.push(row);
    }
    c.finish()?;
    control_rows.sort_by_key(|r| r.position);
    check_users(conn, org, &[("owner_id", model.owner_id), ("accepted_by", model.accepted_by)]).await?;
    model.asset_ids = Ids(check_ids::<asset::Entity>(conn, org, "asset_ids", "unknown_asset", &req.asset_ids).await?);
    let actions = check_ids::<action::Entity>(conn, org, "action_ids", "unknown_action", &req.action_ids).await?;
    let findings = check_ids::<finding::Entity>(conn, org, "finding_ids", "unknown_finding", &req.finding_ids).await?;
    revalue(&mut model, &control_rows);
    let max_zone = appetite(conn, org).await?;
    ensure_treated(&model, actions.len(), max_zone, today)?;
    risk::Entity::insert(risk::ActiveModel::from(model.clone())).exec_without_returning(conn).await.map_err(taken)?;
    if !control_rows.is_empty() {
        risk_control::Entity::insert_many(control_rows.iter().cloned().map(risk_control::ActiveModel::from))
            .exec_without_returning(conn)
            .await?;
    }
    set_links(conn, org, model.id, Some(&actions), Some(&findings)).await?;
    let created = wire(model, control_rows, actions, findings, max_zone, today);
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Risk, created.id, AuditOperation::Create).after(&created),
    )
    .await?;
    Ok(created)
}

/// Risks of `org`, oldest first.
pub async fn list(conn: &impl ConnectionTrait, org: Uuid, q: &RiskListQuery) -> Result<Page<RiskResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    super::objectives::check_query_text("process", q.process.as_deref(), 200)?;
    let mut select = scoped::<risk::Entity>(org).order_by_asc(risk::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(risk::Column::Id.gt(cursor.id));
    }
    if let Some(p) = q.process.as_deref() {
        select = select.filter(risk::Column::Process.eq(p.trim()));
    }
    if let Some(k) = q.kind {
        select = select.filter(risk::Column::Kind.eq(k));
    }
    if let Some(z) = q.inherent_zone {
        select = select.filter(risk::Column::InherentZone.eq(z));
    }
    if let Some(z) = q.residual_zone {
        select = select.filter(risk::Column::ResidualZone.eq(z));
    }
    if let Some(t) = q.treatment {
        select = select.filter(risk::Column::Treatment.eq(t));
    }
    if let Some(o) = q.owner_id {
        select = select.filter(risk::Column::OwnerId.eq(o));
    }
    if let Some(a) = q.action_id {
        let ids: Vec<Uuid> = action_risk::Entity::find()
            .filter(action_risk::Column::ActionId.eq(a))
            .filter(action_risk::Column::OrganizationId.eq(org))
            .select_only()
            .column(action_risk::Column::RiskId)
            .into_tuple::<Uuid>()
            .all(conn)
            .await?;
        select = select.filter(risk::Column::Id.is_in(ids));
    }
    let mut rows = select.limit(limit + 1).all(conn).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let last = rows.last().map(|r| r.id);
    let items = responses(conn, org, rows).await?;
    let mut page = Page::from_rows(items, limit, "", |r| (None, r.id), |r| r);
    if more {
        page.next_cursor = last.map(|id| crate::dto::pagination::Cursor { k: None, id, s: None }.encode());
    }
    Ok(page)
}

/// The risk map of `org` (filtered by process and kind), oldest risk first.
pub async fn export(
    conn: &impl ConnectionTrait, org: Uuid, q: &crate::dto::risks::RiskExportQuery, today: NaiveDate,
) -> Result<crate::services::plan_matrix::sheet::Sheet, ApiError> {
    super::objectives::check_query_text("process", q.process.as_deref(), 200)?;
    let mut select = scoped::<risk::Entity>(org).order_by_asc(risk::Column::Id);
    if let Some(p) = q.process.as_deref() {
        select = select.filter(risk::Column::Process.eq(p.trim()));
    }
    if let Some(k) = q.kind {
        select = select.filter(risk::Column::Kind.eq(k));
    }
    let rows = responses(conn, org, select.all(conn).await?).await?;
    Ok(sheet::sheet(&rows, &sheet::names(conn, org).await?, today))
}

/// A risk of `org` as the API shows it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<RiskResponse, ApiError> {
    let m = find_in_org::<risk::Entity>(conn, org, id).await?;
    responses(conn, org, vec![m]).await?.pop().ok_or_else(ApiError::not_found)
}

/// Writes `next` (a changed `current`) with a new version, after the treatment rule; the audit
/// event shows the risk before and after. Used by every change of a risk, its controls included.
pub async fn save(
    conn: &impl ConnectionTrait, actor: &Actor, current: &risk::Model, mut next: risk::Model,
    controls: Vec<risk_control::Model>, links: (Option<Vec<Uuid>>, Option<Vec<Uuid>>),
) -> Result<RiskResponse, ApiError> {
    let org = current.organization_id;
    let today = super::calendar::today();
    revalue(&mut next, &controls);
    let max_zone = appetite(conn, org).await?;
    let rel = related(conn, &[current.id]).await?;
    let before_actions = rel.actions.get(&current.id).cloned().unwrap_or_default();
    let before_findings = rel.findings.get(&current.id).cloned().unwrap_or_default();
    let before_controls = rel.controls.get(&current.id).cloned().unwrap_or_default();
    let actions = links.0.clone().unwrap_or_else(|| before_actions.clone());
    let findings = links.1.clone().unwrap_or_else(|| before_findings.clone());
    ensure_treated(&next, actions.len(), max_zone, today)?;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, current.id, current.version, risk::ActiveModel::from(next.clone())).await.map_err(
        |e| {
            if e.code == ErrorCode::AlreadyExists {
                code_taken()
            } else {
                e
            }
        },
    )?;
    set_links(conn, org, current.id, links.0.as_deref(), links.1.as_deref()).await?;
    let before = wire(current.clone(), before_controls, before_actions, before_findings, max_zone, today);
    let after = wire(next, controls, actions, findings, max_zone, today);
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Risk, current.id, AuditOperation::Update).before(&before).after(&after),
    )
    .await?;
    Ok(after)
}

/// Applies a merge patch to a risk.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateRiskRequest,
) -> Result<RiskResponse, ApiError> {
    let current = find_in_org::<risk::Entity>(conn, org, id).await?;
    ensure_may_write(actor, current.owner_id)?;
    let mut next = current.clone();
    set(&mut next.code, req.code);
    set(&mut next.process, req.process);
    set(&mut next.kind, req.kind);
    set(&mut next.confidentiality, req.confidentiality);
    set(&mut next.integrity, req.integrity);
    set(&mut next.availability, req.availability);
    set(&mut next.impact, req.impact);
    set(&mut next.immediate_cause, req.immediate_cause);
    set(&mut next.root_cause, req.root_cause);
    set(&mut next.threats, req.threats.map(Texts));
    set(&mut next.vulnerabilities, req.vulnerabilities.map(Texts));
    set_nullable(&mut next.owner_id, req.owner_id);
    set(&mut next.annual_frequency, req.annual_frequency);
    set(&mut next.economic_impact, req.economic_impact);
    set(&mut next.reputational_impact, req.reputational_impact);
    set(&mut next.treatment, req.treatment);
    set_nullable(&mut next.accepted_by, req.accepted_by);
    set_nullable(&mut next.accepted_on, req.accepted_on);
    set_nullable(&mut next.acceptance_expires_on, req.acceptance_expires_on);
    set(&mut next.review_interval_days, req.review_interval_days);
    if next.treatment == TreatmentOption::Accept && next.accepted_on.is_none() {
        next.accepted_on = Some(super::calendar::today());
    }
    normalize(&mut next);
    let mut c = Checks::new();
    check(&mut c, &next);
    c.finish()?;
    // The new owner must be allowed too: a `responsible` cannot hand a risk to someone else.
    ensure_may_write(actor, next.owner_id)?;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    check_users(conn, org, &[("owner_id", next.owner_id), ("accepted_by", next.accepted_by)]).await?;
    if let Some(ids) = req.asset_ids {
        next.asset_ids = Ids(check_ids::<asset::Entity>(conn, org, "asset_ids", "unknown_asset", &ids).await?);
    }
    let actions = match req.action_ids {
        Some(ids) => Some(check_ids::<action::Entity>(conn, org, "action_ids", "unknown_action", &ids).await?),
        None => None,
    };
    let findings = match req.finding_ids {
        Some(ids) => Some(check_ids::<finding::Entity>(conn, org, "finding_ids", "unknown_finding", &ids).await?),
        None => None,
    };
    let controls = related(conn, &[id]).await?.controls.remove(&id).unwrap_or_default();
    let mut unchanged = next.clone();
    revalue(&mut unchanged, &controls);
    if unchanged == current && actions.is_none() && findings.is_none() {
        return get(conn, org, id).await;
    }
    save(conn, actor, &current, next, controls, (actions, findings)).await
}

/// Deletes a risk with its controls, links, reviews and incidents.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let before = get(conn, org, id).await?;
    ensure_may_write(actor, before.owner_id)?;
    if before.meta.version != expected_version {
        return Err(ApiError::stale(before.meta.version, expected_version));
    }
    risk_control::Entity::delete_many().filter(risk_control::Column::RiskId.eq(id)).exec(conn).await?;
    action_risk::Entity::delete_many().filter(action_risk::Column::RiskId.eq(id)).exec(conn).await?;
    finding_risk::Entity::delete_many().filter(finding_risk::Column::RiskId.eq(id)).exec(conn).await?;
    monitoring::delete_for_risk(conn, id).await?;
    super::tenancy::delete_versioned::<risk::Entity>(conn, org, id, expected_version).await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::Risk, id, AuditOperation::Delete).before(&before))
        .await?;
    Ok(())
}

/// The risks the actions of each of `plan_ids` treat, by plan, each risk once with the plan's
/// actions that treat it, by code.
pub async fn treated_by_plans(
    conn: &impl ConnectionTrait, org: Uuid, plan_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<TreatedRisk>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<TreatedRisk>> = HashMap::new();
    if plan_ids.is_empty() {
        return Ok(out);
    }
    let actions: HashMap<Uuid, Uuid> = scoped::<action::Entity>(org)
        .filter(action::Column::PlanId.is_in(plan_ids.to_vec()))
        .select_only()
        .column(action::Column::Id)
        .column(action::Column::PlanId)
        .into_tuple::<(Uuid, Uuid)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let links = action_risk::Entity::find()
        .filter(action_risk::Column::OrganizationId.eq(org))
        .filter(action_risk::Column::ActionId.is_in(actions.keys().copied().collect::<Vec<_>>()))
        .order_by_asc(action_risk::Column::ActionId)
        .all(conn)
        .await?;
    let risk_ids: Vec<Uuid> = links.iter().map(|l| l.risk_id).collect();
    let risks: HashMap<Uuid, risk::Model> = scoped::<risk::Entity>(org)
        .filter(risk::Column::Id.is_in(risk_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut by_plan: HashMap<Uuid, std::collections::BTreeMap<(String, Uuid), TreatedRisk>> = HashMap::new();
    for l in links {
        let (Some(plan), Some(r)) = (actions.get(&l.action_id), risks.get(&l.risk_id)) else { continue };
        by_plan
            .entry(*plan)
            .or_default()
            .entry((r.code.clone(), r.id))
            .or_insert_with(|| TreatedRisk {
                id: r.id,
                code: r.code.clone(),
                process: r.process.clone(),
                kind: r.kind,
                inherent_zone: r.inherent_zone,
                residual_zone: r.residual_zone,
                treatment: r.treatment,
                action_ids: Vec::new(),
            })
            .action_ids
            .push(l.action_id);
    }
    for (plan, risks) in by_plan {
        out.insert(plan, risks.into_values().collect());
    }
    Ok(out)
}

/// Every plan of `org` whose actions treat risks, by plan code, with those risks.
pub async fn risks_by_plan(conn: &impl ConnectionTrait, org: Uuid) -> Result<Vec<PlanRisks>, ApiError> {
    let treating: Vec<Uuid> = action::Entity::find()
        .filter(action::Column::OrganizationId.eq(org))
        .filter(
            action::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(action_risk::Column::ActionId)
                    .from(action_risk::Entity)
                    .and_where(action_risk::Column::OrganizationId.eq(org))
                    .to_owned(),
            ),
        )
        .select_only()
        .column(action::Column::PlanId)
        .distinct()
        .into_tuple::<Uuid>()
        .all(conn)
        .await?;
    let mut treated = treated_by_plans(conn, org, &treating).await?;
    let plans = scoped::<plan::Entity>(org)
        .filter(plan::Column::Id.is_in(treating))
        .order_by_asc(plan::Column::Code)
        .order_by_asc(plan::Column::Id)
        .all(conn)
        .await?;
    Ok(plans
        .into_iter()
        .map(|p| PlanRisks {
            risks: treated.remove(&p.id).unwrap_or_default(),
            plan_id: p.id,
            code: p.code,
            title: p.title,
        })
        .collect())
}

/// Clean optional text (shared by the register's services).
pub(crate) fn clean_text(text: Option<String>) -> Option<String> {
    clean(text)
}
