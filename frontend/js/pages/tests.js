// Tests search: find a test id by substring, page through the results.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, pager } from '../components.js';
import { parseSort } from '../table.js';

/** Tests table column -> GET /tests `sort` (every order but test_id is largest first). */
const SORTS = { test_id: 'test_id', failure_rate: 'failure_rate', failure: 'failures', run_count: 'runs', mean_run_time: 'run_time' };
import { formatCount, formatDuration } from '../format.js';
import { pageHeader, rateCell, testIdNode } from './common.js';

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

  // the API sorts every matching test (not only the page shown): column -> its `sort`
  const apiSort = SORTS[parseSort(state.sort).key] || 'test_id';
  const results = panel({ title: state.q ? 'Matching tests' : 'All tests', subtitle: 'All-time counts over every matching test; click a header to sort; a test opens its page' });
  replace(root, pageHeader(ctx, { kicker: 'Tests', title: 'Find a test', subtitle: null }), form, results.el);

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
