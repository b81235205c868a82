//! Notifications: the integration events addressed to people. [`deliver_once`] reads the
//! outbox (`event`) for events it has not processed (marked in `notified_event`, written with
//! `ON CONFLICT DO NOTHING` in the transaction that addresses the event, so replicas never
//! address one twice) and writes one notification per recipient:
//!
//! | event | recipients |
//! |---|---|
//! | `action.*` (created, updated, status changed, evaluated, due soon, overdue) | the action's responsible user |
//! | `evidence.submitted` | the organization's auditors |
//! | `import.completed`, `import.failed` | the uploader |
//! | `webhook.*` naming a disabled endpoint | the organization's administrators |
//!
//! Other events address nobody. When `MEJORA_SMTP_URL` is set each notification also goes by
//! mail, in Spanish, after its transaction commits.
use super::mail::Mailer;
use crate::dto::notifications::{NotificationListQuery, NotificationResponse, ReadAllResponse};
use crate::dto::pagination::{Page, PageParams};
use crate::entities::enums::{EventType, Role};
use crate::entities::{action, event, notification, notified_event, user};
use crate::error::ApiError;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Events read per look at the outbox.
const BATCH: u64 = 200;

/// A user a notification goes to.
#[derive(Debug, Clone)]
struct Recipient {
    id: Uuid,
    email: String,
}

/// A notification written, to mail once committed.
#[derive(Debug, Clone)]
pub struct Written {
    /// Recipient's address.
    pub email: String,
    /// Subject (the notification's title).
    pub subject: String,
    /// Text.
    pub body: String,
}

async fn active_users(conn: &impl ConnectionTrait, org: Uuid) -> Result<Vec<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::OrganizationId.eq(org))
        .filter(user::Column::Active.eq(true))
        .all(conn)
        .await?)
}

async fn user_in(conn: &impl ConnectionTrait, org: Uuid, id: Option<Uuid>) -> Result<Vec<Recipient>, ApiError> {
    let Some(id) = id else { return Ok(Vec::new()) };
    let found = user::Entity::find_by_id(id)
        .filter(user::Column::OrganizationId.eq(org))
        .filter(user::Column::Active.eq(true))
        .one(conn)
        .await?;
    Ok(found.into_iter().map(|u| Recipient { id: u.id, email: u.email }).collect())
}

fn uuid_at(data: &Value, field: &str) -> Option<Uuid> {
    data.get(field).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

/// Who `e` is addressed to.
async fn recipients(conn: &impl ConnectionTrait, e: &event::Model) -> Result<Vec<Recipient>, ApiError> {
    let org = e.organization_id;
    let code = e.event_type.as_str();
    if code.starts_with("action.") {
        let responsible = match e.resource_id {
            Some(id) => action::Entity::find_by_id(id)
                .filter(action::Column::OrganizationId.eq(org))
                .one(conn)
                .await?
                .and_then(|a| a.responsible_id),
            None => None,
        };
        return user_in(conn, org, responsible.or_else(|| uuid_at(&e.data, "responsible_id"))).await;
    }
    let with_role = async |role: Role| -> Result<Vec<Recipient>, ApiError> {
        Ok(active_users(conn, org)
            .await?
            .into_iter()
            .filter(|u| u.roles.has(role))
            .map(|u| Recipient { id: u.id, email: u.email })
            .collect())
    };
    if code == EventType::EvidenceSubmitted.code() {
        return with_role(Role::Auditor).await;
    }
    if code == EventType::ImportCompleted.code() || code == EventType::ImportFailed.code() {
        return user_in(conn, org, uuid_at(&e.data, "created_by")).await;
    }
    if code.starts_with("webhook.") && code.contains("disabled") {
        return with_role(Role::Admin).await;
    }
    Ok(Vec::new())
}

fn text_at<'a>(data: &'a Value, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or("")
}

fn number_at(data: &Value, field: &str) -> i64 {
    data.get(field).and_then(Value::as_i64).unwrap_or(0)
}

