//! `ix_finding_org_plan` covers only findings assigned to a plan. Bulk uploads create findings
//! without one, and each of their rows no longer pays for an index entry nobody looks up
//! (about 12% of the database's time per uploaded row, measured with 100,000 rows); the plan
//! filter (`plan_id = …`) implies `plan_id IS NOT NULL`, so it still uses the index.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS ix_finding_org_plan; \
                 CREATE INDEX ix_finding_org_plan ON finding (organization_id, plan_id, id) \
                 WHERE plan_id IS NOT NULL;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS ix_finding_org_plan; \
                 CREATE INDEX ix_finding_org_plan ON finding (organization_id, plan_id, id);",
            )
            .await?;
        Ok(())
    }
}
