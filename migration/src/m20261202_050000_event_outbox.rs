//! The transactional outbox: one row per integration event, written in the transaction of the
//! change it describes (beside its audit event). Consumers (webhook delivery, notifications)
//! read it after commit; an event of a rolled-back change never exists.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_050000_event_outbox"
    }
}

fn name(s: &str) -> Alias {
    Alias::new(s)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(name("event"))
                    .col(pk_uuid(name("id")))
                    .col(uuid(name("organization_id")))
                    .col(string_len(name("event_type"), 60))
                    .col(string_len(name("resource_type"), 40))
                    .col(uuid_null(name("resource_id")))
                    .col(timestamp_with_time_zone(name("occurred_at")))
                    .col(json_binary(name("data")))
                    .foreign_key(&mut org_fk("event"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_event_org_occurred")
                    .table(name("event"))
                    .col(name("organization_id"))
                    .col(name("occurred_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(name("event")).to_owned()).await
    }
}
