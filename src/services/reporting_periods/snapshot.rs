//! Closing a period: every covered plan and action as of the cut-off, stored once and never
//! recomputed. An action counts the evidence whose `cut_off_date` is on or before the cut-off
//! and that is accepted when the period closes (accepted evidence never changes afterwards);
//! an action completed after the cut-off is judged as it stood at the cut-off (not yet done).
//! The figures come from [`progress`], the rules' one home.
//!
//! Memory stays bounded: plans are read one at a time, their actions' evidence, links and
//! findings in chunks of 1000 ids, and the rows are written in batches, while the SHA-256 of
//! the snapshot's canonical form is fed row by row: for each plan (by code, version, id) its
//! row, then its actions' rows (by number, id), each as one line of JSON in field order,
//! without the observations (which may change until filing).
use crate::entities::enums::{ActionStatus, FindingSource, PlanStatus, PolicyScope, PresumedIncidence, ReviewStatus};
use crate::entities::{
    action, category, evidence, finding, organization, plan, reporting_period, reporting_period_action,
    reporting_period_plan,
};
use crate::error::ApiError;
use crate::services::actions;
use crate::services::progress::{self, ActionFigures};
use crate::services::tenancy::scoped;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// Ids per `IN (…)` list.
const CHUNK: usize = 1000;
/// Action rows per INSERT (15 columns: well under SQLite's 32,766 parameters).
const INSERT_BATCH: usize = 500;

/// What the exports print of a plan, as of the closing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanContent {
    /// The organization's name.
    pub organization_name: String,
    /// Its NIT.
    pub organization_tax_id: String,
    /// Plan code.
    pub code: String,
    /// Plan version.
    pub plan_version: i32,
    /// Title.
    pub title: String,
    /// Policy scope.
    pub policy_scope: PolicyScope,
    /// Fiscal year.
    pub fiscal_year: Option<i32>,
    /// Implementation window.
    pub start_date: Option<NaiveDate>,
    /// Implementation window.
    pub end_date: Option<NaiveDate>,
    /// Lifecycle state when the period closed.
    pub status: PlanStatus,
    /// Who prepared it.
    pub prepared_by: Option<String>,
    /// Their role.
    pub prepared_by_role: Option<String>,
    /// When.
    pub prepared_on: Option<NaiveDate>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Approval act.
    pub approval_reference: Option<String>,
    /// Approval date.
    pub approved_on: Option<NaiveDate>,
    /// Categories in order.
    pub categories: Vec<CategoryContent>,
}

/// A category as the exports print it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryContent {
    /// Id.
    pub id: Uuid,
    /// Position.
    pub position: i32,
    /// Name.
    pub name: String,
    /// Score.
    pub score: Option<f64>,
    /// Improvement alternatives.
    pub improvement_alternatives: Vec<String>,
    /// Effectiveness criterion.
    pub effectiveness_criterion: Option<String>,
}

/// What the exports print of an action, as of the closing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionContent {
    /// Category.
    pub category_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Goal.
    pub goal: Option<String>,
    /// Unit of measure.
    pub unit: Option<String>,
    /// Target quantity.
    pub target_quantity: f64,
    /// Start date.
    pub start_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Completion date, when done by the cut-off.
    pub completed_on: Option<NaiveDate>,
    /// Duration in weeks.
    pub weeks: i64,
    /// Findings it answers.
    pub findings: Vec<FindingContent>,
}

/// A finding as the SIRECI form prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingContent {
    /// Id.
    pub id: Uuid,
    /// Source.
    pub source: FindingSource,
    /// Finding code.
    pub finding_code: String,
    /// Title.
    pub title: String,
    /// Condition.
    pub condition: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// Effect.
    pub effect: Option<String>,
    /// Presumed incidences.
    pub presumed_incidence: Vec<PresumedIncidence>,
    /// Fiscal amount (COP).
    pub fiscal_amount: Option<Decimal>,
}

