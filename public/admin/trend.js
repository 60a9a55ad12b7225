// The trend chart: minutes per period, one line for each of the first buckets (the API's order) and one for
// the rest, in hand-written SVG: a y scale with gridlines and its unit, x ticks dated from the API's own
// period starts (never re-derived with the browser's zone data), and each point's value on hover and from
// the keyboard (the chart is one tab stop; the arrow keys move between periods and lines, and the value is
// written to a live region). Styles come from style.css by class only (the page's CSP: style-src 'self').
// The pure parts (the lines, the scales, the ticks) are exported for the tool tests.
import { hundredths, integer, minutesText, offsetLabel, roundedSum, splitStart, startLabel } from "./format.js";

/** The chart draws this many buckets, and the rest as one line. */
export const TREND_LINES = 5;

const SVG_NS = "http://www.w3.org/2000/svg";
const HEIGHT = 240;
const MARGIN = { top: 24, right: 18, bottom: 44, left: 58 };
/** Room for one x tick's label (a date: 10 characters of 12 px text) and a gap. */
const TICK_ROOM = 92;
const PERIOD_NAMES = { hour: "hours", day: "days", week: "weeks", month: "months" };

/**
 * The lines of a trend: { label, calls, minutes, points: [{ start, calls, minutes }] }, `minutes` as
 * { hundredths, terms } (format.js). A bucket's line is the API's values, as they are (terms 0). The rest's
 * line is exact in calls (whole numbers) and an estimate in minutes, with its bound (format.js, roundedSum):
 * per period the rest's rounded values added up; over the range the tighter of that sum and the API's exact
 * total less the rows drawn (`data.totals`), whichever adds fewer rounded values.
 */
export function trendLines(data, count = TREND_LINES) {
  const rows = data.phone_numbers;
  const shown = rows.slice(0, count);
  const lines = shown.map((row) => ({
    label: row.phone_number,
    calls: row.total_calls,
    minutes: { hundredths: hundredths(row.total_duration_minutes), terms: 0 },
    points: row.series.map((p) => ({ start: p.start, calls: p.total_calls, minutes: { hundredths: hundredths(p.total_duration_minutes), terms: 0 } })),
  }));
  const rest = rows.slice(count);
  if (rest.length) {
    lines.push({
      label: `${rest.length} other${rest.length > 1 ? "s" : ""}`,
      others: true,
      calls: rest.reduce((sum, row) => sum + row.total_calls, 0),
      minutes: othersMinutes(data.totals, shown, rest),
      points: rows[0].series.map((p, i) => ({
        start: p.start,
        calls: rest.reduce((sum, row) => sum + row.series[i].total_calls, 0),
        minutes: roundedSum(rest.map((row) => ({ amount: row.series[i].total_duration_minutes, calls: row.series[i].total_calls }))),
      })),
    });
  }
  return lines;
}

/** The rest's minutes over the range: see trendLines. */
export function othersMinutes(totals, shown, rest) {
  const own = roundedSum(rest.map((row) => ({ amount: row.total_duration_minutes, calls: row.total_calls })));
  if (!totals || typeof totals.total_duration_minutes !== "number") return own;
  const drawn = roundedSum(shown.map((row) => ({ amount: row.total_duration_minutes, calls: row.total_calls })));
  // The exact total is rounded once (one term), each row drawn once more; the rest's exact sum is >= 0.
  const fromTotal = { hundredths: Math.max(0, hundredths(totals.total_duration_minutes) - drawn.hundredths), terms: 1 + drawn.terms };
  return fromTotal.terms < own.terms ? fromTotal : own;
}

/**
 * A y scale from 0 to at least `max`: the smallest step of 1, 2, 2.5 or 5 times a power of ten that reaches
 * `max` in at most `ticks` steps.
 */
export function yScale(max, ticks = 5) {
  if (!(max > 0)) return { top: 1, step: 0.5 };
  const magnitude = 10 ** Math.floor(Math.log10(max / ticks));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    const step = Number((factor * magnitude).toPrecision(12));
    const count = Math.ceil(max / step - 1e-9);
    if (count <= ticks) return { top: Number((count * step).toPrecision(12)), step };
  }
  return { top: max, step: max }; // not reached: 10 x magnitude always fits
}

/** The values of a y scale's ticks, 0 to top. */
export function yTicks({ top, step }) {
  const values = [];
  for (let k = 0; k * step <= top * (1 + 1e-9); k++) values.push(Number((k * step).toPrecision(12)));
  return values;
}

/** Steps between x ticks, in periods, that read as round numbers for each interval. */
const STEPS = { hour: [1, 2, 3, 6, 12, 24, 48, 72, 168], day: [1, 2, 7, 14, 28], week: [1, 2, 4, 13, 26, 52], month: [1, 2, 3, 6, 12] };

/**
 * Which periods get an x tick, at most about `room` of them: every `step` periods, starting at the first that
 * reads round for that step (a midnight for a step of a day or more of hours, January for a year of months).
 */
