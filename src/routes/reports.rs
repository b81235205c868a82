//! Progress reports: a plan's report and the organization's dashboard (every member reads).
use crate::auth::{AnyMember, Auth};
use crate::dto::paths::PlanPath;
use crate::dto::reports::{Dashboard, PlanReport};
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_or_not_modified, IfNoneMatch};
use crate::services::{calendar, report_cache};
use crate::state::AppState;
use actix_web::{get, web, HttpRequest, HttpResponse};
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
///
/// The `ETag` changes whenever anything in the organization changes (or the day does); send it
/// back in `If-None-Match` to get `304` while the report is unchanged.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(PlanPath, IfNoneMatch), responses(
    (status = 200, description = "The report", body = PlanReport, headers(("ETag" = String, description = "Version of the report"))),
    (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`", headers(("ETag" = String, description = "Version of the report"))),
    (status = 404, description = "No such plan in your organization", body = Problem),
))]
#[get("/plans/{id}/report")]
pub async fn plan_report(
    req: HttpRequest, auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PlanPath>,
) -> Result<HttpResponse, ApiError> {
    let org = auth.organization_id;
    let report = report_cache::plan_report(&state.reads, &state.reports, org, id.id, calendar::today()).await?;
    ok_or_not_modified(&req, &report.tag, &*report.value)
}

/// Get the organization's dashboard
///
/// The organization at a glance, as of today (Colombia): plans by status, unfinished actions
/// overdue and due within 30 days, findings by severity and by status, evidence waiting for
/// review and the oldest open finding. Computed with SQL aggregates. `periods`: each closed or
/// filed reporting period's stored figures (mean over its plans), by cut-off; `next_cut_off`:
/// the next unfiled period and the days left to its filing deadline.
///
/// The `ETag` changes whenever anything in the organization changes (or the day does); send it
/// back in `If-None-Match` to get `304` while the dashboard is unchanged.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(IfNoneMatch), responses(
    (status = 200, description = "The dashboard", body = Dashboard, headers(("ETag" = String, description = "Version of the dashboard"))),
    (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`", headers(("ETag" = String, description = "Version of the dashboard"))),
))]
#[get("/dashboard")]
pub async fn dashboard(
    req: HttpRequest, auth: Auth<AnyMember>, state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = report_cache::dashboard(&state.reads, &state.reports, auth.organization_id, calendar::today()).await?;
    ok_or_not_modified(&req, &report.tag, &*report.value)
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(plan_report).service(dashboard);
}
