//! Backups that restore. `mejora backup` writes one ZIP archive holding a consistent snapshot
//! of the database, every evidence file it references and a manifest (each file's key, size
//! and SHA-256, and the head of each organization's audit chain):
//!
//! - SQLite: `VACUUM INTO` copies the live database in one read transaction (an online backup;
//!   writers wait at most a moment), and the manifest is read from that copy.
//! - PostgreSQL: a read-only repeatable-read transaction exports its snapshot, `pg_dump
//!   --snapshot` dumps exactly that snapshot (custom format) and the manifest is read in the
//!   same transaction, so the files listed are exactly those the dump references.
//!
//! `verify_archive` checks an archive without touching any database; `restore` loads it into
//! an empty database and store and then `check_live` proves every referenced file is in the
//! store with its recorded hash and every audit chain verifies.
use crate::entities::{audit_chain_head, evidence_file};
use crate::services::audit::{self, ChainHead};
use crate::services::storage::Storage;
use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path as StorePath;
use object_store::ObjectStoreExt;
use sea_orm::{
    AccessMode, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, IsolationLevel, QueryOrder,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
use uuid::Uuid;

/// Name of the manifest inside the archive.
pub const MANIFEST: &str = "manifest.json";
const SQLITE_ENTRY: &str = "database.sqlite";
const POSTGRES_ENTRY: &str = "database.pgdump";
const FILES_DIR: &str = "files/";
/// Version of the archive layout.
pub const FORMAT: u32 = 1;

/// What an archive holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Archive layout version ([`FORMAT`]).
    pub format: u32,
    /// When the snapshot was taken.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The archive entry holding the database.
    pub database: String,
    /// Every evidence file the snapshot references.
    pub files: Vec<FileEntry>,
    /// The head of each organization's audit chain in the snapshot.
    pub chains: Vec<ChainEntry>,
}

/// One evidence file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Store key (the archive entry is `files/<key>`).
    pub key: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The head of an organization's audit chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// Organization.
    pub organization_id: Uuid,
    /// Newest event's sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// What a check found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    /// Evidence files whose bytes were read and hashed.
    pub files_checked: usize,
    /// Their bytes.
    pub bytes_checked: u64,
    /// Organizations whose audit chain was verified.
    pub chains_verified: usize,
    /// Audit events recomputed.
    pub events_verified: u64,
    /// Everything wrong, one line each (empty when the backup or store is sound).
    pub problems: Vec<String>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn backend_of(url: &str) -> anyhow::Result<DbBackend> {
    if url.starts_with("sqlite:") {
        Ok(DbBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DbBackend::Postgres)
    } else {
        bail!("DATABASE_URL must be sqlite://… or postgres://…")
    }
}

/// The file an SQLite URL names.
fn sqlite_file(url: &str) -> anyhow::Result<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let file = rest.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" {
        bail!("an in-memory SQLite database cannot be backed up or restored");
    }
    Ok(std::path::PathBuf::from(file))
}

/// A libpq connection URI without its password, and the password (passed as `PGPASSWORD`,
/// so it never shows in the process list).
fn libpq(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("DATABASE_URL is not a URL")?;
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    });
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), password))
}

