//! Improvement plans, their scored categories, PEI/PETI strategic objectives and the links
//! from plans to objectives.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_plans"
    }
}

const PLAN_STATUS: &[&str] = &["draft", "submitted", "approved", "in_progress", "closed", "cancelled", "superseded"];
const POLICY_SCOPE: &[&str] = &["mspi", "seguridad_digital", "gobierno_digital", "other"];
const PLAN_ORIGIN: &[&str] = &[
    "furag",
    "mspi_self_assessment",
    "internal_audit",
    "comptroller",
    "certification_audit",
    "independent_review",
    "pentest",
    "incident",
    "management_review",
    "other",
];
const FUNDING_SOURCE: &[&str] = &["operating", "investment", "cooperation", "other"];
const MATURITY: &[&str] = &["nonexistent", "initial", "repeatable", "effective", "managed", "optimised"];
const CATEGORY_SOURCE: &[&str] = &["furag", "mspi", "audit", "other"];
const INDICATOR_KIND: &[&str] = &["process", "result"];
const OBJECTIVE_SOURCE: &[&str] = &["pei", "peti"];

fn name(s: &str) -> Alias {
    Alias::new(s)
}

/// A nullable score column limited to 0–100 (the service checks it first and names the field).
fn score(col: &str) -> ColumnDef {
    let mut def = double_null(name(col));
    def.check(Expr::col(name(col)).between(0, 100));
    def
}

fn index(table: &str, suffix: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{table}_{suffix}")).table(name(table));
    for c in cols {
        idx.col(name(c));
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut objective = Table::create();
        objective
            .table(name("objective"))
            .col(pk_uuid(name("id")))
            .col(enum_text(name("source"), OBJECTIVE_SOURCE))
            .col(string_len(name("code"), 40))
            .col(string_len(name("title"), 500))
            .col(text_null(name("description")))
            .col(integer_null(name("period_start")))
            .col(integer_null(name("period_end")));
        with_bookkeeping(&mut objective).foreign_key(&mut org_fk("objective"));
        manager.create_table(objective.to_owned()).await?;
        manager
            .create_index(
                index("objective", "code", &["organization_id", "source", "code"])
                    .name("ux_objective_org_source_code")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("objective", "org_id", &["organization_id", "id"])).await?;

        let mut plan = Table::create();
        plan.table(name("plan"))
            .col(pk_uuid(name("id")))
            .col(string_len(name("code"), 40))
            .col(integer(name("plan_version")))
            .col(string_len(name("title"), 500))
            .col(text_null(name("description")))
            .col(enum_text(name("policy_scope"), POLICY_SCOPE))
            .col(enum_text_null(name("origin"), PLAN_ORIGIN))
            .col(integer_null(name("fiscal_year")))
            .col(date_null(name("start_date")))
            .col(date_null(name("end_date")))
            .col(enum_text(name("status"), PLAN_STATUS))
            .col(string_len_null(name("prepared_by"), 200))
            .col(string_len_null(name("prepared_by_role"), 200))
            .col(date_null(name("prepared_on")))
            .col(string_len_null(name("approved_by"), 300))
            .col(string_len_null(name("approval_reference"), 300))
            .col(date_null(name("approved_on")))
            .col(text_null(name("cancellation_reason")))
            .col(decimal_len_null(name("budget"), 18, 2))
            .col(enum_text_null(name("funding_source"), FUNDING_SOURCE))
            .col(enum_text_null(name("maturity_current"), MATURITY))
            .col(enum_text_null(name("maturity_target"), MATURITY))
            .col(uuid_null(name("previous_version_id")));
        with_bookkeeping(&mut plan).foreign_key(&mut org_fk("plan")).foreign_key(
            ForeignKey::create()
                .name("fk_plan_previous_version")
                .from(name("plan"), name("previous_version_id"))
                .to(name("plan"), name("id"))
                .on_delete(ForeignKeyAction::SetNull),
        );
        manager.create_table(plan.to_owned()).await?;
        // Also the range scan of `sort=code`.
        manager
            .create_index(
                index("plan", "code", &["organization_id", "code", "plan_version"])
                    .name("ux_plan_org_code_version")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("plan", "org_id", &["organization_id", "id"])).await?;
        manager.create_index(index("plan", "status", &["organization_id", "status", "id"])).await?;
        manager.create_index(index("plan", "fiscal_year", &["organization_id", "fiscal_year", "id"])).await?;
        manager.create_index(index("plan", "previous", &["previous_version_id"])).await?;

        manager
            .create_table(
                Table::create()
                    .table(name("plan_objective"))
                    .col(uuid(name("plan_id")))
                    .col(uuid(name("objective_id")))
                    .col(uuid(name("organization_id")))
                    .primary_key(Index::create().col(name("plan_id")).col(name("objective_id")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_objective_plan")
                            .from(name("plan_objective"), name("plan_id"))
                            .to(name("plan"), name("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_objective_objective")
                            .from(name("plan_objective"), name("objective_id"))
                            .to(name("objective"), name("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut org_fk("plan_objective"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("plan_objective", "objective", &["objective_id", "plan_id"])).await?;

        let mut category = Table::create();
        category
            .table(name("category"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("plan_id")))
            .col(integer(name("position")))
            .col(string_len(name("name"), 500))
            .col(enum_text(name("source"), CATEGORY_SOURCE))
            .col(enum_text_null(name("indicator_kind"), INDICATOR_KIND))
            .col(score("score"))
            .col(score("previous_score"))
            .col(score("target_score"))
            .col(json_binary(name("improvement_alternatives")))
            .col(text_null(name("effectiveness_criterion")))
            .col(json_binary(name("control_refs")));
        with_bookkeeping(&mut category).foreign_key(&mut org_fk("category")).foreign_key(
            ForeignKey::create()
                .name("fk_category_plan")
                .from(name("category"), name("plan_id"))
                .to(name("plan"), name("id"))
                .on_delete(ForeignKeyAction::Cascade),
        );
        manager.create_table(category.to_owned()).await?;
        manager.create_index(index("category", "plan_position", &["plan_id", "position", "id"])).await?;
        manager.create_index(index("category", "org_id", &["organization_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["category", "plan_objective", "plan", "objective"] {
            manager.drop_table(Table::drop().table(name(table)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
