//! Distributed traces over OTLP (http/protobuf), on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set (the standard OpenTelemetry variables apply: `OTEL_SERVICE_NAME`,
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_BSP_SCHEDULE_DELAY`…). Spans: one per request
//! (`request`, with `request_id`, `http.route`…) and one per database statement
//! (`sea_orm.*`, with `db.system`, `db.operation`, `db.statement` without values). A caller's
//! W3C `traceparent` becomes the request span's parent.
//!
//! Off, nothing is installed: the request span is the one the logs already have and the
//! database spans are disabled at their call sites by the log filter.
use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// The exporter's own runtime: the batch processor exports from its thread, and the HTTP
/// client needs a Tokio reactor. Never dropped (it lives as long as the process).
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The configured endpoint, when traces are on.
pub fn endpoint() -> Option<String> {
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

/// Runs the OTLP exporter's requests on [`RUNTIME`].
#[derive(Debug)]
struct OnRuntime {
    inner: Arc<opentelemetry_otlp::SpanExporter>,
    runtime: tokio::runtime::Handle,
}

impl SpanExporter for OnRuntime {
    fn export(&self, batch: Vec<SpanData>) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let inner = self.inner.clone();
        let task = self.runtime.spawn(async move { inner.export(batch).await });
        async move { task.await.unwrap_or_else(|e| Err(OTelSdkError::InternalFailure(e.to_string()))) }
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

/// Flushes and stops the exporter when dropped (at the end of `main`).
pub struct Guard(Option<SdkTracerProvider>);

impl Guard {
    /// A guard with nothing to flush.
    pub fn off() -> Self {
        Guard(None)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("could not flush the last traces: {e}");
            }
        }
    }
}

/// A boxed subscriber layer.
pub type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync>;

/// The OpenTelemetry layer, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; its guard flushes.
pub fn layer<S>() -> anyhow::Result<(Option<BoxedLayer<S>>, Guard)>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    if endpoint().is_none() {
        return Ok((None, Guard(None)));
    }
    let runtime = match RUNTIME.get() {
        Some(r) => r,
        None => {
            let built = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("otlp-export")
                .enable_all()
                .build()?;
            RUNTIME.get_or_init(|| built)
        }
    };
    let exporter = {
        let _entered = runtime.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()?
    };
    let exporter = OnRuntime { inner: Arc::new(exporter), runtime: runtime.handle().clone() };
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name("mejora");
    }
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
    let tracer = provider.tracer("mejora");
    // Request spans and database statements; the log filter does not apply to traces.
    let targets = Targets::new()
        .with_target("mejora", tracing::Level::INFO)
        .with_target("sea_orm", tracing::Level::INFO)
        .with_target("sea_orm_migration", tracing::Level::WARN);
    let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(targets);
    ENABLED.store(true, Ordering::Relaxed);
    Ok((Some(Box::new(layer)), Guard(Some(provider))))
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes a caller's W3C `traceparent` the parent of `span` (nothing when traces are off).
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !ENABLED.load(Ordering::Relaxed) || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if let Err(e) = span.set_parent(parent) {
        tracing::debug!(error = %e, "traceparent not applied");
    }
}

/// Whether traces are being exported.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}
