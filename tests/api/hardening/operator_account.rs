//! A tenant administrator cannot take over the platform operator's account, and nobody changes
//! their own roles or active flag.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_second_admin_cannot_reset_deactivate_or_change_the_operator() {
    let app = spawn_app().await;
    let second = app.user_in(app.org_id, &[Role::Admin]).await;
    let operator = format!("/api/v1/users/{}", app.admin_id);
    let reset = app
        .request(Method::POST, &format!("{operator}/password"), Some(&second.token))
        .json(&json!({"password": "la clave del intruso 2026"}))
        .send()
        .await
        .unwrap();
    assert_problem(reset, 403, "operator_account_protected").await;
    for patch in [json!({"active": false}), json!({"roles": ["viewer"]}), json!({"display_name": "Intruso"})] {
        let res = app.patch(&operator, &second.token, "\"v1\"", &patch).await;
        assert_problem(res, 403, "operator_account_protected").await;
    }
    // Nothing changed: the operator still signs in and still creates organizations.
    json_of(app.login(ADMIN_EMAIL, PASSWORD).await, 200).await;
    let current = json_of(app.get(&operator, &app.admin_token).await, 200).await;
    assert_eq!(current["active"], true);
    assert_eq!(current["roles"], json!(["admin"]));
    app.other_organization().await;
    // The operator still manages their own account.
    let renamed = app.patch(&operator, &app.admin_token, "\"v1\"", &json!({"display_name": "Operador"})).await;
    assert_eq!(json_of(renamed, 200).await["display_name"], "Operador");
}

#[tokio::test]
async fn nobody_changes_their_own_roles_or_active_flag() {
    let app = spawn_app().await;
    let second = app.user_in(app.org_id, &[Role::Admin]).await;
    let own = format!("/api/v1/users/{}", second.id);
    for patch in [json!({"roles": ["admin", "auditor"]}), json!({"roles": ["viewer"]}), json!({"active": false})] {
        assert_problem(app.patch(&own, &second.token, "\"v1\"", &patch).await, 403, "own_privileges_locked").await;
    }
    // Sending the current values back, with another change, is fine.
    let same = json!({"roles": ["admin"], "active": true, "display_name": "Segunda"});
    json_of(app.patch(&own, &second.token, "\"v1\"", &same).await, 200).await;
    // Another administrator grants the role.
    let granted = app.patch(&own, &app.admin_token, "\"v2\"", &json!({"roles": ["admin", "auditor"]})).await;
    assert_eq!(json_of(granted, 200).await["roles"], json!(["admin", "auditor"]));
    // The operator is no exception.
    let operator = format!("/api/v1/users/{}", app.admin_id);
    let res = app.patch(&operator, &app.admin_token, "\"v1\"", &json!({"roles": ["admin", "auditor"]})).await;
    assert_problem(res, 403, "own_privileges_locked").await;
}

#[tokio::test]
async fn a_service_account_cannot_change_its_own_roles() {
    let app = spawn_app().await;
    let created = json_of(
        app.post("/api/v1/service-accounts", &app.admin_token, &json!({"name": "SIGEP", "roles": ["admin"]})).await,
        201,
    )
    .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", created["client_id"].as_str().unwrap()),
        ("client_secret", created["client_secret"].as_str().unwrap()),
    ];
    let res = app.request(Method::POST, "/api/v1/auth/token", None).form(&form).send().await.unwrap();
    let token = json_of(res, 200).await["access_token"].as_str().unwrap().to_string();
    let own = format!("/api/v1/service-accounts/{}", created["id"].as_str().unwrap());
    for patch in [json!({"roles": ["admin", "auditor"]}), json!({"active": false})] {
        assert_problem(app.patch(&own, &token, "\"v1\"", &patch).await, 403, "own_privileges_locked").await;
    }
    let granted = app.patch(&own, &app.admin_token, "\"v1\"", &json!({"roles": ["admin", "auditor"]})).await;
    json_of(granted, 200).await;
}
