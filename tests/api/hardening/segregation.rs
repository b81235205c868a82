//! Segregation of duties holds through edits and reassignments: nobody reviews evidence they
//! created or changed, nobody rates an action for which they were ever responsible.
use crate::actions::{action_body, action_path, day, finish, post_if_match, running_plan};
use crate::evidence::{report, review};
use crate::helpers::*;
use crate::plans::etag_of;
use mejora::entities::enums::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn nobody_reviews_evidence_they_edited() {
    let app = spawn_app().await;
    let run = running_plan(&app, "SOD-ED", &[action_body("Capacitar", &day(-5), &day(5), None)]).await;
    let editor = app.user_in(app.org_id, &[Role::Planner, Role::Auditor]).await;
    let path = format!("{}/evidence", action_path(&run.actions[0]));
    let reported = json_of(app.post(&path, &run.responsible.token, &report()).await, 201).await;
    let evidence_path = format!("/api/v1/evidence/{}", reported["id"].as_str().unwrap());
    let edit = json!({"description": "Acta de capacitación firmada (corregida)"});
    let edited = json_of(app.patch(&evidence_path, &editor.token, &etag_of(&reported), &edit).await, 200).await;
    let res = review(&app, &editor.token, &edited, &json!({"status": "accepted"})).await;
    let problem = assert_problem(res, 403, "segregation_of_duties").await;
    assert!(problem["detail"].as_str().unwrap().contains("changed"), "{problem}");
    // An independent auditor still reviews it.
    let accepted = json_of(review(&app, &run.auditor.token, &edited, &json!({"status": "accepted"})).await, 200).await;
    assert_eq!(accepted["review_status"], "accepted");
}

#[tokio::test]
async fn nobody_rates_an_action_they_were_once_responsible_for() {
    let app = spawn_app().await;
    let insider = app.user_in(app.org_id, &[Role::Responsible, Role::Auditor]).await;
    let run = running_plan(&app, "SOD-RE", &[action_body("Actualizar políticas", &day(-10), &day(10), None)]).await;
    let path = action_path(&run.actions[0]);
    let mut action: Value = run.actions[0].clone();
    for who in [insider.id, run.responsible.id] {
        let res = app.patch(&path, &app.admin_token, &etag_of(&action), &json!({"responsible_id": who})).await;
        action = json_of(res, 200).await;
    }
    assert_eq!(action["responsible_id"], run.responsible.id.to_string());
    // The former responsible reviews none of its evidence...
    let evidence = json_of(app.post(&format!("{path}/evidence"), &run.responsible.token, &report()).await, 201).await;
    let res = review(&app, &insider.token, &evidence, &json!({"status": "accepted"})).await;
    assert_problem(res, 403, "segregation_of_duties").await;
    // ...and does not rate it.
    let action = finish(&app, &run, &action, &day(0)).await;
    let rating = json!({"compliance": "met", "effectiveness": "effective"});
    let rate = format!("{path}/evaluation");
    let res = post_if_match(&app, &rate, &insider.token, &etag_of(&action), &rating).await;
    assert_problem(res, 403, "segregation_of_duties").await;
    // An auditor who never held it rates it.
    json_of(post_if_match(&app, &rate, &run.auditor.token, &etag_of(&action), &rating).await, 200).await;
}
