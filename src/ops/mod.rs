//! Operations: what an IT team running the service next to others needs from it — Prometheus
//! metrics on their own address, per-principal and per-organization rate limits, readiness of
//! each dependency and a start-up line per dependency. HTTP plumbing only; the services record
//! their own figures with the `metrics` facade (a no-op until [`metrics::install`] runs).
pub mod metrics;
pub mod rate_limit;
pub mod traces;

use crate::config::Config;

/// Logs one line per configured dependency, without secrets (passwords, keys, tokens).
pub fn log_dependencies(config: &Config) {
    tracing::info!(dependency = "database", "database: {}", crate::startup::redact(&config.database_url));
    tracing::info!(
        dependency = "object_store",
        "object store: {}",
        crate::services::storage::describe(&config.storage_url)
    );
    match config.metrics_bind {
        Some(addr) => tracing::info!(dependency = "metrics", "metrics: Prometheus text at http://{addr}/metrics"),
        None => tracing::info!(dependency = "metrics", "metrics: off (MEJORA_METRICS_BIND=off)"),
    }
    tracing::info!(dependency = "rate_limits", "rate limits: {}", config.rate_limits.describe());
    match traces::endpoint() {
        Some(endpoint) if traces::enabled() => {
            tracing::info!(dependency = "traces", "traces: OTLP http/protobuf to {}", crate::startup::redact(&endpoint))
        }
        Some(_) => tracing::warn!(dependency = "traces", "traces: off (the OTLP exporter could not be set up)"),
        None => tracing::info!(dependency = "traces", "traces: off (OTEL_EXPORTER_OTLP_ENDPOINT is not set)"),
    }
}
