//! Plan matrices: importing the seed TI.PL03 plan (CSV, JSON, XLSX), row errors, dry runs,
//! and exports (TI.PL03 round trip, XLSX cells, SIRECI F14.1 columns).
use crate::helpers::*;
use calamine::{Data, Reader, Xlsx};
use mejora::entities::enums::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const FIXTURE_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.csv"));
const FIXTURE_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.json"));
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const META: &str = "start_date=2024-08-01&end_date=2027-12-31&title=Plan%20de%20mejoramiento&approval_reference=Acta%20No.%2005%20de%202024&approved_by=Comit%C3%A9&approved_on=2024-05-21&prepared_by=Martha&prepared_by_role=Asesora%20Externa";

async fn upload(app: &TestApp, token: &str, query: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    app.request(Method::POST, &format!("/api/v1/plans/imports?{query}"), Some(token))
        .header("Content-Type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap()
}

fn fixture() -> Value {
    serde_json::from_str(FIXTURE_JSON).unwrap()
}

/// Categories of a plan as (name, score, alternatives), in order.
async fn categories(app: &TestApp, token: &str, plan: &str) -> Vec<(String, Value, Vec<String>, Value)> {
    let page = json_of(app.get(&format!("/api/v1/plans/{plan}/categories?limit=500"), token).await, 200).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["score"].clone(),
                c["improvement_alternatives"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
                c["effectiveness_criterion"].clone(),
            )
        })
        .collect()
}

