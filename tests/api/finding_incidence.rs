//! Comptroller findings record their presumed incidence and fiscal amount (issue 20.6): over
//! the API, in bulk uploads and in the SIRECI F14.1 export.
use crate::actions::{action_body, running_plan};
use crate::helpers::*;
use crate::plans::etag_of;
use mejora::entities::enums::Role;
use reqwest::Method;
use serde_json::{json, Value};

fn comptroller(code: &str) -> Value {
    json!({"source": "comptroller", "report_code": "CGR-2025-04", "finding_code": code, "title": "Contratación sin estudios previos"})
}

#[tokio::test]
async fn a_comptroller_finding_records_incidences_and_a_fiscal_amount() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let mut body = comptroller("H-01");
    body["presumed_incidence"] = json!(["fiscal", "disciplinary", "fiscal"]);
    body["fiscal_amount"] = json!("125000000.50");
    let created = json_of(app.post("/api/v1/findings", &auditor, &body).await, 201).await;
    assert_eq!(created["presumed_incidence"], json!(["disciplinary", "fiscal"]));
    assert_eq!(created["fiscal_amount"], "125000000.50");
    let path = format!("/api/v1/findings/{}", created["id"].as_str().unwrap());
    let read = json_of(app.get(&path, &auditor).await, 200).await;
    assert_eq!(
        (read["presumed_incidence"].clone(), read["fiscal_amount"].clone()),
        (json!(["disciplinary", "fiscal"]), json!("125000000.50"))
    );

    let patch = json!({"presumed_incidence": ["criminal", "sanctioning"], "fiscal_amount": null});
    let changed = json_of(app.patch(&path, &auditor, &etag_of(&read), &patch).await, 200).await;
    assert_eq!(changed["presumed_incidence"], json!(["criminal", "sanctioning"]));
    assert_eq!(changed["fiscal_amount"], Value::Null);

    let enums = json_of(app.request(Method::GET, "/api/v1/enums", None).send().await.unwrap(), 200).await;
    let labels: Vec<(String, String)> = enums["enums"]["PresumedIncidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["code"].as_str().unwrap().to_string(), v["es"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        labels,
        [
            ("disciplinary".to_string(), "Disciplinaria".to_string()),
            ("fiscal".into(), "Fiscal".into()),
            ("criminal".into(), "Penal".into()),
            ("sanctioning".into(), "Sancionatoria".into())
        ]
    );
}

#[tokio::test]
async fn incidences_belong_to_comptroller_findings_and_an_amount_to_a_fiscal_one() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let cases = [
        (
            json!({"source": "internal_audit", "presumed_incidence": ["disciplinary"]}),
            "presumed_incidence",
            "comptroller_only",
        ),
        (
            json!({"presumed_incidence": ["disciplinary"], "fiscal_amount": "10.00"}),
            "fiscal_amount",
            "requires_fiscal_incidence",
        ),
        (json!({"presumed_incidence": ["fiscal"], "fiscal_amount": "-1"}), "fiscal_amount", "out_of_range"),
        (json!({"presumed_incidence": ["fiscal"], "fiscal_amount": "1.005"}), "fiscal_amount", "too_precise"),
    ];
    for (i, (extra, field, code)) in cases.into_iter().enumerate() {
        let mut body = comptroller(&format!("H-{i}"));
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let problem =
            assert_problem(app.post("/api/v1/findings", &auditor, &body).await, 422, "validation_failed").await;
        assert_eq!(
            (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
            (Some(field), Some(code))
        );
    }
    let bad = json!({"source": "comptroller", "report_code": "R", "finding_code": "X", "title": "T", "presumed_incidence": ["administrativa"]});
    // An unknown incidence is a wrong value in well-formed JSON: 422 naming the element.
    let problem = assert_problem(app.post("/api/v1/findings", &auditor, &bad).await, 422, "validation_failed").await;
    assert!(problem["errors"][0]["field"].as_str().is_some_and(|f| f.starts_with("presumed_incidence")), "{problem}");
}

