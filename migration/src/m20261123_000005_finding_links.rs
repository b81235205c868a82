//! Foreign keys between branches of the schema that were built apart: `action_finding.finding_id`
//! → `finding` and `finding.plan_id` → `plan`. PostgreSQL only: SQLite cannot add constraints to
//! an existing table, so there the service's checks (`tenancy::check_ids`) are the guard.
use super::common::is_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !is_postgres(manager) {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "ALTER TABLE action_finding ADD CONSTRAINT fk_action_finding_finding \
             FOREIGN KEY (finding_id) REFERENCES finding (id) ON DELETE CASCADE; \
             \
             ALTER TABLE finding ADD CONSTRAINT fk_finding_plan \
             FOREIGN KEY (plan_id) REFERENCES plan (id) ON DELETE SET NULL;",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !is_postgres(manager) {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE finding DROP CONSTRAINT IF EXISTS fk_finding_plan; \
                 ALTER TABLE action_finding DROP CONSTRAINT IF EXISTS fk_action_finding_finding;",
            )
            .await?;
        Ok(())
    }
}
