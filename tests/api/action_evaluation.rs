//! The control office's evaluation of actions (with segregation of duties) and the
//! reformulation of actions rated not effective.
use crate::actions::{action_body, action_path, day, finish, post_if_match, running_plan, Running};
use crate::helpers::*;
use crate::plans::{audit_operations, etag_of};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn evaluation_is_for_auditors_who_are_not_responsible_for_the_action() {
    let app = spawn_app().await;
    let both = app.user_in(app.org_id, &[Role::Responsible, Role::Auditor]).await;
    let specs =
        [action_body("Propia", &day(-5), &day(5), Some(both.id)), action_body("Ajena", &day(-5), &day(5), None)];
    let run = running_plan(&app, "EVAL", &specs).await;
    let (own, other) = (&run.actions[0], &run.actions[1]);
    let rating = json!({"compliance": "not_met", "effectiveness": "not_assessable", "note": "Sin avance"});
    let path = format!("{}/evaluation", action_path(own));
    assert_problem(post_if_match(&app, &path, &both.token, &etag_of(own), &rating).await, 403, "segregation_of_duties")
        .await;
    assert_problem(post_if_match(&app, &path, &run.planner, &etag_of(own), &rating).await, 403, "forbidden").await;
    let res = app.request(Method::POST, &path, Some(&run.auditor.token)).json(&rating).send().await.unwrap();
    assert_problem(res, 428, "precondition_required").await;
    let rated = json_of(post_if_match(&app, &path, &run.auditor.token, &etag_of(own), &rating).await, 200).await;
    assert_eq!(rated["compliance"], "not_met");
    assert_eq!(rated["evaluated_by"], run.auditor.id.to_string());
    assert_eq!(rated["evaluated_on"], day(0).as_str());
    assert_eq!(rated["evaluation_note"], "Sin avance");
    // `met` needs the action done.
    let other_path = format!("{}/evaluation", action_path(other));
    let met = json!({"compliance": "met", "effectiveness": "effective"});
    let problem = assert_problem(
        post_if_match(&app, &other_path, &both.token, &etag_of(other), &met).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "compliance");
    let done = finish(&app, &run, other, &day(0)).await;
    let rated = json_of(post_if_match(&app, &other_path, &both.token, &etag_of(&done), &met).await, 200).await;
    assert_eq!(rated["effectiveness"], "effective");
    let plan =
        json_of(app.get(&format!("/api/v1/plans/{}", run.plan["id"].as_str().unwrap()), &run.planner).await, 200).await;
    assert_eq!(plan["compliance_pct"], 50.0);
    assert_eq!(plan["effectiveness_pct"], 100.0);
    assert_eq!(audit_operations(&app, "action", own["id"].as_str().unwrap()).await, ["create", "evaluate"]);
}

