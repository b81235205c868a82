//! Role × operation matrix, read from the generated OpenAPI document so that a new endpoint
//! cannot be left out: every protected operation is called with no token, bad tokens, and a
//! token of each role, and must answer 401, 403 or pass the authorization check as listed here.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

use Role::{Admin, Auditor, Planner, Responsible, Viewer};

const ALL: &[Role] = &[Admin, Planner, Responsible, Auditor, Viewer];

/// Who may call each protected operation (by operationId). `None` = platform operator only.
fn expected() -> BTreeMap<&'static str, Option<&'static [Role]>> {
    BTreeMap::from([
        ("me", Some(ALL)),
        ("change_password", Some(ALL)),
        ("list_notifications", Some(ALL)),
        ("read_notification", Some(ALL)),
        ("read_all_notifications", Some(ALL)),
        ("create_organization", None),
        ("list_organizations", Some(ALL)),
        ("get_organization", Some(ALL)),
        ("update_organization", Some(&[Admin][..])),
        ("create_user", Some(&[Admin][..])),
        ("list_users", Some(&[Admin][..])),
        ("get_user", Some(&[Admin][..])),
        ("update_user", Some(&[Admin][..])),
        ("reset_password", Some(&[Admin][..])),
        ("create_service_account", Some(&[Admin][..])),
        ("list_service_accounts", Some(&[Admin][..])),
        ("get_service_account", Some(&[Admin][..])),
        ("update_service_account", Some(&[Admin][..])),
        ("rotate_secret", Some(&[Admin][..])),
        ("list_audit_events", Some(&[Admin, Auditor][..])),
        ("verify_audit_chain", Some(&[Admin, Auditor][..])),
        ("create_objective", Some(&[Admin, Planner][..])),
        ("list_objectives", Some(ALL)),
        ("get_objective", Some(ALL)),
        ("update_objective", Some(&[Admin, Planner][..])),
        ("delete_objective", Some(&[Admin, Planner][..])),
        ("create_plan", Some(&[Admin, Planner][..])),
        ("list_plans", Some(ALL)),
        ("get_plan", Some(ALL)),
        ("update_plan", Some(&[Admin, Planner][..])),
        ("delete_plan", Some(&[Admin, Planner][..])),
        ("submit_plan", Some(&[Admin, Planner][..])),
        ("approve_plan", Some(&[Admin, Planner][..])),
        ("start_plan", Some(&[Admin, Planner][..])),
        ("close_plan", Some(&[Admin, Planner][..])),
        ("cancel_plan", Some(&[Admin, Planner][..])),
        ("create_plan_version", Some(&[Admin, Planner][..])),
        ("create_category", Some(&[Admin, Planner][..])),
        ("list_categories", Some(ALL)),
        ("get_category", Some(ALL)),
        ("update_category", Some(&[Admin, Planner][..])),
        ("delete_category", Some(&[Admin, Planner][..])),
        ("create_finding", Some(&[Auditor][..])),
        ("list_findings", Some(ALL)),
        ("get_finding", Some(ALL)),
        ("update_finding", Some(&[Auditor][..])),
        ("transition_finding", Some(&[Auditor][..])),
        ("link_finding_plan", Some(&[Admin, Planner, Auditor][..])),
        ("import_findings", Some(&[Auditor][..])),
        ("list_finding_imports", Some(ALL)),
        ("get_finding_import", Some(ALL)),
        ("create_action", Some(&[Admin, Planner][..])),
        ("list_plan_actions", Some(ALL)),
        ("list_actions", Some(ALL)),
        ("get_action", Some(ALL)),
        ("update_action", Some(&[Admin, Planner][..])),
        ("delete_action", Some(&[Admin, Planner][..])),
        ("evaluate_action", Some(&[Auditor][..])),
        ("reformulate_action", Some(&[Admin, Planner][..])),
        ("create_evidence", Some(&[Admin, Planner, Responsible][..])),
        ("list_action_evidence", Some(ALL)),
        ("list_evidence", Some(ALL)),
        ("get_evidence", Some(ALL)),
        ("update_evidence", Some(&[Admin, Planner, Responsible][..])),
        ("delete_evidence", Some(&[Admin, Planner, Responsible][..])),
        ("review_evidence", Some(&[Auditor][..])),
        ("upload_evidence_file", Some(&[Admin, Planner, Responsible][..])),
        ("get_file", Some(ALL)),
        ("download_file", Some(ALL)),
        ("delete_file", Some(&[Admin, Planner, Responsible][..])),
        ("import_plan", Some(&[Admin, Planner][..])),
        ("get_plan_import", Some(ALL)),
        ("export_plan", Some(ALL)),
        ("plan_report", Some(ALL)),
        ("dashboard", Some(ALL)),
        ("create_reporting_period", Some(&[Admin, Planner][..])),
        ("create_sireci_periods", Some(&[Admin, Planner][..])),
        ("list_reporting_periods", Some(ALL)),
        ("get_reporting_period", Some(ALL)),
        ("close_reporting_period", Some(&[Admin, Planner][..])),
        ("reopen_reporting_period", Some(&[Admin][..])),
        ("file_reporting_period", Some(&[Admin, Planner][..])),
        ("record_period_observations", Some(&[Admin, Planner][..])),
        ("list_period_actions", Some(ALL)),
        ("export_reporting_period", Some(ALL)),
        ("create_asset", Some(&[Admin, Planner][..])),
        ("list_assets", Some(ALL)),
        ("get_asset", Some(ALL)),
        ("update_asset", Some(&[Admin, Planner][..])),
        ("delete_asset", Some(&[Admin, Planner][..])),
        ("get_risk_appetite", Some(ALL)),
        ("set_risk_appetite", Some(&[Admin, Planner][..])),
        ("risk_heat_map", Some(ALL)),
        ("export_risks", Some(ALL)),
        ("import_risks", Some(&[Admin, Planner, Responsible][..])),
        ("create_risk", Some(&[Admin, Planner, Responsible][..])),
        ("list_risks", Some(ALL)),
        ("get_risk", Some(ALL)),
        ("update_risk", Some(&[Admin, Planner, Responsible][..])),
        ("delete_risk", Some(&[Admin, Planner, Responsible][..])),
        ("create_risk_control", Some(&[Admin, Planner, Responsible][..])),
        ("list_risk_controls", Some(ALL)),
        ("get_risk_control", Some(ALL)),
        ("update_risk_control", Some(&[Admin, Planner, Responsible][..])),
        ("delete_risk_control", Some(&[Admin, Planner, Responsible][..])),
        ("create_risk_review", Some(&[Admin, Planner, Auditor][..])),
        ("list_risk_reviews", Some(ALL)),
        ("create_risk_incident", Some(&[Admin, Planner, Responsible, Auditor][..])),
        ("list_risk_incidents", Some(ALL)),
        ("create_webhook", Some(&[Admin][..])),
        ("list_webhooks", Some(&[Admin][..])),
        ("get_webhook", Some(&[Admin][..])),
        ("update_webhook", Some(&[Admin][..])),
        ("delete_webhook", Some(&[Admin][..])),
        ("rotate_webhook_secret", Some(&[Admin][..])),
        ("list_webhook_deliveries", Some(&[Admin][..])),
        ("retry_webhook_delivery", Some(&[Admin][..])),
        ("test_webhook", Some(&[Admin][..])),
    ])
}

