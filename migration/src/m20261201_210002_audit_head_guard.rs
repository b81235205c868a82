//! The audit chain head is protected like the events: it can only move forward (a larger `seq`,
//! same organization; bulk writers append several events at once) and can be neither deleted
//! nor truncated. Deleting the
//! newest events then leaves a head that points past the last event, which verification reports
//! as `truncated`; removing the head too requires switching the triggers off (see README).
use crate::common::is_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if is_postgres(manager) {
            db.execute_unprepared(
                "CREATE FUNCTION audit_chain_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN \
                   IF TG_OP = 'UPDATE' THEN \
                     IF NEW.organization_id = OLD.organization_id AND NEW.seq > OLD.seq THEN \
                       RETURN NEW; \
                     END IF; \
                   END IF; \
                   RAISE EXCEPTION 'audit_chain_head only moves forward'; \
                 END $$; \
                 CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head \
                 FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only(); \
                 CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head \
                 FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward_only();",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head \
                 BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END; \
                 CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head \
                 WHEN NEW.organization_id IS NOT OLD.organization_id OR NEW.seq <= OLD.seq \
                 BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END;",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if is_postgres(manager) {
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS audit_chain_head_guard ON audit_chain_head; \
                 DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head; \
                 DROP FUNCTION IF EXISTS audit_chain_head_forward_only();",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS audit_chain_head_no_delete; \
                 DROP TRIGGER IF EXISTS audit_chain_head_forward_only;",
            )
            .await?;
        }
        Ok(())
    }
}
