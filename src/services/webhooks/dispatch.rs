//! The webhook dispatcher: [`Dispatcher::run_once`] fans new events out to the deliveries of
//! the matching active webhooks of their organization (exactly once per webhook: events are
//! marked `fanned_out_at` in the same transaction, and a delivery is unique per webhook and
//! event), then claims due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, with a lease in
//! `locked_until`, so one replica attempts each) and attempts them. A worker that dies leaves
//! its lease to expire; the delivery is attempted again with the same `webhook-id`.
//!
//! Retries: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10 % jitter), never sooner
//! than the endpoint's `Retry-After`. A 410 disables the endpoint; so do 5 days of failures.
//! Either emits `webhook.disabled` and an audit event.
use super::signing;
use super::ssrf::{GuardedResolver, Policy};
use crate::config;
use crate::dto::webhooks::{message_id, WebhookResponse};
use crate::entities::enums::{AuditOperation, AuditResource, DeliveryStatus, EventType};
use crate::entities::{event, webhook, webhook_delivery};
use crate::services::audit::{self, Actor, Entry};
use crate::services::events;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use rand::Rng;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, Statement, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Delay before attempt n+1 after n failed attempts (the first attempt is immediate).
pub const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = SCHEDULE.len() as i32 + 1;

/// An endpoint failing for this long is disabled.
pub const FAILING_LIMIT: chrono::Duration = chrono::Duration::days(5);

/// How long a claimed delivery stays with its worker (longer than the request timeout).
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// Events fanned out, and deliveries claimed, per round.
const BATCH: u64 = 500;

