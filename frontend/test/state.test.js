import { test } from 'node:test';
import assert from 'node:assert/strict';
import './rules-fixture.js';
import {
  parseHash, serialiseState, normaliseState, defaultState, periodToMs, periodLabel,
  normaliseInstant, timeWindow, hrefFor, PAGES, DEFAULTS, DAY_MS,
} from '../js/state.js';

const SAMPLES = [
  { page: 'overview', period: '30d', end: '2026-10-01T12:00:00Z', resolution: 'day', groupBy: 'build_queue', sort: 'job' },
  { page: 'overview' },
  { page: 'job', name: 'tempest-full-py3', period: '6m', resolution: 'hour', sort: '-runs' },
  { page: 'job', name: 'a/b?c#d&e=f g+h%20', period: '2w' },
  { page: 'test', testId: 'tempest.api.compute.servers.test_x.ServersTest.test_create[id-1,smoke]', end: '2026-01-02T03:04:05Z' },
  { page: 'tests', q: 'test_server', offset: 100, limit: 25, sort: '-failure' },
  { page: 'tests', q: 'a+b &c=d#e/f' },
  { page: 'runs', meta: [{ key: 'build_name', value: 'tempest-full' }, { key: 'build_queue', value: 'gate=x' }], outcome: 'failed', period: '1d' },
  { page: 'run', runId: '3f2a1b4c-0000-4000-8000-000000000001', sort: '-run_time' },
  { page: 'ci', period: '14d' },
  { page: 'insight' },
  { page: 'ciSystem', ciName: 'acme/ci #1?', period: '30d', resolution: 'hour', sort: 'job' },
  { page: 'ciProjects', end: '2026-10-01T00:00:00Z' },
  { page: 'ciGrid', project: 'openstack/nova', system: 'xen-ci', pipeline: 'check' },
];

test('the CI routes', () => {
  assert.equal(serialiseState({ page: 'ciGrid', project: 'openstack/nova' }), '#/ci/projects/openstack%2Fnova');
  assert.deepEqual(parseHash('#/ci/projects/openstack%2Fnova?system=xen-ci'),
    normaliseState({ page: 'ciGrid', project: 'openstack/nova', system: 'xen-ci' }));
  assert.equal(parseHash('#/ci/systems/zuul').ciName, 'zuul');
  assert.equal(parseHash('#/ci/projects').page, 'ciProjects');
  assert.equal(parseHash('#/ci').page, 'ci');
  assert.equal(parseHash('#/ci/systems/').page, 'overview');
  assert.equal(parseHash('#/ci/elsewhere').page, 'overview');
});

test('every page state survives serialise -> parse', () => {
  for (const sample of SAMPLES) {
    const state = normaliseState(sample);
    const hash = serialiseState(state);
    assert.ok(hash.startsWith('#/'), hash);
    assert.deepEqual(parseHash(hash), state, hash);
    // and the link is stable
    assert.equal(serialiseState(parseHash(hash)), hash);
  }
});

test('the sample states keep what they were given', () => {
  assert.equal(normaliseState(SAMPLES[3]).name, 'a/b?c#d&e=f g+h%20');
  assert.equal(normaliseState(SAMPLES[0]).groupBy, 'build_queue');
  assert.deepEqual(normaliseState(SAMPLES[7]).meta, SAMPLES[7].meta);
  assert.equal(normaliseState(SAMPLES[5]).offset, 100);
});

test('every page is covered by the samples', () => {
  const pages = new Set(SAMPLES.map((s) => s.page));
  for (const page of Object.keys(PAGES)) assert.ok(pages.has(page), page);
});

test('defaults are left out of links', () => {
  assert.equal(serialiseState({ page: 'overview' }), '#/');
  assert.equal(serialiseState(defaultState('runs')), '#/runs');
  assert.equal(serialiseState({ page: 'tests' }), '#/tests');
  assert.equal(serialiseState({ page: 'job', name: 'x', period: '7d', resolution: 'auto' }), '#/jobs/x');
});

