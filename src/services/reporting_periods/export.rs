//! Exports of a closed or filed period, rendered from its stored snapshot only (never from
//! live rows) with the plan-matrix writers, so the same period always gives the same bytes:
//! the XLSX workbook is stamped with the closing instant, and nothing that changes at filing
//! (status, reference) is printed. Until filing, the observations may still change the file.
//!
//! Memory stays bounded: the snapshot's action rows are read in keyset pages of [`PAGE`]
//! (a TI.PL03 matrix, which groups a plan's actions by category, one plan at a time) and each
//! page is rendered and sent to the response body before the next is read; the XLSX workbook
//! is written in rust_xlsxwriter's low-memory mode (rows go to temporary files), and only the
//! finished, compressed file is held before it is sent.
//!
//! `sireci-f14-1`: one F14.1 form (modality 2, progress) with the comptroller rows of every
//! covered plan, numbered `FILA_1…` across plans. `ti-pl03`: one matrix per covered plan (one
//! worksheet each in XLSX, one after another in CSV).
use super::snapshot::{ActionContent, PlanContent};
use crate::dto::plan_matrix::{ExportFormat, ExportLayout, Modality};
use crate::entities::category::{ControlRefs, Texts};
use crate::entities::enums::{
    ActionFocus, ActionStatus, ActionType, CategorySource, ComplianceResult, EffectivenessResult, FindingStatus,
    PeriodStatus, TrafficLight,
};
use crate::entities::finding::{Incidences, Requirements};
use crate::entities::{
    action, category, finding, organization, reporting_period, reporting_period_action, reporting_period_plan,
};
use crate::error::{ApiError, ErrorCode};
use crate::services::plan_matrix::export::{self as matrix_export, PlanContent as MatrixContent};
use crate::services::plan_matrix::sheet::{self, Book, Cell, Column, Sheet};
use crate::services::plan_matrix::sireci::{self, SheetInput};
use crate::services::progress::ActionFigures;
use crate::services::tenancy::find_in_org;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, BoxStream};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeSet;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Snapshot action rows read per keyset page.
pub const PAGE: u64 = 1000;
/// Largest piece of the body sent at once.
const PIECE: usize = 64 * 1024;

/// An export on its way: what the response says of it, and its bytes as they are rendered.
pub struct Export {
    /// Media type.
    pub content_type: &'static str,
    /// Attachment name.
    pub name: String,
    /// The file's bytes in pieces; an error after the first piece ends the body early.
    pub body: BoxStream<'static, Result<Bytes, ApiError>>,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn parse<T: Copy>(all: &[T], code: &str, code_of: impl Fn(T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| code_of(*v) == code)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "sin dato".to_string(), |v| format!("{v} %"))
}

