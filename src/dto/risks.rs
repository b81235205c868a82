//! The digital-security risk register on the wire: assets, risks with their valuation, controls,
//! the organization's risk appetite, reviews, incidents and the heat map.
use crate::dto::common::Meta;
use crate::entities::enums::{
    AcceptanceStatus, AssetKind, CiaLevel, ControlDocumentation, ControlEvidence, ControlFrequency,
    ControlImplementation, ControlType, ImportMode, InformationClassification, ReviewLine, ReviewResult, RiskImpact,
    RiskKind, RiskProbability, RiskZone, TreatmentOption,
};
use crate::entities::{asset, risk_control, risk_incident, risk_review};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

// ---------------------------------------------------------------- assets

/// A critical information asset of a process.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Asset)]
pub struct AssetResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Name of the asset.
    #[schema(example = "Base de datos de contribuyentes")]
    pub name: String,
    /// Process the asset serves.
    #[schema(example = "Gestión TIC")]
    pub process: String,
    /// Kind of asset.
    pub kind: AssetKind,
    /// Description.
    pub description: Option<String>,
    /// Owner (a user of the organization).
    pub owner_id: Option<Uuid>,
    /// Owner unit (dependencia) when the owner is a unit.
    pub owner_unit: Option<String>,
    /// Custodian (a user of the organization).
    pub custodian_id: Option<Uuid>,
    /// Custodian unit when the custodian is a unit.
    pub custodian_unit: Option<String>,
    /// Classification under Ley 1712 de 2014.
    pub classification: InformationClassification,
    /// Holds personal data (Ley 1581 de 2012).
    pub personal_data: bool,
    /// Confidentiality value.
    pub confidentiality: CiaLevel,
    /// Integrity value.
    pub integrity: CiaLevel,
    /// Availability value.
    pub availability: CiaLevel,
    /// Critical asset.
    pub critical: bool,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<asset::Model> for AssetResponse {
    fn from(m: asset::Model) -> Self {
        AssetResponse {
            meta: crate::meta_of!(m),
            id: m.id,
            organization_id: m.organization_id,
            name: m.name,
            process: m.process,
            kind: m.kind,
            description: m.description,
            owner_id: m.owner_id,
            owner_unit: m.owner_unit,
            custodian_id: m.custodian_id,
            custodian_unit: m.custodian_unit,
            classification: m.classification,
            personal_data: m.personal_data,
            confidentiality: m.confidentiality,
            integrity: m.integrity,
            availability: m.availability,
            critical: m.critical,
        }
    }
}

/// A new asset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssetRequest {
    /// Name of the asset.
    #[schema(example = "Base de datos de contribuyentes", min_length = 1, max_length = 300)]
    pub name: String,
    /// Process the asset serves.
    #[schema(example = "Gestión TIC", min_length = 1, max_length = 200)]
    pub process: String,
    /// Kind of asset.
    pub kind: AssetKind,
    /// Description.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Owner (a user of the organization).
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Owner unit (dependencia).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub owner_unit: Option<String>,
    /// Custodian (a user of the organization).
    #[serde(default)]
    pub custodian_id: Option<Uuid>,
    /// Custodian unit.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub custodian_unit: Option<String>,
    /// Classification under Ley 1712 de 2014.
    pub classification: InformationClassification,
    /// Holds personal data (Ley 1581 de 2012).
    #[serde(default)]
    pub personal_data: bool,
    /// Confidentiality value.
    pub confidentiality: CiaLevel,
    /// Integrity value.
    pub integrity: CiaLevel,
    /// Availability value.
    pub availability: CiaLevel,
    /// Critical asset.
    #[serde(default)]
    pub critical: bool,
}

/// Changes to an asset (merge patch).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssetRequest {
    /// Name.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 300)]
    pub name: Option<String>,
    /// Process.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub process: Option<String>,
    /// Kind.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub kind: Option<AssetKind>,
    /// Description; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    /// Owner; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<Option<Uuid>>,
    /// Owner unit; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub owner_unit: Option<Option<String>>,
    /// Custodian; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub custodian_id: Option<Option<Uuid>>,
    /// Custodian unit; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub custodian_unit: Option<Option<String>>,
    /// Classification.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub classification: Option<InformationClassification>,
    /// Holds personal data.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub personal_data: Option<bool>,
    /// Confidentiality value.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub confidentiality: Option<CiaLevel>,
    /// Integrity value.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub integrity: Option<CiaLevel>,
    /// Availability value.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub availability: Option<CiaLevel>,
    /// Critical asset.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub critical: Option<bool>,
}

