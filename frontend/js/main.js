// The application shell: routing from the location hash, the header's
// navigation and shared controls, the loading indicator, the stale-data
// banner, and the page modules.

import { createApi } from './api.js';
import {
  parseHash, serialiseState, hrefFor, timeWindow, periodToMs, periodLabel,
  PAGES, PERIOD_PRESETS, resolutionChoices, normaliseInstant,
} from './state.js';
import { effectiveResolution, alignWindow } from './resolution.js';
import { loadRulesFromPage } from './rules.js';
import { parseAge, staleness, ageLabel, replicaLag, lagLabel } from './status.js';
import { formatRelative, formatDateTime } from './format.js';
import { h, byId, replace } from './dom.js';
import { disposeCharts } from './charts.js';
import * as overview from './pages/overview.js';
import * as job from './pages/job.js';
import * as test from './pages/test.js';
import * as tests from './pages/tests.js';
import * as runs from './pages/runs.js';
import * as run from './pages/run.js';
import * as ci from './pages/ci.js';
import * as insight from './pages/insight.js';
import * as ciSystem from './pages/ci_system.js';
import * as ciProjects from './pages/ci_projects.js';
import * as ciGrid from './pages/ci_grid.js';

const MODULES = { overview, job, test, tests, runs, run, ci, ciSystem, ciProjects, ciGrid, insight };
/** The navigation entry that is current for each page. */
const NAV_OF = { overview: 'overview', job: 'overview', test: 'tests', tests: 'tests', runs: 'runs', run: 'runs', ci: 'ci', ciSystem: 'ci', ciProjects: 'ci', ciGrid: 'ci', insight: 'insight' };
const STATUS_TTL_MS = 60 * 1000;
const RESOLUTION_LABELS = { auto: 'Auto', sec: 'Second', min: 'Minute', hour: 'Hour', day: 'Day' };

// ---------------------------------------------------------------- loading

let inFlight = 0;
function onActivity(delta) {
  inFlight = Math.max(0, inFlight + delta);
  const bar = document.getElementById('loading-bar');
  if (bar) bar.hidden = inFlight === 0;
  document.documentElement.toggleAttribute('data-loading', inFlight > 0);
}

const api = createApi({ onActivity });

// ---------------------------------------------------------------- controls

function controlValues(form) {
  const data = new FormData(form);
  const end = data.get('end');
  return {
    period: data.get('period'),
    // datetime-local has no zone: the dashboard speaks UTC
    end: end ? normaliseInstant(`${end}Z`) : null,
    resolution: data.get('resolution'),
    groupBy: (data.get('group_by') || '').trim(),
  };
}

let shownResolution = null;

function renderControls(state, resolutionInfo) {
  shownResolution = resolutionInfo;
  const form = byId('controls');
  const params = PAGES[state.page].params;
  const show = (name, on) => { form.querySelector(`[data-control="${name}"]`).hidden = !on; };
  show('period', params.includes('period'));
  show('end', params.includes('end'));
  show('resolution', params.includes('resolution'));
  show('group_by', params.includes('groupBy'));
  form.hidden = !params.includes('period') && !params.includes('end');

  const period = form.elements.period;
  const presets = PERIOD_PRESETS.includes(state.period) ? PERIOD_PRESETS : [...PERIOD_PRESETS, state.period]
    .sort((a, b) => periodToMs(a) - periodToMs(b));
  replace(period, presets.map((p) => h('option', { value: p }, periodLabel(p))));
  if (state.period) period.value = state.period;

  form.elements.end.value = state.end ? state.end.slice(0, 16) : '';
  form.querySelector('[data-action="now"]').hidden = !state.end;

  const resolution = form.elements.resolution;
  replace(resolution, resolutionChoices().map((r) => h('option', { value: r },
    r === 'auto' && resolutionInfo ? `Auto (${RESOLUTION_LABELS[resolutionInfo.resolution].toLowerCase()})` : RESOLUTION_LABELS[r])));
  resolution.value = state.resolution || 'auto';

  form.elements.group_by.value = state.groupBy || '';
}

function bindControls() {
  const form = byId('controls');
  const apply = () => {
    const current = parseHash(location.hash);
    const next = { ...current, ...controlValues(form), offset: 0 };
    if (serialiseState(next) !== serialiseState(current)) navigate(next);
    else renderControls(current, shownResolution); // an invalid value: show the current one again
  };
  form.addEventListener('change', (event) => {
    if (event.target.name === 'group_by') return; // applied on submit / blur
    apply();
  });
  form.elements.group_by.addEventListener('change', apply);
  form.addEventListener('submit', (event) => { event.preventDefault(); apply(); });
  form.querySelector('[data-action="now"]').addEventListener('click', () => {
    form.elements.end.value = '';
    apply();
  });
}

// ---------------------------------------------------------------- navigation

