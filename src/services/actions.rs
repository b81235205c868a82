//! Improvement actions of a plan: creation, reads with links and computed figures, merge
//! patch (content while the plan is editable, execution state while it runs) and deletion.
//! Lists are in [`super::action_queries`], plan-wide operations in [`super::plan_actions`].
use super::audit::{self, Actor, Entry};
use super::events;
use super::objectives::{check_ids, clean};
use super::plans::{ensure_editable, find_for_update};
use super::progress::{accepted_quantities, action_figures, ActionFigures};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::actions::{ActionResponse, CreateActionRequest, UpdateActionRequest};
use crate::dto::common::money;
use crate::dto::patch::{set, set_nullable};
use crate::dto::validate::Checks;
use crate::entities::enums::EventType;
use crate::entities::enums::{
    ActionStatus, AuditOperation, AuditResource, ComplianceResult, EffectivenessResult, PlanStatus,
};
use crate::entities::{action, action_finding, action_objective, category, evidence, finding, plan, user};
use crate::error::{ApiError, ErrorCode, FieldError};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Plan states in which nothing about an action changes any more.
pub const READ_ONLY: &[PlanStatus] = &[PlanStatus::Closed, PlanStatus::Cancelled, PlanStatus::Superseded];

/// Checks an action as it would be stored; field names are the wire names.
pub fn check(c: &mut Checks, m: &action::Model) {
    c.range("number", Some(m.number), 1, 100_000);
    c.text("title", &m.title, 500);
    c.optional_text("description", m.description.as_deref(), 20_000);
    c.optional_text("goal", m.goal.as_deref(), 2000);
    c.optional_text("unit", m.unit.as_deref(), 100);
    c.optional_text("responsible_unit", m.responsible_unit.as_deref(), 200);
    c.optional_text("resources", m.resources.as_deref(), 2000);
    if !(m.target_quantity.is_finite() && m.target_quantity > 0.0 && m.target_quantity <= 1e12) {
        c.push("target_quantity", "out_of_range", "must be greater than 0 and at most 10^12");
    }
    if m.due_date < m.start_date {
        c.push("due_date", "before_start", "must not be before start_date");
    }
    if let Some(done) = m.completed_on {
        if done < m.start_date {
            c.push("completed_on", "before_start", "must not be before start_date");
        }
        if done > super::calendar::today() {
            c.push("completed_on", "in_future", "must not be in the future");
        }
    }
    if let Some(cost) = m.estimated_cost {
        if cost.is_sign_negative() || cost >= Decimal::from(10_000_000_000_000_000i64) {
            c.push("estimated_cost", "out_of_range", "must be between 0 and 9999999999999999.99");
        }
        if cost.normalize().scale() > 2 {
            c.push("estimated_cost", "too_precise", "must have at most two decimals");
        }
    }
}

/// An action's dates fall inside its plan's implementation window (when the plan has one).
pub fn check_window(c: &mut Checks, m: &action::Model, owner: &plan::Model) {
    let (Some(start), Some(end)) = (owner.start_date, owner.end_date) else { return };
    for (field, date) in [("start_date", m.start_date), ("due_date", m.due_date)] {
        if date < start || date > end {
            c.add(Some(
                FieldError::new(
                    field,
                    "outside_plan_window",
                    format!("must be within the plan's implementation window, {start} to {end}"),
                )
                .with_spanish(format!("debe estar dentro de las fechas de ejecución del plan, {start} a {end}")),
            ));
        }
    }
}

/// 422 unless `id` is a user of `org`.
async fn check_responsible(conn: &impl ConnectionTrait, org: Uuid, id: Option<Uuid>) -> Result<(), ApiError> {
    if let Some(id) = id {
        if scoped::<user::Entity>(org).filter(user::Column::Id.eq(id)).count(conn).await? == 0 {
            return Err(ApiError::field("responsible_id", "unknown_user", "no such user in your organization"));
        }
    }
    Ok(())
}

