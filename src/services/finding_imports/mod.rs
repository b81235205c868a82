//! Bulk uploads of findings. The body has already been received whole into a temporary file
//! (`services::spool`), so no transaction waits on the client's network. A parser thread reads
//! the file, decodes and checks rows and hands valid ones back in batches; the async task writes
//! each batch with one statement while the next is parsed. Everything happens in the caller's
//! transaction, inside a savepoint for the rows. One audit event records the upload.
mod decode;
mod emit;
pub mod jobs;
mod parse;
mod rows;
mod write;

use super::audit::{self, Actor, Entry};
use super::spool::Spooled;
use super::spreadsheet::Limits as SheetLimits;
use super::tenancy::scoped;
use crate::dto::finding_imports::{ImportListQuery, ImportResponse, ImportSummary};
use crate::dto::findings::FindingResponse;
use crate::dto::pagination::{Page, PageParams};
use crate::entities::enums::{AuditOperation, AuditResource, ConflictPolicy, ImportFormat, ImportMode, ImportStatus};
use crate::entities::finding_import;
use crate::error::{ApiError, ErrorCode, FieldError};
use parse::{ParseError, ParseOptions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;
use std::io::Read;
use std::time::Instant;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use encoding_rs::Encoding;
pub use parse::ParseReport;

/// What to do with an upload.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// CSV, JSON or XLSX.
    pub format: ImportFormat,
    /// Charset named by the request (`text/csv; charset=windows-1252`), if any.
    pub charset: Option<&'static Encoding>,
    /// All or nothing, or partial.
    pub mode: ImportMode,
    /// Validate and count without writing findings.
    pub dry_run: bool,
    /// What to do with existing natural keys.
    pub on_conflict: ConflictPolicy,
    /// XLSX: the sheet to read (`None`: the first).
    pub sheet: Option<String>,
    /// XLSX: what reading the workbook may cost.
    pub sheet_limits: SheetLimits,
    /// Refuse unknown columns instead of ignoring them with a warning.
    pub strict: bool,
    /// The file came as the `file` part of a multipart form: a JSON file that does not parse is
    /// then a file to fix (422, like a broken CSV or XLSX), not a malformed request body (400).
    pub file_part: bool,
}

impl ImportRequest {
    /// What "the same request" means for an `Idempotency-Key`: the options and the file's hash.
    pub fn fingerprint(&self, file_sha256: &str) -> impl Serialize {
        (
            "import_findings",
            self.format,
            self.mode,
            self.dry_run,
            self.on_conflict,
            file_sha256.to_string(),
            self.sheet.clone(),
            self.strict,
        )
    }
}

/// The first bytes of a zip (an XLSX workbook).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The first bytes of an OLE2 compound file (a binary `.xls` workbook).
const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The format the bytes really have, for a body declared `format`: Windows browsers send
/// `.csv` files as `application/vnd.ms-excel`, which the caller maps to CSV; a workbook sent
/// under a CSV type is read as one, and a binary `.xls` is refused.
fn sniff(file: &mut std::fs::File, format: ImportFormat) -> Result<ImportFormat, ApiError> {
    use std::io::{Seek, SeekFrom};
    let mut head = [0u8; 8];
    let n = file.read(&mut head).map_err(ApiError::internal)?;
    file.seek(SeekFrom::Start(0)).map_err(ApiError::internal)?;
    let head = &head[..n];
    if format != ImportFormat::Csv {
        return Ok(format);
    }
    if head.starts_with(OLE2_MAGIC) {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType).detail(
            "This is a binary Excel 97-2003 workbook (.xls): save it as .xlsx or as CSV",
            "Es un libro binario de Excel 97-2003 (.xls): guárdelo como .xlsx o como CSV",
        ));
    }
    Ok(if head.starts_with(ZIP_MAGIC) { ImportFormat::Xlsx } else { format })
}

fn parse_failure(err: ParseError, format: ImportFormat, file_part: bool) -> ApiError {
    match err {
        ParseError::Io(e) => ApiError::internal(anyhow::Error::new(e).context("reading a spooled upload")),
        ParseError::Stopped => ApiError::internal(anyhow::anyhow!("the import writer stopped without an error")),
        ParseError::File(errors) => ApiError::validation(errors),
        ParseError::Api(e) => e,
        ParseError::Syntax(message) => match format {
            ImportFormat::Json if file_part => {
                ApiError::validation(vec![FieldError::new("file", "malformed_json", message)])
            }
            ImportFormat::Json => ApiError::new(ErrorCode::InvalidJson).detail(message.clone(), message),
            ImportFormat::Csv => ApiError::validation(vec![FieldError::new("body", "malformed_csv", message)]),
            ImportFormat::Xlsx => ApiError::validation(vec![FieldError::new("body", "malformed_xlsx", message)]),
        },
    }
}

