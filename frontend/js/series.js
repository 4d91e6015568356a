// Data -> chart series. Pure functions (no DOM, no d3) over the API shapes
// documented in api.js, so node --test covers them.

import { seriesStyles, STATUS_COLORS, VARIANT_CLASSES } from './colors.js';

const Z95 = 1.959963984540054;

/**
 * The failure rate of `failed` out of `n` decided runs with its 95% Wilson
 * score interval, in the API's Rate shape: {value, low, high, n}; value,
 * low and high are null when n = 0.
 */
export function wilson(failed, n, z = Z95) {
  if (!Number.isFinite(n) || n <= 0 || !Number.isFinite(failed)) return { value: null, low: null, high: null, n: 0 };
  const p = Math.min(1, Math.max(0, failed / n));
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), n };
}

/** The value of a Rate, or a plain number, or null. */
export function rateValue(rate) {
  if (typeof rate === 'number') return Number.isFinite(rate) ? rate : null;
  if (rate && typeof rate === 'object' && typeof rate.value === 'number' && Number.isFinite(rate.value)) return rate.value;
  return null;
}

function ms(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

function at(list, i) {
  const v = Array.isArray(list) ? list[i] : 0;
  return Number.isFinite(v) ? v : 0;
}

const BUCKET_SECONDS = { sec: 1, min: 60, hour: 3600, day: 86400 };

/**
 * How many buckets a failure-rate point sums over. An hour of one job holds
 * one run or none, so per-bucket rates jump between 0 and 100%: a point is
 * the rate over a trailing window instead: 24 hours at hourly resolution,
 * 1 hour at per-minute (and 1 minute per-second) resolution, 1 day at daily
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

/** How far before the period the data must start for the first point's window to be full. */
export function rollingLeadMs(resolution, window) {
  return Math.max(0, (window - 1) * (BUCKET_SECONDS[resolution] || 0) * 1000);
}

/**
 * What a time-series page asks the API for and how it draws it: the rolling
 * window (buckets), the bar merge factor, the period start in ms, and the
 * earlier start to request so the rolling rates are complete from `from` on.
 */
export function chartWindow(resolution, start, periodMs) {
  const span = rollingWindow(resolution, periodMs);
  const from = start.getTime();
  return {
    span,
    bars: barFactor(resolution, periodMs),
    from,
    leadStart: new Date(from - rollingLeadMs(resolution, span)),
  };
}

/** 'per hour', 'over the trailing 24 hours', 'over the trailing 7 days' ... for chart subtitles. */
export function rollingLabel(resolution, window) {
  if (window <= 1) return { sec: 'per second', min: 'per minute', hour: 'per hour', day: 'per day' }[resolution] || '';
  const seconds = window * (BUCKET_SECONDS[resolution] || 0);
  if (seconds % 86400 === 0) return seconds === 86400 ? 'over the trailing 24 hours' : `over the trailing ${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? 'over the trailing hour' : `over the trailing ${seconds / 3600} hours`;
  return seconds === 60 ? 'over the trailing minute' : `over the trailing ${seconds / 60} minutes`;
}

/**
 * Trailing-window failure rates: point i is the Wilson rate of
 * sum(failed[i-window+1..i]) out of the decided runs of those buckets.
 */
export function rollingRates(passed, failed, window = 1) {
  const n = Math.max(passed ? passed.length : 0, failed ? failed.length : 0);
  const w = Math.max(1, Math.floor(window) || 1);
  const out = [];
  let sumF = 0;
  let sumP = 0;
  for (let i = 0; i < n; i += 1) {
    sumF += at(failed, i);
    sumP += at(passed, i);
    if (i >= w) {
      sumF -= at(failed, i - w);
      sumP -= at(passed, i - w);
    }
    out.push(wilson(sumF, sumF + sumP));
  }
  return out;
}

/**
 * Trailing-window weighted means: point i is sum(v*w)/sum(w) over the
 * window's buckets whose value is a number and weight > 0 (weights default
 * to 1); null when there is none.
 */
export function rollingMean(values, weights = null, window = 1) {
  const n = values ? values.length : 0;
  const w = Math.max(1, Math.floor(window) || 1);
  const out = [];
  let sum = 0;
  let total = 0;
  const term = (i) => {
    const v = values[i];
    const wt = weights ? at(weights, i) : 1;
    return Number.isFinite(v) && wt > 0 ? [v * wt, wt] : [0, 0];
  };
  for (let i = 0; i < n; i += 1) {
    const [a, b] = term(i);
    sum += a;
    total += b;
    if (i >= w) {
      const [c, d] = term(i - w);
      sum -= c;
      total -= d;
    }
    out.push(total > 1e-9 ? sum / total : null);
  }
  return out;
}

/**
 * Trailing-window mean and spread of individual run times, pooled from each
 * bucket's count, mean and std: over the window's buckets i whose mean is a
 * number and weight n_i > 0 (weights default to 1, as in rollingMean),
 *   M   = sum n_i m_i / sum n_i                      (= rollingMean)
 *   var = sum n_i (s_i^2 + (m_i - M)^2) / sum n_i
 * A bucket whose std is missing (one run: the API's sample std is
 * undefined) adds no spread of its own, only its mean's distance from M.
 * Point i is {mean: M, std: sqrt(var), low: max(0, M - std), high: M + std,
 * n: sum n_i}, or null when the window has no bucket with data.
 */
export function rollingSpread(means, stds = null, weights = null, window = 1) {
  const n = means ? means.length : 0;
  const w = Math.max(1, Math.floor(window) || 1);
  const weight = (j) => (weights ? at(weights, j) : 1);
  const used = (j) => Number.isFinite(means[j]) && weight(j) > 0;
  const spread = (j) => {
    const s = Array.isArray(stds) ? stds[j] : null;
    return Number.isFinite(s) && s > 0 ? s : 0;
  };
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const first = Math.max(0, i - w + 1);
    let total = 0;
    let sum = 0;
    for (let j = first; j <= i; j += 1) {
      if (!used(j)) continue;
      total += weight(j);
      sum += weight(j) * means[j];
    }
    if (!(total > 1e-9)) {
      out.push(null);
      continue;
    }
    const mean = sum / total;
    let squares = 0;
    for (let j = first; j <= i; j += 1) {
      if (!used(j)) continue;
      const d = means[j] - mean;
      squares += weight(j) * (spread(j) ** 2 + d * d);
    }
    const std = Math.sqrt(Math.max(0, squares / total));
    out.push({ mean, std, low: Math.max(0, mean - std), high: mean + std, n: total });
  }
  return out;
}

/** A timeline without the buckets before `fromMs` (the rolling windows' lead-in). */
export function trimTimeline(timeline, fromMs) {
  if (!timeline || !Array.isArray(timeline.buckets) || !Number.isFinite(fromMs)) return timeline;
  const first = timeline.buckets.findIndex((t) => ms(t) >= fromMs);
  const cut = first < 0 ? timeline.buckets.length : first;
  if (cut === 0) return timeline;
  return {
    ...timeline,
    buckets: timeline.buckets.slice(cut),
    groups: (timeline.groups || []).map((g) => ({
      ...g,
      passed: (g.passed || []).slice(cut),
      failed: (g.failed || []).slice(cut),
      empty: (g.empty || []).slice(cut),
    })),
  };
}

/** True when a timeline has no run at all. */
export function timelineIsEmpty(timeline) {
  const groups = timeline && Array.isArray(timeline.groups) ? timeline.groups : [];
  return !groups.some((g) => ['passed', 'failed', 'empty'].some((k) => (g[k] || []).some((v) => v > 0)));
}

/** Total runs of a timeline group. */
export function groupTotal(group) {
  let total = 0;
  for (const k of ['passed', 'failed', 'empty']) for (const v of group[k] || []) total += Number.isFinite(v) ? v : 0;
  return total;
}

/** Failed runs of a timeline group. */
export function groupFailed(group) {
  return (group.failed || []).reduce((acc, v) => acc + (Number.isFinite(v) ? v : 0), 0);
}

/**
 * Failure-rate lines, one per group, the groups with most failed runs first
 * (then the busiest). Groups beyond `visible` start disabled (one click on
 * the legend shows them).
 * Points of buckets without a decided run have y = null (a gap).
 * Each point keeps its Rate as `rate` for the tooltip.
 */
export function timelineRateSeries(timeline, { visible = 8, window = 1, from = null } = {}) {
  const buckets = (timeline && timeline.buckets) || [];
  const groups = [...((timeline && timeline.groups) || [])].sort(
    (a, b) => groupFailed(b) - groupFailed(a) || groupTotal(b) - groupTotal(a) || String(a.key).localeCompare(String(b.key)),
  );
  const styles = seriesStyles(groups.map((g) => g.key));
  return groups.map((group, index) => ({
    key: String(group.key),
    color: styles.get(String(group.key)).color,
    classed: VARIANT_CLASSES[styles.get(String(group.key)).variant],
    disabled: index >= visible,
    values: (() => {
      const rates = rollingRates(group.passed, group.failed, window);
      return buckets.map((t, i) => ({ x: ms(t), y: rates[i] ? rates[i].value : null, rate: rates[i] }))
        .filter((p) => from === null || p.x >= from);
    })(),
  }));
}

/** Stacked run counts (passed, failed, empty) summed over all groups. */
export function timelineOutcomeSeries(timeline) {
  const buckets = (timeline && timeline.buckets) || [];
  const groups = (timeline && timeline.groups) || [];
  const sum = (kind) => buckets.map((t, i) => ({ x: ms(t), y: groups.reduce((acc, g) => acc + at(g[kind], i), 0) }));
  return [
    { key: 'Failed', color: STATUS_COLORS.failed, values: sum('failed') },
    { key: 'Passed', color: STATUS_COLORS.passed, values: sum('passed') },
    { key: 'No result', color: STATUS_COLORS.empty, values: sum('empty') },
  ];
}

/**
 * The failure rate of one timeline group for a sparkline: the buckets are
 * merged into at most `segments` consecutive chunks (a 120 px sparkline
 * cannot show 168 hourly points); null where a chunk has no decided run.
 */
export function sparklineValues(timeline, key, { segments = 28 } = {}) {
  const group = ((timeline && timeline.groups) || []).find((g) => String(g.key) === String(key));
  const count = ((timeline && timeline.buckets) || []).length;
  const chunks = Math.min(count, Math.max(1, segments));
  if (!count) return [];
  if (!group) return new Array(chunks).fill(null);
  const out = [];
  for (let c = 0; c < chunks; c += 1) {
    const from = Math.floor((c * count) / chunks);
    const to = Math.floor(((c + 1) * count) / chunks);
    let failed = 0;
    let n = 0;
    for (let i = from; i < to; i += 1) {
      failed += at(group.failed, i);
      n += at(group.failed, i) + at(group.passed, i);
    }
    out.push(n > 0 ? failed / n : null);
  }
  return out;
}

/**
 * Series from a job's or test's `points` ([{t, passed, failed, empty|skipped,
 * mean_run_time}]): `rate` is the failure-rate line (each point keeps its
 * Rate for the interval band and the tooltip), `outcomes` the stacked
 * counts, `duration` the mean run time; rates and durations over a trailing
 * `window` of buckets, weighted by the bucket's decided runs (`weight`
 * 'decided') or passes ('passed': a test's run time is that of its
 * successful runs). Each duration point keeps `band` {low, high}: mean
 * ± the std of the individual run times over the same window, pooled from
 * the points' `std_run_time` (rollingSpread; null without data), and that
 * `std`. Points before `from` (the lead-in) are dropped after the windows
 * are computed.
 */
export function pointSeries(points, { skippedKey = 'empty', window = 1, from = null, weight = 'decided' } = {}) {
  const list = Array.isArray(points) ? points : [];
  const x = (p) => ms(p.t);
  const passed = list.map((p) => p.passed || 0);
  const failed = list.map((p) => p.failed || 0);
  const rates = rollingRates(passed, failed, window);
  const weights = weight === 'passed' ? passed : passed.map((v, i) => v + failed[i]);
  const number = (v) => (Number.isFinite(v) ? v : null);
  const durations = rollingSpread(list.map((p) => number(p.mean_run_time)), list.map((p) => number(p.std_run_time)), weights, window);
  const keep = (_, i) => from === null || x(list[i]) >= from;
  return {
    rate: [{
      key: 'Failure rate', color: STATUS_COLORS.rate,
      values: list.map((p, i) => ({ x: x(p), y: rates[i].value, rate: rates[i] })).filter(keep),
    }],
    outcomes: [
      { key: 'Failed', color: STATUS_COLORS.failed, values: list.map((p) => ({ x: x(p), y: p.failed || 0 })).filter(keep) },
      { key: 'Passed', color: STATUS_COLORS.passed, values: list.map((p) => ({ x: x(p), y: p.passed || 0 })).filter(keep) },
      {
        key: skippedKey === 'skipped' ? 'Skipped' : 'No result', color: STATUS_COLORS.empty,
        values: list.map((p) => ({ x: x(p), y: p[skippedKey] || 0 })).filter(keep),
      },
    ],
    duration: [{
      key: 'Mean run time', color: STATUS_COLORS.duration,
      values: list.map((p, i) => {
        const d = durations[i];
        return { x: x(p), y: d ? d.mean : null, band: d ? { low: d.low, high: d.high } : null, std: d ? d.std : null };
      }).filter(keep),
    }],
  };
}

/**
 * Totals of the points from `from` on: {runs, passed, failed, skipped|empty,
 * failure_rate, mean_run_time (weighted as in pointSeries)}.
 */
export function summarisePoints(points, { skippedKey = 'empty', from = null, weight = 'decided' } = {}) {
  const out = { runs: 0, passed: 0, failed: 0, [skippedKey]: 0 };
  let sum = 0;
  let total = 0;
  for (const p of Array.isArray(points) ? points : []) {
    if (from !== null && !(ms(p.t) >= from)) continue;
    const pa = p.passed || 0;
    const fa = p.failed || 0;
    const sk = p[skippedKey] || 0;
    out.passed += pa;
    out.failed += fa;
    out[skippedKey] += sk;
    out.runs += pa + fa + sk;
    const w = weight === 'passed' ? pa : pa + fa;
    if (Number.isFinite(p.mean_run_time) && w > 0) {
      sum += p.mean_run_time * w;
      total += w;
    }
  }
  out.failure_rate = wilson(out.failed, out.failed + out.passed);
  out.mean_run_time = total > 0 ? sum / total : null;
  return out;
}

/** True when every series has no non-zero, non-null y. */
export function seriesIsEmpty(series) {
  return !(series || []).some((s) => (s.values || []).some((p) => p.y !== null && p.y !== undefined && p.y !== 0));
}

/** Sum of the jobs list: {runs, passed, failed, empty, failure_rate} for the summary tiles. */
export function summariseJobs(jobs) {
  const total = { runs: 0, passed: 0, failed: 0, empty: 0 };
  for (const job of jobs || []) {
    for (const k of Object.keys(total)) total[k] += Number.isFinite(job[k]) ? job[k] : 0;
  }
  return { ...total, jobs: (jobs || []).length, failure_rate: wilson(total.failed, total.failed + total.passed) };
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
 * Stacked count series with `factor` consecutive buckets merged into one bar
 * (counts summed), bars starting on multiples of factor x bucket size since
 * the epoch; every series keeps the same x values.
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