fn date_at(data: &Value, field: &str) -> String {
    let raw = text_at(data, field);
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or(raw.to_string())
}

/// The Spanish title and text of a notification of `e`.
pub fn texts(event_type: &str, data: &Value) -> (String, String) {
    let title = text_at(data, "title");
    let label = EventType::parse_label(event_type).map_or(event_type, |t| t.label_es());
    match event_type {
        "action.due_soon" => (
            format!("Acción próxima a vencer: {title}"),
            format!(
                "La acción {} «{title}» vence el {} (faltan {} días). Reporte su avance y evidencias a tiempo.",
                number_at(data, "number"),
                date_at(data, "due_date"),
                number_at(data, "days_left"),
            ),
        ),
        "action.overdue" => (
            format!("Acción vencida: {title}"),
            format!(
                "La acción {} «{title}» venció el {} y no está terminada ({} días de retraso).",
                number_at(data, "number"),
                date_at(data, "due_date"),
                -number_at(data, "days_left"),
            ),
        ),
        "evidence.submitted" => (
            "Evidencia por revisar".to_string(),
            "Se reportó evidencia sobre una acción de mejora; está pendiente de su revisión.".to_string(),
        ),
        "import.completed" | "import.failed" => {
            let counts = data.get("counts").cloned().unwrap_or(Value::Null);
            let n = |f: &str| number_at(&counts, f);
            let body = if event_type == "import.completed" {
                format!(
                    "La carga de hallazgos terminó: {} filas recibidas, {} creadas, {} actualizadas, {} sin cambios, {} rechazadas.",
                    n("received"),
                    n("created"),
                    n("updated"),
                    n("unchanged"),
                    n("rejected"),
                )
            } else {
                format!(
                    "La carga de hallazgos no se aplicó: {} de {} filas son inválidas. Consulte los errores de la carga.",
                    n("rejected"),
                    n("received"),
                )
            };
            (label.to_string(), body)
        }
        _ if event_type.starts_with("webhook.") => (
            "Webhook deshabilitado".to_string(),
            "Un punto de entrega de webhooks de su entidad se deshabilitó tras fallos repetidos; revíselo y actívelo de nuevo.".to_string(),
        ),
        _ if title.is_empty() => (label.to_string(), format!("{label}.")),
        _ => (format!("{label}: {title}"), format!("{label}: «{title}».")),
    }
}

