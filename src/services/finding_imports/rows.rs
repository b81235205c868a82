//! One row of an upload: its columns (Spanish or English headers, matched ignoring case and
//! accents), and the checks that turn its text cells into a finding ready to write.
use crate::dto::lenient::parse_date;
use crate::dto::validate::Checks;
use crate::entities::enums::{fold, Classification, FindingSource, FindingStatus, PresumedIncidence, Severity};
use crate::error::FieldError;
use crate::services::findings::{check_fields, check_requirements, incidences, search_text, FindingFields};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::LazyLock;
use uuid::Uuid;

/// Code and labels of every value of an enumeration, as written and folded: the same matches
/// as `parse_label`, with one hash lookup per cell (and no folding when the cell is exact).
struct Labels<T>(HashMap<String, T>);

impl<T: Copy> Labels<T> {
    fn new(values: &[T], texts: fn(T) -> [&'static str; 3]) -> Self {
        let mut map = HashMap::new();
        for v in values {
            for text in texts(*v) {
                map.insert(text.to_string(), *v);
                map.insert(fold(text), *v);
            }
        }
        Labels(map)
    }

    fn parse(&self, text: &str) -> Option<T> {
        self.0.get(text).or_else(|| self.0.get(&fold(text))).copied()
    }
}

macro_rules! labels {
    ($name:ident, $t:ty) => {
        static $name: LazyLock<Labels<$t>> =
            LazyLock::new(|| Labels::new(<$t>::ALL, |v| [v.code(), v.label_en(), v.label_es()]));
    };
}

labels!(SOURCES, FindingSource);
labels!(CLASSIFICATIONS, Classification);
labels!(SEVERITIES, Severity);
labels!(STATUSES, FindingStatus);

/// A column of the findings file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Source,
    Auditor,
    ReportCode,
    ReportDate,
    FiscalYear,
    FindingCode,
    Title,
    Condition,
    Criterion,
    Cause,
    Effect,
    Classification,
    Severity,
    Status,
    Requirements,
    PresumedIncidence,
    FiscalAmount,
}

impl Field {
    /// Number of columns.
    pub const COUNT: usize = 17;
    /// Every column, in the documented order.
    pub const ALL: [Field; Field::COUNT] = [
        Field::Source,
        Field::Auditor,
        Field::ReportCode,
        Field::ReportDate,
        Field::FiscalYear,
        Field::FindingCode,
        Field::Title,
        Field::Condition,
        Field::Criterion,
        Field::Cause,
        Field::Effect,
        Field::Classification,
        Field::Severity,
        Field::Status,
        Field::Requirements,
        Field::PresumedIncidence,
        Field::FiscalAmount,
    ];
    /// Columns every file must have.
    pub const REQUIRED: [Field; 4] = [Field::Source, Field::ReportCode, Field::FindingCode, Field::Title];

