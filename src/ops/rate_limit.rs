//! Fair use of a shared service: token buckets per principal, per organization and (for calls
//! without a valid token) per client address. Every `/api/` response carries the IETF draft
//! headers (`RateLimit-Policy`, `RateLimit`); a refused call gets 429 with `Retry-After`.
//!
//! The buckets live in each replica's memory: with N replicas behind a balancer a caller gets
//! up to N times the configured rate. Size the limits per replica (README, "Rate limits").
use crate::config::rate_limits::{Limits, Quota};
use crate::error::{ApiError, ErrorCode};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

/// Route templates whose calls cost [`Limits::heavy_cost`] (method, template).
const HEAVY: &[(&str, &str)] = &[
    ("POST", "/api/v1/evidence/{id}/files"),
    ("POST", "/api/v1/findings/imports"),
    ("POST", "/api/v1/plans/imports"),
    ("GET", "/api/v1/plans/{id}/export"),
    ("GET", "/api/v1/audit-events/verify"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Principal(Uuid),
    Organization(Uuid),
    Address(std::net::IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What one bucket says about a call.
#[derive(Debug, Clone, Copy)]
struct Reading {
    name: &'static str,
    quota: Quota,
    /// Whole units left after this call.
    remaining: u32,
    /// Seconds until the bucket is full again.
    reset: u64,
    /// Seconds until the call's cost would be available (0 when it is now).
    wait: u64,
}

/// The buckets of one replica.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    buckets: Mutex<HashMap<Key, Bucket>>,
}

/// Buckets kept before idle full ones are forgotten.
const PRUNE_AT: usize = 10_000;

impl RateLimiter {
    /// Empty buckets for `limits`.
    pub fn new(limits: Limits) -> Self {
        RateLimiter { limits, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes `cost` from every bucket in `keys`, or from none when one lacks it.
    fn take(&self, keys: &[(Key, &'static str, Quota)], cost: u32, now: Instant) -> (bool, Vec<Reading>) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > PRUNE_AT {
            let limits = &self.limits;
            buckets.retain(|key, b| {
                let q = match key {
                    Key::Principal(_) => limits.principal,
                    Key::Organization(_) => limits.organization,
                    Key::Address(_) => limits.anonymous,
                };
                b.tokens + now.duration_since(b.at).as_secs_f64() * q.per_second() < f64::from(q.quota)
            });
        }
        let cost = f64::from(cost);
        let mut levels = Vec::with_capacity(keys.len());
        for (key, _, q) in keys {
            let capacity = f64::from(q.quota);
            let b = buckets.entry(*key).or_insert(Bucket { tokens: capacity, at: now });
            let level = (b.tokens + now.duration_since(b.at).as_secs_f64() * q.per_second()).min(capacity);
            levels.push(level);
        }
        let allowed = levels.iter().all(|l| *l >= cost);
        let mut readings = Vec::with_capacity(keys.len());
        for ((key, name, q), level) in keys.iter().zip(levels) {
            let after = if allowed { level - cost } else { level };
            if let Some(b) = buckets.get_mut(key) {
                *b = Bucket { tokens: after, at: now };
            }
            let rate = q.per_second();
            let wait = if level >= cost { 0.0 } else { (cost - level) / rate };
            readings.push(Reading {
                name,
                quota: *q,
                remaining: after.max(0.0).floor() as u32,
                reset: ((f64::from(q.quota) - after) / rate).ceil() as u64,
                wait: wait.ceil() as u64,
            });
        }
        (allowed, readings)
    }
}

fn policy_header(readings: &[Reading]) -> String {
    readings
        .iter()
        .map(|r| format!("\"{}\";q={};w={}", r.name, r.quota.quota, r.quota.window))
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_header(readings: &[Reading]) -> String {
    readings.iter().map(|r| format!("\"{}\";r={};t={}", r.name, r.remaining, r.reset)).collect::<Vec<_>>().join(", ")
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Middleware (inside the bearer check, which identifies the caller): charges the call to
/// its buckets, refuses it with 429 when one is empty, and adds the headers.
pub async fn check<B: MessageBody + 'static>(
    req: ServiceRequest, next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let Some(limiter) = limiter.filter(|l| l.limits.enabled && req.path().starts_with("/api/")) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let limits = &limiter.limits;
    let keys: Vec<(Key, &'static str, Quota)> = match crate::auth::checked_caller(&req) {
        Some((principal, org)) => vec![
            (Key::Principal(principal), "principal", limits.principal),
            (Key::Organization(org), "organization", limits.organization),
        ],
        None => match req.peer_addr() {
            Some(addr) => vec![(Key::Address(addr.ip()), "address", limits.anonymous)],
            None => return next.call(req).await.map(ServiceResponse::map_into_left_body),
        },
    };
    let method = req.method().as_str();
    let heavy = req.match_pattern().is_some_and(|p| HEAVY.iter().any(|(m, t)| *m == method && *t == p));
    let cost = if heavy { limits.heavy_cost } else { 1 };
    let (allowed, readings) = limiter.take(&keys, cost, Instant::now());
    let policy = HeaderValue::from_str(&policy_header(&readings)).ok();
    let state = HeaderValue::from_str(&state_header(&readings)).ok();
    let mut res = if allowed {
        next.call(req).await?.map_into_left_body()
    } else {
        let exhausted = readings.iter().filter(|r| r.wait > 0).max_by_key(|r| r.wait);
        let scope = exhausted.map_or("principal", |r| r.name);
        let wait = exhausted.map_or(1, |r| r.wait).max(1);
        metrics::counter!("mejora_rate_limited_total", "scope" => scope).increment(1);
        let error = ApiError::new(ErrorCode::RateLimited)
            .detail(
                format!("The {scope} rate limit is used up; retry in {wait} s (see the RateLimit headers)"),
                format!(
                    "Se agotó el límite de solicitudes ({scope}); reintente en {wait} s (vea las cabeceras RateLimit)"
                ),
            )
            .retry_after(wait);
        req.into_response(error.error_response()).map_into_right_body()
    };
    let headers = res.headers_mut();
    if let (Some(policy), Some(state)) = (policy, state) {
        headers.insert(RATELIMIT_POLICY, policy);
        headers.insert(RATELIMIT, state);
    }
    Ok(res)
}

/// Documents the rate limits: the headers as shared components, referenced by every success
/// response and by the 429 problem every `/api/` operation may answer (with `Retry-After`).
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Type};
    let string = || Some(ObjectBuilder::new().schema_type(Type::String));
    let headers = [
        (
            "RateLimit-Policy",
            HeaderBuilder::new().schema(string()).description(Some(
                "Quotas that apply to the caller (IETF draft RateLimit headers), e.g. \
                 `\"principal\";q=1200;w=60, \"organization\";q=6000;w=60` (q units per w seconds)",
            )),
        ),
        (
            "RateLimit",
            HeaderBuilder::new().schema(string()).description(Some(
                "Units left (r) and seconds until full (t) of each quota, e.g. `\"principal\";r=1187;t=1`",
            )),
        ),
        (
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1))))
                .description(Some("Seconds to wait before retrying")),
        ),
    ];
    let components = api.components.get_or_insert_with(Default::default);
    for (name, header) in headers {
        components.headers.insert(name.into(), RefOr::T(header.build()));
    }
    let reference = |name: &str| RefOr::Ref(Ref::new(format!("#/components/headers/{name}")));
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/api/") {
            continue;
        }
        let ops = [item.get.as_mut(), item.post.as_mut(), item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut()];
        for op in ops.into_iter().flatten() {
            let limited = ResponseBuilder::new()
                .description("Rate limit of the caller, its organization or its address used up; see Retry-After")
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build();
            op.responses.responses.entry("429".into()).or_insert_with(|| limited.into());
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                if status == "429" {
                    response.headers.entry("Retry-After".into()).or_insert_with(|| reference("Retry-After"));
                }
                if status.starts_with('2') || status == "429" {
                    response.headers.entry("RateLimit-Policy".into()).or_insert_with(|| reference("RateLimit-Policy"));
                    response.headers.entry("RateLimit".into()).or_insert_with(|| reference("RateLimit"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_refuses_past_its_quota_and_refills() {
        let limiter = RateLimiter::new(Limits::default());
        let q = Quota { quota: 3, window: 3 };
        let keys = [(Key::Principal(Uuid::nil()), "principal", q)];
        let t0 = Instant::now();
        for left in [2, 1, 0] {
            let (ok, r) = limiter.take(&keys, 1, t0);
            assert!(ok);
            assert_eq!(r[0].remaining, left);
        }
        let (ok, r) = limiter.take(&keys, 1, t0);
        assert!(!ok);
        assert_eq!(r[0].wait, 1);
        let (ok, _) = limiter.take(&keys, 1, t0 + Duration::from_millis(1100));
        assert!(ok);
    }

    #[test]
    fn a_refusal_takes_from_no_bucket() {
        let limiter = RateLimiter::new(Limits::default());
        let small = Quota { quota: 1, window: 60 };
        let big = Quota { quota: 100, window: 60 };
        let keys =
            [(Key::Principal(Uuid::nil()), "principal", small), (Key::Organization(Uuid::nil()), "organization", big)];
        let t0 = Instant::now();
        assert!(limiter.take(&keys, 1, t0).0);
        let (ok, r) = limiter.take(&keys, 1, t0);
        assert!(!ok);
        assert_eq!(r[1].remaining, 99);
        assert_eq!(state_header(&r), "\"principal\";r=0;t=60, \"organization\";r=99;t=1");
        assert_eq!(policy_header(&r), "\"principal\";q=1;w=60, \"organization\";q=100;w=60");
    }

    #[test]
    fn settings_parse_and_name_their_variable() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let limits = Limits::from_lookup(&get(&[("MEJORA_RATE_LIMIT_PRINCIPAL", "10/1")])).unwrap();
        assert_eq!(limits.principal, Quota { quota: 10, window: 1 });
        let bad = Limits::from_lookup(&get(&[("MEJORA_RATE_LIMIT_ORGANIZATION", "lots")])).unwrap_err();
        assert_eq!(bad.variable, "MEJORA_RATE_LIMIT_ORGANIZATION");
        assert!(!Limits::from_lookup(&get(&[("MEJORA_RATE_LIMITS", "off")])).unwrap().enabled);
    }
}
