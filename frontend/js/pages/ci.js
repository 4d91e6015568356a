// CI systems: the scoreboard of every CI system that reports on Gerrit (or is
// declared in ci-systems.yaml), the upstream CI's health and the least
// stable CI jobs. Every figure comes from the API (api.js, getCi*).

import { h, replace } from '../dom.js';
import { panel, load, dataTable, statTiles } from '../components.js';
import { formatCount, formatDuration, formatPercent, formatInterval } from '../format.js';
import { pageHeader, timeCell, grid, noData } from './common.js';
import { statusBadge, successCell, ciTabs } from './ci_common.js';

const UNSTABLE_JOBS = 15;
const STATUS_ORDER = { never_seen: 0, silent: 1, reporting: 2 };

export async function render(ctx) {
  const { api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  ctx.setTitle('CI systems');

  const upstream = panel({ title: 'Upstream CI', subtitle: 'The trusted CI (ci-systems.yaml trusted: true) over the period', className: 'panel-tiles' });
  const board = panel({ title: 'Scoreboard', subtitle: 'Every CI system: its verdicts on patch sets over the period. Click a header to sort; a system opens its page.' });
  const jobs = panel({ title: 'Unstable CI jobs', subtitle: `The ${UNSTABLE_JOBS} jobs with most recheck flips (a failure, then SUCCESS on the same patch set), then highest failure rate; infrastructure results (NODE_FAILURE, RETRY_LIMIT, POST_FAILURE, TIMED_OUT) counted apart` });

  replace(root, pageHeader(ctx, { kicker: 'CI systems', title: 'CI systems', actions: ciTabs(ctx, 'ci') }),
    upstream.el, board.el, jobs.el);

  return Promise.all([
    load(upstream.body, {
      what: 'the upstream CI', signal, fetch: () => api.getCiUpstream({ start, stop, resolution: 'day', signal }),
      isEmpty: (d) => !d.systems.length, empty: 'No CI system is declared trusted in ci-systems.yaml.',
      render: (body, d) => replace(body, d.systems.map((s) => upstreamTiles(ctx, s))),
    }),
    load(board.body, {
      what: 'the scoreboard', signal, fetch: () => api.getCiScoreboard({ start, stop, signal }),
      isEmpty: (d) => !d.systems.length, empty: noData(ctx, 'CI system'),
      render: (body, d) => renderBoard(ctx, body, d.systems),
    }),
    load(jobs.body, {
      what: 'the unstable CI jobs', signal, fetch: () => api.listCiJobs({ start, stop, limit: UNSTABLE_JOBS, signal }),
      isEmpty: (d) => !d.jobs.length, empty: noData(ctx, 'CI job result'),
      render: (body, d) => replace(body, jobTable(ctx, d.jobs, { showSystem: true })),
    }),
  ]);
}

function upstreamTiles(ctx, s) {
  return statTiles([
    { label: 'Upstream CI', value: h('a', { href: ctx.href('ciSystem', { ciName: s.system }), class: 'tile-text' }, s.display_name), sub: statusBadge(s.status) },
    { label: 'Reports', value: formatCount(s.reports) },
    { label: 'Success rate', value: formatPercent(s.success_rate), sub: s.n ? `95% interval ${formatInterval(s.ci_low, s.ci_high)}, n=${formatCount(s.n)}` : 'no verdict' },
    { label: 'Upload to report', value: formatDuration(s.report_delay_median), sub: `median; p90 ${formatDuration(s.report_delay_p90)}` },
  ]);
}

function renderBoard(ctx, body, systems) {
  const columns = [
    {
      key: 'system', label: 'CI system',
      render: (s) => h('a', { href: ctx.href('ciSystem', { ciName: s.system }), class: 'ci-system-link', title: s.system },
        s.display_name, s.trusted ? h('span', { class: 'muted' }, ' (upstream)') : null),
    },
    { key: 'status', label: 'Status', sortValue: (s) => STATUS_ORDER[s.status] ?? 3, render: (s) => statusBadge(s.status) },
    { key: 'reports', label: 'Reports', numeric: true, render: (s) => formatCount(s.reports) },
    { key: 'success_rate', label: 'Success rate', numeric: true, sortValue: (s) => s.success_rate, render: (s) => successCell(s) },
    { key: 'unparsed_share', label: 'Unparsed', numeric: true, render: (s) => formatPercent(s.unparsed_share) },
    { key: 'report_delay_median', label: 'Upload to report', numeric: true, render: (s) => h('span', { title: `median; p90 ${formatDuration(s.report_delay_p90)}` }, formatDuration(s.report_delay_median)) },
    { key: 'last_seen', label: 'Last report', numeric: true, sortValue: (s) => (s.last_seen ? Date.parse(s.last_seen) : null), render: (s) => timeCell(s.last_seen) },
    { key: 'last_success', label: 'Last success', numeric: true, sortable: false, render: (s) => timeCell(s.last_success) },
  ];
  const draw = () => replace(body, dataTable({
    columns, rows: systems, sort: ctx.state.sort, rowKey: (s) => s.system, className: 'ci-scoreboard',
    onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
  }));
  draw();
}

/** The per-job table (scoreboard page: every system; system page: one). */
export function jobTable(ctx, jobs, { showSystem = false, sort = null, onSort = null } = {}) {
  const columns = [
    showSystem ? { key: 'system', label: 'CI system', render: (j) => h('a', { href: ctx.href('ciSystem', { ciName: j.system }) }, j.system) } : null,
    { key: 'job', label: 'Job', render: (j) => h('span', { class: 'job-name' }, j.job) },
    { key: 'results', label: 'Results', numeric: true, render: (j) => formatCount(j.results) },
    { key: 'success_rate', label: 'Success rate', numeric: true, sortValue: (j) => j.success_rate, render: (j) => successCell(j) },
    { key: 'failure_rate', label: 'Failures', numeric: true, sortValue: (j) => j.failure_rate, render: (j) => `${formatCount(j.failure)} (${formatPercent(j.failure_rate)})` },
    { key: 'infra', label: 'Infra', numeric: true, title: 'NODE_FAILURE, RETRY_LIMIT, POST_FAILURE, TIMED_OUT', render: (j) => formatCount(j.infra) },
    { key: 'recheck_flips', label: 'Recheck flips', numeric: true, render: (j) => formatCount(j.recheck_flips) },
  ].filter(Boolean);
  return dataTable({ columns, rows: jobs, sort, onSort, rowKey: (j) => `${j.system || ''}/${j.job}`, className: 'ci-jobs' });
}
