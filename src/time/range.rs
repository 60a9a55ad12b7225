//! A non-empty half-open range of instants, `[start, end)`, in epoch milliseconds.

use crate::time::timestamp::format_millis;

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