/// Runs a PostgreSQL client tool (`pg_dump`, `pg_restore`) and fails with its error output.
async fn pg_tool(program: &'static str, args: Vec<String>, password: Option<String>) -> anyhow::Result<()> {
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(program);
        command.args(&args);
        if let Some(p) = password {
            command.env("PGPASSWORD", p);
        }
        command.output()
    })
    .await?
    .with_context(|| format!("cannot run {program} (install the PostgreSQL client tools)"))?;
    if !output.status.success() {
        bail!("{program} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

async fn manifest_rows(conn: &impl ConnectionTrait) -> anyhow::Result<(Vec<FileEntry>, Vec<ChainEntry>)> {
    let files = evidence_file::Entity::find()
        .order_by_asc(evidence_file::Column::StorageKey)
        .all(conn)
        .await?
        .into_iter()
        .map(|f| FileEntry { key: f.storage_key, size: f.size, sha256: f.sha256 })
        .collect();
    let chains = audit_chain_head::Entity::find()
        .order_by_asc(audit_chain_head::Column::OrganizationId)
        .all(conn)
        .await?
        .into_iter()
        .filter(|h| h.seq > 0)
        .map(|h| ChainEntry { organization_id: h.organization_id, seq: h.seq, hash: h.hash })
        .collect();
    Ok((files, chains))
}

/// Takes the database snapshot into `dir`; returns the entry name, its path and the manifest rows.
async fn snapshot(
    db: &DatabaseConnection, database_url: &str, dir: &Path,
) -> anyhow::Result<(&'static str, std::path::PathBuf, Vec<FileEntry>, Vec<ChainEntry>)> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let copy = dir.join(SQLITE_ENTRY);
            let quoted = copy.to_str().ok_or_else(|| anyhow!("the backup path is not UTF-8"))?.replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{quoted}'")).await.context("VACUUM INTO")?;
            let snap = Database::connect(format!("sqlite://{}?mode=ro", copy.display())).await?;
            let (files, chains) = manifest_rows(&snap).await?;
            snap.close().await?;
            Ok((SQLITE_ENTRY, copy, files, chains))
        }
        DbBackend::Postgres => {
            let txn = db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?;
            let row = txn
                .query_one_raw(sea_orm::Statement::from_string(DbBackend::Postgres, "SELECT pg_export_snapshot() AS s"))
                .await?
                .ok_or_else(|| anyhow!("pg_export_snapshot returned nothing"))?;
            let snapshot_id: String = row.try_get("", "s")?;
            let dump = dir.join(POSTGRES_ENTRY);
            let (uri, password) = libpq(database_url)?;
            let args = vec![
                "--format=custom".into(),
                "--no-owner".into(),
                "--no-privileges".into(),
                format!("--snapshot={snapshot_id}"),
                format!("--file={}", dump.display()),
                format!("--dbname={uri}"),
            ];
            pg_tool("pg_dump", args, password).await?;
            let (files, chains) = manifest_rows(&txn).await?;
            txn.commit().await?;
            Ok((POSTGRES_ENTRY, dump, files, chains))
        }
        other => bail!("backups of {other:?} are not supported"),
    }
}

fn options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true)
}

/// Writes a backup of `db` and the evidence files it references to `output` (replaced only
/// once complete). Fails when a referenced file is missing or its bytes do not match.
pub async fn create(
    db: &DatabaseConnection, database_url: &str, storage: &Storage, output: &Path,
) -> anyhow::Result<Manifest> {
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let work = tempfile::tempdir_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    let created_at = chrono::Utc::now();
    let (entry, database_file, files, chains) = snapshot(db, database_url, work.path()).await?;
    let partial = work.path().join("backup.zip");
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(&partial)?));
    zip.start_file(entry, options())?;
    std::io::copy(&mut std::fs::File::open(&database_file)?, &mut zip)?;
    std::fs::remove_file(&database_file)?;
    for file in &files {
        zip.start_file(format!("{FILES_DIR}{}", file.key), options())?;
        let got =
            storage.store.get(&StorePath::from(file.key.as_str())).await.with_context(|| {
                format!("evidence file {} is referenced but cannot be read from the store", file.key)
            })?;
        let mut stream = got.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("reading evidence file {}", file.key))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            zip.write_all(&chunk)?;
        }
        let sha = hex::encode(hasher.finalize());
        if sha != file.sha256 || i64::try_from(size).ok() != Some(file.size) {
            bail!("evidence file {} in the store does not match its record (sha256 {sha}, {size} bytes)", file.key);
        }
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at,
        backend: if entry == SQLITE_ENTRY { "sqlite" } else { "postgres" }.into(),
        database: entry.into(),
        files,
        chains,
    };
    zip.start_file(MANIFEST, options())?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    zip.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&partial, output).with_context(|| format!("cannot write {}", output.display()))?;
    Ok(manifest)
}

type Archive = zip::ZipArchive<std::fs::File>;

