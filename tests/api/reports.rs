//! Reports: a plan's figures (categories, statuses, lights, percentages, overdue actions,
//! findings, objectives) and the organization's dashboard, with numbers checked exactly.
use crate::actions::{action_body, action_path, day, finish, post_if_match, running_plan};
use crate::evidence::review;
use crate::helpers::*;
use crate::plans::{add_category, create_plan, etag_of, plan_body};
use mejora::entities::enums::Role;
use serde_json::{json, Value};

async fn finding(app: &TestApp, token: &str, code: &str, severity: Option<&str>) -> Value {
    let body = json!({"source": "internal_audit", "report_code": "OCI-1", "finding_code": code,
                      "title": format!("Hallazgo {code}"), "severity": severity});
    json_of(app.post("/api/v1/findings", token, &body).await, 201).await
}

async fn evidence(app: &TestApp, token: &str, action: &Value, quantity: f64) -> Value {
    let body = json!({"cut_off_date": day(0), "description": "Soporte", "reported_quantity": quantity});
    json_of(app.post(&format!("{}/evidence", action_path(action)), token, &body).await, 201).await
}

fn count_of(list: &Value, value: &str) -> u64 {
    list.as_array().unwrap().iter().find(|c| c["value"] == value).map_or(0, |c| c["count"].as_u64().unwrap())
}

#[tokio::test]
async fn a_plan_report_counts_statuses_lights_progress_and_findings() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let h1 = finding(&app, &auditor, "H-01", Some("high")).await;
    finding(&app, &auditor, "H-02", None).await;
    let mut overdue = action_body("Vencida", &day(-30), &day(-5), None);
    overdue["finding_ids"] = json!([h1["id"]]);
    let specs = [
        overdue,
        action_body("En curso", &day(-10), &day(10), None),
        action_body("Tardía", &day(-20), &day(-2), None),
        action_body("Próxima", &day(-5), &day(20), None),
        action_body("A tiempo", &day(-15), &day(5), None),
    ];
    let run = running_plan(&app, "REP", &specs).await;
    let (responsible, reviewer) = (&run.responsible.token, &run.auditor.token);
    let accepted = evidence(&app, responsible, &run.actions[1], 2.0).await;
    json_of(review(&app, reviewer, &accepted, &json!({"status": "accepted"})).await, 200).await;
    evidence(&app, responsible, &run.actions[3], 1.0).await;
    let late = finish(&app, &run, &run.actions[2], &day(-1)).await;
    finish(&app, &run, &run.actions[4], &day(-1)).await;
    let rating = json!({"compliance": "met_late", "effectiveness": "effective"});
    let path = format!("{}/evaluation", action_path(&late));
    json_of(post_if_match(&app, &path, reviewer, &etag_of(&late), &rating).await, 200).await;

    let plan = run.plan["id"].as_str().unwrap();
    let viewer = app.token_for(Role::Viewer).await;
    let report = json_of(app.get(&format!("/api/v1/plans/{plan}/report"), &viewer).await, 200).await;
    assert_eq!(report["code"], "REP");
    assert_eq!(report["actions_total"], 5);
    // Accepted evidence below the target moved "En curso" to in_progress.
    assert_eq!(count_of(&report["actions_by_status"], "planned"), 2);
    assert_eq!(count_of(&report["actions_by_status"], "in_progress"), 1);
    assert_eq!(count_of(&report["actions_by_status"], "done"), 2);
    let lights = &report["actions_by_traffic_light"];
    assert_eq!(["red", "amber", "grey", "green"].map(|l| count_of(lights, l)), [1, 1, 2, 1], "{lights}");
    // The report's lights (SQL) agree with each action's own light.
    let mut own = std::collections::HashMap::new();
    for action in &run.actions {
        let read = json_of(app.get(&action_path(action), &viewer).await, 200).await;
        *own.entry(read["traffic_light"].as_str().unwrap().to_string()).or_insert(0u64) += 1;
    }
    assert_eq!(["red", "amber", "grey", "green"].map(|l| own.get(l).copied().unwrap_or(0)), [1, 1, 2, 1]);
    // (0 + 50 + 0 + 0 + 0) / 5; one rated action, met late and effective.
    assert_eq!(report["progress_pct"], 10.0);
    assert_eq!(report["compliance_pct"], 100.0);
    assert_eq!(report["effectiveness_pct"], 100.0);
    let overdue = report["overdue_actions"].as_array().unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!((overdue[0]["title"].as_str(), overdue[0]["days_overdue"].as_i64()), (Some("Vencida"), Some(5)));
    assert_eq!(report["findings"], json!({"covered": 1, "still_open": 1}));
    let category = &report["categories"][0];
    // A FURAG index carries no MSPI level.
    assert_eq!((category["score"].as_f64(), category["maturity_band"].as_str()), (Some(40.0), None));
    assert_eq!(category["gap"], Value::Null);

    // The plan figures agree with the plan read.
    let read = json_of(app.get(&format!("/api/v1/plans/{plan}"), &viewer).await, 200).await;
    assert_eq!(read["progress_pct"], report["progress_pct"]);

    let dashboard = json_of(app.get("/api/v1/dashboard", &viewer).await, 200).await;
    assert_eq!(count_of(&dashboard["plans_by_status"], "in_progress"), 1);
    assert_eq!(dashboard["actions_overdue"], 1);
    assert_eq!(dashboard["actions_due_in_30_days"], 2);
    assert_eq!(count_of(&dashboard["findings_by_severity"], "high"), 1);
    let unrated = dashboard["findings_by_severity"].as_array().unwrap().iter().find(|c| c["value"].is_null()).unwrap();
    assert_eq!(unrated["count"], 1);
    assert_eq!(count_of(&dashboard["findings_by_status"], "open"), 2);
    assert_eq!(dashboard["evidence_waiting_review"], 1);
    assert_eq!(dashboard["oldest_open_finding"]["finding_code"], "H-01");
    assert_eq!(dashboard["oldest_open_finding"]["days_open"], 0);
}

