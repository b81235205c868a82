//! Comptroller findings record their presumed incidence (disciplinary, fiscal, criminal,
//! sanctioning; several allowed) and, for a fiscal one, the amount in COP.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("finding"))
                    .add_column(
                        json_binary(Alias::new("presumed_incidence"))
                            .default("[]")
                            .comment("JSON array of presumed incidences"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("finding"))
                    .add_column(decimal_len_null(Alias::new("fiscal_amount"), 18, 2))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["fiscal_amount", "presumed_incidence"] {
            manager
                .alter_table(Table::alter().table(Alias::new("finding")).drop_column(Alias::new(column)).to_owned())
                .await?;
        }
        Ok(())
    }
}
