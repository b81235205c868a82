//! A TI.PL03 matrix as entities really have it: a Word or PDF document converted to a sheet.
//! Above the table a title block (entity and NIT, title, `CÓDIGO: TI.PL03`, `VERSIÓN: 1`,
//! `FECHA DE APROBACIÓN: 21/05/2024`, `Página 1 de 8`), repeated with the column headers on
//! every page; below it the signature footer (`Elaboró:` name, role, date; `Aprobó:` body and
//! act); converters leave HTML tags in cells. This module reads the plan metadata out of those
//! blocks and hands back the bare table (one column-header row, then data rows). It also reads
//! the two-cell `label, value` blocks of this service's own export.
use super::period::read_period;
use super::ti_pl03;
use crate::dto::lenient::parse_date;
use crate::entities::enums::fold;
use chrono::NaiveDate;
use std::collections::HashSet;

/// Plan metadata written in the document; the first value found wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentMetadata {
    /// Entity named in the title block (informative).
    pub entity: Option<String>,
    /// `CÓDIGO:`.
    pub code: Option<String>,
    /// `VERSIÓN:`.
    pub version: Option<i32>,
    /// `Título:`, or the longest free text of the title block.
    pub title: Option<String>,
    /// `FECHA DE APROBACIÓN:` (or the date under `Aprobó:`).
    pub approved_on: Option<NaiveDate>,
    /// The act under `Aprobó:` (`Acta No. 05 de 2024`) or `Acta de aprobación:`.
    pub approval_reference: Option<String>,
    /// The body or person under `Aprobó:`.
    pub approved_by: Option<String>,
    /// The name under `Elaboró:`.
    pub prepared_by: Option<String>,
    /// The role under `Elaboró:`.
    pub prepared_by_role: Option<String>,
    /// The date under `Elaboró:`.
    pub prepared_on: Option<NaiveDate>,
    /// `Periodo: DD/MM/YYYY al DD/MM/YYYY`, the implementation window.
    pub window: Option<(NaiveDate, NaiveDate)>,
}

/// A converted document: its metadata and its table.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// What the title block, page headers and footer say.
    pub metadata: DocumentMetadata,
    /// The column-header row, then the data rows (page headers and repeated headers removed).
    pub table: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Entity,
    TaxId,
    Code,
    Version,
    Title,
    ApprovedOn,
    Act,
    Window,
}

fn label_of(text: &str) -> Option<Label> {
    let l = fold(text.trim().trim_end_matches(':').trim());
    let label = match l.as_str() {
        "entidad" => Label::Entity,
        "nit" => Label::TaxId,
        "codigo" | "code" => Label::Code,
        "version" => Label::Version,
        "titulo" | "title" => Label::Title,
        "acta" | "acta de aprobacion" | "acta aprobacion" => Label::Act,
        "periodo" | "periodo de ejecucion" | "periodo de implementacion" => Label::Window,
        // Converted documents misspell it (`FECHA DE PROBABACIÓN`, `FECHA DE PROBABIÓN`).
        l if l.starts_with("fecha de apro") || l.starts_with("fecha de prob") || l == "fecha aprobacion" => {
            Label::ApprovedOn
        }
        _ => return None,
    };
    Some(label)
}

/// `Página 1 de 8`, `Page 2 of 8`.
fn is_page_marker(text: &str) -> bool {
    let f = fold(text);
    let words: Vec<&str> = f.split(' ').collect();
    matches!(words.as_slice(), ["pagina" | "page" | "pag." | "pag", n, "de" | "of", m]
        if n.chars().all(|c| c.is_ascii_digit()) && m.chars().all(|c| c.is_ascii_digit()))
}

/// `CONCEJO MUNICIPAL DE CARTAGO Nit: 900.215.967-5` → the entity's name.
fn entity_with_tax_id(text: &str) -> Option<String> {
    let (before, _) = text.split_once(':')?;
    let f = fold(before);
    if !f.ends_with(" nit") {
        return None;
    }
    let name = before.trim_end();
    Some(name[..name.len() - 3].trim().to_string()).filter(|n| !n.is_empty())
}

