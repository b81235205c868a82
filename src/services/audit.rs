//! The audit trail: every change writes one event in the transaction of the change. Events are
//! append-only (database triggers refuse UPDATE and DELETE) and hash-chained per organization:
//! each event's hash covers its content and the previous event's hash. The chain head row is
//! locked while an event is appended, so concurrent writers queue instead of forking the chain.
use crate::auth::jwt::PrincipalKind;
use crate::auth::Principal;
use crate::entities::enums::Role;
use crate::entities::{audit_chain_head, audit_event};
use crate::error::ApiError;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Alias, CommonTableExpression, Expr, ExprTrait, OnConflict, Query, WithClause};
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    IsolationLevel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::entities::enums::{ActorKind, AuditOperation, AuditResource};

/// The organization id under which events without a tenant (e.g. a failed login for an
/// unknown e-mail) are chained.
pub const PLATFORM_ORG: Uuid = Uuid::nil();

/// Who did it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User or service account id; `None` for anonymous callers and the system.
    pub id: Option<Uuid>,
    /// A principal's kind (from its `PrincipalKind`), anonymous or the system.
    pub kind: ActorKind,
    /// Roles held at the time.
    pub roles: Vec<Role>,
    /// Request id.
    pub request_id: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
}

impl Actor {
    /// The service itself (bootstrap, CLI).
    pub fn system() -> Self {
        Actor { id: None, kind: ActorKind::System, roles: Vec::new(), request_id: None, client_addr: None }
    }

    /// An unauthenticated caller (login attempts).
    pub fn anonymous(request_id: Option<String>, client_addr: Option<String>) -> Self {
        Actor { id: None, kind: ActorKind::Anonymous, roles: Vec::new(), request_id, client_addr }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Actor {
            id: Some(p.id),
            kind: p.kind.into(),
            roles: p.roles.0.clone(),
            request_id: p.request_id.clone(),
            client_addr: p.client_addr.clone(),
        }
    }
}

