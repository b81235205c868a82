//! Batched writes of uploaded rows: one `INSERT … ON CONFLICT` statement per batch. On
//! PostgreSQL the batch travels as a single JSON parameter expanded by `json_to_recordset`
//! (no bind-parameter limit, one round trip); on SQLite as a multi-row `VALUES` list.
//!
//! On a natural-key conflict, `skip` leaves the stored finding alone; `update` overwrites it
//! with the row's non-empty values and bumps its version, but only when something differs, so
//! re-uploading a file changes nothing. New rows come back with version 1 and changed rows with
//! a higher one, which is how the counts are told apart.
use super::rows::ImportRow;
use crate::entities::enums::ConflictPolicy;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use uuid::Uuid;

/// Rows per statement.
pub fn batch_rows(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 2000,
        // 26 parameters per row; SQLite allows 32,766 per statement.
        _ => 1000,
    }
}

/// What every row of one upload shares.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Organization.
    pub org: Uuid,
    /// The upload.
    pub import_id: Uuid,
    /// Who uploaded it.
    pub actor: Option<Uuid>,
    /// Timestamp of the upload.
    pub now: DateTime<Utc>,
    /// What to do with existing natural keys.
    pub on_conflict: ConflictPolicy,
}

/// Findings created and changed by one batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// New findings.
    pub created: u64,
    /// Existing findings changed.
    pub updated: u64,
}

/// Columns an upload may overwrite on an existing finding (when the row has a value).
const OPTIONAL: [&str; 12] = [
    "auditor",
    "report_date",
    "fiscal_year",
    "condition",
    "criterion",
    "cause",
    "effect",
    "classification",
    "severity",
    "title",
    "search",
    "fiscal_amount",
];

const INSERT_COLUMNS: &str = "\"id\", \"organization_id\", \"source\", \"auditor\", \"report_code\", \"report_date\", \
\"fiscal_year\", \"finding_code\", \"title\", \"condition\", \"criterion\", \"cause\", \"effect\", \"classification\", \
\"severity\", \"requirements\", \"status\", \"import_id\", \"search\", \"created_at\", \"updated_at\", \"created_by\", \
\"updated_by\", \"version\", \"presumed_incidence\", \"fiscal_amount\"";

/// The assignments and the "something differs" condition of an update, with `new` the
/// uploaded row and `old` the stored finding; `distinct` is the backend's null-safe "differs".
fn changes(new: &str, old: &str, distinct: &str, empty_list: &str) -> (Vec<String>, String) {
    let mut sets = Vec::new();
    let mut differs = Vec::new();
    for col in OPTIONAL {
        sets.push(format!("\"{col}\" = COALESCE({new}.\"{col}\", {old}.\"{col}\")"));
        differs.push(format!("({new}.\"{col}\" IS NOT NULL AND {new}.\"{col}\" {distinct} {old}.\"{col}\")"));
    }
    sets.push(format!(
        "\"requirements\" = CASE WHEN {new}.\"requirements\" = {empty_list} THEN {old}.\"requirements\" \
         ELSE {new}.\"requirements\" END"
    ));
    differs.push(format!(
        "({new}.\"requirements\" <> {empty_list} AND {new}.\"requirements\" {distinct} {old}.\"requirements\")"
    ));
    sets.push(format!(
        "\"presumed_incidence\" = CASE WHEN {new}.\"presumed_incidence\" = {empty_list} THEN {old}.\"presumed_incidence\" \
         ELSE {new}.\"presumed_incidence\" END"
    ));
    differs.push(format!(
        "({new}.\"presumed_incidence\" <> {empty_list} AND {new}.\"presumed_incidence\" {distinct} {old}.\"presumed_incidence\")"
    ));
    sets.push(format!("\"version\" = {old}.\"version\" + 1"));
    (sets, differs.join(" OR "))
}

const CONFLICT_TARGET: &str = "ON CONFLICT (\"organization_id\", \"report_code\", \"source\", \"finding_code\")";

