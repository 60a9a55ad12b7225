//! The plan as one SQL statement, and its rows read back into buckets. A row per bucket, its `parts` a list
//! `i:calls:duration_ms,...` of what each rollup row (or group of raw calls) of the bucket holds, `i` the
//! index of the part it was read for; [`Query::decode`] adds each part to (or subtracts it from) the periods
//! it counts in, in checked integer arithmetic. One row per bucket, and no grouping but by bucket: D1
//! counts a row read again each time SQLite sorts it, so grouping by part or period too would double the
//! rows read. The parts travel as one bound JSON array, read with `json_each`, so the statement's size and
//! its number of parameters do not grow with the number of periods (D1 allows 100 parameters and 5 terms
//! per compound SELECT: here at most 2 and 5). (Errors quote a label as it is, not with `{:?}`: Debug
//! formatting of text would bring Unicode's printable tables into the wasm.)

use std::collections::HashMap;

use crate::platform::{Cell, Param, Rows, Statement};
use crate::report::answer_size::{AnswerSize, TooBig, MAX_LABEL_BYTES};
use crate::report::plan::{plan, Source, LEVELS};
use crate::report::selection::Selection;

/// The columns of every row.
const COLUMNS: &[&str] = &["bucket", "parts"];

/// A bucket's calls and exact milliseconds per period of the selection (dense: one entry per period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub label: String,
    pub periods: Vec<(u64, u64)>,
}

/// Why rows could not be read into buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowsError {
    /// More buckets than one answer holds: the user's request is too broad.
    TooBig(TooBig),
    /// A row that is not what the statement writes, or sums that cannot be (an overflow, a period below
    /// zero): the rollups are damaged. The detail names the tables, for the log.
    Unreadable(String),
}

/// The statement for a selection, and what it takes to read its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub statement: Statement,
    /// The source of each part the statement reads (its index in the rows' `parts`).
    sources: Vec<Source>,
    /// For each part, the periods it counts in, and with which sign: a part shared by two periods (a
    /// Kolkata day's last 5½ hours, subtracted from it, are the next day's first, added to it) is read once.
    targets: Vec<Vec<(usize, i8)>>,
    periods: usize,
    per_user: bool,
    size: AnswerSize,
}

/// The table (all tenants, or per user) a source reads.
fn table(source: Source, per_user: bool) -> &'static str {
    match (source, per_user) {
        (Source::Calls, _) => "calls",
        (Source::Quarters, false) => "calls_by_quarter",
        (Source::Hours, false) => "calls_by_hour",
        (Source::Days, false) => "calls_by_day",
        (Source::Months, false) => "calls_by_month",
        (Source::Quarters, true) => "user_calls_by_quarter",
        (Source::Hours, true) => "user_calls_by_hour",
        (Source::Days, true) => "user_calls_by_day",
        (Source::Months, true) => "user_calls_by_month",
    }
}

