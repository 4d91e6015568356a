// Overview: the health of the whole CI over the period: summary tiles,
// failure rate per group (grouping key from the header), run outcomes,
// recent failures and the jobs table with sparklines.

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles, sparkline, link } from '../components.js';
import { lineChart, stackedBars } from '../charts.js';
import { colorFor } from '../colors.js';
import {
  timelineRateSeries, timelineOutcomeSeries, timelineIsEmpty, sparklineValues, rateValue,
  chartWindow, rollingLabel, barLabel, mergeBars,
} from '../series.js';
import { formatCount, formatDuration, formatInterval, formatPercent, formatRelative, splitTestId } from '../format.js';
import { pageHeader, rateCell, timeCell, swatchLabel, grid, noData } from './common.js';

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const resolution = ctx.resolution.resolution;
  ctx.setTitle('Overview');

  const { span, bars } = chartWindow(resolution, ctx.window.periodMs);
  // the API reads the data before `start` its trailing windows need
  const jobsP = api.listJobs({ start, stop, signal });
  const timelineP = api.getRunsTimeline({ groupBy: state.groupBy, start, stop, resolution, window: span, signal });
  const byJobP = state.groupBy === 'build_name'
    ? timelineP
    : api.getRunsTimeline({ groupBy: 'build_name', start, stop, resolution, window: span, signal });
  // sparklines are an extra: the jobs table renders without them
  const sparkP = byJobP.catch(() => null);

  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const rate = panel({
    title: state.groupBy === 'build_name' ? 'Failure rate by job' : `Failure rate by ${state.groupBy}`,
    subtitle: `Failed / decided runs ${rollingLabel(resolution, span)}. The 8 with most failed runs are shown: click the legend for the others.`,
    chart: 'failure-rate',
  });
  const outcomes = panel({ title: 'Runs', subtitle: `Run outcomes ${barLabel(resolution, bars)}`, chart: 'run-outcomes' });
  const failures = panel({ title: 'Recent failures', subtitle: 'Failed tests of the newest failed runs of the period', className: 'panel-list' });
  const jobs = panel({ title: 'Jobs', subtitle: 'Click a header to sort; a job opens its page' });

  replace(root,
    pageHeader(ctx, { title: 'CI health overview', kicker: 'Overview' }),
    tiles.el, rate.el, grid(outcomes.el, failures.el), jobs.el);

  const empty = noData(ctx, 'runs');
  return Promise.all([
    load(tiles.body, {
      what: 'the summary', signal, fetch: () => jobsP,
      isEmpty: (d) => !d.jobs || d.jobs.length === 0,
      empty,
      render: (body, data) => renderTiles(body, data),
    }),
    load(rate.body, {
      what: 'the failure rate', signal, fetch: () => timelineP,
      isEmpty: timelineIsEmpty, empty,
      render: (body, timeline) => lineChart(body, timelineRateSeries(timeline), { resolution, yDomain: [0, 0.01] }),
    }),
    load(outcomes.body, {
      what: 'the run outcomes', signal, fetch: () => timelineP,
      isEmpty: timelineIsEmpty, empty,
      render: (body, timeline) => stackedBars(body, mergeBars(timelineOutcomeSeries(timeline), resolution, bars), { resolution }),
    }),
    load(failures.body, {
      what: 'the recent failures', signal,
      fetch: () => api.listRecentFailures({ limit: 5, start, stop, signal }).then((d) => ({ failures: failedTests(d.runs).slice(0, 8) })),
      isEmpty: (d) => !d.failures || d.failures.length === 0,
      empty: 'No recent failure.',
      render: (body, data) => renderFailures(ctx, body, data.failures),
    }),
    load(jobs.body, {
      what: 'the jobs', signal, fetch: async () => [await jobsP, await sparkP],
      isEmpty: ([d]) => !d.jobs || d.jobs.length === 0, empty,
      render: (body, [data, timeline]) => renderJobs(ctx, body, data.jobs, timeline),
    }),
  ]);
}

/** One entry per failed test of the runs of GET /failures/recent, newest run first. */
function failedTests(runs) {
  return (runs || []).flatMap((r) => (r.failed_tests || []).map((t) => ({
    test_id: String(t.test_id), status: t.status, run_id: r.uuid ?? r.id, run_at: r.run_at, build_name: r.build_name,
  })));
}

