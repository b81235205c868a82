//! The `{id}` path segment of each resource, typed, so an operation's parameter is documented
//! once per resource (`params(PlanPath, IfMatch)`) and a handler reads `path.id`.
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

macro_rules! path_ids {
    ($($name:ident => $doc:literal;)+) => {$(
        #[doc = concat!("`{id}` in the path: ", $doc, ".")]
        #[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            #[doc = $doc]
            pub id: Uuid,
        }
    )+};
}

path_ids! {
    ActionPath => "Action id";
    CategoryPath => "Category id";
    EvidencePath => "Evidence id";
    EvidenceFilePath => "File id";
    FindingPath => "Finding id";
    FindingImportPath => "Import id";
    ObjectivePath => "Objective id";
    OrganizationPath => "Organization id";
    PeriodPath => "Period id";
    PlanPath => "Plan id";
    ServiceAccountPath => "Service account id";
    UserPath => "User id";
    NotificationPath => "Notification id";
    PlanImportPath => "Upload id";
    AssetPath => "Asset id";
    RiskControlPath => "Control id";
    RiskPath => "Risk id";
    WebhookPath => "Webhook id";
}
