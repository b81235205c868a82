//! Operations: what an IT team running the service next to others needs from it — Prometheus
//! metrics on their own address, per-principal and per-organization rate limits, readiness of
//! each dependency. HTTP plumbing only (traces live in `telemetry::traces`, the start-up line per
//! dependency in `startup`); the services record
//! their own figures with the `metrics` facade (a no-op until [`metrics::install`] runs).
pub mod metrics;
pub mod rate_limit;
