//! `MEJORA_RATE_LIMIT*` settings: the quotas the rate limiter (`ops::rate_limit`) enforces.
use super::ConfigError;

/// One quota: `quota` units per `window` seconds (the bucket holds at most `quota`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Units per window (also the burst).
    pub quota: u32,
    /// Window in seconds.
    pub window: u32,
}

impl Quota {
    /// Units refilled per second.
    pub fn per_second(self) -> f64 {
        f64::from(self.quota) / f64::from(self.window.max(1))
    }
}

/// `MEJORA_RATE_LIMIT_*` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Off when `MEJORA_RATE_LIMITS=off`.
    pub enabled: bool,
    /// `MEJORA_RATE_LIMIT_PRINCIPAL` (`quota/window-seconds`, default `1200/60`).
    pub principal: Quota,
    /// `MEJORA_RATE_LIMIT_ORGANIZATION` (default `6000/60`).
    pub organization: Quota,
    /// `MEJORA_RATE_LIMIT_ANONYMOUS`: per client address, calls without a valid token (default `600/60`).
    pub anonymous: Quota,
    /// `MEJORA_RATE_LIMIT_HEAVY_COST`: units an upload, import, export or audit verification
    /// costs (default 10; every other call costs 1).
    pub heavy_cost: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            principal: Quota { quota: 1200, window: 60 },
            organization: Quota { quota: 6000, window: 60 },
            anonymous: Quota { quota: 600, window: 60 },
            heavy_cost: 10,
        }
    }
}

fn quota(var: &impl Fn(&str) -> Option<String>, name: &'static str, default: Quota) -> Result<Quota, ConfigError> {
    let Some(raw) = var(name) else { return Ok(default) };
    let bad = || ConfigError { variable: name, message: format!("{raw:?}: expected QUOTA/SECONDS, e.g. 1200/60") };
    let (q, w) = raw.trim().split_once('/').ok_or_else(bad)?;
    let quota: u32 = q.trim().parse().map_err(|_| bad())?;
    let window: u32 = w.trim().parse().map_err(|_| bad())?;
    if quota == 0 || window == 0 {
        return Err(bad());
    }
    Ok(Quota { quota, window })
}

impl Limits {
    /// Reads the settings from a variable lookup (empty values already filtered out).
    pub fn from_lookup(var: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Limits::default();
        let enabled = match var("MEJORA_RATE_LIMITS").as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError {
                    variable: "MEJORA_RATE_LIMITS",
                    message: format!("expected on or off, got {other:?}"),
                })
            }
        };
        let heavy_cost = match var("MEJORA_RATE_LIMIT_HEAVY_COST") {
            None => defaults.heavy_cost,
            Some(raw) => raw.trim().parse::<u32>().ok().filter(|c| *c >= 1).ok_or_else(|| ConfigError {
                variable: "MEJORA_RATE_LIMIT_HEAVY_COST",
                message: format!("{raw:?}: a whole number of at least 1"),
            })?,
        };
        Ok(Limits {
            enabled,
            principal: quota(var, "MEJORA_RATE_LIMIT_PRINCIPAL", defaults.principal)?,
            organization: quota(var, "MEJORA_RATE_LIMIT_ORGANIZATION", defaults.organization)?,
            anonymous: quota(var, "MEJORA_RATE_LIMIT_ANONYMOUS", defaults.anonymous)?,
            heavy_cost,
        })
    }

    /// One line for the start-up log.
    pub fn describe(&self) -> String {
        if !self.enabled {
            return "off (MEJORA_RATE_LIMITS=off)".into();
        }
        format!(
            "per replica, in memory: {}/{}s per principal, {}/{}s per organization, {}/{}s per address without a token; \
             uploads, imports, exports and audit verification cost {}",
            self.principal.quota,
            self.principal.window,
            self.organization.quota,
            self.organization.window,
            self.anonymous.quota,
            self.anonymous.window,
            self.heavy_cost
        )
    }
}