#[tokio::test]
async fn an_ineffective_action_is_reformulated_once() {
    let app = spawn_app().await;
    let mut body = action_body("Campaña de sensibilización", &day(-30), &day(-1), None);
    body["finding_ids"] = json!([app.new_finding("H-77").await]);
    let run = running_plan(&app, "REF", &[body]).await;
    let action = finish(&app, &run, &run.actions[0], &day(-1)).await;
    let reformulate = format!("{}/reformulations", action_path(&action));
    let new_body = json!({"reason": "La campaña no redujo los incidentes", "start_date": day(0), "due_date": day(60)});
    assert_problem(app.post(&reformulate, &run.planner, &new_body).await, 409, "invalid_transition").await;
    let rating =
        json!({"compliance": "met", "effectiveness": "not_effective", "criterion": "Incidentes por trimestre"});
    json_of(
        post_if_match(
            &app,
            &format!("{}/evaluation", action_path(&action)),
            &run.auditor.token,
            &etag_of(&action),
            &rating,
        )
        .await,
        200,
    )
    .await;
    let problem = assert_problem(
        app.post(&reformulate, &run.planner, &json!({"reason": "", "start_date": day(0), "due_date": day(60)})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    let res = app.post(&reformulate, &run.planner, &new_body).await;
    assert!(res.headers().contains_key("location"));
    let created = json_of(res, 201).await;
    assert_eq!(created["reformulated_from_id"], action["id"]);
    assert_eq!(created["reformulation_reason"], "La campaña no redujo los incidentes");
    assert_eq!(created["number"], 2);
    assert_eq!(created["status"], "planned");
    assert_eq!(created["effectiveness"], "pending");
    assert_eq!(created["finding_ids"], action["finding_ids"]);
    assert_eq!(created["title"], action["title"]);
    assert_problem(app.post(&reformulate, &run.planner, &new_body).await, 409, "conflict").await;
    assert_eq!(audit_operations(&app, "action", created["id"].as_str().unwrap()).await, ["reformulate"]);
}

async fn move_finding(app: &TestApp, token: &str, finding: &Value, to: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/findings/{}/transitions", finding["id"].as_str().unwrap()), Some(token))
        .header("If-Match", format!("\"v{}\"", finding["version"]))
        .json(&json!({ "to": to }))
        .send()
        .await
        .unwrap()
}

async fn rate(app: &TestApp, run: &Running, action: &Value, compliance: &str, effectiveness: &str) -> Value {
    let path = format!("{}/evaluation", action_path(action));
    let body = json!({"compliance": compliance, "effectiveness": effectiveness});
    json_of(post_if_match(app, &path, &run.auditor.token, &etag_of(action), &body).await, 200).await
}

#[tokio::test]
async fn a_reformulated_action_is_judged_through_its_successors_for_closure_report_and_dashboard() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = json!({"source": "internal_audit", "report_code": "OCI-9", "finding_code": "H-9",
                      "title": "Sin gestión de incidentes"});
    let finding = json_of(app.post("/api/v1/findings", &auditor, &body).await, 201).await;
    let finding = json_of(move_finding(&app, &auditor, &finding, "in_treatment").await, 200).await;
    let mut spec = action_body("Campaña", &day(-30), &day(-1), None);
    spec["finding_ids"] = json!([finding["id"]]);
    let run = running_plan(&app, "CADENA", &[spec]).await;
    let plan_id = run.plan["id"].as_str().unwrap().to_string();
    let figures = async |app: &TestApp| {
        let report = json_of(app.get(&format!("/api/v1/plans/{plan_id}/report"), &run.planner).await, 200).await;
        let plan = json_of(app.get(&format!("/api/v1/plans/{plan_id}"), &run.planner).await, 200).await;
        let dashboard = json_of(app.get("/api/v1/dashboard", &run.planner).await, 200).await;
        // The plan read (Rust) and the report (SQL) count the chain the same way.
        for key in ["progress_pct", "compliance_pct", "effectiveness_pct"] {
            assert_eq!(plan[key], report[key], "{key}");
        }
        (report, dashboard)
    };

    // A is done, then rated not effective: the finding closes as complied, not as effective.
    let a = finish(&app, &run, &run.actions[0], &day(-1)).await;
    let a = rate(&app, &run, &a, "met", "not_effective").await;
    let finding = json_of(move_finding(&app, &auditor, &finding, "closed_compliant").await, 200).await;
    assert_problem(move_finding(&app, &auditor, &finding, "closed_effective").await, 409, "invalid_transition").await;
    let (report, _) = figures(&app).await;
    assert_eq!(report["effectiveness_pct"], 0.0);

    // A′ replaces A; it is overdue and unfinished, and is itself rated not effective.
    let reformulate = |action: &Value| format!("{}/reformulations", action_path(action));
    let body = json!({"reason": "No redujo incidentes", "title": "Campaña focalizada",
                      "start_date": day(-20), "due_date": day(-2)});
    let a1 = json_of(app.post(&reformulate(&a), &run.planner, &body).await, 201).await;
    let (report, dashboard) = figures(&app).await;
    assert_eq!(report["effectiveness_pct"], Value::Null, "A no longer counts; A′ is not rated");
    assert_eq!(report["overdue_actions"].as_array().unwrap().len(), 1);
    assert_eq!(report["overdue_actions"][0]["id"], a1["id"]);
    assert_eq!(dashboard["actions_overdue"], 1);
    let problem =
        assert_problem(move_finding(&app, &auditor, &finding, "closed_effective").await, 409, "invalid_transition")
            .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("2 (Campaña focalizada)") && !detail.contains("1 (Campaña)"), "{detail}");
    let a1 = rate(&app, &run, &a1, "not_met", "not_effective").await;

    // A″ replaces A′ (a second reformulation); while it is pending the finding stays closed.
    let body =
        json!({"reason": "Sin avance", "title": "Mesa de incidentes", "start_date": day(0), "due_date": day(20)});
    let a2 = json_of(app.post(&reformulate(&a1), &run.planner, &body).await, 201).await;
    assert_eq!(a2["reformulated_from_id"], a1["id"]);
    assert_eq!(a2["finding_ids"], json!([finding["id"]]));
    let (report, dashboard) = figures(&app).await;
    assert_eq!(report["overdue_actions"], json!([]));
    assert_eq!(
        (dashboard["actions_overdue"].as_u64(), dashboard["actions_due_in_30_days"].as_u64()),
        (Some(0), Some(1))
    );
    let problem =
        assert_problem(move_finding(&app, &auditor, &finding, "closed_effective").await, 409, "invalid_transition")
            .await;
    assert!(problem["detail"].as_str().unwrap().contains("3 (Mesa de incidentes)"), "{problem}");

    // A″ done and effective: the whole chain is judged effective and the finding closes.
    let a2 = finish(&app, &run, &a2, &day(0)).await;
    rate(&app, &run, &a2, "met", "effective").await;
    let (report, _) = figures(&app).await;
    assert_eq!(report["actions_total"], 3);
    assert_eq!((report["compliance_pct"].as_f64(), report["effectiveness_pct"].as_f64()), (Some(100.0), Some(100.0)));
    let lights = report["actions_by_traffic_light"].as_array().unwrap();
    let lit: Vec<(&str, u64)> =
        lights.iter().map(|l| (l["value"].as_str().unwrap(), l["count"].as_u64().unwrap())).collect();
    assert_eq!(lit, [("red", 0), ("amber", 0), ("grey", 0), ("green", 1)]);
    let closed = json_of(move_finding(&app, &auditor, &finding, "closed_effective").await, 200).await;
    assert_eq!(closed["status"], "closed_effective");
}
