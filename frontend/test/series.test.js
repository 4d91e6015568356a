import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  wilson, rateValue, rollingWindow, rollingLeadMs, rollingLabel, rollingRates, rollingMean, trimTimeline,
  timelineIsEmpty, timelineRateSeries, timelineOutcomeSeries, sparklineValues, pointSeries, summarisePoints,
  seriesIsEmpty, summariseJobs, chartWindow, barFactor,
} from '../js/series.js';
import { STATUS_COLORS } from '../js/colors.js';

const close = (a, b, eps = 1e-4) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('wilson interval matches known values', () => {
  const r = wilson(10, 100);
  close(r.value, 0.1);
  close(r.low, 0.0552);
  close(r.high, 0.1744);
  assert.equal(r.n, 100);
  const zero = wilson(0, 20);
  assert.equal(zero.low, 0);
  close(zero.high, 0.1611);
  const all = wilson(5, 5);
  assert.equal(all.high, 1);
  assert.deepEqual(wilson(0, 0), { value: null, low: null, high: null, n: 0 });
  assert.deepEqual(wilson(1, NaN).n, 0);
});

test('rateValue', () => {
  assert.equal(rateValue({ value: 0.2 }), 0.2);
  assert.equal(rateValue(0.3), 0.3);
  assert.equal(rateValue({ value: null }), null);
  assert.equal(rateValue(NaN), null);
  assert.equal(rateValue(undefined), null);
});

test('rolling windows', () => {
  assert.equal(rollingWindow('hour', 7 * 86400e3), 24);
  assert.equal(rollingWindow('min', 86400e3), 60);
  assert.equal(rollingWindow('day', 30 * 86400e3), 1);
  assert.equal(rollingWindow('day', 90 * 86400e3), 7);
  assert.equal(rollingWindow('nope'), 1);
  assert.equal(rollingLeadMs('hour', 24), 23 * 3600e3);
  assert.equal(rollingLeadMs('day', 1), 0);
  assert.equal(rollingLabel('hour', 24), 'over the trailing 24 hours');
  assert.equal(rollingLabel('min', 60), 'over the trailing hour');
  assert.equal(rollingLabel('day', 7), 'over the trailing 7 days');
  assert.equal(rollingLabel('hour', 1), 'per hour');
  assert.equal(rollingLabel('sec', 60), 'over the trailing minute');
  assert.equal(rollingLabel('min', 30), 'over the trailing 30 minutes');
});

test('rollingRates sums a trailing window', () => {
  const rates = rollingRates([1, 0, 1, 0], [0, 1, 1, 0], 2);
  assert.deepEqual(rates.map((r) => r.n), [1, 2, 3, 2]);
  assert.deepEqual(rates.map((r) => r.value), [0, 0.5, 2 / 3, 0.5]);
  assert.deepEqual(rollingRates([0, 0], [0, 0], 3).map((r) => r.value), [null, null]);
  assert.deepEqual(rollingRates([1], [1], 0).map((r) => r.value), [0.5]);
  assert.deepEqual(rollingRates(null, null, 2), []);
});

test('rollingMean is weighted and skips nulls', () => {
  assert.deepEqual(rollingMean([1, null, 3, 5], [1, 1, 1, 0], 2), [1, 1, 3, 3]);
  assert.deepEqual(rollingMean([10, 20], [1, 3], 2), [10, 17.5]);
  assert.deepEqual(rollingMean([null, null], null, 5), [null, null]);
  assert.deepEqual(rollingMean([2, 4, 6]), [2, 4, 6]);
});

const TL = {
  buckets: ['2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', '2026-10-03T00:00:00Z'],
  groups: [
    { key: 'small', passed: [1, 0, 0], failed: [0, 0, 1], empty: [0, 0, 0] },
    { key: 'big', passed: [5, 5, 5], failed: [0, 0, 0], empty: [1, 0, 0] },
    { key: 'bad', passed: [0, 1, 0], failed: [3, 1, 0], empty: [0, 0, 0] },
  ],
};

