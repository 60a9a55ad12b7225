//! Which rows answer a request, as one SQL statement: the coarsest rollups that fit inside the range
//! (whole UTC months, then days, then hours, from migrations/0002) and raw calls only for the partial hours
//! at its edges. So a request reads a number of rows that grows with the buckets and the length of the range,
//! not with the number of calls. Every part sums exact integer milliseconds, so the answer is exactly the
//! raw aggregation's.

use chrono::{DateTime, Datelike, NaiveDate};

use crate::selection::{Selection, Strategy};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Where a part of the range is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Calls,
    Hours,
    Days,
    Months,
}

/// A half-open part `[start, end)` of the range, read from `source` (aligned to its period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub source: Source,
    pub start: i64,
    pub end: i64,
}

/// A bound parameter: epoch milliseconds (bound as a JS number, exact to 2^53) or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Millis(i64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Source {
    /// The coarser source whose periods a run of this source's periods can be folded into.
    fn coarser(self) -> Option<Source> {
        match self {
            Source::Calls => Some(Source::Hours),
            Source::Hours => Some(Source::Days),
            Source::Days => Some(Source::Months),
            Source::Months => None,
        }
    }

    fn floor(self, millis: i64) -> i64 {
        match self {
            Source::Calls => millis,
            Source::Hours => millis - millis.rem_euclid(HOUR),
            Source::Days => millis - millis.rem_euclid(DAY),
            Source::Months => month_start(millis),
        }
    }

    fn ceil(self, millis: i64) -> i64 {
        let floor = self.floor(millis);
        if floor == millis {
            return millis;
        }
        match self {
            Source::Calls => millis,
            Source::Hours => floor + HOUR,
            Source::Days => floor + DAY,
            Source::Months => next_month_start(floor),
        }
    }

    /// The table (all tenants, or per user) this source reads.
    fn table(self, per_user: bool) -> &'static str {
        match (self, per_user) {
            (Source::Calls, _) => "calls",
            (Source::Hours, false) => "calls_by_hour",
            (Source::Days, false) => "calls_by_day",
            (Source::Months, false) => "calls_by_month",
            (Source::Hours, true) => "user_calls_by_hour",
            (Source::Days, true) => "user_calls_by_day",
            (Source::Months, true) => "user_calls_by_month",
        }
    }
}

fn date_of(millis: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(millis).map_or(NaiveDate::MIN, |t| t.date_naive())
}

fn midnight_millis(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map_or(i64::MIN, |t| t.and_utc().timestamp_millis())
}

fn month_start(millis: i64) -> i64 {
    midnight_millis(
        date_of(millis)
            .with_day(1)
            .expect("every month has a day 1"),
    )
}

fn next_month_start(month_start_millis: i64) -> i64 {
    let date = date_of(month_start_millis);
    let next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    next.map_or(i64::MAX, midnight_millis)
}

/// Covers `[start, end)` (aligned to `finer`'s periods) with `finer` at the ragged edges and the coarser
/// sources in between.
fn cover(finer: Source, start: i64, end: i64, segments: &mut Vec<Segment>) {
    let mut push = |source, start, end| {
        if start < end {
            segments.push(Segment { source, start, end });
        }
    };
    let Some(coarser) = finer.coarser() else {
        push(finer, start, end);
        return;
    };
    let (inner_start, inner_end) = (coarser.ceil(start), coarser.floor(end));
    if inner_start >= inner_end {
        push(finer, start, end);
        return;
    }
    push(finer, start, inner_start);
    push(finer, inner_end, end);
    cover(coarser, inner_start, inner_end, segments);
}

/// The segments that exactly tile `[start, end)`.
pub fn plan(start: i64, end: i64) -> Vec<Segment> {
    let mut segments = Vec::new();
    cover(Source::Calls, start, end, &mut segments);
    segments
}

/// D1 allows at most five terms in a compound SELECT, so the segments (up to seven) are UNIONed in groups of
/// at most four, and the groups UNIONed in turn.
const MAX_COMPOUND_TERMS: usize = 4;

