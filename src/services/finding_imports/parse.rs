//! The parser thread of an upload: reads the body as it arrives (CSV or a JSON array), checks
//! each row, drops repeats of a natural key within the file, and hands valid rows to the
//! writer in batches. Only the natural keys seen so far are kept (as 64-bit hashes), so memory
//! grows by a few bytes a row, not with the rows' content.
use super::decode::TextDecoder;
use super::rows::{validate, Cells, Field, ImportRow};
use crate::dto::finding_imports::STORED_ERRORS_MAX;
use crate::entities::enums::ImportFormat;
use crate::error::FieldError;
use encoding_rs::Encoding;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, Cursor, Read};
use tokio::sync::mpsc::Sender;

/// How to read an upload.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// CSV or JSON.
    pub format: ImportFormat,
    /// All-or-nothing: once a row is invalid, no more rows are handed to the writer.
    pub atomic: bool,
    /// Rows per batch handed to the writer.
    pub batch_rows: usize,
    /// Charset named in `Content-Type`, if any.
    pub charset: Option<&'static Encoding>,
}

/// What the parser found.
#[derive(Debug, Default)]
pub struct ParseReport {
    /// Data rows (blank rows excluded).
    pub received: u64,
    /// Invalid rows.
    pub rejected: u64,
    /// Row errors found.
    pub error_count: u64,
    /// The first [`STORED_ERRORS_MAX`] row errors.
    pub errors: Vec<FieldError>,
}

impl ParseReport {
    /// Counts as rejected the valid rows that would have changed a closed finding (found while
    /// writing), keeping the stored errors in row order.
    pub fn add_closed(&mut self, rows: &[u64]) {
        if rows.is_empty() {
            return;
        }
        self.rejected += rows.len() as u64;
        self.error_count += rows.len() as u64;
        let room = STORED_ERRORS_MAX.saturating_sub(self.errors.len());
        self.errors.extend(rows.iter().take(room).map(|&row| {
            FieldError::new(
                "finding_code",
                "finding_closed",
                "the finding with this source, report code and finding code is closed; an upload does not change it",
            )
            .at_row(row)
        }));
        self.errors.sort_by_key(|e| e.row);
    }
}

/// Why parsing stopped before the end of the body.
#[derive(Debug)]
pub enum ParseError {
    /// The spooled body could not be read back.
    Io(io::Error),
    /// The writer stopped taking rows (its own error is the one to report).
    Stopped,
    /// The file as a whole is unusable (missing or unknown columns, empty file).
    File(Vec<FieldError>),
    /// The body is not well-formed CSV or JSON.
    Syntax(String),
}

fn io_error(err: io::Error) -> ParseError {
    // The decoder never fails on bad bytes (they become U+FFFD): an error is the file's.
    ParseError::Io(err)
}

/// 64 bits of hash of a natural key, kept with the row that first used it (12 bytes a key, so a
/// million-row file needs about 27 MB). A false "repeated key" needs two different keys with the
/// same 64-bit hash: about one chance in 30 million for a file of a million rows.
fn key_hash(row: &ImportRow) -> [u32; 2] {
    let mut h = DefaultHasher::new();
    (row.source.code(), row.report_code.as_str(), row.finding_code.as_str()).hash(&mut h);
    let hash = h.finish();
    [hash as u32, (hash >> 32) as u32]
}

struct Collector {
    opts: ParseOptions,
    out: Sender<Vec<ImportRow>>,
    batch: Vec<ImportRow>,
    seen: HashMap<[u32; 2], u32>,
    report: ParseReport,
    scratch: Vec<FieldError>,
    halted: Option<ParseError>,
}

impl Collector {
    fn new(opts: ParseOptions, out: Sender<Vec<ImportRow>>) -> Self {
        Collector {
            opts,
            out,
            batch: Vec::with_capacity(opts.batch_rows),
            seen: HashMap::new(),
            report: ParseReport::default(),
            scratch: Vec::new(),
            halted: None,
        }
    }

