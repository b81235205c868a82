//! Plans and what they are measured against: status, scope, origin, funding, maturity,
//! categories, indicators, control frameworks and objectives.
use super::*;

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
