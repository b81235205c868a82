//! Improvement actions, their ratings, evidence review and traffic lights.
use super::*;

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
