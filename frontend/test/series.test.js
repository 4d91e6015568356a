import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  wilson, rateValue, rollingWindow, rollingLeadMs, rollingLabel, rollingRates, rollingMean, rollingSpread, trimTimeline,
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

test('rollingSpread pools count, mean and std of the window\'s buckets (hand-computed)', () => {
  // bucket 0: n=1, m=10, s=2; bucket 1: n=3, m=20, s=4
  const [a, b] = rollingSpread([10, 20], [2, 4], [1, 3], 2);
  assert.deepEqual(a, { mean: 10, std: 2, low: 8, high: 12, n: 1 });
  // M = (1*10 + 3*20) / 4 = 17.5
  // var = (1*(2^2 + 7.5^2) + 3*(4^2 + 2.5^2)) / 4 = (60.25 + 66.75) / 4 = 31.75
  assert.equal(b.mean, 17.5);
  assert.equal(b.n, 4);
  close(b.std, Math.sqrt(31.75));
  close(b.std, 5.634714);
  close(b.low, 17.5 - 5.634714);
  close(b.high, 17.5 + 5.634714);
  // window 1: each bucket on its own
  assert.deepEqual(rollingSpread([10, 20], [2, 4], [1, 3], 1).map((p) => p.std), [2, 4]);
});

test('rollingSpread skips buckets without data and counts a missing std as no spread', () => {
  // weights [4, 0, 2]: bucket 1 has no decided run (and no mean); the stds of buckets 0 and 2 are missing
  const out = rollingSpread([100, null, 200], [null, 5, null], [4, 0, 2], 3);
  assert.deepEqual(out[0], { mean: 100, std: 0, low: 100, high: 100, n: 4 });
  assert.deepEqual(out[1], out[0]);
  // M = (4*100 + 2*200) / 6 = 400/3; var = (4*(100/3)^2 + 2*(200/3)^2) / 6 = 120000/54
  close(out[2].mean, 400 / 3);
  close(out[2].std, Math.sqrt(120000 / 54));
  close(out[2].std, 47.140452);
  // a weight of 0 drops the bucket even with a mean; a window of nothing is null
  assert.deepEqual(rollingSpread([5, 50], [1, 1], [1, 0], 2).map((p) => p.mean), [5, 5]);
  assert.deepEqual(rollingSpread([null, null], [null, null], null, 3), [null, null]);
  assert.deepEqual(rollingSpread([3, null], [1, 2], [0, 5], 1), [null, null]);
  // negative or non-finite stds add no spread
  assert.equal(rollingSpread([7], [-1])[0].std, 0);
  assert.equal(rollingSpread([7], [NaN])[0].std, 0);
  assert.deepEqual(rollingSpread(null), []);
});

test('rollingSpread with a window longer than the series, low clipped at 0', () => {
  // unweighted, window 10 > 4 points: cumulative
  const out = rollingSpread([1, 3, null, 5], null, null, 10);
  assert.deepEqual(out.map((p) => p.mean), [1, 2, 2, 3]);
  assert.deepEqual(out.slice(0, 3).map((p) => p.std), [0, 1, 1]); // var = (1^2 + 1^2) / 2
  close(out[3].std, Math.sqrt(8 / 3)); // var = (2^2 + 0 + 2^2) / 3
  assert.deepEqual(out.map((p) => p.n), [1, 2, 2, 3]);
  // the same with window 2: windows {1}, {1, 3}, {3}, {5}
  assert.deepEqual(rollingSpread([1, 3, null, 5], null, null, 2).map((p) => p.mean), [1, 2, 3, 5]);
  assert.deepEqual(rollingSpread([1, 3, null, 5], null, null, 2).map((p) => p.std), [0, 1, 0, 0]);
  // M = 4, var = (9 + 9 + 36) / 3 = 18: low = 4 - 4.2426 < 0 is clipped at 0
  const [, , c] = rollingSpread([1, 1, 10], [0, 0, 0], null, 5);
  assert.equal(c.mean, 4);
  close(c.std, Math.sqrt(18));
  assert.equal(c.low, 0);
  close(c.high, 4 + Math.sqrt(18));
});

test('rollingSpread is the spread of the pooled runs, its mean rollingMean', () => {
  // buckets of individual run times; per-bucket count, mean and (population) std
  const runs = [[10, 12, 14], [], [30], [20, 22], [5, 6, 7, 8], [], [40, 41]];
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs) => Math.sqrt(mean(xs.map((v) => (v - mean(xs)) ** 2)));
  const means = runs.map((r) => (r.length ? mean(r) : null));
  const stds = runs.map((r) => (r.length > 1 ? std(r) : null));
  const counts = runs.map((r) => r.length);
  for (const window of [1, 2, 3, 10]) {
    const out = rollingSpread(means, stds, counts, window);
    const rolled = rollingMean(means, counts, window);
    runs.forEach((_, i) => {
      const pooled = runs.slice(Math.max(0, i - window + 1), i + 1).flat();
      if (!pooled.length) {
        assert.equal(out[i], null);
        return;
      }
      close(out[i].mean, mean(pooled));
      close(out[i].mean, rolled[i]);
      close(out[i].std, std(pooled));
      assert.equal(out[i].n, pooled.length);
    });
  }
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

test('duration points carry the mean ± std band', () => {
  const points = [
    { t: '2026-10-01T00:00:00Z', passed: 3, failed: 1, empty: 0, mean_run_time: 100, std_run_time: 10 },
    { t: '2026-10-01T01:00:00Z', passed: 0, failed: 0, empty: 1, mean_run_time: null, std_run_time: null },
    { t: '2026-10-01T02:00:00Z', passed: 1, failed: 1, empty: 0, mean_run_time: 200, std_run_time: null },
  ];
  const [own] = pointSeries(points).duration;
  assert.deepEqual(own.values.map((p) => p.y), [100, null, 200]);
  assert.deepEqual(own.values.map((p) => p.band), [{ low: 90, high: 110 }, null, { low: 200, high: 200 }]);
  assert.deepEqual(own.values.map((p) => p.std), [10, null, 0]);
  const [rolled] = pointSeries(points, { window: 3, from: Date.parse('2026-10-01T01:00:00Z') }).duration;
  assert.equal(rolled.values.length, 2);
  assert.deepEqual(rolled.values[0], { x: Date.parse('2026-10-01T01:00:00Z'), y: 100, band: { low: 90, high: 110 }, std: 10 });
  // M = (4*100 + 2*200)/6 = 400/3; var = (4*(10^2 + (100/3)^2) + 2*(0 + (200/3)^2)) / 6 = (400 + 120000/9) / 6
  const last = rolled.values[1];
  close(last.y, 400 / 3);
  close(last.std, Math.sqrt((400 + 120000 / 9) / 6));
  close(last.std, 47.842333);
  close(last.band.low, 400 / 3 - last.std);
  close(last.band.high, 400 / 3 + last.std);
  // a test's run time weighs passes only: bucket 0 has 3, bucket 2 has 1
  const [passes] = pointSeries(points, { window: 3, weight: 'passed' }).duration;
  close(passes.values[2].y, (300 + 200) / 4);
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
