//! The Contraloría General de la República's SIRECI form F14.1 ("PLANES DE MEJORAMIENTO -
//! ENTIDADES", modality M-3 "PLAN DE MEJORAMIENTO"): the plan of improvement for the
//! Contraloría's findings, one row per finding–action pair.
//!
//! Which version: the column titles and their order (the form numbers them 4, 8, … 60 after
//! the `FILA_n` row label), the modality values (`1 SUSCRIPCIÓN DEL PLAN DE MEJORAMIENTO`,
//! `2 AVANCE ó SEGUIMIENTO DEL PLAN DE MEJORAMIENTO`) and the `AAAA/MM/DD` dates follow the
//! F14.1 template as entities file it in SIRECI, checked against published F14.1 filings (an
//! older 13-column variant lacked EFECTO DEL HALLAZGO and OBJETIVO). The current official
//! template and the CGR resolution that governs it could not be consulted where this was
//! written; README ("SIRECI F14.1") says so. A change of the form is an edit of [`COLUMNS`] and
//! [`row`] only.
use super::export::{header_block, PlanContent};
use super::sheet::{col, Cell, Column, Kind, Sheet};
use crate::dto::plan_matrix::Modality;
use crate::entities::enums::{ActionStatus, FindingSource};
use crate::entities::{action, finding};
use crate::error::ApiError;
use crate::services::actions;
use crate::services::progress::{self, ActionFigures};
use crate::services::tenancy::scoped;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// The F14.1 columns in form order; the form numbers them 4, 8, 12, … 60 after the row label.
pub const COLUMNS: &[Column] = &[
    col("FILA", 9.0, Kind::Text),
    col("MODALIDAD DE REGISTRO", 22.0, Kind::Text),
    col("CÓDIGO HALLAZGO", 14.0, Kind::Text),
    col("DESCRIPCIÓN HALLAZGO (No más de 50 palabras)", 45.0, Kind::Text),
    col("CAUSA DEL HALLAZGO", 35.0, Kind::Text),
    col("EFECTO DEL HALLAZGO", 35.0, Kind::Text),
    col("ACCIÓN DE MEJORA", 40.0, Kind::Text),
    col("OBJETIVO", 35.0, Kind::Text),
    col("DESCRIPCIÓN DE LAS ACTIVIDADES", 45.0, Kind::Text),
    col("UNIDAD DE MEDIDA DE LAS ACTIVIDADES", 16.0, Kind::Text),
    col("CANTIDADES UNIDAD DE MEDIDA", 12.0, Kind::Number),
    col("FECHA DE INICIO DE LAS ACTIVIDADES", 13.0, Kind::FormDate),
    col("FECHA DE TERMINACIÓN DE LAS ACTIVIDADES", 13.0, Kind::FormDate),
    col("PLAZO EN SEMANAS DE LAS ACTIVIDADES", 10.0, Kind::Number),
    col("AVANCE FÍSICO DE EJECUCIÓN DE LAS ACTIVIDADES", 12.0, Kind::Number),
    col("OBSERVACIONES", 40.0, Kind::Text),
];

/// The form's value of MODALIDAD DE REGISTRO.
pub fn modality_label(modality: Modality) -> &'static str {
    match modality {
        Modality::Subscription => "1 SUSCRIPCIÓN DEL PLAN DE MEJORAMIENTO",
        Modality::Progress => "2 AVANCE ó SEGUIMIENTO DEL PLAN DE MEJORAMIENTO",
    }
}

/// Whether an action belongs on the form: not cancelled.
fn reportable(a: &action::Model) -> bool {
    a.status != ActionStatus::Cancelled
}

/// OBSERVACIONES: the action's number, the finding's presumed incidence (and fiscal amount)
/// and, when reporting progress, the cut-off's figures.
fn observations(
    a: &action::Model, f: &finding::Model, modality: Modality, figures: &ActionFigures, cut_off: NaiveDate,
) -> String {
    let mut note = format!("Acción núm. {}", a.number);
    if !f.presumed_incidence.0.is_empty() {
        let labels: Vec<String> = f.presumed_incidence.0.iter().map(|i| i.label_es().to_lowercase()).collect();
        note.push_str(&format!(". Presunta incidencia {}", labels.join(", ")));
        if let Some(amount) = f.fiscal_amount {
            note.push_str(&format!(" (cuantía fiscal {} COP)", crate::dto::common::money(amount)));
        }
    }
    if modality == Modality::Progress {
        let unit = a.unit.as_deref().unwrap_or("unidades");
        note.push_str(&format!(
            ". Avance con corte al {}: {} de {} {unit} ({} %)",
            cut_off.format("%d/%m/%Y"),
            figures.accepted_quantity,
            a.target_quantity,
            figures.progress_pct
        ));
        if a.status == ActionStatus::Done {
            note.push_str("; acción terminada");
        }
    }
    note
}

