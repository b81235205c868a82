//! What a newcomer, a frontend developer and a script writer meet in their first hour: field
//! errors that name the field (in their language), CORS refusals that say what to configure,
//! state-change messages that read as sentences, conditional requests that say what to send,
//! patches that change nothing, and the documentation a bare URL leads to.
use crate::helpers::*;
use crate::plans::{add_category, create_plan, plan_body};
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn finding(code: &str) -> Value {
    json!({"source": "internal_audit", "report_code": "OCI-2025-01", "finding_code": code, "title": "Hallazgo"})
}

async fn post_lang(app: &TestApp, path: &str, token: &str, lang: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, path, Some(token)).header("Accept-Language", lang).json(body).send().await.unwrap()
}

fn only_error(problem: &Value) -> &Value {
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    &errors[0]
}

#[tokio::test]
async fn a_well_formed_body_with_wrong_values_names_the_field_in_the_readers_language() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let path = "/api/v1/findings";

    let mut missing = finding("H-1");
    missing.as_object_mut().unwrap().remove("finding_code");
    let problem = assert_problem(post_lang(&app, path, &auditor, "en", &missing).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!(
        (e["field"].as_str(), e["code"].as_str(), e["message"].as_str()),
        (Some("finding_code"), Some("required"), Some("is required"))
    );
    let problem = assert_problem(post_lang(&app, path, &auditor, "es", &missing).await, 422, "validation_failed").await;
    assert_eq!(only_error(&problem)["message"], "es obligatorio");
    assert_eq!(problem["title"], "La solicitud tiene campos inválidos");

    let mut bad_enum = finding("H-2");
    bad_enum["severity"] = json!("alta");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "en", &bad_enum).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("severity"), Some("invalid_enum")));
    assert_eq!(e["message"], "`alta` is not allowed; use one of: critical, high, medium, low, info");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "es", &bad_enum).await, 422, "validation_failed").await;
    assert_eq!(
        only_error(&problem)["message"],
        "`alta` no está permitido; use uno de: critical, high, medium, low, info"
    );

    let mut bad_date = finding("H-3");
    bad_date["report_date"] = json!("2025-31-12");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "es", &bad_date).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("report_date"), Some("invalid_date")));
    assert_eq!(e["message"], "debe ser una fecha AAAA-MM-DD");

    let mut wrong_type = finding("H-4");
    wrong_type["fiscal_year"] = json!("dos mil");
    let problem =
        assert_problem(post_lang(&app, path, &auditor, "en", &wrong_type).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("fiscal_year"), Some("invalid_type")));

    let mut unknown = finding("H-5");
    unknown["responsable"] = json!("Ana");
    let problem = assert_problem(post_lang(&app, path, &auditor, "en", &unknown).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("responsable"), Some("unknown_field")));

    // Rules checked after parsing speak Spanish too.
    let blank = json!({"source": "internal_audit", "report_code": "OCI", "finding_code": "H-6", "title": " "});
    let problem = assert_problem(post_lang(&app, path, &auditor, "es", &blank).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["message"].as_str()), (Some("title"), Some("no puede estar vacío")));

    // Only broken syntax stays a 400.
    let res = app
        .request(Method::POST, path, Some(&auditor))
        .header("Content-Type", "application/json")
        .body(r#"{"source": "internal_audit","#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn nested_field_errors_carry_their_json_path() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &planner, &plan_body("TI.PL03")).await;
    let path = format!("/api/v1/plans/{}/categories", plan["id"].as_str().unwrap());
    let body = json!({"name": "Transparencia", "source": "furag",
                      "control_refs": [{"framework": "iso27001_2022", "code": "5.15"}, {"framework": "nist", "code": "1"}]});
    let problem = assert_problem(app.post(&path, &planner, &body).await, 422, "validation_failed").await;
    let e = only_error(&problem);
    assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some("control_refs[1].framework"), Some("invalid_enum")));
    let ok = json!({"name": "Transparencia", "source": "furag"});
    add_category(&app, &planner, &plan, &ok).await;
}

#[tokio::test]
async fn a_bare_address_and_docs_without_slash_lead_to_the_documentation() {
    let app = spawn_app().await;
    for path in ["/", "/docs"] {
        let res = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 302, "{path}");
        assert_eq!(res.headers()["location"], "/docs/");
    }
    let res = app.request(Method::GET, "/docs/", None).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