#[tokio::test]
async fn uploads_read_incidence_and_amount_columns_in_spanish() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let csv = "fuente;código informe;código hallazgo;título;incidencia presunta;cuantía fiscal\n\
               Contraloría;CGR-1;H-01;Pagos sin soporte;Disciplinaria|Fiscal;$ 125.000.000,50\n\
               Auditoría interna;OCI-1;H-02;Sin respaldo;Penal;\n\
               Contraloría;CGR-1;H-03;Sin estudios;Fiscal;mucho\n\
               Contraloría;CGR-1;H-04;Sin acta;Sancionatoria;\n";
    let res = app
        .request(Method::POST, "/api/v1/findings/imports?mode=partial", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let report = json_of(res, 201).await;
    assert_eq!(report["counts"]["created"], 2, "{report}");
    let errors: Vec<(u64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    // Rows as the spreadsheet numbers them (header = 1), fields as the header wrote them.
    assert_eq!(errors, [(3, "incidencia presunta", "comptroller_only"), (4, "cuantía fiscal", "invalid_number")]);
    let list = json_of(app.get("/api/v1/findings?report_code=CGR-1", &auditor).await, 200).await;
    let h1 = list["items"].as_array().unwrap().iter().find(|f| f["finding_code"] == "H-01").unwrap();
    assert_eq!(h1["presumed_incidence"], json!(["disciplinary", "fiscal"]));
    assert_eq!(h1["fiscal_amount"], "125000000.50");

    // JSON: an array of labels or codes.
    let json_rows = json!([{"source": "comptroller", "report_code": "CGR-2", "finding_code": "J-1", "title": "Sin soporte",
                            "presumed_incidence": ["Penal", "fiscal"], "fiscal_amount": "1000"}]);
    let res = app.post("/api/v1/findings/imports", &auditor, &json_rows).await;
    assert_eq!(json_of(res, 201).await["counts"]["created"], 1);
    let list = json_of(app.get("/api/v1/findings?report_code=CGR-2", &auditor).await, 200).await;
    assert_eq!(list["items"][0]["presumed_incidence"], json!(["fiscal", "criminal"]));
    assert_eq!(list["items"][0]["fiscal_amount"], "1000.00");

    // Re-uploading with another incidence updates it.
    let again =
        "fuente;código informe;código hallazgo;título;incidencia presunta\nContraloría;CGR-1;H-04;Sin acta;Penal\n";
    let res = app
        .request(Method::POST, "/api/v1/findings/imports?on_conflict=update", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(again)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, 201).await["counts"]["updated"], 1);
    let list = json_of(app.get("/api/v1/findings?report_code=CGR-1", &auditor).await, 200).await;
    let h4 = list["items"].as_array().unwrap().iter().find(|f| f["finding_code"] == "H-04").unwrap();
    assert_eq!(h4["presumed_incidence"], json!(["criminal"]));
}

#[tokio::test]
async fn the_sireci_export_states_the_incidence_and_the_amount() {
    let app = spawn_app().await;
    let auditor = app.token_for(Role::Auditor).await;
    let mut body = comptroller("H-07");
    body["presumed_incidence"] = json!(["disciplinary", "fiscal"]);
    body["fiscal_amount"] = json!("2500000");
    let finding = json_of(app.post("/api/v1/findings", &auditor, &body).await, 201).await;
    let mut action = action_body("Reponer soportes", "2025-01-01", "2025-06-30", None);
    action["finding_ids"] = json!([finding["id"]]);
    let run = running_plan(&app, "INC", &[action]).await;
    let plan = run.plan["id"].as_str().unwrap();
    let doc = json_of(
        app.get(&format!("/api/v1/plans/{plan}/export?layout=sireci-f14-1&format=json"), &run.planner).await,
        200,
    )
    .await;
    let note = doc["rows"][0]["OBSERVACIONES"].as_str().unwrap();
    assert!(note.contains("Presunta incidencia disciplinaria, fiscal (cuantía fiscal 2500000.00 COP)"), "{note}");
}