/// Addresses `e` in one transaction; what it wrote, or nothing when another replica had
/// already processed it.
async fn address(db: &DatabaseConnection, e: event::Model) -> Result<Vec<Written>, ApiError> {
    crate::services::transaction(db, async |txn| {
        let now = crate::services::now();
        let marked =
            notified_event::Entity::insert(notified_event::ActiveModel { event_id: Set(e.id), processed_at: Set(now) })
                .on_conflict(OnConflict::column(notified_event::Column::EventId).do_nothing().to_owned())
                .exec_without_returning(txn)
                .await?;
        if marked == 0 {
            return Ok(Vec::new());
        }
        let to = recipients(txn, &e).await?;
        if to.is_empty() {
            return Ok(Vec::new());
        }
        let (title, body) = texts(&e.event_type, &e.data);
        let rows: Vec<notification::ActiveModel> = to
            .iter()
            .map(|r| {
                notification::ActiveModel::from(notification::Model {
                    id: Uuid::now_v7(),
                    organization_id: e.organization_id,
                    user_id: r.id,
                    event_id: e.id,
                    event_type: e.event_type.clone(),
                    resource_type: e.resource_type.clone(),
                    resource_id: e.resource_id,
                    title: title.chars().take(300).collect(),
                    body: body.clone(),
                    created_at: now,
                    read_at: None,
                })
            })
            .collect();
        notification::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([notification::Column::UserId, notification::Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        Ok(to.into_iter().map(|r| Written { email: r.email, subject: title.clone(), body: body.clone() }).collect())
    })
    .await
}

/// Addresses the outbox events not processed yet (at most a batch), then mails what it wrote
/// when `mailer` is set. Returns how many events it processed.
pub async fn deliver_once(db: &DatabaseConnection, mailer: Option<&Mailer>) -> Result<usize, ApiError> {
    let done = Query::select().column(notified_event::Column::EventId).from(notified_event::Entity).to_owned();
    let pending = event::Entity::find()
        .filter(event::Column::Id.not_in_subquery(done))
        .order_by_asc(event::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let count = pending.len();
    for e in pending {
        let written = address(db, e).await?;
        let Some(mailer) = mailer else { continue };
        for mail in written {
            match mailer.send(&mail.email, &mail.subject, &mail.body).await {
                Ok(()) => metrics::counter!("mejora_mail_sent_total").increment(1),
                Err(err) => {
                    metrics::counter!("mejora_mail_failed_total").increment(1);
                    tracing::warn!(error = %err, "could not mail a notification; it stays in /me/notifications");
                }
            }
        }
    }
    Ok(count)
}

/// Runs [`deliver_once`] until `stop` turns true, waiting `poll` when there was nothing new.
pub async fn work(db: DatabaseConnection, mailer: Option<Mailer>, poll: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match deliver_once(&db, mailer.as_ref()).await {
            Ok(n) if n as u64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not address notifications"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The caller's notifications: unread first, then newest.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, user_id: Uuid, q: &NotificationListQuery,
) -> Result<Page<NotificationResponse>, ApiError> {
    use notification::Column;
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let mut select = notification::Entity::find()
        .filter(Column::OrganizationId.eq(org))
        .filter(Column::UserId.eq(user_id))
        .order_by(Expr::col(Column::ReadAt).is_null(), Order::Desc)
        .order_by_desc(Column::Id);
    match q.unread {
        Some(true) => select = select.filter(Column::ReadAt.is_null()),
        Some(false) => select = select.filter(Column::ReadAt.is_not_null()),
        None => {}
    }
    if let Some(cursor) = page.cursor("unread")? {
        let unread = cursor.k.as_ref().and_then(Value::as_bool).unwrap_or(false);
        let later = if unread {
            Condition::any()
                .add(Condition::all().add(Column::ReadAt.is_null()).add(Column::Id.lt(cursor.id)))
                .add(Column::ReadAt.is_not_null())
        } else {
            Condition::all().add(Column::ReadAt.is_not_null()).add(Column::Id.lt(cursor.id))
        };
        select = select.filter(later);
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        "unread",
        |r| (Some(Value::Bool(r.read_at.is_none())), r.id),
        NotificationResponse::from,
    ))
}

/// Marks one of the caller's notifications read (again: no change); 404 when it is not theirs.
pub async fn mark_read(
    conn: &impl ConnectionTrait, org: Uuid, user_id: Uuid, id: Uuid,
) -> Result<NotificationResponse, ApiError> {
    use notification::Column;
    let mine = || {
        notification::Entity::find_by_id(id).filter(Column::OrganizationId.eq(org)).filter(Column::UserId.eq(user_id))
    };
    let found = mine().one(conn).await?.ok_or_else(ApiError::not_found)?;
    if found.read_at.is_some() {
        return Ok(NotificationResponse::from(found));
    }
    notification::Entity::update_many()
        .col_expr(Column::ReadAt, Expr::value(crate::services::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::ReadAt.is_null())
        .exec(conn)
        .await?;
    let found = mine().one(conn).await?.ok_or_else(ApiError::not_found)?;
    Ok(NotificationResponse::from(found))
}

/// Marks every unread notification of the caller read.
pub async fn mark_all_read(conn: &impl ConnectionTrait, org: Uuid, user_id: Uuid) -> Result<ReadAllResponse, ApiError> {
    use notification::Column;
    let done = notification::Entity::update_many()
        .col_expr(Column::ReadAt, Expr::value(crate::services::now()))
        .filter(Column::OrganizationId.eq(org))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ReadAt.is_null())
        .exec(conn)
        .await?;
    Ok(ReadAllResponse { marked: done.rows_affected })
}
