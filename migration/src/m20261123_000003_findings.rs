//! Audit findings (hallazgos) and the records of their bulk uploads.
//!
//! `finding.plan_id` has no foreign key yet: the plans table arrives in another migration and
//! the constraint is added there. `finding.import_id` and `finding.organization_id` have none on
//! purpose: the service writes them from the import record it just inserted and from the
//! caller's organization, and per-row checks would cost bulk uploads dearly.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_findings"
    }
}

const SOURCES: &[&str] = &[
    "internal_audit",
    "comptroller",
    "certification_audit",
    "independent_review",
    "self_assessment",
    "pentest",
    "incident",
    "other",
];
const CLASSIFICATIONS: &[&str] =
    &["major_nonconformity", "minor_nonconformity", "observation", "improvement_opportunity"];
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];
const STATUSES: &[&str] = &["open", "in_treatment", "closed_compliant", "closed_effective", "reopened", "dismissed"];

fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for col in cols {
        index.col(Alias::new(*col));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut imports = Table::create();
        imports
            .table(Alias::new("finding_import"))
            .col(pk_uuid(Alias::new("id")))
            .col(enum_text(Alias::new("format"), &["csv", "json"]))
            .col(enum_text(Alias::new("mode"), &["atomic", "partial"]))
            .col(boolean(Alias::new("dry_run")))
            .col(enum_text(Alias::new("on_conflict"), &["skip", "update"]))
            .col(enum_text(Alias::new("status"), &["completed", "rejected"]))
            .col(string_len(Alias::new("file_sha256"), 64))
            .col(big_integer(Alias::new("size_bytes")))
            .col(big_integer(Alias::new("received")))
            .col(big_integer(Alias::new("created")))
            .col(big_integer(Alias::new("updated")))
            .col(big_integer(Alias::new("unchanged")))
            .col(big_integer(Alias::new("rejected")))
            .col(big_integer(Alias::new("error_count")))
            .col(json_binary(Alias::new("errors")).comment("first 1000 row errors"))
            .col(big_integer(Alias::new("duration_ms")));
        with_bookkeeping(&mut imports).foreign_key(&mut org_fk("finding_import"));
        manager.create_table(imports.to_owned()).await?;
        manager.create_index(index("ix_finding_import_org_id", "finding_import", &["organization_id", "id"])).await?;

        let mut findings = Table::create();
        findings
            .table(Alias::new("finding"))
            .col(pk_uuid(Alias::new("id")))
            .col(enum_text(Alias::new("source"), SOURCES))
            .col(string_len_null(Alias::new("auditor"), 300))
            .col(string_len(Alias::new("report_code"), 100))
            .col(date_null(Alias::new("report_date")))
            .col(integer_null(Alias::new("fiscal_year")))
            .col(string_len(Alias::new("finding_code"), 100))
            .col(string_len(Alias::new("title"), 500))
            .col(text_null(Alias::new("condition")))
            .col(text_null(Alias::new("criterion")))
            .col(text_null(Alias::new("cause")))
            .col(text_null(Alias::new("effect")))
            .col(enum_text_null(Alias::new("classification"), CLASSIFICATIONS))
            .col(enum_text_null(Alias::new("severity"), SEVERITIES))
            .col(json_binary(Alias::new("requirements")).comment("JSON array of requirement references"))
            .col(enum_text(Alias::new("status"), STATUSES))
            .col(uuid_null(Alias::new("plan_id")))
            .col(uuid_null(Alias::new("repeats_finding_id")))
            .col(uuid_null(Alias::new("import_id")))
            .col(text(Alias::new("search")).comment("folded code, report code and title for `q`"));
        // No foreign key to `organization`: rows are only ever written for the caller's own
        // organization, and the per-row check would cost bulk uploads about a fifth of their
        // throughput on PostgreSQL.
        with_bookkeeping(&mut findings).foreign_key(
            ForeignKey::create()
                .name("fk_finding_repeats")
                .from(Alias::new("finding"), Alias::new("repeats_finding_id"))
                .to(Alias::new("finding"), Alias::new("id"))
                .on_delete(ForeignKeyAction::SetNull),
        );
        manager.create_table(findings.to_owned()).await?;
        if is_postgres(manager) {
            // Byte-order comparison for the natural key: uploads compare these columns once per
            // row and index level, and nothing is sorted by them.
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE finding ALTER COLUMN source TYPE varchar(40) COLLATE \"C\", \
                     ALTER COLUMN report_code TYPE varchar(100) COLLATE \"C\", \
                     ALTER COLUMN finding_code TYPE varchar(100) COLLATE \"C\"",
                )
                .await?;
        }

        // The natural key of bulk uploads; report code first, so it also serves the report filter.
        manager
            .create_index(
                index(
                    "ux_finding_natural_key",
                    "finding",
                    &["organization_id", "report_code", "source", "finding_code"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        // Keyset pagination, the selective filters and the date sort. Every index slows bulk
        // uploads (each row updates each index), so the low-cardinality filters (source,
        // severity, classification, fiscal year, import) walk the (organization, id) order and
        // filter as they go, which stays cheap for values that are not rare.
        for (name, cols) in [
            ("ix_finding_org_id", &["organization_id", "id"][..]),
            ("ix_finding_org_status", &["organization_id", "status", "id"][..]),
            ("ix_finding_org_plan", &["organization_id", "plan_id", "id"][..]),
            ("ix_finding_org_report_date", &["organization_id", "report_date", "id"][..]),
        ] {
            manager.create_index(index(name, "finding", cols)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["finding", "finding_import"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
