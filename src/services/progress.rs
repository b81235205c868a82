//! The one home of the figures computed from actions and their accepted evidence: weeks,
//! progress, open and overdue, traffic light, and the plan roll-up. Dates are judged against a
//! day the caller gives (today in Colombia, or a report's cut-off).
//!
//! Each rule is written once as a SQL expression (module [`sql`]), which the aggregates of the
//! plans, the plan report and the dashboard run over every action in the database, and once as
//! a Rust function beside it for the figures of one action in hand (action responses, the
//! SIRECI export). `tests/api/progress_rules.rs` evaluates both over a table of cases on the
//! test backend and fails when they disagree.
use crate::dto::plans::PlanFigures;
use crate::entities::enums::{ActionStatus, ReviewStatus, TrafficLight};
use crate::entities::{action, evidence};
use crate::error::ApiError;
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// The states of an action that is not finished: it can still become overdue.
pub const OPEN: [ActionStatus; 2] = [ActionStatus::Planned, ActionStatus::InProgress];

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

/// Rounds to two decimals, half away from zero (every percentage on the wire).
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Weeks between two dates, rounded half away from zero.
pub fn weeks(start: NaiveDate, due: NaiveDate) -> i64 {
    ((due - start).num_days() as f64 / 7.0).round() as i64
}

/// Whether an action in `status` is not finished (twin of [`sql::is_open`]).
pub fn is_open(status: ActionStatus) -> bool {
    OPEN.contains(&status)
}

/// Not finished and past its due date on `today` (twin of [`sql::overdue`]).
pub fn is_overdue(status: ActionStatus, due: NaiveDate, today: NaiveDate) -> bool {
    is_open(status) && due < today
}

/// Progress in percent, unrounded: accepted over target, kept within 0–100; 0 without a
/// positive target (twin of [`sql::progress_pct`]).
pub fn progress_pct(accepted: f64, target: f64) -> f64 {
    if target > 0.0 {
        (accepted * 100.0 / target).clamp(0.0, 100.0)
    } else {
        0.0
    }
}

/// The light of an action (twin of [`sql::traffic_light`]): none when cancelled; done: amber
/// when completed after its due date, else green; not finished: red when overdue, else grey.
pub fn traffic_light(
    status: ActionStatus, due: NaiveDate, completed_on: Option<NaiveDate>, today: NaiveDate,
) -> Option<TrafficLight> {
    match status {
        ActionStatus::Cancelled => None,
        ActionStatus::Done => match completed_on {
            Some(done) if done > due => Some(TrafficLight::Amber),
            _ => Some(TrafficLight::Green),
        },
        _ if is_overdue(status, due, today) => Some(TrafficLight::Red),
        _ => Some(TrafficLight::Grey),
    }
}

/// The action as it stood on `cut_off` (twin of [`sql::status_as_of`] and
/// [`sql::completed_as_of`]): one completed after the cut-off was not done yet.
pub fn as_of(a: &action::Model, cut_off: NaiveDate) -> action::Model {
    let mut then = a.clone();
    (then.status, then.completed_on) = state_as_of(a.status, a.completed_on, cut_off);
    then
}

/// The status and completion date an action had on `cut_off` (see [`as_of`]).
pub fn state_as_of(
    status: ActionStatus, completed_on: Option<NaiveDate>, cut_off: NaiveDate,
) -> (ActionStatus, Option<NaiveDate>) {
    if status == ActionStatus::Done && completed_on.is_some_and(|d| d > cut_off) {
        (ActionStatus::InProgress, None)
    } else {
        (status, completed_on)
    }
}

/// The figures of `a` given the quantity of its accepted evidence and the day judged.
pub fn action_figures(a: &action::Model, accepted_quantity: f64, today: NaiveDate) -> ActionFigures {
    ActionFigures {
        weeks: weeks(a.start_date, a.due_date),
        accepted_quantity: round2(accepted_quantity),
        progress_pct: round2(progress_pct(accepted_quantity, a.target_quantity)),
        overdue: is_overdue(a.status, a.due_date, today),
        traffic_light: traffic_light(a.status, a.due_date, a.completed_on, today),
    }
}

/// The rules as SQL expressions over any inputs: the columns of `action` in the aggregates,
/// bound values in the test that checks them against their Rust twins.
pub mod sql {
    use super::OPEN;
    use crate::entities::action;
    use crate::entities::enums::{ActionStatus, ComplianceResult, EffectivenessResult, TrafficLight};
    use chrono::NaiveDate;
    use sea_orm::sea_query::{Condition, Expr, ExprTrait, SimpleExpr};