/// A new pending delivery of `event_id` to `hook`, due now.
pub fn new_delivery(
    hook: &webhook::Model, event_id: Uuid, event_type: EventType, now: DateTime<Utc>,
) -> webhook_delivery::Model {
    webhook_delivery::Model {
        id: Uuid::now_v7(),
        organization_id: hook.organization_id,
        webhook_id: hook.id,
        event_id,
        event_type,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        locked_until: None,
        last_attempt_at: None,
        last_status_code: None,
        last_latency_ms: None,
        last_error: None,
        delivered_at: None,
        created_at: now,
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Events fanned out.
    pub events: usize,
    /// Deliveries created.
    pub deliveries: usize,
    /// Attempts made.
    pub attempts: usize,
    /// Attempts the endpoint accepted.
    pub delivered: usize,
}

/// The dispatcher of one process: its database, HTTP client and allow-list.
#[derive(Clone)]
pub struct Dispatcher {
    db: DatabaseConnection,
    client: reqwest::Client,
    policy: Arc<Policy>,
    concurrency: usize,
}

impl Dispatcher {
    /// A dispatcher with its own HTTP client: no redirects, no proxies, the configured timeout,
    /// bounded idle connections, and a resolver that refuses internal addresses.
    pub fn new(db: DatabaseConnection, settings: &config::Webhooks) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(Policy::from(settings));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(settings.max_connections)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("mejora-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .build()?;
        Ok(Dispatcher { db, client, policy, concurrency: settings.max_connections })
    }

    /// Runs rounds every `interval` until `stop` says so (or its sender is dropped); a round
    /// that found a full batch is followed at once by the next.
    pub async fn run(self, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let busy = match self.run_once().await {
                Ok(round) => round.events as u64 >= BATCH || round.attempts as u64 >= BATCH,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatch round failed");
                    false
                }
            };
            if *stop.borrow() {
                return;
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    changed = stop.changed() => {
                        if changed.is_err() || *stop.borrow() {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// One round: fan out new events, then attempt the due deliveries.
    pub async fn run_once(&self) -> Result<Round, DbErr> {
        let (events, deliveries) = fan_out(&self.db).await?;
        let claimed = claim(&self.db, super::super::now(), BATCH).await?;
        let attempts = claimed.len();
        let delivered = futures_util::stream::iter(claimed)
            .map(|d| self.attempt(d))
            .buffer_unordered(self.concurrency.max(1))
            .fold(0usize, |n, r| async move {
                match r {
                    Ok(true) => n + 1,
                    Ok(false) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook attempt could not be recorded");
                        n
                    }
                }
            })
            .await;
        Ok(Round { events, deliveries, attempts, delivered })
    }

    /// Attempts one claimed delivery and records the outcome; `true` when delivered.
    pub async fn attempt(&self, d: webhook_delivery::Model) -> Result<bool, DbErr> {
        let Some(hook) = webhook::Entity::find_by_id(d.webhook_id).one(&self.db).await? else { return Ok(false) };
        let Some(ev) = event::Entity::find_by_id(d.event_id).one(&self.db).await? else { return Ok(false) };
        let body = serde_json::to_vec(&serde_json::json!({
            "type": ev.event_type,
            "timestamp": ev.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": ev.data,
        }))
        .map_err(|e| DbErr::Custom(e.to_string()))?;
        let now = super::super::now();
        let msg_id = message_id(ev.id);
        let timestamp = now.timestamp();
        let mut secrets = vec![hook.secret.as_str()];
        if let (Some(old), Some(until)) = (&hook.previous_secret, hook.previous_secret_expires_at) {
            if until > now {
                secrets.push(old.as_str());
            }
        }
        let signature = signing::header(&secrets, &msg_id, timestamp, &body);
        let started = Instant::now();
        let outcome = self.send(&hook.url, &msg_id, timestamp, &signature, body).await;
        let latency = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        record(&self.db, &hook, d, outcome, latency, super::super::now()).await
    }

    async fn send(&self, url: &str, msg_id: &str, timestamp: i64, signature: &str, body: Vec<u8>) -> Outcome {
        let parsed = match url::Url::parse(url) {
            Ok(u) => u,
            Err(e) => return Outcome::Error(format!("invalid URL: {e}")),
        };
        // Literal addresses never reach the resolver: check them (and names, for the message) here.
        if let Err(refusal) = self.policy.check(&parsed).await {
            return Outcome::Error(refusal.to_string());
        }
        let request = self
            .client
            .post(parsed)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        match request.send().await {
            Ok(res) => {
                let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(retry_after);
                Outcome::Status(res.status().as_u16(), retry_after)
            }
            Err(e) if e.is_timeout() => Outcome::Error("timed out".to_string()),
            Err(e) => Outcome::Error(error_chain(&e)),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(500).collect()
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

/// What an attempt got.
#[derive(Debug)]
enum Outcome {
    /// An HTTP answer with its status and `Retry-After`.
    Status(u16, Option<Duration>),
    /// No answer (refused address, connection error, timeout).
    Error(String),
}

/// When to try again after `attempts` failed attempts, `None` once they are exhausted.
pub fn next_delay(attempts: i32, retry_after: Option<Duration>) -> Option<Duration> {
    let index = usize::try_from(attempts - 1).ok()?;
    let base = *SCHEDULE.get(index)?;
    let jitter = rand::rng().random_range(0.9..1.1);
    let delay = base.mul_f64(jitter);
    // Retry-After is honoured up to the longest step of the schedule.
    Some(retry_after.map_or(delay, |r| delay.max(r.min(SCHEDULE[SCHEDULE.len() - 1]))))
}

async fn record(
    db: &DatabaseConnection, hook: &webhook::Model, d: webhook_delivery::Model, outcome: Outcome, latency: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let attempts = d.attempts + 1;
    let mut next = d.clone();
    next.attempts = attempts;
    next.last_attempt_at = Some(now);
    next.last_latency_ms = Some(latency);
    next.locked_until = None;
    let (delivered, gone, retry_after) = match &outcome {
        Outcome::Status(code, retry) => {
            next.last_status_code = Some(i32::from(*code));
            next.last_error = None;
            ((200..300).contains(code), *code == 410, *retry)
        }
        Outcome::Error(e) => {
            next.last_status_code = None;
            next.last_error = Some(e.clone());
            (false, false, None)
        }
    };
    if let Outcome::Status(code, _) = &outcome {
        if !delivered {
            next.last_error = Some(format!("HTTP {code}"));
        }
    }
    if delivered {
        next.status = DeliveryStatus::Succeeded;
        next.delivered_at = Some(now);
        next.next_attempt_at = None;
    } else {
        match next_delay(attempts, retry_after).filter(|_| !gone) {
            Some(delay) => {
                next.next_attempt_at = Some(now + chrono::Duration::from_std(delay).unwrap_or(LEASE));
            }
            None => {
                next.status = DeliveryStatus::Failed;
                next.next_attempt_at = None;
            }
        }
    }
    let txn = db.begin().await?;
    webhook_delivery::Entity::update(webhook_delivery::ActiveModel::from(next).reset_all()).exec(&txn).await?;
    if delivered {
        if hook.failing_since.is_some() {
            webhook::Entity::update_many()
                .col_expr(webhook::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(webhook::Column::Id.eq(hook.id))
                .exec(&txn)
                .await?;
        }
    } else {
        let since = hook.failing_since.unwrap_or(now);
        if hook.failing_since.is_none() {
            webhook::Entity::update_many()
                .col_expr(webhook::Column::FailingSince, Expr::value(now))
                .filter(webhook::Column::Id.eq(hook.id))
                .filter(webhook::Column::FailingSince.is_null())
                .exec(&txn)
                .await?;
        }
        if gone {
            disable(&txn, hook.id, "gone", now).await?;
        } else if now - since >= FAILING_LIMIT {
            disable(&txn, hook.id, "failing", now).await?;
        }
    }
    txn.commit().await?;
    Ok(delivered)
}

/// Disables webhook `id` (if still active), with `webhook.disabled` and an audit event.
async fn disable(conn: &impl ConnectionTrait, id: Uuid, reason: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    let Some(current) = webhook::Entity::find_by_id(id).one(conn).await? else { return Ok(()) };
    if !current.active {
        return Ok(());
    }
    let mut next = current.clone();
    next.active = false;
    next.disabled_reason = Some(reason.to_string());
    next.updated_at = now;
    next.updated_by = None;
    next.version += 1;
    webhook::Entity::update(webhook::ActiveModel::from(next.clone()).reset_all()).exec(conn).await?;
    let after = WebhookResponse::from(next);
    audit::record(
        conn,
        &Actor::system(),
        Entry::new(current.organization_id, AuditResource::Webhook, id, AuditOperation::Disable)
            .before(&WebhookResponse::from(current.clone()))
            .after(&after),
    )
    .await?;
    events::record(conn, current.organization_id, EventType::WebhookDisabled, AuditResource::Webhook, id, &after).await
}

#[derive(Debug, FromQueryResult)]
struct PendingEvent {
    id: Uuid,
    organization_id: Uuid,
    event_type: EventType,
}

/// Turns events not fanned out yet into deliveries, in one transaction; returns the number
/// of events and of deliveries.
pub async fn fan_out(db: &DatabaseConnection) -> Result<(usize, usize), DbErr> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT id, organization_id, event_type FROM event WHERE fanned_out_at IS NULL ORDER BY id LIMIT {BATCH} \
             FOR UPDATE SKIP LOCKED"
        ),
        _ => format!(
            "SELECT id, organization_id, event_type FROM event WHERE fanned_out_at IS NULL ORDER BY id LIMIT {BATCH}"
        ),
    };
    let pending = PendingEvent::find_by_statement(Statement::from_string(backend, sql)).all(&txn).await?;
    if pending.is_empty() {
        return Ok((0, 0));
    }
    let mut orgs: Vec<Uuid> = pending.iter().map(|e| e.organization_id).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .filter(webhook::Column::OrganizationId.is_in(orgs))
        .all(&txn)
        .await?;
    let mut by_org: HashMap<Uuid, Vec<(webhook::Model, Vec<String>)>> = HashMap::new();
    for hook in hooks {
        let patterns: Vec<String> = serde_json::from_value(hook.event_types.clone()).unwrap_or_default();
        by_org.entry(hook.organization_id).or_default().push((hook, patterns));
    }
    let now = super::super::now();
    let mut rows = Vec::new();
    for e in &pending {
        // A test event goes to its own endpoint only, when it is sent.
        if e.event_type == EventType::WebhookTest {
            continue;
        }
        for (hook, patterns) in by_org.get(&e.organization_id).map(Vec::as_slice).unwrap_or(&[]) {
            if super::matches(patterns, e.event_type.code()) {
                rows.push(webhook_delivery::ActiveModel::from(new_delivery(hook, e.id, e.event_type, now)));
            }
        }
    }
    let deliveries = rows.len();
    // 16 columns a row: 1000 rows stay under SQLite's parameter limit.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        webhook_delivery::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([webhook_delivery::Column::WebhookId, webhook_delivery::Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    let ids: Vec<Uuid> = pending.iter().map(|e| e.id).collect();
    mark_fanned_out(&txn, &ids, now).await?;
    txn.commit().await?;
    Ok((pending.len(), deliveries))
}

async fn mark_fanned_out(conn: &impl ConnectionTrait, ids: &[Uuid], now: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    for chunk in ids.chunks(500) {
        let mut values: Vec<sea_orm::Value> = vec![now.into()];
        let marks: Vec<String> = match backend {
            DbBackend::Postgres => (0..chunk.len()).map(|i| format!("${}", i + 2)).collect(),
            _ => chunk.iter().map(|_| "?".to_string()).collect(),
        };
        let first = if backend == DbBackend::Postgres { "$1" } else { "?" };
        values.extend(chunk.iter().map(|id| sea_orm::Value::from(*id)));
        let sql = format!("UPDATE event SET fanned_out_at = {first} WHERE id IN ({})", marks.join(", "));
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    Ok(())
}

/// Claims up to `limit` due deliveries of active webhooks for `LEASE`: one statement, so two
/// workers never claim the same one (`SKIP LOCKED` on PostgreSQL; SQLite has one writer).
pub async fn claim(
    db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    let backend = db.get_database_backend();
    let until = now + LEASE;
    let sql = match backend {
        DbBackend::Postgres => format!(
            "UPDATE webhook_delivery SET locked_until = $1 WHERE id IN (SELECT d.id FROM webhook_delivery d \
             JOIN webhook w ON w.id = d.webhook_id WHERE d.status = 'pending' AND d.next_attempt_at <= $2 \
             AND (d.locked_until IS NULL OR d.locked_until <= $2) AND w.active ORDER BY d.next_attempt_at \
             LIMIT {limit} FOR UPDATE OF d SKIP LOCKED) RETURNING *"
        ),
        _ => format!(
            "UPDATE webhook_delivery SET locked_until = ?1 WHERE id IN (SELECT d.id FROM webhook_delivery d \
             JOIN webhook w ON w.id = d.webhook_id WHERE d.status = 'pending' AND d.next_attempt_at <= ?2 \
             AND (d.locked_until IS NULL OR d.locked_until <= ?2) AND w.active ORDER BY d.next_attempt_at \
             LIMIT {limit}) RETURNING *"
        ),
    };
    let statement = Statement::from_sql_and_values(backend, sql, [until.into(), now.into()]);
    webhook_delivery::Entity::find().from_raw_sql(statement).all(db).await
}
