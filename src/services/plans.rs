//! Improvement plans: creation, reads with their objective links, lists, merge patch and
//! deletion of drafts. Lifecycle transitions and new versions live in [`super::plan_lifecycle`].
use super::audit::{self, Actor, Entry};
use super::objectives::{check_ids, check_query_text, clean, contains_pattern};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::pagination::{Cursor, Page, PageParams};
use crate::dto::patch::{set, set_nullable};
use crate::dto::plans::{CreatePlanRequest, PlanFigures, PlanListQuery, PlanResponse, PlanSort, UpdatePlanRequest};
use crate::dto::validate::Checks;
use crate::entities::enums::{AuditOperation, AuditResource, PlanStatus};
use crate::entities::{category, plan, plan_objective};
use crate::error::{ApiError, ErrorCode};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// States in which a plan's content (fields, categories, links) may change.
pub const EDITABLE: &[PlanStatus] = &[PlanStatus::Draft, PlanStatus::Submitted];

/// The largest budget accepted (16 integer digits).
fn max_budget() -> Decimal {
    Decimal::from(10_000_000_000_000_000i64)
}

/// Checks a plan as it would be stored; field names are the wire names.
pub fn check(c: &mut Checks, m: &plan::Model) {
    c.text("code", &m.code, 40);
    c.range("version", Some(m.plan_version), 1, 1000);
    c.text("title", &m.title, 500);
    c.optional_text("description", m.description.as_deref(), 10_000);
    c.range("fiscal_year", m.fiscal_year, 2000, 2100);
    c.optional_text("prepared_by", m.prepared_by.as_deref(), 200);
    c.optional_text("prepared_by_role", m.prepared_by_role.as_deref(), 200);
    c.optional_text("approved_by", m.approved_by.as_deref(), 300);
    c.optional_text("approval_reference", m.approval_reference.as_deref(), 300);
    if let (Some(start), Some(end)) = (m.start_date, m.end_date) {
        if end < start {
            c.push("end_date", "before_start", "must not be before start_date");
        }
    }
    if let Some(budget) = m.budget {
        if budget.is_sign_negative() || budget >= max_budget() {
            c.push("budget", "out_of_range", "must be between 0 and 9999999999999999.99");
        }
        if budget.normalize().scale() > 2 {
            c.push("budget", "too_precise", "must have at most two decimals");
        }
    }
}

/// 409 unless the plan's content may still change.
pub fn ensure_editable(m: &plan::Model) -> Result<(), ApiError> {
    if EDITABLE.contains(&m.status) {
        return Ok(());
    }
    Err(ApiError::conflict(
        ErrorCode::Immutable,
        format!("The plan is {}; only draft and submitted plans change (create a new version instead)", m.status),
        format!(
            "El plan está en estado {}; solo cambian los planes en borrador o enviados (cree una nueva versión)",
            m.status.label_es()
        ),
    ))
}

