//! From per-bucket totals to the rows the endpoint returns: rounding and order.
//!
//! Buckets themselves are assigned in SQL (`calls.bucket`, see `migrations/`): `WEB_CALL` for web sessions,
//! `UNKNOWN_PLATFORM` for non-web calls without a platform number, else the trimmed platform number.
//! Durations arrive as exact integer milliseconds (each call's `duration_seconds` rounded to the
//! millisecond), so totals do not depend on summation order and rounding here is exact integer arithmetic.

use std::cmp::Reverse;

use serde::Serialize;

/// One bucket's totals over the requested range, as the query returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketTotal {
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

/// Orders by total duration descending, then by call count descending, then by label ascending, and rounds.
/// The order uses the exact totals, so buckets whose rounded minutes tie keep their true order.
pub fn rows(mut totals: Vec<BucketTotal>) -> Vec<PhoneNumberRow> {
    totals.sort_by(|a, b| {
        (
            Reverse(a.total_duration_millis),
            Reverse(a.total_calls),
            &a.phone_number,
        )
            .cmp(&(
                Reverse(b.total_duration_millis),
                Reverse(b.total_calls),
                &b.phone_number,
            ))
    });
    totals
        .into_iter()
        .map(|total| PhoneNumberRow {
            total_duration_minutes: hundredths(total.total_duration_millis, MILLIS_PER_MINUTE),
            total_duration_hours: hundredths(total.total_duration_millis, MILLIS_PER_HOUR),
            phone_number: total.phone_number,
            total_calls: total.total_calls,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(phone_number: &str, total_calls: u64, seconds: f64) -> BucketTotal {
        BucketTotal {
            phone_number: phone_number.into(),
            total_calls,
            total_duration_millis: (seconds * 1000.0).round() as u64,
        }
    }

    fn rounded(seconds: f64) -> (f64, f64) {
        let row = &rows(vec![total("x", 1, seconds)])[0];
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
            serde_json::to_string(&rows(vec![total("+919876543210", 45, 12_150.0)])).unwrap();
        assert_eq!(
            json,
            r#"[{"phone_number":"+919876543210","total_calls":45,"total_duration_minutes":202.5,"total_duration_hours":3.38}]"#
        );
        let json = serde_json::to_string(&rows(vec![total("x", 1, 60.0 * 0.07)])).unwrap();
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
        ]);
        let labels: Vec<_> = ordered.iter().map(|r| r.phone_number.as_str()).collect();
        // 600.001 s and 600 s both round to 10.00 min, yet the exact totals decide.
        assert_eq!(
            labels,
            ["UNKNOWN_PLATFORM", "WEB_CALL", "c", "a", "b", "+1"]
        );
    }

    #[test]
    fn no_totals_no_rows() {
        assert!(rows(Vec::new()).is_empty());
    }
}
