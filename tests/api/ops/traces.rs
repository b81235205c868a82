//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, a request's span and its database spans
//! reach an OTLP receiver (a small one here, decoding the protobuf), carrying the request id
//! and continuing the caller's W3C `traceparent`.
use super::graceful::start;
use actix_web::{web, App, HttpResponse, HttpServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Received = Arc<Mutex<Vec<Span>>>;

async fn receive(body: web::Bytes, received: web::Data<Received>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let spans = request.resource_spans.into_iter().flat_map(|r| r.scope_spans).flat_map(|s| s.spans);
    received.lock().unwrap().extend(spans);
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .body(ExportTraceServiceResponse::default().encode_to_vec())
}

/// An OTLP/HTTP receiver on the loopback; returns its endpoint and what it received.
fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let data = web::Data::new(received.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .route("/v1/traces", web::post().to(receive))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), received)
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| match a.value.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        other => Some(format!("{other:?}")),
    })
}

#[tokio::test]
async fn a_request_and_its_database_queries_are_exported_over_otlp() {
    let (endpoint, received) = receiver();
    let served = start(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100")]).await;
    let token = served.admin_token().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", served.base))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .header("x-request-id", "traza-de-prueba-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let started = Instant::now();
    let (request, queries) = loop {
        {
            let spans = received.lock().unwrap();
            let request = spans.iter().find(|s| attribute(s, "request_id").as_deref() == Some("traza-de-prueba-1"));
            if let Some(request) = request {
                let queries: Vec<Span> = spans
                    .iter()
                    .filter(|s| s.trace_id == request.trace_id && s.name.starts_with("sea_orm"))
                    .cloned()
                    .collect();
                if !queries.is_empty() {
                    break (request.clone(), queries);
                }
            }
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no request span with its queries arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The caller's trace continues: same trace id, the caller's span as parent.
    assert_eq!(hex::encode(&request.trace_id), trace_id);
    assert_eq!(hex::encode(&request.parent_span_id), parent_id);
    assert_eq!(request.name, "GET /api/v1/me");
    assert_eq!(attribute(&request, "http.route").as_deref(), Some("/api/v1/me"));
    assert_eq!(attribute(&request, "http.response.status_code").as_deref(), Some("200"));
    let query = &queries[0];
    assert!(attribute(query, "db.system").is_some(), "{query:?}");
    assert!(attribute(query, "db.statement").is_some_and(|s| s.to_ascii_uppercase().contains("SELECT")), "{query:?}");
    drop(served);
}
