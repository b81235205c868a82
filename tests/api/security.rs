//! Attacks on tokens, oversized and malformed input, and concurrent writers.
use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn sign(header: Value, claims: &Value, key: &[u8]) -> String {
    use hmac_sign::sign_hs256;
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let sig = sign_hs256(format!("{h}.{c}").as_bytes(), key);
    format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// HMAC-SHA256 by hand, so a test can put any `alg` in the header.
mod hmac_sign {
    use sha2::{Digest, Sha256};
    pub fn sign_hs256(message: &[u8], key: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::digest([ipad.as_slice(), message].concat());
        Sha256::digest([opad.as_slice(), &inner[..]].concat()).to_vec()
    }
}

fn claims(app: &TestApp, sub: uuid::Uuid) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "mejora", "aud": "mejora-api", "sub": sub, "org": app.org_id, "kind": "user",
           "typ": "access", "iat": now - 5, "nbf": now - 5, "exp": now + 600, "jti": uuid::Uuid::new_v4()})
}

#[tokio::test]
async fn forged_tokens_of_every_kind_are_401() {
    let app = spawn_app().await;
    let key = JWT_SECRET.as_bytes();
    let good = claims(&app, app.admin_id);
    // Sanity: the hand-made signer produces tokens the service accepts.
    let valid = sign(json!({"alg": "HS256", "typ": "JWT"}), &good, key);
    json_of(app.get("/api/v1/me", &valid).await, 200).await;

    let mut attacks: Vec<(&str, String)> = Vec::new();
    attacks.push(("alg none", {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        format!("{h}.{}.", URL_SAFE_NO_PAD.encode(good.to_string()))
    }));
    attacks.push(("RS256 header signed with the HMAC key", sign(json!({"alg": "RS256", "typ": "JWT"}), &good, key)));
    attacks.push(("HS384", sign(json!({"alg": "HS384", "typ": "JWT"}), &good, key)));
    attacks.push(("wrong key", sign(json!({"alg": "HS256"}), &good, b"not-the-key-not-the-key-not-the-key!")));
    for (field, value) in [
        ("exp", json!(chrono::Utc::now().timestamp() - 60)),
        ("nbf", json!(chrono::Utc::now().timestamp() + 3600)),
        ("iat", json!(chrono::Utc::now().timestamp() + 3600)),
        ("aud", json!("another-api")),
        ("iss", json!("someone-else")),
        ("typ", json!("refresh")),
        ("kind", json!("service_account")),
    ] {
        let mut c = good.clone();
        c[field] = value;
        attacks.push((field, sign(json!({"alg": "HS256"}), &c, key)));
    }
    let mut missing_exp = good.clone();
    missing_exp.as_object_mut().unwrap().remove("exp");
    attacks.push(("no exp", sign(json!({"alg": "HS256"}), &missing_exp, key)));
    // Roles edited into the payload of a real token: the signature no longer matches.
    let edited = {
        let parts: Vec<&str> = app.admin_token.split('.').collect();
        let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["roles"] = json!(["admin", "auditor"]);
        format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
    };
    attacks.push(("roles edited in", edited));
    // A refresh token presented as an access token.
    let session = json_of(app.login(ADMIN_EMAIL, PASSWORD).await, 200).await;
    attacks.push(("refresh token as access token", session["refresh_token"].as_str().unwrap().to_string()));
    // A token of a user that does not exist.
    attacks.push(("unknown subject", sign(json!({"alg": "HS256"}), &claims(&app, uuid::Uuid::now_v7()), key)));
    for (name, token) in attacks {
        let res = app.get("/api/v1/me", &token).await;
        assert_eq!(res.status(), 401, "{name} was accepted");
        assert_problem(res, 401, "invalid_token").await;
    }
}