#[tokio::test]
async fn a_report_gives_gaps_bands_and_objectives_and_other_organizations_see_nothing() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let objective = json_of(
        app.post(
            "/api/v1/objectives",
            &planner,
            &json!({"source": "peti", "code": "PETI-3", "title": "Seguridad digital"}),
        )
        .await,
        201,
    )
    .await;
    let mut body = plan_body("GAP");
    body["objective_ids"] = json!([objective["id"]]);
    let plan = create_plan(&app, &planner, &body).await;
    add_category(&app, &planner, &plan, &json!({"name": "Uno", "source": "mspi", "score": 65, "target_score": 80}))
        .await;
    add_category(&app, &planner, &plan, &json!({"name": "Dos", "source": "mspi", "score": 0})).await;
    let id = plan["id"].as_str().unwrap();
    let report = json_of(app.get(&format!("/api/v1/plans/{id}/report"), &planner).await, 200).await;
    let cats = report["categories"].as_array().unwrap();
    assert_eq!((cats[0]["gap"].as_f64(), cats[0]["maturity_band"].as_str()), (Some(15.0), Some("effective")));
    assert_eq!(cats[1]["maturity_band"], "nonexistent");
    assert_eq!(report["actions_total"], 0);
    assert_eq!(report["progress_pct"], Value::Null);
    assert_eq!(report["compliance_pct"], Value::Null);
    assert_eq!(report["objectives"][0]["code"], "PETI-3");
    assert_eq!(report["findings"], json!({"covered": 0, "still_open": 0}));

    let (_, stranger) = app.other_organization().await;
    assert_problem(app.get(&format!("/api/v1/plans/{id}/report"), &stranger.token).await, 404, "not_found").await;
    let theirs = json_of(app.get("/api/v1/dashboard", &stranger.token).await, 200).await;
    assert_eq!(theirs["plans_by_status"], json!([]));
    assert_eq!(theirs["oldest_open_finding"], Value::Null);
}

