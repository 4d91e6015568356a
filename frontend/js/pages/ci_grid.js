// A project's CI grid (CI Watch's main view): its newest patch sets as
// columns, CI system x pipeline x job as rows; each cell the current result
// with a symbol and letter beside the colour, a link to the log, the
// attempt count and the time. Filters: CI system and pipeline.

import { h, replace } from '../dom.js';
import { panel, load } from '../components.js';
import { formatDateTime, formatDuration, safeHref } from '../format.js';
import { pageHeader } from './common.js';
import { resultKind, ciTabs } from './ci_common.js';

const COLUMNS = 20;

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const project = state.project;
  ctx.setTitle(`CI grid \u00b7 ${project}`);
  const filters = h('form', { class: 'ci-filters', onsubmit: (e) => e.preventDefault() });
  const body = panel({ title: 'CI results per patch set', subtitle: `The ${COLUMNS} newest patch sets of the period (newest left); \u2713 S success, \u2717 F failure, \u26a0 I infrastructure, \u2013 N skipped/cancelled; the number is the attempt count`, actions: filters });
  replace(root, pageHeader(ctx, { kicker: 'CI grid', title: project, actions: ciTabs(ctx, null) }), body.el);
  return load(body.body, {
    what: 'the CI grid', signal,
    fetch: () => api.getCiGrid(project, { start, stop, system: state.system, pipeline: state.pipeline, columns: COLUMNS, signal }),
    isEmpty: (d) => !d.columns.length, empty: 'No patch set of this project in the period.',
    render: (el, d) => {
      renderFilters(ctx, filters, d);
      replace(el, d.rows.length ? gridTable(d) : h('div', { class: 'state state-empty' }, 'No CI result on these patch sets.'));
    },
  });
}

function renderFilters(ctx, form, d) {
  const systems = [...new Set(d.rows.map((r) => r.system))].sort();
  if (ctx.state.system && !systems.includes(ctx.state.system)) systems.push(ctx.state.system);
  const select = (name, label, values) => h('label', { class: 'control' },
    h('span', { class: 'control-label' }, label),
    h('select', {
      name, onchange: (e) => ctx.navigate({ ...ctx.state, [name]: e.target.value || null }),
    }, h('option', { value: '' }, 'All'), values.map((v) => h('option', { value: v, selected: v === ctx.state[name] }, v))));
  replace(form, select('system', 'CI system', systems), ' ', select('pipeline', 'Pipeline', d.pipelines));
}

function gridTable(d) {
  const head = h('tr', {}, h('th', { scope: 'col' }, 'CI system / job'), d.columns.map((c) => h('th', { scope: 'col', class: 'ci-col', title: `${c.subject ?? ''}\nuploaded ${formatDateTime(c.created_on)}` },
    h('div', { class: 'mono' }, `${c.change},${c.patch_set}`),
    h('div', { class: 'ci-col-subject' }, c.subject ?? ''),
    h('div', { class: 'ci-col-upstream' }, 'upstream ', upstreamMark(c.upstream)))));
  const rows = d.rows.map((r) => h('tr', { dataset: { system: r.system, job: r.job } },
    h('th', { scope: 'row', class: 'ci-row' }, h('span', { class: 'ci-row-system' }, r.system), ' ', h('span', { class: 'job-name' }, r.job),
      r.pipeline ? h('span', { class: 'muted' }, ` (${r.pipeline})`) : null),
    r.cells.map((cell) => h('td', { class: 'ci-cell-td' }, cell ? cellNode(cell) : h('span', { class: 'muted', title: 'no result' }, '\u00b7')))));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data ci-grid' }, h('thead', {}, head), h('tbody', {}, rows)));
}

/** The upstream CI's verdict in a column head: symbol and letter, the word as tooltip. */
function upstreamMark(result) {
  if (!result) return h('span', { class: 'muted', title: 'no upstream verdict' }, '\u2014');
  const k = resultKind(result);
  return h('span', { class: ['ci-result', `ci-result-${k.cls}`], title: result }, `${k.symbol} ${k.letter}`);
}

function cellNode(cell) {
  const k = resultKind(cell.result);
  const title = `${cell.result}${cell.voting ? '' : ' (non-voting)'} \u00b7 ${formatDateTime(cell.posted_at)}${cell.duration ? ` \u00b7 ${formatDuration(cell.duration)}` : ''} \u00b7 attempt ${cell.attempts}`;
  const content = [h('span', { class: 'ci-result-symbol', 'aria-hidden': 'true' }, k.symbol), h('span', { class: 'ci-cell-letter' }, k.letter),
    cell.attempts > 1 ? h('sup', { class: 'ci-attempts' }, String(cell.attempts)) : null];
  const href = safeHref(cell.url);
  const attrs = { class: ['ci-cell', `ci-result-${k.cls}`], title, dataset: { result: cell.result }, 'aria-label': title };
  return href ? h('a', { ...attrs, href, rel: 'noopener noreferrer', target: '_blank' }, content) : h('span', attrs, content);
}
