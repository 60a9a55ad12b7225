//! From buckets' per-period sums to the rows and totals the endpoint returns: sums, series, rounding and
//! order.
//!
//! Buckets themselves are assigned in SQL (`calls.bucket`, see `migrations/`): `WEB_CALL` for web sessions,
//! `UNKNOWN_PLATFORM` for non-web calls without a platform number, else the trimmed platform number.
//! Durations arrive as exact integer milliseconds (each call's `duration_seconds` rounded to the
//! millisecond), so totals do not depend on summation order and rounding here is exact integer arithmetic.

use std::cmp::Reverse;

use serde::Serialize;

use crate::report::statement::Bucket;

/// One row of `data.phone_numbers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhoneNumberRow {
    pub phone_number: String,
    pub total_calls: u64,
    pub total_duration_minutes: f64,
    pub total_duration_hours: f64,
    /// With an interval: one point per period, in time order, zeros included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<Vec<Point>>,
}

/// One period of a bucket's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The period's first instant, as RFC 3339 local time with the zone's offset.
    pub start: String,
    pub total_calls: u64,
    pub total_duration_minutes: f64,
    pub total_duration_hours: f64,
}

/// `data.totals`: every bucket of the answer together, from the exact sums, rounded like a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub total_calls: u64,
    pub total_duration_minutes: f64,
    pub total_duration_hours: f64,
}

/// The answer's sums do not fit in 64 bits: the rollups are damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

const MILLIS_PER_MINUTE: u64 = 60_000;
const MILLIS_PER_HOUR: u64 = 3_600_000;

/// `millis / unit`, rounded half away from zero to two decimals (totals are never negative).
fn hundredths(millis: u64, unit: u64) -> f64 {
    let per_hundredth = unit / 100;
    // millis / per_hundredth, rounded: without the overflow `millis + per_hundredth / 2` could have.
    let rounded = millis / per_hundredth + u64::from(millis % per_hundredth >= per_hundredth / 2);
    // Exact below 2^53 hundredths (≈ 2.8 million years of calls); the division gives the closest f64.
    rounded as f64 / 100.0
}

/// Calls and milliseconds, added in checked arithmetic.
fn add(sum: (u64, u64), more: (u64, u64)) -> Result<(u64, u64), Overflow> {
    sum.0.checked_add(more.0).zip(sum.1.checked_add(more.1)).ok_or(Overflow)
}

