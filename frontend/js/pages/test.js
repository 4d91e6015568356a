// Test: one test id over the period: failure rate, outcomes, run time and
// its recent results.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles, badge, link } from '../components.js';
import { lineChart, stackedBars } from '../charts.js';
import {
  pointSeries, summarisePoints, seriesIsEmpty, rateValue, rollingWindow, rollingLabel, rollingLeadMs,
} from '../series.js';
import { formatCount, formatDuration, formatDurationTick, formatPercent, formatInterval } from '../format.js';
import { pageHeader, testIdNode, timeCell, grid, noData } from './common.js';

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const resolution = ctx.resolution.resolution;
  const span = rollingWindow(resolution, ctx.window.periodMs);
  const testId = state.testId;
  ctx.setTitle(testId);

  const from = start.getTime();
  const leadStart = new Date(from - rollingLeadMs(resolution, span));
  const testP = api.getTest(testId, { start: leadStart, stop, resolution, signal });
  const opts = { skippedKey: 'skipped', weight: 'passed', from };
  const dataP = testP.then((d) => ({
    series: pointSeries(d.points, { ...opts, window: span }),
    summary: summarisePoints(d.points, opts),
  }));
  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const rate = panel({ title: 'Failure rate', subtitle: `Failures / (passes + failures) ${rollingLabel(resolution, span)}; shaded: 95% Wilson interval`, chart: 'test-failure-rate' });
  const outcomes = panel({ title: 'Results', subtitle: `Results ${rollingLabel(resolution, 1)}`, chart: 'test-outcomes' });
  const duration = panel({ title: 'Run time', subtitle: `Mean duration of a passing run ${rollingLabel(resolution, span)}`, chart: 'test-run-time' });
  const recent = panel({ title: 'Recent results' });

  replace(root,
    pageHeader(ctx, { kicker: 'Test', title: testId, titleNode: testIdNode(testId) }),
    tiles.el, rate.el, grid(outcomes.el, duration.el), recent.el);

  const empty = noData(ctx, 'run of this test');
  const noRuns = (d) => d.summary.runs === 0;
  return Promise.all([
    load(tiles.body, {
      what: 'the test summary', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, { summary: s }) => {
        const r = s.failure_rate;
        replace(body, statTiles([
          { label: 'Runs', value: formatCount(s.runs), sub: `${formatCount(s.skipped)} skipped` },
          { label: 'Failures', value: formatCount(s.failed), sub: `${formatCount(s.passed)} passed`, tone: s.failed ? 'bad' : null },
          { label: 'Failure rate', value: formatPercent(rateValue(r)), sub: r.n ? `95% interval ${formatInterval(r.low, r.high)}, n=${formatCount(r.n)}` : 'no decided run' },
          { label: 'Mean run time', value: formatDuration(s.mean_run_time), sub: 'of passing runs' },
        ]));
      },
    }),
    load(rate.body, {
      what: 'the failure rate', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => lineChart(body, d.series.rate, { resolution, yDomain: [0, 1], band: true, legend: false }),
    }),
    load(outcomes.body, {
      what: 'the results', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => stackedBars(body, d.series.outcomes, { resolution }),
    }),
    load(duration.body, {
      what: 'the run time', signal, fetch: () => dataP, isEmpty: (d) => seriesIsEmpty(d.series.duration), empty,
      render: (body, d) => lineChart(body, d.series.duration, { resolution, yFormat: formatDurationTick, tooltipY: (v) => formatDuration(v), legend: false }),
    }),
    load(recent.body, {
      what: 'the recent results', signal, fetch: () => testP, isEmpty: (d) => !d.recent || d.recent.length === 0,
      empty: 'No recent result.',
      render: (body, d) => replace(body, dataTable({
        rows: d.recent,
        columns: [
          { key: 'start_time', label: 'When', render: (r) => timeCell(r.start_time) },
          { key: 'build_name', label: 'Job', render: (r) => (r.build_name ? link(ctx.href('job', { name: r.build_name }), r.build_name) : '\u2014') },
          { key: 'status', label: 'Status', render: (r) => badge(r.status) },
          { key: 'run_time', label: 'Run time', numeric: true, render: (r) => formatDuration(r.run_time) },
          { key: 'run_id', label: 'Run', render: (r) => (r.run_id !== undefined && r.run_id !== null ? link(ctx.href('run', { runId: String(r.run_id) }), String(r.run_id), { className: 'mono' }) : '\u2014') },
        ],
      })),
    }),
  ]);
}