/// A plan in each state a plan can be reached in through the API, as (state, plan).
async fn plans_in_every_state(app: &TestApp, token: &str) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let steps: [(&str, &[&str]); 6] = [
        ("draft", &[]),
        ("submitted", &["submit"]),
        ("approved", &["submit", "approve"]),
        ("in_progress", &["submit", "approve", "start"]),
        ("closed", &["submit", "approve", "start", "close"]),
        ("cancelled", &["cancel"]),
    ];
    for (i, (state, ops)) in steps.iter().enumerate() {
        let mut plan = create_plan(app, token, &plan_body(&format!("P-{i}"))).await;
        add_category(app, token, &plan, &json!({"name": "Transparencia", "source": "furag"})).await;
        plan = json_of(app.get(&format!("/api/v1/plans/{}", plan["id"].as_str().unwrap()), token).await, 200).await;
        for op in *ops {
            plan = json_of(transition_in(app, token, &plan, op, "en").await, 200).await;
        }
        assert_eq!(plan["status"], *state);
        out.push((*state, plan));
    }
    out
}

async fn transition_in(app: &TestApp, token: &str, plan: &Value, op: &str, lang: &str) -> reqwest::Response {
    let body = match op {
        "approve" => json!({"approved_by": "Comité", "approval_reference": "Acta No. 05 de 2024"}),
        "cancel" => json!({"reason": "Se reemplaza"}),
        _ => json!({}),
    };
    let mut req = app
        .request(Method::POST, &format!("/api/v1/plans/{}/{op}", plan["id"].as_str().unwrap()), Some(token))
        .header("If-Match", crate::plans::etag_of(plan))
        .header("Accept-Language", lang);
    if matches!(op, "approve" | "cancel") {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn every_refused_plan_transition_reads_as_a_sentence_in_both_languages() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plans = plans_in_every_state(&app, &token).await;
    let participles = [
        ("submit", "submitted for approval", "enviar a aprobación"),
        ("approve", "approved", "aprobar"),
        ("start", "started", "iniciar"),
        ("close", "closed", "cerrar"),
        ("cancel", "cancelled", "anular"),
    ];
    let allowed = [
        ("submit", "draft"),
        ("approve", "submitted"),
        ("start", "approved"),
        ("close", "in_progress"),
        ("cancel", "draft"),
        ("cancel", "submitted"),
        ("cancel", "approved"),
        ("cancel", "in_progress"),
    ];
    let mut refused = 0;
    for (state, plan) in &plans {
        for (op, participle, infinitive) in participles {
            if allowed.contains(&(op, state)) {
                continue;
            }
            refused += 1;
            let en = assert_problem(transition_in(&app, &token, plan, op, "en").await, 409, "invalid_transition").await;
            let en = en["detail"].as_str().unwrap().to_string();
            assert!(en.starts_with("This plan is "), "{en}");
            assert!(en.contains(&format!(", so it cannot be {participle}; only ")), "{en}");
            assert!(en.ends_with(" plans can be."), "{en}");
            assert!(!en.contains('_'), "{en}");
            let es = assert_problem(transition_in(&app, &token, plan, op, "es").await, 409, "invalid_transition").await;
            let es = es["detail"].as_str().unwrap().to_string();
            assert!(es.starts_with("Este plan está "), "{es}");
            assert!(es.contains(&format!(", así que no se puede {infinitive}; solo se ")), "{es}");
            assert!(es.ends_with('.') && !es.contains('_'), "{es}");
        }
    }
    assert_eq!(refused, 22);
    let draft = &plans[0].1;
    let en = assert_problem(transition_in(&app, &token, draft, "approve", "en").await, 409, "invalid_transition").await;
    assert_eq!(en["detail"], "This plan is a draft, so it cannot be approved; only submitted plans can be.");
    let es = assert_problem(transition_in(&app, &token, draft, "approve", "es").await, 409, "invalid_transition").await;
    assert_eq!(
        es["detail"],
        "Este plan está en borrador, así que no se puede aprobar; solo se aprueban los planes enviados."
    );
    let closed = &plans[4].1;
    let en = assert_problem(transition_in(&app, &token, closed, "cancel", "en").await, 409, "invalid_transition").await;
    assert_eq!(
        en["detail"],
        "This plan is closed, so it cannot be cancelled; only draft, submitted, approved or in-progress plans can be."
    );
}

#[tokio::test]
async fn refused_finding_and_action_state_changes_read_as_sentences_in_both_languages() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let id = app.new_finding("H-1").await;
    let path = format!("/api/v1/findings/{id}/transitions");
    for to in ["open", "closed_compliant", "closed_effective", "reopened"] {
        for (lang, start) in [
            ("en", "This finding is open, so it cannot go to "),
            ("es", "Este hallazgo está «abierto», así que no puede pasar a «"),
        ] {
            let res = app
                .request(Method::POST, &path, Some(&auditor))
                .header("If-Match", "\"v1\"")
                .header("Accept-Language", lang)
                .json(&json!({"to": to}))
                .send()
                .await
                .unwrap();
            let problem = assert_problem(res, 409, "invalid_transition").await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.starts_with(start) && detail.ends_with('.') && !detail.contains('_'), "{detail}");
        }
    }

    let run = crate::actions::running_plan(
        &app,
        "TI.PL03",
        &[crate::actions::action_body("Informe", "2025-01-01", "2025-06-30", None)],
    )
    .await;
    let action = &run.actions[0];
    let cancelled = json_of(
        app.patch(
            &crate::actions::action_path(action),
            &run.planner,
            &crate::plans::etag_of(action),
            &json!({"status": "cancelled"}),
        )
        .await,
        200,
    )
    .await;
    for to in ["planned", "in_progress", "done"] {
        for (lang, start) in [
            ("en", "This action is cancelled, so it cannot become "),
            ("es", "Esta acción está «cancelada», así que no puede pasar a «"),
        ] {
            let res = app
                .request(Method::PATCH, &crate::actions::action_path(action), Some(&run.planner))
                .header("If-Match", crate::plans::etag_of(&cancelled))
                .header("Accept-Language", lang)
                .json(&json!({"status": to}))
                .send()
                .await
                .unwrap();
            let problem = assert_problem(res, 409, "invalid_transition").await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.starts_with(start) && detail.ends_with('.') && !detail.contains('_'), "{detail}");
        }
    }
}

