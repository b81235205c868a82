//! Batched writes of uploaded rows: one `INSERT … ON CONFLICT` statement per batch. On
//! PostgreSQL the batch travels as column arrays expanded by `unnest` (one round trip); on
//! SQLite as a multi-row `VALUES` list.
//!
//! On a natural-key conflict, `skip` leaves the stored finding alone; `update` overwrites it
//! with the row's non-empty values and bumps its version, but only when something differs, so
//! re-uploading a file changes nothing, and never when the finding is closed (the row is
//! reported instead). An update gives back the finding before and after, for its audit event:
//! PostgreSQL reads the old rows in the same statement (every part of a statement sees the
//! same snapshot; a change another transaction commits in between has its own event, so the
//! trail stays complete); SQLite reads them just before, on its single connection. Locking the
//! batch's rows first would make "before" exact under concurrency but costs a tuple write per
//! row even when nothing changes.
use super::rows::ImportRow;
use crate::entities::enums::{ConflictPolicy, FindingStatus};
use crate::entities::finding;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Iden, Iterable, QueryResult, Statement, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Statuses an upload never rewrites.
const CLOSED: [FindingStatus; 2] = [FindingStatus::ClosedCompliant, FindingStatus::ClosedEffective];

fn closed_list() -> String {
    CLOSED.iter().map(|s| format!("'{}'", s.code())).collect::<Vec<_>>().join(", ")
}

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
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// New findings.
    pub created: u64,
    /// Existing findings changed, as (before, after).
    pub updated: Vec<(finding::Model, finding::Model)>,
    /// Rows (as row errors count them) that would have changed a closed finding.
    pub closed_rows: Vec<u64>,
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
    format!(
        "{CONFLICT_TARGET} DO UPDATE SET {} WHERE ({differs}) AND \"finding\".\"status\" NOT IN ({})",
        sets.join(", "),
        closed_list()
    )
}

/// Joins the stored finding `f` to the uploaded row `r` with the same natural key.
fn same_key(f: &str, r: &str) -> String {
    ["source", "report_code", "finding_code"].map(|c| format!("{f}.\"{c}\" = {r}.\"{c}\"")).join(" AND ")
}

