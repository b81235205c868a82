//! Closing a period: every covered plan and action as of the cut-off, stored once and never
//! recomputed. An action counts the evidence whose `cut_off_date` is on or before the cut-off
//! and that is accepted when the period closes (accepted evidence never changes afterwards);
//! an action completed after the cut-off is judged as it stood at the cut-off (not yet done).
//! The figures come from [`progress`], the rules' one home.
//!
//! Set-based and bounded: the plans' figures come from one aggregate in SQL
//! ([`progress::plan_totals_until`]), their action counts and categories from one query each;
//! each plan's actions are then read in keyset pages of [`PAGE`] (number, id), with their
//! accepted quantities, counted evidence and findings read for the whole page, and the rows
//! are written in multi-row INSERTs of [`INSERT_BATCH`] across plans. The SHA-256 of the
//! snapshot's canonical form is fed row by row: for each plan (by code, version, id) its row,
//! then its actions' rows (by number, id), each as one line of JSON in field order, without
//! the observations (which may change until filing).
use crate::entities::enums::{FindingSource, PlanStatus, PolicyScope, PresumedIncidence, ReviewStatus};
use crate::entities::{
    action, action_finding, category, evidence, finding, organization, plan, reporting_period, reporting_period_action,
    reporting_period_plan,
};
use crate::error::ApiError;
use crate::services::progress::{self, PlanTotals};
use crate::services::tenancy::scoped;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// Ids per `IN (…)` list.
const CHUNK: usize = 1000;
/// Actions read per keyset page.
pub const PAGE: u64 = 1000;
/// Action rows per INSERT: 15 columns × 2000 = 30,000 parameters, under SQLite's 32,766
/// (and PostgreSQL's 65,535).
pub const INSERT_BATCH: usize = 2000;

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

/// What is read once for all covered plans: their roll-up as of the cut-off (SQL aggregate),
/// their action counts and their categories.
struct PlanData {
    totals: HashMap<Uuid, PlanTotals>,
    counts: HashMap<Uuid, i64>,
    categories: HashMap<Uuid, Vec<CategoryContent>>,
}

async fn plan_data(
    conn: &impl ConnectionTrait, org: Uuid, plans: &[Uuid], cut_off: NaiveDate,
) -> Result<PlanData, ApiError> {
    let mut data = PlanData { totals: HashMap::new(), counts: HashMap::new(), categories: HashMap::new() };
    for chunk in plans.chunks(CHUNK) {
        data.totals.extend(progress::plan_totals_until(conn, org, chunk, cut_off).await?);
        let counts: Vec<(Uuid, i64)> = scoped::<action::Entity>(org)
            .select_only()
            .column(action::Column::PlanId)
            .column_as(action::Column::Id.count(), "n")
            .filter(action::Column::PlanId.is_in(chunk.to_vec()))
            .group_by(action::Column::PlanId)
            .into_tuple()
            .all(conn)
            .await?;
        data.counts.extend(counts);
        for c in scoped::<category::Entity>(org)
            .filter(category::Column::PlanId.is_in(chunk.to_vec()))
            .order_by_asc(category::Column::PlanId)
            .order_by_asc(category::Column::Position)
            .order_by_asc(category::Column::Id)
            .all(conn)
            .await?
        {
            data.categories.entry(c.plan_id).or_default().push(CategoryContent {
                id: c.id,
                position: c.position,
                name: c.name,
                score: c.score,
                improvement_alternatives: c.improvement_alternatives.0,
                effectiveness_criterion: c.effectiveness_criterion,
            });
        }
    }
    Ok(data)
}

impl PlanContent {
    /// What the exports print of plan `p` of `organization` with its `categories`.
    fn of(organization: &organization::Model, p: &plan::Model, categories: Vec<CategoryContent>) -> PlanContent {
        PlanContent {
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
            categories,
        }
    }
}

impl PlanContent {
    /// Plan `id` of `organization_id` as the matrix writers take it, stamped at `at`; what the
    /// snapshot does not keep is empty.
    pub fn model(self, id: Uuid, organization_id: Uuid, at: DateTime<Utc>) -> plan::Model {
        plan::Model {
            id,
            code: self.code,
            plan_version: self.plan_version,
            title: self.title,
            description: None,
            policy_scope: self.policy_scope,
            origin: None,
            fiscal_year: self.fiscal_year,
            start_date: self.start_date,
            end_date: self.end_date,
            status: self.status,
            prepared_by: self.prepared_by,
            prepared_by_role: self.prepared_by_role,
            prepared_on: self.prepared_on,
            approved_by: self.approved_by,
            approval_reference: self.approval_reference,
            approved_on: self.approved_on,
            cancellation_reason: None,
            budget: None,
            funding_source: None,
            maturity_current: None,
            maturity_target: None,
            previous_version_id: None,
            organization_id,
            created_at: at,
            updated_at: at,
            created_by: None,
            updated_by: None,
            version: 1,
        }
    }
}