    /// One data row; `found` holds errors already found while reading it.
    fn row(&mut self, row_no: u64, cells: Cells<'_>, found: Vec<FieldError>) -> Result<(), ParseError> {
        if cells.is_blank() && found.is_empty() {
            return Ok(());
        }
        self.report.received += 1;
        self.scratch.clear();
        self.scratch.extend(found);
        // A row that is only errors (a JSON element that is not an object) has nothing to check.
        let valid = if cells.is_blank() {
            None
        } else {
            validate(row_no, cells, &mut self.scratch).filter(|_| self.scratch.is_empty())
        };
        if let Some(row) = valid {
            let first = *self.seen.entry(key_hash(&row)).or_insert(u32::try_from(row_no).unwrap_or(u32::MAX));
            if u64::from(first) == row_no || first == u32::MAX {
                if !(self.opts.atomic && self.report.rejected > 0) {
                    self.batch.push(row);
                }
            } else {
                self.scratch.push(
                    FieldError::new(
                        "finding_code",
                        "duplicate_in_file",
                        format!("row {first} has the same source, report code and finding code"),
                    )
                    .at_row(row_no),
                );
            }
        }
        if !self.scratch.is_empty() {
            self.report.rejected += 1;
            self.report.error_count += self.scratch.len() as u64;
            let room = STORED_ERRORS_MAX.saturating_sub(self.report.errors.len());
            self.report.errors.extend(self.scratch.drain(..).take(room));
            if self.opts.atomic {
                // Nothing of an all-or-nothing upload with a bad row will be written.
                self.batch.clear();
            }
        }
        if self.batch.len() >= self.opts.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ParseError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.opts.batch_rows));
        self.out.blocking_send(batch).map_err(|_| ParseError::Stopped)
    }
}

/// Reads the whole body from `body`, sending valid rows to `out` in batches.
pub fn parse(body: impl Read, opts: ParseOptions, out: Sender<Vec<ImportRow>>) -> Result<ParseReport, ParseError> {
    let reader = TextDecoder::new(body, opts.charset);
    let mut collector = Collector::new(opts, out);
    match opts.format {
        ImportFormat::Csv => parse_csv(reader, &mut collector)?,
        ImportFormat::Json => parse_json(reader, &mut collector)?,
    }
    collector.flush()?;
    Ok(collector.report)
}

fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> Result<(), ParseError> {
    line.clear();
    reader.read_until(b'\n', line).map_err(io_error)?;
    Ok(())
}

/// The delimiter used most in the header line, outside quotes (`,` on a tie).
pub fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    candidates[best]
}

fn file_error(field: &str, code: &str, message: impl Into<String>) -> ParseError {
    ParseError::File(vec![FieldError::new(field, code, message)])
}