struct Operation {
    id: String,
    method: Method,
    path: String,
}

fn protected_operations() -> Vec<Operation> {
    let spec: Value = serde_json::to_value(mejora::openapi::document()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["security"].as_array().is_none_or(|s| s.is_empty()) {
                continue;
            }
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { seg.to_string() })
                .collect::<Vec<_>>()
                .join("/");
            ops.push(Operation {
                id: op["operationId"].as_str().unwrap().to_string(),
                method: method.to_uppercase().parse().unwrap(),
                path: concrete,
            });
        }
    }
    ops
}

async fn call(app: &TestApp, op: &Operation, token: Option<&str>) -> (u16, Value) {
    let mut req = app.request(op.method.clone(), &op.path, token).header("If-Match", "\"v1\"");
    if op.method == Method::POST || op.method == Method::PATCH {
        req = req.json(&json!({}));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_protected_operation_enforces_its_roles() {
    // Three anonymous or bad-token calls per operation, from one address: more than the default
    // per-address budget (600 a minute) now that there are over 200 operations.
    let app = spawn_app_with(&[("MEJORA_RATE_LIMIT_ANONYMOUS", "5000/60")]).await;
    let table = expected();
    let ops = protected_operations();
    let in_spec: BTreeSet<&str> = ops.iter().map(|o| o.id.as_str()).collect();
    let in_table: BTreeSet<&str> = table.keys().copied().collect();
    assert_eq!(in_spec, in_table, "the matrix and the spec list different protected operations");

    let mut tokens = Vec::new();
    for role in ALL {
        tokens.push((Some(*role), app.user_in(app.org_id, &[*role]).await.token));
    }
    let operator = (None, app.admin_token.clone());
    let now = chrono::Utc::now().timestamp();
    let forge = |claims: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let base = json!({"iss": "mejora", "aud": "mejora-api", "sub": app.admin_id, "org": app.org_id, "kind": "user",
                      "typ": "access", "iat": now - 100, "nbf": now - 100, "exp": now + 600, "jti": uuid::Uuid::new_v4()});
    let mut expired = base.clone();
    expired["exp"] = json!(now - 30);
    let mut other_org = base.clone();
    other_org["org"] = json!(uuid::Uuid::now_v7());
    let tampered = format!("{}x", &app.admin_token[..app.admin_token.len() - 1]);
    let bad_tokens = [forge(expired), forge(other_org), tampered];

    let mut failures = Vec::new();
    for op in &ops {
        let allowed = table[op.id.as_str()];
        let (status, body) = call(&app, op, None).await;
        if status != 401 || body["code"] != "unauthenticated" {
            failures.push(format!("{} {} without token: {status} {body}", op.method, op.path));
        }
        for bad in &bad_tokens {
            let (status, body) = call(&app, op, Some(bad)).await;
            if status != 401 || body["code"] != "invalid_token" {
                failures.push(format!("{} {} with a bad token: {status} {body}", op.method, op.path));
            }
        }
        for (role, token) in tokens.iter().chain(std::iter::once(&operator)) {
            let may = match (allowed, role) {
                (Some(roles), Some(r)) => roles.contains(r),
                // The bootstrap admin is an admin and the platform operator.
                (Some(roles), None) => roles.contains(&Admin),
                (None, Some(_)) => false,
                (None, None) => true,
            };
            let (status, body) = call(&app, op, Some(token)).await;
            let ok = if may {
                status != 401 && status != 403 && status < 500
            } else {
                status == 403 && body["code"] == "forbidden"
            };
            if !ok {
                failures.push(format!("{} {} as {role:?} (may: {may}): {status} {body}", op.method, op.path));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
