//! Scored categories of a plan. They change only while their plan is `draft` or `submitted`;
//! every change locks the plan row (PostgreSQL) so it cannot interleave with a transition.
use super::audit::{self, Actor, Entry};
use super::objectives::clean;
use super::plans::{ensure_editable, find_for_update};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::categories::{CategoryListQuery, CategoryResponse, CreateCategoryRequest, UpdateCategoryRequest};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::patch::{set, set_nullable};
use crate::dto::validate::Checks;
use crate::entities::category::{self, ControlRefs, Texts};
use crate::entities::enums::{AuditOperation, AuditResource, ControlFramework};
use crate::entities::plan;
use crate::error::{ApiError, ErrorCode};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// Controls per theme of ISO/IEC 27001:2022 Annex A (5 organizational, 6 people, 7 physical, 8 technological).
const ANNEX_A: &[(u32, u32)] = &[(5, 37), (6, 8), (7, 14), (8, 34)];

/// The Annex A control id in canonical form (`5.15`), accepting an `A.` prefix; `None` if no such control.
pub fn annex_a_control(code: &str) -> Option<String> {
    let code = code.trim();
    let bare = code.strip_prefix("A.").or_else(|| code.strip_prefix("a.")).unwrap_or(code);
    let (theme, number) = bare.split_once('.')?;
    let (theme, number): (u32, u32) = (theme.parse().ok()?, number.parse().ok()?);
    ANNEX_A.iter().any(|(t, last)| *t == theme && (1..=*last).contains(&number)).then(|| format!("{theme}.{number}"))
}

/// Rounds a score to two decimals. A value outside 0–100 is kept as sent, so the range check
/// refuses it (rounding `-1e-110` would give `-0.0`, and `100.0000001` would give `100`).
fn round_score(score: Option<f64>) -> Option<f64> {
    score.map(|s| if (0.0..=100.0).contains(&s) { (s * 100.0).round() / 100.0 } else { s })
}

/// Normalizes texts and references (trims, canonical Annex A ids) before checks.
fn normalize(m: &mut category::Model) {
    m.name = m.name.trim().to_string();
    m.score = round_score(m.score);
    m.previous_score = round_score(m.previous_score);
    m.target_score = round_score(m.target_score);
    m.improvement_alternatives = Texts(m.improvement_alternatives.0.iter().map(|t| t.trim().to_string()).collect());
    m.effectiveness_criterion = clean(m.effectiveness_criterion.take());
    for r in &mut m.control_refs.0 {
        r.code = r.code.trim().to_string();
        r.label = clean(r.label.take());
        if r.framework == ControlFramework::Iso27001 {
            if let Some(canonical) = annex_a_control(&r.code) {
                r.code = canonical;
            }
        }
    }
}

fn check(c: &mut Checks, m: &category::Model) {
    c.text("name", &m.name, 500);
    for (field, value) in [("score", m.score), ("previous_score", m.previous_score), ("target_score", m.target_score)] {
        if value.is_some_and(|v| !v.is_finite()) {
            c.push(field, "out_of_range", "must be between 0 and 100");
        } else {
            c.range(field, value, 0.0, 100.0);
        }
    }
    c.range("position", Some(m.position), 1, 100_000);
    if m.improvement_alternatives.0.len() > 200 {
        c.push("improvement_alternatives", "too_many", "at most 200 alternatives");
    }
    for (i, text) in m.improvement_alternatives.0.iter().enumerate() {
        c.text(&format!("improvement_alternatives[{i}]"), text, 20_000);
    }
    c.optional_text("effectiveness_criterion", m.effectiveness_criterion.as_deref(), 2000);
    if m.control_refs.0.len() > 200 {
        c.push("control_refs", "too_many", "at most 200 references");
    }
    for (i, r) in m.control_refs.0.iter().enumerate() {
        let field = format!("control_refs[{i}].code");
        c.text(&field, &r.code, 100);
        if r.framework == ControlFramework::Iso27001 && annex_a_control(&r.code).is_none() {
            c.push(
                &field,
                "unknown_control",
                "not an ISO/IEC 27001:2022 Annex A control (5.1–5.37, 6.1–6.8, 7.1–7.14, 8.1–8.34)",
            );
        }
        c.optional_text(&format!("control_refs[{i}].label"), r.label.as_deref(), 300);
    }
}

async fn next_position(conn: &impl ConnectionTrait, plan_id: Uuid) -> Result<i32, ApiError> {
    let last: Option<i32> = category::Entity::find()
        .filter(category::Column::PlanId.eq(plan_id))
        .select_only()
        .column_as(category::Column::Position.max(), "last")
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten();
    Ok(last.unwrap_or(0) + 1)
}

