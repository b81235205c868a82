//! Asynchronous uploads, reminders and notifications (#18, part B).
//!
//! - `finding_import.status` also admits `queued`, `running`, `succeeded` and `failed` (an
//!   upload sent with `Prefer: respond-async`); the record keeps the upload's options, the key
//!   of its spooled body in the object store, the runner's lease and attempts, and the problem
//!   of a file that could not be read. SQLite cannot change a CHECK constraint in place, so its
//!   table is rebuilt from its own definition with the one list changed.
//! - `plan_import`: an asynchronous upload of a plan matrix, with the same lifecycle; its
//!   `result` is the reply the synchronous upload would have given.
//! - `reminder`: one row per action and reminder (`due_soon` per threshold and due date,
//!   `overdue` per day); its primary key makes a reminder happen once across replicas.
//! - `notification`: events addressed to one user, read or unread; `notified_event` marks the
//!   outbox events the notifier has processed.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_070000_async_imports_reminders_notifications"
    }
}

const OLD: &str = "('completed', 'rejected')";
const NEW: &str = "('completed', 'rejected', 'queued', 'running', 'succeeded', 'failed')";

fn name(s: &str) -> Alias {
    Alias::new(s)
}

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
    let check = format!("\"status\" IN {from}");
    if !sql.contains(&check) {
        return Err(DbErr::Migration(format!("unexpected definition of finding_import: {sql}")));
    }
    let rebuilt = sql.replacen(&check, &format!("\"status\" IN {to}"), 1).replacen(
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

async fn set_status_check(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!(
            "ALTER TABLE finding_import DROP CONSTRAINT IF EXISTS finding_import_status_check; \
             ALTER TABLE finding_import ADD CONSTRAINT finding_import_status_check CHECK (status IN {to});"
        ))
        .await?;
        Ok(())
    } else {
        sqlite_rebuild(manager, from, to).await
    }
}

/// The columns an asynchronous upload adds to its record.
fn import_columns() -> Vec<ColumnDef> {
    vec![
        json_binary_null(name("options")),
        string_len_null(name("storage_key"), 200),
        timestamp_with_time_zone_null(name("lease_until")),
        integer(name("attempts")).default(0).to_owned(),
        json_binary_null(name("problem")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_status_check(manager, OLD, NEW).await?;
        // One column per statement: SQLite alters one at a time.
        for mut col in import_columns() {
            manager.alter_table(Table::alter().table(name("finding_import")).add_column(&mut col).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_finding_import_status_id")
                    .table(name("finding_import"))
                    .col(name("status"))
                    .col(name("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("plan_import"))
                    .col(pk_uuid(name("id")))
                    .col(uuid(name("organization_id")))
                    .col(enum_text(name("status"), &["queued", "running", "succeeded", "failed"]))
                    .col(string_len(name("format"), 10))
                    .col(json_binary(name("options")))
                    .col(string_len_null(name("storage_key"), 200))
                    .col(string_len(name("file_sha256"), 64))
                    .col(big_integer(name("size_bytes")))
                    .col(timestamp_with_time_zone_null(name("lease_until")))
                    .col(integer(name("attempts")).default(0))
                    .col(json_binary_null(name("result")))
                    .col(json_binary_null(name("problem")))
                    .col(uuid_null(name("plan_id")))
                    .col(timestamp_with_time_zone(name("created_at")))
                    .col(timestamp_with_time_zone(name("updated_at")))
                    .col(uuid_null(name("created_by")))
                    .col(integer(name("version")).default(1))
                    .foreign_key(&mut org_fk("plan_import"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_plan_import_status_id")
                    .table(name("plan_import"))
                    .col(name("status"))
                    .col(name("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("reminder"))
                    .col(uuid(name("action_id")))
                    .col(string_len(name("kind"), 20))
                    .col(string_len(name("mark"), 40).comment("threshold and due date, or the overdue day"))
                    .col(uuid(name("organization_id")))
                    .col(timestamp_with_time_zone(name("raised_at")))
                    .primary_key(Index::create().col(name("action_id")).col(name("kind")).col(name("mark")))
                    .foreign_key(&mut org_fk("reminder"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("notification"))
                    .col(pk_uuid(name("id")))
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("user_id")))
                    .col(uuid(name("event_id")))
                    .col(string_len(name("event_type"), 60))
                    .col(string_len(name("resource_type"), 40))
                    .col(uuid_null(name("resource_id")))
                    .col(string_len(name("title"), 300))
                    .col(text(name("body")))
                    .col(timestamp_with_time_zone(name("created_at")))
                    .col(timestamp_with_time_zone_null(name("read_at")))
                    .foreign_key(&mut org_fk("notification"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_notification_user_event")
                    .table(name("notification"))
                    .col(name("user_id"))
                    .col(name("event_id"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("notified_event"))
                    .col(pk_uuid(name("event_id")))
                    .col(timestamp_with_time_zone(name("processed_at")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["notified_event", "notification", "reminder", "plan_import"] {
            manager.drop_table(Table::drop().table(name(table)).if_exists().to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("ix_finding_import_status_id").table(name("finding_import")).to_owned())
            .await?;
        for col in ["options", "storage_key", "lease_until", "attempts", "problem"] {
            manager.alter_table(Table::alter().table(name("finding_import")).drop_column(name(col)).to_owned()).await?;
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "DELETE FROM finding_import WHERE status IN ('queued', 'running', 'succeeded', 'failed')",
        )
        .await?;
        set_status_check(manager, NEW, OLD).await
    }
}
