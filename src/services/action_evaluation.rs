//! The control office's side of an action: compliance and effectiveness ratings (with
//! segregation of duties) and the reformulation of actions rated not effective.
use super::actions::{find_with_plan, insert, next_number, response};
use super::audit::{self, Actor, Entry};
use super::objectives::clean;
use super::tenancy::{scoped, update_versioned};
use crate::dto::actions::{ActionResponse, EvaluateActionRequest, ReformulateActionRequest};
use crate::dto::validate::Checks;
use crate::entities::enums::EventType;
use crate::entities::enums::{
    ActionStatus, AuditOperation, AuditResource, ComplianceResult, EffectivenessResult, PlanStatus,
};
use crate::entities::{action, user};
use crate::error::{ApiError, ErrorCode, FieldError};
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// Plan states in which actions are rated.
const RATED_IN: &[PlanStatus] = &[PlanStatus::Approved, PlanStatus::InProgress, PlanStatus::Closed];

/// 403 `segregation_of_duties` when `actor` is or ever was responsible for the action: moving
/// the responsibility away for a moment does not make someone independent of their own work.
pub async fn ensure_not_responsible(
    conn: &impl ConnectionTrait, actor: &Actor, a: &action::Model,
) -> Result<(), ApiError> {
    let Some(me) = actor.id else { return Ok(()) };
    let was = a.responsible_id == Some(me)
        || audit::ever_held(conn, a.organization_id, AuditResource::Action, a.id, "responsible_id", me).await?;
    if was {
        return Err(ApiError::new(ErrorCode::SegregationOfDuties).detail(
            "You are or were responsible for this action and cannot rate it or review its evidence",
            "Usted es o fue responsable de esta acción y no puede calificarla ni revisar sus evidencias",
        ));
    }
    Ok(())
}

/// Records the compliance and effectiveness ratings of an action.
pub async fn evaluate(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: EvaluateActionRequest,
) -> Result<ActionResponse, ApiError> {
    let (current, owner) = find_with_plan(conn, org, id).await?;
    let mut c = Checks::new();
    c.optional_text("criterion", req.criterion.as_deref(), 2000);
    c.optional_text("note", req.note.as_deref(), 5000);
    if matches!(req.compliance, ComplianceResult::Met | ComplianceResult::MetLate)
        && current.status != ActionStatus::Done
    {
        c.push("compliance", "not_done", "an action is met only once it is done");
    }
    if let (ComplianceResult::Met, Some(done)) = (req.compliance, current.completed_on) {
        // The traffic light shows such an action amber; `met` would contradict it.
        if done > current.due_date {
            c.add(Some(
                FieldError::new(
                    "compliance",
                    "late",
                    format!(
                        "the action was completed on {done}, after its due date {}: rate it met_late",
                        current.due_date
                    ),
                )
                .with_spanish(format!(
                    "la acción se terminó el {done}, después de su fecha límite {}: califíquela met_late",
                    current.due_date
                )),
            ));
        }
    }
    c.finish()?;
    ensure_not_responsible(conn, actor, &current).await?;
    ApiError::check_version(current.version, expected_version)?;
    if !RATED_IN.contains(&owner.status) || current.status == ActionStatus::Cancelled {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "Only actions of approved, running or closed plans are rated, and never cancelled ones",
            "Solo se califican acciones no canceladas de planes aprobados, en ejecución o cerrados",
        ));
    }
    let before = response(conn, current.clone()).await?;
    let mut next = current.clone();
    next.compliance = req.compliance;
    next.effectiveness = req.effectiveness;
    next.evaluation_criterion = clean(req.criterion);
    next.evaluation_note = clean(req.note);
    next.evaluated_by = actor.id;
    next.evaluated_on = Some(super::calendar::today());
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, action::ActiveModel::from(next.clone())).await?;
    let after = response(conn, next).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Action, id, AuditOperation::Evaluate).before(&before).after(&after),
    )
    .await?;
    super::events::record(conn, org, EventType::ActionEvaluated, AuditResource::Action, id, &after).await?;
    Ok(after)
}

/// Creates a new action replacing `id`, which was rated `not_effective`.
pub async fn reformulate(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, req: ReformulateActionRequest,
) -> Result<ActionResponse, ApiError> {
    let (old, owner) = find_with_plan(conn, org, id).await?;
    let mut c = Checks::new();
    c.text("reason", &req.reason, 2000);
    c.finish()?;
    if let Some(responsible) = req.responsible_id {
        if scoped::<user::Entity>(org).filter(user::Column::Id.eq(responsible)).count(conn).await? == 0 {
            return Err(ApiError::field("responsible_id", "unknown_user", "no such user in your organization"));
        }
    }
    if old.effectiveness != EffectivenessResult::NotEffective {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "Only an action rated not effective is reformulated",
            "Solo se reformula una acción calificada como no efectiva",
        ));
    }
    if !matches!(
        owner.status,
        PlanStatus::Draft | PlanStatus::Submitted | PlanStatus::Approved | PlanStatus::InProgress
    ) {
        return Err(ApiError::conflict(
            ErrorCode::Immutable,
            format!("The plan is {}; add the reformulated action to its next version", owner.status),
            format!(
                "El plan está en estado «{}»; agregue la acción reformulada a su siguiente versión",
                owner.status.label_es()
            ),
        ));
    }
    let already = scoped::<action::Entity>(org).filter(action::Column::ReformulatedFromId.eq(id)).count(conn).await?;
    if already > 0 {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "This action was already reformulated",
            "Esta acción ya fue reformulada",
        ));
    }
    let (findings, objectives) = super::actions::links(conn, &[id]).await?;
    let now = super::now();
    let model = action::Model {
        id: Uuid::now_v7(),
        number: next_number(conn, old.plan_id).await?,
        title: req.title.map(|t| t.trim().to_string()).unwrap_or_else(|| old.title.clone()),
        description: req.description.map(|d| clean(Some(d))).unwrap_or_else(|| old.description.clone()),
        target_quantity: req.target_quantity.unwrap_or(old.target_quantity),
        responsible_id: req.responsible_id.or(old.responsible_id),
        start_date: req.start_date,
        due_date: req.due_date,
        status: ActionStatus::Planned,
        completed_on: None,
        compliance: ComplianceResult::Pending,
        effectiveness: EffectivenessResult::Pending,
        evaluated_by: None,
        evaluated_on: None,
        evaluation_criterion: None,
        evaluation_note: None,
        reformulated_from_id: Some(old.id),
        reformulation_reason: Some(req.reason.trim().to_string()),
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
        ..old.clone()
    };
    let mut c = Checks::new();
    super::actions::check(&mut c, &model);
    c.finish()?;
    let f = findings.get(&id).cloned().unwrap_or_default();
    let o = objectives.get(&id).cloned().unwrap_or_default();
    insert(conn, actor, model, &f, &o, AuditOperation::Reformulate).await
}
