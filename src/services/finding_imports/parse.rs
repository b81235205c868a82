//! The parser thread of an upload: reads the body as it arrives (CSV or a JSON array), checks
//! each row, drops repeats of a natural key within the file, and hands valid rows to the
//! writer in batches. Only the natural keys seen so far are kept (as 64-bit hashes), so memory
//! grows by a few bytes a row, not with the rows' content.
use super::decode::{is_mismatch, TextDecoder};
use super::rows::{validate, Cells, Field, ImportRow};
use crate::dto::finding_imports::STORED_ERRORS_MAX;
use crate::entities::enums::ImportFormat;
use crate::error::{ApiError, FieldError};
use crate::services::spreadsheet::{self, Limits as SheetLimits};
use calamine::Data;
use encoding_rs::Encoding;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, Cursor, Read};
use tokio::sync::mpsc::Sender;

/// How to read an upload.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// CSV, JSON or XLSX.
    pub format: ImportFormat,
    /// All-or-nothing: once a row is invalid, no more rows are handed to the writer.
    pub atomic: bool,
    /// Rows per batch handed to the writer.
    pub batch_rows: usize,
    /// Charset named in `Content-Type`, if any.
    pub charset: Option<&'static Encoding>,
    /// XLSX: the sheet to read (`None`: the first).
    pub sheet: Option<String>,
    /// XLSX: what reading the workbook may cost.
    pub sheet_limits: SheetLimits,
    /// Refuse files with columns that are not findings columns (else they are ignored, with a warning).
    pub strict: bool,
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
    /// What was ignored (unknown columns).
    pub warnings: Vec<FieldError>,
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
    /// The workbook could not be read (too large, malformed, no such sheet).
    Api(ApiError),
    /// The writer stopped taking rows (its own error is the one to report).
    Stopped,
    /// The file as a whole is unusable (missing or unknown columns, empty file).
    File(Vec<FieldError>),
    /// The body is not well-formed CSV or JSON.
    Syntax(String),
}

fn io_error(err: io::Error) -> ParseError {
    if is_mismatch(&err) {
        return file_error(
            "body",
            "encoding_mismatch",
            "the file is not UTF-8 although charset=utf-8 was declared; it looks like Windows-1252 (what Excel \
             writes in Spanish): send it with charset=windows-1252, or without a charset",
        );
    }
    // Otherwise the decoder never fails on bad bytes (they become U+FFFD): an error is the file's.
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
    /// The header each column was given in the file, to name it in row errors.
    headers: [Option<String>; Field::COUNT],
}

impl Collector {
    fn new(opts: ParseOptions, out: Sender<Vec<ImportRow>>) -> Self {
        Collector {
            batch: Vec::with_capacity(opts.batch_rows),
            opts,
            out,
            seen: HashMap::new(),
            report: ParseReport::default(),
            scratch: Vec::new(),
            halted: None,
            headers: Default::default(),
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
            // Name each column as the file does (`severidad`), with the field it means.
            for error in &mut self.scratch {
                if let Some(field) = Field::ALL.iter().find(|f| f.name() == error.field) {
                    if let Some(header) = &self.headers[*field as usize] {
                        if header != field.name() {
                            error.message = format!("{} ({header} = {}): {}", header, field.name(), error.message);
                            error.field = header.clone();
                        }
                    }
                }
            }
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
pub fn parse(mut body: impl Read, opts: ParseOptions, out: Sender<Vec<ImportRow>>) -> Result<ParseReport, ParseError> {
    let mut collector = Collector::new(opts.clone(), out);
    match opts.format {
        ImportFormat::Csv => parse_csv(TextDecoder::new(body, opts.charset), &mut collector)?,
        ImportFormat::Json => parse_json(TextDecoder::new(body, opts.charset), &mut collector)?,
        ImportFormat::Xlsx => {
            // A zip is read by random access: the workbook is held whole (it is compressed), and
            // the reader's limits bound what it may inflate.
            let mut bytes = Vec::new();
            body.read_to_end(&mut bytes).map_err(ParseError::Io)?;
            let rows =
                spreadsheet::read_rows(&bytes, opts.sheet.as_deref(), &opts.sheet_limits).map_err(ParseError::Api)?;
            drop(bytes);
            parse_sheet(rows, &mut collector)?
        }
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

/// Maps each header to its column (`None`: a blank or unknown header, ignored). Unknown headers
/// are warnings, or errors when the upload is strict.
fn resolve_headers<'h>(
    headers: impl Iterator<Item = &'h str>, c: &mut Collector,
) -> Result<Vec<Option<Field>>, ParseError> {
    let mut errors = Vec::new();
    let mut columns: Vec<Option<Field>> = Vec::new();
    for header in headers {
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
            Some(field) => {
                c.headers[field as usize] = Some(header.trim().to_string());
                columns.push(Some(field));
            }
            None => {
                let known: Vec<String> = Field::ALL.iter().map(|f| format!("{} / {}", f.spanish(), f.name())).collect();
                let hint = if header.contains('\u{FFFD}') {
                    " (the header has characters that could not be read: is the file in the charset it declares?)"
                } else {
                    ""
                };
                let problem = FieldError::new(
                    header.trim(),
                    "unknown_column",
                    if c.opts.strict {
                        format!("not a findings column{hint}; the columns are: {}", known.join(", "))
                    } else {
                        format!("not a findings column{hint}: ignored (strict=true refuses such files)")
                    },
                );
                if c.opts.strict {
                    errors.push(problem);
                } else {
                    c.report.warnings.push(problem);
                }
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
    let columns = resolve_headers(record.iter(), c)?;
    // Rows are numbered as a spreadsheet shows them: the header is row 1.
    let mut row_no = 1u64;
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

/// The text of a spreadsheet cell as an upload reads it: dates as `YYYY-MM-DD`, whole numbers
/// without decimals (`2024`, not `2024.0`).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(dt) => dt.date().format("%Y-%m-%d").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn parse_sheet(rows: Vec<Vec<Data>>, c: &mut Collector) -> Result<(), ParseError> {
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return Err(file_error("header", "empty_file", "the sheet has no header row"));
    };
    let header: Vec<String> = header.iter().map(cell_text).collect();
    let columns = resolve_headers(header.iter().map(String::as_str), c)?;
    // Row 1 is the header, as the spreadsheet shows it.
    for (i, row) in rows.enumerate() {
        let row_no = i as u64 + 2;
        let texts: Vec<String> = row.iter().map(cell_text).collect();
        let mut cells = Cells::default();
        for (text, column) in texts.iter().zip(&columns) {
            if let Some(field) = column {
                cells.set(*field, text);
            }
        }
        c.row(row_no, cells, Vec::new())?;
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
            // Presumed incidences as an array read like one `|`-separated cell.
            Value::Array(items) if field == Field::PresumedIncidence => {
                let texts: Vec<String> = items
                    .into_iter()
                    .filter_map(|item| match item {
                        Value::String(s) => Some(s),
                        _ => {
                            problems.push(
                                FieldError::new(field.name(), "invalid_type", "must be an array of texts")
                                    .at_row(row_no),
                            );
                            None
                        }
                    })
                    .collect();
                owned.push((field, texts.join("|")));
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
