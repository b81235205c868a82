//! The OpenAPI 3.1 document: collected from the handlers registered with `.service()`, then
//! completed with the problem responses every operation can give.
use crate::dto::actions::ActionSort;
use crate::dto::findings::FindingSort;
use crate::dto::plan_matrix::{ExportFormat, ExportLayout, Modality};
use crate::dto::plans::PlanSort;
use crate::dto::risks::RiskSheetFormat;
use crate::error::{ErrorCode, FieldError, Problem};
use crate::routes;
use actix_web::App;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

pub use crate::error::PROBLEM_JSON;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut Document) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from /api/v1/auth/login or /api/v1/auth/token"))
                    .build(),
            ),
        );
    }
}

/// Every enumeration of `/api/v1/enums` is a component, from the same list.
struct Enumerations;

impl Modify for Enumerations {
    fn modify(&self, api: &mut Document) {
        let components = api.components.get_or_insert_with(Default::default);
        for (name, schema) in crate::dto::enums::schemas() {
            components.schemas.entry(name.to_string()).or_insert(schema);
        }
    }
}

/// Static parts of the document: info, tags, shared schemas, security scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "mejora API",
        version = "1.0.0",
        description = "Information-security continuous improvement for Colombian public entities (MSPI, MinTIC): \
evaluation scores and audit findings, improvement plans aligned with PEI/PETI, actions, follow-up evidence and \
effectiveness review. Errors are RFC 9457 problem documents with a stable `code`; send `Accept-Language: es` \
for Spanish titles.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    // Enumerations used only in query parameters: utoipa collects schemas from bodies and
    // responses, not from `IntoParams` (juhaku/utoipa#1165), so they are registered here;
    // `tests/api/openapi_refs.rs` fails on any `$ref` left dangling.
    components(schemas(Problem, FieldError, ErrorCode, ActionSort, FindingSort, PlanSort, ExportFormat, ExportLayout, Modality, RiskSheetFormat)),
    modifiers(&BearerAuth, &Enumerations),
    tags(
        (name = "auth", description = "Sign-in, token refresh and client credentials"),
        (name = "me", description = "The authenticated caller"),
        (name = "organizations", description = "Public entities (tenants)"),
        (name = "users", description = "People of the organization and their roles"),
        (name = "service-accounts", description = "Institutional systems calling the API"),
        (name = "objectives", description = "PEI and PETI strategic objectives that plans serve"),
        (name = "plans", description = "Improvement plans and their lifecycle"),
        (name = "categories", description = "Scored categories of a plan, with improvement alternatives"),
        (name = "findings", description = "Audit findings (hallazgos), their lifecycle and bulk uploads of audit results"),
        (name = "actions", description = "Improvement actions, their evaluation and reformulation"),
        (name = "evidence", description = "Follow-up evidence, its files and its review"),
        (name = "reports", description = "Progress reports of a plan and the organization's dashboard"),
        (name = "reporting-periods", description = "Reporting cut-offs (SIRECI semiannual, committee): closing stores figures that never change; filing makes them read-only"),
        (name = "risks", description = "Digital-security risk register (mapa de riesgos, DAFP methodology): assets, risks, controls, appetite, reviews, incidents and the heat map"),
        (name = "audit", description = "Append-only, hash-chained audit trail"),
        (name = "webhooks", description = "Signed webhooks (Standard Webhooks): subscriptions, deliveries, retries"),
        (name = "enums", description = "Enumerations with Spanish and English labels"),
        (name = "health", description = "Liveness and readiness probes"),
    )
)]
pub struct ApiDoc;

/// The complete document, as served at `/api/v1/openapi.json` and committed in `openapi/`.
pub fn document() -> Document {
    let (_, api) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes::configure).split_for_parts();
    complete(api)
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .build()
        .into()
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.to_string()).or_insert_with(|| problem(description));
}

