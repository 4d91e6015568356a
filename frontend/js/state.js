// URL state: every view of the dashboard is described by its URL, so any
// view can be shared as a link.
//
// The state lives in the location hash, `#/<route>?<params>`, so that the
// Flask app only has to serve index.html at `/` (no server-side routes):
//
//   #/                                  overview
//   #/jobs/<job name>                   one job
//   #/tests                             tests search
//   #/tests/<test id>                   one test
//   #/runs                              runs list
//   #/runs/<run id>                     one run
//   #/ci                                CI systems: scoreboard, upstream health, unstable jobs
//   #/ci/systems/<username>             one CI system
//   #/ci/projects                       who has CI
//   #/ci/projects/<project>             a project's CI grid
//
// Path segments are percent-encoded (a job name or test id may contain `/`,
// `?`, `#` or anything else). Shared params: period, end, resolution,
// group_by; page params: sort, q, meta, outcome, limit, offset.
//
// parseHash() never throws: garbage yields the defaults. serialiseState()
// omits defaults, so links stay short, and parseHash(serialiseState(s))
// gives back normaliseState(s).
//
// Pure functions only (no DOM).

import { resolutionNames } from './rules.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MIN_PERIOD_MS = DAY_MS;
export const MAX_PERIOD_MS = 183 * DAY_MS; // six months

/** Period presets offered in the header; any valid period is accepted from a URL. */
export const PERIOD_PRESETS = Object.freeze(['1d', '2d', '7d', '14d', '30d', '60d', '90d', '6m']);
/** 'auto' and the resolutions the API serves (rules.js). */
export function resolutionChoices() {
  return ['auto', ...resolutionNames()];
}
export const OUTCOMES = Object.freeze(['all', 'passed', 'failed', 'empty']);
export const LIMITS = Object.freeze({ min: 10, max: 500, default: 50 });

export const DEFAULTS = Object.freeze({
  period: '7d',
  end: null, // null = up to now
  resolution: 'auto',
  groupBy: 'build_name',
  outcome: 'all',
  q: '',
  limit: LIMITS.default,
  offset: 0,
});

const SHARED = ['period', 'end', 'resolution'];

/**
 * The pages. `params` lists the state keys a page keeps (everything else is
 * dropped by normaliseState), `sorts` the sortable columns of its main table
 * with `sort` the default (`-key` = descending).
 */
export const PAGES = Object.freeze({
  overview: {
    title: 'Overview', route: '', params: [...SHARED, 'groupBy', 'sort'],
    sorts: ['job', 'runs', 'failed', 'failure_rate', 'last_run_at', 'mean_run_time'], sort: '-failure_rate',
  },
  job: {
    title: 'Job', route: 'jobs', key: 'name', params: [...SHARED, 'sort'],
    sorts: ['test_id', 'runs', 'failure', 'failure_rate', 'flip_rate', 'mean_run_time'], sort: '-failure',
  },
  tests: {
    title: 'Tests', route: 'tests', params: ['q', 'sort', 'limit', 'offset'],
    sorts: ['test_id', 'run_count', 'failure', 'failure_rate', 'mean_run_time',
      'rank_failure_rate', 'flakiness', 'impact'], sort: 'test_id',
  },
  test: {
    title: 'Test', route: 'tests', key: 'testId', params: [...SHARED],
  },
  runs: {
    title: 'Runs', route: 'runs', params: ['period', 'end', 'meta', 'outcome', 'sort', 'limit', 'offset'],
    sorts: ['run_at', 'build_name', 'passes', 'fails', 'skips', 'run_time'], sort: '-run_at',
  },
  run: {
    title: 'Run', route: 'runs', key: 'runId', params: ['sort'],
    sorts: ['test_id', 'status', 'start_time', 'run_time'], sort: 'status',
  },
  ci: {
    title: 'CI systems', route: 'ci', params: ['period', 'end', 'sort'],
    sorts: ['system', 'status', 'reports', 'success_rate', 'unparsed_share', 'report_delay_median', 'last_seen'],
    sort: 'system',
  },
  ciSystem: {
    title: 'CI system', route: 'ci/systems', key: 'ciName', params: [...SHARED, 'sort'],
    sorts: ['job', 'results', 'failure_rate', 'infra', 'recheck_flips'], sort: '-recheck_flips',
  },
  ciProjects: {
    title: 'Who has CI', route: 'ci/projects', params: ['end'],
  },
  ciGrid: {
    title: 'CI grid', route: 'ci/projects', key: 'project', params: ['period', 'end', 'system', 'pipeline'],
  },
  insight: {
    title: 'Insight', route: 'insight', params: [],
  },
});

