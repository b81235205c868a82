//! Findings uploads as auditors keep them (first-hour issue, item 8): XLSX workbooks (first
//! sheet or `sheet=`, real Excel dates or text), rows numbered as the spreadsheet shows them,
//! row errors naming the column as written, unknown columns ignored with a warning (`strict=true`
//! refuses), `application/vnd.ms-excel` read as CSV, and a mislabelled charset reported as such.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::{Method, Response};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn upload(app: &TestApp, token: &str, query: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    app.request(Method::POST, &format!("/api/v1/findings/imports{query}"), Some(token))
        .header("Content-Type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap()
}

/// A workbook whose first sheet holds no findings and whose second, `Hallazgos`, holds three
/// rows: a real Excel date, a date written as text, and a bad severity.
fn workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let first = book.add_worksheet().set_name("Resumen").unwrap();
    first.write_string(0, 0, "Resumen de la auditoría").unwrap();
    let sheet = book.add_worksheet().set_name("Hallazgos").unwrap();
    let headers = ["Fuente", "Código informe", "Fecha informe", "Vigencia", "Código hallazgo", "Título", "Severidad"];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let rows: [(&str, Option<chrono::NaiveDate>, &str, &str, &str); 3] = [
        ("H-1", chrono::NaiveDate::from_ymd_opt(2025, 3, 31), "", "Accesos sin revisión", "Alta"),
        ("H-2", None, "15/04/2025", "Copias sin probar", "Media"),
        ("H-3", None, "2025-04-20", "Severidad inventada", "Altísima"),
    ];
    for (i, (code, real_date, text_date, title, severity)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, "Auditoría interna").unwrap();
        sheet.write_string(r, 1, "OCI-2025-07").unwrap();
        match real_date {
            Some(d) => {
                sheet.write_datetime_with_format(r, 2, d, &date).unwrap();
            }
            None => {
                sheet.write_string(r, 2, *text_date).unwrap();
            }
        }
        sheet.write_number(r, 3, 2024.0).unwrap();
        sheet.write_string(r, 4, *code).unwrap();
        sheet.write_string(r, 5, *title).unwrap();
        sheet.write_string(r, 6, *severity).unwrap();
    }
    book.save_to_buffer().unwrap()
}

async fn finding(app: &TestApp, token: &str, code: &str) -> Value {
    let page = json_of(app.get(&format!("/api/v1/findings?q={code}"), token).await, 200).await;
    page["items"].as_array().unwrap().iter().find(|f| f["finding_code"] == code).cloned().expect("finding")
}

#[tokio::test]
async fn an_xlsx_workbook_is_imported_from_the_named_sheet_with_real_and_text_dates() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let book = workbook();
    let res = upload(&app, &auditor, "?sheet=Hallazgos&mode=partial", XLSX, book.clone()).await;
    let record = json_of(res, 201).await;
    assert_eq!(record["format"], "xlsx");
    assert_eq!(record["counts"]["created"], 2, "{record}");
    assert_eq!(record["counts"]["rejected"], 1);
    let error = &record["errors"][0];
    // Row 4 of the sheet (the header is row 1), named as the header wrote it.
    assert_eq!((error["row"].as_u64(), error["field"].as_str()), (Some(4), Some("Severidad")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("severity"), "{error}");
    let h1 = finding(&app, &auditor, "H-1").await;
    assert_eq!((h1["report_date"].as_str(), h1["fiscal_year"].as_i64()), (Some("2025-03-31"), Some(2024)));
    assert_eq!(h1["severity"], "high");
    let h2 = finding(&app, &auditor, "H-2").await;
    assert_eq!(h2["report_date"], "2025-04-15");

    // The first sheet is the default; it has no findings columns.
    let problem = assert_problem(upload(&app, &auditor, "", XLSX, book.clone()).await, 422, "validation_failed").await;
    assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["code"] == "missing_column"), "{problem}");
    // A sheet that does not exist is named as missing.
    let res = upload(&app, &auditor, "?sheet=Otra", XLSX, book.clone()).await;
    assert_eq!(res.status(), 422);
    // Sent as a multipart part, by file name.
    let part = reqwest::multipart::Part::bytes(book).file_name("hallazgos.xlsx");
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = app
        .request(Method::POST, "/api/v1/findings/imports?sheet=Hallazgos&mode=partial", Some(&auditor))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let again = json_of(res, 201).await;
    assert_eq!(again["counts"]["unchanged"], 2, "{again}");
}

#[tokio::test]
async fn unknown_columns_are_ignored_with_a_warning_unless_strict() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = "fuente;código informe;código hallazgo;título;responsable\nAuditoría interna;OCI;H-1;Uno;Ana\n";
    let record = json_of(upload(&app, &auditor, "", "text/csv", body).await, 201).await;
    assert_eq!(record["counts"]["created"], 1);
    assert_eq!(record["warnings"][0]["field"], "responsable", "{record}");
    assert_eq!(record["warnings"][0]["code"], "unknown_column");
    let id = record["id"].as_str().unwrap();
    let stored = json_of(app.get(&format!("/api/v1/findings/imports/{id}"), &auditor).await, 200).await;
    assert_eq!(stored["warnings"], record["warnings"]);
    let problem =
        assert_problem(upload(&app, &auditor, "?strict=true", "text/csv", body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "unknown_column");
}

#[tokio::test]
async fn row_errors_give_the_spreadsheet_row_and_the_header_as_written() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = "Fuente;Código informe;Código hallazgo;Título;severidad\n\
                Auditoría interna;OCI;H-1;Uno;Alta\n\
                Auditoría interna;OCI;H-2;\"Dos,\nen dos líneas\";Alta\n\
                Auditoría interna;OCI;H-3;Tres;muy alta\n";
    let problem = assert_problem(upload(&app, &auditor, "", "text/csv", body).await, 422, "import_rejected").await;
    let error = &problem["errors"][0];
    // The third data record is row 4 in a spreadsheet, whatever lines its cells span.
    assert_eq!((error["row"].as_u64(), error["field"].as_str()), (Some(4), Some("severidad")), "{error}");
}

#[tokio::test]
async fn csv_sent_as_vnd_ms_excel_is_read_by_its_bytes() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = "fuente,código informe,código hallazgo,título\nAuditoría interna,OCI,H-1,Uno\n";
    let record = json_of(upload(&app, &auditor, "", "application/vnd.ms-excel", body).await, 201).await;
    assert_eq!((record["format"].as_str(), record["counts"]["created"].as_u64()), (Some("csv"), Some(1)));
    // A real workbook under that type is read as one; a binary .xls is refused by name.
    let res = upload(&app, &auditor, "?sheet=Hallazgos&mode=partial", "application/vnd.ms-excel", workbook()).await;
    assert_eq!(json_of(res, 201).await["format"], "xlsx");
    let xls = [0xD0u8, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0];
    let problem = assert_problem(
        upload(&app, &auditor, "", "application/vnd.ms-excel", xls.to_vec()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains(".xls"), "{problem}");
}

#[tokio::test]
async fn a_windows_1252_file_declared_utf8_is_reported_as_an_encoding_problem() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let (latin, _, _) = encoding_rs::WINDOWS_1252
        .encode("fuente;código informe;código hallazgo;título\nAuditoría interna;OCI;H-1;Uno\n");
    let res = upload(&app, &auditor, "", "text/csv; charset=utf-8", latin.into_owned()).await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "encoding_mismatch", "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("charset=windows-1252"));
}
