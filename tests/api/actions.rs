//! Actions: numbering, validation, computed weeks/progress/overdue/traffic light across date
//! edges, status rules, evaluation with segregation of duties, reformulation, copies into new
//! plan versions, lists and tenancy.
use crate::helpers::*;
use crate::plans::{add_category, audit_operations, create_plan, delete, etag_of, plan_body, transition};
use chrono::Duration;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// Today (Colombia) shifted by `n` days, as `YYYY-MM-DD`.
pub fn day(n: i64) -> String {
    (mejora::services::calendar::today() + Duration::days(n)).to_string()
}

pub fn action_body(title: &str, start: &str, due: &str, responsible: Option<uuid::Uuid>) -> Value {
    json!({"type": "corrective", "focus": "maturity", "title": title, "start_date": start, "due_date": due,
           "responsible_id": responsible, "unit": "Informe", "target_quantity": 4})
}

/// A plan with one category and the given actions, then approved and started.
pub struct Running {
    pub plan: Value,
    pub category: Value,
    pub actions: Vec<Value>,
    pub planner: String,
    pub responsible: TestUser,
    pub auditor: TestUser,
}

pub async fn running_plan(app: &TestApp, code: &str, actions: &[Value]) -> Running {
    let planner = app.token_for(Role::Planner).await;
    let responsible = app.user_in(app.org_id, &[Role::Responsible]).await;
    let auditor = app.user_in(app.org_id, &[Role::Auditor]).await;
    let mut plan = create_plan(app, &planner, &plan_body(code)).await;
    let category =
        add_category(app, &planner, &plan, &json!({"name": "Transparencia", "source": "furag", "score": 40})).await;
    let path = format!("/api/v1/plans/{}/actions", plan["id"].as_str().unwrap());
    let mut ids = Vec::new();
    for body in actions {
        let mut body = body.clone();
        if body["responsible_id"].is_null() {
            body["responsible_id"] = json!(responsible.id);
        }
        ids.push(json_of(app.post(&path, &planner, &body).await, 201).await["id"].as_str().unwrap().to_string());
    }
    for op in ["submit", "approve", "start"] {
        let body = (op == "approve").then(|| json!({"approved_by": "Comité", "approval_reference": "Acta 1"}));
        plan = json_of(transition(app, &planner, &plan, op, body.as_ref()).await, 200).await;
    }
    let mut fetched = Vec::new();
    for id in ids {
        fetched.push(json_of(app.get(&format!("/api/v1/actions/{id}"), &planner).await, 200).await);
    }
    Running { plan, category, actions: fetched, planner, responsible, auditor }
}

pub fn action_path(action: &Value) -> String {
    format!("/api/v1/actions/{}", action["id"].as_str().unwrap())
}

pub async fn post_if_match(app: &TestApp, path: &str, token: &str, etag: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, path, Some(token)).header("If-Match", etag).json(body).send().await.unwrap()
}

/// Marks an action done on `completed_on` (as the planner).
pub async fn finish(app: &TestApp, run: &Running, action: &Value, completed_on: &str) -> Value {
    let res = app
        .patch(
            &action_path(action),
            &run.planner,
            &etag_of(action),
            &json!({"status": "done", "completed_on": completed_on}),
        )
        .await;
    json_of(res, 200).await
}

