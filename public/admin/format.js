// How the admin page writes numbers and period starts. Pure functions (no DOM, no zone data), imported by the
// page (app.js, trend.js) and by the tool tests (tests/tools/admin-page.test.mjs).

export const integer = (n) => n.toLocaleString("en");
export const decimal = (n) => n.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * A period start as the API sent it (RFC 3339 local time with the zone's offset there,
 * `2026-11-01T00:00:00+05:30`), split as written: { date: "2026-11-01", month: "2026-11", time: "00:00",
 * offset: "+05:30" } (time with seconds, and their fraction, only when it has them). Null for another form.
 * No Intl and no Date: the zone's rules are the API's, never re-derived from the browser's data.
 */
export function splitStart(text) {
  const match = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(String(text));
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const seconds = second !== "00" || fraction ? `:${second}${fraction ?? ""}` : "";
  return { date: `${year}-${month}-${day}`, month: `${year}-${month}`, time: `${hour}:${minute}${seconds}`, offset: offset === "Z" ? "+00:00" : offset };
}

/** An RFC 3339 offset as the page writes it elsewhere: `UTC+05:30`, and `UTC` for +00:00. */
export const offsetLabel = (offset) => (offset === "+00:00" || offset === "-00:00" ? "UTC" : `UTC${offset}`);

/** A period start for people: `2026-11-01 00:00 (UTC+05:30)`; the text itself when it is not RFC 3339. */
export function startLabel(text) {
  const start = splitStart(text);
  return start ? `${start.date} ${start.time} (${offsetLabel(start.offset)})` : String(text);
}

/** An amount with 2 decimals (as the API rounds it) in whole hundredths, so that sums of them are exact. */
export const hundredths = (amount) => Math.round(amount * 100);

/**
 * A sum of amounts of which only the API's roundings (2 decimals, half away from zero) are known:
 * { hundredths, terms }, where `terms` counts the rounded values in it that may differ from their exact
 * amount, each by at most half a hundredth. A value whose period had no call is exactly 0 and no term.
 */
export function roundedSum(values) {
  let sum = 0;
  let terms = 0;
  for (const { amount, calls } of values) {
    sum += hundredths(amount);
    if (calls > 0) terms += 1;
  }
  return { hundredths: sum, terms };
}

/**
 * How far a sum of `terms` values, each rounded to 2 decimals, can be from the exact sum: 0.005 each, as
 * text (`0.015`). With one term or none the value is the API's own rounding, shown as it is.
 */
export const roundingBound = (terms) => (terms * 5) / 1000;

/** `≈1.02 min (±0.015)` for an estimate, `1.02 min` for a value as the API rounded it. */
export function minutesText({ hundredths: value, terms }) {
  const text = `${decimal(value / 100)} min`;
  return terms > 1 ? `≈${text} (±${roundingBound(terms).toLocaleString("en", { maximumFractionDigits: 3 })})` : text;
}
