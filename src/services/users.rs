//! Users of an organization: creation, changes, deactivation, passwords.
use super::audit::{self, Actor, Entry};
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::auth::jwt::PrincipalKind;
use crate::auth::{password, Principal};
use crate::dto::identity::{roles, CreateUserRequest, MeResponse, UpdateUserRequest, UserListQuery, UserResponse};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::validate::Checks;
use crate::entities::enums::{ActorKind, AuditOperation, AuditResource, Role};
use crate::entities::{organization, refresh_token, service_account, user};
use crate::error::{ApiError, ErrorCode};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Validates a new user's fields, including the password policy.
pub fn check_new(req: &CreateUserRequest) -> Result<(), ApiError> {
    let mut c = Checks::new();
    c.email("email", req.email.trim());
    c.text("display_name", &req.display_name, 200);
    c.optional_text("unit", req.unit.as_deref(), 200);
    if req.roles.is_empty() {
        c.push("roles", "empty", "at least one role is required");
    }
    c.add(password::check_policy(&req.password, req.email.trim()).err());
    c.finish()
}

/// Creates a user in `org` and records it in the audit trail.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, req: CreateUserRequest, platform_operator: bool,
) -> Result<user::Model, ApiError> {
    check_new(&req)?;
    let email = req.email.trim().to_lowercase();
    let hash = password::hash_blocking(req.password).await.map_err(ApiError::internal)?;
    let now = super::now();
    let model = user::Model {
        id: Uuid::now_v7(),
        email,
        display_name: req.display_name.trim().to_string(),
        password_hash: hash,
        roles: roles(req.roles),
        platform_operator,
        active: true,
        unit: req.unit.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    user::Entity::insert(user::ActiveModel::from(model.clone())).exec_without_returning(conn).await.map_err(|e| {
        let err = ApiError::from(e);
        if err.code == ErrorCode::AlreadyExists {
            ApiError::validation(vec![crate::error::FieldError::new(
                "email",
                "taken",
                "a user with this e-mail exists",
            )])
            .with_code(ErrorCode::AlreadyExists)
        } else {
            err
        }
    })?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::User, model.id, AuditOperation::Create)
            .after(&UserResponse::from(model.clone())),
    )
    .await?;
    Ok(model)
}

/// Lists users of `org`, newest last, with filters.
pub async fn list(conn: &impl ConnectionTrait, org: Uuid, q: &UserListQuery) -> Result<Page<UserResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    crate::dto::validate::query_text("q", q.q.as_deref(), 200)?;
    let mut select = scoped::<user::Entity>(org).order_by_asc(user::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(user::Column::Id.gt(cursor.id));
    }
    if let Some(active) = q.active {
        select = select.filter(user::Column::Active.eq(active));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(user::Column::Email)))
                .like(pattern.clone())
                .or(Expr::expr(Func::lower(Expr::col(user::Column::DisplayName))).like(pattern)),
        );
    }
    // Roles are a small JSON array; filter them here rather than with backend-specific JSON SQL.
    let role: Option<Role> = q.role;
    let rows = if role.is_some() {
        let mut rows = Vec::new();
        let mut last: Option<Uuid> = None;
        loop {
            let mut batch = select.clone().limit(1000);
            if let Some(id) = last {
                batch = batch.filter(user::Column::Id.gt(id));
            }
            let batch = batch.all(conn).await?;
            let done = batch.len() < 1000;
            last = batch.last().map(|u| u.id);
            rows.extend(batch.into_iter().filter(|u| role.is_none_or(|r| u.roles.has(r))));
            if done || rows.len() as u64 > limit {
                break;
            }
        }
        rows
    } else {
        select.limit(limit + 1).all(conn).await?
    };
    Ok(Page::from_rows(rows, limit, "", |u| (None, u.id), UserResponse::from))
}

/// Applies a merge patch to a user, checking `If-Match`; deactivation revokes refresh tokens.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateUserRequest,
) -> Result<user::Model, ApiError> {
    let current = find_in_org::<user::Entity>(conn, org, id).await?;
    let mut c = Checks::new();
    if let Some(name) = &req.display_name {
        c.text("display_name", name, 200);
    }
    if let Some(Some(unit)) = &req.unit {
        c.optional_text("unit", Some(unit), 200);
    }
    if req.roles.as_ref().is_some_and(Vec::is_empty) {
        c.push("roles", "empty", "at least one role is required");
    }
    c.finish()?;
    ensure_may_change(actor, &current)?;
    if actor.id == Some(id) {
        ensure_own_privileges_kept(&current.roles.0, current.active, req.roles.as_deref(), req.active)?;
    }
    // Invalid input is reported before a stale version: fixing the body comes first.
    ApiError::check_version(current.version, expected_version)?;
    let mut next = current.clone();
    crate::dto::patch::set(&mut next.display_name, req.display_name.map(|n| n.trim().to_string()));
    crate::dto::patch::set(&mut next.roles, req.roles.map(roles));
    crate::dto::patch::set_nullable(&mut next.unit, req.unit);
    crate::dto::patch::set(&mut next.active, req.active);
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current {
        return Ok(current);
    }
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, user::ActiveModel::from(next.clone())).await?;
    if current.active && !next.active {
        revoke_refresh_tokens(conn, id).await?;
    }
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::User, id, AuditOperation::Update)
            .before(&UserResponse::from(current))
            .after(&UserResponse::from(next.clone())),
    )
    .await?;
    Ok(next)
}