/// Multi-row INSERTs of action rows, [`INSERT_BATCH`] at a time.
struct ActionWriter(Vec<reporting_period_action::ActiveModel>);

impl ActionWriter {
    async fn push(&mut self, conn: &impl ConnectionTrait, row: reporting_period_action::Model) -> Result<(), ApiError> {
        self.0.push(row.into());
        if self.0.len() >= INSERT_BATCH {
            self.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, conn: &impl ConnectionTrait) -> Result<(), ApiError> {
        if !self.0.is_empty() {
            reporting_period_action::Entity::insert_many(std::mem::take(&mut self.0))
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}

fn feed<T: Serialize>(hasher: &mut Sha256, line: &T) -> Result<(), ApiError> {
    hasher.update(serde_json::to_vec(line).map_err(ApiError::internal)?);
    hasher.update(b"\n");
    Ok(())
}

/// Stores the snapshot of `period` (open, in the caller's transaction) and returns its summary.
pub async fn take(conn: &impl ConnectionTrait, period: &reporting_period::Model) -> Result<Taken, ApiError> {
    let org = period.organization_id;
    let cut_off = period.cut_off_date;
    let organization = organization::Entity::find_by_id(org).one(conn).await?.ok_or_else(ApiError::not_found)?;
    let mut hasher = Sha256::new();
    hasher
        .update(format!("reporting_period {} {} {}\n", period.id, period.kind.code(), period.cut_off_date).as_bytes());
    let plans = covered(conn, period).await?;
    let ids: Vec<Uuid> = plans.iter().map(|p| p.id).collect();
    let mut data = plan_data(conn, org, &ids, cut_off).await?;
    let (mut progress, mut compliance, mut effectiveness) = (Mean::default(), Mean::default(), Mean::default());
    let mut actions = 0i32;
    let mut plan_rows = Vec::with_capacity(plans.len());
    let mut writer = ActionWriter(Vec::with_capacity(INSERT_BATCH));
    for p in &plans {
        let figures = data.totals.get(&p.id).map(PlanTotals::figures).unwrap_or_default();
        let categories = data.categories.remove(&p.id).unwrap_or_default();
        let row = reporting_period_plan::Model {
            period_id: period.id,
            plan_id: p.id,
            organization_id: org,
            code: p.code.clone(),
            plan_version: p.plan_version,
            title: p.title.clone(),
            progress_pct: figures.progress_pct,
            compliance_pct: figures.compliance_pct,
            effectiveness_pct: figures.effectiveness_pct,
            traffic_light: figures.traffic_light.map(|l| l.code().to_string()),
            actions_count: data.counts.get(&p.id).map_or(0, |n| i32::try_from(*n).unwrap_or(i32::MAX)),
            content: to_json(&PlanContent::of(&organization, p, categories))?,
        };
        feed(
            &mut hasher,
            &PlanLine {
                plan_id: row.plan_id,
                code: &row.code,
                plan_version: row.plan_version,
                title: &row.title,
                progress_pct: row.progress_pct,
                compliance_pct: row.compliance_pct,
                effectiveness_pct: row.effectiveness_pct,
                traffic_light: row.traffic_light.as_deref(),
                actions_count: row.actions_count,
                content: &row.content,
            },
        )?;
        progress.add(row.progress_pct);
        compliance.add(row.compliance_pct);
        effectiveness.add(row.effectiveness_pct);
        actions += row.actions_count;
        plan_actions(conn, period, p.id, &mut hasher, &mut writer).await?;
        plan_rows.push(reporting_period_plan::ActiveModel::from(row));
    }
    writer.flush(conn).await?;
    // 12 columns: well under the parameter limit at 1000 plans a statement.
    let mut plan_rows = plan_rows.into_iter().peekable();
    while plan_rows.peek().is_some() {
        let batch: Vec<_> = plan_rows.by_ref().take(CHUNK).collect();
        reporting_period_plan::Entity::insert_many(batch).exec_without_returning(conn).await?;
    }
    Ok(Taken {
        sha256: hex::encode(hasher.finalize()),
        plans: i32::try_from(plans.len()).unwrap_or(i32::MAX),
        actions,
        progress_pct: progress.get(),
        compliance_pct: compliance.get(),
        effectiveness_pct: effectiveness.get(),
    })
}

/// One page of what the rows of `page` (actions of one plan) need besides the actions:
/// accepted quantities, the evidence counted, the findings each answers (by code, id).
async fn page_extras(
    conn: &impl ConnectionTrait, org: Uuid, page: &[Uuid], cut_off: NaiveDate,
) -> Result<(HashMap<Uuid, f64>, HashMap<Uuid, Vec<String>>, HashMap<Uuid, Vec<FindingContent>>), ApiError> {
    let accepted = progress::accepted_quantities_until(conn, page, cut_off).await?;
    // The same evidence `accepted_quantities_until` sums, by id.
    let rows: Vec<(Uuid, Uuid)> = evidence::Entity::find()
        .select_only()
        .column(evidence::Column::Id)
        .column(evidence::Column::ActionId)
        .filter(evidence::Column::ActionId.is_in(page.to_vec()))
        .filter(evidence::Column::ReviewStatus.eq(ReviewStatus::Accepted))
        .filter(evidence::Column::CutOffDate.lte(cut_off))
        .order_by_asc(evidence::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let mut counted: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (id, action_id) in rows {
        counted.entry(action_id).or_default().push(id.to_string());
    }
    let links: Vec<(Uuid, Uuid)> = action_finding::Entity::find()
        .select_only()
        .column(action_finding::Column::ActionId)
        .column(action_finding::Column::FindingId)
        .filter(action_finding::Column::ActionId.is_in(page.to_vec()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut finding_ids: Vec<Uuid> = links.iter().map(|(_, f)| *f).collect();
    finding_ids.sort();
    finding_ids.dedup();
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
    let mut answered: HashMap<Uuid, Vec<FindingContent>> = HashMap::new();
    for (action_id, finding_id) in links {
        if let Some(f) = findings.get(&finding_id) {
            answered.entry(action_id).or_default().push(f.clone());
        }
    }
    for list in answered.values_mut() {
        list.sort_by(|x, y| x.finding_code.cmp(&y.finding_code).then(x.id.cmp(&y.id)));
    }
    Ok((accepted, counted, answered))
}

/// Stores the rows of plan `plan_id`'s actions, read in keyset pages, and feeds them to `hasher`.
async fn plan_actions(
    conn: &impl ConnectionTrait, period: &reporting_period::Model, plan_id: Uuid, hasher: &mut Sha256,
    writer: &mut ActionWriter,
) -> Result<(), ApiError> {
    let org = period.organization_id;
    let cut_off = period.cut_off_date;
    let mut after: Option<(i32, Uuid)> = None;
    loop {
        let mut select = scoped::<action::Entity>(org).filter(action::Column::PlanId.eq(plan_id));
        if let Some((number, id)) = after {
            select = select.filter(
                Condition::any()
                    .add(action::Column::Number.gt(number))
                    .add(action::Column::Number.eq(number).and(action::Column::Id.gt(id))),
            );
        }
        let page: Vec<action::Model> = select
            .order_by_asc(action::Column::Number)
            .order_by_asc(action::Column::Id)
            .limit(PAGE)
            .all(conn)
            .await?
            .iter()
            .map(|a| progress::as_of(a, cut_off))
            .collect();
        let Some(last) = page.last() else { break };
        after = Some((last.number, last.id));
        let ids: Vec<Uuid> = page.iter().map(|a| a.id).collect();
        let (accepted, mut counted, mut answered) = page_extras(conn, org, &ids, cut_off).await?;
        for a in &page {
            let f = progress::action_figures(a, accepted.get(&a.id).copied().unwrap_or(0.0), cut_off);
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
                findings: answered.remove(&a.id).unwrap_or_default(),
            })?;
            let row = reporting_period_action::Model {
                period_id: period.id,
                action_id: a.id,
                organization_id: org,
                plan_id,
                number: a.number,
                status: a.status.code().to_string(),
                accepted_quantity: f.accepted_quantity,
                progress_pct: f.progress_pct,
                traffic_light: f.traffic_light.map(|l| l.code().to_string()),
                overdue: f.overdue,
                compliance: a.compliance.code().to_string(),
                effectiveness: a.effectiveness.code().to_string(),
                evidence_ids: serde_json::Value::from(counted.remove(&a.id).unwrap_or_default()),
                observation: None,
                content,
            };
            feed(
                hasher,
                &ActionLine {
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
                },
            )?;
            writer.push(conn, row).await?;
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    Ok(())
}