    fn codes<const N: usize, T: Copy>(values: [T; N], code: fn(T) -> &'static str) -> [&'static str; N] {
        values.map(code)
    }

    /// The action is not finished.
    pub fn is_open(status: SimpleExpr) -> SimpleExpr {
        status.is_in(codes(OPEN, ActionStatus::code))
    }

    /// The action is not finished and its due date is before `today`.
    pub fn overdue(status: SimpleExpr, due: SimpleExpr, today: NaiveDate) -> SimpleExpr {
        is_open(status).and(due.lt(today))
    }

    /// Progress in percent, unrounded (0–100; 0 without a positive target).
    pub fn progress_pct(accepted: SimpleExpr, target: SimpleExpr) -> SimpleExpr {
        let ratio = accepted.mul(100.0).div(target.clone());
        Expr::case(target.lte(0.0), 0.0)
            .case(ratio.clone().gt(100.0), 100.0)
            .case(ratio.clone().lt(0.0), 0.0)
            .finally(ratio)
            .into()
    }

    /// The traffic-light code of the action, `NULL` when cancelled.
    pub fn traffic_light(
        status: SimpleExpr, due: SimpleExpr, completed_on: SimpleExpr, today: NaiveDate,
    ) -> SimpleExpr {
        let done = status.clone().eq(ActionStatus::Done.code());
        Expr::case(done.clone().and(completed_on.gt(due.clone())), TrafficLight::Amber.code())
            .case(done, TrafficLight::Green.code())
            .case(overdue(status.clone(), due, today), TrafficLight::Red.code())
            .case(is_open(status), TrafficLight::Grey.code())
            .into()
    }

    /// The status an action had on `cut_off` (twin of [`super::as_of`]): one completed after
    /// the cut-off was still in progress then.
    pub fn status_as_of(status: SimpleExpr, completed_on: SimpleExpr, cut_off: NaiveDate) -> SimpleExpr {
        Expr::case(done_after(status.clone(), completed_on, cut_off), ActionStatus::InProgress.code())
            .finally(status)
            .into()
    }

    /// The completion date an action had on `cut_off` (twin of [`super::as_of`]): none when it
    /// was completed after the cut-off.
    pub fn completed_as_of(status: SimpleExpr, completed_on: SimpleExpr, cut_off: NaiveDate) -> SimpleExpr {
        Expr::case(done_after(status, completed_on.clone(), cut_off), Expr::cust("NULL")).finally(completed_on).into()
    }

    fn done_after(status: SimpleExpr, completed_on: SimpleExpr, cut_off: NaiveDate) -> SimpleExpr {
        status.eq(ActionStatus::Done.code()).and(completed_on.gt(cut_off))
    }

    /// The action counts in its plan's figures (not cancelled).
    pub fn is_live(status: SimpleExpr) -> SimpleExpr {
        status.ne(ActionStatus::Cancelled.code())
    }

    /// The action's compliance has been rated.
    pub fn is_rated(compliance: SimpleExpr) -> SimpleExpr {
        compliance.ne(ComplianceResult::Pending.code())
    }

    /// The action was carried out (on time or late).
    pub fn is_met(compliance: SimpleExpr) -> SimpleExpr {
        compliance.is_in([ComplianceResult::Met.code(), ComplianceResult::MetLate.code()])
    }

    /// The action's effectiveness has been judged (`not_assessable` and pending excluded).
    pub fn is_judged(effectiveness: SimpleExpr) -> SimpleExpr {
        effectiveness.is_in([EffectivenessResult::Effective.code(), EffectivenessResult::NotEffective.code()])
    }

    /// The action removed the cause.
    pub fn is_effective(effectiveness: SimpleExpr) -> SimpleExpr {
        effectiveness.eq(EffectivenessResult::Effective.code())
    }

    /// A column of the `action` table.
    pub fn col(c: action::Column) -> SimpleExpr {
        Expr::col((action::Entity, c))
    }

    /// A filter on `action`: not finished and past due on `today`.
    pub fn overdue_on(today: NaiveDate) -> Condition {
        Condition::all().add(overdue(col(action::Column::Status), col(action::Column::DueDate), today))
    }

    /// A filter on `action`: not finished.
    pub fn open() -> Condition {
        Condition::all().add(is_open(col(action::Column::Status)))
    }
}

