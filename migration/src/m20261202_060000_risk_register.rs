//! The digital-security risk register (mapa de riesgos, DAFP methodology): critical information
//! assets, risks with their inherent and residual valuation, the controls that reduce them, the
//! organization's risk appetite, links from improvement actions and findings to the risks they
//! treat or materialise, periodic reviews and materialised risks (incidents).
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_060000_risk_register"
    }
}

const ASSET_KIND: &[&str] = &["information", "software", "hardware", "service", "people", "facility"];
const CLASSIFICATION: &[&str] = &["public", "public_classified", "public_reserved"];
const CIA: &[&str] = &["high", "medium", "low"];
const RISK_KIND: &[&str] = &["digital_security", "management", "corruption"];
const PROBABILITY: &[&str] = &["very_low", "low", "medium", "high", "very_high"];
const IMPACT: &[&str] = &["slight", "minor", "moderate", "major", "catastrophic"];
const ZONE: &[&str] = &["low", "moderate", "high", "extreme"];
const TREATMENT: &[&str] = &["accept", "reduce", "transfer", "avoid"];
const CONTROL_TYPE: &[&str] = &["preventive", "detective", "corrective"];
const IMPLEMENTATION: &[&str] = &["automatic", "manual"];
const DOCUMENTATION: &[&str] = &["documented", "undocumented"];
const FREQUENCY: &[&str] = &["continuous", "random"];
const EVIDENCE: &[&str] = &["with_record", "without_record"];
const REVIEW_LINE: &[&str] = &["second_line", "third_line"];
const REVIEW_RESULT: &[&str] = &["adequate", "with_observations", "inadequate"];

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

