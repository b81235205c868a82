//! Exports of a closed or filed period, rendered from its stored snapshot only (never from
//! live rows) with the plan-matrix writers, so the same period always gives the same bytes:
//! the XLSX workbook is stamped with the closing instant, and nothing that changes at filing
//! (status, reference) is printed. Until filing, the observations may still change the file.
//!
//! `sireci-f14-1`: one F14.1 form (modality 2, progress) with the comptroller rows of every
//! covered plan, numbered `FILA_1…` across plans. `ti-pl03`: one matrix per covered plan (one
//! worksheet each in XLSX, one after another in CSV).
use super::snapshot::{ActionContent, PlanContent};
use crate::dto::plan_matrix::{ExportFormat, ExportLayout, Modality};
use crate::dto::reporting_periods::PeriodExportDocument;
use crate::entities::category::{ControlRefs, Texts};
use crate::entities::enums::{
    ActionFocus, ActionStatus, ActionType, CategorySource, ComplianceResult, EffectivenessResult, FindingStatus,
    PeriodStatus, TrafficLight,
};
use crate::entities::finding::{Incidences, Requirements};
use crate::entities::{
    action, category, finding, organization, plan, reporting_period, reporting_period_action, reporting_period_plan,
};
use crate::error::{ApiError, ErrorCode};
use crate::services::plan_matrix::export::{self as matrix_export, PlanContent as MatrixContent};
use crate::services::plan_matrix::sheet::{self, Cell, Sheet};
use crate::services::plan_matrix::sireci::{self, SheetInput};
use crate::services::progress::ActionFigures;
use crate::services::tenancy::find_in_org;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeSet;
use uuid::Uuid;

/// A rendered export.
#[derive(Debug, Clone)]
pub struct File {
    /// Media type.
    pub content_type: &'static str,
    /// Attachment name.
    pub name: String,
    /// Bytes.
    pub bytes: Vec<u8>,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn parse<T: Copy>(all: &[T], code: &str, code_of: impl Fn(T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| code_of(*v) == code)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "sin dato".to_string(), |v| format!("{v} %"))
}

/// One covered plan rebuilt from the snapshot, as the matrix writers take it.
struct Rebuilt {
    content: MatrixContent,
    input: SheetInput,
    row: reporting_period_plan::Model,
}

