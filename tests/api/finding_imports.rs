//! Bulk uploads of findings: modes, re-uploads, encodings, JSON, cut-short bodies, limits,
//! idempotency and tenancy.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HEADER: &str =
    "source,report_code,finding_code,title,severity,classification,fiscal_year,report_date,requirements\n";

async fn upload(app: &TestApp, token: &str, query: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    app.request(Method::POST, &format!("/api/v1/findings/imports{query}"), Some(token))
        .header("Content-Type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap()
}

async fn csv(app: &TestApp, token: &str, query: &str, body: &str) -> Response {
    upload(app, token, query, "text/csv", body.as_bytes().to_vec()).await
}

fn rows(n: usize, prefix: &str) -> String {
    let mut text = HEADER.to_string();
    for i in 0..n {
        text.push_str(&format!(
            "internal_audit,OCI-{prefix},{prefix}-{i:05},Hallazgo {i},high,observation,2024,2025-03-31,\"A.5.15, A.5.18\"\n"
        ));
    }
    text
}

async fn findings(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let url = format!("/api/v1/findings?limit=500{query}{cursor}");
        let page = json_of(app.get(&url, token).await, 200).await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return all,
        }
    }
}

fn codes(list: &[Value]) -> Vec<&str> {
    list.iter().map(|f| f["finding_code"].as_str().unwrap()).collect()
}

async fn imports(app: &TestApp, token: &str) -> Vec<Value> {
    json_of(app.get("/api/v1/findings/imports", token).await, 200).await["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_atomic_upload_with_one_bad_row_writes_nothing() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = format!(
        "{HEADER}internal_audit,OCI-1,H-1,Uno,high,observation,2024,2025-03-31,A.5.15\n\
         internal_audit,OCI-1,H-2,Dos,altísima,observation,2024,2025-03-31,\n\
         internal_audit,OCI-1,H-3,Tres,low,observation,2024,31/13/2025,\n"
    );
    let problem = assert_problem(csv(&app, &auditor, "", &body).await, 422, "import_rejected").await;
    let errors: Vec<(u64, &str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    // Rows as a spreadsheet numbers them: the header is row 1.
    assert_eq!(errors, [(3, "severity", "invalid_value"), (4, "report_date", "invalid_date")]);
    assert!(problem["detail"].as_str().unwrap().contains("2 of 3 rows"), "{problem}");
    assert!(findings(&app, &auditor, "").await.is_empty());
    // The rejected upload is on record, with its counts.
    let list = imports(&app, &auditor).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "rejected");
    assert_eq!(list[0]["mode"], "atomic");
    assert_eq!(list[0]["counts"], json!({"received": 3, "created": 0, "updated": 0, "unchanged": 0, "rejected": 2}));
    let record =
        json_of(app.get(&format!("/api/v1/findings/imports/{}", list[0]["id"].as_str().unwrap()), &auditor).await, 200)
            .await;
    assert_eq!(record["errors"].as_array().unwrap().len(), 2);
    assert_eq!(record["error_count"], 2);
}