/// Counts and sums over the live (not cancelled, not superseded) actions of one plan: the
/// plan's figures and the report's traffic-light counts come from it.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct PlanTotals {
    /// The plan.
    pub plan_id: Uuid,
    /// Actions neither cancelled nor superseded.
    pub live: Option<i64>,
    /// Mean unrounded progress of those.
    pub progress: Option<f64>,
    /// Of those, rated for compliance.
    pub rated: Option<i64>,
    /// Of those, carried out.
    pub met: Option<i64>,
    /// Of those, judged for effectiveness.
    pub judged: Option<i64>,
    /// Of those, effective.
    pub effective: Option<i64>,
    /// Not superseded actions per light.
    pub red: Option<i64>,
    /// See `red`.
    pub amber: Option<i64>,
    /// See `red`.
    pub grey: Option<i64>,
    /// See `red`.
    pub green: Option<i64>,
}

fn pct(part: Option<i64>, whole: Option<i64>) -> Option<f64> {
    let whole = whole.unwrap_or(0);
    (whole > 0).then(|| round2(part.unwrap_or(0) as f64 / whole as f64 * 100.0))
}

impl PlanTotals {
    /// Actions per light, worst first.
    pub fn by_light(&self) -> [(TrafficLight, u64); 4] {
        let n = |v: Option<i64>| u64::try_from(v.unwrap_or(0)).unwrap_or(0);
        [
            (TrafficLight::Red, n(self.red)),
            (TrafficLight::Amber, n(self.amber)),
            (TrafficLight::Grey, n(self.grey)),
            (TrafficLight::Green, n(self.green)),
        ]
    }

    /// The plan roll-up: the mean progress rounded once, the compliance and effectiveness
    /// shares, and the worst light; all `None` without live actions.
    pub fn figures(&self) -> PlanFigures {
        if self.live.unwrap_or(0) <= 0 {
            return PlanFigures::default();
        }
        PlanFigures {
            progress_pct: self.progress.map(round2),
            compliance_pct: pct(self.met, self.rated),
            effectiveness_pct: pct(self.effective, self.judged),
            traffic_light: self.by_light().into_iter().find(|(_, n)| *n > 0).map(|(light, _)| light),
        }
    }
}

/// The totals of each of `plans` of `org` as of `today`, in one aggregate grouped by plan (a
/// plan without actions is absent). Actions superseded by a reformulation are left out: their
/// successors count for them (`reformulation`).
pub async fn plan_totals(
    conn: &impl ConnectionTrait, org: Uuid, plans: &[Uuid], today: NaiveDate,
) -> Result<HashMap<Uuid, PlanTotals>, ApiError> {
    totals(conn, org, plans, today, None).await
}

/// The totals of each of `plans` of `org` as they stood on `cut_off` (a reporting period's
/// snapshot): only evidence whose cut-off date is on or before it counts, and an action
/// completed after it is judged as still in progress ([`as_of`]).
pub async fn plan_totals_until(
    conn: &impl ConnectionTrait, org: Uuid, plans: &[Uuid], cut_off: NaiveDate,
) -> Result<HashMap<Uuid, PlanTotals>, ApiError> {
    totals(conn, org, plans, cut_off, Some(cut_off)).await
}

