// API shapes -> chart series. Pure functions (no DOM, no d3), so node --test
// covers them. They only reshape what the API computed: every rate, interval,
// mean, spread and total comes from the API (health_api/analytics); nothing
// here sums runs or computes a rate.

import { seriesStyles, STATUS_COLORS, VARIANT_CLASSES } from './colors.js';

/** The failure rate of an API object with the RATE fields (failure_rate, n, ci_low, ci_high), or null. */
export function rateValue(obj) {
  if (typeof obj === 'number') return Number.isFinite(obj) ? obj : null;
  const v = obj && typeof obj === 'object' ? obj.failure_rate : null;
  return typeof v === 'number' && Number.isFinite(v) && !(obj.n === 0) ? v : null;
}

/** A point's trailing-window rate (rolling_failure_rate, rolling_n, ...) as RATE fields. */
export function rollingRate(p) {
  return {
    failure_rate: p ? p.rolling_failure_rate ?? null : null,
    n: p ? p.rolling_n ?? 0 : 0,
    ci_low: p ? p.rolling_ci_low ?? null : null,
    ci_high: p ? p.rolling_ci_high ?? null : null,
  };
}

function ms(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const BUCKET_SECONDS = { sec: 1, min: 60, hour: 3600, day: 86400 };

/**
 * The `window` the pages ask the API for: how many buckets a failure-rate
 * point covers. An hour of one job holds one run or none, so per-bucket
 * rates jump between 0 and 100%: 24 hours at hourly resolution, 1 hour at
 * per-minute (and 1 minute per-second) resolution, 1 day at daily
 * resolution, 7 days for daily points over more than 45 days.
 */
export function rollingWindow(resolution, periodMs = 0) {
  switch (resolution) {
    case 'sec': return 60;
    case 'min': return 60;
    case 'hour': return 24;
    case 'day': return periodMs > 45 * 86400e3 ? 7 : 1;
    default: return 1;
  }
}

/** The rolling window (buckets, asked of the API) and the bar merge factor of a chart. */
export function chartWindow(resolution, periodMs) {
  return { span: rollingWindow(resolution, periodMs), bars: barFactor(resolution, periodMs) };
}

/** 'per hour', 'over the trailing 24 hours', 'over the trailing 7 days' ... for chart subtitles. */
export function rollingLabel(resolution, window) {
  if (window <= 1) return { sec: 'per second', min: 'per minute', hour: 'per hour', day: 'per day' }[resolution] || '';
  const seconds = window * (BUCKET_SECONDS[resolution] || 0);
  if (seconds % 86400 === 0) return seconds === 86400 ? 'over the trailing 24 hours' : `over the trailing ${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? 'over the trailing hour' : `over the trailing ${seconds / 3600} hours`;
  return seconds === 60 ? 'over the trailing minute' : `over the trailing ${seconds / 60} minutes`;
}

/** True when a runs/over_time answer has no run at all. */
export function timelineIsEmpty(timeline) {
  return !((timeline && timeline.series) || []).some((s) => s.runs > 0);
}

/**
 * Below this many points with a value a line is drawn with its points
 * marked: a lone point between gaps draws nothing as a line.
 */
export const SPARSE_POINTS = 40;

/** The CSS classes of a line: its dash variant, and `series-sparse` when it has few points. */
function lineClasses(variant, values) {
  const defined = values.filter((p) => p.y !== null && p.y !== undefined).length;
  return [VARIANT_CLASSES[variant], defined < SPARSE_POINTS ? 'series-sparse' : ''].filter(Boolean).join(' ');
}

/**
 * Failure-rate lines of GET /runs/over_time (with `window`), one per value
 * of the key, the values with most failed runs first (then the busiest).
 * Values beyond `visible` start disabled (one click on the legend shows
 * them). y is the API's rolling_failure_rate (null: a gap); each point
 * keeps its trailing-window rate as `rate` for the band and the tooltip.
 */
export function timelineRateSeries(timeline, { visible = 8 } = {}) {
  const list = [...((timeline && timeline.series) || [])].sort(
    (a, b) => (b.failed || 0) - (a.failed || 0) || (b.runs || 0) - (a.runs || 0) || String(a.value).localeCompare(String(b.value)),
  );
  const keys = list.map((s) => groupKey(s.value));
  const styles = seriesStyles(keys);
  return list.map((s, index) => {
    const key = keys[index];
    const values = (s.points || []).map((p) => ({ x: ms(p.bucket), y: num(p.rolling_failure_rate), rate: rollingRate(p) }));
    return {
      key,
      color: styles.get(key).color,
      variant: styles.get(key).variant,
      classed: lineClasses(styles.get(key).variant, values),
      disabled: index >= visible,
      values,
    };
  });
}

/** The label of the runs without a value for the grouping key (the API's null). */
export const NO_VALUE = '(no value)';

/** The legend key of a runs/over_time value. */
export function groupKey(value) {
  return value === null || value === undefined ? NO_VALUE : String(value);
}

/** Stacked run counts (passed, failed, empty) of every run: the API's `totals`. */
export function timelineOutcomeSeries(timeline) {
  const totals = (timeline && timeline.totals) || [];
  const of = (kind) => totals.map((p) => ({ x: ms(p.bucket), y: p[kind] || 0 }));
  return [
    { key: 'Failed', color: STATUS_COLORS.failed, values: of('failed') },
    { key: 'Passed', color: STATUS_COLORS.passed, values: of('passed') },
    { key: 'No result', color: STATUS_COLORS.empty, values: of('empty') },
  ];
}

/**
 * A sparkline of one value of a runs/over_time answer: its served
 * trailing-window failure rate at `segments` evenly spaced buckets (the last
 * one included); null where the window had no decided run.
 */
export function sparklineValues(timeline, key, { segments = 28 } = {}) {
  const series = ((timeline && timeline.series) || []).find((s) => groupKey(s.value) === String(key));
  const count = ((timeline && timeline.buckets) || []).length;
  const chunks = Math.min(count, Math.max(1, segments));
  if (!count) return [];
  if (!series) return new Array(chunks).fill(null);
  const points = series.points || [];
  const out = [];
  for (let c = 1; c <= chunks; c += 1) out.push(num((points[Math.ceil((c * count) / chunks) - 1] || {}).rolling_failure_rate));
  return out;
}

/** The counts of a point: a job's (passed, failed, empty) or a test's (success, failure, skip). */
const KINDS = {
  job: { passed: 'passed', failed: 'failed', other: 'empty', otherLabel: 'No result' },
  test: { passed: 'success', failed: 'failure', other: 'skip', otherLabel: 'Skipped' },
};

/**
 * Chart series from the `points` of GET /jobs/<name> (kind 'job') or
 * /tests/<id> (kind 'test'), as served: `rate` is the rolling failure rate
 * (each point keeps it as `rate` for the interval band and the tooltip),
 * `outcomes` the stacked counts, `duration` the rolling mean run time with
 * its band rolling_mean ± rolling_std (`std` kept for the tooltip).
 */
export function pointSeries(points, { kind = 'job' } = {}) {
  const list = Array.isArray(points) ? points : [];
  const k = KINDS[kind];
  const x = (p) => ms(p.bucket);
  const rate = list.map((p) => ({ x: x(p), y: num(p.rolling_failure_rate), rate: rollingRate(p) }));
  const duration = list.map((p) => {
    const mean = num(p.rolling_mean);
    const std = num(p.rolling_std);
    const band = mean !== null && std !== null ? { low: Math.max(0, mean - std), high: mean + std } : null;
    return { x: x(p), y: mean, band, std };
  });
  return {
    rate: [{ key: 'Failure rate', color: STATUS_COLORS.rate, classed: lineClasses(0, rate), values: rate }],
    outcomes: [
      { key: 'Failed', color: STATUS_COLORS.failed, values: list.map((p) => ({ x: x(p), y: p[k.failed] || 0 })) },
      { key: 'Passed', color: STATUS_COLORS.passed, values: list.map((p) => ({ x: x(p), y: p[k.passed] || 0 })) },
      { key: k.otherLabel, color: STATUS_COLORS.empty, values: list.map((p) => ({ x: x(p), y: p[k.other] || 0 })) },
    ],
    duration: [{ key: 'Mean run time', color: STATUS_COLORS.duration, classed: lineClasses(0, duration), values: duration }],
  };
}

/** True when every series has no non-zero, non-null y. */
export function seriesIsEmpty(series) {
  return !(series || []).some((s) => (s.values || []).some((p) => p.y !== null && p.y !== undefined && p.y !== 0));
}

const BAR_FACTORS = {
  sec: [1, 2, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600],
  min: [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440],
  hour: [1, 2, 3, 4, 6, 8, 12, 24],
  day: [1, 7, 14, 28],
};

/**
 * How many buckets one bar of a stacked count chart merges: a 7-day period
 * at hourly resolution is 168 bars of zero or one run, unreadable; merged by
 * 4 it is 42 bars of a few runs. The factors divide a day (or are weeks), so
 * bars stay aligned on midnight UTC.
 */
export function barFactor(resolution, periodMs, maxBars = 48) {
  const size = (BUCKET_SECONDS[resolution] || 0) * 1000;
  const factors = BAR_FACTORS[resolution];
  if (!size || !factors || !Number.isFinite(periodMs) || periodMs <= 0) return 1;
  const buckets = Math.ceil(periodMs / size);
  return factors.find((f) => Math.ceil(buckets / f) <= maxBars) ?? factors.at(-1);
}

/** 'per hour', 'per 4 hours', 'per week' ... for a bar of `factor` buckets. */
export function barLabel(resolution, factor = 1) {
  const seconds = factor * (BUCKET_SECONDS[resolution] || 0);
  if (!seconds) return '';
  const units = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, unit] of units) {
    if (seconds % size === 0) {
      const n = seconds / size;
      if (unit === 'day' && n % 7 === 0) continue;
      return n === 1 ? `per ${unit}` : `per ${n} ${unit}s`;
    }
  }
  return '';
}

/**
 * Stacked count series with `factor` consecutive buckets drawn as one bar
 * (the served counts of those buckets stacked together), bars starting on
 * multiples of factor x bucket size since the epoch; every series keeps the
 * same x values.
 */
export function mergeBars(series, resolution, factor = 1) {
  const width = factor * (BUCKET_SECONDS[resolution] || 0) * 1000;
  if (factor <= 1 || !width) return series;
  return (series || []).map((s) => {
    const sums = new Map();
    for (const p of s.values || []) {
      if (!Number.isFinite(p.x)) continue;
      const x = Math.floor(p.x / width) * width;
      sums.set(x, (sums.get(x) || 0) + (Number.isFinite(p.y) ? p.y : 0));
    }
    return { ...s, values: [...sums].map(([x, y]) => ({ x, y })) };
  });
}
