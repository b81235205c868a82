//! Asynchronous bulk uploads (`Prefer: respond-async`). The route spools the body, copies it
//! to the object store ([`receive`]) and records a `queued` import ([`enqueue`]) before it
//! answers 202, so the client may disconnect. A runner ([`work`], spawned by start-up) claims
//! queued imports one at a time ([`claim`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! replicas never take the same one), marks them `running` with a lease, and runs the same
//! import as the synchronous upload inside one transaction that first locks the record, so a
//! live runner keeps it however long it takes. A runner that dies leaves a `running` import
//! whose lease expires; the next claim takes it again. The import ends `succeeded` or `failed`
//! with the counts and row errors the synchronous reply would have had, and emits
//! `import.completed` or `import.failed` in the transaction that finishes it.
use super::{run_measured, Encoding, ImportRequest};
use crate::dto::finding_imports::ImportSummary;
use crate::entities::enums::{
    ActorKind, AuditOperation, AuditResource, ConflictPolicy, EventType, ImportFormat, ImportMode, ImportStatus, Role,
};
use crate::entities::finding_import;
use crate::error::ApiError;
use crate::services::audit::{self, Actor, Entry};
use crate::services::events::{self, NewEvent};
use crate::services::spool::{self, Spooled};
use crate::services::spreadsheet::Limits as SheetLimits;
use crate::services::storage::Storage;
use bytes::Bytes;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::ObjectStoreExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use uuid::Uuid;

/// A runner gives up on an import claimed this many times (each claim after the first means
/// a runner died or the database failed while running it).
pub const MAX_ATTEMPTS: i32 = 3;

/// What a runner needs to know.
#[derive(Debug, Clone, Copy)]
pub struct RunnerSettings {
    /// Pause between looks for queued imports when there is none.
    pub poll: Duration,
    /// How long a claim holds an import before another runner may take it again.
    pub lease: Duration,
    /// What reading a findings workbook may cost (the operator's `MEJORA_SHEET_*` over the
    /// defaults).
    pub sheet_limits: SheetLimits,
    /// What reading a plan-matrix workbook may cost.
    pub matrix_limits: SheetLimits,
}

/// The uploader of a queued upload, as its record keeps it: the runner acts as them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredActor {
    id: Option<Uuid>,
    kind: ActorKind,
    roles: Vec<Role>,
    request_id: Option<String>,
    client_addr: Option<String>,
}

impl From<&Actor> for StoredActor {
    fn from(actor: &Actor) -> Self {
        StoredActor {
            id: actor.id,
            kind: actor.kind,
            roles: actor.roles.clone(),
            request_id: actor.request_id.clone(),
            client_addr: actor.client_addr.clone(),
        }
    }
}

impl StoredActor {
    /// The actor again.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id,
            kind: self.kind,
            roles: self.roles.clone(),
            request_id: self.request_id.clone(),
            client_addr: self.client_addr.clone(),
        }
    }
}

/// The options and the uploader of a queued upload, as the record keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredOptions {
    format: ImportFormat,
    charset: Option<String>,
    mode: ImportMode,
    dry_run: bool,
    on_conflict: ConflictPolicy,
    sheet: Option<String>,
    strict: bool,
    file_part: bool,
    uploader: StoredActor,
}

impl StoredOptions {
    fn new(req: &ImportRequest, actor: &Actor) -> Self {
        StoredOptions {
            format: req.format,
            charset: req.charset.map(|c| c.name().to_string()),
            mode: req.mode,
            dry_run: req.dry_run,
            on_conflict: req.on_conflict,
            sheet: req.sheet.clone(),
            strict: req.strict,
            file_part: req.file_part,
            uploader: StoredActor::from(actor),
        }
    }

    fn request(&self, sheet_limits: SheetLimits) -> ImportRequest {
        ImportRequest {
            format: self.format,
            charset: self.charset.as_deref().and_then(|c| Encoding::for_label(c.as_bytes())),
            mode: self.mode,
            dry_run: self.dry_run,
            on_conflict: self.on_conflict,
            sheet: self.sheet.clone(),
            sheet_limits,
            strict: self.strict,
            file_part: self.file_part,
        }
    }
}