/// The record of an upload of `org` by `actor` of a file (`sha256`, `size`), nothing counted yet.
fn blank_record(
    org: Uuid, actor: Option<Uuid>, req: &ImportRequest, format: ImportFormat, status: ImportStatus,
    (sha256, size): (&str, u64), now: chrono::DateTime<chrono::Utc>,
) -> finding_import::Model {
    finding_import::Model {
        id: Uuid::now_v7(),
        format,
        mode: req.mode,
        dry_run: req.dry_run,
        on_conflict: req.on_conflict,
        status,
        file_sha256: sha256.to_string(),
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        received: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        error_count: 0,
        errors: serde_json::json!([]),
        warnings: None,
        duration_ms: 0,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor,
        updated_by: actor,
        version: 1,
        options: None,
        storage_key: None,
        lease_until: None,
        attempts: 0,
        problem: None,
    }
}

/// Imports the findings in `body` for `org` inside `conn` (a transaction; the caller commits).
/// Returns the stored import record; its status is `rejected` when an all-or-nothing upload
/// had invalid rows, in which case no finding was written.
pub async fn run<C>(
    conn: &C, actor: &Actor, org: Uuid, req: &ImportRequest, body: Spooled,
) -> Result<finding_import::Model, ApiError>
where
    C: ConnectionTrait + TransactionTrait,
{
    run_measured(conn, actor, org, req, body, None).await
}

/// [`run`] with the operations figures; `queued` is the record of an asynchronous upload.
async fn run_measured<C>(
    conn: &C, actor: &Actor, org: Uuid, req: &ImportRequest, body: Spooled, queued: Option<finding_import::Model>,
) -> Result<finding_import::Model, ApiError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let started = Instant::now();
    let result = run_inner(conn, actor, org, req, body, queued).await;
    // Operations figures: rows by format and outcome, and how long the upload took.
    let (format, outcome, rows) = match &result {
        Ok(r) if r.dry_run => (r.format.code(), "dry_run", r.received),
        Ok(r) if matches!(r.status, ImportStatus::Rejected | ImportStatus::Failed) => {
            (r.format.code(), "rejected", r.received)
        }
        Ok(r) => (r.format.code(), "completed", r.received),
        Err(_) => (req.format.code(), "failed", 0),
    };
    let labels = [("format", format), ("outcome", outcome)];
    metrics::counter!("mejora_import_rows_total", &labels).increment(u64::try_from(rows).unwrap_or(0));
    metrics::histogram!("mejora_import_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    result
}

async fn run_inner<C>(
    conn: &C, actor: &Actor, org: Uuid, req: &ImportRequest, mut body: Spooled, queued: Option<finding_import::Model>,
) -> Result<finding_import::Model, ApiError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let format = sniff(&mut body.file, req.format)?;
    let started = Instant::now();
    let now = super::now();
    let asynchronous = queued.is_some();
    let file = (body.sha256.as_str(), body.size);
    let mut record = blank_record(org, actor.id, req, format, ImportStatus::Completed, file, now);
    if let Some(q) = &queued {
        record.id = q.id;
    }
    match &queued {
        // The record goes in first: the findings point at it.
        None => {
            finding_import::Entity::insert(finding_import::ActiveModel::from(record.clone()))
                .exec_without_returning(conn)
                .await?;
        }
        // Queued uploads keep their record, with when they were received and by whom.
        Some(q) => {
            record.created_at = q.created_at;
            record.created_by = q.created_by;
            record.options = q.options.clone();
            record.attempts = q.attempts;
            record.version = q.version;
        }
    }
    let savepoint = conn.begin().await?;
    let backend = conn.get_database_backend();
    // One batch waits while another is written: parsing and writing overlap, memory stays small.
    let (batch_tx, batch_rx) = mpsc::channel::<Vec<rows::ImportRow>>(1);
    let options = ParseOptions {
        format,
        atomic: req.mode == ImportMode::Atomic,
        batch_rows: write::batch_rows(backend),
        charset: req.charset,
        sheet: req.sheet.clone(),
        sheet_limits: req.sheet_limits,
        strict: req.strict,
    };
    let file = std::io::BufReader::with_capacity(256 * 1024, body.file);
    let parser = tokio::task::spawn_blocking(move || parse::parse(file, options, batch_tx));
    let ctx = write::Context { org, import_id: record.id, actor: actor.id, now, on_conflict: req.on_conflict };
    let pg_sql = write::postgres_sql(req.on_conflict);
    let (txn, ctx_ref, sql) = (&savepoint, &ctx, pg_sql.as_str());
    let writer = async move {
        let mut batch_rx = batch_rx;
        let mut total = Totals::default();
        while let Some(batch) = batch_rx.recv().await {
            let new = batch.iter().map(|r| emit::model(r, ctx_ref)).collect();
            let written = write::write_batch(txn, ctx_ref, sql, batch).await?;
            emit::batch(txn, org, new, written.created, &written.updated).await?;
            total.created += written.created;
            total.updated += written.updated.len() as u64;
            total.closed_rows.extend(written.closed_rows);
            // Each changed finding gets its own event, appended in bulk with the batch.
            let events = written.updated.into_iter().map(|(before, after)| {
                Entry::new(org, AuditResource::Finding, after.id, AuditOperation::Update)
                    .before(&FindingResponse::from(before))
                    .after(&FindingResponse::from(after))
            });
            audit::record_many(txn, actor, events.collect()).await?;
        }
        Ok::<_, sea_orm::DbErr>(total)
    };
    let written = writer.await;
    let parsed = parser.await.map_err(ApiError::internal)?;
    let written = written?;
    let mut report = parsed.map_err(|e| parse_failure(e, format, req.file_part))?;
    report.add_closed(&written.closed_rows);

    let rejected = req.mode == ImportMode::Atomic && report.rejected > 0;
    if rejected || req.dry_run {
        savepoint.rollback().await?;
    } else {
        savepoint.commit().await?;
    }
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let valid = report.received - report.rejected;
    let (created, updated) = if rejected { (0, 0) } else { (written.created, written.updated) };
    record.status = match (rejected, asynchronous) {
        (false, false) => ImportStatus::Completed,
        (true, false) => ImportStatus::Rejected,
        (false, true) => ImportStatus::Succeeded,
        (true, true) => ImportStatus::Failed,
    };
    if asynchronous {
        record.version += 1;
    }
    record.received = count(report.received);
    record.created = count(created);
    record.updated = count(updated);
    record.unchanged = if rejected { 0 } else { count(valid.saturating_sub(created + updated)) };
    record.rejected = count(report.rejected);
    record.error_count = count(report.error_count);
    record.errors = serde_json::to_value(&report.errors).map_err(ApiError::internal)?;
    if !report.warnings.is_empty() {
        record.warnings = Some(serde_json::to_value(&report.warnings).map_err(ApiError::internal)?);
    }
    record.duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    record.clone().into_active_model().reset_all().update(conn).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::FindingImport, record.id, AuditOperation::Create)
            .after(&ImportSummary::from(&record)),
    )
    .await?;
    jobs::emit_outcome(conn, &record).await?;
    Ok(record)
}

