//! Asynchronous uploads of plan matrices (`Prefer: respond-async`), run by the same runner as
//! the findings uploads (`finding_imports::jobs::work`) with the same claim, lease and
//! re-queue rules. The body is parsed and written exactly as the synchronous upload does; the
//! record keeps that reply (`result`) or problem, and `import.completed` / `import.failed` is
//! emitted in the transaction that finishes it.
use super::import::{self, MatrixFormat};
use crate::dto::plan_imports::PlanImportJobResponse;
use crate::dto::plan_matrix::PlanImportQuery;
use crate::entities::enums::{AuditResource, EventType, ImportStatus};
use crate::entities::plan_import;
use crate::error::ApiError;
use crate::services::audit::Actor;
use crate::services::events::{self, NewEvent};
use crate::services::finding_imports::jobs::{
    claim_next, forget, store_failed, QueueColumns, Received, RunnerSettings, StoredActor, MAX_ATTEMPTS,
};
use crate::services::storage::Storage;
use object_store::path::Path;
use object_store::ObjectStoreExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The query and the uploader of a queued matrix.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredOptions {
    query: PlanImportQuery,
    uploader: StoredActor,
}

fn format_named(name: &str) -> MatrixFormat {
    match name {
        "xlsx" => MatrixFormat::Xlsx,
        "json" => MatrixFormat::Json,
        _ => MatrixFormat::Csv,
    }
}

/// Records a `queued` matrix upload of `received` in the caller's transaction.
pub async fn enqueue(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, format: MatrixFormat, query: &PlanImportQuery,
    received: &Received,
) -> Result<plan_import::Model, ApiError> {
    let now = crate::services::now();
    let options = StoredOptions { query: query.clone(), uploader: StoredActor::from(actor) };
    let record = plan_import::Model {
        id: Uuid::now_v7(),
        organization_id: org,
        status: ImportStatus::Queued,
        format: format.as_str().to_string(),
        options: serde_json::to_value(options).map_err(ApiError::internal)?,
        storage_key: Some(received.key.clone()),
        file_sha256: received.sha256.clone(),
        size_bytes: i64::try_from(received.size).unwrap_or(i64::MAX),
        lease_until: None,
        attempts: 0,
        result: None,
        problem: None,
        plan_id: None,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        version: 1,
    };
    plan_import::Entity::insert(plan_import::ActiveModel::from(record.clone())).exec_without_returning(conn).await?;
    Ok(record)
}

/// A matrix upload of `org`; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<(i32, PlanImportJobResponse), ApiError> {
    let found = crate::services::tenancy::find_in_org::<plan_import::Entity>(conn, org, id).await?;
    Ok((found.version, PlanImportJobResponse::from(&found)))
}

/// Takes the oldest queued matrix upload, or a `running` one whose lease expired (see
/// `finding_imports::jobs::claim`).
pub async fn claim(db: &DatabaseConnection, lease: Duration) -> Result<Option<plan_import::Model>, ApiError> {
    use plan_import::Column;
    let columns = QueueColumns {
        id: Column::Id,
        status: Column::Status,
        lease_until: Column::LeaseUntil,
        attempts: Column::Attempts,
        updated_at: Column::UpdatedAt,
        version: Column::Version,
    };
    claim_next::<plan_import::Entity>(db, lease, columns).await
}

/// Ends a claimed matrix upload in the caller's transaction, when it is still the claimer's:
/// `succeeded` with `result`, or `failed` with `problem`; emits the event. False when another
/// runner took it over.
async fn finish(
    conn: &impl ConnectionTrait, job: &plan_import::Model, outcome: Result<serde_json::Value, serde_json::Value>,
    plan_id: Option<Uuid>,
) -> Result<bool, ApiError> {
    use plan_import::Column;
    let (status, result, problem) = match outcome {
        Ok(result) => (ImportStatus::Succeeded, Some(result), None),
        Err(problem) => (ImportStatus::Failed, None, Some(problem)),
    };
    let now = crate::services::now();
    let done = plan_import::Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::Result, Expr::value(result))
        .col_expr(Column::Problem, Expr::value(problem))
        .col_expr(Column::PlanId, Expr::value(plan_id))
        .col_expr(Column::StorageKey, Expr::value(Option::<String>::None))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(job.id))
        .filter(Column::Status.eq(ImportStatus::Running))
        .filter(Column::Attempts.eq(job.attempts))
        .exec(conn)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    let record = plan_import::Entity::find_by_id(job.id).one(conn).await?.ok_or_else(ApiError::not_found)?;
    let event_type =
        if record.status == ImportStatus::Succeeded { EventType::ImportCompleted } else { EventType::ImportFailed };
    let event = NewEvent::new(
        record.organization_id,
        event_type,
        AuditResource::Plan,
        record.plan_id,
        &PlanImportJobResponse::from(&record),
    )?;
    events::emit(conn, event).await?;
    Ok(true)
}

