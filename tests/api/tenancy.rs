//! Tenancy across two organizations with data. Every operation with an id in its path is read
//! from the generated OpenAPI document (so a new one cannot be left out) and called by each role
//! of organization A, a user holding all roles and a service account, on each of organization
//! B's ids: the answer is 404, or 403 when the caller may not call the operation at all, and in
//! both cases exactly what the same call on an id that does not exist answers. B's data, read
//! back by B's admin through every read of the API, is unchanged; A's lists, filters and
//! references never reach B's rows.
use crate::actions::{action_body, day, post_if_match, running_plan};
use crate::evidence::report;
use crate::helpers::*;
use crate::plans::{add_category, create_plan, etag_of, plan_body, transition};
use mejora::auth::jwt::{PrincipalKind, TokenService};
use mejora::entities::enums::Role;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const ALL: &[Role] = &[Role::Admin, Role::Planner, Role::Responsible, Role::Auditor, Role::Viewer];

/// Part of the titles of organization B's rows: never in a reply to organization A.
const MARKER: &str = "SECRETO-B";

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// One operation of the OpenAPI document.
struct Operation {
    id: String,
    method: Method,
    template: String,
    /// The path up to its parameter: `/api/v1/plans` for `/api/v1/plans/{id}/submit`.
    resource: Option<String>,
    secured: bool,
    if_match: bool,
    paged: bool,
    content_type: Option<String>,
}

