import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAge, staleness, ageLabel, replicaLag, lagLabel, DEFAULT_STALE_AFTER_MS } from '../js/status.js';

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

test('replicaLag', () => {
  assert.deepEqual(replicaLag(null), { behind: false, lagMs: null });
  assert.deepEqual(replicaLag({ lag_seconds: 0, streaming: true }), { behind: false, lagMs: 0 });
  assert.deepEqual(replicaLag({ lag_seconds: 301, streaming: true }), { behind: true, lagMs: 301000 });
  assert.equal(replicaLag({ lag_seconds: 30, streaming: false }, 10e3).behind, true);
  assert.deepEqual(replicaLag({ lag_seconds: null, streaming: false }), { behind: true, lagMs: null });
  assert.deepEqual(replicaLag({ lag_seconds: null, streaming: true }), { behind: false, lagMs: null });
});

test('lagLabel', () => {
  assert.equal(lagLabel(42000), '42 seconds');
  assert.equal(lagLabel(90 * 60e3), '90 minutes');
  assert.equal(lagLabel(null), 'an unknown time');
});
