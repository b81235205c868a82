//! Reporting periods (cortes): `/reporting-periods`, their closing, filing and reopening, the
//! stored figures and the exports read from them.
use crate::auth::{Admin, AnyMember, Auth, PlanWriter};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::PeriodPath;
use crate::dto::reporting_periods::{
    CreateReportingPeriodRequest, FilePeriodRequest, NextSireciPeriodsRequest, ObservationsRequest,
    PeriodActionFigures, PeriodActionsQuery, PeriodExportDocument, PeriodExportQuery, PeriodListQuery,
    ReopenPeriodRequest, ReportingPeriodList, ReportingPeriodResponse,
};
use crate::dto::FileBytes;
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::reporting_periods::{self, export};
use crate::services::transaction;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use futures_util::StreamExt;
use utoipa_actix_web::service_config::ServiceConfig;

fn wire(period: reporting_periods::Period) -> ReportingPeriodResponse {
    ReportingPeriodResponse::new(period.0, period.1)
}

/// Create a reporting period
///
/// A cut-off (`cut_off_date`) with its filing deadline and the plans it covers (`plan_ids`;
/// absent: every plan in progress when it closes). A `sireci_semiannual` cut-off is 30 June or
/// 31 December, one per date (409 `already_exists`). A correction of a filed period is a period
/// of kind `other` whose `corrects_period_id` names it. The period starts `open`.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), request_body = CreateReportingPeriodRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = ReportingPeriodResponse, headers(("Location" = String, description = "URL of the period"), ("ETag" = String, description = "Version"))),
        (status = 409, description = "A SIRECI period with this cut-off exists", body = Problem),
        (status = 422, description = "Invalid fields (deadline before the cut-off, a SIRECI cut-off that is not 30 June or 31 December, unknown plans, a correction of a period that is not filed), or Idempotency-Key reused", body = Problem),
    ))]
#[post("/reporting-periods")]
pub async fn create_reporting_period(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateReportingPeriodRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_reporting_period", &body), async |txn| {
        let created = wire(reporting_periods::create(txn, &actor, auth.organization_id, body.clone()).await?);
        Reply::created(format!("/api/v1/reporting-periods/{}", created.id), created.meta.version, &created)
    })
    .await
}

/// Create the next SIRECI semiannual periods
///
/// One call for the next `count` (default 2) SIRECI cut-offs, 30 June and 31 December, on or
/// after `from` (default today, Colombia), each named `SIRECI <year> semestre <1|2>` with its
/// filing deadline `filing_days` (default 30) calendar days after the cut-off. Cut-offs that
/// already have a SIRECI period are returned as they are (201 when any was created, else 200).
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), request_body = NextSireciPeriodsRequest,
    params(IdempotencyKey),
    responses(
        (status = 200, description = "Every period existed already", body = ReportingPeriodList),
        (status = 201, description = "Created (with those that existed)", body = ReportingPeriodList),
        (status = 422, description = "`count` or `filing_days` out of range, or Idempotency-Key reused", body = Problem),
    ))]
#[post("/reporting-periods/sireci-semiannual")]
pub async fn create_sireci_periods(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<NextSireciPeriodsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_sireci_periods", &body), async |txn| {
        let (periods, created) =
            reporting_periods::next_sireci(txn, &actor, auth.organization_id, body.clone()).await?;
        let list = ReportingPeriodList { items: periods.into_iter().map(wire).collect() };
        Reply::with_status(if created { 201 } else { 200 }, &list)
    })
    .await
}

/// List reporting periods
///
/// Periods of the caller's organization, oldest first, with the stored figures of the plans
/// of each closed or filed one.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), params(PeriodListQuery), responses(
    (status = 200, description = "One page", body = Page<ReportingPeriodResponse>),
))]
#[get("/reporting-periods")]
pub async fn list_reporting_periods(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<PeriodListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams { limit: query.limit, cursor: query.cursor.clone() };
    let limit = page.limit()?;
    let after = page.cursor("")?.map(|c| c.id);
    let rows = reporting_periods::list(&state.db, auth.organization_id, query.status, query.kind, after, limit).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, "", |p| (None, p.0.id), wire)))
}

