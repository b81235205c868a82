//! Exports a plan as a TI.PL03 matrix or in the Contraloría SIRECI F14.1 layout, as a
//! [`Sheet`] (CSV, XLSX) or JSON.
use super::sheet::{Cell, Column, Sheet, TI_PL03};
use super::ti_pl03::{self, MatrixAction, MatrixCategory, Row};
use crate::dto::plan_matrix::{ImplementationWindow, MatrixOrganization, MatrixPlanMetadata, PlanMatrixDocument};
use crate::entities::{action, category, organization, plan};
use crate::error::ApiError;
use crate::services::tenancy::{find_in_org, scoped};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

/// A plan with what an export needs.
#[derive(Debug, Clone)]
pub struct PlanContent {
    /// The organization.
    pub organization: organization::Model,
    /// The plan.
    pub plan: plan::Model,
    /// Categories in order.
    pub categories: Vec<category::Model>,
    /// Actions by number.
    pub actions: Vec<action::Model>,
}

/// Loads plan `id` of `org` (404 for another organization's plan).
pub async fn load(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<PlanContent, ApiError> {
    let plan = find_in_org::<plan::Entity>(conn, org, id).await?;
    let organization = organization::Entity::find_by_id(org).one(conn).await?.ok_or_else(ApiError::not_found)?;
    let categories = scoped::<category::Entity>(org)
        .filter(category::Column::PlanId.eq(id))
        .order_by_asc(category::Column::Position)
        .all(conn)
        .await?;
    let actions = scoped::<action::Entity>(org)
        .filter(action::Column::PlanId.eq(id))
        .order_by_asc(action::Column::Number)
        .all(conn)
        .await?;
    Ok(PlanContent { organization, plan, categories, actions })
}

/// A file name for the export: `<code>-v<version>-<layout>.<ext>`, ASCII only.
pub fn file_name(plan: &plan::Model, layout: &str, ext: &str) -> String {
    let code: String =
        plan.code.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    format!("{code}-v{}-{layout}.{ext}", plan.plan_version)
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default()
}

fn matrix_categories(content: &PlanContent) -> Vec<MatrixCategory> {
    let mut by_category: HashMap<Option<Uuid>, Vec<MatrixAction>> = HashMap::new();
    for a in &content.actions {
        by_category.entry(a.category_id).or_default().push(MatrixAction {
            title: a.title.clone(),
            description: a.description.clone().unwrap_or_else(|| a.title.clone()),
            start_date: Some(a.start_date),
            due_date: Some(a.due_date),
        });
    }
    let mut out: Vec<MatrixCategory> = content
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| MatrixCategory {
            name: c.name.clone(),
            score: c.score,
            improvement_alternatives: c.improvement_alternatives.0.clone(),
            effectiveness_criterion: c.effectiveness_criterion.clone(),
            actions: by_category.remove(&Some(c.id)).unwrap_or_default(),
            row: i + 1,
        })
        .collect();
    // Actions outside any category (and of categories removed since) still appear.
    let rest: Vec<MatrixAction> = by_category.into_values().flatten().collect();
    if !rest.is_empty() {
        out.push(MatrixCategory {
            name: "Otras acciones".into(),
            score: None,
            improvement_alternatives: vec![],
            effectiveness_criterion: None,
            row: out.len() + 1,
            actions: rest,
        });
    }
    out
}

pub(super) fn header_block(content: &PlanContent) -> Vec<(String, String)> {
    let p = &content.plan;
    vec![
        ("Entidad".into(), content.organization.name.clone()),
        ("NIT".into(), content.organization.tax_id.clone()),
        ("Código".into(), p.code.clone()),
        ("Versión".into(), p.plan_version.to_string()),
        ("Título".into(), p.title.clone()),
        ("Fecha de aprobación".into(), date(p.approved_on)),
        ("Acta de aprobación".into(), p.approval_reference.clone().unwrap_or_default()),
        (
            "Periodo".into(),
            match (p.start_date, p.end_date) {
                (Some(s), Some(e)) => format!("{} al {}", date(Some(s)), date(Some(e))),
                _ => String::new(),
            },
        ),
    ]
}

fn signature_block(p: &plan::Model) -> Vec<(String, String)> {
    let join = |parts: &[Option<String>]| parts.iter().flatten().cloned().collect::<Vec<_>>().join(" — ");
    vec![
        (
            "Elaboró".into(),
            join(&[p.prepared_by.clone(), p.prepared_by_role.clone(), p.prepared_on.map(|d| date(Some(d)))]),
        ),
        (
            "Aprobó".into(),
            join(&[p.approved_by.clone(), p.approval_reference.clone(), p.approved_on.map(|d| date(Some(d)))]),
        ),
    ]
}

