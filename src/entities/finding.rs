//! `finding`: an audit finding (hallazgo), unique per organization by its natural key
//! (source, report code, finding code).
use super::enums::{Classification, FindingSource, FindingStatus, PresumedIncidence, Severity};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "finding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source: FindingSource,
    pub auditor: Option<String>,
    pub report_code: String,
    pub report_date: Option<Date>,
    pub fiscal_year: Option<i32>,
    pub finding_code: String,
    pub title: String,
    pub condition: Option<String>,
    pub criterion: Option<String>,
    pub cause: Option<String>,
    pub effect: Option<String>,
    pub classification: Option<Classification>,
    pub severity: Option<Severity>,
    pub requirements: Requirements,
    pub presumed_incidence: Incidences,
    pub fiscal_amount: Option<Decimal>,
    pub status: FindingStatus,
    pub plan_id: Option<Uuid>,
    pub repeats_finding_id: Option<Uuid>,
    pub import_id: Option<Uuid>,
    pub search: String,
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub version: i32,
}

/// Requirement references (ISO/IEC 27001 controls, MSPI domains, legal articles), stored as a
/// JSON array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Requirements(pub Vec<String>);

/// Presumed incidences of a comptroller finding, stored as a JSON array of codes, sorted and
/// without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Incidences(pub Vec<PresumedIncidence>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
