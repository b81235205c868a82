//! Throttling of failed sign-ins. Each attempt first *reserves* its place in a counter row per
//! sign-in name and per client address (`login_throttle`), with one atomic upsert that also
//! returns the new count. An attempt beyond the allowance is refused before any password is
//! hashed, so however many requests arrive at once, at most the allowance are answered 401
//! and the argon2 work spent on a locked account or address is bounded. A successful sign-in
//! gives its reservation back. The counters live in the shared database, so every replica
//! sees the same count, and they are apart from the audit chains: a burst of failures does
//! not queue behind (or hold) the victim organization's chain lock.
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

/// An address may front many people (a ministry's NAT), so it gets this many times the
/// allowance of one sign-in name.
const ADDRESS_FACTOR: u64 = 10;

/// The reservations of one sign-in attempt.
#[derive(Debug)]
pub struct Attempt {
    keys: Vec<String>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Counts one attempt on `key` in the current window, atomically; returns the count including
/// this attempt and the window's start (epoch milliseconds).
async fn reserve(db: &DatabaseConnection, key: &str, window_ms: i64) -> Result<(i64, i64), ApiError> {
    let now = now_ms();
    let expired_before = now - window_ms;
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO login_throttle (throttle_key, attempts, window_start) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
               attempts = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.attempts + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
             RETURNING attempts, window_start"
        }
        _ => {
            "INSERT INTO login_throttle (throttle_key, attempts, window_start) VALUES (?1, 1, ?2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
               attempts = CASE WHEN login_throttle.window_start <= ?3 THEN 1 ELSE login_throttle.attempts + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= ?3 THEN ?2 ELSE login_throttle.window_start END \
             RETURNING attempts, window_start"
        }
    };
    // Names nobody tries again would stay forever; now and then, drop every expired window.
    if rand::random_ratio(1, 256) {
        let prune = match backend {
            DbBackend::Postgres => "DELETE FROM login_throttle WHERE window_start <= $1",
            _ => "DELETE FROM login_throttle WHERE window_start <= ?1",
        };
        db.execute_raw(Statement::from_sql_and_values(backend, prune, [expired_before.into()])).await?;
    }
    let values: Vec<Value> = vec![key.into(), now.into(), expired_before.into()];
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("login_throttle upsert returned no row")))?;
    Ok((row.try_get("", "attempts")?, row.try_get("", "window_start")?))
}

/// Gives one reservation of `key` back.
async fn release(db: &DatabaseConnection, key: &str) -> Result<(), ApiError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE login_throttle SET attempts = attempts - 1 WHERE throttle_key = $1 AND attempts > 0"
        }
        _ => "UPDATE login_throttle SET attempts = attempts - 1 WHERE throttle_key = ?1 AND attempts > 0",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [key.into()])).await?;
    Ok(())
}

fn throttled(window_start: i64, window_ms: i64) -> ApiError {
    metrics::counter!("mejora_login_throttled_total").increment(1);
    let wait_ms = (window_start + window_ms - now_ms()).max(1000);
    let seconds = u64::try_from((wait_ms + 999) / 1000).unwrap_or(60);
    ApiError::new(ErrorCode::RateLimited)
        .detail(
            "Too many failed sign-in attempts; wait before trying again",
            "Demasiados intentos fallidos de ingreso; espere antes de intentar de nuevo",
        )
        .retry_after(seconds)
}

/// Reserves an attempt for `login` (an e-mail or client id) and the client address; 429 when
/// either has used its allowance in the current window (`MEJORA_LOGIN_MAX_FAILURES` per name,
/// ten times that per address, per `MEJORA_LOGIN_WINDOW`).
pub async fn begin(
    db: &DatabaseConnection, config: &Config, login: &str, client_addr: Option<&str>,
) -> Result<Attempt, ApiError> {
    let window_ms = i64::try_from(config.login_window.as_millis()).unwrap_or(i64::MAX / 4).max(1000);
    let max = i64::try_from(config.login_max_failures).unwrap_or(i64::MAX);
    let login_key = format!("login:{login}");
    let (count, start) = reserve(db, &login_key, window_ms).await?;
    if count > max {
        return Err(throttled(start, window_ms));
    }
    let mut keys = vec![login_key];
    if let Some(addr) = client_addr {
        let addr_key = format!("addr:{addr}");
        let (count, start) = reserve(db, &addr_key, window_ms).await?;
        if count > max.saturating_mul(i64::try_from(ADDRESS_FACTOR).unwrap_or(10)) {
            release(db, &keys[0]).await?;
            return Err(throttled(start, window_ms));
        }
        keys.push(addr_key);
    }
    Ok(Attempt { keys })
}

impl Attempt {
    /// The credentials were right: the attempt does not count as a failure.
    pub async fn succeeded(self, db: &DatabaseConnection) -> Result<(), ApiError> {
        for key in &self.keys {
            release(db, key).await?;
        }
        Ok(())
    }
}
