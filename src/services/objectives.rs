//! PEI/PETI strategic objectives of an organization, and checks of the ids that link to them.
use super::audit::{self, Actor, Entry};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::objectives::{CreateObjectiveRequest, ObjectiveListQuery, ObjectiveResponse, UpdateObjectiveRequest};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::validate::Checks;
use crate::entities::enums::{AuditOperation, AuditResource};
use crate::entities::{action_objective, objective, plan_objective};
use crate::error::{ApiError, ErrorCode};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

/// Trims a text and drops it when blank.
pub fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// 400 for query text the database cannot hold (NUL) or that is too long.
pub fn check_query_text(name: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.contains('\0') || v.chars().count() > max => Err(ApiError::new(ErrorCode::InvalidQuery).detail(
            format!("{name} must have at most {max} characters and no NUL"),
            format!("{name} debe tener como máximo {max} caracteres y ningún NUL"),
        )),
        _ => Ok(()),
    }
}

/// A `LIKE` pattern matching `text` anywhere, case-insensitively (wildcards in `text` are dropped).
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", text.trim().to_lowercase().replace(['\\', '%', '_'], ""))
}

fn check(c: &mut Checks, m: &objective::Model) {
    c.text("code", &m.code, 40);
    c.text("title", &m.title, 500);
    c.optional_text("description", m.description.as_deref(), 10_000);
    c.range("period_start", m.period_start, 2000, 2100);
    c.range("period_end", m.period_end, 2000, 2100);
    if let (Some(start), Some(end)) = (m.period_start, m.period_end) {
        if end < start {
            c.push("period_end", "before_start", "must not be before period_start");
        }
    }
}

fn taken(err: sea_orm::DbErr) -> ApiError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        ApiError::field("code", "taken", "another objective of this source has this code")
            .with_code(ErrorCode::AlreadyExists)
    } else {
        err.into()
    }
}

/// Creates an objective.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateObjectiveRequest,
) -> Result<objective::Model, ApiError> {
    let now = super::now();
    let model = objective::Model {
        id: Uuid::now_v7(),
        source: req.source,
        code: req.code.trim().to_string(),
        title: req.title.trim().to_string(),
        description: clean(req.description),
        period_start: req.period_start,
        period_end: req.period_end,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    Checks::run(check, &model)?;
    objective::Entity::insert(objective::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await
        .map_err(taken)?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Objective, model.id, AuditOperation::Create)
            .after(&ObjectiveResponse::from(model.clone())),
    )
    .await?;
    Ok(model)
}

/// Objectives of `org`, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, q: &ObjectiveListQuery,
) -> Result<Page<ObjectiveResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    check_query_text("q", q.q.as_deref(), 200)?;
    let mut select = scoped::<objective::Entity>(org).order_by_asc(objective::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(objective::Column::Id.gt(cursor.id));
    }
    if let Some(source) = q.source {
        select = select.filter(objective::Column::Source.eq(source));
    }
    if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = contains_pattern(text);
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(objective::Column::Code)))
                .like(pattern.clone())
                .or(Expr::expr(Func::lower(Expr::col(objective::Column::Title))).like(pattern)),
        );
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |o| (None, o.id), ObjectiveResponse::from))
}

/// Applies a merge patch.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateObjectiveRequest,
) -> Result<objective::Model, ApiError> {
    let current = find_in_org::<objective::Entity>(conn, org, id).await?;
    let mut next = current.clone();
    crate::dto::patch::set(&mut next.source, req.source);
    crate::dto::patch::set(&mut next.code, req.code.map(|t| t.trim().to_string()));
    crate::dto::patch::set(&mut next.title, req.title.map(|t| t.trim().to_string()));
    crate::dto::patch::set_nullable(&mut next.description, req.description.map(clean));
    crate::dto::patch::set_nullable(&mut next.period_start, req.period_start);
    crate::dto::patch::set_nullable(&mut next.period_end, req.period_end);
    Checks::run(check, &next)?;
    ApiError::check_version(current.version, expected_version)?;
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current {
        return Ok(current);
    }
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, objective::ActiveModel::from(next.clone())).await.map_err(
        |e| {
            if e.code == ErrorCode::AlreadyExists {
                ApiError::field("code", "taken", "another objective of this source has this code")
                    .with_code(ErrorCode::AlreadyExists)
            } else {
                e
            }
        },
    )?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Objective, id, AuditOperation::Update)
            .before(&ObjectiveResponse::from(current))
            .after(&ObjectiveResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

/// Deletes an objective that no plan or action links to.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let current = find_in_org::<objective::Entity>(conn, org, id).await?;
    ApiError::check_version(current.version, expected_version)?;
    let links = plan_objective::Entity::find().filter(plan_objective::Column::ObjectiveId.eq(id)).count(conn).await?
        + action_objective::Entity::find().filter(action_objective::Column::ObjectiveId.eq(id)).count(conn).await?;
    if links > 0 {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "Plans or actions are linked to this objective; unlink them first",
            "Hay planes o acciones vinculados a este objetivo; desvincúlelos primero",
        ));
    }
    super::tenancy::delete_versioned::<objective::Entity>(conn, org, id, expected_version).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Objective, id, AuditOperation::Delete).before(&ObjectiveResponse::from(current)),
    )
    .await?;
    Ok(())
}

/// The distinct ids of `ids`, in order, after checking each is an objective of `org`; the
/// error names `field`.
pub async fn check_ids(
    conn: &impl ConnectionTrait, org: Uuid, field: &str, ids: &[Uuid],
) -> Result<Vec<Uuid>, ApiError> {
    super::tenancy::check_ids::<objective::Entity>(conn, org, field, "unknown_objective", ids).await
}

/// An objective of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<ObjectiveResponse, ApiError> {
    Ok(find_in_org::<objective::Entity>(conn, org, id).await?.into())
}
