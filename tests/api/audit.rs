//! The audit trail: events for every change, secrets left out, append-only storage, and a hash
//! chain whose verification finds an event edited behind the service's back.
use crate::helpers::*;
use mejora::entities::enums::Role;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

async fn events(app: &TestApp, query: &str) -> Vec<Value> {
    let page = json_of(app.get(&format!("/api/v1/audit-events?{query}"), &app.admin_token).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn changes_and_sign_ins_are_recorded_without_secrets() {
    let app = spawn_app().await;
    let created = json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": "a@cartago.gov.co", "display_name": "A", "password": "una clave bastante larga 1", "roles": ["viewer"]}),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    json_of(app.login("a@cartago.gov.co", "una clave bastante larga 1").await, 200).await;
    assert_problem(app.login("a@cartago.gov.co", "otra clave incorrecta").await, 401, "invalid_credentials").await;
    let user_events = events(&app, &format!("resource_type=user&resource_id={id}")).await;
    assert_eq!(user_events.len(), 1);
    let e = &user_events[0];
    assert_eq!(e["operation"], "create");
    assert_eq!(e["actor_id"], app.admin_id.to_string());
    assert_eq!(e["actor_kind"], "user");
    assert_eq!(e["actor_roles"], json!(["admin"]));
    assert_eq!(e["after"]["email"], "a@cartago.gov.co");
    assert!(e["request_id"].is_string());
    assert!(e["client_addr"].is_string());
    let text = serde_json::to_string(&user_events).unwrap();
    assert!(!text.contains("una clave") && !text.contains("argon2"), "{text}");
    let sessions = events(&app, "resource_type=session&resource_id=a%40cartago.gov.co").await;
    let ops: Vec<&str> = sessions.iter().map(|e| e["operation"].as_str().unwrap()).collect();
    // Failed sign-ins are recorded in the platform's chain, not the organization's.
    assert_eq!(ops, vec!["login"]);
    // Newest first, with contiguous sequence numbers.
    let all = events(&app, "limit=500").await;
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] == w[1] + 1), "{seqs:?}");
    let verify = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(verify["intact"], true);
    assert_eq!(verify["checked"], seqs.len());
    assert_eq!(verify["first_broken"], Value::Null);
    assert_eq!(verify["head"], json!({"seq": seqs[0], "hash": all[0]["hash"]}));
}

#[tokio::test]
async fn updates_record_before_and_after() {
    let app = spawn_app().await;
    let user = app.user_in(app.org_id, &[Role::Viewer]).await;
    json_of(
        app.patch(&format!("/api/v1/users/{}", user.id), &app.admin_token, "\"v1\"", &json!({"roles": ["auditor"]}))
            .await,
        200,
    )
    .await;
    let e = &events(&app, &format!("resource_id={}&operation=update", user.id)).await[0];
    assert_eq!(e["before"]["roles"], json!(["viewer"]));
    assert_eq!(e["after"]["roles"], json!(["auditor"]));
}

#[tokio::test]
async fn audit_events_cannot_be_updated_or_deleted() {
    let app = spawn_app().await;
    for sql in ["UPDATE audit_event SET operation = 'x'", "DELETE FROM audit_event"] {
        let result = app.db.execute_unprepared(sql).await;
        assert!(result.is_err(), "{sql} was allowed");
    }
}

#[tokio::test]
async fn verify_finds_an_event_edited_behind_the_services_back() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": format!("t{i}@cartago.gov.co"), "display_name": "T", "password": "una clave bastante larga 1", "roles": ["viewer"]}),
        )
        .await;
    }
    let before = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(before["intact"], true);
    let target = events(&app, "operation=create&resource_type=user&limit=3").await[1].clone();
    let seq = target["seq"].as_i64().unwrap();
    // Switch off the append-only guard the way a database owner could, then edit one event.
    let edit = format!(
        "UPDATE audit_event SET after = '{{\"email\":\"forged@x.co\"}}' WHERE organization_id = '{}' AND seq = {seq}",
        app.org_id
    );
    if app.backend == "postgres" {
        app.db
            .execute_unprepared(&format!("BEGIN; SET LOCAL session_replication_role = replica; {edit}; COMMIT;"))
            .await
            .unwrap();
    } else {
        app.db.execute_unprepared("DROP TRIGGER audit_event_no_update").await.unwrap();
        // SQLite stores UUIDs as blobs: match the organization by the event id instead.
        let blob = hex_uuid(target["id"].as_str().unwrap());
        app.db
            .execute_unprepared(&format!(
                "UPDATE audit_event SET after = '{{\"email\":\"forged@x.co\"}}' WHERE id = X'{blob}'"
            ))
            .await
            .unwrap();
    }
    let after = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(after["intact"], false, "{after}");
    assert_eq!(after["first_broken"]["seq"], seq);
    assert_eq!(after["first_broken"]["id"], target["id"]);
    assert_eq!(after["first_broken"]["reason"], "hash_mismatch");
}

fn hex_uuid(id: &str) -> String {
    id.replace('-', "")
}

#[tokio::test]
async fn concurrent_writers_do_not_fork_the_chain() {
    let app = spawn_app().await;
    let mut handles = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api/v1/users");
        let token = app.admin_token.clone();
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"email": format!("c{i}@cartago.gov.co"), "display_name": "C", "password": "una clave bastante larga 1", "roles": ["viewer"]}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 201);
    }
    let verify = json_of(app.get("/api/v1/audit-events/verify", &app.admin_token).await, 200).await;
    assert_eq!(verify["intact"], true, "{verify}");
    assert!(verify["checked"].as_u64().unwrap() >= 14);
}
