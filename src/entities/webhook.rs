//! `webhook`: an organization's webhook subscription — the endpoint, the event types it wants
//! (codes or wildcards such as `action.*`), and its signing secrets (never shown after creation
//! or rotation; never in lists, events or the audit trail).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// Event type codes and wildcards, as a JSON array of strings.
    pub event_types: Json,
    pub active: bool,
    /// `gone` (the endpoint answered 410) or `failing` (5 days of failures), when disabled.
    pub disabled_reason: Option<String>,
    /// `whsec_…`: signs every delivery.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// First failure since the last success.
    pub failing_since: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