/// A page of a covered plan's snapshot rebuilt as the matrix writers take it: the plan with
/// `actions` (a page, or all of them), and what the F14.1 rows need of each.
fn rebuild(
    period: &reporting_period::Model, row: &reporting_period_plan::Model, p: &PlanContent,
    actions: Vec<reporting_period_action::Model>,
) -> Result<(MatrixContent, SheetInput), ApiError> {
    let at: DateTime<Utc> = period.closed_at.unwrap_or(period.created_at);
    let org = period.organization_id;
    let organization = organization::Model {
        id: org,
        name: p.organization_name.clone(),
        tax_id: p.organization_tax_id.clone(),
        order: None,
        sector: None,
        created_at: at,
        updated_at: at,
        created_by: None,
        updated_by: None,
        version: 1,
    };
    let plan = p.clone().model(row.plan_id, org, at);
    let categories = p
        .categories
        .iter()
        .map(|c| category::Model {
            id: c.id,
            plan_id: row.plan_id,
            position: c.position,
            name: c.name.clone(),
            source: CategorySource::Other,
            indicator_kind: None,
            score: c.score,
            previous_score: None,
            target_score: None,
            improvement_alternatives: Texts(c.improvement_alternatives.clone()),
            effectiveness_criterion: c.effectiveness_criterion.clone(),
            control_refs: ControlRefs::default(),
            organization_id: org,
            created_at: at,
            updated_at: at,
            created_by: None,
            updated_by: None,
            version: 1,
        })
        .collect();
    let mut input = SheetInput::default();
    let mut models = Vec::with_capacity(actions.len());
    for a in actions {
        let c: ActionContent = serde_json::from_value(a.content).map_err(ApiError::internal)?;
        let status = parse(ActionStatus::ALL, &a.status, ActionStatus::code).unwrap_or(ActionStatus::InProgress);
        models.push(action::Model {
            id: a.action_id,
            plan_id: a.plan_id,
            category_id: c.category_id,
            number: a.number,
            action_type: ActionType::Improvement,
            focus: ActionFocus::Maturity,
            title: c.title,
            description: c.description,
            goal: c.goal,
            unit: c.unit,
            target_quantity: c.target_quantity,
            responsible_id: None,
            responsible_unit: None,
            start_date: c.start_date,
            due_date: c.due_date,
            status,
            completed_on: c.completed_on,
            compliance: parse(ComplianceResult::ALL, &a.compliance, ComplianceResult::code)
                .unwrap_or(ComplianceResult::Pending),
            effectiveness: parse(EffectivenessResult::ALL, &a.effectiveness, EffectivenessResult::code)
                .unwrap_or(EffectivenessResult::Pending),
            evaluated_by: None,
            evaluated_on: None,
            evaluation_criterion: None,
            evaluation_note: None,
            reformulated_from_id: None,
            reformulation_reason: None,
            resources: None,
            estimated_cost: None,
            organization_id: org,
            created_at: at,
            updated_at: at,
            created_by: None,
            updated_by: None,
            version: 1,
        });
        input.figures.insert(
            a.action_id,
            ActionFigures {
                weeks: c.weeks,
                accepted_quantity: a.accepted_quantity,
                progress_pct: a.progress_pct,
                overdue: a.overdue,
                traffic_light: a.traffic_light.as_deref().and_then(|l| parse(TrafficLight::ALL, l, TrafficLight::code)),
            },
        );
        if let Some(note) = a.observation.as_deref() {
            input.notes.insert(a.action_id, format!("Observación del corte: {note}"));
        }
        input.links.insert(a.action_id, c.findings.iter().map(|f| f.id).collect());
        for f in c.findings {
            input.findings.insert(
                f.id,
                finding::Model {
                    id: f.id,
                    source: f.source,
                    auditor: None,
                    report_code: String::new(),
                    report_date: None,
                    fiscal_year: None,
                    finding_code: f.finding_code,
                    title: f.title,
                    condition: f.condition,
                    criterion: None,
                    cause: f.cause,
                    effect: f.effect,
                    classification: None,
                    severity: None,
                    requirements: Requirements::default(),
                    presumed_incidence: Incidences(f.presumed_incidence),
                    fiscal_amount: f.fiscal_amount,
                    status: FindingStatus::Open,
                    plan_id: None,
                    repeats_finding_id: None,
                    import_id: None,
                    search: String::new(),
                    organization_id: org,
                    created_at: at,
                    updated_at: at,
                    created_by: None,
                    updated_by: None,
                    version: 1,
                },
            );
        }
    }
    Ok((MatrixContent { organization, plan, categories, actions: models }, input))
}

/// Lines naming the period, printed above every table of its exports.
fn period_lines(period: &reporting_period::Model) -> Vec<(String, String)> {
    vec![
        ("Corte de reporte".into(), period.name.clone()),
        ("Tipo de corte".into(), period.kind.label_es().into()),
        ("Fecha de corte".into(), period.cut_off_date.format("%Y/%m/%d").to_string()),
        (
            "Cifras".into(),
            "Instantánea guardada al cerrar el corte: evidencias con corte hasta la fecha de corte y aceptadas al \
             cierre"
                .into(),
        ),
        ("Huella SHA-256 de la instantánea".into(), period.snapshot_sha256.clone().unwrap_or_default()),
    ]
}

/// Where the rendered pieces go: CSV, JSON or an XLSX workbook, each written a sheet at a
/// time and a page of rows at a time, giving the bytes the whole file rendered at once gives.
enum Writer {
    Csv { sheets: usize },
    Json { sheets: usize, rows: usize, tail: Vec<u8> },
    Xlsx(Box<Book>),
}