/// 422 unless `id` is a category of plan `plan_id`.
async fn check_category(
    conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, id: Option<Uuid>,
) -> Result<(), ApiError> {
    if let Some(id) = id {
        let found = scoped::<category::Entity>(org)
            .filter(category::Column::Id.eq(id))
            .filter(category::Column::PlanId.eq(plan_id))
            .count(conn)
            .await?;
        if found == 0 {
            return Err(ApiError::field("category_id", "unknown_category", "no such category in this plan"));
        }
    }
    Ok(())
}

fn number_taken(err: ApiError) -> ApiError {
    if err.code == ErrorCode::AlreadyExists {
        ApiError::field("number", "taken", "another action of this plan has this number")
            .with_code(ErrorCode::AlreadyExists)
    } else {
        err
    }
}

/// Finding and objective links of each of `actions`.
pub async fn links(
    conn: &impl ConnectionTrait, actions: &[Uuid],
) -> Result<(HashMap<Uuid, Vec<Uuid>>, HashMap<Uuid, Vec<Uuid>>), ApiError> {
    let (mut findings, mut objectives): (HashMap<Uuid, Vec<Uuid>>, HashMap<Uuid, Vec<Uuid>>) = Default::default();
    if actions.is_empty() {
        return Ok((findings, objectives));
    }
    for row in action_finding::Entity::find()
        .filter(action_finding::Column::ActionId.is_in(actions.to_vec()))
        .order_by_asc(action_finding::Column::FindingId)
        .all(conn)
        .await?
    {
        findings.entry(row.action_id).or_default().push(row.finding_id);
    }
    for row in action_objective::Entity::find()
        .filter(action_objective::Column::ActionId.is_in(actions.to_vec()))
        .order_by_asc(action_objective::Column::ObjectiveId)
        .all(conn)
        .await?
    {
        objectives.entry(row.action_id).or_default().push(row.objective_id);
    }
    Ok((findings, objectives))
}

/// The action with its links and computed figures, as the API returns it.
fn wire(m: action::Model, finding_ids: Vec<Uuid>, objective_ids: Vec<Uuid>, figures: ActionFigures) -> ActionResponse {
    ActionResponse {
        id: m.id,
        organization_id: m.organization_id,
        plan_id: m.plan_id,
        category_id: m.category_id,
        finding_ids,
        objective_ids,
        number: m.number,
        action_type: m.action_type,
        focus: m.focus,
        title: m.title,
        description: m.description,
        goal: m.goal,
        unit: m.unit,
        target_quantity: m.target_quantity,
        responsible_id: m.responsible_id,
        responsible_unit: m.responsible_unit,
        start_date: m.start_date,
        due_date: m.due_date,
        status: m.status,
        completed_on: m.completed_on,
        compliance: m.compliance,
        effectiveness: m.effectiveness,
        evaluated_by: m.evaluated_by,
        evaluated_on: m.evaluated_on,
        evaluation_criterion: m.evaluation_criterion,
        evaluation_note: m.evaluation_note,
        reformulated_from_id: m.reformulated_from_id,
        reformulation_reason: m.reformulation_reason,
        resources: m.resources,
        estimated_cost: m.estimated_cost.map(money),
        weeks: figures.weeks,
        accepted_quantity: figures.accepted_quantity,
        progress_pct: figures.progress_pct,
        overdue: figures.overdue,
        traffic_light: figures.traffic_light,
        meta: crate::meta_of!(m),
    }
}

/// The wire form of `rows`, with links and figures.
pub async fn responses(conn: &impl ConnectionTrait, rows: Vec<action::Model>) -> Result<Vec<ActionResponse>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let (mut findings, mut objectives) = links(conn, &ids).await?;
    let accepted = accepted_quantities(conn, &ids).await?;
    let today = super::calendar::today();
    Ok(rows
        .into_iter()
        .map(|a| {
            let figures = action_figures(&a, accepted.get(&a.id).copied().unwrap_or(0.0), today);
            let (f, o) = (findings.remove(&a.id).unwrap_or_default(), objectives.remove(&a.id).unwrap_or_default());
            wire(a, f, o, figures)
        })
        .collect())
}

