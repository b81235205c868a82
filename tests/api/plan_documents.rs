//! Plan matrices as entities really have them: the seed plan as a Word/PDF document converted
//! to a sheet (title block, page and column headers on every page, periods inside paragraphs,
//! HTML tags, signature footer), built here in XLSX and CSV; and exports that import back to
//! the same plan.
use crate::helpers::*;
use mejora::entities::enums::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// The seed plan as converted from its PDF: one line per sheet row, one tab per cell.
const DOCUMENT: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03-document.tsv"));
const FIXTURE_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cartago-ti-pl03.json"));
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn document_rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// A workbook as a converter writes it: text cells, numbers as numbers.
pub fn to_xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            let (r, c) = (u32::try_from(r).unwrap(), u16::try_from(c).unwrap());
            match cell.trim().parse::<f64>() {
                Ok(n) => sheet.write_number(r, c, n).unwrap(),
                Err(_) => sheet.write_string(r, c, cell).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

pub fn to_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(vec![]);
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.into_inner().unwrap()
}

pub async fn upload(app: &TestApp, token: &str, query: &str, content_type: &str, body: Vec<u8>) -> Response {
    app.request(Method::POST, &format!("/api/v1/plans/imports?{query}"), Some(token))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Categories as (name, score, alternatives, criterion), in plan order.
pub async fn categories_of(app: &TestApp, token: &str, plan: &str) -> Vec<Value> {
    let page = json_of(app.get(&format!("/api/v1/plans/{plan}/categories?limit=500"), token).await, 200).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["name"], c["score"], c["improvement_alternatives"], c["effectiveness_criterion"]]))
        .collect()
}

/// Actions as (category position, title, description, start, due), in number order.
pub async fn actions_of(app: &TestApp, token: &str, plan: &str) -> Vec<Value> {
    let cats = json_of(app.get(&format!("/api/v1/plans/{plan}/categories?limit=500"), token).await, 200).await;
    let position =
        |id: &Value| cats["items"].as_array().unwrap().iter().find(|c| &c["id"] == id).map(|c| c["position"].clone());
    let page = json_of(app.get(&format!("/api/v1/plans/{plan}/actions?limit=500&sort=number"), token).await, 200).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!([position(&a["category_id"]), a["title"], a["description"], a["start_date"], a["due_date"]]))
        .collect()
}

/// Plan metadata that a TI.PL03 file carries.
pub async fn metadata_of(app: &TestApp, token: &str, plan: &str) -> Value {
    let p = json_of(app.get(&format!("/api/v1/plans/{plan}"), token).await, 200).await;
    let keys = [
        "code",
        "version",
        "title",
        "approved_on",
        "approved_by",
        "approval_reference",
        "prepared_by",
        "prepared_by_role",
        "prepared_on",
        "start_date",
        "end_date",
    ];
    Value::Object(keys.iter().map(|k| (k.to_string(), p[*k].clone())).collect())
}

const GOBIERNO_TI: &str = "<p>Diseñar un programa de formación continua que incluya talleres, seminarios y certificaciones en Gobierno de TI.</p>";