/// The canonical line of a plan row.
#[derive(Serialize)]
struct PlanLine<'a> {
    plan_id: Uuid,
    code: &'a str,
    plan_version: i32,
    title: &'a str,
    progress_pct: Option<f64>,
    compliance_pct: Option<f64>,
    effectiveness_pct: Option<f64>,
    traffic_light: Option<&'a str>,
    actions_count: i32,
    content: &'a serde_json::Value,
}

/// The canonical line of an action row.
#[derive(Serialize)]
struct ActionLine<'a> {
    action_id: Uuid,
    plan_id: Uuid,
    number: i32,
    status: &'a str,
    accepted_quantity: f64,
    progress_pct: f64,
    traffic_light: Option<&'a str>,
    overdue: bool,
    compliance: &'a str,
    effectiveness: &'a str,
    evidence_ids: &'a serde_json::Value,
    content: &'a serde_json::Value,
}

/// What closing stored.
#[derive(Debug, Clone)]
pub struct Taken {
    /// SHA-256 of the canonical form, hex.
    pub sha256: String,
    /// Plans covered.
    pub plans: i32,
    /// Actions stored.
    pub actions: i32,
    /// Mean of the plans' progress (plans without live actions left out).
    pub progress_pct: Option<f64>,
    /// Mean of the plans' compliance.
    pub compliance_pct: Option<f64>,
    /// Mean of the plans' effectiveness.
    pub effectiveness_pct: Option<f64>,
}

/// Running mean of optional values.
#[derive(Default)]
struct Mean(f64, u32);

