//! SIRECI F14.1 export (issue 20.5): only actions answering comptroller findings, one row per
//! finding–action pair, never cancelled ones; the modality per row; dates AAAA/MM/DD; AVANCE
//! FÍSICO and OBSERVACIONES from the cut-off.
use crate::actions::{action_body, action_path, day, running_plan};
use crate::helpers::*;
use crate::plans::etag_of;
use calamine::{Data, Reader, Xlsx};
use mejora::entities::enums::Role;
use serde_json::{json, Value};

const COLUMNS: [&str; 16] = [
    "FILA",
    "MODALIDAD DE REGISTRO",
    "CÓDIGO HALLAZGO",
    "DESCRIPCIÓN HALLAZGO (No más de 50 palabras)",
    "CAUSA DEL HALLAZGO",
    "EFECTO DEL HALLAZGO",
    "ACCIÓN DE MEJORA",
    "OBJETIVO",
    "DESCRIPCIÓN DE LAS ACTIVIDADES",
    "UNIDAD DE MEDIDA DE LAS ACTIVIDADES",
    "CANTIDADES UNIDAD DE MEDIDA",
    "FECHA DE INICIO DE LAS ACTIVIDADES",
    "FECHA DE TERMINACIÓN DE LAS ACTIVIDADES",
    "PLAZO EN SEMANAS DE LAS ACTIVIDADES",
    "AVANCE FÍSICO DE EJECUCIÓN DE LAS ACTIVIDADES",
    "OBSERVACIONES",
];

async fn finding(app: &TestApp, auditor: &str, source: &str, code: &str) -> String {
    let body = json!({"source": source, "report_code": "R-2025", "finding_code": code, "title": format!("Hallazgo {code}"),
                      "cause": "Sin procedimiento", "effect": "Riesgo de acceso"});
    json_of(app.post("/api/v1/findings", auditor, &body).await, 201).await["id"].as_str().unwrap().to_string()
}

async fn export(app: &TestApp, token: &str, plan: &str, query: &str) -> reqwest::Response {
    let res = app.get(&format!("/api/v1/plans/{plan}/export?layout=sireci-f14-1&{query}"), token).await;
    assert_eq!(res.status(), 200);
    res
}

fn with_findings(mut body: Value, ids: &[&String]) -> Value {
    body["finding_ids"] = json!(ids);
    body
}

