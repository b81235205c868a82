//! The audit trail: what kind of resource an event is about, what was done, and who did it.
//! Stored as the same codes the trail has always held, so existing events and their hash chain
//! stay valid.
use super::*;

labeled_enum! {
    /// The kind of resource an audit event is about.
    AuditResource {
        /// An improvement action.
        Action = "action", "Action", "Acción";
        /// A category of a plan.
        Category = "category", "Category", "Categoría";
        /// Follow-up evidence.
        Evidence = "evidence", "Evidence", "Evidencia";
        /// An audit finding.
        Finding = "finding", "Finding", "Hallazgo";
        /// A bulk upload of findings.
        FindingImport = "finding_import", "Finding upload", "Carga de hallazgos";
        /// A strategic objective.
        Objective = "objective", "Objective", "Objetivo";
        /// An organization (public entity).
        Organization = "organization", "Organization", "Entidad";
        /// An improvement plan.
        Plan = "plan", "Plan", "Plan";
        /// A reporting period (corte) and its snapshot.
        ReportingPeriod = "reporting_period", "Reporting period", "Corte de reporte";
        /// A service account.
        ServiceAccount = "service_account", "Service account", "Cuenta de servicio";
        /// A sign-in session.
        Session = "session", "Session", "Sesión";
        /// A user.
        User = "user", "User", "Usuario";
        /// A critical information asset.
        Asset = "asset", "Asset", "Activo de información";
        /// A risk of the risk register.
        Risk = "risk", "Risk", "Riesgo";
        /// A control of a risk.
        RiskControl = "risk_control", "Risk control", "Control de riesgo";
        /// The organization's risk appetite.
        RiskAppetite = "risk_appetite", "Risk appetite", "Apetito de riesgo";
        /// A review of a risk.
        RiskReview = "risk_review", "Risk review", "Revisión de riesgo";
        /// A materialised risk (incident).
        RiskIncident = "risk_incident", "Risk incident", "Materialización de riesgo";
        /// A webhook subscription.
        Webhook = "webhook", "Webhook", "Webhook";
    }
}

labeled_enum! {
    /// What an audit event records.
    AuditOperation {
        /// Created.
        Create = "create", "Created", "Creación";
        /// Changed.
        Update = "update", "Updated", "Modificación";
        /// Deleted.
        Delete = "delete", "Deleted", "Eliminación";
        /// An action rated for compliance and effectiveness.
        Evaluate = "evaluate", "Evaluated", "Evaluación";
        /// An action reformulated after it was rated not effective.
        Reformulate = "reformulate", "Reformulated", "Reformulación";
        /// A file attached to evidence.
        AttachFile = "attach_file", "File attached", "Archivo adjuntado";
        /// A file removed from evidence.
        DetachFile = "detach_file", "File removed", "Archivo retirado";
        /// Evidence reviewed.
        Review = "review", "Reviewed", "Revisión";
        /// A finding linked to a plan.
        LinkPlan = "link_plan", "Linked to a plan", "Vinculación a un plan";
        /// A finding's status changed.
        Transition = "transition", "Status changed", "Cambio de estado";
        /// A new version of a plan.
        CreateVersion = "create_version", "Version created", "Nueva versión";
        /// A plan imported from a matrix.
        Import = "import", "Imported", "Importación";
        /// A plan replaced by its new version.
        Supersede = "supersede", "Superseded", "Reemplazo";
        /// A plan submitted for approval.
        Submit = "submit", "Submitted", "Envío";
        /// A plan approved.
        Approve = "approve", "Approved", "Aprobación";
        /// A plan started.
        Start = "start", "Started", "Inicio";
        /// A plan or a reporting period closed.
        Close = "close", "Closed", "Cierre";
        /// A closed reporting period reopened (with a reason).
        Reopen = "reopen", "Reopened", "Reapertura";
        /// A reporting period filed with its recipient.
        File = "file", "Filed", "Radicación";
        /// Observations of a closed period's actions written.
        Observe = "observe", "Observations written", "Observaciones registradas";
        /// A plan cancelled.
        Cancel = "cancel", "Cancelled", "Cancelación";
        /// A service account's secret replaced.
        RotateSecret = "rotate_secret", "Secret rotated", "Rotación del secreto";
        /// A user's password set by an administrator or the operator.
        ResetPassword = "reset_password", "Password reset", "Restablecimiento de contraseña";
        /// A user changed their own password.
        ChangePassword = "change_password", "Password changed", "Cambio de contraseña";
        /// A successful sign-in.
        Login = "login", "Signed in", "Inicio de sesión";
        /// A refused sign-in.
        LoginFailed = "login_failed", "Sign-in refused", "Inicio de sesión fallido";
        /// A sign-out.
        Logout = "logout", "Signed out", "Cierre de sesión";
        /// A refresh token presented again after use (its family is revoked).
        RefreshTokenReuse = "refresh_token_reuse", "Refresh token reused", "Reutilización del token de renovación";
        /// A webhook endpoint disabled by the service (410, or 5 days of failures).
        Disable = "disable", "Disabled", "Deshabilitación";
    }
}

labeled_enum! {
    /// Who wrote an audit event.
    ActorKind {
        /// A person signed in.
        User = "user", "User", "Usuario";
        /// An institutional system with a service account.
        ServiceAccount = "service_account", "Service account", "Cuenta de servicio";
        /// A caller not signed in (sign-in attempts).
        Anonymous = "anonymous", "Anonymous", "Anónimo";
        /// The service itself (first start, command line).
        System = "system", "System", "Sistema";
    }
}
