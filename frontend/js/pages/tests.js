// Tests search: find a test id by substring, page through the results; or rank
// every test of the analysed period by failure rate, flakiness or impact.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, pager } from '../components.js';
import { parseSort } from '../table.js';
import { formatCount, formatDuration, formatDay } from '../format.js';
import { pageHeader, rateCell, testIdNode } from './common.js';

/** Tests table column -> GET /tests `sort` (every order but test_id is largest first). */
const SORTS = { test_id: 'test_id', failure_rate: 'failure_rate', failure: 'failures', run_count: 'runs', mean_run_time: 'run_time' };
/** Ranking sort (the page's `sort`) -> GET /test-ranking `sort`: every test of the analysed period. */
const RANKS = { rank_failure_rate: 'failure_rate', flakiness: 'flakiness', impact: 'impact' };
const RANK_LABELS = { rank_failure_rate: 'Failure rate', flakiness: 'Flakiness', impact: 'Impact' };

/** "Rank every test by": links that put a ranking sort in the URL. */
function rankBar(ctx, active) {
  return h('nav', { class: 'rank-by', 'aria-label': 'Rank every test by' },
    h('span', { class: 'rank-by-label' }, 'Rank every test by'),
    Object.keys(RANKS).map((key) => h('a', {
      class: ['button', key === active ? 'primary' : ''], href: ctx.with({ sort: `-${key}`, offset: 0 }),
      'aria-current': key === active ? 'true' : undefined, dataset: { rank: key },
    }, RANK_LABELS[key])));
}

/** The ranking table: every test of the period in the server's order, paged. */
function renderRanking(ctx, root, header, form, rank) {
  const { state, api, signal } = ctx;
  const results = panel({
    title: `Every test ranked by ${RANK_LABELS[rank].toLowerCase()}`,
    subtitle: 'Over the analysed period (ci-health analyze), every test that ran; flakiness: flaky first, then flaky evidence (failed and passed on the same patch set, or on retry in one run); impact: failed runs it alone failed',
  });
  replace(root, header, form, rankBar(ctx, rank), results.el);
  return load(results.body, {
    what: 'the test ranking', signal,
    fetch: () => api.rankTests({ q: state.q || undefined, sort: RANKS[rank], limit: state.limit, offset: state.offset, signal }),
    isEmpty: (d) => (!d.tests || d.tests.length === 0) && state.offset === 0,
    empty: 'No test ran in the analysed period.',
    render: (body, d) => {
      const rows = d.tests || [];
      const place = new Map(rows.map((t, i) => [t, state.offset + i + 1]));
      const columns = [
        { key: 'rank', label: '#', numeric: true, render: (t) => formatCount(place.get(t)) },
        { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
        { key: 'n', label: 'Runs', numeric: true, render: (t) => formatCount(t.n) },
        { key: 'failure', label: 'Failures', numeric: true, render: (t) => formatCount(t.failure) },
        { key: 'failure_rate', label: 'Failure rate', numeric: true, render: (t) => rateCell(t) },
        { key: 'flaky', label: 'Flaky', render: (t) => (t.flaky ? 'flaky' : '') },
        { key: 'evidence', label: 'Flaky evidence', numeric: true, render: (t) => formatCount(t.evidence) },
        { key: 'impact', label: 'Impact', numeric: true, render: (t) => formatCount(t.impact) },
      ];
      replace(body,
        h('p', { class: 'panel-note' }, `${formatDay(d.start)} \u2013 ${formatDay(d.stop)}`),
        dataTable({ columns, rows, rowKey: (t) => t.test_id, className: 'ranking' }),
        pager({ offset: state.offset, limit: state.limit, count: rows.length, total: d.total, href: (offset) => ctx.with({ offset }) }));
    },
  });
}

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  ctx.setTitle(state.q ? `Tests: ${state.q}` : 'Tests');

  const input = h('input', {
    type: 'search', name: 'q', value: state.q, placeholder: 'Search test ids, e.g. test_server or tempest.api.compute',
    'aria-label': 'Search tests', autocomplete: 'off', spellcheck: 'false', class: 'search-input',
  });
  const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit', class: 'button primary' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate({ ...state, q: input.value, offset: 0 });
  });

  const header = pageHeader(ctx, { kicker: 'Tests', title: 'Find a test', subtitle: null });
  const rank = Object.hasOwn(RANKS, parseSort(state.sort).key) ? parseSort(state.sort).key : null;
  if (rank) return renderRanking(ctx, root, header, form, rank);
  // the API sorts every matching test (not only the page shown): column -> its `sort`
  const apiSort = SORTS[parseSort(state.sort).key] || 'test_id';
  const results = panel({ title: state.q ? 'Matching tests' : 'All tests', subtitle: 'All-time counts over every matching test; click a header to sort; a test opens its page' });
  replace(root, header, form, rankBar(ctx, null), results.el);

  return load(results.body, {
    what: 'the tests', signal,
    // substring search (LIKE '%q%' on the tests table); no q lists every test in id order
    fetch: () => api.searchTests({ q: state.q, mode: state.q ? 'substring' : 'prefix', sort: apiSort, limit: state.limit, offset: state.offset, signal }),
    isEmpty: (d) => (!d.tests || d.tests.length === 0) && state.offset === 0,
    empty: state.q ? `No test id contains \u201c${state.q}\u201d.` : 'No test has been ingested yet.',
    render: (body, d) => {
      const rows = d.tests || [];
      const columns = [
        { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
        { key: 'run_count', label: 'Runs', numeric: true, render: (t) => formatCount(t.run_count) },
        { key: 'failure', label: 'Failures', numeric: true, render: (t) => formatCount(t.failure) },
        { key: 'failure_rate', label: 'Failure rate', numeric: true, render: (t) => rateCell(t) },
        { key: 'mean_run_time', label: 'Mean time', numeric: true, render: (t) => formatDuration(t.mean_run_time) },
      ];
      // rows come in the API's order; a header asks the API for its order (largest first)
      const shown = apiSort === 'test_id' ? '' : `-${parseSort(state.sort).key}`;
      const draw = () => replace(body,
        dataTable({
          columns, rows, sort: shown, rowKey: (t) => t.test_id,
          onSort: (sort) => ctx.navigate({ ...state, sort: `-${parseSort(sort).key}`, offset: 0 }),
        }),
        pager({
          offset: state.offset, limit: state.limit, count: rows.length, total: Number.isFinite(d.total) ? d.total : null,
          href: (offset) => ctx.with({ offset }),
        }));
      draw();
    },
  });
}
