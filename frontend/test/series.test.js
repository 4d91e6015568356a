import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  rateValue, rollingRate, rollingWindow, rollingLabel, timelineIsEmpty, timelineRateSeries, timelineOutcomeSeries,
  sparklineValues, pointSeries, seriesIsEmpty, chartWindow, barFactor, barLabel, mergeBars, NO_VALUE, SPARSE_POINTS,
} from '../js/series.js';
import { STATUS_COLORS } from '../js/colors.js';

// series.js only reshapes what the API served: these answers are in the API's shapes
// (health_api/api/runs.py, jobs.py, tests.py), with figures that no code here computes.

test('rateValue reads the served failure_rate', () => {
  assert.equal(rateValue({ failure_rate: 0.2, n: 5 }), 0.2);
  assert.equal(rateValue({ failure_rate: 0.2, n: 0 }), null);
  assert.equal(rateValue(0.3), 0.3);
  assert.equal(rateValue({ failure_rate: null, n: 0 }), null);
  assert.equal(rateValue(NaN), null);
  assert.equal(rateValue(undefined), null);
  assert.deepEqual(rollingRate({ rolling_failure_rate: 0.5, rolling_n: 4, rolling_ci_low: 0.1, rolling_ci_high: 0.9 }),
    { failure_rate: 0.5, n: 4, ci_low: 0.1, ci_high: 0.9 });
});

test('rolling windows asked of the API', () => {
  assert.equal(rollingWindow('hour', 7 * 86400e3), 24);
  assert.equal(rollingWindow('min', 86400e3), 60);
  assert.equal(rollingWindow('day', 30 * 86400e3), 1);
  assert.equal(rollingWindow('day', 90 * 86400e3), 7);
  assert.equal(rollingWindow('nope'), 1);
  assert.equal(rollingLabel('hour', 24), 'over the trailing 24 hours');
  assert.equal(rollingLabel('min', 60), 'over the trailing hour');
  assert.equal(rollingLabel('day', 7), 'over the trailing 7 days');
  assert.equal(rollingLabel('hour', 1), 'per hour');
  assert.equal(rollingLabel('sec', 60), 'over the trailing minute');
  assert.equal(rollingLabel('min', 30), 'over the trailing 30 minutes');
  const week = 7 * 86400e3;
  assert.deepEqual(chartWindow('hour', week), { span: rollingWindow('hour', week), bars: barFactor('hour', week) });
});

const B = ['2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', '2026-10-03T00:00:00Z'];
const pt = (bucket, passed, failed, rolling) => ({
  bucket, passed, failed, empty: 0, rolling_failure_rate: rolling, rolling_n: rolling === null ? 0 : 2,
  rolling_ci_low: rolling === null ? null : 0.01, rolling_ci_high: rolling === null ? null : 0.99,
});
const TL = {
  buckets: B,
  series: [
    { value: 'big', runs: 16, passed: 15, failed: 0, points: B.map((b) => pt(b, 5, 0, 0)) },
    { value: 'bad', runs: 5, passed: 1, failed: 4, points: [pt(B[0], 0, 3, 1), pt(B[1], 1, 1, 0.8), pt(B[2], 0, 0, null)] },
    { value: null, runs: 2, passed: 1, failed: 1, points: B.map((b) => pt(b, 0, 0, 0.5)) },
  ],
  totals: [{ bucket: B[0], passed: 5, failed: 3, empty: 1 }, { bucket: B[1], passed: 6, failed: 1, empty: 0 }, { bucket: B[2], passed: 5, failed: 0, empty: 0 }],
};

test('timeline emptiness from the served run counts', () => {
  assert.equal(timelineIsEmpty(TL), false);
  assert.equal(timelineIsEmpty({ buckets: B, series: [{ value: 'a', runs: 0, points: [] }] }), true);
  assert.equal(timelineIsEmpty({}), true);
  assert.equal(timelineIsEmpty(null), true);
});

test('failure-rate lines: the served rolling rate, most failures first, extra groups disabled', () => {
  const series = timelineRateSeries(TL, { visible: 2 });
  assert.deepEqual(series.map((s) => s.key), ['bad', NO_VALUE, 'big']);
  assert.deepEqual(series.map((s) => s.disabled), [false, false, true]);
  assert.deepEqual(series[0].values.map((p) => p.y), [1, 0.8, null]);
  assert.equal(series[0].values[0].x, Date.parse(B[0]));
  assert.deepEqual(series[0].values[0].rate, { failure_rate: 1, n: 2, ci_low: 0.01, ci_high: 0.99 });
  // distinct colours, and a dash variant each
  assert.equal(new Set(series.map((s) => s.color)).size, 3);
  assert.deepEqual(series.map((s) => s.variant), [0, 1, 2]);
  // few points: marked
  assert.ok(series.every((s) => s.classed.includes('series-sparse')));
  assert.deepEqual(timelineRateSeries(null), []);
});

