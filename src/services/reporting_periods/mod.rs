//! Reporting periods (cortes): a cut-off date, a filing deadline and the plans covered, in
//! states `open → closed → filed`. Closing stores a snapshot of every covered plan and action
//! as of the cut-off ([`snapshot`]); exports of a period read only that snapshot ([`export`]).
//! Once a period is closed, evidence dated (its `cut_off_date`) on or before the cut-off can no
//! longer be reported, changed or reviewed for a covered plan ([`ensure_not_closed`]). A closed
//! period may be reopened by an administrator with a reason; a filed one never.
pub mod export;
pub mod snapshot;
pub mod trends;

use super::audit::{self, Actor, Entry};
use super::objectives::clean;
use super::tenancy::{check_ids, find_in_org, scoped, update_versioned};
use crate::dto::reporting_periods::{
    CreateReportingPeriodRequest, FilePeriodRequest, NextSireciPeriodsRequest, ObservationsRequest,
    ReportingPeriodResponse,
};
use crate::dto::validate::Checks;
use crate::entities::category::Texts;
use crate::entities::enums::{AuditOperation, AuditResource, PeriodKind, PeriodStatus};
use crate::entities::{plan, reporting_period, reporting_period_action, reporting_period_plan};
use crate::error::{ApiError, ErrorCode, FieldError};
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// A period with its covered plans' stored figures (none while open).
pub type Period = (reporting_period::Model, Vec<reporting_period_plan::Model>);

/// The audit trail's name of the resource.
const RESOURCE: AuditResource = AuditResource::ReportingPeriod;

/// The period `id` of `org`, locked for the transaction on PostgreSQL.
async fn find_for_update(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid,
) -> Result<reporting_period::Model, ApiError> {
    let mut select = scoped::<reporting_period::Entity>(org).filter(reporting_period::Column::Id.eq(id));
    if conn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(conn).await?.ok_or_else(ApiError::not_found)
}

/// Stored figures of the plans of each of `periods`, by code and version.
async fn plans_of(
    conn: &impl ConnectionTrait, org: Uuid, periods: &[Uuid],
) -> Result<HashMap<Uuid, Vec<reporting_period_plan::Model>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<reporting_period_plan::Model>> = HashMap::new();
    if periods.is_empty() {
        return Ok(out);
    }
    for row in reporting_period_plan::Entity::find()
        .filter(reporting_period_plan::Column::OrganizationId.eq(org))
        .filter(reporting_period_plan::Column::PeriodId.is_in(periods.to_vec()))
        .order_by_asc(reporting_period_plan::Column::Code)
        .order_by_asc(reporting_period_plan::Column::PlanVersion)
        .order_by_asc(reporting_period_plan::Column::PlanId)
        .all(conn)
        .await?
    {
        out.entry(row.period_id).or_default().push(row);
    }
    Ok(out)
}

/// Period `id` of `org` with its plans (404 for another organization's).
pub async fn find(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<Period, ApiError> {
    let period = find_in_org::<reporting_period::Entity>(conn, org, id).await?;
    let plans = plans_of(conn, org, &[id]).await?.remove(&id).unwrap_or_default();
    Ok((period, plans))
}

/// Periods of `org`, oldest first, after the period `after`; `limit + 1` rows at most.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, status: Option<PeriodStatus>, kind: Option<PeriodKind>,
    after: Option<Uuid>, limit: u64,
) -> Result<Vec<Period>, ApiError> {
    let mut select = scoped::<reporting_period::Entity>(org).order_by_asc(reporting_period::Column::Id);
    if let Some(after) = after {
        select = select.filter(reporting_period::Column::Id.gt(after));
    }
    if let Some(status) = status {
        select = select.filter(reporting_period::Column::Status.eq(status));
    }
    if let Some(kind) = kind {
        select = select.filter(reporting_period::Column::Kind.eq(kind));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let mut plans = plans_of(conn, org, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|p| {
            let of = plans.remove(&p.id).unwrap_or_default();
            (p, of)
        })
        .collect())
}

