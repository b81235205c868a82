//! The mapa de riesgos as a spreadsheet: one row per risk–control pair (a risk without controls
//! has one row with the control columns empty), Spanish headers and labels, in the layout
//! entities keep their risk maps; and the import that reads it back (atomic, partial or dry run,
//! row errors, the same reading limits and decoding as the other imports). Computed columns
//! (description, inherent and residual valuation, control weight) are written for the reader
//! and ignored on import, where the service computes them again.
use super::methodology;
use crate::dto::risks::{CreateRiskControlRequest, CreateRiskRequest, RiskImportResponse, RiskResponse};
use crate::entities::enums::{
    fold, ControlDocumentation, ControlEvidence, ControlFrequency, ControlImplementation, ControlType, ImportMode,
    RiskImpact, RiskKind, TreatmentOption,
};
use crate::entities::{asset, user};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::services::audit::Actor;
use crate::services::plan_matrix::import::{csv_records, xlsx_records};
use crate::services::plan_matrix::sheet::{col, Cell, Column, Kind, Sheet};
use crate::services::spreadsheet::Limits;
use crate::services::tenancy::scoped;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use std::collections::HashMap;
use uuid::Uuid;

/// The columns of the risk map.
pub const COLUMNS: &[Column] = &[
    col("CÓDIGO", 10.0, Kind::Text),
    col("PROCESO", 20.0, Kind::Text),
    col("TIPO DE RIESGO", 16.0, Kind::Text),
    col("ACTIVOS DE INFORMACIÓN", 30.0, Kind::Text),
    col("CONFIDENCIALIDAD", 8.0, Kind::Text),
    col("INTEGRIDAD", 8.0, Kind::Text),
    col("DISPONIBILIDAD", 8.0, Kind::Text),
    col("IMPACTO", 30.0, Kind::Text),
    col("CAUSA INMEDIATA", 30.0, Kind::Text),
    col("CAUSA RAÍZ", 30.0, Kind::Text),
    col("DESCRIPCIÓN DEL RIESGO", 45.0, Kind::Text),
    col("AMENAZAS", 25.0, Kind::Text),
    col("VULNERABILIDADES", 25.0, Kind::Text),
    col("DUEÑO DEL RIESGO", 25.0, Kind::Text),
    col("FRECUENCIA ANUAL", 10.0, Kind::Number),
    col("IMPACTO ECONÓMICO", 12.0, Kind::Text),
    col("IMPACTO REPUTACIONAL", 12.0, Kind::Text),
    col("PROBABILIDAD INHERENTE", 12.0, Kind::Text),
    col("IMPACTO INHERENTE", 12.0, Kind::Text),
    col("ZONA DE RIESGO INHERENTE", 12.0, Kind::Text),
    col("N° CONTROL", 8.0, Kind::Number),
    col("RESPONSABLE DEL CONTROL", 25.0, Kind::Text),
    col("ACCIÓN DEL CONTROL", 40.0, Kind::Text),
    col("COMPLEMENTO DEL CONTROL", 30.0, Kind::Text),
    col("TIPO DE CONTROL", 12.0, Kind::Text),
    col("IMPLEMENTACIÓN", 12.0, Kind::Text),
    col("DOCUMENTACIÓN", 12.0, Kind::Text),
    col("FRECUENCIA DEL CONTROL", 12.0, Kind::Text),
    col("EVIDENCIA", 12.0, Kind::Text),
    col("CONTROLES ANEXO A ISO/IEC 27001:2022", 16.0, Kind::Text),
    col("PESO DEL CONTROL (%)", 10.0, Kind::Percent),
    col("PROBABILIDAD RESIDUAL (%)", 10.0, Kind::Percent),
    col("IMPACTO RESIDUAL (%)", 10.0, Kind::Percent),
    col("ZONA DE RIESGO RESIDUAL", 12.0, Kind::Text),
    col("OPCIÓN DE TRATAMIENTO", 14.0, Kind::Text),
    col("APROBÓ LA ACEPTACIÓN", 25.0, Kind::Text),
    col("FECHA DE ACEPTACIÓN", 12.0, Kind::Date),
    col("VENCE LA ACEPTACIÓN", 12.0, Kind::Date),
    col("DÍAS ENTRE REVISIONES", 10.0, Kind::Number),
    col("ACCIONES DE MEJORA", 38.0, Kind::Text),
    col("HALLAZGOS", 38.0, Kind::Text),
];

