// The JSON API client: the ONE place that knows the endpoint paths, their
// query parameters and the shapes the pages read.
//
// createApi({fetch}) takes the fetch to use, so node --test drives it with a
// fake. Every function resolves to the response JSON passed through the
// endpoint's `adapt` (identity for now: when the API's final shapes differ
// from the ones documented below, adapt them here, not in the pages) and
// rejects with an ApiError.
//
// Conventions (DESIGN.md section 5): JSON under /api/v1/; `start`, `stop` are
// ISO 8601 instants, `resolution` one of sec|min|hour|day, `limit`/`offset`
// paginate; errors are 4xx/5xx with {"error": {"message", "field"}}.
// A rate is served as {value, low, high, n}: value = failed/(passed+failed)
// or null when n = 0, low/high its 95% Wilson interval.

export const API_ROOT = '/api/v1';

const enc = encodeURIComponent;

/**
 * Endpoint paths. Path keys are percent-encoded whole: a test id or job name
 * containing `/` arrives as %2F (the Flask routes need the `path:`
 * converter for them).
 */
export const ENDPOINTS = Object.freeze({
  status: () => `${API_ROOT}/status`,
  runsTimeline: () => `${API_ROOT}/runs/timeline`,
  jobs: () => `${API_ROOT}/jobs`,
  job: (name) => `${API_ROOT}/jobs/${enc(name)}`,
  jobTests: (name) => `${API_ROOT}/jobs/${enc(name)}/tests`,
  tests: () => `${API_ROOT}/tests`,
  test: (testId) => `${API_ROOT}/tests/${enc(testId)}`,
  runs: () => `${API_ROOT}/runs`,
  run: (runId) => `${API_ROOT}/runs/${enc(runId)}`,
  recentFailures: () => `${API_ROOT}/failures/recent`,
});

const identity = (body) => body;

/**
 * Response adapters, one per endpoint: they turn the API's JSON into the
 * shapes documented on the functions below (identity while the two agree).
 */
export const ADAPT = {
  status: identity,
  runsTimeline: identity,
  jobs: identity,
  job: identity,
  jobTests: identity,
  tests: identity,
  test: identity,
  runs: identity,
  run: identity,
  recentFailures: identity,
};

/** An API failure the page shows: message, field (the bad parameter, if any), HTTP status. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number|null, field?: string|null, url?: string|null,
   *          kind?: 'http'|'network'|'parse'|'abort', cause?: unknown}} [info]
   */
  constructor(message, { status = null, field = null, url = null, kind = 'http', cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
    this.url = url;
    this.kind = kind;
  }

  get aborted() {
    return this.kind === 'abort';
  }
}

function toParam(value) {
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/**
 * '?a=1&b=x%20y' from an object; null, undefined, '' and NaN are left out,
 * arrays repeat the key, Dates become ISO 8601 UTC instants. '' when empty.
 */
export function buildQuery(params = {}) {
  const pairs = [];
  for (const [key, value] of Object.entries(params || {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === null || v === undefined || v === '' || (typeof v === 'number' && !Number.isFinite(v))) continue;
      pairs.push(`${enc(key)}=${enc(toParam(v))}`);
    }
  }
  return pairs.length ? `?${pairs.join('&')}` : '';
}

const HTTP_REASONS = {
  400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found',
  408: 'Request timeout', 429: 'Too many requests', 500: 'Internal server error',
  502: 'Bad gateway', 503: 'Service unavailable', 504: 'Gateway timeout',
};

async function errorFromResponse(response, url) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const err = body && typeof body === 'object' ? body.error : null;
  if (err && typeof err === 'object' && typeof err.message === 'string' && err.message) {
    return new ApiError(err.message, {
      status: response.status,
      field: typeof err.field === 'string' && err.field ? err.field : null,
      url,
    });
  }
  if (typeof err === 'string' && err) return new ApiError(err, { status: response.status, url });
  const reason = response.statusText || HTTP_REASONS[response.status] || 'Error';
  return new ApiError(`The API answered HTTP ${response.status} (${reason})`, { status: response.status, url });
}

function isAbort(error) {
  return error && (error.name === 'AbortError' || error.code === 20);
}

/**
 * The API client.
 *
 * @param {object} [options]
 * @param {typeof fetch} [options.fetch]   defaults to globalThis.fetch
 * @param {string} [options.base]          prefix of every path ('' = same origin)
 * @param {(delta: 1|-1) => void} [options.onActivity]  called +1/-1 around each request (loading indicator)
 */