/// Adds the problem responses every operation may give (and 412/428 to every operation that
/// takes `If-Match`) and moves error bodies to
/// `application/problem+json`.
pub fn complete(mut api: Document) -> Document {
    // Paths carry the `/api/v1` prefix, so the server is the origin the document is read from.
    api.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    for (path, item) in api.paths.paths.iter_mut() {
        let ops = [
            (item.get.as_mut(), false),
            (item.post.as_mut(), true),
            (item.put.as_mut(), true),
            (item.patch.as_mut(), true),
            (item.delete.as_mut(), false),
        ];
        for (op, writes) in ops {
            let Some(op) = op else { continue };
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    if let Some(content) = response.content.shift_remove("application/json") {
                        let is_problem = matches!(&content, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")));
                        let key = if is_problem { PROBLEM_JSON } else { "application/json" };
                        response.content.insert(key.to_string(), content);
                    }
                }
            }
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if !secured {
                // Public operations say so (`security: []`) instead of leaving it unstated.
                op.security = Some(Vec::new());
            }
            if path != "/health/live" {
                add(op, "400", "Malformed request: invalid JSON, query, path or header");
                add(op, "503", "Database unavailable; retry later");
            }
            if secured {
                add(op, "401", "Missing, invalid or expired access token");
                add(op, "403", "Your roles do not allow this operation");
            }
            if writes && op.request_body.is_some() {
                add(op, "413", "Body too large");
                add(op, "415", "Unsupported media type");
            }
            let idempotent = op
                .parameters
                .as_ref()
                .is_some_and(|ps| ps.iter().any(|p| matches!(p, RefOr::T(p) if p.name == "Idempotency-Key")));
            if idempotent {
                add(op, "422", "Invalid fields, or the Idempotency-Key was used with another request");
            }
            let conditional = op
                .parameters
                .as_ref()
                .is_some_and(|ps| ps.iter().any(|p| matches!(p, RefOr::T(p) if p.name == "If-Match")));
            if conditional {
                add(op, "412", "Stale If-Match");
                add(op, "428", "If-Match missing");
            }
            if path.ends_with("/auth/login") || path.ends_with("/auth/token") {
                add(op, "429", "Too many failed attempts; see Retry-After");
            }
            add(op, "500", "Internal error (details are logged, never sent)");
        }
    }
    crate::ops::rate_limit::document(&mut api);
    share_page_items(&mut api);
    add_links(&mut api);
    api
}

/// `(from operation, link name, to operation, also pass the ETag as If-Match, request body)`.
type LinkSpec = (&'static str, &'static str, &'static str, bool, Option<&'static str>);

/// OpenAPI links along the plan → category → action → evidence chain: the id (and the ETag,
/// for operations that need `If-Match`) a creation answers with is what the next call takes.
/// Clients read them as documentation; schemathesis follows them in stateful runs.
const LINKS: &[LinkSpec] = &[
    ("create_plan", "GetPlan", "get_plan", false, None),
    ("create_plan", "UpdatePlan", "update_plan", true, None),
    ("create_plan", "SubmitPlan", "submit_plan", true, None),
    ("create_plan", "CreateCategory", "create_category", false, None),
    ("create_plan", "CreateAction", "create_action", false, None),
    ("create_plan", "PlanReport", "plan_report", false, None),
    ("create_category", "GetCategory", "get_category", false, None),
    ("create_category", "UpdateCategory", "update_category", true, None),
    ("create_category", "CreateActionInCategory", "create_action", false, Some("category_id")),
    ("create_action", "GetAction", "get_action", false, None),
    ("create_action", "UpdateAction", "update_action", true, None),
    ("create_action", "EvaluateAction", "evaluate_action", true, None),
    ("create_action", "CreateEvidence", "create_evidence", false, None),
    ("create_evidence", "GetEvidence", "get_evidence", false, None),
    ("create_evidence", "UpdateEvidence", "update_evidence", true, None),
    ("create_evidence", "ReviewEvidence", "review_evidence", true, None),
    ("create_evidence", "UploadEvidenceFile", "upload_evidence_file", false, None),
    ("create_asset", "GetAsset", "get_asset", false, None),
    ("create_asset", "UpdateAsset", "update_asset", true, None),
    ("create_risk", "GetRisk", "get_risk", false, None),
    ("create_risk", "UpdateRisk", "update_risk", true, None),
    ("create_risk", "CreateRiskControl", "create_risk_control", false, None),
    ("create_risk", "CreateRiskReview", "create_risk_review", false, None),
    ("create_risk_control", "GetRiskControl", "get_risk_control", false, None),
    ("create_risk_control", "UpdateRiskControl", "update_risk_control", true, None),
];

fn add_links(api: &mut Document) {
    for item in api.paths.paths.values_mut() {
        let Some(op) = item.post.as_mut() else { continue };
        let Some(from) = op.operation_id.clone() else { continue };
        let Some(RefOr::T(created)) = op.responses.responses.get_mut("201") else { continue };
        for (_, name, to, if_match, field) in LINKS.iter().filter(|l| l.0 == from) {
            // A category's actions go to the category's plan, with the category in the body.
            let id = if field.is_some() { "$response.body#/plan_id" } else { "$response.body#/id" };
            let mut link = LinkBuilder::new().operation_id(*to).parameter("id", id);
            if *if_match {
                link = link.parameter("header.If-Match", "$response.header.ETag");
            }
            if let Some(field) = field {
                link = link.request_body(Some(serde_json::json!({ *field: "$response.body#/id" })));
            }
            created.links.insert((*name).to_string(), link.build().into());
        }
    }
}

/// Points the items of every `Page_X` schema at the `X` component. utoipa composes generic
/// arguments inline, so each page would carry its own copy of the item schema and generated
/// clients would get two types (`PlanResponse`, `PagePlanResponseItemsItem`) for one resource.
fn share_page_items(api: &mut Document) {
    let Some(components) = api.components.as_mut() else { return };
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("Page_") else { continue };
        if !components.schemas.contains_key(item) {
            continue;
        }
        let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(&name) else { continue };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
        }
    }
}

/// The document as pretty JSON with a trailing newline (the committed file's format).
pub fn to_pretty_json(api: &Document) -> String {
    let mut text = api.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
