//! Every enumeration of the API: one Rust enum each, stored as its snake_case code, sent on the
//! wire as that code, and labelled in Spanish and English for `/api/v1/enums`.
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

labeled_enum! {
    /// A role a principal may hold (several at once).
    Role {
        /// Manages users and service accounts; everything a planner may.
        Admin = "admin", "Administrator", "Administrador";
        /// Creates and edits plans, categories, actions and objectives.
        Planner = "planner", "Planner", "Planeador";
        /// Reports evidence on the actions assigned to them.
        Responsible = "responsible", "Responsible", "Responsable";
        /// Creates findings, reviews evidence, rates compliance and effectiveness.
        Auditor = "auditor", "Auditor", "Auditor";
        /// Reads only.
        Viewer = "viewer", "Viewer", "Consulta";
    }
}

labeled_enum! {
    /// Territorial order of a public entity.
    EntityOrder {
        /// National order.
        National = "national", "National", "Nacional";
        /// Territorial order (department, municipality, district).
        Territorial = "territorial", "Territorial", "Territorial";
    }
}

/// A set of roles stored as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Roles(pub Vec<Role>);

impl Roles {
    /// True when the set holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
    /// Sorted, de-duplicated copy.
    pub fn normalized(mut self) -> Self {
        self.0.sort();
        self.0.dedup();
        self
    }
}

/// Adds the enumerations of the business resources to the `/api/v1/enums` map.
pub fn register_all(map: &mut std::collections::BTreeMap<&'static str, Vec<EnumValue>>) {
    map.insert(PlanStatus::NAME, PlanStatus::values());
    map.insert(PolicyScope::NAME, PolicyScope::values());
    map.insert(PlanOrigin::NAME, PlanOrigin::values());
    map.insert(FundingSource::NAME, FundingSource::values());
    map.insert(MaturityLevel::NAME, MaturityLevel::values());
    map.insert(CategorySource::NAME, CategorySource::values());
    map.insert(IndicatorKind::NAME, IndicatorKind::values());
    map.insert(ControlFramework::NAME, ControlFramework::values());
    map.insert(ObjectiveSource::NAME, ObjectiveSource::values());
    map.insert(TrafficLight::NAME, TrafficLight::values());
    map.insert(FindingSource::NAME, FindingSource::values());
    map.insert(PresumedIncidence::NAME, PresumedIncidence::values());
    map.insert(Classification::NAME, Classification::values());
    map.insert(Severity::NAME, Severity::values());
    map.insert(FindingStatus::NAME, FindingStatus::values());
    map.insert(ImportFormat::NAME, ImportFormat::values());
    map.insert(ImportMode::NAME, ImportMode::values());
    map.insert(ConflictPolicy::NAME, ConflictPolicy::values());
    map.insert(ImportStatus::NAME, ImportStatus::values());
    map.insert(ActionType::NAME, ActionType::values());
    map.insert(ActionFocus::NAME, ActionFocus::values());
    map.insert(ActionStatus::NAME, ActionStatus::values());
    map.insert(ComplianceResult::NAME, ComplianceResult::values());
    map.insert(EffectivenessResult::NAME, EffectivenessResult::values());
    map.insert(ReviewStatus::NAME, ReviewStatus::values());
    map.insert(PeriodKind::NAME, PeriodKind::values());
    map.insert(PeriodStatus::NAME, PeriodStatus::values());
}

labeled_enum! {
    /// Lifecycle of an improvement plan.
    PlanStatus {
        /// Being written; editable and deletable.
        Draft = "draft", "Draft", "Borrador";
        /// Sent for approval; still editable.
        Submitted = "submitted", "Submitted for approval", "Enviado para aprobación";
        /// Approved by the committee; changes need a new version.
        Approved = "approved", "Approved", "Aprobado";
        /// Being carried out.
        InProgress = "in_progress", "In progress", "En ejecución";
        /// Finished; read-only.
        Closed = "closed", "Closed", "Cerrado";
        /// Abandoned; read-only.
        Cancelled = "cancelled", "Cancelled", "Anulado";
        /// Replaced by a newer approved version; read-only.
        Superseded = "superseded", "Superseded by a newer version", "Reemplazado por una versión posterior";
    }
}

