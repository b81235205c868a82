//! Configuration from environment variables. A bad value fails at start with the variable's name.
pub mod rate_limits;

use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::time::Duration;

/// Where the service runs: development generates missing secrets, production refuses weak ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local use; a missing JWT secret is generated per start.
    Development,
    /// Real deployments; weak or default secrets refuse to start.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// First organization and administrator created on an empty database.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// Organization name.
    pub organization: String,
    /// Organization NIT.
    pub tax_id: String,
    /// Administrator e-mail.
    pub email: String,
    /// Administrator password; generated and printed once when absent.
    pub password: Option<SecretString>,
}

/// Every setting of the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `MEJORA_BIND`.
    pub bind: SocketAddr,
    /// `MEJORA_ENV`.
    pub environment: Environment,
    /// `MEJORA_JWT_SECRET`.
    pub jwt_secret: SecretString,
    /// `MEJORA_JWT_ISSUER`.
    pub jwt_issuer: String,
    /// `MEJORA_JWT_AUDIENCE`.
    pub jwt_audience: String,
    /// `MEJORA_ACCESS_TOKEN_TTL` (seconds).
    pub access_token_ttl: Duration,
    /// `MEJORA_REFRESH_TOKEN_TTL` (seconds).
    pub refresh_token_ttl: Duration,
    /// `MEJORA_BOOTSTRAP_*`.
    pub bootstrap: Bootstrap,
    /// `MEJORA_STORAGE_URL`.
    pub storage_url: String,
    /// `MEJORA_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `MEJORA_JSON_LIMIT` (bytes) for ordinary JSON bodies.
    pub json_limit: usize,
    /// `MEJORA_IMPORT_LIMIT` (bytes) for bulk import bodies.
    pub import_limit: usize,
    /// `MEJORA_UPLOAD_LIMIT` (bytes) for one evidence file.
    pub upload_limit: usize,
    /// `MEJORA_UPLOAD_IDLE_TIMEOUT` (seconds): a bulk upload that sends nothing for this long is cut.
    pub upload_idle_timeout: Duration,
    /// `MEJORA_DB_MAX_CONNECTIONS`.
    pub db_max_connections: u32,
    /// `MEJORA_DB_ACQUIRE_TIMEOUT` (seconds).
    pub db_acquire_timeout: Duration,
    /// `MEJORA_CORS_ORIGINS` (comma-separated allow-list).
    pub cors_origins: Vec<String>,
    /// `MEJORA_WORKERS` (0 = one per core).
    pub workers: usize,
    /// `MEJORA_CLIENT_TIMEOUT` (milliseconds to receive request headers).
    pub client_timeout: Duration,
    /// `MEJORA_LOGIN_MAX_FAILURES` per account (an address gets four times as many).
    pub login_max_failures: u64,
    /// `MEJORA_LOGIN_WINDOW` (seconds).
    pub login_window: Duration,
    /// Whether the JWT secret was generated because none was configured.
    pub jwt_secret_generated: bool,
    /// `MEJORA_SHEET_*`: overrides of the spreadsheet reading limits.
    pub sheet_limits: SheetLimits,
    /// `MEJORA_METRICS_BIND` (default `127.0.0.1:9464`; `off` disables `/metrics`).
    pub metrics_bind: Option<SocketAddr>,
    /// Whether `MEJORA_METRICS_BIND` was set: the default address may be taken by another
    /// process (then the service starts without metrics and warns); a chosen one must bind.
    pub metrics_bind_explicit: bool,
    /// `MEJORA_RATE_LIMIT*`: per-principal, per-organization and per-address limits.
    pub rate_limits: rate_limits::Limits,
    /// `MEJORA_SHUTDOWN_TIMEOUT` (seconds): how long SIGTERM waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Webhook delivery (`MEJORA_WEBHOOK_*`).
    pub webhooks: Webhooks,
    /// Background work: asynchronous uploads, reminders, notifications (`MEJORA_BACKGROUND*`).
    pub background: Background,
    /// `MEJORA_SMTP_URL`: where notifications and reminders go by e-mail (off when unset).
    pub smtp: Option<Smtp>,
}