/// One form row for the pair (`f`, `a`).
fn row(
    n: usize, f: &finding::Model, a: &action::Model, modality: Modality, figures: &ActionFigures, cut_off: NaiveDate,
) -> Vec<Cell> {
    let progress = match modality {
        Modality::Progress => Cell::Number(figures.accepted_quantity),
        Modality::Subscription => Cell::Empty,
    };
    vec![
        Cell::text(format!("FILA_{n}")),
        Cell::text(modality_label(modality)),
        Cell::text(f.finding_code.clone()),
        Cell::text(f.condition.clone().unwrap_or_else(|| f.title.clone())),
        Cell::text(f.cause.clone().unwrap_or_default()),
        Cell::text(f.effect.clone().unwrap_or_default()),
        Cell::text(a.title.clone()),
        Cell::text(a.goal.clone().unwrap_or_default()),
        Cell::text(a.description.clone().unwrap_or_else(|| a.title.clone())),
        Cell::text(a.unit.clone().unwrap_or_default()),
        Cell::Number(a.target_quantity),
        Cell::Date(a.start_date),
        Cell::Date(a.due_date),
        Cell::Number(progress::weeks(a.start_date, a.due_date) as f64),
        progress,
        Cell::text(observations(a, f, modality, figures, cut_off)),
    ]
}

/// What the F14.1 rows of a plan are built from: the comptroller findings each action answers
/// and each action's figures (live, or as stored by a closed reporting period).
#[derive(Debug, Clone, Default)]
pub struct SheetInput {
    /// Finding ids linked to each action.
    pub links: HashMap<Uuid, Vec<Uuid>>,
    /// The comptroller findings among them, by id (other findings are not on the form).
    pub findings: HashMap<Uuid, finding::Model>,
    /// Figures of each action as of the cut-off.
    pub figures: HashMap<Uuid, ActionFigures>,
    /// A note appended to OBSERVACIONES, per action (a reporting period's observation).
    pub notes: HashMap<Uuid, String>,
}

/// The F14.1 sheet of a plan: one row per pair of a (not cancelled) action and a comptroller
/// finding it answers, in action order then finding code. Actions tied only to internal-audit,
/// FURAG or other findings, and actions without findings, are not on the form. `progress`
/// fills AVANCE FÍSICO with the quantity of evidence accepted with a cut-off up to `cut_off`.
pub async fn sheet(
    conn: &impl ConnectionTrait, content: &PlanContent, modality: Modality, cut_off: NaiveDate,
) -> Result<Sheet, ApiError> {
    let reported: Vec<&action::Model> = content.actions.iter().filter(|a| reportable(a)).collect();
    let ids: Vec<Uuid> = reported.iter().map(|a| a.id).collect();
    let (links, _) = actions::links(conn, &ids).await?;
    let finding_ids: Vec<Uuid> = links.values().flatten().copied().collect();
    let findings: HashMap<Uuid, finding::Model> = if finding_ids.is_empty() {
        HashMap::new()
    } else {
        scoped::<finding::Entity>(content.plan.organization_id)
            .filter(finding::Column::Id.is_in(finding_ids))
            .filter(finding::Column::Source.eq(FindingSource::Comptroller))
            .all(conn)
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect()
    };
    let accepted = match modality {
        Modality::Progress => progress::accepted_quantities_until(conn, &ids, cut_off).await?,
        Modality::Subscription => HashMap::new(),
    };
    let figures = reported
        .iter()
        .map(|a| (a.id, progress::action_figures(a, accepted.get(&a.id).copied().unwrap_or(0.0), cut_off)))
        .collect();
    Ok(sheet_from(content, &SheetInput { links, findings, figures, notes: HashMap::new() }, modality, cut_off))
}

/// The F14.1 sheet of a plan from what [`SheetInput`] holds, without reading the database.
pub fn sheet_from(content: &PlanContent, input: &SheetInput, modality: Modality, cut_off: NaiveDate) -> Sheet {
    let mut rows = Vec::new();
    let none =
        ActionFigures { weeks: 0, accepted_quantity: 0.0, progress_pct: 0.0, overdue: false, traffic_light: None };
    for a in content.actions.iter().filter(|a| reportable(a)) {
        let mut answered: Vec<&finding::Model> = input
            .links
            .get(&a.id)
            .into_iter()
            .flatten()
            .filter_map(|id| input.findings.get(id))
            .filter(|f| f.source == FindingSource::Comptroller)
            .collect();
        answered.sort_by(|x, y| x.finding_code.cmp(&y.finding_code));
        let figures = input.figures.get(&a.id).unwrap_or(&none);
        for f in answered {
            let mut cells = row(rows.len() + 1, f, a, modality, figures, cut_off);
            if let (Some(note), Some(Cell::Text(text))) = (input.notes.get(&a.id), cells.last_mut()) {
                text.push_str(&format!(". {note}"));
            }
            rows.push(cells);
        }
    }
    let mut header = header_block(content);
    header.push(("Modalidad de registro".into(), modality_label(modality).into()));
    if modality == Modality::Progress {
        header.push(("Fecha de corte".into(), cut_off.format("%Y/%m/%d").to_string()));
    }
    Sheet {
        title: "F14.1: PLANES DE MEJORAMIENTO - ENTIDADES".into(),
        header_block: header,
        columns: COLUMNS,
        rows,
        footer_block: vec![],
    }
}
