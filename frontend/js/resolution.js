// Chart resolution: which bucket size the API aggregates to.
//
// Pure functions over the rules the API serves (rules.js: the resolutions,
// their bucket sizes and widest windows), no DOM, so node --test covers them.
// A chart never asks for more than MAX_POINTS buckets: when the user has not
// chosen a resolution we pick one from the period, and when the user's choice
// would exceed the cap we coarsen it.

import { resolutionNames, bucketMs, maxWindowMs } from './rules.js';

/** Upper bound on points per chart series. */
export const MAX_POINTS = 2000;

/**
 * True when a period can be drawn at a resolution: at most `maxPoints`
 * buckets, and within the widest window the API serves at it (rules.js
 * maxWindowMs; a wider one is a 400). The lead-in of the trailing windows
 * is the API's to read: it does not count.
 */
export function fits(periodMs, resolution, { maxPoints = MAX_POINTS } = {}) {
  if (!resolutionNames().includes(resolution)) return false;
  return bucketCount(periodMs, resolution) <= maxPoints && periodMs <= maxWindowMs(resolution);
}

/** Below this many buckets a trend is hard to read, so auto picks finer. */
export const MIN_POINTS = 24;

/** Number of buckets a period splits into at a resolution. */
export function bucketCount(periodMs, resolution) {
  const size = bucketMs(resolution);
  if (!size || !Number.isFinite(periodMs) || periodMs <= 0) return 0;
  return Math.ceil(periodMs / size);
}

/**
 * The resolution to use when the user has not chosen one.
 *
 * The coarsest resolution that still gives at least `minPoints` buckets
 * (a readable trend without noise), never more than `maxPoints`. When even
 * the finest resolution gives fewer than `minPoints`, the finest one that
 * fits is used. Examples with the defaults: 1 day -> hour (24), 7 days ->
 * hour (168), 30 days -> day (30), 6 months -> day (183).
 */
export function chooseResolution(periodMs, { maxPoints = MAX_POINTS, minPoints = MIN_POINTS } = {}) {
  const names = resolutionNames();
  const coarsest = names.at(-1);
  if (!Number.isFinite(periodMs) || periodMs <= 0) return coarsest;
  const fitting = names.filter((r) => fits(periodMs, r, { maxPoints }));
  if (fitting.length === 0) return coarsest;
  // coarsest first
  for (const r of [...fitting].reverse()) {
    if (bucketCount(periodMs, r) >= minPoints) return r;
  }
  return fitting[0];
}

/**
 * The resolution a chart really uses.
 *
 * `requested` is the URL's value: 'auto' (or anything unknown) means
 * chooseResolution(); an explicit resolution is kept unless it would exceed
 * `maxPoints` or the API's widest window for it (rules.js maxWindowMs),
 * in which case the next coarser one that
 * fits is used, `coarsened` is true so the page can say so, and `reason` is
 * 'points' or 'window'.
 */
export function effectiveResolution(requested, periodMs, { maxPoints = MAX_POINTS, minPoints = MIN_POINTS } = {}) {
  const names = resolutionNames();
  if (!names.includes(requested)) {
    const resolution = chooseResolution(periodMs, { maxPoints, minPoints });
    return { resolution, auto: true, coarsened: false, points: bucketCount(periodMs, resolution) };
  }
  let index = names.indexOf(requested);
  let reason = null;
  while (index < names.length - 1 && !fits(periodMs, names[index], { maxPoints })) {
    reason = reason || (bucketCount(periodMs, names[index]) > maxPoints ? 'points' : 'window');
    index += 1;
  }
  const resolution = names[index];
  const out = {
    resolution,
    auto: false,
    coarsened: resolution !== requested,
    points: bucketCount(periodMs, resolution),
  };
  if (out.coarsened) out.reason = reason;
  return out;
}

/** [start, stop] widened to whole buckets of the resolution (as the API snaps them). */
export function alignWindow(start, stop, resolution) {
  const size = bucketMs(resolution);
  if (!size) return { start, stop };
  // buckets are whole multiples of their size since the epoch (UTC midnight for days)
  return {
    start: new Date(Math.floor(start.getTime() / size) * size),
    stop: new Date(Math.ceil(stop.getTime() / size) * size),
  };
}

const TICK_STEPS = {
  sec: [1, 5, 10, 15, 30, 60, 300, 900, 1800, 3600].map((s) => s * 1000),
  min: [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60000),
  hour: [1, 2, 3, 6, 12, 24, 48, 72, 168, 336].map((h) => h * 3600000),
  day: [1, 2, 3, 7, 14, 28, 56, 91, 182].map((d) => d * 86400000),
};

/**
 * Tick positions (epoch ms, UTC) for a time axis: at most `count`, on whole
 * multiples of a step no finer than the bucket, so a daily chart never gets
 * two ticks labelled with the same day.
 */
export function timeTicks(minMs, maxMs, resolution, count = 8) {
  if (!Number.isFinite(minMs) || !Number.isFinite(maxMs) || maxMs < minMs) return [];
  const steps = TICK_STEPS[resolution] || TICK_STEPS.day;
  const span = maxMs - minMs;
  const step = steps.find((s) => span / s <= Math.max(1, count - 1)) ?? Math.ceil(span / Math.max(1, count - 1) / steps.at(-1)) * steps.at(-1);
  const out = [];
  for (let t = Math.ceil(minMs / step) * step; t <= maxMs && out.length < count * 2; t += step) out.push(t);
  return out.length ? out : [minMs];
}
