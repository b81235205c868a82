//! Structured logs with `tracing`: pretty for people, JSON for log shippers. `RUST_LOG`
//! overrides the default filter. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also
//! exported over OTLP (`telemetry::traces`). Also the per-request context (request id, client
//! address) that the request middleware records and the logs and the audit trail carry.
use crate::config::LogFormat;
pub mod traces;
use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Per-request facts the middleware records for handlers, logs and the audit trail.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// `X-Request-Id` (taken from the client when well-formed, generated otherwise).
    pub request_id: String,
    /// Peer address of the TCP connection.
    pub client_addr: Option<String>,
}

/// Installs the global subscriber (once; later calls are ignored). Keep the guard until the
/// process ends: dropping it flushes the last traces.
pub fn init(format: LogFormat) -> traces::Guard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn"));
    // Colours only for a terminal: logs redirected to a file or a pipe stay plain text.
    let ansi = std::io::stderr().is_terminal();
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let logs = match format {
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).with_filter(filter).boxed(),
        LogFormat::Pretty => logs.compact().with_filter(filter).boxed(),
    };
    let (otel, guard) = match traces::layer() {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("traces are off: cannot set up the OTLP exporter: {e:#}");
            (None, traces::Guard::off())
        }
    };
    let _ = tracing_subscriber::registry().with(logs).with(otel).try_init();
    guard
}
