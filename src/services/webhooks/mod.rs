//! Webhook subscriptions (`/webhooks`, administrators) and their deliveries. Events come from
//! the outbox ([`super::events`]); [`dispatch`] fans them out to the matching endpoints and
//! delivers them signed per Standard Webhooks ([`signing`]), refusing private addresses
//! ([`ssrf`]). Secrets are `whsec_` + base64 of 24 random bytes, returned only on creation and
//! rotation; lists, events and the audit trail carry [`WebhookResponse`], which has none.
pub mod dispatch;
pub mod signing;
pub mod ssrf;

use super::audit::{self, Actor, Entry};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::config;
use crate::dto::pagination::{Page, PageParams};
use crate::dto::validate::Checks;
use crate::dto::webhooks::{
    CreateWebhookRequest, DeliveryListQuery, UpdateWebhookRequest, WebhookDeliveryResponse, WebhookResponse,
};
use crate::entities::enums::{AuditOperation, AuditResource, DeliveryStatus, EventType};
use crate::entities::{webhook, webhook_delivery};
use crate::error::ApiError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sea_orm::{DbBackend, Iterable, Statement};
use uuid::Uuid;

/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Whether `code` is selected by one of `patterns` (`*`, `action.*`, `action.created`).
pub fn matches(patterns: &[String], code: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == code
            || p.strip_suffix('*').is_some_and(|prefix| prefix.ends_with('.') && code.starts_with(prefix))
    })
}

/// Checks the event type list: known codes, or `*`, or `<resource>.*` for a known resource.
fn check_event_types(c: &mut Checks, list: &[String]) -> Vec<String> {
    if list.is_empty() || list.len() > 50 {
        c.push("event_types", "count", "between 1 and 50 event types");
    }
    let known: Vec<&str> = EventType::iter().map(EventType::code).collect();
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        let p = raw.trim();
        let ok = p == "*"
            || known.contains(&p)
            || p.strip_suffix(".*")
                .is_some_and(|r| !r.is_empty() && known.iter().any(|k| k.starts_with(&format!("{r}."))));
        if !ok {
            c.push(
                &format!("event_types[{i}]"),
                "unknown_event_type",
                format!("{p:?} is not an event type nor a wildcard such as action.* or *"),
            );
        } else if !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    out
}

fn clean(description: Option<String>) -> Option<String> {
    description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty())
}

/// Checks the URL's form and scheme (the address is checked by [`ssrf::check`]).
fn check_url_form(c: &mut Checks, settings: &config::Webhooks, raw: &str) -> Option<url::Url> {
    if raw.len() > 2048 {
        c.push("url", "too_long", "at most 2048 characters");
        return None;
    }
    match url::Url::parse(raw.trim()) {
        Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && settings.allow_http) => {
            if u.host_str().is_none_or(str::is_empty) || !u.username().is_empty() || u.password().is_some() {
                c.push("url", "invalid_url", "an absolute URL with a host and without credentials");
                None
            } else {
                Some(u)
            }
        }
        Ok(_) => {
            c.push("url", "scheme_not_allowed", "the URL must use https");
            None
        }
        Err(_) => {
            c.push("url", "invalid_url", "not an absolute URL");
            None
        }
    }
}

/// Checks the URL (form, scheme, then the addresses its host resolves to).
async fn check_url(settings: &config::Webhooks, raw: &str) -> Result<String, ApiError> {
    let mut c = Checks::new();
    let url = check_url_form(&mut c, settings, raw);
    c.finish()?;
    let Some(url) = url else { return Err(ApiError::field("url", "invalid_url", "not an absolute URL")) };
    ssrf::Policy::from(settings)
        .check(&url)
        .await
        .map_err(|refusal| ApiError::field("url", refusal.code(), refusal.to_string()))?;
    Ok(url.to_string())
}

