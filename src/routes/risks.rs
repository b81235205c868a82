//! The digital-security risk register (mapa de riesgos): assets, risks, their controls, the
//! organization's risk appetite, reviews, incidents and the heat map.
use crate::auth::{AnyMember, Auth, PlanWriter, RiskIncidentReporter, RiskReviewer, RiskWriter};
use crate::dto::enums::ImportMode;
use crate::dto::finding_imports::ImportFileForm;
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::{AssetPath, RiskControlPath, RiskPath};
use crate::dto::risks::{
    AssetListQuery, AssetResponse, CreateAssetRequest, CreateRiskControlRequest, CreateRiskIncidentRequest,
    CreateRiskRequest, CreateRiskReviewRequest, HeatMapQuery, HeatMapResponse, RiskAppetiteResponse,
    RiskControlResponse, RiskExportQuery, RiskImportQuery, RiskImportResponse, RiskIncidentResponse, RiskListQuery,
    RiskResponse, RiskReviewResponse, RiskSheetFormat, SetRiskAppetiteRequest, UpdateAssetRequest,
    UpdateRiskControlRequest, UpdateRiskRequest,
};
use crate::dto::FileBytes;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::upload::{self, Upload};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::plan_matrix::sheet::workbook_xlsx;
use crate::services::risks::sheet::{self, SheetFormat};
use crate::services::risks::{self, assets, controls, heat_map, monitoring};
use crate::services::{calendar, spool, spreadsheet, transaction};
use crate::state::AppState;
use actix_web::http::header::{self, ContentDisposition};
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;

// ---------------------------------------------------------------- assets

/// Record an information asset
///
/// A critical information asset of a process with its owner, custodian, classification under
/// Ley 1712, personal data (Ley 1581) and confidentiality/integrity/availability values.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body = CreateAssetRequest, params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = AssetResponse, headers(("Location" = String, description = "URL of the asset"), ("ETag" = String, description = "Version"))),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/assets")]
pub async fn create_asset(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateAssetRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_asset", &body), async |txn| {
        let created = assets::create(txn, &actor, auth.organization_id, body.clone()).await?;
        Reply::created(format!("/api/v1/assets/{}", created.id), created.version, &AssetResponse::from(created))
    })
    .await
}

/// List information assets
///
/// Assets of the caller's organization, oldest first.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(AssetListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<AssetResponse>),
))]
#[get("/assets")]
pub async fn list_assets(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<AssetListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(assets::list(&state.db, auth.organization_id, &query).await?))
}

/// Get an information asset
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(AssetPath), responses(
    (status = 200, description = "The asset", body = AssetResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such asset in your organization", body = Problem),
))]
#[get("/assets/{id}")]
pub async fn get_asset(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<AssetPath>,
) -> Result<HttpResponse, ApiError> {
    let found = assets::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update an information asset (merge patch)
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body(content = UpdateAssetRequest, content_type = "application/merge-patch+json"),
    params(AssetPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = AssetResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such asset in your organization", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/assets/{id}")]
pub async fn update_asset(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<AssetPath>, if_match: IfMatch,
    body: Json<UpdateAssetRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        assets::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner())
            .await
    })
    .await?;
    Ok(ok_tagged(updated.version, &AssetResponse::from(updated)))
}

/// Delete an information asset
///
/// Only assets no risk names can be deleted.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(AssetPath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such asset in your organization", body = Problem),
        (status = 409, description = "Risks still name it", body = Problem),
    ))]
#[delete("/assets/{id}")]
pub async fn delete_asset(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, id: web::Path<AssetPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        assets::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- appetite and heat map

/// Get the risk appetite
///
/// The highest residual zone the organization tolerates without treatment (default `low`).
/// `ETag` `"v0"` means it was never set.
#[utoipa::path(tag = "risks", security(("bearer" = [])), responses(
    (status = 200, description = "The appetite", body = RiskAppetiteResponse, headers(("ETag" = String, description = "Version"))),
))]
#[get("/risk-appetite")]
pub async fn get_risk_appetite(auth: Auth<AnyMember>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let found = risks::get_appetite(&state.db, auth.organization_id).await?;
    Ok(ok_tagged(found.version, &found))
}

