//! The control office's evaluation of actions (with segregation of duties) and the
//! reformulation of actions rated not effective.
use crate::actions::{action_body, action_path, day, finish, post_if_match, running_plan};
use crate::helpers::*;
use crate::plans::{audit_operations, etag_of};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::json;

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