impl Operation {
    fn path(&self, id: Uuid) -> String {
        self.template
            .split('/')
            .map(|seg| if seg.starts_with('{') { id.to_string() } else { seg.to_string() })
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn operations() -> Vec<Operation> {
    let spec: Value = serde_json::to_value(mejora::openapi::document()).unwrap();
    let mut ops = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has = |place: &str, name: &str| {
                params
                    .iter()
                    .any(|p| p["in"] == place && p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            };
            let segments: Vec<&str> = template.split('/').collect();
            let holes: Vec<usize> = (0..segments.len()).filter(|&i| segments[i].starts_with('{')).collect();
            // Several parameters (a webhook's delivery) are all filled with the same id of B.
            let content_type = op["requestBody"]["content"].as_object().map(|c| {
                if c.contains_key("application/json") {
                    "application/json".to_string()
                } else {
                    c.keys().next().cloned().unwrap_or_default()
                }
            });
            ops.push(Operation {
                id: op["operationId"].as_str().unwrap().to_string(),
                method: method.to_uppercase().parse().unwrap(),
                template: template.clone(),
                resource: holes.first().map(|&i| segments[..i].join("/")),
                secured: op["security"].as_array().is_some_and(|s| !s.is_empty()),
                if_match: has("header", "If-Match"),
                paged: has("query", "limit"),
                content_type,
            });
        }
    }
    ops
}

/// A plausible, valid body for each operation with an id in its path that takes JSON, so that
/// the only thing wrong with the request is the id.
fn body_for(operation: &str) -> Option<Value> {
    Some(match operation {
        "update_action" => json!({"status": "in_progress"}),
        "evaluate_action" => json!({"compliance": "not_met", "effectiveness": "not_effective", "note": "Sin avance"}),
        "create_evidence" => report(),
        "reformulate_action" => json!({"reason": "No funcionó", "start_date": day(0), "due_date": day(30)}),
        "update_category" => json!({"name": "Cambiada"}),
        "update_evidence" => json!({"description": "Cambiada"}),
        "review_evidence" => json!({"status": "accepted"}),
        "update_finding" => json!({"title": "Cambiado"}),
        "link_finding_plan" => json!({"plan_id": null}),
        "transition_finding" => json!({"to": "dismissed", "note": "Desestimado"}),
        "update_objective" => json!({"title": "Cambiado"}),
        "update_organization" => json!({"sector": "Cambiado"}),
        "update_plan" => json!({"title": "Cambiado"}),
        "create_action" => action_body("Intrusa", &day(0), &day(30), None),
        "approve_plan" => json!({"approved_by": "Comité", "approval_reference": "Acta 9"}),
        "cancel_plan" => json!({"reason": "Cancelado desde otra entidad"}),
        "create_category" => json!({"name": "Intrusa", "source": "furag"}),
        "create_plan_version" => json!({}),
        "update_service_account" => json!({"active": false}),
        "update_webhook" => json!({"description": "Cambiada"}),
        "update_user" => json!({"active": false}),
        "reset_password" => json!({"password": "una clave bastante larga 9"}),
        "reopen_reporting_period" => json!({"reason": "Reabierto desde otra entidad"}),
        "file_reporting_period" => {
            json!({"filed_on": day(0), "filing_reference": "SIRECI-1", "file_sha256": "ab".repeat(32)})
        }
        "record_period_observations" => json!({"items": [{"action_id": Uuid::now_v7(), "observation": "Intrusa"}]}),
        "update_asset" => json!({"name": "Cambiado"}),
        "update_risk" => json!({"process": "Cambiado"}),
        "create_risk_control" => json!({"responsible": "Intruso", "action": "revisa", "control_type": "preventive",
                                        "implementation": "manual"}),
        "update_risk_control" => json!({"action": "Cambiada"}),
        "create_risk_review" => json!({"reviewed_on": day(0), "line": "second_line", "result": "adequate"}),
        "create_risk_incident" => json!({"occurred_on": day(0), "description": "Intrusa"}),
        _ => return None,
    })
}

enum Payload {
    Nothing,
    Json(String, Value),
    Pdf,
}

fn payload(op: &Operation) -> Result<Payload, String> {
    match op.content_type.as_deref() {
        None => Ok(Payload::Nothing),
        Some("multipart/form-data") => Ok(Payload::Pdf),
        Some(ct @ ("application/json" | "application/merge-patch+json")) => match body_for(&op.id) {
            Some(body) => Ok(Payload::Json(ct.to_string(), body)),
            None => Err(format!("{} {}: no request body for {}; add one to body_for", op.method, op.template, op.id)),
        },
        Some(other) => Err(format!("{} {}: tenancy.rs cannot send {other}", op.method, op.template)),
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Reply {
    status: u16,
    etag: Option<String>,
    /// The JSON body, or the size and SHA-256 of any other body.
    body: Value,
}

async fn read(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (etag, content_type) = (header("etag"), header("content-type").unwrap_or_default());
    let bytes = res.bytes().await.unwrap();
    let body = if content_type.contains("json") {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    } else {
        json!({"content_type": content_type, "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))})
    };
    Reply { status, etag, body }
}

async fn call(app: &TestApp, op: &Operation, payload: &Payload, id: Uuid, token: &str, etag: &str) -> Reply {
    let mut req = app.request(op.method.clone(), &op.path(id), Some(token));
    if op.if_match {
        req = req.header("If-Match", etag);
    }
    req = match payload {
        Payload::Nothing => req,
        Payload::Json(content_type, body) => req.header("Content-Type", content_type).body(body.to_string()),
        Payload::Pdf => {
            let part = Part::bytes(PDF.to_vec()).file_name("acta.pdf").mime_str("application/pdf").unwrap();
            req.multipart(Form::new().part("file", part))
        }
    };
    read(req.send().await.unwrap()).await
}

/// The reply with `ids` blanked out and without its request id, to compare two calls that
/// differ only in the id they name.
fn normalized(reply: &Reply, ids: &[Uuid]) -> String {
    let mut body = reply.body.clone();
    if let Some(fields) = body.as_object_mut() {
        fields.remove("request_id");
    }
    let mut text = format!("{} {body}", reply.status);
    for id in ids {
        text = text.replace(&id.to_string(), "<id>");
    }
    text
}

fn id(body: &Value) -> Uuid {
    body["id"].as_str().unwrap_or_else(|| panic!("no id in {body}")).parse().unwrap()
}

/// Organization B: the bootstrap organization, with one row of every kind.
struct OrgB {
    admin: TestUser,
    responsible: Uuid,
    plan: Uuid,
    category: Uuid,
    draft_category: Uuid,
    action: Uuid,
    finding: Uuid,
    import: Uuid,
    objective: Uuid,
    period: Uuid,
    /// Ids of B to call each operation on, by the path before the operation's parameter.
    targets: BTreeMap<String, Vec<Uuid>>,
}

async fn organization_b(app: &TestApp) -> OrgB {
    // Not the platform operator: B's reads must be those of an ordinary admin.
    let admin = app.user_in(app.org_id, &[Role::Admin]).await;
    let planner = app.token_for(Role::Planner).await;
    let auditor = app.token_for(Role::Auditor).await;
    let objective = json!({"source": "pei", "code": "OE-B", "title": format!("Objetivo {MARKER}")});
    let objective = id(&json_of(app.post("/api/v1/objectives", &planner, &objective).await, 201).await);
    let finding = json!({"source": "internal_audit", "report_code": "OCI-B", "finding_code": "HB-1",
                         "title": format!("Hallazgo {MARKER}")});
    let finding = id(&json_of(app.post("/api/v1/findings", &auditor, &finding).await, 201).await);
    let mut spec = action_body(&format!("Acción {MARKER}"), &day(-10), &day(10), None);
    spec["finding_ids"] = json!([finding]);
    spec["objective_ids"] = json!([objective]);
    let run = running_plan(app, "B-CORRE", &[spec]).await;
    let (plan, category, action) = (id(&run.plan), id(&run.category), id(&run.actions[0]));

    // The finding is linked to the running plan.
    let current = json_of(app.get(&format!("/api/v1/findings/{finding}"), &auditor).await, 200).await;
    let res = app
        .request(Method::PUT, &format!("/api/v1/findings/{finding}/plan"), Some(&auditor))
        .header("If-Match", etag_of(&current))
        .json(&json!({"plan_id": plan}))
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;

    // Evidence with a file on the running plan's action.
    let mut evidence = report();
    evidence["description"] = json!(format!("Acta {MARKER}"));
    let path = format!("/api/v1/actions/{action}/evidence");
    let evidence = id(&json_of(app.post(&path, &run.responsible.token, &evidence).await, 201).await);
    let part = Part::bytes(PDF.to_vec()).file_name("acta.pdf").mime_str("application/pdf").unwrap();
    let res = app
        .request(Method::POST, &format!("/api/v1/evidence/{evidence}/files"), Some(&run.responsible.token))
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let file = id(&json_of(res, 201).await);

    // A draft plan with a category and an action.
    let mut body = plan_body("B-BORRADOR");
    body["title"] = json!(format!("Plan {MARKER}"));
    body["objective_ids"] = json!([objective]);
    let draft = create_plan(app, &run.planner, &body).await;
    let draft_category =
        add_category(app, &run.planner, &draft, &json!({"name": format!("Categoría {MARKER}"), "source": "furag"}))
            .await;
    let mut spec = action_body(&format!("Borrador {MARKER}"), &day(0), &day(20), Some(run.responsible.id));
    spec["category_id"] = draft_category["id"].clone();
    let path = format!("/api/v1/plans/{}/actions", id(&draft));
    let draft_action = id(&json_of(app.post(&path, &run.planner, &spec).await, 201).await);

    // A bulk upload of findings.
    let csv = format!(
        "source,report_code,finding_code,title,severity,classification,fiscal_year,report_date,requirements\n\
         internal_audit,OCI-B,HB-2,Importado {MARKER},high,observation,2024,2025-03-31,A.5.15\n"
    );
    let res = app
        .request(Method::POST, "/api/v1/findings/imports", Some(&auditor))
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let import = id(&json_of(res, 201).await);
    let imported = json_of(app.get(&format!("/api/v1/findings?import_id={import}"), &auditor).await, 200).await;
    let imported = id(&imported["items"][0]);

    // A service account and a user made through the API.
    let account = json!({"name": format!("Integración {MARKER}"), "roles": ["viewer"]});
    let account = id(&json_of(app.post("/api/v1/service-accounts", &admin.token, &account).await, 201).await);
    let user = json!({"email": "secreto.b@prueba.gov.co", "display_name": format!("Usuaria {MARKER}"),
                      "password": "una clave bastante larga 1", "roles": ["responsible"]});
    let user = id(&json_of(app.post("/api/v1/users", &admin.token, &user).await, 201).await);
    // A webhook (its delivery of a test event is listed under it).
    let hook =
        json!({"url": "https://203.0.113.9/hooks", "event_types": ["*"], "description": format!("Webhook {MARKER}")});
    let hook = id(&json_of(app.post("/api/v1/webhooks", &admin.token, &hook).await, 201).await);
    let res =
        app.request(Method::POST, &format!("/api/v1/webhooks/{hook}/test"), Some(&admin.token)).send().await.unwrap();
    json_of(res, 202).await;

    // A committee period covering the running plan, closed (its snapshot and exports exist).
    let period = json!({"name": format!("Corte {MARKER}"), "kind": "committee", "cut_off_date": day(-1),
                        "filing_deadline": day(20), "plan_ids": [plan]});
    let period = json_of(app.post("/api/v1/reporting-periods", &admin.token, &period).await, 201).await;
    let close = format!("/api/v1/reporting-periods/{}/close", id(&period));
    let period = id(&json_of(post_if_match(app, &close, &admin.token, &etag_of(&period), &json!({})).await, 200).await);

    // A digital-security risk treated by the running plan's action, with an asset and a control.
    let asset = json!({"name": format!("Activo {MARKER}"), "process": "Gestión TIC", "kind": "information",
                       "classification": "public_reserved", "confidentiality": "high", "integrity": "high",
                       "availability": "medium"});
    let asset = id(&json_of(app.post("/api/v1/assets", &planner, &asset).await, 201).await);
    let risk = json!({"code": "RB-1", "process": "Gestión TIC", "kind": "digital_security", "confidentiality": true,
                      "impact": format!("fuga {MARKER}"), "immediate_cause": "acceso", "root_cause": "privilegios",
                      "annual_frequency": 30, "economic_impact": "major", "reputational_impact": "major",
                      "asset_ids": [asset], "action_ids": [action], "finding_ids": [finding],
                      "controls": [{"responsible": "TI", "action": format!("revisa {MARKER}"),
                                    "control_type": "detective", "implementation": "manual", "annex_a_refs": ["8.2"]}]});
    let risk = json_of(app.post("/api/v1/risks", &planner, &risk).await, 201).await;
    let risk_control = id(&risk["controls"][0]);
    let risk = id(&risk);
    let review =
        json!({"reviewed_on": day(0), "line": "third_line", "result": "adequate", "note": format!("Nota {MARKER}")});
    json_of(app.post(&format!("/api/v1/risks/{risk}/reviews"), &auditor, &review).await, 201).await;

    // An asynchronous plan upload, finished before anything is compared.
    let matrix = "CATEGORÍAS,PUNTAJE,DISEÑO ALTERNATIVAS DE MEJORA,MEJORAS PARA IMPLEMENTAR (INCLUIR PLAZO DE LA IMPLEMENTACIÓN),EVALUACIÓN DE LA EFICACIA DE LAS ACCIONES IMPLEMENTADAS\n\
                  Transparencia,40,Publicar más,\"1) Portal\nFecha: (01/08/2024 al 31/12/2027)\",Cumplimiento\n";
    let res = app
        .request(
            Method::POST,
            "/api/v1/plans/imports?code=B-ASYNC&title=Plan%20SECRETO-B&start_date=2024-08-01&end_date=2027-12-31",
            Some(&run.planner),
        )
        .header("Content-Type", "text/csv")
        .header("Prefer", "respond-async")
        .body(matrix)
        .send()
        .await
        .unwrap();
    let plan_import = id(&json_of(res, 202).await);
    let mut waited = 0;
    loop {
        let path = format!("/api/v1/plans/imports/{plan_import}");
        let status = json_of(app.get(&path, &run.planner).await, 200).await["status"].clone();
        if status == "succeeded" {
            break;
        }
        assert!(waited < 300 && status != "failed", "B's plan upload: {status}");
        waited += 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // A notification of B's admin, as the notifier addresses one.
    let notification = Uuid::now_v7();
    let row = mejora::entities::notification::Model {
        id: notification,
        organization_id: app.org_id,
        user_id: admin.id,
        event_id: Uuid::now_v7(),
        event_type: "import.completed".into(),
        resource_type: "finding_import".into(),
        resource_id: Some(import),
        title: format!("Carga completada {MARKER}"),
        body: format!("La carga de hallazgos terminó {MARKER}."),
        created_at: chrono::Utc::now(),
        read_at: None,
    };
    sea_orm::EntityTrait::insert(mejora::entities::notification::ActiveModel::from(row))
        .exec_without_returning(&app.db)
        .await
        .unwrap();

    let targets = [
        ("/api/v1/assets", vec![asset]),
        ("/api/v1/risks", vec![risk]),
        ("/api/v1/risk-controls", vec![risk_control]),
        ("/api/v1/me/notifications", vec![notification]),
        ("/api/v1/plans/imports", vec![plan_import]),
        ("/api/v1/plans", vec![plan, id(&draft)]),
        ("/api/v1/reporting-periods", vec![period]),
        ("/api/v1/actions", vec![action, draft_action]),
        ("/api/v1/categories", vec![category, id(&draft_category)]),
        ("/api/v1/evidence", vec![evidence]),
        ("/api/v1/files", vec![file]),
        ("/api/v1/findings", vec![finding, imported]),
        ("/api/v1/findings/imports", vec![import]),
        ("/api/v1/objectives", vec![objective]),
        ("/api/v1/organizations", vec![app.org_id]),
        ("/api/v1/service-accounts", vec![account]),
        ("/api/v1/users", vec![admin.id, user, run.responsible.id]),
        ("/api/v1/webhooks", vec![hook]),
    ]
    .into_iter()
    .map(|(path, ids)| (path.to_string(), ids))
    .collect();
    OrgB {
        admin,
        responsible: run.responsible.id,
        plan,
        category,
        draft_category: id(&draft_category),
        action,
        finding,
        import,
        objective,
        period,
        targets,
    }
}

/// Organization A: the callers.
struct OrgA {
    org: Uuid,
    planner: String,
    auditor: String,
    responsible: Uuid,
    all: String,
    /// Label and token of each caller: each role, all roles, a service account with all roles.
    callers: Vec<(String, String)>,
}

async fn organization_a(app: &TestApp) -> OrgA {
    let (org, admin) = app.other_organization().await;
    let mut callers = vec![("admin".to_string(), admin.token.clone())];
    let mut users = Vec::new();
    for role in &ALL[1..] {
        let user = app.user_in(org, &[*role]).await;
        callers.push((role.code().to_string(), user.token.clone()));
        users.push(user);
    }
    let all = app.user_in(org, ALL).await;
    callers.push(("all roles".to_string(), all.token.clone()));
    let roles: Vec<&str> = ALL.iter().map(|r| r.code()).collect();
    let account = json!({"name": "Integración A", "roles": roles});
    let account = json_of(app.post("/api/v1/service-accounts", &admin.token, &account).await, 201).await;
    let token = TokenService::new(&app.config).issue(id(&account), org, PrincipalKind::ServiceAccount).unwrap();
    callers.push(("service account".to_string(), token));
    OrgA {
        org,
        planner: users[0].token.clone(),
        responsible: users[1].id,
        auditor: users[2].token.clone(),
        all: all.token,
        callers,
    }
}

/// Every read of the API with authentication, as B's admin: each list (as one page of up to
/// 500) and each read with an id, on each of B's ids. Keyed by path.
async fn snapshot(app: &TestApp, ops: &[Operation], b: &OrgB) -> BTreeMap<String, Reply> {
    let mut out = BTreeMap::new();
    for op in ops.iter().filter(|o| o.method == Method::GET && o.secured) {
        let paths: Vec<String> = match &op.resource {
            Some(resource) => b.targets.get(resource).into_iter().flatten().map(|id| op.path(*id)).collect(),
            None if op.paged => vec![format!("{}?limit=500", op.template)],
            None => vec![op.template.clone()],
        };
        for path in paths {
            let reply = read(app.request(Method::GET, &path, Some(&b.admin.token)).send().await.unwrap()).await;
            assert_eq!(reply.status, 200, "B's admin reads {path}: {}", reply.body);
            out.insert(path, reply);
        }
    }
    out
}

/// What changed between two snapshots of B, one line per path.
fn changes(before: &BTreeMap<String, Reply>, after: &BTreeMap<String, Reply>) -> Vec<String> {
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    paths
        .into_iter()
        .filter(|path| before.get(*path) != after.get(*path))
        .map(|path| {
            let show =
                |r: Option<&Reply>| r.map_or("nothing".to_string(), |r| format!("{} {}", r.status, short(&r.body)));
            format!("B's {path} changed: before {} — after {}", show(before.get(path)), show(after.get(path)))
        })
        .collect()
}

/// A failure message: what B's id got beside what an unknown id got.
fn contrast(what: String, theirs: &Reply, nobody: &Reply) -> String {
    format!(
        "{what}: {} {} — with an unknown id: {} {}",
        theirs.status,
        short(&theirs.body),
        nobody.status,
        short(&nobody.body)
    )
}

/// A body for a failure message: at most 300 characters.
fn short(body: &Value) -> String {
    let text = body.to_string();
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// Every UUID in `value`.
fn uuids(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) if Uuid::parse_str(s).is_ok() => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| uuids(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| uuids(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_operation_on_another_organizations_ids_is_not_found_and_changes_nothing() {
    let app = spawn_app().await;
    let a = organization_a(&app).await;
    let b = organization_b(&app).await;
    let ops = operations();
    let before = snapshot(&app, &ops, &b).await;
    let unknown = Uuid::now_v7();
    let mut failures = Vec::new();
    let (mut operations_checked, mut calls) = (0, 0);
    for op in ops.iter().filter(|o| o.resource.is_some()) {
        let resource = op.resource.as_deref().unwrap_or_default();
        let Some(targets) = b.targets.get(resource) else {
            failures.push(format!(
                "{} {}: no id of organization B for {resource}; add rows to organization_b in tenancy.rs",
                op.method, op.template
            ));
            continue;
        };
        let payload = match payload(op) {
            Ok(p) => p,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        operations_checked += 1;
        for target in targets {
            // The row's current version: a stale If-Match must not be what stops the call.
            let etag = before.get(&format!("{resource}/{target}")).and_then(|r| r.etag.clone());
            let etag = etag.unwrap_or_else(|| "\"v1\"".to_string());
            for (who, token) in &a.callers {
                calls += 1;
                let theirs = call(&app, op, &payload, *target, token, &etag).await;
                let nobody = call(&app, op, &payload, unknown, token, &etag).await;
                let code = theirs.body["code"].as_str().unwrap_or_default();
                let refused =
                    (theirs.status == 404 && code == "not_found") || (theirs.status == 403 && code == "forbidden");
                let same = normalized(&theirs, &[*target, unknown]) == normalized(&nobody, &[*target, unknown]);
                if !refused || !same {
                    failures.push(contrast(
                        format!("A's {who}: {} {} (B's row)", op.method, op.path(*target)),
                        &theirs,
                        &nobody,
                    ));
                }
            }
        }
    }
    failures.extend(changes(&before, &snapshot(&app, &ops, &b).await));
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(operations_checked >= 40, "only {operations_checked} operations with an id in the spec?");
    eprintln!(
        "tenancy: {operations_checked} operations × {} callers of A, {calls} calls on B's ids; {} reads of B compared",
        a.callers.len(),
        before.len()
    );
}

/// A call that names one of B's ids in its query or body (`$X` in `path` and `body`).
struct Probe {
    method: Method,
    path: String,
    etag: Option<String>,
    body: Option<Value>,
    target: Uuid,
}

fn read_probe(path: String, target: Uuid) -> Probe {
    Probe { method: Method::GET, path, etag: None, body: None, target }
}

fn write_probe(method: Method, path: String, etag: Option<String>, body: Value, target: Uuid) -> Probe {
    Probe { method, path, etag, body: Some(body), target }
}

async fn run_probe(app: &TestApp, token: &str, probe: &Probe, x: Uuid) -> Reply {
    let fill = |s: &str| s.replace("$X", &x.to_string());
    let mut req = app.request(probe.method.clone(), &fill(&probe.path), Some(token));
    if let Some(etag) = &probe.etag {
        req = req.header("If-Match", etag);
    }
    if let Some(body) = &probe.body {
        let content_type =
            if probe.method == Method::PATCH { "application/merge-patch+json" } else { "application/json" };
        req = req.header("Content-Type", content_type).body(fill(&body.to_string()));
    }
    read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn lists_filters_and_references_never_reach_another_organizations_rows() {
    let app = spawn_app().await;
    let a = organization_a(&app).await;
    let b = organization_b(&app).await;
    let ops = operations();
    let before = snapshot(&app, &ops, &b).await;
    let mut b_ids = BTreeSet::new();
    before.values().for_each(|reply| uuids(&reply.body, &mut b_ids));
    // The platform operator, a user of B, created A: A sees it as the creator of its organization.
    b_ids.remove(&app.admin_id.to_string());
    b_ids.remove(&a.org.to_string());
    assert!(b_ids.len() > 20, "{b_ids:?}");
    let mut failures = Vec::new();

    // A's own rows, to fill its lists and to name B's ids in filters, bodies and links.
    let draft = create_plan(&app, &a.planner, &plan_body("A-PROPIO")).await;
    add_category(&app, &a.planner, &draft, &json!({"name": "Propia", "source": "furag"})).await;
    let plan_actions = format!("/api/v1/plans/{}/actions", id(&draft));
    let own = action_body("Propia", &day(0), &day(20), Some(a.responsible));
    let draft_action = json_of(app.post(&plan_actions, &a.planner, &own).await, 201).await;
    let finding = json!({"source": "internal_audit", "report_code": "OCI-A", "finding_code": "HA-1",
                         "title": "Hallazgo propio"});
    let finding = json_of(app.post("/api/v1/findings", &a.auditor, &finding).await, 201).await;
    let mut running = create_plan(&app, &a.planner, &plan_body("A-CORRE")).await;
    add_category(&app, &a.planner, &running, &json!({"name": "Propia", "source": "furag"})).await;
    let path = format!("/api/v1/plans/{}/actions", id(&running));
    let spec = action_body("Ineficaz", &day(-10), &day(10), Some(a.responsible));
    let ineffective = id(&json_of(app.post(&path, &a.planner, &spec).await, 201).await);
    for op in ["submit", "approve", "start"] {
        let body = (op == "approve").then(|| json!({"approved_by": "Comité", "approval_reference": "Acta 1"}));
        running = json_of(transition(&app, &a.planner, &running, op, body.as_ref()).await, 200).await;
    }
    let current = json_of(app.get(&format!("/api/v1/actions/{ineffective}"), &a.planner).await, 200).await;
    let rating = json!({"compliance": "not_met", "effectiveness": "not_effective"});
    let path = format!("/api/v1/actions/{ineffective}/evaluation");
    json_of(post_if_match(&app, &path, &a.auditor, &etag_of(&current), &rating).await, 200).await;
    let draft = json_of(app.get(&format!("/api/v1/plans/{}", id(&draft)), &a.planner).await, 200).await;
    let draft_action = json_of(app.get(&format!("/api/v1/actions/{}", id(&draft_action)), &a.planner).await, 200).await;
    let finding = json_of(app.get(&format!("/api/v1/findings/{}", id(&finding)), &a.auditor).await, 200).await;

    // A's lists (with A's own rows in them), as each caller, show none of B's ids or titles.
    for op in ops.iter().filter(|o| o.method == Method::GET && o.secured && o.resource.is_none()) {
        let path = if op.paged { format!("{}?limit=500", op.template) } else { op.template.clone() };
        for (who, token) in &a.callers {
            let reply = read(app.request(Method::GET, &path, Some(token)).send().await.unwrap()).await;
            let text = reply.body.to_string();
            if reply.status != 200 && !(reply.status == 403 && reply.body["code"] == "forbidden") {
                failures.push(format!("A's {who}: GET {path}: {} {}", reply.status, short(&reply.body)));
            }
            let leaked: Vec<&String> = b_ids.iter().filter(|id| text.contains(id.as_str())).collect();
            if !leaked.is_empty() || text.contains(MARKER) {
                failures.push(format!("A's {who}: GET {path} shows B's rows {leaked:?}: {}", short(&reply.body)));
            }
        }
    }

    let action_path = format!("/api/v1/actions/{}", id(&draft_action));
    let with = |field: &str, value: Value| {
        let mut body = action_body("Otra propia", &day(0), &day(20), None);
        body[field] = value;
        body
    };
    let risk_with = |field: &str, value: Value| {
        let mut body = json!({"code": "RA-1", "process": "Gestión TIC", "kind": "management", "impact": "pérdida",
                              "immediate_cause": "falla", "root_cause": "causa", "annual_frequency": 1,
                              "economic_impact": "slight", "reputational_impact": "slight"});
        body[field] = value;
        body
    };
    let mut new_plan = plan_body("A-OTRO");
    new_plan["objective_ids"] = json!(["$X"]);
    let probes = [
        read_probe("/api/v1/actions?plan_id=$X".into(), b.plan),
        read_probe("/api/v1/actions?category_id=$X".into(), b.category),
        read_probe("/api/v1/actions?responsible_id=$X".into(), b.responsible),
        read_probe(format!("{plan_actions}?category_id=$X"), b.draft_category),
        read_probe("/api/v1/evidence?action_id=$X".into(), b.action),
        read_probe("/api/v1/findings?plan_id=$X".into(), b.plan),
        read_probe("/api/v1/findings?import_id=$X".into(), b.import),
        read_probe("/api/v1/plans?objective_id=$X".into(), b.objective),
        read_probe("/api/v1/audit-events?resource_id=$X".into(), b.plan),
        read_probe("/api/v1/audit-events?actor_id=$X".into(), b.responsible),
        write_probe(Method::POST, plan_actions.clone(), None, with("responsible_id", json!("$X")), b.responsible),
        write_probe(Method::POST, plan_actions.clone(), None, with("category_id", json!("$X")), b.draft_category),
        write_probe(Method::POST, plan_actions.clone(), None, with("finding_ids", json!(["$X"])), b.finding),
        write_probe(Method::POST, plan_actions.clone(), None, with("objective_ids", json!(["$X"])), b.objective),
        write_probe(
            Method::PATCH,
            action_path.clone(),
            Some(etag_of(&draft_action)),
            json!({"responsible_id": "$X"}),
            b.responsible,
        ),
        write_probe(
            Method::PATCH,
            action_path.clone(),
            Some(etag_of(&draft_action)),
            json!({"category_id": "$X"}),
            b.draft_category,
        ),
        write_probe(
            Method::PATCH,
            action_path.clone(),
            Some(etag_of(&draft_action)),
            json!({"finding_ids": ["$X"]}),
            b.finding,
        ),
        write_probe(
            Method::PATCH,
            action_path,
            Some(etag_of(&draft_action)),
            json!({"objective_ids": ["$X"]}),
            b.objective,
        ),
        write_probe(Method::POST, "/api/v1/plans".into(), None, new_plan, b.objective),
        read_probe("/api/v1/risks?action_id=$X".into(), b.action),
        read_probe("/api/v1/risks?owner_id=$X".into(), b.responsible),
        write_probe(Method::POST, "/api/v1/risks".into(), None, risk_with("action_ids", json!(["$X"])), b.action),
        write_probe(Method::POST, "/api/v1/risks".into(), None, risk_with("finding_ids", json!(["$X"])), b.finding),
        write_probe(Method::POST, "/api/v1/risks".into(), None, risk_with("owner_id", json!("$X")), b.responsible),
        write_probe(
            Method::POST,
            "/api/v1/reporting-periods".into(),
            None,
            json!({"name": "Corte A", "kind": "committee", "cut_off_date": day(-1), "filing_deadline": day(9),
                   "plan_ids": ["$X"]}),
            b.plan,
        ),
        write_probe(
            Method::POST,
            "/api/v1/reporting-periods".into(),
            None,
            json!({"name": "Corrección A", "kind": "other", "cut_off_date": day(-1), "filing_deadline": day(9),
                   "corrects_period_id": "$X"}),
            b.period,
        ),
        write_probe(
            Method::PATCH,
            format!("/api/v1/plans/{}", id(&draft)),
            Some(etag_of(&draft)),
            json!({"objective_ids": ["$X"]}),
            b.objective,
        ),
        write_probe(
            Method::PUT,
            format!("/api/v1/findings/{}/plan", id(&finding)),
            Some(etag_of(&finding)),
            json!({"plan_id": "$X"}),
            b.plan,
        ),
        write_probe(
            Method::POST,
            format!("/api/v1/actions/{ineffective}/reformulations"),
            None,
            json!({"reason": "No funcionó", "start_date": day(0), "due_date": day(30), "responsible_id": "$X"}),
            b.responsible,
        ),
    ];
    let unknown = Uuid::now_v7();
    for probe in &probes {
        let theirs = run_probe(&app, &a.all, probe, probe.target).await;
        let nobody = run_probe(&app, &a.all, probe, unknown).await;
        let same = normalized(&theirs, &[probe.target, unknown]) == normalized(&nobody, &[probe.target, unknown]);
        let refused_write = probe.method == Method::GET || (400..500).contains(&theirs.status);
        if !same || !refused_write || theirs.status >= 500 || theirs.body.to_string().contains(MARKER) {
            failures.push(contrast(
                format!("A: {} {} naming B's {}", probe.method, probe.path, probe.target),
                &theirs,
                &nobody,
            ));
        }
    }
    failures.extend(changes(&before, &snapshot(&app, &ops, &b).await));
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