/// The wire form of one action.
pub async fn response(conn: &impl ConnectionTrait, a: action::Model) -> Result<ActionResponse, ApiError> {
    responses(conn, vec![a]).await?.pop().ok_or_else(ApiError::not_found)
}

/// Replaces the finding and/or objective links of an action.
pub async fn set_links(
    conn: &impl ConnectionTrait, org: Uuid, action_id: Uuid, findings: Option<&[Uuid]>, objectives: Option<&[Uuid]>,
) -> Result<(), ApiError> {
    if let Some(ids) = findings {
        action_finding::Entity::delete_many().filter(action_finding::Column::ActionId.eq(action_id)).exec(conn).await?;
        if !ids.is_empty() {
            let rows = ids.iter().map(|f| action_finding::ActiveModel {
                action_id: Set(action_id),
                finding_id: Set(*f),
                organization_id: Set(org),
            });
            action_finding::Entity::insert_many(rows).exec_without_returning(conn).await?;
        }
    }
    if let Some(ids) = objectives {
        action_objective::Entity::delete_many()
            .filter(action_objective::Column::ActionId.eq(action_id))
            .exec(conn)
            .await?;
        if !ids.is_empty() {
            let rows = ids.iter().map(|o| action_objective::ActiveModel {
                action_id: Set(action_id),
                objective_id: Set(*o),
                organization_id: Set(org),
            });
            action_objective::Entity::insert_many(rows).exec_without_returning(conn).await?;
        }
    }
    Ok(())
}

/// The next free number in a plan.
pub async fn next_number(conn: &impl ConnectionTrait, plan_id: Uuid) -> Result<i32, ApiError> {
    let last: Option<i32> = action::Entity::find()
        .filter(action::Column::PlanId.eq(plan_id))
        .select_only()
        .column_as(action::Column::Number.max(), "last")
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten();
    Ok(last.unwrap_or(0) + 1)
}