impl Mean {
    fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.0 += v;
            self.1 += 1;
        }
    }
    fn get(&self) -> Option<f64> {
        (self.1 > 0).then(|| (self.0 / f64::from(self.1) * 100.0).round() / 100.0)
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// The plans `period` covers, by code, version and id: those it names, or every plan in
/// progress when it names none.
async fn covered(conn: &impl ConnectionTrait, period: &reporting_period::Model) -> Result<Vec<plan::Model>, ApiError> {
    let mut select = scoped::<plan::Entity>(period.organization_id);
    select = match &period.plan_ids {
        Some(ids) => {
            let ids: Vec<Uuid> = ids.0.iter().filter_map(|s| s.parse().ok()).collect();
            select.filter(plan::Column::Id.is_in(ids))
        }
        None => select.filter(plan::Column::Status.eq(PlanStatus::InProgress)),
    };
    Ok(select
        .order_by_asc(plan::Column::Code)
        .order_by_asc(plan::Column::PlanVersion)
        .order_by_asc(plan::Column::Id)
        .all(conn)
        .await?)
}

/// Stores the snapshot of `period` (open, in the caller's transaction) and returns its summary.
pub async fn take(conn: &impl ConnectionTrait, period: &reporting_period::Model) -> Result<Taken, ApiError> {
    let org = period.organization_id;
    let organization = organization::Entity::find_by_id(org).one(conn).await?.ok_or_else(ApiError::not_found)?;
    let mut hasher = Sha256::new();
    hasher
        .update(format!("reporting_period {} {} {}\n", period.id, period.kind.code(), period.cut_off_date).as_bytes());
    let (mut progress, mut compliance, mut effectiveness) = (Mean::default(), Mean::default(), Mean::default());
    let (mut plans, mut actions) = (0i32, 0i32);
    for p in covered(conn, period).await? {
        let row = plan_snapshot(conn, period, &organization, &p, &mut hasher).await?;
        progress.add(row.progress_pct);
        compliance.add(row.compliance_pct);
        effectiveness.add(row.effectiveness_pct);
        plans += 1;
        actions += row.actions_count;
    }
    Ok(Taken {
        sha256: hex::encode(hasher.finalize()),
        plans,
        actions,
        progress_pct: progress.get(),
        compliance_pct: compliance.get(),
        effectiveness_pct: effectiveness.get(),
    })
}

/// The action as it stood at the cut-off: one completed after it was not done yet.
fn as_of(a: &action::Model, cut_off: NaiveDate) -> action::Model {
    let mut then = a.clone();
    if a.status == ActionStatus::Done && a.completed_on.is_some_and(|d| d > cut_off) {
        then.status = ActionStatus::InProgress;
        then.completed_on = None;
    }
    then
}

/// Stores one plan's rows and feeds them to `hasher`; returns the plan row.
async fn plan_snapshot(
    conn: &impl ConnectionTrait,
    period: &reporting_period::Model,
    organization: &organization::Model,
    p: &plan::Model,
    hasher: &mut Sha256,
) -> Result<reporting_period_plan::Model, ApiError> {
    let org = period.organization_id;
    let cut_off = period.cut_off_date;
    let list: Vec<action::Model> = scoped::<action::Entity>(org)
        .filter(action::Column::PlanId.eq(p.id))
        .order_by_asc(action::Column::Number)
        .order_by_asc(action::Column::Id)
        .all(conn)
        .await?
        .iter()
        .map(|a| as_of(a, cut_off))
        .collect();
    let categories = scoped::<category::Entity>(org)
        .filter(category::Column::PlanId.eq(p.id))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = list.iter().map(|a| a.id).collect();
    let mut accepted: HashMap<Uuid, f64> = HashMap::new();
    let mut counted: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        accepted.extend(progress::accepted_quantities_until(conn, chunk, cut_off).await?);
        // The same evidence `accepted_quantities_until` sums, by id.
        let rows: Vec<(Uuid, Uuid)> = evidence::Entity::find()
            .select_only()
            .column(evidence::Column::Id)
            .column(evidence::Column::ActionId)
            .filter(evidence::Column::ActionId.is_in(chunk.to_vec()))
            .filter(evidence::Column::ReviewStatus.eq(ReviewStatus::Accepted))
            .filter(evidence::Column::CutOffDate.lte(cut_off))
            .order_by_asc(evidence::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (id, action_id) in rows {
            counted.entry(action_id).or_default().push(id.to_string());
        }
        links.extend(actions::links(conn, chunk).await?.0);
    }
    let finding_ids: Vec<Uuid> = {
        let mut all: Vec<Uuid> = links.values().flatten().copied().collect();
        all.sort();
        all.dedup();
        all
    };
    let mut findings: HashMap<Uuid, FindingContent> = HashMap::new();
    for chunk in finding_ids.chunks(CHUNK) {
        for f in scoped::<finding::Entity>(org).filter(finding::Column::Id.is_in(chunk.to_vec())).all(conn).await? {
            findings.insert(
                f.id,
                FindingContent {
                    id: f.id,
                    source: f.source,
                    finding_code: f.finding_code,
                    title: f.title,
                    condition: f.condition,
                    cause: f.cause,
                    effect: f.effect,
                    presumed_incidence: f.presumed_incidence.0,
                    fiscal_amount: f.fiscal_amount,
                },
            );
        }
    }
    let figures: Vec<ActionFigures> = list
        .iter()
        .map(|a| progress::action_figures(a, accepted.get(&a.id).copied().unwrap_or(0.0), cut_off))
        .collect();
    let quantities: Vec<(&action::Model, f64)> =
        list.iter().map(|a| (a, accepted.get(&a.id).copied().unwrap_or(0.0))).collect();
    let plan_figures = progress::PlanTotals::of_actions(p.id, &quantities, cut_off).figures();
    let content = to_json(&PlanContent {
        organization_name: organization.name.clone(),
        organization_tax_id: organization.tax_id.clone(),
        code: p.code.clone(),
        plan_version: p.plan_version,
        title: p.title.clone(),
        policy_scope: p.policy_scope,
        fiscal_year: p.fiscal_year,
        start_date: p.start_date,
        end_date: p.end_date,
        status: p.status,
        prepared_by: p.prepared_by.clone(),
        prepared_by_role: p.prepared_by_role.clone(),
        prepared_on: p.prepared_on,
        approved_by: p.approved_by.clone(),
        approval_reference: p.approval_reference.clone(),
        approved_on: p.approved_on,
        categories: categories
            .iter()
            .map(|c| CategoryContent {
                id: c.id,
                position: c.position,
                name: c.name.clone(),
                score: c.score,
                improvement_alternatives: c.improvement_alternatives.0.clone(),
                effectiveness_criterion: c.effectiveness_criterion.clone(),
            })
            .collect(),
    })?;
    let plan_row = reporting_period_plan::Model {
        period_id: period.id,
        plan_id: p.id,
        organization_id: org,
        code: p.code.clone(),
        plan_version: p.plan_version,
        title: p.title.clone(),
        progress_pct: plan_figures.progress_pct,
        compliance_pct: plan_figures.compliance_pct,
        effectiveness_pct: plan_figures.effectiveness_pct,
        traffic_light: plan_figures.traffic_light.map(|l| l.code().to_string()),
        actions_count: i32::try_from(list.len()).unwrap_or(i32::MAX),
        content,
    };
    let line = serde_json::to_vec(&PlanLine {
        plan_id: plan_row.plan_id,
        code: &plan_row.code,
        plan_version: plan_row.plan_version,
        title: &plan_row.title,
        progress_pct: plan_row.progress_pct,
        compliance_pct: plan_row.compliance_pct,
        effectiveness_pct: plan_row.effectiveness_pct,
        traffic_light: plan_row.traffic_light.as_deref(),
        actions_count: plan_row.actions_count,
        content: &plan_row.content,
    })
    .map_err(ApiError::internal)?;
    hasher.update(&line);
    hasher.update(b"\n");
    reporting_period_plan::Entity::insert(reporting_period_plan::ActiveModel::from(plan_row.clone()))
        .exec_without_returning(conn)
        .await?;

    let mut batch = Vec::with_capacity(INSERT_BATCH);
    for (a, f) in list.iter().zip(figures) {
        let mut answered: Vec<FindingContent> =
            links.get(&a.id).into_iter().flatten().filter_map(|id| findings.get(id).cloned()).collect();
        answered.sort_by(|x, y| x.finding_code.cmp(&y.finding_code).then(x.id.cmp(&y.id)));
        let content = to_json(&ActionContent {
            category_id: a.category_id,
            title: a.title.clone(),
            description: a.description.clone(),
            goal: a.goal.clone(),
            unit: a.unit.clone(),
            target_quantity: a.target_quantity,
            start_date: a.start_date,
            due_date: a.due_date,
            completed_on: a.completed_on,
            weeks: f.weeks,
            findings: answered,
        })?;
        let evidence_ids = serde_json::Value::from(counted.remove(&a.id).unwrap_or_default());
        let row = reporting_period_action::Model {
            period_id: period.id,
            action_id: a.id,
            organization_id: org,
            plan_id: p.id,
            number: a.number,
            status: a.status.code().to_string(),
            accepted_quantity: f.accepted_quantity,
            progress_pct: f.progress_pct,
            traffic_light: f.traffic_light.map(|l| l.code().to_string()),
            overdue: f.overdue,
            compliance: a.compliance.code().to_string(),
            effectiveness: a.effectiveness.code().to_string(),
            evidence_ids,
            observation: None,
            content,
        };
        let line = serde_json::to_vec(&ActionLine {
            action_id: row.action_id,
            plan_id: row.plan_id,
            number: row.number,
            status: &row.status,
            accepted_quantity: row.accepted_quantity,
            progress_pct: row.progress_pct,
            traffic_light: row.traffic_light.as_deref(),
            overdue: row.overdue,
            compliance: &row.compliance,
            effectiveness: &row.effectiveness,
            evidence_ids: &row.evidence_ids,
            content: &row.content,
        })
        .map_err(ApiError::internal)?;
        hasher.update(&line);
        hasher.update(b"\n");
        batch.push(reporting_period_action::ActiveModel::from(row));
        if batch.len() == INSERT_BATCH {
            reporting_period_action::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(conn)
                .await?;
        }
    }
    if !batch.is_empty() {
        reporting_period_action::Entity::insert_many(batch).exec_without_returning(conn).await?;
    }
    Ok(plan_row)
}