fn rebuild(
    period: &reporting_period::Model,
    row: reporting_period_plan::Model,
    actions: Vec<reporting_period_action::Model>,
) -> Result<Rebuilt, ApiError> {
    let at: DateTime<Utc> = period.closed_at.unwrap_or(period.created_at);
    let org = period.organization_id;
    let p: PlanContent = serde_json::from_value(row.content.clone()).map_err(ApiError::internal)?;
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
    let plan = plan::Model {
        id: row.plan_id,
        code: p.code.clone(),
        plan_version: p.plan_version,
        title: p.title.clone(),
        description: None,
        policy_scope: p.policy_scope,
        origin: None,
        fiscal_year: p.fiscal_year,
        start_date: p.start_date,
        end_date: p.end_date,
        status: p.status,
        prepared_by: p.prepared_by.clone(),
        prepared_by_role: p.prepared_by_role.clone(),
        prepared_on: p.prepared_on,
        approved_by: p.approved_by.clone(),
        approval_reference: p.approval_reference.clone(),
        approved_on: p.approved_on,
        cancellation_reason: None,
        budget: None,
        funding_source: None,
        maturity_current: None,
        maturity_target: None,
        previous_version_id: None,
        organization_id: org,
        created_at: at,
        updated_at: at,
        created_by: None,
        updated_by: None,
        version: 1,
    };
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
        let c: ActionContent = serde_json::from_value(a.content.clone()).map_err(ApiError::internal)?;
        let status = parse(ActionStatus::ALL, &a.status, ActionStatus::code).unwrap_or(ActionStatus::InProgress);
        models.push(action::Model {
            id: a.action_id,
            plan_id: a.plan_id,
            category_id: c.category_id,
            number: a.number,
            action_type: ActionType::Improvement,
            focus: ActionFocus::Maturity,
            title: c.title.clone(),
            description: c.description.clone(),
            goal: c.goal.clone(),
            unit: c.unit.clone(),
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
    Ok(Rebuilt { content: MatrixContent { organization, plan, categories, actions: models }, input, row })
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

/// The export of period `id` of `org` in `layout` and `format` (409 while the period is open).
pub async fn render(
    conn: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    layout: ExportLayout,
    format: ExportFormat,
) -> Result<File, ApiError> {
    let period = find_in_org::<reporting_period::Entity>(conn, org, id).await?;
    if period.status == PeriodStatus::Open {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "This period is open: it has no stored figures to export yet. Close it first; drafts are exported from \
             GET /plans/{id}/export.",
            "Este corte está abierto: aún no tiene cifras guardadas para exportar. Ciérrelo primero; los borradores \
             se exportan con GET /plans/{id}/export.",
        ));
    }
    let at = period.closed_at.unwrap_or(period.created_at);
    let plans = reporting_period_plan::Entity::find()
        .filter(reporting_period_plan::Column::OrganizationId.eq(org))
        .filter(reporting_period_plan::Column::PeriodId.eq(id))
        .order_by_asc(reporting_period_plan::Column::Code)
        .order_by_asc(reporting_period_plan::Column::PlanVersion)
        .order_by_asc(reporting_period_plan::Column::PlanId)
        .all(conn)
        .await?;
    let mut sheets: Vec<(String, Sheet)> = Vec::new();
    let mut sireci_rows: Vec<Vec<Cell>> = Vec::new();
    let mut first: Option<Sheet> = None;
    let mut names = BTreeSet::new();
    for row in plans {
        let actions = reporting_period_action::Entity::find()
            .filter(reporting_period_action::Column::OrganizationId.eq(org))
            .filter(reporting_period_action::Column::PeriodId.eq(id))
            .filter(reporting_period_action::Column::PlanId.eq(row.plan_id))
            .order_by_asc(reporting_period_action::Column::Number)
            .order_by_asc(reporting_period_action::Column::ActionId)
            .all(conn)
            .await?;
        let rebuilt = rebuild(&period, row, actions)?;
        match layout {
            ExportLayout::SireciF141 => {
                let s = sireci::sheet_from(&rebuilt.content, &rebuilt.input, Modality::Progress, period.cut_off_date);
                sireci_rows.extend(s.rows.iter().cloned());
                first.get_or_insert(s);
            }
            ExportLayout::TiPl03 => {
                let mut s = matrix_export::ti_pl03_sheet(&rebuilt.content);
                s.header_block.extend(period_lines(&period));
                s.header_block.extend([
                    ("Avance del plan al corte".to_string(), pct(rebuilt.row.progress_pct)),
                    ("Cumplimiento al corte".to_string(), pct(rebuilt.row.compliance_pct)),
                    ("Eficacia al corte".to_string(), pct(rebuilt.row.effectiveness_pct)),
                ]);
                let base = format!("{} v{}", rebuilt.row.code, rebuilt.row.plan_version);
                let mut name: String = base.chars().take(26).collect();
                let mut n = 2;
                while !names.insert(name.to_lowercase()) {
                    name = format!("{} ({n})", base.chars().take(24).collect::<String>());
                    n += 1;
                }
                sheets.push((name, s));
            }
        }
    }
    if layout == ExportLayout::SireciF141 {
        // One form for the entity: the rows of every plan, numbered across plans.
        for (i, row) in sireci_rows.iter_mut().enumerate() {
            if let Some(cell) = row.first_mut() {
                *cell = Cell::text(format!("FILA_{}", i + 1));
            }
        }
        let mut form = first.unwrap_or_else(|| Sheet {
            title: "F14.1: PLANES DE MEJORAMIENTO - ENTIDADES".into(),
            header_block: vec![],
            columns: sireci::COLUMNS,
            rows: vec![],
            footer_block: vec![],
        });
        // The entity's lines of the first plan's header block, then the period's.
        form.header_block.retain(|(k, _)| k == "Entidad" || k == "NIT" || k == "Modalidad de registro");
        form.header_block.extend(period_lines(&period));
        form.rows = sireci_rows;
        sheets = vec![("F14.1".to_string(), form)];
    }
    let layout_name = match layout {
        ExportLayout::SireciF141 => "sireci-f14-1",
        ExportLayout::TiPl03 => "ti-pl03",
    };
    let (content_type, ext, bytes) = match format {
        ExportFormat::Csv => {
            let mut out = Vec::new();
            for (i, (_, s)) in sheets.iter().enumerate() {
                let csv = s.to_csv().map_err(ApiError::internal)?;
                if i == 0 {
                    out.extend_from_slice(&csv);
                } else {
                    out.push(b'\n');
                    out.extend_from_slice(csv.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&csv));
                }
            }
            ("text/csv; charset=utf-8", "csv", out)
        }
        ExportFormat::Xlsx => (XLSX, "xlsx", sheet::workbook_xlsx(&sheets, &at).map_err(ApiError::internal)?),
        ExportFormat::Json => {
            let value = PeriodExportDocument {
                period: serde_json::json!({
                    "id": period.id,
                    "name": period.name,
                    "kind": period.kind,
                    "cut_off_date": period.cut_off_date,
                    "closed_at": period.closed_at,
                    "snapshot_sha256": period.snapshot_sha256,
                }),
                sheets: sheets.iter().map(|(_, s)| matrix_export::sheet_json(s)).collect(),
            };
            ("application/json", "json", serde_json::to_vec(&value).map_err(ApiError::internal)?)
        }
    };
    Ok(File { content_type, name: format!("corte-{}-{layout_name}.{ext}", period.cut_off_date), bytes })
}
