//! Plan matrices: import a TI.PL03 table as a draft plan, export a plan as TI.PL03 or SIRECI
//! F14.1 (CSV, XLSX, JSON).
use crate::auth::{AnyMember, Auth, PlanWriter};
use crate::dto::finding_imports::ImportFileForm;
use crate::dto::paths::{PlanImportPath, PlanPath};
use crate::dto::plan_imports::PlanImportJobResponse;
use crate::dto::plan_matrix::{
    ExportFormat, ExportLayout, ExportQuery, PlanImportQuery, PlanImportResponse, PlanMatrixDocument,
};
use crate::dto::FileBytes;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::etag::ok_tagged;
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::prefer::{self, PreferHeader};
use crate::http::upload::{self, Upload};
use crate::services::audit::Actor;
use crate::services::calendar;
use crate::services::finding_imports::jobs::receive_bytes;
use crate::services::plan_matrix::export;
use crate::services::plan_matrix::import::{self, MatrixFormat};
use crate::services::plan_matrix::jobs;
use crate::services::plan_matrix::sireci;
use crate::services::spool;
use crate::services::spreadsheet;
use crate::state::AppState;
use actix_web::http::header::{self, ContentDisposition};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn body_format(upload: &Upload) -> Result<MatrixFormat, ApiError> {
    let unsupported = || {
        ApiError::new(ErrorCode::UnsupportedMediaType).detail(
            format!("Send the matrix as text/csv, {XLSX} or application/json (the request body, or a multipart part named file)"),
            format!("Envíe la matriz como text/csv, {XLSX} o application/json (el cuerpo, o una parte multipart llamada file)"),
        )
    };
    let mime = upload.effective_media_type().ok_or_else(unsupported)?;
    match (mime.type_().as_str(), mime.subtype().as_str(), mime.suffix().map(|s| s.as_str())) {
        ("text" | "application", "csv", _) => Ok(MatrixFormat::Csv),
        ("application", "json", _) | ("application", _, Some("json")) => Ok(MatrixFormat::Json),
        ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet", _) => Ok(MatrixFormat::Xlsx),
        _ => Err(unsupported()),
    }
}