/// Creates a webhook; returns it with its secret (shown once).
pub async fn create(
    conn: &impl ConnectionTrait, settings: &config::Webhooks, actor: &Actor, org: Uuid, req: CreateWebhookRequest,
) -> Result<(webhook::Model, String), ApiError> {
    let mut c = Checks::new();
    let _ = check_url_form(&mut c, settings, &req.url);
    let event_types = check_event_types(&mut c, &req.event_types);
    c.optional_text("description", req.description.as_deref(), 500);
    c.finish()?;
    let url = check_url(settings, &req.url).await?;
    let secret = signing::new_secret();
    let now = super::now();
    let id = Uuid::now_v7();
    let model = webhook::Model {
        id,
        url,
        description: clean(req.description),
        event_types: serde_json::json!(event_types),
        active: req.active.unwrap_or(true),
        disabled_reason: None,
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_expires_at: None,
        failing_since: None,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    webhook::Entity::insert(webhook::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Webhook, id, AuditOperation::Create)
            .after(&WebhookResponse::from(model.clone())),
    )
    .await?;
    Ok((model, secret))
}

/// Webhooks of `org`, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, page: &PageParams,
) -> Result<Page<WebhookResponse>, ApiError> {
    let limit = page.limit()?;
    let mut select = scoped::<webhook::Entity>(org).order_by_asc(webhook::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(webhook::Column::Id.gt(cursor.id));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |w| (None, w.id), WebhookResponse::from))
}

/// A webhook of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<WebhookResponse, ApiError> {
    Ok(find_in_org::<webhook::Entity>(conn, org, id).await?.into())
}

/// Applies a merge patch. Re-activating clears the reason the service disabled it.
pub async fn update(
    conn: &impl ConnectionTrait, settings: &config::Webhooks, actor: &Actor, org: Uuid, id: Uuid,
    expected_version: i32, req: UpdateWebhookRequest,
) -> Result<webhook::Model, ApiError> {
    let current = find_in_org::<webhook::Entity>(conn, org, id).await?;
    let mut c = Checks::new();
    if let Some(url) = &req.url {
        let _ = check_url_form(&mut c, settings, url);
    }
    let event_types = req.event_types.as_ref().map(|list| check_event_types(&mut c, list));
    if let Some(Some(d)) = &req.description {
        c.optional_text("description", Some(d), 500);
    }
    c.finish()?;
    let url = match &req.url {
        Some(url) => Some(check_url(settings, url).await?),
        None => None,
    };
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    let mut next = current.clone();
    crate::dto::patch::set(&mut next.url, url);
    crate::dto::patch::set(&mut next.event_types, event_types.map(|t| serde_json::json!(t)));
    crate::dto::patch::set_nullable(&mut next.description, req.description.map(clean));
    crate::dto::patch::set(&mut next.active, req.active);
    if next.active {
        next.disabled_reason = None;
        if !current.active {
            next.failing_since = None;
        }
    }
    if next == current {
        return Ok(current);
    }
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version += 1;
    update_versioned(conn, org, id, current.version, webhook::ActiveModel::from(next.clone())).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Webhook, id, AuditOperation::Update)
            .before(&WebhookResponse::from(current))
            .after(&WebhookResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

/// Deletes a webhook and its deliveries.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(), ApiError> {
    let current = find_in_org::<webhook::Entity>(conn, org, id).await?;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::WebhookId.eq(id)).exec(conn).await?;
    super::tenancy::delete_versioned::<webhook::Entity>(conn, org, id, expected_version).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Webhook, id, AuditOperation::Delete).before(&WebhookResponse::from(current)),
    )
    .await
    .map_err(Into::into)
}

/// Replaces the secret; the old one keeps signing beside the new one for 24 hours.
pub async fn rotate_secret(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<(webhook::Model, String), ApiError> {
    let current = find_in_org::<webhook::Entity>(conn, org, id).await?;
    if current.version != expected_version {
        return Err(ApiError::stale(current.version, expected_version));
    }
    let secret = signing::new_secret();
    let now = super::now();
    let mut next = current.clone();
    next.previous_secret = Some(current.secret.clone());
    next.previous_secret_expires_at = Some(now + ROTATION_OVERLAP);
    next.secret = secret.clone();
    next.updated_at = now;
    next.updated_by = actor.id;
    next.version += 1;
    update_versioned(conn, org, id, current.version, webhook::ActiveModel::from(next.clone())).await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::Webhook, id, AuditOperation::RotateSecret)).await?;
    Ok((next, secret))
}

