//! Imports a TI.PL03 matrix (CSV, XLSX or JSON) as a draft plan with its categories and
//! actions, through the plan, category and action services (same checks, same audit events).
//! The caller's transaction holds everything; a dry run is rolled back by the caller.
use super::document::{self, DocumentMetadata};
use super::ti_pl03::{self, MatrixCategory, Row, RowError};
use crate::dto::actions::CreateActionRequest;
use crate::dto::categories::CreateCategoryRequest;
use crate::dto::plan_matrix::{
    ActionOnPlanWindow, MatrixPlanMetadata, PlanImportQuery, PlanImportResponse, PlanMatrixDocument,
};
use crate::dto::plans::CreatePlanRequest;
use crate::entities::enums::{ActionFocus, ActionType, AuditOperation, AuditResource, CategorySource, PolicyScope};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::services::audit::{self, Actor, Entry};
use crate::services::spreadsheet::{self, Limits};
use crate::services::{actions, categories, plans};
use calamine::Data;
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Body format of a matrix import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixFormat {
    /// CSV, `,` or `;` separated.
    Csv,
    /// Excel workbook (first sheet).
    Xlsx,
    /// The seed JSON shape.
    Json,
}

impl MatrixFormat {
    /// Name used in the import result.
    pub fn as_str(self) -> &'static str {
        match self {
            MatrixFormat::Csv => "csv",
            MatrixFormat::Xlsx => "xlsx",
            MatrixFormat::Json => "json",
        }
    }
}

/// A parsed matrix, ready to write.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The plan to create.
    pub plan: CreatePlanRequest,
    /// Data rows read.
    pub rows: usize,
    /// Categories with their actions.
    pub categories: Vec<MatrixCategory>,
}

fn row_error(e: RowError) -> FieldError {
    let row = u64::try_from(e.row).unwrap_or(u64::MAX);
    let error = FieldError::new(e.field, e.code, e.message);
    if row == 0 {
        error
    } else {
        error.at_row(row)
    }
}

fn rejected(errors: Vec<FieldError>) -> ApiError {
    let n = errors.len();
    ApiError::validation(errors).with_code(ErrorCode::ImportRejected).detail(
        format!("The matrix has {n} row errors; nothing was written"),
        format!("La matriz tiene {n} errores de fila; no se escribió nada"),
    )
}

pub(crate) fn csv_records(body: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(body).0.into_owned(),
    };
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| ApiError::validation(vec![FieldError::new("body", "malformed_csv", e.to_string())]))?;
        // A field the export neutralised (`'=…`) reads back as it was written.
        records.push(record.iter().map(|f| super::sheet::csv_text_read(f).to_string()).collect());
    }
    Ok(records)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_datetime().map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

pub(crate) fn xlsx_records(body: &[u8], limits: &Limits) -> Result<Vec<Vec<String>>, ApiError> {
    let rows = spreadsheet::read_rows(body, None, limits)?;
    Ok(rows.iter().map(|r| r.iter().map(cell_text).collect()).collect())
}

/// What the title block, page headers and footer of a sheet say, as the JSON shape's metadata.
fn sheet_metadata(m: DocumentMetadata) -> MatrixPlanMetadata {
    MatrixPlanMetadata {
        code: m.code,
        version: m.version,
        title: m.title,
        approval_reference: m.approval_reference,
        approved_by: m.approved_by,
        approved_on: m.approved_on,
        prepared_by: m.prepared_by,
        prepared_by_role: m.prepared_by_role,
        prepared_on: m.prepared_on,
        start_date: m.window.map(|w| w.0),
        end_date: m.window.map(|w| w.1),
        ..Default::default()
    }
}

fn pick<T>(query: Option<T>, body: Option<T>) -> Option<T> {
    query.or(body)
}

