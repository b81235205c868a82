//! Tenancy, enforced in one place: every query for organization-owned rows starts from
//! [`scoped`] or [`find_in_org`], so a row of another organization is simply not found (404).
use crate::error::{ApiError, ErrorCode, FieldError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    Select,
};
use std::collections::BTreeSet;
use uuid::Uuid;

/// An entity whose rows belong to one organization.
pub trait OrgScoped: EntityTrait {
    /// The `organization_id` column.
    fn org_column() -> Self::Column;
    /// The `id` column.
    fn id_column() -> Self::Column;
    /// The `version` column (optimistic concurrency).
    fn version_column() -> Self::Column;
}

/// Implements [`OrgScoped`] for `crate::entities::<module>::Entity` with `Id`, `OrganizationId`
/// and `Version` columns.
#[macro_export]
macro_rules! org_scoped {
    ($($module:ident),+ $(,)?) => {
        $(
            impl $crate::services::tenancy::OrgScoped for $crate::entities::$module::Entity {
                fn org_column() -> Self::Column { $crate::entities::$module::Column::OrganizationId }
                fn id_column() -> Self::Column { $crate::entities::$module::Column::Id }
                fn version_column() -> Self::Column { $crate::entities::$module::Column::Version }
            }
        )+
    };
}

/// All rows of `E` that belong to `org`.
pub fn scoped<E: OrgScoped>(org: Uuid) -> Select<E> {
    E::find().filter(E::org_column().eq(org))
}

/// The row `id` of `E` in `org`; 404 when it does not exist or belongs to another organization.
pub async fn find_in_org<E: OrgScoped>(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<E::Model, ApiError> {
    scoped::<E>(org).filter(E::id_column().eq(id)).one(conn).await?.ok_or_else(ApiError::not_found)
}

/// Writes `model` only when the stored row still has version `expected` (and is in `org`);
/// 412 when another write got there first. The caller sets the new version in `model`; every
/// field of `model` is written.
pub async fn update_versioned<E, A>(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid, expected: i32, model: A,
) -> Result<(), ApiError>
where
    E: OrgScoped,
    A: ActiveModelTrait<Entity = E> + Send,
    E::Model: IntoActiveModel<A>,
{
    let result = E::update_many().set(model.reset_all()).filter(at_version::<E>(org, id, expected)).exec(conn).await?;
    written(result.rows_affected)
}

/// Row `id` of `org` while it is at version `expected`.
fn at_version<E: OrgScoped>(org: Uuid, id: Uuid, expected: i32) -> Condition {
    Condition::all().add(E::org_column().eq(org)).add(E::id_column().eq(id)).add(E::version_column().eq(expected))
}

/// 412 when a conditional write touched no row: the row changed (or went) after it was read.
pub fn written(rows_affected: u64) -> Result<(), ApiError> {
    if rows_affected == 0 {
        return Err(ApiError::new(ErrorCode::PreconditionFailed).detail(
            "The resource changed while this request ran; read it again and retry with its new ETag",
            "El recurso cambió mientras se atendía esta solicitud; léalo de nuevo y reintente con su nuevo ETag",
        ));
    }
    Ok(())
}

/// Deletes row `id` of `org` if it is still at version `expected`; 412 otherwise.
pub async fn delete_versioned<E: OrgScoped>(
    conn: &impl ConnectionTrait, org: Uuid, id: Uuid, expected: i32,
) -> Result<(), ApiError> {
    let result = E::delete_many().filter(at_version::<E>(org, id, expected)).exec(conn).await?;
    written(result.rows_affected)
}

/// De-duplicates `ids` (at most 200) and checks each names a row of `E` in `org`; 422 naming
/// `field` and each unknown id otherwise (`code`: e.g. `unknown_finding`).
pub async fn check_ids<E: OrgScoped>(
    conn: &impl ConnectionTrait, org: Uuid, field: &str, code: &str, ids: &[Uuid],
) -> Result<Vec<Uuid>, ApiError> {
    let unique: Vec<Uuid> = ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
    if unique.len() > 200 {
        return Err(ApiError::field(field, "too_many", "at most 200 ids"));
    }
    if unique.is_empty() {
        return Ok(unique);
    }
    let found: BTreeSet<Uuid> = scoped::<E>(org)
        .filter(E::id_column().is_in(unique.clone()))
        .select_only()
        .column(E::id_column())
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let missing: Vec<FieldError> = unique
        .iter()
        .filter(|id| !found.contains(id))
        .map(|id| FieldError::new(field, code, format!("no such id in your organization: {id}")))
        .collect();
    if missing.is_empty() {
        Ok(unique)
    } else {
        Err(ApiError::validation(missing))
    }
}