/// Deliveries of webhook `id` of `org`, newest first.
pub async fn deliveries(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid, query: &DeliveryListQuery,
) -> Result<Page<WebhookDeliveryResponse>, ApiError> {
    find_in_org::<webhook::Entity>(conn, org, id).await?;
    let page = PageParams { limit: query.limit, cursor: query.cursor.clone() };
    let limit = page.limit()?;
    let mut select = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::OrganizationId.eq(org))
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .order_by_desc(webhook_delivery::Column::Id);
    if let Some(status) = query.status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(webhook_delivery::Column::Id.lt(cursor.id));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |d| (None, d.id), WebhookDeliveryResponse::from))
}

async fn delivery_in(
    conn: &impl ConnectionTrait, org: Uuid, webhook_id: Uuid, id: Uuid,
) -> Result<webhook_delivery::Model, ApiError> {
    webhook_delivery::Entity::find_by_id(id)
        .filter(webhook_delivery::Column::OrganizationId.eq(org))
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .one(conn)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Queues delivery `id` again for an attempt now (whatever its state), keeping its
/// `webhook-id`.
pub async fn retry(
    conn: &impl ConnectionTrait, org: Uuid, webhook_id: Uuid, id: Uuid,
) -> Result<WebhookDeliveryResponse, ApiError> {
    find_in_org::<webhook::Entity>(conn, org, webhook_id).await?;
    delivery_in(conn, org, webhook_id, id).await?;
    let now = super::now();
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(DeliveryStatus::Pending.code()))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(delivery_in(conn, org, webhook_id, id).await?.into())
}

/// Sends a `webhook.test` event to webhook `id` only; returns its delivery.
pub async fn test(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<WebhookDeliveryResponse, ApiError> {
    let hook = find_in_org::<webhook::Entity>(conn, org, id).await?;
    let data = serde_json::json!({ "webhook_id": hook.id, "message": "Prueba de webhook / webhook test" });
    let event = super::events::NewEvent {
        organization_id: org,
        event_type: EventType::WebhookTest,
        resource_type: AuditResource::Webhook,
        resource_id: Some(hook.id),
        data,
    };
    let event_id = super::events::emit_returning_id(conn, event).await?;
    let now = super::now();
    // Fanned out here, to this endpoint only.
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE event SET fanned_out_at = $1 WHERE id = $2",
        _ => "UPDATE event SET fanned_out_at = ? WHERE id = ?",
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, [now.into(), event_id.into()])).await?;
    let delivery = dispatch::new_delivery(&hook, event_id, EventType::WebhookTest, now);
    webhook_delivery::Entity::insert(webhook_delivery::ActiveModel::from(delivery.clone()))
        .exec_without_returning(conn)
        .await?;
    Ok(delivery.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_select_by_resource() {
        let p = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(&p(&["*"]), "finding.created"));
        assert!(matches(&p(&["action.*"]), "action.due_soon"));
        assert!(!matches(&p(&["action.*"]), "evidence.submitted"));
        assert!(!matches(&p(&["act*"]), "action.created"));
        assert!(matches(&p(&["plan.status_changed"]), "plan.status_changed"));
        let mut c = Checks::new();
        assert_eq!(check_event_types(&mut c, &p(&["action.*", "*", "action.*"])), p(&["action.*", "*"]));
        assert!(c.finish().is_ok());
        let mut c = Checks::new();
        check_event_types(&mut c, &p(&["plan.*", "nope.*", "finding.deleted"]));
        assert!(c.finish().is_err());
    }
}