test('outcome bars are the served totals (every value, not only those shown)', () => {
  const [failed, passed, empty] = timelineOutcomeSeries(TL);
  assert.deepEqual(failed.values.map((p) => p.y), [3, 1, 0]);
  assert.deepEqual(passed.values.map((p) => p.y), [5, 6, 5]);
  assert.deepEqual(empty.values.map((p) => p.y), [1, 0, 0]);
  assert.equal(failed.color, STATUS_COLORS.failed);
});

test('sparklines sample the served rolling rate', () => {
  assert.deepEqual(sparklineValues(TL, 'bad'), [1, 0.8, null]);
  assert.deepEqual(sparklineValues(TL, 'bad', { segments: 1 }), [null]);
  assert.deepEqual(sparklineValues(TL, 'missing'), [null, null, null]);
  assert.deepEqual(sparklineValues({ buckets: [], series: [] }, 'x'), []);
  const long = { buckets: new Array(168).fill(B[0]), series: [{ value: 'a', points: new Array(168).fill(0).map((_, i) => ({ rolling_failure_rate: i })) }] };
  const values = sparklineValues(long, 'a');
  assert.equal(values.length, 28);
  assert.equal(values[0], 5);
  assert.equal(values[27], 167);
});

const POINTS = [
  { bucket: '2026-10-01T00:00:00Z', passed: 3, failed: 1, empty: 0, rolling_failure_rate: 0.25, rolling_n: 4, rolling_ci_low: 0.05, rolling_ci_high: 0.7, rolling_mean: 100, rolling_std: null },
  { bucket: '2026-10-01T01:00:00Z', passed: 0, failed: 0, empty: 1, rolling_failure_rate: 0.25, rolling_n: 4, rolling_ci_low: 0.05, rolling_ci_high: 0.7, rolling_mean: 100, rolling_std: null },
  { bucket: '2026-10-01T02:00:00Z', passed: 1, failed: 1, empty: 0, rolling_failure_rate: 1 / 3, rolling_n: 6, rolling_ci_low: 0.1, rolling_ci_high: 0.7, rolling_mean: 150, rolling_std: 70.7 },
];

test('point series draw the served figures of a job', () => {
  const s = pointSeries(POINTS);
  assert.deepEqual(s.rate[0].values.map((p) => p.y), [0.25, 0.25, 1 / 3]);
  assert.deepEqual(s.rate[0].values[2].rate, { failure_rate: 1 / 3, n: 6, ci_low: 0.1, ci_high: 0.7 });
  assert.deepEqual(s.outcomes.map((o) => o.values.map((p) => p.y)), [[1, 0, 1], [3, 0, 1], [0, 1, 0]]);
  assert.deepEqual(s.duration[0].values.map((p) => p.y), [100, 100, 150]);
  assert.equal(s.duration[0].values[0].band, null);
  assert.deepEqual(s.duration[0].values[2].band, { low: 150 - 70.7, high: 150 + 70.7 });
  assert.equal(s.duration[0].values[2].std, 70.7);
  assert.ok(s.rate[0].classed.includes('series-sparse'));
  assert.ok(3 < SPARSE_POINTS);
});

test('point series of a test read success / failure / skip', () => {
  const s = pointSeries([{ bucket: POINTS[0].bucket, success: 2, failure: 1, skip: 4, rolling_failure_rate: 1 / 3 }], { kind: 'test' });
  assert.deepEqual(s.outcomes.map((o) => [o.key, o.values[0].y]), [['Failed', 1], ['Passed', 2], ['Skipped', 4]]);
  assert.equal(s.rate[0].values[0].y, 1 / 3);
});

test('seriesIsEmpty', () => {
  assert.equal(seriesIsEmpty([{ values: [{ y: 0 }, { y: null }] }]), true);
  assert.equal(seriesIsEmpty([{ values: [{ y: 0.1 }] }]), false);
  assert.equal(seriesIsEmpty(null), true);
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

test('bar labels', () => {
  assert.equal(barLabel('hour', 4), 'per 4 hours');
  assert.equal(barLabel('day', 7), 'per week');
});
