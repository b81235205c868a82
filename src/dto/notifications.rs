//! Notifications of the caller on the wire.
use crate::entities::notification;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An event addressed to the caller: a reminder, evidence to review, an upload that finished.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Notification)]
pub struct NotificationResponse {
    /// Id.
    pub id: Uuid,
    /// The integration event it tells about (the same id a webhook delivery carries).
    pub event_id: Uuid,
    /// Type of that event (`action.due_soon`, `import.completed`…).
    #[schema(value_type = crate::entities::enums::EventType, example = "action.due_soon")]
    pub event_type: String,
    /// Kind of resource it is about (an `AuditResource` code such as `action`).
    #[schema(example = "action")]
    pub resource_type: String,
    /// Id of that resource, when it has one.
    pub resource_id: Option<Uuid>,
    /// Short text, in Spanish.
    #[schema(example = "Acción próxima a vencer: Revisar accesos")]
    pub title: String,
    /// Longer text, in Spanish.
    pub body: String,
    /// Whether the caller has not read it yet.
    pub unread: bool,
    /// When it was addressed (UTC).
    pub created_at: DateTime<Utc>,
    /// When the caller marked it read (UTC), if they did.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for NotificationResponse {
    fn from(m: notification::Model) -> Self {
        NotificationResponse {
            id: m.id,
            event_id: m.event_id,
            event_type: m.event_type,
            resource_type: m.resource_type,
            resource_id: m.resource_id,
            title: m.title,
            body: m.body,
            unread: m.read_at.is_none(),
            created_at: m.created_at,
            read_at: m.read_at,
        }
    }
}

/// Filters of the notification list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationListQuery {
    /// `true`: only unread notifications; `false`: only read ones.
    pub unread: Option<bool>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// What marking every notification read did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadAllResponse {
    /// Notifications that were unread and are now read.
    pub marked: u64,
}
