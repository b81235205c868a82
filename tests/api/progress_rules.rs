//! The rules of `services::progress` exist as SQL expressions (the aggregates) and as Rust
//! functions (one action in hand): both are evaluated here over a table of cases on the test
//! backend and must agree; and a plan's figures read the same through the plan and its report.
use crate::actions::{action_body, day, running_plan};
use crate::evidence::review;
use crate::helpers::*;
use chrono::NaiveDate;
use mejora::entities::enums::{ActionStatus, ComplianceResult, EffectivenessResult, Role, TrafficLight};
use mejora::services::progress::{self, sql};
use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde_json::json;

#[derive(Debug, FromQueryResult)]
struct Judged {
    light: Option<String>,
    overdue: i32,
    open: i32,
    progress: f64,
    live: i32,
    rated: i32,
    met: i32,
    judged: i32,
    effective: i32,
    status_then: String,
    done_then: Option<NaiveDate>,
}

fn flag(cond: SimpleExpr) -> SimpleExpr {
    Expr::case(cond, 1).finally(0).into()
}

#[tokio::test]
async fn each_progress_rule_gives_the_same_answer_in_sql_and_in_rust() {
    let app = spawn_app().await;
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let today = d("2025-06-30");
    let dates = [d("2025-06-29"), today, d("2025-07-01")];
    let completions = [None, Some(d("2025-06-29")), Some(today), Some(d("2025-07-01"))];
    let quantities = [(0.0, 4.0), (1.0, 4.0), (1.0, 3.0), (9.0, 4.0), (2.0, 0.0), (1.0, 7.0), (-1.0, 4.0)];
    let backend = app.db.get_database_backend();
    let mut cases = 0;
    for status in ActionStatus::ALL.iter().copied() {
        for due in dates {
            for completed_on in completions {
                for (accepted, target) in quantities {
                    let status_e: SimpleExpr = Expr::val(status.code());
                    let due_e: SimpleExpr = Expr::val(due);
                    let done_e: SimpleExpr = Expr::val(completed_on);
                    let query = Query::select()
                        .expr_as(
                            sql::traffic_light(status_e.clone(), due_e.clone(), done_e.clone(), today),
                            Alias::new("light"),
                        )
                        .expr_as(flag(sql::overdue(status_e.clone(), due_e.clone(), today)), Alias::new("overdue"))
                        .expr_as(flag(sql::is_open(status_e.clone())), Alias::new("open"))
                        .expr_as(sql::progress_pct(Expr::val(accepted), Expr::val(target)), Alias::new("progress"))
                        .expr_as(flag(sql::is_live(status_e.clone())), Alias::new("live"))
                        .expr_as(flag(sql::is_rated(Expr::val("met"))), Alias::new("rated"))
                        .expr_as(flag(sql::is_met(Expr::val("met"))), Alias::new("met"))
                        .expr_as(flag(sql::is_judged(Expr::val("effective"))), Alias::new("judged"))
                        .expr_as(flag(sql::is_effective(Expr::val("effective"))), Alias::new("effective"))
                        .expr_as(sql::status_as_of(status_e.clone(), done_e.clone(), today), Alias::new("status_then"))
                        .expr_as(sql::completed_as_of(status_e.clone(), done_e.clone(), today), Alias::new("done_then"))
                        .to_owned();
                    let row = Judged::find_by_statement(backend.build(&query)).one(&app.db).await.unwrap().unwrap();
                    let case = format!("{status:?} due {due} done {completed_on:?} {accepted}/{target}");
                    let light = progress::traffic_light(status, due, completed_on, today);
                    assert_eq!(row.light.as_deref(), light.map(TrafficLight::code), "{case}");
                    assert_eq!(row.overdue == 1, progress::is_overdue(status, due, today), "{case}");
                    assert_eq!(row.open == 1, progress::is_open(status), "{case}");
                    assert_eq!(row.live == 1, status != ActionStatus::Cancelled, "{case}");
                    let rust = progress::progress_pct(accepted, target);
                    assert!((row.progress - rust).abs() < 1e-9, "{case}: sql {} rust {rust}", row.progress);
                    assert_eq!((row.rated, row.met, row.judged, row.effective), (1, 1, 1, 1), "{case}");
                    let (status_then, done_then) = progress::state_as_of(status, completed_on, today);
                    assert_eq!((row.status_then.as_str(), row.done_then), (status_then.code(), done_then), "{case}");
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 4 * 3 * 4 * 7);
    // The ratings: each value against the Rust reading of the plan roll-up.
    for c in ComplianceResult::ALL.iter().copied() {
        let query = Query::select()
            .expr_as(flag(sql::is_rated(Expr::val(c.code()))), Alias::new("rated"))
            .expr_as(flag(sql::is_met(Expr::val(c.code()))), Alias::new("met"))
            .to_owned();
        let row = backend.build(&query);
        let row = app.db.query_one_raw(row).await.unwrap().unwrap();
        let (rated, met): (i32, i32) = (row.try_get("", "rated").unwrap(), row.try_get("", "met").unwrap());
        assert_eq!(rated == 1, c != ComplianceResult::Pending, "{c:?}");
        assert_eq!(met == 1, matches!(c, ComplianceResult::Met | ComplianceResult::MetLate), "{c:?}");
    }
    for e in EffectivenessResult::ALL.iter().copied() {
        let query = Query::select()
            .expr_as(flag(sql::is_judged(Expr::val(e.code()))), Alias::new("judged"))
            .expr_as(flag(sql::is_effective(Expr::val(e.code()))), Alias::new("effective"))
            .to_owned();
        let row = app.db.query_one_raw(backend.build(&query)).await.unwrap().unwrap();
        let (judged, effective): (i32, i32) =
            (row.try_get("", "judged").unwrap(), row.try_get("", "effective").unwrap());
        assert_eq!(
            judged == 1,
            matches!(e, EffectivenessResult::Effective | EffectivenessResult::NotEffective),
            "{e:?}"
        );
        assert_eq!(effective == 1, e == EffectivenessResult::Effective, "{e:?}");
    }
}

// Before, a plan read 9.53 % (the mean of the actions' rounded figures, 14.29 + 14.29 + 0) and
// its report 9.52 % (the mean of the exact figures, rounded once). Both now round once.
#[tokio::test]
async fn a_plan_and_its_report_give_the_same_progress_rounded_once() {
    let app = spawn_app().await;
    let specs: Vec<_> = ["Uno", "Dos", "Tres"]
        .iter()
        .map(|t| {
            let mut body = action_body(t, &day(-10), &day(10), None);
            body["target_quantity"] = json!(7);
            body
        })
        .collect();
    let run = running_plan(&app, "RND", &specs).await;
    for action in &run.actions[..2] {
        let path = format!("/api/v1/actions/{}/evidence", action["id"].as_str().unwrap());
        let body = json!({"cut_off_date": day(0), "description": "Soporte", "reported_quantity": 1});
        let evidence = json_of(app.post(&path, &run.responsible.token, &body).await, 201).await;
        json_of(review(&app, &run.auditor.token, &evidence, &json!({"status": "accepted"})).await, 200).await;
    }
    let viewer = app.token_for(Role::Viewer).await;
    let plan = run.plan["id"].as_str().unwrap();
    let read = json_of(app.get(&format!("/api/v1/plans/{plan}"), &viewer).await, 200).await;
    let report = json_of(app.get(&format!("/api/v1/plans/{plan}/report"), &viewer).await, 200).await;
    let action =
        json_of(app.get(&format!("/api/v1/actions/{}", run.actions[0]["id"].as_str().unwrap()), &viewer).await, 200)
            .await;
    assert_eq!(action["progress_pct"], 14.29);
    assert_eq!(read["progress_pct"], 9.52);
    assert_eq!(report["progress_pct"], 9.52);
    assert_eq!(read["traffic_light"], "grey");
}
