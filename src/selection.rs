//! What a report covers, once the request is understood: a range of instants, optionally one user, and how
//! to read it. Parsing builds it (`parameters`), SQL reads it (`sql`), the answer echoes it.

use crate::email::UserEmail;
use crate::periods::Interval;
use crate::timestamp::format_millis;
use crate::zone::TimeZone;

/// The calls of one report: those that started in `range`, of one user or of all, counted per period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub range: TimeRange,
    pub user_email: Option<UserEmail>,
    /// Always `Rollups`, unless diagnostics are on and the request asked for `strategy=raw`.
    pub strategy: Strategy,
    /// The zone local dates and times are read in (UTC by default).
    pub zone: TimeZone,
    /// With an interval, the report is also a series.
    pub interval: Option<Interval>,
    /// The range cut into the interval's periods (clipped to it), in time order; without an interval, the
    /// range alone.
    pub periods: Vec<TimeRange>,
}

/// How to answer. `Raw` (a `GROUP BY` over every call in the range) exists for benchmarks and checks only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    Rollups,
    Raw,
}

/// A non-empty half-open range `[start_millis, end_millis)` of epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    start_millis: i64,
    end_millis: i64,
}

impl TimeRange {
    /// `None` when the range would be empty (its start not before its end).
    pub fn new(start_millis: i64, end_millis: i64) -> Option<Self> {
        (start_millis < end_millis).then_some(Self {
            start_millis,
            end_millis,
        })
    }

    pub fn start_millis(&self) -> i64 {
        self.start_millis
    }

    pub fn end_millis(&self) -> i64 {
        self.end_millis
    }

    pub fn start_rfc3339(&self) -> String {
        format_millis(self.start_millis)
    }

    pub fn end_rfc3339(&self) -> String {
        format_millis(self.end_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_never_empty() {
        assert_eq!(TimeRange::new(5, 5), None);
        assert_eq!(TimeRange::new(6, 5), None);
        let range = TimeRange::new(-1, 0).unwrap();
        assert_eq!(range.start_rfc3339(), "1969-12-31T23:59:59.999Z");
        assert_eq!(range.end_rfc3339(), "1970-01-01T00:00:00.000Z");
    }
}