/// The one statement answering `selection`: a row per bucket with its `calls` and `duration_ms`.
pub fn statement(selection: &Selection) -> Statement {
    let (start, end) = (selection.range.start_millis(), selection.range.end_millis());
    let segments = match selection.strategy {
        Strategy::Rollups => plan(start, end),
        Strategy::Raw => vec![Segment {
            source: Source::Calls,
            start,
            end,
        }],
    };
    let mut params = Vec::new();
    // ?1 is the user's email when there is one (always bound, never spliced); each segment adds its bounds.
    let user = match &selection.user_email {
        Some(email) => {
            params.push(Param::Text(email.as_str().to_owned()));
            "user_id = (SELECT id FROM users WHERE email = ?1) AND "
        }
        None => "",
    };
    let parts: Vec<String> = segments
        .iter()
        .map(|segment| {
            params.extend([Param::Millis(segment.start), Param::Millis(segment.end)]);
            let (lo, hi) = (params.len() - 1, params.len());
            let table = segment.source.table(selection.user_email.is_some());
            match segment.source {
                Source::Calls => format!(
                    "SELECT bucket, COUNT(*) AS calls, SUM(duration_ms) AS duration_ms FROM {table} \
                     WHERE {user}started_at >= ?{lo} AND started_at < ?{hi} GROUP BY bucket"
                ),
                _ => format!(
                    "SELECT bucket, calls, duration_ms FROM {table} \
                     WHERE {user}period_start >= ?{lo} AND period_start < ?{hi}"
                ),
            }
        })
        .collect();
    let groups: Vec<String> = parts
        .chunks(MAX_COMPOUND_TERMS)
        .map(|group| format!("SELECT * FROM ({})", group.join(" UNION ALL ")))
        .collect();
    let sql = format!(
        "SELECT bucket, SUM(calls) AS calls, SUM(duration_ms) AS duration_ms FROM ({}) GROUP BY bucket",
        groups.join(" UNION ALL ")
    );
    Statement { sql, params }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters;

    fn at(iso: &str) -> i64 {
        crate::timestamp::Timestamp::parse(iso)
            .unwrap()
            .start_millis()
    }

    fn seg(source: Source, start: &str, end: &str) -> Segment {
        Segment {
            source,
            start: at(start),
            end: at(end),
        }
    }

    fn sorted(mut segments: Vec<Segment>) -> Vec<Segment> {
        segments.sort_by_key(|s| s.start);
        segments
    }

    #[test]
    fn uses_the_coarsest_periods_that_fit() {
        let plan = sorted(plan(
            at("2026-01-30T10:15:00Z"),
            at("2026-04-02T03:00:00.5Z"),
        ));
        assert_eq!(
            plan,
            vec![
                seg(
                    Source::Calls,
                    "2026-01-30T10:15:00Z",
                    "2026-01-30T11:00:00Z"
                ),
                seg(
                    Source::Hours,
                    "2026-01-30T11:00:00Z",
                    "2026-01-31T00:00:00Z"
                ),
                seg(Source::Days, "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"),
                seg(
                    Source::Months,
                    "2026-02-01T00:00:00Z",
                    "2026-04-01T00:00:00Z"
                ),
                seg(Source::Days, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"),
                seg(
                    Source::Hours,
                    "2026-04-02T00:00:00Z",
                    "2026-04-02T03:00:00Z"
                ),
                seg(
                    Source::Calls,
                    "2026-04-02T03:00:00Z",
                    "2026-04-02T03:00:00.5Z"
                ),
            ]
        );
    }

    #[test]
    fn aligned_ranges_need_no_raw_calls() {
        assert_eq!(
            plan(at("2026-03-01"), at("2026-04-01")),
            vec![seg(Source::Months, "2026-03-01", "2026-04-01")]
        );
        assert_eq!(
            plan(at("2026-03-05"), at("2026-03-07")),
            vec![seg(Source::Days, "2026-03-05", "2026-03-07")]
        );
        assert_eq!(
            plan(at("2026-03-05T01:00:00Z"), at("2026-03-05T03:00:00Z")),
            vec![seg(
                Source::Hours,
                "2026-03-05T01:00:00Z",
                "2026-03-05T03:00:00Z"
            )]
        );
        // December rolls into the next year.
        assert_eq!(
            plan(at("2025-12-01"), at("2026-01-01")),
            vec![seg(Source::Months, "2025-12-01", "2026-01-01")]
        );
    }

    #[test]
    fn short_ranges_read_calls_or_hours_only() {
        let within_an_hour = plan(at("2026-03-05T01:10:00Z"), at("2026-03-05T01:50:00Z"));
        assert_eq!(
            within_an_hour,
            vec![seg(
                Source::Calls,
                "2026-03-05T01:10:00Z",
                "2026-03-05T01:50:00Z"
            )]
        );
        let across_one_boundary = plan(at("2026-03-05T01:10:00Z"), at("2026-03-05T02:50:00Z"));
        assert_eq!(
            across_one_boundary,
            vec![seg(
                Source::Calls,
                "2026-03-05T01:10:00Z",
                "2026-03-05T02:50:00Z"
            )],
            "no whole hour inside: one raw segment"
        );
        let two_hours = sorted(plan(at("2026-03-05T01:10:00Z"), at("2026-03-05T03:50:00Z")));
        assert_eq!(
            two_hours,
            vec![
                seg(
                    Source::Calls,
                    "2026-03-05T01:10:00Z",
                    "2026-03-05T02:00:00Z"
                ),
                seg(
                    Source::Hours,
                    "2026-03-05T02:00:00Z",
                    "2026-03-05T03:00:00Z"
                ),
                seg(
                    Source::Calls,
                    "2026-03-05T03:00:00Z",
                    "2026-03-05T03:50:00Z"
                ),
            ]
        );
    }

    #[test]
    fn tiles_any_range_exactly() {
        // Deterministic pseudo-random ranges, including before 1970 and across leap days.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let start = (next() % 4_000_000_000_000) as i64 - 1_000_000_000_000;
            let length = match next() % 3 {
                0 => (next() % 7_200_000) as i64,
                1 => (next() % 40 * DAY as u64) as i64,
                _ => (next() % (800 * DAY as u64)) as i64,
            } + 1;
            let end = start + length;
            let segments = sorted(plan(start, end));
            assert_eq!(segments.first().unwrap().start, start);
            assert_eq!(segments.last().unwrap().end, end);
            for pair in segments.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{segments:?}");
            }
            for s in &segments {
                assert!(s.start < s.end);
                assert_eq!(
                    s.source.floor(s.start),
                    s.start,
                    "{s:?} starts on its period"
                );
                assert_eq!(s.source.floor(s.end), s.end, "{s:?} ends on its period");
            }
            assert!(segments.len() <= 7);
            let raw: i64 = segments
                .iter()
                .filter(|s| s.source == Source::Calls)
                .map(|s| s.end - s.start)
                .sum();
            assert!(raw < 2 * HOUR, "at most two partial hours are read raw");
        }
    }

    #[test]
    fn months_before_1970_floor_too() {
        assert_eq!(
            Source::Months.floor(at("1969-12-31T23:59:59.999Z")),
            at("1969-12-01")
        );
        assert_eq!(Source::Hours.floor(-1), -HOUR);
        assert_eq!(Source::Days.ceil(-1), 0);
    }

    #[test]
    fn builds_one_statement_with_numbered_parameters() {
        let request = parameters::selection(
            "start_date=2026-01-30T10:15:00Z&end_date=2026-01-31T00:00:00Z",
            0,
            false,
        )
        .unwrap();
        let statement = statement(&request);
        assert_eq!(
            statement.sql,
            "SELECT bucket, SUM(calls) AS calls, SUM(duration_ms) AS duration_ms FROM (SELECT * FROM (\
             SELECT bucket, COUNT(*) AS calls, SUM(duration_ms) AS duration_ms FROM calls \
             WHERE started_at >= ?1 AND started_at < ?2 GROUP BY bucket UNION ALL \
             SELECT bucket, calls, duration_ms FROM calls_by_hour \
             WHERE period_start >= ?3 AND period_start < ?4)) GROUP BY bucket"
        );
        assert_eq!(
            statement.params,
            vec![
                Param::Millis(at("2026-01-30T10:15:00Z")),
                Param::Millis(at("2026-01-30T11:00:00Z")),
                Param::Millis(at("2026-01-30T11:00:00Z")),
                Param::Millis(at("2026-01-31T00:00:00Z")),
            ]
        );
    }

    #[test]
    fn a_user_filter_reads_the_per_user_rollups() {
        let request = parameters::selection(
            "start_date=2025-11-30T22:30:00Z&end_date=2026-03-02T00:30:00Z&user_email=Alice@Example.com",
            0,
            false,
        )
        .unwrap();
        let statement = statement(&request);
        assert_eq!(statement.params[0], Param::Text("Alice@Example.com".into()));
        assert_eq!(statement.params.len(), 1 + 2 * 5);
        let filter = "WHERE user_id = (SELECT id FROM users WHERE email = ?1) AND ";
        assert_eq!(statement.sql.matches(filter).count(), 5);
        for table in [
            "FROM calls ",
            "FROM user_calls_by_month",
            "FROM user_calls_by_day",
            "FROM user_calls_by_hour",
        ] {
            assert!(
                statement.sql.contains(table),
                "{table} in {}",
                statement.sql
            );
        }
        assert!(
            !statement.sql.contains("FROM calls_by_"),
            "{}",
            statement.sql
        );
        assert!(
            !statement.sql.contains("Alice"),
            "the email is bound, never spliced"
        );
    }

    #[test]
    fn raw_reads_every_call_in_the_range() {
        let query = "start_date=2025-01-01&end_date=2025-12-31&strategy=raw";
        let request = parameters::selection(query, 0, true).unwrap();
        let statement = statement(&request);
        assert_eq!(
            statement.params,
            vec![
                Param::Millis(at("2025-01-01")),
                Param::Millis(at("2026-01-01"))
            ]
        );
        assert!(statement
            .sql
            .contains("FROM calls WHERE started_at >= ?1 AND started_at < ?2 GROUP BY bucket"));
        assert!(!statement.sql.contains("calls_by_"));
    }

    #[test]
    fn the_widest_range_stays_within_d1_limits() {
        let request = parameters::selection(
            "start_date=0001-01-01T00:00:00.001Z&end_date=9999-12-31T23:59:59.999Z&user_email=a@b.io",
            0,
            false,
        )
        .unwrap();
        let statement = statement(&request);
        assert_eq!(statement.params.len(), 1 + 2 * 7);
        assert!(statement.sql.len() < 3_000);
        // Seven segments: two compound SELECTs of four and three terms, and one of two groups.
        assert_eq!(statement.sql.matches(" UNION ALL ").count(), 3 + 2 + 1);
        assert_eq!(statement.sql.matches("SELECT * FROM (").count(), 2);
    }
}