/// Import a plan matrix
///
/// Creates a `draft` plan from a TI.PL03 matrix (columns CATEGORÍAS, PUNTAJE, DISEÑO
/// ALTERNATIVAS DE MEJORA, MEJORAS PARA IMPLEMENTAR, EVALUACIÓN DE LA EFICACIA): a CSV file
/// (`,` or `;`, UTF-8 with or without BOM, or Windows-1252), an XLSX workbook (first sheet) or
/// JSON shaped like the seed (`plan` + `rows`). Sheets may be Word or PDF documents converted
/// to Excel: the title block (entity, title, `CÓDIGO:`, `VERSIÓN:`, `FECHA DE APROBACIÓN:`,
/// `Página 1 de 8`) and the signature footer (`Elaboró:` name, role, date; `Aprobó:` body and
/// `Acta No. …`) fill the plan metadata, page headers and column headers repeated on every page
/// are skipped, header variants (`DISEÑE ALTERNATIVAS DE MEJORA`) are recognised and HTML tags
/// are removed; this service's own export reads back the same way. A value in the query
/// overrides the file's (`code` and `title` are required from one of them); for JSON the body's
/// `plan` holds the metadata. One category per distinct CATEGORÍAS value (empty continues the
/// one above), in order, with its score (a continuation row may repeat it, not change it),
/// alternatives and effectiveness criterion (`NO APLICA` gives none). Each improvement becomes
/// an action with defaults: type `improvement`, focus `maturity`, no unit, target quantity 1.
/// Its period is the `Fecha: (DD/MM/YYYY al DD/MM/YYYY)` written in its own paragraph (anywhere
/// in it; it is removed from the text), or one written alone after it; an improvement without
/// a period takes the plan's `start_date`/`end_date` and is listed in `actions_on_plan_window`.
/// Without a window in the query or the file the plan spans the periods written. `NO APLICA`
/// creates no action. All or nothing: any row error answers 422 `import_rejected` with every row
/// error and writes nothing. `dry_run=true` checks everything (including the code being free)
/// and answers 200 without writing.
///
/// With `Prefer: respond-async` the reply is `202 Accepted` once the body is received and
/// stored, with `Location` of the upload record (`GET /plans/imports/{id}`) and
/// `Preference-Applied: respond-async`; the record goes `queued` → `running` → `succeeded`
/// (`result`: this operation's reply) or `failed` (`problem`: the problem it would answer).
#[utoipa::path(tag = "plans", security(("bearer" = [])),
    request_body(description = "The matrix: CSV with a header row, an XLSX workbook, or JSON like the seed; as the body itself, or as the part `file` of a multipart/form-data body",
        content(
            (PlanMatrixDocument = "application/json"),
            (FileBytes = "text/csv"),
            (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (ImportFileForm = "multipart/form-data", encoding(("file" = (content_type = "text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
        )),
    params(PlanImportQuery, IdempotencyKey, PreferHeader),
    responses(
        (status = 200, description = "Dry run: what would be created", body = PlanImportResponse),
        (status = 202, description = "`Prefer: respond-async`: the matrix was received and is queued; poll the record at `Location` until its status is `succeeded` or `failed`", body = PlanImportJobResponse, headers(("Location" = String, description = "URL of the upload record"), ("Preference-Applied" = String, description = "`respond-async`"))),
        (status = 201, description = "Plan created", body = PlanImportResponse, headers(("Location" = String, description = "URL of the plan"))),
        (status = 400, description = "Malformed JSON, or the body ended before it was complete", body = Problem),
        (status = 408, description = "`upload_stalled`: no bytes arrived for MEJORA_UPLOAD_IDLE_TIMEOUT seconds; nothing was written", body = Problem),
        (status = 409, description = "A plan with this code and version exists", body = Problem),
        (status = 413, description = "`payload_too_large`: body larger than MEJORA_IMPORT_LIMIT; `spreadsheet_too_large`: an XLSX part, its rows, columns, cells, shared strings, text, compression ratio or XML nesting exceed a reading limit (`errors[0].code` names it: `max_cells`, …; MEJORA_SHEET_*)", body = Problem),
        (status = 415, description = "Not CSV, XLSX or JSON", body = Problem),
        (status = 422, description = "`import_rejected`: invalid rows (each with `row`, `field`, `code`, `message`); `validation_failed`: missing metadata or columns, a JSON value of the wrong type (dates take `YYYY-MM-DD`, `DD/MM/YYYY`; empty means none), or Idempotency-Key reused", body = Problem),
    ))]
#[post("/plans/imports")]
pub async fn import_plan(
    auth: Auth<PlanWriter>, state: web::Data<AppState>, key: IdempotencyKey, query: web::Query<PlanImportQuery>,
    req: HttpRequest, payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let received =
        spool::Limits { max_bytes: state.config.import_limit as u64, idle: state.config.upload_idle_timeout };
    let upload = upload::open(&req, payload, received.max_bytes).await?;
    let format = body_format(&upload)?;
    // Received whole before any database work (a slow client holds no connection).
    let body = spool::collect(upload, received).await?;
    let query = query.into_inner();
    if prefer::respond_async(&req) {
        let (actor, org) = (Actor::from(&auth.principal), auth.organization_id);
        let stored = receive_bytes(&state.storage, body).await?;
        let request = ("import_plan", &query, format.as_str(), &stored.sha256, "respond-async");
        let result = idempotency::write(&state.db, &auth, &key, &request, async |txn| {
            let record = jobs::enqueue(txn, &actor, org, format, &query, &stored).await?;
            let location = format!("/api/v1/plans/imports/{}", record.id);
            Ok(Reply {
                status: 202,
                ..Reply::created(location, record.version, &PlanImportJobResponse::from(&record))?
            })
        })
        .await;
        return prefer::accepted(&state.storage, &stored.key, result).await;
    }
    let limits = spreadsheet::Limits::matrix().with(&state.config.sheet_limits);
    let parsed = import::parse(format, &body, &query, &limits)?;
    let actor = Actor::from(&auth.principal);
    let org = auth.organization_id;
    let sha = hex::encode(Sha256::digest(&body));
    if query.dry_run.unwrap_or(false) {
        let result = import::dry_run(&state.db, &actor, org, format, &sha, parsed).await?;
        return Ok(HttpResponse::Ok().json(result));
    }
    idempotency::write(&state.db, &auth, &key, &("import_plan", &query, format.as_str(), &sha), async |txn| {
        let result = import::write(txn, &actor, org, format, &sha, parsed.clone()).await?;
        let id = result.plan_id.unwrap_or_default();
        Reply::created(format!("/api/v1/plans/{id}"), 1, &result)
    })
    .await
}

/// Export a plan
///
/// The plan as a file. `layout=ti-pl03` (default): the five TI.PL03 columns, one row per action
/// (the first of a category holds its name, score, alternatives and criterion; the others are
/// continuation rows), each improvement ending with its own `Fecha: (DD/MM/YYYY al DD/MM/YYYY)`,
/// with a header block (entity, NIT, code, version, title, approval date and act, implementation
/// period) and a signature block (Elaboró, Aprobó with the act); importing it, with no query
/// parameters, gives back the same plan.
/// `layout=sireci-f14-1`: the Contraloría SIRECI form F14.1 (16 columns, FILA to OBSERVACIONES;
/// dates AAAA/MM/DD in CSV), one row per pair of a not-cancelled action and a comptroller finding
/// it answers (actions tied only to other findings, or to none, are not on the form);
/// `modality=subscription` (default) or `progress` fills MODALIDAD DE REGISTRO on every row, and
/// `progress` fills AVANCE FÍSICO and OBSERVACIONES from evidence accepted with a cut-off date up
/// to `cut_off` (default today). `format=csv` (UTF-8 with BOM), `xlsx` (bold wrapped headers,
/// widths, real dates) or `json` (for `ti-pl03`, the seed's import shape). Figures are computed
/// at the call: CSV, XLSX and the SIRECI JSON say in their header that the file is a draft, not
/// a filed report (those come from `GET /reporting-periods/{id}/export`).
#[utoipa::path(tag = "plans", security(("bearer" = [])),
    params(PlanPath, ExportQuery),
    responses(
        (status = 200, description = "The file, as an attachment",
            headers(("Content-Disposition" = String, description = "attachment; filename=<code>-v<version>-<layout>.<ext>")),
            content(
                (String = "text/csv"),
                (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (PlanMatrixDocument = "application/json"),
            )),
        (status = 404, description = "No such plan in your organization", body = Problem),
    ))]
#[get("/plans/{id}/export")]
pub async fn export_plan(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PlanPath>, query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let content = export::load(&state.db, auth.organization_id, id.id).await?;
    let format = query.format.unwrap_or_default();
    let layout = query.layout.unwrap_or_default();
    let (layout_name, mut sheet) = match layout {
        ExportLayout::TiPl03 => ("ti-pl03", export::ti_pl03_sheet(&content)),
        ExportLayout::SireciF141 => {
            let cut_off = query.cut_off.unwrap_or_else(calendar::today);
            let modality = query.modality.unwrap_or_default();
            ("sireci-f14-1", sireci::sheet(&state.db, &content, modality, cut_off).await?)
        }
    };
    // A live export is a draft: filed figures come from GET /reporting-periods/{id}/export.
    sheet.header_block.push((
        "Estado del reporte".into(),
        "Borrador calculado al descargar: no es un reporte radicado (los cortes cerrados se exportan desde \
         /reporting-periods/{id}/export)"
            .into(),
    ));
    let (content_type, ext, bytes) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv", sheet.to_csv().map_err(ApiError::internal)?),
        ExportFormat::Xlsx => (XLSX, "xlsx", sheet.to_xlsx().map_err(ApiError::internal)?),
        ExportFormat::Json => {
            let value = match layout {
                ExportLayout::TiPl03 => serde_json::to_value(export::ti_pl03_document(&content)),
                ExportLayout::SireciF141 => Ok(export::sheet_json(&sheet)),
            };
            (
                "application/json",
                "json",
                serde_json::to_vec(&value.map_err(ApiError::internal)?).map_err(ApiError::internal)?,
            )
        }
    };
    let name = export::file_name(&content.plan, layout_name, ext);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(ContentDisposition::attachment(name))
        .body(bytes))
}

/// Get an asynchronous plan upload
///
/// A plan matrix sent with `Prefer: respond-async`: its status, and once done the reply the
/// synchronous upload would have given (`result`) or its problem (`problem`).
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(PlanImportPath), responses(
    (status = 200, description = "The upload record", body = PlanImportJobResponse),
    (status = 404, description = "No such upload in your organization", body = Problem),
))]
#[get("/plans/imports/{id}")]
pub async fn get_plan_import(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<PlanImportPath>,
) -> Result<HttpResponse, ApiError> {
    let (version, found) = jobs::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(version, &found))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(import_plan).service(get_plan_import).service(export_plan);
}