/// Index of a column by its header.
fn at(header: &str) -> usize {
    COLUMNS.iter().position(|c| c.header == header).unwrap_or(usize::MAX)
}

fn yes_no(v: bool) -> Cell {
    Cell::text(if v { "Sí" } else { "No" })
}

fn lines<T: ToString>(items: &[T]) -> Cell {
    Cell::text(items.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
}

fn date(d: Option<NaiveDate>) -> Cell {
    d.map_or(Cell::Empty, Cell::Date)
}

/// Names the service needs to write ids as people read them (e-mails of users, asset names).
#[derive(Debug, Default)]
pub struct Names {
    /// E-mail of each user.
    pub users: HashMap<Uuid, String>,
    /// Name of each asset.
    pub assets: HashMap<Uuid, String>,
}

/// The e-mails of `org`'s users and the names of its assets.
pub async fn names(conn: &impl ConnectionTrait, org: Uuid) -> Result<Names, ApiError> {
    use sea_orm::QuerySelect;
    let users = scoped::<user::Entity>(org)
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Email)
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let assets = scoped::<asset::Entity>(org)
        .select_only()
        .column(asset::Column::Id)
        .column(asset::Column::Name)
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(Names { users, assets })
}

/// The risk map of `risks` as a sheet.
pub fn sheet(risks: &[RiskResponse], names: &Names, today: NaiveDate) -> Sheet {
    let person = |id: Option<Uuid>| Cell::text(id.and_then(|i| names.users.get(&i).cloned()).unwrap_or_default());
    let mut rows = Vec::new();
    for r in risks {
        let assets: Vec<String> =
            r.asset_ids.iter().map(|a| names.assets.get(a).cloned().unwrap_or_else(|| a.to_string())).collect();
        let risk_cells = vec![
            Cell::text(r.code.clone()),
            Cell::text(r.process.clone()),
            Cell::text(r.kind.label_es()),
            lines(&assets),
            yes_no(r.confidentiality),
            yes_no(r.integrity),
            yes_no(r.availability),
            Cell::text(r.impact.clone()),
            Cell::text(r.immediate_cause.clone()),
            Cell::text(r.root_cause.clone()),
            Cell::text(r.description.clone()),
            lines(&r.threats),
            lines(&r.vulnerabilities),
            person(r.owner_id),
            Cell::Number(f64::from(r.annual_frequency)),
            Cell::text(r.economic_impact.label_es()),
            Cell::text(r.reputational_impact.label_es()),
            Cell::text(format!("{} ({}%)", r.inherent.probability.label_es(), r.inherent.probability_pct)),
            Cell::text(format!("{} ({}%)", r.inherent.impact.label_es(), r.inherent.impact_pct)),
            Cell::text(r.inherent.zone.label_es()),
        ];
        let tail = vec![
            Cell::Number(r.residual.probability_pct),
            Cell::Number(r.residual.impact_pct),
            Cell::text(r.residual.zone.label_es()),
            Cell::text(r.treatment.label_es()),
            person(r.accepted_by),
            date(r.accepted_on),
            date(r.acceptance_expires_on),
            Cell::Number(f64::from(r.review_interval_days)),
            lines(&r.action_ids),
            lines(&r.finding_ids),
        ];
        let mut controls: Vec<Vec<Cell>> = r
            .controls
            .iter()
            .map(|c| {
                vec![
                    Cell::Number(f64::from(c.position)),
                    Cell::text(c.responsible.clone()),
                    Cell::text(c.action.clone()),
                    Cell::text(c.complement.clone().unwrap_or_default()),
                    Cell::text(c.control_type.label_es()),
                    Cell::text(c.implementation.label_es()),
                    Cell::text(c.documentation.label_es()),
                    Cell::text(c.frequency.label_es()),
                    Cell::text(c.evidence.label_es()),
                    Cell::text(c.annex_a_refs.join(", ")),
                    Cell::Number(c.weight_pct),
                ]
            })
            .collect();
        if controls.is_empty() {
            controls.push(vec![Cell::Empty; 11]);
        }
        for control in controls {
            let mut row = risk_cells.clone();
            row.extend(control);
            row.extend(tail.iter().cloned());
            rows.push(row);
        }
    }
    Sheet {
        title: "Mapa de riesgos".into(),
        header_block: vec![
            ("Metodología".into(), methodology::GUIDE.into()),
            ("Fecha de generación".into(), today.format("%d/%m/%Y").to_string()),
        ],
        columns: COLUMNS,
        rows,
        footer_block: vec![],
    }
}

