//! The ceiling for bench/run.sh: the same SQL as mejora's findings list and get-by-id, the same
//! JSON fields, served by bare actix-web + sqlx. No authentication, tenancy helper, audit,
//! problem rendering or middleware: the gap to mejora is what those layers cost.
//!
//! Writes: `POST /findings?org=` inserts the same finding row as mejora's `POST /findings` and
//! one audit row (its JSON and a SHA-256) in one transaction, without the per-organization
//! chain: the audit rows go to a separate organization id with positions from a sequence, so
//! the bench organization's chain stays intact and verifiable.
use actix_web::{get, post, web, App, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use uuid::Uuid;

#[derive(Serialize)]
struct Finding {
    id: Uuid,
    organization_id: Uuid,
    source: String,
    auditor: Option<String>,
    report_code: String,
    report_date: Option<chrono::NaiveDate>,
    fiscal_year: Option<i32>,
    finding_code: String,
    title: String,
    condition: Option<String>,
    criterion: Option<String>,
    cause: Option<String>,
    effect: Option<String>,
    classification: Option<String>,
    severity: Option<String>,
    requirements: serde_json::Value,
    status: String,
    plan_id: Option<Uuid>,
    repeats_finding_id: Option<Uuid>,
    import_id: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    created_by: Option<Uuid>,
    updated_by: Option<Uuid>,
    version: i32,
}

macro_rules! columns {
    () => {
        "id, organization_id, source, auditor, report_code, report_date, fiscal_year, finding_code, \
title, condition, criterion, cause, effect, classification, severity, requirements, status, plan_id, \
repeats_finding_id, import_id, created_at, updated_at, created_by, updated_by, version"
    };
}

fn decode(r: &PgRow) -> Result<Finding, sqlx::Error> {
    Ok(Finding {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        source: r.try_get("source")?,
        auditor: r.try_get("auditor")?,
        report_code: r.try_get("report_code")?,
        report_date: r.try_get("report_date")?,
        fiscal_year: r.try_get("fiscal_year")?,
        finding_code: r.try_get("finding_code")?,
        title: r.try_get("title")?,
        condition: r.try_get("condition")?,
        criterion: r.try_get("criterion")?,
        cause: r.try_get("cause")?,
        effect: r.try_get("effect")?,
        classification: r.try_get("classification")?,
        severity: r.try_get("severity")?,
        requirements: r.try_get("requirements")?,
        status: r.try_get("status")?,
        plan_id: r.try_get("plan_id")?,
        repeats_finding_id: r.try_get("repeats_finding_id")?,
        import_id: r.try_get("import_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        created_by: r.try_get("created_by")?,
        updated_by: r.try_get("updated_by")?,
        version: r.try_get("version")?,
    })
}

#[derive(Deserialize)]
struct ListQuery {
    org: Uuid,
    limit: Option<i64>,
    after: Option<Uuid>,
}

#[derive(Serialize)]
struct Page {
    items: Vec<Finding>,
    next_cursor: Option<String>,
}

#[get("/findings")]
async fn list(pool: web::Data<PgPool>, q: web::Query<ListQuery>) -> HttpResponse {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    const FIRST: &str = concat!("SELECT ", columns!(), " FROM finding WHERE organization_id = $1 ORDER BY id LIMIT $2");
    const AFTER: &str =
        concat!("SELECT ", columns!(), " FROM finding WHERE organization_id = $1 AND id > $3 ORDER BY id LIMIT $2");
    let query = match q.after {
        None => sqlx::query(FIRST).bind(q.org).bind(limit + 1),
        Some(after) => sqlx::query(AFTER).bind(q.org).bind(limit + 1).bind(after),
    };
    let rows = query.fetch_all(pool.get_ref()).await;
    match rows.and_then(|rows| rows.iter().map(decode).collect::<Result<Vec<_>, _>>()) {
        Ok(mut items) => {
            let more = items.len() as i64 > limit;
            items.truncate(limit as usize);
            let next_cursor = if more { items.last().map(|f| f.id.to_string()) } else { None };
            HttpResponse::Ok().json(Page { items, next_cursor })
        }
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[derive(Deserialize)]
struct OrgQuery {
    org: Uuid,
}

#[get("/findings/{id}")]
async fn get_one(pool: web::Data<PgPool>, id: web::Path<Uuid>, q: web::Query<OrgQuery>) -> HttpResponse {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM finding WHERE organization_id = $1 AND id = $2");
    match sqlx::query(SQL).bind(q.org).bind(*id).fetch_optional(pool.get_ref()).await {
        Ok(Some(row)) => match decode(&row) {
            Ok(f) => HttpResponse::Ok().json(f),
            Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
        },
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[derive(Deserialize)]
struct NewFinding {
    source: String,
    report_code: String,
    finding_code: String,
    title: String,
    classification: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    requirements: Vec<String>,
}

/// The organization id the ceiling's audit rows are written under (not a real organization).
const CEILING_AUDIT_ORG: Uuid = Uuid::from_u128(0xce11);

async fn insert(pool: &PgPool, org: Uuid, f: NewFinding) -> Result<Finding, sqlx::Error> {
    let now = chrono::Utc::now();
    let id = Uuid::now_v7();
    let search = format!("{} {} {}", f.finding_code, f.report_code, f.title).to_lowercase();
    let finding = Finding {
        id,
        organization_id: org,
        source: f.source,
        auditor: None,
        report_code: f.report_code,
        report_date: None,
        fiscal_year: None,
        finding_code: f.finding_code,
        title: f.title,
        condition: None,
        criterion: None,
        cause: None,
        effect: None,
        classification: f.classification,
        severity: f.severity,
        requirements: serde_json::json!(f.requirements),
        status: "open".into(),
        plan_id: None,
        repeats_finding_id: None,
        import_id: None,
        created_at: now,
        updated_at: now,
        created_by: None,
        updated_by: None,
        version: 1,
    };
    let after = serde_json::to_value(&finding).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let hash = hex::encode(Sha256::digest(after.to_string().as_bytes()));
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO finding (id, organization_id, source, report_code, finding_code, title, classification, \
         severity, requirements, presumed_incidence, status, search, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '[]', 'open', $10, $11, $11, 1)",
    )
    .bind(id)
    .bind(org)
    .bind(&finding.source)
    .bind(&finding.report_code)
    .bind(&finding.finding_code)
    .bind(&finding.title)
    .bind(&finding.classification)
    .bind(&finding.severity)
    .bind(&finding.requirements)
    .bind(search)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO audit_event (id, organization_id, seq, occurred_at, actor_kind, actor_roles, resource_type, \
         resource_id, operation, after, prev_hash, hash) \
         VALUES ($1, $2, nextval('ceiling_audit_seq'), $3, 'user', '[\"auditor\"]', 'finding', $4, 'create', $5, '', $6)",
    )
    .bind(Uuid::now_v7())
    .bind(CEILING_AUDIT_ORG)
    .bind(now)
    .bind(id.to_string())
    .bind(after)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(finding)
}

#[post("/findings")]
async fn create(pool: web::Data<PgPool>, q: web::Query<OrgQuery>, body: web::Json<NewFinding>) -> HttpResponse {
    match insert(pool.get_ref(), q.org, body.into_inner()).await {
        Ok(f) => HttpResponse::Created().json(f),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(|_| std::io::Error::other("DATABASE_URL is required"))?;
    let bind = std::env::var("CEILING_BIND").unwrap_or_else(|_| "127.0.0.1:18182".into());
    let pool = PgPoolOptions::new().max_connections(10).connect(&url).await.map_err(std::io::Error::other)?;
    sqlx::query("CREATE SEQUENCE IF NOT EXISTS ceiling_audit_seq")
        .execute(&pool)
        .await
        .map_err(std::io::Error::other)?;
    let pool = web::Data::new(pool);
    HttpServer::new(move || {
        App::new().app_data(pool.clone()).service(list).service(get_one).service(create).service(health)
    })
    .bind(bind)?
    .run()
    .await
}
