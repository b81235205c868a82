//! Prometheus metrics. The recorder is process-wide (the `metrics` facade has one global
//! recorder); `/metrics` is served by its own small server on `MEJORA_METRICS_BIND`, so the
//! figures are not exposed with the API.
//!
//! Names (all prefixed `mejora_`): `http_requests_total` and `http_request_duration_seconds`
//! by `method`, `route` (the route template such as `/api/v1/plans/:id`, never the raw path) and `status` class (`2xx`…),
//! `http_requests_in_flight`, `db_pool_connections` by `state` (`size`, `idle`, `max`),
//! `import_rows_total` and `import_duration_seconds` by `format` and `outcome`,
//! `evidence_bytes_stored_total`, `evidence_files_stored_total`, `audit_events_written_total`,
//! `login_failures_total`, `login_throttled_total`, `rate_limited_total` by `scope`.
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;
use std::net::{SocketAddr, TcpListener};
use std::sync::OnceLock;
use std::time::Instant;

/// Request duration buckets (seconds): 1 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Import duration buckets (seconds): 10 ms to 10 min.
const IMPORT_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("mejora_http_request_duration_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full("mejora_import_duration_seconds".into()), IMPORT_BUCKETS)?
        .build_recorder();
    let handle = recorder.handle();
    // A concurrent install (tests start several applications at once) may win the race; its
    // handle is then the one to use.
    if metrics::set_global_recorder(recorder).is_ok() {
        let _ = HANDLE.set(handle);
    }
    HANDLE.get().cloned().ok_or_else(|| anyhow::anyhow!("another metrics recorder is installed"))
}

/// The status class label of a response: `2xx`, `4xx`…
fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// `/api/v1/plans/{id}/actions` → `/api/v1/plans/:id/actions`.
fn route_label(pattern: &str) -> String {
    pattern.replace('{', ":").replace('}', "")
}

/// Decrements the in-flight gauge however the request ends (even when its future is dropped).
struct InFlight;

impl InFlight {
    fn start() -> Self {
        metrics::gauge!("mejora_http_requests_in_flight").increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("mejora_http_requests_in_flight").decrement(1.0);
    }
}

/// Middleware: counts and times every request by route template and status class.
pub async fn record(
    req: ServiceRequest, next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let _in_flight = InFlight::start();
    let started = Instant::now();
    // The template, so the label set stays small whatever the paths; written `/api/v1/plans/:id`
    // (braces inside label values trip some exposition-format parsers).
    let route = req.match_pattern().map_or_else(|| "unmatched".to_string(), |p| route_label(&p));
    let method = req.method().as_str().to_string();
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let labels = [("method", method), ("route", route), ("status", status_class(status).to_string())];
    metrics::counter!("mejora_http_requests_total", &labels).increment(1);
    metrics::histogram!("mejora_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    result
}

/// Samples the connection pool's figures (read at scrape time).
fn sample_pool(db: &DatabaseConnection, max: u32) {
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return,
    };
    metrics::gauge!("mejora_db_pool_connections", "state" => "size").set(f64::from(size));
    metrics::gauge!("mejora_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("mejora_db_pool_connections", "state" => "max").set(f64::from(max));
}

struct Scrape {
    handle: PrometheusHandle,
    db: DatabaseConnection,
    max_connections: u32,
}

async fn scrape(scrape: web::Data<Scrape>) -> HttpResponse {
    sample_pool(&scrape.db, scrape.max_connections);
    scrape.handle.run_upkeep();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(scrape.handle.render())
}

/// A bound metrics server and its port.
pub struct MetricsServer {
    /// Port actually bound (useful with port 0).
    pub port: u16,
    /// The server; runs until the process is asked to stop, like the API server.
    pub server: Server,
}

/// Binds `GET /metrics` on `addr` with one worker.
pub fn serve(addr: SocketAddr, db: DatabaseConnection, max_connections: u32) -> anyhow::Result<MetricsServer> {
    let handle = install()?;
    let listener =
        TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen on MEJORA_METRICS_BIND={addr}: {e}"))?;
    let port = listener.local_addr()?.port();
    let data = web::Data::new(Scrape { handle, db, max_connections });
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).service(web::resource("/metrics").route(web::get().to(scrape)))
    })
    .workers(1)
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(MetricsServer { port, server })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(route_label("/api/v1/plans/{id}/actions"), "/api/v1/plans/:id/actions");
    }
}