labeled_enum! {
    /// Policy a plan answers to.
    PolicyScope {
        /// Information security and privacy model (MinTIC).
        Mspi = "mspi", "Information security and privacy model (MSPI)", "Modelo de Seguridad y Privacidad de la Información (MSPI)";
        /// Digital security policy.
        SeguridadDigital = "seguridad_digital", "Digital security policy", "Política de Seguridad Digital";
        /// Digital government policy.
        GobiernoDigital = "gobierno_digital", "Digital government policy", "Política de Gobierno Digital";
        /// Another policy.
        Other = "other", "Other", "Otra";
    }
}

labeled_enum! {
    /// The evaluation or audit whose results a plan addresses.
    PlanOrigin {
        /// FURAG performance measurement.
        Furag = "furag", "FURAG measurement", "Medición FURAG";
        /// MSPI self-assessment instrument.
        MspiSelfAssessment = "mspi_self_assessment", "MSPI self-assessment", "Autoevaluación MSPI";
        /// Internal control office audit.
        InternalAudit = "internal_audit", "Internal audit", "Auditoría interna";
        /// Comptroller's office audit (CGR or territorial).
        Comptroller = "comptroller", "Comptroller's audit", "Auditoría de la Contraloría";
        /// Certification audit (ISO/IEC 27001).
        CertificationAudit = "certification_audit", "Certification audit", "Auditoría de certificación";
        /// Independent review.
        IndependentReview = "independent_review", "Independent review", "Revisión independiente";
        /// Penetration test.
        Pentest = "pentest", "Penetration test", "Prueba de penetración";
        /// Security incident.
        Incident = "incident", "Security incident", "Incidente de seguridad";
        /// Management review.
        ManagementReview = "management_review", "Management review", "Revisión por la dirección";
        /// Another origin.
        Other = "other", "Other", "Otro";
    }
}

labeled_enum! {
    /// Where a plan's money comes from.
    FundingSource {
        /// Operating budget.
        Operating = "operating", "Operating budget", "Funcionamiento";
        /// Investment budget.
        Investment = "investment", "Investment budget", "Inversión";
        /// International or inter-agency cooperation.
        Cooperation = "cooperation", "Cooperation", "Cooperación";
        /// Another source.
        Other = "other", "Other", "Otra";
    }
}

labeled_enum! {
    /// MSPI maturity levels; a 0–100 score falls in the band starting at 0, 20, 40, 60, 80 or 100.
    MaturityLevel {
        /// Score below 20.
        Nonexistent = "nonexistent", "Nonexistent", "Inexistente";
        /// Score 20 to below 40.
        Initial = "initial", "Initial", "Inicial";
        /// Score 40 to below 60.
        Repeatable = "repeatable", "Repeatable", "Repetible";
        /// Score 60 to below 80.
        Effective = "effective", "Effective", "Efectivo";
        /// Score 80 to below 100.
        Managed = "managed", "Managed", "Gestionado";
        /// Score 100.
        Optimised = "optimised", "Optimised", "Optimizado";
    }
}

