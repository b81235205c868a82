//! Audit findings and their bulk uploads.
use super::*;

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
        /// Sent with `Prefer: respond-async`: received and waiting for a runner.
        Queued = "queued", "Queued", "En cola";
        /// A runner is processing it.
        Running = "running", "Running", "En proceso";
        /// Asynchronous upload whose rows were processed as the mode says.
        Succeeded = "succeeded", "Succeeded", "Exitosa";
        /// Asynchronous upload that wrote nothing: invalid rows in `atomic` mode (see `errors`)
        /// or a file that could not be read (see `problem`).
        Failed = "failed", "Failed", "Fallida";
    }
}
