//! Integration events: what an integrator can subscribe to.
use super::*;

labeled_enum! {
    /// Type of an integration event (`resource.what_happened`). Webhook subscriptions filter
    /// on these codes, with wildcards such as `action.*`.
    EventType {
        /// A finding was created (API or upload).
        FindingCreated = "finding.created", "Finding created", "Hallazgo creado";
        /// A finding's fields changed.
        FindingUpdated = "finding.updated", "Finding updated", "Hallazgo actualizado";
        /// A finding's status changed (e.g. open → closed).
        FindingStatusChanged = "finding.status_changed", "Finding status changed", "Cambio de estado de hallazgo";
        /// An improvement action was created.
        ActionCreated = "action.created", "Action created", "Acción creada";
        /// An action's fields changed.
        ActionUpdated = "action.updated", "Action updated", "Acción actualizada";
        /// An action's status changed.
        ActionStatusChanged = "action.status_changed", "Action status changed", "Cambio de estado de acción";
        /// An action's compliance and effectiveness were evaluated.
        ActionEvaluated = "action.evaluated", "Action evaluated", "Acción evaluada";
        /// An action's due date is 30, 7 or 1 days away.
        ActionDueSoon = "action.due_soon", "Action due soon", "Acción próxima a vencer";
        /// An action is past its due date and not finished (raised once a day).
        ActionOverdue = "action.overdue", "Action overdue", "Acción vencida";
        /// Evidence was reported on an action and waits for review.
        EvidenceSubmitted = "evidence.submitted", "Evidence submitted", "Evidencia reportada";
        /// Evidence was accepted or rejected.
        EvidenceReviewed = "evidence.reviewed", "Evidence reviewed", "Evidencia revisada";
        /// A plan's status changed (submitted, approved, started, closed…).
        PlanStatusChanged = "plan.status_changed", "Plan status changed", "Cambio de estado de plan";
        /// An upload finished and its rows were written.
        ImportCompleted = "import.completed", "Import completed", "Carga completada";
        /// An upload failed or was refused.
        ImportFailed = "import.failed", "Import failed", "Carga fallida";
        /// A test event sent on request to a webhook endpoint.
        WebhookTest = "webhook.test", "Webhook test", "Prueba de webhook";
        /// A webhook endpoint was disabled (it answered 410, or failed for 5 days).
        WebhookDisabled = "webhook.disabled", "Webhook disabled", "Webhook deshabilitado";
    }
}

labeled_enum! {
    /// State of a webhook delivery.
    DeliveryStatus {
        /// Waiting for its next attempt.
        Pending = "pending", "Pending", "Pendiente";
        /// The endpoint answered 2xx.
        Succeeded = "succeeded", "Delivered", "Entregado";
        /// Every attempt failed (or the endpoint was disabled).
        Failed = "failed", "Failed", "Fallido";
    }
}