/// Get a reporting period
///
/// The period and, once closed, its covered plans' figures as of the cut-off.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), params(PeriodPath), responses(
    (status = 200, description = "The period", body = ReportingPeriodResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such period in your organization", body = Problem),
))]
#[get("/reporting-periods/{id}")]
pub async fn get_reporting_period(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PeriodPath>,
) -> Result<HttpResponse, ApiError> {
    let period = wire(reporting_periods::find(&state.db, auth.organization_id, id.id).await?);
    Ok(ok_tagged(period.meta.version, &period))
}

/// Close a reporting period
///
/// `open → closed`, once the cut-off date has come (Colombia). In one transaction it stores,
/// for every covered plan and action, the figures as of the cut-off: accepted quantity and
/// progress counting only evidence whose `cut_off_date` is on or before the cut-off and that is
/// accepted now, traffic light, overdue flag, compliance and effectiveness ratings and the
/// evidence counted (an action completed after the cut-off counts as not done yet), with the
/// SHA-256 of the snapshot's canonical form. The figures are never recomputed. From then on,
/// evidence dated on or before the cut-off cannot be reported, changed or reviewed for a
/// covered plan (409 `period_closed`).
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])),
    params(PeriodPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Closed", body = ReportingPeriodResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such period in your organization", body = Problem),
        (status = 409, description = "Not open, or the cut-off date has not come", body = Problem),
    ))]
#[post("/reporting-periods/{id}/close")]
pub async fn close_reporting_period(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PeriodPath>, if_match: IfMatch,
    key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = (id.id, if_match.required()?);
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("close_reporting_period", id, version), async |txn| {
        let period = wire(reporting_periods::close(txn, &actor, auth.organization_id, id, version).await?);
        Reply::ok(period.meta.version, &period)
    })
    .await
}

/// Reopen a closed reporting period
///
/// `closed → open`, by an administrator, with a reason kept in the audit trail: the stored
/// figures are discarded and the next closing takes them again. A filed period is never
/// reopened (409): correct it with a new period of kind `other` whose `corrects_period_id`
/// names it.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), request_body = ReopenPeriodRequest,
    params(PeriodPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Reopened", body = ReportingPeriodResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such period in your organization", body = Problem),
        (status = 409, description = "Not closed (a filed period is never reopened)", body = Problem),
        (status = 422, description = "Reason missing", body = Problem),
    ))]
#[post("/reporting-periods/{id}/reopen")]
pub async fn reopen_reporting_period(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<PeriodPath>, if_match: IfMatch, key: IdempotencyKey,
    body: Json<ReopenPeriodRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, version, body) = (id.id, if_match.required()?, body.into_inner());
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("reopen_reporting_period", id, version, &body), async |txn| {
        let reopened = reporting_periods::reopen(txn, &actor, auth.organization_id, id, version, body.reason.clone());
        let period = wire(reopened.await?);
        Reply::ok(period.meta.version, &period)
    })
    .await
}

/// Record the filing of a reporting period
///
/// `closed → filed`: when it was filed, the filing reference (such as the SIRECI receipt
/// number) and the SHA-256 of the exported file that was filed. The period is read-only from
/// then on, observations included.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), request_body = FilePeriodRequest,
    params(PeriodPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "Filed", body = ReportingPeriodResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such period in your organization", body = Problem),
        (status = 409, description = "Not closed", body = Problem),
        (status = 422, description = "Invalid fields (date in the future or before the cut-off, reference missing, SHA-256 malformed)", body = Problem),
    ))]
#[post("/reporting-periods/{id}/file")]
pub async fn file_reporting_period(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PeriodPath>, if_match: IfMatch,
    key: IdempotencyKey, body: Json<FilePeriodRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, version, body) = (id.id, if_match.required()?, body.into_inner());
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("file_reporting_period", id, version, &body), async |txn| {
        let filed = reporting_periods::file(txn, &actor, auth.organization_id, id, version, body.clone());
        let period = wire(filed.await?);
        Reply::ok(period.meta.version, &period)
    })
    .await
}

