//! The caller's notifications: reminders, evidence to review, uploads that finished.
use crate::auth::{AnyMember, Auth};
use crate::dto::notifications::{NotificationListQuery, NotificationResponse, ReadAllResponse};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::NotificationPath;
use crate::error::{ApiError, Problem};
use crate::services::notifications;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// List my notifications
///
/// The events addressed to the caller (`action.due_soon` and `action.overdue` reminders and
/// the other changes of the actions they are responsible for, evidence waiting for an
/// auditor's review, their uploads that finished), unread first, then newest first. Texts are
/// in Spanish. A caller sees only their own notifications.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(NotificationListQuery, PageParams), responses(
    (status = 200, description = "One page", body = Page<NotificationResponse>),
    (status = 400, description = "A cursor of another list or a limit out of range", body = Problem),
))]
#[get("/me/notifications")]
pub async fn list_notifications(
    auth: Auth<AnyMember>, state: web::Data<AppState>, query: web::Query<NotificationListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = notifications::list(&state.db, auth.organization_id, auth.principal.id, &query).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Mark a notification read
///
/// Marking one that is already read changes nothing.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(NotificationPath), responses(
    (status = 200, description = "The notification, read", body = NotificationResponse),
    (status = 404, description = "No such notification of yours", body = Problem),
))]
#[post("/me/notifications/{id}/read")]
pub async fn read_notification(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<NotificationPath>,
) -> Result<HttpResponse, ApiError> {
    let read = notifications::mark_read(&state.db, auth.organization_id, auth.principal.id, id.id).await?;
    Ok(HttpResponse::Ok().json(read))
}

/// Mark all my notifications read
#[utoipa::path(tag = "me", security(("bearer" = [])), responses(
    (status = 200, description = "How many were marked", body = ReadAllResponse),
))]
#[post("/me/notifications/read-all")]
pub async fn read_all_notifications(
    auth: Auth<AnyMember>, state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let done = notifications::mark_all_read(&state.db, auth.organization_id, auth.principal.id).await?;
    Ok(HttpResponse::Ok().json(done))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_notifications).service(read_all_notifications).service(read_notification);
}