/// An upload's body copied to the object store.
#[derive(Debug, Clone)]
pub struct Received {
    /// Key in the store.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
}

pub(crate) fn store_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("copying an upload to the object store: {e}"))
}

/// Copies a spooled upload to the object store, under `imports/`.
pub async fn receive(storage: &Storage, body: Spooled) -> Result<Received, ApiError> {
    let key = format!("imports/{}", Uuid::now_v7());
    let mut writer = BufWriter::with_capacity(storage.store.clone(), Path::from(key.as_str()), 8 * 1024 * 1024);
    let mut file = tokio::fs::File::from_std(body.file);
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buf).await.map_err(store_failed)?;
        if n == 0 {
            break;
        }
        writer.put(Bytes::copy_from_slice(&buf[..n])).await.map_err(store_failed)?;
    }
    writer.shutdown().await.map_err(store_failed)?;
    Ok(Received { key, size: body.size, sha256: body.sha256 })
}

/// Copies a small upload held in memory (a plan matrix) to the object store, under `imports/`.
pub async fn receive_bytes(storage: &Storage, body: Vec<u8>) -> Result<Received, ApiError> {
    use sha2::{Digest, Sha256};
    let key = format!("imports/{}", Uuid::now_v7());
    let (size, sha256) = (body.len() as u64, hex::encode(Sha256::digest(&body)));
    storage.store.put(&Path::from(key.as_str()), object_store::PutPayload::from(body)).await.map_err(store_failed)?;
    Ok(Received { key, size, sha256 })
}

/// Deletes a queued upload's body; a failure is logged (the bytes are then orphaned).
pub async fn forget(storage: &Storage, key: &str) {
    if let Err(e) = storage.store.delete(&Path::from(key)).await {
        tracing::warn!(key, error = %e, "could not delete a queued upload from the store; it is orphaned");
    }
}

/// Records a `queued` import of `received` in the caller's transaction.
pub async fn enqueue(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: &ImportRequest, received: &Received,
) -> Result<finding_import::Model, ApiError> {
    let now = crate::services::now();
    let options = serde_json::to_value(StoredOptions::new(req, actor)).map_err(ApiError::internal)?;
    let file = (received.sha256.as_str(), received.size);
    let mut record = super::blank_record(org, actor.id, req, req.format, ImportStatus::Queued, file, now);
    record.options = Some(options);
    record.storage_key = Some(received.key.clone());
    finding_import::Entity::insert(finding_import::ActiveModel::from(record.clone()))
        .exec_without_returning(conn)
        .await?;
    Ok(record)
}

/// `import.completed` or `import.failed` for a finished upload, in the caller's transaction.
pub(super) async fn emit_outcome(conn: &impl ConnectionTrait, record: &finding_import::Model) -> Result<(), ApiError> {
    let event_type = match record.status {
        ImportStatus::Completed | ImportStatus::Succeeded => EventType::ImportCompleted,
        ImportStatus::Rejected | ImportStatus::Failed => EventType::ImportFailed,
        ImportStatus::Queued | ImportStatus::Running => return Ok(()),
    };
    let event = NewEvent::new(
        record.organization_id,
        event_type,
        AuditResource::FindingImport,
        Some(record.id),
        &ImportSummary::from(record),
    )?;
    events::emit(conn, event).await?;
    Ok(())
}

/// Takes the oldest queued import, or a `running` one whose lease expired, and marks it
/// `running` for `lease`. On PostgreSQL the row is read `FOR UPDATE SKIP LOCKED`: replicas
/// claiming at once take different imports, and an import a live runner is processing (its
/// row locked by the import's transaction) is never taken.
pub async fn claim(db: &DatabaseConnection, lease: Duration) -> Result<Option<finding_import::Model>, ApiError> {
    use finding_import::Column;
    let columns = QueueColumns {
        id: Column::Id,
        status: Column::Status,
        lease_until: Column::LeaseUntil,
        attempts: Column::Attempts,
        updated_at: Column::UpdatedAt,
        version: Column::Version,
    };
    claim_next::<finding_import::Entity>(db, lease, columns).await
}

