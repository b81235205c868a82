//! Sign-in, tokens, refresh rotation, logout, throttling, service accounts.
use crate::helpers::*;
use base64::Engine;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn login_returns_oauth_shaped_tokens_that_open_me() {
    let app = spawn_app().await;
    let body = json_of(app.login(ADMIN_EMAIL, PASSWORD).await, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("mjr_"));
    let me = json_of(app.get("/api/v1/me", body["access_token"].as_str().unwrap()).await, 200).await;
    assert_eq!(me["login"], ADMIN_EMAIL);
    assert_eq!(me["kind"], "user");
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(me["platform_operator"], true);
    assert_eq!(me["organization_name"], "Concejo Municipal de Prueba");
}

#[tokio::test]
async fn login_is_case_insensitive_on_the_email() {
    let app = spawn_app().await;
    json_of(app.login("  ADMIN@Prueba.gov.co ", PASSWORD).await, 200).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let a =
        assert_problem(app.login(ADMIN_EMAIL, "otra clave larga equivocada").await, 401, "invalid_credentials").await;
    let b = assert_problem(
        app.login("nadie@prueba.gov.co", "otra clave larga equivocada").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(a["title"], b["title"]);
    assert_eq!(a["detail"], b["detail"]);
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after_even_for_the_right_password() {
    let app = spawn_app_with(&[("MEJORA_LOGIN_MAX_FAILURES", "3"), ("MEJORA_LOGIN_WINDOW", "600")]).await;
    for _ in 0..3 {
        assert_problem(app.login(ADMIN_EMAIL, "otra clave larga equivocada").await, 401, "invalid_credentials").await;
    }
    let res = app.login(ADMIN_EMAIL, PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 600, "{retry}");
    assert_problem(res, 429, "rate_limited").await;
    // Unknown accounts are throttled the same way, so 429 says nothing about existence.
    for _ in 0..3 {
        app.login("nadie@prueba.gov.co", "x").await;
    }
    assert_problem(app.login("nadie@prueba.gov.co", "x").await, 429, "rate_limited").await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = json_of(app.login(ADMIN_EMAIL, PASSWORD).await, 200).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let refresh = |token: String| {
        app.request(Method::POST, "/api/v1/auth/refresh", None).json(&json!({"refresh_token": token})).send()
    };
    let second = json_of(refresh(r1.clone()).await.unwrap(), 200).await;
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    json_of(app.get("/api/v1/me", second["access_token"].as_str().unwrap()).await, 200).await;
    // r1 was rotated: presenting it again is theft; r2 dies with it.
    assert_problem(refresh(r1).await.unwrap(), 401, "invalid_refresh_token").await;
    assert_problem(refresh(r2).await.unwrap(), 401, "invalid_refresh_token").await;
    assert_problem(refresh("mjr_nonsense".into()).await.unwrap(), 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let tokens = json_of(app.login(ADMIN_EMAIL, PASSWORD).await, 200).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = app
        .request(Method::POST, "/api/v1/auth/logout", None)
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_refresh_token").await;
}

fn forge(claims: Value, secret: &str, alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(app: &TestApp, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "mejora", "aud": "mejora-api", "sub": app.admin_id, "org": app.org_id, "kind": "user",
           "typ": "access", "iat": now - 10, "nbf": now - 10, "exp": now + exp_offset, "jti": uuid::Uuid::new_v4()})
}

#[tokio::test]
async fn bad_tokens_get_401_with_www_authenticate() {
    let app = spawn_app().await;
    let tampered = {
        let mut parts: Vec<String> = app.admin_token.split('.').map(String::from).collect();
        let mut payload: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[1]).unwrap())
                .unwrap();
        payload["sub"] = json!(uuid::Uuid::now_v7());
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
        parts.join(".")
    };
    let expired = forge(claims(&app, -60), JWT_SECRET, jsonwebtoken::Algorithm::HS256);
    let other_key =
        forge(claims(&app, 600), "another-secret-another-secret-another-secret", jsonwebtoken::Algorithm::HS256);
    let other_alg = forge(claims(&app, 600), JWT_SECRET, jsonwebtoken::Algorithm::HS512);
    let mut wrong_aud = claims(&app, 600);
    wrong_aud["aud"] = json!("someone-else");
    let wrong_aud = forge(wrong_aud, JWT_SECRET, jsonwebtoken::Algorithm::HS256);
    let mut wrong_org = claims(&app, 600);
    wrong_org["org"] = json!(uuid::Uuid::now_v7());
    let wrong_org = forge(wrong_org, JWT_SECRET, jsonwebtoken::Algorithm::HS256);
    let unsigned = {
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims(&app, 600).to_string());
        format!("{header}.{payload}.")
    };
    for token in [tampered, expired, other_key, other_alg, wrong_aud, wrong_org, unsigned, "garbage".to_string()] {
        let res = app.get("/api/v1/me", &token).await;
        assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        assert_problem(res, 401, "invalid_token").await;
    }
    let res = app.request(Method::GET, "/api/v1/me", None).send().await.unwrap();
    assert_problem(res, 401, "unauthenticated").await;
    // A valid token still works.
    json_of(app.get("/api/v1/me", &forge(claims(&app, 600), JWT_SECRET, jsonwebtoken::Algorithm::HS256)).await, 200)
        .await;
}

