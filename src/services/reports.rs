//! Progress reports: a plan's report and the organization's dashboard. Every figure is a SQL
//! aggregate (GROUP BY / COUNT / SUM / AVG) that runs the same on PostgreSQL and SQLite; only
//! the rows a report lists (categories, overdue actions, objectives) are read as rows.
use super::reformulation;
use super::tenancy::{find_in_org, scoped};
use super::{calendar, progress};
use crate::dto::reports::{
    ActionStatusCount, CategoryReport, Dashboard, FindingCoverage, FindingStatusCount, ObjectiveServed,
    OldestOpenFinding, OverdueAction, PlanReport, PlanStatusCount, SeverityCount, TrafficLightCount,
};
use crate::entities::enums::{ActionStatus, FindingStatus, PlanStatus, ReviewStatus, Severity};
use crate::entities::{
    action, action_finding, action_objective, category, evidence, finding, objective, plan, plan_objective,
};
use crate::error::ApiError;
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

const OPEN_FINDINGS: [FindingStatus; 3] = [FindingStatus::Open, FindingStatus::InTreatment, FindingStatus::Reopened];

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

// Findings a plan covers: those assigned to the plan and those linked to one of its actions,
// each once. A UNION of two index walks; an `OR … IN (subquery)` would scan every finding.
async fn coverage(conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid) -> Result<FindingCoverage, ApiError> {
    let u = Alias::new("u");
    let mut assigned = Query::select()
        .column((finding::Entity, finding::Column::Id))
        .column((finding::Entity, finding::Column::Status))
        .from(finding::Entity)
        .and_where(finding::Column::OrganizationId.eq(org))
        .and_where(finding::Column::PlanId.eq(plan_id))
        .to_owned();
    let linked = Query::select()
        .column((finding::Entity, finding::Column::Id))
        .column((finding::Entity, finding::Column::Status))
        .from(action::Entity)
        .inner_join(
            action_finding::Entity,
            Expr::col((action_finding::Entity, action_finding::Column::ActionId))
                .equals((action::Entity, action::Column::Id)),
        )
        .inner_join(
            finding::Entity,
            Expr::col((finding::Entity, finding::Column::Id))
                .equals((action_finding::Entity, action_finding::Column::FindingId)),
        )
        .and_where(action::Column::OrganizationId.eq(org))
        .and_where(action::Column::PlanId.eq(plan_id))
        .and_where(finding::Column::OrganizationId.eq(org))
        .to_owned();
    let still_open =
        Expr::case(Expr::col((u.clone(), finding::Column::Status)).is_in(OPEN_FINDINGS.map(|s| s.code())), 1)
            .finally(0);
    let query = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("covered"))
        .expr_as(Func::sum(still_open), Alias::new("still_open"))
        .from_subquery(assigned.union(UnionType::Distinct, linked).to_owned(), u)
        .to_owned();
    let stmt = conn.get_database_backend().build(&query);
    let c = Coverage::find_by_statement(stmt).one(conn).await?;
    Ok(FindingCoverage {
        covered: count(c.as_ref().and_then(|c| c.covered).unwrap_or(0)),
        still_open: count(c.and_then(|c| c.still_open).unwrap_or(0)),
    })
}

#[derive(Debug, FromQueryResult)]
struct Coverage {
    covered: Option<i64>,
    still_open: Option<i64>,
}