/// Whether `date` is a SIRECI semiannual cut-off (30 June or 31 December).
fn is_semiannual(date: NaiveDate) -> bool {
    (date.month(), date.day()) == (6, 30) || (date.month(), date.day()) == (12, 31)
}

fn audit_view(p: &reporting_period::Model, plans: &[reporting_period_plan::Model]) -> ReportingPeriodResponse {
    ReportingPeriodResponse::new(p.clone(), plans.to_vec())
}

/// Checks a new period and inserts it.
async fn insert(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateReportingPeriodRequest,
) -> Result<reporting_period::Model, ApiError> {
    let name = req.name.trim().to_string();
    let mut c = Checks::new();
    c.text("name", &name, 200);
    if req.filing_deadline < req.cut_off_date {
        c.add(Some(
            FieldError::new("filing_deadline", "before_cut_off", "must not be before cut_off_date")
                .with_spanish("no puede ser anterior a cut_off_date"),
        ));
    }
    if req.kind == PeriodKind::SireciSemiannual && !is_semiannual(req.cut_off_date) {
        c.add(Some(
            FieldError::new("cut_off_date", "not_semiannual", "a SIRECI semiannual cut-off is 30 June or 31 December")
                .with_spanish("un corte semestral SIRECI es el 30 de junio o el 31 de diciembre"),
        ));
    }
    if req.corrects_period_id.is_some() && req.kind != PeriodKind::Other {
        c.add(Some(
            FieldError::new("corrects_period_id", "not_a_correction", "only a period of kind other corrects another")
                .with_spanish("solo un corte de tipo other corrige otro"),
        ));
    }
    c.finish()?;
    let plan_ids = match &req.plan_ids {
        Some(ids) => Some(check_ids::<plan::Entity>(conn, org, "plan_ids", "unknown_plan", ids).await?),
        None => None,
    };
    if let Some(corrected) = req.corrects_period_id {
        let target = scoped::<reporting_period::Entity>(org)
            .filter(reporting_period::Column::Id.eq(corrected))
            .one(conn)
            .await?;
        match target {
            None => {
                return Err(ApiError::field(
                    "corrects_period_id",
                    "unknown_period",
                    "no such period in your organization",
                ))
            }
            Some(t) if t.status != PeriodStatus::Filed => {
                return Err(ApiError::validation(vec![FieldError::new(
                    "corrects_period_id",
                    "not_filed",
                    "only a filed period is corrected; reopen a closed one instead",
                )
                .with_spanish("solo se corrige un corte radicado; un corte cerrado se reabre")]))
            }
            Some(_) => {}
        }
    }
    if req.kind == PeriodKind::SireciSemiannual {
        let taken = scoped::<reporting_period::Entity>(org)
            .filter(reporting_period::Column::Kind.eq(PeriodKind::SireciSemiannual))
            .filter(reporting_period::Column::CutOffDate.eq(req.cut_off_date))
            .one(conn)
            .await?;
        if taken.is_some() {
            return Err(ApiError::conflict(
                ErrorCode::AlreadyExists,
                "There is already a SIRECI semiannual period with this cut-off",
                "Ya existe un corte semestral SIRECI con esta fecha de corte",
            ));
        }
    }
    let now = super::now();
    let model = reporting_period::Model {
        id: Uuid::now_v7(),
        name,
        kind: req.kind,
        cut_off_date: req.cut_off_date,
        filing_deadline: req.filing_deadline,
        plan_ids: plan_ids.map(|ids| Texts(ids.iter().map(Uuid::to_string).collect())),
        corrects_period_id: req.corrects_period_id,
        status: PeriodStatus::Open,
        closed_at: None,
        closed_by: None,
        snapshot_sha256: None,
        plans_count: None,
        actions_count: None,
        progress_pct: None,
        compliance_pct: None,
        effectiveness_pct: None,
        filed_on: None,
        filing_reference: None,
        filed_file_sha256: None,
        filed_at: None,
        filed_by: None,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    reporting_period::Entity::insert(reporting_period::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, RESOURCE, model.id, AuditOperation::Create).after(&audit_view(&model, &[])),
    )
    .await?;
    Ok(model)
}

