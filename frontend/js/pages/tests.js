// Tests search: find a test id by substring, page through the results.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, pager } from '../components.js';
import { rateValue } from '../series.js';
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

  const results = panel({ title: state.q ? 'Matching tests' : 'All tests', subtitle: 'All-time counts; a test opens its page' });
  replace(root, pageHeader(ctx, { kicker: 'Tests', title: 'Find a test', subtitle: null }), form, results.el);

  return load(results.body, {
    what: 'the tests', signal,
    // substring search (LIKE '%q%' on the tests table); no q lists every test in id order
    fetch: () => api.searchTests({ q: state.q, mode: state.q ? 'substring' : 'prefix', limit: state.limit, offset: state.offset, signal }),
    isEmpty: (d) => (!d.tests || d.tests.length === 0) && state.offset === 0,
    empty: state.q ? `No test id contains \u201c${state.q}\u201d.` : 'No test has been ingested yet.',
    render: (body, d) => {
      const rows = d.tests || [];
      const columns = [
        { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
        { key: 'run_count', label: 'Runs', numeric: true, render: (t) => formatCount(t.run_count) },
        { key: 'failure', label: 'Failures', numeric: true, render: (t) => formatCount(t.failure) },
        { key: 'failure_rate', label: 'Failure rate', numeric: true, sortValue: (t) => rateValue(t.failure_rate), render: (t) => rateCell(t.failure_rate) },
        { key: 'run_time', label: 'Mean time', numeric: true, render: (t) => formatDuration(t.run_time) },
      ];
      const draw = () => replace(body,
        dataTable({
          columns, rows, sort: state.sort, rowKey: (t) => t.test_id,
          onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
        }),
        pager({
          offset: state.offset, limit: state.limit, count: rows.length, total: Number.isFinite(d.total) ? d.total : null,
          href: (offset) => ctx.with({ offset }),
        }));
      draw();
    },
  });
}