/// Actions of a plan as (category position, title, description, start, due), in number order.
async fn actions(app: &TestApp, token: &str, plan: &str) -> Vec<(String, String, String, String)> {
    let page = json_of(app.get(&format!("/api/v1/plans/{plan}/actions?limit=500"), token).await, 200).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["title"].as_str().unwrap().to_string(),
                a["description"].as_str().unwrap_or("").to_string(),
                a["start_date"].as_str().unwrap().to_string(),
                a["due_date"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn plan_count(app: &TestApp, token: &str) -> usize {
    json_of(app.get("/api/v1/plans?limit=500", token).await, 200).await["items"].as_array().unwrap().len()
}

fn expected_alternatives() -> usize {
    fixture()["rows"].as_array().unwrap().iter().map(|r| r["improvement_alternatives"].as_array().unwrap().len()).sum()
}

#[tokio::test]
async fn the_seed_csv_imports_as_a_draft_plan_without_loss() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let res = upload(&app, &planner, &format!("code=TI.PL03&version=1&{META}"), "text/csv", FIXTURE_CSV).await;
    let body = json_of(res, 201).await;
    assert_eq!(body["categories"], 17);
    assert_eq!(body["alternatives"], expected_alternatives());
    assert!(body["actions"].as_u64().unwrap() > 0);
    let plan = body["plan_id"].as_str().unwrap();
    let got = json_of(app.get(&format!("/api/v1/plans/{plan}"), &planner).await, 200).await;
    assert_eq!(got["status"], "draft");
    assert_eq!(got["code"], "TI.PL03");
    assert_eq!(got["approval_reference"], "Acta No. 05 de 2024");

    let cats = categories(&app, &planner, plan).await;
    assert_eq!(cats.len(), 17);
    // Every category of the seed, in order, with its score and every alternative text.
    let mut expected: Vec<(String, Value, Vec<String>)> = Vec::new();
    for row in fixture()["rows"].as_array().unwrap() {
        let name = row["category"].as_str().unwrap_or("").trim().to_string();
        let alternatives: Vec<String> = row["improvement_alternatives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().trim().to_string())
            .collect();
        match expected.last_mut() {
            Some(last) if name.is_empty() || last.0 == name => last.2.extend(alternatives),
            _ => expected.push((name, row["score"].clone(), alternatives)),
        }
    }
    assert_eq!(expected.len(), 17);
    for ((name, score, alternatives, _), (e_name, e_score, e_alternatives)) in cats.iter().zip(&expected) {
        assert_eq!(name, e_name);
        assert_eq!(score.as_f64(), e_score.as_f64(), "{name}");
        assert_eq!(alternatives, e_alternatives, "{name}");
    }
    assert_eq!(cats[0].3, "Porcentaje de Cumplimiento de Gobierno Digital");
    let audit = json_of(
        app.get(&format!("/api/v1/audit-events?resource_type=plan&resource_id={plan}"), &app.admin_token).await,
        200,
    )
    .await;
    let operations: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert!(operations.contains(&"create") && operations.contains(&"import"), "{operations:?}");
    let acts = actions(&app, &planner, plan).await;
    assert_eq!(acts.len() as u64, body["actions"].as_u64().unwrap());
    assert_eq!((acts[0].2.as_str(), acts[0].3.as_str()), ("2024-08-01", "2027-12-31"));
}

#[tokio::test]
async fn the_seed_json_imports_like_the_csv() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let from_json = json_of(upload(&app, &planner, "", "application/json", FIXTURE_JSON).await, 201).await;
    assert_eq!(from_json["code"], "TI.PL03");
    assert_eq!(from_json["categories"], 17);
    let from_csv =
        json_of(upload(&app, &planner, &format!("code=CSV&{META}"), "text/csv", FIXTURE_CSV).await, 201).await;
    let (a, b) = (from_json["plan_id"].as_str().unwrap(), from_csv["plan_id"].as_str().unwrap());
    assert_eq!(categories(&app, &planner, a).await, categories(&app, &planner, b).await);
    assert_eq!(actions(&app, &planner, a).await, actions(&app, &planner, b).await);
    let plan = json_of(app.get(&format!("/api/v1/plans/{a}"), &planner).await, 200).await;
    assert_eq!(plan["start_date"], "2024-08-01");
    assert_eq!(plan["prepared_by"], "Martha Cecilia Saldaña S");
}

#[tokio::test]
async fn a_bad_score_rejects_the_file_with_its_row_and_writes_nothing() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let csv = "CATEGORÍAS,PUNTAJE,DISEÑO ALTERNATIVAS DE MEJORA,MEJORAS PARA IMPLEMENTAR (INCLUIR PLAZO DE LA IMPLEMENTACIÓN),EVALUACIÓN DE LA EFICACIA DE LAS ACCIONES IMPLEMENTADAS\n\
Transparencia,40,Publicar más,\"1) Portal\nFecha: (01/08/2024 al 31/12/2027)\",Cumplimiento\n\
Gestión documental,alto,Digitalizar,NO APLICA,NO APLICA\n\
Seguridad,140,Controles,NO APLICA,\n";
    let body = assert_problem(
        upload(&app, &planner, &format!("code=BAD&{META}"), "text/csv", csv).await,
        422,
        "import_rejected",
    )
    .await;
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{body}");
    assert_eq!((errors[0]["row"].as_u64(), errors[0]["field"].as_str()), (Some(2), Some("score")));
    assert_eq!(errors[1]["row"], 3);
    assert_eq!(plan_count(&app, &planner).await, 0);

    let mut doc = fixture();
    doc["rows"][1]["score"] = json!(-5);
    let body =
        assert_problem(upload(&app, &planner, "", "application/json", doc.to_string()).await, 422, "import_rejected")
            .await;
    assert_eq!(body["errors"][0]["row"], 2);
    assert_eq!(plan_count(&app, &planner).await, 0);
}

#[tokio::test]
async fn a_dry_run_reports_the_counts_and_writes_nothing() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let res = upload(&app, &planner, &format!("code=TI.PL03&dry_run=true&{META}"), "text/csv", FIXTURE_CSV).await;
    let body = json_of(res, 200).await;
    assert_eq!(body["dry_run"], true);
    assert_eq!(body["plan_id"], Value::Null);
    assert_eq!(body["categories"], 17);
    assert_eq!(plan_count(&app, &planner).await, 0);
    let audit = json_of(app.get("/api/v1/audit-events?resource_type=plan", &app.admin_token).await, 200).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 0, "{audit}");
}

