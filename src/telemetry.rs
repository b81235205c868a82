//! Structured logs with `tracing`: pretty for people, JSON for log shippers. `RUST_LOG`
//! overrides the default filter. Also the per-request context (request id, client address)
//! that the request middleware records and the logs and the audit trail carry.
use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Per-request facts the middleware records for handlers, logs and the audit trail.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// `X-Request-Id` (taken from the client when well-formed, generated otherwise).
    pub request_id: String,
    /// Peer address of the TCP connection.
    pub client_addr: Option<String>,
}

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn"));
    // Colours only for a terminal: logs redirected to a file or a pipe stay plain text.
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
