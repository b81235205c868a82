//! Reporting periods (cortes): SIRECI semiannual, committee and other cut-offs with the plans
//! they cover, and the snapshot a period stores when it closes (one row per covered plan and
//! per covered action). Snapshot rows name plans and actions by id without foreign keys: they
//! must outlive any later change to the plan.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_004500_reporting_periods"
    }
}

const KIND: &[&str] = &["sireci_semiannual", "committee", "other"];
const STATUS: &[&str] = &["open", "closed", "filed"];

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

fn period_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_period"))
        .from(name(table), name("period_id"))
        .to(name("reporting_period"), name("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut period = Table::create();
        period
            .table(name("reporting_period"))
            .col(pk_uuid(name("id")))
            .col(string_len(name("name"), 200))
            .col(enum_text(name("kind"), KIND))
            .col(date(name("cut_off_date")))
            .col(date(name("filing_deadline")))
            .col(json_binary_null(name("plan_ids")))
            .col(uuid_null(name("corrects_period_id")))
            .col(enum_text(name("status"), STATUS))
            .col(timestamp_with_time_zone_null(name("closed_at")))
            .col(uuid_null(name("closed_by")))
            .col(string_len_null(name("snapshot_sha256"), 64))
            .col(integer_null(name("plans_count")))
            .col(integer_null(name("actions_count")))
            .col(double_null(name("progress_pct")))
            .col(double_null(name("compliance_pct")))
            .col(double_null(name("effectiveness_pct")))
            .col(date_null(name("filed_on")))
            .col(string_len_null(name("filing_reference"), 300))
            .col(string_len_null(name("filed_file_sha256"), 64))
            .col(timestamp_with_time_zone_null(name("filed_at")))
            .col(uuid_null(name("filed_by")));
        with_bookkeeping(&mut period).foreign_key(&mut org_fk("reporting_period")).foreign_key(
            &mut ForeignKey::create()
                .name("fk_reporting_period_corrects")
                .from(name("reporting_period"), name("corrects_period_id"))
                .to(name("reporting_period"), name("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .to_owned(),
        );
        manager.create_table(period.to_owned()).await?;
        manager.create_index(index("reporting_period", "org_id", &["organization_id", "id"])).await?;
        manager
            .create_index(index("reporting_period", "org_cut_off", &["organization_id", "cut_off_date", "id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("reporting_period_plan"))
                    .col(uuid(name("period_id")))
                    .col(uuid(name("plan_id")))
                    .col(uuid(name("organization_id")))
                    .col(string_len(name("code"), 100))
                    .col(integer(name("plan_version")))
                    .col(text(name("title")))
                    .col(double_null(name("progress_pct")))
                    .col(double_null(name("compliance_pct")))
                    .col(double_null(name("effectiveness_pct")))
                    .col(string_len_null(name("traffic_light"), 40))
                    .col(integer(name("actions_count")))
                    .col(json_binary(name("content")))
                    .primary_key(Index::create().col(name("period_id")).col(name("plan_id")))
                    .foreign_key(&mut period_fk("reporting_period_plan"))
                    .foreign_key(&mut org_fk("reporting_period_plan"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("reporting_period_plan", "plan", &["organization_id", "plan_id"])).await?;

        manager
            .create_table(
                Table::create()
                    .table(name("reporting_period_action"))
                    .col(uuid(name("period_id")))
                    .col(uuid(name("action_id")))
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("plan_id")))
                    .col(integer(name("number")))
                    .col(string_len(name("status"), 40))
                    .col(double(name("accepted_quantity")))
                    .col(double(name("progress_pct")))
                    .col(string_len_null(name("traffic_light"), 40))
                    .col(boolean(name("overdue")))
                    .col(string_len(name("compliance"), 40))
                    .col(string_len(name("effectiveness"), 40))
                    .col(json_binary(name("evidence_ids")))
                    .col(text_null(name("observation")))
                    .col(json_binary(name("content")))
                    .primary_key(Index::create().col(name("period_id")).col(name("action_id")))
                    .foreign_key(&mut period_fk("reporting_period_action"))
                    .foreign_key(&mut org_fk("reporting_period_action"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("reporting_period_action", "plan", &["period_id", "plan_id", "number", "action_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["reporting_period_action", "reporting_period_plan", "reporting_period"] {
            manager.drop_table(Table::drop().table(name(table)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
