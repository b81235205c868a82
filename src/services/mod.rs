//! Business rules and queries. No actix types here: every function takes a connection or a
//! transaction (`&impl ConnectionTrait`) so callers decide the transaction boundary.
pub mod action_evaluation;
pub mod action_queries;
pub mod actions;
pub mod audit;
pub mod bootstrap;
pub mod calendar;
pub mod categories;
pub mod evidence;
pub mod files;
pub mod finding_imports;
pub mod findings;
pub mod login_throttle;
pub mod matrix;
pub mod objectives;
pub mod organizations;
pub mod plan_actions;
pub mod plan_lifecycle;
pub mod plans;
pub mod progress;
pub mod reformulation;
pub mod reporting_periods;
pub mod reports;
pub mod service_accounts;
pub mod sessions;
pub mod spool;
pub mod spreadsheet;
pub mod storage;
pub mod tenancy;
pub mod users;

crate::org_scoped!(
    user,
    service_account,
    objective,
    plan,
    category,
    finding,
    finding_import,
    action,
    evidence,
    evidence_file,
    reporting_period
);

/// The current instant at microsecond precision, the precision PostgreSQL stores, so a reply
/// built from memory equals the row read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