/** URL parameter name of each state key. */
const URL_NAMES = Object.freeze({
  period: 'period', end: 'end', resolution: 'resolution', groupBy: 'group_by',
  sort: 'sort', q: 'q', meta: 'meta', outcome: 'outcome', limit: 'limit', offset: 'offset',
  system: 'system', pipeline: 'pipeline',
});
/** Serialisation order, so equal states give equal links. */
const PARAM_ORDER = ['q', 'meta', 'outcome', 'system', 'pipeline', 'period', 'end', 'resolution', 'groupBy', 'sort', 'limit', 'offset'];

const MAX_TEXT = 1000;

// ---------------------------------------------------------------- periods

const PERIOD_RE = /^([1-9][0-9]{0,2})([dwm])$/;
const UNIT_DAYS = { d: 1, w: 7, m: 30.5 };

/** '7d' -> ms; '2w', '6m' work too; null for anything invalid or outside 1 day .. 6 months. */
export function periodToMs(period) {
  if (typeof period !== 'string') return null;
  const m = PERIOD_RE.exec(period.trim());
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * UNIT_DAYS[m[2]] * DAY_MS);
  if (ms < MIN_PERIOD_MS || ms > MAX_PERIOD_MS) return null;
  return ms;
}

/** A human label for a period: '1 day', '2 weeks', '6 months'. */
export function periodLabel(period) {
  const m = PERIOD_RE.exec(String(period));
  if (!m) return String(period);
  const n = Number(m[1]);
  const unit = { d: 'day', w: 'week', m: 'month' }[m[2]];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------- values

/**
 * An ISO 8601 instant normalised to `YYYY-MM-DDTHH:MM:SSZ` (UTC), or null.
 * Accepts a date (`2026-10-01`, midnight UTC), a date-time with `Z` or an
 * offset, or one without a zone (taken as UTC).
 */
export function normaliseInstant(value) {
  if (typeof value !== 'string') return null;
  const s = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(s);
  if (!m) return null;
  const [, y, mo, d, hh = '00', mi = '00', ss = '00', zone] = m;
  const iso = `${y}-${mo}-${d}T${hh}:${mi}:${ss}${zone ? zone.toUpperCase() : 'Z'}`;
  const t = Date.parse(iso.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (!Number.isFinite(t)) return null;
  const date = new Date(t);
  // reject rolled-over dates such as 2026-02-31 (only checkable without an offset)
  if (!zone || zone.toUpperCase() === 'Z') {
    if (date.getUTCMonth() + 1 !== Number(mo) || date.getUTCDate() !== Number(d)) return null;
  }
  const year = date.getUTCFullYear();
  if (year < 1970 || year > 9999) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function cleanText(value, max = MAX_TEXT) {
  if (typeof value !== 'string') return null;
  if (value.length === 0 || value.length > max) return null;
  // control characters are never part of a name we serve
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  return value;
}

function cleanInt(value, min, max) {
  if (typeof value === 'number' && Number.isInteger(value)) {
    return value >= min && value <= max ? value : null;
  }
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

const GROUP_KEY_RE = /^[A-Za-z0-9_.:-]{1,255}$/;
const RUN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const SORT_RE = /^-?[a-z_]{1,40}$/;

function cleanMeta(list) {
  if (!Array.isArray(list)) return [];
  const out = [];
  const seen = new Set();
  for (const item of list) {
    let key;
    let value;
    if (typeof item === 'string') {
      const i = item.indexOf('=');
      if (i <= 0) continue;
      key = item.slice(0, i);
      value = item.slice(i + 1);
    } else if (item && typeof item === 'object') {
      ({ key, value } = item);
    }
    if (!GROUP_KEY_RE.test(String(key ?? '')) || cleanText(value, 255) === null) continue;
    const id = `${key}=${value}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ key, value });
    if (out.length >= 10) break;
  }
  return out;
}

// ---------------------------------------------------------------- state

/** The default state of a page (overview when the page is unknown). */
export function defaultState(page = 'overview') {
  const def = PAGES[page] ? page : 'overview';
  return normaliseState({ page: def });
}

/**
 * A state holding only the keys its page uses, each valid (invalid values
 * are replaced by defaults). A page that needs a key it does not have
 * (a job page without a name) becomes the overview. Never throws.
 */
export function normaliseState(input) {
  const s = input && typeof input === 'object' ? input : {};
  let page = typeof s.page === 'string' && Object.hasOwn(PAGES, s.page) ? s.page : 'overview';
  const out = { page };
  const spec = PAGES[page];
  if (spec.key) {
    let value;
    if (spec.key === 'runId') value = RUN_ID_RE.test(String(s.runId ?? '')) ? String(s.runId) : null;
    else value = cleanText(s[spec.key]);
    if (value === null) return normaliseState({ ...s, page: 'overview' });
    out[spec.key] = value;
  }
  for (const key of spec.params) {
    switch (key) {
      case 'period':
        out.period = periodToMs(s.period) !== null ? String(s.period).trim() : DEFAULTS.period;
        break;
      case 'end':
        out.end = normaliseInstant(s.end);
        break;
      case 'resolution':
        out.resolution = resolutionChoices().includes(s.resolution) ? s.resolution : DEFAULTS.resolution;
        break;
      case 'groupBy':
        out.groupBy = GROUP_KEY_RE.test(String(s.groupBy ?? '')) ? s.groupBy : DEFAULTS.groupBy;
        break;
      case 'sort': {
        const name = typeof s.sort === 'string' && SORT_RE.test(s.sort) ? s.sort.replace(/^-/, '') : null;
        out.sort = name && spec.sorts.includes(name) ? s.sort : spec.sort;
        break;
      }
      case 'q':
        out.q = typeof s.q === 'string' ? s.q.trim().slice(0, 500) : DEFAULTS.q;
        if (/[\u0000-\u001f\u007f]/.test(out.q)) out.q = DEFAULTS.q;
        break;
      case 'meta':
        out.meta = cleanMeta(s.meta);
        break;
      case 'outcome':
        out.outcome = OUTCOMES.includes(s.outcome) ? s.outcome : DEFAULTS.outcome;
        break;
      case 'limit':
        out.limit = cleanInt(s.limit, LIMITS.min, LIMITS.max) ?? DEFAULTS.limit;
        break;
      case 'offset':
        out.offset = cleanInt(s.offset, 0, 1e9) ?? DEFAULTS.offset;
        break;
      case 'system':
      case 'pipeline':
        out[key] = cleanText(s[key], 255);
        break;
      default:
        break;
    }
  }
  return out;
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * Parses a location hash (`#/jobs/x?period=30d`, with or without the `#`)
 * into a normalised state. Never throws; unknown routes give the overview.
 */
export function parseHash(hash) {
  try {
    let s = typeof hash === 'string' ? hash : '';
    if (s.startsWith('#')) s = s.slice(1);
    const q = s.indexOf('?');
    const path = q >= 0 ? s.slice(0, q) : s;
    const query = q >= 0 ? s.slice(q + 1) : '';
    const parts = path.replace(/^\/+/, '').split('/');
    const [route, ...rest] = parts;
    const raw = {};
    const params = new URLSearchParams(query);
    for (const [key, urlName] of Object.entries(URL_NAMES)) {
      if (key === 'meta') raw.meta = params.getAll(urlName);
      else if (params.has(urlName)) raw[key] = params.get(urlName);
    }
    // a key is one percent-encoded segment; tolerate a raw `/` in it
    const keySegment = rest.length ? safeDecode(rest.join('/')) : '';
    if (keySegment === null) return defaultState(); // malformed percent-encoding
    if (route === 'jobs') Object.assign(raw, { page: 'job', name: keySegment });
    else if (route === 'tests') Object.assign(raw, keySegment ? { page: 'test', testId: keySegment } : { page: 'tests' });
    else if (route === 'runs') Object.assign(raw, keySegment ? { page: 'run', runId: keySegment } : { page: 'runs' });
    else if (route === 'ci') Object.assign(raw, ciRoute(rest));
    else if (route === 'insight' && !keySegment) raw.page = 'insight';
    else raw.page = 'overview';
    return normaliseState(raw);
  } catch {
    return defaultState();
  }
}

/** The CI pages: `ci`, `ci/systems/<name>`, `ci/projects`, `ci/projects/<project>`. */
function ciRoute(rest) {
  const [section, ...tail] = rest;
  const key = tail.length ? safeDecode(tail.join('/')) : '';
  if (!section) return { page: 'ci' };
  if (section === 'systems' && key) return { page: 'ciSystem', ciName: key };
  if (section === 'projects') return key ? { page: 'ciGrid', project: key } : { page: 'ciProjects' };
  return { page: 'overview' };
}

/** The hash (starting with `#/`) of a state; defaults are left out. */
export function serialiseState(input) {
  const state = normaliseState(input);
  const spec = PAGES[state.page];
  let path = `#/${spec.route}`;
  if (spec.key) path += `/${encodeURIComponent(state[spec.key])}`;
  const pairs = [];
  for (const key of PARAM_ORDER) {
    if (!spec.params.includes(key)) continue;
    const value = state[key];
    const urlName = URL_NAMES[key];
    if (key === 'meta') {
      for (const { key: k, value: v } of value) pairs.push([urlName, `${k}=${v}`]);
    } else if (key === 'sort') {
      if (value !== spec.sort) pairs.push([urlName, value]);
    } else if (value !== null && value !== DEFAULTS[key]) {
      pairs.push([urlName, String(value)]);
    }
  }
  const query = pairs.map(([k, v]) => `${k}=${encodeQueryValue(v)}`).join('&');
  return query ? `${path}?${query}` : path;
}

/** encodeURIComponent, but keeping `:` `/` `,` `@` readable (all legal in a query). */
function encodeQueryValue(value) {
  return encodeURIComponent(value).replace(/%(3A|2F|2C|40)/gi, (m) => decodeURIComponent(m));
}

/** The link to a page: `hrefFor('job', {name: 'x'}, current)` keeps the shared params of `current`. */
export function hrefFor(page, values = {}, current = null) {
  const shared = {};
  if (current) {
    for (const key of [...SHARED, 'groupBy']) if (key in current) shared[key] = current[key];
  }
  return serialiseState({ ...shared, ...values, page });
}

/**
 * The time window a state covers: `stop` is the state's end, or now rounded
 * up to the next minute (so repeated loads hit the same cache entries).
 * Without an end, when the newest run (`newest`, ISO, from GET /status) is
 * older than the whole period, the period ends just after that run instead
 * (`atNewest` true): an old database opens on its data, not on an empty week.
 */
export function timeWindow(state, now = new Date(), newest = null) {
  const periodMs = periodToMs(state.period) ?? periodToMs(DEFAULTS.period);
  const minute = (ms) => Math.floor(ms / 60000) * 60000 + 60000;
  let stopMs;
  let atNewest = false;
  if (state.end) stopMs = Date.parse(state.end);
  else {
    stopMs = Math.ceil(now.getTime() / 60000) * 60000;
    const newestMs = newest ? Date.parse(newest) : NaN;
    if (Number.isFinite(newestMs) && newestMs < stopMs - periodMs) {
      stopMs = minute(newestMs);
      atNewest = true;
    }
  }
  return { start: new Date(stopMs - periodMs), stop: new Date(stopMs), periodMs, atNewest };
}