/// Reads the report of each plan and the dashboard twice (the second read comes from the
/// cache) and checks both against a fresh computation of the services, that the `ETag` moved
/// since the previous state, and that sending it back answers 304 with no body.
async fn cached_equals_fresh(app: &TestApp, token: &str, plans: &[&str], seen: &mut Vec<(String, String)>, what: &str) {
    use mejora::services::{calendar, reports};
    let today = calendar::today();
    let mut reads = Vec::new();
    for plan in plans {
        let fresh = reports::plan_report(&app.db, app.org_id, plan.parse().unwrap(), today).await.unwrap();
        reads.push((format!("/api/v1/plans/{plan}/report"), serde_json::to_value(fresh).unwrap()));
    }
    let fresh = reports::dashboard(&app.db, app.org_id, today).await.unwrap();
    reads.push(("/api/v1/dashboard".to_string(), serde_json::to_value(fresh).unwrap()));
    for (path, fresh) in reads {
        let mut tag = String::new();
        for _ in 0..2 {
            let res = app.get(&path, token).await;
            assert_eq!(res.status(), 200, "{what}: {path}");
            tag = res.headers()["etag"].to_str().unwrap().to_string();
            let body: Value = res.json().await.unwrap();
            assert_eq!(body, fresh, "after {what}: {path} differs from a fresh computation");
        }
        assert!(!seen.contains(&(path.clone(), tag.clone())), "after {what}: the ETag of {path} did not move");
        seen.push((path.clone(), tag.clone()));
        let res =
            app.request(reqwest::Method::GET, &path, Some(token)).header("If-None-Match", &tag).send().await.unwrap();
        assert_eq!(res.status(), 304, "{what}: {path}");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), tag);
        assert!(res.bytes().await.unwrap().is_empty());
        let other = app
            .request(reqwest::Method::GET, &path, Some(token))
            .header("If-None-Match", "\"r0.0.0\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 200, "{what}: {path} with a stale tag");
    }
}

#[tokio::test]
async fn cached_reports_equal_a_fresh_computation_after_each_kind_of_change() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let viewer = app.token_for(Role::Viewer).await;
    let run = running_plan(&app, "CACHE", &[action_body("Revisar accesos", &day(-10), &day(10), None)]).await;
    let draft = create_plan(&app, &run.planner, &plan_body("CACHE2")).await;
    let (running, drafted) = (run.plan["id"].as_str().unwrap(), draft["id"].as_str().unwrap());
    let plans = [running, drafted];
    let mut seen = Vec::new();
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "the start").await;

    // A finding: recorded, changed, linked to the running plan.
    let h = finding(&app, &auditor, "H-77", Some("high")).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "a new finding").await;
    let path = format!("/api/v1/findings/{}", h["id"].as_str().unwrap());
    let h = json_of(app.patch(&path, &auditor, &etag_of(&h), &json!({"severity": "low"})).await, 200).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "a changed finding").await;
    let link = app
        .request(reqwest::Method::PUT, &format!("{path}/plan"), Some(&run.planner))
        .header("If-Match", etag_of(&h))
        .json(&json!({"plan_id": running}))
        .send()
        .await
        .unwrap();
    json_of(link, 200).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "a finding linked to the plan").await;

    // Evidence reported, then reviewed.
    let reported = evidence(&app, &run.responsible.token, &run.actions[0], 2.0).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "reported evidence").await;
    json_of(review(&app, &run.auditor.token, &reported, &json!({"status": "accepted"})).await, 200).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "an evidence review").await;

    // An action finished.
    let action = json_of(app.get(&action_path(&run.actions[0]), &run.planner).await, 200).await;
    finish(&app, &run, &action, &day(-1)).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "a finished action").await;

    // A plan changed and a category added to it.
    let res = app
        .patch(&format!("/api/v1/plans/{drafted}"), &run.planner, &etag_of(&draft), &json!({"title": "Otro título"}))
        .await;
    json_of(res, 200).await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "a changed plan").await;
    add_category(&app, &run.planner, &draft, &json!({"name": "Gobierno digital", "source": "furag", "score": 55}))
        .await;
    cached_equals_fresh(&app, &viewer, &plans, &mut seen, "a new category").await;
}

#[tokio::test]
async fn an_if_none_match_longer_than_documented_is_a_400() {
    let app = spawn_app().await;
    let long = format!("\"{}\"", "0".repeat(1000));
    let res = app
        .request(reqwest::Method::GET, "/api/v1/dashboard", Some(&app.admin_token))
        .header("If-None-Match", &long)
        .send()
        .await
        .unwrap();
    let body = json_of(res, 400).await;
    assert_eq!(body["code"], "invalid_header", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("If-None-Match"), "{body}");
}
