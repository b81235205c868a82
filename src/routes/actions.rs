//! Improvement actions: `/plans/{id}/actions`, `/actions`, `/actions/{id}`, the control
//! office's evaluation and reformulation of ineffective actions.
use crate::auth::{AnyMember, AuditorOnly, Auth, PlanWriter};
use crate::dto::actions::{
    ActionListQuery, ActionResponse, CreateActionRequest, EvaluateActionRequest, ReformulateActionRequest,
    UpdateActionRequest,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::{ActionPath, PlanPath};
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::transaction;
use crate::services::{action_evaluation, action_queries, actions};
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Add an action to a plan
///
/// Adds an improvement action to a `draft` or `submitted` plan, optionally linked to one of
/// its categories, to findings and to objectives. `number` defaults to the next free one.
#[utoipa::path(tag = "actions", security(("bearer" = [])), request_body = CreateActionRequest,
    params(PlanPath, IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = ActionResponse, headers(("Location" = String, description = "URL of the action"), ("ETag" = String, description = "Version"))),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "The plan is no longer editable, or the number is taken", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/plans/{id}/actions")]
pub async fn create_action(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PlanPath>, key: IdempotencyKey,
    body: Json<CreateActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let plan_id = id.id;
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_action", plan_id, &body), async |txn| {
        let created = actions::create(txn, &actor, auth.organization_id, plan_id, body.clone()).await?;
        Reply::created(format!("/api/v1/actions/{}", created.id), created.meta.version, &created)
    })
    .await
}

/// List a plan's actions
///
/// The plan's actions with the filters of `GET /actions` (its `plan_id` is the path's).
#[utoipa::path(tag = "actions", security(("bearer" = [])),
    params(PlanPath, ActionListQuery, PageParams),
    responses(
        (status = 200, description = "One page", body = Page<ActionResponse>),
        (status = 404, description = "No such plan in your organization", body = Problem),
    ))]
#[get("/plans/{id}/actions")]
pub async fn list_plan_actions(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PlanPath>, query: web::Query<ActionListQuery>,
) -> Result<HttpResponse, ApiError> {
    crate::services::plans::ensure_exists(&state.db, auth.organization_id, id.id).await?;
    let mut query = query.into_inner();
    query.plan_id = Some(id.id);
    Ok(HttpResponse::Ok().json(action_queries::list(&state.db, auth.organization_id, &query).await?))
}

/// List actions
///
/// Actions of the caller's organization with filters (plan, category, state, responsible,
/// overdue, due dates) and keyset pagination.
#[utoipa::path(tag = "actions", security(("bearer" = [])), params(ActionListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<ActionResponse>),
))]
#[get("/actions")]
pub async fn list_actions(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<ActionListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(action_queries::list(&state.db, auth.organization_id, &query).await?))
}

/// Get an action
#[utoipa::path(tag = "actions", security(("bearer" = [])), params(ActionPath), responses(
    (status = 200, description = "The action", body = ActionResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such action in your organization", body = Problem),
))]
#[get("/actions/{id}")]
pub async fn get_action(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<ActionPath>,
) -> Result<HttpResponse, ApiError> {
    let body = actions::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(body.meta.version, &body))
}

/// Update an action (merge patch)
///
/// While the plan is `draft` or `submitted` any field may change. Once it is approved or
/// running only `status`, `completed_on`, `responsible_id` and `responsible_unit` may (409
/// `immutable` otherwise); nothing changes in closed, cancelled or superseded plans.
/// Status moves: `planned ↔ in_progress`, either `→ done` or `→ cancelled`, `done → in_progress`
/// while unrated; accepted evidence also moves it (see `POST /evidence/{id}/review`). Dates must
/// stay inside the plan's window (422 `outside_plan_window`).
#[utoipa::path(tag = "actions", security(("bearer" = [])), request_body(content = UpdateActionRequest, content_type = "application/merge-patch+json"),
    params(ActionPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = ActionResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such action in your organization", body = Problem),
        (status = 409, description = "Not editable in the plan's state, or a status change not allowed", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/actions/{id}")]
pub async fn update_action(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<ActionPath>, if_match: IfMatch,
    body: Json<UpdateActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        actions::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner())
            .await
    })
    .await?;
    Ok(ok_tagged(updated.meta.version, &updated))
}

/// Delete an action
///
/// Only actions of `draft` or `submitted` plans without evidence; others are cancelled with
/// `status: cancelled`.
#[utoipa::path(tag = "actions", security(("bearer" = [])),
    params(ActionPath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such action in your organization", body = Problem),
        (status = 409, description = "The plan is no longer editable, or the action has evidence", body = Problem),
    ))]
#[delete("/actions/{id}")]
pub async fn delete_action(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<ActionPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        actions::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rate an action's compliance and effectiveness
///
/// For auditors (control office), on actions of approved, running or closed plans.
/// Segregation of duties: the action's responsible user cannot rate it (403
/// `segregation_of_duties`). `met` and `met_late` need the action `done`; an action completed
/// after its due date is `met_late`, never `met` (422 `late`).
#[utoipa::path(tag = "actions", security(("bearer" = [])), request_body = EvaluateActionRequest,
    params(ActionPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Rated", body = ActionResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Your roles do not allow it, or you are responsible for the action", body = Problem),
        (status = 404, description = "No such action in your organization", body = Problem),
        (status = 409, description = "The plan or action is not rated in its state", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/actions/{id}/evaluation")]
pub async fn evaluate_action(
    auth: Auth<AuditorOnly>, state: web::Data<AppState>, id: web::Path<ActionPath>, if_match: IfMatch,
    key: IdempotencyKey, body: Json<EvaluateActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let (id, body) = (id.id, body.into_inner());
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("evaluate_action", id, version, &body), async |txn| {
        let rated = action_evaluation::evaluate(txn, &actor, auth.organization_id, id, version, body.clone()).await?;
        Reply::ok(rated.meta.version, &rated)
    })
    .await
}

/// Reformulate an ineffective action
///
/// Creates a new action in the same plan, linked with `reformulated_from_id`, for an action
/// rated `not_effective`; type, focus, category, findings and objectives are copied. An action
/// is reformulated once.
#[utoipa::path(tag = "actions", security(("bearer" = [])), request_body = ReformulateActionRequest,
    params(("id" = Uuid, Path, description = "Id of the ineffective action"), IdempotencyKey),
    responses(
        (status = 201, description = "The new action", body = ActionResponse, headers(("Location" = String, description = "URL of the new action"), ("ETag" = String, description = "Version"))),
        (status = 404, description = "No such action in your organization", body = Problem),
        (status = 409, description = "Not rated not effective, already reformulated, or the plan is finished", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[post("/actions/{id}/reformulations")]
pub async fn reformulate_action(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<Uuid>, key: IdempotencyKey,
    body: Json<ReformulateActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (*id, body.into_inner());
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("reformulate_action", id, &body), async |txn| {
        let created = action_evaluation::reformulate(txn, &actor, auth.organization_id, id, body.clone()).await?;
        Reply::created(format!("/api/v1/actions/{}", created.id), created.meta.version, &created)
    })
    .await
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_action)
        .service(list_plan_actions)
        .service(list_actions)
        .service(get_action)
        .service(update_action)
        .service(delete_action)
        .service(evaluate_action)
        .service(reformulate_action);
}
