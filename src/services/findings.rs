//! Audit findings: creation, changes, status transitions, plan links and the list.
use super::audit::{self, Actor, Entry};
use super::events;
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::findings::{
    CreateFindingRequest, FindingListQuery, FindingResponse, FindingSort, TransitionRequest, UpdateFindingRequest,
    AUDITOR_MAX, CODE_MAX, FISCAL_YEARS, REQUIREMENTS_MAX, REQUIREMENT_MAX, TEXT_MAX, TITLE_MAX,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::validate::{query_text, Checks};
use crate::entities::enums::EventType;
use crate::entities::enums::{
    fold, ActionStatus, AuditOperation, AuditResource, EffectivenessResult, FindingSource, FindingStatus,
    PresumedIncidence,
};
use crate::entities::finding::{self, Incidences, Requirements};
use crate::entities::{action, action_finding, plan};
use crate::error::{ApiError, ErrorCode, FieldError};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

/// Trims a text; blank becomes `None`.
pub fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The text `q` searches: finding code, report code and title, folded (case and accents).
pub fn search_text(finding_code: &str, report_code: &str, title: &str) -> String {
    fold(&format!("{finding_code} {report_code} {title}"))
}

/// Checks the requirement references and returns them trimmed, without blanks or repeats.
pub fn check_requirements(c: &mut Checks, field: &str, list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        let item = item.trim().to_string();
        if item.is_empty() || out.contains(&item) {
            continue;
        }
        c.optional_text(field, Some(&item), REQUIREMENT_MAX);
        out.push(item);
    }
    if out.len() > REQUIREMENTS_MAX {
        c.push(field, "too_many", format!("at most {REQUIREMENTS_MAX} references"));
    }
    out
}

/// Sorted, without repeats.
pub fn incidences(mut list: Vec<PresumedIncidence>) -> Incidences {
    list.sort();
    list.dedup();
    Incidences(list)
}

/// Checks the presumed incidence and the fiscal amount (part of [`check_fields`]):
/// only comptroller findings carry them, an amount needs a fiscal incidence, and it is a COP
/// figure of at most 16 integer digits and two decimals.
fn check_incidence(c: &mut Checks, source: FindingSource, list: &[PresumedIncidence], amount: Option<Decimal>) {
    if source != FindingSource::Comptroller && (!list.is_empty() || amount.is_some()) {
        let field = if list.is_empty() { "fiscal_amount" } else { "presumed_incidence" };
        c.push(field, "comptroller_only", "only comptroller findings record a presumed incidence");
    }
    if let Some(amount) = amount {
        if !list.contains(&PresumedIncidence::Fiscal) {
            c.push("fiscal_amount", "requires_fiscal_incidence", "an amount needs `fiscal` in presumed_incidence");
        }
        if amount.is_sign_negative() || amount >= Decimal::from(10_000_000_000_000_000i64) {
            c.push("fiscal_amount", "out_of_range", "must be between 0 and 9999999999999999.99");
        }
        if amount.normalize().scale() > 2 {
            c.push("fiscal_amount", "too_precise", "must have at most two decimals");
        }
    }
}

/// What the checks of a finding read, borrowed from a stored finding (the API) or from an
/// upload row: both paths run [`check_fields`] on it, so the same values get the same codes.
pub struct FindingFields<'a> {
    /// Who raised it (`None` when an upload's cell could not be read: the incidence is then
    /// not judged).
    pub source: Option<FindingSource>,
    /// Report code.
    pub report_code: &'a str,
    /// Finding code.
    pub finding_code: &'a str,
    /// Title.
    pub title: &'a str,
    /// Auditor.
    pub auditor: Option<&'a str>,
    /// Condition, criterion, cause and effect.
    pub condition: Option<&'a str>,
    /// See `condition`.
    pub criterion: Option<&'a str>,
    /// See `condition`.
    pub cause: Option<&'a str>,
    /// See `condition`.
    pub effect: Option<&'a str>,
    /// Audited year.
    pub fiscal_year: Option<i32>,
    /// Presumed incidence.
    pub presumed_incidence: &'a [PresumedIncidence],
    /// Fiscal amount.
    pub fiscal_amount: Option<Decimal>,
}