#[tokio::test]
async fn the_seed_plan_converted_from_its_pdf_imports_from_xlsx_and_csv_with_its_metadata_and_periods() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    // One improvement of "Gobierno de TI" writes its own period at the end of its paragraph.
    assert!(DOCUMENT.contains(GOBIERNO_TI));
    let own = GOBIERNO_TI.replace("TI.</p>", "TI. Fecha: (01/02/2025 al 30/06/2025)</p>");
    let rows = document_rows(&DOCUMENT.replace(GOBIERNO_TI, &own));

    let reply = json_of(upload(&app, &planner, "", XLSX, to_xlsx(&rows)).await, 201).await;
    assert_eq!(reply["categories"], 17, "{reply}");
    let plan = reply["plan_id"].as_str().unwrap().to_string();
    assert_eq!(
        metadata_of(&app, &planner, &plan).await,
        json!({"code": "TI.PL03", "version": 1, "title": "PLAN DE MEJORAMIENTO DE LA POLITICA SEGURIDAD DIGITAL",
               "approved_on": "2024-05-21", "approved_by": "Comité Institucional de Gestión y Desempeño",
               "approval_reference": "Acta No. 05 de 2024", "prepared_by": "Martha Cecilia Saldaña S",
               "prepared_by_role": "Asesora Externa", "prepared_on": "2024-10-30",
               "start_date": "2024-08-01", "end_date": "2027-12-31"})
    );
    // The same 17 categories, scores and alternatives as the clean JSON fixture.
    let fixture =
        json_of(upload(&app, &planner, "code=JSON", "application/json", FIXTURE_JSON.into()).await, 201).await;
    let fixture_plan = fixture["plan_id"].as_str().unwrap();
    assert_eq!(categories_of(&app, &planner, &plan).await, categories_of(&app, &planner, fixture_plan).await);

    // Each improvement is an action with its own period, the period gone from its text.
    let actions = actions_of(&app, &planner, &plan).await;
    assert_eq!(reply["actions"], actions.len());
    assert_eq!(reply["actions"], fixture["actions"]);
    for a in &actions {
        let text = a[2].as_str().unwrap();
        assert!(!text.contains('<') && !text.contains("Fecha:"), "{text}");
    }
    let periods: Vec<(&str, &str, &str)> =
        actions.iter().map(|a| (a[1].as_str().unwrap(), a[3].as_str().unwrap(), a[4].as_str().unwrap())).collect();
    let own: Vec<_> = periods.iter().filter(|p| p.1 != "2024-08-01").collect();
    assert_eq!(own, [&("Diseñar un programa de formación continua que incluya talleres, seminarios y certificaciones en Gobierno de TI", "2025-02-01", "2025-06-30")]);
    assert!(periods.iter().filter(|p| p.1 == "2024-08-01").all(|p| p.2 == "2027-12-31"));
    let estrategia = actions.iter().find(|a| a[1].as_str().unwrap().starts_with("Revisión y Ajuste del PETI")).unwrap();
    assert!(estrategia[2].as_str().unwrap().ends_with("cronograma de seguimiento más riguroso."), "{estrategia}");
    // Two paragraphs of "Componente TIC" write no period: they took the plan's window, and the
    // reply says so.
    let on_window = reply["actions_on_plan_window"].as_array().unwrap();
    let titles: Vec<&str> = on_window.iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Establecimiento de un Plan de Acción para la Gestión de Datos Abiertos", "Cronograma de Publicación: Establecer un cronograma detallado que especifique las fechas de actualización y publicación de los datos abiertos"]);
    assert!(on_window.iter().all(|a| a["category"] == "Indicadores de resultado Componente TIC para Gobierno abierto"));
    for a in on_window {
        let n = a["number"].as_u64().unwrap() as usize;
        assert_eq!((actions[n - 1][3].as_str(), actions[n - 1][4].as_str()), (Some("2024-08-01"), Some("2027-12-31")));
    }

    // The same document as CSV reads the same; the query overrides what the file says.
    let reply =
        json_of(upload(&app, &planner, "code=TI.PL03-CSV&title=Plan%20CSV", "text/csv", to_csv(&rows)).await, 201)
            .await;
    let csv_plan = reply["plan_id"].as_str().unwrap();
    let meta = metadata_of(&app, &planner, csv_plan).await;
    assert_eq!((meta["code"].as_str(), meta["title"].as_str()), (Some("TI.PL03-CSV"), Some("Plan CSV")));
    assert_eq!(meta["approval_reference"], "Acta No. 05 de 2024");
    assert_eq!(categories_of(&app, &planner, csv_plan).await, categories_of(&app, &planner, &plan).await);
    assert_eq!(actions_of(&app, &planner, csv_plan).await, actions);
}

fn small_document(continuation_score: &str) -> Vec<Vec<String>> {
    let header = [
        "CATEGORÍAS",
        "PUNTAJE",
        "DISEÑE ALTERNATIVAS DE MEJORA",
        "MEJORAS PARA IMPLEMENTAR (INCLUIR PLAZO DE LA IMPLEMENTACIÓN)",
        "EVALUACIÓN DE LA EFICACIA DE LAS ACCIONES IMPLEMENTADAS",
    ];
    let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let page = |n: u32| {
        let marker = format!("Página {n} de 2");
        vec![
            row(&["CONCEJO MUNICIPAL DE CARTAGO Nit: 900.215.967-5", "", &marker]),
            row(&["", "PLAN DE MEJORAMIENTO", "CÓDIGO: TI.PL03"]),
            row(&["", "", "VERSIÓN: 2"]),
            row(&["FECHA DE APROBACIÓN: 21/05/2024"]),
            vec![],
        ]
    };
    let mut rows = page(1);
    rows.push(row(&["PLAN DE MEJORAMIENTO DE LA POLÍTICA DE SEGURIDAD DIGITAL"]));
    rows.push(row(&header));
    rows.push(row(&[
        "Transparencia",
        "40",
        "<p>Publicar más</p> <p>Rendir cuentas</p>",
        "<p>1) Portal de transparencia. Fecha: (01/08/2024 al 31/12/2025)</p> <p>2) Capacitación en transparencia</p>",
        "Porcentaje de cumplimiento",
    ]));
    rows.extend(page(2));
    rows.push(row(&header));
    rows.push(row(&["", continuation_score, "", "3) Tablero de indicadores Fecha: (01/01/2026 al 30/06/2026)", ""]));
    rows.push(row(&["Colaboración", "0", "Innovación abierta", "NO APLICA", "NO APLICA"]));
    for line in [
        "Elaboró: Martha Cecilia Saldaña S",
        "Asesora Externa",
        "Fecha: 30/10/2024",
        "Aprobó:",
        "Comité Institucional de Gestión y Desempeño",
        "Acta No. 05 de 2024",
    ] {
        rows.push(row(&[line]));
    }
    rows
}