function renderNav(state) {
  const current = NAV_OF[state.page];
  for (const a of document.querySelectorAll('#nav [data-nav]')) {
    const page = a.dataset.nav;
    a.setAttribute('href', hrefFor(page, {}, state));
    if (page === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Goes to a state (pushes history unless replace). */
export function navigate(state, { replace: replaceEntry = false } = {}) {
  const hash = serialiseState(state);
  if (hash === location.hash) {
    route();
    return;
  }
  if (replaceEntry) {
    history.replaceState(null, '', hash);
    route();
  } else {
    location.hash = hash; // hashchange -> route()
  }
}

// ---------------------------------------------------------------- status

let statusCache = null;

function staleAfterMs() {
  const meta = document.querySelector('meta[name="ci-health:stale-after"]');
  return parseAge(meta ? meta.getAttribute('content') : null);
}

async function refreshStatus(signal) {
  const banner = byId('stale-banner');
  const badge = byId('api-status');
  try {
    if (!statusCache || Date.now() - statusCache.at > STATUS_TTL_MS) {
      statusCache = { at: Date.now(), body: await api.getStatus({ signal }) };
    }
    const body = statusCache.body || {};
    const maxAge = staleAfterMs();
    const { stale, newest } = staleness(body.newest_run_at, new Date(), maxAge);
    badge.className = `api-status ${stale ? 'is-stale' : 'is-ok'}`;
    replace(badge, h('span', { class: 'dot', 'aria-hidden': 'true' }),
      newest ? `Newest run ${formatRelative(newest)} (${formatDateTime(newest)})` : 'No runs yet');
    badge.title = newest ? `Newest run: ${formatDateTime(newest)}` : 'The database has no run';
    const { behind, lagMs } = replicaLag(body.replica);
    banner.hidden = !stale && !behind;
    if (stale) {
      replace(banner, h('strong', {}, 'Data may be stale. '),
        newest
          ? `The newest run is from ${formatDateTime(newest)} (${formatRelative(newest)}): nothing has been ingested for more than ${ageLabel(maxAge)}.`
          : 'No run has been ingested yet.');
    } else if (behind) {
      replace(banner, h('strong', {}, 'Data may be stale. '),
        `This server reads from a database replica that is ${lagLabel(lagMs)} behind the primary${body.replica.streaming ? '' : ' and not receiving from it'}.`);
    }
  } catch (error) {
    if (error && error.aborted) return;
    statusCache = null;
    badge.className = 'api-status is-error';
    replace(badge, h('span', { class: 'dot', 'aria-hidden': 'true' }), 'API unreachable');
    badge.title = error && error.message ? error.message : '';
    banner.hidden = true;
  }
}

// ---------------------------------------------------------------- routing

let controller = null;
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

export async function route() {
  const state = parseHash(location.hash);
  const canonical = serialiseState(state);
  if (location.hash !== canonical && !(canonical === '#/' && (location.hash === '' || location.hash === '#'))) {
    history.replaceState(null, '', canonical);
  }
  if (controller) controller.abort();
  controller = new AbortController();
  const { signal } = controller;
  disposeCharts();

  const spec = PAGES[state.page];
  // a new page opens at its top, not at the scroll position of the last one
  window.scrollTo(0, 0);
  const newest = statusCache && statusCache.body ? statusCache.body.newest_run_at : null;
  let timeWin = spec.params.includes('period') ? timeWindow(state, new Date(), newest) : null;
  const resolution = timeWin ? effectiveResolution(state.resolution, timeWin.periodMs) : null;
  if (timeWin) {
    // whole buckets, as the API snaps them: every view of the period (the jobs
    // table, a job's page, its charts) then counts the same runs
    timeWin = { ...timeWin, ...alignWindow(timeWin.start, timeWin.stop, resolution.resolution) };
  }
  renderNav(state);
  renderControls(state, spec.params.includes('resolution') ? resolution : null);
  refreshStatus(signal).then(() => {
    // the first answer of /status may move the default period to the newest run
    const known = statusCache && statusCache.body ? statusCache.body.newest_run_at : null;
    if (!signal.aborted && timeWin && !state.end && known !== newest
        && timeWindow(state, new Date(), known).atNewest) route();
  });

  const main = byId('page');
  main.replaceChildren();
  main.dataset.page = state.page;
  main.dataset.pageState = 'loading';
  delete main.dataset.pageReady;
  const ctx = {
    state: { ...state }, api, signal, root: main, window: timeWin,
    resolution: spec.params.includes('resolution') ? resolution : null,
    navigate,
    /** The link to another page keeping the shared controls. */
    href: (page, values = {}) => hrefFor(page, values, state),
    /** The link to this page with some state changed. */
    with: (patch) => serialiseState({ ...state, ...patch }),
    /**
     * Changes this page's state in the URL without reloading its data (table
     * sorting): the page redraws what depends on it.
     */
    replaceState: (patch) => {
      Object.assign(ctx.state, parseHash(serialiseState({ ...ctx.state, ...patch })));
      history.replaceState(null, '', serialiseState(ctx.state));
    },
    setTitle: (text) => { document.title = text ? `${text} \u00b7 ci-health` : 'ci-health'; },
  };
  let outcome;
  try {
    const results = await MODULES[state.page].render(ctx);
    outcome = [results].flat().includes('error') ? 'error' : 'ready';
  } catch (error) {
    if (signal.aborted) return;
    console.error(error);
    outcome = 'error';
  }
  if (signal.aborted) return;
  await nextFrame();
  await nextFrame();
  if (signal.aborted) return;
  main.dataset.pageState = outcome;
  main.dataset.pageReady = String(Math.round(performance.now()));
}

/** The group-by suggestions: the run metadata keys the database has. */
async function loadGroupKeys() {
  try {
    const { keys } = await api.listMetadataKeys();
    if (keys.length) replace(byId('group-keys'), keys.map((k) => h('option', { value: k })));
  } catch {
    // the list in index.html stays
  }
}

function start() {
  loadRulesFromPage();
  bindControls();
  loadGroupKeys();
  window.addEventListener('hashchange', route);
  route();
}

start();