#[tokio::test]
async fn imports_check_metadata_media_type_roles_and_idempotency() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let body =
        assert_problem(upload(&app, &planner, "", "text/csv", FIXTURE_CSV).await, 422, "validation_failed").await;
    assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == "code"));
    assert_problem(upload(&app, &planner, "code=X&title=Y", "text/plain", "x").await, 415, "unsupported_media_type")
        .await;
    let viewer = app.token_for(Role::Viewer).await;
    assert_problem(upload(&app, &viewer, "code=X&title=Y", "text/csv", FIXTURE_CSV).await, 403, "forbidden").await;

    let send = || {
        app.request(Method::POST, &format!("/api/v1/plans/imports?code=IDEM&{META}"), Some(&planner))
            .header("Content-Type", "text/csv")
            .header("Idempotency-Key", "matrix-1")
            .body(FIXTURE_CSV)
            .send()
    };
    let first = json_of(send().await.unwrap(), 201).await;
    let again = send().await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(json_of(again, 201).await["plan_id"], first["plan_id"]);
    assert_eq!(plan_count(&app, &planner).await, 1);
    // The same code and version again, without the key: the plan exists.
    let res = upload(&app, &planner, &format!("code=IDEM&{META}"), "text/csv", FIXTURE_CSV).await;
    assert_problem(res, 409, "already_exists").await;
}

async fn export(app: &TestApp, token: &str, plan: &str, query: &str) -> Response {
    app.get(&format!("/api/v1/plans/{plan}/export?{query}"), token).await
}

#[tokio::test]
async fn an_exported_ti_pl03_csv_imports_back_to_the_same_plan() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let first = json_of(upload(&app, &planner, "", "application/json", FIXTURE_JSON).await, 201).await;
    let plan = first["plan_id"].as_str().unwrap();
    let viewer = app.token_for(Role::Viewer).await;
    let res = export(&app, &viewer, plan, "format=csv&layout=ti-pl03").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"TI.PL03-v1-ti-pl03.csv\"");
    let bytes = res.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("NIT,"));
    assert!(text.contains("Acta de aprobación,Acta No. 05 de 2024"));
    assert!(text.contains("Elaboró,Martha Cecilia Saldaña S — Asesora Externa"));
    assert!(text.contains("Aprobó,Comité Institucional de Gestión y Desempeño — Acta No. 05 de 2024"));

    let second =
        json_of(upload(&app, &planner, &format!("code=TI.PL03-COPIA&{META}"), "text/csv", bytes).await, 201).await;
    assert_eq!(second["categories"], 17);
    assert_eq!(second["actions"], first["actions"]);
    let copy = second["plan_id"].as_str().unwrap();
    assert_eq!(categories(&app, &planner, plan).await, categories(&app, &planner, copy).await);
    assert_eq!(actions(&app, &planner, plan).await, actions(&app, &planner, copy).await);

    // The JSON export is the import shape too.
    let res = export(&app, &viewer, plan, "format=json").await;
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["plan"]["code"], "TI.PL03");
    let third =
        json_of(upload(&app, &planner, "code=JSON-COPIA", "application/json", doc.to_string()).await, 201).await;
    let third = third["plan_id"].as_str().unwrap();
    assert_eq!(categories(&app, &planner, plan).await, categories(&app, &planner, third).await);
}

#[tokio::test]
async fn an_xlsx_export_holds_the_header_block_and_cells_and_imports_back() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let first = json_of(upload(&app, &planner, "", "application/json", FIXTURE_JSON).await, 201).await;
    let plan = first["plan_id"].as_str().unwrap();
    let res = export(&app, &planner, plan, "format=xlsx&layout=ti-pl03").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], XLSX);
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"TI.PL03-v1-ti-pl03.xlsx\"");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let text = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(text(1, 0), Data::String("Entidad".into()));
    assert_eq!(text(3, 1), Data::String("TI.PL03".into()));
    let header = (0..range.height() as u32).find(|r| text(*r, 0) == Data::String("CATEGORÍAS".into())).unwrap();
    assert_eq!(text(header, 1), Data::String("PUNTAJE".into()));
    assert_eq!(text(header, 4), Data::String("EVALUACIÓN DE LA EFICACIA DE LAS ACCIONES IMPLEMENTADAS".into()));
    assert_eq!(text(header + 1, 0), Data::String("Indicadores de Proceso Logro: Transparencia".into()));
    assert_eq!(text(header + 1, 1), Data::Float(40.0));

    let second = json_of(upload(&app, &planner, &format!("code=XLSX&{META}"), XLSX, bytes).await, 201).await;
    let copy = second["plan_id"].as_str().unwrap();
    assert_eq!(categories(&app, &planner, plan).await, categories(&app, &planner, copy).await);
    assert_eq!(actions(&app, &planner, plan).await, actions(&app, &planner, copy).await);
}