async fn totals(
    conn: &impl ConnectionTrait, org: Uuid, plans: &[Uuid], today: NaiveDate, until: Option<NaiveDate>,
) -> Result<HashMap<Uuid, PlanTotals>, ApiError> {
    if plans.is_empty() {
        return Ok(HashMap::new());
    }
    let of_plans = action::Column::OrganizationId.eq(org).and(action::Column::PlanId.is_in(plans.to_vec()));
    let accepted_alias = Alias::new("e");
    let quantity = Alias::new("q");
    let actions_of_plans =
        Query::select().column(action::Column::Id).from(action::Entity).and_where(of_plans.clone()).to_owned();
    let mut accepted = Query::select()
        .column(evidence::Column::ActionId)
        .expr_as(Func::sum(Expr::col(evidence::Column::ReportedQuantity)), quantity.clone())
        .from(evidence::Entity)
        .and_where(evidence::Column::ReviewStatus.eq(ReviewStatus::Accepted))
        .and_where(evidence::Column::OrganizationId.eq(org))
        .and_where(evidence::Column::ActionId.in_subquery(actions_of_plans))
        .group_by_col(evidence::Column::ActionId)
        .to_owned();
    if let Some(cut_off) = until {
        accepted.and_where(evidence::Column::CutOffDate.lte(cut_off));
    }

    let col = sql::col;
    let completed = || match until {
        Some(cut_off) => sql::completed_as_of(col(action::Column::Status), col(action::Column::CompletedOn), cut_off),
        None => col(action::Column::CompletedOn),
    };
    let status = || match until {
        Some(cut_off) => sql::status_as_of(col(action::Column::Status), col(action::Column::CompletedOn), cut_off),
        None => col(action::Column::Status),
    };
    let live = || sql::is_live(status());
    let count_if = |cond: Expr| Func::sum(Expr::case(cond, 1).finally(0));
    let light = sql::traffic_light(status(), col(action::Column::DueDate), completed(), today);
    let accepted_quantity = Func::coalesce([Expr::col((accepted_alias.clone(), quantity)), Expr::val(0.0)]);
    let progress = sql::progress_pct(accepted_quantity.into(), col(action::Column::TargetQuantity));
    let mut query = Query::select();
    query
        .expr_as(col(action::Column::PlanId), Alias::new("plan_id"))
        .expr_as(count_if(live()), Alias::new("live"))
        .expr_as(
            Func::cast_as(Func::avg(Expr::case(live(), progress)), Alias::new("DOUBLE PRECISION")),
            Alias::new("progress"),
        )
        .expr_as(count_if(live().and(sql::is_rated(col(action::Column::Compliance)))), Alias::new("rated"))
        .expr_as(count_if(live().and(sql::is_met(col(action::Column::Compliance)))), Alias::new("met"))
        .expr_as(count_if(live().and(sql::is_judged(col(action::Column::Effectiveness)))), Alias::new("judged"))
        .expr_as(count_if(live().and(sql::is_effective(col(action::Column::Effectiveness)))), Alias::new("effective"));
    for l in [TrafficLight::Red, TrafficLight::Amber, TrafficLight::Grey, TrafficLight::Green] {
        query.expr_as(count_if(light.clone().eq(l.code())), Alias::new(l.code()));
    }
    query
        .from(action::Entity)
        .join_subquery(
            JoinType::LeftJoin,
            accepted,
            accepted_alias.clone(),
            Expr::col((accepted_alias, evidence::Column::ActionId)).equals((action::Entity, action::Column::Id)),
        )
        .and_where(of_plans)
        .and_where(super::reformulation::not_superseded(org))
        .group_by_col((action::Entity, action::Column::PlanId));
    let stmt = conn.get_database_backend().build(&query);
    let rows = PlanTotals::find_by_statement(stmt).all(conn).await?;
    Ok(rows.into_iter().map(|t| (t.plan_id, t)).collect())
}

/// The figures of each of `plans` of `org` today (plans without actions get all-`None` figures).
pub async fn plan_figures_for(
    conn: &impl ConnectionTrait, org: Uuid, plans: &[Uuid],
) -> Result<HashMap<Uuid, PlanFigures>, ApiError> {
    let totals = plan_totals(conn, org, plans, super::calendar::today()).await?;
    Ok(totals.into_iter().map(|(id, t)| (id, t.figures())).collect())
}

/// Accepted evidence quantity per action, for the actions `filter` keeps.
async fn accepted_for(
    conn: &impl ConnectionTrait, filter: sea_orm::sea_query::SimpleExpr,
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
    conn: &impl ConnectionTrait, actions: &[Uuid],
) -> Result<HashMap<Uuid, f64>, ApiError> {
    if actions.is_empty() {
        return Ok(HashMap::new());
    }
    accepted_for(conn, evidence::Column::ActionId.is_in(actions.to_vec())).await
}

/// Sums of accepted quantities of `actions`, counting only evidence whose cut-off date is on
/// or before `cut_off` (the progress as of that date).
pub async fn accepted_quantities_until(
    conn: &impl ConnectionTrait, actions: &[Uuid], cut_off: NaiveDate,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(traffic_light(ActionStatus::InProgress, today, None, today), Some(TrafficLight::Grey));
        assert_eq!(traffic_light(ActionStatus::Planned, yesterday, None, today), Some(TrafficLight::Red));
        assert_eq!(traffic_light(ActionStatus::Done, yesterday, Some(yesterday), today), Some(TrafficLight::Green));
        assert_eq!(traffic_light(ActionStatus::Done, yesterday, Some(today), today), Some(TrafficLight::Amber));
        assert_eq!(traffic_light(ActionStatus::Cancelled, yesterday, None, today), None);
        assert_eq!(round2(progress_pct(9.0, 4.0)), 100.0);
        assert_eq!(round2(progress_pct(1.0, 4.0)), 25.0);
    }
}
