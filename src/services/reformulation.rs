//! Reformulation chains: an action rated not effective and reformulated is *superseded*; from
//! then on it is judged through its successor, and through the successor's successor when that
//! one was reformulated too. This module is the one home of that rule: the finding's closure
//! rules, the plan figures, the plan report and the dashboard all ask it.
use crate::entities::action;
use crate::error::ApiError;
use sea_orm::sea_query::{Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Ids of the actions of `org` that a reformulation supersedes.
fn superseded_ids(org: Uuid) -> SelectStatement {
    Query::select()
        .column(action::Column::ReformulatedFromId)
        .from(action::Entity)
        .and_where(action::Column::OrganizationId.eq(org))
        .and_where(action::Column::ReformulatedFromId.is_not_null())
        .to_owned()
}

/// A filter keeping the actions of `org` that no reformulation supersedes.
pub fn not_superseded(org: Uuid) -> SimpleExpr {
    action::Column::Id.not_in_subquery(superseded_ids(org))
}

/// The actions of `actions` that another action of the same list reformulates (a reformulation
/// always lives in the plan of the action it replaces).
pub fn superseded_among(actions: &[&action::Model]) -> HashSet<Uuid> {
    actions.iter().filter_map(|a| a.reformulated_from_id).collect()
}

/// The actions that judge `actions`: each action stands for itself unless it was reformulated,
/// in which case the last actions of its chain stand for it (all of them, when a plan version
/// copied the successor). Each judged action appears once, in the order first reached.
pub async fn judged(
    conn: &impl ConnectionTrait, org: Uuid, actions: Vec<action::Model>,
) -> Result<Vec<action::Model>, ApiError> {
    let mut seen: HashSet<Uuid> = actions.iter().map(|a| a.id).collect();
    let mut frontier = actions;
    let mut out = Vec::new();
    // Each round replaces the superseded actions of the frontier by their successors; the
    // `seen` set ends the walk even if the data held a cycle.
    while !frontier.is_empty() {
        let ids: Vec<Uuid> = frontier.iter().map(|a| a.id).collect();
        let successors = action::Entity::find()
            .filter(action::Column::OrganizationId.eq(org))
            .filter(action::Column::ReformulatedFromId.is_in(ids))
            .all(conn)
            .await?;
        let mut by_parent: HashMap<Uuid, Vec<action::Model>> = HashMap::new();
        for s in successors {
            if let Some(parent) = s.reformulated_from_id {
                by_parent.entry(parent).or_default().push(s);
            }
        }
        let mut next = Vec::new();
        for a in frontier {
            match by_parent.remove(&a.id) {
                Some(children) => {
                    next.extend(children.into_iter().filter(|c| seen.insert(c.id)));
                }
                None => out.push(a),
            }
        }
        frontier = next;
    }
    Ok(out)
}
