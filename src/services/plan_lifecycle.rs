//! The plan lifecycle: `draft → submitted → approved → in_progress → closed`, `cancelled` from
//! any open state, `superseded` when a newer version is approved, and new versions copied
//! from an approved, running or closed plan. Every transition checks the row version
//! (`If-Match`) and writes one audit event in its transaction.
use super::audit::{self, Actor, Entry};
use super::categories;
use super::objectives::clean;
use super::plans::{self, find_for_update, objective_links, response};
use super::tenancy::{scoped, update_versioned};
use crate::dto::plan_lifecycle::{ApprovePlanRequest, CreatePlanVersionRequest};
use crate::dto::plans::PlanResponse;
use crate::dto::validate::Checks;
use crate::entities::enums::EventType;
use crate::entities::enums::{AuditOperation, AuditResource, PlanStatus};
use crate::entities::{category, plan};
use crate::error::{ApiError, ErrorCode};
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// A lifecycle operation.
#[derive(Debug, Clone)]
pub enum Transition {
    /// `draft → submitted`: needs at least one category and the implementation window.
    Submit,
    /// `submitted → approved`: needs who approved and the approval act.
    Approve(ApprovePlanRequest),
    /// `approved → in_progress`.
    Start,
    /// `in_progress → closed`: every action done or cancelled.
    Close,
    /// Any open state `→ cancelled`, with a reason.
    Cancel(String),
}

impl Transition {
    /// Operation name in the audit trail.
    pub fn operation(&self) -> AuditOperation {
        match self {
            Transition::Submit => AuditOperation::Submit,
            Transition::Approve(_) => AuditOperation::Approve,
            Transition::Start => AuditOperation::Start,
            Transition::Close => AuditOperation::Close,
            Transition::Cancel(_) => AuditOperation::Cancel,
        }
    }

    fn allowed_from(&self) -> &'static [PlanStatus] {
        match self {
            Transition::Submit => &[PlanStatus::Draft],
            Transition::Approve(_) => &[PlanStatus::Submitted],
            Transition::Start => &[PlanStatus::Approved],
            Transition::Close => &[PlanStatus::InProgress],
            Transition::Cancel(_) => {
                &[PlanStatus::Draft, PlanStatus::Submitted, PlanStatus::Approved, PlanStatus::InProgress]
            }
        }
    }

    fn target(&self) -> PlanStatus {
        match self {
            Transition::Submit => PlanStatus::Submitted,
            Transition::Approve(_) => PlanStatus::Approved,
            Transition::Start => PlanStatus::InProgress,
            Transition::Close => PlanStatus::Closed,
            Transition::Cancel(_) => PlanStatus::Cancelled,
        }
    }
}

/// How a plan in `status` is described after "This plan is" / "Este plan está".
fn state_phrase(status: PlanStatus) -> (&'static str, &'static str) {
    match status {
        PlanStatus::Draft => ("a draft", "en borrador"),
        PlanStatus::Submitted => ("submitted for approval", "enviado para aprobación"),
        PlanStatus::Approved => ("approved", "aprobado"),
        PlanStatus::InProgress => ("in progress", "en ejecución"),
        PlanStatus::Closed => ("closed", "cerrado"),
        PlanStatus::Cancelled => ("cancelled", "anulado"),
        PlanStatus::Superseded => ("superseded by a newer version", "reemplazado por una versión posterior"),
    }
}

/// `the …` / `los planes …` naming the states a transition starts from.
fn plans_in(states: &[PlanStatus]) -> (String, String) {
    let adjective = |s: PlanStatus| match s {
        PlanStatus::Draft => ("draft", "en borrador"),
        PlanStatus::Submitted => ("submitted", "enviados"),
        PlanStatus::Approved => ("approved", "aprobados"),
        PlanStatus::InProgress => ("in-progress", "en ejecución"),
        PlanStatus::Closed => ("closed", "cerrados"),
        PlanStatus::Cancelled => ("cancelled", "anulados"),
        PlanStatus::Superseded => ("superseded", "reemplazados"),
    };
    let join = |words: Vec<&str>, or: &str| match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} {or} {last}", rest.join(", ")),
        _ => words.join(""),
    };
    (
        join(states.iter().map(|s| adjective(*s).0).collect(), "or"),
        join(states.iter().map(|s| adjective(*s).1).collect(), "o"),
    )
}

/// 409 naming the plan's state, the operation and the states it is allowed from, as a sentence.
fn refused(t: &Transition, from: PlanStatus) -> ApiError {
    let (participle, infinitive, passive) = match t {
        Transition::Submit => ("submitted for approval", "enviar a aprobación", "se envían"),
        Transition::Approve(_) => ("approved", "aprobar", "se aprueban"),
        Transition::Start => ("started", "iniciar", "se inician"),
        Transition::Close => ("closed", "cerrar", "se cierran"),
        Transition::Cancel(_) => ("cancelled", "anular", "se anulan"),
    };
    let (state_en, state_es) = state_phrase(from);
    let (allowed_en, allowed_es) = plans_in(t.allowed_from());
    ApiError::conflict(
        ErrorCode::InvalidTransition,
        format!("This plan is {state_en}, so it cannot be {participle}; only {allowed_en} plans can be."),
        format!("Este plan está {state_es}, así que no se puede {infinitive}; solo {passive} los planes {allowed_es}."),
    )
}

