//! The sign-in throttle holds under a burst: counting and checking are one atomic step, and
//! failures are recorded outside the victim organization's audit chain.
use crate::helpers::*;
use mejora::entities::audit_event;
use mejora::services::audit::PLATFORM_ORG;
use mejora::startup::Application;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

async fn burst(app: &TestApp, email: &str, attempts: usize) -> (usize, usize) {
    let mut handles = Vec::new();
    for _ in 0..attempts {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/login");
        let body = json!({"email": email, "password": "una clave equivocada 2026"});
        handles.push(tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() }));
    }
    let (mut unauthorized, mut limited) = (0, 0);
    for h in handles {
        match h.await.unwrap() {
            401 => unauthorized += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    (unauthorized, limited)
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_get_at_most_the_allowed_401s() {
    let app = spawn_app_with(&[("MEJORA_LOGIN_MAX_FAILURES", "5"), ("MEJORA_LOGIN_WINDOW", "600")]).await;
    let (unauthorized, limited) = burst(&app, ADMIN_EMAIL, 40).await;
    eprintln!("login burst on {}: {unauthorized} × 401, {limited} × 429", app.backend);
    assert_eq!(unauthorized, 5, "{unauthorized} × 401, {limited} × 429");
    assert_eq!(limited, 35);
    // Locked: even the right password waits.
    assert_problem(app.login(ADMIN_EMAIL, PASSWORD).await, 429, "rate_limited").await;
    // Only the allowed attempts were hashed and recorded, in the platform's chain.
    let failures = audit_event::Entity::find()
        .filter(audit_event::Column::Operation.eq("login_failed"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(failures.len(), 5);
    assert!(failures.iter().all(|e| e.organization_id == PLATFORM_ORG));
    assert!(failures.iter().all(|e| e.after.as_ref().unwrap()["organization_id"] == app.org_id.to_string()));
    let in_org = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(app.org_id))
        .filter(audit_event::Column::Operation.eq("login_failed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(in_org, 0);
}

#[tokio::test]
async fn a_burst_on_unknown_accounts_is_throttled_the_same_way() {
    let app = spawn_app_with(&[("MEJORA_LOGIN_MAX_FAILURES", "5"), ("MEJORA_LOGIN_WINDOW", "600")]).await;
    let (unauthorized, limited) = burst(&app, "nadie@prueba.gov.co", 20).await;
    assert_eq!((unauthorized, limited), (5, 15));
    // A correct sign-in of another account from the same address is not affected.
    json_of(app.login(ADMIN_EMAIL, PASSWORD).await, 200).await;
}

#[tokio::test]
async fn two_replicas_on_one_database_share_one_allowance() {
    let app = spawn_app_with(&[("MEJORA_LOGIN_MAX_FAILURES", "5"), ("MEJORA_LOGIN_WINDOW", "600")]).await;
    let replica = Application::build(app.config.clone()).await.expect("build replica");
    let second = TestApp {
        address: format!("http://127.0.0.1:{}", replica.port()),
        client: app.client.clone(),
        db: app.db.clone(),
        config: app.config.clone(),
        org_id: app.org_id,
        admin_id: app.admin_id,
        admin_token: app.admin_token.clone(),
        backend: app.backend,
    };
    tokio::spawn(replica.run_until_stopped());
    let (a, b) = tokio::join!(burst(&app, ADMIN_EMAIL, 20), burst(&second, ADMIN_EMAIL, 20));
    assert_eq!(a.0 + b.0, 5, "{a:?} {b:?}");
    assert_eq!(a.1 + b.1, 35);
}
