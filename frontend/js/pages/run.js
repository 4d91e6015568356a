// Run: one run: counts, metadata, and its test results (failures first).

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles, badge, link } from '../components.js';
import { formatCount, formatDuration, formatDateTime, safeHref } from '../format.js';
import { runOutcome } from './runs.js';
import { pageHeader, testIdNode } from './common.js';

/** Failures first, then unexpected passes, skips, passes; unknown statuses after failures. */
const STATUS_ORDER = { fail: 0, uxsuccess: 1, inprogress: 2, skip: 4, xfail: 5, success: 6 };

/** The end of a traceback (where it failed): its last `n` lines. */
function tracebackTail(text, n = 8) {
  const lines = String(text).replace(/\s+$/, '').split('\n');
  return lines.length > n ? ['\u2026', ...lines.slice(-n)].join('\n') : lines.join('\n');
}

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  ctx.setTitle(`Run ${state.runId}`);
  const runP = api.getRun(state.runId, { signal });

  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const meta = panel({ title: 'Metadata', className: 'panel-meta' });
  const failed = panel({ title: 'Failed tests', subtitle: 'With the start of their traceback' });
  const tests = panel({ title: 'Test results', subtitle: 'Failures first; click a header to sort' });
  replace(root, pageHeader(ctx, { kicker: 'Run', title: state.runId, subtitle: null }), tiles.el, meta.el, failed.el, tests.el);

  return Promise.all([
    load(tiles.body, {
      what: 'the run', signal, fetch: () => runP, isEmpty: (d) => !d || d.id === undefined,
      empty: 'This run does not exist.',
      render: (body, d) => {
        const r = d;
        const outcome = runOutcome(r);
        replace(body, statTiles([
          { label: 'Outcome', value: badge(outcome, { passed: 'Passed', failed: 'Failed', empty: 'No result' }[outcome]), sub: formatDateTime(r.run_at) },
          { label: 'Passed', value: formatCount(r.passes) },
          { label: 'Failed', value: formatCount(r.fails), tone: r.fails ? 'bad' : null },
          { label: 'Skipped', value: formatCount(r.skips) },
          { label: 'Run time', value: formatDuration(r.run_time) },
        ]));
      },
    }),
    load(meta.body, {
      what: 'the run metadata', signal, fetch: () => runP,
      isEmpty: (d) => !d.artifacts && Object.keys(d.metadata || {}).length === 0,
      empty: 'This run has no metadata.',
      render: (body, d) => {
        const entries = Object.entries(d.metadata || {}).sort(([a], [b]) => a.localeCompare(b));
        const href = safeHref(d.artifacts);
        replace(body, h('dl', { class: 'meta-list' },
          d.artifacts ? [h('dt', {}, 'artifacts'), h('dd', {}, href
            ? h('a', { href, rel: 'noopener noreferrer', target: '_blank', class: 'ext' }, d.artifacts)
            : String(d.artifacts))] : null,
          entries.map(([k, v]) => [
            h('dt', {}, k),
            h('dd', {}, k === 'build_name' ? link(ctx.href('job', { name: String(v) }), String(v))
              : link(ctx.href('runs', { meta: [{ key: k, value: String(v) }] }), String(v), { title: `Runs with ${k}=${v}` })),
          ])));
      },
    }),
    load(failed.body, {
      what: 'the failed tests', signal, fetch: () => runP, isEmpty: (d) => !d.failed_tests || d.failed_tests.length === 0,
      empty: 'No test failed in this run.',
      render: (body, d) => replace(body, dataTable({
        rows: d.failed_tests,
        className: 'failures-table',
        rowKey: (t) => t.test_id,
        maxRows: 20,
        columns: [
          { key: 'status', label: 'Status', render: (t) => badge(t.status) },
          { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
          { key: 'traceback', label: 'Traceback', className: 'cell-traceback', render: (t) => (t.traceback ? h('pre', { class: 'traceback' }, tracebackTail(t.traceback)) : h('span', { class: 'muted' }, 'no traceback stored')) },
        ],
      })),
    }),
    load(tests.body, {
      what: 'the test results', signal, fetch: () => runP, isEmpty: (d) => !d.tests || d.tests.length === 0,
      empty: 'This run has no test result.',
      render: (body, d) => {
        const columns = [
          { key: 'status', label: 'Status', sortValue: (t) => STATUS_ORDER[t.status] ?? 3, render: (t) => badge(t.status) },
          { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
          { key: 'start_time', label: 'Started', sortValue: (t) => Date.parse(t.start_time) || null, render: (t) => formatDateTime(t.start_time) },
          { key: 'duration', label: 'Run time', numeric: true, render: (t) => formatDuration(t.duration) },
        ];
        const draw = () => replace(body, dataTable({
          columns, rows: d.tests, sort: ctx.state.sort, rowKey: (t) => t.test_id, maxRows: 50,
          onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
        }));
        draw();
      },
    }),
  ]);
}
