//! Action lists: filters (plan, category, state, responsible, overdue, due dates) and keyset
//! pagination on the sort key and id.
use super::actions::responses;
use super::tenancy::scoped;
use crate::dto::actions::{ActionListQuery, ActionResponse, ActionSort};
use crate::dto::pagination::{Cursor, Page, PageParams};
use crate::entities::action;
use crate::error::{ApiError, ErrorCode};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use uuid::Uuid;

fn sort_name(sort: ActionSort) -> &'static str {
    match sort {
        ActionSort::CreatedAt => "",
        ActionSort::CreatedAtDesc => "-created_at",
        ActionSort::DueDate => "due_date",
        ActionSort::DueDateDesc => "-due_date",
        ActionSort::Number => "number",
    }
}

/// Actions of `org` with filters; keyset pagination on the sort key and id.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, q: &ActionListQuery,
) -> Result<Page<ActionResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let sort = q.sort.unwrap_or_default();
    let cursor = page.cursor(sort_name(sort))?;
    let mut select = scoped::<action::Entity>(org);
    if let Some(plan_id) = q.plan_id {
        select = select.filter(action::Column::PlanId.eq(plan_id));
    }
    if let Some(category_id) = q.category_id {
        select = select.filter(action::Column::CategoryId.eq(category_id));
    }
    if let Some(status) = q.status {
        select = select.filter(action::Column::Status.eq(status));
    }
    if let Some(responsible) = q.responsible_id {
        select = select.filter(action::Column::ResponsibleId.eq(responsible));
    }
    if let Some(before) = q.due_before {
        select = select.filter(action::Column::DueDate.lt(before));
    }
    if let Some(after) = q.due_after {
        select = select.filter(action::Column::DueDate.gt(after));
    }
    if let Some(overdue) = q.overdue {
        let late = super::progress::sql::overdue_on(super::calendar::today());
        select = select.filter(if overdue { late } else { late.not() });
    }
    let key_value = |c: &Cursor| c.k.clone().ok_or_else(|| ApiError::new(ErrorCode::InvalidCursor));
    let tuple = |col: action::Column| Expr::tuple([Expr::col(col), Expr::col(action::Column::Id)]);
    select = match sort {
        ActionSort::CreatedAt => {
            if let Some(c) = &cursor {
                select = select.filter(action::Column::Id.gt(c.id));
            }
            select.order_by_asc(action::Column::Id)
        }
        ActionSort::CreatedAtDesc => {
            if let Some(c) = &cursor {
                select = select.filter(action::Column::Id.lt(c.id));
            }
            select.order_by_desc(action::Column::Id)
        }
        ActionSort::DueDate | ActionSort::DueDateDesc => {
            if let Some(c) = &cursor {
                let due: chrono::NaiveDate =
                    serde_json::from_value(key_value(c)?).map_err(|_| ApiError::new(ErrorCode::InvalidCursor))?;
                let after = Expr::tuple([Expr::val(due), Expr::val(c.id)]);
                select = select.filter(if sort == ActionSort::DueDate {
                    tuple(action::Column::DueDate).gt(after)
                } else {
                    tuple(action::Column::DueDate).lt(after)
                });
            }
            if sort == ActionSort::DueDate {
                select.order_by_asc(action::Column::DueDate).order_by_asc(action::Column::Id)
            } else {
                select.order_by_desc(action::Column::DueDate).order_by_desc(action::Column::Id)
            }
        }
        ActionSort::Number => {
            if let Some(c) = &cursor {
                let number = key_value(c)?.as_i64().ok_or_else(|| ApiError::new(ErrorCode::InvalidCursor))?;
                select =
                    select.filter(tuple(action::Column::Number).gt(Expr::tuple([Expr::val(number), Expr::val(c.id)])));
            }
            select.order_by_asc(action::Column::Number).order_by_asc(action::Column::Id)
        }
    };
    let mut rows = select.limit(limit + 1).all(conn).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = rows.last().filter(|_| more).map(|last| {
        let k = match sort {
            ActionSort::DueDate | ActionSort::DueDateDesc => Some(json!(last.due_date)),
            ActionSort::Number => Some(json!(last.number)),
            ActionSort::CreatedAt | ActionSort::CreatedAtDesc => None,
        };
        let s = Some(sort_name(sort)).filter(|s| !s.is_empty()).map(str::to_string);
        Cursor { k, id: last.id, s }.encode()
    });
    Ok(Page { items: responses(conn, rows).await?, next_cursor })
}