export function xTicks(starts, interval, room) {
  const n = starts.length;
  if (!n) return [];
  const steps = STEPS[interval] ?? [1];
  const need = n / Math.max(1, room);
  const step = steps.find((s) => s >= need) ?? steps.at(-1) * Math.ceil(need / steps.at(-1));
  const parts = starts.map(splitStart);
  const round = (i) => {
    const part = parts[i];
    if (!part || step === 1) return true;
    if (interval === "hour") return step < 24 ? Number(part.time.slice(0, 2)) % step === 0 : part.time.startsWith("00:00");
    if (interval === "month") return (Number(part.month.slice(-2)) - 1) % step === 0;
    return true;
  };
  let first = 0;
  while (first < Math.min(step, n) - 1 && !round(first)) first += 1;
  if (!round(first)) first = 0;
  const ticks = [];
  for (let i = first; i < n; i += step) ticks.push(i);
  return ticks;
}

/**
 * The lines of each x tick's label, from the start strings alone: the date (the month for monthly), its time
 * when it is not midnight; hourly, the time and, when it changed since the previous tick, the date.
 */
export function tickLabels(starts, ticks, interval) {
  let previousDate = null;
  return ticks.map((i) => {
    const part = splitStart(starts[i]);
    if (!part) return [String(starts[i])];
    if (interval === "month" && part.date.endsWith("-01") && part.time === "00:00") return [part.month];
    if (interval !== "hour") return part.time === "00:00" ? [part.date] : [part.date, part.time];
    const lines = part.date !== previousDate ? [part.time, part.date] : [part.time];
    previousDate = part.date;
    return lines;
  });
}

/** The distinct offsets of the starts, in order: `UTC+13:45 / UTC+12:45` across a change of offset. */
export function offsetsOf(starts) {
  const offsets = [...new Set(starts.map((s) => splitStart(s)?.offset).filter(Boolean))];
  return offsets.map(offsetLabel).join(" / ");
}

const scaleLabel = (v) => v.toLocaleString("en", { maximumFractionDigits: 3 });