#[tokio::test]
async fn a_missing_if_match_says_what_to_send_and_a_stale_one_carries_the_current_etag_and_why() {
    let app = spawn_app().await;
    let (run, path) = crate::evidence::one_action(&app, "ETAG").await;
    let evidence = json_of(app.post(&path, &run.responsible.token, &crate::evidence::report()).await, 201).await;
    let review_path = format!("/api/v1/evidence/{}/review", evidence["id"].as_str().unwrap());

    let res = app
        .request(Method::POST, &review_path, Some(&run.auditor.token))
        .json(&json!({"status": "accepted"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 428, "precondition_required").await;
    assert!(problem["detail"].as_str().unwrap().contains("If-Match"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("ETag"), "{problem}");

    // Attaching a file moves the evidence to a new version.
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
        .file_name("acta.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let files = format!("/api/v1/evidence/{}/files", evidence["id"].as_str().unwrap());
    let res = app
        .request(Method::POST, &files, Some(&run.responsible.token))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    for (lang, says) in
        [("en", "Attaching or removing a file also changes"), ("es", "Adjuntar o quitar un archivo también cambia")]
    {
        let res = app
            .request(Method::POST, &review_path, Some(&run.auditor.token))
            .header("If-Match", crate::plans::etag_of(&evidence))
            .header("Accept-Language", lang)
            .json(&json!({"status": "accepted"}))
            .send()
            .await
            .unwrap();
        let current = res.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
        let problem = assert_problem(res, 412, "precondition_failed").await;
        let detail = problem["detail"].as_str().unwrap();
        assert_eq!(current.as_deref(), Some("\"v2\""), "{problem}");
        assert!(detail.contains("\"v1\"") && detail.contains("\"v2\"") && detail.contains(says), "{detail}");
    }
    let fresh = json_of(
        app.get(&format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap()), &run.auditor.token).await,
        200,
    )
    .await;
    json_of(crate::evidence::review(&app, &run.auditor.token, &fresh, &json!({"status": "accepted"})).await, 200).await;
}

#[tokio::test]
async fn every_operation_that_answers_428_lists_if_match_as_required() {
    let spec: Value = serde_json::from_str(&mejora::openapi::to_pretty_json(&mejora::openapi::document())).unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["responses"].get("428").is_none() {
                continue;
            }
            checked += 1;
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let if_match = params.iter().find(|p| p["name"] == "If-Match" && p["in"] == "header");
            assert!(
                if_match.is_some_and(|p| p["required"] == true),
                "{method} {path} answers 428 but If-Match is not required"
            );
        }
    }
    for (method, path) in [
        ("post", "/api/v1/evidence/{id}/review"),
        ("post", "/api/v1/actions/{id}/evaluation"),
        ("put", "/api/v1/findings/{id}/plan"),
        ("post", "/api/v1/plans/{id}/start"),
    ] {
        assert!(spec["paths"][path][method]["responses"].get("428").is_some(), "{method} {path}");
    }
    assert!(checked >= 20, "{checked}");
}

async fn preflight(app: &TestApp, origin: &str, method: &str, lang: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, "/api/v1/me", None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", "authorization")
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refused_preflight_is_a_problem_naming_the_setting_and_local_dev_servers_are_allowed() {
    let app = spawn_app().await;
    let problem =
        assert_problem(preflight(&app, "https://evil.example.com", "GET", "en").await, 403, "cors_refused").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("MEJORA_CORS_ORIGINS") && detail.contains("https://evil.example.com"), "{detail}");
    let problem =
        assert_problem(preflight(&app, "https://evil.example.com", "GET", "es").await, 403, "cors_refused").await;
    assert!(problem["detail"].as_str().unwrap().starts_with("El origen https://evil.example.com no está permitido"));
    let problem =
        assert_problem(preflight(&app, "https://app.example.gov.co", "TRACE", "en").await, 403, "cors_refused").await;
    assert!(problem["detail"].as_str().unwrap().contains("Access-Control-Request-Method"), "{problem}");

    // Development (the default environment): a frontend's dev server needs no configuration.
    for origin in ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"] {
        let res = preflight(&app, origin, "PATCH", "en").await;
        assert_eq!(res.status(), 200, "{origin}");
        assert_eq!(res.headers()["access-control-allow-origin"], origin);
    }
    for origin in ["http://localhost.evil.com", "https://localhost:5173", "http://localhost:abc"] {
        assert_problem(preflight(&app, origin, "GET", "en").await, 403, "cors_refused").await;
    }
}

