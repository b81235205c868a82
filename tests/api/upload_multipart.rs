//! Bulk uploads as `multipart/form-data` with a `file` part (what browser forms and generated
//! clients send), beside the raw bodies: findings and plan matrices, the format taken from the
//! part's media type or its file name, and the same limits and errors.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response};
use serde_json::Value;

const FINDINGS_CSV: &str = "fuente;código informe;código hallazgo;título;severidad\n\
Auditoría interna;OCI-2025-07;H-01;Sin revisión periódica de accesos;Alta\n\
Auditoría interna;OCI-2025-07;H-02;Copias de respaldo sin probar;Media\n";
const FIXTURE_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.csv"));
const FIXTURE_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.json"));

fn part(bytes: impl Into<Vec<u8>>, name: &str, media_type: Option<&str>) -> Part {
    let part = Part::bytes(bytes.into()).file_name(name.to_string());
    match media_type {
        Some(m) => part.mime_str(m).unwrap(),
        None => part,
    }
}

async fn send(app: &TestApp, token: &str, path: &str, form: Form) -> Response {
    app.request(Method::POST, path, Some(token)).multipart(form).send().await.unwrap()
}

async fn finding_codes(app: &TestApp, token: &str) -> Vec<String> {
    let page = json_of(app.get("/api/v1/findings?limit=500", token).await, 200).await;
    let mut codes: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|f| f["finding_code"].as_str().unwrap().to_string()).collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn a_findings_csv_sent_as_a_multipart_file_part_is_imported_like_a_raw_body() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let form = Form::new().part("file", part(FINDINGS_CSV, "hallazgos.csv", Some("text/csv")));
    let res = send(&app, &auditor, "/api/v1/findings/imports", form).await;
    assert!(res.headers().get("location").is_some());
    let body = json_of(res, 201).await;
    assert_eq!(body["format"], "csv");
    assert_eq!(body["counts"]["created"], 2, "{body}");
    assert_eq!(body["size_bytes"], FINDINGS_CSV.len());
    assert_eq!(finding_codes(&app, &auditor).await, ["H-01", "H-02"]);

    // The same bytes sent raw are the same file: nothing new, same hash.
    let raw = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(FINDINGS_CSV)
        .send()
        .await
        .unwrap();
    let again = json_of(raw, 201).await;
    assert_eq!(again["file_sha256"], body["file_sha256"]);
    assert_eq!(again["counts"]["unchanged"], 2);
}

#[tokio::test]
async fn a_multipart_part_without_a_media_type_is_read_by_its_file_name() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let json = r#"[{"source": "Contraloría", "report_code": "CGR-1", "finding_code": "J-1", "title": "Uno"}]"#;
    // reqwest sends no Content-Type for the part unless told; some clients send octet-stream.
    let form = Form::new().part("file", part(json, "hallazgos.JSON", None));
    let body = json_of(send(&app, &auditor, "/api/v1/findings/imports", form).await, 201).await;
    assert_eq!((body["format"].as_str(), body["counts"]["created"].as_u64()), (Some("json"), Some(1)));
    let form = Form::new().part("file", part(FINDINGS_CSV, "h.csv", Some("application/octet-stream")));
    let body = json_of(send(&app, &auditor, "/api/v1/findings/imports?dry_run=true", form).await, 201).await;
    assert_eq!((body["format"].as_str(), body["counts"]["created"].as_u64()), (Some("csv"), Some(2)));
    // A part's charset is honoured like a raw body's.
    let (latin, _, _) =
        encoding_rs::WINDOWS_1252.encode("fuente;código informe;código hallazgo;título\nOtra;R;W-1;Título\n");
    let form = Form::new().part("file", part(latin.into_owned(), "w.csv", Some("text/csv; charset=windows-1252")));
    let body = json_of(send(&app, &auditor, "/api/v1/findings/imports", form).await, 201).await;
    assert_eq!(body["counts"]["created"], 1, "{body}");
}

