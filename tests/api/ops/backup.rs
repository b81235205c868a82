//! Backups that restore: a backup taken while findings are being written restores into a new
//! database and store, where every resource and file equals the original.
use super::{empty_database_url, new_evidence, pdf, sha256, upload};
use crate::helpers::*;
use mejora::entities::*;
use mejora::services::backup;
use mejora::services::storage::Storage;
use object_store::path::Path as StorePath;
use object_store::ObjectStoreExt;
use sea_orm::{Database, EntityTrait};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Every restored row equals the source row; returns (restored, source) counts.
macro_rules! compare {
    ($source:expr, $restored:expr, $($table:ident),+) => {{
        let mut counts = std::collections::BTreeMap::new();
        $(
            let src = $table::Entity::find().all($source).await.unwrap();
            let dst = $table::Entity::find().all($restored).await.unwrap();
            for row in &dst {
                assert!(src.contains(row), "{}: restored row differs from the source: {row:?}", stringify!($table));
            }
            counts.insert(stringify!($table), (dst.len(), src.len()));
        )+
        counts
    }};
}

async fn finding_count(db: &sea_orm::DatabaseConnection) -> usize {
    finding::Entity::find().all(db).await.unwrap().len()
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_resource_and_file() {
    let app = spawn_app().await;
    let (planner, evidence) = new_evidence(&app, "BK").await;
    let mut uploaded = Vec::new();
    for i in 0..3u8 {
        let bytes = pdf(40_000 + usize::from(i) * 1000, i);
        let file = json_of(upload(&app, &planner, &evidence, &format!("acta-{i}.pdf"), bytes.clone()).await, 201).await;
        uploaded.push((file, bytes));
    }
    app.new_finding("BK-0").await;
    let before = finding_count(&app.db).await;

    // Write load: an auditor records findings until the backup is done.
    let auditor = app.token_for(mejora::entities::enums::Role::Auditor).await;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (client, url, stop, written) =
            (app.client.clone(), app.url("/api/v1/findings"), stop.clone(), written.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 2000 {
                i += 1;
                let body = json!({"source": "internal_audit", "report_code": "OCI-BK", "finding_code": format!("W-{i}"),
                                  "title": "Hallazgo bajo carga"});
                let res = client.post(&url).bearer_auth(&auditor).json(&body).send().await.unwrap();
                assert_eq!(res.status(), 201);
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let dir = std::env::temp_dir().join("mejora-tests").join(format!("backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let archive = dir.join("mejora.backup");
    let storage = Storage::from_url(&app.config.storage_url).unwrap();
    let manifest = backup::create(&app.db, &app.config.database_url, &storage, &archive).await.unwrap();
    let during = written.load(Ordering::Relaxed);
    while written.load(Ordering::Relaxed) < during + 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert_eq!(manifest.files.len(), 3);
    assert_eq!(manifest.backend, app.backend);
    assert!(!manifest.chains.is_empty());

    // The archive checks out on its own.
    let (_, report) = backup::verify_archive(&archive).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.files_checked, 3);
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_mejora"))
        .arg("verify-backup")
        .arg(&archive)
        .env("MEJORA_METRICS_BIND", "off")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&cli.stdout).to_string();
    assert!(cli.status.success(), "{out}{}", String::from_utf8_lossy(&cli.stderr));
    assert!(out.contains("3 evidence files"), "{out}");

    // Restore into a new database and a new store, with the command an operator runs.
    let target = empty_database_url().await;
    let target_files = dir.join("restored-files");
    let target_store = format!("file://{}", target_files.display());
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_mejora"))
        .args(["restore", "--input"])
        .arg(&archive)
        .env("DATABASE_URL", &target)
        .env("MEJORA_STORAGE_URL", &target_store)
        .env("MEJORA_METRICS_BIND", "off")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&cli.stdout).to_string();
    assert!(cli.status.success(), "{out}{}", String::from_utf8_lossy(&cli.stderr));
    assert!(out.contains("3 evidence files") && out.contains("audit chains"), "{out}");

    // Every restored resource equals the original; the findings are those of the snapshot.
    let restored = Database::connect(&target).await.unwrap();
    let counts = compare!(
        &app.db,
        &restored,
        organization,
        user,
        service_account,
        objective,
        plan,
        plan_objective,
        category,
        action,
        action_objective,
        action_finding,
        evidence,
        evidence_file,
        finding,
        finding_import,
        audit_event,
        refresh_token
    );
    for (table, (dst, src)) in &counts {
        if !matches!(*table, "finding" | "audit_event") {
            assert_eq!(dst, src, "{table}: every row restored");
        }
    }
    let (restored_findings, _) = counts["finding"];
    assert!(
        restored_findings > before && restored_findings < finding_count(&app.db).await,
        "{counts:?} before {before}"
    );
    // Each file: the restored store holds the same bytes as the original.
    let target_storage = Storage::from_url(&target_store).unwrap();
    for (file, bytes) in &uploaded {
        let row = evidence_file::Entity::find_by_id(file["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
            .one(&restored)
            .await
            .unwrap()
            .expect("file restored");
        let got =
            target_storage.store.get(&StorePath::from(row.storage_key.as_str())).await.unwrap().bytes().await.unwrap();
        assert_eq!(sha256(&got), sha256(bytes));
        assert_eq!(row.sha256, sha256(bytes));
    }
    // The restored audit chain verifies up to the backed-up head.
    let live = backup::check_live(&restored, &target_storage, Some(&manifest.chains)).await.unwrap();
    assert!(live.ok(), "{:?}", live.problems);
    println!(
        "restore comparison: {} tables equal row for row, {} files equal byte for byte, {} audit events verified; {counts:?}",
        counts.len(),
        live.files_checked,
        live.events_verified
    );

    // Restoring over a database that has data is refused.
    let refused =
        backup::restore(&archive, &target, &target_storage).await.expect_err("restore over a populated database");
    assert!(refused.to_string().contains("restore into a new"), "{refused}");
}

#[tokio::test]
async fn a_tampered_archive_fails_verification() {
    let app = spawn_app().await;
    let (planner, evidence) = new_evidence(&app, "TM").await;
    json_of(upload(&app, &planner, &evidence, "acta.pdf", pdf(5000, 7)).await, 201).await;
    let dir = std::env::temp_dir().join("mejora-tests").join(format!("backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let archive = dir.join("mejora.backup");
    let storage = Storage::from_url(&app.config.storage_url).unwrap();
    let manifest = backup::create(&app.db, &app.config.database_url, &storage, &archive).await.unwrap();
    // Rewrite the archive with one file's bytes changed.
    let mut source = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
    let tampered = dir.join("tampered.backup");
    let mut out = zip::ZipWriter::new(std::fs::File::create(&tampered).unwrap());
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if name == format!("files/{}", manifest.files[0].key) {
            bytes[100] ^= 0xff;
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut out, &bytes).unwrap();
    }
    out.finish().unwrap();
    let (_, report) = backup::verify_archive(&tampered).await.unwrap();
    assert!(!report.ok());
    assert!(report.problems[0].contains(&manifest.files[0].key), "{:?}", report.problems);
}
