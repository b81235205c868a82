//! Webhook subscriptions and their deliveries (#18). `webhook`: an organization's endpoint, the
//! event types it wants and its signing secrets; `webhook_delivery`: one event for one
//! endpoint, with its attempts and next retry. `event.fanned_out_at` marks the events the
//! dispatcher has turned into deliveries (a partial index keeps the pending ones cheap to find).
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_075000_webhooks"
    }
}

fn name(s: &str) -> Alias {
    Alias::new(s)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut webhook = Table::create();
        webhook
            .table(name("webhook"))
            .col(pk_uuid(name("id")))
            .col(string_len(name("url"), 2048))
            .col(string_len_null(name("description"), 500))
            .col(json_binary(name("event_types")))
            .col(boolean(name("active")).default(true))
            .col(enum_text_null(name("disabled_reason"), &["gone", "failing"]))
            .col(string_len(name("secret"), 100))
            .col(string_len_null(name("previous_secret"), 100))
            .col(timestamp_with_time_zone_null(name("previous_secret_expires_at")))
            .col(timestamp_with_time_zone_null(name("failing_since")));
        with_bookkeeping(&mut webhook);
        manager.create_table(webhook.foreign_key(&mut org_fk("webhook")).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_org")
                    .table(name("webhook"))
                    .col(name("organization_id"))
                    .col(name("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("webhook_delivery"))
                    .col(pk_uuid(name("id")))
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("webhook_id")))
                    .col(uuid(name("event_id")))
                    .col(string_len(name("event_type"), 60))
                    .col(enum_text(name("status"), &["pending", "succeeded", "failed"]))
                    .col(integer(name("attempts")).default(0))
                    .col(timestamp_with_time_zone_null(name("next_attempt_at")))
                    .col(timestamp_with_time_zone_null(name("locked_until")))
                    .col(timestamp_with_time_zone_null(name("last_attempt_at")))
                    .col(integer_null(name("last_status_code")))
                    .col(big_integer_null(name("last_latency_ms")))
                    .col(string_len_null(name("last_error"), 500))
                    .col(timestamp_with_time_zone_null(name("delivered_at")))
                    .col(timestamp_with_time_zone(name("created_at")))
                    .foreign_key(&mut org_fk("webhook_delivery"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_webhook")
                            .from(name("webhook_delivery"), name("webhook_id"))
                            .to(name("webhook"), name("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_event")
                            .from(name("webhook_delivery"), name("event_id"))
                            .to(name("event"), name("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (index, cols, unique) in [
            ("ux_webhook_delivery_event", &["webhook_id", "event_id"][..], true),
            ("ix_webhook_delivery_list", &["webhook_id", "id"][..], false),
            ("ix_webhook_delivery_due", &["status", "next_attempt_at"][..], false),
        ] {
            let mut statement = Index::create();
            statement.name(index).table(name("webhook_delivery"));
            for col in cols {
                statement.col(name(col));
            }
            if unique {
                statement.unique();
            }
            manager.create_index(statement.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(name("event"))
                    .add_column(timestamp_with_time_zone_null(name("fanned_out_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_event_fanout_pending ON event (id) WHERE fanned_out_at IS NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS ix_event_fanout_pending").await?;
        manager.alter_table(Table::alter().table(name("event")).drop_column(name("fanned_out_at")).to_owned()).await?;
        manager.drop_table(Table::drop().table(name("webhook_delivery")).to_owned()).await?;
        manager.drop_table(Table::drop().table(name("webhook")).to_owned()).await
    }
}