/// What the writer did over a whole upload.
#[derive(Debug, Default)]
struct Totals {
    created: u64,
    updated: u64,
    closed_rows: Vec<u64>,
}

/// What parsing a whole upload held in memory gives, without writing anything.
#[derive(Debug)]
pub struct Dissected {
    /// Valid rows, in file order.
    pub rows: usize,
    /// The parser's report, or why it gave up (as the API would word it).
    pub report: Result<ParseReport, ApiError>,
}

/// Hands out a byte slice at most `piece` bytes per read, as a network would.
struct Pieces<'a> {
    bytes: &'a [u8],
    piece: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.piece.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// Parses `body` as an upload of `format` would be, read in pieces of `piece` bytes (so
/// characters and rows straddle reads). For fuzzing and tools; must not run inside an async
/// runtime.
pub fn dissect(format: ImportFormat, charset: Option<&'static Encoding>, body: &[u8], piece: usize) -> Dissected {
    let (batch_tx, mut batch_rx) = mpsc::channel::<Vec<rows::ImportRow>>(1);
    let counter = std::thread::spawn(move || {
        let mut n = 0;
        while let Some(batch) = batch_rx.blocking_recv() {
            n += batch.len();
        }
        n
    });
    let options = ParseOptions {
        format,
        atomic: false,
        batch_rows: 100,
        charset,
        sheet: None,
        sheet_limits: SheetLimits::findings(),
        strict: false,
    };
    let reader = Pieces { bytes: body, piece: piece.max(1) };
    let report = parse::parse(reader, options, batch_tx).map_err(|e| parse_failure(e, format, false));
    let rows = counter.join().unwrap_or_default();
    Dissected { rows, report }
}

/// Uploads of `org`, newest first.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, q: &ImportListQuery,
) -> Result<Page<ImportSummary>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let mut select = scoped::<finding_import::Entity>(org).order_by_desc(finding_import::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(finding_import::Column::Id.lt(cursor.id));
    }
    if let Some(status) = q.status {
        select = select.filter(finding_import::Column::Status.eq(status));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |r| (None, r.id), ImportSummary::from))
}

/// An import record of `org` with its row errors, and its version; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<(i32, ImportResponse), ApiError> {
    let found = super::tenancy::find_in_org::<finding_import::Entity>(conn, org, id).await?;
    Ok((found.version, ImportResponse::from(found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_fed_one_byte_at_a_time_parses_like_a_whole_one() {
        let text = "Fuente;Código informe;Fecha informe;Código hallazgo;Título\r\n\
                    Auditoría interna;OCI-2025;31/03/2025;H-01;Revisión de accesos\r\n\
                    Auditoría interna;OCI-2025;32/03/2025;H-02;\"Copias de\r\nrespaldo\"\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        for piece in [1, 3, 4096] {
            let out = dissect(ImportFormat::Csv, None, &bytes, piece);
            let report = out.report.expect("a readable file");
            assert_eq!((report.received, report.rejected, out.rows), (2, 1, 1), "pieces of {piece}");
            // Row errors name the column as the file wrote it.
            assert_eq!(report.errors[0].field, "Fecha informe");
        }
        let out = dissect(ImportFormat::Json, None, b"[{\"source\": 1}", 2);
        assert!(out.report.is_err());
    }
}