impl MaturityLevel {
    /// The level of a 0–100 score of the MSPI self-assessment: the highest level whose threshold
    /// the score reaches (Inexistente 0, Inicial 20, Repetible 40, Efectivo 60, Gestionado 80,
    /// Optimizado 100), so 19.99 is `nonexistent`, 50 `repeatable` and 75 `effective`.
    ///
    /// Source: MinTIC, *Instrumento de identificación de la línea base de seguridad* (the MSPI
    /// self-assessment workbook), whose controls are rated on the 0/20/40/60/80/100 steps and
    /// whose maturity tab names these six levels; the level names and thresholds follow the
    /// project's design (`DESIGN.md`, "maturity scale") and its domain notes. The names were not
    /// checked against a copy of the current published workbook.
    pub fn of_mspi_score(score: f64) -> MaturityLevel {
        const LEVELS: [(f64, MaturityLevel); 6] = [
            (100.0, MaturityLevel::Optimised),
            (80.0, MaturityLevel::Managed),
            (60.0, MaturityLevel::Effective),
            (40.0, MaturityLevel::Repeatable),
            (20.0, MaturityLevel::Initial),
            (0.0, MaturityLevel::Nonexistent),
        ];
        LEVELS.iter().find(|(threshold, _)| score >= *threshold).map_or(MaturityLevel::Nonexistent, |(_, l)| *l)
    }
}

labeled_enum! {
    /// Where a category's score comes from.
    CategorySource {
        /// FURAG performance measurement.
        Furag = "furag", "FURAG measurement", "Medición FURAG";
        /// MSPI self-assessment instrument.
        Mspi = "mspi", "MSPI self-assessment", "Autoevaluación MSPI";
        /// An audit.
        Audit = "audit", "Audit", "Auditoría";
        /// Another source.
        Other = "other", "Other", "Otra";
    }
}

labeled_enum! {
    /// Kind of indicator a category scores.
    IndicatorKind {
        /// Process (achievement) indicator.
        Process = "process", "Process indicator", "Indicador de proceso";
        /// Result indicator.
        Result = "result", "Result indicator", "Indicador de resultado";
    }
}

labeled_enum! {
    /// Framework of a control reference.
    ControlFramework {
        /// ISO/IEC 27001:2022 Annex A control (`5.1` … `8.34`).
        Iso27001 = "iso27001_2022", "ISO/IEC 27001:2022 Annex A control", "Control del Anexo A de ISO/IEC 27001:2022";
        /// MSPI domain.
        MspiDomain = "mspi_domain", "MSPI domain", "Dominio del MSPI";
        /// Another framework.
        Other = "other", "Other reference", "Otra referencia";
    }
}

labeled_enum! {
    /// Source of a strategic objective.
    ObjectiveSource {
        /// Institutional strategic plan.
        Pei = "pei", "Institutional strategic plan (PEI)", "Plan Estratégico Institucional (PEI)";
        /// IT strategic plan.
        Peti = "peti", "IT strategic plan (PETI)", "Plan Estratégico de Tecnologías de la Información (PETI)";
    }
}

labeled_enum! {
    /// Traffic light of an action or plan.
    TrafficLight {
        /// Done on time.
        Green = "green", "Green: done on time", "Verde: cumplida a tiempo";
        /// Done late.
        Amber = "amber", "Amber: done late", "Amarillo: cumplida con retraso";
        /// Overdue and unfinished.
        Red = "red", "Red: overdue", "Rojo: vencida";
        /// Not finished and not yet due.
        Grey = "grey", "Grey: not started or not yet due", "Gris: sin iniciar o sin vencer";
    }
}

labeled_enum! {
    /// Where an audit finding comes from.
    FindingSource {
        /// Internal control office audit.
        InternalAudit = "internal_audit", "Internal audit", "Auditoría interna";
        /// Contraloría (fiscal control) audit.
        Comptroller = "comptroller", "Comptroller audit", "Contraloría";
        /// Certification or surveillance audit (ISO/IEC 27001).
        CertificationAudit = "certification_audit", "Certification audit", "Auditoría de certificación";
        /// Independent review.
        IndependentReview = "independent_review", "Independent review", "Revisión independiente";
        /// MSPI or FURAG self-assessment.
        SelfAssessment = "self_assessment", "Self-assessment", "Autoevaluación";
        /// Penetration test or technical assessment.
        Pentest = "pentest", "Penetration test", "Prueba de penetración";
        /// Security incident.
        Incident = "incident", "Incident", "Incidente";
        /// Any other source.
        Other = "other", "Other", "Otra";
    }
}

