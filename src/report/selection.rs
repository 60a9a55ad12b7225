//! What a report covers, once the request is understood: a range of instants, optionally one user, the zone
//! and interval it is read in, and how to read it. Parsing builds it (`parameters`), the plan reads it
//! (`plan`, `statement`), the answer echoes it.

use crate::call::email::UserEmail;
use crate::report::periods::Interval;
use crate::time::range::TimeRange;
use crate::time::zone::TimeZone;

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
