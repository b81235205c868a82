//! The audit chain's tail: the head row is protected like the events, deleting the newest
//! events together with the head is detected, a kept receipt proves truncation even when the
//! head is forged, and verification reads one snapshot.
use crate::helpers::*;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

async fn add_users(app: &TestApp, prefix: &str, n: usize) {
    for i in 0..n {
        let body = json!({"email": format!("{prefix}{i}@cartago.gov.co"), "display_name": "T",
                          "password": "una clave bastante larga 1", "roles": ["viewer"]});
        json_of(app.post("/api/v1/users", &app.admin_token, &body).await, 201).await;
    }
}

async fn verify(app: &TestApp, query: &str) -> Value {
    json_of(app.get(&format!("/api/v1/audit-events/verify{query}"), &app.admin_token).await, 200).await
}

/// Runs `sql` with the append-only guards switched off, as the database owner could.
async fn behind_the_guards(app: &TestApp, sql: &str) {
    if app.backend == "postgres" {
        let script = format!("BEGIN; SET LOCAL session_replication_role = replica; {sql}; COMMIT;");
        app.db.execute_unprepared(&script).await.unwrap();
    } else {
        for trigger in ["audit_event_no_delete", "audit_chain_head_no_delete"] {
            app.db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}")).await.unwrap();
        }
        app.db.execute_unprepared(sql).await.unwrap();
    }
}

fn org_literal(app: &TestApp) -> String {
    if app.backend == "postgres" {
        format!("'{}'", app.org_id)
    } else {
        format!("X'{}'", app.org_id.simple())
    }
}

#[tokio::test]
async fn the_chain_head_cannot_be_deleted_or_moved_back() {
    let app = spawn_app().await;
    add_users(&app, "h", 2).await;
    let org = org_literal(&app);
    for sql in [
        format!("DELETE FROM audit_chain_head WHERE organization_id = {org}"),
        format!("UPDATE audit_chain_head SET seq = seq - 1 WHERE organization_id = {org}"),
        format!("UPDATE audit_chain_head SET hash = 'x' WHERE organization_id = {org}"),
    ] {
        assert!(app.db.execute_unprepared(&sql).await.is_err(), "{sql} was allowed");
    }
    if app.backend == "postgres" {
        assert!(app.db.execute_unprepared("TRUNCATE audit_chain_head").await.is_err());
    }
    assert_eq!(verify(&app, "").await["intact"], true);
}

#[tokio::test]
async fn deleting_the_newest_events_with_the_head_is_detected() {
    let app = spawn_app().await;
    add_users(&app, "t", 4).await;
    let receipt = verify(&app, "").await;
    assert_eq!(receipt["intact"], true, "{receipt}");
    let head_seq = receipt["head"]["seq"].as_i64().unwrap();
    let head_hash = receipt["head"]["hash"].as_str().unwrap().to_string();
    assert_eq!(receipt["checked"], head_seq);
    let org = org_literal(&app);
    let keep = head_seq - 2;
    behind_the_guards(
        &app,
        &format!(
            "DELETE FROM audit_event WHERE organization_id = {org} AND seq > {keep}; \
             DELETE FROM audit_chain_head WHERE organization_id = {org}"
        ),
    )
    .await;
    let after = verify(&app, "").await;
    assert_eq!(after["intact"], false, "{after}");
    assert_eq!(after["first_broken"]["reason"], "head_missing");
    assert_eq!(after["first_broken"]["seq"], keep + 1);
    // A forger who also writes a head matching the shortened chain is caught by the receipt.
    behind_the_guards(
        &app,
        &format!(
            "INSERT INTO audit_chain_head (organization_id, seq, hash) \
             SELECT organization_id, seq, hash FROM audit_event WHERE organization_id = {org} AND seq = {keep}"
        ),
    )
    .await;
    assert_eq!(verify(&app, "").await["intact"], true, "without a receipt the shorter chain is consistent");
    let anchored = verify(&app, &format!("?anchor={head_seq}:{head_hash}")).await;
    assert_eq!(anchored["intact"], false, "{anchored}");
    assert_eq!(anchored["first_broken"]["reason"], "truncated");
    assert_eq!(anchored["first_broken"]["seq"], keep + 1);
    // A receipt of an event still there holds; a wrong hash for it does not.
    let earlier = json_of(app.get("/api/v1/audit-events?limit=1", &app.admin_token).await, 200).await;
    let (seq, hash) = (earlier["items"][0]["seq"].as_i64().unwrap(), earlier["items"][0]["hash"].clone());
    if let Some(hash) = hash.as_str() {
        let ok = verify(&app, &format!("?anchor={seq}:{hash}")).await;
        assert_eq!(ok["intact"], true, "{ok}");
    }
    let wrong = verify(&app, &format!("?anchor={seq}:{}", "0".repeat(64))).await;
    assert_eq!(wrong["first_broken"]["reason"], "anchor_mismatch", "{wrong}");
    // A receipt is one parameter, so a half receipt cannot be sent; a malformed one is 400.
    for bad in ["3".to_string(), format!("0:{}", "a".repeat(64)), "3:xyz".to_string()] {
        let res = app.get(&format!("/api/v1/audit-events/verify?anchor={bad}"), &app.admin_token).await;
        assert_problem(res, 400, "invalid_query").await;
    }
}

#[tokio::test]
async fn verification_during_concurrent_writes_never_reports_a_break() {
    let app = spawn_app().await;
    let mut writers = Vec::new();
    for i in 0..12 {
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/users"), app.admin_token.clone());
        writers.push(tokio::spawn(async move {
            let body = json!({"email": format!("w{i}@cartago.gov.co"), "display_name": "W",
                              "password": "una clave bastante larga 1", "roles": ["viewer"]});
            client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..12 {
        let (client, url, token) =
            (app.client.clone(), app.url("/api/v1/audit-events/verify"), app.admin_token.clone());
        readers.push(tokio::spawn(async move {
            client.get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    for w in writers {
        assert_eq!(w.await.unwrap(), 201);
    }
    for r in readers {
        let v = r.await.unwrap();
        assert_eq!(v["intact"], true, "{v}");
    }
}
