import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, buildQuery, ApiError, ENDPOINTS, API_ROOT, ADAPT, NO_VALUE, toRate } from '../js/api.js';

/** A fetch that records calls and answers from a function of the URL. */
function fakeFetch(answer) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return answer(url, init);
  };
  fetch.calls = calls;
  return fetch;
}

function json(body, status = 200, statusText = '') {
  return new Response(JSON.stringify(body), { status, statusText, headers: { 'Content-Type': 'application/json' } });
}

test('buildQuery', () => {
  assert.equal(buildQuery({}), '');
  assert.equal(buildQuery(null), '');
  assert.equal(buildQuery({ a: 1, b: 'x y', c: null, d: undefined, e: '', f: NaN }), '?a=1&b=x%20y');
  assert.equal(buildQuery({ meta: ['k:v', 'a=b&c'] }), '?meta=k%3Av&meta=a%3Db%26c');
  assert.equal(buildQuery({ start: new Date('2026-10-01T00:00:00.000Z') }), '?start=2026-10-01T00%3A00%3A00Z');
  assert.equal(buildQuery({ flag: true, off: false, zero: 0 }), '?flag=true&off=false&zero=0');
  assert.equal(buildQuery({ 'we ird': '<>' }), '?we%20ird=%3C%3E');
});

test('endpoint paths live in ENDPOINTS, keys percent-encoded', () => {
  assert.equal(API_ROOT, '/api/v1');
  assert.equal(ENDPOINTS.status(), '/api/v1/status');
  assert.equal(ENDPOINTS.job('a/b c'), '/api/v1/jobs/a%2Fb%20c');
  assert.equal(ENDPOINTS.jobTests('x'), '/api/v1/jobs/x/tests');
  assert.equal(ENDPOINTS.test('t.x[id]?#'), '/api/v1/tests/t.x%5Bid%5D%3F%23');
  assert.equal(ENDPOINTS.run('42'), '/api/v1/runs/42');
});

test('one function per endpoint builds its URL and query', async () => {
  const fetch = fakeFetch(() => json({}));
  const api = createApi({ fetch, base: 'http://h.test' });
  const start = new Date('2026-10-01T00:00:00Z');
  const stop = new Date('2026-10-08T00:00:00Z');
  await api.getStatus();
  await api.getRunsTimeline({ groupBy: 'build_name', start, stop, resolution: 'hour' });
  await api.getRunsTimeline({ groupBy: 'project', start, stop, resolution: 'day', meta: [{ key: 'build_queue', value: 'gate' }], groups: 50 });
  await api.listJobs({ start, stop });
  await api.getJob('tempest full', { start, stop, resolution: 'day', recent: 10 });
  await api.listJobTests('tempest full', { start, stop, sort: 'failures', limit: 100 });
  await api.searchTests({ q: 'test_a', mode: 'substring', limit: 50, offset: 100 });
  await api.getTest('tempest.x.Y.test_z', { start, stop, resolution: 'hour', recent: 10 });
  await api.listRuns({ meta: [{ key: 'build_name', value: 'x' }], outcome: 'failed', start, stop, limit: 50, offset: 0 });
  await api.listRuns({ outcome: 'all' });
  await api.getRun('abc-1');
  await api.listRecentFailures({ limit: 5 });
  await api.listMetadataKeys();
  await api.listMetadataValues('build_name', { limit: 10 });
  const S = 'start=2026-10-01T00%3A00%3A00Z&stop=2026-10-08T00%3A00%3A00Z';
  assert.deepEqual(fetch.calls.map((c) => c.url), [
    'http://h.test/api/v1/status',
    `http://h.test/api/v1/runs/over_time?key=build_name&${S}&resolution=hour&groups=20`,
    `http://h.test/api/v1/runs/over_time?key=project&${S}&resolution=day&meta=build_queue%3Agate&groups=50`,
    `http://h.test/api/v1/jobs?${S}`,
    `http://h.test/api/v1/jobs/tempest%20full?${S}&resolution=day&recent=10`,
    `http://h.test/api/v1/jobs/tempest%20full/tests?${S}&sort=failures&limit=100`,
    'http://h.test/api/v1/tests?q=test_a&mode=substring&limit=50&offset=100',
    `http://h.test/api/v1/tests/tempest.x.Y.test_z?${S}&resolution=hour&recent=10`,
    `http://h.test/api/v1/runs?meta=build_name%3Ax&outcome=failed&${S}&limit=50&offset=0`,
    'http://h.test/api/v1/runs',
    'http://h.test/api/v1/runs/abc-1',
    'http://h.test/api/v1/failures/recent?limit=5',
    'http://h.test/api/v1/metadata/keys',
    'http://h.test/api/v1/metadata/values?key=build_name&limit=10',
  ]);
  assert.equal(fetch.calls[0].init.headers.Accept, 'application/json');
});