/// The one statement answering `selection`.
pub fn query(selection: &Selection) -> Query {
    let mut parts: Vec<(Source, i64, i64)> = Vec::new();
    let mut targets: Vec<Vec<(usize, i8)>> = Vec::new();
    let mut index: HashMap<(Source, i64, i64), usize> = HashMap::new();
    for segment in plan(selection) {
        let key = (segment.source, segment.start, segment.end);
        let i = *index.entry(key).or_insert_with(|| {
            parts.push(key);
            targets.push(Vec::new());
            parts.len() - 1
        });
        targets[i].push((segment.period, segment.sign));
    }
    let json: Vec<String> = parts
        .iter()
        .map(|(source, start, end)| format!("[{},{start},{end}]", *source as u8))
        .collect();
    let mut params = vec![Param::Text(format!("[{}]", json.join(",")))];
    let per_user = selection.user_email.is_some();
    // ?2 is the user's email when there is one (always bound, never spliced).
    let user = match &selection.user_email {
        Some(email) => {
            params.push(Param::Text(email.as_str().to_owned()));
            "r.user_id = (SELECT id FROM users WHERE email = ?2) AND "
        }
        None => "",
    };
    // A term for each source the parts read from (a statement names only the tables it needs).
    let terms: Vec<String> = LEVELS
        .iter()
        .filter(|source| parts.iter().any(|part| part.0 == **source))
        .map(|&source| {
            let table = table(source, per_user);
            let code = source as u8;
            match source {
                // Raw calls are many: grouped per part first (with strategy=raw, the plain GROUP BY).
                Source::Calls => format!(
                    "SELECT s.i AS i, r.bucket AS bucket, COUNT(*) AS calls, SUM(r.duration_ms) AS duration_ms \
                     FROM s CROSS JOIN {table} AS r \
                     WHERE s.src = {code} AND {user}r.started_at >= s.lo AND r.started_at < s.hi \
                     GROUP BY s.i, r.bucket"
                ),
                _ => format!(
                    "SELECT s.i, r.bucket, r.calls, r.duration_ms FROM s CROSS JOIN {table} AS r \
                     WHERE s.src = {code} AND {user}r.period_start >= s.lo AND r.period_start < s.hi"
                ),
            }
        })
        .collect();
    let size = match selection.interval {
        Some(_) => AnswerSize::series(selection.periods.len()),
        None => AnswerSize::totals(),
    };
    // Buckets in D1's order, each while the labels before it are within the byte budget (so the answer
    // holds that bucket more than fits when there are too many bytes), and at most one bucket too many. The
    // running sum follows the grouping's own order: no second sort, so no row read twice.
    let sql = format!(
        "WITH s(i, src, lo, hi) AS (SELECT key, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)), \
         b AS (SELECT bucket, group_concat(i || ':' || calls || ':' || duration_ms) AS parts FROM ({}) \
         GROUP BY bucket) \
         SELECT bucket, parts FROM (SELECT bucket, parts, \
         sum(length(CAST(bucket AS BLOB))) OVER (ROWS UNBOUNDED PRECEDING) AS seen FROM b) \
         WHERE seen - length(CAST(bucket AS BLOB)) <= {MAX_LABEL_BYTES} LIMIT {}",
        terms.join(" UNION ALL "),
        size.sql_limit()
    );
    Query {
        statement: Statement {
            sql,
            params,
            columns: COLUMNS,
        },
        sources: parts.iter().map(|part| part.0).collect(),
        targets,
        periods: selection.periods.len(),
        per_user,
        size,
    }
}

impl Query {
    /// The tables the statement reads, for an error's detail.
    pub fn tables(&self) -> String {
        let tables: Vec<&str> = LEVELS
            .iter()
            .filter(|source| self.sources.contains(source))
            .map(|&source| table(source, self.per_user))
            .collect();
        tables.join(", ")
    }

    /// The buckets of the statement's rows, in D1's order, those whose periods all net to nothing left out.
    pub fn decode(&self, rows: &Rows) -> Result<Vec<Bucket>, RowsError> {
        let label_bytes = rows.rows.iter().filter_map(|row| row.first().and_then(Cell::as_text)).map(str::len).sum();
        self.size.check(rows.rows.len(), label_bytes).map_err(RowsError::TooBig)?;
        let mut buckets = Vec::with_capacity(rows.rows.len());
        for row in &rows.rows {
            let (Some(label), Some(parts)) = (row.first().and_then(Cell::as_text), row.get(1).and_then(Cell::as_text)) else {
                return Err(self.unreadable(None, "a row that is not a bucket's text and parts".into()));
            };
            let periods = self.bucket_periods(label, parts)?;
            if periods.iter().any(|&p| p != (0, 0)) {
                buckets.push(Bucket {
                    label: label.to_owned(),
                    periods,
                });
            }
        }
        Ok(buckets)
    }