#[tokio::test]
async fn title_block_variants_page_headers_and_footer_fill_the_plan_and_a_changed_score_is_a_row_error() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let query = "start_date=2024-08-01&end_date=2027-12-31&title=Plan%20de%20seguridad%20digital";
    let reply = json_of(upload(&app, &planner, query, XLSX, to_xlsx(&small_document("40"))).await, 201).await;
    assert_eq!((reply["categories"].as_u64(), reply["actions"].as_u64()), (Some(2), Some(3)), "{reply}");
    let plan = reply["plan_id"].as_str().unwrap();
    let meta = metadata_of(&app, &planner, plan).await;
    assert_eq!(
        meta,
        json!({"code": "TI.PL03", "version": 2, "title": "Plan de seguridad digital", "approved_on": "2024-05-21",
               "approved_by": "Comité Institucional de Gestión y Desempeño", "approval_reference": "Acta No. 05 de 2024",
               "prepared_by": "Martha Cecilia Saldaña S", "prepared_by_role": "Asesora Externa",
               "prepared_on": "2024-10-30", "start_date": "2024-08-01", "end_date": "2027-12-31"})
    );
    assert_eq!(
        categories_of(&app, &planner, plan).await,
        [
            json!(["Transparencia", 40.0, ["Publicar más", "Rendir cuentas"], "Porcentaje de cumplimiento"]),
            json!(["Colaboración", 0.0, ["Innovación abierta"], null]),
        ]
    );
    assert_eq!(
        actions_of(&app, &planner, plan).await,
        [
            json!([1, "1) Portal de transparencia", "1) Portal de transparencia.", "2024-08-01", "2025-12-31"]),
            json!([
                1,
                "2) Capacitación en transparencia",
                "2) Capacitación en transparencia",
                "2024-08-01",
                "2027-12-31"
            ]),
            json!([1, "3) Tablero de indicadores", "3) Tablero de indicadores", "2026-01-01", "2026-06-30"]),
        ]
    );
    assert_eq!(
        reply["actions_on_plan_window"],
        json!([{"number": 2, "row": 1, "category": "Transparencia", "title": "2) Capacitación en transparencia"}])
    );

    // A continuation row that writes another score is refused, naming its row.
    let problem = assert_problem(
        upload(&app, &planner, "code=OTRO&title=Otro", "text/csv", to_csv(&small_document("45"))).await,
        422,
        "import_rejected",
    )
    .await;
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!((errors[0]["row"].as_u64(), errors[0]["field"].as_str()), (Some(2), Some("score")));
    assert_eq!(errors[0]["code"], "conflicting_score");
}

/// Everything a TI.PL03 file carries of a plan: metadata, categories, actions with periods.
async fn snapshot(app: &TestApp, token: &str, plan: &str) -> Value {
    json!({
        "plan": metadata_of(app, token, plan).await,
        "categories": categories_of(app, token, plan).await,
        "actions": actions_of(app, token, plan).await,
    })
}