/// How running a claimed matrix went.
enum Done {
    /// Written and finished in one transaction.
    Finished,
    /// Another runner holds it now; nothing was written.
    Lost,
    /// A dry run: its result, to store.
    DryRun(crate::dto::plan_matrix::PlanImportResponse),
}

/// Whether `job` is still the claimer's; on PostgreSQL the row stays locked until commit.
async fn still_claimed(conn: &impl ConnectionTrait, job: &plan_import::Model) -> Result<bool, ApiError> {
    use plan_import::Column;
    let ours = plan_import::Entity::update_many()
        .col_expr(Column::UpdatedAt, Expr::value(crate::services::now()))
        .filter(Column::Id.eq(job.id))
        .filter(Column::Status.eq(ImportStatus::Running))
        .filter(Column::Attempts.eq(job.attempts))
        .exec(conn)
        .await?;
    Ok(ours.rows_affected == 1)
}

fn problem_of(error: &ApiError) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(error.problem(false)).map_err(ApiError::internal)
}

/// Runs a claimed matrix upload to its end: parsed and written as the synchronous upload
/// would be, in one transaction that first checks the upload is still the runner's. A file
/// the synchronous upload would refuse ends `failed`; a failure of the service itself leaves it
/// `running` for another claim after its lease.
pub async fn process(
    db: &DatabaseConnection, storage: &Storage, settings: &RunnerSettings, job: plan_import::Model,
) -> Result<(), ApiError> {
    let key = job.storage_key.clone().unwrap_or_default();
    let stored: StoredOptions = serde_json::from_value(job.options.clone()).map_err(ApiError::internal)?;
    let actor = stored.uploader.actor();
    if job.attempts > MAX_ATTEMPTS {
        let gave_up = ApiError::internal(anyhow::anyhow!("gave up after {MAX_ATTEMPTS} attempts"));
        let problem = problem_of(&gave_up)?;
        crate::services::transaction(db, async |txn| finish(txn, &job, Err(problem), None).await).await?;
        forget(storage, &key).await;
        return Ok(());
    }
    let body = storage.store.get(&Path::from(key.as_str())).await.map_err(store_failed)?;
    let body = body.bytes().await.map_err(store_failed)?.to_vec();
    let format = format_named(&job.format);
    let (org, sha) = (job.organization_id, job.file_sha256.clone());
    let dry_run = stored.query.dry_run.unwrap_or(false);
    let outcome = match import::parse(format, &body, &stored.query, &settings.matrix_limits) {
        Err(e) => Err(e),
        Ok(parsed) if dry_run => import::dry_run(db, &actor, org, format, &sha, parsed).await.map(Done::DryRun),
        Ok(parsed) => {
            let job = &job;
            crate::services::transaction(db, async |txn| {
                // Still ours? The row this locks stays locked until the plan is written.
                if !still_claimed(txn, job).await? {
                    return Ok(Done::Lost);
                }
                let result = import::write(txn, &actor, org, format, &sha, parsed).await?;
                let value = serde_json::to_value(&result).map_err(ApiError::internal)?;
                finish(txn, job, Ok(value), result.plan_id).await?;
                Ok(Done::Finished)
            })
            .await
        }
    };
    match outcome {
        Ok(Done::Finished) => {}
        Ok(Done::Lost) => {
            tracing::info!(import = %job.id, "another runner took this plan upload over");
            return Ok(());
        }
        Ok(Done::DryRun(result)) => {
            let value = serde_json::to_value(&result).map_err(ApiError::internal)?;
            crate::services::transaction(db, async |txn| finish(txn, &job, Ok(value), None).await).await?;
        }
        Err(e) if e.code.status().is_server_error() => return Err(e),
        Err(e) => {
            let problem = problem_of(&e)?;
            crate::services::transaction(db, async |txn| finish(txn, &job, Err(problem), None).await).await?;
        }
    }
    forget(storage, &key).await;
    Ok(())
}
