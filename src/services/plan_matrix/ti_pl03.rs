//! The TI.PL03 plan matrix: five columns (CATEGORÍAS, PUNTAJE, DISEÑO ALTERNATIVAS DE MEJORA,
//! MEJORAS PARA IMPLEMENTAR, EVALUACIÓN DE LA EFICACIA), one or more rows per category. Rows
//! with an empty or repeated category continue the category above. This module turns rows into
//! categories with their actions, and back; it knows nothing of the database.
pub use super::period::{parse_period, take_period, Period};
use crate::entities::enums::fold;
use chrono::NaiveDate;
use serde::Serialize;

/// The five column headers, as the seed writes them.
pub const HEADERS: [&str; 5] = [
    "CATEGORÍAS",
    "PUNTAJE",
    "DISEÑO ALTERNATIVAS DE MEJORA",
    "MEJORAS PARA IMPLEMENTAR (INCLUIR PLAZO DE LA IMPLEMENTACIÓN)",
    "EVALUACIÓN DE LA EFICACIA DE LAS ACCIONES IMPLEMENTADAS",
];

/// Which column a header names (matched without case or accents, by its leading words; the
/// wordings converted documents use, such as `DISEÑE ALTERNATIVAS DE MEJORA`, included).
pub fn column_of(header: &str) -> Option<usize> {
    let h = fold(header);
    let starts = |options: &[&str]| options.iter().any(|p| h.starts_with(p));
    if starts(&["categoria", "category"]) {
        Some(0)
    } else if starts(&["puntaje", "puntuacion", "calificacion", "score"]) {
        Some(1)
    } else if starts(&["alternativas", "improvement alternatives"])
        || (h.starts_with("disen") && h.contains("alternativas"))
    {
        Some(2)
    } else if starts(&["mejoras para implementar", "mejoras a implementar", "improvements", "acciones"]) {
        Some(3)
    } else if starts(&["evaluacion de la eficacia", "evaluacion de eficacia", "eficacia", "effectiveness"]) {
        Some(4)
    } else {
        None
    }
}

pub use crate::dto::plan_matrix::Row;

/// An action read from MEJORAS PARA IMPLEMENTAR.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixAction {
    /// Short title (the first sentence of the first paragraph, at most 200 characters).
    pub title: String,
    /// Every paragraph of the improvement, joined by new lines.
    pub description: String,
    /// Start of the period (`Fecha: (01/08/2024 al 31/12/2027)`), when written.
    pub start_date: Option<NaiveDate>,
    /// End of the period.
    pub due_date: Option<NaiveDate>,
}

/// A category with what belongs to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixCategory {
    /// Name.
    pub name: String,
    /// Score 0–100, or none.
    pub score: Option<f64>,
    /// Improvement alternatives, in order.
    pub improvement_alternatives: Vec<String>,
    /// Effectiveness criterion (`NO APLICA` and blanks give none).
    pub effectiveness_criterion: Option<String>,
    /// Actions (none for `NO APLICA`).
    pub actions: Vec<MatrixAction>,
    /// Data row (1-based) where the category starts.
    pub row: usize,
}

/// A problem in one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    /// Data row, counted from 1.
    pub row: usize,
    /// Field (`category`, `score`, `improvements_to_implement`).
    pub field: String,
    /// Stable code.
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// Splits a cell into paragraphs: one per non-blank line, trimmed.
pub fn paragraphs(cell: &str) -> Vec<String> {
    cell.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Reads a PUNTAJE cell: empty → none; `40`, `40%`, `40,5` → a number in 0–100.
pub fn parse_score(cell: &str) -> Result<Option<f64>, String> {
    let text = cell.trim().trim_end_matches('%').trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(Some(v)),
        Ok(_) => Err("must be between 0 and 100".into()),
        Err(_) => Err(format!("{cell:?} is not a number")),
    }
}

fn is_not_applicable(text: &str) -> bool {
    matches!(fold(text).as_str(), "no aplica" | "n/a" | "na" | "not applicable")
}

/// True for `1)`, `2.`, `3 -` style item numbers.
fn starts_numbered(line: &str) -> bool {
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    !digits.is_empty() && line[digits.len()..].starts_with([')', '.', '-'])
}

fn is_label(line: &str) -> bool {
    let f = fold(line);
    ["descripcion:", "acciones:", "objetivo:", "meta:", "responsable:"].iter().any(|l| f.starts_with(l))
}

