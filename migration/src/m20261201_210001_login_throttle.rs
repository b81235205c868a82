//! `login_throttle`: one counter row per sign-in name and per client address, so failed
//! sign-ins are counted and checked in one atomic statement on every replica, without writing
//! to (and locking) the victim organization's audit chain. `window_start` is epoch
//! milliseconds, compared as an integer on both backends.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE login_throttle ( \
                   throttle_key VARCHAR(400) NOT NULL PRIMARY KEY, \
                   attempts BIGINT NOT NULL, \
                   window_start BIGINT NOT NULL)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS login_throttle").await?;
        Ok(())
    }
}