test('a successful answer resolves to its JSON through the adapter', async () => {
  const api = createApi({ fetch: fakeFetch(() => json({ jobs: [{ job: 'x', runs: 2, passed: 1, failed: 1, empty: 0, failure_rate: 0.5, n: 2, ci_low: 0.1, ci_high: 0.9 }] })) });
  const body = await api.listJobs();
  assert.equal(body.jobs[0].name, 'x');
  assert.deepEqual(body.jobs[0].failure_rate, { value: 0.5, low: 0.1, high: 0.9, n: 2 });
  // the raw body goes through request() without an adapter
  assert.deepEqual(await api.request('/api/v1/jobs'), { jobs: [{ job: 'x', runs: 2, passed: 1, failed: 1, empty: 0, failure_rate: 0.5, n: 2, ci_low: 0.1, ci_high: 0.9 }] });
});

// ----------------------------------------------------------- adapters
// Fixtures in the shapes of health_api/api/*.py (see /api/v1/openapi.json).

const RATE = (failed, n, low, high) => ({ failure_rate: n ? failed / n : null, n, ci_low: low, ci_high: high });

test('toRate: the flat rate fields become {value, low, high, n}', () => {
  assert.deepEqual(toRate(RATE(1, 4, 0.05, 0.7)), { value: 0.25, low: 0.05, high: 0.7, n: 4 });
  assert.deepEqual(toRate({ failure_rate: null, n: 0, ci_low: null, ci_high: null }), { value: null, low: null, high: null, n: 0 });
  assert.deepEqual(toRate(undefined), { value: null, low: null, high: null, n: 0 });
});

test('ADAPT.runsOverTime: series of points -> groups of count arrays per bucket', () => {
  const buckets = ['2026-10-01T00:00:00Z', '2026-10-01T01:00:00Z', '2026-10-01T02:00:00Z'];
  const point = (bucket, passed, failed, empty) => ({ bucket, passed, failed, empty, ...RATE(failed, passed + failed, 0, 1), mean_run_time: null });
  const body = {
    key: 'build_name', resolution: 'hour', start: buckets[0], stop: '2026-10-01T03:00:00Z', meta: [], buckets,
    series: [
      { value: 'a', runs: 4, passed: 2, failed: 1, empty: 1, ...RATE(1, 3, 0, 1), points: buckets.map((b, i) => point(b, i === 0 ? 2 : 0, i === 2 ? 1 : 0, i === 1 ? 1 : 0)) },
      // a point missing (never from the API, but robust) and a null value (runs without the key)
      { value: null, runs: 1, passed: 1, failed: 0, empty: 0, ...RATE(0, 1, 0, 1), points: [point(buckets[1], 1, 0, 0)] },
    ],
    groups_total: 2, groups_truncated: false,
  };
  assert.deepEqual(ADAPT.runsOverTime(body), {
    group_by: 'build_name', resolution: 'hour', buckets, groups_total: 2, groups_truncated: false,
    groups: [
      { key: 'a', passed: [2, 0, 0], failed: [0, 0, 1], empty: [0, 1, 0] },
      { key: NO_VALUE, passed: [0, 1, 0], failed: [0, 0, 0], empty: [0, 0, 0] },
    ],
  });
});

