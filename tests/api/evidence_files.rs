//! Evidence files: detection from bytes, the allow-list, size limits, empty files, streaming
//! upload and a download whose bytes match the SHA-256, duplicates, removal and tenancy.
use crate::evidence::{one_action, report};
use crate::helpers::*;
use crate::plans::{delete, etag_of};
use mejora::entities::enums::Role;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn evidence_for(app: &TestApp, code: &str) -> (crate::actions::Running, Value) {
    let (run, path) = one_action(app, code).await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &report()).await, 201).await;
    (run, evidence)
}

async fn upload(
    app: &TestApp, token: &str, evidence: &Value, name: &str, bytes: Vec<u8>, claimed: &str,
) -> reqwest::Response {
    let part = Part::bytes(bytes).file_name(name.to_string()).mime_str(claimed).unwrap();
    let path = format!("/api/v1/evidence/{}/files", evidence["id"].as_str().unwrap());
    app.request(Method::POST, &path, Some(token)).multipart(Form::new().part("file", part)).send().await.unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn an_uploaded_pdf_downloads_with_bytes_matching_its_sha256() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "PDF").await;
    let res = upload(
        &app,
        &run.responsible.token,
        &evidence,
        "Acta de comité ñ.pdf",
        PDF.to_vec(),
        "application/octet-stream",
    )
    .await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let file = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/files/{}", file["id"].as_str().unwrap()));
    assert_eq!(file["name"], "Acta de comité ñ.pdf");
    assert_eq!(file["media_type"], "application/pdf");
    assert_eq!(file["size"], PDF.len());
    assert_eq!(file["sha256"], sha256(PDF));
    assert_eq!(json_of(app.get(&location, &run.auditor.token).await, 200).await, file);
    let res = app.get(file["content_url"].as_str().unwrap(), &app.token_for(Role::Viewer).await).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-content-sha256"], sha256(PDF).as_str());
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''Acta%20de%20comit%C3%A9%20%C3%B1.pdf"),
        "{disposition}"
    );
    let body = res.bytes().await.unwrap();
    assert_eq!(sha256(&body), file["sha256"].as_str().unwrap());
    assert_eq!(&body[..], PDF);
    // The evidence lists the file and its version moved, so a stale review fails.
    let current =
        json_of(app.get(&format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap()), &run.planner).await, 200)
            .await;
    assert_eq!(current["files"][0]["id"], file["id"]);
    assert_eq!(current["version"], 2);
    let stale =
        crate::evidence::review(&app, &run.auditor.token, &evidence, &serde_json::json!({"status": "accepted"})).await;
    assert_problem(stale, 412, "precondition_failed").await;
}

#[tokio::test]
async fn a_large_file_streams_through_to_the_store_and_back() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "BIG").await;
    let mut bytes = PDF.to_vec();
    bytes.extend((0..12 * 1024 * 1024).map(|i: u32| (i % 251) as u8));
    let file =
        json_of(upload(&app, &run.planner, &evidence, "escaneo.pdf", bytes.clone(), "application/pdf").await, 201)
            .await;
    assert_eq!(file["size"], bytes.len());
    let res = app.get(file["content_url"].as_str().unwrap(), &run.planner).await;
    assert_eq!(res.headers()["content-length"], bytes.len().to_string().as_str());
    let body = res.bytes().await.unwrap();
    assert_eq!(sha256(&body), sha256(&bytes));
}

#[tokio::test]
async fn an_executable_renamed_pdf_and_other_binaries_are_refused() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "EXE").await;
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend([0u8; 120]);
    let problem = assert_problem(
        upload(&app, &run.responsible.token, &evidence, "informe.pdf", elf, "application/pdf").await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("application/x-executable"), "{problem}");
    let mut pe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    pe.extend([0u8; 200]);
    assert_problem(
        upload(&app, &run.responsible.token, &evidence, "acta.pdf", pe, "application/pdf").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
    assert_problem(
        upload(&app, &run.responsible.token, &evidence, "nota.txt", html, "text/plain").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let binary = vec![0u8, 1, 2, 3, 0, 0, 7, 8];
    assert_problem(
        upload(&app, &run.responsible.token, &evidence, "datos.csv", binary, "text/csv").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let current =
        json_of(app.get(&format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap()), &run.planner).await, 200)
            .await;
    assert_eq!(current["files"], serde_json::json!([]));
    assert_eq!(stored_objects(&app), 0);
}

#[tokio::test]
async fn text_csv_images_and_office_files_are_typed_from_their_bytes() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "TIPOS").await;
    let token = &run.responsible.token;
    let csv = "fecha;actividad\n2025-06-30;Capacitación\n".as_bytes().to_vec();
    let file = json_of(upload(&app, token, &evidence, "avance.csv", csv, "application/pdf").await, 201).await;
    assert_eq!(file["media_type"], "text/csv");
    let latin1 = b"Capacitaci\xf3n realizada\r\n".to_vec();
    let file = json_of(upload(&app, token, &evidence, "nota.txt", latin1, "application/octet-stream").await, 201).await;
    assert_eq!(file["media_type"], "text/plain");
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00".to_vec();
    let file = json_of(upload(&app, token, &evidence, "foto", png, "text/plain").await, 201).await;
    assert_eq!(file["media_type"], "image/png");
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00anexos.txt".to_vec();
    let file = json_of(upload(&app, token, &evidence, "../../etc/anexos.zip", zip, "application/zip").await, 201).await;
    assert_eq!(file["media_type"], "application/zip");
    assert_eq!(file["name"], "anexos.zip");
}