#[tokio::test]
async fn production_does_not_allow_local_dev_servers_unless_configured() {
    let app = spawn_app_with(&[
        ("MEJORA_ENV", "production"),
        ("MEJORA_JWT_SECRET", "f3a9c1e07b5d2468ace13579bdf02468aa77f3a9"),
    ])
    .await;
    assert_problem(preflight(&app, "http://localhost:5173", "GET", "en").await, 403, "cors_refused").await;
    assert_eq!(preflight(&app, "https://app.example.gov.co", "GET", "en").await.status(), 200);
}

#[tokio::test]
async fn a_patch_that_changes_nothing_is_not_a_new_version_and_null_cannot_clear_a_required_field() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("TI.PL03")).await;
    let id = plan["id"].as_str().unwrap();
    let path = format!("/api/v1/plans/{id}");
    let etag = crate::plans::etag_of(&plan);
    for body in [json!({}), json!({"title": plan["title"].clone()}), json!({"policy_scope": "mspi"})] {
        let res = app.patch(&path, &token, &etag, &body).await;
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag, "{body}");
        let same = json_of(res, 200).await;
        assert_eq!(same["row_version"], plan["row_version"], "{body}");
    }
    assert_eq!(crate::plans::audit_operations(&app, "plan", id).await, ["create"]);

    for field in ["title", "policy_scope", "objective_ids"] {
        let res = app.patch(&path, &token, &etag, &json!({ field: null })).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert_eq!(problem["errors"][0]["code"], "required", "{problem}");
    }
    // Optional fields are still cleared with null, and that is a change.
    let changed =
        json_of(app.patch(&path, &token, &etag, &json!({"description": null, "title": "Otro título"})).await, 200)
            .await;
    assert_eq!(changed["row_version"], plan["row_version"].as_i64().unwrap() + 1);
    assert_eq!(crate::plans::audit_operations(&app, "plan", id).await, ["create", "update"]);

    // The same for a finding, whose update returns the stored row.
    let auditor = app.token_for(Role::Auditor).await;
    let finding = app.new_finding("H-1").await;
    let res = app.patch(&format!("/api/v1/findings/{finding}"), &auditor, "\"v1\"", &json!({})).await;
    assert_eq!(json_of(res, 200).await["version"], 1);
    let res = app.patch(&format!("/api/v1/findings/{finding}"), &auditor, "\"v1\"", &json!({"title": null})).await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn accepted_evidence_moves_its_action_and_completes_it_at_the_target() {
    use crate::actions::{action_body, action_path, day, running_plan};
    let app = spawn_app().await;
    let mut body = action_body("Capacitar funcionarios", &day(-30), &day(30), None);
    body["target_quantity"] = json!(2);
    let run = running_plan(&app, "AUTO", &[body]).await;
    let action = &run.actions[0];
    let evidence_path = format!("{}/evidence", action_path(action));
    let mut report = crate::evidence::report();
    report["evidence_date"] = json!(day(-3));
    for (round, expected) in [(1, "in_progress"), (2, "done")] {
        let evidence = json_of(app.post(&evidence_path, &run.responsible.token, &report).await, 201).await;
        json_of(
            crate::evidence::review(&app, &run.auditor.token, &evidence, &json!({"status": "accepted"})).await,
            200,
        )
        .await;
        let now = json_of(app.get(&action_path(action), &run.planner).await, 200).await;
        assert_eq!(now["status"], expected, "after {round} accepted: {now}");
        if expected == "done" {
            assert_eq!(now["completed_on"], day(-3));
            assert_eq!(now["progress_pct"], 100.0);
        }
    }
}

