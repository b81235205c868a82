//! Secrets shown once are never stored in idempotency replies: a replay answers without them.
use crate::helpers::*;
use mejora::entities::idempotency_record;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

#[tokio::test]
async fn a_replayed_service_account_creation_does_not_show_the_secret_again() {
    let app = spawn_app().await;
    let send = || {
        app.request(Method::POST, "/api/v1/service-accounts", Some(&app.admin_token))
            .header("Idempotency-Key", "crear-sigep")
            .json(&json!({"name": "SIGEP", "roles": ["auditor"]}))
            .send()
    };
    let first = send().await.unwrap();
    assert!(first.headers().get("secret-omitted").is_none());
    let first = json_of(first, 201).await;
    let secret = first["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() > 20);
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["secret-omitted"], "client_secret");
    let again = json_of(again, 201).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["client_secret"], Value::Null);
    // The stored reply itself holds no secret.
    for record in idempotency_record::Entity::find().all(&app.db).await.unwrap() {
        let body = String::from_utf8(record.body.unwrap_or_default()).unwrap();
        assert!(!body.contains(&secret), "{body}");
    }
    // The secret shown the first time works.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", first["client_id"].as_str().unwrap()),
        ("client_secret", secret.as_str()),
    ];
    let res = app.request(Method::POST, "/api/v1/auth/token", None).form(&form).send().await.unwrap();
    json_of(res, 200).await;
}
