//! Business rules, queries and transactions. No actix types here, nothing from `crate::http`,
//! `crate::routes` or `crate::state` (`tests/architecture.rs` checks it).
//!
//! Transactions begin in this layer: a service that needs several statements to be atomic
//! begins its own, and an operation a route asks for as one unit runs in [`transaction`] (or
//! [`idempotency::write`] when it honours an `Idempotency-Key`). Building blocks take a
//! connection or a transaction (`&impl ConnectionTrait`) so they compose inside those units.
pub mod action_evaluation;
pub mod action_queries;
pub mod actions;
pub mod audit;
pub mod background;
pub mod backup;
pub mod bootstrap;
pub mod calendar;
pub mod categories;
pub mod events;
pub mod evidence;
pub mod files;
pub mod finding_imports;
pub mod findings;
pub mod idempotency;
pub mod login_throttle;
pub mod mail;
pub mod notifications;
pub mod objectives;
pub mod organizations;
pub mod plan_actions;
pub mod plan_lifecycle;
pub mod plan_matrix;
pub mod plans;
pub mod progress;
pub mod reformulation;
pub mod reminders;
pub mod report_cache;
pub mod reporting_periods;
pub mod reports;
pub mod risks;
pub mod service_accounts;
pub mod sessions;
pub mod spool;
pub mod spreadsheet;
pub mod storage;
pub mod tenancy;
pub mod users;
pub mod webhooks;

crate::org_scoped!(
    user,
    service_account,
    objective,
    plan,
    category,
    finding,
    finding_import,
    action,
    evidence,
    evidence_file,
    reporting_period,
    asset,
    risk,
    risk_control,
    risk_review,
    risk_incident,
    plan_import,
    webhook
);

/// The current instant at microsecond precision, the precision PostgreSQL stores, so a reply
/// built from memory equals the row read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Runs `work` in one transaction: committed when it succeeds, rolled back when it fails.
/// Routes hand a service call to it instead of beginning transactions themselves.
pub async fn transaction<T, F>(db: &sea_orm::DatabaseConnection, work: F) -> Result<T, crate::error::ApiError>
where
    F: AsyncFnOnce(&sea_orm::DatabaseTransaction) -> Result<T, crate::error::ApiError>,
{
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let value = work(&txn).await?;
    txn.commit().await?;
    Ok(value)
}