/// Maps each header to its column (`None`: a blank header, ignored).
fn resolve_headers(headers: &csv::StringRecord) -> Result<Vec<Option<Field>>, ParseError> {
    let mut errors = Vec::new();
    let mut columns: Vec<Option<Field>> = Vec::with_capacity(headers.len());
    for header in headers.iter() {
        if header.trim().is_empty() {
            columns.push(None);
            continue;
        }
        match Field::from_header(header) {
            Some(field) if columns.contains(&Some(field)) => errors.push(FieldError::new(
                header.trim(),
                "duplicate_column",
                format!("more than one column means {}", field.name()),
            )),
            Some(field) => columns.push(Some(field)),
            None => {
                let known: Vec<String> = Field::ALL.iter().map(|f| format!("{} / {}", f.spanish(), f.name())).collect();
                errors.push(FieldError::new(
                    header.trim(),
                    "unknown_column",
                    format!("not a findings column; the columns are: {}", known.join(", ")),
                ));
                columns.push(None);
            }
        }
    }
    for field in Field::REQUIRED {
        if !columns.contains(&Some(field)) {
            errors.push(FieldError::new(
                field.name(),
                "missing_column",
                format!("the file needs a column {} ({})", field.spanish(), field.name()),
            ));
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(ParseError::File(errors))
    }
}

fn csv_error(err: csv::Error) -> ParseError {
    match err.into_kind() {
        csv::ErrorKind::Io(e) => io_error(e),
        other => ParseError::Syntax(format!("{other:?}")),
    }
}

fn parse_csv(reader: impl Read, c: &mut Collector) -> Result<(), ParseError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let mut first = Vec::new();
    read_line(&mut buffered, &mut first)?;
    // Excel's "sep=;" line names the delimiter.
    let mut delimiter = None;
    if first.len() >= 5 && first[..4].eq_ignore_ascii_case(b"sep=") {
        delimiter = Some(first[4]);
        read_line(&mut buffered, &mut first)?;
    }
    if first.iter().all(u8::is_ascii_whitespace) {
        return Err(file_error("header", "empty_file", "the file has no header row"));
    }
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&first));
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(64 * 1024)
        .from_reader(Cursor::new(first).chain(buffered));
    let mut record = csv::StringRecord::new();
    if !csv.read_record(&mut record).map_err(csv_error)? {
        return Err(file_error("header", "empty_file", "the file has no header row"));
    }
    let columns = resolve_headers(&record)?;
    let mut row_no = 0u64;
    while csv.read_record(&mut record).map_err(csv_error)? {
        row_no += 1;
        let mut cells = Cells::default();
        let mut found = Vec::new();
        for (i, value) in record.iter().enumerate() {
            match columns.get(i) {
                Some(Some(field)) => cells.set(*field, value),
                Some(None) => {}
                None if value.trim().is_empty() => {}
                None if found.is_empty() => found.push(
                    FieldError::new(
                        "row",
                        "too_many_fields",
                        format!("the row has {} cells but the header only {}", record.len(), columns.len()),
                    )
                    .at_row(row_no),
                ),
                None => {}
            }
        }
        c.row(row_no, cells, found)?;
    }
    Ok(())
}

/// Builds the cells of one JSON element.
fn json_row(c: &mut Collector, row_no: u64, value: Value) -> Result<(), ParseError> {
    let mut problems = Vec::new();
    let object = match value {
        Value::Object(map) => map,
        _ => {
            let error = FieldError::new("row", "not_an_object", "each element must be a JSON object").at_row(row_no);
            return c.row(row_no, Cells::default(), vec![error]);
        }
    };
    let mut owned: Vec<(Field, String)> = Vec::with_capacity(object.len());
    let mut list = None;
    for (key, value) in object {
        let Some(field) = Field::from_header(&key) else {
            problems.push(FieldError::new(key, "unknown_field", "not a finding field").at_row(row_no));
            continue;
        };
        match value {
            Value::Null => {}
            Value::String(s) => owned.push((field, s)),
            Value::Number(n) => owned.push((field, n.to_string())),
            Value::Array(items) if field == Field::Requirements => {
                let mut texts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => texts.push(s),
                        _ => problems.push(
                            FieldError::new(field.name(), "invalid_type", "must be an array of texts").at_row(row_no),
                        ),
                    }
                }
                list = Some(texts);
            }
            _ => problems.push(FieldError::new(field.name(), "invalid_type", "must be a text").at_row(row_no)),
        }
    }
    let mut cells = Cells::default();
    for (field, text) in &owned {
        cells.set(*field, text);
    }
    cells.requirement_list = list;
    c.row(row_no, cells, problems)
}

struct Rows<'c>(&'c mut Collector);

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut row_no = 0u64;
        while let Some(value) = seq.next_element::<Value>()? {
            row_no += 1;
            if let Err(e) = json_row(self.0, row_no, value) {
                self.0.halted = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

fn parse_json(reader: impl Read, c: &mut Collector) -> Result<(), ParseError> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 * 1024, reader));
    let result = Rows(c).deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(_) if c.halted.is_some() => Err(c.halted.take().unwrap_or(ParseError::Stopped)),
        Err(e) if e.is_io() => Err(io_error(e.into())),
        Err(e) => Err(ParseError::Syntax(e.to_string())),
    }
}
