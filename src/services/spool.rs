//! Receiving an upload before touching the database. The bytes go to an unnamed temporary file
//! (removed by the system when it is closed, even if the process dies) while they are hashed and
//! counted; only a complete body is handed on. So no database connection or transaction waits on
//! a client's network, memory stays bounded whatever the file's size, and a client that stops
//! sending is cut after an idle time with nothing left behind.
use crate::error::{ApiError, ErrorCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::fmt::Display;
use std::io::{Seek, SeekFrom};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How much an upload may be, and how long it may pause.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted body, in bytes.
    pub max_bytes: u64,
    /// Longest wait for the next bytes.
    pub idle: Duration,
}

/// A complete upload, spooled to a temporary file positioned at its start.
#[derive(Debug)]
pub struct Spooled {
    /// The bytes (an unnamed temporary file; closing it removes it).
    pub file: std::fs::File,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
}

/// 413 naming the limit.
pub fn too_large(max: u64) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge).detail(
        format!("An upload may have at most {max} bytes"),
        format!("Una carga puede tener como máximo {max} bytes"),
    )
}

fn stalled(idle: Duration) -> ApiError {
    let secs = idle.as_secs();
    ApiError::new(ErrorCode::UploadStalled).detail(
        format!("No bytes arrived for {secs} s (MEJORA_UPLOAD_IDLE_TIMEOUT); the upload was cut and nothing was written"),
        format!(
            "No llegaron bytes durante {secs} s (MEJORA_UPLOAD_IDLE_TIMEOUT); la carga se interrumpió y no se escribió nada"
        ),
    )
}

fn spool_failed(e: std::io::Error) -> ApiError {
    ApiError::internal(anyhow::Error::new(e).context("spooling an upload to a temporary file"))
}

/// The next chunk of `body`, enforcing the idle time; `None` at the end.
async fn next_chunk<S, E>(body: &mut S, limits: Limits) -> Result<Option<Bytes>, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    match tokio::time::timeout(limits.idle, body.next()).await {
        Err(_) => Err(stalled(limits.idle)),
        Ok(None) => Ok(None),
        Ok(Some(Ok(bytes))) => Ok(Some(bytes)),
        Ok(Some(Err(_))) => Err(ApiError::new(ErrorCode::IncompleteBody)),
    }
}

/// Receives `body` into a temporary file, hashing it; fails with 413 past `max_bytes`, 408
/// `upload_stalled` when nothing arrives for `idle`, 400 `incomplete_body` when it is cut short.
pub async fn spool<S, E>(mut body: S, limits: Limits) -> Result<Spooled, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let file = tokio::task::spawn_blocking(tempfile::tempfile).await.map_err(ApiError::internal)?;
    let mut file =
        tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(file.map_err(spool_failed)?));
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(bytes) = next_chunk(&mut body, limits).await? {
        size += bytes.len() as u64;
        if size > limits.max_bytes {
            return Err(too_large(limits.max_bytes));
        }
        hasher.update(&bytes);
        file.write_all(&bytes).await.map_err(spool_failed)?;
    }
    file.flush().await.map_err(spool_failed)?;
    let mut file = file.into_inner().into_std().await;
    file.seek(SeekFrom::Start(0)).map_err(spool_failed)?;
    Ok(Spooled { file, size, sha256: hex::encode(hasher.finalize()) })
}

/// Receives a small `body` into memory with the same limits (plan matrices, parsed whole).
pub async fn collect<S, E>(mut body: S, limits: Limits) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut out = Vec::new();
    while let Some(bytes) = next_chunk(&mut body, limits).await? {
        if (out.len() + bytes.len()) as u64 > limits.max_bytes {
            return Err(too_large(limits.max_bytes));
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}