/// The report of plan `plan_id` of `org` as of `today`.
pub async fn plan_report(
    conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, today: NaiveDate,
) -> Result<PlanReport, ApiError> {
    let p = find_in_org::<plan::Entity>(conn, org, plan_id).await?;
    let of_plan = Condition::all().add(action::Column::OrganizationId.eq(org)).add(action::Column::PlanId.eq(plan_id));

    let per_category: HashMap<Option<Uuid>, i64> = action::Entity::find()
        .select_only()
        .column(action::Column::CategoryId)
        .column_as(action::Column::Id.count(), "n")
        .filter(of_plan.clone())
        .group_by(action::Column::CategoryId)
        .into_tuple::<(Option<Uuid>, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let categories = scoped::<category::Entity>(org)
        .filter(category::Column::PlanId.eq(plan_id))
        .order_by_asc(category::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|c| CategoryReport {
            id: c.id,
            position: c.position,
            gap: c.score.zip(c.target_score).map(|(s, t)| progress::round2(t - s)),
            maturity_band: c.maturity_band(),
            actions: count(per_category.get(&Some(c.id)).copied().unwrap_or(0)),
            name: c.name,
            score: c.score,
            target_score: c.target_score,
        })
        .collect();

    let actions_by_status: Vec<ActionStatusCount> = action::Entity::find()
        .select_only()
        .column(action::Column::Status)
        .column_as(action::Column::Id.count(), "n")
        .filter(of_plan.clone())
        .group_by(action::Column::Status)
        .order_by_asc(action::Column::Status)
        .into_tuple::<(ActionStatus, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(value, n)| ActionStatusCount { value, count: count(n) })
        .collect();
    let actions_total = actions_by_status.iter().map(|c| c.count).sum();
    let totals = progress::plan_totals(conn, org, &[plan_id], today).await?.remove(&plan_id).unwrap_or_default();
    let figures = totals.figures();

    let overdue_actions = action::Entity::find()
        .filter(of_plan.clone())
        .filter(progress::sql::overdue_on(today))
        .filter(reformulation::not_superseded(org))
        .order_by_asc(action::Column::DueDate)
        .order_by_asc(action::Column::Number)
        .limit(100)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| OverdueAction {
            id: a.id,
            number: a.number,
            days_overdue: (today - a.due_date).num_days(),
            title: a.title,
            due_date: a.due_date,
        })
        .collect();

    let actions_of_plan = Query::select()
        .column(action::Column::Id)
        .from(action::Entity)
        .and_where(action::Column::PlanId.eq(plan_id))
        .to_owned();
    let findings = coverage(conn, org, plan_id).await?;

    let of_plan_objectives = Query::select()
        .column(plan_objective::Column::ObjectiveId)
        .from(plan_objective::Entity)
        .and_where(plan_objective::Column::PlanId.eq(plan_id))
        .to_owned();
    let of_action_objectives = Query::select()
        .column(action_objective::Column::ObjectiveId)
        .from(action_objective::Entity)
        .and_where(action_objective::Column::ActionId.in_subquery(actions_of_plan))
        .to_owned();
    let objectives = scoped::<objective::Entity>(org)
        .filter(
            Condition::any()
                .add(objective::Column::Id.in_subquery(of_plan_objectives))
                .add(objective::Column::Id.in_subquery(of_action_objectives)),
        )
        .order_by_asc(objective::Column::Code)
        .all(conn)
        .await?
        .into_iter()
        .map(|o| ObjectiveServed { id: o.id, source: o.source, code: o.code, title: o.title })
        .collect();

    let (periods, next_cut_off) = super::reporting_periods::trends::plan(conn, org, plan_id, today).await?;
    Ok(PlanReport {
        plan_id: p.id,
        code: p.code,
        version: p.plan_version,
        title: p.title,
        status: p.status,
        as_of: today,
        categories,
        actions_total,
        actions_by_status,
        actions_by_traffic_light: totals.by_light().map(|(value, count)| TrafficLightCount { value, count }).to_vec(),
        progress_pct: figures.progress_pct,
        compliance_pct: figures.compliance_pct,
        effectiveness_pct: figures.effectiveness_pct,
        overdue_actions,
        findings,
        objectives,
        periods,
        next_cut_off,
        risks: super::risks::treated_by_plans(conn, org, &[plan_id]).await?.remove(&plan_id).unwrap_or_default(),
    })
}

/// The dashboard of `org` as of `today`.
pub async fn dashboard(conn: &impl ConnectionTrait, org: Uuid, today: NaiveDate) -> Result<Dashboard, ApiError> {
    let plans_by_status = plan::Entity::find()
        .select_only()
        .column(plan::Column::Status)
        .column_as(plan::Column::Id.count(), "n")
        .filter(plan::Column::OrganizationId.eq(org))
        .group_by(plan::Column::Status)
        .order_by_asc(plan::Column::Status)
        .into_tuple::<(PlanStatus, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(value, n)| PlanStatusCount { value, count: count(n) })
        .collect();
    let open_actions =
        scoped::<action::Entity>(org).filter(progress::sql::open()).filter(reformulation::not_superseded(org));
    let actions_overdue = open_actions.clone().filter(progress::sql::overdue_on(today)).count(conn).await?;
    let in_30 = today + chrono::Duration::days(30);
    let actions_due_in_30_days = open_actions
        .filter(action::Column::DueDate.gte(today))
        .filter(action::Column::DueDate.lte(in_30))
        .count(conn)
        .await?;
    let findings_by_severity = finding::Entity::find()
        .select_only()
        .column(finding::Column::Severity)
        .column_as(finding::Column::Id.count(), "n")
        .filter(finding::Column::OrganizationId.eq(org))
        .group_by(finding::Column::Severity)
        .order_by_asc(finding::Column::Severity)
        .into_tuple::<(Option<Severity>, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(value, n)| SeverityCount { value, count: count(n) })
        .collect();
    let findings_by_status = finding::Entity::find()
        .select_only()
        .column(finding::Column::Status)
        .column_as(finding::Column::Id.count(), "n")
        .filter(finding::Column::OrganizationId.eq(org))
        .group_by(finding::Column::Status)
        .order_by_asc(finding::Column::Status)
        .into_tuple::<(FindingStatus, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(value, n)| FindingStatusCount { value, count: count(n) })
        .collect();
    let evidence_waiting_review = scoped::<evidence::Entity>(org)
        .filter(evidence::Column::ReviewStatus.eq(ReviewStatus::Submitted))
        .count(conn)
        .await?;
    let oldest_open_finding = scoped::<finding::Entity>(org)
        .filter(finding::Column::Status.is_in(OPEN_FINDINGS))
        .order_by_asc(finding::Column::CreatedAt)
        .order_by_asc(finding::Column::Id)
        .one(conn)
        .await?
        .map(|f| OldestOpenFinding {
            id: f.id,
            days_open: (today - calendar::date_of(&f.created_at)).num_days(),
            finding_code: f.finding_code,
            title: f.title,
            status: f.status,
            created_at: f.created_at,
        });
    let (periods, next_cut_off) = super::reporting_periods::trends::organization(conn, org, today).await?;
    Ok(Dashboard {
        as_of: today,
        plans_by_status,
        actions_overdue,
        actions_due_in_30_days,
        findings_by_severity,
        findings_by_status,
        evidence_waiting_review,
        oldest_open_finding,
        periods,
        next_cut_off,
        risks_by_plan: super::risks::risks_by_plan(conn, org).await?,
    })
}
