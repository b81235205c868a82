//! Progress reports: a plan's report and the organization's dashboard (every member reads).
use crate::auth::{AnyMember, Auth};
use crate::dto::paths::PlanPath;
use crate::dto::reports::{Dashboard, PlanReport};
use crate::error::{ApiError, Problem};
use crate::services::{calendar, reports};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Get a plan's progress report
///
/// Figures of the plan as of today (Colombia): per category score, target, gap and maturity
/// band (0 `nonexistent`, up to 20 `initial`, 40 `repeatable`, 60 `effective`, 80 `managed`,
/// above `optimised`); actions by status and traffic light; progress, compliance and
/// effectiveness percentages; overdue actions; findings covered (linked to the plan or to its
/// actions) and still open; objectives served by the plan or its actions. Computed with SQL
/// aggregates. `periods`: the plan's stored figures in each closed or filed reporting period,
/// by cut-off; `next_cut_off`: the next unfiled period covering it and the days left to file.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(PlanPath), responses(
    (status = 200, description = "The report", body = PlanReport),
    (status = 404, description = "No such plan in your organization", body = Problem),
))]
#[get("/plans/{id}/report")]
pub async fn plan_report(
    auth: Auth<AnyMember>,
    state: web::Data<AppState>,
    id: web::Path<PlanPath>,
) -> Result<HttpResponse, ApiError> {
    let report = reports::plan_report(&state.db, auth.organization_id, id.id, calendar::today()).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Get the organization's dashboard
///
/// The organization at a glance, as of today (Colombia): plans by status, unfinished actions
/// overdue and due within 30 days, findings by severity and by status, evidence waiting for
/// review and the oldest open finding. Computed with SQL aggregates. `periods`: each closed or
/// filed reporting period's stored figures (mean over its plans), by cut-off; `next_cut_off`:
/// the next unfiled period and the days left to its filing deadline.
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses(
    (status = 200, description = "The dashboard", body = Dashboard),
))]
#[get("/dashboard")]
pub async fn dashboard(auth: Auth<AnyMember>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(reports::dashboard(&state.db, auth.organization_id, calendar::today()).await?))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(plan_report).service(dashboard);
}
