//! Actions as part of their plan's lifecycle: removed with a draft plan, counted before a
//! plan closes, carried over into a new plan version.
use super::actions::{links, set_links};
use super::audit::Actor;
use super::tenancy::scoped;
use crate::entities::enums::{ComplianceResult, EffectivenessResult};
use crate::entities::{action, action_finding, action_objective, plan};
use crate::error::ApiError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Deletes every action of a draft plan with its links (the plan is being deleted).
pub async fn delete_all_of_plan(conn: &impl ConnectionTrait, plan_id: Uuid) -> Result<(), ApiError> {
    let ids: Vec<Uuid> = action::Entity::find()
        .filter(action::Column::PlanId.eq(plan_id))
        .select_only()
        .column(action::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    action_finding::Entity::delete_many()
        .filter(action_finding::Column::ActionId.is_in(ids.clone()))
        .exec(conn)
        .await?;
    action_objective::Entity::delete_many()
        .filter(action_objective::Column::ActionId.is_in(ids.clone()))
        .exec(conn)
        .await?;
    crate::entities::action_risk::Entity::delete_many()
        .filter(crate::entities::action_risk::Column::ActionId.is_in(ids.clone()))
        .exec(conn)
        .await?;
    action::Entity::update_many()
        .col_expr(action::Column::ReformulatedFromId, Expr::value(Option::<Uuid>::None))
        .filter(action::Column::PlanId.eq(plan_id))
        .exec(conn)
        .await?;
    action::Entity::delete_many().filter(action::Column::PlanId.eq(plan_id)).exec(conn).await?;
    Ok(())
}

/// Actions of `plan_id` that are not finished (planned or in progress).
pub async fn open_count(conn: &impl ConnectionTrait, plan_id: Uuid) -> Result<u64, ApiError> {
    Ok(action::Entity::find()
        .filter(action::Column::PlanId.eq(plan_id))
        .filter(super::progress::sql::open())
        .count(conn)
        .await?)
}

/// Copies the open actions (planned or in progress) of `from` into the new version `to`, with
/// their links; categories are mapped to their copies and ratings start over.
pub async fn copy_open(
    conn: &impl ConnectionTrait, actor: &Actor, from: &plan::Model, to: &plan::Model, categories: &HashMap<Uuid, Uuid>,
) -> Result<(), ApiError> {
    let open = scoped::<action::Entity>(from.organization_id)
        .filter(action::Column::PlanId.eq(from.id))
        .filter(super::progress::sql::open())
        .order_by_asc(action::Column::Number)
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = open.iter().map(|a| a.id).collect();
    let (mut findings, mut objectives) = links(conn, &ids).await?;
    let now = super::now();
    for old in open {
        let copy = action::Model {
            id: Uuid::now_v7(),
            plan_id: to.id,
            category_id: old.category_id.and_then(|c| categories.get(&c).copied()),
            compliance: ComplianceResult::Pending,
            effectiveness: EffectivenessResult::Pending,
            evaluated_by: None,
            evaluated_on: None,
            evaluation_criterion: None,
            evaluation_note: None,
            created_at: now,
            updated_at: now,
            created_by: actor.id,
            updated_by: actor.id,
            version: 1,
            ..old.clone()
        };
        action::Entity::insert(action::ActiveModel::from(copy.clone())).exec_without_returning(conn).await?;
        let f = findings.remove(&old.id).unwrap_or_default();
        let o = objectives.remove(&old.id).unwrap_or_default();
        set_links(conn, to.organization_id, copy.id, Some(&f), Some(&o)).await?;
    }
    Ok(())
}
