//! Figures computed from actions and their accepted evidence: weeks, progress, overdue flag,
//! traffic light, and the plan roll-up. Dates are judged against today in Colombia.
use crate::dto::plans::PlanFigures;
use crate::entities::enums::{ActionStatus, ComplianceResult, EffectivenessResult, ReviewStatus, TrafficLight};
use crate::entities::{action, evidence};
use crate::error::ApiError;
use chrono::NaiveDate;
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// What is computed for one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionFigures {
    /// Duration in weeks: `(due_date − start_date) / 7`, rounded half away from zero.
    pub weeks: i64,
    /// Sum of the quantities of accepted evidence.
    pub accepted_quantity: f64,
    /// `accepted_quantity ÷ target_quantity × 100`, capped at 100, two decimals.
    pub progress_pct: f64,
    /// Not finished (planned or in progress) and its due date has passed.
    pub overdue: bool,
    /// Green done on time, amber done late, red overdue, grey neither; `None` when cancelled.
    pub traffic_light: Option<TrafficLight>,
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Weeks between two dates, rounded half away from zero.
pub fn weeks(start: NaiveDate, due: NaiveDate) -> i64 {
    ((due - start).num_days() as f64 / 7.0).round() as i64
}

/// The figures of `a` given the quantity of its accepted evidence and today's date.
pub fn action_figures(a: &action::Model, accepted_quantity: f64, today: NaiveDate) -> ActionFigures {
    let progress = if a.target_quantity > 0.0 { accepted_quantity / a.target_quantity * 100.0 } else { 0.0 };
    let open = matches!(a.status, ActionStatus::Planned | ActionStatus::InProgress);
    let overdue = open && a.due_date < today;
    let traffic_light = match a.status {
        ActionStatus::Cancelled => None,
        ActionStatus::Done => match a.completed_on {
            Some(done) if done > a.due_date => Some(TrafficLight::Amber),
            _ => Some(TrafficLight::Green),
        },
        _ if overdue => Some(TrafficLight::Red),
        _ => Some(TrafficLight::Grey),
    };
    ActionFigures {
        weeks: weeks(a.start_date, a.due_date),
        accepted_quantity: round2(accepted_quantity),
        progress_pct: round2(progress.clamp(0.0, 100.0)),
        overdue,
        traffic_light,
    }
}

fn severity(light: TrafficLight) -> u8 {
    match light {
        TrafficLight::Red => 3,
        TrafficLight::Amber => 2,
        TrafficLight::Grey => 1,
        TrafficLight::Green => 0,
    }
}

fn pct(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| round2(part as f64 / whole as f64 * 100.0))
}

/// The plan roll-up over its actions that are neither cancelled nor superseded by a
/// reformulation (the successor counts instead); all `None` when there are none.
pub fn plan_figures(actions: &[(&action::Model, ActionFigures)]) -> PlanFigures {
    let superseded = super::reformulation::superseded_among(&actions.iter().map(|(a, _)| *a).collect::<Vec<_>>());
    let live: Vec<&(&action::Model, ActionFigures)> =
        actions.iter().filter(|(a, _)| a.status != ActionStatus::Cancelled && !superseded.contains(&a.id)).collect();
    if live.is_empty() {
        return PlanFigures::default();
    }
    let progress = live.iter().map(|(_, f)| f.progress_pct).sum::<f64>() / live.len() as f64;
    let rated = live.iter().filter(|(a, _)| a.compliance != ComplianceResult::Pending).count();
    let met =
        live.iter().filter(|(a, _)| matches!(a.compliance, ComplianceResult::Met | ComplianceResult::MetLate)).count();
    let judged = live
        .iter()
        .filter(|(a, _)| matches!(a.effectiveness, EffectivenessResult::Effective | EffectivenessResult::NotEffective))
        .count();
    let effective = live.iter().filter(|(a, _)| a.effectiveness == EffectivenessResult::Effective).count();
    let light = live.iter().filter_map(|(_, f)| f.traffic_light).max_by_key(|l| severity(*l));
    PlanFigures {
        progress_pct: Some(round2(progress)),
        compliance_pct: pct(met, rated),
        effectiveness_pct: pct(effective, judged),
        traffic_light: light,
    }
}

/// Accepted evidence quantity per action, for the actions `select` returns (a subquery of ids).
async fn accepted_for(
    conn: &impl ConnectionTrait,
    filter: sea_orm::sea_query::SimpleExpr,
) -> Result<HashMap<Uuid, f64>, ApiError> {
    let rows: Vec<(Uuid, Option<f64>)> = evidence::Entity::find()
        .select_only()
        .column(evidence::Column::ActionId)
        .column_as(evidence::Column::ReportedQuantity.sum(), "quantity")
        .filter(evidence::Column::ReviewStatus.eq(ReviewStatus::Accepted))
        .filter(filter)
        .group_by(evidence::Column::ActionId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id, q)| (id, q.unwrap_or(0.0))).collect())
}

