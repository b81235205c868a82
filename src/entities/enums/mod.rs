//! Every enumeration of the API: one Rust enum each, stored as its snake_case code, sent on the
//! wire as that code, and labelled in Spanish and English for `/api/v1/enums`. The enums live
//! in one file per domain; [`all`] and [`schemas`] come from the one list at the end of this
//! file, so `/api/v1/enums` and the OpenAPI document cannot list different enumerations.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One value of an enumeration with its labels.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnumValue {
    /// The code sent on the wire.
    pub code: &'static str,
    /// English label.
    pub en: &'static str,
    /// Spanish label.
    pub es: &'static str,
}

/// Lower-cases and strips Spanish accents so `Clasificación`, `clasificacion` and `CLASIFICACION` match.
/// `-` and `_` count as spaces; runs of spaces become one and the ends are trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        let c = match c {
            'á' | 'Á' | 'à' | 'À' | 'ä' | 'Ä' => 'a',
            'é' | 'É' | 'è' | 'È' | 'ë' | 'Ë' => 'e',
            'í' | 'Í' | 'ì' | 'Ì' | 'ï' | 'Ï' => 'i',
            'ó' | 'Ó' | 'ò' | 'Ò' | 'ö' | 'Ö' => 'o',
            'ú' | 'Ú' | 'ù' | 'Ù' | 'ü' | 'Ü' => 'u',
            'ñ' | 'Ñ' => 'n',
            '-' | '_' => ' ',
            c if c.is_ascii() => c.to_ascii_lowercase(),
            other => other.to_lowercase().next().unwrap_or(other),
        };
        if c.is_whitespace() {
            gap = !out.is_empty();
        } else {
            if gap {
                out.push(' ');
                gap = false;
            }
            out.push(c);
        }
    }
    out
}

/// Declares a labelled enumeration with its database, wire and documentation mappings.
#[macro_export]
macro_rules! labeled_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $en:literal, $es:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $code)] #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Name of the enumeration in `/api/v1/enums`.
            pub const NAME: &'static str = stringify!($name);
            /// The wire code.
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            /// English label.
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            /// Spanish label.
            pub fn label_es(self) -> &'static str { match self { $($name::$variant => $es),+ } }
            /// Values with labels.
            pub fn values() -> Vec<$crate::entities::enums::EnumValue> {
                Self::ALL.iter().map(|v| $crate::entities::enums::EnumValue { code: v.code(), en: v.label_en(), es: v.label_es() }).collect()
            }
            /// Accepts the code or either label, ignoring case and accents.
            pub fn parse_label(text: &str) -> Option<Self> {
                let wanted = $crate::entities::enums::fold(text);
                Self::ALL.iter().copied().find(|v| {
                    $crate::entities::enums::fold(v.code()) == wanted
                        || $crate::entities::enums::fold(v.label_en()) == wanted
                        || $crate::entities::enums::fold(v.label_es()) == wanted
                })
            }
        }

        // Written by hand: the derive does not see serde renames produced by this macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let labels: Vec<String> = Self::ALL
                    .iter()
                    .map(|v| format!("`{}` ({} / {})", v.code(), v.label_en(), v.label_es()))
                    .collect();
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().map(|v| v.code())))
                    .description(Some(format!("One of: {}.", labels.join(", "))))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.code()) }
        }
    };
}

mod actions;
mod audit;
mod events;
mod findings;
mod identity;
mod periods;
mod plans;
mod risks;

pub use actions::*;
pub use audit::*;
pub use events::*;
pub use findings::*;
pub use identity::*;
pub use periods::*;
pub use plans::*;
pub use risks::*;

/// The one list of enumerations: `/api/v1/enums` ([`all`]) and the OpenAPI components
/// ([`schemas`]) are built from it.
macro_rules! enumerations {
    ($($name:ident),+ $(,)?) => {
        /// Every enumeration with its labels, by name.
        pub fn all() -> std::collections::BTreeMap<&'static str, Vec<EnumValue>> {
            std::collections::BTreeMap::from([$(($name::NAME, $name::values())),+])
        }

        /// The schema of every enumeration, by name, for the OpenAPI components.
        pub fn schemas() -> Vec<(&'static str, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
            vec![$(($name::NAME, <$name as utoipa::PartialSchema>::schema())),+]
        }
    };
}

enumerations! {
    Role, EntityOrder,
    PlanStatus, PolicyScope, PlanOrigin, FundingSource, MaturityLevel, CategorySource, IndicatorKind,
    ControlFramework, ObjectiveSource,
    FindingSource, PresumedIncidence, Classification, Severity, FindingStatus, ImportFormat, ImportMode,
    ConflictPolicy, ImportStatus,
    ActionType, ActionFocus, ActionStatus, ComplianceResult, EffectivenessResult, ReviewStatus, TrafficLight,
    PeriodKind, PeriodStatus,
    AuditResource, AuditOperation, ActorKind,
    EventType,
    AssetKind, InformationClassification, CiaLevel, RiskKind, RiskProbability, RiskImpact, RiskZone,
    TreatmentOption, AcceptanceStatus, ControlType, ControlImplementation, ControlDocumentation,
    ControlFrequency, ControlEvidence, ReviewLine, ReviewResult,
    DeliveryStatus,
}
