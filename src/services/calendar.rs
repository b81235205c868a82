//! Dates as the entities see them: "today" is the civil date in Colombia (UTC−5 all year, no
//! daylight saving), so a deadline does not move at 19:00 local time.
use chrono::{FixedOffset, NaiveDate, Utc};

/// Colombia's offset from UTC.
const COLOMBIA_OFFSET_SECONDS: i32 = -5 * 3600;

/// Today's date in Colombia.
pub fn today() -> NaiveDate {
    date_of(&Utc::now())
}

/// The Colombian calendar date of an instant, so that ages counted from [`today`] do not go
/// negative between 00:00 and 05:00 UTC.
pub fn date_of<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> NaiveDate {
    match FixedOffset::east_opt(COLOMBIA_OFFSET_SECONDS) {
        Some(offset) => at.with_timezone(&offset).date_naive(),
        None => at.naive_utc().date(),
    }
}