fn open(path: &Path) -> anyhow::Result<(Archive, Manifest)> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut archive = zip::ZipArchive::new(file).context("not a mejora backup (not a ZIP archive)")?;
    let manifest: Manifest = {
        let entry = archive.by_name(MANIFEST).context("not a mejora backup (no manifest.json)")?;
        serde_json::from_reader(entry).context("manifest.json is not valid")?
    };
    if manifest.format != FORMAT {
        bail!("backup format {} is not supported (this version reads {FORMAT})", manifest.format);
    }
    Ok((archive, manifest))
}

/// Hashes an archive entry; `None` when it is absent.
fn hash_entry(archive: &mut Archive, name: &str) -> anyhow::Result<Option<(String, u64)>> {
    let mut entry = match archive.by_name(name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = entry.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Some((hex::encode(hasher.finalize()), size)))
}

fn extract(archive: &mut Archive, name: &str, to: &Path) -> anyhow::Result<()> {
    let mut entry = archive.by_name(name).with_context(|| format!("the backup has no {name}"))?;
    let mut out = std::fs::File::create(to).with_context(|| format!("cannot write {}", to.display()))?;
    std::io::copy(&mut entry, &mut out)?;
    out.sync_all()?;
    Ok(())
}

/// Checks that every referenced file is in the store with its recorded hash and that every
/// organization's audit chain verifies, up to the heads in `expected` when given.
pub async fn check_live(
    db: &DatabaseConnection, storage: &Storage, expected: Option<&[ChainEntry]>,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let (files, chains) = manifest_rows(db).await?;
    for file in files {
        let got = match storage.store.get(&StorePath::from(file.key.as_str())).await {
            Ok(g) => g,
            Err(e) => {
                report.problems.push(format!("evidence file {} is missing from the store: {e}", file.key));
                continue;
            }
        };
        let mut stream = got.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        let sha = hex::encode(hasher.finalize());
        if sha != file.sha256 {
            report.problems.push(format!("evidence file {} has sha256 {sha}, recorded {}", file.key, file.sha256));
        }
        report.files_checked += 1;
        report.bytes_checked += size;
    }
    if let Some(expected) = expected {
        for e in expected {
            if !chains.iter().any(|c| c == e) {
                report.problems.push(format!(
                    "audit chain of {} does not end at the backed-up head {}:{}",
                    e.organization_id, e.seq, e.hash
                ));
            }
        }
    }
    for chain in chains {
        let anchor = ChainHead { seq: chain.seq, hash: chain.hash.clone() };
        let verification = audit::verify(db, chain.organization_id, Some(anchor))
            .await
            .map_err(|e| anyhow!("verifying the audit chain of {}: {:?}", chain.organization_id, e.code))?;
        report.events_verified += verification.checked;
        report.chains_verified += 1;
        if !verification.intact {
            report
                .problems
                .push(format!("audit chain of {} is broken: {:?}", chain.organization_id, verification.first_broken));
        }
    }
    Ok(report)
}

/// Checks an archive on its own: every file's bytes against the manifest and, for an SQLite
/// backup, the database inside (every referenced file listed, every audit chain intact). A
/// PostgreSQL dump is checked by restoring it (`restore`).
pub async fn verify_archive(path: &Path) -> anyhow::Result<(Manifest, Report)> {
    let (mut archive, manifest) = open(path)?;
    let mut report = Report::default();
    for file in &manifest.files {
        match hash_entry(&mut archive, &format!("{FILES_DIR}{}", file.key))? {
            None => report.problems.push(format!("evidence file {} is not in the backup", file.key)),
            Some((sha, size)) => {
                if sha != file.sha256 {
                    report
                        .problems
                        .push(format!("evidence file {} has sha256 {sha}, recorded {}", file.key, file.sha256));
                }
                report.files_checked += 1;
                report.bytes_checked += size;
            }
        }
    }
    if manifest.backend == "sqlite" {
        let work = tempfile::tempdir()?;
        let copy = work.path().join(SQLITE_ENTRY);
        extract(&mut archive, &manifest.database, &copy)?;
        let db = Database::connect(format!("sqlite://{}?mode=ro", copy.display())).await?;
        let (files, chains) = manifest_rows(&db).await?;
        for file in &files {
            if !manifest.files.contains(file) {
                report
                    .problems
                    .push(format!("evidence file {} is referenced by the database but not listed", file.key));
            }
        }
        if chains != manifest.chains {
            report.problems.push("the audit chain heads in the database differ from the manifest".into());
        }
        for chain in chains {
            let anchor = ChainHead { seq: chain.seq, hash: chain.hash.clone() };
            let verification = audit::verify(&db, chain.organization_id, Some(anchor))
                .await
                .map_err(|e| anyhow!("verifying the audit chain of {}: {:?}", chain.organization_id, e.code))?;
            report.events_verified += verification.checked;
            report.chains_verified += 1;
            if !verification.intact {
                report.problems.push(format!(
                    "audit chain of {} is broken: {:?}",
                    chain.organization_id, verification.first_broken
                ));
            }
        }
        db.close().await?;
    } else if hash_entry(&mut archive, &manifest.database)?.is_none() {
        report.problems.push(format!("the backup has no {}", manifest.database));
    }
    Ok((manifest, report))
}

