//! Monitoring of risks: periodic reviews by the second and third lines (each moves the risk's
//! last review and next due date) and materialised risks (incidents).
use crate::dto::risks::{CreateRiskIncidentRequest, CreateRiskReviewRequest, RiskIncidentResponse, RiskReviewResponse};
use crate::dto::validate::Checks;
use crate::entities::category::Texts;
use crate::entities::enums::{AuditOperation, AuditResource, ReviewLine, Role};
use crate::entities::{finding, risk, risk_incident, risk_review};
use crate::error::ApiError;
use crate::services::audit::{self, Actor, Entry};
use crate::services::tenancy::{check_ids, find_in_org, written};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Deletes the reviews and incidents of a risk (the risk is being deleted).
pub async fn delete_for_risk(conn: &impl ConnectionTrait, risk_id: Uuid) -> Result<(), ApiError> {
    risk_review::Entity::delete_many().filter(risk_review::Column::RiskId.eq(risk_id)).exec(conn).await?;
    risk_incident::Entity::delete_many().filter(risk_incident::Column::RiskId.eq(risk_id)).exec(conn).await?;
    Ok(())
}

/// 403 unless the actor may review at `line`: the third line is the internal control office
/// (auditors); the second line is planning (planners, administrators).
fn ensure_line(actor: &Actor, line: ReviewLine) -> Result<(), ApiError> {
    let ok = match line {
        ReviewLine::ThirdLine => actor.roles.contains(&Role::Auditor),
        ReviewLine::SecondLine => actor.roles.iter().any(|r| matches!(r, Role::Planner | Role::Admin)),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden().detail(
            "Third-line reviews are for auditors; second-line reviews for planners and administrators",
            "Las revisiones de tercera línea son de los auditores; las de segunda línea, de planeadores y administradores",
        ))
    }
}

fn is_link(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() > 8
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Records a review of a risk and moves its last review and next due date.
pub async fn create_review(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, risk_id: Uuid, req: CreateRiskReviewRequest,
) -> Result<RiskReviewResponse, ApiError> {
    ensure_line(actor, req.line)?;
    let current = find_in_org::<risk::Entity>(conn, org, risk_id).await?;
    let today = crate::services::calendar::today();
    let now = crate::services::now();
    let model = risk_review::Model {
        id: Uuid::now_v7(),
        risk_id,
        reviewed_on: req.reviewed_on,
        reviewer_id: actor.id,
        line: req.line,
        result: req.result,
        note: super::clean_text(req.note),
        evidence_links: Texts(req.evidence_links.into_iter().map(|l| l.trim().to_string()).collect()),
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    let mut c = Checks::new();
    if model.reviewed_on > today {
        c.push("reviewed_on", "in_future", "must not be after today");
    }
    c.optional_text("note", model.note.as_deref(), 10_000);
    if model.evidence_links.0.len() > 50 {
        c.push("evidence_links", "too_many", "at most 50 links");
    }
    for (i, l) in model.evidence_links.0.iter().enumerate() {
        c.optional_text(&format!("evidence_links[{i}]"), Some(l), 2000);
        if !is_link(l) {
            c.push(&format!("evidence_links[{i}]"), "invalid_url", "must be an http or https URL");
        }
    }
    c.finish()?;
    risk_review::Entity::insert(risk_review::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    let last = current.last_review_on.map_or(model.reviewed_on, |d| d.max(model.reviewed_on));
    let next = last + chrono::Duration::days(i64::from(current.review_interval_days));
    let done = risk::Entity::update_many()
        .col_expr(risk::Column::LastReviewOn, Expr::value(last))
        .col_expr(risk::Column::NextReviewOn, Expr::value(next))
        .col_expr(risk::Column::Version, Expr::value(current.version + 1))
        .col_expr(risk::Column::UpdatedAt, Expr::value(now))
        .col_expr(risk::Column::UpdatedBy, Expr::value(actor.id))
        .filter(risk::Column::Id.eq(risk_id))
        .filter(risk::Column::Version.eq(current.version))
        .exec(conn)
        .await?;
    written(done.rows_affected)?;
    let created = RiskReviewResponse::from(model);
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::RiskReview, created.id, AuditOperation::Create).after(&created),
    )
    .await?;
    Ok(created)
}

/// Reviews of a risk, newest first.
pub async fn list_reviews(
    conn: &impl ConnectionTrait, org: Uuid, risk_id: Uuid,
) -> Result<Vec<RiskReviewResponse>, ApiError> {
    find_in_org::<risk::Entity>(conn, org, risk_id).await?;
    Ok(risk_review::Entity::find()
        .filter(risk_review::Column::RiskId.eq(risk_id))
        .order_by_desc(risk_review::Column::ReviewedOn)
        .order_by_desc(risk_review::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(RiskReviewResponse::from)
        .collect())
}

/// Records a materialisation of a risk; a finding that recorded it is linked to the risk.
pub async fn create_incident(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, risk_id: Uuid, req: CreateRiskIncidentRequest,
) -> Result<RiskIncidentResponse, ApiError> {
    let current = find_in_org::<risk::Entity>(conn, org, risk_id).await?;
    if !actor.roles.contains(&Role::Auditor) {
        super::ensure_may_write(actor, current.owner_id)?;
    }
    let now = crate::services::now();
    let model = risk_incident::Model {
        id: Uuid::now_v7(),
        risk_id,
        occurred_on: req.occurred_on,
        description: req.description.trim().to_string(),
        finding_id: req.finding_id,
        actual_impact: req.actual_impact,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    let mut c = Checks::new();
    c.text("description", &model.description, 10_000);
    if model.occurred_on > crate::services::calendar::today() {
        c.push("occurred_on", "in_future", "must not be after today");
    }
    c.finish()?;
    if let Some(f) = model.finding_id {
        check_ids::<finding::Entity>(conn, org, "finding_id", "unknown_finding", &[f]).await?;
        super::link_finding(conn, org, risk_id, f).await?;
    }
    risk_incident::Entity::insert(risk_incident::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    let created = RiskIncidentResponse::from(model);
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::RiskIncident, created.id, AuditOperation::Create).after(&created),
    )
    .await?;
    Ok(created)
}

/// Incidents of a risk, newest first.
pub async fn list_incidents(
    conn: &impl ConnectionTrait, org: Uuid, risk_id: Uuid,
) -> Result<Vec<RiskIncidentResponse>, ApiError> {
    find_in_org::<risk::Entity>(conn, org, risk_id).await?;
    Ok(risk_incident::Entity::find()
        .filter(risk_incident::Column::RiskId.eq(risk_id))
        .order_by_desc(risk_incident::Column::OccurredOn)
        .order_by_desc(risk_incident::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(RiskIncidentResponse::from)
        .collect())
}
