//! Evidence files: multipart upload (streamed to the object store), metadata, download and
//! removal.
use crate::auth::{AnyMember, Auth, EvidenceReporter};
use crate::dto::evidence::{FileResponse, UploadFileForm};
use crate::dto::paths::{EvidenceFilePath, EvidencePath};
use crate::dto::FileBytes;
use crate::error::{ApiError, Problem};
use crate::http::etag::{etag, ok_tagged};
use crate::http::upload::multipart_error;
use crate::services::audit::Actor;
use crate::services::transaction;
use crate::services::{evidence, files};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Room for multipart boundaries and part headers around the file's bytes.
const MULTIPART_OVERHEAD: u64 = 16 * 1024;

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987 form (written by
/// actix-web's typed header).
fn content_disposition(name: &str) -> ContentDisposition {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(fallback),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// Upload a file to evidence
///
/// `multipart/form-data` with one part named `file` (sent first). The bytes are streamed to
/// the object store; the media type is detected from them (PDF, PNG, JPEG, GIF, WebP, TIFF,
/// Word, Excel, PowerPoint, OpenDocument, ZIP, CSV or plain text; anything else is 415) and the
/// SHA-256 is computed. Files past `MEJORA_UPLOAD_LIMIT` are 413, empty files 422. Re-sending
/// the same bytes to the same evidence returns the existing file with 200.
#[utoipa::path(tag = "evidence", security(("bearer" = [])),
    request_body(content = UploadFileForm, content_type = "multipart/form-data"),
    params(EvidencePath),
    responses(
        (status = 201, description = "Stored", body = FileResponse, headers(("Location" = String, description = "URL of the file"))),
        (status = 200, description = "The same bytes were already attached; that file", body = FileResponse),
        (status = 403, description = "Your roles do not allow it, or the action is not assigned to you", body = Problem),
        (status = 404, description = "No such evidence in your organization", body = Problem),
        (status = 409, description = "Accepted evidence is immutable; `period_closed`: a closed reporting period covers its plan and cut-off date", body = Problem),
        (status = 413, description = "The file is larger than the limit", body = Problem),
        (status = 415, description = "Not multipart, or a file type that is not accepted", body = Problem),
        (status = 422, description = "No file part, or an empty file", body = Problem),
    ))]
#[post("/evidence/{id}/files")]
pub async fn upload_evidence_file(
    auth: Auth<EvidenceReporter>, state: web::Data<AppState>, id: web::Path<EvidencePath>, req: HttpRequest,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let (evidence_id, org) = (id.id, auth.organization_id);
    let actor = Actor::from(&auth.principal);
    evidence::ensure_may_attach(&state.db, &actor, org, evidence_id).await?;
    let limit = u64::try_from(state.config.upload_limit).unwrap_or(u64::MAX);
    // A body announced far past the limit is refused before it is read; the exact limit is
    // enforced on the file's bytes while streaming.
    let announced = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit.saturating_add(MULTIPART_OVERHEAD)) {
        return Err(files::too_large(limit));
    }
    let field = match form.next().await {
        None => return Err(ApiError::field("file", "required", "send one multipart part named file")),
        Some(Err(e)) => return Err(multipart_error(e)),
        Some(Ok(field)) => field,
    };
    let filename = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
    if field.name() != Some("file") || filename.is_none() {
        return Err(ApiError::field("file", "required", "the first part must be a file named file"));
    }
    let name = files::clean_name(filename.as_deref());
    let file_id = Uuid::now_v7();
    let key = files::storage_key(org, file_id);
    let received = files::receive(&state.storage, &key, limit, &name, field).await?;
    let file = evidence::NewFile {
        id: file_id,
        name,
        media_type: received.media_type.to_string(),
        size: received.size,
        sha256: received.sha256,
        storage_key: key.clone(),
    };
    let attached = evidence::attach_new(&state.db, &actor, org, evidence_id, file).await;
    match attached {
        Ok((stored, true)) => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/files/{}", stored.id)))
            .insert_header((header::ETAG, etag(1)))
            .json(stored)),
        Ok((existing, false)) => {
            files::remove(&state.storage, &key).await;
            Ok(HttpResponse::Ok().json(existing))
        }
        Err(e) => {
            files::remove(&state.storage, &key).await;
            Err(e)
        }
    }
}

