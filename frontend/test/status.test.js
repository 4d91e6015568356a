import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAge, staleness, ageLabel, DEFAULT_STALE_AFTER_MS } from '../js/status.js';

test('parseAge', () => {
  assert.equal(parseAge('90m'), 90 * 60e3);
  assert.equal(parseAge('90min'), 90 * 60e3);
  assert.equal(parseAge('6h'), 6 * 3600e3);
  assert.equal(parseAge(' 2d '), 2 * 86400e3);
  assert.equal(parseAge('0h'), DEFAULT_STALE_AFTER_MS);
  assert.equal(parseAge('soon'), DEFAULT_STALE_AFTER_MS);
  assert.equal(parseAge(null, 5), 5);
});

test('staleness', () => {
  const now = new Date('2026-10-02T12:00:00Z');
  assert.deepEqual(staleness('2026-10-02T11:00:00Z', now, 6 * 3600e3).stale, false);
  assert.deepEqual(staleness('2026-10-01T12:00:00Z', now, 6 * 3600e3).stale, true);
  assert.equal(staleness('2026-10-02T11:00:00Z', now).ageMs, 3600e3);
  assert.deepEqual(staleness(null, now), { stale: true, ageMs: null, newest: null });
  assert.equal(staleness('garbage', now).stale, true);
  // exactly at the limit is still fresh
  assert.equal(staleness('2026-10-01T12:00:00Z', now, 86400e3).stale, false);
});

test('ageLabel', () => {
  assert.equal(ageLabel(86400e3), '24 hours');
  assert.equal(ageLabel(3600e3), '1 hour');
  assert.equal(ageLabel(90 * 60e3), '90 minutes');
  assert.equal(ageLabel(2 * 86400e3), '2 days');
  assert.equal(ageLabel(0), '');
});