/// Creates a period (open).
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateReportingPeriodRequest,
) -> Result<Period, ApiError> {
    Ok((insert(conn, actor, org, req).await?, Vec::new()))
}

/// The first `count` SIRECI semiannual cut-offs (30 June, 31 December) on or after `from`.
pub fn semiannual_cut_offs(from: NaiveDate, count: u32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut year = from.year();
    while out.len() < count as usize {
        for (m, d) in [(6, 30), (12, 31)] {
            if let Some(date) = NaiveDate::from_ymd_opt(year, m, d) {
                if date >= from && out.len() < count as usize {
                    out.push(date);
                }
            }
        }
        year += 1;
    }
    out
}

/// Creates the next SIRECI semiannual periods from a date (those that exist already are
/// returned as they are); the flag says whether any was created.
pub async fn next_sireci(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: NextSireciPeriodsRequest,
) -> Result<(Vec<Period>, bool), ApiError> {
    let count = req.count.unwrap_or(2);
    let days = req.filing_days.unwrap_or(30);
    let mut c = Checks::new();
    c.range("count", Some(count), 1, 4);
    c.range("filing_days", Some(days), 1, 120);
    c.finish()?;
    let from = req.from.unwrap_or_else(super::calendar::today);
    let mut out = Vec::new();
    let mut created = false;
    for cut_off in semiannual_cut_offs(from, count) {
        let existing = scoped::<reporting_period::Entity>(org)
            .filter(reporting_period::Column::Kind.eq(PeriodKind::SireciSemiannual))
            .filter(reporting_period::Column::CutOffDate.eq(cut_off))
            .one(conn)
            .await?;
        if let Some(p) = existing {
            out.push(find(conn, org, p.id).await?);
            continue;
        }
        let semester = if cut_off.month() == 6 { 1 } else { 2 };
        let req = CreateReportingPeriodRequest {
            name: format!("SIRECI {} semestre {semester}", cut_off.year()),
            kind: PeriodKind::SireciSemiannual,
            cut_off_date: cut_off,
            filing_deadline: cut_off + Duration::days(i64::from(days)),
            plan_ids: None,
            corrects_period_id: None,
        };
        out.push((insert(conn, actor, org, req).await?, Vec::new()));
        created = true;
    }
    Ok((out, created))
}

fn stale(current: &reporting_period::Model, expected: i32) -> Result<(), ApiError> {
    if current.version != expected {
        return Err(ApiError::stale(current.version, expected));
    }
    Ok(())
}

/// `(en, es)` naming a period's state after "This period is" / "Este corte está".
fn state_phrase(status: PeriodStatus) -> (&'static str, &'static str) {
    match status {
        PeriodStatus::Open => ("open", "abierto"),
        PeriodStatus::Closed => ("closed", "cerrado"),
        PeriodStatus::Filed => ("filed", "radicado"),
    }
}

/// 409 `invalid_transition` unless the period is in `wanted`.
fn expect_status(
    p: &reporting_period::Model, wanted: PeriodStatus, doing_en: &str, doing_es: &str,
) -> Result<(), ApiError> {
    if p.status == wanted {
        return Ok(());
    }
    let (is_en, is_es) = state_phrase(p.status);
    let (want_en, want_es) = state_phrase(wanted);
    let mut err = ApiError::conflict(
        ErrorCode::InvalidTransition,
        format!("This period is {is_en}; only a period that is {want_en} can be {doing_en}."),
        format!("Este corte está {is_es}; solo un corte {want_es} puede {doing_es}."),
    );
    if p.status == PeriodStatus::Filed {
        err = err.and_detail(
            "A filed period is never reopened: correct it with a new period of kind other whose corrects_period_id names it.",
            "Un corte radicado nunca se reabre: corríjalo con un corte nuevo de tipo other cuyo corrects_period_id lo nombre.",
        );
    }
    Err(err)
}

