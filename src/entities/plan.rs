//! `plan`: an improvement plan (plan de mejoramiento). `plan_version` is the plan's own version
//! number (1, 2, … per code); `version` is the row version behind the `ETag`.
use super::enums::{FundingSource, MaturityLevel, PlanOrigin, PlanStatus, PolicyScope};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub plan_version: i32,
    pub title: String,
    pub description: Option<String>,
    pub policy_scope: PolicyScope,
    pub origin: Option<PlanOrigin>,
    pub fiscal_year: Option<i32>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub status: PlanStatus,
    pub prepared_by: Option<String>,
    pub prepared_by_role: Option<String>,
    pub prepared_on: Option<Date>,
    pub approved_by: Option<String>,
    pub approval_reference: Option<String>,
    pub approved_on: Option<Date>,
    pub cancellation_reason: Option<String>,
    pub budget: Option<Decimal>,
    pub funding_source: Option<FundingSource>,
    pub maturity_current: Option<MaturityLevel>,
    pub maturity_target: Option<MaturityLevel>,
    pub previous_version_id: Option<Uuid>,
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
