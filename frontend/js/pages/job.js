// Job: one job (build_name) over the period: failure rate with its 95%
// interval, run outcomes, mean run time with the spread (± std) of the
// runs' durations, and the job's tests.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles, badge, link } from '../components.js';
import { lineChart, stackedBars, rateBand } from '../charts.js';
import {
  pointSeries, seriesIsEmpty, rateValue, chartWindow, rollingLabel, barLabel, mergeBars,
} from '../series.js';
import { colorFor } from '../colors.js';
import { formatCount, formatDuration, formatDurationTick, formatPercent, formatInterval, safeHref } from '../format.js';
import { pageHeader, rateCell, testIdNode, swatchLabel, grid, noData, timeCell } from './common.js';

/** Rows of the job's tests table: the tests with most failures in the period. */
const TESTS_LIMIT = 100;
const RECENT_RUNS = 10;
const OUTCOME_LABELS = { passed: 'Passed', failed: 'Failed', empty: 'No result' };

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const resolution = ctx.resolution.resolution;
  const { span, bars } = chartWindow(resolution, ctx.window.periodMs);
  const name = state.name;
  ctx.setTitle(name);

  // the API serves the period's totals and, per bucket, the rates and run times
  // over the trailing `span` buckets (it reads the lead-in before `start` itself)
  const dataP = api.getJob(name, { start, stop, resolution, window: span, recent: RECENT_RUNS, signal }).then((d) => ({
    series: pointSeries(d.points, { kind: 'job' }),
    summary: d,
    recent: d.recent_runs,
  }));
  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const rate = panel({ title: 'Failure rate', subtitle: `Failed / decided runs ${rollingLabel(resolution, span)}; shaded: 95% Wilson interval`, chart: 'job-failure-rate' });
  const outcomes = panel({ title: 'Runs', subtitle: `Run outcomes ${barLabel(resolution, bars)}`, chart: 'job-run-outcomes' });
  const duration = panel({
    title: 'Run time: mean ± std',
    subtitle: `Mean of the buckets' mean run durations ${rollingLabel(resolution, span)}; shaded: ± their standard deviation`,
    chart: 'job-run-time',
  });
  const tests = panel({ title: 'Tests of this job', subtitle: `The ${TESTS_LIMIT} tests with most failures in this job over the period (whole UTC days)` });
  const recent = panel({ title: 'Recent runs', subtitle: `The last ${RECENT_RUNS} runs of this job; a run opens its page` });

  const runsLink = h('a', { class: 'button', href: ctx.href('runs', { meta: [{ key: 'build_name', value: name }] }) }, 'Runs of this job \u2192');
  replace(root,
    pageHeader(ctx, { kicker: 'Job', title: name, titleNode: swatchLabel(name, colorFor(name)), actions: runsLink }),
    tiles.el, rate.el, grid(outcomes.el, duration.el), recent.el, tests.el);

  const empty = noData(ctx, 'run of this job');
  const noRuns = (d) => d.summary.runs === 0;
  return Promise.all([
    load(tiles.body, {
      what: 'the job summary', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, { summary: s }) => {
        replace(body, statTiles([
          { label: 'Runs', value: formatCount(s.runs) },
          { label: 'Failed runs', value: formatCount(s.failed), sub: `${formatCount(s.passed)} passed, ${formatCount(s.empty)} without result`, tone: s.failed ? 'bad' : null },
          { label: 'Failure rate', value: formatPercent(rateValue(s)), sub: s.n ? `95% interval ${formatInterval(s.ci_low, s.ci_high)}, n=${formatCount(s.n)}` : 'no decided run' },
          { label: 'Mean run time', value: formatDuration(s.mean_run_time) },
        ]));
      },
    }),
    load(rate.body, {
      what: 'the failure rate', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => lineChart(body, d.series.rate, { resolution, yDomain: [0, 0.01], band: rateBand, legend: false }),
    }),
    load(outcomes.body, {
      what: 'the run outcomes', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => stackedBars(body, mergeBars(d.series.outcomes, resolution, bars), { resolution }),
    }),
    load(duration.body, {
      what: 'the run time', signal, fetch: () => dataP, isEmpty: (d) => seriesIsEmpty(d.series.duration), empty,
      render: (body, d) => lineChart(body, d.series.duration, {
        resolution, yFormat: formatDurationTick, tooltipY: durationTooltip, legend: false,
        band: (p) => p.band, bandClass: 'std-band',
      }),
    }),
    load(recent.body, {
      what: 'the recent runs', signal, fetch: () => dataP, isEmpty: (d) => !d.recent || d.recent.length === 0,
      empty: 'This job has no run.',
      render: (body, d) => renderRecent(ctx, body, d.recent),
    }),
    load(tests.body, {
      what: 'the tests of this job', signal,
      fetch: () => api.listJobTests(name, { start, stop, sort: 'failures', limit: TESTS_LIMIT, signal }),
      isEmpty: (d) => !d.tests || d.tests.length === 0, empty: noData(ctx, 'test results for this job'),
      render: (body, d) => renderTests(ctx, body, d),
    }),
  ]);
}