impl Writer {
    fn new(format: ExportFormat, at: &DateTime<Utc>) -> Writer {
        match format {
            ExportFormat::Csv => Writer::Csv { sheets: 0 },
            ExportFormat::Json => Writer::Json { sheets: 0, rows: 0, tail: Vec::new() },
            ExportFormat::Xlsx => Writer::Xlsx(Box::new(Book::new(Some(at), true))),
        }
    }

    /// The bytes before any sheet.
    fn start(&self, period: &reporting_period::Model) -> Result<Vec<u8>, ApiError> {
        Ok(match self {
            Writer::Json { .. } => {
                let value = serde_json::json!({
                    "id": period.id,
                    "name": period.name,
                    "kind": period.kind,
                    "cut_off_date": period.cut_off_date,
                    "closed_at": period.closed_at,
                    "snapshot_sha256": period.snapshot_sha256,
                });
                let mut out = b"{\"period\":".to_vec();
                out.extend(serde_json::to_vec(&value).map_err(ApiError::internal)?);
                out.extend_from_slice(b",\"sheets\":[");
                out
            }
            _ => Vec::new(),
        })
    }

    /// Starts sheet `name` with the head of `head` (its rows are not written).
    fn begin(&mut self, name: &str, head: &Sheet) -> Result<Vec<u8>, ApiError> {
        match self {
            Writer::Csv { sheets } => {
                let csv = head.csv_head().map_err(ApiError::internal)?;
                *sheets += 1;
                if *sheets == 1 {
                    return Ok(csv);
                }
                let mut out = vec![b'\n'];
                out.extend_from_slice(csv.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&csv));
                Ok(out)
            }
            Writer::Json { sheets, rows, tail } => {
                let (head, end) = matrix_export::sheet_json_parts(head).map_err(ApiError::internal)?;
                let mut out = if *sheets > 0 { vec![b','] } else { Vec::new() };
                out.extend(head);
                *sheets += 1;
                *rows = 0;
                *tail = end;
                Ok(out)
            }
            Writer::Xlsx(book) => {
                book.begin(name, head).map_err(ApiError::internal)?;
                Ok(Vec::new())
            }
        }
    }

    /// The current sheet's next `rows`.
    fn rows(&mut self, columns: &[Column], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ApiError> {
        match self {
            Writer::Csv { .. } => sheet::csv_rows(columns, rows).map_err(ApiError::internal),
            Writer::Json { rows: written, .. } => {
                let mut out = Vec::new();
                for row in rows {
                    if *written > 0 {
                        out.push(b',');
                    }
                    *written += 1;
                    serde_json::to_writer(&mut out, &matrix_export::row_json(columns, row))
                        .map_err(ApiError::internal)?;
                }
                Ok(out)
            }
            Writer::Xlsx(book) => {
                book.rows(rows).map_err(ApiError::internal)?;
                Ok(Vec::new())
            }
        }
    }

    /// Ends the current sheet with the footer of `head`.
    fn end(&mut self, head: &Sheet) -> Result<Vec<u8>, ApiError> {
        match self {
            Writer::Csv { .. } => head.csv_foot().map_err(ApiError::internal),
            Writer::Json { tail, .. } => Ok(std::mem::take(tail)),
            Writer::Xlsx(book) => {
                book.end(&head.footer_block).map_err(ApiError::internal)?;
                Ok(Vec::new())
            }
        }
    }

    /// The bytes after the last sheet (the whole workbook for XLSX).
    fn finish(self) -> Result<Vec<u8>, ApiError> {
        match self {
            Writer::Csv { .. } => Ok(Vec::new()),
            Writer::Json { .. } => Ok(b"]}".to_vec()),
            Writer::Xlsx(book) => book.finish().map_err(ApiError::internal),
        }
    }
}

/// Sends `bytes` down the body in pieces; false when the client has gone.
async fn send(tx: &mpsc::Sender<Result<Bytes, ApiError>>, bytes: Vec<u8>) -> bool {
    let bytes = Bytes::from(bytes);
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + PIECE).min(bytes.len());
        if tx.send(Ok(bytes.slice(at..end))).await.is_err() {
            return false;
        }
        at = end;
    }
    true
}

