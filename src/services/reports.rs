//! Progress reports: a plan's report and the organization's dashboard. Every figure is a SQL
//! aggregate (GROUP BY / COUNT / SUM / AVG) that runs the same on PostgreSQL and SQLite; only
//! the rows a report lists (categories, overdue actions, objectives) are read as rows.
use super::calendar;
use super::reformulation;
use super::tenancy::{find_in_org, scoped};
use crate::dto::reports::{
    ActionStatusCount, CategoryReport, Dashboard, FindingCoverage, FindingStatusCount, ObjectiveServed,
    OldestOpenFinding, OverdueAction, PlanReport, PlanStatusCount, SeverityCount, TrafficLightCount,
};
use crate::entities::enums::{
    ActionStatus, ComplianceResult, EffectivenessResult, FindingStatus, PlanStatus, ReviewStatus, Severity,
    TrafficLight,
};
use crate::entities::{action, action_objective, category, evidence, finding, objective, plan, plan_objective};
use crate::error::ApiError;
use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};
use std::collections::HashMap;
use uuid::Uuid;

const OPEN_ACTIONS: [ActionStatus; 2] = [ActionStatus::Planned, ActionStatus::InProgress];
const OPEN_FINDINGS: [FindingStatus; 3] = [FindingStatus::Open, FindingStatus::InTreatment, FindingStatus::Reopened];

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `?` placeholders in the backend's syntax (`$1`, `$2`, … on PostgreSQL).
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[derive(Debug, FromQueryResult)]
struct Figures {
    live: Option<i64>,
    progress: Option<f64>,
    rated: Option<i64>,
    met: Option<i64>,
    judged: Option<i64>,
    effective: Option<i64>,
    red: Option<i64>,
    amber: Option<i64>,
    grey: Option<i64>,
    green: Option<i64>,
}

// Progress of an action: accepted quantity over target, capped at 100; the plan's progress is
// the mean over actions that are not cancelled (as in `progress::plan_figures`). The traffic
// lights follow `progress::action_figures`: red open and past due, amber done late, grey open
// and not yet due, green done on time (or without a completion date). Actions superseded by a
// reformulation are left out: their successors count for them (`reformulation`).
const FIGURES_SQL: &str = r#"
SELECT
  SUM(CASE WHEN a."status" <> ? THEN 1 ELSE 0 END) AS live,
  CAST(AVG(CASE WHEN a."status" <> ? THEN
    CASE WHEN COALESCE(e.q, 0) * 100.0 / a."target_quantity" > 100 THEN 100.0
         ELSE COALESCE(e.q, 0) * 100.0 / a."target_quantity" END
  END) AS DOUBLE PRECISION) AS progress,
  SUM(CASE WHEN a."status" <> ? AND a."compliance" <> ? THEN 1 ELSE 0 END) AS rated,
  SUM(CASE WHEN a."status" <> ? AND a."compliance" IN (?, ?) THEN 1 ELSE 0 END) AS met,
  SUM(CASE WHEN a."status" <> ? AND a."effectiveness" IN (?, ?) THEN 1 ELSE 0 END) AS judged,
  SUM(CASE WHEN a."status" <> ? AND a."effectiveness" = ? THEN 1 ELSE 0 END) AS effective,
  SUM(CASE WHEN a."status" IN (?, ?) AND a."due_date" < ? THEN 1 ELSE 0 END) AS red,
  SUM(CASE WHEN a."status" = ? AND a."completed_on" > a."due_date" THEN 1 ELSE 0 END) AS amber,
  SUM(CASE WHEN a."status" IN (?, ?) AND a."due_date" >= ? THEN 1 ELSE 0 END) AS grey,
  SUM(CASE WHEN a."status" = ? AND (a."completed_on" IS NULL OR NOT (a."completed_on" > a."due_date"))
      THEN 1 ELSE 0 END) AS green
FROM "action" a
LEFT JOIN (
  SELECT "action_id", SUM("reported_quantity") AS q FROM "evidence"
  WHERE "review_status" = ? AND "organization_id" = ? GROUP BY "action_id"
) e ON e."action_id" = a."id"
WHERE a."plan_id" = ? AND a."organization_id" = ?
"#;

