//! The one XLSX reader of the service, bounded before it allocates.
//!
//! A workbook is a zip of XML parts whose sizes and counts are declared by the file itself, so a
//! few kilobytes can claim a 16384 × 1048576 grid, four billion shared strings or a part that
//! inflates a thousandfold. This reader never trusts a declared figure: it checks the central
//! directory (declared sizes and ratios), inflates each part it needs through a counting reader
//! that stops at the limit, streams the XML with quick-xml (never building a tree, refusing deep
//! nesting) and places each cell itself, counting rows, columns, cells and text as it goes. Only
//! `calamine::Data` is borrowed from calamine, so callers keep their cell type; calamine's own
//! reader (which sizes a dense grid from the farthest cell) is not used on uploads.
//!
//! Memory for any input is bounded by the [`Limits`]: at most `max_text_bytes` of text (shared
//! strings and cell text together), `max_cells` cells of 32 bytes, `max_rows` row headers and
//! one XML event, which cannot be larger than `max_part_bytes`.
use crate::error::{ApiError, ErrorCode, FieldError};
use calamine::{CellErrorType, Data, ExcelDateTime, ExcelDateTimeType};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};
use zip::ZipArchive;

/// Deepest XML nesting accepted. SpreadsheetML nests about six levels (worksheet, sheetData,
/// row, c, is, r, t); anything far deeper is not a workbook.
pub const MAX_XML_DEPTH: usize = 64;

/// Parts that inflate to less than this are not held to `max_ratio`: small XML compresses well
/// and cannot hurt.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Most cell formats a workbook may declare (Excel itself stops at 64,000).
const MAX_STYLES: usize = 65_536;

/// Most zip entries a workbook may have (an ordinary one has a few dozen). The zip reader keeps
/// a record per central-directory entry, so this bounds what reading the directory costs.
pub const MAX_PARTS: usize = 10_000;

/// What one spreadsheet read may cost. Every figure is checked before the memory it would
/// need is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest inflated size of one zip part (declared or actual), in bytes.
    pub max_part_bytes: u64,
    /// Highest row number (1-based) a cell may have.
    pub max_rows: u32,
    /// Highest column number (1-based; A = 1) a cell may have.
    pub max_columns: u32,
    /// Most cells in the returned rows, counting the empty cells that pad a row up to its last
    /// value.
    pub max_cells: u64,
    /// Most shared strings (declared `uniqueCount` or actual).
    pub max_shared_strings: u64,
    /// Largest inflated/compressed ratio of a part that inflates past 1 MiB.
    pub max_ratio: u64,
    /// Most bytes of text kept: shared strings plus the text of every returned cell.
    pub max_text_bytes: u64,
}

const MIB: u64 = 1024 * 1024;

impl Limits {
    /// Plan matrices (TI.PL03, a few hundred to a few thousand rows).
    pub fn matrix() -> Self {
        Self {
            max_part_bytes: 32 * MIB,
            max_rows: 20_000,
            max_columns: 256,
            max_cells: 500_000,
            max_shared_strings: 200_000,
            max_ratio: 250,
            max_text_bytes: 32 * MIB,
        }
    }

    /// Findings uploads (up to about 1,000,000 rows of 20 columns).
    pub fn findings() -> Self {
        Self {
            max_part_bytes: 1024 * MIB,
            max_rows: 1_048_576,
            max_columns: 64,
            max_cells: 24_000_000,
            max_shared_strings: 24_000_000,
            max_ratio: 250,
            max_text_bytes: 1024 * MIB,
        }
    }

    /// These limits with the operator's overrides (`MEJORA_SHEET_*`) applied.
    pub fn with(self, o: &crate::config::SheetLimits) -> Self {
        Self {
            max_part_bytes: o.max_part_bytes.unwrap_or(self.max_part_bytes),
            max_rows: o.max_rows.unwrap_or(self.max_rows),
            max_columns: o.max_columns.unwrap_or(self.max_columns),
            max_cells: o.max_cells.unwrap_or(self.max_cells),
            max_shared_strings: o.max_shared_strings.unwrap_or(self.max_shared_strings),
            max_ratio: o.max_ratio.unwrap_or(self.max_ratio),
            max_text_bytes: o.max_text_bytes.unwrap_or(self.max_text_bytes),
        }
    }
}