impl<'a> From<&'a finding::Model> for FindingFields<'a> {
    fn from(f: &'a finding::Model) -> Self {
        FindingFields {
            source: Some(f.source),
            report_code: &f.report_code,
            finding_code: &f.finding_code,
            title: &f.title,
            auditor: f.auditor.as_deref(),
            condition: f.condition.as_deref(),
            criterion: f.criterion.as_deref(),
            cause: f.cause.as_deref(),
            effect: f.effect.as_deref(),
            fiscal_year: f.fiscal_year,
            presumed_incidence: &f.presumed_incidence.0,
            fiscal_amount: f.fiscal_amount,
        }
    }
}

/// Checks the fields of a finding: the one validation of the API and of bulk uploads (the
/// requirement references go through [`check_requirements`], also shared).
pub fn check_fields(c: &mut Checks, f: FindingFields<'_>) {
    c.text("report_code", f.report_code, CODE_MAX);
    c.text("finding_code", f.finding_code, CODE_MAX);
    c.text("title", f.title, TITLE_MAX);
    c.optional_text("auditor", f.auditor, AUDITOR_MAX);
    for (field, value) in
        [("condition", f.condition), ("criterion", f.criterion), ("cause", f.cause), ("effect", f.effect)]
    {
        c.optional_text(field, value, TEXT_MAX);
    }
    c.range("fiscal_year", f.fiscal_year, FISCAL_YEARS.0, FISCAL_YEARS.1);
    if let Some(source) = f.source {
        check_incidence(c, source, f.presumed_incidence, f.fiscal_amount);
    }
}

/// Whether `from → to` is a permitted status change.
pub fn transition_allowed(from: FindingStatus, to: FindingStatus) -> bool {
    use FindingStatus::*;
    matches!(
        (from, to),
        (Open, InTreatment | Dismissed)
            | (InTreatment, ClosedCompliant | Dismissed)
            | (ClosedCompliant, ClosedEffective | Reopened)
            | (ClosedEffective, Reopened)
            | (Reopened, InTreatment | ClosedCompliant | Dismissed)
            | (Dismissed, Reopened)
    )
}

/// Whether a finding may be closed as `target`: it needs at least one linked action, and every
/// linked action (not cancelled) must be `done` for `closed_compliant`, and also rated
/// `effective` for `closed_effective`. A linked action that was reformulated is judged through
/// the end of its reformulation chain (`reformulation::judged`). 409 `invalid_transition`
/// naming the pending actions.
pub async fn closing_allowed(
    conn: &impl ConnectionTrait, org: Uuid, finding_id: Uuid, target: FindingStatus,
) -> Result<(), ApiError> {
    let links: Vec<Uuid> = scoped_links(org)
        .filter(action_finding::Column::FindingId.eq(finding_id))
        .select_only()
        .column(action_finding::Column::ActionId)
        .into_tuple::<Uuid>()
        .all(conn)
        .await?;
    let linked = if links.is_empty() {
        Vec::new()
    } else {
        scoped::<action::Entity>(org).filter(action::Column::Id.is_in(links)).all(conn).await?
    };
    let actions: Vec<action::Model> = super::reformulation::judged(conn, org, linked)
        .await?
        .into_iter()
        .filter(|a| a.status != ActionStatus::Cancelled)
        .collect();
    if actions.is_empty() {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "A finding is closed through its actions: link at least one action first",
            "Un hallazgo se cierra con sus acciones: vincule al menos una acción primero",
        ));
    }
    let pending: Vec<String> = actions
        .iter()
        .filter(|a| {
            a.status != ActionStatus::Done
                || (target == FindingStatus::ClosedEffective && a.effectiveness != EffectivenessResult::Effective)
        })
        .map(|a| format!("{} ({})", a.number, a.title))
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let what = if target == FindingStatus::ClosedEffective { "done and rated effective" } else { "done" };
    let que = if target == FindingStatus::ClosedEffective { "terminadas y calificadas eficaces" } else { "terminadas" };
    Err(ApiError::conflict(
        ErrorCode::InvalidTransition,
        format!("Every linked action must be {what}; pending: {}", pending.join(", ")),
        format!("Todas las acciones vinculadas deben estar {que}; pendientes: {}", pending.join(", ")),
    ))
}

fn scoped_links(org: Uuid) -> sea_orm::Select<action_finding::Entity> {
    action_finding::Entity::find().filter(action_finding::Column::OrganizationId.eq(org))
}