impl From<PrincipalKind> for ActorKind {
    fn from(kind: PrincipalKind) -> Self {
        match kind {
            PrincipalKind::User => ActorKind::User,
            PrincipalKind::ServiceAccount => ActorKind::ServiceAccount,
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Organization whose chain receives the event.
    pub organization_id: Uuid,
    /// Resource type.
    pub resource_type: AuditResource,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Operation.
    pub operation: AuditOperation,
    /// State before (secrets removed).
    pub before: Option<Value>,
    /// State after (secrets removed).
    pub after: Option<Value>,
}

impl Entry {
    /// An event on a resource of `org`.
    pub fn new(
        organization_id: Uuid, resource_type: AuditResource, resource_id: impl ToString, operation: AuditOperation,
    ) -> Self {
        Entry {
            organization_id,
            resource_type,
            resource_id: Some(resource_id.to_string()),
            operation,
            before: None,
            after: None,
        }
    }

    /// Adds the state before the change.
    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    /// Adds the state after the change.
    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// JSON with object keys sorted, so the hash does not depend on key order.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k.as_str()])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

fn instant(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn compute_hash(e: &audit_event::Model) -> String {
    let content = json!({
        "id": e.id,
        "organization_id": e.organization_id,
        "seq": e.seq,
        "occurred_at": instant(&e.occurred_at),
        "actor_id": e.actor_id,
        "actor_kind": e.actor_kind,
        "actor_roles": e.actor_roles,
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "operation": e.operation,
        "before": e.before,
        "after": e.after,
        "request_id": e.request_id,
        "client_addr": e.client_addr,
        "prev_hash": e.prev_hash,
    });
    hex::encode(Sha256::digest(canonical(&content).as_bytes()))
}

/// Locks the chain head of `org` (creating it for the organization's first event): the one
/// statement before the append that writers of the organization queue on. On PostgreSQL the
/// head exists after the first event, so the insert is only tried when the read finds nothing.
async fn lock_head(conn: &impl ConnectionTrait, org: Uuid) -> Result<audit_chain_head::Model, DbErr> {
    let read = || {
        let head = audit_chain_head::Entity::find_by_id(org);
        if conn.get_database_backend() == DbBackend::Postgres {
            head.lock_exclusive()
        } else {
            head
        }
    };
    // SQLite: the insert comes first, as a write it takes the database's write lock (waiting for
    // another process's writer); a read first would make the later write fail at once with
    // SQLITE_BUSY in WAL mode when another process wrote in between.
    let postgres = conn.get_database_backend() == DbBackend::Postgres;
    if postgres {
        if let Some(head) = read().one(conn).await? {
            return Ok(head);
        }
    }
    audit_chain_head::Entity::insert(audit_chain_head::ActiveModel {
        organization_id: Set(org),
        seq: Set(0),
        hash: Set(String::new()),
    })
    .on_conflict(OnConflict::column(audit_chain_head::Column::OrganizationId).do_nothing().to_owned())
    .exec_without_returning(conn)
    .await?;
    read().one(conn).await?.ok_or_else(|| DbErr::RecordNotFound("audit chain head".into()))
}

/// Appends events of one organization to its chain, in order, with one read of the chain head
/// and bulk inserts (bulk uploads). Call it with the transaction of the changes.
pub async fn record_many(conn: &impl ConnectionTrait, actor: &Actor, entries: Vec<Entry>) -> Result<(), DbErr> {
    let Some(org) = entries.first().map(|e| e.organization_id) else {
        return Ok(());
    };
    if entries.iter().any(|e| e.organization_id != org) {
        return Err(DbErr::Custom("record_many takes events of one organization".into()));
    }
    let head = lock_head(conn, org).await?;
    let (mut seq, mut prev_hash) = (head.seq, head.hash);
    let occurred_at = super::now();
    let roles = json!(actor.roles);
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let mut event = audit_event::Model {
            id: Uuid::now_v7(),
            organization_id: org,
            seq,
            occurred_at,
            actor_id: actor.id,
            actor_kind: actor.kind.code().to_string(),
            actor_roles: roles.clone(),
            resource_type: entry.resource_type.code().to_string(),
            resource_id: entry.resource_id,
            operation: entry.operation.code().to_string(),
            before: entry.before,
            after: entry.after,
            request_id: actor.request_id.clone(),
            client_addr: actor.client_addr.clone(),
            prev_hash: std::mem::take(&mut prev_hash),
            hash: String::new(),
        };
        event.hash = compute_hash(&event);
        prev_hash = event.hash.clone();
        events.push(audit_event::ActiveModel::from(event));
    }
    // 16 columns an event: 1000 events stay under SQLite's 32,766 parameters.
    metrics::counter!("mejora_audit_events_written_total").increment(events.len() as u64);
    let mut events = events.into_iter().peekable();
    let first: Vec<_> = events.by_ref().take(1000).collect();
    let moved = Query::update()
        .table(audit_chain_head::Entity)
        .values([(audit_chain_head::Column::Seq, seq.into()), (audit_chain_head::Column::Hash, prev_hash.into())])
        .and_where(Expr::col(audit_chain_head::Column::OrganizationId).eq(org))
        .to_owned();
    if conn.get_database_backend() == DbBackend::Postgres {
        // One round trip while the head is locked instead of two: the head moves in a
        // data-modifying WITH of the first insert (PostgreSQL runs it exactly once).
        let cte = CommonTableExpression::new().query(moved).table_name(Alias::new("moved_head")).to_owned();
        let insert = audit_event::Entity::insert_many(first).into_query().with(WithClause::new().cte(cte).to_owned());
        conn.execute(&insert).await?;
    } else {
        conn.execute(&moved).await?;
        audit_event::Entity::insert_many(first).exec_without_returning(conn).await?;
    }
    while events.peek().is_some() {
        let chunk: Vec<_> = events.by_ref().take(1000).collect();
        audit_event::Entity::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Appends an event to its organization's chain. Call it with the transaction of the change.
pub async fn record(conn: &impl ConnectionTrait, actor: &Actor, entry: Entry) -> Result<(), DbErr> {
    record_many(conn, actor, vec![entry]).await
}

/// The position of the newest event of `org`'s chain (0 before the first). Every change of an
/// organization's data records an event in the transaction of the change, so this moves with
/// every committed change: a version of everything derived from the organization's data.
pub async fn chain_position(conn: &impl ConnectionTrait, org: Uuid) -> Result<i64, DbErr> {
    let seq = audit_chain_head::Entity::find_by_id(org)
        .select_only()
        .column(audit_chain_head::Column::Seq)
        .into_tuple::<i64>()
        .one(conn)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Whether `actor` wrote any event on a resource other than the operations in `except`: the
/// trail remembers every hand that changed a record, not only the last one.
pub async fn changed_by(
    conn: &impl ConnectionTrait, org: Uuid, resource_type: AuditResource, resource_id: Uuid, actor: Uuid,
    except: &[AuditOperation],
) -> Result<bool, DbErr> {
    let found = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org))
        .filter(audit_event::Column::ResourceType.eq(resource_type.code()))
        .filter(audit_event::Column::ResourceId.eq(resource_id.to_string()))
        .filter(audit_event::Column::ActorId.eq(actor))
        .filter(audit_event::Column::Operation.is_not_in(except.iter().map(|o| o.code())))
        .select_only()
        .column(audit_event::Column::Id)
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// Whether field `field` of a resource ever held `value`, before or after any recorded change.
/// Every change records the state before it, so the first value is known even when the
/// resource's creation was recorded by a bulk event.
pub async fn ever_held(
    conn: &impl ConnectionTrait, org: Uuid, resource_type: AuditResource, resource_id: Uuid, field: &str, value: Uuid,
) -> Result<bool, DbErr> {
    let states: Vec<(Option<Value>, Option<Value>)> = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org))
        .filter(audit_event::Column::ResourceType.eq(resource_type.code()))
        .filter(audit_event::Column::ResourceId.eq(resource_id.to_string()))
        .select_only()
        .column(audit_event::Column::Before)
        .column(audit_event::Column::After)
        .into_tuple()
        .all(conn)
        .await?;
    let wanted = value.to_string();
    let holds = |state: &Option<Value>| {
        state.as_ref().and_then(|s| s.get(field)).and_then(Value::as_str).is_some_and(|v| v == wanted)
    };
    Ok(states.iter().any(|(before, after)| holds(before) || holds(after)))
}

/// The first event whose chain link does not hold.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrokenLink {
    /// Event id (absent when events are missing at the end of the chain).
    pub id: Option<Uuid>,
    /// Sequence number where the chain breaks.
    pub seq: i64,
    /// What is wrong: `hash_mismatch`, `prev_hash_mismatch`, `sequence_gap`, `truncated` (the
    /// newest events are gone: the head, or the anchor given, points past the last event),
    /// `head_missing` (events exist but the head row is gone) or `anchor_mismatch` (the event at
    /// the anchor's position is not the one the receipt names).
    pub reason: String,
}

/// The newest event of a chain: keep it as a receipt and pass it back as an anchor later.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChainHead {
    /// Sequence number of the newest event.
    #[schema(example = 1234)]
    pub seq: i64,
    /// Its hash.
    #[schema(example = "9f2c0b6f5c2a4e8d1b3a7c9e0f1d2b4a6c8e0a2b4d6f8a0c2e4f6a8b0d2f4a6c")]
    pub hash: String,
}

/// Result of checking an organization's chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// True when every event's hash and link hold and nothing is missing.
    pub intact: bool,
    /// Events checked.
    pub checked: u64,
    /// The first broken event, if any.
    pub first_broken: Option<BrokenLink>,
    /// The newest event checked (`null` for an empty chain): a receipt to keep outside the
    /// database and pass back as `anchor_seq`/`anchor_hash`.
    pub head: Option<ChainHead>,
}