/// Newer versions of the same code that are (or were) in force.
async fn newer_in_force(conn: &impl ConnectionTrait, m: &plan::Model) -> Result<u64, ApiError> {
    Ok(scoped::<plan::Entity>(m.organization_id)
        .filter(plan::Column::Code.eq(m.code.as_str()))
        .filter(plan::Column::PlanVersion.gt(m.plan_version))
        .filter(plan::Column::Status.is_in([
            PlanStatus::Approved,
            PlanStatus::InProgress,
            PlanStatus::Closed,
            PlanStatus::Superseded,
        ]))
        .count(conn)
        .await?)
}

/// Checks the request body alone (lengths, blanks), before any state is consulted.
fn check_input(t: &Transition) -> Result<(), ApiError> {
    let mut c = Checks::new();
    match t {
        Transition::Cancel(reason) => c.text("reason", reason, 2000),
        Transition::Approve(req) => {
            c.optional_text("approved_by", req.approved_by.as_deref(), 300);
            c.optional_text("approval_reference", req.approval_reference.as_deref(), 300);
        }
        Transition::Submit | Transition::Start | Transition::Close => {}
    }
    c.finish()
}

/// Checks the preconditions of `t` on `next` (a copy of the plan) and applies its field changes.
async fn prepare(conn: &impl ConnectionTrait, t: &Transition, next: &mut plan::Model) -> Result<(), ApiError> {
    match t {
        Transition::Submit => {
            let mut c = Checks::new();
            if next.start_date.is_none() {
                c.push("start_date", "required", "a plan needs its implementation window to be submitted");
            }
            if next.end_date.is_none() {
                c.push("end_date", "required", "a plan needs its implementation window to be submitted");
            }
            c.finish()?;
            let categories = scoped::<category::Entity>(next.organization_id)
                .filter(category::Column::PlanId.eq(next.id))
                .count(conn)
                .await?;
            if categories == 0 {
                return Err(ApiError::conflict(
                    ErrorCode::InvalidTransition,
                    "A plan needs at least one category to be submitted",
                    "Un plan necesita al menos una categoría para enviarse",
                ));
            }
        }
        Transition::Approve(req) => {
            if let Some(by) = req.approved_by.clone() {
                next.approved_by = clean(Some(by));
            }
            if let Some(reference) = req.approval_reference.clone() {
                next.approval_reference = clean(Some(reference));
            }
            next.approved_on = req.approved_on.or(next.approved_on).or_else(|| Some(super::calendar::today()));
            let mut c = Checks::new();
            match &next.approved_by {
                None => c.push("approved_by", "required", "say who approved the plan"),
                Some(by) => c.optional_text("approved_by", Some(by), 300),
            }
            match &next.approval_reference {
                None => c.push("approval_reference", "required", "give the approval act, e.g. Acta No. 05 de 2024"),
                Some(reference) => c.optional_text("approval_reference", Some(reference), 300),
            }
            c.finish()?;
            if newer_in_force(conn, next).await? > 0 {
                return Err(ApiError::conflict(
                    ErrorCode::InvalidTransition,
                    "A newer version of this plan was already approved",
                    "Ya se aprobó una versión posterior de este plan",
                ));
            }
        }
        Transition::Start => {}
        Transition::Close => {
            let open = super::plan_actions::open_count(conn, next.id).await?;
            if open > 0 {
                return Err(ApiError::conflict(
                    ErrorCode::InvalidTransition,
                    format!("{open} actions are still planned or in progress; finish or cancel them first"),
                    format!("{open} acciones siguen planeadas o en ejecución; termínelas o cancélelas primero"),
                ));
            }
        }
        Transition::Cancel(reason) => {
            let mut c = Checks::new();
            c.text("reason", reason, 2000);
            c.finish()?;
            next.cancellation_reason = Some(reason.trim().to_string());
        }
    }
    Ok(())
}