    /// The wire name (JSON key and English header).
    pub fn name(self) -> &'static str {
        match self {
            Field::Source => "source",
            Field::Auditor => "auditor",
            Field::ReportCode => "report_code",
            Field::ReportDate => "report_date",
            Field::FiscalYear => "fiscal_year",
            Field::FindingCode => "finding_code",
            Field::Title => "title",
            Field::Condition => "condition",
            Field::Criterion => "criterion",
            Field::Cause => "cause",
            Field::Effect => "effect",
            Field::Classification => "classification",
            Field::Severity => "severity",
            Field::Status => "status",
            Field::Requirements => "requirements",
            Field::PresumedIncidence => "presumed_incidence",
            Field::FiscalAmount => "fiscal_amount",
        }
    }

    /// Accepted header names, already folded (lower case, no accents, `_`/`-` as spaces).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Source => &["source", "fuente", "origen"],
            Field::Auditor => &["auditor", "ente auditor", "auditor responsable"],
            Field::ReportCode => &["report code", "codigo informe", "codigo del informe"],
            Field::ReportDate => &["report date", "fecha informe", "fecha del informe"],
            Field::FiscalYear => &["fiscal year", "vigencia", "vigencia auditada"],
            Field::FindingCode => &["finding code", "codigo hallazgo", "codigo del hallazgo"],
            Field::Title => &["title", "titulo", "titulo del hallazgo"],
            Field::Condition => &["condition", "condicion", "descripcion", "description"],
            Field::Criterion => &["criterion", "criteria", "criterio"],
            Field::Cause => &["cause", "causa"],
            Field::Effect => &["effect", "efecto"],
            Field::Classification => &["classification", "clasificacion"],
            Field::Severity => &["severity", "severidad"],
            Field::Status => &["status", "estado"],
            Field::Requirements => &["requirements", "requisitos", "requirement references"],
            Field::PresumedIncidence => {
                &["presumed incidence", "incidencia presunta", "presunta incidencia", "incidencia", "incidencias"]
            }
            Field::FiscalAmount => {
                &["fiscal amount", "cuantia fiscal", "cuantia", "valor fiscal", "presunto detrimento"]
            }
        }
    }

    /// The Spanish header documented for this column.
    pub fn spanish(self) -> &'static str {
        match self {
            Field::Source => "fuente",
            Field::Auditor => "auditor",
            Field::ReportCode => "código informe",
            Field::ReportDate => "fecha informe",
            Field::FiscalYear => "vigencia",
            Field::FindingCode => "código hallazgo",
            Field::Title => "título",
            Field::Condition => "condición",
            Field::Criterion => "criterio",
            Field::Cause => "causa",
            Field::Effect => "efecto",
            Field::Classification => "clasificación",
            Field::Severity => "severidad",
            Field::Status => "estado",
            Field::Requirements => "requisitos",
            Field::PresumedIncidence => "incidencia presunta",
            Field::FiscalAmount => "cuantía fiscal",
        }
    }

    /// The column a header (or JSON key) names, in Spanish or English.
    pub fn from_header(header: &str) -> Option<Field> {
        let folded = fold(header);
        Field::ALL.into_iter().find(|f| f.aliases().contains(&folded.as_str()))
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The cells of one row, by column; `None` for a missing column or a blank cell.
#[derive(Debug, Default)]
pub struct Cells<'a> {
    values: [Option<&'a str>; Field::COUNT],
    /// Requirement references given as a list (JSON arrays) instead of one separated text.
    pub requirement_list: Option<Vec<String>>,
}

impl<'a> Cells<'a> {
    /// Sets a cell; blank cells count as absent.
    pub fn set(&mut self, field: Field, value: &'a str) {
        let value = value.trim();
        self.values[field.index()] = (!value.is_empty()).then_some(value);
    }

    fn get(&self, field: Field) -> Option<&'a str> {
        self.values[field.index()]
    }

    /// True when every cell is blank (spreadsheets leave such rows at the end).
    pub fn is_blank(&self) -> bool {
        self.values.iter().all(Option::is_none) && self.requirement_list.as_ref().is_none_or(Vec::is_empty)
    }
}

/// A valid row, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// Where the row is in the file (as row errors count).
    pub row: u64,
    /// Id of the finding if the row creates one.
    pub id: Uuid,
    pub source: FindingSource,
    pub auditor: Option<String>,
    pub report_code: String,
    pub report_date: Option<NaiveDate>,
    pub fiscal_year: Option<i32>,
    pub finding_code: String,
    pub title: String,
    pub condition: Option<String>,
    pub criterion: Option<String>,
    pub cause: Option<String>,
    pub effect: Option<String>,
    pub classification: Option<Classification>,
    pub severity: Option<Severity>,
    /// Status of a new finding (an upload never changes an existing finding's status).
    pub status: FindingStatus,
    /// Empty: a new finding has none and an existing one keeps its own.
    pub requirements: Vec<String>,
    /// Presumed incidence (comptroller findings), sorted.
    pub presumed_incidence: Vec<PresumedIncidence>,
    /// Amount of the presumed fiscal incidence in COP.
    pub fiscal_amount: Option<Decimal>,
    /// Folded text for `q`.
    pub search: String,
}

