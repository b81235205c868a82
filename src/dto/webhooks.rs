//! Webhook subscriptions and their deliveries (`/webhooks`).
use crate::dto::common::Meta;
use crate::entities::enums::{DeliveryStatus, EventType};
use crate::entities::{webhook, webhook_delivery};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A webhook subscription: where the organization's events go. Its secret is never shown here.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Endpoint receiving the events (`https://…`).
    pub url: String,
    /// Free text for the administrators.
    pub description: Option<String>,
    /// Event type codes or wildcards (`action.*`, `*`) this endpoint receives.
    pub event_types: Vec<String>,
    /// Whether deliveries are attempted.
    pub active: bool,
    /// Why the service disabled it: `gone` (the endpoint answered 410) or `failing` (5 days of
    /// failures); `null` otherwise.
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs deliveries.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<webhook::Model> for WebhookResponse {
    fn from(m: webhook::Model) -> Self {
        let event_types = serde_json::from_value(m.event_types.clone()).unwrap_or_default();
        WebhookResponse {
            id: m.id,
            organization_id: m.organization_id,
            url: m.url.clone(),
            description: m.description.clone(),
            event_types,
            active: m.active,
            disabled_reason: m.disabled_reason.clone(),
            previous_secret_expires_at: m.previous_secret_expires_at,
            meta: crate::meta_of!(m),
        }
    }
}

/// A webhook with its signing secret, shown only in this reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// Signing secret (`whsec_` + base64 of 24 random bytes). Shown only here: `null` in a
    /// replay of the creating request (same `Idempotency-Key`), which then carries
    /// `Secret-Omitted: secret`; rotate it if the first reply was lost.
    #[schema(nullable)]
    pub secret: Option<String>,
}

/// A new webhook subscription.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Endpoint (`https://…`; `http://` only when the operator allows it). Its host must not be
    /// a loopback, private or link-local address unless the operator allow-list names it.
    #[schema(example = "https://sistema.entidad.gov.co/hooks/mejora", min_length = 1, max_length = 2048)]
    pub url: String,
    /// Event type codes (`finding.created`) or wildcards (`action.*`, `*`); at least one.
    #[schema(min_items = 1, max_items = 50)]
    pub event_types: Vec<String>,
    /// Free text for the administrators.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Whether deliveries are attempted (default `true`).
    pub active: Option<bool>,
}

/// Changes to a webhook (merge patch).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// Endpoint.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// Event type codes or wildcards (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_items = 1, max_items = 50)]
    pub event_types: Option<Vec<String>>,
    /// Free text; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    /// `true` re-enables an endpoint the service disabled; `false` pauses deliveries.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// One event for one endpoint: its attempts and what the endpoint answered last.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct WebhookDeliveryResponse {
    /// Id.
    pub id: Uuid,
    /// Webhook.
    pub webhook_id: Uuid,
    /// The event; the `webhook-id` header is `msg_` + its id without dashes.
    pub event_id: Uuid,
    /// `webhook-id` header of every attempt (the receiver's idempotency key).
    pub message_id: String,
    /// Event type.
    pub event_type: EventType,
    /// `pending`, `succeeded` or `failed`.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (`null` once delivered or given up).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last answer (`null`: none, e.g. a timeout or a refused address).
    pub last_status_code: Option<i32>,
    /// Time the last attempt took, in milliseconds.
    pub last_latency_ms: Option<i64>,
    /// What went wrong in the last attempt, when it failed.
    pub last_error: Option<String>,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the delivery was created.
    pub created_at: DateTime<Utc>,
}

impl From<webhook_delivery::Model> for WebhookDeliveryResponse {
    fn from(m: webhook_delivery::Model) -> Self {
        WebhookDeliveryResponse {
            id: m.id,
            webhook_id: m.webhook_id,
            event_id: m.event_id,
            message_id: message_id(m.event_id),
            event_type: m.event_type,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_attempt_at: m.last_attempt_at,
            last_status_code: m.last_status_code,
            last_latency_ms: m.last_latency_ms,
            last_error: m.last_error,
            delivered_at: m.delivered_at,
            created_at: m.created_at,
        }
    }
}

/// The `webhook-id` of an event: `msg_` + its id without dashes.
pub fn message_id(event_id: Uuid) -> String {
    format!("msg_{}", event_id.simple())
}

/// Filters of a webhook's deliveries (newest first).
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryListQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}