/// Marks the earlier versions in force (`approved`, `in_progress`) of an approved plan as `superseded`.
async fn supersede_earlier(conn: &impl ConnectionTrait, actor: &Actor, approved: &plan::Model) -> Result<(), ApiError> {
    let earlier = scoped::<plan::Entity>(approved.organization_id)
        .filter(plan::Column::Code.eq(approved.code.as_str()))
        .filter(plan::Column::PlanVersion.lt(approved.plan_version))
        .filter(plan::Column::Status.is_in([PlanStatus::Approved, PlanStatus::InProgress]))
        .order_by_asc(plan::Column::PlanVersion)
        .lock_exclusive_on_postgres(conn)
        .all(conn)
        .await?;
    for old in earlier {
        let before = response(conn, old.clone()).await?;
        let mut next = old.clone();
        next.status = PlanStatus::Superseded;
        next.updated_at = super::now();
        next.updated_by = actor.id;
        next.version = old.version + 1;
        update_versioned(conn, old.organization_id, old.id, old.version, plan::ActiveModel::from(next.clone())).await?;
        let after = response(conn, next).await?;
        audit::record(
            conn,
            actor,
            Entry::new(old.organization_id, AuditResource::Plan, old.id, AuditOperation::Supersede)
                .before(&before)
                .after(&after),
        )
        .await?;
        super::events::record(
            conn,
            old.organization_id,
            EventType::PlanStatusChanged,
            AuditResource::Plan,
            old.id,
            &after,
        )
        .await?;
    }
    Ok(())
}

/// Applies a transition to plan `id`, which the caller read at `expected_version`.
pub async fn apply(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, t: Transition,
) -> Result<PlanResponse, ApiError> {
    let current = find_for_update(conn, org, id).await?;
    // A malformed body is reported before a stale version: fixing the body comes first.
    check_input(&t)?;
    ApiError::check_version(current.version, expected_version)?;
    if !t.allowed_from().contains(&current.status) {
        return Err(refused(&t, current.status));
    }
    let mut next = current.clone();
    prepare(conn, &t, &mut next).await?;
    next.status = t.target();
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    let before = response(conn, current.clone()).await?;
    update_versioned(conn, org, id, current.version, plan::ActiveModel::from(next.clone())).await?;
    if next.status == PlanStatus::Approved {
        supersede_earlier(conn, actor, &next).await?;
    }
    let after = response(conn, next).await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::Plan, id, t.operation()).before(&before).after(&after))
        .await?;
    super::events::record(conn, org, EventType::PlanStatusChanged, AuditResource::Plan, id, &after).await?;
    Ok(after)
}

/// Creates the next version of plan `id` as a draft: its fields (except approval and
/// cancellation), objective links, categories and open actions (planned or in progress, with
/// their links and ratings reset) are copied.
pub async fn new_version(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, req: CreatePlanVersionRequest,
) -> Result<PlanResponse, ApiError> {
    let source = find_for_update(conn, org, id).await?;
    if !matches!(source.status, PlanStatus::Approved | PlanStatus::InProgress | PlanStatus::Closed) {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!("A new version starts from an approved, in-progress or closed plan; this one is {}", source.status),
            format!(
                "Una nueva versión parte de un plan aprobado, en ejecución o cerrado; este está «{}»",
                source.status.label_es()
            ),
        ));
    }
    let latest: Option<i32> = scoped::<plan::Entity>(org)
        .filter(plan::Column::Code.eq(source.code.as_str()))
        .select_only()
        .column_as(plan::Column::PlanVersion.max(), "latest")
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten();
    if latest.is_some_and(|v| v > source.plan_version) {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "A newer version of this plan exists; start from the latest one",
            "Existe una versión posterior de este plan; parta de la más reciente",
        ));
    }
    let now = super::now();
    let mut model = source.clone();
    model.id = Uuid::now_v7();
    model.plan_version = source.plan_version + 1;
    model.status = PlanStatus::Draft;
    model.approved_by = None;
    model.approval_reference = None;
    model.approved_on = None;
    model.cancellation_reason = None;
    model.previous_version_id = Some(source.id);
    model.created_at = now;
    model.updated_at = now;
    model.created_by = actor.id;
    model.updated_by = actor.id;
    model.version = 1;
    if let Some(title) = req.title {
        model.title = title.trim().to_string();
    }
    if req.fiscal_year.is_some() {
        model.fiscal_year = req.fiscal_year;
    }
    if req.start_date.is_some() {
        model.start_date = req.start_date;
    }
    if req.end_date.is_some() {
        model.end_date = req.end_date;
    }
    Checks::run(plans::check, &model)?;
    let objective_ids = objective_links(conn, &[source.id]).await?.remove(&source.id).unwrap_or_default();
    plans::insert(conn, &model, &objective_ids).await?;
    let category_ids = categories::copy_all(conn, actor, &source, &model).await?;
    super::plan_actions::copy_open(conn, actor, &source, &model, &category_ids).await?;
    let created = response(conn, model).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Plan, created.id, AuditOperation::CreateVersion).after(&created),
    )
    .await?;
    Ok(created)
}

/// `FOR UPDATE` on PostgreSQL; SQLite serializes writers anyway.
trait LockOnPostgres: Sized {
    fn lock_exclusive_on_postgres(self, conn: &impl ConnectionTrait) -> Self;
}

impl<E: sea_orm::EntityTrait> LockOnPostgres for sea_orm::Select<E> {
    fn lock_exclusive_on_postgres(self, conn: &impl ConnectionTrait) -> Self {
        if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.lock_exclusive()
        } else {
            self
        }
    }
}
