//! The application state every handler reads through `web::Data<AppState>`.
use crate::auth::jwt::TokenService;
use crate::auth::PrincipalCache;
use crate::config::Config;
use crate::services::report_cache::ReportCache;
use crate::services::storage::Storage;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Shared by every request.
pub struct AppState {
    /// Connection pool.
    pub db: DatabaseConnection,
    /// Pool for reads outside transactions: `db` itself on PostgreSQL, read-only connections
    /// beside the single writer on SQLite (`startup::read_pool`).
    pub reads: DatabaseConnection,
    /// Settings.
    pub config: Arc<Config>,
    /// Access-token signer and verifier.
    pub tokens: TokenService,
    /// Cache of principals' current roles and active flags.
    pub principals: Arc<PrincipalCache>,
    /// Evidence file store (`MEJORA_STORAGE_URL`).
    pub storage: Storage,
    /// Plan reports and dashboards, kept under their organization's data version.
    pub reports: Arc<ReportCache>,
}