test('ADAPT.jobs, job, jobTests', () => {
  const jobs = ADAPT.jobs({
    start: 's', stop: 't', previous_start: 'p',
    jobs: [{ job: 'tempest', runs: 5, passed: 3, failed: 1, empty: 1, ...RATE(1, 4, 0.04, 0.7), previous: RATE(0, 0, null, null), change: null, mean_run_time: 61.5, p95_run_time: 70, last_run_at: '2026-10-01T00:00:00Z' }],
  });
  assert.deepEqual(jobs.jobs[0], {
    name: 'tempest', runs: 5, passed: 3, failed: 1, empty: 1, failure_rate: { value: 0.25, low: 0.04, high: 0.7, n: 4 },
    previous_rate: { value: null, low: null, high: null, n: 0 }, change: null, mean_run_time: 61.5, p95_run_time: 70,
    last_run_at: '2026-10-01T00:00:00Z',
  });
  const job = ADAPT.job({
    job: 'tempest', resolution: 'day', start: 's', stop: 't', passed: 1, failed: 1, empty: 0, runs: 2, ...RATE(1, 2, 0, 1),
    points: [{ bucket: '2026-10-01T00:00:00Z', passed: 1, failed: 1, empty: 0, runs: 2, ...RATE(1, 2, 0, 1), mean_run_time: 30, std_run_time: 1, rolling_mean: 30, rolling_std: null }],
    recent_runs: [{ id: 7, uuid: 'u7', run_at: '2026-10-01T00:00:00Z', passes: 10, fails: 1, skips: 0, run_time: 30, artifacts: null, outcome: 'failed' }],
  });
  assert.deepEqual(job.points, [{ t: '2026-10-01T00:00:00Z', passed: 1, failed: 1, empty: 0, mean_run_time: 30, std_run_time: 1 }]);
  // std_run_time is validated like the other numbers: null when missing or not a finite number
  const stds = ADAPT.job({
    job: 'tempest', points: [{ std_run_time: null }, {}, { std_run_time: NaN }, { std_run_time: Infinity }, { std_run_time: '2' }, { std_run_time: 0 }],
  }).points.map((p) => p.std_run_time);
  assert.deepEqual(stds, [null, null, null, null, null, 0]);
  assert.equal(job.name, 'tempest');
  assert.deepEqual(job.recent_runs[0], { id: 7, uuid: 'u7', run_at: '2026-10-01T00:00:00Z', passes: 10, fails: 1, skips: 0, run_time: 30, artifacts: null, outcome: 'failed', metadata: {} });
  const tests = ADAPT.jobTests({
    job: 'tempest', start: 's', stop: 't', sort: 'failures', total: 40, limit: 1, offset: 0,
    tests: [{ test_id: 't.A.test_a', success: 6, failure: 2, skip: 1, ...RATE(2, 8, 0.07, 0.59), mean_run_time: 1.5 }],
  });
  assert.equal(tests.total, 40);
  assert.deepEqual(tests.tests[0], {
    test_id: 't.A.test_a', runs: 9, passes: 6, failures: 2, skips: 1, failure_rate: { value: 0.25, low: 0.07, high: 0.59, n: 8 }, mean_run_time: 1.5,
  });
});

