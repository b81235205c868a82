//! Trends for the committee: the stored figures of each closed (or filed) period, by cut-off,
//! and the next period to file with the days left to its filing deadline.
use crate::dto::reporting_periods::{NextCutOff, PeriodTrendPoint};
use crate::entities::enums::PeriodStatus;
use crate::entities::{reporting_period, reporting_period_plan};
use crate::error::ApiError;
use crate::services::tenancy::scoped;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

fn point(p: &reporting_period::Model, figures: (Option<f64>, Option<f64>, Option<f64>)) -> PeriodTrendPoint {
    PeriodTrendPoint {
        period_id: p.id,
        name: p.name.clone(),
        kind: p.kind,
        cut_off_date: p.cut_off_date,
        status: p.status,
        progress_pct: figures.0,
        compliance_pct: figures.1,
        effectiveness_pct: figures.2,
    }
}

fn next(p: &reporting_period::Model, today: NaiveDate) -> NextCutOff {
    NextCutOff {
        period_id: p.id,
        name: p.name.clone(),
        kind: p.kind,
        cut_off_date: p.cut_off_date,
        filing_deadline: p.filing_deadline,
        status: p.status,
        days_to_filing_deadline: (p.filing_deadline - today).num_days(),
    }
}

/// Periods of `org` not filed yet, by cut-off.
async fn unfiled(conn: &impl ConnectionTrait, org: Uuid) -> Result<Vec<reporting_period::Model>, ApiError> {
    Ok(scoped::<reporting_period::Entity>(org)
        .filter(reporting_period::Column::Status.ne(PeriodStatus::Filed))
        .order_by_asc(reporting_period::Column::CutOffDate)
        .order_by_asc(reporting_period::Column::Id)
        .all(conn)
        .await?)
}

/// The organization's series (each closed or filed period's figures, the mean over its plans)
/// and its next period to file.
pub async fn organization(
    conn: &impl ConnectionTrait, org: Uuid, today: NaiveDate,
) -> Result<(Vec<PeriodTrendPoint>, Option<NextCutOff>), ApiError> {
    let closed = scoped::<reporting_period::Entity>(org)
        .filter(reporting_period::Column::Status.ne(PeriodStatus::Open))
        .order_by_asc(reporting_period::Column::CutOffDate)
        .order_by_asc(reporting_period::Column::Id)
        .all(conn)
        .await?;
    let series = closed.iter().map(|p| point(p, (p.progress_pct, p.compliance_pct, p.effectiveness_pct))).collect();
    let upcoming = unfiled(conn, org).await?.first().map(|p| next(p, today));
    Ok((series, upcoming))
}

/// Plan `plan_id`'s series (its figures in each closed or filed period that covers it) and the
/// next unfiled period that covers it (a period naming no plans covers every running plan).
pub async fn plan(
    conn: &impl ConnectionTrait, org: Uuid, plan_id: Uuid, today: NaiveDate,
) -> Result<(Vec<PeriodTrendPoint>, Option<NextCutOff>), ApiError> {
    let rows: HashMap<Uuid, reporting_period_plan::Model> = reporting_period_plan::Entity::find()
        .filter(reporting_period_plan::Column::OrganizationId.eq(org))
        .filter(reporting_period_plan::Column::PlanId.eq(plan_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.period_id, r))
        .collect();
    let series = if rows.is_empty() {
        Vec::new()
    } else {
        scoped::<reporting_period::Entity>(org)
            .filter(reporting_period::Column::Id.is_in(rows.keys().copied().collect::<Vec<_>>()))
            .order_by_asc(reporting_period::Column::CutOffDate)
            .order_by_asc(reporting_period::Column::Id)
            .all(conn)
            .await?
            .iter()
            .filter_map(|p| rows.get(&p.id).map(|r| point(p, (r.progress_pct, r.compliance_pct, r.effectiveness_pct))))
            .collect()
    };
    let wanted = plan_id.to_string();
    let upcoming = unfiled(conn, org)
        .await?
        .iter()
        .find(|p| match p.status {
            PeriodStatus::Open => p.plan_ids.as_ref().is_none_or(|ids| ids.0.contains(&wanted)),
            _ => rows.contains_key(&p.id),
        })
        .map(|p| next(p, today));
    Ok((series, upcoming))
}
