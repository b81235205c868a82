//! HTTP layer: extract, authorize (the `Auth<Policy>` in each signature), call a service, answer
//! with what it returns. Registering a handler with `.service()` also documents it in the
//! OpenAPI spec; [`configure`] is the one list of route modules, used both to build the app
//! (`crate::startup`) and the document (`crate::openapi`).
pub mod actions;
pub mod audit_events;
pub mod auth;
pub mod categories;
pub mod enums;
pub mod evidence;
pub mod files;
pub mod finding_imports;
pub mod findings;
pub mod health;
pub mod me;
pub mod notifications;
pub mod objectives;
pub mod organizations;
pub mod plan_lifecycle;
pub mod plan_matrix;
pub mod plans;
pub mod reporting_periods;
pub mod reports;
pub mod risks;
pub mod service_accounts;
pub mod users;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every operation: the health probes at the root, the rest under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    health::configure(cfg);
    cfg.service(scope::scope("/api/v1").configure(api));
}

/// Every `/api/v1` operation, in matching order (`/findings/imports` before `/findings/{id}`).
fn api(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    me::configure(cfg);
    notifications::configure(cfg);
    organizations::configure(cfg);
    users::configure(cfg);
    service_accounts::configure(cfg);
    objectives::configure(cfg);
    plan_matrix::configure(cfg);
    plans::configure(cfg);
    plan_lifecycle::configure(cfg);
    categories::configure(cfg);
    finding_imports::configure(cfg);
    findings::configure(cfg);
    actions::configure(cfg);
    evidence::configure(cfg);
    files::configure(cfg);
    reports::configure(cfg);
    reporting_periods::configure(cfg);
    risks::configure(cfg);
    audit_events::configure(cfg);
    webhooks::configure(cfg);
    enums::configure(cfg);
}