#[tokio::test]
async fn multipart_findings_uploads_refuse_other_parts_unknown_types_and_oversized_files() {
    let app = spawn_app_with(&[("MEJORA_IMPORT_LIMIT", "2k")]).await;
    let auditor = app.token_for(Role::Auditor).await;
    let form = Form::new().text("comment", "hola").part("file", part(FINDINGS_CSV, "h.csv", Some("text/csv")));
    let problem =
        assert_problem(send(&app, &auditor, "/api/v1/findings/imports", form).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "file");
    let form = Form::new().part("file", part("%PDF-1.4", "informe.pdf", Some("application/pdf")));
    assert_problem(send(&app, &auditor, "/api/v1/findings/imports", form).await, 415, "unsupported_media_type").await;
    let form = Form::new().part("file", part("x", "sin-extension", None));
    assert_problem(send(&app, &auditor, "/api/v1/findings/imports", form).await, 415, "unsupported_media_type").await;
    let big = format!("{FINDINGS_CSV}{}", "Auditoría interna;OCI;H-9;Relleno\n".repeat(100));
    let form = Form::new().part("file", part(big, "h.csv", Some("text/csv")));
    assert_problem(send(&app, &auditor, "/api/v1/findings/imports", form).await, 413, "payload_too_large").await;
    // A multipart body without a boundary is not multipart.
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&auditor))
        .header("Content-Type", "multipart/form-data")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    assert!(finding_codes(&app, &auditor).await.is_empty());
}

#[tokio::test]
async fn a_plan_matrix_sent_as_a_multipart_file_part_is_imported_in_each_format() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let meta = "title=Plan&start_date=2024-08-01&end_date=2027-12-31";
    let form = Form::new().part("file", part(FIXTURE_CSV, "TI.PL03.csv", Some("text/csv")));
    let res = send(&app, &planner, &format!("/api/v1/plans/imports?code=MP-CSV&{meta}"), form).await;
    let csv: Value = json_of(res, 201).await;
    assert!(csv["plan_id"].is_string(), "{csv}");
    let form = Form::new().part("file", part(FIXTURE_JSON, "plan.json", None));
    let json: Value = json_of(send(&app, &planner, "/api/v1/plans/imports", form).await, 201).await;
    assert!(json["plan_id"].is_string(), "{json}");
    assert_eq!(json["categories"], csv["categories"]);
    // An XLSX export of that plan, uploaded back as a form part.
    let plan = csv["plan_id"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/plans/{plan}/export?format=xlsx"), &planner).await;
    let bytes = res.bytes().await.unwrap().to_vec();
    let form = Form::new().part("file", part(bytes, "TI.PL03.xlsx", None));
    let res = send(&app, &planner, &format!("/api/v1/plans/imports?code=MP-XLSX&{meta}&dry_run=true"), form).await;
    let xlsx: Value = json_of(res, 200).await;
    assert_eq!(xlsx["categories"], csv["categories"]);
    let form = Form::new().part("file", part("x", "plan.pdf", Some("application/pdf")));
    let res = send(&app, &planner, &format!("/api/v1/plans/imports?code=MP-PDF&{meta}"), form).await;
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn the_spec_offers_a_multipart_file_part_on_both_import_operations() {
    let app = spawn_app().await;
    let spec = json_of(app.request(Method::GET, "/api/v1/openapi.json", None).send().await.unwrap(), 200).await;
    for path in ["/api/v1/findings/imports", "/api/v1/plans/imports"] {
        let content = &spec["paths"][path]["post"]["requestBody"]["content"];
        let schema = &content["multipart/form-data"]["schema"];
        let resolved = match schema["$ref"].as_str() {
            Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => schema,
        };
        assert_eq!(resolved["properties"]["file"]["format"], "binary", "{path}: {resolved}");
        assert_eq!(resolved["required"][0], "file");
        assert!(content["text/csv"].is_object(), "{path} keeps its raw body");
    }
}

/// Contract fuzzing sent a PNG as a `file` part declared `application/json`: a file that does
/// not parse is a file to fix (422 naming the part, like a broken CSV or XLSX), never a 400 for
/// a request whose form is well made; nothing is written.
#[tokio::test]
async fn a_json_file_part_that_does_not_parse_is_a_422_naming_the_part() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01".to_vec();
    let form = Form::new().part("file", part(png, "file.png", Some("application/json")));
    let problem =
        assert_problem(send(&app, &auditor, "/api/v1/findings/imports", form).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "malformed_json", "{problem}");
    let form = Form::new().part("file", part("[{\"source\": ", "h.json", None));
    let problem =
        assert_problem(send(&app, &auditor, "/api/v1/findings/imports", form).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "malformed_json", "{problem}");
    assert!(finding_codes(&app, &auditor).await.is_empty());
}