#[tokio::test]
async fn f14_1_lists_only_comptroller_finding_action_pairs_of_live_actions() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let h2 = finding(&app, &auditor, "comptroller", "H-02").await;
    let h1 = finding(&app, &auditor, "comptroller", "H-01").await;
    let oci = finding(&app, &auditor, "internal_audit", "OCI-1").await;
    let furag = finding(&app, &auditor, "self_assessment", "FURAG-1").await;
    let specs = [
        with_findings(action_body("Revisar accesos", "2025-01-01", "2025-12-31", None), &[&h2, &h1, &oci]),
        with_findings(action_body("Solo auditoría interna", "2025-01-01", "2025-12-31", None), &[&oci, &furag]),
        action_body("Sin hallazgo", "2025-01-01", "2025-12-31", None),
        with_findings(action_body("Anulada", "2025-01-01", "2025-12-31", None), &[&h1]),
    ];
    let run = running_plan(&app, "F14", &specs).await;
    let cancelled = &run.actions[3];
    let res =
        app.patch(&action_path(cancelled), &run.planner, &etag_of(cancelled), &json!({"status": "cancelled"})).await;
    json_of(res, 200).await;
    let plan = run.plan["id"].as_str().unwrap();

    let doc = json_of(export(&app, &run.planner, plan, "format=json").await, 200).await;
    let headers: Vec<&str> = doc["columns"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    assert_eq!(headers, COLUMNS);
    let rows = doc["rows"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["CÓDIGO HALLAZGO"].as_str().unwrap(), r["ACCIÓN DE MEJORA"].as_str().unwrap()))
        .collect();
    assert_eq!(pairs, [("H-01", "Revisar accesos"), ("H-02", "Revisar accesos")]);
    assert_eq!(rows[0]["FILA"], "FILA_1");
    assert_eq!(rows[1]["FILA"], "FILA_2");
    assert_eq!(rows[0]["MODALIDAD DE REGISTRO"], "1 SUSCRIPCIÓN DEL PLAN DE MEJORAMIENTO");
    assert_eq!(rows[0]["CAUSA DEL HALLAZGO"], "Sin procedimiento");
    assert_eq!(rows[0]["EFECTO DEL HALLAZGO"], "Riesgo de acceso");
    assert_eq!(rows[0]["CANTIDADES UNIDAD DE MEDIDA"], 4.0);
    assert_eq!(rows[0]["PLAZO EN SEMANAS DE LAS ACTIVIDADES"], 52.0);
    assert_eq!(rows[0]["AVANCE FÍSICO DE EJECUCIÓN DE LAS ACTIVIDADES"], Value::Null);

    // CSV: dates as the form writes them.
    let text = export(&app, &run.planner, plan, "format=csv").await.text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with("FILA_1,")).unwrap();
    assert!(line.contains(",2025/01/01,2025/12/31,52,"), "{line}");
    assert!(!text.contains("Sin hallazgo") && !text.contains("Anulada") && !text.contains("OCI-1"), "{text}");

    // XLSX: real dates.
    let bytes = export(&app, &run.planner, plan, "format=xlsx").await.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let header =
        (0..range.height() as u32).find(|r| range.get_value((*r, 0)) == Some(&Data::String("FILA".into()))).unwrap();
    assert_eq!(range.get_value((header, 15)), Some(&Data::String("OBSERVACIONES".into())));
    assert!(matches!(range.get_value((header + 1, 11)), Some(Data::DateTime(_))));
}

#[tokio::test]
async fn f14_1_progress_carries_the_physical_progress_and_the_cut_off_note() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let h1 = finding(&app, &auditor, "comptroller", "H-01").await;
    let run = running_plan(
        &app,
        "CORTE",
        &[with_findings(action_body("Revisar accesos", &day(-30), &day(30), None), &[&h1])],
    )
    .await;
    let path = format!("{}/evidence", action_path(&run.actions[0]));
    let body = json!({"cut_off_date": day(0), "description": "Soporte", "reported_quantity": 2});
    let evidence = json_of(app.post(&path, &run.responsible.token, &body).await, 201).await;
    let reviewed = crate::evidence::review(&app, &run.auditor.token, &evidence, &json!({"status": "accepted"})).await;
    json_of(reviewed, 200).await;
    let plan = run.plan["id"].as_str().unwrap();
    let row = |doc: Value| doc["rows"][0].clone();
    let at = |cut_off: String| format!("format=json&modality=progress&cut_off={cut_off}");
    let before = row(json_of(export(&app, &run.planner, plan, &at(day(-1))).await, 200).await);
    assert_eq!(before["AVANCE FÍSICO DE EJECUCIÓN DE LAS ACTIVIDADES"], 0.0);
    let on = row(json_of(export(&app, &run.planner, plan, &at(day(0))).await, 200).await);
    assert_eq!(on["MODALIDAD DE REGISTRO"], "2 AVANCE ó SEGUIMIENTO DEL PLAN DE MEJORAMIENTO");
    assert_eq!(on["AVANCE FÍSICO DE EJECUCIÓN DE LAS ACTIVIDADES"], 2.0);
    let note = on["OBSERVACIONES"].as_str().unwrap();
    assert!(note.contains("Avance con corte al") && note.contains("2 de 4 Informe (50 %)"), "{note}");

    let (_, stranger) = app.other_organization().await;
    let res = app.get(&format!("/api/v1/plans/{plan}/export?layout=sireci-f14-1&format=csv"), &stranger.token).await;
    assert_problem(res, 404, "not_found").await;
}
