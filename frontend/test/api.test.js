import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, buildQuery, ApiError, ENDPOINTS, API_ROOT } from '../js/api.js';

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
  await api.getRunsTimeline({ groupBy: 'build_name', start, stop, resolution: 'hour', window: 24 });
  await api.getRunsTimeline({ groupBy: 'project', start, stop, resolution: 'day', meta: [{ key: 'build_queue', value: 'gate' }], groups: 50 });
  await api.listJobs({ start, stop });
  await api.getJob('tempest full', { start, stop, resolution: 'day', window: 7, recent: 10 });
  await api.listJobTests('tempest full', { start, stop, sort: 'failures', limit: 100 });
  await api.searchTests({ q: 'test_a', mode: 'substring', sort: 'failure_rate', limit: 50, offset: 100 });
  await api.getTest('tempest.x.Y.test_z', { start, stop, resolution: 'hour', recent: 10 });
  await api.listRuns({ meta: [{ key: 'build_name', value: 'x' }], outcome: 'failed', start, stop, limit: 50, offset: 0 });
  await api.listRuns({ outcome: 'all' });
  await api.getRun('abc-1');
  await api.listRecentFailures({ limit: 5 });
  await api.listRecentFailures({ limit: 5, start, stop });
  await api.listMetadataKeys();
  await api.listMetadataValues('build_name', { limit: 10 });
  const S = 'start=2026-10-01T00%3A00%3A00Z&stop=2026-10-08T00%3A00%3A00Z';
  assert.deepEqual(fetch.calls.map((c) => c.url), [
    'http://h.test/api/v1/status',
    `http://h.test/api/v1/runs/over_time?key=build_name&${S}&resolution=hour&groups=20&window=24`,
    `http://h.test/api/v1/runs/over_time?key=project&${S}&resolution=day&meta=build_queue%3Agate&groups=50`,
    `http://h.test/api/v1/jobs?${S}`,
    `http://h.test/api/v1/jobs/tempest%20full?${S}&resolution=day&window=7&recent=10`,
    `http://h.test/api/v1/jobs/tempest%20full/tests?${S}&sort=failures&limit=100`,
    'http://h.test/api/v1/tests?q=test_a&mode=substring&sort=failure_rate&limit=50&offset=100',
    `http://h.test/api/v1/tests/tempest.x.Y.test_z?${S}&resolution=hour&recent=10`,
    `http://h.test/api/v1/runs?meta=build_name%3Ax&outcome=failed&${S}&limit=50&offset=0`,
    'http://h.test/api/v1/runs',
    'http://h.test/api/v1/runs/abc-1',
    'http://h.test/api/v1/failures/recent?limit=5',
    `http://h.test/api/v1/failures/recent?limit=5&${S}`,
    'http://h.test/api/v1/metadata/keys',
    'http://h.test/api/v1/metadata/values?key=build_name&limit=10',
  ]);
  assert.equal(fetch.calls[0].init.headers.Accept, 'application/json');
});

test('a successful answer resolves to the JSON exactly as the API served it', async () => {
  const served = { total: { runs: 2, failure_rate: 0.5, n: 2, ci_low: 0.1, ci_high: 0.9 }, jobs: [{ job: 'x', runs: 2, passed: 1, failed: 1, empty: 0, failure_rate: 0.5, n: 2, ci_low: 0.1, ci_high: 0.9 }] };
  const api = createApi({ fetch: fakeFetch(() => json(served)) });
  assert.deepEqual(await api.listJobs(), served);
  assert.deepEqual(await api.request('/api/v1/jobs'), served);
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