/// `LABEL: value` in one cell.
fn labeled(text: &str) -> Option<(Label, String)> {
    let (label, value) = text.split_once(':')?;
    Some((label_of(label)?, value.trim().to_string()))
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

impl DocumentMetadata {
    fn apply(&mut self, label: Label, value: &str) {
        let text = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match label {
            Label::Entity => set(&mut self.entity, text),
            Label::TaxId => {}
            Label::Code => set(&mut self.code, text),
            Label::Version => set(&mut self.version, value.trim().parse().ok()),
            Label::Title => set(&mut self.title, text),
            Label::ApprovedOn => set(&mut self.approved_on, parse_date(value.trim())),
            Label::Act => set(&mut self.approval_reference, text),
            Label::Window => set(&mut self.window, read_period(value, value).ok()),
        }
    }

    /// Reads the metadata cells of a title-block or page-header row; returns the cells that are
    /// not metadata.
    fn read_row(&mut self, row: &[String]) -> Vec<String> {
        let cells: Vec<&str> = row.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
        let mut rest = Vec::new();
        let mut i = 0;
        while i < cells.len() {
            let cell = cells[i];
            i += 1;
            // Paragraphs of the table are never metadata, even when one starts `Código:`.
            if cell.contains('\n') || cell.chars().count() > 150 {
                rest.push(cell.to_string());
                continue;
            }
            if is_page_marker(cell) {
                continue;
            }
            if let Some(name) = entity_with_tax_id(cell) {
                set(&mut self.entity, Some(name));
                continue;
            }
            if let Some((label, value)) = labeled(cell).filter(|(_, v)| !v.is_empty()) {
                self.apply(label, &value);
                continue;
            }
            // A label alone in its cell (`Código`, `Código:`) takes the next cell as its value.
            if let (Some(label), Some(value)) = (label_of(cell), cells.get(i)) {
                self.apply(label, value);
                i += 1;
                continue;
            }
            rest.push(cell.to_string());
        }
        rest
    }

    /// Reads the signature footer: `Elaboró:` then name, role and date; `Aprobó:` then the
    /// body, the act and the date (one item per cell, or parts joined by ` — `).
    fn read_footer(&mut self, rows: &[Vec<String>]) {
        #[derive(PartialEq)]
        enum Section {
            None,
            Prepared,
            Approved,
            Other,
        }
        let mut section = Section::None;
        let mut names = 0;
        let items = rows.iter().flatten().flat_map(|c| c.split(" — ")).map(str::trim).filter(|c| !c.is_empty());
        for item in items {
            let (head, tail) = match item.split_once(':') {
                Some((h, t)) => (fold(h), t.trim()),
                None => (fold(item), ""),
            };
            let starts = [
                ("elaboro", Section::Prepared),
                ("elaborado por", Section::Prepared),
                ("aprobo", Section::Approved),
                ("aprobado por", Section::Approved),
                ("reviso", Section::Other),
                ("revisado por", Section::Other),
            ]
            .into_iter()
            .find(|(word, _)| head == *word)
            .map(|(_, s)| s);
            let started = starts.is_some();
            if let Some(s) = starts {
                section = s;
                names = 0;
                if tail.is_empty() {
                    continue;
                }
            }
            let value = if started { tail } else { item };
            let date = match value.split_once(':') {
                Some((h, d)) if fold(h) == "fecha" => parse_date(d.trim()),
                _ => parse_date(value),
            };
            match section {
                Section::Prepared => match (date, head.as_str()) {
                    (Some(d), _) => set(&mut self.prepared_on, Some(d)),
                    (None, "cargo") => set(&mut self.prepared_by_role, Some(tail.to_string())),
                    _ => {
                        names += 1;
                        match names {
                            1 => set(&mut self.prepared_by, Some(value.to_string())),
                            2 => set(&mut self.prepared_by_role, Some(value.to_string())),
                            _ => {}
                        }
                    }
                },
                Section::Approved => {
                    if let Some(d) = date {
                        set(&mut self.approved_on, Some(d));
                    } else if fold(value).starts_with("acta") {
                        let act = labeled(value).filter(|(l, v)| *l == Label::Act && !v.is_empty()).map(|(_, v)| v);
                        set(&mut self.approval_reference, Some(act.unwrap_or_else(|| value.to_string())));
                    } else {
                        names += 1;
                        if names == 1 {
                            set(&mut self.approved_by, Some(value.to_string()));
                        }
                    }
                }
                Section::None | Section::Other => {}
            }
        }
    }
}

/// Removes HTML tags a converter left in a cell: paragraph and line breaks become new lines,
/// other tags vanish, and the common entities are decoded.
pub fn strip_html(cell: &str) -> String {
    if !cell.contains('<') && !cell.contains('&') {
        return cell.to_string();
    }
    let mut out = String::with_capacity(cell.len());
    let mut rest = cell;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        let close = after.find('>').filter(|close| !after[..*close].contains('<'));
        match (is_tag, close) {
            (true, Some(close)) => {
                out.push_str(&rest[..open]);
                let name = fold(after[..close].trim_start_matches('/'));
                let name = name.split([' ', '/']).next().unwrap_or("");
                if matches!(name, "p" | "br" | "li" | "div" | "tr" | "h1" | "h2" | "h3" | "h4") {
                    out.push('\n');
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    // One paragraph per line, blank lines dropped: `</p> <p>` must not leave a line of spaces.
    decoded.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

fn is_column_header(row: &[String]) -> bool {
    let cols: Vec<usize> = row.iter().filter_map(|c| ti_pl03::column_of(c)).collect();
    cols.contains(&0) && cols.len() >= 2
}

fn is_footer_start(row: &[String]) -> bool {
    let first = row.iter().map(|c| c.trim()).find(|c| !c.is_empty()).unwrap_or("");
    // The whole label, so that a paragraph such as `Firma digital: …` stays in the table.
    let head = fold(first.split(':').next().unwrap_or(""));
    matches!(
        head.as_str(),
        "elaboro" | "aprobo" | "reviso" | "firma" | "firmas" | "elaborado por" | "aprobado por" | "revisado por"
    )
}

/// Splits a converted document into its metadata and its table. Without a column-header row
/// the records are returned as they are (the table reader then reports the missing columns).
pub fn read(records: Vec<Vec<String>>) -> Document {
    let records: Vec<Vec<String>> = records.into_iter().map(|r| r.iter().map(|c| strip_html(c)).collect()).collect();
    let Some(header) = records.iter().position(|r| is_column_header(r)) else {
        return Document { metadata: DocumentMetadata::default(), table: records };
    };
    let footer =
        records.iter().skip(header + 1).position(|r| is_footer_start(r)).map_or(records.len(), |p| p + header + 1);
    let mut metadata = DocumentMetadata::default();
    let mut free_texts = Vec::new();
    // Texts of the title block: a page header repeats them (the entity, `PLAN DE MEJORAMIENTO`).
    let mut block_texts: HashSet<String> = HashSet::new();
    for row in &records[..header] {
        free_texts.extend(metadata.read_row(row));
        block_texts
            .extend(row.iter().map(|c| fold(c)).filter(|c| !c.is_empty() && !c.chars().all(|ch| ch.is_ascii_digit())));
    }
    let mut table = vec![records[header].clone()];
    for row in &records[header + 1..footer] {
        if is_column_header(row) {
            continue;
        }
        let mut probe = DocumentMetadata::default();
        let rest = probe.read_row(row);
        let had_metadata = rest.len() < row.iter().filter(|c| !c.trim().is_empty()).count();
        if had_metadata || (!rest.is_empty() && rest.iter().all(|c| block_texts.contains(&fold(c)))) {
            // A page header: what it says fills what the first page left out.
            metadata.read_row(row);
            continue;
        }
        table.push(row.clone());
    }
    metadata.read_footer(&records[footer..]);
    if metadata.title.is_none() {
        let plan_like: Vec<&String> = free_texts.iter().filter(|t| fold(t).contains("plan")).collect();
        let pool = if plan_like.is_empty() { free_texts.iter().collect() } else { plan_like };
        metadata.title = pool.into_iter().max_by_key(|t| t.chars().count()).cloned();
    }
    Document { metadata, table }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&[&str]]) -> Vec<Vec<String>> {
        lines.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    }

    #[test]
    fn the_title_block_in_its_written_and_misspelt_forms_and_the_footer_fill_the_metadata() {
        let doc = read(rows(&[
            &["", "CONCEJO MUNICIPAL DE CARTAGO Nit: 900.215.967-5", "Página 1 de 8"],
            &["", "", "CÓDIGO: TI.PL03"],
            &["", "PLAN DE MEJORAMIENTO", "VERSIÓN: 1"],
            &["FECHA DE PROBABACIÓN: 21/05/2024", "", ""],
            &["PLAN DE MEJORAMIENTO DE LA POLITICA SEGURIDAD DIGITAL"],
            &["CATEGORÍAS", "PUNTAJE", "DISEÑE ALTERNATIVAS DE MEJORA", "MEJORAS PARA IMPLEMENTAR", "EVALUACIÓN"],
            &["Transparencia", "40", "<p>Uno</p> <p>Dos &amp; tres</p>", "Portal", ""],
            &["", "CONCEJO MUNICIPAL DE CARTAGO Nit: 900.215.967-5", "Página 2 de 8"],
            &["", "PLAN DE MEJORAMIENTO", ""],
            &["", "", "FECHA DE PROBABIÓN: 21/05/2024"],
            &["CATEGORÍAS", "PUNTAJE", "DISEÑO ALTERNATIVAS DE MEJORA", "MEJORAS", "EVALUACIÓN"],
            &["", "40", "Tres", "", ""],
            &["", "", "Firma digital: certificados para los actos", "", ""],
            &["Elaboró:"],
            &["Martha Cecilia Saldaña S"],
            &["Asesora Externa"],
            &["Fecha: 30/10/2024"],
            &["Aprobó: Comité Institucional de Gestión y Desempeño"],
            &["Acta No. 05 de 2024"],
        ]));
        let m = &doc.metadata;
        assert_eq!(m.entity.as_deref(), Some("CONCEJO MUNICIPAL DE CARTAGO"));
        assert_eq!((m.code.as_deref(), m.version), (Some("TI.PL03"), Some(1)));
        assert_eq!(m.title.as_deref(), Some("PLAN DE MEJORAMIENTO DE LA POLITICA SEGURIDAD DIGITAL"));
        assert_eq!(m.approved_on, NaiveDate::from_ymd_opt(2024, 5, 21));
        assert_eq!(m.prepared_by.as_deref(), Some("Martha Cecilia Saldaña S"));
        assert_eq!(m.prepared_by_role.as_deref(), Some("Asesora Externa"));
        assert_eq!(m.prepared_on, NaiveDate::from_ymd_opt(2024, 10, 30));
        assert_eq!(m.approved_by.as_deref(), Some("Comité Institucional de Gestión y Desempeño"));
        assert_eq!(m.approval_reference.as_deref(), Some("Acta No. 05 de 2024"));
        // The table: one header, the data rows, page headers gone, tags stripped.
        assert_eq!(doc.table.len(), 4);
        assert_eq!(doc.table[1][2], "Uno\nDos & tres");
        assert_eq!(doc.table[2][1], "40");
    }

    #[test]
    fn html_is_stripped_but_a_lone_less_than_sign_stays() {
        assert_eq!(strip_html("<p>Uno</p> <p>Dos</p>"), "Uno\nDos");
        assert_eq!(strip_html("<b>a</b><br/>b"), "a\nb");
        assert_eq!(strip_html("puntaje < 40 y > 20"), "puntaje < 40 y > 20");
    }
}
