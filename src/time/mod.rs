//! Calendar and clock, with no knowledge of calls or requests: IANA time zones (their offsets come from the
//! runtime through [`zone::Offsets`]), the calendar steps every rule shares (midnight, the next month),
//! timestamps as the query string writes them and RFC 3339 instants as machines write them, and ranges of
//! instants. Uses nothing else of the crate.

pub mod range;
pub mod timestamp;
pub mod zone;