#[tokio::test]
async fn an_action_finished_after_its_due_date_is_rated_met_late_not_met() {
    use crate::actions::{action_body, action_path, day, finish, post_if_match, running_plan};
    let app = spawn_app().await;
    let run = running_plan(&app, "LATE", &[action_body("Política", &day(-60), &day(-30), None)]).await;
    let done = finish(&app, &run, &run.actions[0], &day(-5)).await;
    let path = format!("{}/evaluation", action_path(&done));
    let etag = crate::plans::etag_of(&done);
    let met = json!({"compliance": "met", "effectiveness": "effective"});
    let problem =
        assert_problem(post_if_match(&app, &path, &run.auditor.token, &etag, &met).await, 422, "validation_failed")
            .await;
    assert_eq!(problem["errors"][0]["field"], "compliance");
    assert_eq!(problem["errors"][0]["code"], "late");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("met_late"), "{problem}");
    let late = json!({"compliance": "met_late", "effectiveness": "effective"});
    let rated = json_of(post_if_match(&app, &path, &run.auditor.token, &etag, &late).await, 200).await;
    assert_eq!(rated["compliance"], "met_late");
}

#[tokio::test]
async fn action_dates_outside_the_plans_window_are_refused() {
    use crate::actions::action_body;
    let app = spawn_app().await;
    let token = app.token_for(Role::Planner).await;
    let plan = create_plan(&app, &token, &plan_body("WIN")).await;
    let path = format!("/api/v1/plans/{}/actions", plan["id"].as_str().unwrap());
    let body = action_body("Antes del plan", "2024-01-01", "2029-06-30", None);
    let problem = assert_problem(app.post(&path, &token, &body).await, 422, "validation_failed").await;
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("start_date", "outside_plan_window"), ("due_date", "outside_plan_window")]);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("2024-08-01 to 2027-12-31"), "{problem}");
    let inside =
        json_of(app.post(&path, &token, &action_body("Dentro", "2024-09-01", "2025-06-30", None)).await, 201).await;
    let res = app
        .patch(
            &crate::actions::action_path(&inside),
            &token,
            &crate::plans::etag_of(&inside),
            &json!({"due_date": "2028-01-31"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_403_names_the_roles_the_operation_needs() {
    let app = spawn_app().await;
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&app.admin_token))
        .header("Content-Type", "text/csv")
        .body("fuente,código informe,código hallazgo,título\ninternal_audit,OCI,H-1,Uno\n")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 403, "forbidden").await;
    assert_eq!(problem["detail"], "This operation needs one of the roles: auditor");
    let res = app
        .request(Method::GET, "/api/v1/users", Some(&app.token_for(Role::Viewer).await))
        .header("Accept-Language", "es")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 403, "forbidden").await;
    assert!(problem["detail"].as_str().unwrap().starts_with("Esta operación requiere uno de los roles: "), "{problem}");
}

#[tokio::test]
async fn every_operation_with_a_json_body_documents_its_422() {
    let spec: Value = serde_json::from_str(&mejora::openapi::to_pretty_json(&mejora::openapi::document())).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let json_body =
                op["requestBody"]["content"].as_object().is_some_and(|c| c.keys().any(|k| k.contains("json")));
            if json_body {
                assert!(op["responses"].get("422").is_some(), "{method} {path} takes JSON but does not document 422");
            }
        }
    }
}