#[tokio::test]
async fn a_partial_upload_writes_exactly_the_good_rows() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = format!(
        "{HEADER}internal_audit,OCI-1,H-1,Uno,high,observation,2024,2025-03-31,A.5.15\n\
         internal_audit,OCI-1,H-2,,high,observation,2024,2025-03-31,\n\
         ,,,,,,,,\n\
         comptroller,CGR-9,H-1,Otro origen,low,,2023,,\n\
         internal_audit,OCI-1,H-1,Repetido,low,observation,2024,2025-03-31,\n\
         internal_audit,OCI-1,H-4,Cuatro,,,,,\n"
    );
    let res = csv(&app, &auditor, "?mode=partial", &body).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let record = json_of(res, 201).await;
    assert_eq!(record["status"], "completed");
    assert_eq!(record["counts"], json!({"received": 5, "created": 3, "updated": 0, "unchanged": 0, "rejected": 2}));
    assert_eq!(location, format!("/api/v1/findings/imports/{}", record["id"].as_str().unwrap()));
    let errors = record["errors"].as_array().unwrap();
    assert_eq!(errors[0], json!({"row": 3, "field": "title", "code": "required", "message": "must not be blank"}));
    assert_eq!(errors[1]["row"], 6);
    assert_eq!(errors[1]["code"], "duplicate_in_file");
    assert!(errors[1]["message"].as_str().unwrap().contains("row 2"));
    let stored = findings(&app, &auditor, "").await;
    assert_eq!(codes(&stored), ["H-1", "H-1", "H-4"]);
    assert!(stored.iter().all(|f| f["import_id"] == record["id"] && f["status"] == "open"));
    assert_eq!(stored[0]["title"], "Uno");
    assert_eq!(stored[0]["requirements"], json!(["A.5.15"]));
    assert_eq!(stored[1]["source"], "comptroller");
    // One audit event for the upload, none per row.
    let events = json_of(app.get("/api/v1/audit-events?resource_type=finding_import", &auditor).await, 200).await;
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["after"]["counts"]["created"], 3);
    let per_row = json_of(app.get("/api/v1/audit-events?resource_type=finding", &auditor).await, 200).await;
    assert!(per_row["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn uploading_the_same_file_again_changes_nothing() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = rows(3, "A");
    let first = json_of(csv(&app, &auditor, "", &body).await, 201).await;
    assert_eq!(first["counts"]["created"], 3);
    for query in ["", "?on_conflict=update", "?on_conflict=skip&mode=partial"] {
        let again = json_of(csv(&app, &auditor, query, &body).await, 201).await;
        assert_eq!(
            again["counts"],
            json!({"received": 3, "created": 0, "updated": 0, "unchanged": 3, "rejected": 0}),
            "{query}"
        );
        assert_eq!(again["file_sha256"], first["file_sha256"]);
    }
    let stored = findings(&app, &auditor, "").await;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|f| f["version"] == 1 && f["import_id"] == first["id"]));

    // With `update`, non-empty cells overwrite; empty cells and the status keep what is stored.
    let changed = "source,report_code,finding_code,title,severity,estado\n\
         internal_audit,OCI-A,A-00001,Título corregido,,Desestimado\n\
         internal_audit,OCI-A,A-00002,Hallazgo 2,high,\n";
    let skipped = json_of(csv(&app, &auditor, "", changed).await, 201).await;
    assert_eq!(skipped["counts"]["unchanged"], 2);
    let updated = json_of(csv(&app, &auditor, "?on_conflict=update", changed).await, 201).await;
    assert_eq!(updated["counts"], json!({"received": 2, "created": 0, "updated": 1, "unchanged": 1, "rejected": 0}));
    let stored = findings(&app, &auditor, "").await;
    let f = &stored[1];
    assert_eq!(f["title"], "Título corregido");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["status"], "open");
    assert_eq!(f["requirements"], json!(["A.5.15", "A.5.18"]));
    assert_eq!(f["version"], 2);
    assert_eq!(f["import_id"], updated["id"]);
    assert_eq!(stored[2]["version"], 1);
    assert_eq!(codes(&findings(&app, &auditor, "&q=corregido").await), ["A-00001"]);
}