/// Writes `next` over `current` (version + 1) and records `operation` in the audit trail.
async fn save(
    conn: &impl ConnectionTrait, actor: &Actor, current: &reporting_period::Model, mut next: reporting_period::Model,
    operation: AuditOperation, note: Option<serde_json::Value>,
) -> Result<Period, ApiError> {
    let org = current.organization_id;
    let before_plans = plans_of(conn, org, &[current.id]).await?.remove(&current.id).unwrap_or_default();
    let before = audit_view(current, &before_plans);
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, current.id, current.version, reporting_period::ActiveModel::from(next.clone())).await?;
    let plans = plans_of(conn, org, &[current.id]).await?.remove(&current.id).unwrap_or_default();
    let mut after = serde_json::to_value(audit_view(&next, &plans)).map_err(ApiError::internal)?;
    if let (Some(fields), Some(note)) = (after.as_object_mut(), note) {
        fields.insert("note".into(), note);
    }
    audit::record(conn, actor, Entry::new(org, RESOURCE, current.id, operation).before(&before).after(&after)).await?;
    Ok((next, plans))
}

/// Closes an open period whose cut-off has come: stores its snapshot (see [`snapshot::take`]).
pub async fn close(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<Period, ApiError> {
    let current = find_for_update(conn, org, id).await?;
    stale(&current, expected_version)?;
    expect_status(&current, PeriodStatus::Open, "closed", "cerrarse")?;
    let today = super::calendar::today();
    if current.cut_off_date > today {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!("The cut-off ({}) has not come yet; close the period from that day on.", current.cut_off_date),
            format!("La fecha de corte ({}) aún no llega; cierre el corte desde ese día.", current.cut_off_date),
        ));
    }
    let taken = snapshot::take(conn, &current).await?;
    let mut next = current.clone();
    next.status = PeriodStatus::Closed;
    next.closed_at = Some(super::now());
    next.closed_by = actor.id;
    next.snapshot_sha256 = Some(taken.sha256);
    next.plans_count = Some(taken.plans);
    next.actions_count = Some(taken.actions);
    next.progress_pct = taken.progress_pct;
    next.compliance_pct = taken.compliance_pct;
    next.effectiveness_pct = taken.effectiveness_pct;
    save(conn, actor, &current, next, AuditOperation::Close, None).await
}

/// Reopens a closed (not filed) period, discarding its snapshot; `reason` goes to the audit trail.
pub async fn reopen(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, reason: String,
) -> Result<Period, ApiError> {
    let reason = reason.trim().to_string();
    let mut c = Checks::new();
    c.text("reason", &reason, 2000);
    c.finish()?;
    let current = find_for_update(conn, org, id).await?;
    stale(&current, expected_version)?;
    expect_status(&current, PeriodStatus::Closed, "reopened", "reabrirse")?;
    let mut next = current.clone();
    next.status = PeriodStatus::Open;
    next.closed_at = None;
    next.closed_by = None;
    next.snapshot_sha256 = None;
    next.plans_count = None;
    next.actions_count = None;
    next.progress_pct = None;
    next.compliance_pct = None;
    next.effectiveness_pct = None;
    let before_plans = plans_of(conn, org, &[id]).await?.remove(&id).unwrap_or_default();
    let before = audit_view(&current, &before_plans);
    reporting_period_action::Entity::delete_many()
        .filter(reporting_period_action::Column::OrganizationId.eq(org))
        .filter(reporting_period_action::Column::PeriodId.eq(id))
        .exec(conn)
        .await?;
    reporting_period_plan::Entity::delete_many()
        .filter(reporting_period_plan::Column::OrganizationId.eq(org))
        .filter(reporting_period_plan::Column::PeriodId.eq(id))
        .exec(conn)
        .await?;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, reporting_period::ActiveModel::from(next.clone())).await?;
    let mut after = serde_json::to_value(audit_view(&next, &[])).map_err(ApiError::internal)?;
    if let Some(fields) = after.as_object_mut() {
        fields.insert("reason".into(), serde_json::Value::String(reason));
    }
    audit::record(conn, actor, Entry::new(org, RESOURCE, id, AuditOperation::Reopen).before(&before).after(&after))
        .await?;
    Ok((next, Vec::new()))
}

