//! The digital-security risk register (DAFP "Guía para la administración del riesgo y el
//! diseño de controles en entidades públicas", v5 2020 / v6 2022): assets, risk valuation
//! scales, controls, treatment and monitoring. The percentages behind the scales live in one
//! table, `services::risks::methodology`.
use super::*;

labeled_enum! {
    /// Kind of information asset.
    AssetKind {
        /// Information (databases, documents, records).
        Information = "information", "Information", "Información";
        /// Software (applications, systems).
        Software = "software", "Software", "Software";
        /// Hardware (servers, equipment).
        Hardware = "hardware", "Hardware", "Hardware";
        /// A service (connectivity, hosting, e-mail).
        Service = "service", "Service", "Servicio";
        /// People (key roles and their knowledge).
        People = "people", "People", "Recurso humano";
        /// A facility (data centre, archive room).
        Facility = "facility", "Facility", "Instalación";
    }
}

labeled_enum! {
    /// Classification of information under Ley 1712 de 2014 (transparency and access).
    InformationClassification {
        /// Public information.
        Public = "public", "Public", "Pública";
        /// Classified public information (art. 18).
        PublicClassified = "public_classified", "Classified public", "Pública clasificada";
        /// Reserved public information (art. 19).
        PublicReserved = "public_reserved", "Reserved public", "Pública reservada";
    }
}

labeled_enum! {
    /// Value of an asset for confidentiality, integrity or availability.
    CiaLevel {
        /// High.
        High = "high", "High", "Alto";
        /// Medium.
        Medium = "medium", "Medium", "Medio";
        /// Low.
        Low = "low", "Low", "Bajo";
    }
}

labeled_enum! {
    /// Kind of risk in the DAFP methodology.
    RiskKind {
        /// Digital-security risk (loss of confidentiality, integrity or availability).
        DigitalSecurity = "digital_security", "Digital security", "Seguridad digital";
        /// Management (process) risk.
        Management = "management", "Management", "Gestión";
        /// Corruption risk.
        Corruption = "corruption", "Corruption", "Corrupción";
    }
}

labeled_enum! {
    /// Probability level of the DAFP guide (from the exposure frequency per year).
    RiskProbability {
        /// At most 2 times a year (20%).
        VeryLow = "very_low", "Very low", "Muy baja";
        /// 3 to 24 times a year (40%).
        Low = "low", "Low", "Baja";
        /// 25 to 500 times a year (60%).
        Medium = "medium", "Medium", "Media";
        /// 501 to 5,000 times a year (80%).
        High = "high", "High", "Alta";
        /// More than 5,000 times a year (100%).
        VeryHigh = "very_high", "Very high", "Muy alta";
    }
}

labeled_enum! {
    /// Impact level of the DAFP guide (the larger of the economic and reputational criteria).
    RiskImpact {
        /// 20%.
        Slight = "slight", "Slight", "Leve";
        /// 40%.
        Minor = "minor", "Minor", "Menor";
        /// 60%.
        Moderate = "moderate", "Moderate", "Moderado";
        /// 80%.
        Major = "major", "Major", "Mayor";
        /// 100%.
        Catastrophic = "catastrophic", "Catastrophic", "Catastrófico";
    }
}

labeled_enum! {
    /// Zone of the DAFP heat map (severity), lowest first.
    RiskZone {
        /// Low.
        Low = "low", "Low", "Bajo";
        /// Moderate.
        Moderate = "moderate", "Moderate", "Moderado";
        /// High.
        High = "high", "High", "Alto";
        /// Extreme.
        Extreme = "extreme", "Extreme", "Extremo";
    }
}

labeled_enum! {
    /// Treatment option chosen for a risk.
    TreatmentOption {
        /// Accept (needs an approver other than the owner and an expiry date).
        Accept = "accept", "Accept", "Aceptar";
        /// Reduce / mitigate.
        Reduce = "reduce", "Reduce (mitigate)", "Reducir (mitigar)";
        /// Transfer (share).
        Transfer = "transfer", "Transfer", "Transferir";
        /// Avoid.
        Avoid = "avoid", "Avoid", "Evitar";
    }
}

labeled_enum! {
    /// Whether a risk's acceptance holds.
    AcceptanceStatus {
        /// The risk is not accepted.
        None = "none", "Not accepted", "No aceptado";
        /// Accepted and not expired.
        Active = "active", "Accepted", "Aceptado";
        /// Accepted, but the acceptance expired.
        Expired = "expired", "Acceptance expired", "Aceptación vencida";
    }
}

labeled_enum! {
    /// Type of a control (DAFP attribute of efficiency).
    ControlType {
        /// Acts on the cause before the risk materialises (lowers probability).
        Preventive = "preventive", "Preventive", "Preventivo";
        /// Detects the risk while the activity runs (lowers probability).
        Detective = "detective", "Detective", "Detectivo";
        /// Acts after the risk materialises (lowers impact).
        Corrective = "corrective", "Corrective", "Correctivo";
    }
}

labeled_enum! {
    /// How a control is carried out (DAFP attribute of efficiency).
    ControlImplementation {
        /// Carried out by a system without people.
        Automatic = "automatic", "Automatic", "Automático";
        /// Carried out by people.
        Manual = "manual", "Manual", "Manual";
    }
}

labeled_enum! {
    /// Whether a control is documented (informative attribute).
    ControlDocumentation {
        /// Documented in a procedure.
        Documented = "documented", "Documented", "Documentado";
        /// Not documented.
        Undocumented = "undocumented", "Undocumented", "Sin documentar";
    }
}

labeled_enum! {
    /// How often a control runs (informative attribute).
    ControlFrequency {
        /// Every time the activity runs.
        Continuous = "continuous", "Continuous", "Continua";
        /// At random.
        Random = "random", "Random", "Aleatoria";
    }
}

labeled_enum! {
    /// Whether a control leaves a record (informative attribute).
    ControlEvidence {
        /// Leaves a record.
        WithRecord = "with_record", "With record", "Con registro";
        /// Leaves no record.
        WithoutRecord = "without_record", "Without record", "Sin registro";
    }
}

labeled_enum! {
    /// Line of defence that reviewed a risk.
    ReviewLine {
        /// Second line (planning, risk and security officers).
        SecondLine = "second_line", "Second line", "Segunda línea";
        /// Third line (internal control office).
        ThirdLine = "third_line", "Third line", "Tercera línea";
    }
}

labeled_enum! {
    /// Conclusion of a risk review.
    ReviewResult {
        /// Valuation and controls are adequate.
        Adequate = "adequate", "Adequate", "Adecuado";
        /// Adequate with observations.
        WithObservations = "with_observations", "With observations", "Con observaciones";
        /// Inadequate: the valuation or the controls must change.
        Inadequate = "inadequate", "Inadequate", "Inadecuado";
    }
}
