//! Users and organizations: creation, lists, merge patch with If-Match, idempotent POSTs,
//! and tenancy (other organizations' rows are 404 and never listed).
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn new_user(email: &str) -> Value {
    json!({"email": email, "display_name": "María Pérez", "password": "una clave bastante larga 1", "roles": ["planner", "auditor"], "unit": "Control Interno"})
}

#[tokio::test]
async fn admins_create_users_with_location_and_etag() {
    let app = spawn_app().await;
    let res = app.post("/api/v1/users", &app.admin_token, &new_user("Maria@Cartago.gov.co")).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["etag"], "\"v1\"");
    let body = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/users/{}", body["id"].as_str().unwrap()));
    assert_eq!(body["email"], "maria@cartago.gov.co");
    assert_eq!(body["roles"], json!(["planner", "auditor"]));
    assert_eq!(body["organization_id"], app.org_id.to_string());
    assert_eq!(body["created_by"], app.admin_id.to_string());
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    let fetched = json_of(app.get(&location, &app.admin_token).await, 200).await;
    assert_eq!(fetched, body);
    // The new user can sign in.
    json_of(app.login("maria@cartago.gov.co", "una clave bastante larga 1").await, 200).await;
    // Same e-mail again: conflict naming the field.
    let dup = assert_problem(
        app.post("/api/v1/users", &app.admin_token, &new_user("maria@cartago.gov.co")).await,
        409,
        "already_exists",
    )
    .await;
    assert_eq!(dup["errors"][0]["field"], "email");
}

