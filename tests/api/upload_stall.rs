//! Slow uploads must not starve anyone (hardening issue, item 6): an upload is spooled while it
//! arrives, without a database connection, so clients that trickle their bytes leave reads and
//! writes of everyone else answering as usual; a client that stops sending is cut after the idle
//! time and leaves nothing behind.
use crate::helpers::*;
use mejora::entities::enums::Role;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CSV_HEADER: &str = "source,report_code,finding_code,title\n";

/// Opens a chunked findings upload over raw TCP and sends the headers and the CSV header line.
async fn start_upload(app: &TestApp, token: &str) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/findings/imports?mode=partial HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    send_chunk(&mut stream, CSV_HEADER).await;
    stream
}

async fn send_chunk(stream: &mut TcpStream, data: &str) {
    stream.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes()).await.unwrap();
}

/// Reads the reply until the server closes the connection or `limit` passes.
async fn read_reply(stream: &mut TcpStream, limit: Duration) -> String {
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                reply.extend_from_slice(&buf[..n]);
                // A complete chunked or sized reply is enough; the connection may stay open.
                let text = String::from_utf8_lossy(&reply);
                if text.contains("\r\n\r\n") && (text.ends_with("0\r\n\r\n") || text.trim_end().ends_with('}')) {
                    break;
                }
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&reply).into_owned()
}

/// Time taken by `f`, failing the test (instead of hanging) after 15 s.
async fn timed<F: std::future::Future>(f: F) -> (Duration, F::Output) {
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(15), f).await.expect("no answer within 15 s");
    (started.elapsed(), out)
}

#[tokio::test]
async fn twelve_trickling_uploads_leave_reads_and_writes_of_others_answering() {
    let app = spawn_app().await;
    let uploader = app.token_for(Role::Auditor).await;
    let reader = app.token_for(Role::Viewer).await;
    let writer = app.token_for(Role::Auditor).await;
    // More slow clients than the pool has connections (tests use 4 on PostgreSQL, SQLite 1).
    let mut uploads = Vec::new();
    for _ in 0..12 {
        uploads.push(start_upload(&app, &uploader).await);
    }
    for (i, stream) in uploads.iter_mut().enumerate() {
        send_chunk(stream, &format!("internal_audit,OCI-T,T-{i:02},")).await;
    }
    // The uploads are in the server's hands (their headers and first bytes were written), each
    // waiting for the rest of its row; a moment lets the server start every one of them.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (read_took, res) = timed(app.get("/api/v1/me", &reader)).await;
    eprintln!("[{}] GET /me during 12 trickling uploads: {read_took:?}", app.backend);
    assert_eq!(res.status(), 200);
    let body = json!({"source": "comptroller", "report_code": "CGR-1", "finding_code": "W-1", "title": "Escritura"});
    let (write_took, res) = timed(app.post("/api/v1/findings", &writer, &body)).await;
    eprintln!("[{}] POST /findings during 12 trickling uploads: {write_took:?}", app.backend);
    assert_eq!(res.status(), 201);
    assert!(read_took < Duration::from_secs(2), "a read waited {read_took:?}");
    assert!(write_took < Duration::from_secs(2), "a write waited {write_took:?}");

    // The trickling uploads still complete, each with its row.
    for stream in &mut uploads {
        send_chunk(stream, "Título lento\n").await;
        stream.write_all(b"0\r\n\r\n").await.unwrap();
    }
    for stream in &mut uploads {
        let reply = read_reply(stream, Duration::from_secs(15)).await;
        assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
        assert!(reply.contains("\"created\":1"), "{reply}");
    }
    let page = json_of(app.get("/api/v1/findings?limit=100", &reader).await, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 13);
}

#[tokio::test]
async fn a_stalled_upload_is_cut_after_the_idle_time_and_writes_nothing() {
    let app = spawn_app_with(&[("MEJORA_UPLOAD_IDLE_TIMEOUT", "2")]).await;
    let uploader = app.token_for(Role::Auditor).await;
    let started = Instant::now();
    let mut stream = start_upload(&app, &uploader).await;
    send_chunk(&mut stream, "internal_audit,OCI-S,S-1,Fila completa\ninternal_audit,OCI-S,S-2,").await;
    // Nothing more is sent: the server gives up after two idle seconds and says why.
    let reply = read_reply(&mut stream, Duration::from_secs(15)).await;
    let waited = started.elapsed();
    eprintln!("[{}] stalled upload answered after {waited:?}", app.backend);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("\"code\":\"upload_stalled\""), "{reply}");
    assert!(waited >= Duration::from_millis(1900) && waited < Duration::from_secs(10), "{waited:?}");

    let viewer = app.token_for(Role::Viewer).await;
    let findings = json_of(app.get("/api/v1/findings", &viewer).await, 200).await;
    assert_eq!(findings["items"], json!([]));
    let imports = json_of(app.get("/api/v1/findings/imports", &viewer).await, 200).await;
    assert_eq!(imports["items"], json!([]));
}

#[tokio::test]
async fn a_stalled_plan_matrix_upload_is_cut_too() {
    let app = spawn_app_with(&[("MEJORA_UPLOAD_IDLE_TIMEOUT", "2")]).await;
    let planner = app.token_for(Role::Planner).await;
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/plans/imports?code=LENTO&title=Plan HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {planner}\r\n\
         Content-Type: text/csv\r\nContent-Length: 5000\r\n\r\nCATEGORÍAS;PUNTAJE\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let reply = read_reply(&mut stream, Duration::from_secs(15)).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("upload_stalled"), "{reply}");
}