/// Filters of the asset list (oldest first).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssetListQuery {
    /// Only assets of this process (exact).
    #[param(max_length = 200)]
    pub process: Option<String>,
    /// Only assets of this kind.
    pub kind: Option<AssetKind>,
    /// Only critical (or only non-critical) assets.
    pub critical: Option<bool>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------- controls

/// A control of a risk, in the DAFP shape (responsible + action + complement).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RiskControl)]
pub struct RiskControlResponse {
    /// Id.
    pub id: Uuid,
    /// Risk it controls.
    pub risk_id: Uuid,
    /// Order in which it applies to the residual valuation (1 first).
    pub position: i32,
    /// Who carries it out.
    #[schema(example = "El profesional de sistemas")]
    pub responsible: String,
    /// What they do.
    #[schema(example = "verifica mensualmente los registros de acceso al sistema de nómina")]
    pub action: String,
    /// How, and what happens with deviations.
    pub complement: Option<String>,
    /// Type (weight: preventive 25%, detective 15%, corrective 10%).
    pub control_type: ControlType,
    /// Implementation (weight: automatic 25%, manual 15%).
    pub implementation: ControlImplementation,
    /// Documentation (informative).
    pub documentation: ControlDocumentation,
    /// Frequency (informative).
    pub frequency: ControlFrequency,
    /// Evidence (informative).
    pub evidence: ControlEvidence,
    /// ISO/IEC 27001:2022 Annex A controls it implements (`5.15`, `8.13`).
    pub annex_a_refs: Vec<String>,
    /// Computed: its weight (type + implementation), as a percentage.
    #[schema(example = 40.0)]
    pub weight_pct: f64,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl RiskControlResponse {
    /// The wire form of a control with its computed weight.
    pub fn new(m: risk_control::Model, weight_pct: f64) -> Self {
        RiskControlResponse {
            meta: crate::meta_of!(m),
            id: m.id,
            risk_id: m.risk_id,
            position: m.position,
            responsible: m.responsible,
            action: m.action,
            complement: m.complement,
            control_type: m.control_type,
            implementation: m.implementation,
            documentation: m.documentation,
            frequency: m.frequency,
            evidence: m.evidence,
            annex_a_refs: m.annex_a_refs.0,
            weight_pct,
        }
    }
}

/// A new control.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRiskControlRequest {
    /// Order among the risk's controls; default: last.
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(minimum = 1, maximum = 1000)]
    pub position: Option<i32>,
    /// Who carries it out.
    #[schema(min_length = 1, max_length = 300)]
    pub responsible: String,
    /// What they do.
    #[schema(min_length = 1, max_length = 5000)]
    pub action: String,
    /// How, and what happens with deviations.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub complement: Option<String>,
    /// Type.
    pub control_type: ControlType,
    /// Implementation.
    pub implementation: ControlImplementation,
    /// Documentation (default documented).
    #[serde(default = "documented")]
    pub documentation: ControlDocumentation,
    /// Frequency (default continuous).
    #[serde(default = "continuous")]
    pub frequency: ControlFrequency,
    /// Evidence (default with record).
    #[serde(default = "with_record")]
    pub evidence: ControlEvidence,
    /// ISO/IEC 27001:2022 Annex A controls (5.1–5.37, 6.1–6.8, 7.1–7.14, 8.1–8.34; an `A.` prefix is dropped).
    #[serde(default)]
    pub annex_a_refs: Vec<String>,
}

fn documented() -> ControlDocumentation {
    ControlDocumentation::Documented
}
fn continuous() -> ControlFrequency {
    ControlFrequency::Continuous
}
fn with_record() -> ControlEvidence {
    ControlEvidence::WithRecord
}

