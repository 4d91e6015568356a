// Page building blocks: panels with loading / error / empty states,
// sortable tables, sparklines, stat tiles, pagers. DOM only through h()
// (text nodes) and d3's .text()/.attr().

import { h, append, replace } from './dom.js';
import { ApiError } from './api.js';
import { parseSort, sortRows, toggleSort } from './table.js';
import { STATUS_COLORS } from './colors.js';
import { formatCount } from './format.js';

// ----------------------------------------------------------- chart markers
//
// Every chart area is an element with `data-chart="<name>"`. Its
// `data-chart-state` is `loading` until it is finished, then `ready` (drawn),
// `empty` (no data for the period, message shown) or `error` (API error
// shown). When it leaves `loading`, `data-chart-ready` is set to
// performance.now() in whole milliseconds: the time since navigation
// started. The page's <main> gets the same pair as data-page-state /
// data-page-ready once every section of the page has finished.
// bench/frontend.py reads these markers.

export function markChart(el, state) {
  if (!el || !el.dataset || !('chart' in el.dataset)) return;
  el.dataset.chartState = state;
  if (state === 'loading') delete el.dataset.chartReady;
  else el.dataset.chartReady = String(Math.round(performance.now()));
}

// ------------------------------------------------------------------ states

export function spinner(text = 'Loading\u2026') {
  return h('div', { class: 'state state-loading', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, text));
}

export function emptyState(text) {
  return h('div', { class: 'state state-empty' },
    h('span', { class: 'state-icon', 'aria-hidden': 'true' }, '\u2205'), h('span', {}, text));
}

/** The in-page display of an API error: its message, the bad parameter, the HTTP status. */
export function errorBox(error, what = 'this section') {
  const api = error instanceof ApiError;
  const message = error && error.message ? error.message : String(error);
  const details = [];
  if (api && error.field) details.push(h('span', {}, 'Parameter: ', h('code', { class: 'api-error-field' }, error.field)));
  if (api && error.status) details.push(h('span', {}, `HTTP ${error.status}`));
  if (api && error.kind === 'network') details.push(h('span', {}, 'Is the ci-health server running?'));
  return h('div', {
    class: 'state state-error api-error', role: 'alert',
    dataset: { errorStatus: api && error.status ? String(error.status) : '', errorKind: api ? error.kind : 'client' },
  },
  h('span', { class: 'state-icon', 'aria-hidden': 'true' }, '!'),
  h('div', {},
    h('div', { class: 'api-error-title' }, `Could not load ${what}`),
    h('div', { class: 'api-error-message' }, message),
    details.length ? h('div', { class: 'api-error-details' }, details) : null));
}

// ------------------------------------------------------------------ panels

/** A card: title, optional subtitle and actions, body. `chart` names a chart area. */
export function panel({ title, subtitle = null, chart = null, className = '', actions = null }) {
  const body = h('div', { class: ['panel-body', chart ? 'chart' : ''], dataset: chart ? { chart } : undefined });
  const head = h('div', { class: 'panel-head' },
    h('div', {}, h('h2', { class: 'panel-title' }, title), subtitle ? h('div', { class: 'panel-subtitle' }, subtitle) : null),
    actions ? h('div', { class: 'panel-actions' }, actions) : null);
  const el = h('section', { class: ['panel', className] }, head, body);
  return { el, head, body };
}

/**
 * Fills a panel body from the API: loading indicator, then `render(body,
 * data)`, or the empty state when `isEmpty(data)`, or the error. Resolves
 * to 'ready' | 'empty' | 'error' | 'aborted'; never rejects.
 */
export async function load(body, { fetch, render, isEmpty = () => false, empty = 'No data for this period.', what, signal }) {
  markChart(body, 'loading');
  replace(body, spinner());
  try {
    const data = await fetch();
    if (signal && signal.aborted) return 'aborted';
    if (isEmpty(data)) {
      replace(body, emptyState(empty));
      markChart(body, 'empty');
      return 'empty';
    }
    replace(body);
    await render(body, data);
    if (!body.dataset.chart) return 'ready';
    // charts mark themselves ready once drawn (charts.js); others now
    if (body.dataset.chartState === 'loading' && !body.querySelector('svg.nvd3-svg, svg.nvd3')) markChart(body, 'ready');
    return 'ready';
  } catch (error) {
    if ((error instanceof ApiError && error.aborted) || (signal && signal.aborted)) return 'aborted';
    replace(body, errorBox(error, what));
    markChart(body, 'error');
    if (!(error instanceof ApiError)) console.warn(error); // a bug of ours: keep it visible to developers
    return 'error';
  }
}

// ------------------------------------------------------------------ tables

/**
 * A table with sortable headers.
 * columns: [{key, label, render(row) -> Node|string, sortValue(row), numeric, className, title}]
 * sort: '-key' | 'key'; onSort(newSort) is called on header click (the page
 * puts the sort in the URL and re-renders).
 */