/// Body format of a risk-map import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// CSV.
    Csv,
    /// Excel workbook (first sheet).
    Xlsx,
}

impl SheetFormat {
    /// Name used in the import result.
    pub fn as_str(self) -> &'static str {
        match self {
            SheetFormat::Csv => "csv",
            SheetFormat::Xlsx => "xlsx",
        }
    }
}

/// One risk read from the sheet, with the names still to resolve.
#[derive(Debug, Clone)]
pub struct ParsedRisk {
    /// First data row of the risk (1-based).
    pub row: u64,
    /// The risk to create (owner, approver and assets resolved at write time).
    pub request: CreateRiskRequest,
    /// E-mail of the owner.
    pub owner: Option<String>,
    /// E-mail of the acceptance's approver.
    pub approver: Option<String>,
    /// Asset names.
    pub assets: Vec<String>,
}

/// A read sheet.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Data rows read.
    pub rows: u64,
    /// Risks read (valid ones).
    pub risks: Vec<ParsedRisk>,
    /// Row errors.
    pub errors: Vec<FieldError>,
}

struct Row<'a> {
    number: u64,
    cells: &'a [String],
    index: &'a HashMap<usize, usize>,
}

impl Row<'_> {
    fn get(&self, header: &str) -> &str {
        self.index.get(&at(header)).and_then(|i| self.cells.get(*i)).map_or("", |s| s.trim())
    }
    fn opt(&self, header: &str) -> Option<String> {
        Some(self.get(header)).filter(|s| !s.is_empty()).map(str::to_string)
    }
    fn list(&self, header: &str) -> Vec<String> {
        self.get(header).lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    }
}

fn field_of(header: &str) -> String {
    fold(header).replace(' ', "_")
}

fn err(row: u64, header: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field_of(header), code, message).at_row(row)
}

fn label<T>(row: &Row, header: &str, parse: fn(&str) -> Option<T>, errors: &mut Vec<FieldError>) -> Option<T> {
    let text = row.get(header);
    let value = parse(text);
    if value.is_none() {
        let code = if text.is_empty() { "required" } else { "unknown_value" };
        errors.push(err(row.number, header, code, format!("`{text}` is not a value of this column")));
    }
    value
}

fn number(row: &Row, header: &str, errors: &mut Vec<FieldError>) -> Option<i32> {
    let text = row.get(header);
    let value = text.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.abs() < 1e9).map(|f| f as i32);
    if value.is_none() {
        errors.push(err(row.number, header, "not_a_number", format!("`{text}` is not a whole number")));
    }
    value
}

fn flag(row: &Row, header: &str, errors: &mut Vec<FieldError>) -> bool {
    match fold(row.get(header)).as_str() {
        "si" | "x" | "true" | "1" => true,
        "no" | "" | "false" | "0" => false,
        other => {
            errors.push(err(row.number, header, "unknown_value", format!("`{other}` is not Sí or No")));
            false
        }
    }
}