/// Changes to a control (merge patch).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRiskControlRequest {
    /// Order among the risk's controls.
    #[serde(default, deserialize_with = "crate::dto::lenient::patch_int")]
    #[schema(nullable = false, minimum = 1, maximum = 1000)]
    pub position: Option<i32>,
    /// Who carries it out.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 300)]
    pub responsible: Option<String>,
    /// What they do.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 5000)]
    pub action: Option<String>,
    /// How; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub complement: Option<Option<String>>,
    /// Type.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub control_type: Option<ControlType>,
    /// Implementation.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub implementation: Option<ControlImplementation>,
    /// Documentation.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub documentation: Option<ControlDocumentation>,
    /// Frequency.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub frequency: Option<ControlFrequency>,
    /// Evidence.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub evidence: Option<ControlEvidence>,
    /// ISO/IEC 27001:2022 Annex A controls (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub annex_a_refs: Option<Vec<String>>,
}

// ---------------------------------------------------------------- risks

/// A valuation of a risk: probability and impact with their percentages, and the heat-map zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskValuation {
    /// Probability level.
    pub probability: RiskProbability,
    /// Probability as a percentage (25.2 = 25.2%).
    #[schema(example = 60.0)]
    pub probability_pct: f64,
    /// Impact level.
    pub impact: RiskImpact,
    /// Impact as a percentage.
    #[schema(example = 80.0)]
    pub impact_pct: f64,
    /// Zone of the heat map.
    pub zone: RiskZone,
}

/// A risk of the register with its valuation, controls, treatment and monitoring.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Risk)]
pub struct RiskResponse {
    /// Id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Code in the risk map, unique in the organization.
    #[schema(example = "RSD-01")]
    pub code: String,
    /// Process the risk belongs to.
    #[schema(example = "Gestión TIC")]
    pub process: String,
    /// Kind of risk.
    pub kind: RiskKind,
    /// Assets affected.
    pub asset_ids: Vec<Uuid>,
    /// Confidentiality at stake.
    pub confidentiality: bool,
    /// Integrity at stake.
    pub integrity: bool,
    /// Availability at stake.
    pub availability: bool,
    /// Impact (what would happen), first part of the description.
    #[schema(example = "pérdida de la confidencialidad de los datos personales de contribuyentes")]
    pub impact: String,
    /// Immediate cause.
    #[schema(example = "accesos no autorizados a la base de datos")]
    pub immediate_cause: String,
    /// Root cause.
    #[schema(example = "ausencia de revisión periódica de privilegios")]
    pub root_cause: String,
    /// Computed: the description in the guide's shape ("Posibilidad de … debido a … por …").
    pub description: String,
    /// Threats.
    pub threats: Vec<String>,
    /// Vulnerabilities.
    pub vulnerabilities: Vec<String>,
    /// Owner of the risk (a user of the organization).
    pub owner_id: Option<Uuid>,
    /// Times a year the activity exposed to the risk runs.
    #[schema(example = 12)]
    pub annual_frequency: i32,
    /// Economic impact criterion.
    pub economic_impact: RiskImpact,
    /// Reputational impact criterion.
    pub reputational_impact: RiskImpact,
    /// Computed: inherent valuation.
    pub inherent: RiskValuation,
    /// Computed: residual valuation after the controls, in order.
    pub residual: RiskValuation,
    /// Treatment option.
    pub treatment: TreatmentOption,
    /// Who approved the acceptance (not the owner).
    pub accepted_by: Option<Uuid>,
    /// When the acceptance was approved.
    pub accepted_on: Option<NaiveDate>,
    /// When the acceptance expires.
    pub acceptance_expires_on: Option<NaiveDate>,
    /// Computed: whether the acceptance holds today.
    pub acceptance_status: AcceptanceStatus,
    /// Computed: the residual zone is above the organization's appetite.
    pub above_appetite: bool,
    /// Computed: above appetite, not (validly) accepted and no improvement action treats it.
    pub treatment_gap: bool,
    /// Improvement actions that treat the risk.
    pub action_ids: Vec<Uuid>,
    /// Findings that materialise the risk.
    pub finding_ids: Vec<Uuid>,
    /// Days between reviews.
    #[schema(example = 180)]
    pub review_interval_days: i32,
    /// Date of the last review.
    pub last_review_on: Option<NaiveDate>,
    /// Computed: when the next review is due.
    pub next_review_on: Option<NaiveDate>,
    /// Controls, in the order they apply.
    pub controls: Vec<RiskControlResponse>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

/// A new risk, optionally with its controls.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRiskRequest {
    /// Code in the risk map, unique in the organization.
    #[schema(example = "RSD-01", min_length = 1, max_length = 40)]
    pub code: String,
    /// Process.
    #[schema(example = "Gestión TIC", min_length = 1, max_length = 200)]
    pub process: String,
    /// Kind of risk.
    pub kind: RiskKind,
    /// Assets affected.
    #[serde(default)]
    pub asset_ids: Vec<Uuid>,
    /// Confidentiality at stake.
    #[serde(default)]
    pub confidentiality: bool,
    /// Integrity at stake.
    #[serde(default)]
    pub integrity: bool,
    /// Availability at stake.
    #[serde(default)]
    pub availability: bool,
    /// Impact (what would happen).
    #[schema(min_length = 1, max_length = 2000)]
    pub impact: String,
    /// Immediate cause.
    #[schema(min_length = 1, max_length = 2000)]
    pub immediate_cause: String,
    /// Root cause.
    #[schema(min_length = 1, max_length = 2000)]
    pub root_cause: String,
    /// Threats.
    #[serde(default)]
    pub threats: Vec<String>,
    /// Vulnerabilities.
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
    /// Owner (a user of the organization).
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Times a year the activity exposed to the risk runs (gives the probability).
    #[serde(deserialize_with = "crate::dto::lenient::int")]
    #[schema(example = 12, minimum = 0, maximum = 100000000)]
    pub annual_frequency: i32,
    /// Economic impact criterion.
    pub economic_impact: RiskImpact,
    /// Reputational impact criterion.
    pub reputational_impact: RiskImpact,
    /// Treatment option (default reduce).
    #[serde(default = "reduce")]
    pub treatment: TreatmentOption,
    /// Approver of an acceptance (required with `accept`; not the owner).
    #[serde(default)]
    pub accepted_by: Option<Uuid>,
    /// Date of the acceptance (default today with `accept`).
    #[serde(default)]
    pub accepted_on: Option<NaiveDate>,
    /// Expiry of the acceptance (required with `accept`).
    #[serde(default)]
    pub acceptance_expires_on: Option<NaiveDate>,
    /// Days between reviews (default 180).
    #[serde(default, deserialize_with = "crate::dto::lenient::opt_int")]
    #[schema(minimum = 1, maximum = 3660)]
    pub review_interval_days: Option<i32>,
    /// Improvement actions that treat the risk.
    #[serde(default)]
    pub action_ids: Vec<Uuid>,
    /// Findings that materialise the risk.
    #[serde(default)]
    pub finding_ids: Vec<Uuid>,
    /// Controls, in the order they apply.
    #[serde(default)]
    pub controls: Vec<CreateRiskControlRequest>,
}