/// Inserts a checked action with its links and records `operation` in the audit trail.
pub async fn insert(
    conn: &impl ConnectionTrait, actor: &Actor, model: action::Model, findings: &[Uuid], objectives: &[Uuid],
    operation: AuditOperation,
) -> Result<ActionResponse, ApiError> {
    action::Entity::insert(action::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await
        .map_err(|e| number_taken(e.into()))?;
    set_links(conn, model.organization_id, model.id, Some(findings), Some(objectives)).await?;
    let created = response(conn, model).await?;
    audit::record(
        conn,
        actor,
        Entry::new(created.organization_id, AuditResource::Action, created.id, operation).after(&created),
    )
    .await?;
    events::record(
        conn,
        created.organization_id,
        EventType::ActionCreated,
        AuditResource::Action,
        created.id,
        &created,
    )
    .await?;
    Ok(created)
}

/// Adds an action to a `draft` or `submitted` plan.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, plan_id: Uuid, req: CreateActionRequest,
) -> Result<ActionResponse, ApiError> {
    let owner = find_for_update(conn, org, plan_id).await?;
    let now = super::now();
    let model = action::Model {
        id: Uuid::now_v7(),
        plan_id,
        category_id: req.category_id,
        number: req.number.unwrap_or(1),
        action_type: req.action_type,
        focus: req.focus,
        title: req.title.trim().to_string(),
        description: clean(req.description),
        goal: clean(req.goal),
        unit: clean(req.unit),
        target_quantity: req.target_quantity.unwrap_or(1.0),
        responsible_id: req.responsible_id,
        responsible_unit: clean(req.responsible_unit),
        start_date: req.start_date,
        due_date: req.due_date,
        status: ActionStatus::Planned,
        completed_on: None,
        compliance: ComplianceResult::Pending,
        effectiveness: EffectivenessResult::Pending,
        evaluated_by: None,
        evaluated_on: None,
        evaluation_criterion: None,
        evaluation_note: None,
        reformulated_from_id: None,
        reformulation_reason: None,
        resources: clean(req.resources),
        estimated_cost: req.estimated_cost,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    let mut c = Checks::new();
    check(&mut c, &model);
    check_window(&mut c, &model, &owner);
    c.finish()?;
    let findings =
        super::tenancy::check_ids::<finding::Entity>(conn, org, "finding_ids", "unknown_finding", &req.finding_ids)
            .await?;
    let objectives = check_ids(conn, org, "objective_ids", &req.objective_ids).await?;
    check_responsible(conn, org, model.responsible_id).await?;
    check_category(conn, org, plan_id, model.category_id).await?;
    ensure_editable(&owner)?;
    let mut model = model;
    if req.number.is_none() {
        model.number = next_number(conn, plan_id).await?;
    }
    insert(conn, actor, model, &findings, &objectives, AuditOperation::Create).await
}

/// The action `id` of `org` with its plan, the plan locked (PostgreSQL) for the transaction.
pub async fn find_with_plan(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid,
) -> Result<(action::Model, plan::Model), ApiError> {
    let found = find_in_org::<action::Entity>(conn, org, id).await?;
    let owner = find_for_update(conn, org, found.plan_id).await?;
    Ok((found, owner))
}

fn read_only(owner: &plan::Model) -> Result<(), ApiError> {
    if READ_ONLY.contains(&owner.status) {
        return Err(ApiError::conflict(
            ErrorCode::Immutable,
            format!("The plan is {}; its actions no longer change", owner.status),
            format!("El plan está en estado «{}»; sus acciones ya no cambian", owner.status.label_es()),
        ));
    }
    Ok(())
}

/// Checks a change of execution state and sets `completed_on`.
fn change_status(
    current: &action::Model, next: &mut action::Model, completed_on: Option<Option<chrono::NaiveDate>>,
) -> Result<(), ApiError> {
    use ActionStatus::*;
    let (from, to) = (current.status, next.status);
    let allowed = from == to
        || matches!(
            (from, to),
            (Planned, InProgress)
                | (InProgress, Planned)
                | (Planned | InProgress, Done)
                | (Planned | InProgress, Cancelled)
        )
        || (from == Done && to == InProgress && current.compliance == ComplianceResult::Pending);
    if !allowed {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!(
                "This action is {}, so it cannot become {}.",
                from.label_en().to_lowercase(),
                to.label_en().to_lowercase()
            ),
            format!(
                "Esta acción está «{}», así que no puede pasar a «{}».",
                from.label_es().to_lowercase(),
                to.label_es().to_lowercase()
            ),
        ));
    }
    match (to, completed_on) {
        (Done, Some(Some(date))) => next.completed_on = Some(date),
        (Done, _) if from != Done || next.completed_on.is_none() => next.completed_on = Some(super::calendar::today()),
        (Done, _) => {}
        (_, Some(Some(_))) => {
            return Err(ApiError::field("completed_on", "not_done", "only a done action has a completion date"))
        }
        _ => next.completed_on = None,
    }
    Ok(())
}