test('an empty hash is the overview with the defaults', () => {
  for (const hash of ['', '#', '#/', '/', undefined, null]) {
    const state = parseHash(hash);
    assert.deepEqual(state, defaultState('overview'));
    assert.equal(state.period, DEFAULTS.period);
    assert.equal(state.end, null);
    assert.equal(state.resolution, 'auto');
    assert.equal(state.groupBy, 'build_name');
    assert.equal(state.sort, PAGES.overview.sort);
  }
});

test('routes', () => {
  assert.equal(parseHash('#/jobs/tempest-full').page, 'job');
  assert.equal(parseHash('#/tests').page, 'tests');
  assert.equal(parseHash('#/tests/').page, 'tests');
  assert.equal(parseHash('#/tests/x.y').testId, 'x.y');
  assert.equal(parseHash('#/runs').page, 'runs');
  assert.equal(parseHash('#/runs/42').runId, '42');
  assert.equal(parseHash('#/ci').page, 'ci');
  // a raw (unencoded) slash in a job name is tolerated
  assert.equal(parseHash('#/jobs/a/b').name, 'a/b');
  assert.equal(parseHash('#/jobs/a%2Fb').name, 'a/b');
});

test('garbage in gives defaults and never throws', () => {
  const garbage = [
    '#/nope', '#/jobs/', '#/jobs/%E0%A4%A', '#/tests/%', '#/runs/<script>', '#/runs/a b',
    '#/?period=0d', '#/?period=999d', '#/?period=7y', '#/?period=-1d', '#/?period=1.5d',
    '#/?end=yesterday', '#/?end=2026-02-31', '#/?end=2026-13-01', '#/?resolution=week',
    '#/?group_by=a%20b', '#/?group_by=', '#/?sort=drop%20table', '#/?sort=-nope',
    '#/tests?offset=-5&limit=100000', '#/tests?offset=abc&limit=1e3', '#/runs?outcome=maybe&meta=novalue&meta==x',
    '#/jobs/x%00y', '#/tests?q=%00', '\u0000\uffff', '#/?period=7d&period=30d&&&=&', `#/jobs/${'x'.repeat(5000)}`,
    42, {}, [], '#/ci/x', '#//', '#/%', '#?', '#/?%zz=1',
  ];
  for (const hash of garbage) {
    let state;
    assert.doesNotThrow(() => { state = parseHash(hash); }, String(hash));
    assert.ok(PAGES[state.page], String(hash));
    // whatever came in, the result is a valid state that round-trips
    assert.deepEqual(parseHash(serialiseState(state)), state, String(hash));
  }
  // an unknown route is the overview; its valid shared params are kept
  assert.deepEqual(parseHash('#/nope?period=30d'), { ...defaultState('overview'), period: '30d' });
  assert.equal(parseHash('#/?period=999d').period, DEFAULTS.period);
  assert.equal(parseHash('#/?end=2026-02-31').end, null);
  assert.equal(parseHash('#/?resolution=week').resolution, 'auto');
  assert.equal(parseHash('#/?sort=-nope').sort, PAGES.overview.sort);
  assert.equal(parseHash('#/tests?offset=-5&limit=100000').offset, 0);
  assert.equal(parseHash('#/tests?offset=-5&limit=100000').limit, DEFAULTS.limit);
  assert.deepEqual(parseHash('#/runs?outcome=maybe&meta=novalue&meta==x').meta, []);
  assert.equal(parseHash('#/runs?outcome=maybe').outcome, 'all');
  assert.equal(parseHash('#/jobs/%E0%A4%A').page, 'overview');
  assert.equal(parseHash('#/runs/<script>').page, 'overview');
});

test('normaliseState drops keys the page does not use', () => {
  const state = normaliseState({ page: 'run', runId: '7', period: '30d', q: 'x', groupBy: 'project' });
  assert.deepEqual(Object.keys(state).sort(), ['page', 'runId', 'sort']);
  assert.deepEqual(normaliseState(null), defaultState());
  assert.deepEqual(normaliseState({ page: 'job' }), defaultState('overview'));
  assert.deepEqual(normaliseState({ page: '__proto__' }), defaultState('overview'));
});

