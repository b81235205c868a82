//! Reporting periods (cortes): what a period is for and where it stands.
use super::*;

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