/// The covered plans' rows of period `id` of `org`, by code, version and id.
async fn plan_rows(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid,
) -> Result<Vec<reporting_period_plan::Model>, ApiError> {
    Ok(reporting_period_plan::Entity::find()
        .filter(reporting_period_plan::Column::OrganizationId.eq(org))
        .filter(reporting_period_plan::Column::PeriodId.eq(id))
        .order_by_asc(reporting_period_plan::Column::Code)
        .order_by_asc(reporting_period_plan::Column::PlanVersion)
        .order_by_asc(reporting_period_plan::Column::PlanId)
        .all(conn)
        .await?)
}

/// The page of plan `row`'s action rows after `after` (number, action id), by number and id.
async fn action_page(
    conn: &impl ConnectionTrait, row: &reporting_period_plan::Model, after: Option<(i32, Uuid)>,
) -> Result<Vec<reporting_period_action::Model>, ApiError> {
    use reporting_period_action::Column;
    let mut select = reporting_period_action::Entity::find()
        .filter(Column::OrganizationId.eq(row.organization_id))
        .filter(Column::PeriodId.eq(row.period_id))
        .filter(Column::PlanId.eq(row.plan_id));
    if let Some((number, id)) = after {
        select = select.filter(
            Condition::any().add(Column::Number.gt(number)).add(Column::Number.eq(number).and(Column::ActionId.gt(id))),
        );
    }
    Ok(select.order_by_asc(Column::Number).order_by_asc(Column::ActionId).limit(PAGE).all(conn).await?)
}

/// Keyset pages of a plan's action rows.
struct Pages<'a> {
    row: &'a reporting_period_plan::Model,
    after: Option<(i32, Uuid)>,
    done: bool,
}

impl Pages<'_> {
    /// The next page; empty when there is none (the first call always answers, possibly empty).
    async fn next(
        &mut self, conn: &impl ConnectionTrait,
    ) -> Result<Option<Vec<reporting_period_action::Model>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let page = action_page(conn, self.row, self.after).await?;
        self.done = page.len() < PAGE as usize;
        self.after = page.last().map(|a| (a.number, a.action_id));
        Ok(Some(page))
    }
}

/// The F14.1 form's head: the first plan's title and its entity lines (every plan is the
/// entity's), then the period's; a form without plans has only the period's lines.
fn form_head(period: &reporting_period::Model, first: Option<Sheet>) -> Sheet {
    let mut form = first.unwrap_or_else(|| Sheet {
        title: "F14.1: PLANES DE MEJORAMIENTO - ENTIDADES".into(),
        header_block: vec![],
        columns: sireci::COLUMNS,
        rows: vec![],
        footer_block: vec![],
    });
    form.rows = vec![];
    form.header_block.retain(|(k, _)| k == "Entidad" || k == "NIT" || k == "Modalidad de registro");
    form.header_block.extend(period_lines(period));
    form
}

