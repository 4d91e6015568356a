// Test: one test id over the period: failure rate, outcomes, run time and
// its recent results.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles, badge, link } from '../components.js';
import { lineChart, stackedBars } from '../charts.js';
import {
  pointSeries, seriesIsEmpty, rateValue, chartWindow, rollingLabel, barLabel, mergeBars,
} from '../series.js';
import { formatCount, formatDuration, formatDurationTick, formatPercent, formatInterval, safeHref } from '../format.js';
import { pageHeader, testIdNode, timeCell, grid, noData, rateCell, swatchLabel } from './common.js';
import { colorFor } from '../colors.js';

const RECENT_FAILURES = 10;
/** The failure-rate axis: always 0, at least 1%, else as high as the data and its band. */
const RATE_AXIS = [0, 0.01];

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const resolution = ctx.resolution.resolution;
  const { span, bars } = chartWindow(resolution, ctx.window.periodMs);
  const testId = state.testId;
  ctx.setTitle(testId);

  const testP = api.getTest(testId, { start, stop, resolution, window: span, recent: RECENT_FAILURES, signal });
  const dataP = testP.then((d) => ({ series: pointSeries(d.points, { kind: 'test' }), summary: d.summary }));
  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const rate = panel({ title: 'Failure rate', subtitle: `Failures / (passes + failures) ${rollingLabel(resolution, span)}; shaded: 95% Wilson interval`, chart: 'test-failure-rate' });
  const outcomes = panel({ title: 'Results', subtitle: `Results ${barLabel(resolution, bars)}`, chart: 'test-outcomes' });
  const duration = panel({ title: 'Run time', subtitle: `Mean of the buckets' mean durations of passing runs ${rollingLabel(resolution, span)}; shaded: ± their standard deviation`, chart: 'test-run-time' });
  const jobs = panel({ title: 'By job', subtitle: 'Failure rate of this test in each job over the period (whole UTC days)' });
  const recent = panel({ title: 'Recent failures', subtitle: `The last ${RECENT_FAILURES} failures of this test, newest first, with the start of the traceback` });

  replace(root,
    pageHeader(ctx, { kicker: 'Test', title: testId, titleNode: testIdNode(testId) }),
    tiles.el, rate.el, grid(outcomes.el, duration.el), jobs.el, recent.el);

  const empty = noData(ctx, 'run of this test');
  const noRuns = (d) => d.summary.runs === 0;
  return Promise.all([
    load(tiles.body, {
      what: 'the test summary', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, { summary: s }) => {
        replace(body, statTiles([
          { label: 'Runs', value: formatCount(s.runs), sub: `${formatCount(s.skip)} skipped` },
          { label: 'Failures', value: formatCount(s.failure), sub: `${formatCount(s.success)} passed`, tone: s.failure ? 'bad' : null },
          { label: 'Failure rate', value: formatPercent(rateValue(s)), sub: s.n ? `95% interval ${formatInterval(s.ci_low, s.ci_high)}, n=${formatCount(s.n)}` : 'no decided run' },
          { label: 'Mean run time', value: formatDuration(s.mean_run_time), sub: 'of passing runs' },
        ]));
      },
    }),
    load(rate.body, {
      what: 'the failure rate', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      // scaled to the data (0 kept): a 6% flaky test is not a flat line at the bottom
      render: (body, d) => lineChart(body, d.series.rate, { resolution, yDomain: RATE_AXIS, band: true, legend: false }),
    }),
    load(outcomes.body, {
      what: 'the results', signal, fetch: () => dataP, isEmpty: noRuns, empty,
      render: (body, d) => stackedBars(body, mergeBars(d.series.outcomes, resolution, bars), { resolution }),
    }),
    load(duration.body, {
      what: 'the run time', signal, fetch: () => dataP, isEmpty: (d) => seriesIsEmpty(d.series.duration), empty,
      render: (body, d) => lineChart(body, d.series.duration, {
        resolution, yFormat: formatDurationTick, tooltipY: (v) => formatDuration(v), legend: false, band: (p) => p.band, bandClass: 'std-band',
      }),
    }),
    load(jobs.body, {
      what: 'the jobs of this test', signal, fetch: () => testP, isEmpty: (d) => !d.jobs || d.jobs.length === 0,
      empty: noData(ctx, 'run of this test'),
      render: (body, d) => replace(body, dataTable({
        rows: d.jobs,
        rowKey: (j) => j.job,
        columns: [
          { key: 'job', label: 'Job', render: (j) => h('a', { href: ctx.href('job', { name: j.job }), class: 'job-link' }, swatchLabel(j.job, colorFor(j.job))) },
          { key: 'runs', label: 'Runs', numeric: true, render: (j) => formatCount(j.runs) },
          { key: 'failure', label: 'Failures', numeric: true, render: (j) => formatCount(j.failure) },
          { key: 'skip', label: 'Skipped', numeric: true, render: (j) => formatCount(j.skip) },
          { key: 'failure_rate', label: 'Failure rate', numeric: true, render: (j) => rateCell(j) },
        ],
      })),
    }),
    load(recent.body, {
      what: 'the recent failures', signal, fetch: () => testP, isEmpty: (d) => !d.recent_failures || d.recent_failures.length === 0,
      empty: 'This test has not failed recently.',
      render: (body, d) => replace(body, dataTable({
        rows: d.recent_failures,
        className: 'failures-table',
        columns: [
          { key: 'run_at', label: 'When', render: (r) => timeCell(r.run_at || r.start_time) },
          { key: 'job', label: 'Job', render: (r) => (r.job ? link(ctx.href('job', { name: r.job }), r.job) : '\u2014') },
          { key: 'status', label: 'Status', render: (r) => badge(r.status) },
          {
            key: 'run_id', label: 'Run',
            render: (r) => h('span', { class: 'run-links' },
              r.run_id !== null ? link(ctx.href('run', { runId: String(r.run_id) }), String(r.run_id).slice(0, 8), { className: 'mono', title: String(r.run_id) }) : '\u2014',
              safeHref(r.link) ? h('a', { href: safeHref(r.link), rel: 'noopener noreferrer', target: '_blank', class: 'ext' }, 'logs') : null),
          },
          { key: 'traceback', label: 'Traceback', className: 'cell-traceback', render: (r) => (r.traceback ? h('pre', { class: 'traceback' }, r.traceback) : h('span', { class: 'muted' }, 'no traceback stored')) },
        ],
      })),
    }),
  ]);
}
