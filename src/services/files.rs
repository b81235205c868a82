//! Evidence files: the media type is detected from the bytes (never from the client), only an
//! allow-list is stored, the size limit is enforced while streaming, the SHA-256 is computed on
//! the way, and the storage key is `evidence/<organization>/<file id>`, never the file name.
//! Memory per upload stays bounded (a 64 KiB head for detection plus the writer's buffer).
use super::storage::Storage;
use crate::error::{ApiError, ErrorCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::ObjectStoreExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Bytes examined to detect the media type.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Buffer of the store writer; larger files go up in parts of this size.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Media types accepted, as detected from the bytes.
pub const ALLOWED: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/zip",
    "text/csv",
    "text/plain",
];

/// Text without binary control characters (UTF-8, Windows-1252 and other 8-bit encodings pass).
fn looks_like_text(head: &[u8]) -> bool {
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    body.iter().all(|b| *b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) && !body.contains(&0x7F)
}

/// The media type of a file from its first bytes; `Err` carries what was detected when it is
/// not allowed. `name` only tells CSV from other plain text.
pub fn detect(head: &[u8], name: &str) -> Result<&'static str, String> {
    match infer::get(head) {
        Some(kind) => ALLOWED
            .iter()
            .copied()
            .find(|allowed| *allowed == kind.mime_type())
            .ok_or_else(|| kind.mime_type().to_string()),
        None if looks_like_text(head) => {
            Ok(if name.to_ascii_lowercase().ends_with(".csv") { "text/csv" } else { "text/plain" })
        }
        None => Err("application/octet-stream".to_string()),
    }
}

/// The client's file name reduced to its last path component without control characters
/// (kept for display and download only).
pub fn clean_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "archivo".to_string()
    } else {
        cleaned
    }
}

/// Where the bytes of file `id` of `org` are kept.
pub fn storage_key(org: Uuid, id: Uuid) -> String {
    format!("evidence/{org}/{id}")
}

/// What was stored.
#[derive(Debug, Clone)]
pub struct Received {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Detected media type.
    pub media_type: &'static str,
}

/// 413 naming the limit.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge).detail(
        format!("A file may have at most {limit} bytes"),
        format!("Un archivo puede tener como máximo {limit} bytes"),
    )
}

fn refused_type(detected: &str) -> ApiError {
    ApiError::new(ErrorCode::UnsupportedMediaType).detail(
        format!("Files of type {detected} are not accepted; send PDF, images, office documents, CSV, plain text or ZIP"),
        format!("No se aceptan archivos de tipo {detected}; envíe PDF, imágenes, documentos de oficina, CSV, texto plano o ZIP"),
    )
}

fn store_failed(e: impl std::fmt::Display) -> ApiError {
    let error = ApiError::new(ErrorCode::ServiceUnavailable)
        .detail("The file store is not available", "El almacén de archivos no está disponible")
        .retry_after(5);
    ApiError { source: Some(anyhow::anyhow!("object store: {e}")), ..error }
}

async fn give_up(writer: Option<BufWriter>, error: ApiError) -> ApiError {
    if let Some(mut w) = writer {
        if let Err(e) = w.abort().await {
            tracing::warn!(error = %e, "could not abort a partial upload");
        }
    }
    error
}

/// Streams `body` into the store under `key`, enforcing `limit`, detecting the media type from
/// the first bytes and hashing on the way. Nothing is left in the store when it fails.
pub async fn receive<S, E>(
    storage: &Storage, key: &str, limit: u64, name: &str, mut body: S,
) -> Result<Received, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let path = Path::from(key);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::new();
    let mut media_type: Option<&'static str> = None;
    let mut writer: Option<BufWriter> = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let error = ApiError::new(ErrorCode::InvalidMultipart).detail(e.to_string(), e.to_string());
                return Err(give_up(writer, error).await);
            }
        };
        size += chunk.len() as u64;
        if size > limit {
            return Err(give_up(writer, too_large(limit)).await);
        }
        hasher.update(&chunk);
        match writer.as_mut() {
            Some(w) => {
                if let Err(e) = w.put(chunk).await {
                    return Err(give_up(writer, store_failed(e)).await);
                }
            }
            None => {
                head.extend_from_slice(&chunk);
                if head.len() >= HEAD_BYTES {
                    media_type = Some(detect(&head[..HEAD_BYTES], name).map_err(|d| refused_type(&d))?);
                    let mut w = BufWriter::with_capacity(storage.store.clone(), path.clone(), PART_BYTES)
                        .with_max_concurrency(2);
                    if let Err(e) = w.put(Bytes::from(std::mem::take(&mut head))).await {
                        return Err(give_up(Some(w), store_failed(e)).await);
                    }
                    writer = Some(w);
                }
            }
        }
    }
    if size == 0 {
        return Err(ApiError::field("file", "empty", "the file is empty"));
    }
    let mut w = match writer {
        Some(w) => w,
        None => {
            media_type = Some(detect(&head, name).map_err(|d| refused_type(&d))?);
            let mut w = BufWriter::with_capacity(storage.store.clone(), path.clone(), PART_BYTES);
            if let Err(e) = w.put(Bytes::from(head)).await {
                return Err(give_up(Some(w), store_failed(e)).await);
            }
            w
        }
    };
    if let Err(e) = w.shutdown().await {
        // A writer whose final flush failed cannot be aborted (object_store panics "Already
        // shut down"); a single put left nothing, a multipart upload's parts are the store's
        // to expire (an S3 lifecycle rule for incomplete multipart uploads).
        return Err(store_failed(e));
    }
    let media_type = media_type.ok_or_else(|| ApiError::internal(anyhow::anyhow!("media type not detected")))?;
    metrics::counter!("mejora_evidence_bytes_stored_total").increment(size);
    metrics::counter!("mejora_evidence_files_stored_total").increment(1);
    Ok(Received { size, sha256: hex::encode(hasher.finalize()), media_type })
}

/// Streams the bytes stored under `key`.
pub async fn open(
    storage: &Storage, key: &str,
) -> Result<futures_util::stream::BoxStream<'static, Result<Bytes, object_store::Error>>, ApiError> {
    let result = storage.store.get(&Path::from(key)).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => {
            ApiError::internal(anyhow::anyhow!("evidence file {key} is recorded but missing from the store"))
        }
        other => store_failed(other),
    })?;
    Ok(result.into_stream())
}

/// Deletes stored bytes; a failure is logged with the key (the bytes are then orphaned, never silently).
pub async fn remove(storage: &Storage, key: &str) {
    if let Err(e) = storage.store.delete(&Path::from(key)).await {
        tracing::warn!(key, error = %e, "could not delete an evidence file from the store; it is orphaned");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_comes_from_the_bytes_not_the_name() {
        assert_eq!(detect(b"%PDF-1.7\n", "x.txt"), Ok("application/pdf"));
        let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
        elf.resize(128, 0);
        assert_eq!(detect(&elf, "informe.pdf"), Err("application/x-executable".into()));
        assert_eq!(detect(b"a;b\n1;2\n", "datos.CSV"), Ok("text/csv"));
        assert_eq!(detect(b"\xef\xbb\xbfhola\r\n", "nota"), Ok("text/plain"));
        assert!(detect(b"\x00\x01\x02", "datos.csv").is_err());
    }

    #[test]
    fn file_names_keep_only_their_last_component() {
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("C:\\docs\\acta\u{0}.pdf")), "acta.pdf");
        assert_eq!(clean_name(Some("..")), "archivo");
        assert_eq!(clean_name(None), "archivo");
    }
}