labeled_enum! {
    /// Presumed incidence the Contraloría records on a finding (several may apply).
    PresumedIncidence {
        /// May lead to a disciplinary process.
        Disciplinary = "disciplinary", "Disciplinary", "Disciplinaria";
        /// May lead to a fiscal liability process (with an amount in COP).
        Fiscal = "fiscal", "Fiscal", "Fiscal";
        /// May be a crime.
        Criminal = "criminal", "Criminal", "Penal";
        /// May lead to a sanctioning process.
        Sanctioning = "sanctioning", "Sanctioning", "Sancionatoria";
    }
}

labeled_enum! {
    /// How the auditor classified a finding.
    Classification {
        /// Major nonconformity.
        MajorNonconformity = "major_nonconformity", "Major nonconformity", "No conformidad mayor";
        /// Minor nonconformity.
        MinorNonconformity = "minor_nonconformity", "Minor nonconformity", "No conformidad menor";
        /// Observation.
        Observation = "observation", "Observation", "Observación";
        /// Opportunity for improvement.
        ImprovementOpportunity = "improvement_opportunity", "Improvement opportunity", "Oportunidad de mejora";
    }
}

labeled_enum! {
    /// Severity of a finding.
    Severity {
        /// Critical.
        Critical = "critical", "Critical", "Crítica";
        /// High.
        High = "high", "High", "Alta";
        /// Medium.
        Medium = "medium", "Medium", "Media";
        /// Low.
        Low = "low", "Low", "Baja";
        /// Informational.
        Info = "info", "Informational", "Informativa";
    }
}

labeled_enum! {
    /// Lifecycle of a finding (changed through transitions).
    FindingStatus {
        /// Reported, no treatment yet.
        Open = "open", "Open", "Abierto";
        /// Actions are being carried out.
        InTreatment = "in_treatment", "In treatment", "En tratamiento";
        /// Closed: its actions were done.
        ClosedCompliant = "closed_compliant", "Closed compliant", "Cerrado cumplido";
        /// Closed: its actions were rated effective.
        ClosedEffective = "closed_effective", "Closed effective", "Cerrado efectivo";
        /// Closed before, open again (the cause persisted).
        Reopened = "reopened", "Reopened", "Reabierto";
        /// Withdrawn by the auditor.
        Dismissed = "dismissed", "Dismissed", "Desestimado";
    }
}

labeled_enum! {
    /// Body format of a bulk upload.
    ImportFormat {
        /// Comma- or semicolon-separated values.
        Csv = "csv", "CSV", "CSV";
        /// A JSON array of objects.
        Json = "json", "JSON", "JSON";
        /// An Excel workbook (one sheet).
        Xlsx = "xlsx", "XLSX", "XLSX";
    }
}

labeled_enum! {
    /// What a bulk upload does with invalid rows.
    ImportMode {
        /// Any invalid row rejects the whole file.
        Atomic = "atomic", "All or nothing", "Todo o nada";
        /// Valid rows are written, invalid rows are reported.
        Partial = "partial", "Partial", "Parcial";
    }
}

labeled_enum! {
    /// What a bulk upload does with a row whose natural key already exists.
    ConflictPolicy {
        /// Leave the stored finding as it is.
        Skip = "skip", "Skip", "Omitir";
        /// Overwrite the stored finding with the row's non-empty values.
        Update = "update", "Update", "Actualizar";
    }
}

labeled_enum! {
    /// Outcome of a bulk upload.
    ImportStatus {
        /// The rows were processed as the mode says.
        Completed = "completed", "Completed", "Completada";
        /// All-or-nothing upload with invalid rows: nothing was written.
        Rejected = "rejected", "Rejected", "Rechazada";
    }
}