/// Whether `plan_id` names a plan of `org`; 422 on `plan_id` otherwise.
pub async fn plan_in_org(conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid) -> Result<(), ApiError> {
    super::tenancy::check_ids::<plan::Entity>(conn, org, "plan_id", "unknown_plan", &[plan_id]).await.map(|_| ())
}

async fn check_repeats(
    conn: &impl ConnectionTrait, org: Uuid, own_id: Uuid, repeats: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(other) = repeats else { return Ok(()) };
    if other == own_id {
        return Err(ApiError::field("repeats_finding_id", "self_reference", "a finding cannot repeat itself"));
    }
    let found = scoped::<finding::Entity>(org).filter(finding::Column::Id.eq(other)).count(conn).await?;
    if found == 0 {
        return Err(ApiError::field("repeats_finding_id", "not_found", "no such finding in your organization"));
    }
    Ok(())
}

fn taken(err: sea_orm::DbErr) -> ApiError {
    match ApiError::from(err) {
        e if e.code == ErrorCode::AlreadyExists => ApiError::validation(vec![FieldError::new(
            "finding_code",
            "taken",
            "a finding with this source, report code and finding code exists",
        )])
        .with_code(ErrorCode::AlreadyExists),
        e => e,
    }
}

/// Creates a finding in `org` and records it in the audit trail.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateFindingRequest,
) -> Result<finding::Model, ApiError> {
    let now = super::now();
    let id = Uuid::now_v7();
    let mut c = Checks::new();
    let requirements = check_requirements(&mut c, "requirements", req.requirements);
    let report_code = req.report_code.trim().to_string();
    let finding_code = req.finding_code.trim().to_string();
    let title = req.title.trim().to_string();
    let model = finding::Model {
        id,
        source: req.source,
        auditor: clean(req.auditor),
        search: search_text(&finding_code, &report_code, &title),
        report_code,
        report_date: req.report_date,
        fiscal_year: req.fiscal_year,
        finding_code,
        title,
        condition: clean(req.condition),
        criterion: clean(req.criterion),
        cause: clean(req.cause),
        effect: clean(req.effect),
        classification: req.classification,
        severity: req.severity,
        requirements: Requirements(requirements),
        presumed_incidence: incidences(req.presumed_incidence),
        fiscal_amount: req.fiscal_amount,
        status: req.status.unwrap_or(FindingStatus::Open),
        plan_id: None,
        repeats_finding_id: req.repeats_finding_id,
        import_id: None,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    check_fields(&mut c, (&model).into());
    c.finish()?;
    check_repeats(conn, org, id, model.repeats_finding_id).await?;
    finding::Entity::insert(finding::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await
        .map_err(taken)?;
    let created = FindingResponse::from(model.clone());
    audit::record(conn, actor, Entry::new(org, AuditResource::Finding, id, AuditOperation::Create).after(&created))
        .await?;
    events::record(conn, org, EventType::FindingCreated, AuditResource::Finding, id, &created).await?;
    Ok(model)
}

/// Applies a merge patch to a finding, checking `If-Match`.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateFindingRequest,
) -> Result<finding::Model, ApiError> {
    let current = find_in_org::<finding::Entity>(conn, org, id).await?;
    let mut next = current.clone();
    let mut c = Checks::new();
    use crate::dto::patch::{set, set_nullable};
    set(&mut next.source, req.source);
    set_nullable(&mut next.auditor, req.auditor.map(clean));
    set(&mut next.report_code, req.report_code.map(|v| v.trim().to_string()));
    set_nullable(&mut next.report_date, req.report_date);
    set_nullable(&mut next.fiscal_year, req.fiscal_year);
    set(&mut next.finding_code, req.finding_code.map(|v| v.trim().to_string()));
    set(&mut next.title, req.title.map(|v| v.trim().to_string()));
    set_nullable(&mut next.condition, req.condition.map(clean));
    set_nullable(&mut next.criterion, req.criterion.map(clean));
    set_nullable(&mut next.cause, req.cause.map(clean));
    set_nullable(&mut next.effect, req.effect.map(clean));
    set_nullable(&mut next.classification, req.classification);
    set_nullable(&mut next.severity, req.severity);
    if let Some(list) = req.requirements {
        next.requirements = Requirements(check_requirements(&mut c, "requirements", list));
    }
    set_nullable(&mut next.repeats_finding_id, req.repeats_finding_id);
    if let Some(list) = req.presumed_incidence {
        next.presumed_incidence = incidences(list);
    }
    set_nullable(&mut next.fiscal_amount, req.fiscal_amount);
    check_fields(&mut c, (&next).into());
    c.finish()?;
    // Invalid input is reported before a stale version: fixing the body comes first.
    ApiError::check_version(current.version, expected_version)?;
    if next.repeats_finding_id != current.repeats_finding_id {
        check_repeats(conn, org, id, next.repeats_finding_id).await?;
    }
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current {
        return Ok(current);
    }
    next.search = search_text(&next.finding_code, &next.report_code, &next.title);
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, finding::ActiveModel::from(next.clone())).await.map_err(|e| {
        if e.code == ErrorCode::AlreadyExists {
            ApiError::validation(vec![FieldError::new(
                "finding_code",
                "taken",
                "a finding with this source, report code and finding code exists",
            )])
            .with_code(ErrorCode::AlreadyExists)
        } else {
            e
        }
    })?;
    let after = FindingResponse::from(next.clone());
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Finding, id, AuditOperation::Update)
            .before(&FindingResponse::from(current))
            .after(&after),
    )
    .await?;
    events::record(conn, org, EventType::FindingUpdated, AuditResource::Finding, id, &after).await?;
    Ok(next)
}

