//! Every enumeration of the API with its Spanish and English labels, for forms and reports.
use crate::dto::enums::EnumValue;
use actix_web::{get, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Enumerations by name (`Role`, `PlanStatus`, …), each a list of values with labels.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnumsResponse {
    /// Values of each enumeration, by enumeration name.
    pub enums: BTreeMap<&'static str, Vec<EnumValue>>,
}

/// List enumerations with Spanish and English labels
///
/// Public (no token needed): codes are what the API sends and accepts; `es` and `en` are labels.
#[utoipa::path(tag = "enums", responses((status = 200, description = "All enumerations", body = EnumsResponse)))]
#[get("/enums")]
pub async fn list_enums() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(EnumsResponse { enums: crate::dto::enums::all() })
}

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_enums);
}