function renderTiles(body, { total, jobs }) {
  const value = rateValue(total);
  replace(body, statTiles([
    { label: 'Runs', value: formatCount(total.runs), sub: `${formatCount(total.jobs)} job${total.jobs === 1 ? '' : 's'}` },
    { label: 'Failed runs', value: formatCount(total.failed), sub: `${formatCount(total.passed)} passed, ${formatCount(total.empty)} without result`, tone: total.failed ? 'bad' : null },
    { label: 'Failure rate', value: formatPercent(value), sub: total.n ? `95% interval ${formatInterval(total.ci_low, total.ci_high)}, n=${formatCount(total.n)}` : 'no decided run', tone: value >= 0.2 ? 'bad' : value !== null && value < 0.05 ? 'good' : null },
    worstJob(jobs),
  ]));
}

function worstJob(jobs) {
  // ranked by the low end of the 95% interval: one failed run out of one is
  // weaker evidence than 15 out of 27
  const low = (j) => (Number.isFinite(j.ci_low) ? j.ci_low : 0);
  const ranked = [...jobs].filter((j) => rateValue(j) !== null)
    .sort((a, b) => low(b) - low(a) || rateValue(b) - rateValue(a));
  if (!ranked.length) return { label: 'Least stable job', value: '\u2014' };
  const worst = ranked[0];
  return {
    label: 'Least stable job',
    value: h('span', { class: 'tile-text', title: String(worst.job) }, String(worst.job)),
    sub: `${formatPercent(rateValue(worst))} of ${formatCount(worst.n)} decided runs failed`,
  };
}

function renderFailures(ctx, body, failures) {
  replace(body, h('ul', { class: 'failure-list' }, failures.map((f) => h('li', {},
    h('a', { class: 'failure-test', href: ctx.href('test', { testId: f.test_id }), title: String(f.test_id) },
      splitTestId(f.test_id).name),
    h('div', { class: 'failure-meta' },
      f.build_name ? link(ctx.href('job', { name: f.build_name }), f.build_name, { className: 'job-link' }) : null,
      f.run_id !== undefined && f.run_id !== null ? link(ctx.href('run', { runId: String(f.run_id) }), 'run', { title: `Run ${f.run_id}` }) : null,
      h('time', { datetime: String(f.run_at ?? '') }, formatRelative(f.run_at)))))));
}

function renderJobs(ctx, body, jobs, timeline) {
  // about two points a day: finer is noise for a job that runs a few times an hour
  const sparkSegments = Math.max(7, Math.min(28, Math.round((ctx.window.periodMs / 86400e3) * 2)));
  const columns = [
    {
      key: 'job', label: 'Job',
      render: (j) => h('a', { href: ctx.href('job', { name: String(j.job) }), class: 'job-link' }, swatchLabel(String(j.job), colorFor(String(j.job)))),
    },
    { key: 'runs', label: 'Runs', numeric: true, render: (j) => formatCount(j.runs) },
    { key: 'failed', label: 'Failed', numeric: true, render: (j) => formatCount(j.failed) },
    { key: 'failure_rate', label: 'Failure rate', numeric: true, sortValue: (j) => rateValue(j), render: (j) => rateCell(j) },
    {
      key: 'trend', label: 'Trend', sortable: false, className: 'cell-spark',
      render: (j) => (timeline ? sparkline(sparklineValues(timeline, j.job, { segments: sparkSegments }), { label: `Failure rate of ${String(j.job)} over the period` }) : ''),
    },
    { key: 'mean_run_time', label: 'Mean time', numeric: true, render: (j) => formatDuration(j.mean_run_time) },
    { key: 'last_run_at', label: 'Last run', numeric: true, sortValue: (j) => (j.last_run_at ? Date.parse(j.last_run_at) : null), render: (j) => timeCell(j.last_run_at) },
  ];
  const draw = () => replace(body, dataTable({
    columns, rows: jobs, sort: ctx.state.sort, rowKey: (j) => String(j.job),
    onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
  }));
  draw();
}
