//! `GET /metrics` on its own address, in the Prometheus text format, read with a parser.
use crate::helpers::*;
use mejora::entities::enums::Role;
use prometheus_parse::{Sample, Scrape, Value as PromValue};
use reqwest::Method;

fn value(sample: &Sample) -> f64 {
    match &sample.value {
        PromValue::Counter(v) | PromValue::Gauge(v) | PromValue::Untyped(v) => *v,
        PromValue::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
        PromValue::Summary(_) => 0.0,
    }
}

/// The sum of the samples named `name` whose labels include `labels`.
fn total(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(value)
        .sum()
}

#[tokio::test]
async fn metrics_are_scraped_on_their_own_address_and_parse() {
    // The application built here, to learn the port its metrics server bound.
    let (url, _) = fresh_database_url().await;
    let service = mejora::startup::Application::build(test_config(&url, &[("MEJORA_METRICS_BIND", "127.0.0.1:0")]))
        .await
        .unwrap();
    let port = service.metrics_port().expect("metrics port");
    let base = format!("http://127.0.0.1:{}", service.port());
    tokio::spawn(service.run_until_stopped());
    let app = super::attach(&base, &url).await;
    let auditor = app.token_for(Role::Auditor).await;

    assert_eq!(app.get("/api/v1/me", &auditor).await.status(), 200);
    let missing = format!("/api/v1/plans/{}", uuid::Uuid::now_v7());
    assert_eq!(app.get(&missing, &auditor).await.status(), 404);
    assert_eq!(app.login(ADMIN_EMAIL, "not the password").await.status(), 401);
    let csv = "source,report_code,finding_code,title,severity,classification,fiscal_year,report_date,requirements\n\
               internal_audit,OCI-M,M-1,Hallazgo 1,high,observation,2024,2025-03-31,A.5.15\n\
               internal_audit,OCI-M,M-2,Hallazgo 2,low,observation,2024,2025-03-31,A.5.18\n";
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The API's own address does not serve the figures.
    assert_problem(app.request(Method::GET, "/metrics", None).send().await.unwrap(), 404, "route_not_found").await;

    let res = app.client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format");

    // Requests by route template (never the raw path) and status class.
    let me = [("route", "/api/v1/me"), ("method", "GET"), ("status", "2xx")];
    assert!(total(&scrape, "mejora_http_requests_total", &me) >= 1.0, "{text}");
    let plan = [("route", "/api/v1/plans/:id"), ("status", "4xx")];
    assert!(total(&scrape, "mejora_http_requests_total", &plan) >= 1.0, "{text}");
    assert!(!text.contains(&missing), "raw paths must not become labels");
    let latency = scrape
        .samples
        .iter()
        .find(|s| s.metric == "mejora_http_request_duration_seconds" && s.labels.get("route") == Some("/api/v1/me"))
        .expect("latency histogram");
    assert!(matches!(&latency.value, PromValue::Histogram(b) if b.len() > 5), "{:?}", latency.value);
    assert!(scrape.samples.iter().any(|s| s.metric == "mejora_http_requests_in_flight"), "{text}");
    // Pool figures, sampled at scrape time.
    assert_eq!(
        total(&scrape, "mejora_db_pool_connections", &[("state", "max")]),
        if app.backend == "sqlite" { 1.0 } else { 4.0 }
    );
    assert!(total(&scrape, "mejora_db_pool_connections", &[("state", "size")]) >= 1.0, "{text}");
    // Domain figures.
    let imported = [("format", "csv"), ("outcome", "completed")];
    assert!(total(&scrape, "mejora_import_rows_total", &imported) >= 2.0, "{text}");
    assert!(scrape.samples.iter().any(|s| s.metric == "mejora_import_duration_seconds"), "{text}");
    assert!(total(&scrape, "mejora_login_failures_total", &[]) >= 1.0, "{text}");
    assert!(total(&scrape, "mejora_audit_events_written_total", &[]) >= 1.0, "{text}");
}