/// Records the filing of a closed period: it becomes read-only for good.
pub async fn file(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: FilePeriodRequest,
) -> Result<Period, ApiError> {
    let reference = req.filing_reference.trim().to_string();
    let sha = req.file_sha256.trim().to_ascii_lowercase();
    let mut c = Checks::new();
    c.text("filing_reference", &reference, 300);
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        c.add(Some(
            FieldError::new("file_sha256", "invalid_sha256", "must be 64 hexadecimal digits")
                .with_spanish("debe tener 64 dígitos hexadecimales"),
        ));
    }
    if req.filed_on > super::calendar::today() {
        c.push("filed_on", "in_future", "must not be in the future");
    }
    c.finish()?;
    let current = find_for_update(conn, org, id).await?;
    stale(&current, expected_version)?;
    expect_status(&current, PeriodStatus::Closed, "filed", "radicarse")?;
    if req.filed_on < current.cut_off_date {
        return Err(ApiError::validation(vec![FieldError::new(
            "filed_on",
            "before_cut_off",
            "must not be before the period's cut-off",
        )
        .with_spanish("no puede ser anterior a la fecha de corte")]));
    }
    let mut next = current.clone();
    next.status = PeriodStatus::Filed;
    next.filed_on = Some(req.filed_on);
    next.filing_reference = Some(reference);
    next.filed_file_sha256 = Some(sha);
    next.filed_at = Some(super::now());
    next.filed_by = actor.id;
    save(conn, actor, &current, next, AuditOperation::File, None).await
}

/// Sets the observations of actions of a closed (not filed) period.
pub async fn observe(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: ObservationsRequest,
) -> Result<Period, ApiError> {
    let mut c = Checks::new();
    if req.items.is_empty() || req.items.len() > 500 {
        c.push("items", "out_of_range", "must have between 1 and 500 items");
    }
    let mut seen = BTreeSet::new();
    for (i, item) in req.items.iter().enumerate() {
        c.optional_text(&format!("items[{i}].observation"), item.observation.as_deref(), 2000);
        if !seen.insert(item.action_id) {
            c.push(&format!("items[{i}].action_id"), "duplicate", "each action at most once");
        }
    }
    c.finish()?;
    let current = find_for_update(conn, org, id).await?;
    stale(&current, expected_version)?;
    expect_status(&current, PeriodStatus::Closed, "annotated", "anotarse")?;
    let ids: Vec<Uuid> = req.items.iter().map(|i| i.action_id).collect();
    let known: BTreeSet<Uuid> = reporting_period_action::Entity::find()
        .filter(reporting_period_action::Column::OrganizationId.eq(org))
        .filter(reporting_period_action::Column::PeriodId.eq(id))
        .filter(reporting_period_action::Column::ActionId.is_in(ids))
        .select_only()
        .column(reporting_period_action::Column::ActionId)
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let unknown: Vec<FieldError> = req
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| !known.contains(&item.action_id))
        .map(|(i, item)| {
            FieldError::new(
                format!("items[{i}].action_id"),
                "unknown_action",
                format!("no such action in this period: {}", item.action_id),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::validation(unknown));
    }
    let mut notes = Vec::new();
    for item in &req.items {
        let text = clean(item.observation.clone());
        reporting_period_action::Entity::update_many()
            .col_expr(reporting_period_action::Column::Observation, Expr::value(text.clone()))
            .filter(reporting_period_action::Column::OrganizationId.eq(org))
            .filter(reporting_period_action::Column::PeriodId.eq(id))
            .filter(reporting_period_action::Column::ActionId.eq(item.action_id))
            .exec(conn)
            .await?;
        notes.push(serde_json::json!({"action_id": item.action_id, "observation": text}));
    }
    let next = current.clone();
    save(conn, actor, &current, next, AuditOperation::Observe, Some(serde_json::Value::Array(notes))).await
}