/// Reads the body and the metadata into a plan to create; 422 `import_rejected` with every
/// row error when a row is invalid; 413 `spreadsheet_too_large` when a workbook exceeds `limits`.
pub fn parse(format: MatrixFormat, body: &[u8], q: &PlanImportQuery, limits: &Limits) -> Result<Parsed, ApiError> {
    let mut errors: Vec<RowError> = Vec::new();
    let (rows, meta): (Vec<Row>, _) = match format {
        MatrixFormat::Csv | MatrixFormat::Xlsx => {
            let records = if format == MatrixFormat::Csv { csv_records(body)? } else { xlsx_records(body, limits)? };
            let doc = document::read(records);
            let (rows, e) = ti_pl03::rows_from_records(doc.table);
            errors.extend(e);
            (rows, sheet_metadata(doc.metadata))
        }
        MatrixFormat::Json => {
            let doc: PlanMatrixDocument = serde_json::from_slice(body).map_err(|e| {
                // Well-formed JSON with a wrong value (a date that is no date) is a matrix to
                // fix, like a bad CSV cell; broken syntax is a broken upload.
                let code = if e.classify() == serde_json::error::Category::Data {
                    ErrorCode::ValidationFailed
                } else {
                    ErrorCode::InvalidJson
                };
                ApiError::new(code).detail(e.to_string(), e.to_string())
            })?;
            for (i, r) in doc.rows.iter().enumerate() {
                if r.score.is_some_and(|s| !(s.is_finite() && (0.0..=100.0).contains(&s))) {
                    errors.push(RowError {
                        row: i + 1,
                        field: "score".into(),
                        code: "invalid_score".into(),
                        message: "must be between 0 and 100".into(),
                    });
                }
            }
            (doc.rows, doc.plan)
        }
    };
    let window = meta.implementation_window;
    let mut plan = CreatePlanRequest {
        code: pick(q.code.clone(), meta.code).unwrap_or_default(),
        version: pick(q.version, meta.version),
        title: pick(q.title.clone(), meta.title).unwrap_or_default(),
        description: None,
        policy_scope: pick(q.policy_scope, meta.policy_scope).unwrap_or(PolicyScope::Mspi),
        origin: None,
        fiscal_year: pick(q.fiscal_year, meta.fiscal_year),
        start_date: q.start_date.or(meta.start_date).or(window.and_then(|w| w.start)),
        end_date: q.end_date.or(meta.end_date).or(window.and_then(|w| w.end)),
        prepared_by: pick(q.prepared_by.clone(), meta.prepared_by),
        prepared_by_role: pick(q.prepared_by_role.clone(), meta.prepared_by_role),
        prepared_on: pick(q.prepared_on, meta.prepared_on),
        approved_by: pick(q.approved_by.clone(), meta.approved_by),
        approval_reference: pick(q.approval_reference.clone(), meta.approval_reference),
        approved_on: pick(q.approved_on, meta.approved_on),
        objective_ids: vec![],
        budget: None,
        funding_source: None,
        maturity_current: None,
        maturity_target: None,
    };
    let mut missing = Vec::new();
    if plan.code.trim().is_empty() {
        missing.push(FieldError::new(
            "code",
            "required",
            "give the plan code (query `code` or `CÓDIGO:` in the sheet)",
        ));
    }
    if plan.title.trim().is_empty() {
        missing.push(FieldError::new(
            "title",
            "required",
            "give the plan title (query `title` or a title above the table)",
        ));
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let (cats, e) = ti_pl03::categories(&rows);
    errors.extend(e);
    if plan.start_date.is_none() && plan.end_date.is_none() {
        // Without a window in the query or the file, the plan spans the periods its actions write.
        let periods: Vec<(NaiveDate, NaiveDate)> =
            cats.iter().flat_map(|c| &c.actions).filter_map(|a| a.start_date.zip(a.due_date)).collect();
        plan.start_date = periods.iter().map(|p| p.0).min();
        plan.end_date = periods.iter().map(|p| p.1).max();
    }
    for c in &cats {
        if c.actions.iter().any(|a| a.start_date.is_none()) && (plan.start_date.is_none() || plan.end_date.is_none()) {
            errors.push(RowError {
                row: c.row,
                field: "improvements_to_implement".into(),
                code: "missing_period".into(),
                message:
                    "write the period ('Fecha: (DD/MM/YYYY al DD/MM/YYYY)') or give the plan's start_date and end_date"
                        .into(),
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(rejected(errors.into_iter().map(row_error).collect()));
    }
    Ok(Parsed { plan, rows: rows.len(), categories: cats })
}

/// What [`write`] would do, without keeping it: the writes run in a transaction that is rolled
/// back, so every check the database makes (codes taken, constraints) is made.
pub async fn dry_run(
    db: &sea_orm::DatabaseConnection, actor: &Actor, org: Uuid, format: MatrixFormat, sha256: &str, parsed: Parsed,
) -> Result<PlanImportResponse, ApiError> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let mut result = write(&txn, actor, org, format, sha256, parsed).await?;
    txn.rollback().await?;
    result.plan_id = None;
    result.dry_run = true;
    Ok(result)
}

/// Writes a parsed matrix: a draft plan, its categories in order and their actions (type
/// `improvement`, focus `maturity`, target quantity 1, period from the matrix or the plan's
/// window), and records an `import` event naming the file. Returns the import result.
pub async fn write(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, format: MatrixFormat, sha256: &str, parsed: Parsed,
) -> Result<PlanImportResponse, ApiError> {
    let (window_start, window_end) = (parsed.plan.start_date, parsed.plan.end_date);
    let plan = plans::create(conn, actor, org, parsed.plan).await?;
    let (mut n_actions, mut n_alternatives) = (0u64, 0u64);
    let mut on_window = Vec::new();
    for (i, c) in parsed.categories.iter().enumerate() {
        n_alternatives += c.improvement_alternatives.len() as u64;
        let created = categories::create(
            conn,
            actor,
            org,
            plan.id,
            CreateCategoryRequest {
                name: c.name.clone(),
                source: CategorySource::Other,
                indicator_kind: None,
                score: c.score,
                previous_score: None,
                target_score: None,
                improvement_alternatives: c.improvement_alternatives.clone(),
                effectiveness_criterion: c.effectiveness_criterion.clone(),
                control_refs: vec![],
                position: Some(i32::try_from(i + 1).unwrap_or(i32::MAX)),
            },
        )
        .await?;
        for a in &c.actions {
            let (Some(start), Some(due)) = (a.start_date.or(window_start), a.due_date.or(window_end)) else {
                continue;
            };
            let action = actions::create(conn, actor, org, plan.id, action_request(a, created.id, start, due)).await?;
            n_actions += 1;
            if a.start_date.is_none() || a.due_date.is_none() {
                on_window.push(ActionOnPlanWindow {
                    number: action.number,
                    row: c.row as u64,
                    category: c.name.clone(),
                    title: a.title.clone(),
                });
            }
        }
    }
    let result = PlanImportResponse {
        plan_id: Some(plan.id),
        dry_run: false,
        format: format.as_str().into(),
        code: plan.code,
        version: plan.version,
        rows: parsed.rows as u64,
        categories: parsed.categories.len() as u64,
        alternatives: n_alternatives,
        actions: n_actions,
        actions_on_plan_window: on_window,
        errors: vec![],
    };
    // One event names the file behind the plan, besides the events of each created row.
    let file = serde_json::json!({ "format": format.as_str(), "sha256": sha256, "result": &result });
    audit::record(conn, actor, Entry::new(org, AuditResource::Plan, plan.id, AuditOperation::Import).after(&file))
        .await?;
    Ok(result)
}

fn action_request(a: &ti_pl03::MatrixAction, category: Uuid, start: NaiveDate, due: NaiveDate) -> CreateActionRequest {
    CreateActionRequest {
        number: None,
        action_type: ActionType::Improvement,
        focus: ActionFocus::Maturity,
        title: a.title.clone(),
        description: Some(a.description.clone()),
        goal: None,
        unit: None,
        target_quantity: Some(1.0),
        responsible_id: None,
        responsible_unit: None,
        start_date: start,
        due_date: due,
        category_id: Some(category),
        finding_ids: vec![],
        objective_ids: vec![],
        resources: None,
        estimated_cost: None,
    }
}