#[tokio::test]
async fn a_windows_1252_semicolon_file_with_day_first_dates_and_accented_headers_imports() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let text = "Fuente;Ente auditor;Código informe;Fecha informe;Vigencia;Código hallazgo;Título;Condición;Clasificación;Severidad;Estado;Requisitos\r\n\
        Auditoría interna;Oficina de Control Interno;OCI-2025-07;31/03/2025;2024;H-01;Contraseñas débiles;\"Se encontró que:\r\n- las contraseñas no caducan;\r\n- no hay bloqueo\";No conformidad menor;Alta;Abierto;A.5.17|A.8.5\r\n\
        CONTRALORÍA;Contraloría General;CGR-2024-11;7/2/2025;2023;H-02;Copias de respaldo sin pruebas;;Observación;media;En tratamiento;A.8.13\r\n";
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!lossy);
    assert!(std::str::from_utf8(&bytes).is_err(), "the body must not be UTF-8");
    let record = json_of(upload(&app, &auditor, "", "text/csv", bytes.to_vec()).await, 201).await;
    assert_eq!(record["counts"]["created"], 2, "{record}");
    assert_eq!(record["format"], "csv");
    let stored = findings(&app, &auditor, "").await;
    let (one, two) = (&stored[0], &stored[1]);
    assert_eq!(one["source"], "internal_audit");
    assert_eq!(one["auditor"], "Oficina de Control Interno");
    assert_eq!(one["report_code"], "OCI-2025-07");
    assert_eq!(one["report_date"], "2025-03-31");
    assert_eq!(one["fiscal_year"], 2024);
    assert_eq!(one["title"], "Contraseñas débiles");
    assert_eq!(one["condition"], "Se encontró que:\r\n- las contraseñas no caducan;\r\n- no hay bloqueo");
    assert_eq!(one["classification"], "minor_nonconformity");
    assert_eq!(one["severity"], "high");
    assert_eq!(one["status"], "open");
    assert_eq!(one["requirements"], json!(["A.5.17", "A.8.5"]));
    assert_eq!(two["source"], "comptroller");
    assert_eq!(two["report_date"], "2025-02-07");
    assert_eq!(two["condition"], Value::Null);
    assert_eq!(two["classification"], "observation");
    assert_eq!(two["severity"], "medium");
    assert_eq!(two["status"], "in_treatment");

    // The same rows as UTF-8 with a BOM are the same findings.
    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend_from_slice(text.as_bytes());
    let again = json_of(upload(&app, &auditor, "", "text/csv; charset=utf-8", utf8).await, 201).await;
    assert_eq!(again["counts"]["unchanged"], 2, "{again}");
}

#[tokio::test]
async fn a_cut_short_upload_writes_nothing() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    // More rows than one write batch, so rows reach the database before the cut.
    let body = rows(2500, "T");
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/findings/imports?mode=partial HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {auditor}\r\n\
         Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(16 * 1024) {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.unwrap();
        stream.write_all(chunk).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    // The client goes away without the final chunk; wait until the server is done with it.
    stream.shutdown().await.unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(findings(&app, &auditor, "").await.is_empty());
    assert!(imports(&app, &auditor).await.is_empty());
    // The whole file, sent properly, creates every row.
    let record = json_of(csv(&app, &auditor, "", &body).await, 201).await;
    assert_eq!(record["counts"]["created"], 2500);
    assert_eq!(imports(&app, &auditor).await.len(), 1);
}