/// Exports `plan` as TI.PL03 CSV and XLSX and imports each file, with no query parameters,
/// into another organization; both copies must equal the original.
async fn assert_round_trips(app: &TestApp, token: &str, plan: &str) {
    let original = snapshot(app, token, plan).await;
    for (format, content_type) in [("csv", "text/csv"), ("xlsx", XLSX)] {
        let res = app.get(&format!("/api/v1/plans/{plan}/export?format={format}&layout=ti-pl03"), token).await;
        assert_eq!(res.status(), 200);
        let file = res.bytes().await.unwrap().to_vec();
        let (_, other) = app.other_organization().await;
        let reply = json_of(upload(app, &other.token, "", content_type, file).await, 201).await;
        assert_eq!(reply["actions_on_plan_window"], json!([]), "{format}: every action wrote its period");
        let copy = snapshot(app, &other.token, reply["plan_id"].as_str().unwrap()).await;
        assert_eq!(copy, original, "{format}");
    }
}

#[tokio::test]
async fn the_seed_plan_exported_as_csv_and_xlsx_imports_back_to_the_same_plan_without_query_parameters() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let reply = json_of(upload(&app, &planner, "", XLSX, to_xlsx(&document_rows(DOCUMENT))).await, 201).await;
    let plan = reply["plan_id"].as_str().unwrap();
    assert_eq!(snapshot(&app, &planner, plan).await["actions"].as_array().unwrap().len(), 31);
    assert_round_trips(&app, &planner, plan).await;
}

#[tokio::test]
async fn a_plan_built_through_the_api_exports_and_imports_back_with_each_action_period() {
    let app = spawn_app().await;
    let planner = app.token_for(Role::Planner).await;
    let mut body = crate::plans::plan_body("TI.PL04");
    body["version"] = json!(3);
    body["title"] = json!("Plan de mejoramiento de seguridad digital 2025");
    for (k, v) in [
        ("approved_on", "2025-03-14"),
        ("approved_by", "Comité Institucional de Gestión y Desempeño"),
        ("approval_reference", "Acta No. 02 de 2025"),
        ("prepared_by", "Oficina TIC"),
        ("prepared_by_role", "Líder de seguridad digital"),
        ("prepared_on", "2025-02-28"),
    ] {
        body[k] = json!(v);
    }
    let plan = crate::plans::create_plan(&app, &planner, &body).await;
    let id = plan["id"].as_str().unwrap();
    let categories = [
        json!({"name": "Gestión de incidentes", "source": "mspi", "score": 40, "effectiveness_criterion": "Incidentes atendidos a tiempo",
               "improvement_alternatives": ["Definir el procedimiento de incidentes", "Contratar un SOC: monitoreo 24/7"]}),
        json!({"name": "Gestión de activos", "source": "furag", "score": 72.5, "improvement_alternatives": ["Inventariar activos"]}),
        json!({"name": "Continuidad", "source": "audit", "improvement_alternatives": ["Plan de continuidad"]}),
    ];
    let mut ids = Vec::new();
    for c in &categories {
        ids.push(crate::plans::add_category(&app, &planner, &plan, c).await["id"].clone());
    }
    // Two actions of one category with different periods (they used to collapse to the first).
    let actions = [
        (
            0,
            "Procedimiento de incidentes",
            "Procedimiento de incidentes. Redactar y aprobar el procedimiento.",
            "2025-04-01",
            "2025-06-30",
        ),
        (
            0,
            "Mesa de ayuda",
            "Mesa de ayuda. Registrar cada incidente:\nCanal de reporte y tiempos de respuesta",
            "2025-07-01",
            "2026-03-31",
        ),
        (
            1,
            "Inventario de activos",
            "Inventario de activos. Levantar el inventario con sus dueños.",
            "2025-05-15",
            "2025-12-15",
        ),
    ];
    for (category, title, description, start, due) in actions {
        let body = json!({"type": "corrective", "focus": "optimisation", "title": title, "description": description,
                          "start_date": start, "due_date": due, "category_id": ids[category]});
        json_of(app.post(&format!("/api/v1/plans/{id}/actions"), &planner, &body).await, 201).await;
    }
    let original = snapshot(&app, &planner, id).await;
    assert_eq!(
        original["actions"],
        json!([
            [
                1,
                "Procedimiento de incidentes",
                "Procedimiento de incidentes. Redactar y aprobar el procedimiento.",
                "2025-04-01",
                "2025-06-30"
            ],
            [
                1,
                "Mesa de ayuda",
                "Mesa de ayuda. Registrar cada incidente:\nCanal de reporte y tiempos de respuesta",
                "2025-07-01",
                "2026-03-31"
            ],
            [
                2,
                "Inventario de activos",
                "Inventario de activos. Levantar el inventario con sus dueños.",
                "2025-05-15",
                "2025-12-15"
            ],
        ])
    );
    assert_round_trips(&app, &planner, id).await;
}