/// Stored action figures of period `id` (after `after`, by action id; `limit + 1` rows at most).
pub async fn actions(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid, plan_id: Option<Uuid>, after: Option<Uuid>, limit: u64,
) -> Result<Vec<reporting_period_action::Model>, ApiError> {
    find_in_org::<reporting_period::Entity>(conn, org, id).await?;
    let mut select = reporting_period_action::Entity::find()
        .filter(reporting_period_action::Column::OrganizationId.eq(org))
        .filter(reporting_period_action::Column::PeriodId.eq(id))
        .order_by_asc(reporting_period_action::Column::ActionId);
    if let Some(plan_id) = plan_id {
        select = select.filter(reporting_period_action::Column::PlanId.eq(plan_id));
    }
    if let Some(after) = after {
        select = select.filter(reporting_period_action::Column::ActionId.gt(after));
    }
    Ok(select.limit(limit + 1).all(conn).await?)
}

/// 409 `period_closed` when a closed or filed period whose cut-off is on or after `date`
/// covers plan `plan_id`: evidence of that date is part of its stored figures. On PostgreSQL
/// the periods that could cover the date are share-locked first, so a period being closed at
/// the same moment waits for this write (or this write waits and then sees it closed).
pub async fn ensure_not_closed(
    conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, date: NaiveDate,
) -> Result<(), ApiError> {
    let candidates = scoped::<reporting_period::Entity>(org).filter(reporting_period::Column::CutOffDate.gte(date));
    if conn.get_database_backend() == DbBackend::Postgres {
        candidates
            .clone()
            .select_only()
            .column(reporting_period::Column::Id)
            .lock_shared()
            .into_tuple::<Uuid>()
            .all(conn)
            .await?;
    }
    let closed: Vec<reporting_period::Model> = candidates
        .filter(reporting_period::Column::Status.is_in([PeriodStatus::Closed, PeriodStatus::Filed]))
        .order_by_asc(reporting_period::Column::CutOffDate)
        .order_by_asc(reporting_period::Column::Id)
        .all(conn)
        .await?;
    if closed.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = closed.iter().map(|p| p.id).collect();
    let covering: BTreeSet<Uuid> = reporting_period_plan::Entity::find()
        .filter(reporting_period_plan::Column::OrganizationId.eq(org))
        .filter(reporting_period_plan::Column::PlanId.eq(plan_id))
        .filter(reporting_period_plan::Column::PeriodId.is_in(ids))
        .select_only()
        .column(reporting_period_plan::Column::PeriodId)
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let Some(p) = closed.iter().find(|p| covering.contains(&p.id)) else {
        return Ok(());
    };
    let (state_en, state_es) = state_phrase(p.status);
    Err(ApiError::conflict(
        ErrorCode::PeriodClosed,
        format!(
            "Reporting period \"{}\" ({}, cut-off {}) is {state_en}: evidence dated on or before its cut-off can no \
             longer be reported, changed or reviewed for its plans. Report it with a later cut-off date.",
            p.name, p.id, p.cut_off_date
        ),
        format!(
            "El corte de reporte \"{}\" ({}, fecha de corte {}) está {state_es}: las evidencias con fecha hasta su \
             corte ya no se reportan, cambian ni revisan en sus planes. Repórtela con una fecha de corte posterior.",
            p.name, p.id, p.cut_off_date
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn semiannual_cut_offs_are_30_june_and_31_december_from_the_date_on() {
        assert_eq!(semiannual_cut_offs(d("2025-06-30"), 2), vec![d("2025-06-30"), d("2025-12-31")]);
        assert_eq!(semiannual_cut_offs(d("2025-07-01"), 3), vec![d("2025-12-31"), d("2026-06-30"), d("2026-12-31")]);
        assert_eq!(semiannual_cut_offs(d("2026-01-01"), 1), vec![d("2026-06-30")]);
        assert!(is_semiannual(d("2024-12-31")) && !is_semiannual(d("2024-12-30")));
    }
}