#[tokio::test]
async fn weak_and_common_passwords_are_refused() {
    let app = spawn_app().await;
    for password in ["corta", "password1234", "123456789012", "maria@cartago.gov.co!!"] {
        let mut body = new_user("maria@cartago.gov.co");
        body["password"] = json!(password);
        let problem =
            assert_problem(app.post("/api/v1/users", &app.admin_token, &body).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "password", "{password}: {problem}");
    }
    let mut body = new_user("x@cartago.gov.co");
    body["roles"] = json!(["superuser"]);
    assert_problem(app.post("/api/v1/users", &app.admin_token, &body).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn lists_page_with_opaque_cursors() {
    let app = spawn_app().await;
    for i in 0..4 {
        json_of(app.post("/api/v1/users", &app.admin_token, &new_user(&format!("u{i}@cartago.gov.co"))).await, 201)
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let page = json_of(app.get(&path, &app.admin_token).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["email"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[0], ADMIN_EMAIL);
    let filtered = json_of(app.get("/api/v1/users?q=U2%40CART", &app.admin_token).await, 200).await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let auditors = json_of(app.get("/api/v1/users?role=auditor&limit=3", &app.admin_token).await, 200).await;
    assert_eq!(auditors["items"].as_array().unwrap().len(), 3);
    assert!(auditors["next_cursor"].is_string());
}

#[tokio::test]
async fn patch_needs_a_current_if_match() {
    let app = spawn_app().await;
    let created = json_of(app.post("/api/v1/users", &app.admin_token, &new_user("p@cartago.gov.co")).await, 201).await;
    let path = format!("/api/v1/users/{}", created["id"].as_str().unwrap());
    let res = app
        .request(Method::PATCH, &path, Some(&app.admin_token))
        .json(&json!({"display_name": "Otra"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 428, "precondition_required").await;
    let res = app.patch(&path, &app.admin_token, "\"v1\"", &json!({"display_name": "Otra", "unit": null})).await;
    assert_eq!(res.headers()["etag"], "\"v2\"");
    let body = json_of(res, 200).await;
    assert_eq!(body["display_name"], "Otra");
    assert_eq!(body["unit"], Value::Null);
    assert_eq!(body["roles"], json!(["planner", "auditor"]));
    assert_problem(
        app.patch(&path, &app.admin_token, "\"v1\"", &json!({"display_name": "Tarde"})).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_problem(app.patch(&path, &app.admin_token, "\"v2\"", &json!({"roles": []})).await, 422, "validation_failed")
        .await;
    assert_problem(
        app.patch(&path, &app.admin_token, "\"v2\"", &json!({"email": "x@y.co"})).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let path = format!("/api/v1/users/{}", app.admin_id);
    for patch in [json!({"active": false}), json!({"roles": ["viewer"]})] {
        assert_problem(app.patch(&path, &app.admin_token, "\"v1\"", &patch).await, 403, "own_privileges_locked").await;
    }
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_reply_and_refuse_other_bodies() {
    let app = spawn_app().await;
    let send = |body: Value, key: &'static str| {
        app.request(Method::POST, "/api/v1/users", Some(&app.admin_token))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(new_user("i@cartago.gov.co"), "clave-1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first_body: Value = first.json().await.unwrap();
    let again = send(new_user("i@cartago.gov.co"), "clave-1").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], format!("/api/v1/users/{}", first_body["id"].as_str().unwrap()).as_str());
    assert_eq!(again.json::<Value>().await.unwrap(), first_body);
    let list = json_of(app.get("/api/v1/users?q=i%40cartago", &app.admin_token).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_problem(send(new_user("otro@cartago.gov.co"), "clave-1").await.unwrap(), 422, "idempotency_key_reused")
        .await;
    // A failed request is not remembered: the key can be used again once the body is fixed.
    let mut bad = new_user("bad@cartago.gov.co");
    bad["password"] = json!("corta");
    assert_problem(send(bad, "clave-2").await.unwrap(), 422, "validation_failed").await;
    assert_eq!(send(new_user("bad@cartago.gov.co"), "clave-2").await.unwrap().status(), 201);
    let res = app
        .request(Method::POST, "/api/v1/users", Some(&app.admin_token))
        .header("Idempotency-Key", "")
        .json(&new_user("e@cartago.gov.co"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_header").await;
}

#[tokio::test]
async fn other_organizations_are_invisible() {
    let app = spawn_app().await;
    let (other_org, other_admin) = app.other_organization().await;
    let ours =
        json_of(app.post("/api/v1/users", &app.admin_token, &new_user("nuestro@cartago.gov.co")).await, 201).await;
    let ours_path = format!("/api/v1/users/{}", ours["id"].as_str().unwrap());
    assert_problem(app.get(&ours_path, &other_admin.token).await, 404, "not_found").await;
    assert_problem(
        app.patch(&ours_path, &other_admin.token, "\"v1\"", &json!({"display_name": "x"})).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .post(&format!("{ours_path}/password"), &other_admin.token, &json!({"password": "una clave bastante larga 9"}))
        .await;
    assert_problem(res, 404, "not_found").await;
    let list = json_of(app.get("/api/v1/users", &other_admin.token).await, 200).await;
    let emails: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, vec![other_admin.email.as_str()]);
    assert_problem(
        app.get(&format!("/api/v1/organizations/{}", app.org_id), &other_admin.token).await,
        404,
        "not_found",
    )
    .await;
    let orgs = json_of(app.get("/api/v1/organizations", &other_admin.token).await, 200).await;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["items"][0]["id"], other_org.to_string());
    let audit = json_of(app.get("/api/v1/audit-events", &other_admin.token).await, 200).await;
    assert!(audit["items"].as_array().unwrap().iter().all(|e| e["organization_id"] == other_org.to_string()));
}

#[tokio::test]
async fn only_the_platform_operator_creates_organizations() {
    let app = spawn_app().await;
    let (_, other_admin) = app.other_organization().await;
    let body = json!({"name": "Alcaldía de Prueba", "tax_id": "890.000.111-9", "order": "territorial", "sector": "Gobierno",
                      "admin": {"email": "jefe@alcaldia.gov.co", "display_name": "Jefe TI", "password": "una clave bastante larga 3"}});
    assert_problem(app.post("/api/v1/organizations", &other_admin.token, &body).await, 403, "forbidden").await;
    let created = json_of(app.post("/api/v1/organizations", &app.admin_token, &body).await, 201).await;
    assert_eq!(created["tax_id"], "890000111-9");
    assert_eq!(created["order"], "territorial");
    json_of(app.login("jefe@alcaldia.gov.co", "una clave bastante larga 3").await, 200).await;
    let dup =
        assert_problem(app.post("/api/v1/organizations", &app.admin_token, &body).await, 409, "already_exists").await;
    assert_eq!(dup["errors"][0]["field"], "tax_id");
    let bad = json!({"name": "", "tax_id": "12ab"});
    let problem =
        assert_problem(app.post("/api/v1/organizations", &app.admin_token, &bad).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    // The check digit after the dash is the DIAN modulo-11 digit: 890000111 takes 9, not 5.
    let wrong_digit = json!({"name": "Alcaldía de Otra", "tax_id": "890000111-5"});
    let problem = assert_problem(
        app.post("/api/v1/organizations", &app.admin_token, &wrong_digit).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "tax_id");
    assert_eq!(problem["errors"][0]["code"], "invalid_tax_id");
    // Admins edit their own organization.
    let path = format!("/api/v1/organizations/{}", app.org_id);
    let res = app
        .patch(&path, &app.admin_token, "\"v1\"", &json!({"sector": "Control político", "order": "territorial"}))
        .await;
    assert_eq!(json_of(res, 200).await["sector"], "Control político");
    let viewer = app.token_for(Role::Viewer).await;
    json_of(app.get(&path, &viewer).await, 200).await;
}
