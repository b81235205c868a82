//! Plan matrices on the wire: importing a TI.PL03 table as a plan, and exporting a plan.
use crate::entities::enums::PolicyScope;
use crate::error::FieldError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One row of the matrix as read (cells split into lines).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Row {
    /// CATEGORÍAS; empty continues the category above.
    #[serde(default)]
    pub category: String,
    /// PUNTAJE as written (empty: none).
    #[serde(default)]
    pub score: Option<f64>,
    /// DISEÑO ALTERNATIVAS DE MEJORA, one entry per paragraph.
    #[serde(default)]
    pub improvement_alternatives: Vec<String>,
    /// MEJORAS PARA IMPLEMENTAR, one entry per paragraph.
    #[serde(default)]
    pub improvements_to_implement: Vec<String>,
    /// EVALUACIÓN DE LA EFICACIA.
    #[serde(default)]
    pub effectiveness_evaluation: Option<String>,
}

/// Options and plan metadata of a matrix import. A value given here overrides the one the file
/// holds: for CSV and XLSX the title block, page headers and signature footer of the sheet
/// (`CÓDIGO:`, `VERSIÓN:`, `FECHA DE APROBACIÓN:`, `Elaboró:`, `Aprobó:`), for JSON the body's `plan`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlanImportQuery {
    /// `true`: check the file and report what would be created, writing nothing.
    pub dry_run: Option<bool>,
    /// Plan code (required when the file does not write it).
    #[param(example = "TI.PL03")]
    pub code: Option<String>,
    /// Plan version (default 1).
    pub version: Option<i32>,
    /// Title (required when the file does not write it).
    pub title: Option<String>,
    /// Policy the plan answers to (default `mspi`).
    pub policy_scope: Option<PolicyScope>,
    /// Approval act.
    #[param(example = "Acta No. 05 de 2024")]
    pub approval_reference: Option<String>,
    /// Body or person that approved the plan.
    pub approved_by: Option<String>,
    /// Approval date.
    pub approved_on: Option<NaiveDate>,
    /// Who prepared the plan.
    pub prepared_by: Option<String>,
    /// Role of who prepared it.
    pub prepared_by_role: Option<String>,
    /// When it was prepared.
    pub prepared_on: Option<NaiveDate>,
    /// Fiscal year evaluated.
    pub fiscal_year: Option<i32>,
    /// First day of the implementation window (default period of actions without one).
    pub start_date: Option<NaiveDate>,
    /// Last day of the implementation window.
    pub end_date: Option<NaiveDate>,
}

/// Implementation window of a plan in a JSON matrix.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct ImplementationWindow {
    /// First day.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_date")]
    pub start: Option<NaiveDate>,
    /// Last day.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_date")]
    pub end: Option<NaiveDate>,
}

/// Plan metadata of a JSON matrix (as in the seed `cartago-ti-pl03.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct MatrixPlanMetadata {
    /// Plan code.
    #[schema(example = "TI.PL03")]
    pub code: Option<String>,
    /// Plan version.
    pub version: Option<i32>,
    /// Title.
    pub title: Option<String>,
    /// Policy the plan answers to (default `mspi`).
    pub policy_scope: Option<PolicyScope>,
    /// Approval act.
    pub approval_reference: Option<String>,
    /// Body or person that approved the plan.
    pub approved_by: Option<String>,
    /// Approval date.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_date")]
    pub approved_on: Option<NaiveDate>,
    /// Who prepared the plan.
    pub prepared_by: Option<String>,
    /// Role of who prepared it.
    pub prepared_by_role: Option<String>,
    /// When it was prepared.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_date")]
    pub prepared_on: Option<NaiveDate>,
    /// Fiscal year evaluated.
    pub fiscal_year: Option<i32>,
    /// First day of the implementation window.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_date")]
    pub start_date: Option<NaiveDate>,
    /// Last day of the implementation window.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_date")]
    pub end_date: Option<NaiveDate>,
    /// Implementation window, as the seed writes it (used when `start_date`/`end_date` are absent).
    pub implementation_window: Option<ImplementationWindow>,
}

/// Entity named in a JSON matrix (informative; the plan goes to the caller's organization).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct MatrixOrganization {
    /// Name.
    pub name: Option<String>,
    /// NIT.
    pub tax_id: Option<String>,
}

/// A TI.PL03 matrix as JSON: plan metadata and rows (the shape of the seed fixture and of the
/// `format=json&layout=ti-pl03` export).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct PlanMatrixDocument {
    /// Entity (informative).
    #[serde(default)]
    pub organization: Option<MatrixOrganization>,
    /// Plan metadata.
    #[serde(default)]
    pub plan: MatrixPlanMetadata,
    /// Column headers (informative).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Rows; a row with an empty `category` continues the category above.
    pub rows: Vec<Row>,
}

/// Result of a matrix import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanImportResponse {
    /// The draft plan created (`null` for a dry run).
    pub plan_id: Option<Uuid>,
    /// Whether it only checked the file (nothing was written).
    pub dry_run: bool,
    /// Body format read (`csv`, `xlsx`, `json`).
    #[schema(example = "csv")]
    pub format: String,
    /// Plan code.
    pub code: String,
    /// Plan version.
    pub version: i32,
    /// Data rows read.
    pub rows: u64,
    /// Categories created (or that would be).
    pub categories: u64,
    /// Improvement alternatives stored across the categories.
    pub alternatives: u64,
    /// Actions created (or that would be).
    pub actions: u64,
    /// Actions whose paragraph wrote no period (`Fecha: (DD/MM/YYYY al DD/MM/YYYY)`) and so
    /// took the plan's implementation window (`start_date` to `end_date`).
    pub actions_on_plan_window: Vec<ActionOnPlanWindow>,
    /// Row errors (empty when the import succeeded).
    pub errors: Vec<FieldError>,
}

/// An imported action that took the plan's implementation window as its period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionOnPlanWindow {
    /// Number the action got (or would get) in the plan.
    #[schema(example = 5)]
    pub number: i32,
    /// Data row (from 1) where its category starts.
    pub row: u64,
    /// Its category.
    #[schema(example = "Indicadores de resultado Componente TIC para Gobierno abierto")]
    pub category: String,
    /// Its title.
    pub title: String,
}

/// File format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// UTF-8 CSV with BOM.
    #[default]
    Csv,
    /// Excel workbook.
    Xlsx,
    /// JSON.
    Json,
}

/// Column layout of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum ExportLayout {
    /// The TI.PL03 matrix (five columns, header and signature blocks).
    #[default]
    #[serde(rename = "ti-pl03")]
    TiPl03,
    /// Contraloría SIRECI F14.1: one row per action × finding.
    #[serde(rename = "sireci-f14-1")]
    SireciF141,
}

/// SIRECI report modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Subscription of the plan: no progress columns.
    #[default]
    Subscription,
    /// Progress report as of `cut_off`.
    Progress,
}

/// Options of a plan export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (default), `xlsx` or `json`.
    pub format: Option<ExportFormat>,
    /// `ti-pl03` (default) or `sireci-f14-1`.
    pub layout: Option<ExportLayout>,
    /// SIRECI modality: `subscription` (default) or `progress`.
    pub modality: Option<Modality>,
    /// Progress as of this date (accepted evidence with a cut-off up to it); default today.
    pub cut_off: Option<NaiveDate>,
}