/// 413 `spreadsheet_too_large` naming the limit (`max_cells`, …) and its value.
fn too_large(limit: &str, value: u64, what: &str) -> ApiError {
    let message = format!("{what}: over the limit {limit} = {value}");
    ApiError::validation(vec![FieldError::new("body", limit, message.clone())])
        .with_code(ErrorCode::SpreadsheetTooLarge)
        .detail(
            format!("The spreadsheet exceeds {limit} = {value} ({what}); nothing was read"),
            format!("La hoja de cálculo supera {limit} = {value} ({what}); no se leyó nada"),
        )
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::validation(vec![FieldError::new("body", "malformed_xlsx", message)])
}

fn xml_error(e: quick_xml::Error) -> ApiError {
    malformed(format!("invalid XML: {e}"))
}

/// Reads one sheet of an XLSX workbook (`None`: the first; `Some(name)`: by name, 422 naming
/// the sheets present when absent) as rows of cells from A1, each row as long as its last
/// value. Dates (cells with a date format) come as `Data::DateTime`, numbers as `Data::Float`.
pub fn read_rows(body: &[u8], sheet: Option<&str>, limits: &Limits) -> Result<Vec<Vec<Data>>, ApiError> {
    let mut book = Book::open(body, limits)?;
    let workbook_path = book.workbook_path()?;
    let (sheets, date1904) = book.sheets(&workbook_path)?;
    let rels = book.relationships(&workbook_path)?;
    let (_, rel_id) = match sheet {
        None => sheets.first().ok_or_else(|| malformed("the workbook has no sheet"))?,
        Some(name) => sheets.iter().find(|(n, _)| n == name).ok_or_else(|| {
            let present: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
            ApiError::validation(vec![FieldError::new(
                "sheet",
                "unknown_sheet",
                format!("the workbook has no sheet named {name:?}; it has: {}", present.join(", ")),
            )])
        })?,
    };
    let sheet_path = rels
        .iter()
        .find(|r| &r.id == rel_id)
        .map(|r| resolve(&workbook_path, &r.target))
        .ok_or_else(|| malformed("the sheet's relationship is missing"))?;
    let by_type =
        |suffix: &str| rels.iter().find(|r| r.kind.ends_with(suffix)).map(|r| resolve(&workbook_path, &r.target));
    let mut text = TextBudget { left: limits.max_text_bytes, limit: limits.max_text_bytes };
    let strings = match by_type("/sharedStrings") {
        Some(path) => book.shared_strings(&path, &mut text)?,
        None => Vec::new(),
    };
    let dates = match by_type("/styles") {
        Some(path) => book.date_styles(&path)?,
        None => Vec::new(),
    };
    let ctx = CellContext { strings: &strings, dates: &dates, date1904 };
    book.cells(&sheet_path, &ctx, &mut text)
}

/// The text still allowed.
struct TextBudget {
    left: u64,
    limit: u64,
}

impl TextBudget {
    fn take(&mut self, n: usize) -> Result<(), ApiError> {
        let n = n as u64;
        if n > self.left {
            return Err(too_large("max_text_bytes", self.limit, "the text of the workbook is larger"));
        }
        self.left -= n;
        Ok(())
    }
}

struct Book<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    limits: &'a Limits,
}

struct Relationship {
    id: String,
    kind: String,
    target: String,
}

type Xml<'z, 'a> = Reader<BufReader<Part<'z, 'a>>>;

/// An inflating reader that fails past `max_part_bytes` or past `max_ratio` × compressed size.
struct Part<'z, 'a> {
    inner: zip::read::ZipFile<'z, Cursor<&'a [u8]>>,
    read: u64,
    cap: u64,
    limits: Limits,
}

impl Read for Part<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Never ask for more than one byte past the cap, so an overrun is seen, not buffered.
        let room = usize::try_from(self.cap.saturating_sub(self.read) + 1).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let n = self.inner.read(&mut buf[..len])?;
        self.read += n as u64;
        if self.read > self.cap {
            return Err(std::io::Error::other(LimitHit(self.over())));
        }
        Ok(n)
    }
}

impl Part<'_, '_> {
    fn over(&self) -> (&'static str, u64) {
        if self.read > self.limits.max_part_bytes {
            ("max_part_bytes", self.limits.max_part_bytes)
        } else {
            ("max_ratio", self.limits.max_ratio)
        }
    }
}

#[derive(Debug)]
struct LimitHit((&'static str, u64));

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {}", self.0 .0, self.0 .1)
    }
}

impl std::error::Error for LimitHit {}