/// Moves a finding to another status when the transition is allowed (409 otherwise).
pub async fn transition(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: TransitionRequest,
) -> Result<finding::Model, ApiError> {
    let current = find_in_org::<finding::Entity>(conn, org, id).await?;
    let mut c = Checks::new();
    c.optional_text("note", req.note.as_deref(), 2000);
    c.finish()?;
    ApiError::check_version(current.version, expected_version)?;
    let (from, to) = (current.status, req.to);
    if !transition_allowed(from, to) {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!(
                "This finding is {}, so it cannot go to {}.",
                from.label_en().to_lowercase(),
                to.label_en().to_lowercase()
            ),
            format!(
                "Este hallazgo está «{}», así que no puede pasar a «{}».",
                from.label_es().to_lowercase(),
                to.label_es().to_lowercase()
            ),
        ));
    }
    if matches!(to, FindingStatus::ClosedCompliant | FindingStatus::ClosedEffective) {
        closing_allowed(conn, org, id, to).await?;
    }
    let mut next = current.clone();
    next.status = to;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, finding::ActiveModel::from(next.clone())).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Finding, id, AuditOperation::Transition)
            .before(&json!({ "status": from }))
            .after(&json!({ "status": to, "note": clean(req.note) })),
    )
    .await?;
    let after = FindingResponse::from(next.clone());
    events::record(conn, org, EventType::FindingStatusChanged, AuditResource::Finding, id, &after).await?;
    Ok(next)
}

/// Links a finding to an improvement plan, or unlinks it (`None`).
pub async fn link_plan(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, plan_id: Option<Uuid>,
) -> Result<finding::Model, ApiError> {
    let current = find_in_org::<finding::Entity>(conn, org, id).await?;
    ApiError::check_version(current.version, expected_version)?;
    if let Some(plan) = plan_id {
        plan_in_org(conn, org, plan).await?;
    }
    let mut next = current.clone();
    next.plan_id = plan_id;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, finding::ActiveModel::from(next.clone())).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Finding, id, AuditOperation::LinkPlan)
            .before(&json!({ "plan_id": current.plan_id }))
            .after(&json!({ "plan_id": plan_id })),
    )
    .await?;
    let after = FindingResponse::from(next.clone());
    events::record(conn, org, EventType::FindingUpdated, AuditResource::Finding, id, &after).await?;
    Ok(next)
}

fn sort_name(sort: FindingSort) -> &'static str {
    match sort {
        // The default order keeps the plain id cursor, like every other list.
        FindingSort::CreatedAsc => "",
        FindingSort::CreatedDesc => "-created_at",
        FindingSort::ReportDateAsc => "report_date",
        FindingSort::ReportDateDesc => "-report_date",
    }
}

/// Keyset condition for "after the cursor" on a nullable date sorted with nulls last.
fn after_date(key: Option<NaiveDate>, id: Uuid, ascending: bool) -> Condition {
    let col = finding::Column::ReportDate;
    let later_id = if ascending { finding::Column::Id.gt(id) } else { finding::Column::Id.lt(id) };
    match key {
        None => Condition::all().add(col.is_null()).add(later_id),
        Some(k) => {
            let beyond = if ascending { col.gt(k) } else { col.lt(k) };
            Condition::any().add(beyond).add(Condition::all().add(col.eq(k)).add(later_id)).add(col.is_null())
        }
    }
}