/// Restores the archive at `path` into the (new, empty) database at `database_url` and the
/// store, then checks the result with [`check_live`].
pub async fn restore(path: &Path, database_url: &str, storage: &Storage) -> anyhow::Result<(Manifest, Report)> {
    let (mut archive, manifest) = open(path)?;
    let backend = backend_of(database_url)?;
    match (backend, manifest.backend.as_str()) {
        (DbBackend::Sqlite, "sqlite") => {
            let file = sqlite_file(database_url)?;
            if std::fs::metadata(&file).is_ok_and(|m| m.len() > 0) {
                bail!("{} already exists: restore into a new database", file.display());
            }
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            extract(&mut archive, &manifest.database, &file)?;
        }
        (DbBackend::Postgres, "postgres") => {
            let db = Database::connect(database_url).await.context("cannot open the target database")?;
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT count(*)::bigint AS n FROM information_schema.tables WHERE table_schema = 'public'",
                ))
                .await?
                .ok_or_else(|| anyhow!("cannot list the target's tables"))?;
            let tables: i64 = row.try_get("", "n")?;
            db.close().await?;
            if tables > 0 {
                bail!("the target database has {tables} tables: restore into a new, empty database");
            }
            let work = tempfile::tempdir()?;
            let dump = work.path().join(POSTGRES_ENTRY);
            extract(&mut archive, &manifest.database, &dump)?;
            let (uri, password) = libpq(database_url)?;
            let args = vec![
                "--no-owner".into(),
                "--no-privileges".into(),
                "--exit-on-error".into(),
                "--single-transaction".into(),
                format!("--dbname={uri}"),
                dump.display().to_string(),
            ];
            pg_tool("pg_restore", args, password).await?;
        }
        (_, other) => bail!("a {other} backup cannot be restored into this DATABASE_URL"),
    }
    for file in &manifest.files {
        let mut entry = archive
            .by_name(&format!("{FILES_DIR}{}", file.key))
            .with_context(|| format!("evidence file {} is not in the backup", file.key))?;
        let mut writer = object_store::buffered::BufWriter::with_capacity(
            storage.store.clone(),
            StorePath::from(file.key.as_str()),
            5 * 1024 * 1024,
        );
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if let Err(e) = writer.put(Bytes::copy_from_slice(&buf[..n])).await {
                let _ = writer.abort().await;
                return Err(anyhow!("writing evidence file {} to the store: {e}", file.key));
            }
        }
        tokio::io::AsyncWriteExt::shutdown(&mut writer)
            .await
            .with_context(|| format!("writing evidence file {} to the store", file.key))?;
    }
    let db = Database::connect(database_url).await?;
    let report = check_live(&db, storage, Some(&manifest.chains)).await?;
    db.close().await?;
    Ok((manifest, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_uri() {
        let (uri, password) = libpq("postgres://app:s%40cret@db:5432/mejora?sslmode=require").unwrap();
        assert_eq!(uri, "postgres://app@db:5432/mejora?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@cret"));
    }
}