/// Turns a reading error into the problem it stands for: a limit hit while inflating, or a
/// broken file.
fn read_error(e: quick_xml::Error, part: &str) -> ApiError {
    if let quick_xml::Error::Io(io) = &e {
        if let Some(LimitHit((limit, value))) = io.get_ref().and_then(|i| i.downcast_ref::<LimitHit>()) {
            return too_large(limit, *value, &format!("the part {part} inflates past it"));
        }
    }
    xml_error(e)
}

impl<'a> Book<'a> {
    fn open(body: &'a [u8], limits: &'a Limits) -> Result<Self, ApiError> {
        // Every central-directory entry starts with this signature: counting them bounds the
        // entries the zip reader can allocate, whatever the end record declares.
        if memchr::memmem::find_iter(body, b"PK\x01\x02").nth(MAX_PARTS).is_some() {
            return Err(too_large("max_parts", MAX_PARTS as u64, "the zip has more entries"));
        }
        let zip = ZipArchive::new(Cursor::new(body)).map_err(|e| malformed(format!("not an XLSX (zip) file: {e}")))?;
        Ok(Self { zip, limits })
    }

    /// Opens one part as an XML stream, after checking its declared size and ratio.
    fn xml(&mut self, path: &str) -> Result<Option<Xml<'_, 'a>>, ApiError> {
        let Some(index) = self.zip.index_for_name(path) else { return Ok(None) };
        let limits = *self.limits;
        let file = self.zip.by_index(index).map_err(|e| malformed(format!("part {path}: {e}")))?;
        let (declared, compressed) = (file.size(), file.compressed_size().max(1));
        if declared > limits.max_part_bytes {
            return Err(too_large(
                "max_part_bytes",
                limits.max_part_bytes,
                &format!("the part {path} declares {declared} bytes"),
            ));
        }
        if declared > RATIO_FLOOR && declared / compressed > limits.max_ratio {
            return Err(too_large(
                "max_ratio",
                limits.max_ratio,
                &format!("the part {path} declares {declared} bytes from {compressed}"),
            ));
        }
        // The declared size may lie; the actual bytes are held to the same limits.
        let by_ratio = compressed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR);
        let cap = limits.max_part_bytes.min(by_ratio);
        let part = Part { inner: file, read: 0, cap, limits };
        let mut reader = Reader::from_reader(BufReader::with_capacity(64 * 1024, part));
        reader.config_mut().check_end_names = true;
        Ok(Some(reader))
    }

    /// `xl/workbook.xml`, or whatever the package relationships name as the main document.
    fn workbook_path(&mut self) -> Result<String, ApiError> {
        let root = self.rels_at("_rels/.rels")?;
        Ok(root
            .into_iter()
            .find(|r| r.kind.ends_with("/officeDocument"))
            .map(|r| r.target.trim_start_matches('/').to_string())
            .unwrap_or_else(|| "xl/workbook.xml".to_string()))
    }

    fn relationships(&mut self, part: &str) -> Result<Vec<Relationship>, ApiError> {
        let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
        let path = if dir.is_empty() { format!("_rels/{file}.rels") } else { format!("{dir}/_rels/{file}.rels") };
        self.rels_at(&path)
    }

    fn rels_at(&mut self, path: &str) -> Result<Vec<Relationship>, ApiError> {
        let Some(mut xml) = self.xml(path)? else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        walk(&mut xml, path, |e, _| {
            if e.local_name().as_ref() == "Relationship" && out.len() < MAX_STYLES {
                out.push(Relationship {
                    id: attr(e, "Id")?.unwrap_or_default(),
                    kind: attr(e, "Type")?.unwrap_or_default(),
                    target: attr(e, "Target")?.unwrap_or_default(),
                });
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Sheet names with their relationship ids, in workbook order, and the 1904 date system flag.
    fn sheets(&mut self, workbook: &str) -> Result<(Vec<(String, String)>, bool), ApiError> {
        let mut xml = self.xml(workbook)?.ok_or_else(|| malformed("the workbook part is missing"))?;
        let (mut sheets, mut date1904) = (Vec::new(), false);
        walk(&mut xml, workbook, |e, _| {
            match e.local_name().as_ref() {
                "sheet" if sheets.len() < MAX_STYLES => {
                    let name = attr(e, "name")?.unwrap_or_default();
                    let id = attr_local(e, "id")?.unwrap_or_default();
                    sheets.push((name, id));
                }
                "workbookPr" => {
                    date1904 = matches!(attr(e, "date1904")?.as_deref(), Some("1" | "true"));
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok((sheets, date1904))
    }

    /// Every shared string, refusing a declared or actual count past the limit.
    fn shared_strings(&mut self, path: &str, text: &mut TextBudget) -> Result<Vec<String>, ApiError> {
        let max = self.limits.max_shared_strings;
        let Some(mut xml) = self.xml(path)? else { return Ok(Vec::new()) };
        let mut strings: Vec<String> = Vec::new();
        let mut buf = Vec::new();
        let mut depth = 0usize;
        loop {
            match next_event(&mut xml, &mut buf, path)? {
                Event::Start(e) => {
                    depth = deeper(depth)?;
                    match e.local_name().as_ref() {
                        "sst" => {
                            for name in ["uniqueCount", "count"] {
                                let declared = attr(&e, name)?.and_then(|v| v.trim().parse::<u64>().ok());
                                if name == "uniqueCount" && declared.is_some_and(|n| n > max) {
                                    return Err(too_large(
                                        "max_shared_strings",
                                        max,
                                        "the shared strings part declares more strings",
                                    ));
                                }
                            }
                        }
                        "si" => {
                            if strings.len() as u64 >= max {
                                return Err(too_large(
                                    "max_shared_strings",
                                    max,
                                    "the workbook has more shared strings",
                                ));
                            }
                            let s = rich_text(&mut xml, path, "si", depth, text)?;
                            strings.push(s);
                            depth -= 1;
                        }
                        _ => {}
                    }
                }
                Event::Empty(e) if e.local_name().as_ref() == "si" => {
                    if strings.len() as u64 >= max {
                        return Err(too_large("max_shared_strings", max, "the workbook has more shared strings"));
                    }
                    strings.push(String::new());
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(strings)
    }

    /// For each cell format (`s` attribute), whether it shows a date.
    fn date_styles(&mut self, path: &str) -> Result<Vec<bool>, ApiError> {
        let Some(mut xml) = self.xml(path)? else { return Ok(Vec::new()) };
        let mut custom: HashMap<u32, bool> = HashMap::new();
        let mut xfs: Vec<u32> = Vec::new();
        let mut in_cell_xfs = false;
        walk(&mut xml, path, |e, event| {
            match (e.local_name().as_ref(), event) {
                ("numFmt", _) if custom.len() < MAX_STYLES => {
                    let id = attr(e, "numFmtId")?.and_then(|v| v.parse::<u32>().ok());
                    let code = attr(e, "formatCode")?.unwrap_or_default();
                    if let Some(id) = id {
                        custom.insert(id, is_date_format(&code));
                    }
                }
                ("cellXfs", Tag::Start) => in_cell_xfs = true,
                ("cellXfs", Tag::End) => in_cell_xfs = false,
                ("xf", Tag::Start | Tag::Empty) if in_cell_xfs => {
                    if xfs.len() >= MAX_STYLES {
                        return Err(malformed("the workbook declares too many cell formats"));
                    }
                    xfs.push(attr(e, "numFmtId")?.and_then(|v| v.parse().ok()).unwrap_or(0));
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(xfs.into_iter().map(|id| custom.get(&id).copied().unwrap_or_else(|| is_builtin_date(id))).collect())
    }

    /// The cells of a sheet, placed by their references and checked against the limits before
    /// each placement.
    fn cells(&mut self, path: &str, ctx: &CellContext, text: &mut TextBudget) -> Result<Vec<Vec<Data>>, ApiError> {
        let limits = *self.limits;
        let mut xml = self.xml(path)?.ok_or_else(|| malformed(format!("the sheet part {path} is missing")))?;
        let mut grid = Grid { rows: Vec::new(), cells: 0, limits };
        let mut buf = Vec::new();
        let mut depth = 0usize;
        let (mut row, mut col) = (0u32, 0u32);
        loop {
            let event = next_event(&mut xml, &mut buf, path)?;
            let (e, empty) = match event {
                Event::Start(e) => {
                    depth = deeper(depth)?;
                    (e, false)
                }
                Event::Empty(e) => (e, true),
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            match e.local_name().as_ref() {
                // The declared `<dimension>` is not read: nothing is sized from it, and converters
                // write it wrong (a grid to XFD1048576 around a few cells), so it can neither
                // hurt nor be held against a file. Only the cells themselves count.
                "row" => {
                    row = match attr(&e, "r")?.map(|v| v.trim().parse::<u32>()) {
                        Some(Ok(r)) if r > 0 => r,
                        Some(_) => return Err(malformed(format!("a row of {path} has an invalid number"))),
                        None => row.saturating_add(1),
                    };
                    col = 0;
                }
                "c" => {
                    let (r, c) = match attr(&e, "r")? {
                        Some(reference) => cell_ref(&reference)
                            .ok_or_else(|| malformed(format!("invalid cell reference {reference:?}")))?,
                        None => (row.max(1), col.saturating_add(1)),
                    };
                    row = r;
                    col = c;
                    let kind = attr(&e, "t")?.unwrap_or_default();
                    let style = attr(&e, "s")?.and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
                    if empty {
                        continue;
                    }
                    let value = cell_value(&mut xml, path, &kind, depth, text)?;
                    depth -= 1;
                    let Some(value) = value else { continue };
                    grid.check_position(r, c, "a cell")?;
                    let data = ctx.data(&kind, style, value, text)?;
                    grid.put(r, c, data)?;
                }
                _ => {}
            }
        }
        // Rows past the last value carry nothing.
        while grid.rows.last().is_some_and(|r| r.is_empty()) {
            grid.rows.pop();
        }
        Ok(grid.rows)
    }
}

fn deeper(depth: usize) -> Result<usize, ApiError> {
    if depth >= MAX_XML_DEPTH {
        return Err(too_large("max_xml_depth", MAX_XML_DEPTH as u64, "the XML nests deeper"));
    }
    Ok(depth + 1)
}

#[derive(Clone, Copy)]
enum Tag {
    Start,
    Empty,
    End,
}

/// Streams a part, calling `f` for each start, empty and end tag, refusing deep nesting.
fn walk(
    xml: &mut Xml<'_, '_>, path: &str, mut f: impl FnMut(&BytesStart<'_>, Tag) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match next_event(xml, &mut buf, path)? {
            Event::Start(e) => {
                depth = deeper(depth)?;
                f(&e, Tag::Start)?;
            }
            Event::Empty(e) => {
                f(&e, Tag::Empty)?;
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let start = BytesStart::new(e.name().as_ref().to_string());
                f(&start, Tag::End)?;
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// The next event of a part (reusing `buf`), with read errors as problems.
fn next_event<'b>(xml: &mut Xml<'_, '_>, buf: &'b mut Vec<u8>, path: &str) -> Result<Event<'b>, ApiError> {
    buf.clear();
    xml.read_event_into(buf).map_err(|e| read_error(e, path))
}

/// The unescaped value of an attribute by its qualified name.
fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, ApiError> {
    for a in e.attributes() {
        let a = a.map_err(|e| malformed(format!("invalid XML attribute: {e}")))?;
        if a.key.as_ref() == name {
            return Ok(Some(a.normalized_value(XmlVersion::Implicit1_0).map_err(xml_error)?.into_owned()));
        }
    }
    Ok(None)
}

/// The unescaped value of an attribute by its local name (`r:id` → `id` in any namespace).
fn attr_local(e: &BytesStart<'_>, local: &str) -> Result<Option<String>, ApiError> {
    for a in e.attributes() {
        let a = a.map_err(|e| malformed(format!("invalid XML attribute: {e}")))?;
        if a.key.local_name().as_ref() == local && a.key.prefix().is_some() {
            return Ok(Some(a.normalized_value(XmlVersion::Implicit1_0).map_err(xml_error)?.into_owned()));
        }
    }
    Ok(None)
}

/// Resolves a relationship target against the part that holds it.
fn resolve(base: &str, target: &str) -> String {
    if let Some(absolute) = target.strip_prefix('/') {
        return absolute.to_string();
    }
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for piece in target.split('/') {
        match piece {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// `B3` → (row 3, column 2); `None` for anything else.
fn cell_ref(reference: &str) -> Option<(u32, u32)> {
    let reference = reference.trim().trim_start_matches('$');
    let split = reference.find(|c: char| !c.is_ascii_alphabetic())?;
    let (letters, digits) = reference.split_at(split);
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let col = letters.bytes().fold(0u32, |acc, b| acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1));
    let row: u32 = digits.trim_start_matches('$').parse().ok()?;
    (row > 0).then_some((row, col))
}

/// Text of an `<si>` or `<is>` element: its `<t>` runs, without phonetic runs (`<rPh>`).
fn rich_text(
    xml: &mut Xml<'_, '_>, path: &str, end: &str, base: usize, text: &mut TextBudget,
) -> Result<String, ApiError> {
    let mut out = String::new();
    let mut buf = Vec::new();
    let (mut depth, mut in_t, mut phonetic) = (0usize, false, false);
    loop {
        match next_event(xml, &mut buf, path)? {
            Event::Start(e) => {
                depth = deeper(base + depth)? - base;
                match e.local_name().as_ref() {
                    "t" => in_t = true,
                    "rPh" => phonetic = true,
                    _ => {}
                }
            }
            Event::End(e) => {
                match e.local_name().as_ref() {
                    "t" => in_t = false,
                    "rPh" => phonetic = false,
                    name if name == end && depth == 0 => return Ok(unescape_excel(out)),
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if in_t && !phonetic => {
                let piece = t.xml10_content();
                text.take(piece.len())?;
                out.push_str(&piece);
            }
            Event::CData(t) if in_t && !phonetic => {
                let piece = t.xml10_content();
                text.take(piece.len())?;
                out.push_str(&piece);
            }
            Event::GeneralRef(r) if in_t && !phonetic => {
                text.take(4)?;
                push_entity(&r, &mut out)?;
            }
            Event::Eof => return Err(malformed(format!("{path} ends inside a string"))),
            _ => {}
        }
    }
}

fn push_entity(r: &quick_xml::events::BytesRef<'_>, out: &mut String) -> Result<(), ApiError> {
    if let Some(c) = r.resolve_char_ref().map_err(xml_error)? {
        out.push(c);
        return Ok(());
    }
    let s = match r.as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => return Err(malformed(format!("unknown XML entity &{};", other))),
    };
    out.push_str(s);
    Ok(())
}

/// Excel writes control characters as `_xHHHH_`.
fn unescape_excel(s: String) -> String {
    if !s.contains("_x") {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()) && tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The raw value of a `<c>`: its `<v>` text, or the text of an inline string. `None` for a
/// cell without value.
fn cell_value(
    xml: &mut Xml<'_, '_>, path: &str, kind: &str, base: usize, text: &mut TextBudget,
) -> Result<Option<String>, ApiError> {
    let mut value: Option<String> = None;
    let mut buf = Vec::new();
    let (mut depth, mut in_v) = (0usize, false);
    loop {
        match next_event(xml, &mut buf, path)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "is" if kind == "inlineStr" => {
                    let s = rich_text(xml, path, "is", deeper(base + depth)?, text)?;
                    value = Some(s);
                }
                name => {
                    depth = deeper(base + depth)? - base;
                    in_v = name == "v";
                    if in_v {
                        value.get_or_insert_with(String::new);
                    }
                }
            },
            Event::End(e) => {
                if e.local_name().as_ref() == "c" && depth == 0 {
                    return Ok(value);
                }
                in_v = false;
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if in_v => {
                let piece = t.xml10_content();
                text.take(piece.len())?;
                if let Some(v) = value.as_mut() {
                    v.push_str(&piece);
                }
            }
            Event::GeneralRef(r) if in_v => {
                text.take(4)?;
                if let Some(v) = value.as_mut() {
                    push_entity(&r, v)?;
                }
            }
            Event::Eof => return Err(malformed(format!("{path} ends inside a cell"))),
            _ => {}
        }
    }
}

struct CellContext<'a> {
    strings: &'a [String],
    dates: &'a [bool],
    date1904: bool,
}

impl CellContext<'_> {
    fn data(&self, kind: &str, style: usize, value: String, text: &mut TextBudget) -> Result<Data, ApiError> {
        Ok(match kind {
            "s" => {
                let i: usize =
                    value.trim().parse().map_err(|_| malformed(format!("invalid shared string index {value:?}")))?;
                let s = self.strings.get(i).ok_or_else(|| malformed(format!("shared string {i} does not exist")))?;
                text.take(s.len())?;
                Data::String(s.clone())
            }
            "str" | "inlineStr" => Data::String(value),
            "b" => Data::Bool(value.trim() == "1" || value.trim().eq_ignore_ascii_case("true")),
            "e" => value.trim().parse::<CellErrorType>().map(Data::Error).unwrap_or(Data::String(value)),
            "d" => Data::DateTimeIso(value),
            _ => {
                let Ok(n) = value.trim().parse::<f64>() else { return Ok(Data::String(value)) };
                if self.dates.get(style).copied().unwrap_or(false) && n.is_finite() {
                    Data::DateTime(ExcelDateTime::new(n, ExcelDateTimeType::DateTime, self.date1904))
                } else {
                    Data::Float(n)
                }
            }
        })
    }
}

/// Rows placed so far, with the count of cells they hold (values and padding).
struct Grid {
    rows: Vec<Vec<Data>>,
    cells: u64,
    limits: Limits,
}

impl Grid {
    fn check_position(&self, row: u32, col: u32, what: &str) -> Result<(), ApiError> {
        if row > self.limits.max_rows {
            return Err(too_large("max_rows", u64::from(self.limits.max_rows), &format!("{what} at row {row}")));
        }
        if col > self.limits.max_columns {
            return Err(too_large(
                "max_columns",
                u64::from(self.limits.max_columns),
                &format!("{what} at column {col}"),
            ));
        }
        Ok(())
    }

    fn put(&mut self, row: u32, col: u32, data: Data) -> Result<(), ApiError> {
        let (r, c) = ((row - 1) as usize, (col - 1) as usize);
        if self.rows.len() <= r {
            self.rows.resize_with(r + 1, Vec::new);
        }
        let cells = &mut self.rows[r];
        if cells.len() <= c {
            let added = (c + 1 - cells.len()) as u64;
            if self.cells + added > self.limits.max_cells {
                return Err(too_large("max_cells", self.limits.max_cells, "the sheet has more cells"));
            }
            self.cells += added;
            cells.resize(c + 1, Data::Empty);
        }
        cells[c] = data;
        Ok(())
    }
}

/// Built-in number formats that show dates or times (ECMA-376 §18.8.30).
fn is_builtin_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// Whether a custom format code shows a date or time: a `d`, `m`, `y`, `h` or `s` outside
/// quoted text, escapes and bracketed sections (colours, locales, conditions).
fn is_date_format(code: &str) -> bool {
    let (mut quoted, mut bracket, mut escaped) = (false, false, false);
    for c in code.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' | '_' | '*' => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            _ if quoted || bracket => {}
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_as_row_and_column() {
        assert_eq!(cell_ref("A1"), Some((1, 1)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(cell_ref("$B$3"), Some((3, 2)));
        assert_eq!(cell_ref("A0"), None);
        assert_eq!(cell_ref("ABCD1"), None);
    }

    #[test]
    fn date_formats_are_recognised() {
        assert!(is_date_format("dd/mm/yyyy"));
        assert!(is_date_format("[$-240A]d\\ \"de\"\\ mmmm"));
        assert!(!is_date_format("#,##0.00"));
        assert!(!is_date_format("[Red]0%"));
        assert!(!is_date_format("\"días\" 0"));
        assert!(is_builtin_date(14) && !is_builtin_date(0));
    }

    #[test]
    fn targets_resolve_against_the_workbook() {
        assert_eq!(resolve("xl/workbook.xml", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/workbook.xml", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/workbook.xml", "../x/sheet.xml"), "x/sheet.xml");
    }

    #[test]
    fn excel_escapes_are_decoded() {
        assert_eq!(unescape_excel("a_x000D_b".into()), "a\rb");
        assert_eq!(unescape_excel("_x_y".into()), "_x_y");
    }
}

#[cfg(test)]
mod workbook_tests {
    use super::*;
    use chrono::NaiveDate;
    use rust_xlsxwriter::{Format, Workbook};

    fn book() -> Vec<u8> {
        let mut wb = Workbook::new();
        let first = wb.add_worksheet();
        first.set_name("Primera").unwrap();
        first.write_string(0, 0, "uno").unwrap();
        let second = wb.add_worksheet();
        second.set_name("Plan").unwrap();
        second.write_string(0, 0, "CATEGORÍAS & <más>").unwrap();
        second.write_number(1, 2, 4.5).unwrap();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        second.write_datetime_with_format(2, 1, NaiveDate::from_ymd_opt(2025, 2, 1).unwrap(), &date).unwrap();
        second.write_boolean(3, 0, true).unwrap();
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn reads_the_first_or_a_named_sheet_with_text_numbers_dates_and_booleans() {
        let bytes = book();
        let first = read_rows(&bytes, None, &Limits::matrix()).unwrap();
        assert_eq!(first, vec![vec![Data::String("uno".into())]]);
        let rows = read_rows(&bytes, Some("Plan"), &Limits::matrix()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0], vec![Data::String("CATEGORÍAS & <más>".into())]);
        assert_eq!(rows[1], vec![Data::Empty, Data::Empty, Data::Float(4.5)]);
        match &rows[2][1] {
            Data::DateTime(d) => {
                assert_eq!(d.as_datetime().unwrap().date(), NaiveDate::from_ymd_opt(2025, 2, 1).unwrap())
            }
            other => panic!("not a date: {other:?}"),
        }
        assert_eq!(rows[3], vec![Data::Bool(true)]);
    }

    #[test]
    fn an_unknown_sheet_names_the_sheets_present() {
        let err = read_rows(&book(), Some("Otra"), &Limits::matrix()).unwrap_err();
        let problem = format!("{:?}", err.problem(false));
        assert!(problem.contains("unknown_sheet") && problem.contains("Primera, Plan"), "{problem}");
    }

    #[test]
    fn limits_are_checked_on_the_cells_read() {
        let tight = Limits { max_rows: 3, ..Limits::matrix() };
        let err = read_rows(&book(), Some("Plan"), &tight).unwrap_err();
        assert_eq!(err.code, ErrorCode::SpreadsheetTooLarge);
        let tight = Limits { max_cells: 4, ..Limits::matrix() };
        assert_eq!(read_rows(&book(), Some("Plan"), &tight).unwrap_err().code, ErrorCode::SpreadsheetTooLarge);
    }
}

#[cfg(test)]
mod hostile_tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    fn workbook(sheet: &[u8]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let wb = format!(
            r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>"#
        );
        let rels = format!(
            r#"<Relationships><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        );
        for (name, bytes) in [
            ("xl/workbook.xml", wb.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet),
        ] {
            zip.start_file(name, deflated).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Rewrites the uncompressed size of every entry (local header and central directory).
    fn lie_about_sizes(mut bytes: Vec<u8>, size: u32) -> Vec<u8> {
        let mut i = 0;
        while i + 30 < bytes.len() {
            let at = match &bytes[i..i + 4] {
                b"PK\x03\x04" => Some(i + 22),
                b"PK\x01\x02" => Some(i + 24),
                _ => None,
            };
            if let Some(at) = at {
                bytes[at..at + 4].copy_from_slice(&size.to_le_bytes());
            }
            i += 1;
        }
        bytes
    }

    #[test]
    fn a_part_that_lies_about_its_size_is_held_to_what_it_inflates() {
        let padding = " ".repeat(8 * 1024 * 1024);
        let sheet = format!(
            r#"<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>{padding}</sheetData></worksheet>"#
        );
        let honest = workbook(sheet.as_bytes());
        let err = read_rows(&honest, None, &Limits::matrix()).unwrap_err();
        assert_eq!(err.code, ErrorCode::SpreadsheetTooLarge);
        let lying = lie_about_sizes(honest, 100);
        let err = read_rows(&lying, None, &Limits::matrix()).unwrap_err();
        assert!(err.code.status().is_client_error(), "{err:?}");
        let tight = Limits { max_part_bytes: 1024 * 1024, max_ratio: 1_000_000, ..Limits::matrix() };
        let err = read_rows(&lie_about_sizes(workbook(sheet.as_bytes()), 100), None, &tight).unwrap_err();
        assert!(err.code.status().is_client_error(), "{err:?}");
    }

    #[test]
    fn a_zip_with_too_many_entries_is_refused_before_its_directory_is_read() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..=MAX_PARTS {
            zip.start_file(format!("{i}"), SimpleFileOptions::default()).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let err = read_rows(&bytes, None, &Limits::matrix()).unwrap_err();
        assert_eq!(err.code, ErrorCode::SpreadsheetTooLarge);
        assert_eq!(err.problem(false).errors[0].code, "max_parts");
    }

    #[test]
    fn a_cell_costs_at_most_32_bytes_as_the_readme_says() {
        assert!(std::mem::size_of::<Data>() <= 32);
    }

    #[test]
    fn a_declared_dimension_to_the_far_corner_costs_nothing() {
        let sheet = br#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>"#;
        assert_eq!(read_rows(&workbook(sheet), None, &Limits::matrix()).unwrap(), vec![vec![Data::Float(1.0)]]);
    }

    #[test]
    fn garbage_and_truncated_files_are_malformed_not_fatal() {
        assert_eq!(read_rows(b"not a zip", None, &Limits::matrix()).unwrap_err().code, ErrorCode::ValidationFailed);
        let whole = workbook(br#"<worksheet><sheetData><row><c><v>1</v></c></row></sheetData></worksheet>"#);
        assert_eq!(read_rows(&whole, None, &Limits::matrix()).unwrap(), vec![vec![Data::Float(1.0)]]);
        for cut in [10, whole.len() / 2, whole.len() - 10] {
            assert!(read_rows(&whole[..cut], None, &Limits::matrix()).is_err());
        }
    }
}
