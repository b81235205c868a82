//! Findings: recording, editing with If-Match, the status lifecycle, plan links, filters,
//! pagination and tenancy.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn finding(code: &str) -> Value {
    json!({
        "source": "internal_audit",
        "auditor": "Oficina de Control Interno",
        "report_code": "OCI-2025-07",
        "report_date": "2025-03-31",
        "fiscal_year": 2024,
        "finding_code": code,
        "title": "Revisión de derechos de acceso no evidenciada",
        "condition": "No se evidencian revisiones trimestrales de privilegios.",
        "criterion": "ISO/IEC 27001:2022 A.5.18",
        "classification": "minor_nonconformity",
        "severity": "high",
        "requirements": ["A.5.15", "A.5.18", "A.5.15"]
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    json_of(app.post("/api/v1/findings", token, body).await, 201).await
}

fn path_of(f: &Value) -> String {
    format!("/api/v1/findings/{}", f["id"].as_str().unwrap())
}

async fn transition(app: &TestApp, token: &str, f: &Value, to: &str) -> reqwest::Response {
    let etag = format!("\"v{}\"", f["version"]);
    app.request(Method::POST, &format!("{}/transitions", path_of(f)), Some(token))
        .header("If-Match", etag)
        .json(&json!({"to": to, "note": "revisado en comité"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn auditors_record_findings_and_everyone_reads_them() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let res = app.post("/api/v1/findings", &auditor, &finding("H-01")).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["etag"], "\"v1\"");
    let created = json_of(res, 201).await;
    assert_eq!(location, path_of(&created));
    assert_eq!(created["status"], "open");
    assert_eq!(created["requirements"], json!(["A.5.15", "A.5.18"]));
    assert_eq!(created["plan_id"], Value::Null);
    assert_eq!(created["import_id"], Value::Null);
    let viewer = app.token_for(Role::Viewer).await;
    let res = app.get(&location, &viewer).await;
    assert_eq!(res.headers()["etag"], "\"v1\"");
    assert_eq!(json_of(res, 200).await, created);
    // The natural key is unique.
    let dup =
        assert_problem(app.post("/api/v1/findings", &auditor, &finding("H-01")).await, 409, "already_exists").await;
    assert_eq!(dup["errors"][0]["field"], "finding_code");
    // Another source with the same codes is another finding.
    let mut other = finding("H-01");
    other["source"] = json!("comptroller");
    create(&app, &auditor, &other).await;
}

#[tokio::test]
async fn invalid_findings_name_each_bad_field() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let body = json!({"source": "internal_audit", "report_code": " ", "finding_code": "x".repeat(101), "title": "",
                      "fiscal_year": 1800, "requirements": ["a".repeat(101)]});
    let problem = assert_problem(app.post("/api/v1/findings", &auditor, &body).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["report_code", "finding_code", "title", "fiscal_year", "requirements"] {
        assert!(fields.contains(&f), "{f} missing in {problem}");
    }
    let mut bad = finding("H-02");
    bad["severity"] = json!("altísima");
    assert_problem(app.post("/api/v1/findings", &auditor, &bad).await, 422, "validation_failed").await;
    let mut unknown = finding("H-03");
    unknown["plan_id"] = json!(uuid::Uuid::now_v7());
    assert_problem(app.post("/api/v1/findings", &auditor, &unknown).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn changes_need_the_current_etag_and_recurrence_stays_in_the_organization() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let first = create(&app, &auditor, &finding("H-01")).await;
    let second = create(&app, &auditor, &finding("H-02")).await;
    let path = path_of(&second);
    let res = app
        .request(Method::PATCH, &path, Some(&auditor))
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"title": "Nuevo"}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 428, "precondition_required").await;
    let patch = json!({"title": "Accesos sin revisar", "severity": null, "repeats_finding_id": first["id"], "fiscal_year": 2023});
    let res = app.patch(&path, &auditor, "\"v1\"", &patch).await;
    assert_eq!(res.headers()["etag"], "\"v2\"");
    let updated = json_of(res, 200).await;
    assert_eq!(updated["title"], "Accesos sin revisar");
    assert_eq!(updated["severity"], Value::Null);
    assert_eq!(updated["repeats_finding_id"], first["id"]);
    assert_eq!(updated["fiscal_year"], 2023);
    assert_eq!(updated["classification"], "minor_nonconformity");
    assert_problem(app.patch(&path, &auditor, "\"v1\"", &json!({"title": "x"})).await, 412, "precondition_failed")
        .await;
    let problem = assert_problem(
        app.patch(&path, &auditor, "\"v2\"", &json!({"repeats_finding_id": second["id"]})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "self_reference");
    // A finding of another organization cannot be the one repeated.
    let (other_org, _) = app.other_organization().await;
    let stranger = app.user_in(other_org, &[Role::Auditor]).await;
    let theirs = create(&app, &stranger.token, &finding("H-09")).await;
    let problem = assert_problem(
        app.patch(&path, &auditor, "\"v2\"", &json!({"repeats_finding_id": theirs["id"]})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "repeats_finding_id");
    // Moving onto another finding's natural key is a conflict.
    let res = app.patch(&path, &auditor, "\"v2\"", &json!({"finding_code": "H-01"})).await;
    assert_problem(res, 409, "already_exists").await;
    // The status is not a patchable field.
    assert_problem(
        app.patch(&path, &auditor, "\"v2\"", &json!({"status": "dismissed"})).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_status_follows_the_lifecycle_and_each_change_is_audited() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let mut f = create(&app, &auditor, &finding("H-01")).await;
    let body =
        assert_problem(transition(&app, &auditor, &f, "closed_compliant").await, 409, "invalid_transition").await;
    assert!(body["detail"].as_str().unwrap().contains("open"), "{body}");
    for to in ["in_treatment", "dismissed", "reopened", "in_treatment", "dismissed", "reopened"] {
        let res = transition(&app, &auditor, &f, to).await;
        f = json_of(res, 200).await;
        assert_eq!(f["status"], to);
    }
    assert_eq!(f["version"], 7);
    let stale = app
        .request(Method::POST, &format!("{}/transitions", path_of(&f)), Some(&auditor))
        .header("If-Match", "\"v1\"")
        .json(&json!({"to": "in_treatment"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition_failed").await;
    let planner = app.token_for(Role::Planner).await;
    assert_problem(transition(&app, &planner, &f, "in_treatment").await, 403, "forbidden").await;
    let events = json_of(
        app.get(
            &format!("/api/v1/audit-events?resource_type=finding&resource_id={}", f["id"].as_str().unwrap()),
            &auditor,
        )
        .await,
        200,
    )
    .await;
    let ops: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert_eq!(ops.iter().filter(|o| **o == "transition").count(), 6);
    assert_eq!(ops.last(), Some(&"create"));
    let last = &events["items"][0];
    assert_eq!(last["after"]["status"], "reopened");
    assert_eq!(last["after"]["note"], "revisado en comité");
    assert_eq!(last["before"]["status"], "dismissed");
}

#[tokio::test]
async fn planners_link_findings_to_plans() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let planner = app.token_for(Role::Planner).await;
    let f = create(&app, &auditor, &finding("H-01")).await;
    let plan_body = crate::plans::plan_body("TI.PL01");
    let plan = crate::plans::create_plan(&app, &planner, &plan_body).await["id"].as_str().unwrap().to_string();
    let link = |token: &str, etag: &str, body: Value| {
        app.request(Method::PUT, &format!("{}/plan", path_of(&f)), Some(token))
            .header("If-Match", etag)
            .json(&body)
            .send()
    };
    let linked = json_of(link(&planner, "\"v1\"", json!({"plan_id": plan})).await.unwrap(), 200).await;
    assert_eq!(linked["plan_id"], plan.to_string());
    let listed = json_of(app.get(&format!("/api/v1/findings?plan_id={plan}"), &planner).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_problem(link(&planner, "\"v1\"", json!({"plan_id": null})).await.unwrap(), 412, "precondition_failed").await;
    let unlinked = json_of(link(&planner, "\"v2\"", json!({"plan_id": null})).await.unwrap(), 200).await;
    assert_eq!(unlinked["plan_id"], Value::Null);
    let unknown = json!({"plan_id": uuid::Uuid::now_v7()});
    let problem = assert_problem(link(&planner, "\"v3\"", unknown).await.unwrap(), 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "plan_id");
    let viewer = app.token_for(Role::Viewer).await;
    assert_problem(link(&viewer, "\"v3\"", json!({"plan_id": plan})).await.unwrap(), 403, "forbidden").await;
}

#[tokio::test]
async fn lists_filter_search_sort_and_page_without_gaps() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let specs = [
        ("H-01", "internal_audit", "high", "observation", 2024, Some("2025-03-01"), "Auditoría de accesos"),
        ("H-02", "comptroller", "low", "minor_nonconformity", 2023, None, "Copias de respaldo"),
        ("H-03", "internal_audit", "low", "observation", 2024, Some("2025-01-15"), "Gestión de contraseñas"),
        ("H-04", "pentest", "critical", "major_nonconformity", 2024, Some("2025-03-01"), "Inyección SQL"),
        ("H-05", "internal_audit", "medium", "observation", 2022, None, "Capacitación en seguridad"),
    ];
    let mut ids = Vec::new();
    for (code, source, severity, class, year, date, title) in specs {
        let mut body = finding(code);
        body["source"] = json!(source);
        body["severity"] = json!(severity);
        body["classification"] = json!(class);
        body["fiscal_year"] = json!(year);
        body["report_date"] = json!(date);
        body["title"] = json!(title);
        body["report_code"] = json!(if code == "H-02" { "CGR-2024" } else { "OCI-2025-07" });
        ids.push(create(&app, &auditor, &body).await["id"].as_str().unwrap().to_string());
    }
    let codes = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|f| f["finding_code"].as_str().unwrap().to_string()).collect()
    };
    let list = |query: &str| {
        let url = format!("/api/v1/findings{query}");
        let token = auditor.clone();
        let app = &app;
        async move { json_of(app.get(&url, &token).await, 200).await }
    };
    assert_eq!(codes(&list("?source=internal_audit").await), ["H-01", "H-03", "H-05"]);
    assert_eq!(codes(&list("?severity=low").await), ["H-02", "H-03"]);
    assert_eq!(codes(&list("?classification=observation&fiscal_year=2024").await), ["H-01", "H-03"]);
    assert_eq!(codes(&list("?report_code=CGR-2024").await), ["H-02"]);
    assert_eq!(codes(&list("?status=open&source=pentest").await), ["H-04"]);
    assert_eq!(codes(&list("?q=AUDITORIA").await), ["H-01"]);
    assert_eq!(codes(&list("?q=contrase%C3%B1as").await), ["H-03"]);
    assert_eq!(codes(&list("?q=h-05").await), ["H-05"]);
    assert_eq!(codes(&list("?sort=-created_at").await), ["H-05", "H-04", "H-03", "H-02", "H-01"]);
    // Report date order, nulls last, walked two at a time.
    for (sort, expected) in [
        ("report_date", ["H-03", "H-01", "H-04", "H-02", "H-05"]),
        ("-report_date", ["H-04", "H-01", "H-03", "H-05", "H-02"]),
        ("created_at", ["H-01", "H-02", "H-03", "H-04", "H-05"]),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("?sort={sort}&limit=2&cursor={c}"),
                None => format!("?sort={sort}&limit=2"),
            };
            let page = list(&query).await;
            seen.extend(codes(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "sort {sort}");
    }
    // A cursor belongs to its sort.
    let page = list("?sort=report_date&limit=2").await;
    let res =
        app.get(&format!("/api/v1/findings?limit=2&cursor={}", page["next_cursor"].as_str().unwrap()), &auditor).await;
    assert_problem(res, 400, "invalid_cursor").await;
    assert_problem(app.get("/api/v1/findings?sort=severity", &auditor).await, 400, "invalid_query").await;
    assert_problem(app.get("/api/v1/findings?status=closed", &auditor).await, 400, "invalid_query").await;
    assert_problem(app.get("/api/v1/findings?q=%00", &auditor).await, 400, "invalid_query").await;
}

#[tokio::test]
async fn other_organizations_findings_are_invisible() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let ours = create(&app, &auditor, &finding("H-01")).await;
    let (other_org, _) = app.other_organization().await;
    let stranger = app.user_in(other_org, &[Role::Auditor]).await;
    let path = path_of(&ours);
    assert_problem(app.get(&path, &stranger.token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &stranger.token, "\"v1\"", &json!({"title": "x"})).await, 404, "not_found").await;
    assert_problem(transition(&app, &stranger.token, &ours, "in_treatment").await, 404, "not_found").await;
    let list = json_of(app.get("/api/v1/findings", &stranger.token).await, 200).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // The same natural key is free in another organization.
    create(&app, &stranger.token, &finding("H-01")).await;
}

#[tokio::test]
async fn a_finding_closes_only_through_finished_and_effective_actions() {
    use crate::actions::{action_body, action_path, day, finish, post_if_match, running_plan};
    use crate::plans::etag_of;
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let f = create(&app, &auditor, &finding("H-09")).await;
    let f = json_of(transition(&app, &auditor, &f, "in_treatment").await, 200).await;
    let problem =
        assert_problem(transition(&app, &auditor, &f, "closed_compliant").await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("link at least one action"), "{problem}");
    let mut spec = action_body("Revisar derechos de acceso", &day(-10), &day(10), None);
    spec["finding_ids"] = json!([f["id"]]);
    let run = running_plan(&app, "CIERRE", &[spec]).await;
    let problem =
        assert_problem(transition(&app, &auditor, &f, "closed_compliant").await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("Revisar derechos de acceso"), "{problem}");
    let done = finish(&app, &run, &run.actions[0], &day(0)).await;
    let f = json_of(transition(&app, &auditor, &f, "closed_compliant").await, 200).await;
    assert_eq!(f["status"], "closed_compliant");
    // Effective closing needs the action rated effective by an auditor.
    assert_problem(transition(&app, &auditor, &f, "closed_effective").await, 409, "invalid_transition").await;
    let rating = json!({"compliance": "met", "effectiveness": "effective"});
    let path = format!("{}/evaluation", action_path(&done));
    json_of(post_if_match(&app, &path, &run.auditor.token, &etag_of(&done), &rating).await, 200).await;
    let f = json_of(transition(&app, &auditor, &f, "closed_effective").await, 200).await;
    assert_eq!(f["status"], "closed_effective");
}