/// 403 `operator_account_protected` when someone other than the platform operator tries to
/// change the operator's account: a tenant administrator must not be able to take it over.
/// The system actor (the command line, run by whoever holds the server's configuration and
/// database) may: `mejora user reset-password` is the way back for an operator who lost it.
pub fn ensure_may_change(actor: &Actor, target: &user::Model) -> Result<(), ApiError> {
    if target.platform_operator && actor.id != Some(target.id) && actor.kind != ActorKind::System {
        return Err(ApiError::new(ErrorCode::OperatorAccountProtected).detail(
            "The platform operator's account is changed only by the operator",
            "La cuenta del operador de la plataforma solo la modifica el operador",
        ));
    }
    Ok(())
}

/// 403 `own_privileges_locked` when a principal's patch of its own account would change its
/// roles or its active flag (sending the current values back is accepted).
pub fn ensure_own_privileges_kept(
    current_roles: &[Role], current_active: bool, roles: Option<&[Role]>, active: Option<bool>,
) -> Result<(), ApiError> {
    let same_roles = |wanted: &[Role]| {
        wanted.iter().all(|r| current_roles.contains(r)) && current_roles.iter().all(|r| wanted.contains(r))
    };
    if roles.is_some_and(|r| !same_roles(r)) || active.is_some_and(|a| a != current_active) {
        return Err(ApiError::new(ErrorCode::OwnPrivilegesLocked).detail(
            "You cannot change your own roles or active flag; another administrator must",
            "No puede cambiar sus propios roles ni su estado activo; debe hacerlo otro administrador",
        ));
    }
    Ok(())
}

/// Sets a new password (admin reset or owner change) and revokes the user's refresh tokens.
pub async fn set_password(
    conn: &impl ConnectionTrait, actor: &Actor, target: &user::Model, new_password: String, operation: AuditOperation,
) -> Result<(), ApiError> {
    ensure_may_change(actor, target)?;
    password::check_policy(&new_password, &target.email).map_err(|e| ApiError::validation(vec![e]))?;
    let hash = password::hash_blocking(new_password).await.map_err(ApiError::internal)?;
    let model = user::ActiveModel {
        id: Set(target.id),
        password_hash: Set(hash),
        updated_at: Set(super::now()),
        updated_by: Set(actor.id),
        version: Set(target.version + 1),
        ..Default::default()
    };
    user::Entity::update(model).exec(conn).await?;
    revoke_refresh_tokens(conn, target.id).await?;
    audit::record(conn, actor, Entry::new(target.organization_id, AuditResource::User, target.id, operation)).await?;
    Ok(())
}

/// Revokes every live refresh token of a user.
pub async fn revoke_refresh_tokens(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(super::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// A user of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<UserResponse, ApiError> {
    Ok(find_in_org::<user::Entity>(conn, org, id).await?.into())
}

/// An administrator replaces the password of user `id` of `org`.
pub async fn reset_password(
    db: &DatabaseConnection, actor: &Actor, org: Uuid, id: Uuid, new_password: String,
) -> Result<(), ApiError> {
    let target = find_in_org::<user::Entity>(db, org, id).await?;
    super::transaction(db, async |txn| {
        set_password(txn, actor, &target, new_password, AuditOperation::ResetPassword).await
    })
    .await
}

/// The caller changes its own password, proving the current one. Service accounts have none.
pub async fn change_own_password(
    db: &DatabaseConnection, principal: &Principal, current_password: String, new_password: String,
) -> Result<(), ApiError> {
    if principal.kind != PrincipalKind::User {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "Service accounts use rotating secrets, not passwords",
            "Las cuentas de servicio usan secretos rotables, no contraseñas",
        ));
    }
    let current = user::Entity::find_by_id(principal.id).one(db).await?.ok_or_else(ApiError::not_found)?;
    if !password::verify_blocking(current_password, current.password_hash.clone()).await {
        return Err(ApiError::field("current_password", "mismatch", "the current password is wrong"));
    }
    let actor = Actor::from(principal);
    super::transaction(db, async |txn| {
        set_password(txn, &actor, &current, new_password, AuditOperation::ChangePassword).await
    })
    .await
}

/// The authenticated user or service account, with the roles it holds now.
pub async fn me(conn: &impl ConnectionTrait, principal: &Principal) -> Result<MeResponse, ApiError> {
    let org =
        organization::Entity::find_by_id(principal.organization_id).one(conn).await?.ok_or_else(ApiError::not_found)?;
    let (login, display_name) = match principal.kind {
        PrincipalKind::User => {
            let u = user::Entity::find_by_id(principal.id).one(conn).await?.ok_or_else(ApiError::not_found)?;
            (u.email, u.display_name)
        }
        PrincipalKind::ServiceAccount => {
            let a =
                service_account::Entity::find_by_id(principal.id).one(conn).await?.ok_or_else(ApiError::not_found)?;
            (a.client_id, a.name)
        }
    };
    Ok(MeResponse {
        id: principal.id,
        kind: match principal.kind {
            PrincipalKind::User => "user".into(),
            PrincipalKind::ServiceAccount => "service_account".into(),
        },
        organization_id: principal.organization_id,
        organization_name: org.name,
        login,
        display_name,
        roles: principal.roles.0.clone(),
        platform_operator: principal.platform_operator,
    })
}