/// Set the risk appetite
///
/// A risk whose residual zone is above it must be accepted (with an approver other than its
/// owner and an expiry date) or treated by at least one improvement action.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body = SetRiskAppetiteRequest, params(IfMatch),
    responses(
        (status = 200, description = "Set", body = RiskAppetiteResponse, headers(("ETag" = String, description = "New version"))),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[put("/risk-appetite")]
pub async fn set_risk_appetite(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, if_match: IfMatch, body: Json<SetRiskAppetiteRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let set = transaction(&state.db, async |txn| {
        risks::set_appetite(txn, &Actor::from(&auth.principal), auth.organization_id, version, body.into_inner()).await
    })
    .await?;
    Ok(ok_tagged(set.version, &set))
}

/// Heat map of risks
///
/// Risks counted per cell of the DAFP 5 × 5 map (probability × impact) and per zone, for the
/// inherent (default) or the residual valuation; filters by process and kind.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(HeatMapQuery), responses(
    (status = 200, description = "The heat map", body = HeatMapResponse),
))]
#[get("/risks/heat-map")]
pub async fn risk_heat_map(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<HeatMapQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(heat_map::heat_map(&state.db, auth.organization_id, &query).await?))
}

// ---------------------------------------------------------------- export and import

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Export the risk map
///
/// The mapa de riesgos in the layout entities keep: one row per risk–control pair (a risk
/// without controls has one row), Spanish headers and labels, owners and approvers by e-mail,
/// assets by name, actions and findings by id; the inherent and residual valuation and the
/// control weights as computed now. `format=xlsx` (default) or `csv` (UTF-8 with BOM).
/// `POST /risks/imports` reads it back.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskExportQuery), responses(
    (status = 200, description = "The file, as an attachment",
        headers(("Content-Disposition" = String, description = "attachment; filename=mapa-de-riesgos-<date>.<ext>")),
        content((String = "text/csv"), (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
))]
#[get("/risks/export")]
pub async fn export_risks(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<RiskExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let today = calendar::today();
    let sheet = risks::export(&state.db, auth.organization_id, &query, today).await?;
    let (content_type, ext, bytes) = match query.format.unwrap_or_default() {
        RiskSheetFormat::Csv => ("text/csv; charset=utf-8", "csv", sheet.to_csv().map_err(ApiError::internal)?),
        RiskSheetFormat::Xlsx => {
            // Stamped with the day, not the instant: the same register gives the same bytes.
            let created = today.and_time(chrono::NaiveTime::MIN).and_utc();
            let book = workbook_xlsx(&[(sheet.title.clone(), sheet)], &created).map_err(ApiError::internal)?;
            (XLSX, "xlsx", book)
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(ContentDisposition::attachment(format!("mapa-de-riesgos-{today}.{ext}")))
        .body(bytes))
}

/// Import a risk map
///
/// Reads the export's layout (CSV or XLSX; the header row is the one starting with `CÓDIGO`,
/// columns are found by header, labels in Spanish or English or codes): consecutive rows with
/// the same code are one risk with its controls in order. Computed columns are ignored and
/// computed again. Owners and approvers are found by e-mail, assets by name. `mode=atomic`
/// (default): any invalid row answers 422 `import_rejected` with every row error and writes
/// nothing; `partial`: valid risks are written, invalid ones listed in `errors`. `dry_run=true`
/// checks everything and writes nothing. Same reading limits as the other imports.
#[utoipa::path(tag = "risks", security(("bearer" = [])),
    request_body(description = "The risk map: CSV or an XLSX workbook, as the body itself or as the part `file` of a multipart/form-data body",
        content(
            (FileBytes = "text/csv"),
            (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (ImportFileForm = "multipart/form-data", encoding(("file" = (content_type = "text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
        )),
    params(RiskImportQuery, IdempotencyKey),
    responses(
        (status = 200, description = "Dry run: what would be created", body = RiskImportResponse),
        (status = 201, description = "Risks created", body = RiskImportResponse),
        (status = 400, description = "Malformed CSV, or the body ended before it was complete", body = Problem),
        (status = 408, description = "`upload_stalled`: no bytes arrived for MEJORA_UPLOAD_IDLE_TIMEOUT seconds; nothing was written", body = Problem),
        (status = 413, description = "`payload_too_large` or `spreadsheet_too_large` (MEJORA_IMPORT_LIMIT, MEJORA_SHEET_*)", body = Problem),
        (status = 415, description = "Not CSV or XLSX", body = Problem),
        (status = 422, description = "`import_rejected`: invalid rows (each with `row`, `field`, `code`, `message`); `validation_failed`: no header row or missing columns, or Idempotency-Key reused", body = Problem),
    ))]
#[post("/risks/imports")]
pub async fn import_risks(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, key: IdempotencyKey, query: web::Query<RiskImportQuery>,
    req: HttpRequest, payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let received =
        spool::Limits { max_bytes: state.config.import_limit as u64, idle: state.config.upload_idle_timeout };
    let upload = upload::open(&req, payload, received.max_bytes).await?;
    let format = sheet_format(&upload)?;
    let body = spool::collect(upload, received).await?;
    let query = query.into_inner();
    let limits = spreadsheet::Limits::matrix().with(&state.config.sheet_limits);
    let parsed = sheet::parse(format, &body, &limits)?;
    let (actor, org) = (Actor::from(&auth.principal), auth.organization_id);
    let mode = query.mode.unwrap_or(ImportMode::Atomic);
    if query.dry_run.unwrap_or(false) {
        return Ok(HttpResponse::Ok().json(sheet::dry_run(&state.db, &actor, org, format, mode, parsed).await?));
    }
    let sha = hex::encode(Sha256::digest(&body));
    idempotency::write(&state.db, &auth, &key, &("import_risks", &query, format.as_str(), &sha), async |txn| {
        let result = sheet::write(txn, &actor, org, format, mode, parsed.clone()).await?;
        Reply::with_status(201, &result)
    })
    .await
}

fn sheet_format(upload: &Upload) -> Result<SheetFormat, ApiError> {
    let unsupported = || {
        ApiError::new(ErrorCode::UnsupportedMediaType).detail(
            format!("Send the risk map as text/csv or {XLSX} (the body, or a multipart part named file)"),
            format!("Envíe el mapa de riesgos como text/csv o {XLSX} (el cuerpo, o una parte multipart llamada file)"),
        )
    };
    let mime = upload.effective_media_type().ok_or_else(unsupported)?;
    match (mime.type_().as_str(), mime.subtype().as_str()) {
        ("text" | "application", "csv") => Ok(SheetFormat::Csv),
        ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet") => Ok(SheetFormat::Xlsx),
        _ => Err(unsupported()),
    }
}

// ---------------------------------------------------------------- risks

/// Create a risk
///
/// A risk in the DAFP shape (impact + immediate cause + root cause) with its exposure
/// frequency and impact criteria, optionally with its controls. The service computes the
/// inherent valuation (probability from the frequency, impact as the larger of the economic and
/// reputational criteria, zone from the heat map) and the residual one (controls in order). A
/// residual zone above the appetite needs an acceptance or at least one linked action.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body = CreateRiskRequest, params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = RiskResponse, headers(("Location" = String, description = "URL of the risk"), ("ETag" = String, description = "Version"))),
        (status = 403, description = "A responsible may only create risks they own", body = Problem),
        (status = 409, description = "Code already used", body = Problem),
        (status = 422, description = "Invalid fields, treatment required, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/risks")]
pub async fn create_risk(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateRiskRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_risk", &body), async |txn| {
        let created = risks::create(txn, &actor, auth.organization_id, body.clone()).await?;
        Reply::created(format!("/api/v1/risks/{}", created.id), created.meta.version, &created)
    })
    .await
}

/// List risks
///
/// Risks of the caller's organization, oldest first, with their controls and links.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<RiskResponse>),
))]
#[get("/risks")]
pub async fn list_risks(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<RiskListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(risks::list(&state.db, auth.organization_id, &query).await?))
}

