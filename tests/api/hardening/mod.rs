//! Regression tests of the hardening issue: each module is one threat, and
//! `docs/SECURITY.md` maps every threat to the test that covers it.
mod audit_truncation;
mod db_error_codes;
mod idempotent_secrets;
mod login_burst;
mod operator_account;
mod segregation;
