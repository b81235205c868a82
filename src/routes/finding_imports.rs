//! Bulk uploads of findings (auditors), and their records (every member).
use crate::auth::{AnyMember, AuditorOnly, Auth};
use crate::dto::enums::{ConflictPolicy, ImportFormat, ImportMode, ImportStatus};
use crate::dto::finding_imports::{
    ImportFileForm, ImportFindingRow, ImportListQuery, ImportQuery, ImportResponse, ImportSummary,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::FindingImportPath;
use crate::dto::FileBytes;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::etag::ok_tagged;
use crate::http::idempotency::{self, IdempotencyKey, Reply, Written};
use crate::http::prefer::{self, PreferHeader};
use crate::http::upload::{self, Upload};
use crate::services::audit::Actor;
use crate::services::finding_imports::{self, jobs, Encoding, ImportRequest};
use crate::services::spool::{self, Limits};
use crate::services::spreadsheet::Limits as SheetLimits;
use crate::state::AppState;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

const CSV_EXAMPLE: &str = "fuente;código informe;fecha informe;vigencia;código hallazgo;título;clasificación;severidad;requisitos\n\
Auditoría interna;OCI-2025-07;31/03/2025;2024;H-01;Sin revisión periódica de accesos;No conformidad menor;Alta;A.5.15|A.5.18\n";

/// Reads the body format and charset from `Content-Type`; 415 for anything else.
fn body_format(upload: &Upload) -> Result<(ImportFormat, Option<&'static Encoding>), ApiError> {
    let unsupported = || {
        ApiError::new(ErrorCode::UnsupportedMediaType).detail(
            "Send the findings as text/csv, application/json or an XLSX workbook (the request body, or a multipart part named file)",
            "Envíe los hallazgos como text/csv, application/json o un libro XLSX (el cuerpo, o una parte multipart llamada file)",
        )
    };
    let mime = upload.effective_media_type().ok_or_else(unsupported)?;
    let format = match (mime.type_().as_str(), mime.subtype().as_str(), mime.suffix().map(|s| s.as_str())) {
        // Windows browsers send `.csv` files as `application/vnd.ms-excel`; the bytes decide.
        ("text" | "application", "csv", _) | ("application", "vnd.ms-excel", _) => ImportFormat::Csv,
        ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet", _) => ImportFormat::Xlsx,
        ("application", "json", _) | ("application", _, Some("json")) => ImportFormat::Json,
        _ => return Err(unsupported()),
    };
    let charset = match mime.get_param("charset") {
        None => None,
        Some(label) => Some(Encoding::for_label(label.as_str().as_bytes()).ok_or_else(|| {
            ApiError::new(ErrorCode::UnsupportedMediaType)
                .detail(format!("Unknown charset {label}"), format!("Juego de caracteres desconocido: {label}"))
        })?),
    };
    Ok((format, charset))
}

/// Upload findings in bulk
///
/// Imports a CSV file, an XLSX workbook (the first sheet, or `sheet=` by name; dates as real
/// Excel dates or as text) or a JSON array of findings. `application/vnd.ms-excel` (what Windows
/// browsers send for `.csv`) is read as CSV when the bytes are CSV. Rows are numbered as a
/// spreadsheet shows them (header = row 1) and row errors name the column as the header wrote
/// it. Columns that are not findings columns are ignored and listed in `warnings`
/// (`strict=true` refuses the file instead). CSV as spreadsheets write it: `,` or `;` separated (detected), UTF-8 with or
/// without BOM or Windows-1252, dates `YYYY-MM-DD` or `DD/MM/YYYY`, multi-line quoted cells, and
/// Spanish or English headers (`fuente`, `código informe`, `fecha informe`, `vigencia`, `código
/// hallazgo`, `título`, `condición`, `criterio`, `causa`, `efecto`, `clasificación`, `severidad`,
/// `estado`, `requisitos`) matched ignoring case and accents; enumeration cells accept the code or
/// the Spanish or English label (`Alta`, `high`). Rows are matched to stored findings by their
/// natural key (source, report code, finding code), so uploading the same file again creates
/// nothing; repeats of a key within the file are reported. The reply is the import record;
/// `mode=atomic` with invalid rows answers 422 `import_rejected` with every row error and writes
/// no finding (the record is kept). The body limit is `MEJORA_IMPORT_LIMIT`. The body is
/// received whole (into a temporary file) before anything is written; a client that sends
/// nothing for `MEJORA_UPLOAD_IDLE_TIMEOUT` seconds (default 30) is answered 408 `upload_stalled`.
///
/// With `Prefer: respond-async` the reply is `202 Accepted` as soon as the body is received
/// and stored: `Location` names the import record, `Preference-Applied: respond-async` says the
/// preference was honoured, and the record's `status` goes `queued` → `running` →
/// `succeeded` (the counts, row errors and warnings the synchronous reply would have had) or
/// `failed` (invalid rows in `atomic` mode: `errors`; a file that cannot be read: `problem`).
/// The client may disconnect after the 202; poll `GET /findings/imports/{id}` (or read the
/// `import.completed` / `import.failed` notification). Synchronous is the default.
#[utoipa::path(tag = "findings", security(("bearer" = [])),
    request_body(description = "The findings: a CSV file with a header row, or a JSON array of objects; as the body itself, or as the part `file` of a multipart/form-data body",
        content(
            (Vec<ImportFindingRow> = "application/json"),
            (FileBytes = "text/csv", example = json!(CSV_EXAMPLE)),
            (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (ImportFileForm = "multipart/form-data", encoding(("file" = (content_type = "text/csv, application/json, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
        )),
    params(ImportQuery, IdempotencyKey, PreferHeader),
    responses(
        (status = 201, description = "Import record (also for dry runs, and for partial uploads with rejected rows)", body = ImportResponse, headers(("Location" = String, description = "URL of the import record"))),
        (status = 202, description = "`Prefer: respond-async`: the upload was received and is queued; poll the record at `Location` until its status is `succeeded` or `failed`", body = ImportResponse, headers(("Location" = String, description = "URL of the import record"), ("Preference-Applied" = String, description = "`respond-async`"))),
        (status = 400, description = "Malformed JSON, or the body ended before it was complete", body = Problem),
        (status = 408, description = "`upload_stalled`: no bytes arrived for MEJORA_UPLOAD_IDLE_TIMEOUT seconds; nothing was written", body = Problem),
        (status = 413, description = "`payload_too_large`: body larger than MEJORA_IMPORT_LIMIT; `spreadsheet_too_large`: an XLSX workbook over a reading limit (MEJORA_SHEET_*)", body = Problem),
        (status = 415, description = "Not CSV, JSON or XLSX (a binary .xls included), or an unknown charset", body = Problem),
        (status = 422, description = "`import_rejected`: all-or-nothing upload with invalid rows (each row error has `row`, `field`, `code`, `message`); `validation_failed`: missing columns, unknown columns with `strict=true`, `encoding_mismatch` (charset=utf-8 declared on a Windows-1252 file), a malformed workbook or a missing sheet", body = Problem),
    ))]
#[post("/findings/imports")]
pub async fn import_findings(
    auth: Auth<AuditorOnly>, state: web::Data<AppState>, key: IdempotencyKey, query: web::Query<ImportQuery>,
    req: HttpRequest, payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limits = Limits { max_bytes: state.config.import_limit as u64, idle: state.config.upload_idle_timeout };
    let upload = upload::open(&req, payload, limits.max_bytes).await?;
    let (format, charset) = body_format(&upload)?;
    let options = ImportRequest {
        format,
        charset,
        mode: query.mode.unwrap_or(ImportMode::Atomic),
        dry_run: query.dry_run.unwrap_or(false),
        on_conflict: query.on_conflict.unwrap_or(ConflictPolicy::Skip),
        sheet: query.sheet.clone(),
        sheet_limits: SheetLimits::findings().with(&state.config.sheet_limits),
        strict: query.strict.unwrap_or(false),
        file_part: upload.multipart,
    };
    // The whole body is received before any database work, so a slow client holds no
    // connection or transaction.
    let body = spool::spool(upload, limits).await?;
    let actor = Actor::from(&auth.principal);
    let request = options.fingerprint(&body.sha256);
    if prefer::respond_async(&req) {
        // Copied to the object store before the answer, so the client may disconnect.
        let received = jobs::receive(&state.storage, body).await?;
        let org = auth.organization_id;
        let result = idempotency::write(&state.db, &auth, &key, &(&request, "respond-async"), async |txn| {
            let record = jobs::enqueue(txn, &actor, org, &options, &received).await?;
            let location = format!("/api/v1/findings/imports/{}", record.id);
            let version = record.version;
            Ok(Reply { status: 202, ..Reply::created(location, version, &ImportResponse::from(record))? })
        })
        .await;
        return prefer::accepted(&state.storage, &received.key, result).await;
    }
    idempotency::write_or_refuse(&state.db, &auth, &key, &request, async |txn| {
        let record = finding_imports::run(txn, &actor, auth.organization_id, &options, body).await?;
        let location = format!("/api/v1/findings/imports/{}", record.id);
        if record.status == ImportStatus::Rejected && !record.dry_run {
            // The record is kept; the key is not, so the fixed file can be sent with it.
            let response = ImportResponse::from(record);
            let counts = response.summary.counts;
            return Ok(Written::Refused(
                ApiError::validation(response.errors).with_code(ErrorCode::ImportRejected).detail(
                    format!(
                        "{} of {} rows are invalid; nothing was written. The import record is {location}",
                        counts.rejected, counts.received
                    ),
                    format!(
                        "{} de {} filas son inválidas; no se escribió nada. El registro de la carga es {location}",
                        counts.rejected, counts.received
                    ),
                ),
            ));
        }
        let version = record.version;
        Ok(Written::Reply(Reply::created(location, version, &ImportResponse::from(record))?))
    })
    .await
}

/// List bulk uploads
///
/// Uploads of findings in the caller's organization, newest first, without their row errors.
#[utoipa::path(tag = "findings", security(("bearer" = [])), params(ImportListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<ImportSummary>),
))]
#[get("/findings/imports")]
pub async fn list_finding_imports(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<ImportListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(finding_imports::list(&state.db, auth.organization_id, &query).await?))
}

/// Get a bulk upload
///
/// The import record with its counts and its first 1000 row errors.
#[utoipa::path(tag = "findings", security(("bearer" = [])), params(FindingImportPath), responses(
    (status = 200, description = "The import record", body = ImportResponse),
    (status = 404, description = "No such import in your organization", body = Problem),
))]
#[get("/findings/imports/{id}")]
pub async fn get_finding_import(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<FindingImportPath>,
) -> Result<HttpResponse, ApiError> {
    let found = finding_imports::get(&state.db, auth.organization_id, id.id).await?;
    let (version, found) = found;
    Ok(ok_tagged(version, &found))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    // Before the finding routes, so `/findings/imports` is not read as a finding id.
    cfg.service(import_findings).service(list_finding_imports).service(get_finding_import);
}