fn reduce() -> TreatmentOption {
    TreatmentOption::Reduce
}

/// Changes to a risk (merge patch). Controls change through `/risks/{id}/controls`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRiskRequest {
    /// Code.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 40)]
    pub code: Option<String>,
    /// Process.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub process: Option<String>,
    /// Kind.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub kind: Option<RiskKind>,
    /// Assets affected (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub asset_ids: Option<Vec<Uuid>>,
    /// Confidentiality at stake.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub confidentiality: Option<bool>,
    /// Integrity at stake.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub integrity: Option<bool>,
    /// Availability at stake.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub availability: Option<bool>,
    /// Impact.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 2000)]
    pub impact: Option<String>,
    /// Immediate cause.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 2000)]
    pub immediate_cause: Option<String>,
    /// Root cause.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false, min_length = 1, max_length = 2000)]
    pub root_cause: Option<String>,
    /// Threats (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub threats: Option<Vec<String>>,
    /// Vulnerabilities (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub vulnerabilities: Option<Vec<String>>,
    /// Owner; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<Option<Uuid>>,
    /// Times a year the exposed activity runs.
    #[serde(default, deserialize_with = "crate::dto::lenient::patch_int")]
    #[schema(nullable = false, minimum = 0, maximum = 100000000)]
    pub annual_frequency: Option<i32>,
    /// Economic impact criterion.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub economic_impact: Option<RiskImpact>,
    /// Reputational impact criterion.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub reputational_impact: Option<RiskImpact>,
    /// Treatment option.
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub treatment: Option<TreatmentOption>,
    /// Approver of the acceptance; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub accepted_by: Option<Option<Uuid>>,
    /// Date of the acceptance; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub accepted_on: Option<Option<NaiveDate>>,
    /// Expiry of the acceptance; `null` clears it.
    #[serde(default, deserialize_with = "crate::dto::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub acceptance_expires_on: Option<Option<NaiveDate>>,
    /// Days between reviews.
    #[serde(default, deserialize_with = "crate::dto::lenient::patch_int")]
    #[schema(nullable = false, minimum = 1, maximum = 3660)]
    pub review_interval_days: Option<i32>,
    /// Improvement actions that treat the risk (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub action_ids: Option<Vec<Uuid>>,
    /// Findings that materialise the risk (replaces the list).
    #[serde(default, deserialize_with = "crate::dto::patch::required")]
    #[schema(nullable = false)]
    pub finding_ids: Option<Vec<Uuid>>,
}