/// Verifies the chain of `org` in one snapshot (a read-only repeatable-read transaction on
/// PostgreSQL, one transaction on SQLite), so concurrent appends cannot look like a break.
pub async fn verify(db: &DatabaseConnection, org: Uuid, anchor: Option<ChainHead>) -> Result<Verification, ApiError> {
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
    } else {
        db.begin().await?
    };
    let result = verify_in(&txn, org, anchor).await?;
    txn.commit().await?;
    Ok(result)
}

/// Recomputes the chain of `org` from the first event, in pages of 1000, then checks that the
/// head row (and the anchor, when given) points at the last event found.
async fn verify_in(
    conn: &impl ConnectionTrait, org: Uuid, anchor: Option<ChainHead>,
) -> Result<Verification, ApiError> {
    let mut checked = 0u64;
    let mut expected_seq = 1i64;
    let mut prev_hash = String::new();
    let broken = |id: Option<Uuid>, seq: i64, reason: &str, checked: u64| Verification {
        intact: false,
        checked,
        first_broken: Some(BrokenLink { id, seq, reason: reason.to_string() }),
        head: None,
    };
    loop {
        let batch = audit_event::Entity::find()
            .filter(audit_event::Column::OrganizationId.eq(org))
            .filter(audit_event::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(conn)
            .await?;
        if batch.is_empty() {
            break;
        }
        for event in batch {
            checked += 1;
            if event.seq != expected_seq {
                return Ok(broken(Some(event.id), expected_seq, "sequence_gap", checked));
            }
            if event.prev_hash != prev_hash {
                return Ok(broken(Some(event.id), event.seq, "prev_hash_mismatch", checked));
            }
            if compute_hash(&event) != event.hash {
                return Ok(broken(Some(event.id), event.seq, "hash_mismatch", checked));
            }
            if anchor.as_ref().is_some_and(|a| a.seq == event.seq && a.hash != event.hash) {
                return Ok(broken(Some(event.id), event.seq, "anchor_mismatch", checked));
            }
            prev_hash = event.hash;
            expected_seq += 1;
        }
    }
    let last = expected_seq - 1;
    if let Some(a) = anchor.as_ref().filter(|a| a.seq > last) {
        return Ok(broken(None, std::cmp::min(a.seq, last + 1), "truncated", checked));
    }
    match audit_chain_head::Entity::find_by_id(org).one(conn).await? {
        Some(head) if head.seq != last || head.hash != prev_hash => {
            return Ok(broken(None, expected_seq, "truncated", checked));
        }
        None if checked > 0 => return Ok(broken(None, expected_seq, "head_missing", checked)),
        _ => {}
    }
    let head = (last > 0).then_some(ChainHead { seq: last, hash: prev_hash });
    Ok(Verification { intact: true, checked, first_broken: None, head })
}

/// Events of `org`, newest first, with filters; keyset pagination on the chain position.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, q: &crate::dto::identity::AuditListQuery,
) -> Result<crate::dto::pagination::Page<crate::dto::identity::AuditEventResponse>, ApiError> {
    use crate::dto::pagination::{Page, PageParams};
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    crate::dto::validate::query_text("resource_type", q.resource_type.as_deref(), 100)?;
    crate::dto::validate::query_text("resource_id", q.resource_id.as_deref(), 300)?;
    crate::dto::validate::query_text("operation", q.operation.as_deref(), 100)?;
    let mut select = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org))
        .order_by_desc(audit_event::Column::Seq);
    if let Some(cursor) = page.cursor("seq")? {
        let seq =
            cursor.k.and_then(|k| k.as_i64()).ok_or_else(|| ApiError::new(crate::error::ErrorCode::InvalidCursor))?;
        select = select.filter(audit_event::Column::Seq.lt(seq));
    }
    if let Some(v) = &q.resource_type {
        select = select.filter(audit_event::Column::ResourceType.eq(v.as_str()));
    }
    if let Some(v) = &q.resource_id {
        select = select.filter(audit_event::Column::ResourceId.eq(v.as_str()));
    }
    if let Some(v) = &q.operation {
        select = select.filter(audit_event::Column::Operation.eq(v.as_str()));
    }
    if let Some(v) = q.actor_id {
        select = select.filter(audit_event::Column::ActorId.eq(v));
    }
    if let Some(v) = q.from {
        select = select.filter(audit_event::Column::OccurredAt.gte(v));
    }
    if let Some(v) = q.to {
        select = select.filter(audit_event::Column::OccurredAt.lt(v));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "seq", |e| (Some(json!(e.seq)), e.id), Into::into))
}
