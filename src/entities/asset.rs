//! `asset`: a critical information asset of a process (information, software, hardware…), its
//! owner and custodian, its classification under Ley 1712 and its C/I/A values.
use super::enums::{AssetKind, CiaLevel, InformationClassification};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "asset")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub process: String,
    pub kind: AssetKind,
    pub description: Option<String>,
    pub owner_id: Option<Uuid>,
    pub owner_unit: Option<String>,
    pub custodian_id: Option<Uuid>,
    pub custodian_unit: Option<String>,
    pub classification: InformationClassification,
    pub personal_data: bool,
    pub confidentiality: CiaLevel,
    pub integrity: CiaLevel,
    pub availability: CiaLevel,
    pub critical: bool,
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
