//! Organizations (tenants). The platform operator creates them; their admins edit them.
use super::audit::{self, Actor, Entry};
use super::users;
use crate::dto::identity::{
    CreateOrganizationRequest, CreateUserRequest, OrganizationResponse, UpdateOrganizationRequest,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::validate::Checks;
use crate::entities::enums::{AuditOperation, AuditResource, Role};
use crate::entities::organization;
use crate::error::{ApiError, ErrorCode, FieldError};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// A NIT: 6–15 digits, optionally followed by `-` and its check digit, which must be the
/// DIAN modulo-11 digit of the base; dots and spaces are ignored (the length and characters
/// follow the pattern in the OpenAPI schema).
pub fn normalize_tax_id(raw: &str) -> Option<String> {
    let cleaned: String = raw.chars().filter(|c| *c != '.' && *c != ' ').collect();
    let (base, check) = match cleaned.split_once('-') {
        Some((b, c)) => (b.to_string(), Some(c.to_string())),
        None => (cleaned.clone(), None),
    };
    let base_ok = (6..=15).contains(&base.len()) && base.chars().all(|c| c.is_ascii_digit());
    let check_ok = check.as_ref().is_none_or(|c| c.len() == 1 && c.chars().all(|d| d.is_ascii_digit()));
    let digit_ok = !base_ok || check.as_ref().is_none_or(|c| nit_check_digit(&base).to_string() == *c);
    (base_ok && check_ok && digit_ok).then_some(cleaned)
}

/// The DIAN check digit ("dígito de verificación") of a NIT's digits: each digit, from the
/// right, times 3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71; the sum modulo 11 is
/// the digit when 0 or 1, else 11 minus it.
pub fn nit_check_digit(base: &str) -> u32 {
    const WEIGHTS: [u32; 15] = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71];
    let sum: u32 = base.chars().rev().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    match sum % 11 {
        r @ (0 | 1) => r,
        r => 11 - r,
    }
}

/// Creates an organization, and its first admin when given, in one transaction.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, req: CreateOrganizationRequest,
) -> Result<(organization::Model, Option<crate::entities::user::Model>), ApiError> {
    let mut c = Checks::new();
    c.text("name", &req.name, 300);
    c.optional_text("sector", req.sector.as_deref(), 200);
    let tax_id = normalize_tax_id(&req.tax_id);
    if tax_id.is_none() {
        c.push(
            "tax_id",
            "invalid_tax_id",
            "must be a NIT: 6 to 15 digits, optionally '-' and its DIAN check digit (e.g. 890000111-9)",
        );
    }
    let admin = req.admin.map(|a| CreateUserRequest {
        email: a.email,
        display_name: a.display_name,
        password: a.password,
        roles: vec![Role::Admin],
        unit: None,
    });
    if let Some(admin) = &admin {
        if let Err(ApiError { errors, .. }) = users::check_new(admin) {
            for e in errors {
                c.push(&format!("admin.{}", e.field), &e.code, e.message);
            }
        }
    }
    c.finish()?;
    let now = super::now();
    let model = organization::Model {
        id: Uuid::now_v7(),
        name: req.name.trim().to_string(),
        tax_id: tax_id.unwrap_or_default(),
        order: req.order,
        sector: req.sector.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    organization::Entity::insert(organization::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await
        .map_err(|e| match ApiError::from(e) {
            err if err.code == ErrorCode::AlreadyExists => {
                ApiError::validation(vec![FieldError::new("tax_id", "taken", "an organization with this NIT exists")])
                    .with_code(ErrorCode::AlreadyExists)
            }
            err => err,
        })?;
    audit::record(
        conn,
        actor,
        Entry::new(model.id, AuditResource::Organization, model.id, AuditOperation::Create)
            .after(&OrganizationResponse::from(model.clone())),
    )
    .await?;
    let admin = match admin {
        Some(admin) => Some(users::create(conn, actor, model.id, admin, false).await?),
        None => None,
    };
    Ok((model, admin))
}

/// The organization `id` if the caller may see it: their own, or any for the platform operator.
pub async fn get(
    conn: &impl ConnectionTrait, own_org: Uuid, operator: bool, id: Uuid,
) -> Result<organization::Model, ApiError> {
    if id != own_org && !operator {
        return Err(ApiError::not_found());
    }
    organization::Entity::find_by_id(id).one(conn).await?.ok_or_else(ApiError::not_found)
}

/// Organizations the caller may see.
pub async fn list(
    conn: &impl ConnectionTrait, own_org: Uuid, operator: bool, page: &PageParams,
) -> Result<Page<OrganizationResponse>, ApiError> {
    let limit = page.limit()?;
    let mut select = organization::Entity::find().order_by_asc(organization::Column::Id);
    if !operator {
        select = select.filter(organization::Column::Id.eq(own_org));
    }
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(organization::Column::Id.gt(cursor.id));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, limit, "", |o| (None, o.id), OrganizationResponse::from))
}

/// Applies a merge patch to the caller's organization.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, current: organization::Model, expected_version: i32,
    req: UpdateOrganizationRequest,
) -> Result<organization::Model, ApiError> {
    let mut c = Checks::new();
    if let Some(name) = &req.name {
        c.text("name", name, 300);
    }
    if let Some(Some(sector)) = &req.sector {
        c.optional_text("sector", Some(sector), 200);
    }
    c.finish()?;
    // Invalid input is reported before a stale version: fixing the body comes first.
    ApiError::check_version(current.version, expected_version)?;
    let mut next = current.clone();
    crate::dto::patch::set(&mut next.name, req.name.map(|n| n.trim().to_string()));
    crate::dto::patch::set_nullable(&mut next.order, req.order);
    crate::dto::patch::set_nullable(&mut next.sector, req.sector);
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version += 1;
    let result = organization::Entity::update_many()
        .set(organization::ActiveModel::from(next.clone()).reset_all())
        .filter(organization::Column::Id.eq(current.id))
        .filter(organization::Column::Version.eq(expected_version))
        .exec(conn)
        .await?;
    super::tenancy::written(result.rows_affected)?;
    audit::record(
        conn,
        actor,
        Entry::new(current.id, AuditResource::Organization, current.id, AuditOperation::Update)
            .before(&OrganizationResponse::from(current))
            .after(&OrganizationResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nit_check_digits_follow_the_dian_rule() {
        assert_eq!(normalize_tax_id("890.000.111-9").as_deref(), Some("890000111-9"));
        assert_eq!(normalize_tax_id("890000111-5"), None);
        assert_eq!(normalize_tax_id("891900493-2").as_deref(), Some("891900493-2"));
        assert_eq!(normalize_tax_id("900215967-5").as_deref(), Some("900215967-5"));
        assert_eq!(normalize_tax_id("800000000-2").as_deref(), Some("800000000-2"));
        assert_eq!(normalize_tax_id("000000000-0").as_deref(), Some("000000000-0"));
        assert_eq!(normalize_tax_id("890000111").as_deref(), Some("890000111"));
        assert_eq!(normalize_tax_id("12ab"), None);
    }
}
