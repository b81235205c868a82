//! Reporting periods (issue 16): two SIRECI semiannual cut-offs walked end to end — report,
//! accept, close, try to change, export twice, observe, file, reopen refused after filing —
//! with exports byte-identical whatever changes later, uploads and bulk changes that never
//! alter a closed period, trends in the plan report and the dashboard, and the rules of
//! creation, closing and filing.
use crate::actions::{action_body, action_path, day, finish, running_plan};
use crate::evidence::review;
use crate::helpers::*;
use crate::plans::{audit_operations, etag_of};
use chrono::{Duration, NaiveDate};
use mejora::entities::enums::Role;
use mejora::services::calendar;
use mejora::services::reporting_periods::semiannual_cut_offs;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The two latest SIRECI cut-offs (30 June, 31 December) on or before today.
fn past_cut_offs() -> (NaiveDate, NaiveDate) {
    let today = calendar::today();
    let past: Vec<NaiveDate> =
        semiannual_cut_offs(today - Duration::days(400), 4).into_iter().filter(|d| *d <= today).collect();
    (past[past.len() - 2], past[past.len() - 1])
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn post_with(app: &TestApp, path: &str, token: &str, etag: &str, body: Option<&Value>) -> reqwest::Response {
    let mut req = app.request(Method::POST, path, Some(token)).header("If-Match", etag);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

async fn period(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(app.get(&format!("/api/v1/reporting-periods/{id}"), token).await, 200).await
}

async fn close(app: &TestApp, token: &str, id: &str) -> Value {
    let current = period(app, token, id).await;
    let path = format!("/api/v1/reporting-periods/{id}/close");
    json_of(post_with(app, &path, token, &etag_of(&current), None).await, 200).await
}

async fn export(app: &TestApp, token: &str, id: &str, query: &str) -> Vec<u8> {
    let res = app.get(&format!("/api/v1/reporting-periods/{id}/export?{query}"), token).await;
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

async fn report_on(app: &TestApp, token: &str, action: &Value, cut_off: NaiveDate, quantity: f64) -> reqwest::Response {
    let body = json!({"cut_off_date": cut_off, "evidence_date": cut_off - Duration::days(3),
                      "description": format!("Soporte con corte {cut_off}"), "reported_quantity": quantity});
    app.post(&format!("{}/evidence", action_path(action)), token, &body).await
}

async fn comptroller_finding(app: &TestApp, auditor: &str, code: &str) -> String {
    let body = json!({"source": "comptroller", "report_code": "CGR-2025", "finding_code": code,
                      "title": format!("Hallazgo {code}"), "condition": "Sin control de accesos",
                      "cause": "Sin procedimiento", "effect": "Riesgo de acceso"});
    id(&json_of(app.post("/api/v1/findings", auditor, &body).await, 201).await)
}

#[tokio::test]
async fn two_semiannual_periods_are_closed_filed_and_never_change() {
    let app = spawn_app().await;
    let (c1, c2) = past_cut_offs();
    let auditor = app.token_for(Role::Auditor).await;
    let viewer = app.token_for(Role::Viewer).await;
    let h1 = comptroller_finding(&app, &auditor, "H-01").await;
    let h2 = comptroller_finding(&app, &auditor, "H-02").await;
    let (start, due) = ((c1 - Duration::days(60)).to_string(), (c2 + Duration::days(30)).to_string());
    let mut a1 = action_body("Revisar accesos", &start, &due, None);
    a1["finding_ids"] = json!([h1]);
    let mut a2 = action_body("Probar restauraciones", &start, &due, None);
    a2["finding_ids"] = json!([h2]);
    let run = running_plan(&app, "PM-CGR", &[a1, a2]).await;
    let plan = id(&run.plan);
    let (a1, a2) = (run.actions[0].clone(), run.actions[1].clone());

    // One call creates both semiannual periods; calling again creates nothing.
    let body = json!({"from": c1, "count": 2});
    let made = json_of(app.post("/api/v1/reporting-periods/sireci-semiannual", &run.planner, &body).await, 201).await;
    let items = made["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["cut_off_date"], c1.to_string());
    assert_eq!(items[1]["cut_off_date"], c2.to_string());
    assert_eq!(items[0]["kind"], "sireci_semiannual");
    assert_eq!(items[0]["status"], "open");
    assert_eq!(items[0]["filing_deadline"], (c1 + Duration::days(30)).to_string());
    assert!(items[0]["name"].as_str().unwrap().starts_with("SIRECI "));
    let (p1, p2) = (id(&items[0]), id(&items[1]));
    let again = json_of(app.post("/api/v1/reporting-periods/sireci-semiannual", &run.planner, &body).await, 200).await;
    assert_eq!(again["items"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), vec![p1.clone(), p2.clone()]);

    // Report and accept: one accepted piece on A1 for the first cut-off, one left submitted,
    // one accepted on A2 for the second cut-off.
    let e1 = json_of(report_on(&app, &run.responsible.token, &a1, c1, 1.0).await, 201).await;
    json_of(review(&app, &run.auditor.token, &e1, &json!({"status": "accepted"})).await, 200).await;
    let e2 = json_of(report_on(&app, &run.responsible.token, &a1, c1, 1.0).await, 201).await;
    let e3 = json_of(report_on(&app, &run.responsible.token, &a2, c2, 2.0).await, 201).await;
    json_of(review(&app, &run.auditor.token, &e3, &json!({"status": "accepted"})).await, 200).await;

    // Close the first period: figures as of its cut-off.
    let closed = close(&app, &run.planner, &p1).await;
    assert_eq!(closed["status"], "closed");
    let hash = closed["snapshot_sha256"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    assert_eq!(closed["actions_count"], 2);
    assert_eq!(closed["progress_pct"], 12.5);
    assert_eq!(closed["plans"][0]["plan_id"], plan);
    assert_eq!(closed["plans"][0]["progress_pct"], 12.5);
    assert_eq!(closed["plans"][0]["traffic_light"], "grey");
    let figures = json_of(app.get(&format!("/api/v1/reporting-periods/{p1}/actions"), &viewer).await, 200).await;
    let figures = figures["items"].as_array().unwrap();
    let of = |action: &Value| figures.iter().find(|f| f["action_id"] == action["id"]).unwrap().clone();
    assert_eq!(of(&a1)["accepted_quantity"], 1.0);
    assert_eq!(of(&a1)["progress_pct"], 25.0);
    assert_eq!(of(&a1)["evidence_ids"], json!([id(&e1)]));
    assert_eq!(of(&a1)["title"], "Revisar accesos");
    assert_eq!(of(&a2)["accepted_quantity"], 0.0);
    assert_eq!(of(&a2)["evidence_ids"], json!([]));

    // Evidence dated on or before the cut-off can no longer be reported, changed, reviewed or
    // given a file for the covered plan; later evidence is unaffected.
    let refused = assert_problem(
        review(&app, &run.auditor.token, &e2, &json!({"status": "accepted"})).await,
        409,
        "period_closed",
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains(items[0]["name"].as_str().unwrap()), "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains(&p1), "{refused}");
    assert_problem(report_on(&app, &run.responsible.token, &a1, c1, 1.0).await, 409, "period_closed").await;
    let path = format!("/api/v1/evidence/{}", id(&e2));
    let res = app.patch(&path, &run.responsible.token, &etag_of(&e2), &json!({"reported_quantity": 3})).await;
    assert_problem(res, 409, "period_closed").await;
    let part = Part::bytes(PDF.to_vec()).file_name("acta.pdf").mime_str("application/pdf").unwrap();
    let res = app
        .request(Method::POST, &format!("{path}/files"), Some(&run.responsible.token))
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "period_closed").await;
    let res = app
        .request(Method::GET, &format!("/api/v1/actions/{}/evidence", id(&a1)), Some(&viewer))
        .header("Accept-Language", "es")
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
    let spanish = app
        .request(Method::POST, &format!("{}/evidence", action_path(&a1)), Some(&run.responsible.token))
        .header("Accept-Language", "es")
        .json(&json!({"cut_off_date": c1, "description": "Tarde", "reported_quantity": 1}))
        .send()
        .await
        .unwrap();
    let spanish = assert_problem(spanish, 409, "period_closed").await;
    assert!(spanish["detail"].as_str().unwrap().contains("está cerrado"), "{spanish}");
    let e4 = json_of(report_on(&app, &run.responsible.token, &a1, c2, 2.0).await, 201).await;

    // Exports read the snapshot: the same bytes before and after evidence, actions and
    // findings change (one of them through a bulk upload).
    let xlsx = export(&app, &viewer, &p1, "").await;
    let csv = export(&app, &viewer, &p1, "format=csv").await;
    let doc: Value = serde_json::from_slice(&export(&app, &viewer, &p1, "format=json").await).unwrap();
    let row = &doc["sheets"][0]["rows"][0];
    assert_eq!(row["FILA"], "FILA_1");
    assert_eq!(row["CÓDIGO HALLAZGO"], "H-01");
    assert_eq!(row["DESCRIPCIÓN HALLAZGO (No más de 50 palabras)"], "Sin control de accesos");
    assert_eq!(row["AVANCE FÍSICO DE EJECUCIÓN DE LAS ACTIVIDADES"], 1.0);
    assert_eq!(doc["sheets"][0]["rows"][1]["CÓDIGO HALLAZGO"], "H-02");
    assert_eq!(doc["period"]["snapshot_sha256"], hash);
    let ti = export(&app, &viewer, &p1, "layout=ti-pl03&format=csv").await;
    assert!(String::from_utf8_lossy(&ti).contains("Avance del plan al corte,12.5 %"));

    json_of(review(&app, &run.auditor.token, &e4, &json!({"status": "accepted"})).await, 200).await;
    let current = json_of(app.get(&action_path(&a2), &run.planner).await, 200).await;
    finish(&app, &run, &current, &day(0)).await;
    let csv_upload = "source,report_code,finding_code,title,condition\n\
                      comptroller,CGR-2025,H-01,Hallazgo H-01,Condición reescrita por una carga\n";
    let res = app
        .request(Method::POST, "/api/v1/findings/imports?on_conflict=update", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(csv_upload)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, 201).await["counts"]["updated"], 1);
    assert_eq!(sha(&export(&app, &viewer, &p1, "").await), sha(&xlsx));
    assert_eq!(sha(&export(&app, &viewer, &p1, "format=csv").await), sha(&csv));
    assert_eq!(period(&app, &viewer, &p1).await["snapshot_sha256"], hash);
    // The live export shows the change, and says it is a draft.
    let live = app.get(&format!("/api/v1/plans/{plan}/export?layout=sireci-f14-1&format=csv"), &viewer).await;
    let live = String::from_utf8(live.bytes().await.unwrap().to_vec()).unwrap();
    assert!(live.contains("Condición reescrita") && live.contains("no es un reporte radicado"), "{live}");

    // Observations until filing; then the period is read-only.
    let current = period(&app, &run.planner, &p1).await;
    let note = json!({"items": [{"action_id": a1["id"], "observation": "Soporte en acta 12 del comité"}]});
    let path = format!("/api/v1/reporting-periods/{p1}/observations");
    let observed = json_of(post_with(&app, &path, &run.planner, &etag_of(&current), Some(&note)).await, 200).await;
    assert_eq!(observed["snapshot_sha256"], hash);
    let doc: Value = serde_json::from_slice(&export(&app, &viewer, &p1, "format=json").await).unwrap();
    let obs = doc["sheets"][0]["rows"][0]["OBSERVACIONES"].as_str().unwrap().to_string();
    assert!(obs.contains("Observación del corte: Soporte en acta 12 del comité"), "{obs}");
    let filed_file = export(&app, &viewer, &p1, "").await;
    let filing =
        json!({"filed_on": day(0), "filing_reference": "SIRECI-2025-0001234", "file_sha256": sha(&filed_file)});
    let path = format!("/api/v1/reporting-periods/{p1}/file");
    let filed = json_of(post_with(&app, &path, &run.planner, &etag_of(&observed), Some(&filing)).await, 200).await;
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["filing_reference"], "SIRECI-2025-0001234");
    assert_eq!(filed["filed_file_sha256"], sha(&filed_file));
    assert_eq!(sha(&export(&app, &viewer, &p1, "").await), sha(&filed_file));
    assert_eq!(sha(&export(&app, &viewer, &p1, "").await), sha(&filed_file));
    let path = format!("/api/v1/reporting-periods/{p1}/observations");
    let res = post_with(&app, &path, &run.planner, &etag_of(&filed), Some(&note)).await;
    assert_problem(res, 409, "invalid_transition").await;
    let reason = json!({"reason": "Se aceptó una evidencia tarde"});
    let path = format!("/api/v1/reporting-periods/{p1}/reopen");
    let res = post_with(&app, &path, &run.planner, &etag_of(&filed), Some(&reason)).await;
    assert_problem(res, 403, "forbidden").await;
    let refused = assert_problem(
        post_with(&app, &path, &app.admin_token, &etag_of(&filed), Some(&reason)).await,
        409,
        "invalid_transition",
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("corrects_period_id"), "{refused}");
    assert_eq!(audit_operations(&app, "reporting_period", &p1).await, ["create", "close", "observe", "file"]);

    // The second period counts the evidence of both cut-offs; a closed one may be reopened
    // (admin, with a reason) and closes again to the same figures.
    let second = close(&app, &run.planner, &p2).await;
    assert_eq!(second["progress_pct"], 62.5);
    let figures =
        json_of(app.get(&format!("/api/v1/reporting-periods/{p2}/actions?plan_id={plan}"), &viewer).await, 200).await;
    let a1_then = figures["items"].as_array().unwrap().iter().find(|f| f["action_id"] == a1["id"]).unwrap().clone();
    assert_eq!(a1_then["accepted_quantity"], 3.0);
    let mut counted: Vec<String> =
        a1_then["evidence_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    counted.sort();
    let mut expected = vec![id(&e1), id(&e4)];
    expected.sort();
    assert_eq!(counted, expected);
    let a2_then = figures["items"].as_array().unwrap().iter().find(|f| f["action_id"] == a2["id"]).unwrap().clone();
    // A2 was finished after the cut-off: at the cut-off it was still in progress.
    assert_eq!(a2_then["status"], "in_progress");
    assert_eq!(a2_then["progress_pct"], 50.0);
    let path = format!("/api/v1/reporting-periods/{p2}/reopen");
    let res = post_with(&app, &path, &app.admin_token, &etag_of(&second), Some(&json!({"reason": " "}))).await;
    assert_problem(res, 422, "validation_failed").await;
    let reopened = json_of(post_with(&app, &path, &app.admin_token, &etag_of(&second), Some(&reason)).await, 200).await;
    assert_eq!(reopened["status"], "open");
    assert!(reopened["snapshot_sha256"].is_null() && reopened["plans"] == json!([]));
    let again = close(&app, &run.planner, &p2).await;
    assert_eq!(again["snapshot_sha256"], second["snapshot_sha256"]);
    let filed_file = export(&app, &viewer, &p2, "layout=ti-pl03").await;
    let filing =
        json!({"filed_on": day(0), "filing_reference": "SIRECI-2026-0000042", "file_sha256": sha(&filed_file)});
    let path = format!("/api/v1/reporting-periods/{p2}/file");
    let filed2 = json_of(post_with(&app, &path, &run.planner, &etag_of(&again), Some(&filing)).await, 200).await;
    assert_eq!(sha(&export(&app, &viewer, &p2, "layout=ti-pl03").await), sha(&filed_file));
    let path = format!("/api/v1/reporting-periods/{p2}/reopen");
    let res = post_with(&app, &path, &app.admin_token, &etag_of(&filed2), Some(&reason)).await;
    assert_problem(res, 409, "invalid_transition").await;
    assert_eq!(audit_operations(&app, "reporting_period", &p2).await, ["create", "close", "reopen", "close", "file"]);

    // A correction of a filed period is a new period of kind other.
    let correction = json!({"name": "Corrección SIRECI", "kind": "other", "cut_off_date": c1,
                            "filing_deadline": (calendar::today() + Duration::days(10)), "corrects_period_id": p1});
    let correction = json_of(app.post("/api/v1/reporting-periods", &run.planner, &correction).await, 201).await;
    assert_eq!(correction["corrects_period_id"], p1);

    // Trends: the plan report and the dashboard show each closed period and the next to file.
    let report = json_of(app.get(&format!("/api/v1/plans/{plan}/report"), &viewer).await, 200).await;
    let series: Vec<(Value, Value)> = report["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period_id"].clone(), p["progress_pct"].clone()))
        .collect();
    assert_eq!(series, vec![(json!(p1), json!(12.5)), (json!(p2), json!(62.5))]);
    assert_eq!(report["next_cut_off"]["period_id"], correction["id"]);
    assert_eq!(report["next_cut_off"]["days_to_filing_deadline"], 10);
    let dashboard = json_of(app.get("/api/v1/dashboard", &viewer).await, 200).await;
    assert_eq!(dashboard["periods"].as_array().unwrap().len(), 2);
    assert_eq!(dashboard["periods"][1]["progress_pct"], 62.5);
    assert_eq!(dashboard["periods"][1]["status"], "filed");
    assert_eq!(dashboard["next_cut_off"]["period_id"], correction["id"]);
}

#[tokio::test]
async fn periods_refuse_bad_dates_wrong_states_and_other_roles() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let viewer = app.token_for(Role::Viewer).await;
    let body = |kind: &str, cut_off: &str, deadline: &str| json!({"name": "Corte", "kind": kind, "cut_off_date": cut_off, "filing_deadline": deadline});
    let res = app.post("/api/v1/reporting-periods", &viewer, &body("committee", "2025-03-31", "2025-04-30")).await;
    assert_problem(res, 403, "forbidden").await;
    let res =
        app.post("/api/v1/reporting-periods", &planner, &body("sireci_semiannual", "2025-03-31", "2025-04-30")).await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "not_semiannual");
    let res = app.post("/api/v1/reporting-periods", &planner, &body("committee", "2025-03-31", "2025-03-01")).await;
    assert_eq!(assert_problem(res, 422, "validation_failed").await["errors"][0]["field"], "filing_deadline");
    let mut with_plan = body("committee", "2025-03-31", "2025-04-30");
    with_plan["plan_ids"] = json!([uuid::Uuid::now_v7()]);
    let res = app.post("/api/v1/reporting-periods", &planner, &with_plan).await;
    assert_eq!(assert_problem(res, 422, "validation_failed").await["errors"][0]["code"], "unknown_plan");
    let sireci = json_of(
        app.post("/api/v1/reporting-periods", &planner, &body("sireci_semiannual", "2025-06-30", "2025-07-31")).await,
        201,
    )
    .await;
    let res =
        app.post("/api/v1/reporting-periods", &planner, &body("sireci_semiannual", "2025-06-30", "2025-08-31")).await;
    assert_problem(res, 409, "already_exists").await;
    let mut correction = body("other", "2025-06-30", "2025-07-31");
    correction["corrects_period_id"] = sireci["id"].clone();
    let res = app.post("/api/v1/reporting-periods", &planner, &correction).await;
    assert_eq!(assert_problem(res, 422, "validation_failed").await["errors"][0]["code"], "not_filed");
    correction["kind"] = json!("committee");
    let res = app.post("/api/v1/reporting-periods", &planner, &correction).await;
    assert_eq!(assert_problem(res, 422, "validation_failed").await["errors"][0]["code"], "not_a_correction");

    // Closing needs If-Match, a fresh one, and a cut-off that has come.
    let sid = id(&sireci);
    let path = format!("/api/v1/reporting-periods/{sid}/close");
    let res = app.request(Method::POST, &path, Some(&planner)).send().await.unwrap();
    assert_problem(res, 428, "precondition_required").await;
    assert_problem(post_with(&app, &path, &planner, "\"v9\"", None).await, 412, "precondition_failed").await;
    assert_problem(post_with(&app, &path, &viewer, "\"v1\"", None).await, 403, "forbidden").await;
    let future =
        json_of(app.post("/api/v1/reporting-periods", &planner, &body("committee", &day(5), &day(20))).await, 201)
            .await;
    let path_future = format!("/api/v1/reporting-periods/{}/close", id(&future));
    assert_problem(post_with(&app, &path_future, &planner, "\"v1\"", None).await, 409, "invalid_transition").await;
    // An open period has nothing to export, observe or file.
    let res = app.get(&format!("/api/v1/reporting-periods/{sid}/export"), &viewer).await;
    assert_problem(res, 409, "invalid_transition").await;
    let filing = json!({"filed_on": day(0), "filing_reference": "R-1", "file_sha256": "ab".repeat(32)});
    let res =
        post_with(&app, &format!("/api/v1/reporting-periods/{sid}/file"), &planner, "\"v1\"", Some(&filing)).await;
    assert_problem(res, 409, "invalid_transition").await;
    // Closed with no plan running: an empty, well-formed snapshot.
    let closed = json_of(post_with(&app, &path, &planner, "\"v1\"", None).await, 200).await;
    assert_eq!(closed["actions_count"], 0);
    assert!(closed["progress_pct"].is_null());
    let bad = json!({"filed_on": day(0), "filing_reference": "R-1", "file_sha256": "no"});
    let res =
        post_with(&app, &format!("/api/v1/reporting-periods/{sid}/file"), &planner, &etag_of(&closed), Some(&bad))
            .await;
    assert_eq!(assert_problem(res, 422, "validation_failed").await["errors"][0]["field"], "file_sha256");
    let notes = json!({"items": [{"action_id": uuid::Uuid::now_v7(), "observation": "x"}]});
    let res = post_with(
        &app,
        &format!("/api/v1/reporting-periods/{sid}/observations"),
        &planner,
        &etag_of(&closed),
        Some(&notes),
    )
    .await;
    assert_eq!(assert_problem(res, 422, "validation_failed").await["errors"][0]["code"], "unknown_action");
    let xlsx = export(&app, &viewer, &sid, "").await;
    assert_eq!(sha(&xlsx), sha(&export(&app, &viewer, &sid, "").await));
    // Lists, filters and another organization.
    let list = json_of(app.get("/api/v1/reporting-periods?status=closed", &viewer).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), vec![sid.clone()]);
    let (_, stranger) = app.other_organization().await;
    assert_problem(app.get(&format!("/api/v1/reporting-periods/{sid}"), &stranger.token).await, 404, "not_found").await;
    let theirs = json_of(app.get("/api/v1/reporting-periods", &stranger.token).await, 200).await;
    assert_eq!(theirs["items"], json!([]));
    let enums = json_of(app.get("/api/v1/enums", &viewer).await, 200).await;
    assert_eq!(enums["enums"]["PeriodKind"][0]["es"], "Informe semestral SIRECI");
    assert_eq!(enums["enums"]["PeriodStatus"][2]["es"], "Radicado");
}