test('ADAPT.tests and test', () => {
  const search = ADAPT.tests({ q: 'x', mode: 'substring', total: 1, limit: 50, offset: 0, tests: [{ test_id: 'a.B.c', run_count: 3, success: 2, failure: 1, mean_run_time: 0.5, ...RATE(1, 3, 0.06, 0.79) }] });
  assert.deepEqual(search, { total: 1, limit: 50, offset: 0, tests: [{ test_id: 'a.B.c', run_count: 3, success: 2, failure: 1, failure_rate: { value: 1 / 3, low: 0.06, high: 0.79, n: 3 }, run_time: 0.5 }] });
  const test = ADAPT.test({
    test: { test_id: 'a.B.c', run_count: 3, success: 2, failure: 1, mean_run_time: 0.5 }, resolution: 'hour', start: 's', stop: 't',
    points: [{ bucket: '2026-10-01T00:00:00Z', success: 2, failure: 1, skip: 4, ...RATE(1, 3, 0, 1), mean_run_time: 0.5, rolling_mean: 0.5, rolling_std: null }],
    jobs: [{ job: 'j', success: 2, failure: 1, skip: 0, ...RATE(1, 3, 0.06, 0.79) }],
    recent_failures: [{ run_id: 'u1', job: 'j', run_at: '2026-10-01T00:10:00Z', start_time: '2026-10-01T00:11:00Z', status: 'fail', link: 'https://logs/x', traceback: 'Traceback\nboom' }],
  });
  assert.equal(test.test_id, 'a.B.c');
  assert.deepEqual(test.points, [{ t: '2026-10-01T00:00:00Z', passed: 2, failed: 1, skipped: 4, mean_run_time: 0.5 }]);
  assert.deepEqual(test.jobs, [{ job: 'j', passes: 2, failures: 1, skips: 0, runs: 3, failure_rate: { value: 1 / 3, low: 0.06, high: 0.79, n: 3 } }]);
  assert.deepEqual(test.recent_failures, [{ run_id: 'u1', build_name: 'j', run_at: '2026-10-01T00:10:00Z', start_time: '2026-10-01T00:11:00Z', status: 'fail', link: 'https://logs/x', traceback: 'Traceback\nboom' }]);
});

test('ADAPT.runs, run, recentFailures', () => {
  const run = { id: 3, uuid: 'u3', run_at: '2026-10-01T00:00:00Z', passes: 5, fails: 1, skips: 2, run_time: 12.5, artifacts: 'https://logs/3', outcome: 'failed', metadata: { build_name: 'j' } };
  const runs = ADAPT.runs({ total: 1, limit: 50, offset: 0, runs: [run] });
  assert.deepEqual(runs, { total: 1, limit: 50, offset: 0, runs: [run] });
  const detail = ADAPT.run({
    ...run,
    tests: [{ test_id: 'a.B.c', status: 'fail', start_time: '2026-10-01T00:00:01Z', stop_time: '2026-10-01T00:00:03Z', duration: 2 }],
    failed_tests: [{ test_id: 'a.B.c', status: 'fail', traceback: 'boom' }],
  });
  assert.deepEqual(detail.run, run);
  assert.deepEqual(detail.tests, [{ test_id: 'a.B.c', status: 'fail', start_time: '2026-10-01T00:00:01Z', stop_time: '2026-10-01T00:00:03Z', run_time: 2 }]);
  assert.deepEqual(detail.failed_tests, [{ test_id: 'a.B.c', status: 'fail', traceback: 'boom' }]);
  const recent = ADAPT.recentFailures({
    runs: [{ ...run, build_name: 'j', failed_tests: [
      { test_id: 'a.B.c', status: 'fail', start_time: null, stop_time: null },
      { test_id: 'a.B.d', status: 'fail', start_time: null, stop_time: null },
    ] }],
  });
  assert.deepEqual(recent.failures, [
    { test_id: 'a.B.c', status: 'fail', run_id: 'u3', run_at: '2026-10-01T00:00:00Z', build_name: 'j' },
    { test_id: 'a.B.d', status: 'fail', run_id: 'u3', run_at: '2026-10-01T00:00:00Z', build_name: 'j' },
  ]);
  assert.equal(recent.runs.length, 1);
});

test('ADAPT.status and metadata', () => {
  assert.deepEqual(ADAPT.status({ database: 'ok', newest_run_at: '2026-10-01T00:00:00Z', schema: { current: '3', head: '3', up_to_date: true }, cache: 'simple', version: '0.1' }),
    { version: '0.1', database: 'ok', newest_run_at: '2026-10-01T00:00:00Z', schema: { current: '3', head: '3', up_to_date: true }, replica: null });
  assert.deepEqual(ADAPT.status({ database: 'ok', newest_run_at: null, schema: null, replica: { lag_seconds: 2.5, streaming: true } }).replica,
    { lag_seconds: 2.5, streaming: true });
  assert.deepEqual(ADAPT.metadataKeys({ keys: ['build_name', 'project'] }), { keys: ['build_name', 'project'] });
  assert.deepEqual(ADAPT.metadataValues({ key: 'k', total: 1, limit: 10, offset: 0, values: [{ value: 'v', runs: 3 }] }), { key: 'k', total: 1, values: [{ value: 'v', runs: 3 }] });
});

