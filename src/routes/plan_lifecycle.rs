//! Plan lifecycle: `POST /plans/{id}/submit|approve|start|close|cancel` and new versions.
//! Each transition needs the plan's `If-Match` and accepts an `Idempotency-Key`.
use crate::auth::{Auth, PlanWriter};
use crate::dto::paths::PlanPath;
use crate::dto::plan_lifecycle::{ApprovePlanRequest, CancelPlanRequest, CreatePlanVersionRequest};
use crate::dto::plans::PlanResponse;
use crate::error::{ApiError, Problem};
use crate::http::etag::IfMatch;
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::plan_lifecycle::{self, Transition};
use crate::state::AppState;
use actix_web::{post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// A transition without a body: `POST /plans/{id}/<name>` with `If-Match` and an optional
/// `Idempotency-Key`, handled by [`run`].
macro_rules! transition {
    ($(#[$attr:meta])* $name:ident, $path:literal, $transition:expr) => {
        $(#[$attr])*
        #[post($path)]
        pub async fn $name(
            auth: Auth<PlanWriter>,
            state: web::Data<AppState>,
            id: web::Path<PlanPath>,
            if_match: IfMatch,
            key: IdempotencyKey,
        ) -> Result<HttpResponse, ApiError> {
            run(auth, state, id.id, if_match, key, $transition).await
        }
    };
}

/// Runs a transition in one transaction and replies `200` with the plan and its new `ETag`.
async fn run(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: Uuid, if_match: IfMatch, key: IdempotencyKey,
    transition: Transition,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let actor = Actor::from(&auth.principal);
    let fingerprint = (transition.operation(), id, version, format!("{transition:?}"));
    idempotency::write(&state.db, &auth, &key, &fingerprint, async |txn| {
        let plan = plan_lifecycle::apply(txn, &actor, auth.organization_id, id, version, transition.clone()).await?;
        Reply::ok(plan.row_version, &plan)
    })
    .await
}

transition! {
    /// Submit a plan for approval
    ///
    /// `draft → submitted`. The plan needs `start_date`, `end_date` (422 naming them) and at
    /// least one category (409 `invalid_transition`).
    #[utoipa::path(tag = "plans", security(("bearer" = [])),
        params(PlanPath, IfMatch, IdempotencyKey),
        responses(
            (status = 200, description = "Submitted", body = PlanResponse, headers(("ETag" = String, description = "New version"))),
            (status = 404, description = "No such plan in your organization", body = Problem),
            (status = 409, description = "Not a draft, or no categories", body = Problem),
            (status = 422, description = "Implementation window missing", body = Problem),
        ))]
    submit_plan, "/plans/{id}/submit", Transition::Submit
}

/// Record the approval of a plan
///
/// `submitted → approved`. `approved_by` and `approval_reference` must be given here or be
/// on the plan already (422 naming them); `approved_on` defaults to today (Colombia). Earlier
/// versions of the same code that are `approved` or `in_progress` become `superseded`.
#[utoipa::path(tag = "plans", security(("bearer" = [])), request_body = ApprovePlanRequest,
    params(PlanPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Approved", body = PlanResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "Not submitted, or a newer version is already approved", body = Problem),
        (status = 422, description = "Approver or approval act missing", body = Problem),
    ))]
#[post("/plans/{id}/approve")]
pub async fn approve_plan(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PlanPath>, if_match: IfMatch,
    key: IdempotencyKey, body: Json<ApprovePlanRequest>,
) -> Result<HttpResponse, ApiError> {
    run(auth, state, id.id, if_match, key, Transition::Approve(body.into_inner())).await
}

transition! {
    /// Start carrying out a plan
    ///
    /// `approved → in_progress`.
    #[utoipa::path(tag = "plans", security(("bearer" = [])),
        params(PlanPath, IfMatch, IdempotencyKey),
        responses(
            (status = 200, description = "Started", body = PlanResponse, headers(("ETag" = String, description = "New version"))),
            (status = 404, description = "No such plan in your organization", body = Problem),
            (status = 409, description = "Not approved", body = Problem),
        ))]
    start_plan, "/plans/{id}/start", Transition::Start
}

transition! {
    /// Close a plan
    ///
    /// `in_progress → closed` once every action is `done` or `cancelled` (409 otherwise). A
    /// closed plan is read-only; the next round starts with `POST /plans/{id}/versions`.
    #[utoipa::path(tag = "plans", security(("bearer" = [])),
        params(PlanPath, IfMatch, IdempotencyKey),
        responses(
            (status = 200, description = "Closed", body = PlanResponse, headers(("ETag" = String, description = "New version"))),
            (status = 404, description = "No such plan in your organization", body = Problem),
            (status = 409, description = "Not in progress, or actions still open", body = Problem),
        ))]
    close_plan, "/plans/{id}/close", Transition::Close
}

/// Cancel a plan
///
/// `draft | submitted | approved | in_progress → cancelled`, with a reason kept on the plan.
#[utoipa::path(tag = "plans", security(("bearer" = [])), request_body = CancelPlanRequest,
    params(PlanPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Cancelled", body = PlanResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "Already closed, cancelled or superseded", body = Problem),
        (status = 422, description = "Reason missing", body = Problem),
    ))]
#[post("/plans/{id}/cancel")]
pub async fn cancel_plan(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PlanPath>, if_match: IfMatch,
    key: IdempotencyKey, body: Json<CancelPlanRequest>,
) -> Result<HttpResponse, ApiError> {
    run(auth, state, id.id, if_match, key, Transition::Cancel(body.into_inner().reason)).await
}

/// Start the next version of a plan
///
/// Creates version N+1 of an `approved`, `in_progress` or `closed` plan (the latest of its
/// code) as a `draft`, copying its fields, objective links, categories and the actions not yet
/// finished (planned or in progress, ratings reset). Approving the new version marks this one
/// `superseded`.
#[utoipa::path(tag = "plans", security(("bearer" = [])), request_body = CreatePlanVersionRequest,
    params(("id" = Uuid, Path, description = "Id of the plan to copy"), IdempotencyKey),
    responses(
        (status = 201, description = "The new draft version", body = PlanResponse, headers(("Location" = String, description = "URL of the new version"), ("ETag" = String, description = "Version"))),
        (status = 404, description = "No such plan in your organization", body = Problem),
        (status = 409, description = "The plan is not approved, running or closed, or is not the latest version", body = Problem),
        (status = 422, description = "Invalid overrides", body = Problem),
    ))]
#[post("/plans/{id}/versions")]
pub async fn create_plan_version(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<Uuid>, key: IdempotencyKey,
    body: Json<CreatePlanVersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let id = *id;
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_plan_version", id, &body), async |txn| {
        let created = plan_lifecycle::new_version(txn, &actor, auth.organization_id, id, body.clone()).await?;
        Reply::created(format!("/api/v1/plans/{}", created.id), created.row_version, &created)
    })
    .await
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(submit_plan)
        .service(approve_plan)
        .service(start_plan)
        .service(close_plan)
        .service(cancel_plan)
        .service(create_plan_version);
}