fn opt_date(row: &Row, header: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let text = row.get(header);
    if text.is_empty() {
        return None;
    }
    let parsed = crate::dto::lenient::parse_date(text);
    if parsed.is_none() {
        errors.push(err(row.number, header, "invalid_date", format!("`{text}` is not a date (DD/MM/YYYY)")));
    }
    parsed
}

fn ids(row: &Row, header: &str, errors: &mut Vec<FieldError>) -> Vec<Uuid> {
    row.list(header)
        .iter()
        .filter_map(|t| match t.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(err(row.number, header, "invalid_id", format!("`{t}` is not an id")));
                None
            }
        })
        .collect()
}

fn control(row: &Row, errors: &mut Vec<FieldError>) -> Option<CreateRiskControlRequest> {
    if row.get("RESPONSABLE DEL CONTROL").is_empty() && row.get("ACCIÓN DEL CONTROL").is_empty() {
        return None;
    }
    let position = number(row, "N° CONTROL", errors);
    Some(CreateRiskControlRequest {
        position,
        responsible: row.get("RESPONSABLE DEL CONTROL").to_string(),
        action: row.get("ACCIÓN DEL CONTROL").to_string(),
        complement: row.opt("COMPLEMENTO DEL CONTROL"),
        control_type: label(row, "TIPO DE CONTROL", ControlType::parse_label, errors)?,
        implementation: label(row, "IMPLEMENTACIÓN", ControlImplementation::parse_label, errors)?,
        documentation: label(row, "DOCUMENTACIÓN", ControlDocumentation::parse_label, errors)?,
        frequency: label(row, "FRECUENCIA DEL CONTROL", ControlFrequency::parse_label, errors)?,
        evidence: label(row, "EVIDENCIA", ControlEvidence::parse_label, errors)?,
        annex_a_refs: row
            .get("CONTROLES ANEXO A ISO/IEC 27001:2022")
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn risk(row: &Row, errors: &mut Vec<FieldError>) -> Option<ParsedRisk> {
    let before = errors.len();
    let kind = label(row, "TIPO DE RIESGO", RiskKind::parse_label, errors);
    let (c, i, a) =
        (flag(row, "CONFIDENCIALIDAD", errors), flag(row, "INTEGRIDAD", errors), flag(row, "DISPONIBILIDAD", errors));
    let frequency = number(row, "FRECUENCIA ANUAL", errors);
    let economic = label(row, "IMPACTO ECONÓMICO", RiskImpact::parse_label, errors);
    let reputational = label(row, "IMPACTO REPUTACIONAL", RiskImpact::parse_label, errors);
    let treatment = match row.get("OPCIÓN DE TRATAMIENTO") {
        "" => Some(TreatmentOption::Reduce),
        _ => label(row, "OPCIÓN DE TRATAMIENTO", treatment_label, errors),
    };
    let interval = match row.get("DÍAS ENTRE REVISIONES") {
        "" => None,
        _ => number(row, "DÍAS ENTRE REVISIONES", errors),
    };
    let accepted_on = opt_date(row, "FECHA DE ACEPTACIÓN", errors);
    let expires = opt_date(row, "VENCE LA ACEPTACIÓN", errors);
    let action_ids = ids(row, "ACCIONES DE MEJORA", errors);
    let finding_ids = ids(row, "HALLAZGOS", errors);
    if errors.len() > before {
        return None;
    }
    Some(ParsedRisk {
        row: row.number,
        owner: row.opt("DUEÑO DEL RIESGO"),
        approver: row.opt("APROBÓ LA ACEPTACIÓN"),
        assets: row.list("ACTIVOS DE INFORMACIÓN"),
        request: CreateRiskRequest {
            code: row.get("CÓDIGO").to_string(),
            process: row.get("PROCESO").to_string(),
            kind: kind?,
            asset_ids: vec![],
            confidentiality: c,
            integrity: i,
            availability: a,
            impact: row.get("IMPACTO").to_string(),
            immediate_cause: row.get("CAUSA INMEDIATA").to_string(),
            root_cause: row.get("CAUSA RAÍZ").to_string(),
            threats: row.list("AMENAZAS"),
            vulnerabilities: row.list("VULNERABILIDADES"),
            owner_id: None,
            annual_frequency: frequency?,
            economic_impact: economic?,
            reputational_impact: reputational?,
            treatment: treatment?,
            accepted_by: None,
            accepted_on,
            acceptance_expires_on: expires,
            review_interval_days: interval,
            action_ids,
            finding_ids,
            controls: vec![],
        },
    })
}

/// A treatment option by code or label; the guide's "reducir" and "mitigar" alone name `reduce`.
fn treatment_label(text: &str) -> Option<TreatmentOption> {
    TreatmentOption::parse_label(text).or_else(|| match fold(text).as_str() {
        "reducir" | "mitigar" | "reduce" | "mitigate" => Some(TreatmentOption::Reduce),
        _ => None,
    })
}

fn rejected(errors: Vec<FieldError>) -> ApiError {
    let n = errors.len();
    ApiError::validation(errors).with_code(ErrorCode::ImportRejected).detail(
        format!("The risk map has {n} row errors; nothing was written"),
        format!("El mapa de riesgos tiene {n} errores de fila; no se escribió nada"),
    )
}

/// Reads a risk map: the header row is the one starting with `CÓDIGO`; columns are found by
/// header; consecutive rows with the same code are one risk with several controls.
pub fn parse(format: SheetFormat, body: &[u8], limits: &Limits) -> Result<Parsed, ApiError> {
    let records = match format {
        SheetFormat::Csv => csv_records(body)?,
        SheetFormat::Xlsx => xlsx_records(body, limits)?,
    };
    let header_at = records
        .iter()
        .position(|r| r.first().is_some_and(|c| fold(c) == "codigo"))
        .ok_or_else(|| ApiError::field("body", "missing_header", "no header row starting with CÓDIGO"))?;
    let index: HashMap<usize, usize> = records[header_at]
        .iter()
        .enumerate()
        .filter_map(|(i, h)| COLUMNS.iter().position(|c| fold(c.header) == fold(h)).map(|c| (c, i)))
        .collect();
    let missing: Vec<FieldError> = ["CÓDIGO", "PROCESO", "TIPO DE RIESGO", "FRECUENCIA ANUAL", "IMPACTO ECONÓMICO"]
        .iter()
        .filter(|h| !index.contains_key(&at(h)))
        .map(|h| FieldError::new(field_of(h), "missing_column", format!("the sheet has no column {h}")))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let mut out = Parsed::default();
    let mut current: Option<(String, Option<ParsedRisk>)> = None;
    for (n, cells) in records[header_at + 1..].iter().enumerate() {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = Row { number: n as u64 + 1, cells, index: &index };
        out.rows += 1;
        let code = row.get("CÓDIGO").to_string();
        if code.is_empty() {
            out.errors.push(err(row.number, "CÓDIGO", "required", "every row names its risk's code"));
            continue;
        }
        let same = current.as_ref().is_some_and(|(c, _)| *c == code);
        if !same {
            if let Some((_, Some(done))) = current.take() {
                out.risks.push(done);
            }
            current = Some((code.clone(), risk(&row, &mut out.errors)));
        }
        let before = out.errors.len();
        let parsed = control(&row, &mut out.errors);
        if let Some((_, slot)) = current.as_mut() {
            if out.errors.len() > before {
                *slot = None;
            } else if let (Some(r), Some(c)) = (slot.as_mut(), parsed) {
                r.request.controls.push(c);
            }
        }
    }
    if let Some((_, Some(done))) = current {
        out.risks.push(done);
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    for r in &out.risks {
        if let Some(first) = seen.insert(r.request.code.clone(), r.row) {
            out.errors.push(err(
                r.row,
                "CÓDIGO",
                "duplicate",
                format!("the risk of row {first} has this code; keep its rows together"),
            ));
        }
    }
    Ok(out)
}

/// Writes the parsed risks through the risk service, each in its own savepoint: in `atomic`
/// mode any error rejects the file (the caller's transaction rolls back), in `partial` mode
/// valid risks are kept and invalid ones reported.
pub async fn write(
    txn: &DatabaseTransaction, actor: &Actor, org: Uuid, format: SheetFormat, mode: ImportMode, parsed: Parsed,
) -> Result<RiskImportResponse, ApiError> {
    // In atomic mode the valid risks are still written (in the transaction the rejection rolls
    // back), so the answer lists every row error, the database's included.
    let known = names(txn, org).await?;
    let by_email: HashMap<String, Uuid> = known.users.iter().map(|(id, e)| (e.to_lowercase(), *id)).collect();
    let mut by_name: HashMap<String, Vec<Uuid>> = HashMap::new();
    for (id, name) in &known.assets {
        by_name.entry(name.trim().to_string()).or_default().push(*id);
    }
    let mut errors = parsed.errors;
    let (mut created, mut controls) = (Vec::new(), 0u64);
    for mut r in parsed.risks {
        let mut row_errors = Vec::new();
        for (header, email, slot) in [
            ("DUEÑO DEL RIESGO", r.owner.as_deref(), &mut r.request.owner_id),
            ("APROBÓ LA ACEPTACIÓN", r.approver.as_deref(), &mut r.request.accepted_by),
        ] {
            if let Some(email) = email {
                match by_email.get(&email.to_lowercase()) {
                    Some(id) => *slot = Some(*id),
                    None => row_errors.push(err(
                        r.row,
                        header,
                        "unknown_user",
                        format!("no user {email} in your organization"),
                    )),
                }
            }
        }
        for name in &r.assets {
            match by_name.get(name).map(Vec::as_slice) {
                Some([id]) => r.request.asset_ids.push(*id),
                Some(_) => row_errors.push(err(
                    r.row,
                    "ACTIVOS DE INFORMACIÓN",
                    "ambiguous_asset",
                    format!("several assets are named {name}"),
                )),
                None => row_errors.push(err(
                    r.row,
                    "ACTIVOS DE INFORMACIÓN",
                    "unknown_asset",
                    format!("no asset named {name}"),
                )),
            }
        }
        if !row_errors.is_empty() {
            errors.extend(row_errors);
            continue;
        }
        let n_controls = r.request.controls.len() as u64;
        let savepoint = txn.begin().await?;
        match super::create(&savepoint, actor, org, r.request).await {
            Ok(risk) => {
                savepoint.commit().await?;
                created.push(risk.id);
                controls += n_controls;
            }
            Err(e) => {
                savepoint.rollback().await?;
                if e.code.status().is_server_error() {
                    return Err(e);
                }
                if e.errors.is_empty() {
                    let message = e.detail.as_ref().map_or_else(|| e.code.title_en().to_string(), |d| d.en.clone());
                    errors.push(FieldError::new("row", e.code.as_str(), message).at_row(r.row));
                } else {
                    errors.extend(e.errors.into_iter().map(|f| f.at_row(r.row)));
                }
            }
        }
    }
    errors.sort_by_key(|e| e.row);
    if mode == ImportMode::Atomic && !errors.is_empty() {
        return Err(rejected(errors));
    }
    Ok(RiskImportResponse {
        dry_run: false,
        format: format.as_str().into(),
        mode,
        rows: parsed.rows,
        risks: created.len() as u64,
        controls,
        risk_ids: created,
        errors,
    })
}

/// What [`write`] would do, rolled back.
pub async fn dry_run(
    db: &sea_orm::DatabaseConnection, actor: &Actor, org: Uuid, format: SheetFormat, mode: ImportMode, parsed: Parsed,
) -> Result<RiskImportResponse, ApiError> {
    let txn = db.begin().await?;
    let result = write(&txn, actor, org, format, mode, parsed).await;
    txn.rollback().await?;
    let mut result = result?;
    result.dry_run = true;
    result.risk_ids.clear();
    Ok(result)
}
