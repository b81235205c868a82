//! Hostile workbooks (issue 13.1): a far cell, a huge declared shared-strings count, deep XML
//! nesting and a part that inflates a thousandfold are refused with 413
//! `spreadsheet_too_large` naming the limit, and the service stays up.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::Method;
use std::io::Write;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// A minimal workbook whose one sheet is `sheet` and, when given, whose shared strings part is
/// `shared`. Built by hand so each part can say whatever a hostile file says.
pub fn workbook(sheet: &[u8], shared: Option<&[u8]>) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut part = |name: &str, bytes: &[u8]| {
        zip.start_file(name, deflated).unwrap();
        zip.write_all(bytes).unwrap();
    };
    part(
        "[Content_Types].xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        "_rels/.rels",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).as_bytes(),
    );
    part(
        "xl/workbook.xml",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>"#).as_bytes(),
    );
    part(
        "xl/_rels/workbook.xml.rels",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#).as_bytes(),
    );
    part("xl/worksheets/sheet1.xml", sheet);
    if let Some(shared) = shared {
        part("xl/sharedStrings.xml", shared);
    }
    zip.finish().unwrap().into_inner()
}

/// A sheet part with `rows` between `<sheetData>` and `</sheetData>`.
pub fn sheet(dimension: Option<&str>, rows: &str) -> Vec<u8> {
    let dimension = dimension.map(|d| format!(r#"<dimension ref="{d}"/>"#)).unwrap_or_default();
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dimension}<sheetData>{rows}</sheetData></worksheet>"#)
        .into_bytes()
}

/// Posts the workbook as a dry-run matrix import by a planner, expects 413
/// `spreadsheet_too_large` naming `limit`, then checks the service still answers.
async fn refused(app: &TestApp, body: Vec<u8>, limit: &str) {
    let planner = app.token_for(Role::Planner).await;
    let res = app
        .request(Method::POST, "/api/v1/plans/imports?dry_run=true&code=HOSTIL&title=Hostil", Some(&planner))
        .header("Content-Type", XLSX)
        .body(body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 413, "spreadsheet_too_large").await;
    assert_eq!(problem["errors"][0]["code"], limit, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains(limit), "{problem}");
    let ready = app.request(Method::GET, "/health/ready", None).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn a_cell_at_xfd1048576_is_refused_without_allocating_the_grid() {
    let app = spawn_app().await;
    let rows = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>CATEGORÍAS</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#;
    refused(&app, workbook(&sheet(None, rows), None), "max_rows").await;
    // The same far corner declared only by the sheet's dimension.
    refused(
        &app,
        workbook(&sheet(Some("A1:XFD1048576"), r#"<row r="1"><c r="A1"><v>1</v></c></row>"#), None),
        "max_rows",
    )
    .await;
    // A far column on an ordinary row.
    refused(
        &app,
        workbook(&sheet(None, r#"<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>"#), None),
        "max_columns",
    )
    .await;
}

#[tokio::test]
async fn a_huge_declared_shared_strings_count_is_refused_before_reserving() {
    let app = spawn_app().await;
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="4000000000" uniqueCount="4000000000"><si><t>a</t></si></sst>"#
    );
    let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
    refused(&app, workbook(&sheet(None, rows), Some(shared.as_bytes())), "max_shared_strings").await;
}

#[tokio::test]
async fn deeply_nested_xml_is_refused() {
    let app = spawn_app().await;
    let depth = 100_000;
    let rows = format!("{}{}", "<x>".repeat(depth), "</x>".repeat(depth));
    refused(&app, workbook(&sheet(None, &rows), None), "max_xml_depth").await;
}

#[tokio::test]
async fn a_part_that_inflates_a_thousandfold_is_refused() {
    let app = spawn_app().await;
    // 20 MiB of whitespace deflates to about 20 KiB: a ratio past 1000.
    let padding = " ".repeat(20 * 1024 * 1024);
    let body = workbook(&sheet(None, &format!(r#"<row r="1"><c r="A1"><v>1</v></c></row>{padding}"#)), None);
    assert!(body.len() < 64 * 1024, "the bomb is small: {} bytes", body.len());
    refused(&app, body, "max_ratio").await;
}

#[tokio::test]
async fn limits_follow_the_environment_and_an_ordinary_workbook_still_reads() {
    let app = spawn_app_with(&[("MEJORA_SHEET_MAX_CELLS", "3")]).await;
    let rows = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>CATEGORÍAS</t></is></c><c r="B1" t="inlineStr"><is><t>PUNTAJE</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Uno</t></is></c><c r="B2"><v>40</v></c></row>"#;
    refused(&app, workbook(&sheet(None, rows), None), "max_cells").await;

    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let res = app
        .request(
            Method::POST,
            "/api/v1/plans/imports?dry_run=true&code=OK&title=Bien&start_date=2025-01-01&end_date=2025-12-31",
            Some(&planner),
        )
        .header("Content-Type", XLSX)
        .body(workbook(&sheet(Some("A1:B2"), rows), None))
        .send()
        .await
        .unwrap();
    let body = json_of(res, 200).await;
    assert_eq!(body["categories"], 1, "{body}");
}
