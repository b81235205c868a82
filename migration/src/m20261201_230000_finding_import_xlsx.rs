//! Findings uploads in XLSX: `finding_import.format` also admits `xlsx`, and the record keeps
//! the upload's warnings (columns it ignored). SQLite cannot change a CHECK constraint in place,
//! so its table is rebuilt from its own definition with the one list changed (no table points
//! at `finding_import`; `finding.import_id` is a plain column).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "('csv', 'json')";
const NEW: &str = "('csv', 'json', 'xlsx')";

async fn sqlite_rebuild(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'finding_import'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("table finding_import not found".into()))?;
    let sql: String = row.try_get("", "sql")?;
    let check = format!("\"format\" IN {from}");
    if !sql.contains(&check) {
        return Err(DbErr::Migration(format!("unexpected definition of finding_import: {sql}")));
    }
    let rebuilt = sql.replacen(&check, &format!("\"format\" IN {to}"), 1).replacen(
        "\"finding_import\"",
        "\"finding_import_rebuilt\"",
        1,
    );
    conn.execute_unprepared(&rebuilt).await?;
    conn.execute_unprepared(
        "INSERT INTO finding_import_rebuilt SELECT * FROM finding_import; \
         DROP TABLE finding_import; \
         ALTER TABLE finding_import_rebuilt RENAME TO finding_import; \
         CREATE INDEX IF NOT EXISTS ix_finding_import_org_id ON finding_import (organization_id, id);",
    )
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&format!(
                "ALTER TABLE finding_import DROP CONSTRAINT IF EXISTS finding_import_format_check; \
                 ALTER TABLE finding_import ADD CONSTRAINT finding_import_format_check CHECK (format IN {NEW});"
            ))
            .await?;
        } else {
            sqlite_rebuild(manager, OLD, NEW).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("finding_import"))
                    .add_column(ColumnDef::new(Alias::new("warnings")).json_binary().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Alias::new("finding_import")).drop_column(Alias::new("warnings")).to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared("DELETE FROM finding_import WHERE format = 'xlsx'").await?;
        if conn.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&format!(
                "ALTER TABLE finding_import DROP CONSTRAINT IF EXISTS finding_import_format_check; \
                 ALTER TABLE finding_import ADD CONSTRAINT finding_import_format_check CHECK (format IN {OLD});"
            ))
            .await?;
            Ok(())
        } else {
            sqlite_rebuild(manager, NEW, OLD).await
        }
    }
}
