//! Due-date reminders: `action.due_soon` at 30, 7 and 1 days and `action.overdue` once a day,
//! each once per action even when two instances run at once on one database.
use crate::actions::{action_body, day, running_plan};
use crate::helpers::*;
use chrono::Duration;
use mejora::entities::event;
use mejora::services::calendar::today;
use mejora::services::reminders::{run_once, Raised};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const NO_RUNNERS: &[(&str, &str)] = &[("MEJORA_BACKGROUND", "off")];

async fn count(app: &TestApp, code: &str) -> u64 {
    event::Entity::find().filter(event::Column::EventType.eq(code)).count(&app.db).await.unwrap()
}

#[tokio::test]
async fn reminders_come_once_per_threshold_and_once_a_day_while_overdue() {
    let app = spawn_app_with(NO_RUNNERS).await;
    running_plan(&app, "PM-REM-1", &[action_body("Revisar accesos", &day(-5), &day(40), None)]).await;
    let on = |n: i64| today() + Duration::days(n);
    let raised = |due_soon, overdue| Raised { due_soon, overdue };
    assert_eq!(run_once(&app.db, on(0)).await.unwrap(), raised(0, 0), "40 days away");
    assert_eq!(run_once(&app.db, on(10)).await.unwrap(), raised(1, 0), "30 days away");
    assert_eq!(run_once(&app.db, on(10)).await.unwrap(), raised(0, 0), "again the same day");
    assert_eq!(run_once(&app.db, on(11)).await.unwrap(), raised(0, 0), "29 days: the 30-day reminder was sent");
    assert_eq!(run_once(&app.db, on(35)).await.unwrap(), raised(1, 0), "5 days: the 7-day reminder, caught up");
    assert_eq!(run_once(&app.db, on(39)).await.unwrap(), raised(1, 0), "1 day away");
    assert_eq!(run_once(&app.db, on(40)).await.unwrap(), raised(0, 0), "due today: the 1-day reminder was sent");
    assert_eq!(run_once(&app.db, on(41)).await.unwrap(), raised(0, 1), "overdue");
    assert_eq!(run_once(&app.db, on(41)).await.unwrap(), raised(0, 0), "overdue, same day");
    assert_eq!(run_once(&app.db, on(42)).await.unwrap(), raised(0, 1), "overdue, next day");
    assert_eq!(count(&app, "action.due_soon").await, 3);
    assert_eq!(count(&app, "action.overdue").await, 2);
    let overdue = event::Entity::find()
        .filter(event::Column::EventType.eq("action.overdue"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(overdue.data["days_left"], -1);
    assert_eq!(overdue.data["title"], "Revisar accesos");
}

#[tokio::test]
async fn two_instances_on_one_database_raise_each_reminder_once() {
    let app = spawn_app_with(NO_RUNNERS).await;
    let actions: Vec<_> =
        (0..6).map(|i| action_body(&format!("Acción {i}"), &day(-5), &day(7 + (i % 2) * 23), None)).collect();
    running_plan(&app, "PM-REM-2", &actions).await;
    // A second instance: its own connection pool on the same database.
    let other = mejora::startup::connect(&app.config).await.unwrap();
    let now = today();
    let (a, b, c, d) =
        tokio::join!(run_once(&app.db, now), run_once(&other, now), run_once(&app.db, now), run_once(&other, now));
    let total: usize = [a, b, c, d].into_iter().map(|r| r.unwrap().due_soon).sum();
    assert_eq!(total, 6);
    assert_eq!(count(&app, "action.due_soon").await, 6);
    let later = now + Duration::days(31);
    let (a, b) = tokio::join!(run_once(&app.db, later), run_once(&other, later));
    assert_eq!(a.unwrap().overdue + b.unwrap().overdue, 6);
    assert_eq!(count(&app, "action.overdue").await, 6);
}