/// Adds a category to a `draft` or `submitted` plan.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, plan_id: Uuid, req: CreateCategoryRequest,
) -> Result<category::Model, ApiError> {
    let owner = find_for_update(conn, org, plan_id).await?;
    let now = super::now();
    let mut model = category::Model {
        id: Uuid::now_v7(),
        plan_id,
        position: req.position.unwrap_or(1),
        name: req.name,
        source: req.source,
        indicator_kind: req.indicator_kind,
        score: req.score,
        previous_score: req.previous_score,
        target_score: req.target_score,
        improvement_alternatives: Texts(req.improvement_alternatives),
        effectiveness_criterion: req.effectiveness_criterion,
        control_refs: ControlRefs(req.control_refs),
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    normalize(&mut model);
    Checks::run(check, &model)?;
    ensure_editable(&owner)?;
    if req.position.is_none() {
        model.position = next_position(conn, plan_id).await?;
    }
    category::Entity::insert(category::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Category, model.id, AuditOperation::Create)
            .after(&CategoryResponse::from(model.clone())),
    )
    .await?;
    Ok(model)
}

/// Categories of a plan in plan order (position, then creation); keyset on `(plan_id, position, id)`.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, q: &CategoryListQuery,
) -> Result<Page<CategoryResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    find_in_org::<plan::Entity>(conn, org, plan_id).await?;
    let mut select = scoped::<category::Entity>(org).filter(category::Column::PlanId.eq(plan_id));
    if let Some(cursor) = page.cursor("position")? {
        let position = cursor
            .k
            .as_ref()
            .and_then(|k| k.as_i64())
            .and_then(|k| i32::try_from(k).ok())
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidCursor))?;
        select = select.filter(
            Expr::tuple([Expr::col(category::Column::Position), Expr::col(category::Column::Id)])
                .gt(Expr::tuple([Expr::val(position), Expr::val(cursor.id)])),
        );
    }
    if let Some(source) = q.source {
        select = select.filter(category::Column::Source.eq(source));
    }
    let rows = select
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    Ok(Page::from_rows(rows, limit, "position", |m| (Some(json!(m.position)), m.id), CategoryResponse::from))
}

/// Applies a merge patch to a category of a `draft` or `submitted` plan.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateCategoryRequest,
) -> Result<category::Model, ApiError> {
    let current = find_in_org::<category::Entity>(conn, org, id).await?;
    let owner = find_for_update(conn, org, current.plan_id).await?;
    let mut next = current.clone();
    set(&mut next.name, req.name);
    set(&mut next.source, req.source);
    set_nullable(&mut next.indicator_kind, req.indicator_kind);
    set_nullable(&mut next.score, req.score);
    set_nullable(&mut next.previous_score, req.previous_score);
    set_nullable(&mut next.target_score, req.target_score);
    set(&mut next.improvement_alternatives, req.improvement_alternatives.map(Texts));
    set_nullable(&mut next.effectiveness_criterion, req.effectiveness_criterion);
    set(&mut next.control_refs, req.control_refs.map(ControlRefs));
    set(&mut next.position, req.position);
    normalize(&mut next);
    Checks::run(check, &next)?;
    ApiError::check_version(current.version, expected_version)?;
    ensure_editable(&owner)?;
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current {
        return Ok(current);
    }
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, category::ActiveModel::from(next.clone())).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Category, id, AuditOperation::Update)
            .before(&CategoryResponse::from(current))
            .after(&CategoryResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

/// Deletes a category of a `draft` or `submitted` plan.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let current = find_in_org::<category::Entity>(conn, org, id).await?;
    let owner = find_for_update(conn, org, current.plan_id).await?;
    ApiError::check_version(current.version, expected_version)?;
    ensure_editable(&owner)?;
    super::tenancy::delete_versioned::<category::Entity>(conn, org, id, expected_version).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Category, id, AuditOperation::Delete).before(&CategoryResponse::from(current)),
    )
    .await?;
    Ok(())
}

/// Copies every category of `from` into `to` (a new version); returns old id → new id.
pub async fn copy_all(
    conn: &impl ConnectionTrait, actor: &Actor, from: &plan::Model, to: &plan::Model,
) -> Result<HashMap<Uuid, Uuid>, ApiError> {
    let rows = scoped::<category::Entity>(from.organization_id)
        .filter(category::Column::PlanId.eq(from.id))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(conn)
        .await?;
    let now = super::now();
    let mut ids = HashMap::with_capacity(rows.len());
    let mut copies = Vec::with_capacity(rows.len());
    for old in rows {
        let copy = category::Model {
            id: Uuid::now_v7(),
            plan_id: to.id,
            created_at: now,
            updated_at: now,
            created_by: actor.id,
            updated_by: actor.id,
            version: 1,
            ..old.clone()
        };
        ids.insert(old.id, copy.id);
        copies.push(category::ActiveModel::from(copy));
    }
    for chunk in copies.chunks(200) {
        category::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
    }
    Ok(ids)
}

/// A category of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<CategoryResponse, ApiError> {
    Ok(find_in_org::<category::Entity>(conn, org, id).await?.into())
}

#[cfg(test)]
mod tests {
    use super::annex_a_control;

    #[test]
    fn annex_a_controls_of_the_2022_edition_are_recognised() {
        assert_eq!(annex_a_control("A.5.15").as_deref(), Some("5.15"));
        assert_eq!(annex_a_control("8.34").as_deref(), Some("8.34"));
        assert_eq!(annex_a_control("7.14").as_deref(), Some("7.14"));
        for unknown in ["5.38", "6.9", "8.35", "4.1", "A.12.6.1", "5", "5.0", "x.1"] {
            assert_eq!(annex_a_control(unknown), None, "{unknown}");
        }
    }
}
