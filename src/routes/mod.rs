//! HTTP layer: extract, authorize (the `Auth<Policy>` in each signature), call a service, map
//! to a DTO. Registering a handler with `.service()` also documents it in the OpenAPI spec.
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
pub mod objectives;
pub mod organizations;
pub mod plan_lifecycle;
pub mod plan_matrix;
pub mod plans;
pub mod reporting_periods;
pub mod reports;
pub mod service_accounts;
pub mod users;

use utoipa_actix_web::service_config::ServiceConfig;

/// Every `/api/v1` operation.
pub fn configure(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    me::configure(cfg);
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
    audit_events::configure(cfg);
    enums::configure(cfg);
}