/** '12m 03s ± 1m 05s': the rolling mean and the std of the runs' durations. */
function durationTooltip(value, point) {
  const std = point ? point.std : null;
  return Number.isFinite(value) && Number.isFinite(std) ? `${formatDuration(value)} ± ${formatDuration(std)}` : formatDuration(value);
}

function renderRecent(ctx, body, runs) {
  const columns = [
    { key: 'run_at', label: 'When', render: (r) => timeCell(r.run_at) },
    { key: 'outcome', label: 'Outcome', render: (r) => badge(r.outcome || 'empty', OUTCOME_LABELS[r.outcome] || OUTCOME_LABELS.empty) },
    { key: 'passes', label: 'Passed', numeric: true, render: (r) => formatCount(r.passes) },
    { key: 'fails', label: 'Failed', numeric: true, render: (r) => formatCount(r.fails) },
    { key: 'skips', label: 'Skipped', numeric: true, render: (r) => formatCount(r.skips) },
    { key: 'run_time', label: 'Run time', numeric: true, render: (r) => formatDuration(r.run_time) },
    {
      key: 'id', label: 'Run',
      render: (r) => h('span', { class: 'run-links' },
        link(ctx.href('run', { runId: String(r.uuid ?? r.id) }), String(r.uuid ?? r.id).slice(0, 8), { className: 'mono', title: String(r.uuid ?? r.id) }),
        safeHref(r.artifacts) ? h('a', { href: safeHref(r.artifacts), rel: 'noopener noreferrer', target: '_blank', class: 'ext' }, 'logs') : null),
    },
  ];
  replace(body, dataTable({ columns, rows: runs, rowKey: (r) => String(r.uuid ?? r.id) }));
}

function renderTests(ctx, body, data) {
  const tests = data.tests;
  const columns = [
    { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
    { key: 'runs', label: 'Runs', numeric: true, render: (t) => formatCount(t.runs) },
    { key: 'failure', label: 'Failures', numeric: true, render: (t) => formatCount(t.failure) },
    { key: 'failure_rate', label: 'Failure rate', numeric: true, sortValue: (t) => rateValue(t), render: (t) => rateCell(t) },
    { key: 'mean_run_time', label: 'Mean time', numeric: true, render: (t) => formatDuration(t.mean_run_time) },
  ];
  const shown = Number.isFinite(data.total) && data.total > tests.length
    ? h('div', { class: 'table-note muted' }, `${formatCount(tests.length)} of the ${formatCount(data.total)} tests of this job in the period`)
    : null;
  const draw = () => replace(body, dataTable({
    columns, rows: tests, sort: ctx.state.sort, rowKey: (t) => t.test_id, maxRows: 25,
    onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
  }), shown);
  draw();
}