/// The columns of a table of queued uploads (`finding_import`, `plan_import`).
#[derive(Debug, Clone, Copy)]
pub struct QueueColumns<C> {
    /// Time-ordered id.
    pub id: C,
    /// An [`ImportStatus`].
    pub status: C,
    /// End of the claimer's lease.
    pub lease_until: C,
    /// Claims so far.
    pub attempts: C,
    /// Last change.
    pub updated_at: C,
    /// Row version.
    pub version: C,
}

/// Claims the oldest row of a queue that is `queued`, or `running` with its lease expired:
/// it becomes `running` for `lease`, one more attempt. On PostgreSQL the row is read
/// `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different rows.
pub async fn claim_next<E>(
    db: &DatabaseConnection, lease: Duration, columns: QueueColumns<E::Column>,
) -> Result<Option<E::Model>, ApiError>
where
    E: EntityTrait,
{
    let QueueColumns { id, status, lease_until, attempts, updated_at, version } = columns;
    crate::services::transaction(db, async |txn| {
        let now = crate::services::now();
        let claimable = Condition::any()
            .add(status.eq(ImportStatus::Queued))
            .add(Condition::all().add(status.eq(ImportStatus::Running)).add(lease_until.lt(now)));
        let mut select = E::find().filter(claimable).order_by_asc(id).limit(1);
        if txn.get_database_backend() == DbBackend::Postgres {
            select = select
                .lock_with_behavior(sea_orm::sea_query::LockType::Update, sea_orm::sea_query::LockBehavior::SkipLocked);
        }
        let Some(found) = select.one(txn).await? else {
            return Ok(None);
        };
        let key = found.get(id);
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
        E::update_many()
            .col_expr(status, Expr::value(ImportStatus::Running))
            .col_expr(lease_until, Expr::value(until))
            .col_expr(attempts, Expr::col(attempts).add(1))
            .col_expr(updated_at, Expr::value(now))
            .col_expr(version, Expr::col(version).add(1))
            .filter(id.eq(key.clone()))
            .exec(txn)
            .await?;
        Ok(E::find().filter(id.eq(key)).one(txn).await?)
    })
    .await
}

/// Runs a claimed import to its end. A file that cannot be imported (unreadable, missing
/// columns) ends `failed` with its problem; a failure of the service itself (database, store)
/// leaves the import `running`, to be claimed again when its lease expires, up to
/// [`MAX_ATTEMPTS`] claims.
pub async fn process(
    db: &DatabaseConnection, storage: &Storage, settings: &RunnerSettings, job: finding_import::Model,
) -> Result<(), ApiError> {
    let stored: StoredOptions = job
        .options
        .clone()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("queued import {} has no options", job.id)))
        .and_then(|o| serde_json::from_value(o).map_err(ApiError::internal))?;
    let actor = stored.uploader.actor();
    let key = job.storage_key.clone().unwrap_or_default();
    if job.attempts > MAX_ATTEMPTS {
        let error = ApiError::internal(anyhow::anyhow!("gave up after {MAX_ATTEMPTS} attempts"));
        return fail(db, storage, &job, &actor, &error).await;
    }
    let request = stored.request(settings.sheet_limits);
    let stream = storage.store.get(&Path::from(key.as_str())).await.map_err(store_failed)?.into_stream();
    let body = spool::spool(stream, spool::Limits { max_bytes: u64::MAX, idle: Duration::from_secs(120) }).await?;
    let (id, attempts, org) = (job.id, job.attempts, job.organization_id);
    let claimed = job.clone();
    let outcome = crate::services::transaction(db, async |txn| {
        // Still ours? The row this locks stays locked until the import commits.
        let ours = finding_import::Entity::update_many()
            .col_expr(finding_import::Column::UpdatedAt, Expr::value(crate::services::now()))
            .filter(finding_import::Column::Id.eq(id))
            .filter(finding_import::Column::Status.eq(ImportStatus::Running))
            .filter(finding_import::Column::Attempts.eq(attempts))
            .exec(txn)
            .await?;
        if ours.rows_affected == 0 {
            return Ok(None);
        }
        run_measured(txn, &actor, org, &request, body, Some(claimed)).await.map(Some)
    })
    .await;
    match outcome {
        Ok(Some(_)) => {
            forget(storage, &key).await;
            Ok(())
        }
        Ok(None) => {
            tracing::info!(import = %id, "another runner took this import over");
            Ok(())
        }
        // The service failed, not the file: the lease expires and the import is tried again.
        Err(e) if e.code.status().is_server_error() => Err(e),
        Err(e) => fail(db, storage, &job, &actor, &e).await,
    }
}