/// Renders the export of `period` into `tx`, a page at a time.
async fn produce(
    conn: &DatabaseConnection, period: &reporting_period::Model, layout: ExportLayout, format: ExportFormat,
    tx: &mpsc::Sender<Result<Bytes, ApiError>>,
) -> Result<(), ApiError> {
    let at = period.closed_at.unwrap_or(period.created_at);
    let mut out = Writer::new(format, &at);
    if !send(tx, out.start(period)?).await {
        return Ok(());
    }
    let plans = plan_rows(conn, period.organization_id, period.id).await?;
    match layout {
        ExportLayout::SireciF141 => {
            // One form for the entity: the rows of every plan, numbered across plans.
            let mut head: Option<Sheet> = None;
            let mut n = 0usize;
            for row in &plans {
                let p: PlanContent = serde_json::from_value(row.content.clone()).map_err(ApiError::internal)?;
                let mut pages = Pages { row, after: None, done: false };
                while let Some(page) = pages.next(conn).await? {
                    let (content, input) = rebuild(period, row, &p, page)?;
                    let mut s = sireci::sheet_from(&content, &input, Modality::Progress, period.cut_off_date);
                    let mut rows = std::mem::take(&mut s.rows);
                    if head.is_none() {
                        let form = form_head(period, Some(s));
                        if !send(tx, out.begin("F14.1", &form)?).await {
                            return Ok(());
                        }
                        head = Some(form);
                    }
                    for cells in &mut rows {
                        n += 1;
                        if let Some(cell) = cells.first_mut() {
                            *cell = Cell::text(format!("FILA_{n}"));
                        }
                    }
                    if !send(tx, out.rows(sireci::COLUMNS, &rows)?).await {
                        return Ok(());
                    }
                }
            }
            let form = match head {
                Some(form) => form,
                None => {
                    let form = form_head(period, None);
                    if !send(tx, out.begin("F14.1", &form)?).await {
                        return Ok(());
                    }
                    form
                }
            };
            if !send(tx, out.end(&form)?).await {
                return Ok(());
            }
        }
        ExportLayout::TiPl03 => {
            // One matrix per plan: a plan's actions are grouped by category, so a plan is
            // read whole (in pages) before its matrix is written.
            let mut names = BTreeSet::new();
            for row in &plans {
                let p: PlanContent = serde_json::from_value(row.content.clone()).map_err(ApiError::internal)?;
                let mut actions = Vec::with_capacity(usize::try_from(row.actions_count).unwrap_or(0));
                let mut pages = Pages { row, after: None, done: false };
                while let Some(page) = pages.next(conn).await? {
                    actions.extend(page);
                }
                let (content, _) = rebuild(period, row, &p, actions)?;
                let mut s = matrix_export::ti_pl03_sheet(&content);
                drop(content);
                s.header_block.extend(period_lines(period));
                s.header_block.extend([
                    ("Avance del plan al corte".to_string(), pct(row.progress_pct)),
                    ("Cumplimiento al corte".to_string(), pct(row.compliance_pct)),
                    ("Eficacia al corte".to_string(), pct(row.effectiveness_pct)),
                ]);
                let base = format!("{} v{}", row.code, row.plan_version);
                let mut name: String = base.chars().take(26).collect();
                let mut n = 2;
                while !names.insert(name.to_lowercase()) {
                    name = format!("{} ({n})", base.chars().take(24).collect::<String>());
                    n += 1;
                }
                let mut piece = out.begin(&name, &s)?;
                piece.extend(out.rows(s.columns, &s.rows)?);
                piece.extend(out.end(&s)?);
                if !send(tx, piece).await {
                    return Ok(());
                }
            }
        }
    }
    send(tx, out.finish()?).await;
    Ok(())
}

/// The export of period `id` of `org` in `layout` and `format` (409 while the period is open),
/// rendered from the snapshot while the body is sent.
pub async fn open(
    db: &DatabaseConnection, org: Uuid, id: Uuid, layout: ExportLayout, format: ExportFormat,
) -> Result<Export, ApiError> {
    let period = find_in_org::<reporting_period::Entity>(db, org, id).await?;
    if period.status == PeriodStatus::Open {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "This period is open: it has no stored figures to export yet. Close it first; drafts are exported from \
             GET /plans/{id}/export.",
            "Este corte está abierto: aún no tiene cifras guardadas para exportar. Ciérrelo primero; los borradores \
             se exportan con GET /plans/{id}/export.",
        ));
    }
    let layout_name = match layout {
        ExportLayout::SireciF141 => "sireci-f14-1",
        ExportLayout::TiPl03 => "ti-pl03",
    };
    let (content_type, ext) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Xlsx => (XLSX, "xlsx"),
        ExportFormat::Json => ("application/json", "json"),
    };
    let name = format!("corte-{}-{layout_name}.{ext}", period.cut_off_date);
    let (tx, rx) = mpsc::channel(4);
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(e) = produce(&db, &period, layout, format, &tx).await {
            tracing::error!(error = %e, period = %period.id, "period export failed after it began");
            let _ = tx.send(Err(e)).await;
        }
    });
    let body = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Ok(Export { content_type, name, body: Box::pin(body) })
}