fn risk_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_risk"))
        .from(name(table), name("risk_id"))
        .to(name("risk"), name("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A link table `{table}` from `{from}_id` (a row of `from`) to a risk.
async fn link(manager: &SchemaManager<'_>, table: &str, from: &str) -> Result<(), DbErr> {
    let col = format!("{from}_id");
    manager
        .create_table(
            Table::create()
                .table(name(table))
                .col(uuid(name(&col)))
                .col(uuid(name("risk_id")))
                .col(uuid(name("organization_id")))
                .primary_key(Index::create().col(name(&col)).col(name("risk_id")))
                .foreign_key(&mut risk_fk(table))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name(format!("fk_{table}_{from}"))
                        .from(name(table), name(&col))
                        .to(name(from), name("id"))
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(&mut org_fk(table))
                .to_owned(),
        )
        .await?;
    manager.create_index(index(table, "risk", &["risk_id", &col])).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut asset = Table::create();
        asset
            .table(name("asset"))
            .col(pk_uuid(name("id")))
            .col(string_len(name("name"), 300))
            .col(string_len(name("process"), 200))
            .col(enum_text(name("kind"), ASSET_KIND))
            .col(text_null(name("description")))
            .col(uuid_null(name("owner_id")))
            .col(string_len_null(name("owner_unit"), 200))
            .col(uuid_null(name("custodian_id")))
            .col(string_len_null(name("custodian_unit"), 200))
            .col(enum_text(name("classification"), CLASSIFICATION))
            .col(boolean(name("personal_data")))
            .col(enum_text(name("confidentiality"), CIA))
            .col(enum_text(name("integrity"), CIA))
            .col(enum_text(name("availability"), CIA))
            .col(boolean(name("critical")));
        with_bookkeeping(&mut asset).foreign_key(&mut org_fk("asset"));
        manager.create_table(asset.to_owned()).await?;
        manager.create_index(index("asset", "org_id", &["organization_id", "id"])).await?;

        let mut risk = Table::create();
        risk.table(name("risk"))
            .col(pk_uuid(name("id")))
            .col(string_len(name("code"), 40))
            .col(string_len(name("process"), 200))
            .col(enum_text(name("kind"), RISK_KIND))
            .col(json_binary(name("asset_ids")))
            .col(boolean(name("confidentiality")))
            .col(boolean(name("integrity")))
            .col(boolean(name("availability")))
            .col(text(name("impact")))
            .col(text(name("immediate_cause")))
            .col(text(name("root_cause")))
            .col(json_binary(name("threats")))
            .col(json_binary(name("vulnerabilities")))
            .col(uuid_null(name("owner_id")))
            .col(integer(name("annual_frequency")))
            .col(enum_text(name("economic_impact"), IMPACT))
            .col(enum_text(name("reputational_impact"), IMPACT))
            .col(enum_text(name("inherent_probability"), PROBABILITY))
            .col(enum_text(name("inherent_impact"), IMPACT))
            .col(enum_text(name("inherent_zone"), ZONE))
            .col(double(name("residual_probability_pct")))
            .col(double(name("residual_impact_pct")))
            .col(enum_text(name("residual_probability"), PROBABILITY))
            .col(enum_text(name("residual_impact"), IMPACT))
            .col(enum_text(name("residual_zone"), ZONE))
            .col(enum_text(name("treatment"), TREATMENT))
            .col(uuid_null(name("accepted_by")))
            .col(date_null(name("accepted_on")))
            .col(date_null(name("acceptance_expires_on")))
            .col(integer(name("review_interval_days")))
            .col(date_null(name("last_review_on")))
            .col(date_null(name("next_review_on")));
        with_bookkeeping(&mut risk).foreign_key(&mut org_fk("risk"));
        manager.create_table(risk.to_owned()).await?;
        manager.create_index(index("risk", "org_id", &["organization_id", "id"])).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_risk_org_code")
                    .table(name("risk"))
                    .col(name("organization_id"))
                    .col(name("code"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The heat map counts per cell within an organization.
        manager
            .create_index(index(
                "risk",
                "org_inherent",
                &["organization_id", "inherent_probability", "inherent_impact"],
            ))
            .await?;
        manager
            .create_index(index(
                "risk",
                "org_residual",
                &["organization_id", "residual_probability", "residual_impact"],
            ))
            .await?;

        let mut control = Table::create();
        control
            .table(name("risk_control"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("risk_id")))
            .col(integer(name("position")))
            .col(string_len(name("responsible"), 300))
            .col(text(name("action")))
            .col(text_null(name("complement")))
            .col(enum_text(name("control_type"), CONTROL_TYPE))
            .col(enum_text(name("implementation"), IMPLEMENTATION))
            .col(enum_text(name("documentation"), DOCUMENTATION))
            .col(enum_text(name("frequency"), FREQUENCY))
            .col(enum_text(name("evidence"), EVIDENCE))
            .col(json_binary(name("annex_a_refs")));
        with_bookkeeping(&mut control)
            .foreign_key(&mut risk_fk("risk_control"))
            .foreign_key(&mut org_fk("risk_control"));
        manager.create_table(control.to_owned()).await?;
        manager.create_index(index("risk_control", "risk", &["risk_id", "position", "id"])).await?;

        manager
            .create_table(
                Table::create()
                    .table(name("risk_appetite"))
                    .col(uuid(name("organization_id")).primary_key())
                    .col(enum_text(name("max_zone"), ZONE))
                    .col(timestamp_with_time_zone(name("updated_at")))
                    .col(uuid_null(name("updated_by")))
                    .col(integer(name("version")).default(1))
                    .foreign_key(&mut org_fk("risk_appetite"))
                    .to_owned(),
            )
            .await?;

        link(manager, "action_risk", "action").await?;
        link(manager, "finding_risk", "finding").await?;

        let mut review = Table::create();
        review
            .table(name("risk_review"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("risk_id")))
            .col(date(name("reviewed_on")))
            .col(uuid_null(name("reviewer_id")))
            .col(enum_text(name("line"), REVIEW_LINE))
            .col(enum_text(name("result"), REVIEW_RESULT))
            .col(text_null(name("note")))
            .col(json_binary(name("evidence_links")));
        with_bookkeeping(&mut review).foreign_key(&mut risk_fk("risk_review")).foreign_key(&mut org_fk("risk_review"));
        manager.create_table(review.to_owned()).await?;
        manager.create_index(index("risk_review", "risk", &["risk_id", "reviewed_on", "id"])).await?;

        let mut incident = Table::create();
        incident
            .table(name("risk_incident"))
            .col(pk_uuid(name("id")))
            .col(uuid(name("risk_id")))
            .col(date(name("occurred_on")))
            .col(text(name("description")))
            .col(uuid_null(name("finding_id")))
            .col(enum_text_null(name("actual_impact"), IMPACT));
        with_bookkeeping(&mut incident)
            .foreign_key(&mut risk_fk("risk_incident"))
            .foreign_key(&mut org_fk("risk_incident"));
        manager.create_table(incident.to_owned()).await?;
        manager.create_index(index("risk_incident", "risk", &["risk_id", "occurred_on", "id"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "risk_incident",
            "risk_review",
            "finding_risk",
            "action_risk",
            "risk_appetite",
            "risk_control",
            "risk",
            "asset",
        ] {
            manager.drop_table(Table::drop().table(name(table)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
