//! Organizations, users, service accounts, sessions and the audit trail on the wire.
use crate::dto::common::Meta;
use crate::entities::enums::{ActorKind, AuditOperation, AuditResource, EntityOrder, Role, Roles};
use crate::entities::{audit_event, organization, service_account, user};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A public entity (tenant).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Organization)]
pub struct OrganizationResponse {
    /// Id.
    pub id: Uuid,
    /// Name of the entity.
    #[schema(example = "Concejo Municipal de Cartago")]
    pub name: String,
    /// NIT (tax id).
    #[schema(example = "891900493-2")]
    pub tax_id: String,
    /// National or territorial order.
    pub order: Option<EntityOrder>,
    /// Administrative sector.
    pub sector: Option<String>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<organization::Model> for OrganizationResponse {
    fn from(m: organization::Model) -> Self {
        OrganizationResponse {
            id: m.id,
            name: m.name,
            tax_id: m.tax_id,
            order: m.order,
            sector: m.sector,
            meta: crate::meta_of!(m),
        }
    }
}

/// A new organization and, optionally, its first administrator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    /// Name of the entity.
    #[schema(
        example = "Concejo Municipal de Cartago",
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub name: String,
    /// NIT, digits with an optional check digit (`891900493-2`); dots and spaces are ignored.
    #[schema(example = "891900493-2", pattern = r"^[. ]*([0-9][. ]*){6,15}(-[. ]*[0-9][. ]*)?$")]
    pub tax_id: String,
    /// National or territorial order.
    #[serde(default)]
    pub order: Option<EntityOrder>,
    /// Administrative sector.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub sector: Option<String>,
    /// First administrator of the organization (gets the `admin` role).
    #[serde(default)]
    pub admin: Option<FirstAdminRequest>,
}

/// The first administrator of a new organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstAdminRequest {
    /// E-mail (sign-in name).
    #[schema(
        example = "jefe.ti@cartago.gov.co",
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f]+(\.[^@.\s\x00-\x1f\x7f-\x9f]+)+$"
    )]
    pub email: String,
    /// Name shown in reports.
    #[schema(example = "Jefe de TI", min_length = 1, max_length = 200, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub display_name: String,
    /// Initial password: 12 to 256 characters, not a common password, not containing the e-mail.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

/// Changes to an organization (merge patch).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    /// Name of the entity.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 300, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// National or territorial order; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<EntityOrder>)]
    pub order: Option<Option<EntityOrder>>,
    /// Administrative sector; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\x00]*$")]
    pub sector: Option<Option<String>>,
}

/// A person who signs in.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// E-mail (sign-in name), lower-cased.
    #[schema(example = "jefe.ti@cartago.gov.co")]
    pub email: String,
    /// Name shown in reports.
    pub display_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Organizational unit (dependencia).
    pub unit: Option<String>,
    /// Whether the user may sign in.
    pub active: bool,
    /// Whether the user may create organizations.
    pub platform_operator: bool,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<user::Model> for UserResponse {
    fn from(m: user::Model) -> Self {
        UserResponse {
            id: m.id,
            organization_id: m.organization_id,
            email: m.email,
            display_name: m.display_name,
            roles: m.roles.0,
            unit: m.unit,
            active: m.active,
            platform_operator: m.platform_operator,
            meta: crate::meta_of!(m),
        }
    }
}

/// A new user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// E-mail (sign-in name).
    #[schema(
        example = "auditor@cartago.gov.co",
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f]+(\.[^@.\s\x00-\x1f\x7f-\x9f]+)+$"
    )]
    pub email: String,
    /// Name shown in reports.
    #[schema(example = "María Pérez", min_length = 1, max_length = 200, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    pub display_name: String,
    /// Initial password: 12 to 256 characters, not a common password, not containing the e-mail.
    #[schema(example = "correct horse battery staple", min_length = 12, max_length = 256)]
    pub password: String,
    /// Roles (at least one).
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    /// Organizational unit (dependencia).
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub unit: Option<String>,
}

/// Changes to a user (merge patch). Deactivating a user revokes their refresh tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// Name shown in reports.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub display_name: Option<String>,
    /// Roles (replaces the set; at least one).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_items = 1)]
    #[schema(nullable = false)]
    pub roles: Option<Vec<Role>>,
    /// Organizational unit; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\x00]*$")]
    pub unit: Option<Option<String>>,
    /// Whether the user may sign in.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// A new password set by an administrator.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// New password: 12 to 256 characters, not a common password, not containing the e-mail.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

/// A password change by its owner.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// Current password.
    pub current_password: String,
    /// New password: 12 to 256 characters, not a common password, not containing the e-mail.
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// An institutional system that calls the API with client credentials.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ServiceAccount)]
pub struct ServiceAccountResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Client id for `POST /api/v1/auth/token`.
    pub client_id: String,
    /// Name of the calling system.
    pub name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Whether it may obtain tokens.
    pub active: bool,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<service_account::Model> for ServiceAccountResponse {
    fn from(m: service_account::Model) -> Self {
        ServiceAccountResponse {
            id: m.id,
            organization_id: m.organization_id,
            client_id: m.client_id,
            name: m.name,
            roles: m.roles.0,
            active: m.active,
            meta: crate::meta_of!(m),
        }
    }
}