/// The TI.PL03 matrix: one row per category.
pub fn ti_pl03_sheet(content: &PlanContent) -> Sheet {
    let rows = matrix_categories(content)
        .iter()
        .flat_map(|c| {
            ti_pl03::rows_of(c).into_iter().enumerate().map(|(i, [name, _, alternatives, improvements, criterion])| {
                vec![
                    Cell::text(name),
                    if i == 0 { c.score.map_or(Cell::Empty, Cell::Number) } else { Cell::Empty },
                    Cell::text(alternatives),
                    Cell::text(improvements),
                    Cell::text(criterion),
                ]
            })
        })
        .collect();
    Sheet {
        title: content.plan.title.clone(),
        header_block: header_block(content),
        columns: TI_PL03,
        rows,
        footer_block: signature_block(&content.plan),
    }
}

/// The TI.PL03 matrix as the seed JSON (importable again).
pub fn ti_pl03_document(content: &PlanContent) -> PlanMatrixDocument {
    let p = &content.plan;
    let rows = matrix_categories(content)
        .iter()
        .flat_map(|c| {
            ti_pl03::rows_of(c).into_iter().enumerate().map(|(i, [name, _, _, improvements, criterion])| Row {
                category: name,
                score: if i == 0 { c.score } else { None },
                improvement_alternatives: if i == 0 { c.improvement_alternatives.clone() } else { vec![] },
                improvements_to_implement: ti_pl03::paragraphs(&improvements),
                effectiveness_evaluation: Some(criterion).filter(|c| !c.is_empty()),
            })
        })
        .collect();
    PlanMatrixDocument {
        organization: Some(MatrixOrganization {
            name: Some(content.organization.name.clone()),
            tax_id: Some(content.organization.tax_id.clone()),
        }),
        plan: MatrixPlanMetadata {
            code: Some(p.code.clone()),
            version: Some(p.plan_version),
            title: Some(p.title.clone()),
            policy_scope: Some(p.policy_scope),
            approval_reference: p.approval_reference.clone(),
            approved_by: p.approved_by.clone(),
            approved_on: p.approved_on,
            prepared_by: p.prepared_by.clone(),
            prepared_by_role: p.prepared_by_role.clone(),
            prepared_on: p.prepared_on,
            fiscal_year: p.fiscal_year,
            start_date: p.start_date,
            end_date: p.end_date,
            implementation_window: Some(ImplementationWindow { start: p.start_date, end: p.end_date }),
        },
        columns: ti_pl03::HEADERS.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

/// A sheet as JSON: the header block, the column headers and the rows keyed by header.
pub fn sheet_json(sheet: &Sheet) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = sheet.rows.iter().map(|r| row_json(sheet.columns, r)).collect();
    sheet_json_with(sheet, serde_json::Value::Array(rows))
}

fn sheet_json_with(sheet: &Sheet, rows: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "title": sheet.title,
        "header": sheet.header_block.iter().map(|(k, v)| serde_json::json!({"label": k, "value": v})).collect::<Vec<_>>(),
        "columns": sheet.columns.iter().map(|c| c.header).collect::<Vec<_>>(),
        "rows": rows,
    })
}

/// One row of [`sheet_json`]: the cells keyed by column header.
pub fn row_json(columns: &[Column], row: &[Cell]) -> serde_json::Value {
    let cell = |c: &Cell| match c {
        Cell::Empty => serde_json::Value::Null,
        Cell::Text(t) => serde_json::Value::String(t.clone()),
        Cell::Number(n) => serde_json::json!(n),
        Cell::Date(d) => serde_json::Value::String(d.to_string()),
    };
    serde_json::Value::Object(columns.iter().zip(row).map(|(col, c)| (col.header.to_string(), cell(c))).collect())
}

/// The serialized [`sheet_json`] of `sheet` cut where its rows go: the bytes before the first
/// row and after the last, so the rows can be written in between as they come (each
/// [`row_json`], comma-separated).
pub fn sheet_json_parts(sheet: &Sheet) -> Result<(Vec<u8>, Vec<u8>), serde_json::Error> {
    let mark = format!("rows-{}", Uuid::new_v4());
    let whole = serde_json::to_vec(&sheet_json_with(sheet, serde_json::Value::String(mark.clone())))?;
    let quoted = serde_json::to_vec(&mark)?;
    let at = whole.windows(quoted.len()).position(|w| w == quoted.as_slice()).unwrap_or(whole.len());
    let mut head = whole[..at].to_vec();
    head.push(b'[');
    let mut tail = vec![b']'];
    tail.extend_from_slice(whole.get(at + quoted.len()..).unwrap_or_default());
    Ok((head, tail))
}
