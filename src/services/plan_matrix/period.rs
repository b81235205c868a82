//! Periods written in improvement paragraphs, as entities write them: `Fecha: (01/08/2024 al
//! 31/12/2027)`, alone or at the end of a paragraph (`… de los datos. Fecha: (…)`), also
//! `Plazo:` and `Periodo:` with `al` or `-` between the dates.
use crate::dto::lenient::parse_date;
use chrono::NaiveDate;

/// First and last day of a period.
pub type Period = (NaiveDate, NaiveDate);

/// Words that open a period (`Fecha: (01/08/2024 al 31/12/2027)`, `Plazo: …`).
const PERIOD_WORDS: [&str; 4] = ["fecha", "plazo", "periodo", "período"];

/// `text` without the leading `word`, compared without case.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let mut chars = text.char_indices();
    for w in word.chars() {
        let (_, c) = chars.next()?;
        if !c.to_lowercase().eq(w.to_lowercase()) {
            return None;
        }
    }
    let rest = chars.next().map_or(text.len(), |(i, _)| i);
    Some(&text[rest..])
}

/// Reads `DD/MM/YYYY al DD/MM/YYYY` (or `… - …`); `written` names the text in errors.
pub fn read_period(inner: &str, written: &str) -> Result<Period, String> {
    let inner = inner.trim();
    let Some((a, b)) = inner.split_once(" al ").or_else(|| inner.split_once(" - ")) else {
        return Err(format!("{written:?}: expected 'Fecha: (DD/MM/YYYY al DD/MM/YYYY)'"));
    };
    match (parse_date(a.trim()), parse_date(b.trim())) {
        (Some(start), Some(end)) if start <= end => Ok((start, end)),
        (Some(_), Some(_)) => Err(format!("{written:?}: the period ends before it starts")),
        _ => Err(format!("{written:?}: dates must be DD/MM/YYYY")),
    }
}

/// Finds a period anywhere in a paragraph (`… de los datos. Fecha: (01/08/2024 al 31/12/2027)`)
/// and returns the paragraph without it, with the period read; `None` when there is none. A
/// period word counts only when a `:` or `(` follows it, so prose such as `las fechas de
/// publicación` is left alone.
pub fn take_period(line: &str) -> Option<(String, Result<Period, String>)> {
    for (start, _) in line.char_indices() {
        if line[..start].chars().next_back().is_some_and(char::is_alphanumeric) {
            continue;
        }
        let Some(after) = PERIOD_WORDS.iter().find_map(|w| strip_word(&line[start..], w)) else { continue };
        let trimmed = after.trim_start();
        let body_at = line.len() - trimmed.len();
        let (inner, end) = if let Some(rest) = trimmed.strip_prefix(':') {
            let rest_trimmed = rest.trim_start();
            let at = line.len() - rest_trimmed.len();
            match rest_trimmed.strip_prefix('(') {
                Some(p) => match p.find(')') {
                    Some(close) => (&p[..close], at + 1 + close + 1),
                    None => (p, line.len()),
                },
                None => (rest_trimmed, line.len()),
            }
        } else if let Some(p) = trimmed.strip_prefix('(') {
            match p.find(')') {
                Some(close) => (&p[..close], body_at + 1 + close + 1),
                None => (p, line.len()),
            }
        } else {
            continue;
        };
        let written = line[start..end].trim();
        let (before, after) = (line[..start].trim_end(), line[end..].trim_start());
        let rest = if before.is_empty() || after.is_empty() {
            format!("{before}{after}")
        } else {
            format!("{before} {after}")
        };
        return Some((rest.trim().to_string(), read_period(inner, written)));
    }
    None
}

/// Reads a paragraph that is only a period, such as `Fecha: (01/08/2024 al 31/12/2027)`;
/// `None` when the line is not one.
pub fn parse_period(line: &str) -> Option<Result<Period, String>> {
    take_period(line).filter(|(rest, _)| rest.is_empty()).map(|(_, p)| p)
}