/// The background runners started with the server.
#[derive(Debug, Clone)]
pub struct Background {
    /// `MEJORA_BACKGROUND` (`on` by default; `off` starts no runner, e.g. for a replica that
    /// only answers requests).
    pub enabled: bool,
    /// `MEJORA_JOB_POLL_MS` (default 1000): pause between looks for queued uploads and new
    /// events when there was none.
    pub poll: Duration,
    /// `MEJORA_IMPORT_LEASE` (seconds, default 300): how long a runner's claim on an upload
    /// lasts before another runner may take it again (a runner that died).
    pub import_lease: Duration,
    /// `MEJORA_REMINDER_INTERVAL` (seconds, default 3600): how often reminders are looked for.
    pub reminder_interval: Duration,
}

/// Outgoing mail.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// `smtp://user:pass@host:587` (STARTTLS), `smtps://…:465` (TLS) or
    /// `smtp://host:25?tls=none` (plain, a local relay).
    pub url: SecretString,
    /// `MEJORA_SMTP_FROM` (default `mejora@localhost`): the sender.
    pub from: String,
}

/// Webhook delivery settings.
#[derive(Debug, Clone)]
pub struct Webhooks {
    /// `MEJORA_WEBHOOK_ALLOW_HOSTS`: host names and CIDRs (`127.0.0.1/32`, `10.0.0.0/8`,
    /// `hooks.internal`) that may be targeted although they are loopback, private or link-local.
    pub allow_hosts: Vec<String>,
    /// `MEJORA_WEBHOOK_ALLOW_HTTP`: plain `http://` endpoints are accepted (default: https only).
    pub allow_http: bool,
    /// `MEJORA_WEBHOOK_DISPATCH_INTERVAL` (ms, default 1000; `0` or `off`: no background
    /// dispatcher in this process).
    pub dispatch_interval: Option<Duration>,
    /// `MEJORA_WEBHOOK_TIMEOUT` (seconds, default 15): the whole request to an endpoint.
    pub timeout: Duration,
    /// `MEJORA_WEBHOOK_MAX_CONNECTIONS` (default 16): idle connections kept per endpoint host,
    /// and deliveries attempted at once.
    pub max_connections: usize,
}

/// Operator overrides of the spreadsheet reader's limits; an unset one keeps the default of
/// each kind of upload (`services::spreadsheet::Limits`).
#[derive(Debug, Clone, Default)]
pub struct SheetLimits {
    /// `MEJORA_SHEET_MAX_PART_BYTES` (size, e.g. `32M`): inflated size of one zip part.
    pub max_part_bytes: Option<u64>,
    /// `MEJORA_SHEET_MAX_ROWS`: highest row number.
    pub max_rows: Option<u32>,
    /// `MEJORA_SHEET_MAX_COLUMNS`: highest column number.
    pub max_columns: Option<u32>,
    /// `MEJORA_SHEET_MAX_CELLS`: cells read, padding included.
    pub max_cells: Option<u64>,
    /// `MEJORA_SHEET_MAX_SHARED_STRINGS`: shared strings, declared or actual.
    pub max_shared_strings: Option<u64>,
    /// `MEJORA_SHEET_MAX_RATIO`: inflated/compressed size of a part past 1 MiB.
    pub max_ratio: Option<u64>,
    /// `MEJORA_SHEET_MAX_TEXT_BYTES` (size): text kept from one workbook.
    pub max_text_bytes: Option<u64>,
}

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { variable, message: message.into() }
}

