// RFC 3339 instants, the one reader (and writer) of the tools: a key record's expires_at, the key tool's
// --expires-at, the loader's started_at. The rule is tests/vectors/instants.json, which the Rust side reads
// too:
//   YYYY-MM-DD, T (or t or a space), hh:mm:ss, an optional fraction of 1 to 9 digits after a dot, then Z (or
//   z) or an offset ±hh:mm; every field in its range (the day in its month, hours 00-23, minutes and
//   seconds 00-59, offset hours 00-23); nothing before or after; floored to the millisecond.
// Every field is checked here, not by Date.parse: V8 takes 2027-02-30 as March 2 and 24:00 as the next day.

// ASCII digits only (\d in a JavaScript regular expression is [0-9]); `$` is the end of the text, never
// before a final newline.
const SHAPE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAY_MS = 86_400_000;

function isLeap(year) {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year, month) {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Epoch milliseconds of an RFC 3339 instant (with `Z` or a numeric offset: never the machine's local time),
 * floored to the millisecond; NaN for anything else (including a non-string).
 */
export function parseRfc3339(text) {
  const match = typeof text === "string" ? SHAPE.exec(text) : null;
  if (!match) return NaN;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [fraction = "", sign, offsetHour = "00", offsetMinute = "00"] = match.slice(7);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (hour > 23 || minute > 59 || second > 59 || Number(offsetHour) > 23 || Number(offsetMinute) > 59) return NaN;
  const offsetMs = (sign === "-" ? -1 : 1) * (Number(offsetHour) * 60 + Number(offsetMinute)) * 60_000;
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offsetMs;
}

/**
 * The instant as the tools write it, in UTC to the millisecond (2026-11-01T00:00:00.000Z); a RangeError for
 * an instant whose UTC year is outside 0000-9999 (its text would not read back).
 */
export function formatUtc(millis) {
  const text = new Date(millis).toISOString(); // a RangeError itself for NaN or beyond ±8.64e15
  if (text.length !== 24) throw new RangeError(`${text} is outside the years 0000-9999`);
  return text;
}
