//! How big one answer may be, so that what reaches the worker's memory stays bounded whatever the range
//! holds: at most [`MAX_BUCKETS`] phone numbers, whose labels add up to at most [`MAX_LABEL_BYTES`], and for
//! a series at most [`MAX_POINTS`] points (phone numbers times periods). `statement` applies it: its SQL asks
//! D1 for one bucket more than fit, and for buckets only until their labels pass the byte budget (limits D1
//! applies), and its row reader refuses an answer that has that one bucket more or those bytes more (a check
//! that must follow D1's answer, since only D1 knows what a range holds). Measured (bench/buckets.mjs,
//! docs/design.md "Answer size"): the worker's memory grows by 6 to 28 KB a bucket of 1,024-character
//! labels (rows from before the record rule), and by 1 to 2 KB one of at most 64 characters.

use std::fmt;

/// The most phone numbers one answer holds: with labels of at most 64 characters (the record rule), at most
/// 48 MiB of an isolate's 128 MB.
pub const MAX_BUCKETS: usize = 20_000;

/// The most bytes (UTF-8) the labels of one answer's phone numbers may add up to: what bounds an answer of
/// long labels (1,024 characters from before the record rule: about 1,950 buckets, at most 54 MiB even when
/// every character is one JSON escapes six times over).
pub const MAX_LABEL_BYTES: usize = 2_000_000;

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
pub struct TooBig {
    size: AnswerSize,
    /// The labels' bytes were too many (rather than the buckets).
    bytes: bool,
}

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

    /// Refuses an answer of `buckets` buckets whose labels add up to `label_bytes` (as D1 returned them,
    /// those that net to nothing included).
    pub fn check(self, buckets: usize, label_bytes: usize) -> Result<(), TooBig> {
        if buckets > self.max_buckets() {
            Err(TooBig { size: self, bytes: false })
        } else if label_bytes > MAX_LABEL_BYTES {
            Err(TooBig { size: self, bytes: true })
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AnswerSize { periods, series } = self.size;
        if self.bytes {
            write!(
                f,
                "Too many phone numbers: the phone numbers of this range are longer together than the \
                 {MAX_LABEL_BYTES} bytes one answer holds; choose a shorter range or one user_email"
            )
        } else if series && MAX_POINTS / periods < MAX_BUCKETS {
            write!(
                f,
                "Too many points: this series has {periods} periods and more than {} phone numbers to show, \
                 more than the {MAX_POINTS} points (phone numbers times periods) one answer holds; choose a \
                 longer interval, a shorter range or one user_email",
                self.size.max_buckets()
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
        assert_eq!(AnswerSize::totals().check(20_000, 64 * 20_000), Ok(()));
        let too_big = AnswerSize::totals().check(20_001, 0).unwrap_err();
        assert_eq!(
            too_big.to_string(),
            "Too many phone numbers: this range has more than 20000, the most one answer holds; choose a shorter range or one user_email"
        );
        assert_eq!(AnswerSize::series(1000).check(100, 100), Ok(()));
        let points = AnswerSize::series(1000).check(101, 101).unwrap_err();
        assert!(points.to_string().starts_with("Too many points: this series has 1000 periods and more than 100 phone numbers"), "{points}");
        // A short series is held back by the bucket cap, and says so.
        assert!(AnswerSize::series(2).check(20_001, 0).unwrap_err().to_string().starts_with("Too many phone numbers"));
    }

    #[test]
    fn long_labels_are_bounded_by_their_bytes() {
        assert_eq!(AnswerSize::totals().check(1_953, MAX_LABEL_BYTES), Ok(()));
        let bytes = AnswerSize::totals().check(1_954, MAX_LABEL_BYTES + 1).unwrap_err();
        assert_eq!(
            bytes.to_string(),
            "Too many phone numbers: the phone numbers of this range are longer together than the 2000000 bytes one answer holds; choose a shorter range or one user_email"
        );
        // Within the record rule (64 characters), every answer of at most MAX_BUCKETS ASCII labels fits.
        assert!(MAX_BUCKETS * 64 <= MAX_LABEL_BYTES);
    }
}
