//! Due-date reminders. [`run_once`] looks at the unfinished actions (planned or in progress)
//! and raises `action.due_soon` when an action's due date is 30, 7 or 1 days away and
//! `action.overdue` once a day while it is past due. Each reminder is a row of `reminder`
//! whose primary key (action, kind, mark) is written with `ON CONFLICT DO NOTHING` in the
//! transaction of its event: whatever the replicas running it at once, a reminder and its
//! event happen once. A day the scheduler missed is caught up by the nearest threshold (an
//! action first seen 5 days before its due date gets the 7-day reminder); a due date that
//! changes re-arms its thresholds (the mark holds the due date).
use crate::entities::enums::{ActionStatus, AuditResource, EventType};
use crate::entities::{action, reminder};
use crate::error::ApiError;
use crate::services::events::{self, NewEvent};
use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Days before the due date a reminder is raised.
pub const THRESHOLDS: [i64; 3] = [30, 7, 1];

const PAGE: u64 = 500;

/// The threshold whose reminder is due with `days_left` days to go, if any.
pub fn threshold(days_left: i64) -> Option<i64> {
    match days_left {
        8..=30 => Some(30),
        2..=7 => Some(7),
        0..=1 => Some(1),
        _ => None,
    }
}

/// What a reminder event carries: the action it is about and how close its due date is.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderData {
    /// Action id.
    pub id: Uuid,
    /// Plan of the action.
    pub plan_id: Uuid,
    /// Number of the action within its plan.
    pub number: i32,
    /// Title.
    pub title: String,
    /// Status (`planned` or `in_progress`).
    pub status: ActionStatus,
    /// Responsible user, if assigned.
    pub responsible_id: Option<Uuid>,
    /// Due date.
    pub due_date: NaiveDate,
    /// Days to the due date on the day of the reminder (negative when overdue).
    pub days_left: i64,
    /// `action.due_soon`: the threshold reached (30, 7 or 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_days: Option<i64>,
}

/// What one pass raised.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// `action.due_soon` events written by this pass.
    pub due_soon: usize,
    /// `action.overdue` events written by this pass.
    pub overdue: usize,
}

/// Raises the reminders due on `today` (a Colombian calendar date) for every organization.
pub async fn run_once(db: &DatabaseConnection, today: NaiveDate) -> Result<Raised, ApiError> {
    let mut raised = Raised::default();
    let horizon = today + chrono::Duration::days(THRESHOLDS[0]);
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = action::Entity::find()
            .filter(action::Column::Status.is_in([ActionStatus::Planned, ActionStatus::InProgress]))
            .filter(action::Column::DueDate.lte(horizon))
            .order_by_asc(action::Column::Id)
            .limit(PAGE);
        if let Some(id) = after {
            select = select.filter(action::Column::Id.gt(id));
        }
        let page = select.all(db).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let full = page.len() as u64 == PAGE;
        for found in page {
            let days_left = (found.due_date - today).num_days();
            let (kind, mark, event_type, threshold_days) = if days_left < 0 {
                ("overdue", today.to_string(), EventType::ActionOverdue, None)
            } else {
                match threshold(days_left) {
                    Some(t) => ("due_soon", format!("{t}:{}", found.due_date), EventType::ActionDueSoon, Some(t)),
                    None => continue,
                }
            };
            let data = ReminderData {
                id: found.id,
                plan_id: found.plan_id,
                number: found.number,
                title: found.title.clone(),
                status: found.status,
                responsible_id: found.responsible_id,
                due_date: found.due_date,
                days_left,
                threshold_days,
            };
            let row = reminder::ActiveModel::from(reminder::Model {
                action_id: found.id,
                kind: kind.to_string(),
                mark,
                organization_id: found.organization_id,
                raised_at: crate::services::now(),
            });
            let event = NewEvent::new(found.organization_id, event_type, AuditResource::Action, Some(found.id), &data)?;
            let wrote = crate::services::transaction(db, async |txn| {
                let on_conflict =
                    OnConflict::columns([reminder::Column::ActionId, reminder::Column::Kind, reminder::Column::Mark])
                        .do_nothing()
                        .to_owned();
                let inserted =
                    reminder::Entity::insert(row).on_conflict(on_conflict).exec_without_returning(txn).await?;
                if inserted == 0 {
                    return Ok(false);
                }
                events::emit(txn, event).await?;
                Ok(true)
            })
            .await?;
            match (wrote, threshold_days) {
                (false, _) => {}
                (true, Some(_)) => raised.due_soon += 1,
                (true, None) => raised.overdue += 1,
            }
        }
        if !full {
            break;
        }
    }
    Ok(raised)
}

/// Runs [`run_once`] every `interval` (and at once) until `stop` turns true.
pub async fn schedule(db: DatabaseConnection, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        match run_once(&db, crate::services::calendar::today()).await {
            Ok(raised) if raised != Raised::default() => {
                tracing::info!(due_soon = raised.due_soon, overdue = raised.overdue, "reminders raised")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not raise reminders"),
        }
    }
}