fn title_of(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    let cut = first.find(" Descripción:").or_else(|| first.find(". ")).unwrap_or(first.len());
    let title: String = first[..cut].trim_end_matches('.').chars().take(200).collect();
    if title.trim().is_empty() {
        first.chars().take(200).collect()
    } else {
        title
    }
}

/// A paragraph of MEJORAS PARA IMPLEMENTAR, with the period written in it, or a paragraph that
/// is only a period.
enum Item {
    Text(String, Option<Period>),
    Marker(Period),
}

/// An action being assembled: its paragraphs and its period.
type Group = (Vec<String>, Option<Period>);

/// Groups the paragraphs of one cell into actions, appending them to `groups` (the actions of
/// the category so far). A numbered paragraph starts an action, as does an unnumbered one unless
/// it is a label (`Descripción:`) or follows a line ending in `:`. A period written in a
/// paragraph belongs to that paragraph's action and closes it; a paragraph that is only a
/// period closes the action above and dates every earlier action of the category still
/// without one.
fn group_cell(items: Vec<Item>, groups: &mut Vec<Group>) {
    let any_numbered = items.iter().any(|i| matches!(i, Item::Text(t, _) if starts_numbered(t)));
    let mut open = false;
    for item in items {
        match item {
            Item::Marker(period) => {
                groups.iter_mut().filter(|g| g.1.is_none()).for_each(|g| g.1 = Some(period));
                open = false;
            }
            Item::Text(text, period) => {
                let continues = open
                    && match groups.last().and_then(|g| g.0.last()) {
                        None => false,
                        Some(_) if any_numbered => !starts_numbered(&text),
                        Some(prev) => is_label(&text) || prev.ends_with(':'),
                    };
                match groups.last_mut() {
                    Some(group) if continues => {
                        group.0.push(text);
                        group.1 = group.1.or(period);
                    }
                    _ => groups.push((vec![text], period)),
                }
                open = period.is_none();
            }
        }
    }
}

/// How many actions these paragraphs make on their own.
fn actions_in(lines: &[String]) -> usize {
    let mut groups = Vec::new();
    group_cell(lines.iter().map(|l| Item::Text(l.clone(), None)).collect(), &mut groups);
    groups.len()
}

/// Turns rows into categories. Errors name the data row (from 1) and field.
pub fn categories(rows: &[Row]) -> (Vec<MatrixCategory>, Vec<RowError>) {
    struct Acc {
        name: String,
        score: Option<f64>,
        alternatives: Vec<String>,
        improvements: Vec<(usize, Vec<String>)>,
        criterion: Option<String>,
        row: usize,
    }
    let mut errors = Vec::new();
    let mut accs: Vec<Acc> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let row = i + 1;
        let name = r.category.trim();
        let same = accs.last().is_some_and(|a| name.is_empty() || fold(&a.name) == fold(name));
        if !same {
            if name.is_empty() {
                errors.push(RowError {
                    row,
                    field: "category".into(),
                    code: "missing_category".into(),
                    message: "the first row must name a category".into(),
                });
                continue;
            }
            accs.push(Acc {
                name: name.to_string(),
                score: None,
                alternatives: vec![],
                improvements: vec![],
                criterion: None,
                row,
            });
        }
        let Some(acc) = accs.last_mut() else { continue };
        match (acc.score, r.score) {
            (Some(known), Some(written)) if (known - written).abs() > 1e-9 => errors.push(RowError {
                row,
                field: "score".into(),
                code: "conflicting_score".into(),
                message: format!(
                    "{:?} has the score {known} (row {}); a continuation row may repeat it or leave it empty, not write {written}",
                    acc.name, acc.row
                ),
            }),
            (None, Some(written)) => acc.score = Some(written),
            _ => {}
        }
        acc.alternatives
            .extend(r.improvement_alternatives.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        acc.improvements.push((
            row,
            r.improvements_to_implement.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        ));
        if let Some(c) =
            r.effectiveness_evaluation.as_deref().map(str::trim).filter(|c| !c.is_empty() && !is_not_applicable(c))
        {
            acc.criterion.get_or_insert_with(|| c.to_string());
        }
    }
    let mut out = Vec::new();
    for acc in accs {
        let mut groups: Vec<Group> = Vec::new();
        for (row, lines) in &acc.improvements {
            let mut items = Vec::new();
            for line in lines {
                match take_period(line) {
                    None if is_not_applicable(line) => {}
                    None => items.push(Item::Text(line.clone(), None)),
                    Some((rest, Ok(p))) if rest.is_empty() => items.push(Item::Marker(p)),
                    Some((rest, Ok(p))) => items.push(Item::Text(rest, Some(p))),
                    Some((rest, Err(message))) => {
                        errors.push(RowError {
                            row: *row,
                            field: "improvements_to_implement".into(),
                            code: "invalid_period".into(),
                            message,
                        });
                        if !rest.is_empty() {
                            items.push(Item::Text(rest, None));
                        }
                    }
                }
            }
            group_cell(items, &mut groups);
        }
        let actions = groups
            .into_iter()
            .map(|(lines, period)| {
                let description = lines.join("\n");
                MatrixAction {
                    title: title_of(&description),
                    description,
                    start_date: period.map(|p| p.0),
                    due_date: period.map(|p| p.1),
                }
            })
            .collect();
        out.push(MatrixCategory {
            actions,
            name: acc.name,
            score: acc.score,
            improvement_alternatives: acc.alternatives,
            effectiveness_criterion: acc.criterion,
            row: acc.row,
        });
    }
    (out, errors)
}

