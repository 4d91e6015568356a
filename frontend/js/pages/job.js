// Job: one job (build_name) over the period: failure rate with its 95%
// interval, run outcomes, mean run time, and the job's tests.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles } from '../components.js';
import { lineChart, stackedBars } from '../charts.js';
import {
  pointSeries, summarisePoints, seriesIsEmpty, rateValue, rollingWindow, rollingLabel, rollingLeadMs,
} from '../series.js';
import { colorFor } from '../colors.js';
import { formatCount, formatDuration, formatDurationTick, formatPercent, formatInterval } from '../format.js';
import { pageHeader, rateCell, testIdNode, swatchLabel, grid, noData } from './common.js';

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const resolution = ctx.resolution.resolution;
  const span = rollingWindow(resolution, ctx.window.periodMs);
  const name = state.name;
  ctx.setTitle(name);

  const from = start.getTime();
  const leadStart = new Date(from - rollingLeadMs(resolution, span));
  const dataP = api.getJob(name, { start: leadStart, stop, resolution, signal }).then((d) => ({
    series: pointSeries(d.points, { window: span, from }),
    summary: summarisePoints(d.points, { from }),
  }));
  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const rate = panel({ title: 'Failure rate', subtitle: `Failed / decided runs ${rollingLabel(resolution, span)}; shaded: 95% Wilson interval`, chart: 'job-failure-rate' });
  const outcomes = panel({ title: 'Runs', subtitle: `Run outcomes ${rollingLabel(resolution, 1)}`, chart: 'job-run-outcomes' });
  const duration = panel({ title: 'Run time', subtitle: `Mean duration of a run ${rollingLabel(resolution, span)}`, chart: 'job-run-time' });
  const tests = panel({ title: 'Tests of this job', subtitle: 'Tests that ran in this job over the period' });

  const runsLink = h('a', { class: 'button', href: ctx.href('runs', { meta: [{ key: 'build_name', value: name }] }) }, 'Runs of this job \u2192');
  replace(root,
    pageHeader(ctx, { kicker: 'Job', title: name, titleNode: swatchLabel(name, colorFor(name)), actions: runsLink }),
    tiles.el, rate.el, grid(outcomes.el, duration.el), tests.el);

  const empty = noData(ctx, 'run of this job');
  const noRuns = (d) => d.summary.runs === 0;
  return Promise.all([
    load(tiles.body, {
      what: 'the job summary', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, { summary: s }) => {
        const r = s.failure_rate;
        replace(body, statTiles([
          { label: 'Runs', value: formatCount(s.runs) },
          { label: 'Failed runs', value: formatCount(s.failed), sub: `${formatCount(s.passed)} passed, ${formatCount(s.empty)} without result`, tone: s.failed ? 'bad' : null },
          { label: 'Failure rate', value: formatPercent(rateValue(r)), sub: r.n ? `95% interval ${formatInterval(r.low, r.high)}, n=${formatCount(r.n)}` : 'no decided run' },
          { label: 'Mean run time', value: formatDuration(s.mean_run_time) },
        ]));
      },
    }),
    load(rate.body, {
      what: 'the failure rate', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => lineChart(body, d.series.rate, { resolution, yDomain: [0, 1], band: true, legend: false }),
    }),
    load(outcomes.body, {
      what: 'the run outcomes', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => stackedBars(body, d.series.outcomes, { resolution }),
    }),
    load(duration.body, {
      what: 'the run time', signal, fetch: () => dataP, isEmpty: (d) => seriesIsEmpty(d.series.duration), empty,
      render: (body, d) => lineChart(body, d.series.duration, {
        resolution, yFormat: formatDurationTick, tooltipY: (v) => formatDuration(v), legend: false,
      }),
    }),
    load(tests.body, {
      what: 'the tests of this job', signal, fetch: () => api.listJobTests(name, { start, stop, signal }),
      isEmpty: (d) => !d.tests || d.tests.length === 0, empty: noData(ctx, 'test results for this job'),
      render: (body, d) => renderTests(ctx, body, d.tests),
    }),
  ]);
}

function renderTests(ctx, body, tests) {
  const columns = [
    { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
    { key: 'runs', label: 'Runs', numeric: true, render: (t) => formatCount(t.runs) },
    { key: 'failures', label: 'Failures', numeric: true, render: (t) => formatCount(t.failures) },
    { key: 'failure_rate', label: 'Failure rate', numeric: true, sortValue: (t) => rateValue(t.failure_rate), render: (t) => rateCell(t.failure_rate) },
    { key: 'flip_rate', label: 'Flip rate', numeric: true, title: 'Outcome changes / (runs - 1): high means flaky', render: (t) => formatPercent(t.flip_rate) },
    { key: 'mean_run_time', label: 'Mean time', numeric: true, render: (t) => formatDuration(t.mean_run_time) },
  ];
  const draw = () => replace(body, dataTable({
    columns, rows: tests, sort: ctx.state.sort, rowKey: (t) => t.test_id,
    onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
  }));
  draw();
}