#[tokio::test]
async fn large_files_are_written_in_batches_and_repeats_are_caught_across_them() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let mut body = rows(4999, "L");
    body.push_str("internal_audit,OCI-L,L-00007,Repetida,low,observation,2024,2025-03-31,\n");
    let record = json_of(csv(&app, &auditor, "?mode=partial", &body).await, 201).await;
    assert_eq!(
        record["counts"],
        json!({"received": 5000, "created": 4999, "updated": 0, "unchanged": 0, "rejected": 1})
    );
    assert_eq!(record["errors"][0]["row"], 5001);
    assert!(record["errors"][0]["message"].as_str().unwrap().contains("row 9"));
    assert_eq!(findings(&app, &auditor, "&source=internal_audit").await.len(), 4999);
    let page = json_of(
        app.get(&format!("/api/v1/findings?import_id={}&limit=1", record["id"].as_str().unwrap()), &auditor).await,
        200,
    )
    .await;
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn json_arrays_are_imported_with_the_same_leniency_and_per_element_errors() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = json!([
        {"source": "Auditoría interna", "report_code": "OCI-1", "finding_code": "J-1", "title": "Uno", "severity": "Alta",
         "requirements": ["A.5.1", "Ley 1581, art. 17"], "fiscal_year": 2024, "report_date": "31/03/2025"},
        {"source": "pentest", "report_code": "PT-1", "finding_code": "J-2", "title": "Dos", "classification": "observation",
         "fiscal_year": "2024", "auditor": null},
        "no soy un objeto",
        {"source": "other", "report_code": "X", "finding_code": "J-3", "title": "Tres", "colour": "red"},
        {"source": "other", "report_code": "X", "finding_code": "J-4", "title": "Cuatro", "severity": 3}
    ]);
    let res = upload(&app, &auditor, "?mode=partial", "application/json", body.to_string()).await;
    let record = json_of(res, 201).await;
    assert_eq!(record["format"], "json");
    assert_eq!(record["counts"], json!({"received": 5, "created": 2, "updated": 0, "unchanged": 0, "rejected": 3}));
    let errors: Vec<(u64, &str, &str)> = record["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(3, "row", "not_an_object"), (4, "colour", "unknown_field"), (5, "severity", "invalid_value")]);
    let stored = findings(&app, &auditor, "").await;
    assert_eq!(stored[0]["requirements"], json!(["A.5.1", "Ley 1581, art. 17"]));
    assert_eq!(stored[0]["report_date"], "2025-03-31");
    assert_eq!(stored[1]["fiscal_year"], 2024);
    // Malformed JSON and non-arrays are rejected whole, writing nothing.
    let res = upload(
        &app,
        &auditor,
        "?mode=partial",
        "application/json",
        r#"[{"source": "other", "report_code": "Y", "finding_code": "Z", "title": "t"}, {"source": "#,
    )
    .await;
    assert_problem(res, 400, "invalid_json").await;
    let res = upload(&app, &auditor, "", "application/json", "{}").await;
    let problem = assert_problem(res, 400, "invalid_json").await;
    assert!(problem["detail"].as_str().unwrap().contains("array"), "{problem}");
    assert_eq!(findings(&app, &auditor, "").await.len(), 2);
}

#[tokio::test]
async fn dry_runs_report_what_would_happen_without_writing() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let record = json_of(csv(&app, &auditor, "?dry_run=true", &rows(4, "D")).await, 201).await;
    assert_eq!(record["dry_run"], true);
    assert_eq!(record["counts"]["created"], 4);
    assert!(findings(&app, &auditor, "").await.is_empty());
    let bad = format!("{}internal_audit,OCI-D,,sin código,,,,,\n", rows(1, "D"));
    let record = json_of(csv(&app, &auditor, "?dry_run=true", &bad).await, 201).await;
    assert_eq!(record["status"], "rejected");
    assert_eq!(record["errors"][0]["field"], "finding_code");
    assert!(findings(&app, &auditor, "").await.is_empty());
}

#[tokio::test]
async fn files_with_missing_columns_or_strictly_unknown_ones_are_rejected_whole() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let res = csv(&app, &auditor, "?strict=true", "fuente;título;Observaciones\nAuditoría interna;Uno;x\n").await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let found: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [("Observaciones", "unknown_column"), ("report_code", "missing_column"), ("finding_code", "missing_column")]
    );
    assert_problem(csv(&app, &auditor, "", "").await, 422, "validation_failed").await;
    assert!(imports(&app, &auditor).await.is_empty());
}