/// The plan `id` of `org`, locked for the rest of the transaction on PostgreSQL so that a
/// concurrent transition and a change to its categories cannot interleave.
pub async fn find_for_update(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<plan::Model, ApiError> {
    let mut select = scoped::<plan::Entity>(org).filter(plan::Column::Id.eq(id));
    if conn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(conn).await?.ok_or_else(ApiError::not_found)
}

/// Objective ids linked to each of `plans`.
pub async fn objective_links(
    conn: &impl ConnectionTrait, plans: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, ApiError> {
    let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if plans.is_empty() {
        return Ok(links);
    }
    let rows = plan_objective::Entity::find()
        .filter(plan_objective::Column::PlanId.is_in(plans.to_vec()))
        .order_by_asc(plan_objective::Column::ObjectiveId)
        .all(conn)
        .await?;
    for row in rows {
        links.entry(row.plan_id).or_default().push(row.objective_id);
    }
    Ok(links)
}

/// The wire form of one plan, with its objective links and figures computed from its actions.
pub async fn response(conn: &impl ConnectionTrait, m: plan::Model) -> Result<PlanResponse, ApiError> {
    let ids = objective_links(conn, &[m.id]).await?.remove(&m.id).unwrap_or_default();
    let figures =
        super::progress::plan_figures_for(conn, m.organization_id, &[m.id]).await?.remove(&m.id).unwrap_or_default();
    Ok(PlanResponse::new(m, ids, figures))
}

/// Replaces the objective links of a plan.
pub async fn set_objectives(
    conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, objective_ids: &[Uuid],
) -> Result<(), ApiError> {
    plan_objective::Entity::delete_many().filter(plan_objective::Column::PlanId.eq(plan_id)).exec(conn).await?;
    if objective_ids.is_empty() {
        return Ok(());
    }
    let rows = objective_ids.iter().map(|objective_id| plan_objective::ActiveModel {
        plan_id: sea_orm::ActiveValue::Set(plan_id),
        objective_id: sea_orm::ActiveValue::Set(*objective_id),
        organization_id: sea_orm::ActiveValue::Set(org),
    });
    plan_objective::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// Maps a unique-key violation on (organization, code, version) to a 409 naming `code`.
pub fn code_taken(err: ApiError) -> ApiError {
    if err.code == ErrorCode::AlreadyExists {
        ApiError::field("code", "taken", "this organization already has a plan with this code and version")
            .with_code(ErrorCode::AlreadyExists)
    } else {
        err
    }
}

/// Inserts a plan row (any state) and its objective links; no audit event.
pub async fn insert(conn: &impl ConnectionTrait, model: &plan::Model, objective_ids: &[Uuid]) -> Result<(), ApiError> {
    plan::Entity::insert(plan::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await
        .map_err(|e| code_taken(e.into()))?;
    set_objectives(conn, model.organization_id, model.id, objective_ids).await
}

/// Creates a draft plan.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreatePlanRequest,
) -> Result<PlanResponse, ApiError> {
    let now = super::now();
    let model = plan::Model {
        id: Uuid::now_v7(),
        code: req.code.trim().to_string(),
        plan_version: req.version.unwrap_or(1),
        title: req.title.trim().to_string(),
        description: clean(req.description),
        policy_scope: req.policy_scope,
        origin: req.origin,
        fiscal_year: req.fiscal_year,
        start_date: req.start_date,
        end_date: req.end_date,
        status: PlanStatus::Draft,
        prepared_by: clean(req.prepared_by),
        prepared_by_role: clean(req.prepared_by_role),
        prepared_on: req.prepared_on,
        approved_by: clean(req.approved_by),
        approval_reference: clean(req.approval_reference),
        approved_on: req.approved_on,
        cancellation_reason: None,
        budget: req.budget,
        funding_source: req.funding_source,
        maturity_current: req.maturity_current,
        maturity_target: req.maturity_target,
        previous_version_id: None,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    Checks::run(check, &model)?;
    let objective_ids = check_ids(conn, org, "objective_ids", &req.objective_ids).await?;
    insert(conn, &model, &objective_ids).await?;
    let created = PlanResponse::new(model, objective_ids, PlanFigures::default());
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Plan, created.id, AuditOperation::Create).after(&created),
    )
    .await?;
    Ok(created)
}

fn sort_name(sort: PlanSort) -> &'static str {
    match sort {
        PlanSort::CreatedAt => "",
        PlanSort::CreatedAtDesc => "-created_at",
        PlanSort::Code => "code",
        PlanSort::CodeDesc => "-code",
    }
}

/// The (code, version) key of a `sort=code` cursor.
fn code_key(cursor: &Cursor) -> Result<(String, i32), ApiError> {
    let key = cursor.k.as_ref().and_then(|k| k.as_array()).ok_or_else(|| ApiError::new(ErrorCode::InvalidCursor))?;
    match (key.first().and_then(|v| v.as_str()), key.get(1).and_then(|v| v.as_i64())) {
        (Some(code), Some(version)) => {
            Ok((code.to_string(), i32::try_from(version).map_err(|_| ApiError::new(ErrorCode::InvalidCursor))?))
        }
        _ => Err(ApiError::new(ErrorCode::InvalidCursor)),
    }
}

/// Plans of `org` with filters; keyset pagination on `(organization_id, id)` or
/// `(organization_id, code, plan_version)`.
pub async fn list(conn: &impl ConnectionTrait, org: Uuid, q: &PlanListQuery) -> Result<Page<PlanResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    check_query_text("q", q.q.as_deref(), 200)?;
    check_query_text("code", q.code.as_deref(), 40)?;
    let sort = q.sort.unwrap_or_default();
    let cursor = page.cursor(sort_name(sort))?;
    let mut select = scoped::<plan::Entity>(org);
    if let Some(status) = q.status {
        select = select.filter(plan::Column::Status.eq(status));
    }
    if let Some(year) = q.fiscal_year {
        select = select.filter(plan::Column::FiscalYear.eq(year));
    }
    if let Some(scope) = q.policy_scope {
        select = select.filter(plan::Column::PolicyScope.eq(scope));
    }
    if let Some(code) = q.code.as_deref() {
        select = select.filter(plan::Column::Code.eq(code.trim()));
    }
    if let Some(objective) = q.objective_id {
        select = select.filter(
            plan::Column::Id.in_subquery(
                Query::select()
                    .column(plan_objective::Column::PlanId)
                    .from(plan_objective::Entity)
                    .and_where(plan_objective::Column::ObjectiveId.eq(objective))
                    .to_owned(),
            ),
        );
    }
    if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = contains_pattern(text);
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(plan::Column::Code)))
                .like(pattern.clone())
                .or(Expr::expr(Func::lower(Expr::col(plan::Column::Title))).like(pattern)),
        );
    }
    let code_tuple = || Expr::tuple([Expr::col(plan::Column::Code), Expr::col(plan::Column::PlanVersion)]);
    select = match sort {
        PlanSort::CreatedAt => {
            if let Some(c) = &cursor {
                select = select.filter(plan::Column::Id.gt(c.id));
            }
            select.order_by_asc(plan::Column::Id)
        }
        PlanSort::CreatedAtDesc => {
            if let Some(c) = &cursor {
                select = select.filter(plan::Column::Id.lt(c.id));
            }
            select.order_by_desc(plan::Column::Id)
        }
        PlanSort::Code => {
            if let Some(c) = &cursor {
                let (code, version) = code_key(c)?;
                select = select.filter(code_tuple().gt(Expr::tuple([Expr::val(code), Expr::val(version)])));
            }
            select.order_by_asc(plan::Column::Code).order_by_asc(plan::Column::PlanVersion)
        }
        PlanSort::CodeDesc => {
            if let Some(c) = &cursor {
                let (code, version) = code_key(c)?;
                select = select.filter(code_tuple().lt(Expr::tuple([Expr::val(code), Expr::val(version)])));
            }
            select.order_by_desc(plan::Column::Code).order_by_desc(plan::Column::PlanVersion)
        }
    };
    let rows = select.limit(limit + 1).all(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let mut links = objective_links(conn, &ids).await?;
    let mut figures = super::progress::plan_figures_for(conn, org, &ids).await?;
    let by_code = matches!(sort, PlanSort::Code | PlanSort::CodeDesc);
    Ok(Page::from_rows(
        rows,
        limit,
        sort_name(sort),
        |p| (by_code.then(|| json!([p.code, p.plan_version])), p.id),
        |p| {
            let objective_ids = links.remove(&p.id).unwrap_or_default();
            let computed = figures.remove(&p.id).unwrap_or_default();
            PlanResponse::new(p, objective_ids, computed)
        },
    ))
}

