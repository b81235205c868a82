//! Dates as the entities see them: "today" is the civil date in Colombia (UTC−5 all year, no
//! daylight saving), so a deadline does not move at 19:00 local time.
use chrono::{FixedOffset, NaiveDate, Utc};

/// Colombia's offset from UTC.
const COLOMBIA_OFFSET_SECONDS: i32 = -5 * 3600;

/// Today's date in Colombia.
pub fn today() -> NaiveDate {
    match FixedOffset::east_opt(COLOMBIA_OFFSET_SECONDS) {
        Some(offset) => Utc::now().with_timezone(&offset).date_naive(),
        None => Utc::now().date_naive(),
    }
}
