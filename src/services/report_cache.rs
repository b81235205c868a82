//! Reports served from memory while nothing they read has changed.
//!
//! Every change of an organization's data appends an event to the organization's audit chain
//! in the transaction of the change (see [`super::audit`]), so the chain's position is a
//! version of everything a report of that organization reads. A report is computed in one
//! snapshot together with that position and kept under it; a request first reads the position
//! (one primary-key lookup) and answers from memory when it has not moved. The tag built from
//! it is the report's `ETag`: a client that sends it back in `If-None-Match` gets `304` without
//! anything being recomputed.
//!
//! What a report reads besides the organization's rows is part of the key: the day (overdue
//! actions, days left to a cut-off). A restart starts with an empty cache and a new `epoch` in
//! the tags, so tags issued by an older build are never answered with `304`.
use super::{audit, reports};
use crate::dto::reports::{Dashboard, PlanReport};
use crate::error::ApiError;
use chrono::NaiveDate;
use sea_orm::{AccessMode, DatabaseConnection, DbBackend, IsolationLevel, TransactionTrait};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Entries kept per kind of report before the cache starts over (a report is a few kB).
const CAPACITY: usize = 4096;

/// Values with the chain position they were computed at.
struct Versioned<K, V> {
    entries: Mutex<HashMap<K, (i64, Arc<V>)>>,
}

impl<K: Hash + Eq, V> Versioned<K, V> {
    fn new() -> Self {
        Versioned { entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, key: &K, version: i64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(v, _)| *v == version).map(|(_, value)| value.clone())
    }

    fn put(&self, key: K, version: i64, value: Arc<V>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.get(&key).is_some_and(|(v, _)| *v > version) {
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (version, value));
    }
}

/// The cache of plan reports and dashboards; one per process (built by startup).
pub struct ReportCache {
    epoch: u32,
    plans: Versioned<(Uuid, Uuid, NaiveDate), PlanReport>,
    dashboards: Versioned<(Uuid, NaiveDate), Dashboard>,
}

impl Default for ReportCache {
    fn default() -> Self {
        // Tags of another process (an earlier build) never match this one's.
        let epoch = (Uuid::new_v4().as_u128() & 0xffff_ffff) as u32;
        ReportCache { epoch, plans: Versioned::new(), dashboards: Versioned::new() }
    }
}

/// A report with its entity tag.
pub struct Tagged<T> {
    /// Strong entity tag (quoted), changing whenever the organization's data or the day does.
    pub tag: String,
    /// The report, shared with the cache.
    pub value: Arc<T>,
}

impl ReportCache {
    fn tag(&self, version: i64, today: NaiveDate) -> String {
        format!("\"r{:08x}.{version}.{}\"", self.epoch, today.format("%Y%m%d"))
    }
}

/// Runs `work` in one snapshot: a read-only repeatable-read transaction on PostgreSQL, one
/// transaction on SQLite (whose single writer cannot interleave).
async fn snapshot<T, F>(db: &DatabaseConnection, work: F) -> Result<T, ApiError>
where
    F: AsyncFnOnce(&sea_orm::DatabaseTransaction) -> Result<T, ApiError>,
{
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
    } else {
        db.begin().await?
    };
    let value = work(&txn).await?;
    txn.commit().await?;
    Ok(value)
}

/// [`reports::plan_report`], from memory when the organization's data has not changed since it
/// was last computed for the same day.
pub async fn plan_report(
    db: &DatabaseConnection, cache: &ReportCache, org: Uuid, plan_id: Uuid, today: NaiveDate,
) -> Result<Tagged<PlanReport>, ApiError> {
    let key = (org, plan_id, today);
    let version = audit::chain_position(db, org).await?;
    if let Some(value) = cache.plans.get(&key, version) {
        return Ok(Tagged { tag: cache.tag(version, today), value });
    }
    let (version, report) = snapshot(db, async |txn| {
        Ok((audit::chain_position(txn, org).await?, reports::plan_report(txn, org, plan_id, today).await?))
    })
    .await?;
    let value = Arc::new(report);
    cache.plans.put(key, version, value.clone());
    Ok(Tagged { tag: cache.tag(version, today), value })
}

/// [`reports::dashboard`], from memory when the organization's data has not changed since it
/// was last computed for the same day.
pub async fn dashboard(
    db: &DatabaseConnection, cache: &ReportCache, org: Uuid, today: NaiveDate,
) -> Result<Tagged<Dashboard>, ApiError> {
    let key = (org, today);
    let version = audit::chain_position(db, org).await?;
    if let Some(value) = cache.dashboards.get(&key, version) {
        return Ok(Tagged { tag: cache.tag(version, today), value });
    }
    let (version, report) = snapshot(db, async |txn| {
        Ok((audit::chain_position(txn, org).await?, reports::dashboard(txn, org, today).await?))
    })
    .await?;
    let value = Arc::new(report);
    cache.dashboards.put(key, version, value.clone());
    Ok(Tagged { tag: cache.tag(version, today), value })
}