/// `alias."col" AS "prefixcol"` for every finding column.
fn prefixed(alias: &str, prefix: &str) -> String {
    finding::Column::iter()
        .map(|c| format!("{alias}.\"{0}\" AS \"{prefix}{0}\"", c.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The batch as 20 column arrays (`uuid[]`, `text[]` and the row numbers), which PostgreSQL
/// decodes far more cheaply than JSON. Arrays carry no NULLs (the driver cannot bind them): an
/// absent value is the empty string, which a valid row never holds, and the statement turns it
/// back into NULL.
fn columns(rows: Vec<ImportRow>) -> Vec<Value> {
    let n = rows.len();
    let mut ids: Vec<Uuid> = Vec::with_capacity(n);
    let mut row_nos: Vec<i64> = Vec::with_capacity(n);
    let mut texts: Vec<Vec<String>> = (0..18).map(|_| Vec::with_capacity(n)).collect();
    for r in rows {
        ids.push(r.id);
        row_nos.push(i64::try_from(r.row).unwrap_or(i64::MAX));
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
    let mut values: Vec<Value> = Vec::with_capacity(20);
    values.push(ids.into());
    values.extend(texts.into_iter().map(Value::from));
    values.push(row_nos.into());
    values
}

/// `r`: the batch as rows. Parameters: $1 organization, $2 import, $3 timestamp, $4 actor,
/// $5… the column arrays, $24 the row numbers.
const RECORDSET: &str = "WITH x AS (SELECT * FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], \
$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], \
$19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::int8[]) AS x(\"id\", \"source\", \"auditor\", \
\"report_code\", \"report_date\", \"fiscal_year\", \"finding_code\", \"title\", \"condition\", \"criterion\", \"cause\", \
\"effect\", \"classification\", \"severity\", \"status\", \"requirements\", \"search\", \"presumed_incidence\", \
\"fiscal_amount\", \"row_no\")), \
r AS (SELECT \"row_no\", \"id\", \"source\", NULLIF(\"auditor\", '') AS \"auditor\", \"report_code\", \
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
        ConflictPolicy::Update => {
            let (_, differs) = changes("r", "old", "IS DISTINCT FROM", "'[]'::jsonb");
            format!(
                "{RECORDSET}, \
                 old AS (SELECT f.* FROM \"finding\" f JOIN r ON f.\"organization_id\" = $1 AND {key}), \
                 closed AS (SELECT r.\"row_no\" FROM r JOIN old ON {old_key} \
                   WHERE old.\"status\" IN ({closed}) AND ({differs})), \
                 w AS ({insert} RETURNING *), \
                 c AS (SELECT (SELECT count(*) FROM w WHERE w.\"version\" = 1) AS \"created\", \
                   (SELECT COALESCE(array_agg(\"row_no\" ORDER BY \"row_no\"), '{{}}') FROM closed) AS \"closed_rows\") \
                 SELECT c.\"created\", c.\"closed_rows\", u.* FROM c LEFT JOIN \
                   (SELECT {after}, {before} FROM w JOIN old ON old.\"id\" = w.\"id\") u ON true",
                key = same_key("f", "r"),
                old_key = same_key("old", "r"),
                closed = closed_list(),
                after = prefixed("w", "a_"),
                before = prefixed("old", "b_"),
            )
        }
    }
}

/// The (before, after) pair of an updated finding in a result row, if the row holds one.
fn change_of(row: &QueryResult) -> Result<Option<(finding::Model, finding::Model)>, DbErr> {
    if row.try_get::<Option<Uuid>>("", "a_id")?.is_none() {
        return Ok(None);
    }
    Ok(Some((finding::Model::from_query_result(row, "b_")?, finding::Model::from_query_result(row, "a_")?)))
}

async fn write_postgres(
    conn: &impl ConnectionTrait, ctx: &Context, sql: &str, rows: Vec<ImportRow>,
) -> Result<Written, DbErr> {
    let mut values: Vec<Value> = vec![ctx.org.into(), ctx.import_id.into(), ctx.now.into(), ctx.actor.into()];
    values.extend(columns(rows));
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    if ctx.on_conflict == ConflictPolicy::Skip {
        let created = conn.execute_raw(statement).await?.rows_affected();
        return Ok(Written { created, ..Written::default() });
    }
    let result = conn.query_all_raw(statement).await?;
    let first = result.first().ok_or_else(|| DbErr::Custom("batch insert returned no counts".into()))?;
    let created = u64::try_from(first.try_get::<i64>("", "created")?).unwrap_or(0);
    let closed: Vec<i64> = first.try_get("", "closed_rows")?;
    let mut written = Written {
        created,
        updated: Vec::new(),
        closed_rows: closed.into_iter().map(|r| u64::try_from(r).unwrap_or(0)).collect(),
    };
    for row in &result {
        if let Some(change) = change_of(row)? {
            written.updated.push(change);
        }
    }
    Ok(written)
}

/// SQLite, `on_conflict=update`: the stored findings the batch's keys name, each with whether
/// the row would change it, keyed by finding id.
async fn existing_sqlite(
    conn: &impl ConnectionTrait, ctx: &Context, rows: &[ImportRow],
) -> Result<(HashMap<Uuid, finding::Model>, Vec<u64>), DbErr> {
    // The row number, the natural key, the columns an upload may overwrite, the lists.
    let cols: Vec<&str> = ["row_no", "source", "report_code", "finding_code"]
        .into_iter()
        .chain(OPTIONAL)
        .chain(["requirements", "presumed_incidence"])
        .collect();
    let placeholders = format!("({})", vec!["?"; cols.len()].join(", "));
    let names = cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let mut sql = format!("WITH r({names}) AS (VALUES ");
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * cols.len() + 1);
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&placeholders);
        let requirements = serde_json::to_value(&r.requirements).map_err(|e| DbErr::Custom(e.to_string()))?;
        values.extend([
            i64::try_from(r.row).unwrap_or(i64::MAX).into(),
            r.source.code().into(),
            r.report_code.clone().into(),
            r.finding_code.clone().into(),
            r.auditor.clone().into(),
            r.report_date.into(),
            r.fiscal_year.into(),
            r.condition.clone().into(),
            r.criterion.clone().into(),
            r.cause.clone().into(),
            r.effect.clone().into(),
            r.classification.map(|v| v.code()).into(),
            r.severity.map(|v| v.code()).into(),
            r.title.clone().into(),
            r.search.clone().into(),
            r.fiscal_amount.into(),
            requirements.into(),
            serde_json::to_value(&r.presumed_incidence).map_err(|e| DbErr::Custom(e.to_string()))?.into(),
        ]);
    }
    let (_, differs) = changes("r", "f", "IS NOT", "'[]'");
    sql.push_str(&format!(
        ") SELECT r.\"row_no\" AS \"row_no\", ({differs}) AS \"differs\", {found} FROM r JOIN \"finding\" f \
         ON f.\"organization_id\" = ? AND {key}",
        found = prefixed("f", "b_"),
        key = same_key("f", "r"),
    ));
    values.push(ctx.org.into());
    let found = conn.query_all_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await?;
    let mut before = HashMap::with_capacity(found.len());
    let mut closed_rows = Vec::new();
    for row in found {
        let model = finding::Model::from_query_result(&row, "b_")?;
        if CLOSED.contains(&model.status) && row.try_get::<bool>("", "differs")? {
            closed_rows.push(u64::try_from(row.try_get::<i64>("", "row_no")?).unwrap_or(0));
        }
        before.insert(model.id, model);
    }
    closed_rows.sort_unstable();
    Ok((before, closed_rows))
}

async fn write_values(conn: &impl ConnectionTrait, ctx: &Context, rows: Vec<ImportRow>) -> Result<Written, DbErr> {
    let backend = conn.get_database_backend();
    let (mut before, closed_rows) = match ctx.on_conflict {
        ConflictPolicy::Update => existing_sqlite(conn, ctx, &rows).await?,
        ConflictPolicy::Skip => Default::default(),
    };
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
    let mut written = Written { closed_rows, ..Written::default() };
    if ctx.on_conflict == ConflictPolicy::Skip {
        written.created = conn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
        return Ok(written);
    }
    sql.push_str(" RETURNING *");
    let returned = conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    for row in returned {
        let after = finding::Model::from_query_result(&row, "")?;
        match before.remove(&after.id) {
            Some(old) => written.updated.push((old, after)),
            None => written.created += 1,
        }
    }
    Ok(written)
}

/// Writes one batch; `pg_sql` is [`postgres_sql`] for PostgreSQL connections.
pub async fn write_batch(
    conn: &impl ConnectionTrait, ctx: &Context, pg_sql: &str, rows: Vec<ImportRow>,
) -> Result<Written, DbErr> {
    if rows.is_empty() {
        return Ok(Written::default());
    }
    match conn.get_database_backend() {
        DbBackend::Postgres => write_postgres(conn, ctx, pg_sql, rows).await,
        _ => write_values(conn, ctx, rows).await,
    }
}