/// Ends a claimed import `failed` with `error` as its problem, and emits `import.failed`.
async fn fail(
    db: &DatabaseConnection, storage: &Storage, job: &finding_import::Model, actor: &Actor, error: &ApiError,
) -> Result<(), ApiError> {
    let problem = serde_json::to_value(error.problem(false)).map_err(ApiError::internal)?;
    let errors = serde_json::to_value(&error.errors).map_err(ApiError::internal)?;
    let (id, attempts) = (job.id, job.attempts);
    let mut record = job.clone();
    let finished = crate::services::transaction(db, async |txn| {
        let current = finding_import::Entity::find_by_id(id).one(txn).await?;
        if !current.is_some_and(|c| c.status == ImportStatus::Running && c.attempts == attempts) {
            return Ok(false);
        }
        record.status = ImportStatus::Failed;
        record.problem = Some(problem);
        record.errors = errors;
        record.error_count = i64::try_from(error.errors.len()).unwrap_or(i64::MAX);
        record.lease_until = None;
        record.storage_key = None;
        record.updated_at = crate::services::now();
        record.version += 1;
        record.clone().into_active_model().reset_all().update(txn).await?;
        audit::record(
            txn,
            actor,
            Entry::new(record.organization_id, AuditResource::FindingImport, id, AuditOperation::Create)
                .after(&ImportSummary::from(&record)),
        )
        .await?;
        emit_outcome(txn, &record).await?;
        Ok(true)
    })
    .await?;
    if finished {
        if let Some(key) = &job.storage_key {
            forget(storage, key).await;
        }
    }
    Ok(())
}

/// Claims and runs one queued upload of either kind (findings first); false when none waits.
pub async fn work_once(
    db: &DatabaseConnection, storage: &Storage, settings: &RunnerSettings,
) -> Result<bool, ApiError> {
    if let Some(job) = claim(db, settings.lease).await? {
        let id = job.id;
        if let Err(e) = process(db, storage, settings, job).await {
            tracing::warn!(import = %id, error = %e, "an asynchronous upload failed; it is retried after its lease");
        }
        return Ok(true);
    }
    let plans = crate::services::plan_matrix::jobs::claim(db, settings.lease).await?;
    if let Some(job) = plans {
        let id = job.id;
        if let Err(e) = crate::services::plan_matrix::jobs::process(db, storage, settings, job).await {
            tracing::warn!(import = %id, error = %e, "an asynchronous plan upload failed; it is retried after its lease");
        }
        return Ok(true);
    }
    Ok(false)
}

/// Claims and runs queued uploads until `stop` turns true; when none waits it pauses
/// `settings.poll`. An upload in progress is finished before it stops (start-up bounds the
/// wait by `MEJORA_SHUTDOWN_TIMEOUT`; past it the upload's transaction rolls back and the
/// upload is claimed again after its lease).
pub async fn work(db: DatabaseConnection, storage: Storage, settings: RunnerSettings, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match work_once(&db, &storage, &settings).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not look for queued uploads"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.poll) => {}
            _ = stop.changed() => return,
        }
    }
}
