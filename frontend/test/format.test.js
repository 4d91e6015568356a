import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatPercent, formatRate, formatInterval, formatCount, formatDuration, formatDurationTick, formatRelative,
  formatIsoDate, formatDay, formatDateTime, formatTick, safeHref, splitTestId, toDate, DASH,
} from '../js/format.js';

test('percentages', () => {
  assert.equal(formatPercent(0.1234), '12.3%');
  assert.equal(formatPercent(0), '0.0%');
  assert.equal(formatPercent(1), '100.0%');
  assert.equal(formatPercent(0.5, 0), '50%');
  assert.equal(formatPercent(0.00001), '<0.1%');
  assert.equal(formatPercent(0.99999), '>99.9%');
  for (const bad of [null, undefined, NaN, Infinity, '0.5']) assert.equal(formatPercent(bad), DASH);
});

test('rates with their interval', () => {
  // the API's rate fields, as served
  assert.equal(formatRate({ failure_rate: 0.1234, ci_low: 0.081, ci_high: 0.179, n: 1200 }), '12.3% (8.1\u201317.9%, n=1,200)');
  assert.equal(formatRate({ failure_rate: 0.5, n: 2 }), '50.0% (n=2)');
  assert.equal(formatRate({ failure_rate: null, ci_low: null, ci_high: null, n: 0 }), 'no runs');
  assert.equal(formatRate(null), DASH);
  assert.equal(formatRate({ failure_rate: NaN, n: 3 }), DASH);
  assert.equal(formatInterval(0.05, 0.25), '5.0\u201325.0%');
  assert.equal(formatInterval(null, 0.2), DASH);
});

test('counts', () => {
  assert.equal(formatCount(14000), '14,000');
  assert.equal(formatCount(1234567.5), '1,234,567.5');
  assert.equal(formatCount(-1000), '-1,000');
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(null), DASH);
});

test('durations like 1h 02m 03s', () => {
  assert.equal(formatDuration(3723), '1h 02m 03s');
  assert.equal(formatDuration(3600), '1h 00m 00s');
  assert.equal(formatDuration(63), '1m 03s');
  assert.equal(formatDuration(59.6), '1m 00s');
  assert.equal(formatDuration(12), '12s');
  assert.equal(formatDuration(5), '5s');
  assert.equal(formatDuration(9.99), '9.99s');
  assert.equal(formatDuration(0.25), '0.25s');
  assert.equal(formatDuration(0.0012), '1.2ms');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(90061), '1d 01h 01m');
  for (const bad of [-1, null, NaN, undefined, '5']) assert.equal(formatDuration(bad), DASH);
});

test('axis durations', () => {
  assert.deepEqual([0.5, 5, 2.25, 45, 24.5, 750, 720, 7000, 7200, 90000, 172800].map(formatDurationTick),
    ['500ms', '5s', '2.25s', '45s', '24.5s', '12m 30s', '12m', '1h 57m', '2h', '1d 01h', '2d']);
  assert.equal(formatDurationTick(null), '');
});

test('relative times', () => {
  const now = new Date('2026-10-01T12:00:00Z');
  const ago = (s) => formatRelative(new Date(now.getTime() - s * 1000), now);
  assert.equal(ago(10), 'just now');
  assert.equal(ago(-10), 'just now');
  assert.equal(ago(60), '1 minute ago');
  assert.equal(ago(150), '3 minutes ago');
  assert.equal(ago(3600), '1 hour ago');
  assert.equal(ago(5 * 3600), '5 hours ago');
  assert.equal(ago(86400), '1 day ago');
  assert.equal(ago(3 * 86400), '3 days ago');
  assert.equal(ago(14 * 86400), '2 weeks ago');
  assert.equal(ago(60 * 86400), '2 months ago');
  assert.equal(ago(800 * 86400), '2 years ago');
  assert.equal(ago(-600), 'in 10 minutes');
  assert.equal(formatRelative('2026-10-01T11:00:00Z', now), '1 hour ago');
  assert.equal(formatRelative('garbage', now), DASH);
  assert.equal(formatRelative(null, now), DASH);
});

test('ISO dates, in UTC', () => {
  assert.equal(formatIsoDate('2026-10-01T12:34:56.789Z'), '2026-10-01T12:34:56Z');
  assert.equal(formatIsoDate('2026-10-01T14:34:56+02:00'), '2026-10-01T12:34:56Z');
  assert.equal(formatIsoDate(Date.UTC(2026, 0, 2)), '2026-01-02T00:00:00Z');
  assert.equal(formatIsoDate('nope'), DASH);
  assert.equal(formatDay('2026-10-01T23:59:59Z'), '2026-10-01');
  assert.equal(formatDateTime('2026-10-01T12:34:56Z'), '2026-10-01 12:34 UTC');
  assert.equal(toDate(new Date(NaN)), null);
});

test('tick labels per resolution', () => {
  const t = Date.UTC(2026, 9, 1, 13, 5, 7);
  assert.equal(formatTick(t, 'day'), '10-01');
  assert.equal(formatTick(t, 'hour'), '10-01 13:05');
  assert.equal(formatTick(Date.UTC(2026, 9, 1), 'hour'), '10-01');
  assert.equal(formatTick(t, 'min'), '13:05');
  assert.equal(formatTick(t, 'sec'), '13:05:07');
  assert.equal(formatTick(null, 'day'), '');
});

test('safeHref lets only http(s) through', () => {
  assert.equal(safeHref('https://logs.example.test/1/'), 'https://logs.example.test/1/');
  assert.equal(safeHref(' http://x.test/a b '), 'http://x.test/a%20b');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<b>', '//evil.test', '/relative', 'https://', null, 5]) {
    assert.equal(safeHref(bad), null, String(bad));
  }
});

test('test ids split for display', () => {
  assert.deepEqual(splitTestId('tempest.api.compute.test_x.ServersTest.test_a'), { prefix: 'tempest.api.compute.test_x.', name: 'ServersTest.test_a' });
  assert.deepEqual(splitTestId('Suite.test'), { prefix: '', name: 'Suite.test' });
  assert.deepEqual(splitTestId('plain'), { prefix: '', name: 'plain' });
  assert.deepEqual(splitTestId('a..b.c'), { prefix: '', name: 'a..b.c' });
  assert.deepEqual(splitTestId(null), { prefix: '', name: '' });
});