/// Applies a merge patch to an action.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateActionRequest,
) -> Result<ActionResponse, ApiError> {
    let (current, owner) = find_with_plan(conn, org, id).await?;
    let content_changes = req.number.is_some()
        || req.action_type.is_some()
        || req.focus.is_some()
        || req.title.is_some()
        || req.description.is_some()
        || req.goal.is_some()
        || req.unit.is_some()
        || req.target_quantity.is_some()
        || req.start_date.is_some()
        || req.due_date.is_some()
        || req.category_id.is_some()
        || req.finding_ids.is_some()
        || req.objective_ids.is_some()
        || req.resources.is_some()
        || req.estimated_cost.is_some();
    let mut next = current.clone();
    set(&mut next.number, req.number);
    set(&mut next.action_type, req.action_type);
    set(&mut next.focus, req.focus);
    set(&mut next.title, req.title.map(|t| t.trim().to_string()));
    set_nullable(&mut next.description, req.description.map(clean));
    set_nullable(&mut next.goal, req.goal.map(clean));
    set_nullable(&mut next.unit, req.unit.map(clean));
    set(&mut next.target_quantity, req.target_quantity);
    set_nullable(&mut next.responsible_id, req.responsible_id);
    set_nullable(&mut next.responsible_unit, req.responsible_unit.map(clean));
    set(&mut next.start_date, req.start_date);
    set(&mut next.due_date, req.due_date);
    set(&mut next.status, req.status);
    set_nullable(&mut next.category_id, req.category_id);
    set_nullable(&mut next.resources, req.resources.map(clean));
    set_nullable(&mut next.estimated_cost, req.estimated_cost);
    change_status(&current, &mut next, req.completed_on)?;
    let mut c = Checks::new();
    check(&mut c, &next);
    if next.start_date != current.start_date || next.due_date != current.due_date {
        check_window(&mut c, &next, &owner);
    }
    c.finish()?;
    let findings = match req.finding_ids.as_deref() {
        Some(ids) => {
            Some(super::tenancy::check_ids::<finding::Entity>(conn, org, "finding_ids", "unknown_finding", ids).await?)
        }
        None => None,
    };
    let objectives = match &req.objective_ids {
        Some(ids) => Some(check_ids(conn, org, "objective_ids", ids).await?),
        None => None,
    };
    if next.responsible_id != current.responsible_id {
        check_responsible(conn, org, next.responsible_id).await?;
    }
    if next.category_id != current.category_id {
        check_category(conn, org, current.plan_id, next.category_id).await?;
    }
    ApiError::check_version(current.version, expected_version)?;
    read_only(&owner)?;
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current && findings.is_none() && objectives.is_none() {
        return response(conn, current).await;
    }
    if content_changes {
        ensure_editable(&owner)?;
    }
    let before = response(conn, current.clone()).await?;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, action::ActiveModel::from(next.clone()))
        .await
        .map_err(number_taken)?;
    set_links(conn, org, id, findings.as_deref(), objectives.as_deref()).await?;
    let after = response(conn, next).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Action, id, AuditOperation::Update).before(&before).after(&after),
    )
    .await?;
    events::action_changed(conn, &before, &after).await?;
    Ok(after)
}

/// Deletes an action of a `draft` or `submitted` plan that has no evidence.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let (current, owner) = find_with_plan(conn, org, id).await?;
    ApiError::check_version(current.version, expected_version)?;
    ensure_editable(&owner)?;
    if evidence::Entity::find().filter(evidence::Column::ActionId.eq(id)).count(conn).await? > 0 {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "The action has evidence and cannot be deleted; cancel it instead",
            "La acción tiene evidencias y no puede eliminarse; cancélela",
        ));
    }
    let before = response(conn, current).await?;
    action::Entity::update_many()
        .col_expr(action::Column::ReformulatedFromId, Expr::value(Option::<Uuid>::None))
        .filter(action::Column::ReformulatedFromId.eq(id))
        .exec(conn)
        .await?;
    action_finding::Entity::delete_many().filter(action_finding::Column::ActionId.eq(id)).exec(conn).await?;
    action_objective::Entity::delete_many().filter(action_objective::Column::ActionId.eq(id)).exec(conn).await?;
    // The risks it treated show a treatment gap if it was their only action.
    crate::entities::action_risk::Entity::delete_many()
        .filter(crate::entities::action_risk::Column::ActionId.eq(id))
        .exec(conn)
        .await?;
    super::tenancy::delete_versioned::<action::Entity>(conn, org, id, expected_version).await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::Action, id, AuditOperation::Delete).before(&before))
        .await?;
    Ok(())
}

/// An action of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<ActionResponse, ApiError> {
    response(conn, find_in_org::<action::Entity>(conn, org, id).await?).await
}

/// 404 unless `org` has action `id`.
pub async fn ensure_exists(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<(), ApiError> {
    find_in_org::<action::Entity>(conn, org, id).await.map(|_| ())
}