#[tokio::test]
async fn actions_are_numbered_in_their_plan_and_start_planned() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let category = add_category(&app, &token, &plan, &json!({"name": "Transparencia", "source": "furag"})).await;
    let path = format!("/api/v1/plans/{}/actions", plan["id"].as_str().unwrap());
    let finding = app.new_finding("H-88").await;
    let mut body = action_body("Portal de transparencia", "2024-08-01", "2027-12-31", None);
    body["category_id"] = category["id"].clone();
    body["finding_ids"] = json!([finding]);
    body["estimated_cost"] = json!("2500000");
    let res = app.post(&path, &token, &body).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let first = json_of(res, 201).await;
    assert_eq!(location, format!("/api/v1/actions/{}", first["id"].as_str().unwrap()));
    assert_eq!(first["number"], 1);
    assert_eq!(first["type"], "corrective");
    assert_eq!(first["focus"], "maturity");
    assert_eq!(first["status"], "planned");
    assert_eq!(first["compliance"], "pending");
    assert_eq!(first["effectiveness"], "pending");
    assert_eq!(first["weeks"], 178);
    assert_eq!(first["progress_pct"], 0.0);
    assert_eq!(first["finding_ids"], json!([finding]));
    assert_eq!(first["category_id"], category["id"]);
    assert_eq!(first["estimated_cost"], "2500000.00");
    let second =
        json_of(app.post(&path, &token, &action_body("Capacitación", "2024-08-01", "2024-08-01", None)).await, 201)
            .await;
    assert_eq!(second["number"], 2);
    assert_eq!(second["weeks"], 0);
    let mut taken = action_body("Otra", "2024-08-01", "2024-09-01", None);
    taken["number"] = json!(2);
    let problem = assert_problem(app.post(&path, &token, &taken).await, 409, "already_exists").await;
    assert_eq!(problem["errors"][0]["field"], "number");
    assert_eq!(json_of(app.get(&location, &app.token_for(Role::Viewer).await).await, 200).await, first);
    let plan = json_of(app.get(&format!("/api/v1/plans/{}", plan["id"].as_str().unwrap()), &token).await, 200).await;
    assert_eq!(plan["progress_pct"], 0.0);
    assert_eq!(plan["traffic_light"], "red");
    assert!(plan["compliance_pct"].is_null() && plan["effectiveness_pct"].is_null());
    assert_eq!(audit_operations(&app, "action", first["id"].as_str().unwrap()).await, ["create"]);
}

#[tokio::test]
async fn invalid_actions_are_refused_naming_each_field() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("A")).await;
    let other = create_plan(&app, &token, &plan_body("B")).await;
    let foreign_category = add_category(&app, &token, &other, &json!({"name": "Otra", "source": "furag"})).await;
    let path = format!("/api/v1/plans/{}/actions", plan["id"].as_str().unwrap());
    let mut body = action_body(" ", "2025-02-01", "2025-01-01", None);
    body["target_quantity"] = json!(0);
    let problem = assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "target_quantity", "due_date"]);
    let mut body = action_body("Ok", "2025-01-01", "2025-02-01", Some(uuid::Uuid::now_v7()));
    let problem = assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "responsible_id");
    body["responsible_id"] = json!(null);
    body["category_id"] = foreign_category["id"].clone();
    let problem = assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "category_id");
    body["category_id"] = json!(null);
    body["type"] = json!("mitigation");
    assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
    body["type"] = json!("improvement");
    body["status"] = json!("done");
    assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn traffic_lights_and_overdue_follow_the_due_date_edges() {
    let app = spawn_app().await;
    let specs = [
        action_body("Vence hoy", &day(-30), &day(0), None),
        action_body("Venció ayer", &day(-30), &day(-1), None),
        action_body("Terminada a tiempo", &day(-30), &day(-1), None),
        action_body("Terminada tarde", &day(-30), &day(-1), None),
        action_body("Cancelada", &day(-30), &day(-1), None),
    ];
    let run = running_plan(&app, "SEM", &specs).await;
    let [today, yesterday, on_time, late, cancelled] = <[Value; 5]>::try_from(run.actions.clone()).unwrap();
    assert_eq!((today["overdue"].as_bool(), today["traffic_light"].as_str()), (Some(false), Some("grey")));
    assert_eq!((yesterday["overdue"].as_bool(), yesterday["traffic_light"].as_str()), (Some(true), Some("red")));
    let on_time = finish(&app, &run, &on_time, &day(-1)).await;
    assert_eq!((on_time["overdue"].as_bool(), on_time["traffic_light"].as_str()), (Some(false), Some("green")));
    let late = finish(&app, &run, &late, &day(0)).await;
    assert_eq!((late["overdue"].as_bool(), late["traffic_light"].as_str()), (Some(false), Some("amber")));
    assert_eq!(late["completed_on"], day(0).as_str());
    let res =
        app.patch(&action_path(&cancelled), &run.planner, &etag_of(&cancelled), &json!({"status": "cancelled"})).await;
    let cancelled = json_of(res, 200).await;
    assert!(cancelled["traffic_light"].is_null());
    assert_eq!(cancelled["overdue"], false);
    let plan_path = format!("/api/v1/plans/{}", run.plan["id"].as_str().unwrap());
    let plan = json_of(app.get(&plan_path, &run.planner).await, 200).await;
    assert_eq!(plan["traffic_light"], "red");
    let base = format!("/api/v1/plans/{}/actions", run.plan["id"].as_str().unwrap());
    let titles = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
    };
    let overdue = json_of(app.get(&format!("{base}?overdue=true"), &run.planner).await, 200).await;
    assert_eq!(titles(&overdue), ["Venció ayer"]);
    let due_before =
        json_of(app.get(&format!("{base}?due_before={}&sort=number", day(0)), &run.planner).await, 200).await;
    assert_eq!(titles(&due_before), ["Venció ayer", "Terminada a tiempo", "Terminada tarde", "Cancelada"]);
    let due_after = json_of(app.get(&format!("{base}?due_after={}", day(-1)), &run.planner).await, 200).await;
    assert_eq!(titles(&due_after), ["Vence hoy"]);
    let done = json_of(app.get(&format!("{base}?status=done"), &run.planner).await, 200).await;
    assert_eq!(done["items"].as_array().unwrap().len(), 2);
    let mine =
        json_of(app.get(&format!("/api/v1/actions?responsible_id={}", run.responsible.id), &run.planner).await, 200)
            .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 5);
    // Once the overdue one is finished too, the plan is amber (one was late).
    let yesterday = finish(&app, &run, &yesterday, &day(-1)).await;
    assert_eq!(yesterday["traffic_light"], "green");
    finish(&app, &run, &today, &day(0)).await;
    assert_eq!(json_of(app.get(&plan_path, &run.planner).await, 200).await["traffic_light"], "amber");
}

