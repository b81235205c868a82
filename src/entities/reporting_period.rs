//! `reporting_period`: a reporting cut-off (corte) of the organization — a SIRECI semiannual
//! cut-off, a committee's or another — with the plans it covers and its state
//! (`open → closed → filed`). Closing stores a snapshot in [`super::reporting_period_plan`] and
//! [`super::reporting_period_action`].
use super::category::Texts;
use super::enums::{PeriodKind, PeriodStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reporting_period")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: PeriodKind,
    pub cut_off_date: Date,
    pub filing_deadline: Date,
    /// Plan ids as a JSON array of strings; `None`: every plan running when it is closed.
    pub plan_ids: Option<Texts>,
    pub corrects_period_id: Option<Uuid>,
    pub status: PeriodStatus,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<Uuid>,
    pub snapshot_sha256: Option<String>,
    pub plans_count: Option<i32>,
    pub actions_count: Option<i32>,
    pub progress_pct: Option<f64>,
    pub compliance_pct: Option<f64>,
    pub effectiveness_pct: Option<f64>,
    pub filed_on: Option<Date>,
    pub filing_reference: Option<String>,
    pub filed_file_sha256: Option<String>,
    pub filed_at: Option<DateTimeUtc>,
    pub filed_by: Option<Uuid>,
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