/// `ON CONFLICT …` clause of the multi-row `VALUES` statement.
fn on_conflict(policy: ConflictPolicy, distinct: &str, empty_list: &str) -> String {
    if policy == ConflictPolicy::Skip {
        return format!("{CONFLICT_TARGET} DO NOTHING");
    }
    let (mut sets, differs) = changes("excluded", "\"finding\"", distinct, empty_list);
    for col in ["import_id", "updated_at", "updated_by"] {
        sets.push(format!("\"{col}\" = excluded.\"{col}\""));
    }
    format!("{CONFLICT_TARGET} DO UPDATE SET {} WHERE {differs}", sets.join(", "))
}

/// The batch as 19 column arrays (`uuid[]` and `text[]`), which PostgreSQL decodes far more
/// cheaply than JSON. Arrays carry no NULLs (the driver cannot bind them): an absent value is
/// the empty string, which a valid row never holds, and the statement turns it back into NULL.
fn columns(rows: Vec<ImportRow>) -> Vec<Value> {
    let n = rows.len();
    let mut ids: Vec<Uuid> = Vec::with_capacity(n);
    let mut texts: Vec<Vec<String>> = (0..18).map(|_| Vec::with_capacity(n)).collect();
    for r in rows {
        ids.push(r.id);
        let cells = [
            r.source.code().to_string(),
            r.auditor.unwrap_or_default(),
            r.report_code,
            r.report_date.map(|d| d.to_string()).unwrap_or_default(),
            r.fiscal_year.map(|y| y.to_string()).unwrap_or_default(),
            r.finding_code,
            r.title,
            r.condition.unwrap_or_default(),
            r.criterion.unwrap_or_default(),
            r.cause.unwrap_or_default(),
            r.effect.unwrap_or_default(),
            r.classification.map(|v| v.code().to_string()).unwrap_or_default(),
            r.severity.map(|v| v.code().to_string()).unwrap_or_default(),
            r.status.code().to_string(),
            serde_json::to_string(&r.requirements).unwrap_or_else(|_| "[]".to_string()),
            r.search,
            serde_json::to_string(&r.presumed_incidence).unwrap_or_else(|_| "[]".to_string()),
            r.fiscal_amount.map(|a| a.to_string()).unwrap_or_default(),
        ];
        for (column, cell) in texts.iter_mut().zip(cells) {
            column.push(cell);
        }
    }
    let mut values: Vec<Value> = Vec::with_capacity(19);
    values.push(ids.into());
    values.extend(texts.into_iter().map(Value::from));
    values
}

/// `r`: the batch as rows. Parameters: $1 organization, $2 import, $3 timestamp, $4 actor,
/// $5… the column arrays.
const RECORDSET: &str = "WITH x AS (SELECT * FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], \
$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], \
$19::text[], $20::text[], $21::text[], $22::text[], $23::text[]) AS x(\"id\", \"source\", \"auditor\", \"report_code\", \"report_date\", \
\"fiscal_year\", \"finding_code\", \"title\", \"condition\", \"criterion\", \"cause\", \"effect\", \"classification\", \
\"severity\", \"status\", \"requirements\", \"search\", \"presumed_incidence\", \"fiscal_amount\")), \
r AS (SELECT \"id\", \"source\", NULLIF(\"auditor\", '') AS \"auditor\", \"report_code\", \
NULLIF(\"report_date\", '')::date AS \"report_date\", NULLIF(\"fiscal_year\", '')::int AS \"fiscal_year\", \
\"finding_code\", \"title\", NULLIF(\"condition\", '') AS \"condition\", NULLIF(\"criterion\", '') AS \"criterion\", \
NULLIF(\"cause\", '') AS \"cause\", NULLIF(\"effect\", '') AS \"effect\", \
NULLIF(\"classification\", '') AS \"classification\", NULLIF(\"severity\", '') AS \"severity\", \"status\", \
\"requirements\"::jsonb AS \"requirements\", \"search\", \"presumed_incidence\"::jsonb AS \"presumed_incidence\", \
NULLIF(\"fiscal_amount\", '')::numeric AS \"fiscal_amount\" FROM x)";

const SELECT_NEW: &str =
    "SELECT \"id\", $1, \"source\", \"auditor\", \"report_code\", \"report_date\", \"fiscal_year\", \
\"finding_code\", \"title\", \"condition\", \"criterion\", \"cause\", \"effect\", \"classification\", \"severity\", \
\"requirements\", \"status\", $2, \"search\", $3, $3, $4, $4, 1, \"presumed_incidence\", \"fiscal_amount\" FROM r";

