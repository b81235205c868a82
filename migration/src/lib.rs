//! Schema migrations for mejora, one change per file (`mYYYYMMDD_HHMMSS_…`), each with `down()`.
pub use sea_orm_migration::prelude::*;

mod common;
mod m20261122_000001_identity_and_audit;
mod m20261123_000002_plans;
mod m20261123_000003_findings;
mod m20261123_000004_actions_evidence;
mod m20261123_000005_finding_links;
mod m20261123_000006_partial_plan_index;
mod m20261201_210001_login_throttle;
mod m20261201_210002_audit_head_guard;
mod m20261201_224500_finding_incidence;
mod m20261201_230000_finding_import_xlsx;
mod m20261202_004500_reporting_periods;
mod m20261202_050000_event_outbox;
mod m20261202_060000_risk_register;
mod m20261202_070000_async_imports_reminders_notifications;
mod m20261202_075000_webhooks;

/// Every migration of the service, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_identity_and_audit::Migration),
            Box::new(m20261123_000002_plans::Migration),
            Box::new(m20261123_000003_findings::Migration),
            Box::new(m20261123_000004_actions_evidence::Migration),
            Box::new(m20261123_000005_finding_links::Migration),
            Box::new(m20261123_000006_partial_plan_index::Migration),
            Box::new(m20261201_210001_login_throttle::Migration),
            Box::new(m20261201_210002_audit_head_guard::Migration),
            Box::new(m20261201_224500_finding_incidence::Migration),
            Box::new(m20261201_230000_finding_import_xlsx::Migration),
            Box::new(m20261202_004500_reporting_periods::Migration),
            Box::new(m20261202_050000_event_outbox::Migration),
            Box::new(m20261202_060000_risk_register::Migration),
            Box::new(m20261202_070000_async_imports_reminders_notifications::Migration),
            Box::new(m20261202_075000_webhooks::Migration),
        ]
    }
}
