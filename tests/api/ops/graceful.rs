//! Graceful life: SIGTERM lets an in-flight import finish (or, past the shutdown timeout,
//! drops it with nothing recorded), and start-up logs one line per dependency without secrets.
use crate::helpers::*;
use futures_util::StreamExt;
use mejora::entities::{finding, finding_import};
use sea_orm::{Database, EntityTrait, PaginatorTrait};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Served {
    pub child: Child,
    pub base: String,
    pub database_url: String,
    pub log: std::path::PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the `mejora` binary on a fresh database and waits until it answers.
pub async fn start(extra: &[(&str, &str)]) -> Served {
    let (database_url, _) = fresh_database_url().await;
    let port = free_port();
    let dir = std::env::temp_dir().join("mejora-tests").join(format!("proc-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("server.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mejora"));
    command
        .arg("serve")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("DATABASE_URL", &database_url)
        .env("MEJORA_BIND", format!("127.0.0.1:{port}"))
        .env("MEJORA_JWT_SECRET", JWT_SECRET)
        .env("MEJORA_BOOTSTRAP_EMAIL", ADMIN_EMAIL)
        .env("MEJORA_BOOTSTRAP_PASSWORD", PASSWORD)
        .env("MEJORA_STORAGE_URL", format!("file://{}", dir.join("files").display()))
        .env("MEJORA_METRICS_BIND", "off")
        .env("MEJORA_WORKERS", "1")
        .env("MEJORA_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in extra {
        command.env(k, v);
    }
    let child = command.spawn().expect("start mejora");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if client.get(format!("{base}/health/live")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "mejora did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Served { child, base, database_url, log }
}

impl Served {
    pub async fn admin_token(&self) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        json_of(res, 200).await["access_token"].as_str().unwrap().to_string()
    }

    fn terminate(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns how long it took.
    async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                panic!("mejora did not stop within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn auditor(served: &Served) -> String {
    super::attach(&served.base, &served.database_url).await.token_for(mejora::entities::enums::Role::Auditor).await
}

const HEADER: &str =
    "source,report_code,finding_code,title,severity,classification,fiscal_year,report_date,requirements\n";

fn rows(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| format!("internal_audit,OCI-G,G-{i:05},Hallazgo {i},high,observation,2024,2025-03-31,A.5.15\n"))
        .collect()
}

/// Sends an import whose body arrives in pieces, as `pieces` yields them.
fn slow_import(
    base: &str, token: &str, pieces: tokio::sync::mpsc::Receiver<String>,
) -> tokio::task::JoinHandle<Result<reqwest::Response, reqwest::Error>> {
    let stream = tokio_stream_from(pieces).map(|s| Ok::<_, std::io::Error>(s.into_bytes()));
    let request = reqwest::Client::new()
        .post(format!("{base}/api/v1/findings/imports"))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(reqwest::Body::wrap_stream(stream));
    tokio::spawn(request.send())
}

fn tokio_stream_from(mut rx: tokio::sync::mpsc::Receiver<String>) -> impl futures_util::Stream<Item = String> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn counts(database_url: &str) -> (u64, u64) {
    let db = Database::connect(database_url).await.unwrap();
    let findings = finding::Entity::find().count(&db).await.unwrap();
    let imports = finding_import::Entity::find().count(&db).await.unwrap();
    db.close().await.unwrap();
    (findings, imports)
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_import_finish_then_stops() {
    let mut served = start(&[]).await;
    let token = auditor(&served).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let import = slow_import(&served.base, &token, rx);
    tx.send(format!("{HEADER}{}", rows(0, 200))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    served.terminate();
    // The request keeps arriving after the signal, and is still served.
    for piece in 1..5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if tx.send(rows(piece * 200, (piece + 1) * 200)).await.is_err() {
            let answer = import.await.unwrap();
            panic!(
                "the upload was cut after SIGTERM: {answer:?}; log: {}",
                std::fs::read_to_string(&served.log).unwrap_or_default()
            );
        }
    }
    drop(tx);
    let res = import.await.unwrap().expect("the in-flight import is answered");
    let body = json_of(res, 201).await;
    assert_eq!(body["counts"]["created"], 1000, "{body}");
    let status = served.exited(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
    // Stopped: nothing listens any more.
    assert!(reqwest::Client::new().get(format!("{}/health/live", served.base)).send().await.is_err());
    assert_eq!(counts(&served.database_url).await, (1000, 1));
}

#[tokio::test]
async fn an_import_still_running_past_the_shutdown_timeout_leaves_nothing_recorded() {
    let mut served = start(&[("MEJORA_SHUTDOWN_TIMEOUT", "1")]).await;
    let token = auditor(&served).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let import = slow_import(&served.base, &token, rx);
    tx.send(format!("{HEADER}{}", rows(0, 200))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    served.terminate();
    // The client stalls: the drain gives up after MEJORA_SHUTDOWN_TIMEOUT.
    let status = served.exited(Duration::from_secs(15)).await;
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() < Duration::from_secs(10), "{:?}", signalled.elapsed());
    drop(tx);
    let answered = import.await.unwrap();
    assert!(answered.is_err() || answered.is_ok_and(|r| r.status() != 201));
    assert_eq!(counts(&served.database_url).await, (0, 0), "nothing half-recorded");
}

#[tokio::test]
async fn start_up_logs_one_line_per_dependency_without_secrets() {
    let served = start(&[("MEJORA_METRICS_BIND", "127.0.0.1:0")]).await;
    drop(served.admin_token().await);
    let log = std::fs::read_to_string(&served.log).unwrap();
    for dependency in ["database", "object_store", "metrics", "rate_limits", "traces"] {
        let lines = log.lines().filter(|l| l.contains(&format!("\"dependency\":\"{dependency}\""))).count();
        assert_eq!(lines, 1, "{dependency}: {log}");
    }
    assert!(!log.contains(JWT_SECRET) && !log.contains(PASSWORD), "{log}");
    if let Some((_, password)) = pg_url()
        .and_then(|u| u.split_once("://").and_then(|(_, r)| r.split_once('@')).map(|(c, _)| c.to_string()))
        .and_then(|c| c.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())))
    {
        assert!(!log.contains(&format!(":{password}@")), "{log}");
    }
}