/// A service account with its secret, shown only in this reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceAccountWithSecret {
    /// The account.
    #[serde(flatten)]
    pub account: ServiceAccountResponse,
    /// Client secret. It is stored hashed and cannot be shown again: `null` in a replay of the
    /// creating request (same `Idempotency-Key`), which then carries `Secret-Omitted: client_secret`.
    #[schema(nullable)]
    pub client_secret: Option<String>,
}

/// A new service account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccountRequest {
    /// Name of the calling system.
    #[schema(
        example = "SIGEP integración",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    pub name: String,
    /// Roles (at least one).
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
}

/// Changes to a service account (merge patch).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceAccountRequest {
    /// Name of the calling system.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Roles (replaces the set; at least one).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(min_items = 1)]
    #[schema(nullable = false)]
    pub roles: Option<Vec<Role>>,
    /// Whether it may obtain tokens.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// E-mail and password.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// E-mail.
    #[schema(example = "admin@example.gov.co")]
    pub email: String,
    /// Password.
    pub password: String,
}

/// A refresh token to rotate or revoke.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

/// OAuth 2.0 client-credentials request (RFC 6749 §4.4). The client may instead send its
/// id and secret with HTTP Basic authentication.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ClientCredentialsRequest {
    /// Must be `client_credentials`.
    #[schema(pattern = "^client_credentials$", example = "client_credentials")]
    pub grant_type: String,
    /// Client id (unless sent with HTTP Basic).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Client secret (unless sent with HTTP Basic).
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// Tokens in the OAuth 2.0 shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT access token for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Refresh token (users only); single use, rotated on every refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The authenticated principal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeResponse {
    /// Principal id.
    pub id: Uuid,
    /// `user` or `service_account`.
    #[schema(example = "user")]
    pub kind: String,
    /// Organization.
    pub organization_id: Uuid,
    /// Organization name.
    pub organization_name: String,
    /// E-mail (users) or client id (service accounts).
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Roles held now.
    pub roles: Vec<Role>,
    /// May create organizations.
    pub platform_operator: bool,
}

/// Filters of the user list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Only users holding this role.
    pub role: Option<Role>,
    /// Only active (`true`) or inactive (`false`) users.
    pub active: Option<bool>,
    /// Text in e-mail or display name.
    #[param(max_length = 200, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// A receipt of an earlier verification (its `head`), to prove the chain still extends it.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// A head kept from an earlier verification, as `<head.seq>:<head.hash>` (the sequence
    /// number from 1, a colon, and the 64 lowercase hexadecimal characters of the hash). One
    /// parameter, so that a receipt is always whole.
    #[param(
        pattern = "^[1-9][0-9]{0,17}:[0-9a-f]{64}$",
        example = "1234:9f2c4e0b1a7d3e5f9f2c4e0b1a7d3e5f9f2c4e0b1a7d3e5f9f2c4e0b1a7d3e5f"
    )]
    pub anchor: Option<String>,
}

/// Filters of the audit-event list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditListQuery {
    /// Resource type: a code of the `AuditResource` enumeration (`plan`, `user`, `session`, …).
    #[param(max_length = 100, pattern = r"^[^\x00]*$")]
    pub resource_type: Option<String>,
    /// Resource id.
    #[param(max_length = 300, pattern = r"^[^\x00]*$")]
    pub resource_id: Option<String>,
    /// Operation: a code of the `AuditOperation` enumeration (`create`, `update`, `login`, …).
    #[param(max_length = 100, pattern = r"^[^\x00]*$")]
    pub operation: Option<String>,
    /// Actor id.
    pub actor_id: Option<Uuid>,
    /// Events at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// One audit event, newest first in lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Position in the organization's chain (1, 2, …).
    pub seq: i64,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
    /// Actor id.
    pub actor_id: Option<Uuid>,
    /// Who wrote it: a user, a service account, an anonymous caller or the system.
    #[schema(value_type = ActorKind)]
    pub actor_kind: String,
    /// Roles the actor held.
    #[schema(value_type = Vec<String>)]
    pub actor_roles: serde_json::Value,
    /// Resource type.
    #[schema(value_type = AuditResource)]
    pub resource_type: String,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Operation.
    #[schema(value_type = AuditOperation)]
    pub operation: String,
    /// State before (secrets removed).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// State after (secrets removed).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Request id.
    pub request_id: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// SHA-256 of this event's content and `prev_hash`.
    pub hash: String,
}

impl From<audit_event::Model> for AuditEventResponse {
    fn from(m: audit_event::Model) -> Self {
        AuditEventResponse {
            id: m.id,
            organization_id: m.organization_id,
            seq: m.seq,
            occurred_at: m.occurred_at,
            actor_id: m.actor_id,
            actor_kind: m.actor_kind,
            actor_roles: m.actor_roles,
            resource_type: m.resource_type,
            resource_id: m.resource_id,
            operation: m.operation,
            before: m.before,
            after: m.after,
            request_id: m.request_id,
            client_addr: m.client_addr,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

/// Normalises a role list: sorted, without duplicates.
pub fn roles(list: Vec<Role>) -> Roles {
    Roles(list).normalized()
}