labeled_enum! {
    /// Kind of improvement action.
    ActionType {
        /// Fixes the immediate problem.
        Correction = "correction", "Correction", "Corrección";
        /// Removes the cause of a detected nonconformity.
        Corrective = "corrective", "Corrective action", "Acción correctiva";
        /// Removes the cause of a potential nonconformity.
        Preventive = "preventive", "Preventive action", "Acción preventiva";
        /// Improves performance beyond conformity.
        Improvement = "improvement", "Improvement action", "Acción de mejora";
    }
}

labeled_enum! {
    /// What an action aims at in the MSPI improvement cycle.
    ActionFocus {
        /// Correct weaknesses found in evaluations and audits.
        Corrective = "corrective", "Corrective", "Correctiva";
        /// Optimise processes and controls.
        Optimisation = "optimisation", "Process and control optimisation", "Optimización de procesos y controles";
        /// Raise the MSPI maturity level.
        Maturity = "maturity", "Maturity raise", "Mejora del nivel de madurez";
    }
}

labeled_enum! {
    /// Execution state of an action (`overdue` is computed).
    ActionStatus {
        /// Not started.
        Planned = "planned", "Planned", "Planeada";
        /// Being carried out.
        InProgress = "in_progress", "In progress", "En ejecución";
        /// Finished.
        Done = "done", "Done", "Terminada";
        /// Dropped.
        Cancelled = "cancelled", "Cancelled", "Cancelada";
    }
}

labeled_enum! {
    /// The control office's rating of whether an action was carried out.
    ComplianceResult {
        /// Not rated yet.
        Pending = "pending", "Pending", "Pendiente";
        /// Carried out on time.
        Met = "met", "Met", "Cumplida";
        /// Carried out late.
        MetLate = "met_late", "Met late", "Cumplida extemporáneamente";
        /// Not carried out.
        NotMet = "not_met", "Not met", "Incumplida";
    }
}

labeled_enum! {
    /// The control office's rating of whether an action removed the cause.
    EffectivenessResult {
        /// Not rated yet.
        Pending = "pending", "Pending", "Pendiente";
        /// Removed the cause.
        Effective = "effective", "Effective", "Efectiva";
        /// Did not remove the cause; it may be reformulated.
        NotEffective = "not_effective", "Not effective", "No efectiva";
        /// Cannot be judged.
        NotAssessable = "not_assessable", "Not assessable", "No evaluable";
    }
}

labeled_enum! {
    /// Review state of follow-up evidence.
    ReviewStatus {
        /// Waiting for an auditor.
        Submitted = "submitted", "Submitted", "Enviada";
        /// Accepted; immutable from then on.
        Accepted = "accepted", "Accepted", "Aceptada";
        /// Rejected.
        Rejected = "rejected", "Rejected", "Rechazada";
        /// Must be corrected and sent again.
        NeedsChanges = "needs_changes", "Needs changes", "Requiere ajustes";
    }
}

labeled_enum! {
    /// What a reporting period (corte) is for.
    PeriodKind {
        /// The Contraloría's semiannual SIRECI report of improvement-plan progress (cut-offs
        /// 30 June and 31 December).
        SireciSemiannual = "sireci_semiannual", "SIRECI semiannual report", "Informe semestral SIRECI";
        /// A report to the entity's own committee.
        Committee = "committee", "Committee report", "Informe al comité";
        /// Any other report, such as a correction of a filed period.
        Other = "other", "Other report", "Otro informe";
    }
}

labeled_enum! {
    /// State of a reporting period: `open → closed → filed` (a closed period may be reopened).
    PeriodStatus {
        /// Not closed yet: figures are live.
        Open = "open", "Open", "Abierto";
        /// Closed: its figures are a stored snapshot as of the cut-off.
        Closed = "closed", "Closed", "Cerrado";
        /// Filed with the recipient (e.g. SIRECI receipt): read-only for good.
        Filed = "filed", "Filed", "Radicado";
    }
}