#[tokio::test]
async fn progress_counts_only_accepted_evidence_and_stops_at_100() {
    let app = spawn_app().await;
    let run = running_plan(&app, "AV", &[action_body("Cuatro informes", &day(-10), &day(10), None)]).await;
    let action = &run.actions[0];
    let evidence_path = format!("{}/evidence", action_path(action));
    let report = |q: f64| json!({"cut_off_date": day(0), "description": "Informe trimestral", "reported_quantity": q});
    let first = json_of(app.post(&evidence_path, &run.responsible.token, &report(1.0)).await, 201).await;
    let refreshed = json_of(app.get(&action_path(action), &run.planner).await, 200).await;
    assert_eq!(refreshed["progress_pct"], 0.0);
    let review = format!("/api/v1/evidence/{}/review", first["id"].as_str().unwrap());
    json_of(
        post_if_match(&app, &review, &run.auditor.token, &etag_of(&first), &json!({"status": "accepted"})).await,
        200,
    )
    .await;
    let refreshed = json_of(app.get(&action_path(action), &run.planner).await, 200).await;
    assert_eq!(refreshed["accepted_quantity"], 1.0);
    assert_eq!(refreshed["progress_pct"], 25.0);
    let plan =
        json_of(app.get(&format!("/api/v1/plans/{}", run.plan["id"].as_str().unwrap()), &run.planner).await, 200).await;
    assert_eq!(plan["progress_pct"], 25.0);
    let second = json_of(app.post(&evidence_path, &run.responsible.token, &report(5.0)).await, 201).await;
    let review = format!("/api/v1/evidence/{}/review", second["id"].as_str().unwrap());
    json_of(
        post_if_match(&app, &review, &run.auditor.token, &etag_of(&second), &json!({"status": "accepted"})).await,
        200,
    )
    .await;
    let refreshed = json_of(app.get(&action_path(action), &run.planner).await, 200).await;
    assert_eq!(refreshed["accepted_quantity"], 6.0);
    assert_eq!(refreshed["progress_pct"], 100.0);
}