/// Filters of the risk list (oldest first).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RiskListQuery {
    /// Only risks of this process (exact).
    #[param(max_length = 200)]
    pub process: Option<String>,
    /// Only risks of this kind.
    pub kind: Option<RiskKind>,
    /// Only risks whose inherent zone is this.
    pub inherent_zone: Option<RiskZone>,
    /// Only risks whose residual zone is this.
    pub residual_zone: Option<RiskZone>,
    /// Only risks with this treatment.
    pub treatment: Option<TreatmentOption>,
    /// Only risks of this owner.
    pub owner_id: Option<Uuid>,
    /// Only risks treated by this improvement action.
    pub action_id: Option<Uuid>,
    /// Page size: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub limit: Option<u64>,
    /// Page position: documented once, by [`crate::dto::pagination::PageParams`].
    #[param(ignore)]
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------- appetite

/// The organization's risk appetite.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RiskAppetite)]
pub struct RiskAppetiteResponse {
    /// The highest residual zone tolerated without treatment (default `low`): a risk above it
    /// must be accepted or treated by at least one improvement action.
    pub max_zone: RiskZone,
    /// When it last changed (absent: never set).
    pub updated_at: Option<DateTime<Utc>>,
    /// Who changed it last.
    pub updated_by: Option<Uuid>,
    /// Version; the `ETag` is `"v{version}"` (0: never set).
    pub version: i32,
}

/// A new risk appetite.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRiskAppetiteRequest {
    /// The highest residual zone tolerated without treatment.
    pub max_zone: RiskZone,
}

// ---------------------------------------------------------------- reviews and incidents

/// A periodic review of a risk by the second or third line.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RiskReview)]
pub struct RiskReviewResponse {
    /// Id.
    pub id: Uuid,
    /// Risk reviewed.
    pub risk_id: Uuid,
    /// Date of the review.
    pub reviewed_on: NaiveDate,
    /// Who reviewed it.
    pub reviewer_id: Option<Uuid>,
    /// Line of defence.
    pub line: ReviewLine,
    /// Conclusion.
    pub result: ReviewResult,
    /// Note.
    pub note: Option<String>,
    /// Links to the evidence examined.
    pub evidence_links: Vec<String>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<risk_review::Model> for RiskReviewResponse {
    fn from(m: risk_review::Model) -> Self {
        RiskReviewResponse {
            meta: crate::meta_of!(m),
            id: m.id,
            risk_id: m.risk_id,
            reviewed_on: m.reviewed_on,
            reviewer_id: m.reviewer_id,
            line: m.line,
            result: m.result,
            note: m.note,
            evidence_links: m.evidence_links.0,
        }
    }
}

/// A new review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRiskReviewRequest {
    /// Date of the review (not in the future).
    pub reviewed_on: NaiveDate,
    /// Line of defence.
    pub line: ReviewLine,
    /// Conclusion.
    pub result: ReviewResult,
    /// Note.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// Links to the evidence examined (http or https URLs, at most 50).
    #[serde(default)]
    pub evidence_links: Vec<String>,
}

/// A materialisation of a risk (an incident).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RiskIncident)]
pub struct RiskIncidentResponse {
    /// Id.
    pub id: Uuid,
    /// Risk that materialised.
    pub risk_id: Uuid,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// What happened.
    pub description: String,
    /// Finding that recorded it.
    pub finding_id: Option<Uuid>,
    /// Impact it actually had.
    pub actual_impact: Option<RiskImpact>,
    /// Bookkeeping.
    #[serde(flatten)]
    pub meta: Meta,
}

impl From<risk_incident::Model> for RiskIncidentResponse {
    fn from(m: risk_incident::Model) -> Self {
        RiskIncidentResponse {
            meta: crate::meta_of!(m),
            id: m.id,
            risk_id: m.risk_id,
            occurred_on: m.occurred_on,
            description: m.description,
            finding_id: m.finding_id,
            actual_impact: m.actual_impact,
        }
    }
}