#[tokio::test]
async fn an_empty_file_is_refused() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "VACIO").await;
    let problem = assert_problem(
        upload(&app, &run.responsible.token, &evidence, "vacio.pdf", Vec::new(), "application/pdf").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "file");
    assert_eq!(problem["errors"][0]["code"], "empty");
    assert_eq!(stored_objects(&app), 0);
}

#[tokio::test]
async fn a_file_one_byte_over_the_limit_is_refused() {
    let app = spawn_app_with(&[("MEJORA_UPLOAD_LIMIT", "1K")]).await;
    let (run, evidence) = evidence_for(&app, "LIMITE").await;
    let over = vec![b'a'; 1025];
    assert_problem(
        upload(&app, &run.responsible.token, &evidence, "grande.txt", over, "text/plain").await,
        413,
        "payload_too_large",
    )
    .await;
    assert_eq!(stored_objects(&app), 0);
    // A body announced far past the limit is refused before it is read.
    let huge = vec![b'c'; 512 * 1024];
    assert_problem(
        upload(&app, &run.responsible.token, &evidence, "enorme.txt", huge, "text/plain").await,
        413,
        "payload_too_large",
    )
    .await;
    let exact = vec![b'b'; 1024];
    let file =
        json_of(upload(&app, &run.responsible.token, &evidence, "justo.txt", exact, "text/plain").await, 201).await;
    assert_eq!(file["size"], 1024);
}

#[tokio::test]
async fn the_same_bytes_sent_twice_are_stored_once() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "DUP").await;
    let first = json_of(
        upload(&app, &run.responsible.token, &evidence, "acta.pdf", PDF.to_vec(), "application/pdf").await,
        201,
    )
    .await;
    let again = json_of(
        upload(&app, &run.responsible.token, &evidence, "copia.pdf", PDF.to_vec(), "application/pdf").await,
        200,
    )
    .await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(stored_objects(&app), 1);
}

#[tokio::test]
async fn uploads_must_be_multipart_with_a_file_part() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "FORM").await;
    let path = format!("/api/v1/evidence/{}/files", evidence["id"].as_str().unwrap());
    let res = app.post(&path, &run.responsible.token, &serde_json::json!({"file": "x"})).await;
    assert_problem(res, 415, "unsupported_media_type").await;
    let form = Form::new().text("comentario", "sin archivo");
    let res = app.request(Method::POST, &path, Some(&run.responsible.token)).multipart(form).send().await.unwrap();
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "file");
    let stranger = app.user_in(app.org_id, &[Role::Responsible]).await;
    assert_problem(
        upload(&app, &stranger.token, &evidence, "a.pdf", PDF.to_vec(), "application/pdf").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        upload(&app, &run.auditor.token, &evidence, "a.pdf", PDF.to_vec(), "application/pdf").await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn deleting_evidence_deletes_its_files_and_their_bytes() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "BORRA").await;
    let file = json_of(
        upload(&app, &run.responsible.token, &evidence, "acta.pdf", PDF.to_vec(), "application/pdf").await,
        201,
    )
    .await;
    let second =
        json_of(upload(&app, &run.responsible.token, &evidence, "nota.txt", b"nota".to_vec(), "text/plain").await, 201)
            .await;
    assert_eq!(stored_objects(&app), 2);
    assert_eq!(
        delete(&app, &format!("/api/v1/files/{}", second["id"].as_str().unwrap()), &run.responsible.token, None)
            .await
            .status(),
        204
    );
    assert_eq!(stored_objects(&app), 1);
    let evidence_path = format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap());
    let current = json_of(app.get(&evidence_path, &run.planner).await, 200).await;
    assert_eq!(current["files"].as_array().unwrap().len(), 1);
    assert_eq!(delete(&app, &evidence_path, &run.responsible.token, Some(&etag_of(&current))).await.status(), 204);
    assert_problem(
        app.get(&format!("/api/v1/files/{}", file["id"].as_str().unwrap()), &run.planner).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.get(file["content_url"].as_str().unwrap(), &run.planner).await, 404, "not_found").await;
    assert_eq!(stored_objects(&app), 0);
}

#[tokio::test]
async fn other_organizations_cannot_download_files() {
    let app = spawn_app().await;
    let (run, evidence) = evidence_for(&app, "AJENO").await;
    let file = json_of(
        upload(&app, &run.responsible.token, &evidence, "acta.pdf", PDF.to_vec(), "application/pdf").await,
        201,
    )
    .await;
    let (_, stranger) = app.other_organization().await;
    assert_problem(app.get(file["content_url"].as_str().unwrap(), &stranger.token).await, 404, "not_found").await;
    assert_problem(
        app.get(&format!("/api/v1/files/{}", file["id"].as_str().unwrap()), &stranger.token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        delete(&app, &format!("/api/v1/files/{}", file["id"].as_str().unwrap()), &stranger.token, None).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        upload(&app, &stranger.token, &evidence, "x.pdf", PDF.to_vec(), "application/pdf").await,
        404,
        "not_found",
    )
    .await;
}

/// Files under the application's evidence directory.
fn stored_objects(app: &TestApp) -> usize {
    let dir = app.config.storage_url.strip_prefix("file://").unwrap();
    fn count(path: &std::path::Path) -> usize {
        std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    count(std::path::Path::new(dir))
}
