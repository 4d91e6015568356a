// The JSON API client: the ONE place that knows the endpoint paths, their
// query parameters and the shapes the pages read.
//
// createApi({fetch}) takes the fetch to use, so node --test drives it with a
// fake. Every function resolves to the response JSON passed through the
// endpoint's adapter (ADAPT: the API's shapes -> the ones documented on the
// functions below, which the pages read) and rejects with an ApiError.
//
// Conventions (DESIGN.md section 5): JSON under /api/v1/; `start`, `stop` are
// ISO 8601 instants, `resolution` one of sec|min|hour|day, `limit`/`offset`
// paginate; errors are 4xx/5xx with {"error": {"message", "field"}}.
// The API serves a rate as flat fields {failure_rate, n, ci_low, ci_high};
// the adapters turn it into a Rate {value, low, high, n}: value =
// failed/(passed+failed) or null when n = 0, low/high its 95% Wilson interval.

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
  ciScoreboard: () => `${API_ROOT}/ci/scoreboard`,
  ciSeries: () => `${API_ROOT}/ci/scoreboard/series`,
  ciSystem: (name) => `${API_ROOT}/ci/systems/${enc(name)}`,
  ciCoverage: (name) => `${API_ROOT}/ci/systems/${enc(name)}/coverage`,
  ciJobs: () => `${API_ROOT}/ci/jobs`,
  ciAgreement: () => `${API_ROOT}/ci/agreement`,
  ciProjects: () => `${API_ROOT}/ci/projects`,
  ciGrid: () => `${API_ROOT}/ci/grid`,
  ciUpstream: () => `${API_ROOT}/ci/upstream`,
});

/** The label of the runs without a value for the grouping key (the API's null). */
export const NO_VALUE = '(no value)';

const list = (value) => (Array.isArray(value) ? value : []);
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const count = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * The API serves a rate as flat fields {failure_rate, n, ci_low, ci_high}
 * on its object; the pages use {value, low, high, n}.
 */
export function toRate(obj) {
  const o = obj && typeof obj === 'object' ? obj : {};
  const n = count(o.n);
  return { value: n > 0 ? num(o.failure_rate) : null, low: num(o.ci_low), high: num(o.ci_high), n };
}

/** The run fields the pages read (GET /runs, /runs/<id>, /failures/recent, recent_runs). */
function adaptRun(r) {
  const run = r && typeof r === 'object' ? r : {};
  return {
    id: run.id ?? null,
    uuid: run.uuid ?? null,
    run_at: run.run_at ?? null,
    passes: count(run.passes),
    fails: count(run.fails),
    skips: count(run.skips),
    run_time: num(run.run_time),
    artifacts: run.artifacts ?? null,
    outcome: run.outcome ?? null,
    metadata: run.metadata && typeof run.metadata === 'object' ? run.metadata : {},
  };
}

/**
 * Response adapters, one per endpoint: they turn the API's JSON
 * (health_api/api/*.py, /api/v1/openapi.json) into the shapes documented on
 * the functions below, which are what the pages read.
 */
/** A CI success rate {success_rate, n, ci_low, ci_high} as a Rate of successes. */
export function toSuccess(obj) {
  const o = obj && typeof obj === 'object' ? obj : {};
  return toRate({ failure_rate: o.success_rate, n: o.n, ci_low: o.ci_low, ci_high: o.ci_high });
}

function adaptCiJob(j) {
  return {
    ...j,
    success_rate: toSuccess(j),
    failure: count(j.failure),
    failure_rate: toRate({ failure_rate: j.failure_rate, n: count(j.success) + count(j.failure), ci_low: j.failure_ci_low, ci_high: j.failure_ci_high }),
  };
}

function adaptCiSystem(r) {
  return { ...r, success_rate: toSuccess(r), jobs: list(r.jobs).map(adaptCiJob) };
}