/// A new incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRiskIncidentRequest {
    /// When it happened (not in the future).
    pub occurred_on: NaiveDate,
    /// What happened.
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    /// Finding that recorded it (it is linked to the risk as well).
    #[serde(default)]
    pub finding_id: Option<Uuid>,
    /// Impact it actually had.
    #[serde(default)]
    pub actual_impact: Option<RiskImpact>,
}

// ---------------------------------------------------------------- heat map

/// Which valuation the heat map counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeatMapStage {
    /// Before controls.
    #[default]
    Inherent,
    /// After controls.
    Residual,
}

/// Filters of the heat map.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeatMapQuery {
    /// Inherent (default) or residual valuation.
    pub stage: Option<HeatMapStage>,
    /// Only risks of this process (exact).
    #[param(max_length = 200)]
    pub process: Option<String>,
    /// Only risks of this kind.
    pub kind: Option<RiskKind>,
}

/// One cell of the heat map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeatMapCell {
    /// Probability level (row).
    pub probability: RiskProbability,
    /// Impact level (column).
    pub impact: RiskImpact,
    /// Zone of the cell in the guide's map.
    pub zone: RiskZone,
    /// Risks in the cell.
    pub count: u64,
}

/// The 5 × 5 heat map with the count of risks per cell and per zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeatMapResponse {
    /// Inherent or residual.
    pub stage: HeatMapStage,
    /// The methodology the map follows.
    pub methodology: String,
    /// 25 cells, probability very low → very high, impact slight → catastrophic.
    pub cells: Vec<HeatMapCell>,
    /// Risks per zone (low, moderate, high, extreme).
    pub zones: Vec<ZoneCount>,
    /// Risks counted.
    pub total: u64,
}

/// Risks in one zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ZoneCount {
    /// Zone.
    pub zone: RiskZone,
    /// Risks in it.
    pub count: u64,
}

// ---------------------------------------------------------------- reports

/// A risk an improvement plan treats, as the plan report and the dashboard show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreatedRisk {
    /// Risk id.
    pub id: Uuid,
    /// Code in the risk map.
    pub code: String,
    /// Process.
    pub process: String,
    /// Kind.
    pub kind: RiskKind,
    /// Zone before controls.
    pub inherent_zone: RiskZone,
    /// Zone after controls.
    pub residual_zone: RiskZone,
    /// Treatment option.
    pub treatment: TreatmentOption,
    /// The plan's actions that treat it.
    pub action_ids: Vec<Uuid>,
}

/// The risks one plan's actions treat.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanRisks {
    /// Plan id.
    pub plan_id: Uuid,
    /// Plan code.
    pub code: String,
    /// Plan title.
    pub title: String,
    /// The risks, by code.
    pub risks: Vec<TreatedRisk>,
}

// ---------------------------------------------------------------- export and import

/// File format of the risk map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskSheetFormat {
    /// Excel workbook.
    #[default]
    Xlsx,
    /// CSV, UTF-8 with BOM.
    Csv,
}

/// Options of the risk-map export.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RiskExportQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<RiskSheetFormat>,
    /// Only risks of this process (exact).
    #[param(max_length = 200)]
    pub process: Option<String>,
    /// Only risks of this kind.
    pub kind: Option<RiskKind>,
}

/// Options of the risk-map import.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RiskImportQuery {
    /// `atomic` (default: any invalid row rejects the file) or `partial` (valid risks are written).
    pub mode: Option<ImportMode>,
    /// Check everything and write nothing.
    pub dry_run: Option<bool>,
}

/// What an import of the risk map did (or would do, in a dry run).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskImportResponse {
    /// Nothing was written.
    pub dry_run: bool,
    /// `csv` or `xlsx`.
    pub format: String,
    /// Atomic or partial.
    pub mode: ImportMode,
    /// Data rows read.
    pub rows: u64,
    /// Risks created.
    pub risks: u64,
    /// Controls created.
    pub controls: u64,
    /// Ids of the risks created (empty in a dry run).
    pub risk_ids: Vec<Uuid>,
    /// Row errors (partial mode; in atomic mode they come in the 422 problem).
    pub errors: Vec<crate::error::FieldError>,
}