export function createApi({ fetch: fetchImpl = globalThis.fetch, base = '', onActivity = null } = {}) {
  async function request(path, params = {}, { signal, adapt } = {}) {
    const url = `${base}${path}${buildQuery(params)}`;
    if (onActivity) onActivity(1);
    try {
      let response;
      try {
        response = await fetchImpl(url, { headers: { Accept: 'application/json' }, signal });
      } catch (error) {
        if (isAbort(error)) throw new ApiError('Request cancelled', { url, kind: 'abort', cause: error });
        const detail = error && error.message ? `: ${error.message}` : '';
        throw new ApiError(`Cannot reach the API${detail}`, { url, kind: 'network', cause: error });
      }
      if (!response.ok) throw await errorFromResponse(response, url);
      let body;
      try {
        body = await response.json();
      } catch (error) {
        if (isAbort(error)) throw new ApiError('Request cancelled', { url, kind: 'abort', cause: error });
        throw new ApiError('The API answered with something that is not JSON', {
          status: response.status, url, kind: 'parse', cause: error,
        });
      }
      return adapt ? adapt(body) : body;
    } finally {
      if (onActivity) onActivity(-1);
    }
  }

  const window = ({ start, stop } = {}) => ({ start, stop });

  return {
    request,

    /**
     * GET /status -> {version, database, newest_run_at: ISO|null}
     */
    getStatus({ signal } = {}) {
      return request(ENDPOINTS.status(), {}, { signal, adapt: ADAPT.status });
    },

    /**
     * GET /runs/timeline?group_by&start&stop&resolution
     * -> {group_by, resolution, buckets: [ISO...],
     *     groups: [{key, passed: [n...], failed: [n...], empty: [n...]}]}
     * (one count per bucket; empty buckets are zeros)
     */
    getRunsTimeline({ groupBy, start, stop, resolution, signal } = {}) {
      return request(ENDPOINTS.runsTimeline(), { group_by: groupBy, ...window({ start, stop }), resolution }, { signal, adapt: ADAPT.runsTimeline });
    },

    /**
     * GET /jobs?start&stop
     * -> {jobs: [{name, runs, passed, failed, empty, failure_rate: Rate,
     *             last_run_at: ISO|null, mean_run_time: s|null}]}
     */
    listJobs({ start, stop, signal } = {}) {
      return request(ENDPOINTS.jobs(), window({ start, stop }), { signal, adapt: ADAPT.jobs });
    },

    /**
     * GET /jobs/<name>?start&stop&resolution
     * -> {name, resolution,
     *     points: [{t: ISO, passed, failed, empty, mean_run_time: s|null}]}
     * (one point per bucket, empty buckets included; the page computes its
     * tiles and trailing-window rates from the points)
     */
    getJob(name, { start, stop, resolution, signal } = {}) {
      return request(ENDPOINTS.job(name), { ...window({ start, stop }), resolution }, { signal, adapt: ADAPT.job });
    },

    /**
     * GET /jobs/<name>/tests?start&stop
     * -> {tests: [{test_id, runs, failures, failure_rate: Rate, flip_rate: 0..1|null, mean_run_time}]}
     */
    listJobTests(name, { start, stop, signal } = {}) {
      return request(ENDPOINTS.jobTests(name), window({ start, stop }), { signal, adapt: ADAPT.jobTests });
    },

    /**
     * GET /tests?q&limit&offset
     * -> {tests: [{test_id, run_count, success, failure, run_time}], total, limit, offset}
     */
    searchTests({ q, limit, offset, signal } = {}) {
      return request(ENDPOINTS.tests(), { q, limit, offset }, { signal, adapt: ADAPT.tests });
    },

    /**
     * GET /tests/<test_id>?start&stop&resolution
     * -> {test_id, resolution,
     *     points: [{t, passed, failed, skipped, mean_run_time: s|null (of passes)}],
     *     recent: [{run_id, build_name, status, start_time, run_time}]}
     */
    getTest(testId, { start, stop, resolution, signal } = {}) {
      return request(ENDPOINTS.test(testId), { ...window({ start, stop }), resolution }, { signal, adapt: ADAPT.test });
    },

    /**
     * GET /runs?meta=key:value&outcome&start&stop&limit&offset
     * (meta repeats, one key:value per filter; outcome passed|failed|empty)
     * -> {runs: [{id, uuid, run_at, passes, fails, skips, run_time, artifacts, metadata: {k: v}}],
     *     total, limit, offset}
     */
    listRuns({ meta = [], outcome, start, stop, limit, offset, signal } = {}) {
      const filters = (meta || []).map(({ key, value }) => `${key}:${value}`);
      return request(ENDPOINTS.runs(), {
        meta: filters, outcome: outcome === 'all' ? null : outcome, ...window({ start, stop }), limit, offset,
      }, { signal, adapt: ADAPT.runs });
    },

    /**
     * GET /runs/<id>
     * -> {run: {id, uuid, run_at, passes, fails, skips, run_time, artifacts, metadata},
     *     tests: [{test_id, status, start_time, stop_time, run_time}]}
     */
    getRun(runId, { signal } = {}) {
      return request(ENDPOINTS.run(runId), {}, { signal, adapt: ADAPT.run });
    },

    /**
     * GET /failures/recent?limit
     * -> {failures: [{test_id, run_id, run_at, build_name, status}]}
     */
    listRecentFailures({ limit, signal } = {}) {
      return request(ENDPOINTS.recentFailures(), { limit }, { signal, adapt: ADAPT.recentFailures });
    },
  };
}