export const ADAPT = {
  ciScoreboard: (b) => ({ ...b, systems: list(b.systems).map(adaptCiSystem) }),
  ciSystem: (b) => ({ ...adaptCiSystem(b), points: list(b.points).map((p) => ({ ...p, rate: toSuccess(p) })) }),
  ciJobs: (b) => ({ ...b, jobs: list(b.jobs).map(adaptCiJob) }),
  status: (b) => ({
    version: b.version ?? null,
    database: b.database ?? null,
    newest_run_at: b.newest_run_at ?? null,
    schema: b.schema ?? null,
  }),

  // {key, resolution, buckets, series: [{value, points: [{bucket, passed, failed, empty, ...}]}]}
  runsOverTime: (b) => {
    const buckets = list(b.buckets);
    return {
      group_by: b.key,
      resolution: b.resolution,
      buckets,
      groups_total: count(b.groups_total),
      groups_truncated: !!b.groups_truncated,
      groups: list(b.series).map((s) => {
        // points are one per bucket, in order; index them by bucket anyway
        const at = new Map(list(s.points).map((p) => [p.bucket, p]));
        const pick = (k) => buckets.map((t) => count((at.get(t) || {})[k]));
        return {
          key: s.value === null || s.value === undefined ? NO_VALUE : String(s.value),
          passed: pick('passed'),
          failed: pick('failed'),
          empty: pick('empty'),
        };
      }),
    };
  },

  jobs: (b) => ({
    start: b.start ?? null,
    stop: b.stop ?? null,
    jobs: list(b.jobs).map((j) => ({
      name: String(j.job),
      runs: count(j.runs),
      passed: count(j.passed),
      failed: count(j.failed),
      empty: count(j.empty),
      failure_rate: toRate(j),
      previous_rate: toRate(j.previous),
      change: num(j.change),
      mean_run_time: num(j.mean_run_time),
      p95_run_time: num(j.p95_run_time),
      last_run_at: j.last_run_at ?? null,
    })),
  }),

  job: (b) => ({
    name: b.job,
    resolution: b.resolution,
    points: list(b.points).map((p) => ({
      t: p.bucket, passed: count(p.passed), failed: count(p.failed), empty: count(p.empty),
      mean_run_time: num(p.mean_run_time), std_run_time: num(p.std_run_time),
    })),
    recent_runs: list(b.recent_runs).map(adaptRun),
  }),

  jobTests: (b) => ({
    total: num(b.total),
    limit: num(b.limit),
    offset: num(b.offset),
    sort: b.sort ?? null,
    tests: list(b.tests).map((t) => ({
      test_id: String(t.test_id),
      runs: count(t.success) + count(t.failure) + count(t.skip),
      passes: count(t.success),
      failures: count(t.failure),
      skips: count(t.skip),
      failure_rate: toRate(t),
      mean_run_time: num(t.mean_run_time),
    })),
  }),

  tests: (b) => ({
    total: num(b.total),
    limit: num(b.limit),
    offset: num(b.offset),
    tests: list(b.tests).map((t) => ({
      test_id: String(t.test_id),
      run_count: count(t.run_count),
      success: count(t.success),
      failure: count(t.failure),
      failure_rate: toRate(t),
      run_time: num(t.mean_run_time),
    })),
  }),

  test: (b) => {
    const t = b.test || {};
    return {
      test_id: t.test_id ?? null,
      totals: { run_count: count(t.run_count), success: count(t.success), failure: count(t.failure), mean_run_time: num(t.mean_run_time) },
      resolution: b.resolution,
      points: list(b.points).map((p) => ({
        t: p.bucket, passed: count(p.success), failed: count(p.failure), skipped: count(p.skip),
        mean_run_time: num(p.mean_run_time),
      })),
      jobs: list(b.jobs).map((j) => ({
        job: String(j.job), passes: count(j.success), failures: count(j.failure), skips: count(j.skip),
        runs: count(j.success) + count(j.failure) + count(j.skip), failure_rate: toRate(j),
      })),
      recent_failures: list(b.recent_failures).map((f) => ({
        run_id: f.run_id ?? null,
        build_name: f.job ?? null,
        run_at: f.run_at ?? null,
        start_time: f.start_time ?? null,
        status: f.status ?? null,
        link: f.link ?? null,
        traceback: f.traceback ?? null,
      })),
    };
  },

  runs: (b) => ({
    total: num(b.total), limit: num(b.limit), offset: num(b.offset), runs: list(b.runs).map(adaptRun),
  }),

  run: (b) => ({
    run: adaptRun(b),
    tests: list(b.tests).map((t) => ({
      test_id: String(t.test_id), status: t.status ?? null, start_time: t.start_time ?? null,
      stop_time: t.stop_time ?? null, run_time: num(t.duration),
    })),
    failed_tests: list(b.failed_tests).map((t) => ({
      test_id: String(t.test_id), status: t.status ?? null, traceback: t.traceback ?? null,
    })),
  }),

  // newest failed runs, each with its failed tests -> one entry per failed test
  recentFailures: (b) => {
    const runs = list(b.runs).map((r) => ({ ...adaptRun(r), build_name: r.build_name ?? null, failed_tests: list(r.failed_tests) }));
    return {
      runs,
      failures: runs.flatMap((r) => r.failed_tests.map((t) => ({
        test_id: String(t.test_id),
        status: t.status ?? null,
        run_id: r.uuid ?? r.id,
        run_at: r.run_at,
        build_name: r.build_name,
      }))),
    };
  },

  metadataKeys: (b) => ({ keys: list(b.keys).map(String) }),

  metadataValues: (b) => ({
    key: b.key, total: num(b.total), values: list(b.values).map((v) => ({ value: v.value, runs: count(v.runs) })),
  }),
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
  const metaFilters = (meta) => (meta || []).map(({ key, value }) => `${key}:${value}`);

  return {
    request,

    /**
     * GET /status -> {version, database, newest_run_at: ISO|null, schema}
     */
    getStatus({ signal } = {}) {
      return request(ENDPOINTS.status(), {}, { signal, adapt: ADAPT.status });
    },

    /**
     * GET /runs/over_time?key&start&stop&resolution&meta&groups
     * -> {group_by, resolution, buckets: [ISO...], groups_total, groups_truncated,
     *     groups: [{key, passed: [n...], failed: [n...], empty: [n...]}]}
     * (one count per bucket; empty buckets are zeros; the `groups` most
     * frequent values of the key, NO_VALUE for runs without it)
     */
    getRunsTimeline({ groupBy, start, stop, resolution, meta = [], groups = 20, signal } = {}) {
      return request(ENDPOINTS.runsOverTime(), {
        key: groupBy, ...window({ start, stop }), resolution, meta: metaFilters(meta), groups,
      }, { signal, adapt: ADAPT.runsOverTime });
    },

    /**
     * GET /jobs?start&stop
     * -> {jobs: [{name, runs, passed, failed, empty, failure_rate: Rate, previous_rate: Rate,
     *             change, last_run_at: ISO|null, mean_run_time: s|null, p95_run_time}]}
     */
    listJobs({ start, stop, signal } = {}) {
      return request(ENDPOINTS.jobs(), window({ start, stop }), { signal, adapt: ADAPT.jobs });
    },

    /**
     * GET /jobs/<name>?start&stop&resolution&recent
     * -> {name, resolution,
     *     points: [{t: ISO, passed, failed, empty, mean_run_time: s|null, std_run_time: s|null}],
     *     recent_runs: [Run]}
     * (one point per bucket, empty buckets included; std_run_time is the std
     * of the bucket's run times, null with fewer than two; the page computes
     * its tiles and trailing-window rates and run times from the points)
     */
    getJob(name, { start, stop, resolution, recent, signal } = {}) {
      return request(ENDPOINTS.job(name), { ...window({ start, stop }), resolution, recent }, { signal, adapt: ADAPT.job });
    },

    /**
     * GET /jobs/<name>/tests?start&stop&sort&limit&offset (whole UTC days)
     * -> {tests: [{test_id, runs, passes, failures, skips, failure_rate: Rate, mean_run_time}],
     *     total, limit, offset, sort}
     */
    listJobTests(name, { start, stop, sort, limit, offset, signal } = {}) {
      return request(ENDPOINTS.jobTests(name), { ...window({ start, stop }), sort, limit, offset }, { signal, adapt: ADAPT.jobTests });
    },

    /**
     * GET /tests?q&mode&limit&offset (mode prefix|substring)
     * -> {tests: [{test_id, run_count, success, failure, failure_rate: Rate, run_time}], total, limit, offset}
     */
    searchTests({ q, mode, limit, offset, signal } = {}) {
      return request(ENDPOINTS.tests(), { q, mode, limit, offset }, { signal, adapt: ADAPT.tests });
    },

    /**
     * GET /tests/<test_id>?start&stop&resolution&recent
     * -> {test_id, totals, resolution,
     *     points: [{t, passed, failed, skipped, mean_run_time: s|null}],
     *     jobs: [{job, runs, passes, failures, skips, failure_rate: Rate}],
     *     recent_failures: [{run_id, build_name, run_at, start_time, status, link, traceback}]}
     */
    getTest(testId, { start, stop, resolution, recent, signal } = {}) {
      return request(ENDPOINTS.test(testId), { ...window({ start, stop }), resolution, recent }, { signal, adapt: ADAPT.test });
    },

    /**
     * GET /runs?meta=key:value&outcome&start&stop&limit&offset
     * (meta repeats, one key:value per filter; outcome passed|failed|empty)
     * -> {runs: [Run], total, limit, offset}
     * Run = {id, uuid, run_at, passes, fails, skips, run_time, artifacts, outcome, metadata: {k: v}}
     */
    listRuns({ meta = [], outcome, start, stop, limit, offset, signal } = {}) {
      return request(ENDPOINTS.runs(), {
        meta: metaFilters(meta), outcome: outcome === 'all' ? null : outcome, ...window({ start, stop }), limit, offset,
      }, { signal, adapt: ADAPT.runs });
    },

    /**
     * GET /runs/<uuid or id>
     * -> {run: Run, tests: [{test_id, status, start_time, stop_time, run_time}],
     *     failed_tests: [{test_id, status, traceback}]}
     */
    getRun(runId, { signal } = {}) {
      return request(ENDPOINTS.run(runId), {}, { signal, adapt: ADAPT.run });
    },

    /**
     * GET /failures/recent?limit&meta (the newest failed runs)
     * -> {failures: [{test_id, status, run_id, run_at, build_name}], runs: [Run + build_name, failed_tests]}
     */
    listRecentFailures({ limit, meta = [], signal } = {}) {
      return request(ENDPOINTS.recentFailures(), { limit, meta: metaFilters(meta) }, { signal, adapt: ADAPT.recentFailures });
    },

    /** GET /metadata/keys -> {keys: [string]} */
    listMetadataKeys({ signal } = {}) {
      return request(ENDPOINTS.metadataKeys(), {}, { signal, adapt: ADAPT.metadataKeys });
    },

    // ---- CI systems (health_api/api/ci.py). The CI endpoints serve success
    // rates as flat {success_rate, n, ci_low, ci_high}; toSuccess() turns them
    // into a Rate whose value is the success share.

    /** GET /ci/scoreboard?start&stop -> {systems: [{system, display_name, status, reports, success: Rate, ...}]} */
    getCiScoreboard({ start, stop, signal } = {}) {
      return request(ENDPOINTS.ciScoreboard(), window({ start, stop }), { signal, adapt: ADAPT.ciScoreboard });
    },

    /** GET /ci/systems/<name>?start&stop&resolution&missed -> the scoreboard row + points, coverage, missed_patch_sets, agreement */
    getCiSystem(name, { start, stop, resolution, missed = 50, signal } = {}) {
      return request(ENDPOINTS.ciSystem(name), { ...window({ start, stop }), resolution, missed }, { signal, adapt: ADAPT.ciSystem });
    },

    /** GET /ci/jobs?start&stop&system&limit -> {jobs: [{system, job, counts, failure: Rate, infra, recheck_flips, ...}]} */
    listCiJobs({ start, stop, system = null, limit = 20, signal } = {}) {
      return request(ENDPOINTS.ciJobs(), { ...window({ start, stop }), system, limit }, { signal, adapt: ADAPT.ciJobs });
    },

    /** GET /ci/upstream?start&stop&resolution -> {upstream: [name], systems: [scoreboard row], buckets, series} */
    getCiUpstream({ start, stop, resolution, signal } = {}) {
      return request(ENDPOINTS.ciUpstream(), { ...window({ start, stop }), resolution }, { signal, adapt: ADAPT.ciScoreboard });
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
      return request(ENDPOINTS.metadataValues(), { key, limit }, { signal, adapt: ADAPT.metadataValues });
    },
  };
}
