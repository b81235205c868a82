//! First start: on an empty database, create the first organization and its administrator
//! (who is also the platform operator), from the environment or with a generated password.
use super::audit::{Actor, AuditOperation};
use super::{organizations, users};
use crate::config::Config;
use crate::dto::identity::{CreateOrganizationRequest, CreateUserRequest};
use crate::entities::enums::Role;
use crate::entities::{organization, user};
use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use secrecy::ExposeSecret;

/// What bootstrap created.
#[derive(Debug, Clone)]
pub struct Created {
    /// Organization name.
    pub organization: String,
    /// Admin e-mail.
    pub email: String,
    /// The generated password, when none was configured (print it once).
    pub generated_password: Option<String>,
}

fn generated_password() -> String {
    let mut bytes = [0u8; 15];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates the first organization and admin when there is no organization yet.
pub async fn run(db: &DatabaseConnection, config: &Config) -> Result<Option<Created>, ApiError> {
    if organization::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let configured = config.bootstrap.password.as_ref().map(|p| p.expose_secret().to_string());
    let password = configured.clone().unwrap_or_else(generated_password);
    let created = create_organization_with_admin(
        db,
        &config.bootstrap.organization,
        &config.bootstrap.tax_id,
        &config.bootstrap.email,
        "Administrador",
        password.clone(),
        vec![Role::Admin],
        true,
    )
    .await?;
    Ok(Some(Created {
        organization: created.0.name,
        email: created.1.email,
        generated_password: configured.is_none().then_some(password),
    }))
}

/// Creates an organization and its first user in one transaction (bootstrap and CLI).
#[allow(clippy::too_many_arguments)]
pub async fn create_organization_with_admin(
    db: &DatabaseConnection, name: &str, tax_id: &str, email: &str, display_name: &str, password: String,
    roles: Vec<Role>, platform_operator: bool,
) -> Result<(organization::Model, user::Model), ApiError> {
    let txn = db.begin().await?;
    let actor = Actor::system();
    let request = CreateOrganizationRequest {
        name: name.to_string(),
        tax_id: tax_id.to_string(),
        order: None,
        sector: None,
        admin: None,
    };
    let (org, _) = organizations::create(&txn, &actor, request).await?;
    let first = CreateUserRequest {
        email: email.to_string(),
        display_name: display_name.to_string(),
        password,
        roles,
        unit: None,
    };
    let mut admin = users::create(&txn, &actor, org.id, first, false).await?;
    if platform_operator {
        user::Entity::update(user::ActiveModel {
            id: Set(admin.id),
            platform_operator: Set(true),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        admin.platform_operator = true;
    }
    txn.commit().await?;
    Ok((org, admin))
}

/// Adds a user to an existing organization (CLI `user create --organization`).
pub async fn add_user(
    db: &DatabaseConnection, organization_id: uuid::Uuid, request: CreateUserRequest,
) -> Result<user::Model, ApiError> {
    let txn = db.begin().await?;
    let created = users::create(&txn, &Actor::system(), organization_id, request, false).await?;
    txn.commit().await?;
    Ok(created)
}

/// A new password for the user signed in as `email` (operator recovery from the command line):
/// the given one, or a generated one returned to be shown once. Revokes the user's refresh tokens.
pub async fn reset_password(
    db: &DatabaseConnection, email: &str, given: Option<String>,
) -> Result<(user::Model, Option<String>), ApiError> {
    let email = email.trim().to_lowercase();
    let target =
        user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(db).await?.ok_or_else(|| {
            ApiError::not_found()
                .detail(format!("no user signs in as {email}"), format!("ningún usuario inicia sesión como {email}"))
        })?;
    let generated = given.is_none().then(generated_password);
    let password = given.or_else(|| generated.clone()).unwrap_or_default();
    let txn = db.begin().await?;
    users::set_password(&txn, &Actor::system(), &target, password, AuditOperation::ResetPassword).await?;
    txn.commit().await?;
    Ok((target, generated))
}

/// Every organization, oldest first (operator look-up of the ids `user create` needs).
pub async fn organizations(db: &DatabaseConnection) -> Result<Vec<organization::Model>, ApiError> {
    Ok(organization::Entity::find().order_by_asc(organization::Column::CreatedAt).all(db).await?)
}
