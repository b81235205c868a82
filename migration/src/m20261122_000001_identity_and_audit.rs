//! Organizations, principals (users and service accounts), refresh tokens, the
//! append-only audit trail with its per-organization hash chain, and stored
//! idempotent replies.
use crate::common::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_identity_and_audit"
    }
}

const ROLES_NOTE: &str = "JSON array of role codes";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("organization"))
                    .col(pk_uuid(Alias::new("id")))
                    .col(string_len(Alias::new("name"), 300))
                    .col(string_len_uniq(Alias::new("tax_id"), 40))
                    .col(enum_text_null(Alias::new("order"), &["national", "territorial"]))
                    .col(string_len_null(Alias::new("sector"), 200))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .col(timestamp_with_time_zone(Alias::new("updated_at")))
                    .col(uuid_null(Alias::new("created_by")))
                    .col(uuid_null(Alias::new("updated_by")))
                    .col(integer(Alias::new("version")).default(1))
                    .to_owned(),
            )
            .await?;

        let mut users = Table::create();
        users
            .table(Alias::new("app_user"))
            .col(pk_uuid(Alias::new("id")))
            .col(string_len_uniq(Alias::new("email"), 320))
            .col(string_len(Alias::new("display_name"), 200))
            .col(string_len(Alias::new("password_hash"), 200))
            .col(json_binary(Alias::new("roles")).comment(ROLES_NOTE))
            .col(boolean(Alias::new("platform_operator")).default(false))
            .col(boolean(Alias::new("active")).default(true))
            .col(string_len_null(Alias::new("unit"), 200));
        with_bookkeeping(&mut users).foreign_key(&mut org_fk("app_user"));
        manager.create_table(users.to_owned()).await?;

        let mut accounts = Table::create();
        accounts
            .table(Alias::new("service_account"))
            .col(pk_uuid(Alias::new("id")))
            .col(string_len_uniq(Alias::new("client_id"), 80))
            .col(string_len(Alias::new("name"), 200))
            .col(string_len(Alias::new("secret_hash"), 200))
            .col(json_binary(Alias::new("roles")).comment(ROLES_NOTE))
            .col(boolean(Alias::new("active")).default(true));
        with_bookkeeping(&mut accounts).foreign_key(&mut org_fk("service_account"));
        manager.create_table(accounts.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("refresh_token"))
                    .col(pk_uuid(Alias::new("id")))
                    .col(uuid(Alias::new("family_id")))
                    .col(uuid(Alias::new("user_id")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(string_len_uniq(Alias::new("token_hash"), 64))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .col(timestamp_with_time_zone(Alias::new("expires_at")))
                    .col(timestamp_with_time_zone_null(Alias::new("used_at")))
                    .col(timestamp_with_time_zone_null(Alias::new("revoked_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_token_user")
                            .from(Alias::new("refresh_token"), Alias::new("user_id"))
                            .to(Alias::new("app_user"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_token_family")
                    .table(Alias::new("refresh_token"))
                    .col(Alias::new("family_id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("audit_event"))
                    .col(pk_uuid(Alias::new("id")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(big_integer(Alias::new("seq")))
                    .col(timestamp_with_time_zone(Alias::new("occurred_at")))
                    .col(uuid_null(Alias::new("actor_id")))
                    .col(enum_text(Alias::new("actor_kind"), &["user", "service_account", "system", "anonymous"]))
                    .col(json(Alias::new("actor_roles")))
                    .col(string_len(Alias::new("resource_type"), 60))
                    .col(string_len_null(Alias::new("resource_id"), 320))
                    .col(string_len(Alias::new("operation"), 60))
                    .col(json_null(Alias::new("before")))
                    .col(json_null(Alias::new("after")))
                    .col(string_len_null(Alias::new("request_id"), 100))
                    .col(string_len_null(Alias::new("client_addr"), 100))
                    .col(string_len(Alias::new("prev_hash"), 64))
                    .col(string_len(Alias::new("hash"), 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_audit_event_org_seq")
                    .table(Alias::new("audit_event"))
                    .col(Alias::new("organization_id"))
                    .col(Alias::new("seq"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_event_resource")
                    .table(Alias::new("audit_event"))
                    .col(Alias::new("resource_type"))
                    .col(Alias::new("resource_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_event_login_failures")
                    .table(Alias::new("audit_event"))
                    .col(Alias::new("operation"))
                    .col(Alias::new("occurred_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("audit_chain_head"))
                    .col(uuid(Alias::new("organization_id")).primary_key())
                    .col(big_integer(Alias::new("seq")))
                    .col(string_len(Alias::new("hash"), 64))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alias::new("idempotency_record"))
                    .col(uuid(Alias::new("organization_id")))
                    .col(uuid(Alias::new("principal_id")))
                    .col(string_len(Alias::new("key"), 255))
                    .col(string_len(Alias::new("request_hash"), 64))
                    .col(small_integer(Alias::new("status")))
                    .col(json_null(Alias::new("headers")))
                    .col(binary_null(Alias::new("body")))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("organization_id"))
                            .col(Alias::new("principal_id"))
                            .col(Alias::new("key")),
                    )
                    .to_owned(),
            )
            .await?;

        // The audit trail is append-only at the database level, not only in the service.
        let db = manager.get_connection();
        if is_postgres(manager) {
            db.execute_unprepared(
                "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$; \
                 CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event \
                 FOR EACH ROW EXECUTE FUNCTION audit_event_append_only(); \
                 CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event \
                 FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event \
                 BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END; \
                 CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event \
                 BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "idempotency_record",
            "audit_chain_head",
            "audit_event",
            "refresh_token",
            "service_account",
            "app_user",
            "organization",
        ] {
            manager.drop_table(Table::drop().table(Alias::new(table)).if_exists().to_owned()).await?;
        }
        if is_postgres(manager) {
            manager.get_connection().execute_unprepared("DROP FUNCTION IF EXISTS audit_event_append_only()").await?;
        }
        Ok(())
    }
}