/// Applies a merge patch to a `draft` or `submitted` plan.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdatePlanRequest,
) -> Result<PlanResponse, ApiError> {
    let current = find_in_org::<plan::Entity>(conn, org, id).await?;
    let mut next = current.clone();
    set(&mut next.title, req.title.map(|t| t.trim().to_string()));
    set_nullable(&mut next.description, req.description.map(clean));
    set(&mut next.policy_scope, req.policy_scope);
    set_nullable(&mut next.origin, req.origin);
    set_nullable(&mut next.fiscal_year, req.fiscal_year);
    set_nullable(&mut next.start_date, req.start_date);
    set_nullable(&mut next.end_date, req.end_date);
    set_nullable(&mut next.prepared_by, req.prepared_by.map(clean));
    set_nullable(&mut next.prepared_by_role, req.prepared_by_role.map(clean));
    set_nullable(&mut next.prepared_on, req.prepared_on);
    set_nullable(&mut next.approved_by, req.approved_by.map(clean));
    set_nullable(&mut next.approval_reference, req.approval_reference.map(clean));
    set_nullable(&mut next.approved_on, req.approved_on);
    set_nullable(&mut next.budget, req.budget);
    set_nullable(&mut next.funding_source, req.funding_source);
    set_nullable(&mut next.maturity_current, req.maturity_current);
    set_nullable(&mut next.maturity_target, req.maturity_target);
    Checks::run(check, &next)?;
    let objective_ids = match &req.objective_ids {
        Some(ids) => Some(check_ids(conn, org, "objective_ids", ids).await?),
        None => None,
    };
    // Invalid input is reported before a stale version: fixing the body comes first.
    ApiError::check_version(current.version, expected_version)?;
    ensure_editable(&current)?;
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current && objective_ids.is_none() {
        return response(conn, current).await;
    }
    let before = response(conn, current.clone()).await?;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, plan::ActiveModel::from(next.clone())).await?;
    if let Some(ids) = &objective_ids {
        set_objectives(conn, org, id, ids).await?;
    }
    let after = response(conn, next).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Plan, id, AuditOperation::Update).before(&before).after(&after),
    )
    .await?;
    Ok(after)
}

/// Deletes a draft plan with its actions, categories and objective links.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let current = find_for_update(conn, org, id).await?;
    ApiError::check_version(current.version, expected_version)?;
    if current.status != PlanStatus::Draft {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!("Only draft plans can be deleted; this one is {} (cancel it instead)", current.status),
            format!("Solo se eliminan planes en borrador; este está {} (anúlelo)", current.status.label_es()),
        ));
    }
    let before = response(conn, current.clone()).await?;
    super::plan_actions::delete_all_of_plan(conn, id).await?;
    category::Entity::delete_many().filter(category::Column::PlanId.eq(id)).exec(conn).await?;
    plan_objective::Entity::delete_many().filter(plan_objective::Column::PlanId.eq(id)).exec(conn).await?;
    super::tenancy::delete_versioned::<plan::Entity>(conn, org, id, expected_version).await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::Plan, id, AuditOperation::Delete).before(&before))
        .await?;
    Ok(())
}

/// A plan of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<PlanResponse, ApiError> {
    response(conn, find_in_org::<plan::Entity>(conn, org, id).await?).await
}

/// 404 unless `org` has plan `id`.
pub async fn ensure_exists(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<(), ApiError> {
    find_in_org::<plan::Entity>(conn, org, id).await.map(|_| ())
}