/// Lists findings of `org` with filters, in keyset pages.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, q: &FindingListQuery,
) -> Result<Page<FindingResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    query_text("q", q.q.as_deref(), 200)?;
    query_text("report_code", q.report_code.as_deref(), CODE_MAX)?;
    let sort = q.sort.unwrap_or_default();
    let cursor = page.cursor(sort_name(sort))?;
    let mut select = scoped::<finding::Entity>(org);
    if let Some(v) = q.source {
        select = select.filter(finding::Column::Source.eq(v));
    }
    if let Some(v) = q.report_code.as_deref().map(str::trim) {
        select = select.filter(finding::Column::ReportCode.eq(v));
    }
    if let Some(v) = q.status {
        select = select.filter(finding::Column::Status.eq(v));
    }
    if let Some(v) = q.severity {
        select = select.filter(finding::Column::Severity.eq(v));
    }
    if let Some(v) = q.classification {
        select = select.filter(finding::Column::Classification.eq(v));
    }
    if let Some(v) = q.fiscal_year {
        select = select.filter(finding::Column::FiscalYear.eq(v));
    }
    if let Some(v) = q.plan_id {
        select = select.filter(finding::Column::PlanId.eq(v));
    }
    if let Some(v) = q.import_id {
        select = select.filter(finding::Column::ImportId.eq(v));
    }
    if let Some(text) = q.q.as_deref().map(fold).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.replace(['\\', '%', '_'], ""));
        select = select.filter(finding::Column::Search.like(pattern));
    }
    let bad_cursor = || ApiError::new(ErrorCode::InvalidCursor);
    select = match sort {
        FindingSort::CreatedAsc | FindingSort::CreatedDesc => {
            let asc = sort == FindingSort::CreatedAsc;
            if let Some(c) = &cursor {
                select = select.filter(if asc { finding::Column::Id.gt(c.id) } else { finding::Column::Id.lt(c.id) });
            }
            select.order_by(finding::Column::Id, if asc { Order::Asc } else { Order::Desc })
        }
        FindingSort::ReportDateAsc | FindingSort::ReportDateDesc => {
            let asc = sort == FindingSort::ReportDateAsc;
            if let Some(c) = &cursor {
                let key = match &c.k {
                    None | Some(serde_json::Value::Null) => None,
                    Some(v) => Some(serde_json::from_value::<NaiveDate>(v.clone()).map_err(|_| bad_cursor())?),
                };
                select = select.filter(after_date(key, c.id, asc));
            }
            let order = if asc { Order::Asc } else { Order::Desc };
            select
                .order_by(Expr::col(finding::Column::ReportDate).is_null(), Order::Asc)
                .order_by(finding::Column::ReportDate, order.clone())
                .order_by(finding::Column::Id, order)
        }
    };
    let rows = select.limit(limit + 1).all(conn).await?;
    let with_date = matches!(sort, FindingSort::ReportDateAsc | FindingSort::ReportDateDesc);
    Ok(Page::from_rows(
        rows,
        limit,
        sort_name(sort),
        |f| (with_date.then(|| json!(f.report_date)), f.id),
        FindingResponse::from,
    ))
}

/// A finding of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<FindingResponse, ApiError> {
    Ok(find_in_org::<finding::Entity>(conn, org, id).await?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingStatus::*;

    #[test]
    fn closing_goes_through_treatment_and_effectiveness_follows_compliance() {
        assert!(transition_allowed(Open, InTreatment));
        assert!(transition_allowed(InTreatment, ClosedCompliant));
        assert!(transition_allowed(ClosedCompliant, ClosedEffective));
        assert!(transition_allowed(ClosedEffective, Reopened));
        assert!(!transition_allowed(Open, ClosedCompliant));
        assert!(!transition_allowed(Open, ClosedEffective));
        assert!(!transition_allowed(InTreatment, ClosedEffective));
        assert!(!transition_allowed(Dismissed, InTreatment));
        for s in FindingStatus::ALL {
            assert!(!transition_allowed(*s, *s), "{s} to itself");
        }
    }

    #[test]
    fn search_text_ignores_case_and_accents() {
        assert_eq!(search_text("H-01", "OCI", "Auditoría de ACCESO"), "h 01 oci auditoria de acceso");
    }
}
