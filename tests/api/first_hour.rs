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
