//! The `mejora` binary as an operator runs it: first start, lost passwords, organization ids,
//! migrations and how errors are printed. Each test works in its own empty folder with its own
//! database (SQLite there, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, Database};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_mejora");

struct Folder {
    dir: PathBuf,
    database_url: String,
}

/// An empty working folder and a database URL nobody used yet.
async fn folder() -> Folder {
    let dir = std::env::temp_dir().join("mejora-cli-tests").join(Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(server) => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let name = format!("mejora_cli_{now}_{}", Uuid::new_v4().simple());
            let admin = Database::connect(with_database(&server, "postgres")).await.unwrap();
            // Databases of runs more than an hour old go (left behind for post-mortems until then).
            let old = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    "SELECT datname FROM pg_database WHERE datname LIKE 'mejora\\_cli\\_%'",
                ))
                .await
                .unwrap_or_default();
            for row in old {
                let Ok(db) = row.try_get::<String>("", "datname") else { continue };
                let born = db.split('_').nth(2).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
                if born + 3600 < now {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{db}\"")).await;
                }
            }
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await.ok();
            with_database(&server, &name)
        }
        None => format!("sqlite://{}?mode=rwc", dir.join("mejora.db").display()),
    };
    Folder { dir, database_url }
}

fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    format!("{}/{}{}", &base[..host_end], name, query)
}

/// The binary with an empty environment (no MEJORA_* leaking in from the caller).
fn mejora(dir: &Path, database_url: Option<&str>, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.env("MEJORA_WORKERS", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out, stdout, stderr)
}

/// Starts the service and reads its banner up to the "listening" line.
fn start(mut cmd: Command) -> (Child, Vec<String>) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.contains("sign in:");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

fn stop(mut child: Child) {
    child.kill().ok();
    child.wait().ok();
}

fn generated_password(lines: &[String]) -> Option<String> {
    lines.iter().find_map(|l| l.split("generated password (shown only now): ").nth(1).map(|p| p.trim().to_string()))
}

#[tokio::test]
async fn a_first_start_that_cannot_listen_creates_nothing_and_the_next_start_prints_the_password() {
    let f = folder().await;
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let (out, stdout, stderr) = run(&mut mejora(&f.dir, Some(&f.database_url), &[("MEJORA_BIND", &bind)]));
    assert!(!out.status.success());
    assert!(!stdout.contains("generated password"), "{stdout}");
    // The error is printed once, without terminal colours (stderr is not a terminal here).
    assert_eq!(stderr.matches("cannot listen on MEJORA_BIND").count(), 1, "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    drop(taken);

    let (child, lines) = start(mejora(&f.dir, Some(&f.database_url), &[("MEJORA_BIND", "127.0.0.1:0")]));
    stop(child);
    let text = lines.join("\n");
    assert!(text.contains("First start: created organization"), "{text}");
    assert!(generated_password(&lines).is_some(), "{text}");
    // The sign-in line names the administrator it just printed.
    assert!(text.contains(r#"-d '{"email":"admin@mejora.local","password":"…"}'"#), "{text}");
}

#[tokio::test]
async fn an_operator_who_lost_the_password_resets_it_and_finds_organization_ids() {
    let f = folder().await;
    let (child, lines) = start(mejora(&f.dir, Some(&f.database_url), &[("MEJORA_BIND", "127.0.0.1:0")]));
    stop(child);
    let first = generated_password(&lines).unwrap();

    let (out, stdout, stderr) = run(mejora(&f.dir, Some(&f.database_url), &[]).args([
        "user",
        "reset-password",
        "--email",
        "Admin@Mejora.local",
    ]));
    assert!(out.status.success(), "{stderr}");
    let second = stdout.split("generated password (shown only now): ").nth(1).unwrap().trim().to_string();
    assert_ne!(first, second);
    assert_eq!(stdout.matches(&second).count(), 1, "printed once: {stdout}");

    // The new password signs in; the old one no longer does.
    let (child, lines) = start(mejora(&f.dir, Some(&f.database_url), &[("MEJORA_BIND", "127.0.0.1:0")]));
    let port: u16 = lines
        .iter()
        .find_map(|l| l.strip_prefix("mejora listening on port "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let client = reqwest::Client::new();
    let login = |password: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
                .json(&serde_json::json!({"email": "admin@mejora.local", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(login(second).await, 200);
    assert_eq!(login(first).await, 401);
    stop(child);

    let (out, _, stderr) =
        run(mejora(&f.dir, Some(&f.database_url), &[]).args(["user", "reset-password", "--email", "nadie@x.co"]));
    assert!(!out.status.success());
    assert!(stderr.contains("no user signs in as nadie@x.co"), "{stderr}");

    let (out, stdout, _) = run(mejora(&f.dir, Some(&f.database_url), &[]).args(["organization", "list"]));
    assert!(out.status.success());
    let row: Vec<&str> = stdout.lines().next().unwrap().split('\t').collect();
    assert_eq!(row[1..], ["000000000-0", "Entidad de demostración"]);
    let org: Uuid = row[0].parse().unwrap();

    // That id is what `user create --organization` takes.
    let (out, stdout, stderr) = run(mejora(&f.dir, Some(&f.database_url), &[]).args([
        "user",
        "create",
        "--email",
        "planeacion@entidad.gov.co",
        "--name",
        "Planeación",
        "--roles",
        "planner",
        "--organization",
        &org.to_string(),
    ]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("in organization {org}")), "{stdout}");
}

#[tokio::test]
async fn migrate_status_in_an_empty_folder_creates_no_database() {
    let f = folder().await;
    let (out, stdout, stderr) = run(mejora(&f.dir, None, &[]).args(["migrate", "status"]));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.lines().all(|l| l.starts_with("Pending\t")), "{stdout}");
    assert!(stdout.lines().count() >= 6, "{stdout}");
    assert!(!f.dir.join("mejora.db").exists());
    assert!(std::fs::read_dir(&f.dir).unwrap().next().is_none(), "the folder stays empty");
}

#[tokio::test]
async fn migrate_down_reports_how_many_migrations_it_really_rolled_back() {
    let f = folder().await;
    let (out, _, stderr) = run(mejora(&f.dir, Some(&f.database_url), &[]).args(["migrate", "up"]));
    assert!(out.status.success(), "{stderr}");
    let (_, status, _) = run(mejora(&f.dir, Some(&f.database_url), &[]).args(["migrate", "status"]));
    let applied = status.lines().filter(|l| l.starts_with("Applied")).count();
    assert!(applied >= 6, "{status}");
    let (out, stdout, stderr) =
        run(mejora(&f.dir, Some(&f.database_url), &[]).args(["migrate", "down", "--steps", "99"]));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), format!("rolled back {applied} migration(s)"));
    let (_, stdout, _) = run(mejora(&f.dir, Some(&f.database_url), &[]).args(["migrate", "down", "--steps", "2"]));
    assert_eq!(stdout.trim(), "rolled back 0 migration(s)");
}