test('timeline emptiness', () => {
  assert.equal(timelineIsEmpty(TL), false);
  assert.equal(timelineIsEmpty({ buckets: ['x'], groups: [{ key: 'a', passed: [0], failed: [0], empty: [0] }] }), true);
  assert.equal(timelineIsEmpty({}), true);
  assert.equal(timelineIsEmpty(null), true);
});

test('failure-rate series: most failures first, extra groups disabled, gaps as null', () => {
  const series = timelineRateSeries(TL, { visible: 2 });
  assert.deepEqual(series.map((s) => s.key), ['bad', 'small', 'big']);
  assert.deepEqual(series.map((s) => s.disabled), [false, false, true]);
  assert.deepEqual(series[0].values.map((p) => p.y), [1, 0.5, null]);
  assert.equal(series[0].values[0].x, Date.parse('2026-10-01T00:00:00Z'));
  assert.equal(series[0].values[0].rate.n, 3);
  assert.ok(series.every((s) => /^#/.test(s.color)));
  const rolled = timelineRateSeries(TL, { window: 2, from: Date.parse('2026-10-02T00:00:00Z') });
  assert.deepEqual(rolled[0].values.map((p) => p.y), [4 / 5, 1 / 2]);
  assert.equal(rolled[0].values.length, 2);
  assert.deepEqual(timelineRateSeries(null), []);
});

test('outcome series sum all groups', () => {
  const [failed, passed, empty] = timelineOutcomeSeries(TL);
  assert.deepEqual(failed.values.map((p) => p.y), [3, 1, 1]);
  assert.deepEqual(passed.values.map((p) => p.y), [6, 6, 5]);
  assert.deepEqual(empty.values.map((p) => p.y), [1, 0, 0]);
  assert.equal(failed.color, STATUS_COLORS.failed);
});

test('trimTimeline drops the lead-in', () => {
  const t = trimTimeline(TL, Date.parse('2026-10-02T00:00:00Z'));
  assert.equal(t.buckets.length, 2);
  assert.deepEqual(t.groups[2].failed, [1, 0]);
  assert.equal(trimTimeline(TL, Date.parse('2026-09-01T00:00:00Z')), TL);
  assert.equal(trimTimeline(TL, Date.parse('2027-01-01T00:00:00Z')).buckets.length, 0);
  assert.equal(trimTimeline(null, 0), null);
});

test('sparklines merge buckets into segments', () => {
  assert.deepEqual(sparklineValues(TL, 'bad'), [1, 0.5, null]);
  assert.deepEqual(sparklineValues(TL, 'bad', { segments: 1 }), [4 / 5]);
  assert.deepEqual(sparklineValues(TL, 'missing'), [null, null, null]);
  assert.deepEqual(sparklineValues({ buckets: [], groups: [] }, 'x'), []);
  const long = { buckets: new Array(168).fill('2026-10-01T00:00:00Z'), groups: [{ key: 'a', passed: new Array(168).fill(1), failed: new Array(168).fill(1) }] };
  const values = sparklineValues(long, 'a');
  assert.equal(values.length, 28);
  assert.ok(values.every((v) => v === 0.5));
});

const POINTS = [
  { t: '2026-10-01T00:00:00Z', passed: 3, failed: 1, empty: 0, mean_run_time: 100 },
  { t: '2026-10-01T01:00:00Z', passed: 0, failed: 0, empty: 1, mean_run_time: null },
  { t: '2026-10-01T02:00:00Z', passed: 1, failed: 1, empty: 0, mean_run_time: 200 },
];

test('point series for a job or test', () => {
  const s = pointSeries(POINTS);
  assert.deepEqual(s.rate[0].values.map((p) => p.y), [0.25, null, 0.5]);
  assert.deepEqual(s.outcomes.map((x) => x.key), ['Failed', 'Passed', 'No result']);
  assert.deepEqual(s.outcomes[2].values.map((p) => p.y), [0, 1, 0]);
  assert.deepEqual(s.duration[0].values.map((p) => p.y), [100, null, 200]);
  const rolled = pointSeries(POINTS, { window: 3, from: Date.parse('2026-10-01T01:00:00Z') });
  assert.deepEqual(rolled.rate[0].values.map((p) => p.y), [0.25, 2 / 6]);
  assert.deepEqual(rolled.duration[0].values.map((p) => p.y), [100, (400 + 400) / 6]);
  assert.equal(rolled.outcomes[0].values.length, 2);
  assert.equal(pointSeries(POINTS, { skippedKey: 'skipped' }).outcomes[2].key, 'Skipped');
  assert.deepEqual(pointSeries(null).rate[0].values, []);
});

test('summarisePoints', () => {
  const s = summarisePoints(POINTS);
  assert.equal(s.runs, 7);
  assert.equal(s.passed, 4);
  assert.equal(s.failed, 2);
  assert.equal(s.empty, 1);
  close(s.failure_rate.value, 2 / 6);
  assert.equal(s.mean_run_time, (100 * 4 + 200 * 2) / 6);
  const passes = summarisePoints(POINTS, { weight: 'passed', skippedKey: 'skipped', from: Date.parse('2026-10-01T01:00:00Z') });
  assert.equal(passes.runs, 2);
  assert.equal(passes.skipped, 0);
  assert.equal(passes.mean_run_time, 200);
  assert.equal(summarisePoints([]).mean_run_time, null);
  assert.equal(summarisePoints([]).failure_rate.n, 0);
});

test('seriesIsEmpty and summariseJobs', () => {
  assert.equal(seriesIsEmpty([{ values: [{ y: 0 }, { y: null }] }]), true);
  assert.equal(seriesIsEmpty([{ values: [{ y: 0 }, { y: 2 }] }]), false);
  assert.equal(seriesIsEmpty(null), true);
  const sum = summariseJobs([{ runs: 10, passed: 7, failed: 2, empty: 1 }, { runs: 5, passed: 5, failed: 0, empty: 0 }]);
  assert.deepEqual([sum.runs, sum.passed, sum.failed, sum.empty, sum.jobs], [15, 12, 2, 1, 2]);
  close(sum.failure_rate.value, 2 / 14);
  assert.equal(summariseJobs(null).failure_rate.n, 0);
});

test('bars merge buckets into at most 48 bars aligned on midnight', async () => {
  const { barFactor, barLabel, mergeBars } = await import('../js/series.js');
  const DAY = 86400e3;
  assert.equal(barFactor('hour', 2 * DAY), 1);
  assert.equal(barFactor('hour', 7 * DAY), 4);
  assert.equal(barFactor('hour', 14 * DAY), 8);
  assert.equal(barFactor('day', 30 * DAY), 1);
  assert.equal(barFactor('day', 183 * DAY), 7);
  assert.equal(barFactor('min', DAY), 30);
  assert.equal(barFactor('week', DAY), 1);
  assert.equal(barLabel('hour', 1), 'per hour');
  assert.equal(barLabel('hour', 4), 'per 4 hours');
  assert.equal(barLabel('day', 7), 'per week');
  assert.equal(barLabel('day', 14), 'per 2 weeks');
  assert.equal(barLabel('min', 30), 'per 30 minutes');
  const t0 = Date.UTC(2026, 9, 1, 2);
  const series = [{ key: 'Failed', values: [0, 1, 2, 3, 4, 5].map((i) => ({ x: t0 + i * 3600e3, y: i })) }];
  const merged = mergeBars(series, 'hour', 4);
  assert.deepEqual(merged[0].values, [{ x: Date.UTC(2026, 9, 1, 0), y: 0 + 1 }, { x: Date.UTC(2026, 9, 1, 4), y: 2 + 3 + 4 + 5 }]);
  assert.equal(merged[0].key, 'Failed');
  assert.equal(mergeBars(series, 'hour', 1), series);
});

test('chartWindow asks for the rolling lead-in before the period', () => {
  const start = new Date('2026-10-08T00:00:00Z');
  const week = 7 * 86400e3;
  const w = chartWindow('hour', start, week);
  assert.equal(w.span, rollingWindow('hour', week));
  assert.equal(w.bars, barFactor('hour', week));
  assert.equal(w.from, start.getTime());
  assert.equal(w.leadStart.getTime(), start.getTime() - rollingLeadMs('hour', w.span));
  assert.equal(w.leadStart.getTime(), start.getTime() - (w.span - 1) * 3600e3);
});
