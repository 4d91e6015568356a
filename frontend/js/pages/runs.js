// Runs: the runs of the period, filtered by run metadata (key=value) and
// outcome, newest first, paged.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, pager, badge, link } from '../components.js';
import { OUTCOMES } from '../state.js';
import { formatCount, formatDuration, safeHref } from '../format.js';
import { pageHeader, timeCell, noData } from './common.js';

const OUTCOME_LABELS = { all: 'All', passed: 'Passed', failed: 'Failed', empty: 'No result' };

/** The run's outcome as the API computed it (health_api/rules.py run_outcome). */
export function runOutcome(run) {
  return run.outcome || 'empty';
}

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  ctx.setTitle('Runs');

  const results = panel({ title: 'Runs', subtitle: 'Newest first; a run opens its page' });
  replace(root, pageHeader(ctx, { kicker: 'Runs', title: 'Runs' }), filters(ctx), results.el);

  return load(results.body, {
    what: 'the runs', signal,
    fetch: () => api.listRuns({ meta: state.meta, outcome: state.outcome, start, stop, limit: state.limit, offset: state.offset, signal }),
    isEmpty: (d) => (!d.runs || d.runs.length === 0) && state.offset === 0,
    empty: state.meta.length || state.outcome !== 'all' ? noData(ctx, 'run matching these filters') : noData(ctx, 'runs'),
    render: (body, d) => {
      const rows = d.runs || [];
      const columns = [
        { key: 'run_at', label: 'When', sortValue: (r) => Date.parse(r.run_at) || null, render: (r) => timeCell(r.run_at) },
        {
          key: 'build_name', label: 'Job', sortValue: (r) => (r.metadata || {}).build_name ?? null,
          render: (r) => { const n = (r.metadata || {}).build_name; return n ? link(ctx.href('job', { name: n }), n) : '\u2014'; },
        },
        { key: 'outcome', label: 'Outcome', sortable: false, render: (r) => badge(runOutcome(r), OUTCOME_LABELS[runOutcome(r)]) },
        { key: 'passes', label: 'Passed', numeric: true, render: (r) => formatCount(r.passes) },
        { key: 'fails', label: 'Failed', numeric: true, render: (r) => formatCount(r.fails) },
        { key: 'skips', label: 'Skipped', numeric: true, render: (r) => formatCount(r.skips) },
        { key: 'run_time', label: 'Run time', numeric: true, render: (r) => formatDuration(r.run_time) },
        {
          key: 'id', label: 'Run', sortable: false,
          render: (r) => h('span', { class: 'run-links' },
            link(ctx.href('run', { runId: String(r.uuid ?? r.id) }), String(r.uuid ?? r.id).slice(0, 8), { className: 'mono', title: String(r.uuid ?? r.id) }),
            safeHref(r.artifacts) ? h('a', { href: safeHref(r.artifacts), rel: 'noopener noreferrer', target: '_blank', class: 'ext' }, 'logs') : null),
        },
      ];
      const draw = () => replace(body,
        dataTable({ columns, rows, sort: state.sort, onSort: (sort) => { ctx.replaceState({ sort }); draw(); } }),
        pager({
          offset: state.offset, limit: state.limit, count: rows.length, total: Number.isFinite(d.total) ? d.total : null,
          href: (offset) => ctx.with({ offset }),
        }));
      draw();
    },
  });
}

function filters(ctx) {
  const { state } = ctx;
  const chips = state.meta.map((m, i) => h('span', { class: 'chip' },
    h('span', { class: 'chip-key' }, `${m.key} =`), h('span', { class: 'chip-value' }, m.value),
    h('a', {
      class: 'chip-remove', href: ctx.with({ meta: state.meta.filter((_, j) => j !== i), offset: 0 }),
      title: 'Remove this filter', 'aria-label': `Remove filter ${m.key}=${m.value}`,
    }, '\u00d7')));
  const input = h('input', { type: 'text', name: 'meta', placeholder: 'key=value, e.g. build_name=tempest-full', 'aria-label': 'Add a metadata filter', class: 'meta-input', autocomplete: 'off' });
  const error = h('span', { class: 'field-error', role: 'alert' });
  const form = h('form', { class: 'filter-form' }, input, h('button', { type: 'submit', class: 'button' }, 'Add filter'), error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const i = text.indexOf('=');
    if (i <= 0) {
      error.textContent = 'Write the filter as key=value.';
      return;
    }
    ctx.navigate({ ...state, meta: [...state.meta, { key: text.slice(0, i).trim(), value: text.slice(i + 1).trim() }], offset: 0 });
  });
  const outcomes = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Outcome' },
    OUTCOMES.map((o) => h('a', {
      href: ctx.with({ outcome: o, offset: 0 }), class: ['segment', o === state.outcome ? 'active' : ''],
      'aria-current': o === state.outcome ? 'true' : null,
    }, OUTCOME_LABELS[o])));
  return h('div', { class: 'filters' }, outcomes, h('div', { class: 'chips' }, chips), form);
}