#[tokio::test]
async fn uploads_are_limited_in_size_and_media_type() {
    let app = spawn_app_with(&[("MEJORA_IMPORT_LIMIT", "2k")]).await;
    let auditor = app.token_for(Role::Auditor).await;
    let big = rows(100, "B");
    assert_problem(csv(&app, &auditor, "", &big).await, 413, "payload_too_large").await;
    // Without a Content-Length the limit is enforced while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.as_bytes().chunks(500).map(|c| Ok(c.to_vec())).collect();
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem(res, 413, "payload_too_large").await;
    assert_problem(upload(&app, &auditor, "", "text/plain", "a,b").await, 415, "unsupported_media_type").await;
    assert_problem(upload(&app, &auditor, "", "text/csv; charset=klingon", "a,b").await, 415, "unsupported_media_type")
        .await;
    assert_problem(csv(&app, &auditor, "?mode=everything", "a").await, 400, "invalid_query").await;
    assert!(findings(&app, &auditor, "").await.is_empty());
    assert!(imports(&app, &auditor).await.is_empty());
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_upload() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let send = |body: String, query: &'static str| {
        app.request(Method::POST, &format!("/api/v1/findings/imports{query}"), Some(&auditor))
            .header("Content-Type", "text/csv")
            .header("Idempotency-Key", "carga-2025-03")
            .body(body)
            .send()
    };
    let first = send(rows(3, "K"), "").await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json_of(first, 201).await;
    let again = send(rows(3, "K"), "").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again, 201).await, first);
    assert_problem(send(rows(4, "K"), "").await.unwrap(), 422, "idempotency_key_reused").await;
    assert_problem(send(rows(3, "K"), "?dry_run=true").await.unwrap(), 422, "idempotency_key_reused").await;
    assert_eq!(imports(&app, &auditor).await.len(), 1);
    assert_eq!(findings(&app, &auditor, "").await.len(), 3);
}

#[tokio::test]
async fn import_records_belong_to_their_organization() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let record = json_of(csv(&app, &auditor, "", &rows(2, "O")).await, 201).await;
    let (other_org, _) = app.other_organization().await;
    let stranger = app.user_in(other_org, &[Role::Auditor]).await;
    let path = format!("/api/v1/findings/imports/{}", record["id"].as_str().unwrap());
    assert_problem(app.get(&path, &stranger.token).await, 404, "not_found").await;
    assert!(imports(&app, &stranger.token).await.is_empty());
    // The same file in another organization creates that organization's own findings.
    let theirs = json_of(csv(&app, &stranger.token, "", &rows(2, "O")).await, 201).await;
    assert_eq!(theirs["counts"]["created"], 2);
    let viewer = app.token_for(Role::Viewer).await;
    let shown = json_of(app.get(&path, &viewer).await, 200).await;
    assert_eq!(shown["counts"]["created"], 2);
    assert_problem(csv(&app, &viewer, "", &rows(1, "V")).await, 403, "forbidden").await;
}

// One validation of a finding: the same bad values sent through the API and through an upload
// give the same field codes (a reference with a NUL used to be `too_long` in uploads and
// `invalid_character` through the API).
#[tokio::test]
async fn the_same_bad_finding_gets_the_same_codes_from_the_api_and_from_an_upload() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let finding = json!({"source": "internal_audit", "report_code": "OCI-1", "finding_code": "B-1",
        "title": "t".repeat(501), "auditor": "Ana\u{0}", "fiscal_year": 1800, "requirements": ["A.5\u{0}.1", "r".repeat(101)],
        "cause": "c".repeat(20_001)});
    let codes_of = |problem: &Value| -> Vec<(String, String)> {
        let mut list: Vec<(String, String)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
            .collect();
        list.sort();
        list
    };
    let problem =
        assert_problem(app.post("/api/v1/findings", &auditor, &finding).await, 422, "validation_failed").await;
    let through_api = codes_of(&problem);
    let expected: Vec<(String, String)> = [
        ("auditor", "invalid_character"),
        ("cause", "too_long"),
        ("fiscal_year", "out_of_range"),
        ("requirements", "invalid_character"),
        ("requirements", "too_long"),
        ("title", "too_long"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    assert_eq!(through_api, expected);
    let res = upload(&app, &auditor, "?mode=partial", "application/json", json!([finding]).to_string()).await;
    let record = json_of(res, 201).await;
    assert_eq!(record["counts"]["rejected"], 1, "{record}");
    assert_eq!(codes_of(&record), expected);
}