    /// One bucket's `parts` (`i:calls:duration_ms,...`) summed into its periods.
    fn bucket_periods(&self, label: &str, parts: &str) -> Result<Vec<(u64, u64)>, RowsError> {
        let mut sums: Vec<(i64, i64)> = vec![(0, 0); self.periods];
        for entry in parts.split(',') {
            let mut fields = entry.split(':');
            let part = fields.next().and_then(|i| i.parse::<usize>().ok()).filter(|&i| i < self.targets.len());
            let Some(part) = part else {
                return Err(self.unreadable(None, format!("bucket \"{label}\" has a part that is not one of the statement's: \"{entry}\"")));
            };
            let mut number = || fields.next().and_then(|n| n.parse::<i64>().ok());
            let (Some(calls), Some(millis), None) = (number(), number(), fields.next()) else {
                return Err(self.unreadable(Some(part), format!("bucket \"{label}\" has a row that is not whole calls and milliseconds: \"{entry}\"")));
            };
            for &(period, sign) in &self.targets[part] {
                let sign = i64::from(sign);
                let sum = &mut sums[period];
                let add = |total: i64, value: i64| value.checked_mul(sign).and_then(|v| total.checked_add(v));
                let added = add(sum.0, calls).zip(add(sum.1, millis));
                let Some(added) = added else {
                    return Err(self.unreadable(Some(part), format!("bucket \"{label}\"'s sum overflows")));
                };
                *sum = added;
            }
        }
        sums.into_iter()
            .map(|(calls, millis)| match (u64::try_from(calls), u64::try_from(millis)) {
                // A period without calls has no duration either; anything else means the rollups disagree.
                (Ok(calls), Ok(millis)) if calls > 0 || millis == 0 => Ok((calls, millis)),
                _ => Err(self.unreadable(None, format!("bucket \"{label}\" sums to {calls} calls and {millis} ms in a period"))),
            })
            .collect()
    }