/// Each bucket's total over its periods and, for a series, its points (`series`: the periods' start
/// labels); the buckets ordered by total duration descending, then by call count descending, then by label
/// ascending (on the exact totals, so buckets whose rounded minutes tie keep their true order); and the
/// totals of them all.
pub fn rows(buckets: Vec<Bucket>, series: Option<&[String]>) -> Result<(Vec<PhoneNumberRow>, Totals), Overflow> {
    let mut summed = Vec::with_capacity(buckets.len());
    let mut all = (0, 0);
    for bucket in buckets {
        let total = bucket.periods.iter().try_fold((0, 0), |sum, &period| add(sum, period))?;
        all = add(all, total)?;
        summed.push((bucket, total));
    }
    summed.sort_unstable_by(|(a, a_total), (b, b_total)| {
        (Reverse(a_total.1), Reverse(a_total.0), &a.label).cmp(&(Reverse(b_total.1), Reverse(b_total.0), &b.label))
    });
    let rows = summed
        .into_iter()
        .map(|(bucket, (calls, millis))| PhoneNumberRow {
            total_calls: calls,
            total_duration_minutes: hundredths(millis, MILLIS_PER_MINUTE),
            total_duration_hours: hundredths(millis, MILLIS_PER_HOUR),
            series: series.map(|labels| {
                labels
                    .iter()
                    .zip(&bucket.periods)
                    .map(|(start, &(calls, millis))| Point {
                        start: start.clone(),
                        total_calls: calls,
                        total_duration_minutes: hundredths(millis, MILLIS_PER_MINUTE),
                        total_duration_hours: hundredths(millis, MILLIS_PER_HOUR),
                    })
                    .collect()
            }),
            phone_number: bucket.label,
        })
        .collect();
    let totals = Totals {
        total_calls: all.0,
        total_duration_minutes: hundredths(all.1, MILLIS_PER_MINUTE),
        total_duration_hours: hundredths(all.1, MILLIS_PER_HOUR),
    };
    Ok((rows, totals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(label: &str, calls: u64, seconds: f64) -> Bucket {
        Bucket { label: label.into(), periods: vec![(calls, (seconds * 1000.0).round() as u64)] }
    }

    fn ordered(buckets: Vec<Bucket>) -> Vec<PhoneNumberRow> {
        rows(buckets, None).unwrap().0
    }

    fn rounded(seconds: f64) -> (f64, f64) {
        let row = &ordered(vec![total("x", 1, seconds)])[0];
        (row.total_duration_minutes, row.total_duration_hours)
    }

    #[test]
    fn rounds_the_spec_examples() {
        // The spec: 12150 s → 202.50 min, 3.38 h (3.375 rounds up); 8100 s → 135.00 min, 2.25 h.
        assert_eq!(rounded(12_150.0), (202.5, 3.38));
        assert_eq!(rounded(8_100.0), (135.0, 2.25));
        assert_eq!(rounded(27.0), (0.45, 0.01)); // 0.0075 h → 0.01
    }

    #[test]
    fn rounds_half_away_from_zero_at_the_exact_half() {
        assert_eq!(rounded(0.3), (0.01, 0.0)); // 0.005 min
        assert_eq!(rounded(0.299), (0.0, 0.0)); // 0.004983 min
        assert_eq!(rounded(18.0), (0.3, 0.01)); // 0.005 h
        assert_eq!(rounded(17.999), (0.3, 0.0)); // 0.0049997 h
        assert_eq!(rounded(0.0), (0.0, 0.0));
        assert_eq!(rounded(60.0 * 123.456), (123.46, 2.06)); // 123.456 min, 2.0576 h
        // The largest sum there is rounds without overflowing: u64::MAX ms is 307,445,734,561,825.86 min
        // (beyond 2^53 hundredths, so only as close as an f64 gets).
        let row = &ordered(vec![Bucket { label: "x".into(), periods: vec![(1, u64::MAX)] }])[0];
        assert!((row.total_duration_minutes - 307_445_734_561_825.86).abs() < 1.0, "{}", row.total_duration_minutes);
    }

    #[test]
    fn serializes_as_plain_json_numbers() {
        let json = serde_json::to_string(&ordered(vec![total("+919876543210", 45, 12_150.0)])).unwrap();
        assert_eq!(
            json,
            r#"[{"phone_number":"+919876543210","total_calls":45,"total_duration_minutes":202.5,"total_duration_hours":3.38}]"#
        );
        let json = serde_json::to_string(&ordered(vec![total("x", 1, 60.0 * 0.07)])).unwrap();
        assert!(json.contains(r#""total_duration_minutes":0.07,"total_duration_hours":0.0"#), "{json}");
    }

    #[test]
    fn orders_by_duration_then_calls_then_label() {
        let ordered = ordered(vec![
            total("b", 1, 10.0),
            total("WEB_CALL", 3, 600.0),
            total("a", 1, 10.0),
            total("c", 2, 10.0),
            total("UNKNOWN_PLATFORM", 1, 600.001),
            total("+1", 9, 0.0),
        ]);
        let labels: Vec<_> = ordered.iter().map(|r| r.phone_number.as_str()).collect();
        // 600.001 s and 600 s both round to 10.00 min, yet the exact totals decide.
        assert_eq!(labels, ["UNKNOWN_PLATFORM", "WEB_CALL", "c", "a", "b", "+1"]);
    }

    #[test]
    fn totals_come_from_the_exact_sums_not_the_rounded_rows() {
        // 27 s three times: each row rounds to 0.45 min and 0.01 h; the three rows sum to 0.03 h, but
        // 81 s is 1.35 min and 0.0225 h, so 0.02 h.
        let (_, totals) = rows(vec![total("a", 1, 27.0), total("b", 1, 27.0), total("c", 1, 27.0)], None).unwrap();
        assert_eq!(totals, Totals { total_calls: 3, total_duration_minutes: 1.35, total_duration_hours: 0.02 });
        let json = serde_json::to_string(&totals).unwrap();
        assert_eq!(json, r#"{"total_calls":3,"total_duration_minutes":1.35,"total_duration_hours":0.02}"#);
        assert_eq!(rows(Vec::new(), None).unwrap().1, Totals { total_calls: 0, total_duration_minutes: 0.0, total_duration_hours: 0.0 });
    }

    #[test]
    fn sums_that_would_overflow_are_refused() {
        let big = |label: &str| Bucket { label: label.into(), periods: vec![(1, u64::MAX / 2 + 1)] };
        assert_eq!(rows(vec![big("a"), big("b")], None), Err(Overflow));
        let periods = Bucket { label: "a".into(), periods: vec![(1, u64::MAX), (1, 1)] };
        assert_eq!(rows(vec![periods], None), Err(Overflow));
    }

    #[test]
    fn no_buckets_no_rows() {
        assert!(ordered(Vec::new()).is_empty());
    }

    #[test]
    fn series_are_dense_and_add_up_to_the_totals() {
        let labels: Vec<String> = ["d0", "d1", "d2"].map(String::from).to_vec();
        let (rows, totals) = rows(
            vec![
                Bucket { label: "+1".into(), periods: vec![(2, 60_000), (0, 0), (2, 27_000)] },
                Bucket { label: "+2".into(), periods: vec![(0, 0), (1, 3_600_000), (0, 0)] },
            ],
            Some(&labels),
        )
        .unwrap();
        assert_eq!(rows[0].phone_number, "+2");
        let one = &rows[1];
        assert_eq!((one.total_calls, one.total_duration_minutes), (4, 1.45));
        let points: Vec<_> = one
            .series
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| (p.start.as_str(), p.total_calls, p.total_duration_minutes, p.total_duration_hours))
            .collect();
        assert_eq!(points, [("d0", 2, 1.0, 0.02), ("d1", 0, 0.0, 0.0), ("d2", 2, 0.45, 0.01)]);
        assert_eq!(totals.total_calls, 5);
        let json = serde_json::to_string(&rows[0]).unwrap();
        assert!(json.ends_with(r#""series":[{"start":"d0","total_calls":0,"total_duration_minutes":0.0,"total_duration_hours":0.0},{"start":"d1","total_calls":1,"total_duration_minutes":60.0,"total_duration_hours":1.0},{"start":"d2","total_calls":0,"total_duration_minutes":0.0,"total_duration_hours":0.0}]}"#), "{json}");
    }
}
