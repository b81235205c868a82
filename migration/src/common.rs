//! Column helpers shared by the migrations so every table carries the same bookkeeping columns.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// A text column restricted to a fixed set of codes (a CHECK constraint on both backends).
pub fn enum_text<T: IntoIden + Clone + 'static>(col: T, values: &[&str]) -> ColumnDef {
    let mut def = string_len(col.clone(), 40);
    def.check(Expr::col(col).is_in(values.iter().map(|v| String::from(*v))));
    def
}

/// Same as [`enum_text`] but nullable.
pub fn enum_text_null<T: IntoIden + Clone + 'static>(col: T, values: &[&str]) -> ColumnDef {
    let mut def = string_len_null(col.clone(), 40);
    def.check(Expr::col(col).is_in(values.iter().map(|v| String::from(*v))));
    def
}

/// Adds `organization_id`, `created_at`, `updated_at`, `created_by`, `updated_by` and `version`.
pub fn with_bookkeeping(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(uuid(Alias::new("organization_id")))
        .col(timestamp_with_time_zone(Alias::new("created_at")))
        .col(timestamp_with_time_zone(Alias::new("updated_at")))
        .col(uuid_null(Alias::new("created_by")))
        .col(uuid_null(Alias::new("updated_by")))
        .col(integer(Alias::new("version")).default(1))
}

/// Foreign key from `table.organization_id` to `organization.id`.
pub fn org_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_organization"))
        .from(Alias::new(table), Alias::new("organization_id"))
        .to(Alias::new("organization"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// True when the migration runs against PostgreSQL.
pub fn is_postgres(manager: &SchemaManager) -> bool {
    matches!(manager.get_database_backend(), sea_orm::DatabaseBackend::Postgres)
}