    /// The error for a row the rollups cannot have written, naming the part's table (or all the statement
    /// reads, when the part is not known).
    fn unreadable(&self, part: Option<usize>, detail: String) -> RowsError {
        let tables = match part {
            Some(part) => table(self.sources[part], self.per_user).to_owned(),
            None => self.tables(),
        };
        RowsError::Unreadable(format!("unreadable rows from {tables}: {detail}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::parameters::select;

    fn at(iso: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(iso).unwrap().timestamp_millis()
    }

    fn rows(rows: &[(&str, &str)]) -> Rows {
        Rows {
            rows: rows.iter().map(|(b, p)| vec![Cell::Text((*b).into()), Cell::Text((*p).into())]).collect(),
            ..Rows::default()
        }
    }

    #[test]
    fn one_statement_with_the_parts_as_one_json_parameter() {
        let selection = select("start_date=2026-01-30T10:15:00Z&end_date=2026-01-31T00:00:00Z");
        let query = query(&selection);
        let statement = &query.statement;
        let mut parts = Vec::new();
        let Param::Text(json) = &statement.params[0] else { panic!() };
        for part in json.trim_matches(['[', ']']).split("],[") {
            parts.push(part.to_owned());
        }
        // A UTC day, minus its first 10 hours and the quarter-hour after them.
        assert_eq!(parts.len(), 3);
        assert!(parts.contains(&format!("3,{},{}", at("2026-01-30T00:00:00Z"), at("2026-01-31T00:00:00Z"))));
        assert!(parts.contains(&format!("2,{},{}", at("2026-01-30T00:00:00Z"), at("2026-01-30T10:00:00Z"))));
        assert!(parts.contains(&format!("1,{},{}", at("2026-01-30T10:00:00Z"), at("2026-01-30T10:15:00Z"))));
        let day = parts.iter().position(|p| p.starts_with("3,")).unwrap();
        for (i, targets) in query.targets.iter().enumerate() {
            assert_eq!(targets, &vec![(0, if i == day { 1 } else { -1 })]);
        }
        assert_eq!(statement.sql.matches(" UNION ALL ").count(), 2, "a term per source: days, hours, quarters");
        assert!(statement.sql.contains("FROM s CROSS JOIN calls_by_quarter AS r WHERE s.src = 1 AND r.period_start >= s.lo"));
        assert!(!statement.sql.contains("calls_by_month") && !statement.sql.contains(" calls AS r"));
        assert!(statement.sql.ends_with("<= 2000000 LIMIT 20001"), "a totals answer holds at most 20,000 buckets, 2,000,000 bytes of labels");
        assert_eq!(statement.sql.matches("GROUP BY").count(), 1, "buckets: no other sort");
        assert!(!statement.sql.contains("ORDER BY"), "the running sum needs no sort");
        assert_eq!(query.tables(), "calls_by_quarter, calls_by_hour, calls_by_day");
        let with_raw = super::query(&select("start_date=2026-01-30T10:15:00.5Z&end_date=2026-12-31T00:00:00Z")).statement;
        assert_eq!(with_raw.sql.matches(" UNION ALL ").count(), 4, "all five sources, the most D1 allows");
        assert!(with_raw.sql.contains("FROM s CROSS JOIN calls AS r WHERE s.src = 0 AND r.started_at >= s.lo"));
        assert_eq!(with_raw.sql.matches("GROUP BY").count(), 2, "raw calls per part, then buckets");
        assert!(!statement.sql.contains("?2"));
    }

    #[test]
    fn a_part_two_periods_share_is_read_once() {
        // Two Kolkata days: the 5.5 hours between the first's end and the next UTC midnight are subtracted from
        // the first day and added to the second, from one read.
        let selection = select("start_date=2026-11-01&end_date=2026-11-02&timezone=Asia/Kolkata&interval=day");
        let query = query(&selection);
        let mut shared: Vec<_> = query.targets.iter().filter(|t| t.len() == 2).cloned().collect();
        shared.sort();
        assert_eq!(shared, vec![vec![(0, -1), (1, 1)], vec![(0, -1), (1, 1)]], "its quarter-hours and its hours");
        // Per day a UTC day, and three 5.5-hour edges (two parts each), one of them shared.
        assert_eq!(query.targets.len(), 2 + 3 * 2);
    }

    /// A query of two periods over three parts: 0 adds to period 0, 1 subtracts from 0 and adds to 1, 2 adds
    /// to 1 (the parts' sources: a day, its hours, a day).
    fn two_periods() -> Query {
        Query {
            statement: Statement { sql: String::new(), params: Vec::new(), columns: COLUMNS },
            sources: vec![Source::Days, Source::Hours, Source::Days],
            targets: vec![vec![(0, 1)], vec![(0, -1), (1, 1)], vec![(1, 1)]],
            periods: 2,
            per_user: false,
            size: AnswerSize::series(2),
        }
    }

    #[test]
    fn reads_a_bucket_s_parts_into_periods() {
        let query = two_periods();
        let buckets = query.decode(&rows(&[("+91", "0:5:500000,1:2:120000,2:1:27000,1:1:3000")])).unwrap();
        // Period 0: 5 - 2 - 1 calls, 500000 - 120000 - 3000 ms; period 1: 2 + 1 + 1, 120000 + 27000 + 3000.
        assert_eq!(buckets, vec![Bucket { label: "+91".into(), periods: vec![(2, 377_000), (4, 150_000)] }]);
        // A call in part 1 (shared) belongs to period 1, not 0.
        assert_eq!(query.decode(&rows(&[("+2", "0:1:60000,1:1:60000")])).unwrap(),
            vec![Bucket { label: "+2".into(), periods: vec![(0, 0), (1, 60_000)] }]);
        // A bucket whose periods all net to nothing (its only call in a day and in the hours taken off it) is
        // left out.
        let day_less_hours = Query { targets: vec![vec![(0, 1)], vec![(0, -1)]], periods: 1, ..two_periods() };
        let buckets = day_less_hours.decode(&rows(&[("+1", "0:2:120000,1:1:60000"), ("+2", "0:1:60000,1:1:60000")])).unwrap();
        assert_eq!(buckets, vec![Bucket { label: "+1".into(), periods: vec![(1, 60_000)] }]);
    }

    #[test]
    fn a_row_the_rollups_cannot_have_written_names_its_table() {
        let query = two_periods();
        let error = |parts: &str| match query.decode(&rows(&[("+91", parts)])) {
            Err(RowsError::Unreadable(detail)) => detail,
            other => panic!("{parts}: {other:?}"),
        };
        // A REAL in a rollup (9.22e+18, as SQLite writes an overflowed sum), in the hours table.
        assert_eq!(error("0:1:60000,1:1:9.22337203685478e+18"), "unreadable rows from calls_by_hour: bucket \"+91\" has a row that is not whole calls and milliseconds: \"1:1:9.22337203685478e+18\"");
        // Sums that overflow i64.
        assert!(error("0:1:9223372036854775807,2:1:1,1:1:-1").starts_with("unreadable rows from calls_by_hour: bucket \"+91\"'s sum overflows"));
        // A period below zero: the rollups disagree with each other.
        assert_eq!(error("1:1:60000"), "unreadable rows from calls_by_hour, calls_by_day: bucket \"+91\" sums to -1 calls and -60000 ms in a period");
        // Calls without a duration are calls; a duration without calls is not.
        assert!(query.decode(&rows(&[("+91", "0:1:0")])).is_ok());
        assert!(error("0:0:5").contains("sums to 0 calls and 5 ms"));
        for bad in ["", "0:2", "0:2:x", "9:2:3", "0:2:3,", "0:2:3:4", "-1:2:3"] {
            assert!(error(bad).starts_with("unreadable rows from calls_by"), "{bad}");
        }
        let not_text = Rows { rows: vec![vec![Cell::Integer(5), Cell::Text("0:1:1".into())]], ..Rows::default() };
        assert!(matches!(query.decode(&not_text), Err(RowsError::Unreadable(_))));
    }

    #[test]
    fn an_answer_with_one_bucket_too_many_is_too_big() {
        let selection = select("start_date=2026-01-01&end_date=2026-02-11T16:00:00&interval=hour"); // 1,000 hours
        let query = query(&selection);
        assert!(query.statement.sql.ends_with(" LIMIT 101"));
        let many: Vec<(String, String)> = (0..101).map(|i| (format!("+{i}"), "0:1:1".to_owned())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(b, p)| (b.as_str(), p.as_str())).collect();
        assert!(matches!(query.decode(&rows(&many)), Err(RowsError::TooBig(_))));
        assert_eq!(query.decode(&rows(&many[..100])).unwrap().len(), 100);
    }

    #[test]
    fn an_answer_whose_labels_pass_the_byte_budget_is_too_big() {
        let query = query(&select("start_date=2026-01-01&end_date=2026-01-01"));
        let labels: Vec<String> = (0..1_954).map(|i| format!("{i:01024}")).collect();
        let long: Vec<(&str, &str)> = labels.iter().map(|l| (l.as_str(), "0:1:1")).collect();
        assert!(matches!(query.decode(&rows(&long)), Err(RowsError::TooBig(_))), "1,954 labels of 1,024 bytes");
        assert_eq!(query.decode(&rows(&long[..1_953])).unwrap().len(), 1_953);
    }

    #[test]
    fn a_user_filter_reads_the_per_user_rollups() {
        let selection = select("start_date=2025-11-30T22:31:00Z&end_date=2026-03-02T00:30:00Z&user_email=Alice@Example.com");
        let statement = query(&selection).statement;
        assert_eq!(statement.params[1], Param::Text("Alice@Example.com".into()));
        assert_eq!(statement.params.len(), 2);
        let filter = "r.user_id = (SELECT id FROM users WHERE email = ?2) AND ";
        assert_eq!(statement.sql.matches(filter).count(), statement.sql.matches(" UNION ALL ").count() + 1);
        for table in ["calls AS r", "user_calls_by_month", "user_calls_by_day", "user_calls_by_hour", "user_calls_by_quarter"] {
            assert!(statement.sql.contains(table), "{table} in {}", statement.sql);
        }
        assert!(!statement.sql.contains(" calls_by_"), "{}", statement.sql);
        assert!(!statement.sql.contains("Alice"), "the email is bound, never spliced");
    }

    #[test]
    fn a_long_series_stays_one_small_statement() {
        // 1,000 local hours in Kolkata: the SQL text the same size as for one period.
        let selection = select("start_date=2026-01-01T00:00:00&end_date=2026-02-11T16:00:00&timezone=Asia/Calcutta&interval=hour");
        let statement = query(&selection).statement;
        assert!(statement.sql.len() < 2_000);
        let Param::Text(json) = &statement.params[0] else { panic!() };
        assert!(json.len() < 100_000, "{} bytes of segments", json.len());
    }
}
