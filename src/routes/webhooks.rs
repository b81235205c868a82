//! Webhook subscriptions (`/webhooks`, administrators), their deliveries, retries and test
//! events. Deliveries follow Standard Webhooks; see the README's section for integrators.
use crate::auth::{Admin, Auth};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::paths::WebhookPath;
use crate::dto::webhooks::{
    CreateWebhookRequest, DeliveryListQuery, UpdateWebhookRequest, WebhookDeliveryResponse, WebhookResponse,
    WebhookWithSecret,
};
use crate::error::{ApiError, Problem};
use crate::http::etag::{ok_tagged, IfMatch};
use crate::http::idempotency::{self, IdempotencyKey, Reply};
use crate::http::Json;
use crate::services::audit::Actor;
use crate::services::transaction;
use crate::services::webhooks;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Create a webhook subscription
///
/// The organization's events of the listed types (codes such as `finding.created`, or
/// wildcards such as `action.*` and `*`) are POSTed to `url`, signed per Standard Webhooks.
/// The URL must be `https` and must not resolve to a loopback, private or link-local address
/// unless the operator allows it (422, field code `address_not_allowed`). The reply holds the
/// signing secret, never shown again (a replay with the same `Idempotency-Key` has
/// `secret: null` and `Secret-Omitted: secret`).
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhookRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created, with its secret", body = WebhookWithSecret, headers(("Location" = String, description = "URL of the webhook"), ("ETag" = String, description = "Version"), ("Idempotent-Replayed" = Option<String>, description = "`true` on a replay"), ("Secret-Omitted" = Option<String>, description = "On a replay, the body fields whose secret value was shown only in the first reply (`secret`)"))),
        (status = 422, description = "Invalid fields (URL scheme or address, unknown event types), or Idempotency-Key reused", body = Problem),
    ))]
#[post("/webhooks")]
pub async fn create_webhook(
    auth: Auth<Admin>, state: web::Data<AppState>, key: IdempotencyKey, body: Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = Actor::from(&auth.principal);
    let settings = &state.config.webhooks;
    idempotency::write(&state.db, &auth, &key, &("create_webhook", &body), async |txn| {
        let (hook, secret) = webhooks::create(txn, settings, &actor, auth.organization_id, body.clone()).await?;
        let location = format!("/api/v1/webhooks/{}", hook.id);
        let version = hook.version;
        let body = WebhookWithSecret { webhook: hook.into(), secret: Some(secret) };
        Ok(Reply::created(location, version, &body)?.secret("secret"))
    })
    .await
}

/// List webhook subscriptions
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, description = "One page", body = Page<WebhookResponse>),
))]
#[get("/webhooks")]
pub async fn list_webhooks(
    auth: Auth<Admin>, state: web::Data<AppState>, page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::list(&state.db, auth.organization_id, &page).await?))
}

/// Get a webhook subscription
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(WebhookPath), responses(
    (status = 200, description = "The webhook", body = WebhookResponse, headers(("ETag" = String, description = "Version"))),
    (status = 404, description = "No such webhook in your organization", body = Problem),
))]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<WebhookPath>,
) -> Result<HttpResponse, ApiError> {
    let found = webhooks::get(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.meta.version, &found))
}

/// Update a webhook subscription (merge patch)
///
/// Changes the URL, event types, description or active flag. `active: true` re-enables an
/// endpoint the service disabled (after a 410 or 5 days of failures); its pending deliveries
/// resume.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), request_body(content = UpdateWebhookRequest, content_type = "application/merge-patch+json"),
    params(WebhookPath, IfMatch),
    responses(
        (status = 200, description = "Updated", body = WebhookResponse, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such webhook in your organization", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<WebhookPath>, if_match: IfMatch,
    body: Json<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let actor = Actor::from(&auth.principal);
    let settings = &state.config.webhooks;
    let updated = transaction(&state.db, async |txn| {
        webhooks::update(txn, settings, &actor, auth.organization_id, id.id, version, body.into_inner()).await
    })
    .await?;
    Ok(ok_tagged(updated.version, &WebhookResponse::from(updated)))
}

/// Delete a webhook subscription
///
/// With its deliveries; nothing more is sent to the endpoint.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(WebhookPath, IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook in your organization", body = Problem),
    ))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<WebhookPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    transaction(&state.db, async |txn| {
        webhooks::delete(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook's signing secret
///
/// Issues a new secret (shown once). For 24 hours deliveries carry two signatures, with the
/// new and the old secret, so the receiver can switch without losing events.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(WebhookPath, IfMatch), responses(
    (status = 200, description = "New secret", body = WebhookWithSecret, headers(("ETag" = String, description = "New version"))),
    (status = 404, description = "No such webhook in your organization", body = Problem),
))]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<WebhookPath>, if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let (hook, secret) = transaction(&state.db, async |txn| {
        webhooks::rotate_secret(txn, &Actor::from(&auth.principal), auth.organization_id, id.id, version).await
    })
    .await?;
    Ok(ok_tagged(hook.version, &WebhookWithSecret { webhook: hook.into(), secret: Some(secret) }))
}

/// List a webhook's deliveries
///
/// Newest first: each event sent to the endpoint with its attempts, state, the last answer's
/// status code and latency, and when the next attempt is due.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(WebhookPath, DeliveryListQuery), responses(
    (status = 200, description = "One page", body = Page<WebhookDeliveryResponse>),
    (status = 404, description = "No such webhook in your organization", body = Problem),
))]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<WebhookPath>, query: web::Query<DeliveryListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::deliveries(&state.db, auth.organization_id, id.id, &query).await?))
}

/// Retry a delivery
///
/// Queues the delivery for an attempt now, whatever its state, with the same `webhook-id`.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id"), ("delivery_id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = WebhookDeliveryResponse),
        (status = 404, description = "No such webhook or delivery in your organization", body = Problem),
    ))]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    auth: Auth<Admin>, state: web::Data<AppState>, path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let delivery =
        transaction(&state.db, async |txn| webhooks::retry(txn, auth.organization_id, id, delivery_id).await).await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

/// Send a test event
///
/// Queues a `webhook.test` event to this endpoint only (whatever its event types); follow it
/// in the deliveries.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(WebhookPath), responses(
    (status = 202, description = "Queued", body = WebhookDeliveryResponse),
    (status = 404, description = "No such webhook in your organization", body = Problem),
))]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    auth: Auth<Admin>, state: web::Data<AppState>, id: web::Path<WebhookPath>,
) -> Result<HttpResponse, ApiError> {
    let delivery = transaction(&state.db, async |txn| webhooks::test(txn, auth.organization_id, id.id).await).await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_webhook_deliveries)
        .service(retry_webhook_delivery)
        .service(test_webhook);
}