/// Reads a COP amount as written in Colombia or in plain decimals: `125000000.50`,
/// `$ 125.000.000,50`, `125,000,000.50`.
pub fn parse_amount(text: &str) -> Option<Decimal> {
    let digits: String = text.chars().filter(|c| !matches!(c, '$' | ' ' | '\u{a0}')).collect();
    let digits = digits.strip_suffix("COP").unwrap_or(&digits).trim();
    let normalized = match (digits.rfind(','), digits.rfind('.')) {
        // The last separator is the decimal one when two digits or fewer follow it.
        (Some(comma), dot) if dot.is_none_or(|d| d < comma) && digits.len() - comma <= 3 => {
            digits.replace('.', "").replace(',', ".")
        }
        _ => digits.replace(',', ""),
    };
    normalized.parse::<Decimal>().ok()
}

fn shown(value: &str) -> String {
    let mut text: String = value.chars().take(60).collect();
    if value.chars().count() > 60 {
        text.push('…');
    }
    text
}

/// Splits a requirements cell: on `|` when present (so items may contain commas), else on `,`.
pub fn split_requirements(text: &str) -> Vec<String> {
    let separator = if text.contains('|') { '|' } else { ',' };
    text.split(separator).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

struct RowChecks<'e> {
    row: u64,
    errors: &'e mut Vec<FieldError>,
    failed: bool,
    /// Fields whose cell could not be read: the rule checks say nothing more about them.
    unread: Vec<&'static str>,
}

impl RowChecks<'_> {
    fn push(&mut self, field: Field, code: &str, message: impl Into<String>) {
        self.failed = true;
        self.unread.push(field.name());
        self.errors.push(FieldError::new(field.name(), code, message).at_row(self.row));
    }

    fn required(&mut self, field: Field, value: Option<&str>) -> String {
        match value {
            Some(v) => v.to_string(),
            None => {
                self.push(field, "required", "must not be blank");
                String::new()
            }
        }
    }

    /// The errors of the rule checks shared with the API, for the fields read.
    fn add(&mut self, checks: Checks) {
        for e in checks.into_errors() {
            if !self.unread.contains(&e.field.as_str()) {
                self.failed = true;
                self.errors.push(e.at_row(self.row));
            }
        }
    }

    fn label<T: Copy>(
        &mut self, field: Field, value: Option<&str>, labels: &Labels<T>, all: &[T], describe: fn(T) -> String,
    ) -> Option<T> {
        let text = value?;
        let parsed = labels.parse(text);
        if parsed.is_none() {
            let expected: Vec<String> = all.iter().map(|v| describe(*v)).collect();
            self.push(
                field,
                "invalid_value",
                format!("unknown value \"{}\"; expected one of: {}", shown(text), expected.join(", ")),
            );
        }
        parsed
    }
}

macro_rules! describe {
    ($t:ty) => {
        |v: $t| format!("{} ({} / {})", v.code(), v.label_es(), v.label_en())
    };
}

