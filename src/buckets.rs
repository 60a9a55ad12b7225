//! From per-period, per-bucket totals to the rows the endpoint returns: sums, series, rounding and order.
//!
//! Buckets themselves are assigned in SQL (`calls.bucket`, see `migrations/`): `WEB_CALL` for web sessions,
//! `UNKNOWN_PLATFORM` for non-web calls without a platform number, else the trimmed platform number.
//! Durations arrive as exact integer milliseconds (each call's `duration_seconds` rounded to the
//! millisecond), so totals do not depend on summation order and rounding here is exact integer arithmetic.

use std::cmp::Reverse;
use std::collections::HashMap;

use serde::Serialize;

/// One bucket's totals over one period (the index of the selection's period), as the query returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketTotal {
    pub period: usize,
    pub phone_number: String,
    pub total_calls: u64,
    pub total_duration_millis: u64,
}

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

const MILLIS_PER_MINUTE: u64 = 60_000;
const MILLIS_PER_HOUR: u64 = 3_600_000;

/// `millis / unit`, rounded half away from zero to two decimals (totals are never negative).
fn hundredths(millis: u64, unit: u64) -> f64 {
    let per_hundredth = unit / 100;
    let rounded = (millis + per_hundredth / 2) / per_hundredth;
    // Exact below 2^53 hundredths (≈ 2.8 million years of calls); the division gives the closest f64.
    rounded as f64 / 100.0
}

#[derive(Default)]
struct Sums {
    calls: u64,
    millis: u64,
    /// (calls, millis) per period, when there is a series.
    periods: Vec<(u64, u64)>,
}

/// Sums each bucket over its periods and orders the buckets by total duration descending, then by call
/// count descending, then by label ascending (on the exact totals, so buckets whose rounded minutes tie keep
/// their true order), and rounds. `series`: the periods' start labels, for a row's series (dense: a period
/// without calls is a point of zeros).
pub fn rows(totals: Vec<BucketTotal>, series: Option<&[String]>) -> Vec<PhoneNumberRow> {
    let periods = series.map_or(0, <[String]>::len);
    let mut buckets: HashMap<String, Sums> = HashMap::new();
    for total in totals {
        let sums = buckets.entry(total.phone_number).or_insert_with(|| Sums {
            periods: vec![(0, 0); periods],
            ..Sums::default()
        });
        sums.calls += total.total_calls;
        sums.millis += total.total_duration_millis;
        if let Some(point) = sums.periods.get_mut(total.period) {
            point.0 += total.total_calls;
            point.1 += total.total_duration_millis;
        }
    }
    let mut buckets: Vec<(String, Sums)> = buckets.into_iter().filter(|(_, s)| s.calls > 0).collect();
    buckets.sort_unstable_by(|(a_label, a), (b_label, b)| {
        (Reverse(a.millis), Reverse(a.calls), a_label).cmp(&(Reverse(b.millis), Reverse(b.calls), b_label))
    });
    buckets
        .into_iter()
        .map(|(phone_number, sums)| PhoneNumberRow {
            phone_number,
            total_calls: sums.calls,
            total_duration_minutes: hundredths(sums.millis, MILLIS_PER_MINUTE),
            total_duration_hours: hundredths(sums.millis, MILLIS_PER_HOUR),
            series: series.map(|labels| {
                labels
                    .iter()
                    .zip(sums.periods)
                    .map(|(start, (calls, millis))| Point {
                        start: start.clone(),
                        total_calls: calls,
                        total_duration_minutes: hundredths(millis, MILLIS_PER_MINUTE),
                        total_duration_hours: hundredths(millis, MILLIS_PER_HOUR),
                    })
                    .collect()
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(phone_number: &str, total_calls: u64, seconds: f64) -> BucketTotal {
        BucketTotal {
            period: 0,
            phone_number: phone_number.into(),
            total_calls,
            total_duration_millis: (seconds * 1000.0).round() as u64,
        }
    }

    fn rounded(seconds: f64) -> (f64, f64) {
        let row = &rows(vec![total("x", 1, seconds)], None)[0];
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
    }

    #[test]
    fn serializes_as_plain_json_numbers() {
        let json =
            serde_json::to_string(&rows(vec![total("+919876543210", 45, 12_150.0)], None)).unwrap();
        assert_eq!(
            json,
            r#"[{"phone_number":"+919876543210","total_calls":45,"total_duration_minutes":202.5,"total_duration_hours":3.38}]"#
        );
        let json = serde_json::to_string(&rows(vec![total("x", 1, 60.0 * 0.07)], None)).unwrap();
        assert!(
            json.contains(r#""total_duration_minutes":0.07,"total_duration_hours":0.0"#),
            "{json}"
        );
    }

    #[test]
    fn orders_by_duration_then_calls_then_label() {
        let ordered = rows(vec![
            total("b", 1, 10.0),
            total("WEB_CALL", 3, 600.0),
            total("a", 1, 10.0),
            total("c", 2, 10.0),
            total("UNKNOWN_PLATFORM", 1, 600.001),
            total("+1", 9, 0.0),
        ], None);
        let labels: Vec<_> = ordered.iter().map(|r| r.phone_number.as_str()).collect();
        // 600.001 s and 600 s both round to 10.00 min, yet the exact totals decide.
        assert_eq!(
            labels,
            ["UNKNOWN_PLATFORM", "WEB_CALL", "c", "a", "b", "+1"]
        );
    }

    #[test]
    fn no_totals_no_rows() {
        assert!(rows(Vec::new(), None).is_empty());
    }

    #[test]
    fn series_are_dense_and_add_up_to_the_totals() {
        let at = |period: usize, label: &str, calls: u64, seconds: u64| BucketTotal {
            period,
            phone_number: label.into(),
            total_calls: calls,
            total_duration_millis: seconds * 1000,
        };
        let labels: Vec<String> = ["d0", "d1", "d2"].map(String::from).to_vec();
        // The same bucket and period may come from several parts of a plan; they add up.
        let rows = rows(
            vec![at(2, "+1", 1, 27), at(0, "+1", 2, 60), at(2, "+1", 1, 0), at(1, "+2", 1, 3600)],
            Some(&labels),
        );
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
        let json = serde_json::to_string(&rows[0]).unwrap();
        assert!(json.ends_with(r#""series":[{"start":"d0","total_calls":0,"total_duration_minutes":0.0,"total_duration_hours":0.0},{"start":"d1","total_calls":1,"total_duration_minutes":60.0,"total_duration_hours":1.0},{"start":"d2","total_calls":0,"total_duration_minutes":0.0,"total_duration_hours":0.0}]}"#), "{json}");
    }
}