#[tokio::test]
async fn oversized_and_pathological_bodies_are_refused_quickly() {
    let app = spawn_app_with(&[("MEJORA_JSON_LIMIT", "64K")]).await;
    let big = json!({"email": "a@b.gov.co", "display_name": "x".repeat(70_000), "password": "una clave larga 123", "roles": ["viewer"]});
    assert_problem(app.post("/api/v1/users", &app.admin_token, &big).await, 413, "payload_too_large").await;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let res = app
        .request(Method::POST, "/api/v1/users", Some(&app.admin_token))
        .header("content-type", "application/json")
        .body(nested)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_json").await;
    let long = json!({"email": "a@b.gov.co", "display_name": "x".repeat(201), "password": "una clave larga 123", "roles": ["viewer"]});
    let body = assert_problem(app.post("/api/v1/users", &app.admin_token, &long).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "display_name");
    let nul = json!({"email": "a@b.gov.co", "display_name": "a\u{0}b", "password": "una clave larga 123", "roles": ["viewer"]});
    assert_problem(app.post("/api/v1/users", &app.admin_token, &nul).await, 422, "validation_failed").await;
    assert_problem(app.get("/api/v1/users?q=a%00b", &app.admin_token).await, 400, "invalid_query").await;
    assert_problem(app.get("/api/v1/users?limit=1000000", &app.admin_token).await, 400, "invalid_query").await;
    let res = app
        .request(Method::POST, "/api/v1/users", Some(&app.admin_token))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, b'{', b'}'])
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let app = spawn_app_with(&[("MEJORA_CLIENT_TIMEOUT", "300")]).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // Never finish the head: the server must answer 408 or close, well before this guard.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a stalled connection open");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test]
async fn fifty_concurrent_patches_with_one_etag_let_exactly_one_through() {
    let app = spawn_app().await;
    let user = app.user_in(app.org_id, &[Role::Viewer]).await;
    let url = app.url(&format!("/api/v1/users/{}", user.id));
    let mut handles = Vec::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = url.clone();
        let token = app.admin_token.clone();
        handles.push(tokio::spawn(async move {
            client
                .patch(url)
                .bearer_auth(token)
                .header("If-Match", "\"v1\"")
                .header("content-type", "application/merge-patch+json")
                .body(json!({"display_name": format!("Nombre {i}")}).to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 49, "{statuses:?}");
    let current = app.get(&format!("/api/v1/users/{}", user.id), &app.admin_token).await;
    assert_eq!(current.headers()["etag"], "\"v2\"");
}

#[tokio::test]
async fn twenty_concurrent_posts_with_one_idempotency_key_create_one_row() {
    let app = spawn_app().await;
    let mut handles = Vec::new();
    for _ in 0..20 {
        let client = app.client.clone();
        let url = app.url("/api/v1/service-accounts");
        let token = app.admin_token.clone();
        handles.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "una-sola-vez")
                .json(&json!({"name": "SIGEP", "roles": ["viewer"]}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body["id"].as_str().map(String::from))
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for h in handles {
        let (status, id) = h.await.unwrap();
        // A request that finds the first one still running may be told to retry (409).
        assert!(status == 201 || status == 409, "{status}");
        if let Some(id) = id {
            ids.insert(id);
        }
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let list = json_of(app.get("/api/v1/service-accounts", &app.admin_token).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn security_headers_are_on_every_answer() {
    let app = spawn_app().await;
    for res in [
        app.get("/api/v1/me", &app.admin_token).await,
        app.request(Method::GET, "/api/v1/nothing", None).send().await.unwrap(),
        app.request(Method::GET, "/health/live", None).send().await.unwrap(),
    ] {
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        assert!(res.headers().contains_key("x-request-id"));
    }
    let res = app.get("/api/v1/me", &app.admin_token).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
}

#[test]
fn production_refuses_default_or_short_secrets() {
    for secret in [None, Some("short"), Some("changeme-changeme-changeme-changeme")] {
        let result = mejora::config::Config::from_lookup(|k| match k {
            "MEJORA_ENV" => Some("production".into()),
            "MEJORA_JWT_SECRET" => secret.map(String::from),
            _ => None,
        });
        let err = result.err().unwrap_or_else(|| panic!("{secret:?} accepted"));
        assert_eq!(err.variable, "MEJORA_JWT_SECRET");
    }
}