/// Get a risk
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskPath), responses(
    (status = 200, description = "The risk", body = RiskResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such risk in your organization", body = Problem),
))]
#[get("/risks/{id}")]
pub async fn get_risk(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<RiskPath>,
) -> Result<HttpResponse, ApiError> {
    let found = risks::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a risk (merge patch)
///
/// Valuation criteria, treatment (accepting needs an approver other than the owner and an
/// expiry date) and links; the valuation is recomputed.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body(content = UpdateRiskRequest, content_type = "application/merge-patch+json"),
    params(RiskPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = RiskResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Not a planner, administrator or the risk's owner", body = Problem),
        (status = 404, description = "No such risk in your organization", body = Problem),
        (status = 409, description = "Code already used", body = Problem),
        (status = 422, description = "Invalid fields or treatment required", body = Problem),
    ))]
#[patch("/risks/{id}")]
pub async fn update_risk(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, id: web::Path<RiskPath>, if_match: IfMatch,
    body: Json<UpdateRiskRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        risks::update(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version, body.into_inner()).await
    })
    .await?;
    Ok(ok_tagged(updated.meta.version, &updated))
}

/// Delete a risk
///
/// Removes the risk with its controls, links, reviews and incidents.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskPath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not a planner, administrator or the risk's owner", body = Problem),
        (status = 404, description = "No such risk in your organization", body = Problem),
    ))]