async fn figures(conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, today: NaiveDate) -> Result<Figures, ApiError> {
    let cancelled = || Value::from(ActionStatus::Cancelled.code());
    let done = || Value::from(ActionStatus::Done.code());
    let open = || OPEN_ACTIONS.map(|s| Value::from(s.code()));
    let mut values = vec![
        cancelled(),
        cancelled(),
        cancelled(),
        ComplianceResult::Pending.code().into(),
        cancelled(),
        ComplianceResult::Met.code().into(),
        ComplianceResult::MetLate.code().into(),
        cancelled(),
        EffectivenessResult::Effective.code().into(),
        EffectivenessResult::NotEffective.code().into(),
        cancelled(),
        EffectivenessResult::Effective.code().into(),
    ];
    values.extend(open());
    values.extend([today.into(), done()]);
    values.extend(open());
    values.extend([today.into(), done()]);
    values.extend([ReviewStatus::Accepted.code().into(), org.into(), plan_id.into(), org.into(), org.into()]);
    let sql = format!("{FIGURES_SQL} AND {}", reformulation::NOT_SUPERSEDED_SQL);
    let stmt = statement(conn.get_database_backend(), &sql, values);
    Figures::find_by_statement(stmt)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("an aggregate returned no row")))
}

fn pct(part: Option<i64>, whole: Option<i64>) -> Option<f64> {
    let whole = whole.unwrap_or(0);
    (whole > 0).then(|| round2(part.unwrap_or(0) as f64 / whole as f64 * 100.0))
}

#[derive(Debug, FromQueryResult)]
struct Coverage {
    covered: Option<i64>,
    still_open: Option<i64>,
}

// Findings a plan covers: those assigned to the plan and those linked to one of its actions,
// each once. A UNION of two index walks; an `OR … IN (subquery)` would scan every finding.
const COVERAGE_SQL: &str = r#"
SELECT COUNT(*) AS covered, SUM(CASE WHEN u."status" IN (?, ?, ?) THEN 1 ELSE 0 END) AS still_open
FROM (
  SELECT f."id", f."status" FROM "finding" f WHERE f."organization_id" = ? AND f."plan_id" = ?
  UNION
  SELECT f."id", f."status" FROM "action" a
  JOIN "action_finding" af ON af."action_id" = a."id"
  JOIN "finding" f ON f."id" = af."finding_id"
  WHERE a."organization_id" = ? AND a."plan_id" = ? AND f."organization_id" = ?
) u
"#;

async fn coverage(conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid) -> Result<FindingCoverage, ApiError> {
    let mut values: Vec<Value> = OPEN_FINDINGS.iter().map(|s| Value::from(s.code())).collect();
    values.extend([org.into(), plan_id.into(), org.into(), plan_id.into(), org.into()]);
    let stmt = statement(conn.get_database_backend(), COVERAGE_SQL, values);
    let c = Coverage::find_by_statement(stmt).one(conn).await?;
    Ok(FindingCoverage {
        covered: count(c.as_ref().and_then(|c| c.covered).unwrap_or(0)),
        still_open: count(c.and_then(|c| c.still_open).unwrap_or(0)),
    })
}

/// The report of plan `plan_id` of `org` as of `today`.
pub async fn plan_report(
    conn: &impl ConnectionTrait,
    org: Uuid,
    plan_id: Uuid,
    today: NaiveDate,
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
            gap: c.score.zip(c.target_score).map(|(s, t)| round2(t - s)),
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
    let f = figures(conn, org, plan_id, today).await?;

    let overdue_actions = action::Entity::find()
        .filter(of_plan.clone())
        .filter(action::Column::Status.is_in(OPEN_ACTIONS))
        .filter(action::Column::DueDate.lt(today))
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
        actions_by_traffic_light: [
            (TrafficLight::Red, f.red),
            (TrafficLight::Amber, f.amber),
            (TrafficLight::Grey, f.grey),
            (TrafficLight::Green, f.green),
        ]
        .map(|(value, n)| TrafficLightCount { value, count: count(n.unwrap_or(0)) })
        .to_vec(),
        progress_pct: if f.live.unwrap_or(0) > 0 { f.progress.map(round2) } else { None },
        compliance_pct: pct(f.met, f.rated),
        effectiveness_pct: pct(f.effective, f.judged),
        overdue_actions,
        findings,
        objectives,
        periods,
        next_cut_off,
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
    let open_actions = scoped::<action::Entity>(org)
        .filter(action::Column::Status.is_in(OPEN_ACTIONS))
        .filter(reformulation::not_superseded(org));
    let actions_overdue = open_actions.clone().filter(action::Column::DueDate.lt(today)).count(conn).await?;
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered() {
        let s = statement(DbBackend::Postgres, "a = ? AND b IN (?, ?)", vec![1.into(), 2.into(), 3.into()]);
        assert_eq!(s.sql, "a = $1 AND b IN ($2, $3)");
        let s = statement(DbBackend::Sqlite, "a = ?", vec![1.into()]);
        assert_eq!(s.sql, "a = ?");
    }
}