/// Accepted evidence quantity of each of `actions`.
pub async fn accepted_quantities(
    conn: &impl ConnectionTrait,
    actions: &[Uuid],
) -> Result<HashMap<Uuid, f64>, ApiError> {
    if actions.is_empty() {
        return Ok(HashMap::new());
    }
    accepted_for(conn, evidence::Column::ActionId.is_in(actions.to_vec())).await
}

/// Sums of accepted quantities of `actions`, counting only evidence whose cut-off date is on
/// or before `cut_off` (the progress as of that date).
pub async fn accepted_quantities_until(
    conn: &impl ConnectionTrait,
    actions: &[Uuid],
    cut_off: NaiveDate,
) -> Result<HashMap<Uuid, f64>, ApiError> {
    if actions.is_empty() {
        return Ok(HashMap::new());
    }
    accepted_for(
        conn,
        evidence::Column::ActionId.is_in(actions.to_vec()).and(evidence::Column::CutOffDate.lte(cut_off)),
    )
    .await
}

/// The figures of each of `plans` (plans without actions get all-`None` figures).
pub async fn plan_figures_for(
    conn: &impl ConnectionTrait,
    plans: &[Uuid],
) -> Result<HashMap<Uuid, PlanFigures>, ApiError> {
    let mut figures = HashMap::new();
    if plans.is_empty() {
        return Ok(figures);
    }
    let actions = action::Entity::find().filter(action::Column::PlanId.is_in(plans.to_vec())).all(conn).await?;
    if actions.is_empty() {
        return Ok(figures);
    }
    let ids_of_plans = Query::select()
        .column(action::Column::Id)
        .from(action::Entity)
        .and_where(action::Column::PlanId.is_in(plans.to_vec()))
        .to_owned();
    let accepted = accepted_for(conn, evidence::Column::ActionId.in_subquery(ids_of_plans)).await?;
    let today = super::calendar::today();
    let mut by_plan: HashMap<Uuid, Vec<(&action::Model, ActionFigures)>> = HashMap::new();
    for a in &actions {
        let f = action_figures(a, accepted.get(&a.id).copied().unwrap_or(0.0), today);
        by_plan.entry(a.plan_id).or_default().push((a, f));
    }
    for (plan, list) in by_plan {
        figures.insert(plan, plan_figures(&list));
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::enums::{ActionFocus, ActionType};

    fn action(status: ActionStatus, due: NaiveDate, completed_on: Option<NaiveDate>) -> action::Model {
        let now = chrono::Utc::now();
        action::Model {
            id: Uuid::now_v7(),
            plan_id: Uuid::now_v7(),
            category_id: None,
            number: 1,
            action_type: ActionType::Corrective,
            focus: ActionFocus::Corrective,
            title: "x".into(),
            description: None,
            goal: None,
            unit: None,
            target_quantity: 4.0,
            responsible_id: None,
            responsible_unit: None,
            start_date: due - chrono::Duration::days(70),
            due_date: due,
            status,
            completed_on,
            compliance: ComplianceResult::Pending,
            effectiveness: EffectivenessResult::Pending,
            evaluated_by: None,
            evaluated_on: None,
            evaluation_criterion: None,
            evaluation_note: None,
            reformulated_from_id: None,
            reformulation_reason: None,
            resources: None,
            estimated_cost: None,
            organization_id: Uuid::nil(),
            created_at: now,
            updated_at: now,
            created_by: None,
            updated_by: None,
            version: 1,
        }
    }

    #[test]
    fn weeks_round_half_away_from_zero() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(weeks(d("2024-08-01"), d("2027-12-31")), 178);
        assert_eq!(weeks(d("2025-01-01"), d("2025-01-05")), 1);
        assert_eq!(weeks(d("2025-01-01"), d("2025-01-04")), 0);
    }

    #[test]
    fn lights_change_at_the_due_date() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        let yesterday = today.pred_opt().unwrap();
        let light = |a: action::Model| action_figures(&a, 0.0, today).traffic_light;
        assert_eq!(light(action(ActionStatus::InProgress, today, None)), Some(TrafficLight::Grey));
        assert_eq!(light(action(ActionStatus::Planned, yesterday, None)), Some(TrafficLight::Red));
        assert_eq!(light(action(ActionStatus::Done, yesterday, Some(yesterday))), Some(TrafficLight::Green));
        assert_eq!(light(action(ActionStatus::Done, yesterday, Some(today))), Some(TrafficLight::Amber));
        assert_eq!(light(action(ActionStatus::Cancelled, yesterday, None)), None);
        assert_eq!(action_figures(&action(ActionStatus::Done, today, None), 9.0, today).progress_pct, 100.0);
        assert_eq!(action_figures(&action(ActionStatus::Done, today, None), 1.0, today).progress_pct, 25.0);
    }
}
