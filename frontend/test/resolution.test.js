import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from './rules-fixture.js';
import { chooseResolution, effectiveResolution, bucketCount, timeTicks, fits, alignWindow, MAX_POINTS } from '../js/resolution.js';
import { resolutionNames, maxWindowMs } from '../js/rules.js';

const RESOLUTIONS = resolutionNames();

const DAY = 86400e3;

test('auto picks a readable resolution for every period from 1 day to 6 months', () => {
  assert.equal(chooseResolution(1 * DAY), 'hour');
  assert.equal(chooseResolution(7 * DAY), 'hour');
  assert.equal(chooseResolution(23 * DAY), 'hour');
  assert.equal(chooseResolution(24 * DAY), 'day');
  assert.equal(chooseResolution(30 * DAY), 'day');
  assert.equal(chooseResolution(183 * DAY), 'day');
});

test('auto never exceeds the point cap', () => {
  for (let days = 1; days <= 183; days += 1) {
    const r = chooseResolution(days * DAY);
    assert.ok(bucketCount(days * DAY, r) <= MAX_POINTS, `${days}d -> ${r}`);
  }
  // whatever the caps
  for (const maxPoints of [10, 100, 500]) {
    for (const days of [1, 3, 30, 180]) {
      const r = chooseResolution(days * DAY, { maxPoints });
      assert.ok(RESOLUTIONS.includes(r));
      if (r !== 'day') assert.ok(bucketCount(days * DAY, r) <= maxPoints);
    }
  }
});

test('short periods get finer buckets', () => {
  assert.equal(chooseResolution(3600e3), 'min'); // an hour -> 60 minutes
  assert.equal(chooseResolution(60e3), 'sec');
  assert.equal(chooseResolution(2 * DAY, { minPoints: 1 }), 'day');
});

test('bad periods fall back to day', () => {
  for (const bad of [0, -1, NaN, Infinity, undefined, null, '7d']) assert.equal(chooseResolution(bad), 'day');
  assert.equal(bucketCount(DAY, 'week'), 0);
});

test('an explicit resolution is kept when it fits', () => {
  assert.deepEqual(effectiveResolution('min', DAY), { resolution: 'min', auto: false, coarsened: false, points: 1440 });
  assert.deepEqual(effectiveResolution('day', 7 * DAY), { resolution: 'day', auto: false, coarsened: false, points: 7 });
});

test('an explicit resolution over the cap is coarsened', () => {
  assert.deepEqual(effectiveResolution('sec', DAY), { resolution: 'min', auto: false, coarsened: true, points: 1440, reason: 'points' });
  assert.deepEqual(effectiveResolution('min', 7 * DAY), { resolution: 'hour', auto: false, coarsened: true, points: 168, reason: 'points' });
  assert.deepEqual(effectiveResolution('hour', 183 * DAY), { resolution: 'day', auto: false, coarsened: true, points: 183, reason: 'points' });
});

test("the API's widest window per resolution (from the served rules) is respected", () => {
  assert.deepEqual(RULES.resolutions.map((r) => r.name), ['sec', 'min', 'hour', 'day']);
  assert.deepEqual(RESOLUTIONS.map(maxWindowMs), [3600e3, 2 * DAY, 31 * DAY, 3660 * DAY]);
  // 35 days hourly is 840 points, under the cap, but wider than 31 days: a 400 from the API
  assert.deepEqual(effectiveResolution('hour', 35 * DAY), { resolution: 'day', auto: false, coarsened: true, points: 35, reason: 'window' });
  // the lead-in of the trailing windows is the API's to read: it does not count
  assert.equal(effectiveResolution('hour', 31 * DAY).resolution, 'hour');
  assert.equal(fits(31 * DAY, 'hour'), true);
  assert.equal(fits(31 * DAY + 1, 'hour'), false);
  assert.equal(fits(DAY, 'week'), false);
  for (let days = 1; days <= 183; days += 1) {
    for (const requested of ['auto', ...RESOLUTIONS]) {
      const { resolution } = effectiveResolution(requested, days * DAY);
      assert.ok(days * DAY <= maxWindowMs(resolution), `${days}d ${requested} -> ${resolution}`);
      assert.ok(bucketCount(days * DAY, resolution) <= MAX_POINTS);
    }
  }
});

test('alignWindow widens a window to whole buckets', () => {
  const w = alignWindow(new Date('2026-10-01T10:17:00Z'), new Date('2026-10-08T10:17:00Z'), 'hour');
  assert.equal(w.start.toISOString(), '2026-10-01T10:00:00.000Z');
  assert.equal(w.stop.toISOString(), '2026-10-08T11:00:00.000Z');
  const d = alignWindow(new Date('2026-10-01T10:17:00Z'), new Date('2026-10-08T00:00:00Z'), 'day');
  assert.equal(d.start.toISOString(), '2026-10-01T00:00:00.000Z');
  assert.equal(d.stop.toISOString(), '2026-10-08T00:00:00.000Z');
});

test('auto or unknown -> chooseResolution', () => {
  for (const r of ['auto', 'week', '', undefined]) {
    const eff = effectiveResolution(r, 7 * DAY);
    assert.equal(eff.resolution, 'hour');
    assert.equal(eff.auto, true);
  }
});

test('time ticks: at most count, aligned, never finer than the bucket', () => {
  const d = Date.UTC(2026, 8, 30);
  assert.deepEqual(timeTicks(d, d + 2 * DAY, 'day'), [d, d + DAY, d + 2 * DAY]);
  for (const [days, res] of [[1, 'hour'], [7, 'hour'], [23, 'hour'], [30, 'day'], [183, 'day'], [1, 'min']]) {
    const ticks = timeTicks(d + 3600e3 * 5, d + days * DAY, res, 8);
    assert.ok(ticks.length >= 2 && ticks.length <= 8, `${days}d ${res}: ${ticks.length}`);
    const step = ticks[1] - ticks[0];
    assert.ok(step >= { min: 60e3, hour: 3600e3, day: DAY }[res]);
    assert.ok(ticks.every((t) => t % step === 0));
  }
  assert.deepEqual(timeTicks(d, d, 'day'), [d]);
  assert.deepEqual(timeTicks(NaN, d, 'day'), []);
  assert.deepEqual(timeTicks(d + 1, d + 2, 'day'), [d + 1]);
});