#[tokio::test]
async fn action_status_changes_follow_the_rules() {
    let app = spawn_app().await;
    let run = running_plan(
        &app,
        "EST",
        &[action_body("Una", &day(-5), &day(5), None), action_body("Dos", &day(-5), &day(5), None)],
    )
    .await;
    let (one, two) = (&run.actions[0], &run.actions[1]);
    let path = action_path(one);
    let problem = assert_problem(
        app.patch(&path, &run.planner, &etag_of(one), &json!({"completed_on": day(0)})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "completed_on");
    let problem = assert_problem(
        app.patch(&path, &run.planner, &etag_of(one), &json!({"status": "done", "completed_on": day(1)})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "completed_on");
    let started =
        json_of(app.patch(&path, &run.planner, &etag_of(one), &json!({"status": "in_progress"})).await, 200).await;
    let done = json_of(app.patch(&path, &run.planner, &etag_of(&started), &json!({"status": "done"})).await, 200).await;
    assert_eq!(done["completed_on"], day(0).as_str());
    assert_problem(
        app.patch(&path, &run.planner, &etag_of(&done), &json!({"status": "cancelled"})).await,
        409,
        "invalid_transition",
    )
    .await;
    let reopened =
        json_of(app.patch(&path, &run.planner, &etag_of(&done), &json!({"status": "in_progress"})).await, 200).await;
    assert!(reopened["completed_on"].is_null());
    let cancelled =
        json_of(app.patch(&action_path(two), &run.planner, &etag_of(two), &json!({"status": "cancelled"})).await, 200)
            .await;
    assert_problem(
        app.patch(&action_path(two), &run.planner, &etag_of(&cancelled), &json!({"status": "in_progress"})).await,
        409,
        "invalid_transition",
    )
    .await;
    // The plan runs: the action's content is fixed, its responsible may change.
    assert_problem(
        app.patch(&path, &run.planner, &etag_of(&reopened), &json!({"title": "Otra"})).await,
        409,
        "immutable",
    )
    .await;
    let other = app.user_in(app.org_id, &[Role::Responsible]).await;
    let moved =
        json_of(app.patch(&path, &run.planner, &etag_of(&reopened), &json!({"responsible_id": other.id})).await, 200)
            .await;
    assert_eq!(moved["responsible_id"], other.id.to_string());
    assert_problem(delete(&app, &path, &run.planner, Some(&etag_of(&moved))).await, 409, "immutable").await;
    assert_problem(
        app.patch(&path, &run.planner, "\"v1\"", &json!({"status": "done"})).await,
        412,
        "precondition_failed",
    )
    .await;
}

#[tokio::test]
async fn a_plan_closes_only_when_every_action_is_finished() {
    let app = spawn_app().await;
    let run = running_plan(&app, "CIERRE", &[action_body("Única", &day(-5), &day(5), None)]).await;
    let problem =
        assert_problem(transition(&app, &run.planner, &run.plan, "close", None).await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("1 actions"), "{problem}");
    finish(&app, &run, &run.actions[0], &day(0)).await;
    let closed = json_of(transition(&app, &run.planner, &run.plan, "close", None).await, 200).await;
    assert_eq!(closed["status"], "closed");
    let action = json_of(app.get(&action_path(&run.actions[0]), &run.planner).await, 200).await;
    assert_problem(
        app.patch(&action_path(&action), &run.planner, &etag_of(&action), &json!({"status": "in_progress"})).await,
        409,
        "immutable",
    )
    .await;
}

#[tokio::test]
async fn a_new_version_carries_over_the_open_actions_with_their_links() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let objective = json_of(
        app.post("/api/v1/objectives", &token, &json!({"source": "pei", "code": "OE-1", "title": "Gestión"})).await,
        201,
    )
    .await;
    let finding = app.new_finding("H-88").await;
    let mut open = action_body("Abierta", &day(-10), &day(30), None);
    open["finding_ids"] = json!([finding]);
    open["objective_ids"] = json!([objective["id"]]);
    let run = running_plan(&app, "VER", &[open, action_body("Cerrada", &day(-10), &day(30), None)]).await;
    let original = run.actions[0].clone();
    finish(&app, &run, &run.actions[1], &day(0)).await;
    let res = app
        .post(&format!("/api/v1/plans/{}/versions", run.plan["id"].as_str().unwrap()), &run.planner, &json!({}))
        .await;
    let v2 = json_of(res, 201).await;
    let listed =
        json_of(app.get(&format!("/api/v1/plans/{}/actions", v2["id"].as_str().unwrap()), &token).await, 200).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let copy = &items[0];
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(copy["title"], "Abierta");
    assert_eq!(copy["number"], 1);
    assert_eq!(copy["plan_id"], v2["id"]);
    assert_eq!(copy["finding_ids"], json!([finding]));
    assert_eq!(copy["objective_ids"], json!([objective["id"]]));
    assert_eq!(copy["compliance"], "pending");
    // In the new draft the copied action is editable again, and may take one of the copied categories.
    let categories =
        json_of(app.get(&format!("/api/v1/plans/{}/categories", v2["id"].as_str().unwrap()), &token).await, 200).await;
    let new_category = &categories["items"][0];
    assert_ne!(new_category["id"], run.category["id"]);
    let linked = json_of(
        app.patch(
            &action_path(copy),
            &token,
            &etag_of(copy),
            &json!({"category_id": new_category["id"], "title": "Abierta v2"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(linked["category_id"], new_category["id"]);
    let problem = assert_problem(
        app.patch(&action_path(&linked), &token, &etag_of(&linked), &json!({"category_id": run.category["id"]})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "category_id");
}

#[tokio::test]
async fn action_lists_page_by_due_date_without_repeats() {
    let app = spawn_app().await;
    let specs: Vec<Value> = (0..5).map(|i| action_body(&format!("A{i}"), &day(-10), &day(5 - i), None)).collect();
    let run = running_plan(&app, "PAG", &specs).await;
    let mut titles = Vec::new();
    let base = "/api/v1/actions?limit=2&sort=due_date";
    let mut path = base.to_string();
    loop {
        let page = json_of(app.get(&path, &run.planner).await, 200).await;
        titles.extend(page["items"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{base}&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(titles, ["A4", "A3", "A2", "A1", "A0"]);
    let page = json_of(app.get("/api/v1/actions?limit=2&sort=-due_date", &run.planner).await, 200).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let next =
        json_of(app.get(&format!("/api/v1/actions?limit=2&sort=-due_date&cursor={cursor}"), &run.planner).await, 200)
            .await;
    let desc: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(next["items"].as_array().unwrap())
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(desc, ["A0", "A1", "A2", "A3"]);
    assert_problem(app.get(&format!("/api/v1/actions?cursor={cursor}"), &run.planner).await, 400, "invalid_cursor")
        .await;
}

#[tokio::test]
async fn other_organizations_actions_are_not_found_and_never_listed() {
    let app = spawn_app().await;
    let run = running_plan(&app, "TEN", &[action_body("Propia", &day(-5), &day(5), None)]).await;
    let (_, stranger) = app.other_organization().await;
    let path = action_path(&run.actions[0]);
    assert_problem(app.get(&path, &stranger.token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &stranger.token, "\"v1\"", &json!({"status": "done"})).await, 404, "not_found")
        .await;
    let plan_actions = format!("/api/v1/plans/{}/actions", run.plan["id"].as_str().unwrap());
    assert_problem(app.get(&plan_actions, &stranger.token).await, 404, "not_found").await;
    assert_problem(
        app.post(&plan_actions, &stranger.token, &action_body("X", "2025-01-01", "2025-02-01", None)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            &format!("{path}/evidence"),
            &stranger.token,
            &json!({"cut_off_date": "2025-01-01", "description": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(json_of(app.get("/api/v1/actions", &stranger.token).await, 200).await["items"], json!([]));
}
