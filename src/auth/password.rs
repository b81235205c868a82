//! Password hashing (argon2id, PHC strings) and the password policy.
use crate::error::FieldError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// Minimum password length accepted for people.
pub const MIN_LENGTH: usize = 12;

/// Hashes a secret with argon2id and a random salt; returns the PHC string.
pub fn hash(secret: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// Checks a secret against a PHC string; any malformed hash is a mismatch.
pub fn verify(secret: &str, phc: &str) -> bool {
    Argon2::default().verify_password(secret.as_bytes(), phc).is_ok()
}

/// A PHC hash of a random string, verified against when the account does not exist so the
/// reply time does not reveal whether an e-mail is registered.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

/// The most common passwords (and Spanish favourites) that are refused whatever their length.
const COMMON: &[&str] = &[
    "123456789012",
    "password1234",
    "passwordpassword",
    "qwertyuiopas",
    "contraseña123",
    "contrasena123",
    "contraseña1234",
    "contrasena1234",
    "administrador",
    "admin1234567",
    "adminadmin12",
    "colombia2024",
    "colombia2025",
    "colombia2026",
    "colombia1234",
    "bogota123456",
    "111111111111",
    "000000000000",
    "abcdefghijkl",
    "abc123abc123",
    "iloveyou1234",
    "welcome12345",
    "bienvenido123",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "password123!",
    "Password1234",
    "Passw0rd1234",
    "changeme1234",
    "letmein12345",
    "mejora123456",
    "seguridad123",
    "seguridad2024",
    "123456789abc",
    "987654321000",
    "superman1234",
];

/// Validates a new password: length, not a common password, not the e-mail.
pub fn check_policy(password: &str, email: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(FieldError::new("password", "too_short", format!("at least {MIN_LENGTH} characters")));
    }
    if chars > 256 {
        return Err(FieldError::new("password", "too_long", "at most 256 characters"));
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| c.to_lowercase() == lower) || lower.chars().all(|c| lower.starts_with(c)) {
        return Err(FieldError::new("password", "too_common", "this password is too common"));
    }
    if !email.is_empty() && lower.contains(&email.to_lowercase()) {
        return Err(FieldError::new("password", "contains_email", "must not contain the e-mail"));
    }
    Ok(())
}

/// At most this many argon2 computations run at once in a process (one per CPU): each takes
/// about 19 MiB, so a burst of sign-ins queues here instead of exhausting memory.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS
        .get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)))
}

/// [`hash`] on the blocking thread pool, so a slow hash does not stall the request loop.
pub async fn hash_blocking(secret: String) -> anyhow::Result<String> {
    let _permit = hashing_permits().acquire().await?;
    tokio::task::spawn_blocking(move || hash(&secret)).await?
}

/// [`verify`] on the blocking thread pool.
pub async fn verify_blocking(secret: String, phc: String) -> bool {
    let Ok(_permit) = hashing_permits().acquire().await else { return false };
    tokio::task::spawn_blocking(move || verify(&secret, &phc)).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_mismatch() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("wrong", &phc));
        assert!(!verify("anything", "not-a-hash"));
    }

    #[test]
    fn policy_refuses_short_common_and_email() {
        assert_eq!(check_policy("short", "a@b.co").unwrap_err().code, "too_short");
        assert_eq!(check_policy("Contraseña123", "a@b.co").unwrap_err().code, "too_common");
        assert_eq!(check_policy("aaaaaaaaaaaaaa", "a@b.co").unwrap_err().code, "too_common");
        assert_eq!(check_policy("xx-ana@ent.gov.co-xx", "ana@ent.gov.co").unwrap_err().code, "contains_email");
        assert!(check_policy("un-largo camino 2026", "a@b.co").is_ok());
    }
}
