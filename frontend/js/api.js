// The JSON API client: the ONE place that knows the endpoint paths, their
// query parameters and the shapes the pages read.
//
// createApi({fetch}) takes the fetch to use, so node --test drives it with a
// fake. Every function resolves to the response JSON exactly as the API
// serves it (its shapes: /api/v1/openapi.json): the pages read the API's own
// field names, and every figure they show (rates, intervals, rolling means,
// totals) is one the API computed. Failures reject with an ApiError.
//
// Conventions (docs/design.md, "API conventions"): JSON under /api/v1/;
// `start`, `stop` are ISO 8601 instants, `resolution` one of the resolutions
// GET /status serves in `rules`, `limit`/`offset` paginate; errors are
// 4xx/5xx with {"error": {"message", "field"}}. A rate is the flat fields
// {failure_rate, n, ci_low, ci_high} (failure_rate and the 95% Wilson
// interval null when n = 0); rolling_* the same over a trailing window.

export const API_ROOT = '/api/v1';

const enc = encodeURIComponent;

/**
 * Endpoint paths. Path keys are percent-encoded whole: a test id or job name
 * containing `/` arrives as %2F (the Flask routes need the `path:`
 * converter for them).
 */
export const ENDPOINTS = Object.freeze({
  status: () => `${API_ROOT}/status`,
  runsOverTime: () => `${API_ROOT}/runs/over_time`,
  jobs: () => `${API_ROOT}/jobs`,
  job: (name) => `${API_ROOT}/jobs/${enc(name)}`,
  jobTests: (name) => `${API_ROOT}/jobs/${enc(name)}/tests`,
  tests: () => `${API_ROOT}/tests`,
  test: (testId) => `${API_ROOT}/tests/${enc(testId)}`,
  runs: () => `${API_ROOT}/runs`,
  run: (runId) => `${API_ROOT}/runs/${enc(runId)}`,
  recentFailures: () => `${API_ROOT}/failures/recent`,
  metadataKeys: () => `${API_ROOT}/metadata/keys`,
  metadataValues: () => `${API_ROOT}/metadata/values`,
  flakyTests: () => `${API_ROOT}/flaky-tests`,
  clusters: () => `${API_ROOT}/clusters`,
  broken: () => `${API_ROOT}/broken`,
  explained: () => `${API_ROOT}/explained`,
  suspects: () => `${API_ROOT}/suspects`,
  flakyJobs: () => `${API_ROOT}/flaky-jobs`,
  ciScoreboard: () => `${API_ROOT}/ci/scoreboard`,
  ciSeries: () => `${API_ROOT}/ci/scoreboard/series`,
  ciSystem: (name) => `${API_ROOT}/ci/systems/${enc(name)}`,
  ciCoverage: (name) => `${API_ROOT}/ci/systems/${enc(name)}/coverage`,
  ciJobs: () => `${API_ROOT}/ci/jobs`,
  ciAgreement: () => `${API_ROOT}/ci/agreement`,
  ciProjects: () => `${API_ROOT}/ci/projects`,
  ciGrid: () => `${API_ROOT}/ci/grid`,
  ciUpstream: () => `${API_ROOT}/ci/upstream`,
  testRanking: () => `${API_ROOT}/test-ranking`,
});

