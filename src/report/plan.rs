//! Which rows answer a selection: each period (the whole range, or each period of a series) is covered
//! exactly by a signed sum of parts, each read from the cheapest source: the rollups of whole UTC months,
//! days, hours and quarter-hours (migrations/0002 and 0004), and raw calls only for the partial
//! quarter-hours at the range's two edges. A part may be subtracted: an Asia/Kolkata day, 18:30 to 18:30
//! UTC, is a UTC day plus the 5½ hours before it minus the 5½ hours at its end (15 rollup rows per bucket
//! instead of 27). So a request reads a number of rows that grows with the buckets and the number and
//! length of its periods, not with the number of calls; bounds on quarter-hours (every local hour and day,
//! in every zone in use) read no raw calls. Every part sums exact integer milliseconds, so the answer is
//! exactly the raw aggregation's. `statement` writes the plan as SQL and reads its rows.

use chrono::Datelike;

use crate::report::selection::{Selection, Strategy};
use crate::time::zone::{midnight_millis, next_month, wall_time};

const QUARTER: i64 = 900_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Where a part of a period is read from, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Calls = 0,
    Quarters = 1,
    Hours = 2,
    Days = 3,
    Months = 4,
}

pub const LEVELS: [Source; 5] = [
    Source::Calls,
    Source::Quarters,
    Source::Hours,
    Source::Days,
    Source::Months,
];

/// A half-open part `[start, end)` of period `period`, read from `source` (aligned to its periods) and added
/// (`sign` 1) or subtracted (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub period: usize,
    pub sign: i8,
    pub source: Source,
    pub start: i64,
    pub end: i64,
}

/// What reading raw calls costs, per this many milliseconds, against one rollup row per bucket: raw reads
/// grow with the number of calls, so the plan reads as few as it can (a quarter-hour of them weighs as much
/// as 60 rollup periods), and then as few rollup rows as it can.
const RAW_COST_MILLIS: u64 = 15_000;

impl Source {
    fn floor(self, millis: i64) -> i64 {
        match self {
            Source::Calls => millis,
            Source::Quarters => millis - millis.rem_euclid(QUARTER),
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
            Source::Quarters => floor + QUARTER,
            Source::Hours => floor + HOUR,
            Source::Days => floor + DAY,
            Source::Months => next_month_start(floor),
        }
    }

    /// The rows per bucket (for raw calls, a proportional stand-in) that reading `[start, end)` costs.
    fn cost(self, start: i64, end: i64) -> u64 {
        let span = (end - start).unsigned_abs();
        match self {
            Source::Calls => span.div_ceil(RAW_COST_MILLIS),
            Source::Quarters => span / QUARTER as u64,
            Source::Hours => span / HOUR as u64,
            Source::Days => span / DAY as u64,
            Source::Months => months_between(start.min(end), start.max(end)),
        }
    }
}

fn month_start(millis: i64) -> i64 {
    midnight_millis(wall_time(millis).date().with_day(1).expect("every month has a day 1"))
}

fn next_month_start(month_start_millis: i64) -> i64 {
    next_month(wall_time(month_start_millis).date()).map_or(i64::MAX, midnight_millis)
}