/// Default database: an SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://mejora.db?mode=rwc";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration from any variable lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let environment = match var("MEJORA_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => return Err(err("MEJORA_ENV", format!("expected development or production, got {other:?}"))),
        };
        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err("DATABASE_URL", "expected sqlite://… or postgres://…"));
        }
        let bind = parse(&var, "MEJORA_BIND", "127.0.0.1:8080")?;
        let (jwt_secret, jwt_secret_generated) = match var("MEJORA_JWT_SECRET") {
            Some(secret) => (secret, false),
            None if environment == Environment::Production => {
                return Err(err("MEJORA_JWT_SECRET", "required in production (at least 32 characters)"))
            }
            None => (random_secret(), true),
        };
        if environment == Environment::Production && (jwt_secret.len() < 32 || is_weak_secret(&jwt_secret)) {
            return Err(err("MEJORA_JWT_SECRET", "too short or a known default; use at least 32 random characters"));
        }
        let log_format = match var("MEJORA_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(err("MEJORA_LOG_FORMAT", format!("expected pretty or json, got {other:?}"))),
        };
        let bootstrap_password = var("MEJORA_BOOTSTRAP_PASSWORD").map(SecretString::from);
        if environment == Environment::Production {
            if let Some(pw) = &bootstrap_password {
                if pw.expose_secret().len() < 12 {
                    return Err(err("MEJORA_BOOTSTRAP_PASSWORD", "at least 12 characters in production"));
                }
            }
        }
        let cors_origins = var("MEJORA_CORS_ORIGINS")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default();
        if cors_origins.iter().any(|o| o == "*") {
            return Err(err("MEJORA_CORS_ORIGINS", "`*` is not allowed: list the frontend origins"));
        }
        let access_secs: u64 = parse(&var, "MEJORA_ACCESS_TOKEN_TTL", "900")?;
        if !(30..=86_400).contains(&access_secs) {
            return Err(err("MEJORA_ACCESS_TOKEN_TTL", "between 30 and 86400 seconds"));
        }
        let max_connections: u32 = parse(&var, "MEJORA_DB_MAX_CONNECTIONS", "10")?;
        if max_connections == 0 {
            return Err(err("MEJORA_DB_MAX_CONNECTIONS", "at least 1"));
        }
        let metrics_bind = match var("MEJORA_METRICS_BIND").as_deref().map(str::trim) {
            Some("off") => None,
            _ => Some(parse(&var, "MEJORA_METRICS_BIND", "127.0.0.1:9464")?),
        };
        let rate_limits = rate_limits::Limits::from_lookup(&var)?;
        let webhooks = Webhooks {
            allow_hosts: var("MEJORA_WEBHOOK_ALLOW_HOSTS")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            allow_http: parse(&var, "MEJORA_WEBHOOK_ALLOW_HTTP", "false")?,
            dispatch_interval: match var("MEJORA_WEBHOOK_DISPATCH_INTERVAL").as_deref().map(str::trim) {
                Some("off") => None,
                _ => match parse::<u64>(&var, "MEJORA_WEBHOOK_DISPATCH_INTERVAL", "1000")? {
                    0 => None,
                    ms => Some(Duration::from_millis(ms)),
                },
            },
            timeout: Duration::from_secs(parse(&var, "MEJORA_WEBHOOK_TIMEOUT", "15")?),
            max_connections: match parse::<usize>(&var, "MEJORA_WEBHOOK_MAX_CONNECTIONS", "16")? {
                0 => return Err(err("MEJORA_WEBHOOK_MAX_CONNECTIONS", "at least 1")),
                n => n,
            },
        };
        Ok(Config {
            metrics_bind,
            metrics_bind_explicit: var("MEJORA_METRICS_BIND").is_some(),
            rate_limits,
            webhooks,
            shutdown_timeout: Duration::from_secs(parse(&var, "MEJORA_SHUTDOWN_TIMEOUT", "30")?),
            background: Background {
                enabled: match var("MEJORA_BACKGROUND").as_deref().map(str::trim) {
                    None | Some("on") => true,
                    Some("off") => false,
                    Some(other) => return Err(err("MEJORA_BACKGROUND", format!("expected on or off, got {other:?}"))),
                },
                poll: match parse::<u64>(&var, "MEJORA_JOB_POLL_MS", "1000")? {
                    0 => return Err(err("MEJORA_JOB_POLL_MS", "at least 1 millisecond")),
                    ms => Duration::from_millis(ms),
                },
                import_lease: match parse::<u64>(&var, "MEJORA_IMPORT_LEASE", "300")? {
                    0 => return Err(err("MEJORA_IMPORT_LEASE", "at least 1 second")),
                    secs => Duration::from_secs(secs),
                },
                reminder_interval: match parse::<u64>(&var, "MEJORA_REMINDER_INTERVAL", "3600")? {
                    0 => return Err(err("MEJORA_REMINDER_INTERVAL", "at least 1 second")),
                    secs => Duration::from_secs(secs),
                },
            },
            smtp: var("MEJORA_SMTP_URL").map(|url| Smtp {
                url: SecretString::from(url),
                from: var("MEJORA_SMTP_FROM").unwrap_or_else(|| "mejora@localhost".into()),
            }),
            database_url,
            bind,
            environment,
            jwt_secret: SecretString::from(jwt_secret),
            jwt_issuer: var("MEJORA_JWT_ISSUER").unwrap_or_else(|| "mejora".into()),
            jwt_audience: var("MEJORA_JWT_AUDIENCE").unwrap_or_else(|| "mejora-api".into()),
            access_token_ttl: Duration::from_secs(access_secs),
            refresh_token_ttl: Duration::from_secs(parse(&var, "MEJORA_REFRESH_TOKEN_TTL", "2592000")?),
            bootstrap: Bootstrap {
                organization: var("MEJORA_BOOTSTRAP_ORG").unwrap_or_else(|| "Entidad de demostración".into()),
                tax_id: var("MEJORA_BOOTSTRAP_TAX_ID").unwrap_or_else(|| "000000000-0".into()),
                email: var("MEJORA_BOOTSTRAP_EMAIL").unwrap_or_else(|| "admin@mejora.local".into()),
                password: bootstrap_password,
            },
            storage_url: var("MEJORA_STORAGE_URL").unwrap_or_else(|| "file://./data/files".into()),
            log_format,
            json_limit: parse_size(&var, "MEJORA_JSON_LIMIT", "1M")?,
            import_limit: parse_size(&var, "MEJORA_IMPORT_LIMIT", "512M")?,
            upload_limit: parse_size(&var, "MEJORA_UPLOAD_LIMIT", "25M")?,
            upload_idle_timeout: match parse::<u64>(&var, "MEJORA_UPLOAD_IDLE_TIMEOUT", "30")? {
                0 => return Err(err("MEJORA_UPLOAD_IDLE_TIMEOUT", "at least 1 second")),
                secs => Duration::from_secs(secs),
            },
            db_max_connections: max_connections,
            db_acquire_timeout: Duration::from_secs(parse(&var, "MEJORA_DB_ACQUIRE_TIMEOUT", "5")?),
            cors_origins,
            workers: parse(&var, "MEJORA_WORKERS", "0")?,
            client_timeout: Duration::from_millis(parse(&var, "MEJORA_CLIENT_TIMEOUT", "10000")?),
            login_max_failures: parse(&var, "MEJORA_LOGIN_MAX_FAILURES", "5")?,
            login_window: Duration::from_secs(parse(&var, "MEJORA_LOGIN_WINDOW", "900")?),
            jwt_secret_generated,
            sheet_limits: SheetLimits {
                max_part_bytes: optional_size(&var, "MEJORA_SHEET_MAX_PART_BYTES")?,
                max_rows: optional(&var, "MEJORA_SHEET_MAX_ROWS")?,
                max_columns: optional(&var, "MEJORA_SHEET_MAX_COLUMNS")?,
                max_cells: optional(&var, "MEJORA_SHEET_MAX_CELLS")?,
                max_shared_strings: optional(&var, "MEJORA_SHEET_MAX_SHARED_STRINGS")?,
                max_ratio: optional(&var, "MEJORA_SHEET_MAX_RATIO")?,
                max_text_bytes: optional_size(&var, "MEJORA_SHEET_MAX_TEXT_BYTES")?,
            },
        })
    }

    /// True for SQLite URLs.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn parse<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>, name: &'static str, default: &str,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let raw = var(name).unwrap_or_else(|| default.to_string());
    raw.trim().parse::<T>().map_err(|e| err(name, format!("{raw:?}: {e}")))
}