test('periods: 1 day to 6 months', () => {
  assert.equal(periodToMs('1d'), DAY_MS);
  assert.equal(periodToMs('7d'), 7 * DAY_MS);
  assert.equal(periodToMs('2w'), 14 * DAY_MS);
  assert.equal(periodToMs('6m'), 183 * DAY_MS);
  assert.equal(periodToMs('183d'), 183 * DAY_MS);
  for (const bad of ['0d', '184d', '7m', '12h', '1y', '', 'd', '01d', null, 7]) assert.equal(periodToMs(bad), null, String(bad));
  assert.equal(periodLabel('1d'), '1 day');
  assert.equal(periodLabel('6m'), '6 months');
  assert.equal(periodLabel('2w'), '2 weeks');
});

test('instants are normalised to UTC seconds', () => {
  assert.equal(normaliseInstant('2026-10-01'), '2026-10-01T00:00:00Z');
  assert.equal(normaliseInstant('2026-10-01T12:30'), '2026-10-01T12:30:00Z');
  assert.equal(normaliseInstant('2026-10-01T12:30:15.123Z'), '2026-10-01T12:30:15Z');
  assert.equal(normaliseInstant('2026-10-01T12:30:00+02:00'), '2026-10-01T10:30:00Z');
  assert.equal(normaliseInstant('2026-10-01T12:30:00-0130'), '2026-10-01T14:00:00Z');
  for (const bad of ['2026-02-30', '2026-1-1', 'now', '', '2026-10-01T25:00', null, 1234]) {
    assert.equal(normaliseInstant(bad), null, String(bad));
  }
});

test('timeWindow: end or now rounded up to the minute', () => {
  const now = new Date('2026-10-01T12:00:30.500Z');
  const w = timeWindow({ period: '7d', end: null }, now);
  assert.equal(w.stop.toISOString(), '2026-10-01T12:01:00.000Z');
  assert.equal(w.start.toISOString(), '2026-09-24T12:01:00.000Z');
  assert.equal(w.periodMs, 7 * DAY_MS);
  const fixed = timeWindow({ period: '1d', end: '2026-10-01T00:00:00Z' }, now);
  assert.equal(fixed.start.toISOString(), '2026-09-30T00:00:00.000Z');
  assert.equal(fixed.stop.toISOString(), '2026-10-01T00:00:00.000Z');
});

test('timeWindow: the period ends at the newest run when nothing is newer than the period', () => {
  const now = new Date('2026-10-01T12:00:30Z');
  const old = timeWindow({ period: '7d', end: null }, now, '2015-03-02T10:20:30Z');
  assert.equal(old.stop.toISOString(), '2015-03-02T10:21:00.000Z');
  assert.equal(old.start.toISOString(), '2015-02-23T10:21:00.000Z');
  assert.equal(old.atNewest, true);
  // a run inside the period, or an explicit end: the period is left alone
  assert.equal(timeWindow({ period: '7d', end: null }, now, '2026-09-30T00:00:00Z').atNewest, false);
  assert.equal(timeWindow({ period: '7d', end: '2026-01-01T00:00:00Z' }, now, '2015-03-02T10:20:30Z').stop.toISOString(), '2026-01-01T00:00:00.000Z');
});

test('hrefFor keeps the shared controls of the current page', () => {
  const current = parseHash('#/?period=30d&end=2026-10-01T00:00:00Z&resolution=day&group_by=project');
  assert.equal(hrefFor('job', { name: 'x y' }, current), '#/jobs/x%20y?period=30d&end=2026-10-01T00:00:00Z&resolution=day');
  assert.equal(hrefFor('tests', {}, current), '#/tests');
  assert.equal(hrefFor('overview', {}, current), '#/?period=30d&end=2026-10-01T00:00:00Z&resolution=day&group_by=project');
});