/// Record observations on a closed period's actions
///
/// Sets (or, with `null`, clears) the observation of each listed action of the snapshot; the
/// SIRECI export prints it in OBSERVACIONES. Only while the period is closed and not filed.
/// The figures themselves never change.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])), request_body = ObservationsRequest,
    params(PeriodPath, IfMatch),
    responses(
        (status = 200, description = "Recorded", body = ReportingPeriodResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such period in your organization", body = Problem),
        (status = 409, description = "Not closed (open, or filed and read-only)", body = Problem),
        (status = 422, description = "Invalid items (an action not in the snapshot, too long, repeated)", body = Problem),
    ))]
#[post("/reporting-periods/{id}/observations")]
pub async fn record_period_observations(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<PeriodPath>, if_match: IfMatch,
    body: Json<ObservationsRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, version, body) = (id.id, if_match.required()?, body.into_inner());
    let actor = Actor::from(&auth.principal);
    let period = transaction(&state.db, async |txn| {
        reporting_periods::observe(txn, &actor, auth.organization_id, id, version, body).await
    })
    .await
    .map(wire)?;
    Ok(ok_tagged(period.meta.version, &period))
}

/// List a period's action figures
///
/// The stored figures of each covered action as of the cut-off (empty while open), by action id.
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])),
    params(PeriodPath, PeriodActionsQuery),
    responses(
        (status = 200, description = "One page", body = Page<PeriodActionFigures>),
        (status = 404, description = "No such period in your organization", body = Problem),
    ))]
#[get("/reporting-periods/{id}/actions")]
pub async fn list_period_actions(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PeriodPath>, query: web::Query<PeriodActionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams { limit: query.limit, cursor: query.cursor.clone() };
    let limit = page.limit()?;
    let after = page.cursor("")?.map(|c| c.id);
    let rows = reporting_periods::actions(&state.db, auth.organization_id, id.id, query.plan_id, after, limit).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, "", |r| (None, r.action_id), PeriodActionFigures::from)))
}

/// Export a reporting period
///
/// The period's stored figures as a file, byte-identical on every call whatever changes later
/// in plans, actions or evidence (compare SHA-256). `layout=sireci-f14-1` (default): the
/// Contraloría form F14.1, modality `2 AVANCE ó SEGUIMIENTO`, with the comptroller rows of every
/// covered plan numbered across plans, AVANCE FÍSICO from the snapshot and the period's
/// observation in OBSERVACIONES. `layout=ti-pl03`: one TI.PL03 matrix per covered plan with the
/// plan's figures at the cut-off. Every file names the period, its cut-off and the snapshot's
/// SHA-256. `format=xlsx` (default), `csv` or `json`. An open period has nothing to export (409).
#[utoipa::path(tag = "reporting-periods", security(("bearer" = [])),
    params(PeriodPath, PeriodExportQuery),
    responses(
        (status = 200, description = "The file, as an attachment",
            headers(("Content-Disposition" = String, description = "attachment; filename=corte-<cut-off>-<layout>.<ext>")),
            content(
                (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
                (PeriodExportDocument = "application/json"),
            )),
        (status = 404, description = "No such period in your organization", body = Problem),
        (status = 409, description = "The period is open", body = Problem),
    ))]
#[get("/reporting-periods/{id}/export")]
pub async fn export_reporting_period(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PeriodPath>, query: web::Query<PeriodExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let layout = query.layout.unwrap_or(crate::dto::plan_matrix::ExportLayout::SireciF141);
    let format = query.format.unwrap_or(crate::dto::plan_matrix::ExportFormat::Xlsx);
    let file = export::open(&state.db, auth.organization_id, id.id, layout, format).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file.name)))
        .streaming(file.body.map(|piece| piece.map_err(|e| std::io::Error::other(e.to_string())))))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_reporting_period)
        .service(create_sireci_periods)
        .service(list_reporting_periods)
        .service(get_reporting_period)
        .service(close_reporting_period)
        .service(reopen_reporting_period)
        .service(file_reporting_period)
        .service(record_period_observations)
        .service(list_period_actions)
        .service(export_reporting_period);
}
