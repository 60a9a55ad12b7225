//! How big one answer may be, so that what reaches the worker's memory stays bounded whatever the range
//! holds: at most [`MAX_BUCKETS`] phone numbers, and for a series at most [`MAX_POINTS`] points (phone
//! numbers times periods). `statement` applies it: its SQL asks D1 for one bucket more than fit (a limit D1
//! applies), and its row reader refuses an answer that has that one more (a check that must follow D1's
//! answer, since only D1 knows how many buckets a range holds).

use std::fmt;

/// The most phone numbers one answer holds. Measured (docs/design.md, "Answer size"): with platform
/// numbers of 1,024 characters, the worst the loader ever let in, an answer this big stays far inside a
/// Worker isolate's 128 MB.
pub const MAX_BUCKETS: usize = 20_000;

/// The most series points (buckets times periods) one answer holds: about 10 MB of JSON.
pub const MAX_POINTS: usize = 100_000;

/// The size rule for an answer with `periods` periods (1 without a series).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerSize {
    periods: usize,
    series: bool,
}

/// The answer would hold more than its rule allows: the user should narrow the request (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig(AnswerSize);

impl AnswerSize {
    pub fn totals() -> Self {
        Self { periods: 1, series: false }
    }

    pub fn series(periods: usize) -> Self {
        Self { periods: periods.max(1), series: true }
    }

    /// The most buckets the answer can show.
    pub fn max_buckets(self) -> usize {
        MAX_BUCKETS.min(MAX_POINTS / self.periods)
    }

    /// What D1 is asked for: one bucket more than can be shown, enough to say there are too many.
    pub fn sql_limit(self) -> usize {
        self.max_buckets() + 1
    }

    /// Refuses an answer of `buckets` buckets (as D1 returned them, those that net to nothing included).
    pub fn check(self, buckets: usize) -> Result<(), TooBig> {
        if buckets > self.max_buckets() {
            Err(TooBig(self))
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AnswerSize { periods, series } = self.0;
        if series && MAX_POINTS / periods < MAX_BUCKETS {
            write!(
                f,
                "Too many points: this series has {periods} periods and more than {} phone numbers to show, \
                 more than the {MAX_POINTS} points (phone numbers times periods) one answer holds; choose a \
                 longer interval, a shorter range or one user_email",
                self.0.max_buckets()
            )
        } else {
            write!(
                f,
                "Too many phone numbers: this range has more than {MAX_BUCKETS}, the most one answer holds; \
                 choose a shorter range or one user_email"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_shows_fewer_buckets_the_more_periods_it_has() {
        assert_eq!(AnswerSize::totals().max_buckets(), 20_000);
        assert_eq!(AnswerSize::series(1).max_buckets(), 20_000);
        assert_eq!(AnswerSize::series(5).max_buckets(), 20_000);
        assert_eq!(AnswerSize::series(6).max_buckets(), 16_666);
        assert_eq!(AnswerSize::series(1000).max_buckets(), 100);
        assert_eq!(AnswerSize::series(1000).sql_limit(), 101);
        assert_eq!(AnswerSize::series(0).max_buckets(), 20_000);
    }

    #[test]
    fn refuses_one_bucket_more_and_says_how_to_narrow() {
        assert_eq!(AnswerSize::totals().check(20_000), Ok(()));
        let too_big = AnswerSize::totals().check(20_001).unwrap_err();
        assert_eq!(
            too_big.to_string(),
            "Too many phone numbers: this range has more than 20000, the most one answer holds; choose a shorter range or one user_email"
        );
        assert_eq!(AnswerSize::series(1000).check(100), Ok(()));
        let points = AnswerSize::series(1000).check(101).unwrap_err();
        assert!(points.to_string().starts_with("Too many points: this series has 1000 periods and more than 100 phone numbers"), "{points}");
        // A short series is held back by the bucket cap, and says so.
        assert!(AnswerSize::series(2).check(20_001).unwrap_err().to_string().starts_with("Too many phone numbers"));
    }
}
