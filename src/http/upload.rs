//! The body of a bulk upload, sent either raw (`text/csv`, XLSX or JSON as the request body, for
//! curl and streaming clients) or as `multipart/form-data` with one part named `file` (what
//! browser forms and generated clients send). Both come out as the same stream of bytes, with
//! the media type and file name that pick the format.
use crate::error::{ApiError, ErrorCode};
use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header;
use actix_web::mime::Mime;
use actix_web::{web, HttpMessage, HttpRequest};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Room for the multipart boundaries and part headers around the file's bytes.
const MULTIPART_OVERHEAD: u64 = 16 * 1024;

// The form is kept alive while its part is read.
struct FilePart {
    _form: Multipart,
    field: Field,
}

enum Source {
    Raw(web::Payload),
    Part(Box<FilePart>),
}

/// An upload's bytes, with what the client said about them.
pub struct Upload {
    /// Media type of the bytes: the request's `Content-Type`, or the `file` part's.
    pub media_type: Option<Mime>,
    /// File name of the `file` part (multipart only).
    pub file_name: Option<String>,
    /// True when the bytes came in a multipart `file` part.
    pub multipart: bool,
    source: Source,
}

impl Upload {
    /// The format the client named: the media type, or for a multipart part without a useful
    /// one (`application/octet-stream`), the file name's extension mapped to a media type.
    pub fn effective_media_type(&self) -> Option<Mime> {
        let declared =
            self.media_type.clone().filter(|m| !(m.type_() == "application" && m.subtype() == "octet-stream"));
        if declared.is_some() || !self.multipart {
            return declared;
        }
        let name = self.file_name.as_deref()?.to_ascii_lowercase();
        let ext = name.rsplit_once('.')?.1.to_string();
        let mime = match ext.as_str() {
            "csv" | "txt" => "text/csv",
            "json" => "application/json",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            _ => return None,
        };
        mime.parse().ok()
    }
}

impl Stream for Upload {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.get_mut().source {
            Source::Raw(payload) => payload.poll_next_unpin(cx).map_err(|e| io::Error::other(e.to_string())),
            Source::Part(part) => part.field.poll_next_unpin(cx).map_err(|e| io::Error::other(e.to_string())),
        }
    }
}

/// The problem for a multipart body that cannot be read (evidence files and imports alike).
pub fn multipart_error(e: MultipartError) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => ApiError::new(ErrorCode::UnsupportedMediaType)
            .detail("Send the file as multipart/form-data", "Envíe el archivo como multipart/form-data"),
        other => {
            let text = other.to_string();
            ApiError::new(ErrorCode::InvalidMultipart).detail(text.clone(), text)
        }
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge).detail(
        format!("An upload may have at most {max} bytes"),
        format!("Una carga puede tener como máximo {max} bytes"),
    )
}

/// Opens the body of an upload of at most `max` bytes. A multipart body must start with a part
/// named `file`; its own `Content-Type` (or file name) names the format. A body announced past
/// the limit is refused before it is read; the exact limit is enforced while reading.
pub async fn open(req: &HttpRequest, payload: web::Payload, max: u64) -> Result<Upload, ApiError> {
    let announced = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mime = req.mime_type().ok().flatten();
    let is_multipart = mime.as_ref().is_some_and(|m| m.type_() == "multipart" && m.subtype() == "form-data");
    if !is_multipart {
        if announced.is_some_and(|n| n > max) {
            return Err(too_large(max));
        }
        return Ok(Upload { media_type: mime, file_name: None, multipart: false, source: Source::Raw(payload) });
    }
    if announced.is_some_and(|n| n > max.saturating_add(MULTIPART_OVERHEAD)) {
        return Err(too_large(max));
    }
    let mut form = Multipart::new(req.headers(), payload);
    let field = match form.next().await {
        None => return Err(ApiError::field("file", "required", "send one multipart part named file")),
        Some(Err(e)) => return Err(multipart_error(e)),
        Some(Ok(field)) => field,
    };
    if field.name() != Some("file") {
        return Err(ApiError::field("file", "required", "the first part must be the file, named file"));
    }
    let file_name = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
    let media_type = field.content_type().cloned();
    Ok(Upload {
        media_type,
        file_name,
        multipart: true,
        source: Source::Part(Box::new(FilePart { _form: form, field })),
    })
}