/// Whole months between two month starts.
fn months_between(start: i64, end: i64) -> u64 {
    let (a, b) = (wall_time(start), wall_time(end));
    ((b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32).max(0) as u64
}

/// One way to move an endpoint to a boundary of a coarser source: the boundary reached at each level, the
/// pieces that move costs, and their total cost.
#[derive(Clone)]
struct Route {
    at: i64,
    /// (source, from, to): the signed interval [from, to) read from `source` (to < from: subtracted).
    pieces: Vec<(Source, i64, i64)>,
    cost: u64,
}

/// Every way to round `t` to a boundary of `LEVELS[level]`, one rounding (down or up) per level on the way.
fn routes(t: i64, level: usize) -> Vec<Route> {
    let mut routes = vec![Route {
        at: t,
        pieces: Vec::new(),
        cost: 0,
    }];
    for step in 1..=level {
        let (finer, coarser) = (LEVELS[step - 1], LEVELS[step]);
        routes = routes
            .into_iter()
            .flat_map(|route| {
                let (down, up) = (coarser.floor(route.at), coarser.ceil(route.at));
                let targets = if down == up { vec![down] } else { vec![down, up] };
                targets.into_iter().map(move |to| {
                    let mut next = route.clone();
                    if to != route.at {
                        next.pieces.push((finer, route.at, to));
                        next.cost += finer.cost(route.at, to);
                    }
                    next.at = to;
                    next
                })
            })
            .collect();
    }
    routes
}

/// A signed part `(sign, source, start, end)` of one period: `[start, end)` read from `source`, added (1)
/// or subtracted (-1).
pub type Part = (i8, Source, i64, i64);

/// The cheapest signed parts that sum to exactly `[start, end)`: the range between two boundaries of one
/// source, corrected at each end by parts of finer sources (added or subtracted).
pub fn cover(start: i64, end: i64) -> Vec<Part> {
    let mut best: Option<(u64, Vec<Part>)> = None;
    for (level, &source) in LEVELS.iter().enumerate() {
        let starts = routes(start, level);
        let ends = routes(end, level);
        for a in &starts {
            for b in &ends {
                if a.at > b.at {
                    continue;
                }
                let cost = a.cost + b.cost + source.cost(a.at, b.at);
                if best.as_ref().is_some_and(|(c, _)| *c <= cost) {
                    continue;
                }
                // [start, end) = [A, B) - [start..A moves] + [end..B moves], each move's sign from its direction.
                let mut parts = Vec::new();
                if a.at < b.at {
                    parts.push((1, source, a.at, b.at));
                }
                for &(finer, from, to) in &a.pieces {
                    // The start moved from `from` to `to`: [start, A) is added when A is after it.
                    parts.push(if to > from { (1, finer, from, to) } else { (-1, finer, to, from) });
                }
                for &(finer, from, to) in &b.pieces {
                    // The end moved from `from` to `to`: what it passed is removed when B is after it.
                    parts.push(if to > from { (-1, finer, from, to) } else { (1, finer, to, from) });
                }
                best = Some((cost, parts));
            }
        }
    }
    best.map(|(_, parts)| parts).unwrap_or_default()
}

/// The segments of every period of `selection`.
pub fn plan(selection: &Selection) -> Vec<Segment> {
    selection
        .periods
        .iter()
        .enumerate()
        .flat_map(|(period, range)| {
            let parts = match selection.strategy {
                Strategy::Rollups => cover(range.start_millis(), range.end_millis()),
                Strategy::Raw => vec![(1, Source::Calls, range.start_millis(), range.end_millis())],
            };
            parts.into_iter().map(move |(sign, source, start, end)| Segment {
                period,
                sign,
                source,
                start,
                end,
            })
        })
        .collect()
}

/// Whether `segments` of one period sum to exactly `[start, end)` (for the tests).
#[cfg(test)]
fn tiles(segments: &[Part], start: i64, end: i64) -> bool {
    // Sweep the signed coverage count over every segment edge: 1 inside the range, 0 outside.
    let mut edges: Vec<(i64, i32)> = segments
        .iter()
        .flat_map(|&(sign, _, a, b)| [(a, i32::from(sign)), (b, -i32::from(sign))])
        .chain([(start, 0), (end, 0)])
        .collect();
    edges.sort_unstable();
    let mut depth = 0;
    let mut points = edges.iter().peekable();
    while let Some(&(at, delta)) = points.next() {
        depth += delta;
        if points.peek().is_some_and(|(next, _)| *next == at) {
            continue;
        }
        let expected = i32::from(at >= start && at < end);
        if depth != expected {
            return false;
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::parameters::select;

    fn at(iso: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(iso).unwrap().timestamp_millis()
    }

    fn part(sign: i8, source: Source, start: &str, end: &str) -> Part {
        (sign, source, at(start), at(end))
    }

    fn sorted(mut parts: Vec<Part>) -> Vec<Part> {
        parts.sort_by_key(|&(sign, source, start, _)| (start, source, sign));
        parts
    }

    #[test]
    fn uses_the_coarsest_periods_that_fit() {
        let parts = sorted(cover(at("2026-01-30T16:45:00Z"), at("2026-04-02T03:00:00.5Z")));
        assert_eq!(
            parts,
            vec![
                part(1, Source::Quarters, "2026-01-30T16:45:00Z", "2026-01-30T17:00:00Z"),
                part(1, Source::Hours, "2026-01-30T17:00:00Z", "2026-01-31T00:00:00Z"),
                part(1, Source::Days, "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"),
                part(1, Source::Months, "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z"),
                part(1, Source::Days, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"),
                part(1, Source::Hours, "2026-04-02T00:00:00Z", "2026-04-02T03:00:00Z"),
                part(1, Source::Calls, "2026-04-02T03:00:00Z", "2026-04-02T03:00:00.5Z"),
            ]
        );
        // Starting at 10:15 instead, a whole day minus its first 10¼ hours reads fewer rows (12 against 16).
        let parts = sorted(cover(at("2026-01-30T10:15:00Z"), at("2026-01-31T00:00:00Z")));
        assert_eq!(
            parts,
            vec![
                part(-1, Source::Hours, "2026-01-30T00:00:00Z", "2026-01-30T10:00:00Z"),
                part(1, Source::Days, "2026-01-30T00:00:00Z", "2026-01-31T00:00:00Z"),
                part(-1, Source::Quarters, "2026-01-30T10:00:00Z", "2026-01-30T10:15:00Z"),
            ]
        );
    }

    #[test]
    fn subtracts_where_that_reads_fewer_rows() {
        // An Asia/Kolkata day: a UTC day, plus 5.5 hours before it, minus 5.5 hours at its end.
        let parts = sorted(cover(at("2026-11-01T00:00:00+05:30"), at("2026-11-02T00:00:00+05:30")));
        assert_eq!(
            parts,
            vec![
                part(1, Source::Quarters, "2026-10-31T18:30:00Z", "2026-10-31T19:00:00Z"),
                part(1, Source::Hours, "2026-10-31T19:00:00Z", "2026-11-01T00:00:00Z"),
                part(1, Source::Days, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
                part(-1, Source::Quarters, "2026-11-01T18:30:00Z", "2026-11-01T19:00:00Z"),
                part(-1, Source::Hours, "2026-11-01T19:00:00Z", "2026-11-02T00:00:00Z"),
            ]
        );
        // 31 days of 2026-10 in UTC minus one: a month minus a day.
        assert_eq!(
            sorted(cover(at("2026-10-01T00:00:00Z"), at("2026-10-31T00:00:00Z"))),
            vec![
                part(1, Source::Months, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"),
                part(-1, Source::Days, "2026-10-31T00:00:00Z", "2026-11-01T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn aligned_ranges_need_no_raw_calls() {
        assert_eq!(
            cover(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")),
            vec![part(1, Source::Months, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")]
        );
        assert_eq!(
            cover(at("2026-03-05T01:00:00Z"), at("2026-03-05T03:00:00Z")),
            vec![part(1, Source::Hours, "2026-03-05T01:00:00Z", "2026-03-05T03:00:00Z")]
        );
        // Quarter-hour bounds, as every local hour and day in a +05:45 zone has.
        let kathmandu = cover(at("2026-03-05T00:00:00+05:45"), at("2026-03-07T00:00:00+05:45"));
        assert!(kathmandu.iter().all(|p| p.1 != Source::Calls), "{kathmandu:?}");
        assert!(tiles(&kathmandu, at("2026-03-05T00:00:00+05:45"), at("2026-03-07T00:00:00+05:45")));
    }

    #[test]
    fn raw_calls_only_for_the_partial_quarter_hours_at_the_edges() {
        let within = cover(at("2026-03-05T01:10:00Z"), at("2026-03-05T01:14:00Z"));
        assert_eq!(within, vec![part(1, Source::Calls, "2026-03-05T01:10:00Z", "2026-03-05T01:14:00Z")]);
        // A bound a minute before a quarter reads that minute raw, not the 14 minutes before it.
        let near = cover(at("2026-03-05T01:14:00Z"), at("2026-03-05T05:00:00Z"));
        let raw: Vec<_> = near.iter().filter(|p| p.1 == Source::Calls).copied().collect();
        assert_eq!(raw, vec![part(1, Source::Calls, "2026-03-05T01:14:00Z", "2026-03-05T01:15:00Z")]);
        assert!(tiles(&near, at("2026-03-05T01:14:00Z"), at("2026-03-05T05:00:00Z")));
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
        for _ in 0..5_000 {
            let start = (next() % 4_000_000_000_000) as i64 - 1_000_000_000_000;
            let start = if next() % 2 == 0 { start - start.rem_euclid(QUARTER) } else { start };
            let length = match next() % 3 {
                0 => (next() % 7_200_000) as i64,
                1 => (next() % (40 * DAY as u64)) as i64,
                _ => (next() % (800 * DAY as u64)) as i64,
            } + 1;
            let end = start + length;
            let parts = cover(start, end);
            assert!(tiles(&parts, start, end), "[{start}, {end}): {parts:?}");
            for &(_, source, a, b) in &parts {
                assert!(a < b);
                assert_eq!(source.floor(a), a, "{source:?} starts on its period");
                assert_eq!(source.floor(b), b, "{source:?} ends on its period");
            }
            let raw: Vec<i64> = parts.iter().filter(|p| p.1 == Source::Calls).map(|p| p.3 - p.2).collect();
            assert!(raw.len() <= 2 && raw.iter().all(|&r| r < QUARTER), "at most a partial quarter-hour at each edge is read raw: {raw:?}");
            if start % QUARTER == 0 && end % QUARTER == 0 {
                assert!(raw.is_empty());
            }
        }
    }

    #[test]
    fn months_before_1970_floor_too() {
        assert_eq!(
            Source::Months.floor(at("1969-12-31T23:59:59.999Z")),
            at("1969-12-01T00:00:00Z")
        );
        assert_eq!(Source::Hours.floor(-1), -HOUR);
        assert_eq!(Source::Days.ceil(-1), 0);
    }

    #[test]
    fn raw_reads_every_call_of_each_period() {
        let selection = select("start_date=2025-01-01&end_date=2025-01-02&interval=day&strategy=raw");
        assert_eq!(
            plan(&selection),
            vec![
                Segment { period: 0, sign: 1, source: Source::Calls, start: at("2025-01-01T00:00:00Z"), end: at("2025-01-02T00:00:00Z") },
                Segment { period: 1, sign: 1, source: Source::Calls, start: at("2025-01-02T00:00:00Z"), end: at("2025-01-03T00:00:00Z") },
            ]
        );
    }

    #[test]
    fn a_series_plans_each_period() {
        // 1,000 local hours in Kolkata: every period tiled, the SQL text the same size as for one.
        let selection = select("start_date=2026-01-01T00:00:00&end_date=2026-02-11T16:00:00&timezone=Asia/Calcutta&interval=hour");
        assert_eq!(selection.periods.len(), 1000);
        let segments = plan(&selection);
        for (p, range) in selection.periods.iter().enumerate() {
            let parts: Vec<_> = segments.iter().filter(|s| s.period == p).map(|s| (s.sign, s.source, s.start, s.end)).collect();
            assert!(tiles(&parts, range.start_millis(), range.end_millis()), "period {p}");
        }
        assert!(segments.iter().all(|s| s.source != Source::Calls));
    }
}