#[tokio::test]
async fn a_deactivated_user_is_locked_out_at_once() {
    let app = spawn_app().await;
    let viewer = app.user_in(app.org_id, &[Role::Viewer]).await;
    let session = json_of(app.login(&viewer.email, PASSWORD).await, 200).await;
    json_of(app.get("/api/v1/me", &viewer.token).await, 200).await;
    let current = app.get(&format!("/api/v1/users/{}", viewer.id), &app.admin_token).await;
    let etag = current.headers()["etag"].to_str().unwrap().to_string();
    json_of(
        app.patch(&format!("/api/v1/users/{}", viewer.id), &app.admin_token, &etag, &json!({"active": false})).await,
        200,
    )
    .await;
    assert_problem(app.get("/api/v1/me", &viewer.token).await, 401, "invalid_token").await;
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_refresh_token").await;
    assert_problem(app.login(&viewer.email, PASSWORD).await, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn role_changes_apply_to_existing_tokens() {
    let app = spawn_app().await;
    let user = app.user_in(app.org_id, &[Role::Viewer]).await;
    assert_problem(app.get("/api/v1/audit-events", &user.token).await, 403, "forbidden").await;
    let etag = app.get(&format!("/api/v1/users/{}", user.id), &app.admin_token).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    json_of(
        app.patch(&format!("/api/v1/users/{}", user.id), &app.admin_token, &etag, &json!({"roles": ["auditor"]})).await,
        200,
    )
    .await;
    json_of(app.get("/api/v1/audit-events", &user.token).await, 200).await;
}

#[tokio::test]
async fn service_accounts_use_client_credentials_and_rotated_secrets() {
    let app = spawn_app().await;
    let created = json_of(
        app.post("/api/v1/service-accounts", &app.admin_token, &json!({"name": "SIGEP", "roles": ["auditor"]})).await,
        201,
    )
    .await;
    let client_id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let token_with_form = |id: &str, secret: &str| {
        app.request(Method::POST, "/api/v1/auth/token", None)
            .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
            .send()
    };
    let token = json_of(token_with_form(&client_id, &secret).await.unwrap(), 200).await;
    assert!(token.get("refresh_token").is_none());
    let access = token["access_token"].as_str().unwrap();
    let me = json_of(app.get("/api/v1/me", access).await, 200).await;
    assert_eq!(me["kind"], "service_account");
    assert_eq!(me["roles"], json!(["auditor"]));
    json_of(app.get("/api/v1/audit-events", access).await, 200).await;
    assert_problem(app.get("/api/v1/users", access).await, 403, "forbidden").await;
    // HTTP Basic works too.
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    // Rotation: the old secret stops working, the new one works.
    let rotated = json_of(
        app.post(
            &format!("/api/v1/service-accounts/{}/secret", created["id"].as_str().unwrap()),
            &app.admin_token,
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_problem(token_with_form(&client_id, &secret).await.unwrap(), 401, "invalid_credentials").await;
    json_of(token_with_form(&client_id, new_secret).await.unwrap(), 200).await;
    // The secret is never listed.
    let list = json_of(app.get("/api/v1/service-accounts", &app.admin_token).await, 200).await;
    assert!(list["items"][0].get("client_secret").is_none());
    assert!(!list.to_string().contains(new_secret));
    // Wrong grant types and media types are problems.
    let res =
        app.request(Method::POST, "/api/v1/auth/token", None).form(&[("grant_type", "password")]).send().await.unwrap();
    assert_problem(res, 422, "validation_failed").await;
    let res = app.request(Method::POST, "/api/v1/auth/token", None).json(&json!({})).send().await.unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn users_change_their_own_password() {
    let app = spawn_app().await;
    let user = app.user_in(app.org_id, &[Role::Planner]).await;
    let res = app
        .post(
            "/api/v1/me/password",
            &user.token,
            &json!({"current_password": "wrong one here", "new_password": "nueva clave muy segura 2026"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app
        .post(
            "/api/v1/me/password",
            &user.token,
            &json!({"current_password": PASSWORD, "new_password": "nueva clave muy segura 2026"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(app.login(&user.email, PASSWORD).await, 401, "invalid_credentials").await;
    json_of(app.login(&user.email, "nueva clave muy segura 2026").await, 200).await;
}