function node(name, attributes = {}, text) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function html(tag, text, className) {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** What the reader is told about one point. */
export function pointText(line, point) {
  return `${line.label}, ${startLabel(point.start)}: ${integer(point.calls)} call${point.calls === 1 ? "" : "s"}, ${minutesText(point.minutes)}`;
}

let state = null; // the chart shown: { figure, readout, data, lines, starts, line, period, width }
let observer = null;

/** Shows `data`'s trend in `figure` (an element of the page), its points' values in `readout` (a live region). */
export function showTrend(figure, readout, data) {
  state = { figure, readout, data, lines: trendLines(data), starts: data.phone_numbers[0].series.map((p) => p.start), line: 0, period: 0, width: 0 };
  readout.textContent = "";
  draw();
  if (!observer && typeof ResizeObserver === "function") {
    // Drawn at the figure's width, so text keeps its size: drawn again when that changes.
    observer = new ResizeObserver(() => {
      if (state && state.figure.isConnected && Math.round(state.figure.clientWidth) !== state.width) draw();
    });
    observer.observe(figure);
  }
}

export function clearTrend(figure, readout) {
  state = null;
  readout.textContent = "";
  figure.replaceChildren(readout);
}

function draw() {
  const { figure, data, lines, starts } = state;
  const hadFocus = figure.contains(document.activeElement);
  state.width = Math.round(figure.clientWidth);
  const width = Math.max(280, state.width || 640);
  const plot = { left: MARGIN.left, right: width - MARGIN.right, top: MARGIN.top, bottom: HEIGHT - MARGIN.bottom };
  const n = starts.length;
  const max = Math.max(0, ...lines.flatMap((line) => line.points.map((p) => p.minutes.hundredths / 100)));
  const scale = yScale(max);
  const x = (i) => plot.left + (n > 1 ? (i * (plot.right - plot.left)) / (n - 1) : (plot.right - plot.left) / 2);
  const y = (v) => plot.bottom - (v / scale.top) * (plot.bottom - plot.top);
  const zone = data.timezone;
  const offsets = offsetsOf(starts);
  const periods = `${n} ${n === 1 ? data.interval : PERIOD_NAMES[data.interval] ?? "periods"}`;

  const svg = node("svg", {
    viewBox: `0 0 ${width} ${HEIGHT}`,
    width,
    height: HEIGHT,
    class: "chart idle",
    tabindex: 0,
    role: "application",
    "aria-roledescription": "line chart",
    "aria-describedby": "trend-keys",
    "aria-label":
      `Minutes per ${data.interval} from ${startLabel(starts[0])} to ${startLabel(starts.at(-1))} in ${zone}, ${periods}; ` +
      `${lines.length} line${lines.length === 1 ? "" : "s"}: ${lines.map((l) => l.label).join(", ")}; the scale goes from 0 to ${scaleLabel(scale.top)} minutes.`,
  });

  const yAxis = node("g", { class: "y-axis" });
  for (const value of yTicks(scale)) {
    const tick = node("g", { class: "y-tick" });
    tick.append(
      node("line", { class: "grid", x1: plot.left, x2: plot.right, y1: y(value), y2: y(value) }),
      node("text", { x: plot.left - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "middle" }, scaleLabel(value)),
    );
    yAxis.append(tick);
  }
  yAxis.append(node("text", { class: "unit", x: plot.left - 6, y: plot.top - 12, "text-anchor": "end" }, "min"));

  const xAxis = node("g", { class: "x-axis" });
  xAxis.append(node("line", { class: "axis", x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }));
  const ticks = xTicks(starts, data.interval, Math.max(2, Math.floor((plot.right - plot.left) / TICK_ROOM) + 1));
  const labels = tickLabels(starts, ticks, data.interval);
  ticks.forEach((i, k) => {
    const tick = node("g", { class: "x-tick" });
    // A label at the chart's edge is anchored to its side, so it stays inside the chart.
    const anchor = x(i) - TICK_ROOM / 2 < 0 ? "start" : x(i) + TICK_ROOM / 2 > width ? "end" : "middle";
    const text = node("text", { x: x(i), y: plot.bottom + 18, "text-anchor": anchor });
    labels[k].forEach((line, j) => text.append(node("tspan", { x: x(i), dy: j ? "1.25em" : 0 }, line)));
    tick.append(node("line", { class: "tick", x1: x(i), x2: x(i), y1: plot.bottom, y2: plot.bottom + 5 }), text);
    xAxis.append(tick);
  });
  svg.append(yAxis, xAxis);

  lines.forEach((line, k) => {
    const points = line.points.map((p, i) => `${x(i).toFixed(1)},${y(p.minutes.hundredths / 100).toFixed(1)}`).join(" ");
    svg.append(node("polyline", { class: `line s${k}`, points, "data-label": line.label }));
  });
  const cursor = node("line", { class: "cursor", y1: plot.top, y2: plot.bottom });
  const marker = node("circle", { class: "marker", r: 4.5 });
  svg.append(cursor, marker);

  const show = () => {
    const line = lines[state.line];
    const point = line.points[state.period];
    const [px, py] = [x(state.period), y(point.minutes.hundredths / 100)];
    cursor.setAttribute("x1", px);
    cursor.setAttribute("x2", px);
    marker.setAttribute("cx", px);
    marker.setAttribute("cy", py);
    marker.setAttribute("class", `marker s${state.line}`);
    svg.classList.remove("idle");
    state.readout.textContent = pointText(line, point);
  };
  const idle = () => {
    if (document.activeElement !== svg) svg.classList.add("idle");
  };
  svg.addEventListener("focus", show);
  svg.addEventListener("blur", idle);
  svg.addEventListener("keydown", (event) => {
    const page = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
    const moves = {
      ArrowRight: [0, 1],
      ArrowLeft: [0, -1],
      ArrowDown: [1, 0],
      ArrowUp: [-1, 0],
      PageDown: [0, page],
      PageUp: [0, -page],
      Home: [0, -n],
      End: [0, n],
    };
    const move = moves[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    state.line = Math.min(lines.length - 1, Math.max(0, state.line + move[0]));
    state.period = Math.min(n - 1, Math.max(0, state.period + move[1]));
    show();
  });
  const pick = (event) => {
    // The nearest period to the pointer, then the line nearest to it there.
    const matrix = svg.getScreenCTM();
    if (!matrix) return;
    const px = (event.clientX - matrix.e) / matrix.a;
    const py = (event.clientY - matrix.f) / matrix.d;
    const span = plot.right - plot.left;
    state.period = n > 1 ? Math.min(n - 1, Math.max(0, Math.round(((px - plot.left) * (n - 1)) / span))) : 0;
    const distance = (k) => Math.abs(y(lines[k].points[state.period].minutes.hundredths / 100) - py);
    state.line = lines.reduce((best, _, k) => (distance(k) < distance(best) ? k : best), 0);
    show();
  };
  svg.addEventListener("pointermove", pick);
  svg.addEventListener("pointerdown", pick); // a tap, on a phone
  svg.addEventListener("pointerleave", idle);

  const legend = html("ul", undefined, "legend");
  lines.forEach((line, k) => {
    const item = html("li");
    item.append(html("span", "", `swatch s${k}`), html("span", line.label), html("span", `${integer(line.calls)} call${line.calls === 1 ? "" : "s"}, ${minutesText(line.minutes)}`, "value"));
    legend.append(item);
  });
  const where = offsets && offsets !== "UTC" ? `${zone} (${offsets})` : zone;
  const notes = [`Period starts in ${where}, as the API sent them; ${periods}; the scale goes to ${scaleLabel(scale.top)} minutes.`];
  if (lines.some((line) => line.others && (line.minutes.terms > 1 || line.points.some((p) => p.minutes.terms > 1)))) {
    notes.push("≈: the others' minutes add up values rounded to 2 decimals, so they are within ± that much of the exact sum; their calls are exact.");
  }
  // The readout (a live region) is the page's own element, kept across drawings, right under the chart.
  figure.replaceChildren(svg, state.readout, legend, html("p", notes.join(" "), "hint"));
  if (hadFocus) svg.focus();
}