/** The failure-intelligence endpoints (ci-health analyze), served as they are. */
export const INSIGHT_KINDS = Object.freeze(['flakyTests', 'clusters', 'broken', 'explained', 'suspects', 'flakyJobs']);

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
  async function request(path, params = {}, { signal } = {}) {
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
      return body;
    } finally {
      if (onActivity) onActivity(-1);
    }
  }

  const window = ({ start, stop } = {}) => ({ start, stop });
  const metaFilters = (meta) => (meta || []).map(({ key, value }) => `${key}:${value}`);

  return {
    request,

    /** GET /status -> {database, schema, newest_run_at, cache, version, rules} */
    getStatus({ signal } = {}) {
      return request(ENDPOINTS.status(), {}, { signal });
    },

    /**
     * GET /runs/over_time?key&start&stop&resolution&meta&groups&window
     * -> {key, buckets, window, series: [{value, runs, passed, failed, empty, RATE,
     *     points: [{bucket, passed, failed, empty, RATE, rolling RATE, mean_run_time}]}],
     *     totals: [{bucket, passed, failed, empty}], groups_total, groups_truncated}
     */
    getRunsTimeline({ groupBy, start, stop, resolution, meta = [], groups = 20, window: span, signal } = {}) {
      return request(ENDPOINTS.runsOverTime(), {
        key: groupBy, ...window({ start, stop }), resolution, meta: metaFilters(meta), groups, window: span,
      }, { signal });
    },

    /** GET /jobs?start&stop -> {total: {runs, passed, failed, empty, jobs, RATE}, jobs: [{job, runs, ...}]} */
    listJobs({ start, stop, signal } = {}) {
      return request(ENDPOINTS.jobs(), window({ start, stop }), { signal });
    },

    /**
     * GET /jobs/<name>?start&stop&resolution&window&recent
     * -> {job, runs, passed, failed, empty, RATE, mean_run_time, points: [...], recent_runs}
     */
    getJob(name, { start, stop, resolution, window: span, recent, signal } = {}) {
      return request(ENDPOINTS.job(name), { ...window({ start, stop }), resolution, window: span, recent }, { signal });
    },

    /** GET /jobs/<name>/tests?start&stop&sort&limit&offset (whole UTC days) */
    listJobTests(name, { start, stop, sort, limit, offset, signal } = {}) {
      return request(ENDPOINTS.jobTests(name), { ...window({ start, stop }), sort, limit, offset }, { signal });
    },

    /**
     * GET one failure-intelligence document (INSIGHT_KINDS): /flaky-tests,
     * /clusters, /broken, /explained, /suspects, /flaky-jobs, as served.
     */
    getInsight(kind, params = {}, { signal } = {}) {
      if (!INSIGHT_KINDS.includes(kind)) throw new Error(`unknown insight kind ${kind}`);
      return request(ENDPOINTS[kind](), params, { signal });
    },

    /** GET /test-ranking?q&sort&limit&offset: every test of the analysed period, ranked by the server */
    rankTests({ q, sort, limit, offset, signal } = {}) {
      return request(ENDPOINTS.testRanking(), { q, sort, limit, offset }, { signal });
    },

    /** GET /tests?q&mode&sort&limit&offset (mode prefix|substring; sort over every match) */
    searchTests({ q, mode, sort, limit, offset, signal } = {}) {
      return request(ENDPOINTS.tests(), { q, mode, sort, limit, offset }, { signal });
    },

    /** GET /tests/<test_id>?start&stop&resolution&window&recent -> {test, summary, points, jobs, recent_failures} */
    getTest(testId, { start, stop, resolution, window: span, recent, signal } = {}) {
      return request(ENDPOINTS.test(testId), { ...window({ start, stop }), resolution, window: span, recent }, { signal });
    },

    /** GET /runs?meta=key:value&outcome&start&stop&limit&offset -> {runs, total, limit, offset} */
    listRuns({ meta = [], outcome, start, stop, limit, offset, signal } = {}) {
      return request(ENDPOINTS.runs(), {
        meta: metaFilters(meta), outcome: outcome === 'all' ? null : outcome, ...window({ start, stop }), limit, offset,
      }, { signal });
    },

    /** GET /runs/<uuid or id> -> Run + {tests: [{test_id, status, start_time, stop_time, duration}], failed_tests} */
    getRun(runId, { signal } = {}) {
      return request(ENDPOINTS.run(runId), {}, { signal });
    },

    /** GET /failures/recent?limit&meta&start&stop -> {runs: [Run + build_name, failed_tests]} */
    listRecentFailures({ limit, meta = [], start, stop, signal } = {}) {
      return request(ENDPOINTS.recentFailures(), { limit, meta: metaFilters(meta), ...window({ start, stop }) }, { signal });
    },

    /** GET /metadata/keys -> {keys: [string]} */
    listMetadataKeys({ signal } = {}) {
      return request(ENDPOINTS.metadataKeys(), {}, { signal });
    },

    // ---- CI systems (health_api/api/ci.py), served as they are: success rates
    // are flat {success_rate, n, ci_low, ci_high} on each row.

    /** GET /ci/scoreboard?start&stop -> {systems: [{system, display_name, status, reports, success_rate, n, ci_low, ci_high, ...}]} */
    getCiScoreboard({ start, stop, signal } = {}) {
      return request(ENDPOINTS.ciScoreboard(), window({ start, stop }), { signal });
    },

    /** GET /ci/systems/<name>?start&stop&resolution&missed -> the scoreboard row + points, coverage, missed_patch_sets, agreement */
    getCiSystem(name, { start, stop, resolution, missed = 50, signal } = {}) {
      return request(ENDPOINTS.ciSystem(name), { ...window({ start, stop }), resolution, missed }, { signal });
    },

    /** GET /ci/jobs?start&stop&system&limit -> {jobs: [{system, job, counts, success_rate, failure_rate, infra, recheck_flips, ...}]} */
    listCiJobs({ start, stop, system = null, limit = 20, signal } = {}) {
      return request(ENDPOINTS.ciJobs(), { ...window({ start, stop }), system, limit }, { signal });
    },

    /** GET /ci/upstream?start&stop&resolution -> {upstream: [name], systems: [scoreboard row], buckets, series} */
    getCiUpstream({ start, stop, resolution, signal } = {}) {
      return request(ENDPOINTS.ciUpstream(), { ...window({ start, stop }), resolution }, { signal });
    },

    /** GET /ci/projects?stop -> {projects: [{project, systems: [...], upstream: [...]}], without_ci: [project]} */
    getCiProjects({ stop, signal } = {}) {
      return request(ENDPOINTS.ciProjects(), { stop }, { signal });
    },

    /** GET /ci/grid?project&start&stop&system&pipeline&columns -> {columns: [...], rows: [{system, pipeline, job, cells}], pipelines} */
    getCiGrid(project, { start, stop, system = null, pipeline = null, columns = 20, signal } = {}) {
      return request(ENDPOINTS.ciGrid(), { project, ...window({ start, stop }), system, pipeline, columns }, { signal });
    },

    /** GET /metadata/values?key&limit -> {key, total, values: [{value, runs}]} */
    listMetadataValues(key, { limit, signal } = {}) {
      return request(ENDPOINTS.metadataValues(), { key, limit }, { signal });
    },
  };
}