test('error JSON becomes an ApiError with message, field and status', async () => {
  const api = createApi({ fetch: fakeFetch(() => json({ error: { message: 'start must be before stop', field: 'start' } }, 400)) });
  await assert.rejects(api.listJobs(), (err) => {
    assert.ok(err instanceof ApiError);
    assert.ok(err instanceof Error);
    assert.equal(err.message, 'start must be before stop');
    assert.equal(err.field, 'start');
    assert.equal(err.status, 400);
    assert.equal(err.kind, 'http');
    assert.equal(err.url, '/api/v1/jobs');
    assert.equal(err.aborted, false);
    return true;
  });
});

test('5xx with error JSON and a null field', async () => {
  const api = createApi({ fetch: fakeFetch(() => json({ error: { message: 'database unreachable', field: null } }, 500)) });
  await assert.rejects(api.getStatus(), { name: 'ApiError', message: 'database unreachable', field: null, status: 500 });
});

test('an error without the error JSON still says what happened', async () => {
  const html = createApi({ fetch: fakeFetch(() => new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' })) });
  await assert.rejects(html.getStatus(), { message: 'The API answered HTTP 502 (Bad Gateway)', status: 502, field: null });
  const bare = createApi({ fetch: fakeFetch(() => new Response('', { status: 404 })) });
  await assert.rejects(bare.getRun('x'), { message: 'The API answered HTTP 404 (Not found)', status: 404 });
  const other = createApi({ fetch: fakeFetch(() => json({ error: 'plain string' }, 418)) });
  await assert.rejects(other.getStatus(), { message: 'plain string', status: 418 });
  const weird = createApi({ fetch: fakeFetch(() => json({ error: { message: '' } }, 599)) });
  await assert.rejects(weird.getStatus(), { message: 'The API answered HTTP 599 (Error)' });
});

test('network failure becomes an ApiError of kind network', async () => {
  const api = createApi({ fetch: fakeFetch(() => { throw new TypeError('Failed to fetch'); }) });
  await assert.rejects(api.listJobs(), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.kind, 'network');
    assert.equal(err.status, null);
    assert.equal(err.message, 'Cannot reach the API: Failed to fetch');
    assert.ok(err.cause instanceof TypeError);
    return true;
  });
});

test('an answer that is not JSON', async () => {
  const api = createApi({ fetch: fakeFetch(() => new Response('not json', { status: 200 })) });
  await assert.rejects(api.getStatus(), { kind: 'parse', status: 200 });
});

test('abort is its own kind, for pages to ignore', async () => {
  const controller = new AbortController();
  const fetch = (url, init) => new Promise((_, reject) => {
    init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
  const api = createApi({ fetch });
  const pending = api.listJobs({ signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, (err) => err instanceof ApiError && err.aborted && err.kind === 'abort');
});

test('onActivity counts requests in flight, even when they fail', async () => {
  const events = [];
  let fail = false;
  const api = createApi({
    fetch: fakeFetch(() => { if (fail) throw new TypeError('x'); return json({}); }),
    onActivity: (d) => events.push(d),
  });
  await api.getStatus();
  fail = true;
  await assert.rejects(api.getStatus());
  assert.deepEqual(events, [1, -1, 1, -1]);
});

test('defaults to the global fetch', async () => {
  const original = globalThis.fetch;
  globalThis.fetch = fakeFetch(() => json({ version: 'x' }));
  try {
    const api = createApi();
    assert.equal((await api.getStatus()).version, 'x');
  } finally {
    globalThis.fetch = original;
  }
});