export function dataTable({ columns, rows, sort, onSort = null, rowKey = null, caption = null, className = '', maxRows = Infinity }) {
  const { key: sortKey, desc } = parseSort(sort);
  const all = onSort ? sortRows(rows, columns, sort) : rows;
  // long tables (a run's 1,500 results) show their first rows and a button for the rest
  const sorted = all.length > maxRows ? all.slice(0, maxRows) : all;
  const thead = h('thead', {}, h('tr', {}, columns.map((col) => {
    const sortable = onSort && col.sortable !== false;
    const active = sortable && col.key === sortKey;
    const label = sortable
      ? h('button', {
        type: 'button', class: 'sort-button',
        title: `Sort by ${col.label.toLowerCase()}`,
        onclick: () => onSort(toggleSort(sort, col.key, !!col.numeric)),
      }, col.label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, active ? (desc ? '\u25BC' : '\u25B2') : '\u25B4\u25BE'))
      : col.label;
    return h('th', {
      scope: 'col', class: [col.numeric ? 'num' : '', col.className || '', active ? 'sorted' : ''],
      'aria-sort': active ? (desc ? 'descending' : 'ascending') : (sortable ? 'none' : null),
      title: col.title || null,
    }, label);
  })));
  const tbody = h('tbody', {}, sorted.map((row) => h('tr', { dataset: rowKey ? { key: String(rowKey(row)) } : undefined },
    columns.map((col) => h('td', { class: [col.numeric ? 'num' : '', col.className || ''] },
      col.render ? col.render(row) : row[col.key] ?? '')))));
  const wrap = h('div', { class: 'table-wrap' }, h('table', { class: ['data', className] },
    caption ? h('caption', {}, caption) : null, thead, tbody));
  if (sorted.length < all.length) {
    const more = h('button', {
      type: 'button', class: 'button table-more',
      onclick: () => wrap.replaceWith(dataTable({ columns, rows, sort, onSort, rowKey, caption, className })),
    }, `Show all ${formatCount(all.length)} rows`);
    append(wrap, h('div', { class: 'table-foot' },
      h('span', { class: 'muted' }, `${formatCount(sorted.length)} of ${formatCount(all.length)} shown`), more));
  }
  return wrap;
}

/** A text link to an in-app route (the href is a serialised state). */
export function link(href, text, { title = null, className = null } = {}) {
  return h('a', { href, title: title ?? (typeof text === 'string' ? text : null), class: className }, text);
}

/** A coloured badge for an outcome or status. */
export function badge(kind, text = kind) {
  const map = { success: 'passed', pass: 'passed', passed: 'passed', xfail: 'passed', fail: 'failed', failed: 'failed', uxsuccess: 'failed', skip: 'skipped', skipped: 'skipped', empty: 'empty' };
  return h('span', { class: ['badge', `badge-${map[kind] || 'other'}`] }, text);
}

/** Summary tiles: [{label, value, sub, tone: 'bad'|'good'|null}] */
export function statTiles(items) {
  return h('div', { class: 'tiles' }, items.map((item) => h('div', { class: ['tile', item.tone ? `tile-${item.tone}` : ''] },
    h('div', { class: 'tile-label' }, item.label),
    h('div', { class: 'tile-value' }, item.value),
    item.sub ? h('div', { class: 'tile-sub' }, item.sub) : null)));
}

/** Previous / next links for a paged list. */
export function pager({ offset, limit, count, total = null, href }) {
  const from = count ? offset + 1 : 0;
  const to = offset + count;
  const hasNext = total !== null && total !== undefined ? to < total : count >= limit;
  const label = total !== null && total !== undefined
    ? `${formatCount(from)}\u2013${formatCount(to)} of ${formatCount(total)}`
    : `${formatCount(from)}\u2013${formatCount(to)}`;
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    offset > 0 ? h('a', { class: 'button', href: href(Math.max(0, offset - limit)) }, '\u2190 Previous') : h('span', { class: 'button disabled' }, '\u2190 Previous'),
    h('span', { class: 'pager-label' }, label),
    hasNext ? h('a', { class: 'button', href: href(offset + limit) }, 'Next \u2192') : h('span', { class: 'button disabled' }, 'Next \u2192'));
}

// -------------------------------------------------------------- sparklines

/**
 * A failure-rate sparkline (values in [0, 1], null = no run in that bucket)
 * drawn with d3: area + line, gaps where there is no data, last value dotted.
 */
export function sparkline(values, { width = 120, height = 26, color = STATUS_COLORS.failed, label = '' } = {}) {
  const holder = h('span', { class: 'sparkline', title: label || null });
  const d3 = globalThis.d3;
  if (!d3 || !values || values.length === 0) return holder;
  const pad = 2;
  const x = d3.scale.linear().domain([0, Math.max(1, values.length - 1)]).range([pad, width - pad]);
  const y = d3.scale.linear().domain([0, 1]).range([height - pad, pad]);
  const defined = (v) => v !== null && v !== undefined && Number.isFinite(v);
  const svg = d3.select(holder).append('svg')
    .attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`)
    .attr('role', 'img').attr('aria-label', label || 'failure rate trend');
  svg.append('line').attr('class', 'spark-base')
    .attr('x1', pad).attr('x2', width - pad).attr('y1', height - pad + 0.5).attr('y2', height - pad + 0.5);
  svg.append('path').attr('class', 'spark-area').style('fill', color)
    .attr('d', d3.svg.area().defined(defined).x((_, i) => x(i)).y0(height - pad).y1((v) => y(v))(values));
  svg.append('path').attr('class', 'spark-line').style('stroke', color)
    .attr('d', d3.svg.line().defined(defined).x((_, i) => x(i)).y((v) => y(v))(values));
  let last = values.length - 1;
  while (last >= 0 && !defined(values[last])) last -= 1;
  if (last >= 0) {
    svg.append('circle').attr('class', 'spark-dot').style('fill', color)
      .attr('cx', x(last)).attr('cy', y(values[last])).attr('r', 2);
  }
  return holder;
}

export { append };