#[delete("/risks/{id}")]
pub async fn delete_risk(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, id: web::Path<RiskPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        risks::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- controls

/// Add a control to a risk
///
/// The risk's residual valuation is recomputed in the same transaction (its version changes).
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body = CreateRiskControlRequest,
    params(RiskPath, IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = RiskControlResponse, headers(("Location" = String, description = "URL of the control"), ("ETag" = String, description = "Version"))),
        (status = 403, description = "Not a planner, administrator or the risk's owner", body = Problem),
        (status = 404, description = "No such risk in your organization", body = Problem),
        (status = 422, description = "Invalid fields, treatment required, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/risks/{id}/controls")]
pub async fn create_risk_control(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, id: web::Path<RiskPath>, key: IdempotencyKey,
    body: Json<CreateRiskControlRequest>,
) -> Result<HttpResponse, ApiError> {
    let (body, risk_id) = (body.into_inner(), id.id);
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_risk_control", risk_id, &body), async |txn| {
        let created = controls::create(txn, &actor, auth.organization_id, risk_id, body.clone()).await?;
        Reply::created(format!("/api/v1/risk-controls/{}", created.id), created.meta.version, &created)
    })
    .await
}

/// List the controls of a risk
///
/// In the order they apply to the residual valuation.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskPath), responses(
    (status = 200, description = "The controls", body = [RiskControlResponse]),
    (status = 404, description = "No such risk in your organization", body = Problem),
))]
#[get("/risks/{id}/controls")]
pub async fn list_risk_controls(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<RiskPath>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(controls::list(&state.db, auth.organization_id, id.id).await?))
}

/// Get a control of a risk
#[utoipa::path(tag = "risks", security(("bearer" = [])),
    params(RiskControlPath),
    responses(
        (status = 200, description = "The control", body = RiskControlResponse, headers(("ETag" = String, description = "Version"))),
        (status = 404, description = "No such control in your organization", body = Problem),
    ))]
#[get("/risk-controls/{id}")]
pub async fn get_risk_control(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<RiskControlPath>,
) -> Result<HttpResponse, ApiError> {
    let found = controls::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a control of a risk (merge patch)
///
/// The risk's residual valuation is recomputed in the same transaction.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body(content = UpdateRiskControlRequest, content_type = "application/merge-patch+json"),
    params(RiskControlPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = RiskControlResponse, headers(("ETag" = String, description = "New version"))),
        (status = 403, description = "Not a planner, administrator or the risk's owner", body = Problem),
        (status = 404, description = "No such control in your organization", body = Problem),
        (status = 422, description = "Invalid fields or treatment required", body = Problem),
    ))]
#[patch("/risk-controls/{id}")]
pub async fn update_risk_control(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, id: web::Path<RiskControlPath>, if_match: IfMatch,
    body: Json<UpdateRiskControlRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let updated = transaction(&state.db, async |txn| {
        let actor = Actor::from(&auth.principal);
        controls::update(txn, &actor, auth.organization_id, id.id, version, body.into_inner()).await
    })
    .await?;
    Ok(ok_tagged(updated.meta.version, &updated))
}

/// Remove a control from a risk
///
/// The risk's residual valuation is recomputed in the same transaction.
#[utoipa::path(tag = "risks", security(("bearer" = [])),
    params(RiskControlPath, IfMatch),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not a planner, administrator or the risk's owner", body = Problem),
        (status = 404, description = "No such control in your organization", body = Problem),
        (status = 422, description = "Treatment required once the control is gone", body = Problem),
    ))]
