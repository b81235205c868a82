//! Improvement actions of a plan, their links to findings and objectives, follow-up evidence
//! and the files stored for it.
//!
//! `action_finding.finding_id` has no foreign key yet: the `finding` table is built on
//! another branch; the key is added when both are merged.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_actions_evidence"
    }
}

const ACTION_TYPE: &[&str] = &["correction", "corrective", "preventive", "improvement"];
const ACTION_FOCUS: &[&str] = &["corrective", "optimisation", "maturity"];
const ACTION_STATUS: &[&str] = &["planned", "in_progress", "done", "cancelled"];
const COMPLIANCE: &[&str] = &["pending", "met", "met_late", "not_met"];
const EFFECTIVENESS: &[&str] = &["pending", "effective", "not_effective", "not_assessable"];
const REVIEW_STATUS: &[&str] = &["submitted", "accepted", "rejected", "needs_changes"];

fn name(s: &str) -> Alias {
    Alias::new(s)
}

fn index(table: &str, suffix: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{table}_{suffix}")).table(name(table));
    for c in cols {
        idx.col(name(c));
    }
    idx.to_owned()
}

/// A quantity that must be greater than zero.
fn positive(col: &str) -> ColumnDef {
    let mut def = double(name(col));
    def.check(Expr::col(name(col)).gt(0));
    def
}

fn fk(from_table: &str, from_col: &str, to_table: &str, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(name(from_table), name(from_col))
        .to(name(to_table), name("id"))
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut action = Table::create();
        action
            .table(name("action"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("plan_id")))
            .col(uuid_null(name("category_id")))
            .col(integer(name("number")))
            .col(enum_text(name("action_type"), ACTION_TYPE))
            .col(enum_text(name("focus"), ACTION_FOCUS))
            .col(string_len(name("title"), 500))
            .col(text_null(name("description")))
            .col(text_null(name("goal")))
            .col(string_len_null(name("unit"), 100))
            .col(positive("target_quantity"))
            .col(uuid_null(name("responsible_id")))
            .col(string_len_null(name("responsible_unit"), 200))
            .col(date(name("start_date")))
            .col(date(name("due_date")))
            .col(enum_text(name("status"), ACTION_STATUS))
            .col(date_null(name("completed_on")))
            .col(enum_text(name("compliance"), COMPLIANCE))
            .col(enum_text(name("effectiveness"), EFFECTIVENESS))
            .col(uuid_null(name("evaluated_by")))
            .col(date_null(name("evaluated_on")))
            .col(text_null(name("evaluation_criterion")))
            .col(text_null(name("evaluation_note")))
            .col(uuid_null(name("reformulated_from_id")))
            .col(text_null(name("reformulation_reason")))
            .col(text_null(name("resources")))
            .col(decimal_len_null(name("estimated_cost"), 18, 2));
        with_bookkeeping(&mut action)
            .foreign_key(&mut org_fk("action"))
            .foreign_key(&mut fk("action", "plan_id", "plan", ForeignKeyAction::Cascade))
            .foreign_key(&mut fk("action", "category_id", "category", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("action", "responsible_id", "app_user", ForeignKeyAction::Restrict))
            .foreign_key(&mut fk("action", "reformulated_from_id", "action", ForeignKeyAction::SetNull));
        manager.create_table(action.to_owned()).await?;
        manager
            .create_index(
                index("action", "plan_number", &["plan_id", "number"])
                    .name("ux_action_plan_number")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("action", "org_id", &["organization_id", "id"])).await?;
        manager.create_index(index("action", "org_plan", &["organization_id", "plan_id", "id"])).await?;
        manager.create_index(index("action", "org_status", &["organization_id", "status", "id"])).await?;
        manager.create_index(index("action", "org_responsible", &["organization_id", "responsible_id", "id"])).await?;
        manager.create_index(index("action", "org_due", &["organization_id", "due_date", "id"])).await?;
        manager.create_index(index("action", "category", &["category_id"])).await?;
        manager.create_index(index("action", "reformulated", &["reformulated_from_id"])).await?;

        // No foreign key on finding_id yet (see the module comment).
        manager
            .create_table(
                Table::create()
                    .table(name("action_finding"))
                    .col(uuid(name("action_id")))
                    .col(uuid(name("finding_id")))
                    .col(uuid(name("organization_id")))
                    .primary_key(Index::create().col(name("action_id")).col(name("finding_id")))
                    .foreign_key(&mut fk("action_finding", "action_id", "action", ForeignKeyAction::Cascade))
                    .foreign_key(&mut org_fk("action_finding"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("action_finding", "finding", &["finding_id", "action_id"])).await?;

        manager
            .create_table(
                Table::create()
                    .table(name("action_objective"))
                    .col(uuid(name("action_id")))
                    .col(uuid(name("objective_id")))
                    .col(uuid(name("organization_id")))
                    .primary_key(Index::create().col(name("action_id")).col(name("objective_id")))
                    .foreign_key(&mut fk("action_objective", "action_id", "action", ForeignKeyAction::Cascade))
                    .foreign_key(&mut fk("action_objective", "objective_id", "objective", ForeignKeyAction::Restrict))
                    .foreign_key(&mut org_fk("action_objective"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("action_objective", "objective", &["objective_id", "action_id"])).await?;

        let mut evidence = Table::create();
        evidence
            .table(name("evidence"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("action_id")))
            .col(date(name("cut_off_date")))
            .col(date_null(name("evidence_date")))
            .col(text(name("description")))
            .col(double_null(name("reported_quantity")))
            .col(json_binary(name("links")))
            .col(enum_text(name("review_status"), REVIEW_STATUS))
            .col(uuid_null(name("reviewed_by")))
            .col(timestamp_with_time_zone_null(name("reviewed_at")))
            .col(text_null(name("review_note")));
        with_bookkeeping(&mut evidence).foreign_key(&mut org_fk("evidence")).foreign_key(&mut fk(
            "evidence",
            "action_id",
            "action",
            ForeignKeyAction::Restrict,
        ));
        manager.create_table(evidence.to_owned()).await?;
        manager.create_index(index("evidence", "action", &["action_id", "id"])).await?;
        manager.create_index(index("evidence", "org_id", &["organization_id", "id"])).await?;
        manager.create_index(index("evidence", "org_review", &["organization_id", "review_status", "id"])).await?;

        let mut file = Table::create();
        file.table(name("evidence_file"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("evidence_id")))
            .col(string_len(name("name"), 255))
            .col(string_len(name("media_type"), 100))
            .col(big_integer(name("size")))
            .col(string_len(name("sha256"), 64))
            .col(string_len_uniq(name("storage_key"), 200));
        with_bookkeeping(&mut file).foreign_key(&mut org_fk("evidence_file")).foreign_key(&mut fk(
            "evidence_file",
            "evidence_id",
            "evidence",
            ForeignKeyAction::Restrict,
        ));
        manager.create_table(file.to_owned()).await?;
        manager.create_index(index("evidence_file", "evidence", &["evidence_id", "id"])).await?;
        manager.create_index(index("evidence_file", "org_id", &["organization_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["evidence_file", "evidence", "action_objective", "action_finding", "action"] {
            manager.drop_table(Table::drop().table(name(table)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