/// The text of an action in MEJORAS PARA IMPLEMENTAR, written so that it reads back as this one
/// action with its own period: its paragraphs (joined into one when, alone, they would read as
/// several actions), the last one ending in `Fecha: (DD/MM/YYYY al DD/MM/YYYY)`, which dates
/// that action only.
fn improvement_text(action: &MatrixAction) -> String {
    let lines = paragraphs(&action.description);
    let text = if actions_in(&lines) > 1 { lines.join(" ") } else { lines.join("\n") };
    match (action.start_date, action.due_date) {
        (Some(s), Some(d)) => format!("{text} Fecha: ({} al {})", s.format("%d/%m/%Y"), d.format("%d/%m/%Y")),
        _ => text,
    }
}

/// The rows that export a category: the first holds the name, score, alternatives, criterion and
/// the first action; each further action takes a continuation row (empty category), so every
/// action keeps its own period. A category without actions says `NO APLICA`.
pub fn rows_of(category: &MatrixCategory) -> Vec<[String; 5]> {
    let mut texts: Vec<String> = category.actions.iter().map(improvement_text).collect();
    if texts.is_empty() {
        texts.push("NO APLICA".into());
    }
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            if i > 0 {
                return [String::new(), String::new(), String::new(), text, String::new()];
            }
            [
                category.name.clone(),
                category
                    .score
                    .map(|s| if s.fract() == 0.0 { format!("{s:.0}") } else { s.to_string() })
                    .unwrap_or_default(),
                category.improvement_alternatives.join("\n"),
                text,
                category.effectiveness_criterion.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

/// Reads CSV rows (header first) into [`Row`]s; unknown columns are errors naming the header.
pub fn rows_from_records(records: Vec<Vec<String>>) -> (Vec<Row>, Vec<RowError>) {
    let mut errors = Vec::new();
    let mut it = records.into_iter();
    let Some(header) = it.next() else {
        return (
            vec![],
            vec![RowError {
                row: 0,
                field: "header".into(),
                code: "empty_file".into(),
                message: "the file is empty".into(),
            }],
        );
    };
    let columns: Vec<Option<usize>> = header.iter().map(|h| column_of(h)).collect();
    if columns.iter().flatten().count() == 0 || !columns.contains(&Some(0)) {
        errors.push(RowError {
            row: 0,
            field: "header".into(),
            code: "missing_columns".into(),
            message: format!("expected the columns {}", HEADERS.join(", ")),
        });
        return (vec![], errors);
    }
    let mut rows = Vec::new();
    // Data rows are counted from 1, blank lines left out, as `categories` counts them.
    for (i, record) in it.filter(|r| !r.iter().all(|c| c.trim().is_empty())).enumerate() {
        let mut row = Row::default();
        for (cell, column) in record.iter().zip(&columns) {
            match column {
                Some(0) => row.category = cell.trim().to_string(),
                Some(1) => match parse_score(cell) {
                    Ok(s) => row.score = s,
                    Err(message) => errors.push(RowError {
                        row: i + 1,
                        field: "score".into(),
                        code: "invalid_score".into(),
                        message,
                    }),
                },
                Some(2) => row.improvement_alternatives = paragraphs(cell),
                Some(3) => row.improvements_to_implement = paragraphs(cell),
                Some(4) => row.effectiveness_evaluation = Some(cell.trim().to_string()).filter(|c| !c.is_empty()),
                _ => {}
            }
        }
        rows.push(row);
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_rows() -> Vec<Row> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.json"))
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        serde_json::from_value(doc["rows"].clone()).unwrap()
    }

    #[test]
    fn the_seed_plan_gives_seventeen_categories_with_scores_and_every_alternative() {
        let rows = fixture_rows();
        let (cats, errors) = categories(&rows);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(cats.len(), 17);
        assert_eq!(cats[0].name, "Indicadores de Proceso Logro: Transparencia");
        assert_eq!(cats[0].score, Some(40.0));
        assert_eq!(cats[0].effectiveness_criterion.as_deref(), Some("Porcentaje de Cumplimiento de Gobierno Digital"));
        let alternatives: usize = rows.iter().map(|r| r.improvement_alternatives.len()).sum();
        assert_eq!(cats.iter().map(|c| c.improvement_alternatives.len()).sum::<usize>(), alternatives);
        // Transparencia: two numbered improvements, the unnumbered paragraph continues the first.
        assert_eq!(cats[0].actions.len(), 2);
        assert!(cats[0].actions[0].description.contains("Incluir herramientas interactivas"));
        assert_eq!(cats[0].actions[0].start_date, NaiveDate::from_ymd_opt(2024, 8, 1));
        assert_eq!(cats[0].actions[0].due_date, NaiveDate::from_ymd_opt(2027, 12, 31));
        // NO APLICA creates no action; a category with an empty score has none.
        let servicios = cats.iter().find(|c| c.name.contains("Servicios centrados")).unwrap();
        assert!(servicios.actions.is_empty());
        assert_eq!(servicios.improvement_alternatives.len(), 4);
        let gobierno = cats.iter().find(|c| c.name.contains("Gobierno de TI")).unwrap();
        assert_eq!(gobierno.score, None);
        assert_eq!(gobierno.actions.len(), 4);
        let estrategia = cats.iter().find(|c| c.name.contains("Estrategia de TI")).unwrap();
        assert_eq!(estrategia.score, Some(0.0));
    }

    #[test]
    fn exported_rows_read_back_to_the_same_categories() {
        let (cats, _) = categories(&fixture_rows());
        let mut records = vec![HEADERS.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        records.extend(cats.iter().flat_map(rows_of).map(|r| r.to_vec()));
        let (rows, errors) = rows_from_records(records);
        assert!(errors.is_empty(), "{errors:?}");
        let (again, errors) = categories(&rows);
        assert!(errors.is_empty());
        let strip = |cs: &[MatrixCategory]| {
            cs.iter()
                .map(|c| (c.name.clone(), c.score, c.improvement_alternatives.clone(), c.actions.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&again), strip(&cats));
    }

    #[test]
    fn the_csv_fixture_reads_like_the_json_one() {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.csv"))
            .unwrap();
        let records: Vec<Vec<String>> =
            reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        let (rows, errors) = rows_from_records(records);
        assert!(errors.is_empty(), "{errors:?}");
        let (from_csv, _) = categories(&rows);
        let (from_json, _) = categories(&fixture_rows());
        assert_eq!(from_csv, from_json);
    }

    #[test]
    fn periods_and_scores_are_checked() {
        assert_eq!(
            parse_period("Fecha: (01/08/2024 al 31/12/2027)").unwrap().unwrap().1,
            NaiveDate::from_ymd_opt(2027, 12, 31).unwrap()
        );
        assert!(parse_period("Fecha: (31/12/2027 al 01/08/2024)").unwrap().is_err());
        assert!(parse_period("Fecha: pronto").unwrap().is_err());
        assert!(parse_period("Implementar controles").is_none());
        let (rest, period) = take_period("Actualizar los datos. Fecha: (01/08/2024 al 31/12/2027)").unwrap();
        assert_eq!(rest, "Actualizar los datos.");
        assert_eq!(period.unwrap().0, NaiveDate::from_ymd_opt(2024, 8, 1).unwrap());
        let (rest, _) = take_period("Plazo (01/02/2025 - 30/06/2025) para el portal").unwrap();
        assert_eq!(rest, "para el portal");
        assert!(take_period("Publicar las fechas de actualización de los datos").is_none());
        assert_eq!(parse_score(" 40% ").unwrap(), Some(40.0));
        assert_eq!(parse_score("").unwrap(), None);
        assert!(parse_score("140").is_err());
        assert!(parse_score("alto").is_err());
    }
}