/// Get a file's metadata
#[utoipa::path(tag = "evidence", security(("bearer" = [])), params(EvidenceFilePath), responses(
    (status = 200, description = "The file's name, type, size and SHA-256", body = FileResponse),
    (status = 404, description = "No such file in your organization", body = Problem),
))]
#[get("/files/{id}")]
pub async fn get_file(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<EvidenceFilePath>,
) -> Result<HttpResponse, ApiError> {
    let found = evidence::file(&state.db, auth.organization_id, id.id).await?;
    Ok(ok_tagged(found.version, &found.response))
}

/// Download a file
///
/// Streams the stored bytes as an attachment with the detected media type,
/// `X-Content-Type-Options: nosniff`, and the SHA-256 in `X-Content-SHA256` (hex) and
/// `Repr-Digest` (RFC 9530).
#[utoipa::path(tag = "evidence", security(("bearer" = [])), params(EvidenceFilePath), responses(
    (status = 200, description = "The bytes", content_type = "application/octet-stream", body = FileBytes,
        headers(("Content-Disposition" = String, description = "attachment with the file name"), ("X-Content-SHA256" = String, description = "SHA-256 of the bytes, hex"), ("Repr-Digest" = String, description = "SHA-256 of the bytes (RFC 9530)"))),
    (status = 404, description = "No such file in your organization", body = Problem),
))]
#[get("/files/{id}/content")]
pub async fn download_file(
    auth: Auth<AnyMember>, state: web::Data<AppState>, id: web::Path<EvidenceFilePath>,
) -> Result<HttpResponse, ApiError> {
    let found = evidence::file(&state.db, auth.organization_id, id.id).await?;
    let stream = files::open(&state.storage, &found.storage_key).await?;
    let found = found.response;
    let digest =
        hex::decode(&found.sha256).map(|d| base64::engine::general_purpose::STANDARD.encode(d)).unwrap_or_default();
    let size = u64::try_from(found.size).unwrap_or(0);
    Ok(HttpResponse::Ok()
        .content_type(found.media_type.as_str())
        .insert_header(content_disposition(&found.name))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(("X-Content-SHA256", found.sha256.as_str()))
        .insert_header(("Repr-Digest", format!("sha-256=:{digest}:")))
        .no_chunking(size)
        .streaming(stream.map(|chunk| chunk.map_err(std::io::Error::other))))
}

/// Remove a file from evidence
///
/// Only from evidence that is not accepted. The record goes at once and the stored bytes right
/// after (a storage failure is logged with the key).
#[utoipa::path(tag = "evidence", security(("bearer" = [])), params(EvidenceFilePath), responses(
    (status = 204, description = "Removed"),
    (status = 403, description = "Your roles do not allow it, or the action is not assigned to you", body = Problem),
    (status = 404, description = "No such file in your organization", body = Problem),
    (status = 409, description = "The evidence is accepted and immutable; `period_closed`: a closed reporting period covers its plan and cut-off date", body = Problem),
))]
#[delete("/files/{id}")]
pub async fn delete_file(
    auth: Auth<EvidenceReporter>, state: web::Data<AppState>, id: web::Path<EvidenceFilePath>,
) -> Result<HttpResponse, ApiError> {
    let key = transaction(&state.db, async |txn| {
        evidence::detach(txn, &Actor::from(&auth.principal), auth.organization_id, id.id).await
    })
    .await?;
    files::remove(&state.storage, &key).await;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_evidence_file).service(get_file).service(download_file).service(delete_file);
}
