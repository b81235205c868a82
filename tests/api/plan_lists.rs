//! Plan lists: filters, sort orders and keyset pagination that neither repeats nor skips
//! plans when rows are added between pages.
use crate::helpers::*;
use crate::plans::{add_category, create_plan, plan_body, transition};
use mejora::entities::enums::Role;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
}

async fn all_pages(app: &TestApp, token: &str, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = first.to_string();
    loop {
        let page = json_of(app.get(&path, token).await, 200).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{first}&cursor={c}"),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn lists_filter_by_status_year_scope_code_and_text() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let a = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let mut b = plan_body("SEG-DIG-2025");
    b["fiscal_year"] = json!(2025);
    b["policy_scope"] = json!("seguridad_digital");
    b["title"] = json!("Plan de Seguridad Digital");
    let b = create_plan(&app, &token, &b).await;
    add_category(&app, &token, &b, &json!({"name": "Riesgos", "source": "mspi"})).await;
    let b = json_of(app.get(&format!("/api/v1/plans/{}", b["id"].as_str().unwrap()), &token).await, 200).await;
    json_of(transition(&app, &token, &b, "submit", None).await, 200).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let viewer = app.token_for(Role::Viewer).await;
    let query = |q: &'static str| {
        let viewer = viewer.clone();
        let app = &app;
        async move { ids(&json_of(app.get(&format!("/api/v1/plans?{q}"), &viewer).await, 200).await) }
    };
    assert_eq!(query("status=submitted").await, [id(&b)]);
    assert_eq!(query("status=draft").await, [id(&a)]);
    assert_eq!(query("fiscal_year=2024").await, [id(&a)]);
    assert_eq!(query("policy_scope=seguridad_digital").await, [id(&b)]);
    assert_eq!(query("code=TI.PL03").await, [id(&a)]);
    assert_eq!(query("q=seguridad%20DIGITAL").await, [id(&b)]);
    assert_eq!(query("q=pl03").await, [id(&a)]);
    assert_eq!(query("q=100%25").await, Vec::<String>::new());
    assert_eq!(query("sort=-created_at").await, [id(&b), id(&a)]);
    assert_eq!(query("sort=code").await, [id(&b), id(&a)]);
    assert_problem(app.get("/api/v1/plans?status=archived", &viewer).await, 400, "invalid_query").await;
    assert_problem(app.get("/api/v1/plans?sort=title", &viewer).await, 400, "invalid_query").await;
    assert_problem(app.get("/api/v1/plans?q=%00", &viewer).await, 400, "invalid_query").await;
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_plans_when_rows_are_added_between_pages() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let mut originals = Vec::new();
    for code in ["P-C", "P-A", "P-E", "P-B", "P-D"] {
        originals.push(create_plan(&app, &token, &plan_body(code)).await["id"].as_str().unwrap().to_string());
    }
    for (sort, inserted) in [("created_at", ["P-F", "P-0"]), ("code", ["P-AA", "P-Z"]), ("-code", ["P-DD", "P-00"])] {
        let first = format!("/api/v1/plans?limit=2&sort={sort}");
        let page = json_of(app.get(&first, &token).await, 200).await;
        let mut seen = ids(&page);
        for code in inserted {
            create_plan(&app, &token, &plan_body(code)).await;
        }
        let mut cursor = page["next_cursor"].as_str().unwrap().to_string();
        loop {
            let page = json_of(app.get(&format!("{first}&cursor={cursor}"), &token).await, 200).await;
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a plan was listed twice");
        for id in &originals {
            assert!(seen.contains(id), "{sort}: plan {id} was skipped");
        }
    }
    let all = all_pages(&app, &token, "/api/v1/plans?limit=3&sort=code").await;
    assert_eq!(all.len(), 11);
    let page = json_of(app.get("/api/v1/plans?limit=2&sort=code", &token).await, 200).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_problem(app.get(&format!("/api/v1/plans?cursor={cursor}"), &token).await, 400, "invalid_cursor").await;
}