/// Checks a row's cells. Errors are appended to `errors` (located at `row`); the row comes
/// back only when it has none.
pub fn validate(row: u64, cells: Cells<'_>, errors: &mut Vec<FieldError>) -> Option<ImportRow> {
    let mut c = RowChecks { row, errors, failed: false, unread: Vec::new() };
    let source =
        c.label(Field::Source, cells.get(Field::Source), &SOURCES, FindingSource::ALL, describe!(FindingSource));
    if cells.get(Field::Source).is_none() {
        c.push(Field::Source, "required", "must not be blank");
    }
    let report_code = c.required(Field::ReportCode, cells.get(Field::ReportCode));
    let finding_code = c.required(Field::FindingCode, cells.get(Field::FindingCode));
    let title = c.required(Field::Title, cells.get(Field::Title));
    let text = |field: Field| cells.get(field).map(str::to_string);
    let (auditor, condition) = (text(Field::Auditor), text(Field::Condition));
    let (criterion, cause, effect) = (text(Field::Criterion), text(Field::Cause), text(Field::Effect));
    let report_date = cells.get(Field::ReportDate).and_then(|text| {
        let date = parse_date(text);
        if date.is_none() {
            c.push(
                Field::ReportDate,
                "invalid_date",
                format!("\"{}\" is not a date; write YYYY-MM-DD or DD/MM/YYYY", shown(text)),
            );
        }
        date
    });
    let fiscal_year = cells.get(Field::FiscalYear).and_then(|text| {
        let year = text.parse::<i32>().ok();
        if year.is_none() {
            c.push(Field::FiscalYear, "invalid_number", format!("\"{}\" is not a year", shown(text)));
        }
        year
    });
    let classification = c.label(
        Field::Classification,
        cells.get(Field::Classification),
        &CLASSIFICATIONS,
        Classification::ALL,
        describe!(Classification),
    );
    let severity =
        c.label(Field::Severity, cells.get(Field::Severity), &SEVERITIES, Severity::ALL, describe!(Severity));
    let status = c
        .label(Field::Status, cells.get(Field::Status), &STATUSES, FindingStatus::ALL, describe!(FindingStatus))
        .unwrap_or(FindingStatus::Open);
    let (incidence_cell, amount_cell) = (cells.get(Field::PresumedIncidence), cells.get(Field::FiscalAmount));
    let listed = match cells.requirement_list {
        Some(list) => list,
        None => cells.get(Field::Requirements).map(split_requirements).unwrap_or_default(),
    };
    let mut checks = Checks::new();
    let requirements = check_requirements(&mut checks, Field::Requirements.name(), listed);
    let mut presumed_incidence = Vec::new();
    for item in incidence_cell.map(split_requirements).unwrap_or_default() {
        match PresumedIncidence::parse_label(&item) {
            Some(v) => presumed_incidence.push(v),
            None => c.push(
                Field::PresumedIncidence,
                "invalid_enum",
                format!("\"{}\" is not disciplinaria, fiscal, penal or sancionatoria", shown(&item)),
            ),
        }
    }
    let presumed_incidence = incidences(presumed_incidence).0;
    let fiscal_amount = amount_cell.and_then(|text| {
        let amount = parse_amount(text);
        if amount.is_none() {
            c.push(Field::FiscalAmount, "invalid_number", format!("\"{}\" is not an amount in COP", shown(text)));
        }
        amount
    });
    check_fields(
        &mut checks,
        FindingFields {
            source,
            report_code: &report_code,
            finding_code: &finding_code,
            title: &title,
            auditor: auditor.as_deref(),
            condition: condition.as_deref(),
            criterion: criterion.as_deref(),
            cause: cause.as_deref(),
            effect: effect.as_deref(),
            fiscal_year,
            presumed_incidence: &presumed_incidence,
            fiscal_amount,
        },
    );
    c.add(checks);
    let source = source?;
    if c.failed {
        return None;
    }
    Some(ImportRow {
        row,
        id: Uuid::now_v7(),
        source,
        auditor,
        search: search_text(&finding_code, &report_code, &title),
        report_code,
        report_date,
        fiscal_year,
        finding_code,
        title,
        condition,
        criterion,
        cause,
        effect,
        classification,
        severity,
        status,
        requirements,
        presumed_incidence,
        fiscal_amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(pairs: &[(Field, &'static str)]) -> Cells<'static> {
        let mut c = Cells::default();
        for (f, v) in pairs {
            c.set(*f, v);
        }
        c
    }

    #[test]
    fn headers_match_in_spanish_or_english_ignoring_case_and_accents() {
        assert_eq!(Field::from_header("CÓDIGO HALLAZGO"), Some(Field::FindingCode));
        assert_eq!(Field::from_header("codigo_hallazgo"), Some(Field::FindingCode));
        assert_eq!(Field::from_header(" Fecha Informe "), Some(Field::ReportDate));
        assert_eq!(Field::from_header("report_date"), Some(Field::ReportDate));
        assert_eq!(Field::from_header("Clasificación"), Some(Field::Classification));
        assert_eq!(Field::from_header("Descripción"), Some(Field::Condition));
        assert_eq!(Field::from_header("Ente auditor"), Some(Field::Auditor));
        assert_eq!(Field::from_header("Observaciones"), None);
    }

    #[test]
    fn label_tables_match_like_parse_label() {
        for text in ["Alta", "ALTA", "alta", "high", "High", "critical", "Crítica", "CRITICA", "Informativa", "x", ""]
        {
            assert_eq!(SEVERITIES.parse(text), Severity::parse_label(text), "{text}");
        }
        for text in
            ["internal_audit", "internal audit", "Auditoría interna", "AUDITORIA-INTERNA", "Contraloría", "otra"]
        {
            assert_eq!(SOURCES.parse(text), FindingSource::parse_label(text), "{text}");
        }
        assert_eq!(STATUSES.parse("Cerrado  efectivo"), Some(FindingStatus::ClosedEffective));
        assert_eq!(CLASSIFICATIONS.parse("no conformidad menor"), Some(Classification::MinorNonconformity));
    }

    #[test]
    fn fold_lowercases_strips_accents_and_collapses_spaces() {
        assert_eq!(fold("  Código   del_Hallazgo-N°  "), "codigo del hallazgo n°");
        assert_eq!(fold("ÑANDÚ\tÜber"), "nandu uber");
        assert_eq!(fold(" - "), "");
    }

    #[test]
    fn dates_are_iso_or_day_first() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 7);
        assert_eq!(parse_date("2025-03-07"), d);
        assert_eq!(parse_date("07/03/2025"), d);
        assert_eq!(parse_date("7/3/2025"), d);
        assert_eq!(parse_date("31/02/2025"), None);
        assert_eq!(parse_date("03/07/25"), None);
        assert_eq!(parse_date("2025-3-7"), None);
        assert_eq!(parse_date("mañana"), None);
    }

    #[test]
    fn requirements_split_on_pipes_or_commas() {
        assert_eq!(split_requirements("A.5.15, A.5.18"), vec!["A.5.15", "A.5.18"]);
        assert_eq!(split_requirements("Ley 1581, art. 17 | A.5.34"), vec!["Ley 1581, art. 17", "A.5.34"]);
    }

    #[test]
    fn labels_in_either_language_are_accepted() {
        let mut errors = Vec::new();
        let row = validate(
            1,
            cells(&[
                (Field::Source, "Contraloría"),
                (Field::ReportCode, "CGR-2024"),
                (Field::FindingCode, "H-1"),
                (Field::Title, "Sin copias de respaldo"),
                (Field::Classification, "No conformidad menor"),
                (Field::Severity, "ALTA"),
                (Field::Status, "En tratamiento"),
                (Field::FiscalYear, "2024"),
                (Field::ReportDate, "31/03/2025"),
            ]),
            &mut errors,
        )
        .expect("valid");
        assert!(errors.is_empty());
        assert_eq!(row.source, FindingSource::Comptroller);
        assert_eq!(row.classification, Some(Classification::MinorNonconformity));
        assert_eq!(row.severity, Some(Severity::High));
        assert_eq!(row.status, FindingStatus::InTreatment);
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_row_and_field() {
        let mut errors = Vec::new();
        let row = validate(
            7,
            cells(&[
                (Field::Source, "auditoría interna"),
                (Field::FindingCode, "H-1"),
                (Field::Title, "x"),
                (Field::Severity, "Altísima"),
                (Field::FiscalYear, "1800"),
                (Field::ReportDate, "2025/03/31"),
            ]),
            &mut errors,
        );
        assert!(row.is_none());
        // Cells that cannot be read come first, then the rules shared with the API.
        let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            vec![
                ("report_code", "required"),
                ("report_date", "invalid_date"),
                ("severity", "invalid_value"),
                ("fiscal_year", "out_of_range")
            ]
        );
        assert!(errors.iter().all(|e| e.row == Some(7)));
    }
}