/// The PostgreSQL statement of a batch for `policy` (the same text for every batch of an
/// upload, so the server prepares it once).
pub fn postgres_sql(policy: ConflictPolicy) -> String {
    let insert = format!(
        "INSERT INTO \"finding\" ({INSERT_COLUMNS}) {SELECT_NEW} {}",
        on_conflict(policy, "IS DISTINCT FROM", "'[]'::jsonb")
    );
    match policy {
        // Only new rows are written: the affected-row count is the number created.
        ConflictPolicy::Skip => format!("{RECORDSET} {insert}"),
        ConflictPolicy::Update => format!(
            "{RECORDSET}, w AS ({insert} RETURNING \"version\") SELECT count(*) FILTER (WHERE \"version\" = 1) \
             AS created, count(*) FILTER (WHERE \"version\" > 1) AS updated FROM w"
        ),
    }
}

async fn write_postgres(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    sql: &str,
    rows: Vec<ImportRow>,
) -> Result<Written, DbErr> {
    let mut values: Vec<Value> = vec![ctx.org.into(), ctx.import_id.into(), ctx.now.into(), ctx.actor.into()];
    values.extend(columns(rows));
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    if ctx.on_conflict == ConflictPolicy::Skip {
        let created = conn.execute_raw(statement).await?.rows_affected();
        return Ok(Written { created, updated: 0 });
    }
    let row =
        conn.query_one_raw(statement).await?.ok_or_else(|| DbErr::Custom("batch insert returned no counts".into()))?;
    let count = |name: &str| -> Result<u64, DbErr> { Ok(u64::try_from(row.try_get::<i64>("", name)?).unwrap_or(0)) };
    Ok(Written { created: count("created")?, updated: count("updated")? })
}

async fn write_values(conn: &impl ConnectionTrait, ctx: &Context, rows: Vec<ImportRow>) -> Result<Written, DbErr> {
    let backend = conn.get_database_backend();
    const PER_ROW: usize = 26;
    let placeholders = format!("({})", vec!["?"; PER_ROW].join(", "));
    let mut sql = format!("INSERT INTO \"finding\" ({INSERT_COLUMNS}) VALUES ");
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * PER_ROW);
    for (i, r) in rows.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&placeholders);
        let requirements = serde_json::to_value(&r.requirements).map_err(|e| DbErr::Custom(e.to_string()))?;
        let incidence = serde_json::to_value(&r.presumed_incidence).map_err(|e| DbErr::Custom(e.to_string()))?;
        values.extend([
            r.id.into(),
            ctx.org.into(),
            r.source.code().into(),
            r.auditor.into(),
            r.report_code.into(),
            r.report_date.into(),
            r.fiscal_year.into(),
            r.finding_code.into(),
            r.title.into(),
            r.condition.into(),
            r.criterion.into(),
            r.cause.into(),
            r.effect.into(),
            r.classification.map(|v| v.code()).into(),
            r.severity.map(|v| v.code()).into(),
            requirements.into(),
            r.status.code().into(),
            Some(ctx.import_id).into(),
            r.search.into(),
            ctx.now.into(),
            ctx.now.into(),
            ctx.actor.into(),
            ctx.actor.into(),
            1i32.into(),
            incidence.into(),
            r.fiscal_amount.into(),
        ]);
    }
    sql.push(' ');
    sql.push_str(&on_conflict(ctx.on_conflict, "IS NOT", "'[]'"));
    sql.push_str(" RETURNING \"version\"");
    let returned = conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut written = Written::default();
    for row in returned {
        if row.try_get::<i32>("", "version")? == 1 {
            written.created += 1;
        } else {
            written.updated += 1;
        }
    }
    Ok(written)
}

/// Writes one batch; `pg_sql` is [`postgres_sql`] for PostgreSQL connections.
pub async fn write_batch(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    pg_sql: &str,
    rows: Vec<ImportRow>,
) -> Result<Written, DbErr> {
    if rows.is_empty() {
        return Ok(Written::default());
    }
    match conn.get_database_backend() {
        DbBackend::Postgres => write_postgres(conn, ctx, pg_sql, rows).await,
        _ => write_values(conn, ctx, rows).await,
    }
}