#[delete("/risk-controls/{id}")]
pub async fn delete_risk_control(
    auth: Auth<RiskWriter>, state: web::Data<AppState>, id: web::Path<RiskControlPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        controls::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- monitoring

/// Record a review of a risk
///
/// A periodic review by the second line (planners, administrators) or the third line
/// (auditors); the risk's last review and next due date move.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body = CreateRiskReviewRequest,
    params(RiskPath, IdempotencyKey),
    responses(
        (status = 201, description = "Recorded", body = RiskReviewResponse, headers(("Location" = String, description = "URL of the risk's reviews"), ("ETag" = String, description = "Version"))),
        (status = 403, description = "The caller's roles do not match the line of defence", body = Problem),
        (status = 404, description = "No such risk in your organization", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/risks/{id}/reviews")]
pub async fn create_risk_review(
    auth: Auth<RiskReviewer>, state: web::Data<AppState>, id: web::Path<RiskPath>, key: IdempotencyKey,
    body: Json<CreateRiskReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let (body, risk_id) = (body.into_inner(), id.id);
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_risk_review", risk_id, &body), async |txn| {
        let created = monitoring::create_review(txn, &actor, auth.organization_id, risk_id, body.clone()).await?;
        Reply::created(format!("/api/v1/risks/{risk_id}/reviews"), created.meta.version, &created)
    })
    .await
}

/// List the reviews of a risk
///
/// Newest first.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskPath), responses(
    (status = 200, description = "The reviews", body = [RiskReviewResponse]),
    (status = 404, description = "No such risk in your organization", body = Problem),
))]
#[get("/risks/{id}/reviews")]
pub async fn list_risk_reviews(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<RiskPath>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitoring::list_reviews(&state.db, auth.organization_id, id.id).await?))
}

/// Record a materialised risk (incident)
///
/// A finding that recorded it is linked to the risk as well.
#[utoipa::path(tag = "risks", security(("bearer" = [])), request_body = CreateRiskIncidentRequest,
    params(RiskPath, IdempotencyKey),
    responses(
        (status = 201, description = "Recorded", body = RiskIncidentResponse, headers(("Location" = String, description = "URL of the risk's incidents"), ("ETag" = String, description = "Version"))),
        (status = 403, description = "Not an auditor, planner, administrator or the risk's owner", body = Problem),
        (status = 404, description = "No such risk in your organization", body = Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem),
    ))]
#[post("/risks/{id}/incidents")]
pub async fn create_risk_incident(
    auth: Auth<RiskIncidentReporter>, state: web::Data<AppState>, id: web::Path<RiskPath>, key: IdempotencyKey,
    body: Json<CreateRiskIncidentRequest>,
) -> Result<HttpResponse, ApiError> {
    let (body, risk_id) = (body.into_inner(), id.id);
    let actor = Actor::from(&auth.principal);
    idempotency::write(&state.db, &auth, &key, &("create_risk_incident", risk_id, &body), async |txn| {
        let created = monitoring::create_incident(txn, &actor, auth.organization_id, risk_id, body.clone()).await?;
        Reply::created(format!("/api/v1/risks/{risk_id}/incidents"), created.meta.version, &created)
    })
    .await
}

/// List the incidents of a risk
///
/// Newest first.
#[utoipa::path(tag = "risks", security(("bearer" = [])), params(RiskPath), responses(
    (status = 200, description = "The incidents", body = [RiskIncidentResponse]),
    (status = 404, description = "No such risk in your organization", body = Problem),
))]
#[get("/risks/{id}/incidents")]
pub async fn list_risk_incidents(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<RiskPath>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitoring::list_incidents(&state.db, auth.organization_id, id.id).await?))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_asset)
        .service(list_assets)
        .service(get_asset)
        .service(update_asset)
        .service(delete_asset)
        .service(get_risk_appetite)
        .service(set_risk_appetite)
        .service(risk_heat_map)
        .service(export_risks)
        .service(import_risks)
        .service(create_risk)
        .service(list_risks)
        .service(get_risk)
        .service(update_risk)
        .service(delete_risk)
        .service(create_risk_control)
        .service(list_risk_controls)
        .service(get_risk_control)
        .service(update_risk_control)
        .service(delete_risk_control)
        .service(create_risk_review)
        .service(list_risk_reviews)
        .service(create_risk_incident)
        .service(list_risk_incidents);
}
