//! Fair use: one service account in a loop is refused with 429 while another organization's
//! calls keep being served; every API response carries the RateLimit headers; the spec says so.
use crate::helpers::*;
use reqwest::{Method, Response};
use serde_json::json;
use std::time::{Duration, Instant};

fn header(res: &Response, name: &str) -> String {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

#[tokio::test]
async fn a_service_account_past_its_limit_gets_429_while_another_organization_is_served() {
    let app =
        spawn_app_with(&[("MEJORA_RATE_LIMIT_PRINCIPAL", "40/60"), ("MEJORA_RATE_LIMIT_ORGANIZATION", "1000/60")])
            .await;
    let created = json_of(
        app.post("/api/v1/service-accounts", &app.admin_token, &json!({"name": "Integración", "roles": ["auditor"]}))
            .await,
        201,
    )
    .await;
    let token = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", created["client_id"].as_str().unwrap()),
            ("client_secret", created["client_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let token = json_of(token, 200).await["access_token"].as_str().unwrap().to_string();
    let (_, other) = app.other_organization().await;

    let first = app.get("/api/v1/me", &token).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "ratelimit-policy"), "\"principal\";q=40;w=60, \"organization\";q=1000;w=60");
    assert!(header(&first, "ratelimit").starts_with("\"principal\";r=39;t="), "{}", header(&first, "ratelimit"));

    let mut refused = None;
    let mut other_slowest = Duration::ZERO;
    // The integration calls twice as often as the other organization's user, past its quota.
    for _ in 0..30 {
        for _ in 0..2 {
            let res = app.get("/api/v1/findings", &token).await;
            if res.status() == 429 && refused.is_none() {
                refused = Some(res);
            }
        }
        let started = Instant::now();
        let served = app.get("/api/v1/findings", &other.token).await;
        other_slowest = other_slowest.max(started.elapsed());
        assert_eq!(served.status(), 200, "the other organization must keep being served");
        assert!(header(&served, "ratelimit").starts_with("\"principal\";r="));
    }
    let refused = refused.expect("the service account was never limited");
    let retry: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=3).contains(&retry), "retry-after {retry}");
    assert!(header(&refused, "ratelimit").starts_with("\"principal\";r=0;"), "{}", header(&refused, "ratelimit"));
    assert!(!header(&refused, "ratelimit-policy").is_empty());
    let body = assert_problem(refused, 429, "rate_limited").await;
    assert!(body["detail"].as_str().unwrap().contains("principal"), "{body}");
    assert!(other_slowest < Duration::from_secs(2), "the other organization waited {other_slowest:?}");
    // Still refused: the loop did not refill its bucket.
    assert_problem(app.get("/api/v1/me", &token).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn heavy_operations_cost_more_and_calls_without_a_token_are_limited_by_address() {
    let app = spawn_app_with(&[
        ("MEJORA_RATE_LIMIT_PRINCIPAL", "15/60"),
        ("MEJORA_RATE_LIMIT_ANONYMOUS", "3/60"),
        ("MEJORA_RATE_LIMIT_HEAVY_COST", "10"),
    ])
    .await;
    // Audit verification costs 10 of the 15.
    let res = app.get("/api/v1/audit-events/verify", &app.admin_token).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "ratelimit").starts_with("\"principal\";r=5;"), "{}", header(&res, "ratelimit"));
    assert_problem(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 429, "rate_limited").await;
    // A cheap call still fits.
    assert_eq!(app.get("/api/v1/me", &app.admin_token).await.status(), 200);

    for _ in 0..3 {
        let res = app.request(Method::GET, "/api/v1/enums", None).send().await.unwrap();
        assert_eq!(header(&res, "ratelimit-policy"), "\"address\";q=3;w=60");
    }
    let res = app.request(Method::GET, "/api/v1/enums", None).send().await.unwrap();
    assert_problem(res, 429, "rate_limited").await;
    // Probes are never limited.
    assert_eq!(app.request(Method::GET, "/health/live", None).send().await.unwrap().status(), 200);
}

#[test]
fn every_operation_documents_429_and_the_ratelimit_headers() {
    let spec = serde_json::to_value(mejora::openapi::document()).unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if path.starts_with("/health/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op.get("responses") else { continue };
            let limited = &responses["429"];
            assert!(limited["content"]["application/problem+json"].is_object(), "{method} {path}");
            assert!(limited["headers"]["Retry-After"].is_object(), "{method} {path}");
            assert!(
                responses["200"].is_null() || responses["200"]["headers"]["RateLimit"].is_object(),
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}

/// A browser frontend reads the rate-limit headers only when CORS exposes them.
#[tokio::test]
async fn browsers_may_read_the_rate_limit_headers() {
    let app = spawn_app().await;
    let res =
        app.request(Method::GET, "/api/v1/enums", None).header("Origin", "http://localhost:5173").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), "http://localhost:5173");
    let exposed = header(&res, "access-control-expose-headers").to_ascii_lowercase();
    for name in ["ratelimit", "ratelimit-policy", "retry-after", "etag"] {
        assert!(exposed.split(',').any(|h| h.trim() == name), "{name} not in {exposed}");
    }
    assert!(!header(&res, "ratelimit-policy").is_empty());
}
