//! The ceiling for bench/run.sh: the same SQL as mejora's findings list and get-by-id, the same
//! JSON fields, served by bare actix-web + sqlx. No authentication, tenancy helper, audit,
//! problem rendering or middleware: the gap to mejora is what those layers cost.
use actix_web::{get, web, App, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};
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

#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(|_| std::io::Error::other("DATABASE_URL is required"))?;
    let bind = std::env::var("CEILING_BIND").unwrap_or_else(|_| "127.0.0.1:18182".into());
    let pool = PgPoolOptions::new().max_connections(10).connect(&url).await.map_err(std::io::Error::other)?;
    let pool = web::Data::new(pool);
    HttpServer::new(move || App::new().app_data(pool.clone()).service(list).service(get_one).service(health))
        .bind(bind)?
        .run()
        .await
}