fn optional<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>, name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    var(name).map(|_| parse(var, name, "")).transpose()
}

fn optional_size(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<u64>, ConfigError> {
    var(name).map(|_| parse_size(var, name, "").map(|n| n as u64)).transpose()
}

/// Parses `1048576`, `512K`, `25M`, `1G`.
fn parse_size(var: &impl Fn(&str) -> Option<String>, name: &'static str, default: &str) -> Result<usize, ConfigError> {
    let raw = var(name).unwrap_or_else(|| default.to_string());
    let text = raw.trim().to_ascii_uppercase();
    let text = text.strip_suffix('B').unwrap_or(&text);
    let (digits, factor) = match text.chars().last() {
        Some('K') => (&text[..text.len() - 1], 1024),
        Some('M') => (&text[..text.len() - 1], 1024 * 1024),
        Some('G') => (&text[..text.len() - 1], 1024 * 1024 * 1024),
        _ => (text, 1),
    };
    let n: usize =
        digits.trim().parse().map_err(|_| err(name, format!("{raw:?} is not a size like 1048576, 512K or 25M")))?;
    n.checked_mul(factor).filter(|v| *v > 0).ok_or_else(|| err(name, "must be a positive size"))
}

fn is_weak_secret(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    ["secret", "changeme", "change-me", "password", "mejora", "development"].iter().any(|w| lower.contains(w))
        || secret.chars().collect::<std::collections::HashSet<_>>().len() < 8
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let config = with(&[]).unwrap();
        assert!(config.is_sqlite());
        assert!(config.jwt_secret_generated);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        assert_eq!(with(&[("MEJORA_BIND", "nope")]).unwrap_err().variable, "MEJORA_BIND");
        assert_eq!(with(&[("MEJORA_JSON_LIMIT", "lots")]).unwrap_err().variable, "MEJORA_JSON_LIMIT");
        assert_eq!(with(&[("MEJORA_LOG_FORMAT", "xml")]).unwrap_err().variable, "MEJORA_LOG_FORMAT");
        assert_eq!(with(&[("MEJORA_CORS_ORIGINS", "*")]).unwrap_err().variable, "MEJORA_CORS_ORIGINS");
    }

    #[test]
    fn production_refuses_missing_short_or_default_secrets() {
        assert_eq!(with(&[("MEJORA_ENV", "production")]).unwrap_err().variable, "MEJORA_JWT_SECRET");
        let short = with(&[("MEJORA_ENV", "production"), ("MEJORA_JWT_SECRET", "abc")]);
        assert_eq!(short.unwrap_err().variable, "MEJORA_JWT_SECRET");
        let default =
            with(&[("MEJORA_ENV", "production"), ("MEJORA_JWT_SECRET", "changeme-changeme-changeme-changeme")]);
        assert_eq!(default.unwrap_err().variable, "MEJORA_JWT_SECRET");
        let good = with(&[("MEJORA_ENV", "production"), ("MEJORA_JWT_SECRET", "f3a9c1e07b5d2468ace13579bdf02468aa77")]);
        assert!(good.is_ok());
    }

    #[test]
    fn sizes_accept_suffixes() {
        assert_eq!(with(&[("MEJORA_JSON_LIMIT", "2M")]).unwrap().json_limit, 2 * 1024 * 1024);
        assert_eq!(with(&[("MEJORA_JSON_LIMIT", "512k")]).unwrap().json_limit, 512 * 1024);
    }
}
